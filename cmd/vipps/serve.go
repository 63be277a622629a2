package main

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/metrics"
	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/internal/poller"
	"github.com/vippskit/vipps/internal/web"
	"github.com/vippskit/vipps/vippstest"
)

const serveDoc = `
Run the payment service: a shop (in any language) creates payments through
its JSON API, sends the customer to Vipps, and gets webhooks when payments
change. The service follows every payment by callbacks and by polling
/details, captures, refunds and cancels exactly once, sends receipts to
Order Management, serves the customer's return page and an admin UI for
customer service.

With no -base-url it runs on its own: a Vipps simulator starts in the same
process (say so on every page), a demo shop is served at /, and the API
key and admin password are generated once and kept in <database>.secrets
(the simulator's state in <database>.sim.json). Open the printed URL and
pay with Vipps.

With -base-url "test" or "production" it talks to Vipps: then
-client-id, -client-secret, -subscription-key, -msn, -public-url (the https
URL Vipps and customers reach this service at), -api-key, -admin-password
and -secret-key are required.

Every flag falls back to its environment variable; a flag wins.
-print-config shows the effective configuration with secrets redacted.
`

// serveFlags are the settings of the serve command.
type serveFlags struct {
	addr, database, publicURL                string
	client                                   clientSettings
	apiKey, adminUser, adminPassword, secret string
	webhookURL, webhookSecret                string
	webhookPrevious                          string
	shipping, shippingURL, orderIDPrefix     string
	replica, logLevel, logFormat             string
	demoShop, printConfig                    bool
	grace                                    time.Duration
	simulated                                bool // no -base-url: in-process simulator
	secretsFile, simSnapshot                 string
}

func parseServeFlags(e *env, args []string) (*serveFlags, error) {
	f := &serveFlags{}
	fs := newFlagSet(e, "serve", "", serveDoc)
	fs.stringEnv(&f.addr, "addr", "127.0.0.1:8080", "VIPPS_ADDR", "listen `address`")
	defineDatabase(fs, &f.database)
	fs.stringEnv(&f.publicURL, "public-url", "", "VIPPS_PUBLIC_URL", "base `URL` Vipps and customers reach this service at (default http://<addr>)")
	c := &f.client
	c.define(fs, "")
	fs.stringEnv(&f.apiKey, "api-key", "", "VIPPS_API_KEY", "bearer `key` of the shop API, 16+ characters (use the environment)")
	fs.stringEnv(&f.adminUser, "admin-user", "admin", "VIPPS_ADMIN_USER", "admin UI `user`")
	fs.stringEnv(&f.adminPassword, "admin-password", "", "VIPPS_ADMIN_PASSWORD", "admin UI password, 12+ characters (use the environment)")
	fs.stringEnv(&f.secret, "secret-key", "", "VIPPS_SECRET_KEY", "`key` that signs return links and forms, 32+ characters; the same on every replica")
	fs.stringEnv(&f.webhookURL, "webhook-url", "", "VIPPS_WEBHOOK_URL", "shop `URL` that gets a signed POST on every payment change")
	fs.stringEnv(&f.webhookSecret, "webhook-secret", "", "VIPPS_WEBHOOK_SECRET", "HMAC `key` of the webhooks, 16+ characters")
	fs.stringEnv(&f.webhookPrevious, "webhook-previous-secret", "", "VIPPS_WEBHOOK_PREVIOUS_SECRET", "the webhook `key` being replaced: webhooks are signed with both while the shop moves over")
	fs.stringEnv(&f.shipping, "shipping", "", "VIPPS_SHIPPING", "JSON `file` with the express checkout shipping options (default: two built-in options)")
	fs.stringEnv(&f.shippingURL, "shipping-url", "", "VIPPS_SHIPPING_URL", "shop `URL` asked for shipping options per address (falls back to -shipping)")
	fs.stringEnv(&f.orderIDPrefix, "order-id-prefix", "order", "VIPPS_ORDER_ID_PREFIX", "`prefix` of every orderId, such as the shop's name")
	fs.stringEnv(&f.replica, "replica-id", "", "VIPPS_REPLICA_ID", "name of this replica in leases (default host-pid)")
	fs.stringEnv(&f.logLevel, "log-level", "info", "VIPPS_LOG_LEVEL", "debug, info, warn or error")
	fs.stringEnv(&f.logFormat, "log-format", "json", "VIPPS_LOG_FORMAT", "json or text")
	fs.boolEnv(&f.demoShop, "demo-shop", false, "VIPPS_DEMO_SHOP", "serve the demo shop at / (always on with the simulator)")
	fs.durationEnv(&f.grace, "shutdown-timeout", 15*time.Second, "VIPPS_SHUTDOWN_TIMEOUT", "how long to let work in flight finish when stopping")
	fs.boolEnv(&f.printConfig, "print-config", false, "VIPPS_PRINT_CONFIG", "print the effective configuration (secrets redacted) and exit")
	if err := fs.parseFlags(args); err != nil {
		return nil, err
	}
	var bad []string
	f.simulated = c.baseURL == ""
	if f.simulated {
		f.demoShop = true
		if !isPostgres(f.database) {
			f.secretsFile, f.simSnapshot = f.database+".secrets", f.database+".sim.json"
		}
	} else {
		for _, m := range fs.missing("client-id", "client-secret", "subscription-key", "msn", "public-url", "api-key", "admin-password", "secret-key") {
			bad = append(bad, m+" is required with -base-url")
		}
	}
	if f.publicURL != "" {
		if u, err := url.Parse(f.publicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad = append(bad, fmt.Sprintf("-public-url %q must be an absolute http(s) URL", f.publicURL))
		}
	}
	if err := poller.CheckWebhookSecrets(f.webhookURL, vipps.Secret(f.webhookSecret), previousSecrets(f.webhookPrevious)...); err != nil {
		bad = append(bad, "-webhook-url, -webhook-secret, -webhook-previous-secret: "+err.Error())
	}
	if f.secret != "" && len(f.secret) < 32 {
		bad = append(bad, "-secret-key must be at least 32 characters")
	}
	if _, err := logLevel(f.logLevel); err != nil {
		bad = append(bad, err.Error())
	}
	if f.logFormat != "json" && f.logFormat != "text" {
		bad = append(bad, fmt.Sprintf("-log-format %q must be json or text", f.logFormat))
	}
	if len(bad) > 0 {
		return nil, fs.usagef("%s", strings.Join(bad, "; "))
	}
	if f.replica == "" {
		host, _ := os.Hostname()
		f.replica = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	return f, nil
}

func logLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("-log-level %q must be debug, info, warn or error", s)
	}
	return l, nil
}

// printConfig writes the effective configuration, secrets redacted.
func (f *serveFlags) print(w io.Writer) {
	red := func(s string) string {
		if s == "" {
			return "(not set)"
		}
		return "[redacted]"
	}
	vippsAt := "simulator in this process"
	if !f.simulated {
		vippsAt = f.client.baseURL
	}
	public := cmp.Or(f.publicURL, "http://"+f.addr)
	table(w, [][]string{
		{"addr", f.addr}, {"public-url", public}, {"database", redactDSN(f.database)},
		{"vipps", vippsAt}, {"client-id", f.client.clientID}, {"client-secret", red(f.client.clientSecret)},
		{"subscription-key", red(f.client.subscriptionKey)}, {"msn", f.client.msn},
		{"system-name", f.client.systemName}, {"system-version", f.client.systemVersion},
		{"api-key", red(f.apiKey)}, {"admin-user", f.adminUser}, {"admin-password", red(f.adminPassword)},
		{"secret-key", red(f.secret)}, {"webhook-url", f.webhookURL}, {"webhook-secret", red(f.webhookSecret)}, {"webhook-previous-secret", red(f.webhookPrevious)},
		{"shipping", f.shipping}, {"shipping-url", f.shippingURL}, {"order-id-prefix", f.orderIDPrefix},
		{"replica-id", f.replica}, {"demo-shop", fmt.Sprint(f.demoShop)}, {"log", f.logFormat + " " + f.logLevel},
		{"shutdown-timeout", f.grace.String()}, {"secrets-file", f.secretsFile}, {"sim-snapshot", f.simSnapshot},
	})
}

func runServe(ctx context.Context, e *env, args []string) error {
	f, err := parseServeFlags(e, args)
	if err != nil {
		return err
	}
	if f.printConfig {
		f.print(e.stdout)
		return nil
	}
	level, _ := logLevel(f.logLevel)
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewJSONHandler(e.stderr, opts)
	if f.logFormat == "text" {
		h = slog.NewTextHandler(e.stderr, opts)
	}
	app, err := startServe(ctx, f, slog.New(h))
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "vippskit payment service on %s\n", app.url)
	if app.sim != nil {
		secrets := cmp.Or(f.secretsFile, "the log (generated for this run)")
		fmt.Fprintf(e.stdout, "\n*** TEST MODE: payments go to the vippskit simulator at %s, not to Vipps. No real money moves. ***\n\n", app.simURL)
		fmt.Fprintf(e.stdout, "Demo shop:  %s/\nAdmin UI:   %s/admin/ (user %q; the password is in %s)\nShop API:   %s/api/payments (bearer key in %s)\n",
			app.url, app.url, f.adminUser, secrets, app.url, secrets)
	}
	return app.wait(ctx)
}

// serveApp is a running payment service: what runServe starts and tests
// drive end to end.
type serveApp struct {
	url, simURL string
	log         *slog.Logger
	store       io.Closer
	svc         *payment.Service
	web         *web.Server
	metrics     *metrics.Metrics
	sim         *vippstest.Simulator
	simSrv      *http.Server
	simTick     chan struct{} // closed to stop the simulator's clock ticks
	srv         *http.Server
	served      chan error
	grace       time.Duration
	stopWork    context.CancelFunc
	workers     sync.WaitGroup
	closeOnce   sync.Once
	closeErr    error
}

// startServe opens the store, starts the simulator if there is no Vipps,
// and serves until wait's ctx ends.
func startServe(ctx context.Context, f *serveFlags, log *slog.Logger) (_ *serveApp, err error) {
	// app is not the named result: a failed start returns nil, and the
	// deferred close must still see what was started.
	app := &serveApp{log: log, grace: f.grace, served: make(chan error, 1)}
	defer func() {
		if err != nil {
			app.close()
		}
	}()
	st, closer, err := openStore(ctx, f.database)
	if err != nil {
		return nil, fmt.Errorf("serve: database %s: %w", redactDSN(f.database), err)
	}
	app.store = closer
	if f.simulated {
		if err := f.fillDemoSecrets(); err != nil {
			return nil, fmt.Errorf("serve: %w", err)
		}
		if err := app.startSim(f, log); err != nil {
			return nil, err
		}
	}
	app.metrics = metrics.New(metrics.Config{Stats: st})

	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	app.url = "http://" + ln.Addr().String()
	public := f.publicURL
	if public == "" {
		public = app.url
	}

	client, err := app.newClient(f)
	if err != nil {
		ln.Close()
		return nil, err
	}
	shipping, err := loadShipping(f.shipping)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("serve: %w", err)
	}
	key := []byte(f.secret)
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(label))
		return m.Sum(nil)
	}
	cfg := payment.Config{
		Store: st, Vipps: client, PublicURL: public, ReturnKey: derive("return"),
		ConsentPath:   payment.DefaultCallbackPath + "/consents-" + hex.EncodeToString(derive("consent"))[:20],
		OrderIDPrefix: f.orderIDPrefix, Shipping: shipping, Webhooks: f.webhookURL != "", Logger: log,
	}
	if f.shippingURL != "" {
		cfg.ShopShipping = shopShipping(f.shippingURL, vipps.Secret(f.webhookSecret))
	}
	if app.svc, err = payment.NewService(cfg); err != nil {
		ln.Close()
		return nil, fmt.Errorf("serve: %w", err)
	}
	envText := ""
	switch {
	case app.sim != nil:
		envText = "TEST MODE: payments go to the vippskit simulator (" + app.simURL + "), not to Vipps. No real money moves."
	case strings.EqualFold(f.client.baseURL, "test") || strings.HasPrefix(f.client.baseURL, vipps.TestURL):
		envText = "Vipps TEST environment: no real money moves."
	}
	app.web, err = web.New(web.Config{
		Service: app.svc, APIKey: vipps.Secret(f.apiKey), AdminUser: f.adminUser, AdminPassword: vipps.Secret(f.adminPassword),
		CSRFKey: derive("csrf"), Environment: envText, DemoShop: f.demoShop,
		Metrics: app.metrics.Handler(), Logger: log,
		Ready: func(ctx context.Context) error {
			if _, err := st.Get(ctx, "readyz-probe"); err != nil && !errors.Is(err, payment.ErrNotFound) {
				return fmt.Errorf("database: %w", err)
			}
			return nil
		},
	})
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("serve: %w", err)
	}
	app.srv = &http.Server{
		Handler:           app.metrics.Middleware(app.web),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go func() { app.served <- app.srv.Serve(ln) }()

	pl, err := poller.New(poller.Config{Store: st, Service: app.svc, Owner: f.replica, Observe: app.metrics.Poll,
		Loop: poller.Loop{Logger: log, Drain: f.grace}})
	if err != nil {
		return nil, err
	}
	ob, err := poller.NewOutbox(poller.OutboxConfig{Store: st, Service: app.svc, Owner: f.replica, WebhookURL: f.webhookURL,
		WebhookSecret: vipps.Secret(f.webhookSecret), PreviousWebhookSecrets: previousSecrets(f.webhookPrevious),
		Observe: app.metrics.TaskAttempt, Loop: poller.Loop{Logger: log, Drain: f.grace}})
	if err != nil {
		return nil, err
	}
	work, stop := context.WithCancel(context.WithoutCancel(ctx))
	app.stopWork = stop
	app.workers.Go(func() { pl.Run(work) })
	app.workers.Go(func() { ob.Run(work) })
	log.Info("payment service started", "url", app.url, "public_url", public, "database", redactDSN(f.database), "replica", f.replica, "simulated", app.sim != nil)
	if app.sim != nil {
		log.Warn("TEST MODE: the Vipps simulator runs in this process; no real payments are made", "sim_url", app.simURL)
	}
	return app, nil
}

// startSim starts the in-process simulator on a loopback port of its own.
func (app *serveApp) startSim(f *serveFlags, log *slog.Logger) error {
	sim, err := vippstest.New(vippstest.Config{SnapshotPath: f.simSnapshot, Logger: log.With("component", "simulator")})
	if err != nil {
		return fmt.Errorf("serve: simulator: %w", err)
	}
	app.sim = sim
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("serve: simulator: %w", err)
	}
	app.simURL = "http://" + ln.Addr().String()
	app.simSrv = &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	go app.simSrv.Serve(ln)
	app.simTick = make(chan struct{})
	go func() { // let payments time out on time with the real clock
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				sim.Advance(0)
			case <-app.simTick:
				return
			}
		}
	}()
	m := sim.Merchants()[0]
	c := &f.client
	c.baseURL, c.clientID, c.clientSecret, c.subscriptionKey, c.msn = app.simURL, m.ClientID, m.ClientSecret, m.SubscriptionKey, string(m.MSN)
	return nil
}

func (app *serveApp) newClient(f *serveFlags) (*vipps.Client, error) {
	cfg := f.client.config()
	cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second, Transport: app.metrics.Transport(vipps.NewTransport())}
	cfg.Logger = app.log.With("component", "vipps-client")
	client, err := vipps.New(cfg)
	if err != nil {
		return nil, &usageError{cmd: "serve", err: err}
	}
	return client, nil
}

// demoSecrets are the credentials generated for a simulated run.
type demoSecrets struct {
	APIKey        string `json:"apiKey"`
	AdminPassword string `json:"adminPassword"`
	SecretKey     string `json:"secretKey"`
}

// fillDemoSecrets fills the secrets not configured for a simulated run:
// from the secrets file (created 0600 on first use), so that return links,
// the API key and the password survive restarts; in memory for PostgreSQL.
func (f *serveFlags) fillDemoSecrets() error {
	var s demoSecrets
	if f.secretsFile != "" {
		b, err := os.ReadFile(f.secretsFile)
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return err
		default:
			if err := json.Unmarshal(b, &s); err != nil {
				return fmt.Errorf("secrets file %s: %w (delete it to generate new secrets)", f.secretsFile, err)
			}
		}
	}
	changed := false
	for _, p := range []*string{&s.APIKey, &s.AdminPassword, &s.SecretKey} {
		if *p == "" {
			*p, changed = rand.Text(), true
		}
	}
	if changed && f.secretsFile != "" {
		b, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			return fmt.Errorf("secrets file: %w", err)
		}
		if err := os.WriteFile(f.secretsFile, append(b, '\n'), 0o600); err != nil {
			return fmt.Errorf("secrets file: %w", err)
		}
	}
	f.apiKey = cmp.Or(f.apiKey, s.APIKey)
	f.adminPassword = cmp.Or(f.adminPassword, s.AdminPassword)
	f.secret = cmp.Or(f.secret, s.SecretKey+s.SecretKey)
	return nil
}

// defaultShipping is offered in express checkout without -shipping.
var defaultShipping = []vipps.ShippingOption{
	{IsDefault: true, Priority: 0, ShippingCost: 0, ShippingMethod: "Pick up in store", ShippingMethodID: "pickup"},
	{Priority: 1, ShippingCost: 99, ShippingMethod: "Posten: home delivery", ShippingMethodID: "posten-home"},
}

func loadShipping(file string) ([]vipps.ShippingOption, error) {
	if file == "" {
		return defaultShipping, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("shipping options: %w", err)
	}
	var opts []vipps.ShippingOption
	if err := json.Unmarshal(b, &opts); err != nil {
		return nil, fmt.Errorf("shipping options %s: %w", file, err)
	}
	if len(opts) == 0 {
		return nil, fmt.Errorf("shipping options %s: the list is empty", file)
	}
	return opts, nil
}

// wait serves until ctx ends, then shuts down: the HTTP server stops taking
// requests and finishes those in flight, callbacks in progress finish, the
// poller and outbox finish their current work, all within the grace.
func (app *serveApp) wait(ctx context.Context) error {
	var err error
	select {
	case err = <-app.served:
		err = fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	app.log.Info("shutting down", "grace", app.grace.String())
	return errors.Join(err, app.close())
}

// close stops everything started, within the grace; later calls return
// the first call's result.
func (app *serveApp) close() error {
	app.closeOnce.Do(func() { app.closeErr = app.shutdown() })
	return app.closeErr
}

func (app *serveApp) shutdown() error {
	sctx, cancel := context.WithTimeout(context.Background(), max(app.grace, time.Second))
	defer cancel()
	var errs []error
	if app.srv != nil {
		if err := app.srv.Shutdown(sctx); err != nil {
			app.srv.Close()
			errs = append(errs, err)
		}
	}
	if app.web != nil {
		errs = append(errs, app.web.Shutdown(sctx))
	}
	if app.stopWork != nil {
		app.stopWork()
		app.workers.Wait()
	}
	if app.simSrv != nil {
		close(app.simTick)
		errs = append(errs, app.simSrv.Shutdown(sctx))
		errs = append(errs, app.sim.Close())
	}
	if app.store != nil {
		errs = append(errs, app.store.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	app.log.Info("stopped")
	return nil
}

// previousSecrets is the webhook key being replaced, if any.
func previousSecrets(s string) []vipps.Secret {
	if s == "" {
		return nil
	}
	return []vipps.Secret{vipps.Secret(s)}
}
