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
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/netutil"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/metrics"
	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/internal/poller"
	"github.com/vippskit/vipps/internal/sqlite"
	"github.com/vippskit/vipps/internal/staff"
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
pay with Vipps. Metrics are at /metrics unless -metrics-addr moves them.

With -base-url "test" or "production" it talks to Vipps: then
-client-id, -client-secret, -subscription-key, -msn, -public-url (the https
URL Vipps and customers reach this service at), -api-key and -secret-key
are required, and -admin-password until the first staff account exists. The demo shop is off unless -demo-shop turns
it on, and Prometheus metrics are served only where -metrics-addr says
(a private address; it may name -addr to serve them there).

The service holds personal data: the SQLite database, its -wal and -shm
files, the secrets file and the simulator's snapshot are created readable
by their owner only (0600).

Staff sign in to the admin UI (/admin/) with their own accounts, each with a
role: viewer, operator or admin. On a database with no accounts at all,
serve makes the first one, an admin named -admin-user with -admin-password;
once accounts exist, those two are ignored, and staff are managed at
/admin/staff or with "vipps staff".

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
	lang, sqliteSync                         string
	vippsButton                              string
	demoShop, printConfig                    bool
	cpuProfile                               string
	grace                                    time.Duration
	simulated                                bool // no -base-url: in-process simulator
	secretsFile, simSnapshot                 string
	db                                       database
	metricsAddr                              string
	maxConns                                 int
	http                                     httpLimits
	// wrapStore, when set, wraps the store the service uses: vipps load
	// records the service's writes through it (load_record.go).
	wrapStore func(payment.Store) payment.Store
}

// httpLimits bound the service's HTTP connections. parseServeFlags sets
// the defaults; tests shorten them.
type httpLimits struct {
	readHeader, read, write, idle time.Duration
}

// defaultHTTPLimits: a request's body is small and quick to send; the
// longest answer is a capture, refund or cancel, which waits up to
// payment.Config.OpWait (10 s) for the operation before it, then for a
// call to Vipps bounded by payment.Config.CallTimeout (20 s), so writes
// get twice that.
var defaultHTTPLimits = httpLimits{
	readHeader: 10 * time.Second,
	read:       30 * time.Second,
	write:      60 * time.Second,
	idle:       2 * time.Minute,
}

// defaultMaxConns bounds the open connections of the main address.
const defaultMaxConns = 1024

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
	fs.stringEnv(&f.sqliteSync, "sqlite-sync", "full", "VIPPS_SQLITE_SYNC",
		"`how` SQLite commits wait for the disk: full (nothing acknowledged is lost, power cuts included) or normal (faster; a power cut or OS crash can lose the last commits)")
	fs.stringEnv(&f.lang, "lang", "en", "VIPPS_LANG", "`language` of pages for browsers that ask for none they speak: en or nb (Norwegian bokmål)")
	fs.boolEnv(&f.demoShop, "demo-shop", false, "VIPPS_DEMO_SHOP", "serve the demo shop at / (default on with the simulator, off with -base-url)")
	fs.stringEnv(&f.vippsButton, "vipps-button", "", "VIPPS_BUTTON",
		"the demo shop's Vipps `button`: library (Vipps' own, loaded from Vipps, with the builtin one where it cannot load) or builtin (loads nothing from outside) (default library with -base-url, builtin with the simulator)")
	fs.stringEnv(&f.metricsAddr, "metrics-addr", "", "VIPPS_METRICS_ADDR",
		"serve /metrics only at this `address`, such as 127.0.0.1:9090 (default: at -addr with the simulator, nowhere with -base-url)")
	fs.intEnv(&f.maxConns, "max-conns", defaultMaxConns, "VIPPS_MAX_CONNS", "the most `connections` open at once at -addr; more wait their turn")
	fs.durationEnv(&f.grace, "shutdown-timeout", 15*time.Second, "VIPPS_SHUTDOWN_TIMEOUT", "how long to let work in flight finish when stopping")
	fs.stringEnv(&f.cpuProfile, "cpuprofile", "", "VIPPS_CPUPROFILE", "write a CPU profile of the service to this `file` until it stops (go tool pprof reads it)")
	fs.boolEnv(&f.printConfig, "print-config", false, "VIPPS_PRINT_CONFIG", "print the effective configuration (secrets redacted) and exit")
	if err := fs.parseFlags(args); err != nil {
		return nil, err
	}
	var bad []string
	f.http = defaultHTTPLimits
	db, err := parseDatabase(f.database)
	if err != nil {
		bad = append(bad, err.Error())
	}
	if sync, err := sqlite.ParseSync(f.sqliteSync); err != nil {
		bad = append(bad, "-sqlite-sync: "+strings.TrimPrefix(err.Error(), "sqlite: "))
	} else {
		db.sync = sync
	}
	f.db = db
	f.simulated = c.baseURL == ""
	demoShopSet := false
	fs.fs.Visit(func(fl *flag.Flag) { demoShopSet = demoShopSet || fl.Name == "demo-shop" }) // Visit sees the environment too
	switch {
	case f.simulated:
		if !demoShopSet {
			f.demoShop = true
		}
		if err == nil && !db.postgres {
			f.secretsFile, f.simSnapshot = db.where+".secrets", db.where+".sim.json"
		}
	case c.checkBaseURL() != nil:
		bad = append(bad, c.checkBaseURL().Error())
	default:
		for _, m := range fs.missing("client-id", "client-secret", "subscription-key", "msn", "public-url", "api-key", "secret-key") {
			bad = append(bad, m+" is required with -base-url")
		}
	}
	if f.vippsButton == "" && !f.simulated {
		f.vippsButton = web.ButtonLibrary
	}
	if b, err := web.ParseVippsButton(f.vippsButton); err != nil {
		bad = append(bad, "-vipps-button: "+err.Error())
	} else {
		f.vippsButton = b
	}
	if l, err := web.ParseLang(f.lang); err != nil {
		bad = append(bad, "-lang: "+err.Error())
	} else {
		f.lang = l
	}
	if err := checkAddr("addr", f.addr, "8080"); err != nil {
		bad = append(bad, err.Error())
	}
	if f.metricsAddr != "" {
		if err := checkAddr("metrics-addr", f.metricsAddr, "9090"); err != nil {
			bad = append(bad, err.Error())
		}
	}
	if f.maxConns < 1 {
		bad = append(bad, fmt.Sprintf("-max-conns %d must be at least 1", f.maxConns))
	}
	if f.publicURL != "" {
		if u, err := url.Parse(f.publicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad = append(bad, fmt.Sprintf("-public-url %q must be an absolute http(s) URL", redact(f.publicURL)))
		}
	}
	if err := poller.CheckWebhookSecrets(f.webhookURL, vipps.Secret(f.webhookSecret), previousSecrets(f.webhookPrevious)...); err != nil {
		bad = append(bad, "-webhook-url, -webhook-secret, -webhook-previous-secret: "+err.Error())
	}
	if f.secret != "" && len(f.secret) < minSecretKey {
		bad = append(bad, fmt.Sprintf("-secret-key must be at least %d characters", minSecretKey))
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
		{"addr", f.addr}, {"public-url", redact(public)}, {"database", redact(f.database)},
		{"vipps", vippsAt}, {"client-id", f.client.clientID}, {"client-secret", red(f.client.clientSecret)},
		{"subscription-key", red(f.client.subscriptionKey)}, {"msn", f.client.msn},
		{"system-name", f.client.systemName}, {"system-version", f.client.systemVersion},
		{"api-key", red(f.apiKey)}, {"admin-user", f.adminUser}, {"admin-password", red(f.adminPassword)},
		{"secret-key", red(f.secret)}, {"webhook-url", redact(f.webhookURL)}, {"webhook-secret", red(f.webhookSecret)}, {"webhook-previous-secret", red(f.webhookPrevious)},
		{"shipping", f.shipping}, {"shipping-url", redact(f.shippingURL)}, {"order-id-prefix", f.orderIDPrefix},
		{"replica-id", f.replica}, {"sqlite-sync", string(f.db.sync)}, {"lang", f.lang}, {"demo-shop", fmt.Sprint(f.demoShop)}, {"vipps-button", f.vippsButton}, {"metrics", f.metricsAt()},
		{"max-conns", fmt.Sprint(f.maxConns)}, {"log", f.logFormat + " " + f.logLevel},
		{"shutdown-timeout", f.grace.String()}, {"secrets-file", f.secretsFile}, {"sim-snapshot", f.simSnapshot},
	})
}

// metricsOnMain reports whether /metrics is served at -addr: with the
// simulator unless -metrics-addr moves it, against Vipps only when
// -metrics-addr names -addr.
func (f *serveFlags) metricsOnMain() bool {
	if f.metricsAddr == "" {
		return f.simulated
	}
	_, port, _ := net.SplitHostPort(f.addr)
	return f.metricsAddr == f.addr && port != "0" // two ":0" are two ports
}

// metricsAt says where /metrics is served.
func (f *serveFlags) metricsAt() string {
	switch {
	case f.metricsOnMain():
		return "http://" + f.addr + "/metrics"
	case f.metricsAddr != "":
		return "http://" + f.metricsAddr + "/metrics"
	}
	return "not served (-metrics-addr serves them)"
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
	if f.cpuProfile != "" {
		stop, err := startCPUProfile(f.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	level, _ := logLevel(f.logLevel)
	opts := &slog.HandlerOptions{Level: level}
	logOut := newLogWriter(e.stderr)
	defer logOut.Close()
	var h slog.Handler = slog.NewJSONHandler(logOut, opts)
	if f.logFormat == "text" {
		h = slog.NewTextHandler(logOut, opts)
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
	ln          net.Listener  // the main address, until srv serves it
	srv         *http.Server
	served      chan error
	metricsURL  string // "" when /metrics is served at url or nowhere
	metricsLn   net.Listener
	metricsSrv  *http.Server
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
	// Listen first: a busy port fails the start before any file is made.
	if app.ln, err = listen("addr", f.addr); err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	app.url = "http://" + app.ln.Addr().String()
	if f.metricsAddr != "" && !f.metricsOnMain() {
		if app.metricsLn, err = listen("metrics-addr", f.metricsAddr); err != nil {
			return nil, fmt.Errorf("serve: %w", err)
		}
		app.metricsURL = "http://" + app.metricsLn.Addr().String() + "/metrics"
	}
	shipping, err := loadShipping(f.shipping)
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	st, closer, err := openStore(ctx, f.db)
	if err != nil {
		return nil, fmt.Errorf("serve: database %s: %w", redact(f.database), err)
	}
	app.store = closer
	// pst is the payments' store; staff accounts are in st too.
	var pst payment.Store = st
	if f.wrapStore != nil {
		pst = f.wrapStore(st)
	}
	if f.simulated {
		if err := f.fillDemoSecrets(); err != nil {
			return nil, fmt.Errorf("serve: %w", err)
		}
		if err := app.startSim(f, log); err != nil {
			return nil, err
		}
	}
	app.metrics = metrics.New(metrics.Config{Stats: pst})
	public := f.publicURL
	if public == "" {
		public = app.url
	}

	// What the service says to Vipps about each payment, masked, for the
	// admin's payment page: stored off the calls' path (payment.ExchangeLog).
	exchanges, err := payment.NewExchangeLog(payment.ExchangeLogConfig{Store: pst, Logger: log.With("component", "exchanges")})
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	client, err := app.newClient(f, exchanges.Observe)
	if err != nil {
		return nil, err
	}
	key := []byte(f.secret)
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(label))
		return m.Sum(nil)
	}
	cfg := payment.Config{
		Store: pst, Vipps: client, PublicURL: public, ReturnKey: derive("return"),
		ConsentPath:   payment.DefaultCallbackPath + "/consents-" + hex.EncodeToString(derive("consent"))[:20],
		OrderIDPrefix: f.orderIDPrefix, Shipping: shipping, Webhooks: f.webhookURL != "", Logger: log,
		Exchanges: exchanges,
	}
	if f.shippingURL != "" {
		cfg.ShopShipping = shopShipping(f.shippingURL, vipps.Secret(f.webhookSecret))
	}
	if app.svc, err = payment.NewService(cfg); err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	env := web.Environment{
		Simulator: app.simURL,
		Test:      strings.EqualFold(f.client.baseURL, "test") || strings.HasPrefix(f.client.baseURL, vipps.TestURL),
	}
	var mainMetrics http.Handler
	if f.metricsOnMain() {
		mainMetrics = app.metrics.Handler()
	}
	var polls atomic.Int64
	var lastPoll atomic.Int64 // Unix nanoseconds
	ccfg := f.client.config()
	staffSvc, err := staff.New(staff.Config{Store: st, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	if err := firstStaff(ctx, staffSvc, f.adminUser, f.adminPassword, log); err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	app.web, err = web.New(web.Config{
		Service: app.svc, Staff: staffSvc, APIKey: vipps.Secret(f.apiKey),
		CSRFKey: derive("csrf"), Environment: env, DemoShop: f.demoShop, Lang: f.lang, VippsButton: f.vippsButton,
		Metrics: mainMetrics, Logger: log,
		GoLive: web.GoLive{
			VippsURL: client.BaseURL(), SystemName: cmp.Or(ccfg.SystemName, "vippskit"), SystemVersion: cmp.Or(ccfg.SystemVersion, vipps.Version),
			CheckKeys: func(ctx context.Context) error { _, err := client.AccessToken(ctx); return err },
			PollerChecks: func() (int64, time.Time) {
				n, last := polls.Load(), lastPoll.Load()
				if last == 0 {
					return n, time.Time{}
				}
				return n, time.Unix(0, last)
			},
		},
		Ready: func(ctx context.Context) error {
			if _, err := st.Get(ctx, "readyz-probe"); err != nil && !errors.Is(err, payment.ErrNotFound) {
				return fmt.Errorf("database: %w", err)
			}
			return nil
		},
	})
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	errLog := slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	app.srv = &http.Server{
		Handler:           app.metrics.Middleware(app.web),
		ReadHeaderTimeout: f.http.readHeader,
		ReadTimeout:       f.http.read,
		WriteTimeout:      f.http.write,
		IdleTimeout:       f.http.idle,
		ErrorLog:          errLog,
	}
	ln := netutil.LimitListener(app.ln, f.maxConns) // more wait in the kernel's queue
	go func() { app.served <- app.srv.Serve(ln) }()
	if app.metricsLn != nil {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", app.metrics.Handler())
		app.metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: f.http.readHeader, ReadTimeout: f.http.read,
			WriteTimeout: f.http.write, IdleTimeout: f.http.idle, ErrorLog: errLog}
		go func() {
			if err := app.metricsSrv.Serve(app.metricsLn); !errors.Is(err, http.ErrServerClosed) {
				log.Error("metrics server stopped", "err", err)
			}
		}()
	}

	observe := func(err error) {
		polls.Add(1)
		lastPoll.Store(time.Now().UnixNano())
		app.metrics.Poll(err)
	}
	pl, err := poller.New(poller.Config{Store: pst, Service: app.svc, Owner: f.replica, Observe: observe,
		Loop: poller.Loop{Logger: log, Drain: f.grace}})
	if err != nil {
		return nil, err
	}
	ob, err := poller.NewOutbox(poller.OutboxConfig{Store: pst, Service: app.svc, Owner: f.replica, WebhookURL: f.webhookURL,
		WebhookSecret: vipps.Secret(f.webhookSecret), PreviousWebhookSecrets: previousSecrets(f.webhookPrevious),
		Observe: app.metrics.TaskAttempt, Loop: poller.Loop{Logger: log, Drain: f.grace}})
	if err != nil {
		return nil, err
	}
	work, stop := context.WithCancel(context.WithoutCancel(ctx))
	app.stopWork = stop
	app.workers.Go(func() { pl.Run(work) })
	app.workers.Go(func() { ob.Run(work) })
	app.workers.Go(func() { exchanges.Run(work) })
	log.Info("payment service started", "url", app.url, "public_url", redact(public), "database", redact(f.database),
		"metrics", app.metricsAt(f), "max_conns", f.maxConns, "replica", f.replica, "simulated", app.sim != nil)
	if app.sim != nil {
		log.Warn("TEST MODE: the Vipps simulator runs in this process; no real payments are made", "sim_url", app.simURL)
		if err := app.sim.CheckCallbackPrefix(public + payment.DefaultCallbackPath); f.publicURL != "" && err != nil {
			log.Warn("the simulator will refuse every payment for its -public-url: "+err.Error()+
				" Leave -public-url unset, or use https or a loopback address", "public_url", redact(f.publicURL))
		}
	}
	if f.demoShop && !f.simulated && strings.EqualFold(f.client.baseURL, "production") {
		log.Warn("the demo shop is on against Vipps production: anyone who reaches / can start real payments; turn it off with -demo-shop=false")
	}
	return app, nil
}

// metricsAt says where the running service serves /metrics.
func (app *serveApp) metricsAt(f *serveFlags) string {
	if f.metricsOnMain() {
		return app.url + "/metrics"
	}
	return cmp.Or(app.metricsURL, f.metricsAt())
}

// startSim starts the in-process simulator on a loopback port of its own.
func (app *serveApp) startSim(f *serveFlags, log *slog.Logger) error {
	sim, err := vippstest.New(vippstest.Config{SnapshotPath: f.simSnapshot, Logger: log.With("component", "simulator"),
		ControlFromLoopbackOnly: true})
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

func (app *serveApp) newClient(f *serveFlags, onExchange func(vipps.Exchange)) (*vipps.Client, error) {
	cfg := f.client.config()
	cfg.OnExchange = onExchange
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

// minSecretKey is the shortest -secret-key parseServeFlags accepts.
const minSecretKey = 32

// fillDemoSecrets fills the secrets not configured for a simulated run:
// from the secrets file (created 0600 on first use), so that return links,
// the API key and the password survive restarts; in memory for PostgreSQL.
//
// The secret key is two rand.Text, 52 characters. Files written before
// held one (26 characters) and the service used it twice over: such a key
// is written back doubled, the key in use unchanged, so that return links
// already sent keep working.
func (f *serveFlags) fillDemoSecrets() error {
	var s demoSecrets
	if f.secretsFile != "" {
		b, err := os.ReadFile(f.secretsFile)
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return fmt.Errorf("secrets file %s: %w", f.secretsFile, err)
		default:
			if err := json.Unmarshal(b, &s); err != nil {
				return fmt.Errorf("secrets file %s: %w (delete it to generate new secrets)", f.secretsFile, err)
			}
		}
	}
	changed := false
	for _, p := range []*string{&s.APIKey, &s.AdminPassword} {
		if *p == "" {
			*p, changed = rand.Text(), true
		}
	}
	switch {
	case s.SecretKey == "":
		s.SecretKey, changed = rand.Text()+rand.Text(), true
	case len(s.SecretKey) < minSecretKey:
		s.SecretKey, changed = s.SecretKey+s.SecretKey, true
	}
	if f.secretsFile != "" {
		if err := writeSecrets(f.secretsFile, &s, changed); err != nil {
			return fmt.Errorf("secrets file %s: %w", f.secretsFile, err)
		}
	}
	f.apiKey = cmp.Or(f.apiKey, s.APIKey)
	f.adminPassword = cmp.Or(f.adminPassword, s.AdminPassword)
	f.secret = cmp.Or(f.secret, s.SecretKey)
	return nil
}

// writeSecrets writes s to path, readable by its owner only, when changed;
// else it takes the group's and others' access to the file away.
func writeSecrets(path string, s *demoSecrets, changed bool) error {
	if !changed {
		return os.Chmod(path, 0o600)
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*") // 0600
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
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
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("-shipping %s: no such file: name a JSON file of shipping options, or leave -shipping unset for the built-in ones", file)
	}
	if err != nil {
		return nil, fmt.Errorf("-shipping %s: %w", file, err)
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
	errs = append(errs, stopServer(sctx, app.srv, app.ln), stopServer(sctx, app.metricsSrv, app.metricsLn))
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

// stopServer shuts srv down within ctx (closing it when that fails), or,
// when the start failed before srv served it, closes ln.
func stopServer(ctx context.Context, srv *http.Server, ln net.Listener) error {
	switch {
	case srv != nil:
		if err := srv.Shutdown(ctx); err != nil {
			srv.Close()
			return err
		}
	case ln != nil:
		ln.Close()
	}
	return nil
}

// previousSecrets is the webhook key being replaced, if any.
func previousSecrets(s string) []vipps.Secret {
	if s == "" {
		return nil
	}
	return []vipps.Secret{vipps.Secret(s)}
}

// firstStaff makes the first staff account of the database, an admin
// named user with password, when it has none, so that an installation
// that had one admin password keeps working; once accounts exist, it says
// in one line that user and password are ignored.
func firstStaff(ctx context.Context, sv *staff.Service, user, password string, log *slog.Logger) error {
	if password == "" {
		as, err := sv.List(ctx)
		switch {
		case err != nil:
			return err
		case len(as) == 0:
			return errors.New("there are no staff accounts yet: set -admin-password (or VIPPS_ADMIN_PASSWORD) for the first administrator, or add one with \"vipps staff add\"")
		}
		return nil
	}
	made, err := sv.Bootstrap(ctx, user, password)
	switch {
	case err != nil:
		return fmt.Errorf("the first staff account (-admin-user, -admin-password): %w", err)
	case made:
		log.Info("made the first staff account, an administrator, from -admin-user and -admin-password", "user", user)
	default:
		log.Info("staff accounts exist, so -admin-user and -admin-password (VIPPS_ADMIN_PASSWORD) are ignored; manage staff at /admin/staff or with vipps staff")
	}
	return nil
}

// startCPUProfile starts writing a CPU profile to path; stop ends it and
// closes the file.
func startCPUProfile(path string) (stop func(), err error) {
	out, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("-cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(out); err != nil {
		out.Close()
		return nil, fmt.Errorf("-cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		out.Close()
	}, nil
}
