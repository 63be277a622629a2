package vippstest_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/vippstest"
)

// TestReservationExpires checks that what is not captured within 180 days
// of the reservation is released by Vipps: VOID in the log and /status,
// capture refused with Payment 98, through the hook and the control API's
// clock alike.
func TestReservationExpires(t *testing.T) {
	const day = 24 * time.Hour
	srv := newServer(t)
	c := srv.Client
	reserve(t, c, "exp-1", 20000)
	reserve(t, c, "exp-2", 20000)
	capture(t, c, "exp-2", 5000)

	srv.Sim.Advance(180 * day)
	if p, _ := srv.Sim.Payment("exp-1"); p.Status != vipps.OrderStatusReserve || !p.ExpiredAt.IsZero() {
		t.Fatalf("after 180 days: status %s, expiredAt %v; want RESERVE, not expired", p.Status, p.ExpiredAt)
	}
	var p vippstest.Payment
	control(t, srv, "POST", "/_sim/clock/advance", `{"duration":"1s"}`, nil)
	if status := control(t, srv, "GET", "/_sim/payments/exp-1", "", &p); status != http.StatusOK {
		t.Fatalf("GET /_sim/payments/exp-1 = %d", status)
	}
	expiredAt := start.Add(180 * day)
	if p.Status != vipps.OrderStatusVoid || !p.ExpiredAt.Equal(expiredAt) || p.Summary.RemainingAmountToCapture != 0 || p.Released != 20000 {
		t.Errorf("after 180 days and a second: %+v, want VOID of 20000 at %v", p, expiredAt)
	}

	for _, tt := range []struct {
		id                vipps.OrderID
		void              vipps.Amount
		captured, refunds vipps.Amount // what details says remains to refund
	}{
		{"exp-1", 20000, 0, 0},
		{"exp-2", 15000, 5000, 5000},
	} {
		d := details(t, c, tt.id)
		e := d.TransactionLogHistory[0]
		if e.Operation != vipps.OperationVoid || e.Amount != tt.void || !e.TimeStamp.Equal(expiredAt) || e.RequestID != "" {
			t.Errorf("Details(%s) newest entry = %+v, want VOID of %d at %v", tt.id, e, tt.void, expiredAt)
		}
		if s := d.TransactionSummary; s.RemainingAmountToCapture != 0 || s.CapturedAmount != tt.captured || s.RemainingAmountToRefund != tt.refunds {
			t.Errorf("Details(%s) summary = %+v", tt.id, s)
		}
		_, err := c.Capture(t.Context(), tt.id, vipps.CaptureRequest{Amount: 100, TransactionText: "late"})
		if !hasCode(err, vipps.GroupPayment, vipps.CodeCaptureTooLate) {
			t.Errorf("Capture(%s) after expiry = %v, want Payment 98", tt.id, err)
		}
	}
	// What was captured can still be refunded.
	if _, err := c.Refund(t.Context(), "exp-2", vipps.CaptureRequest{Amount: 1000, TransactionText: "refund"}); err != nil {
		t.Errorf("Refund after expiry = %v, want success", err)
	}
	// A fully captured payment has nothing to expire.
	reserve(t, c, "exp-3", 20000)
	capture(t, c, "exp-3", 0)
	srv.Sim.Advance(181 * day)
	if p, _ := srv.Sim.Payment("exp-3"); p.Status != vipps.OrderStatusCapture || !p.ExpiredAt.IsZero() {
		t.Errorf("fully captured after 181 days: status %s, expiredAt %v; want CAPTURE", p.Status, p.ExpiredAt)
	}
}

// TestRetainFinished checks that finished payments are forgotten
// RetainFinished after they finished, so that the number held stays
// bounded on a long run, and that the API then answers for them as for an
// unknown orderId.
func TestRetainFinished(t *testing.T) {
	srv := newServer(t, func(c *vippstest.Config) { c.RetainFinished = time.Hour })
	c := srv.Client
	reserve(t, c, "kept-reserved", 20000)
	reserve(t, c, "kept-captured", 20000)
	capture(t, c, "kept-captured", 0)

	// One finished payment a minute for ten hours: about an hour's worth
	// is held at any time.
	most := 0
	for i := range 600 {
		id := vipps.OrderID(fmt.Sprintf("run-%d", i))
		initiate(t, c, regular(id, 20000))
		if i%2 == 0 {
			if _, err := c.Cancel(t.Context(), id, vipps.CancelRequest{TransactionText: "x"}); err != nil {
				t.Fatal(err)
			}
		} // the others time out after 10 minutes
		srv.Sim.Advance(time.Minute)
		most = max(most, len(srv.Sim.Payments()))
	}
	if most > 80 {
		t.Errorf("at most %d payments held, want about 70 (an hour of finished ones, and those waiting)", most)
	}
	_, err := c.Details(t.Context(), "run-0")
	if e, ok := errors.AsType[*vipps.Error](err); !ok || !e.Has(vipps.GroupMerchant, vipps.CodeOrderNotFound) || e.StatusCode != http.StatusNotFound {
		t.Errorf("Details of an evicted payment = %v, want 404 Merchant 35", err)
	}
	if _, err := srv.Sim.Payment("run-0"); !errors.Is(err, vippstest.ErrNotFound) {
		t.Errorf("Payment of an evicted payment = %v, want ErrNotFound", err)
	}
	for _, id := range []vipps.OrderID{"kept-reserved", "kept-captured", "run-599"} {
		if _, err := srv.Sim.Payment(id); err != nil {
			t.Errorf("Payment(%s) = %v, want it kept", id, err)
		}
	}
	// The captured payment is finished once it cannot be refunded any more.
	srv.Sim.Advance(366 * 24 * time.Hour)
	if _, err := srv.Sim.Payment("kept-captured"); !errors.Is(err, vippstest.ErrNotFound) {
		t.Errorf("Payment(kept-captured) a year on = %v, want it evicted", err)
	}
	// The reservation expired after 180 days; a day after that it is gone too.
	if _, err := srv.Sim.Payment("kept-reserved"); !errors.Is(err, vippstest.ErrNotFound) {
		t.Errorf("Payment(kept-reserved) a year on = %v, want it evicted", err)
	}
}

func TestRetainFinishedZeroKeepsAll(t *testing.T) {
	srv := newServer(t)
	initiate(t, srv.Client, regular("forever-1", 20000))
	srv.Sim.Advance(1000 * 24 * time.Hour)
	if _, err := srv.Sim.Payment("forever-1"); err != nil {
		t.Errorf("Payment after 1000 days with RetainFinished 0 = %v, want it kept", err)
	}
	if _, err := vippstest.New(vippstest.Config{RetainFinished: -time.Second}); err == nil {
		t.Error("New with a negative RetainFinished = nil, want an error")
	}
}

// TestAuditKeepsFinished: an audit grades every payment, so audit mode
// forgets none, whatever RetainFinished says.
func TestAuditKeepsFinished(t *testing.T) {
	srv := newServer(t, func(c *vippstest.Config) { c.Audit, c.RetainFinished = true, time.Minute })
	initiate(t, srv.Client, regular("audited-1", 20000))
	if err := srv.Sim.Reject("audited-1"); err != nil {
		t.Fatal(err)
	}
	srv.Sim.Advance(48 * time.Hour)
	initiate(t, srv.Client, regular("audited-2", 20000)) // a request lets the simulator tidy up
	if _, err := srv.Sim.Payment("audited-1"); err != nil {
		t.Errorf("Payment of a finished payment 48 h later in audit mode = %v, want it kept", err)
	}
}
