package vipps

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a settable clock for token expiry.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestTokenRefreshedAheadOfExpiry(t *testing.T) {
	var fetches atomic.Int32
	var failFetch atomic.Bool
	var auths []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/accesstoken/get" {
			if failFetch.Load() {
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			n := fetches.Add(1)
			fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":"3600","ext_expires_in":"0","expires_on":"0","not_before":"0","resource":"r","access_token":"tok-%d"}`, n)
			return
		}
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
		io.WriteString(w, `{"orderId":"o-1","transactionLogHistory":[]}`)
	}))
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL, ClientID: "a", ClientSecret: "b", SubscriptionKey: "c", MerchantSerialNumber: "123456",
		Retry: RetryPolicy{MaxAttempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	c.now = clock.now
	ctx := t.Context()
	details := func() {
		t.Helper()
		if _, err := c.Details(ctx, "o-1"); err != nil {
			t.Fatal(err)
		}
	}
	details() // fetches tok-1, valid for an hour, refreshed after 55 min
	clock.add(54 * time.Minute)
	details() // still tok-1
	clock.add(2 * time.Minute)
	failFetch.Store(true)
	details() // inside the margin: refresh fails, tok-1 is still valid and used
	failFetch.Store(false)
	details() // refresh succeeds: tok-2
	clock.add(61 * time.Minute)
	failFetch.Store(true)
	if _, err := c.Details(ctx, "o-1"); err == nil {
		t.Error("Details() with an expired token and a failing token endpoint succeeded")
	}
	want := []string{"Bearer tok-1", "Bearer tok-1", "Bearer tok-1", "Bearer tok-2"}
	if fmt.Sprint(auths) != fmt.Sprint(want) {
		t.Errorf("Authorization per call = %v, want %v", auths, want)
	}
}

func TestRefreshMargin(t *testing.T) {
	for _, tt := range []struct{ life, want time.Duration }{
		{time.Hour, 5 * time.Minute},
		{24 * time.Hour, 5 * time.Minute},
		{10 * time.Minute, time.Minute},
		{time.Minute, 6 * time.Second},
	} {
		if got := refreshMargin(tt.life); got != tt.want {
			t.Errorf("refreshMargin(%v) = %v, want %v", tt.life, got, tt.want)
		}
	}
}
