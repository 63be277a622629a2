package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/vippstest"
)

const simDoc = `
Run the Vipps simulator: a stateful stand-in for the Vipps eCom v2 test
environment (access token, eCom, force approve, Userinfo, Order
Management) that keeps payments and sends callbacks. Point a client's
base URL at the address it prints and use the credentials it prints.
Act as the user in a browser: open the URL that initiate returns (the
simulator's Vipps app asks for the phone number, then lets you approve or
reject; for express checkout, pick an address and shipping), and see a
user's payments and receipts at <url>/_sim/users/<phone>. Or act through
the control API, for example

	curl -X POST <url>/_sim/payments/<order-id>/approve
	curl -X POST <url>/_sim/clock/advance -d '{"duration":"10m"}'

The control API lists every callback with its authorization token and
lets anyone approve payments, so it answers clients on this machine
(loopback) only; others get 403. The app pages a customer opens stay
open to all. -control-remote lets other machines use the control API:
use it only on a network you trust.

Prometheus metrics are at <url>/metrics.

The state lives in memory unless -snapshot names a file: then it is
loaded at start (the file is created when missing), saved after every
change and when the simulator stops, so that a restart goes on where it
left off. A file that cannot be read as a snapshot is an error, never
silently replaced.

-merchants names a JSON file with the sales units to simulate; they
replace the default one (MSN 123456). For example

	[{"msn": "123456", "clientId": "my-id", "clientSecret": "my-secret",
	  "subscriptionKey": "my-key", "name": "My Shop"},
	 {"msn": "654321", "clientId": "id-2", "clientSecret": "secret-2",
	  "subscriptionKey": "key-2", "directCapture": true,
	  "skipLandingPageAllowed": true, "ninAllowed": true}]

To keep memory bounded on a long run, a finished payment (cancelled,
rejected, timed out, failed, fully refunded, or captured and past its
refund window) is forgotten -retain after it finished; then the API
answers for its orderId as for one that never existed.

"vipps sim trigger <scenario>" acts as the user on a running simulator
(approved, rejected, failed-card, expired, express-address,
resend-callback); see "vipps sim trigger -h".

It serves until interrupted, then finishes the requests and callbacks in
flight (for at most -shutdown-timeout) and saves the snapshot.
`

// simShutdownGrace bounds how long the simulator waits for requests in
// flight when it stops.
const simShutdownGrace = 10 * time.Second

// simFlags are the settings of the sim command.
type simFlags struct {
	addr          string
	lenient       bool
	addShipping   bool
	tokenLifetime time.Duration
	snapshot      string
	merchants     string
	logFormat     string
	grace         time.Duration
	controlRemote bool
	audit         bool
	retain        time.Duration
	cpuProfile    string
}

// parseSimFlags parses args, then fills the flags not given from the
// environment. Every mistake is a usage error.
func parseSimFlags(e *env, args []string) (*simFlags, error) {
	var f simFlags
	fs := newFlagSet(e, "sim", "", simDoc)
	fs.stringEnv(&f.addr, "addr", "127.0.0.1:8085", "VIPPS_SIM_ADDR", "listen `address`")
	fs.boolEnv(&f.lenient, "lenient", false, "VIPPS_SIM_LENIENT",
		"accept what real Vipps refuses where the meaning is clear, such as http URLs")
	fs.boolEnv(&f.addShipping, "express-adds-shipping", false, "VIPPS_SIM_EXPRESS_ADDS_SHIPPING",
		"add the express shipping cost the user chose to the reserved amount; Vipps does not document whether it does")
	fs.durationEnv(&f.tokenLifetime, "token-lifetime", time.Hour, "VIPPS_SIM_TOKEN_LIFETIME", "how long access tokens are valid, at least 1s")
	fs.stringEnv(&f.snapshot, "snapshot", "", "VIPPS_SIM_SNAPSHOT",
		"keep the state in this `file` across restarts; empty keeps it in memory only")
	fs.stringEnv(&f.merchants, "merchants", "", "VIPPS_SIM_MERCHANTS",
		"JSON `file` with the merchants to simulate, instead of the default one")
	fs.stringEnv(&f.logFormat, "log-format", "text", "VIPPS_SIM_LOG_FORMAT", "request log `format` on stderr: text or json")
	fs.stringEnv(&f.cpuProfile, "cpuprofile", "", "VIPPS_SIM_CPUPROFILE", "write a CPU profile of the simulator to this `file` until it stops")
	fs.durationEnv(&f.grace, "shutdown-timeout", simShutdownGrace, "VIPPS_SIM_SHUTDOWN_TIMEOUT", "how long to wait for requests in flight when stopping")
	fs.boolEnv(&f.controlRemote, "control-remote", false, "VIPPS_SIM_CONTROL_REMOTE",
		"let clients on other machines use the control API (/_sim/), which shows every callback token")
	fs.boolEnv(&f.audit, "audit", false, "VIPPS_SIM_AUDIT",
		"audit mode for vipps checklist: drop the first callback of every third payment and lose the first capture's answer, so the shop must poll /details and retry")
	fs.durationEnv(&f.retain, "retain", 24*time.Hour, "VIPPS_SIM_RETAIN",
		"forget finished payments (cancelled, failed, refunded, ...) this long after they finished, on the simulator's clock; 0 keeps every payment")
	if err := fs.parseFlags(args); err != nil {
		return nil, err
	}
	if err := checkAddr("addr", f.addr, "8085"); err != nil {
		return nil, fs.usageErr(err)
	}
	switch {
	case f.logFormat != "text" && f.logFormat != "json":
		return nil, fs.usagef("-log-format %q must be text or json", f.logFormat)
	case f.tokenLifetime < time.Second:
		return nil, fs.usagef("-token-lifetime %v must be at least a second", f.tokenLifetime)
	case f.grace < 0:
		return nil, fs.usagef("-shutdown-timeout %v must not be negative", f.grace)
	case f.retain < 0:
		return nil, fs.usagef("-retain %v must not be negative (0 keeps every payment)", f.retain)
	}
	return &f, nil
}

// config is the simulator's configuration.
func (f *simFlags) config(logger *slog.Logger) (vippstest.Config, error) {
	cfg := vippstest.Config{
		Lenient:             f.lenient,
		Audit:               f.audit,
		ExpressAddsShipping: f.addShipping,
		TokenLifetime:       f.tokenLifetime,
		Logger:              logger,
		SnapshotPath:        f.snapshot,
		RetainFinished:      f.retain,
		// The control API shows every callback token: loopback only,
		// unless asked.
		ControlFromLoopbackOnly: !f.controlRemote,
	}
	if f.merchants != "" {
		var err error
		if cfg.Merchants, err = vippstest.LoadMerchants(f.merchants); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// runSim runs the simulator until ctx ends.
func runSim(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "trigger" {
		return runSimTrigger(ctx, e, args[1:])
	}
	f, err := parseSimFlags(e, args)
	if err != nil {
		return err
	}
	if f.cpuProfile != "" {
		stop, err := startCPUProfile(f.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	logOut := newLogWriter(e.stderr)
	defer logOut.Close()
	var handler slog.Handler = slog.NewTextHandler(logOut, nil)
	if f.logFormat == "json" {
		handler = slog.NewJSONHandler(logOut, nil)
	}
	logger := slog.New(handler)
	cfg, err := f.config(logger)
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	sim, err := vippstest.New(cfg)
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	ln, err := listen("addr", f.addr)
	if err != nil {
		return errors.Join(fmt.Errorf("sim: %w", err), sim.Close())
	}
	printSimBanner(e.stdout, "http://"+ln.Addr().String(), sim, f)

	srv := &http.Server{
		Handler:           sim,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	// With the real clock, payments time out whenever a request arrives;
	// the ticker makes them time out (and send their callbacks) on time
	// when nothing else happens.
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case err := <-served:
			return errors.Join(fmt.Errorf("sim: %w", err), sim.Close())
		case <-tick.C:
			sim.Advance(0)
		case <-ctx.Done():
			logger.Info("shutting down", slog.Duration("grace", f.grace))
			sctx, cancel := context.WithTimeout(context.Background(), f.grace)
			err := srv.Shutdown(sctx)
			cancel()
			if err != nil {
				srv.Close()
			}
			if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
				err = errors.Join(err, serr)
			}
			// Close waits for callbacks in flight and saves the snapshot.
			err = errors.Join(err, sim.Close())
			if err != nil {
				return fmt.Errorf("sim: shutdown: %w", err)
			}
			if f.snapshot != "" {
				logger.Info("snapshot saved", slog.String("path", f.snapshot))
			}
			return nil
		}
	}
}

// printSimBanner tells how to use the simulator: its URL, every
// merchant's credentials (the simulator's own test keys, not secrets),
// and where the control API, the metrics and the snapshot are.
func printSimBanner(w io.Writer, base string, sim *vippstest.Simulator, f *simFlags) {
	fmt.Fprintf(w, "Vipps simulator listening on %s\n", base)
	for _, m := range sim.Merchants() {
		var traits []string
		if m.DirectCapture {
			traits = append(traits, "direct capture")
		}
		if m.SkipLandingPageAllowed {
			traits = append(traits, "may skip the landing page")
		}
		if m.NinAllowed {
			traits = append(traits, "may ask for nin")
		}
		about := "MSN " + string(m.MSN)
		if len(traits) > 0 {
			about += "; " + strings.Join(traits, ", ")
		}
		fmt.Fprintf(w, "\n%s (%s):\n", m.Name, about)
		fmt.Fprintf(w, "  VIPPS_BASE_URL=%s\n", base)
		fmt.Fprintf(w, "  VIPPS_MSN=%s\n", m.MSN)
		fmt.Fprintf(w, "  VIPPS_CLIENT_ID=%s\n", m.ClientID)
		fmt.Fprintf(w, "  VIPPS_CLIENT_SECRET=%s\n", m.ClientSecret)
		fmt.Fprintf(w, "  VIPPS_SUBSCRIPTION_KEY=%s\n", m.SubscriptionKey)
	}
	fmt.Fprintf(w, "\nControl API: %s/_sim/payments, %s/_sim/requests, %s/_sim/callbacks\n", base, base, base)
	if f.controlRemote {
		fmt.Fprintf(w, "             open to every client that reaches %s (-control-remote)\n", base)
	} else {
		fmt.Fprintf(w, "             from this machine only (-control-remote opens it to others)\n")
	}
	fmt.Fprintf(w, "Metrics:     %s/metrics\n", base)
	if f.snapshot == "" {
		fmt.Fprintf(w, "Snapshot:    none; the state is lost when the simulator stops (-snapshot keeps it)\n")
	} else {
		fmt.Fprintf(w, "Snapshot:    %s (%d payments)\n", f.snapshot, len(sim.Payments()))
	}
}

const simTriggerDoc = `
Trigger acts as the user on a running simulator (vipps sim), through its
control API at -sim, for the common cases a shop must handle:

	approved          the user approves (-phone, default the payment's
	                  mobileNumber or 91234567)
	rejected          the user rejects in the app: callback CANCELLED
	failed-card       the user's card has expired: the reservation fails,
	                  callback RESERVE_FAILED with Payment 44
	expired           the user does nothing: the payment times out,
	                  callback REJECTED
	express-address   the user approves an express payment with their home
	                  address and the default shipping option; prints them
	resend-callback   the payment's callback is sent again (needs -order)

It acts on -order, or else on the most recent payment that waits for the
user (for express-address, the most recent waiting express payment). The
phone numbers with special behaviour (not a Vipps user, under 15, ...)
are listed in the simulator's DESIGN.md ("Test users"); pass one with
-phone to approved.
`

// simTriggerDefaultURL is where vipps sim listens by default.
const simTriggerDefaultURL = "http://127.0.0.1:8085"

// simScenarios are the scenarios of sim trigger, in the order the
// documentation lists them.
var simScenarios = []string{"approved", "rejected", "failed-card", "expired", "express-address", "resend-callback"}

// runSimTrigger is "vipps sim trigger <scenario>".
func runSimTrigger(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "sim trigger", "<scenario>", simTriggerDoc)
	var base, order, phone string
	fs.stringEnv(&base, "sim", simTriggerDefaultURL, "VIPPS_SIM_URL", "the simulator's base `url`")
	fs.fs.StringVar(&order, "order", "", "the payment's order `id` (default the most recent waiting payment)")
	fs.fs.StringVar(&phone, "phone", "", "the test user's 8-digit phone `number` (approved, express-address)")
	rest, err := fs.parse(args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) != 1:
		return fs.usagef("give one scenario: %s", strings.Join(simScenarios, ", "))
	case !slices.Contains(simScenarios, rest[0]):
		return fs.usagef("unknown scenario %q: want one of %s", rest[0], strings.Join(simScenarios, ", "))
	case rest[0] == "resend-callback" && order == "":
		return fs.usagef("resend-callback needs -order")
	case phone != "" && rest[0] != "approved" && rest[0] != "express-address":
		return fs.usagef("-phone is for approved and express-address")
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fs.usagef("-sim %q must be an http(s) URL such as %s", base, simTriggerDefaultURL)
	}
	c := &simControl{base: strings.TrimSuffix(base, "/"), hc: &http.Client{Timeout: 30 * time.Second}}
	scenario := rest[0]
	if err := c.trigger(ctx, e.stdout, scenario, order, phone); err != nil {
		return fmt.Errorf("sim trigger %s: %w", scenario, err)
	}
	return nil
}

// simControl is a client of a simulator's control API.
type simControl struct {
	base string
	hc   *http.Client
}

// simPayment is what the control API says of a payment; the fields
// trigger needs.
type simPayment struct {
	OrderID         vipps.OrderID          `json:"orderId"`
	MSN             vipps.MSN              `json:"merchantSerialNumber"`
	PaymentType     vipps.PaymentType      `json:"paymentType"`
	Status          vipps.OrderStatus      `json:"status"`
	PhoneNumber     string                 `json:"phoneNumber"`
	ShippingDetails *vipps.ShippingDetails `json:"shippingDetails"`
}

func (c *simControl) trigger(ctx context.Context, w io.Writer, scenario, order, phone string) error {
	var p simPayment
	if order == "" {
		var err error
		if p, err = c.latestWaiting(ctx, scenario == "express-address"); err != nil {
			return err
		}
	} else if err := c.do(ctx, "GET", "/_sim/payments/"+url.PathEscape(order), nil, &p); err != nil {
		return err
	}
	path := "/_sim/payments/" + url.PathEscape(string(p.OrderID)) + "?msn=" + url.QueryEscape(string(p.MSN))
	approve := func(phone string) error {
		return c.do(ctx, "POST", strings.Replace(path, "?", "/approve?", 1), map[string]string{"phoneNumber": phone}, &p)
	}
	var err error
	switch scenario {
	case "approved":
		err = approve(phone)
	case "failed-card":
		err = approve(vippstest.PhoneCardExpired)
	case "express-address":
		if p.PaymentType != vipps.PaymentTypeExpress {
			return fmt.Errorf("order %s is a %s payment, not express", p.OrderID, p.PaymentType)
		}
		err = approve(phone)
	case "rejected":
		err = c.do(ctx, "POST", strings.Replace(path, "?", "/reject?", 1), nil, &p)
	case "expired":
		err = c.do(ctx, "POST", strings.Replace(path, "?", "/expire?", 1), nil, &p)
	case "resend-callback":
		var out struct {
			Status vipps.CallbackStatus `json:"status"`
		}
		if err := c.do(ctx, "POST", strings.Replace(path, "?", "/resend-callback?", 1), nil, &out); err != nil {
			return err
		}
		fmt.Fprintf(w, "order %s: callback %s sent again\n", p.OrderID, out.Status)
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "order %s: %s, status %s", p.OrderID, scenario, p.Status)
	if p.PhoneNumber != "" {
		fmt.Fprintf(w, ", user %s", p.PhoneNumber)
	}
	fmt.Fprintln(w)
	if sd := p.ShippingDetails; sd != nil {
		a := sd.Address
		fmt.Fprintf(w, "address: %s, %s %s %s\nshipping: %s (%s), %s\n",
			strings.Join(slices.DeleteFunc([]string{a.AddressLine1, a.AddressLine2}, func(s string) bool { return s == "" }), ", "),
			a.PostCode, a.City, a.Country, sd.ShippingMethod, sd.ShippingMethodID, sd.ShippingCost.Amount().Kroner())
	}
	return nil
}

// latestWaiting finds the most recent payment that waits for the user.
func (c *simControl) latestWaiting(ctx context.Context, express bool) (simPayment, error) {
	var ps []simPayment // oldest first
	if err := c.do(ctx, "GET", "/_sim/payments", nil, &ps); err != nil {
		return simPayment{}, err
	}
	for _, p := range slices.Backward(ps) {
		if p.Status == vipps.OrderStatusInitiate && (!express || p.PaymentType == vipps.PaymentTypeExpress) {
			return p, nil
		}
	}
	what := "payment"
	if express {
		what = "express payment"
	}
	return simPayment{}, fmt.Errorf("no %s waits for the user; initiate one, or name one with -order", what)
}

// do calls the control API: in is sent as JSON when not nil, and a 2xx
// answer is decoded into out. Another answer is an error with the
// simulator's message.
func (c *simControl) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("is vipps sim running at %s? %w", c.base, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return fmt.Errorf("%s (HTTP %d)", e.Error, resp.StatusCode)
		}
		return fmt.Errorf("%s %s: HTTP %d", method, path, resp.StatusCode)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	return nil
}
