package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vippskit/vipps/vippstest"
)

// simOutput is a buffer the command writes while the test reads it.
type simOutput struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *simOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *simOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

var simURL = regexp.MustCompile(`listening on (http://\S+)`)

func TestSimServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stdout, stderr simOutput
	getenv := func(k string) string { return map[string]string{"VIPPS_SIM_ADDR": "127.0.0.1:0"}[k] }
	e := &env{getenv: getenv, stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr}
	done := make(chan error, 1)
	go func() { done <- runSim(ctx, e, nil) }()

	var base string
	for deadline := time.Now().Add(5 * time.Second); base == ""; time.Sleep(5 * time.Millisecond) {
		if m := simURL.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("sim printed no URL: %q %q", stdout.String(), stderr.String())
		}
	}
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
	if !strings.Contains(stderr.String(), "path=/accessToken/get") {
		t.Errorf("request log %q lacks the token request", stderr.String())
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("runSim after cancel = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("runSim did not stop after cancel")
	}
	if _, err := http.Get(base + "/_sim/clock"); err == nil {
		t.Error("the server still answers after shutdown")
	}
}

func TestSimFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string // in the error
	}{
		{"help", []string{"-h"}, nil, flag.ErrHelp.Error()},
		{"extra argument", []string{"now"}, nil, "unexpected arguments"},
		{"bad lenient", nil, map[string]string{"VIPPS_SIM_LENIENT": "maybe"}, "VIPPS_SIM_LENIENT"},
		{"bad address", []string{"-addr", "127.0.0.1:http-alt-nope"}, nil, "sim:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &env{getenv: func(k string) string { return tt.env[k] }, stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard}
			err := runSim(t.Context(), e, tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("runSim(%q) = %v, want an error saying %q", tt.args, err, tt.want)
			}
			if tt.name == "help" && !errors.Is(err, flag.ErrHelp) {
				t.Errorf("runSim(-h) = %v, want flag.ErrHelp", err)
			}
		})
	}
}
