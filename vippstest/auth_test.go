package vippstest_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/vippstest"
)

func TestAccessToken(t *testing.T) {
	for _, path := range []string{"/accesstoken/get", "/accessToken/get", "/AccessToken/Get"} {
		t.Run(path, func(t *testing.T) {
			srv := newServer(t)
			r := &raw{t: t, srv: srv, m: srv.Merchant}
			status, body := r.do("POST", path, "", "Authorization", "", "client_id", "sim-client-id", "client_secret", "sim-client-secret")
			if status != http.StatusOK {
				t.Fatalf("POST %s = %d %s", path, status, body)
			}
			var fields map[string]any
			if err := json.Unmarshal(body, &fields); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{
				"token_type":     "Bearer",
				"expires_in":     "3600",
				"ext_expires_in": "3600",
				"expires_on":     "1772449200", // start + 1 h
				"not_before":     "1772445600", // start
				"resource":       "00000002-0000-0000-c000-000000000000",
			}
			tok, _ := fields["access_token"].(string)
			delete(fields, "access_token")
			if diff := cmp.Diff(want, fields); diff != "" {
				t.Errorf("token fields (-want +got):\n%s", diff)
			}
			if strings.Count(tok, ".") != 2 || strings.Contains(tok, "=") {
				t.Errorf("access_token = %q, want a JWT-shaped token", tok)
			}
		})
	}
}

func TestAccessTokenRefused(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		status  int
		message string // in the body
	}{
		{"no subscription key", []string{"Ocp-Apim-Subscription-Key", ""}, 401, `"statusCode":401,"message":"Access denied due to missing subscription key.`},
		{"unknown subscription key", []string{"Ocp-Apim-Subscription-Key", "nope"}, 401, `"message":"Access denied due to invalid subscription key.`},
		{"wrong client id", []string{"client_id", "nope"}, 401, `"responseInfo":{"responseCode":401,"responseMessage":"Unauthorized"}`},
		{"wrong client secret", []string{"client_secret", "nope"}, 401, `"responseMessage":"Unauthorized"`},
		{"another merchant's secret", []string{"client_secret", "direct-secret"}, 401, `"responseMessage":"Unauthorized"`},
		{"no client secret", []string{"client_secret", ""}, 401, `"responseMessage":"Unauthorized"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, merchants(vippstest.DefaultMerchant(), directMerchant))
			r := &raw{t: t, srv: srv, m: srv.Merchant}
			h := append([]string{"Authorization", "", "client_id", "sim-client-id", "client_secret", "sim-client-secret"}, tt.headers...)
			status, body := r.do("POST", "/accesstoken/get", "", h...)
			if status != tt.status || !strings.Contains(string(body), tt.message) {
				t.Errorf("POST /accesstoken/get = %d %s, want %d with %s", status, body, tt.status, tt.message)
			}
		})
	}

	t.Run("through the client", func(t *testing.T) {
		srv := newServer(t)
		m := srv.Merchant
		m.ClientSecret = "wrong"
		_, err := srv.NewClient(m).Details(t.Context(), "any-order")
		if e, ok := errors.AsType[*vipps.Error](err); !ok || !e.Unauthorized() {
			t.Errorf("Details with a wrong secret = %v, want Unauthorized", err)
		}
	})
}

func TestBearerRefused(t *testing.T) {
	tests := []struct {
		name    string
		headers func(r, other *raw) []string
		message string
	}{
		{"no Authorization", func(r, o *raw) []string { return []string{"Authorization", ""} }, "Bearer <access token>"},
		{"lowercase bearer", func(r, o *raw) []string { return []string{"Authorization", "bearer " + r.token} }, "Bearer <access token>"},
		{"token without Bearer", func(r, o *raw) []string { return []string{"Authorization", r.token} }, "Bearer <access token>"},
		{"unknown token", func(r, o *raw) []string { return []string{"Authorization", "Bearer eyJ.nope.nope"} }, "not valid"},
		{"another merchant's token", func(r, o *raw) []string { return []string{"Authorization", "Bearer " + o.token} }, "another subscription key"},
		{"no subscription key", func(r, o *raw) []string { return []string{"Ocp-Apim-Subscription-Key", ""} }, "missing subscription key"},
		{"wrong subscription key", func(r, o *raw) []string { return []string{"Ocp-Apim-Subscription-Key", "nope"} }, "invalid subscription key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, merchants(vippstest.DefaultMerchant(), directMerchant))
			r, other := newRaw(t, srv), newRawFor(t, srv, directMerchant)
			reserve(t, srv.Client, "auth-1", 20000)
			status, body := r.do("GET", "/ecomm/v2/payments/auth-1/details", "", tt.headers(r, other)...)
			if status != http.StatusUnauthorized || !strings.Contains(string(body), tt.message) {
				t.Errorf("details = %d %s, want 401 saying %q", status, body, tt.message)
			}
			var obj map[string]any
			if json.Unmarshal(body, &obj) != nil {
				t.Errorf("401 body %s is not an object", body)
			}
		})
	}

	t.Run("expired token", func(t *testing.T) {
		srv := newServer(t)
		r := newRaw(t, srv)
		srv.Sim.Advance(time.Hour)
		status, body := r.do("GET", "/ecomm/v2/payments/auth-1/details", "")
		if status != http.StatusUnauthorized || !strings.Contains(string(body), "expired") {
			t.Errorf("details with an expired token = %d %s, want 401", status, body)
		}
		// The client gets a new token by itself.
		initiate(t, srv.Client, regular("after-expiry", 20000))
	})

	t.Run("short token lifetime", func(t *testing.T) {
		srv := newServer(t, func(c *vippstest.Config) { c.TokenLifetime = time.Minute })
		r := newRaw(t, srv)
		srv.Sim.Advance(time.Minute)
		if status, _ := r.do("GET", "/ecomm/v2/payments/auth-1/details", ""); status != http.StatusUnauthorized {
			t.Errorf("details after the token's minute = %d, want 401", status)
		}
	})
}
