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
	"github.com/vippskit/vipps/internal/staff"
)

// The least lengths of the Server's secrets, in bytes (MinAdminPassword:
// in characters, the rule of package staff).
const (
	MinAPIKey        = 16
	MinAdminPassword = staff.MinPassword
	MinCSRFKey       = 32
)

// Config configures a [Server]. Service, Staff, APIKey and CSRFKey are
// required.
type Config struct {
	// Service is the payment service served; its CallbackPath and
	// ConsentPath are where Vipps' callbacks are served.
	Service *payment.Service
	// APIKey is the bearer token of the shop's API (/api/...), at least
	// MinAPIKey characters.
	APIKey vipps.Secret
	// Staff are the accounts that may sign in to the admin UI
	// (/admin/...), and their sessions.
	Staff *staff.Service
	// CSRFKey signs the admin and demo shop forms' tokens (MinCSRFKey+
	// bytes).
	CSRFKey []byte
	// Lang is the language of pages for a browser that asks for none the
	// pages speak (Accept-Language): "en" (also for "") or "nb"; see
	// ParseLang.
	Lang string
	// Environment is where payments go, said at the top of every page
	// unless they go to Vipps' production.
	Environment Environment
	// DemoShop serves a demo shop at "/" where a person can buy something
	// with Vipps.
	DemoShop bool
	// VippsButton is the Vipps button of the demo shop's pages: "library"
	// (Vipps' own button, loaded from Vipps, with the builtin one where it
	// cannot load) or "builtin" (also ""): see button.go.
	VippsButton string
	// Metrics serves /metrics; nil means 404.
	Metrics http.Handler
	// Ready reports whether the service can take payments (/readyz).
	Ready func(ctx context.Context) error
	// Logger gets a line per request that fails; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// GoLive describes the installation for its go-live checklist
	// (/admin/checklist); the zero value grades without the keys and the
	// poller.
	GoLive GoLive

	// onTokenLookup, for tests, sees each hash tokenHash returns.
	onTokenLookup func(id vipps.OrderID, hash string)
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
	// logins limits wrong admin sign-ins (POST /admin/login); loginLog and throttleLog limit
	// the log lines about them.
	logins                *limiter
	loginLog, throttleLog logGate
	// shopBuys limits demo shop purchases.
	shopBuys *limiter
	// noToken is what tokenHash returns for an unknown orderId.
	noToken string
	// defaultLang is Config.Lang.
	defaultLang lang
}

// New checks cfg and returns a Server.
func New(cfg Config) (*Server, error) {
	var problems []error
	if cfg.Service == nil {
		problems = append(problems, errors.New("a payment service is required"))
	}
	if len(cfg.APIKey.Reveal()) < MinAPIKey {
		problems = append(problems, fmt.Errorf("the API key must be at least %d characters", MinAPIKey))
	}
	if cfg.Staff == nil {
		problems = append(problems, errors.New("staff accounts (a staff service) are required"))
	}
	if len(cfg.CSRFKey) < MinCSRFKey {
		problems = append(problems, fmt.Errorf("the CSRF key must be at least %d bytes", MinCSRFKey))
	}
	defaultLang := langEN
	if cfg.Lang != "" {
		l, err := ParseLang(cfg.Lang)
		if err != nil {
			problems = append(problems, err)
		}
		defaultLang = lang(l)
	}
	if mode, err := ParseVippsButton(cfg.VippsButton); err != nil {
		problems = append(problems, err)
	} else {
		cfg.VippsButton = mode
	}
	if err := errors.Join(problems...); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	s := &Server{
		cfg: cfg, svc: cfg.Service, log: cfg.Logger, now: cfg.Now, defaultLang: defaultLang,
		logins:      newLimiter(pace{adminLoginBurst, adminLoginEvery}, pace{adminLoginGlobalBurst, adminLoginGlobalEvery}, maxLimitClients),
		loginLog:    logGate{window: adminLoginLogWindow, first: adminLoginLogFirst},
		throttleLog: logGate{window: adminLoginLogWindow, first: 1},
		shopBuys:    newLimiter(pace{shopBuyBurst, shopBuyEvery}, pace{shopBuyGlobalBurst, shopBuyGlobalEvery}, maxLimitClients),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	// The token is thrown away, so that no callback can carry it.
	_, noToken, err := callback.NewAuthToken()
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	s.noToken = noToken
	if s.now == nil {
		s.now = time.Now
	}
	svc := cfg.Service
	cb, err := callback.New(callback.Config{
		Prefix:                  svc.CallbackPath(),
		ConsentPrefix:           svc.ConsentPath(),
		Lookup:                  s.tokenHash,
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

// tokenHash is the hash of a payment's callback token, for the callback
// handler to check a callback against. For an orderId it does not know
// (or a payment without a token) it returns s.noToken, the hash of a
// random token that nobody has, rather than callback.ErrUnknownOrder: the
// handler then does just what it does for a known orderId and a wrong
// token (compares in constant time, answers 401 in the same words, logs
// the same line), so that neither the answer nor its work tells which
// orderIds exist. The store reads one column by the primary key either
// way.
func (s *Server) tokenHash(ctx context.Context, id vipps.OrderID) (string, error) {
	stored, err := s.svc.CallbackTokenHash(ctx, id)
	hash := s.noToken
	switch {
	case errors.Is(err, payment.ErrNotFound):
	case err != nil:
		return "", err
	case stored != "":
		hash = stored
	}
	if s.cfg.onTokenLookup != nil {
		s.cfg.onTokenLookup(id, hash)
	}
	return hash, nil
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
