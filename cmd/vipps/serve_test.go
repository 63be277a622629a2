package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vippskit/vipps/internal/servicetest"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/vippstest"
)

// startTestServe parses args as "vipps serve" would (with an empty
// environment) and starts the service; it stops when the test ends.
func startTestServe(t *testing.T, args ...string) *serveApp {
	t.Helper()
	return startTestServeWith(t, nil, slog.New(slog.DiscardHandler), args...)
}

// startTestServeWith is startTestServe with the parsed settings changed
// by change, if not nil, and logging to log.
func startTestServeWith(t *testing.T, change func(*serveFlags), log *slog.Logger, args ...string) *serveApp {
	t.Helper()
	e := &env{getenv: func(string) string { return "" }, stdout: io.Discard, stderr: io.Discard}
	f, err := parseServeFlags(e, append([]string{"-addr", "127.0.0.1:0", "-shutdown-timeout", "5s"}, args...))
	if err != nil {
		t.Fatal(err)
	}
	if change != nil {
		change(f)
	}
	app, err := startServe(t.Context(), f, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.close() })
	return app
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// reserved creates the payment req through app's service and approves it
// as the simulator's user, and returns it once it is reserved.
func reserved(t *testing.T, app *serveApp, req payment.CreateRequest) vipps.OrderID {
	t.Helper()
	p, err := app.svc.Create(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if err := app.sim.Approve(p.OrderID, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "reserved", func() bool { return state(t, app, p.OrderID) == payment.Reserved })
	return p.OrderID
}

func state(t *testing.T, app *serveApp, id vipps.OrderID) payment.State {
	t.Helper()
	p, err := app.svc.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return p.State
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeRestart runs the service on its defaults (SQLite, simulator in
// the process), stops it in the middle of a payment, starts it again on the
// same files, and finishes the payment: nothing is lost on either side.
func TestServeRestart(t *testing.T) {
	db := filepath.Join(t.TempDir(), "vipps.db")
	app := startTestServe(t, "-database", db)
	ctx := context.Background()
	id := reserved(t, app, payment.CreateRequest{Amount: 2000, Text: "Restart", ShopRef: "r-1"})
	if op, err := app.svc.Capture(ctx, id, payment.OpRequest{Amount: 500, Key: "c1"}); err != nil || op.Status != payment.OpSucceeded {
		t.Fatalf("capture: %v %v", op, err)
	}
	if err := app.close(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	for _, f := range []string{db, db + ".secrets", db + ".sim.json"} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("after the first run: %v", err)
		}
	}

	app = startTestServe(t, "-database", db)
	if st := state(t, app, id); st != payment.Reserved {
		t.Fatalf("after restart: %s, want reserved", st)
	}
	// The same key after the restart is the same capture, not a second one.
	if op, err := app.svc.Capture(ctx, id, payment.OpRequest{Amount: 500, Key: "c1"}); err != nil || op.Status != payment.OpSucceeded {
		t.Fatalf("capture again: %v %v", op, err)
	}
	if sp, _ := app.sim.Payment(id); sp.Summary.CapturedAmount != 500 {
		t.Fatalf("simulator captured %d, want 500", sp.Summary.CapturedAmount)
	}
	for _, step := range []func() (*payment.Operation, error){
		func() (*payment.Operation, error) { return app.svc.Capture(ctx, id, payment.OpRequest{}) },
		func() (*payment.Operation, error) { return app.svc.Refund(ctx, id, payment.OpRequest{}) },
	} {
		if op, err := step(); err != nil || op.Status != payment.OpSucceeded {
			t.Fatalf("operation: %v %v", op, err)
		}
	}
	if st := state(t, app, id); st != payment.Refunded {
		t.Fatalf("state %s, want refunded", st)
	}

	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := get(t, app.url+path); code != http.StatusOK {
			t.Errorf("GET %s = %d %s", path, code, body)
		}
	}
	code, body := get(t, app.url+"/metrics")
	for _, want := range []string{`vippskit_payments{state="refunded"} 1`, `vippskit_vipps_requests_total{code="200",endpoint="refund"} 1`} {
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("GET /metrics = %d, missing %s", code, want)
		}
	}
}

// TestServeReplicasOnPostgres runs two replicas on one PostgreSQL database
// against one simulator. Every callback is lost, so both replicas' pollers
// race to resolve the same payments; then both replicas capture every
// payment with the same key at once. Each payment must be captured once.
func TestServeReplicasOnPostgres(t *testing.T) {
	dsn := servicetest.PostgresDSN(t)
	sim := vippstest.NewServer(t)
	if _, err := sim.Sim.InjectCallbackFault(vippstest.CallbackFault{Kind: vippstest.CallbackDrop}); err != nil {
		t.Fatal(err)
	}
	m := sim.Merchant
	common := []string{"-database", dsn, "-base-url", sim.URL, "-client-id", m.ClientID, "-client-secret", m.ClientSecret,
		"-subscription-key", m.SubscriptionKey, "-msn", string(m.MSN), "-api-key", "test-api-key-0123456789",
		"-admin-password", "test-admin-password", "-secret-key", strings.Repeat("s", 32)}
	a := startTestServe(t, append(common, "-replica-id", "a", "-public-url", "http://127.0.0.1:1")...)
	b := startTestServe(t, append(common, "-replica-id", "b", "-public-url", "http://127.0.0.1:1")...)
	ctx := context.Background()

	const n = 20
	var ids []vipps.OrderID
	for i := range n {
		app := a
		if i%2 == 1 {
			app = b
		}
		p, err := app.svc.Create(ctx, payment.CreateRequest{Amount: 1000, Text: "Replica"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.OrderID)
		if err := sim.Sim.Approve(p.OrderID, ""); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range ids {
		waitFor(t, string(id)+" reserved by polling", func() bool { return state(t, a, id) == payment.Reserved })
	}

	var wg sync.WaitGroup
	for _, id := range ids {
		for _, app := range []*serveApp{a, b} {
			wg.Go(func() {
				op, err := app.svc.Capture(ctx, id, payment.OpRequest{Key: "ship"})
				if err != nil || op.Status != payment.OpSucceeded {
					t.Errorf("capture %s: %v %v", id, op, err)
				}
			})
		}
	}
	wg.Wait()

	captures := map[vipps.OrderID]int{}
	details := map[vipps.OrderID][]time.Time{}
	for _, r := range sim.Sim.Requests() {
		for _, id := range ids {
			if strings.Contains(r.Path, "/"+string(id)+"/") {
				switch r.Op {
				case "capture":
					captures[id]++
				case "details":
					details[id] = append(details[id], r.Time)
				}
			}
		}
	}
	for _, id := range ids {
		// Both replicas may send the capture, with the same X-Request-Id:
		// Vipps applies it once.
		if sp, _ := sim.Sim.Payment(id); sp.Summary.CapturedAmount != 1000 {
			t.Errorf("%s: captured %d, want 1000", id, sp.Summary.CapturedAmount)
		}
		if captures[id] == 0 || captures[id] > 2 {
			t.Errorf("%s: %d capture requests, want 1 or 2 (one per replica at most)", id, captures[id])
		}
		// Leases: no two checks of one payment closer than the polling
		// interval, which two replicas polling it at once would make.
		ds := details[id]
		for i := 1; i < len(ds); i++ {
			if ds[i].Sub(ds[i-1]) < time.Second {
				t.Errorf("%s: details at %v and %v: checked twice at once", id, ds[i-1], ds[i])
			}
		}
		if len(ds) == 0 {
			t.Errorf("%s: never checked", id)
		}
	}
}
