package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/vippskit/vipps/vippstest"
)

const simDoc = `usage: vipps sim [flags]

Run the Vipps simulator: a stateful stand-in for the Vipps eCom v2 test
environment (access token, eCom, force approve, Userinfo, Order
Management) that keeps payments in memory and sends callbacks. Point a
client's base URL at the address it prints and use the credentials it
prints. Act as the user through the control API, for example

	curl -X POST <url>/_sim/payments/<order-id>/approve
	curl -X POST <url>/_sim/clock/advance -d '{"duration":"10m"}'

It serves until interrupted, then finishes the requests and callbacks in
flight (for at most -shutdown-timeout).

flags:
`

// simShutdownGrace bounds how long the simulator waits for requests in
// flight when it stops.
const simShutdownGrace = 10 * time.Second

// runSim runs the simulator until ctx ends.
func runSim(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), simDoc)
		fs.PrintDefaults()
	}
	addr := fs.String("addr", simEnv(e, "VIPPS_SIM_ADDR", "127.0.0.1:8085"),
		"listen `address` (environment VIPPS_SIM_ADDR)")
	lenientDefault, err := simBoolEnv(e, "VIPPS_SIM_LENIENT")
	if err != nil {
		return err
	}
	lenient := fs.Bool("lenient", lenientDefault,
		"accept what real Vipps refuses where the meaning is clear, such as http URLs (environment VIPPS_SIM_LENIENT)")
	grace := fs.Duration("shutdown-timeout", simShutdownGrace, "how long to wait for requests in flight when stopping")
	fs.SetOutput(io.Discard) // parse errors are reported once, as usage errors
	err = fs.Parse(args)
	fs.SetOutput(e.stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
		return err
	case err != nil:
		return &usageError{cmd: "sim", err: err}
	case fs.NArg() > 0:
		return &usageError{cmd: "sim", err: fmt.Errorf("unexpected arguments %q", fs.Args())}
	}

	logger := slog.New(slog.NewTextHandler(e.stderr, nil))
	sim, err := vippstest.New(vippstest.Config{Lenient: *lenient, Logger: logger})
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	base := "http://" + ln.Addr().String()
	m := vippstest.DefaultMerchant()
	fmt.Fprintf(e.stdout, "Vipps simulator listening on %s\n\n", base)
	fmt.Fprintf(e.stdout, "  VIPPS_BASE_URL=%s\n", base)
	fmt.Fprintf(e.stdout, "  VIPPS_MSN=%s\n", m.MSN)
	fmt.Fprintf(e.stdout, "  VIPPS_CLIENT_ID=%s\n", m.ClientID)
	fmt.Fprintf(e.stdout, "  VIPPS_CLIENT_SECRET=%s\n", m.ClientSecret)
	fmt.Fprintf(e.stdout, "  VIPPS_SUBSCRIPTION_KEY=%s\n\n", m.SubscriptionKey)
	fmt.Fprintf(e.stdout, "Control API: %s/_sim/payments, %s/_sim/requests, %s/_sim/callbacks\n", base, base, base)

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
			sim.Close()
			return fmt.Errorf("sim: %w", err)
		case <-tick.C:
			sim.Advance(0)
		case <-ctx.Done():
			logger.Info("shutting down", slog.Duration("grace", *grace))
			sctx, cancel := context.WithTimeout(context.Background(), *grace)
			err := srv.Shutdown(sctx)
			cancel()
			if err != nil {
				srv.Close()
			}
			if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
				err = errors.Join(err, serr)
			}
			sim.Close()
			if err != nil {
				return fmt.Errorf("sim: shutdown: %w", err)
			}
			return nil
		}
	}
}

func simEnv(e *env, name, def string) string {
	if v := e.getenv(name); v != "" {
		return v
	}
	return def
}

func simBoolEnv(e *env, name string) (bool, error) {
	v := e.getenv(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("sim: %s=%q is not a boolean", name, v)
	}
	return b, nil
}
