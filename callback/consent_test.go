package callback

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestConsentRemoval(t *testing.T) {
	m := newMerchant(t)
	_, srv := start(t, m.config())
	tests := []struct {
		name, path string
		want       string // the userId OnConsentRemoved gets
	}{
		{"encoded, from the spec", "/vipps/v2/consents/uiJskNQ6qNN1iwN891uuob%3D%3D", "uiJskNQ6qNN1iwN891uuob=="},
		{"not encoded", "/vipps/v2/consents/uiJskNQ6qNN1iwN891uuob==", "uiJskNQ6qNN1iwN891uuob=="},
		{"double slash", "/vipps//v2/consents/uiJskNQ6qNN1iwN891uuob%3D%3D", "uiJskNQ6qNN1iwN891uuob=="},
		{"encoded slash and plus", "/vipps/v2/consents/ab%2Fcd%2Bef%3D", "ab/cd+ef="},
		{"raw slash and plus", "/vipps/v2/consents/ab/cd+ef=", "ab/cd+ef="},
		{"uuid", "/vipps/v2/consents/6a8f5d1c-2b7e-4c3f-9a10-3d2e1f0a9b8c", "6a8f5d1c-2b7e-4c3f-9a10-3d2e1f0a9b8c"},
		{"digits", "/vipps/v2/consents/1234567", "1234567"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// No Authorization: Vipps sends none on consent removal.
			got := send(t, "DELETE", srv.URL+tt.path, "", "")
			if got.status != 200 {
				t.Fatalf("DELETE %s = %d %q, want 200", tt.path, got.status, got.body)
			}
			if id := receive(t, m.consents); id != tt.want {
				t.Errorf("OnConsentRemoved got %q, want %q", id, tt.want)
			}
		})
	}
	if n := m.lookups.Load(); n != 0 {
		t.Errorf("Lookup called %d times for consent removals, want 0", n)
	}
}

func TestConsentRemovalRefused(t *testing.T) {
	m := newMerchant(t)
	cfg := m.config()
	cfg.OnConsentRemoved = func(_ context.Context, userID string) error {
		if userID == "broken" {
			return errors.New("profile store down")
		}
		m.calls.Add(1)
		return nil
	}
	_, srv := start(t, cfg)
	tests := []struct {
		name, method, path string
		want               int
		body               string
	}{
		{"merchant fails", "DELETE", "/vipps/v2/consents/broken", 500, "internal error\n"},
		{"space", "DELETE", "/vipps/v2/consents/a%20b", 400, "contains a space or control character"},
		{"control character", "DELETE", "/vipps/v2/consents/a%00b", 400, "contains a space or control character"},
		{"not UTF-8", "DELETE", "/vipps/v2/consents/a%ffb", 400, "not UTF-8"},
		{"too long", "DELETE", "/vipps/v2/consents/" + strings.Repeat("a", 257), 400, "longer than 256"},
		{"POST", "POST", "/vipps/v2/consents/abc", 405, "wants DELETE"},
		{"GET", "GET", "/vipps/v2/consents/abc", 405, "wants DELETE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := send(t, tt.method, srv.URL+tt.path, "", "")
			if got.status != tt.want || !strings.Contains(got.body, tt.body) {
				t.Fatalf("%s %s = %d %q, want %d with %q", tt.method, tt.path, got.status, got.body, tt.want, tt.body)
			}
		})
	}
	if n := m.calls.Load(); n != 0 {
		t.Errorf("OnConsentRemoved succeeded %d times, want 0", n)
	}
	if !strings.Contains(m.logs.String(), `"user_id":"broken"`) {
		t.Errorf("the failure is not logged with user_id:\n%s", m.logs)
	}
}

func TestConsentPrefix(t *testing.T) {
	const secret = "/vipps/consent-Xq3vT9kL2mN8pR5s"
	m := newMerchant(t)
	cfg := m.config()
	cfg.ConsentPrefix = secret + "/"
	_, srv := start(t, cfg)
	tests := []struct {
		path string
		want int
	}{
		{secret + "/v2/consents/abc%3D", 200},
		{secret + "//v2/consents/abc%3D", 200},
		{"/vipps/v2/consents/abc%3D", 404},
		{"/vipps/consent-wrong/v2/consents/abc%3D", 404},
	}
	for _, tt := range tests {
		got := send(t, "DELETE", srv.URL+tt.path, "", "")
		if got.status != tt.want {
			t.Errorf("DELETE %s = %d %q, want %d", tt.path, got.status, got.body, tt.want)
		}
		if tt.want == 200 {
			if id := receive(t, m.consents); id != "abc=" {
				t.Errorf("OnConsentRemoved got %q, want abc=", id)
			}
		}
	}
	// Payments are still served under Prefix.
	got := send(t, "POST", srv.URL+"/vipps/v2/payments/"+string(testOrder), m.token(testOrder), testdata(t, "transaction-regular-reserved.json"))
	if got.status != 200 {
		t.Errorf("POST callback = %d %q, want 200", got.status, got.body)
	}
}

func TestConsentRemovalNotServed(t *testing.T) {
	m := newMerchant(t)
	cfg := m.config()
	cfg.OnConsentRemoved = nil
	_, srv := start(t, cfg)
	if got := send(t, "DELETE", srv.URL+"/vipps/v2/consents/abc", "", ""); got.status != 404 {
		t.Errorf("DELETE without OnConsentRemoved = %d %q, want 404", got.status, got.body)
	}
}
