package vippstest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/vippskit/vipps"
)

// Server is a simulator listening on a loopback address, with a client
// ready to use. NewServer makes one.
type Server struct {
	// URL is the base URL, such as http://127.0.0.1:41234.
	URL string
	// Sim is the simulator, for the test hooks.
	Sim *Simulator
	// Client is a vipps client for Merchant, with BaseURL = URL. It
	// retries like any client, but with backoffs of a few milliseconds,
	// so that tests stay fast.
	Client *vipps.Client
	// Merchant is the sales unit Client acts for: the first of
	// Config.Merchants (DefaultMerchant() unless the options set others).
	Merchant Merchant

	t   testing.TB
	srv *httptest.Server
}

// NewServer starts a simulator on loopback with httptest, configured by
// opts, and registers its shutdown with t.Cleanup: the server closes and
// the simulator waits for callbacks in flight. It fails the test if the
// configuration is invalid.
//
// Unless opts set Config.HTTPClient, callbacks go to loopback addresses
// only: a callback to any other host is recorded as failed without a DNS
// lookup, so that tests stay hermetic.
func NewServer(t testing.TB, opts ...func(*Config)) *Server {
	t.Helper()
	var cfg Config
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = LoopbackClient()
	}
	sim, err := New(cfg)
	if err != nil {
		t.Fatalf("vippstest.NewServer: %v", err)
	}
	srv := httptest.NewServer(sim)
	// Concurrent tests call one host: keep connections for reuse.
	srv.Client().Transport.(*http.Transport).MaxIdleConnsPerHost = vipps.MaxIdleConnsPerHost
	s := &Server{URL: srv.URL, Sim: sim, Merchant: sim.Merchants()[0], t: t, srv: srv}
	t.Cleanup(s.Close)
	s.Client = s.NewClient(s.Merchant)
	return s
}

// NewClient returns a vipps client for merchant m talking to the server,
// with fast retries; opts may change its configuration further. It fails
// the test if the configuration is invalid.
func (s *Server) NewClient(m Merchant, opts ...func(*vipps.Config)) *vipps.Client {
	s.t.Helper()
	cfg := vipps.Config{
		BaseURL:              s.URL,
		ClientID:             m.ClientID,
		ClientSecret:         vipps.Secret(m.ClientSecret),
		SubscriptionKey:      vipps.Secret(m.SubscriptionKey),
		MerchantSerialNumber: m.MSN,
		HTTPClient:           s.srv.Client(),
		Retry:                vipps.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond},
	}
	for _, o := range opts {
		o(&cfg)
	}
	c, err := vipps.New(cfg)
	if err != nil {
		s.t.Fatalf("vippstest: new client for MSN %s: %v", m.MSN, err)
	}
	return c
}

// Close shuts the server down and waits for callbacks in flight. It is
// registered with t.Cleanup; calling it earlier is fine.
func (s *Server) Close() {
	s.srv.Close()
	s.Sim.Close()
}

// LoopbackClient returns an HTTP client that connects to loopback addresses
// only (localhost, 127.0.0.0/8, ::1) and refuses every other host before
// looking it up. NewServer sends callbacks with it.
func LoopbackClient() *http.Client {
	tr := vipps.NewTransport()
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if !isLoopback(host) {
			return nil, fmt.Errorf("vippstest: %s is not a loopback address; tests call loopback only (set Config.HTTPClient to call it)", host)
		}
		return dial(ctx, network, addr)
	}
	tr.Proxy = nil
	return &http.Client{Transport: tr}
}
