package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/servicetest"
	"github.com/vippskit/vipps/vippstest"
)

var simURL = regexp.MustCompile(`listening on (http://\S+)`)

func TestSimServesUntilCancelled(t *testing.T) {
	base, stdout, stderr, stop := startSim(t, nil)
	m := vippstest.DefaultMerchant()
	for _, want := range []string{"VIPPS_BASE_URL=" + base, "VIPPS_MSN=" + string(m.MSN), "VIPPS_CLIENT_ID=" + m.ClientID,
		"VIPPS_CLIENT_SECRET=" + m.ClientSecret, "VIPPS_SUBSCRIPTION_KEY=" + m.SubscriptionKey} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("sim output %q lacks %q", stdout.String(), want)
		}
	}

	req, _ := http.NewRequestWithContext(t.Context(), "POST", base+"/accessToken/get", nil)
	req.Header.Set("client_id", m.ClientID)
	req.Header.Set("client_secret", m.ClientSecret)
	req.Header.Set("Ocp-Apim-Subscription-Key", m.SubscriptionKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok map[string]any
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if resp.StatusCode != 200 || tok["expires_in"] != "3600" {
		t.Errorf("access token = %d %v", resp.StatusCode, tok)
	}
	// A request is logged after its answer, by the log's own writer.
	waitFor(t, "the token request in the request log", func() bool { return strings.Contains(stderr.String(), "path=/accessToken/get") })

	if err := stop(); err != nil {
		t.Fatalf("runSim after cancel = %v, want nil", err)
	}
	if _, err := http.Get(base + "/_sim/clock"); err == nil {
		t.Error("the server still answers after shutdown")
	}
}

func TestSimFlags(t *testing.T) {
	dir := t.TempDir()
	badMerchants := filepath.Join(dir, "merchants.json")
	if err := os.WriteFile(badMerchants, []byte("[\n  {\"msn\": \"123456\", \"clientId\": \"a\"}\n]"), 0o600); err != nil {
		t.Fatal(err)
	}
	corrupt := filepath.Join(dir, "sim.json")
	if err := os.WriteFile(corrupt, []byte(`{"format": "vippstest-snapshot", "version": 1, `), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string // in the error
		exit int
	}{
		{"help", []string{"-h"}, nil, flag.ErrHelp.Error(), 0},
		{"extra argument", []string{"now"}, nil, "unexpected arguments", 2},
		{"bad lenient", nil, map[string]string{"VIPPS_SIM_LENIENT": "maybe"}, "invalid VIPPS_SIM_LENIENT for -lenient", 2},
		{"bad address", []string{"-addr", "127.0.0.1:http-alt-nope"}, nil, "sim:", 1},
		{"bad log format", []string{"-log-format", "yaml"}, nil, `-log-format "yaml" must be text or json`, 2},
		{"bad log format env", nil, map[string]string{"VIPPS_SIM_LOG_FORMAT": "xml"}, `-log-format "xml" must be text or json`, 2},
		{"short token lifetime", []string{"-token-lifetime", "10ms"}, nil, "-token-lifetime 10ms must be at least a second", 2},
		{"bad token lifetime env", nil, map[string]string{"VIPPS_SIM_TOKEN_LIFETIME": "forever"}, "invalid VIPPS_SIM_TOKEN_LIFETIME for -token-lifetime", 2},
		{"bad shutdown timeout env", nil, map[string]string{"VIPPS_SIM_SHUTDOWN_TIMEOUT": "soon"}, "invalid VIPPS_SIM_SHUTDOWN_TIMEOUT", 2},
		{"missing merchants file", []string{"-merchants", filepath.Join(dir, "nope.json")}, nil, filepath.Join(dir, "nope.json"), 1},
		{"bad merchants file", nil, map[string]string{"VIPPS_SIM_MERCHANTS": badMerchants}, badMerchants + ":2: [0].clientSecret is required", 1},
		{"corrupt snapshot", []string{"-snapshot", corrupt}, nil, "snapshot " + corrupt + ": corrupt", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]string{"VIPPS_SIM_ADDR": "127.0.0.1:0"}
			maps.Copy(vars, tt.env)
			e := &env{getenv: func(k string) string { return vars[k] }, stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard}
			err := runSim(t.Context(), e, tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("runSim(%q) = %v, want an error saying %q", tt.args, err, tt.want)
			}
			if got := exitCode(err); got != tt.exit {
				t.Errorf("exitCode(runSim(%q)) = %d, want %d", tt.args, got, tt.exit)
			}
			if tt.name == "help" && !errors.Is(err, flag.ErrHelp) {
				t.Errorf("runSim(-h) = %v, want flag.ErrHelp", err)
			}
		})
	}
	if b, _ := os.ReadFile(corrupt); !strings.HasSuffix(string(b), `"version": 1, `) {
		t.Errorf("the corrupt snapshot was changed: %q", b)
	}
}

// startSim runs the sim command until the returned stop is called, and
// returns its base URL and output.
func startSim(t *testing.T, vars map[string]string, args ...string) (base string, stdout, stderr *servicetest.Logs, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	stdout, stderr = &servicetest.Logs{}, &servicetest.Logs{}
	getenv := func(k string) string {
		if k == "VIPPS_SIM_ADDR" {
			return "127.0.0.1:0"
		}
		return vars[k]
	}
	e := &env{getenv: getenv, stdin: strings.NewReader(""), stdout: stdout, stderr: stderr}
	done := make(chan error, 1)
	go func() { done <- runSim(ctx, e, args) }()
	stopped := false
	stop = func() error {
		t.Helper()
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("runSim did not stop after cancel")
			return nil
		}
	}
	t.Cleanup(func() { stop() })
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if m := simURL.FindStringSubmatch(stdout.String()); m != nil && strings.Contains(stdout.String(), "Snapshot:") {
			return m[1], stdout, stderr, stop
		}
		select {
		case err := <-done:
			t.Fatalf("runSim stopped: %v\n%s%s", err, stdout, stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("sim printed no URL: %q %q", stdout.String(), stderr.String())
		}
	}
}

// TestSimSnapshotAndMerchants runs the command with a merchants file and a
// snapshot, stops it, and starts it again from the snapshot.
func TestSimSnapshotAndMerchants(t *testing.T) {
	dir := t.TempDir()
	merchantsFile := filepath.Join(dir, "merchants.json")
	shop := vippstest.Merchant{MSN: "654321", ClientID: "shop-id", ClientSecret: "shop-secret", SubscriptionKey: "shop-key", Name: "Sokker AS", DirectCapture: true}
	other := vippstest.Merchant{MSN: "112233", ClientID: "other-id", ClientSecret: "other-secret", SubscriptionKey: "other-key", Name: "Other"}
	const merchantsJSON = `[
  {"msn": "654321", "clientId": "shop-id", "clientSecret": "shop-secret", "subscriptionKey": "shop-key", "name": "Sokker AS", "directCapture": true},
  {"msn": "112233", "clientId": "other-id", "clientSecret": "other-secret", "subscriptionKey": "other-key", "name": "Other"}
]`
	if err := os.WriteFile(merchantsFile, []byte(merchantsJSON), 0o600); err != nil {
		t.Fatal(err)
	}
	snapshot := filepath.Join(dir, "state", "sim.json")
	if err := os.Mkdir(filepath.Dir(snapshot), 0o700); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"VIPPS_SIM_MERCHANTS": merchantsFile, "VIPPS_SIM_TOKEN_LIFETIME": "2h"}

	base, stdout, stderr, stop := startSim(t, vars, "-snapshot", snapshot, "-log-format", "json")
	out := stdout.String()
	for _, want := range []string{
		"Sokker AS (MSN 654321; direct capture):", "Other (MSN 112233):",
		"VIPPS_MSN=654321", "VIPPS_CLIENT_ID=shop-id", "VIPPS_CLIENT_SECRET=shop-secret", "VIPPS_SUBSCRIPTION_KEY=shop-key",
		"VIPPS_MSN=112233", "VIPPS_CLIENT_ID=other-id", "VIPPS_CLIENT_SECRET=other-secret", "VIPPS_SUBSCRIPTION_KEY=other-key",
		"Metrics:     " + base + "/metrics", "Snapshot:    " + snapshot + " (0 payments)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("sim output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "VIPPS_MSN=123456") {
		t.Errorf("the merchants file should replace the default merchant:\n%s", out)
	}

	client := func(m vippstest.Merchant) *vipps.Client {
		c, err := vipps.New(vipps.Config{BaseURL: base, ClientID: m.ClientID, ClientSecret: vipps.Secret(m.ClientSecret),
			SubscriptionKey: vipps.Secret(m.SubscriptionKey), MerchantSerialNumber: m.MSN})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := client(shop)
	tok, err := c.AccessToken(t.Context())
	if err != nil || tok.ExpiresIn != 2*time.Hour {
		t.Fatalf("AccessToken = %+v, %v; want one that lives 2h", tok, err)
	}
	req := vipps.InitiateRequest{
		MerchantInfo: vipps.MerchantInfo{CallbackPrefix: "https://shop.example/vipps", FallBack: "https://shop.example/return"},
		Transaction:  vipps.InitiateTransaction{OrderID: "sokker-1", Amount: 24900, TransactionText: "Sokker"},
	}
	if _, err := c.Initiate(t.Context(), req); err != nil {
		t.Fatalf("Initiate = %v", err)
	}
	waitFor(t, "the initiate in the JSON request log", func() bool { return strings.Contains(stderr.String(), `"path":"/ecomm/v2/payments"`) })
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), `vippstest_payments{msn="654321",status="INITIATE"} 1`) {
		t.Errorf("/metrics lacks the payment:\n%s", metrics)
	}
	if err := stop(); err != nil {
		t.Fatalf("runSim after cancel = %v, want nil", err)
	}
	if !strings.Contains(stderr.String(), `"msg":"snapshot saved"`) {
		t.Errorf("the log does not say the snapshot was saved: %s", stderr)
	}

	// Again, from the snapshot: the payment is there, the old token works.
	base, stdout, _, stop = startSim(t, vars, "-snapshot", snapshot)
	if want := "Snapshot:    " + snapshot + " (1 payments)"; !strings.Contains(stdout.String(), want) {
		t.Errorf("sim output after a restart lacks %q:\n%s", want, stdout)
	}
	r, _ := http.NewRequestWithContext(t.Context(), "GET", base+"/ecomm/v2/payments/sokker-1/details", nil)
	r.Header.Set("Authorization", "Bearer "+tok.AccessToken.Reveal())
	r.Header.Set("Ocp-Apim-Subscription-Key", shop.SubscriptionKey)
	resp, err = http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"orderId":"sokker-1"`) {
		t.Errorf("details after a restart with the old token = %d %s", resp.StatusCode, body)
	}
	if _, err := client(other).AccessToken(t.Context()); err != nil {
		t.Errorf("AccessToken for the second merchant = %v", err)
	}
	if err := stop(); err != nil {
		t.Fatalf("runSim after cancel = %v, want nil", err)
	}

	// Without the merchants file the snapshot names an unknown merchant.
	e := &env{getenv: func(k string) string { return map[string]string{"VIPPS_SIM_ADDR": "127.0.0.1:0"}[k] }, stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard}
	err = runSim(t.Context(), e, []string{"-snapshot", snapshot})
	if err == nil || !strings.Contains(err.Error(), "MSN 654321 is not a configured merchant") {
		t.Errorf("runSim with the default merchant and the snapshot = %v, want an error about MSN 654321", err)
	}
}

// TestSimControlFromLoopbackOnly: vipps sim keeps its control API to
// loopback clients unless -control-remote.
func TestSimControlFromLoopbackOnly(t *testing.T) {
	e := &env{getenv: func(string) string { return "" }, stdout: io.Discard, stderr: io.Discard}
	for _, tt := range []struct {
		args []string
		want int
	}{
		{nil, http.StatusForbidden},
		{[]string{"-control-remote"}, http.StatusOK},
	} {
		f, err := parseSimFlags(e, tt.args)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := f.config(nil)
		if err != nil {
			t.Fatal(err)
		}
		sim, err := vippstest.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sim.Close() })
		r := httptest.NewRequest("GET", "/_sim/callbacks", nil) // from 192.0.2.1
		w := httptest.NewRecorder()
		sim.ServeHTTP(w, r)
		if w.Code != tt.want {
			t.Errorf("vipps sim %v: GET /_sim/callbacks from %s = %d, want %d", tt.args, r.RemoteAddr, w.Code, tt.want)
		}
	}
}
