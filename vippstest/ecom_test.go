package vippstest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/vippstest"
)

// TestOrderLocked checks VippsError 94: while a capture of a payment is in
// progress (held by a delay fault), other writes of it are refused, reads
// are not, and once it ends the payment takes writes again.
func TestOrderLocked(t *testing.T) {
	srv := newServer(t)
	reserve(t, srv.Client, "locked-1", 20000)
	reserve(t, srv.Client, "other-1", 20000)
	inject(t, srv, vippstest.Fault{Kind: vippstest.FaultDelay, Op: "capture", OrderID: "locked-1", Delay: 500 * time.Millisecond, Count: 1})
	r := newRaw(t, srv)
	done := make(chan int)
	go func() {
		status, _ := r.do("POST", "/ecomm/v2/payments/locked-1/capture", actionBody(5000, "First"), "X-Request-Id", "cap-1")
		done <- status
	}()
	waitFor(t, "the delay fault to hold the capture", func() bool { return len(srv.Sim.Faults()) == 0 })

	for _, tt := range []struct{ method, op, body, key string }{
		{"POST", "capture", actionBody(5000, "Second"), "cap-2"},
		{"POST", "capture", actionBody(5000, "First"), "cap-1"}, // the same request again
		{"POST", "refund", actionBody(1000, "Refund"), "ref-1"},
		{"PUT", "cancel", actionBody(0, "Cancel"), ""},
	} {
		status, body := r.do(tt.method, "/ecomm/v2/payments/locked-1/"+tt.op, tt.body, "X-Request-Id", tt.key)
		wantAnswer(t, tt.op+" while a capture is in progress", status, body, 400, vipps.GroupVippsError, vipps.CodeOrderLocked)
	}
	if status, body := r.do("GET", "/ecomm/v2/payments/locked-1/details", ""); status != http.StatusOK {
		t.Errorf("details while a capture is in progress = %d %s, want 200", status, body)
	}
	if status, body := r.do("POST", "/ecomm/v2/payments/other-1/capture", actionBody(5000, "Other"), "X-Request-Id", "cap-o"); status != http.StatusOK {
		t.Errorf("capture of another payment = %d %s, want 200", status, body)
	}

	if status := <-done; status != http.StatusOK {
		t.Fatalf("the held capture = %d, want 200", status)
	}
	if status, body := r.do("POST", "/ecomm/v2/payments/locked-1/capture", actionBody(5000, "Second"), "X-Request-Id", "cap-2"); status != http.StatusOK {
		t.Errorf("capture after the first ended = %d %s, want 200", status, body)
	}
	if n := captures(t, srv.Client, "locked-1"); n != 2 {
		t.Errorf("captures = %d, want 2", n)
	}
}

// TestTooManyConcurrentRequests: while maxConcurrent (3) requests for one
// payment are in progress, the next for that payment, a read too, gets
// VippsError 98; other payments are not affected, and once they end the
// payment answers again.
func TestTooManyConcurrentRequests(t *testing.T) {
	srv := newServer(t)
	reserve(t, srv.Client, "busy-1", 20000)
	reserve(t, srv.Client, "calm-1", 20000)
	inject(t, srv, vippstest.Fault{Kind: vippstest.FaultDelay, Op: "details", OrderID: "busy-1", Delay: 500 * time.Millisecond, Count: 3})
	r := newRaw(t, srv)
	done := make(chan int, 3)
	for range 3 {
		go func() {
			status, _ := r.do("GET", "/ecomm/v2/payments/busy-1/details", "")
			done <- status
		}()
	}
	waitFor(t, "the delay fault to hold three requests", func() bool { return len(srv.Sim.Faults()) == 0 })
	status, body := r.do("GET", "/ecomm/v2/payments/busy-1/details", "")
	wantAnswer(t, "details while three are in progress", status, body, 400, vipps.GroupVippsError, vipps.CodeTooManyRequests)
	if status, body := r.do("GET", "/ecomm/v2/payments/calm-1/details", ""); status != http.StatusOK {
		t.Errorf("details of another payment = %d %s, want 200", status, body)
	}
	for range 3 {
		if status := <-done; status != http.StatusOK {
			t.Errorf("a held details = %d, want 200", status)
		}
	}
	if status, body := r.do("GET", "/ecomm/v2/payments/busy-1/details", ""); status != http.StatusOK {
		t.Errorf("details once the others ended = %d %s, want 200", status, body)
	}
}
