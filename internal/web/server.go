package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/callback"
	"github.com/vippskit/vipps/internal/payment"
)

// Config configures a [Server]. Service, APIKey, AdminPassword and CSRFKey
// are required.
type Config struct {
	Service *payment.Service
	// APIKey is the bearer token of the shop's API (/api/...).
	APIKey vipps.Secret
	// AdminUser and AdminPassword guard the admin UI (/admin/...) with HTTP
	// basic auth; AdminUser "" means "admin".
	AdminUser     string
	AdminPassword vipps.Secret
	// CSRFKey signs the admin and demo shop forms' tokens (32+ bytes).
	CSRFKey []byte
	// Environment is shown on every page, such as "TEST: simulated Vipps
	// at http://127.0.0.1:8080/sim"; empty shows nothing.
	Environment string
	// DemoShop serves a demo shop at "/" where a person can buy something
	// with Vipps.
	DemoShop bool
	// CallbackPath and ConsentPath are the Service's (defaults "/vipps").
	CallbackPath string
	ConsentPath  string
	// Metrics serves /metrics; nil means 404.
	Metrics http.Handler
	// Ready reports whether the service can take payments (/readyz).
	Ready func(ctx context.Context) error
	// Logger gets a line per request that fails; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Server serves the payment service over HTTP: the shop's API, what Vipps
// calls, the return page, the admin UI, the demo shop and operations
// endpoints. See routes.go for every route.
type Server struct {
	cfg       Config
	svc       *payment.Service
	callbacks *callback.Handler
	handler   http.Handler
	log       *slog.Logger
	now       func() time.Time
}

// New checks cfg and returns a Server.
func New(cfg Config) (*Server, error) {
	var problems []error
	if cfg.Service == nil {
		problems = append(problems, errors.New("Service is required"))
	}
	if len(cfg.APIKey.Reveal()) < 16 {
		problems = append(problems, errors.New("APIKey must be at least 16 characters"))
	}
	if len(cfg.AdminPassword.Reveal()) < 12 {
		problems = append(problems, errors.New("AdminPassword must be at least 12 characters"))
	}
	if len(cfg.CSRFKey) < 32 {
		problems = append(problems, errors.New("CSRFKey must be at least 32 bytes"))
	}
	if err := errors.Join(problems...); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if cfg.AdminUser == "" {
		cfg.AdminUser = "admin"
	}
	if cfg.CallbackPath == "" {
		cfg.CallbackPath = "/vipps"
	}
	if cfg.ConsentPath == "" {
		cfg.ConsentPath = cfg.CallbackPath
	}
	s := &Server{cfg: cfg, svc: cfg.Service, log: cfg.Logger, now: cfg.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	svc := cfg.Service
	cb, err := callback.New(callback.Config{
		Prefix:        cfg.CallbackPath,
		ConsentPrefix: cfg.ConsentPath,
		Lookup: func(ctx context.Context, id vipps.OrderID) (string, error) {
			p, err := svc.Store().Get(ctx, id)
			if errors.Is(err, payment.ErrNotFound) {
				return "", callback.ErrUnknownOrder
			}
			if err != nil {
				return "", err
			}
			return p.AuthTokenHash, nil
		},
		OnTransaction:           svc.OnCallback,
		ShippingOptions:         svc.ShippingOptions,
		FallbackShippingOptions: svc.FallbackShipping(),
		OnConsentRemoved:        svc.RemoveConsent,
		Logger:                  s.log,
	})
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	s.callbacks = cb
	s.handler = cb.Wrap(s.routes())
	return s, nil
}

// ServeHTTP serves every route.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Shutdown stops taking callbacks and waits for those in progress, until ctx
// ends. Stop the http.Server first.
func (s *Server) Shutdown(ctx context.Context) error { return s.callbacks.Shutdown(ctx) }

// secretEqual compares a presented secret with the configured one in
// constant time; hashing first hides the length too.
func secretEqual(got string, want vipps.Secret) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want.Reveal()))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}
