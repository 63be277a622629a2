package vippstest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/vippstest"
)

// noRetry makes a client give up after its first attempt, so that a 429
// comes back at once instead of after Retry-After.
func noRetry(c *vipps.Config) { c.Retry.MaxAttempts = 1 }

// rateLimited checks that err is the simulator's 429 with this Retry-After.
func rateLimited(t *testing.T, what string, err error, retryAfter time.Duration) {
	t.Helper()
	e, ok := errors.AsType[*vipps.Error](err)
	if !ok || !e.RateLimited() {
		t.Fatalf("%s = %v, want HTTP 429", what, err)
	}
	if e.RetryAfter != retryAfter || e.Group != vipps.GroupGateway || e.Code != "429" {
		t.Errorf("%s = %v (Retry-After %v), want the gateway's 429 with Retry-After %v", what, err, e.RetryAfter, retryAfter)
	}
}

// notRateLimited checks that err is not a 429 (it may be another refusal).
func notRateLimited(t *testing.T, what string, err error) {
	t.Helper()
	if e, ok := errors.AsType[*vipps.Error](err); ok && e.RateLimited() {
		t.Fatalf("%s = %v, want no 429", what, err)
	}
}

// rateCase is one rate-limited endpoint: setup prepares the order, call
// makes the i-th request.
type rateCase struct {
	name  string
	limit int
	setup func(t *testing.T, srv *vippstest.Server, id vipps.OrderID)
	call  func(ctx context.Context, c *vipps.Client, id vipps.OrderID, i int) error
}

func rateCases() []rateCase {
	reserved := func(t *testing.T, srv *vippstest.Server, id vipps.OrderID) { reserve(t, srv.Client, id, 20000) }
	captured := func(t *testing.T, srv *vippstest.Server, id vipps.OrderID) {
		reserve(t, srv.Client, id, 20000)
		capture(t, srv.Client, id, 0)
	}
	part := func(i int) vipps.CaptureRequest {
		return vipps.CaptureRequest{Amount: 100, TransactionText: "part", RequestID: fmt.Sprintf("part-%d", i)}
	}
	return []rateCase{
		// The second initiate of an orderId is refused (Merchant 34), but
		// it counts.
		{"initiate", 2, func(*testing.T, *vippstest.Server, vipps.OrderID) {}, func(ctx context.Context, c *vipps.Client, id vipps.OrderID, i int) error {
			_, err := c.Initiate(ctx, regular(id, 20000))
			return err
		}},
		{"capture", 5, reserved, func(ctx context.Context, c *vipps.Client, id vipps.OrderID, i int) error {
			_, err := c.Capture(ctx, id, part(i))
			return err
		}},
		// Only the first cancel works (VOID); the rest are refused
		// (VippsError 92) and count.
		{"cancel", 5, reserved, func(ctx context.Context, c *vipps.Client, id vipps.OrderID, i int) error {
			_, err := c.Cancel(ctx, id, vipps.CancelRequest{TransactionText: "sold out"})
			return err
		}},
		{"refund", 5, captured, func(ctx context.Context, c *vipps.Client, id vipps.OrderID, i int) error {
			_, err := c.Refund(ctx, id, part(i))
			return err
		}},
		{"details", 120, reserved, func(ctx context.Context, c *vipps.Client, id vipps.OrderID, i int) error {
			_, err := c.Details(ctx, id)
			return err
		}},
		{"status", 120, reserved, func(ctx context.Context, c *vipps.Client, id vipps.OrderID, i int) error {
			//lint:ignore SA1019 the simulator serves the deprecated status endpoint, so its tests call it
			_, err := c.Status(ctx, id)
			return err
		}},
	}
}

func TestRateLimits(t *testing.T) {
	for _, tt := range rateCases() {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			c := srv.NewClient(srv.Merchant, noRetry)
			const id = "limited-1"
			tt.setup(t, srv, id)
			srv.Sim.ResetRateLimits() // the set-up's requests do not count
			ctx := t.Context()
			for i := range tt.limit {
				notRateLimited(t, fmt.Sprintf("%s #%d", tt.name, i+1), tt.call(ctx, c, id, i))
			}
			rateLimited(t, fmt.Sprintf("%s #%d", tt.name, tt.limit+1), tt.call(ctx, c, id, tt.limit), time.Minute)

			// Other orders, other endpoints and other merchants have their
			// own counters.
			if tt.name != "initiate" {
				_, err := c.Initiate(ctx, regular("limited-other", 20000))
				notRateLimited(t, "initiate of another order", err)
				notRateLimited(t, tt.name+" of another order", tt.call(ctx, c, "limited-other", 0))
			}
			_, err := c.Details(ctx, id)
			if tt.name != "details" {
				notRateLimited(t, "details of the limited order", err)
			}

			srv.Sim.Advance(59 * time.Second)
			rateLimited(t, fmt.Sprintf("%s a second before the window ends", tt.name), tt.call(ctx, c, id, tt.limit+1), time.Second)
			srv.Sim.Advance(time.Second)
			notRateLimited(t, fmt.Sprintf("%s after a minute", tt.name), tt.call(ctx, c, id, tt.limit+2))
		})
	}
}

func TestRateLimitsPerMerchant(t *testing.T) {
	srv := newServer(t, merchants(vippstest.DefaultMerchant(), directMerchant))
	a := srv.NewClient(srv.Merchant, noRetry)
	b := srv.NewClient(directMerchant, noRetry)
	ctx := t.Context()
	for range 2 {
		_, err := a.Initiate(ctx, regular("shared-id", 20000))
		notRateLimited(t, "initiate by merchant A", err)
	}
	_, err := a.Initiate(ctx, regular("shared-id", 20000))
	rateLimited(t, "third initiate by merchant A", err, time.Minute)
	if _, err := b.Initiate(ctx, regular("shared-id", 20000)); err != nil {
		t.Errorf("initiate of the same orderId by merchant B = %v, want success", err)
	}
}

// TestRateLimitWindowSlides checks that the window is sliding: requests
// leave it one by one, a minute after each was made.
func TestRateLimitWindowSlides(t *testing.T) {
	srv := newServer(t)
	c := srv.NewClient(srv.Merchant, noRetry)
	ctx := t.Context()
	const id = "sliding-1"
	reserve(t, c, id, 20000)
	srv.Sim.ResetRateLimits()
	capt := func(i int) error {
		_, err := c.Capture(ctx, id, vipps.CaptureRequest{Amount: 100, TransactionText: "part", RequestID: fmt.Sprintf("slide-%d", i)})
		return err
	}
	for i := range 3 { // at 0s
		notRateLimited(t, fmt.Sprintf("capture #%d", i+1), capt(i))
	}
	srv.Sim.Advance(30 * time.Second)
	for i := 3; i < 5; i++ { // at 30s
		notRateLimited(t, fmt.Sprintf("capture #%d", i+1), capt(i))
	}
	rateLimited(t, "capture #6 at 30s", capt(5), 30*time.Second)
	srv.Sim.Advance(30 * time.Second) // the three at 0s leave the window
	for i := 5; i < 8; i++ {
		notRateLimited(t, fmt.Sprintf("capture #%d at 60s", i+1), capt(i))
	}
	rateLimited(t, "capture #9 at 60s", capt(8), 30*time.Second)
}

// TestRateLimitCounting pins what counts against a limit and what does not.
func TestRateLimitCounting(t *testing.T) {
	t.Run("idempotent replays count", func(t *testing.T) {
		srv := newServer(t)
		c := srv.NewClient(srv.Merchant, noRetry)
		reserve(t, c, "replayed", 20000)
		srv.Sim.ResetRateLimits()
		req := vipps.CaptureRequest{Amount: 100, TransactionText: "part", RequestID: "same-key"}
		for i := range 5 {
			_, err := c.Capture(t.Context(), "replayed", req)
			notRateLimited(t, fmt.Sprintf("capture #%d", i+1), err)
		}
		_, err := c.Capture(t.Context(), "replayed", req)
		rateLimited(t, "sixth replay", err, time.Minute)
	})

	t.Run("answers 429 do not count", func(t *testing.T) {
		srv := newServer(t)
		c := srv.NewClient(srv.Merchant, noRetry)
		ctx := t.Context()
		for range 2 {
			c.Initiate(ctx, regular("hammered", 20000))
		}
		srv.Sim.Advance(30 * time.Second)
		for range 10 {
			_, err := c.Initiate(ctx, regular("hammered", 20000))
			rateLimited(t, "initiate over the limit", err, 30*time.Second)
		}
		srv.Sim.Advance(30 * time.Second)
		_, err := c.Initiate(ctx, regular("hammered", 20000))
		notRateLimited(t, "initiate a minute after the first two", err)
	})

	t.Run("refused credentials do not count", func(t *testing.T) {
		srv := newServer(t)
		r := newRaw(t, srv)
		reserve(t, srv.Client, "guarded", 20000)
		srv.Sim.ResetRateLimits()
		for range 10 {
			if status, body := r.do("GET", "/ecomm/v2/payments/guarded/details", "", "Authorization", "Bearer nonsense"); status != http.StatusUnauthorized {
				t.Fatalf("details with a bad token = %d %s, want 401", status, body)
			}
		}
		c := srv.NewClient(srv.Merchant, noRetry)
		for i := range 120 {
			_, err := c.Details(t.Context(), "guarded")
			notRateLimited(t, fmt.Sprintf("details #%d", i+1), err)
		}
	})

	t.Run("the control API is not limited", func(t *testing.T) {
		srv := newServer(t)
		reserve(t, srv.Client, "controlled", 20000)
		for i := range 130 {
			if status := control(t, srv, "GET", "/_sim/payments/controlled", "", nil); status != http.StatusOK {
				t.Fatalf("GET /_sim/payments/controlled #%d = %d, want 200", i+1, status)
			}
		}
	})
}

func TestRateLimitConfig(t *testing.T) {
	tests := []struct {
		name   string
		limits vippstest.RateLimits
		allow  int // captures allowed in a row; -1: all 20
		reset  time.Duration
	}{
		{"default", vippstest.RateLimits{}, 5, time.Minute},
		{"disabled", vippstest.RateLimits{Disabled: true}, -1, 0},
		{"scaled", vippstest.RateLimits{Capture: 2, Window: 10 * time.Second}, 2, 10 * time.Second},
		{"capture unlimited", vippstest.RateLimits{Capture: -1}, -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(c *vippstest.Config) { c.RateLimits = tt.limits })
			c := srv.NewClient(srv.Merchant, noRetry)
			reserve(t, c, "configured", 20000)
			srv.Sim.ResetRateLimits()
			allowed := 0
			for i := range 20 {
				_, err := c.Capture(t.Context(), "configured", vipps.CaptureRequest{Amount: 100, TransactionText: "part", RequestID: fmt.Sprint("cfg-", i)})
				if err != nil {
					rateLimited(t, fmt.Sprintf("capture #%d", i+1), err, tt.reset)
					break
				}
				allowed++
			}
			want := tt.allow
			if want < 0 {
				want = 20
			}
			if allowed != want {
				t.Errorf("%d captures allowed in a row, want %d", allowed, want)
			}
		})
	}

	if _, err := vippstest.New(vippstest.Config{RateLimits: vippstest.RateLimits{Window: -time.Second}}); err == nil || !strings.Contains(err.Error(), "RateLimits.Window") {
		t.Errorf("New with a negative window = %v, want an error naming Config.RateLimits.Window", err)
	}
}

// TestRateLimitWire checks the 429 on the wire: Azure API Management's
// object, Retry-After in seconds, and the request log.
func TestRateLimitWire(t *testing.T) {
	srv := newServer(t)
	r := newRaw(t, srv)
	body := jsonBody(t, initiateBody("wire-429"))
	for range 2 {
		r.do("POST", "/ecomm/v2/payments", body)
	}
	srv.Sim.Advance(15 * time.Second)
	resp, got := r.send("POST", "/ecomm/v2/payments", body, "Merchant-Serial-Number", "", "Content-Type", "")
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third initiate = %d %s, want 429", resp.StatusCode, got)
	}
	if ra := resp.Header.Get("Retry-After"); ra != "45" {
		t.Errorf("Retry-After = %q, want 45", ra)
	}
	want := `{"statusCode":429,"message":"Rate limit is exceeded. Try again in 45 seconds."}`
	if string(got) != want {
		t.Errorf("body = %s, want %s", got, want)
	}
	reqs := srv.Sim.Requests()
	last := reqs[len(reqs)-1]
	if last.Status != http.StatusTooManyRequests || last.OrderID != "wire-429" || len(last.Warnings) != 1 || !strings.Contains(last.Warnings[0], "rate limit") {
		t.Errorf("request log entry = %+v, want a 429 for wire-429 with a rate-limit warning", last)
	}
}

// TestRateLimitRetryAfterHonoured runs on the real clock with a short
// window: the client waits the Retry-After (1 s) and then gets through.
func TestRateLimitRetryAfterHonoured(t *testing.T) {
	t.Parallel()
	srv := vippstest.NewServer(t, func(c *vippstest.Config) {
		c.RateLimits = vippstest.RateLimits{Capture: 1, Window: 500 * time.Millisecond}
	})
	c := srv.Client
	reserve(t, c, "patient-1", 20000)
	capture(t, c, "patient-1", 100)
	start := time.Now()
	if _, err := c.Capture(t.Context(), "patient-1", vipps.CaptureRequest{Amount: 100, TransactionText: "second"}); err != nil {
		t.Fatalf("Capture after a 429 = %v, want success after Retry-After", err)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("the client waited %v, want at least the Retry-After of 1s", waited)
	}
	var statuses []int
	for _, r := range srv.Sim.Requests() {
		if r.Op == "capture" {
			statuses = append(statuses, r.Status)
		}
	}
	if diff := cmp.Diff([]int{200, 429, 200}, statuses); diff != "" {
		t.Errorf("capture statuses (-want +got):\n%s", diff)
	}
}
