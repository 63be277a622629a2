package vippstest_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/vippstest"
)

// TestConcurrentCaptures captures one payment from many goroutines, each
// sending its capture twice with the same key: exactly the reserved amount
// is captured. The 40 captures of one order in one (frozen) minute are
// far over Vipps' rate limit, which is not what this test is about.
func TestConcurrentCaptures(t *testing.T) {
	srv := newServer(t, func(c *vippstest.Config) { c.RateLimits.Disabled = true })
	c := srv.Client
	reserve(t, c, "busy-1", 20000)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			req := vipps.CaptureRequest{Amount: 1000, TransactionText: "parcel", RequestID: fmt.Sprintf("parcel-%d", i)}
			for range 2 {
				if _, err := c.Capture(t.Context(), "busy-1", req); err != nil {
					t.Errorf("Capture %d = %v", i, err)
				}
			}
		})
		wg.Go(func() { srv.Sim.Advance(0) })
		wg.Go(func() { details(t, c, "busy-1") })
	}
	wg.Wait()
	d := details(t, c, "busy-1")
	if got, want := *d.TransactionSummary, withBIN(sum(20000, 0, 0, 20000)); got != want {
		t.Errorf("summary = %+v, want %+v", got, want)
	}
	if n := len(d.TransactionLogHistory); n != 22 {
		t.Errorf("log has %d entries, want 20 captures, RESERVE and INITIATE", n)
	}
	_, err := c.Capture(t.Context(), "busy-1", vipps.CaptureRequest{Amount: 1, TransactionText: "one more"})
	wantVippsError(t, "Capture beyond the reservation", err, http.StatusBadRequest, vipps.GroupPayment, vipps.CodeCaptureOverReserved)
}
