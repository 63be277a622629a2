package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vippskit/vipps/internal/servicetest"
	"github.com/vippskit/vipps/vippstest"
)

// againstSim are the flags of a service that talks to the simulator srv
// as to Vipps (-base-url set), on a SQLite file of its own.
func againstSim(t *testing.T, srv *vippstest.Server) []string {
	m := srv.Merchant
	return []string{"-database", filepath.Join(t.TempDir(), "vipps.db"), "-base-url", srv.URL, "-client-id", m.ClientID,
		"-client-secret", m.ClientSecret, "-subscription-key", m.SubscriptionKey, "-msn", string(m.MSN),
		"-api-key", "test-api-key-0123456789", "-admin-password", "test-admin-password",
		"-secret-key", strings.Repeat("s", 32), "-public-url", "https://pay.example.no"}
}

// roundTrip sends a GET /healthz on c and reads the answer.
func roundTrip(c net.Conn, deadline time.Duration) (*http.Response, error) {
	c.SetDeadline(time.Now().Add(deadline))
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: vipps\r\n\r\n"); err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, nil
}

func dial(t *testing.T, app *serveApp) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(app.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestServeMaxConns: with -max-conns 2, two idle keep-alive connections
// hold the server's slots; a third connection waits until one closes.
func TestServeMaxConns(t *testing.T) {
	app := startTestServe(t, "-database", filepath.Join(t.TempDir(), "vipps.db"), "-max-conns", "2")
	var held []net.Conn
	for range 2 {
		c := dial(t, app)
		if resp, err := roundTrip(c, 10*time.Second); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /healthz on connection %d = %v, %v", len(held)+1, resp, err)
		}
		held = append(held, c)
	}
	extra := dial(t, app) // the kernel accepts it; the server does not yet
	if _, err := roundTrip(extra, 300*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("GET /healthz on a third connection = %v, want it to wait (deadline exceeded)", err)
	}
	held[0].Close()
	// The request sent already is served once a slot frees.
	extra.SetDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(extra), nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("after a connection closed, the third = %v, %v, want 200", resp, err)
	}
	resp.Body.Close()
}

// TestServeIdleTimeout: an idle keep-alive connection is closed after the
// idle timeout.
func TestServeIdleTimeout(t *testing.T) {
	app := startTestServeWith(t, func(f *serveFlags) { f.http.idle = 100 * time.Millisecond }, slog.New(slog.DiscardHandler),
		"-database", filepath.Join(t.TempDir(), "vipps.db"))
	c := dial(t, app)
	if resp, err := roundTrip(c, 10*time.Second); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz = %v, %v", resp, err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if n, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read on an idle connection = %d, %v, want EOF (closed by the server)", n, err)
	}
}

// TestServeHTTPTimeouts: every timeout of the server is set, and writes
// outlast the longest wait of the API: an operation's turn (OpWait, 10 s)
// and then its call to Vipps (CallTimeout, 20 s).
func TestServeHTTPTimeouts(t *testing.T) {
	app := startTestServe(t, "-database", filepath.Join(t.TempDir(), "vipps.db"))
	s := app.srv
	if s.ReadHeaderTimeout <= 0 || s.ReadTimeout <= 0 || s.IdleTimeout <= 0 {
		t.Errorf("timeouts: read header %v, read %v, idle %v; want all set", s.ReadHeaderTimeout, s.ReadTimeout, s.IdleTimeout)
	}
	if s.WriteTimeout < 10*time.Second+20*time.Second {
		t.Errorf("WriteTimeout = %v, want at least 30s", s.WriteTimeout)
	}
}

// TestServeMetricsAddr: against Vipps /metrics is not at -addr unless
// -metrics-addr names it; -metrics-addr serves it on a server of its own
// that stops with the rest.
func TestServeMetricsAddr(t *testing.T) {
	sim := vippstest.NewServer(t)
	plain := startTestServe(t, againstSim(t, sim)...)
	if code, _ := get(t, plain.url+"/metrics"); code != http.StatusNotFound {
		t.Errorf("against Vipps, GET /metrics at -addr = %d, want 404", code)
	}

	app := startTestServe(t, append(againstSim(t, sim), "-metrics-addr", "127.0.0.1:0")...)
	if code, _ := get(t, app.url+"/metrics"); code != http.StatusNotFound {
		t.Errorf("with -metrics-addr, GET /metrics at -addr = %d, want 404", code)
	}
	if app.metricsURL == "" {
		t.Fatal("with -metrics-addr, no metrics URL")
	}
	if code, body := get(t, app.metricsURL); code != http.StatusOK || !strings.Contains(body, "vippskit_payments") {
		t.Errorf("GET %s = %d, want 200 with vippskit_payments", app.metricsURL, code)
	}
	if code, _ := get(t, strings.TrimSuffix(app.metricsURL, "/metrics")+"/healthz"); code != http.StatusNotFound {
		t.Errorf("the metrics address serves /healthz (%d): want /metrics only", code)
	}
	if err := app.close(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(app.metricsURL); err == nil {
		t.Error("the metrics address still answers after shutdown")
	}

	// With the simulator, the metrics stay at -addr, as before.
	demo := startTestServe(t, "-database", filepath.Join(t.TempDir(), "vipps.db"))
	if code, _ := get(t, demo.url+"/metrics"); code != http.StatusOK {
		t.Errorf("with the simulator, GET /metrics at -addr = %d, want 200", code)
	}
}

// TestServeSecretKey: the generated secret key is 32 characters or more;
// a secrets file written before, with a 26-character key, keeps its key in
// use (return links already sent stay valid) and is written back doubled.
func TestServeSecretKey(t *testing.T) {
	dir := t.TempDir()
	fresh := &serveFlags{secretsFile: filepath.Join(dir, "new.db.secrets")}
	if err := fresh.fillDemoSecrets(); err != nil {
		t.Fatal(err)
	}
	var s demoSecrets
	readJSON(t, fresh.secretsFile, &s)
	if len(s.SecretKey) < minSecretKey || fresh.secret != s.SecretKey {
		t.Errorf("generated secret key %q (%d characters), in use %q; want %d or more, the same", s.SecretKey, len(s.SecretKey), fresh.secret, minSecretKey)
	}

	old := demoSecrets{APIKey: "OLDAPIKEY0123456789ABCDEFG", AdminPassword: "OLDADMINPW0123456789ABCDEF", SecretKey: "OLDSECRETKEY0123456789ABCD"}
	b, err := json.Marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	oldFile := filepath.Join(dir, "old.db.secrets")
	if err := os.WriteFile(oldFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	f := &serveFlags{secretsFile: oldFile}
	if err := f.fillDemoSecrets(); err != nil {
		t.Fatal(err)
	}
	if want := old.SecretKey + old.SecretKey; f.secret != want || f.apiKey != old.APIKey {
		t.Errorf("from a 26-character file: secret %q, API key %q; want %q (as before), %q", f.secret, f.apiKey, want, old.APIKey)
	}
	readJSON(t, oldFile, &s)
	if s.SecretKey != f.secret {
		t.Errorf("the file now holds %q, want the key in use %q", s.SecretKey, f.secret)
	}
	if fi, err := os.Stat(oldFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("old secrets file: %v %v, want mode 0600", fi.Mode(), err)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// TestServePublicURLWarning: with the simulator, a -public-url it will
// refuse as callbackPrefix is warned about once, at start.
func TestServePublicURLWarning(t *testing.T) {
	for _, tt := range []struct {
		public string
		warns  int
	}{
		{"http://192.0.2.10:8080", 1},
		{"http://shop.example", 1},
		{"http://127.0.0.1:9", 0},
		{"http://localhost:9", 0},
		{"https://pay.example.no", 0},
	} {
		t.Run(tt.public, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
			startTestServeWith(t, nil, log, "-database", filepath.Join(t.TempDir(), "vipps.db"), "-public-url", tt.public)
			if got := strings.Count(buf.String(), "the simulator will refuse every payment"); got != tt.warns {
				t.Errorf("-public-url %s: %d warnings, want %d; log:\n%s", tt.public, got, tt.warns, buf.String())
			}
		})
	}
}

// TestServeSimControlFromLoopbackOnly: the in-process simulator's control
// API answers loopback clients only.
func TestServeSimControlFromLoopbackOnly(t *testing.T) {
	app := startTestServe(t, "-database", filepath.Join(t.TempDir(), "vipps.db"))
	r := httptest.NewRequest("GET", "/_sim/callbacks", nil) // from 192.0.2.1
	w := httptest.NewRecorder()
	app.sim.ServeHTTP(w, r)
	if w.Code != http.StatusForbidden {
		t.Errorf("GET /_sim/callbacks from %s = %d, want 403", r.RemoteAddr, w.Code)
	}
}

// TestServePostgresStartErrors: a PostgreSQL URL with a wrong database or
// user fails the start with one line naming the host, database and cause,
// and never the password.
func TestServePostgresStartErrors(t *testing.T) {
	dsn := servicetest.PostgresDSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	wrongDB := *u
	wrongDB.User = url.UserPassword(u.User.Username(), "hunter2")
	wrongDB.Path = "/vipps_no_such_db"
	wrongUser := *u
	wrongUser.User = url.UserPassword("vipps_no_such_user", "hunter2")
	for _, tt := range []struct {
		name, dsn, want string
	}{
		{"database", wrongDB.String(), `database "vipps_no_such_db", as "` + u.User.Username() + `": the database "vipps_no_such_db" does not exist: create it`},
		{"user", wrongUser.String(), `as "vipps_no_such_user": role "vipps_no_such_user" does not exist: check the user`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := &env{getenv: func(string) string { return "" }, stdout: io.Discard, stderr: io.Discard}
			f, err := parseServeFlags(e, []string{"-addr", "127.0.0.1:0", "-database", tt.dsn})
			if err != nil {
				t.Fatal(err)
			}
			app, err := startServe(t.Context(), f, slog.New(slog.DiscardHandler))
			if err == nil {
				app.close()
				t.Fatal("start = nil, want an error")
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) || !strings.Contains(msg, "connect to "+u.Host) || strings.Contains(msg, "\n") || strings.Contains(msg, "hunter2") {
				t.Errorf("start = %q, want one line with %q and the host %s, without the password", msg, tt.want, u.Host)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"vipps.db", "vipps.db"},
		{"/var/lib/vipps/vipps.db", "/var/lib/vipps/vipps.db"},
		{"", ""},
		{"postgres://shop:hunter2@db:5432/shop", "postgres://shop:xxxxx@db:5432/shop"},
		{"postgres://shop@db/shop?sslmode=disable", "postgres://shop@db/shop?sslmode=disable"},
		{"postgresql://db/shop?password=hunter2&sslmode=require", "postgresql://db/shop?password=xxxxx&sslmode=require"},
		{"host=db user=shop password=hunter2 dbname=shop", "host=db user=shop password=xxxxx dbname=shop"},
		{"host=db password='hunter 2' dbname=shop", "host=db password=xxxxx dbname=shop"},
		{"https://shop.example/hooks", "https://shop.example/hooks"},
		{"https://hook:hunter2@shop.example/hooks", "https://hook:xxxxx@shop.example/hooks"},
		{"https://hunter2@shop.example/hooks", "https://xxxxx@shop.example/hooks"},
		{"https://shop.example/hooks?token=hunter2&sig=hunter2", "https://shop.example/hooks?sig=xxxxx&token=xxxxx"},
		{"https://shop.example/hooks#hunter2", "https://shop.example/hooks#xxxxx"},
		{"postgres://shop:hunter2@db:bad/shop", "postgres:[unparsable URL, redacted]"},
	} {
		if got := redact(tt.in); got != tt.want {
			t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
