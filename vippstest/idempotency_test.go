package vippstest_test

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps"
)

func actionBody(amount int, text string) string {
	return `{"merchantInfo":{"merchantSerialNumber":"123456"},"transaction":{"amount":` + strconv.Itoa(amount) + `,"transactionText":"` + text + `"}}`
}

func TestIdempotency(t *testing.T) {
	tests := []struct {
		name     string
		endpoint string
		setup    func(t *testing.T, c *vipps.Client, id vipps.OrderID)
		want     vipps.TransactionSummary // after the first call
	}{
		{"capture", "capture", func(t *testing.T, c *vipps.Client, id vipps.OrderID) {}, sum(5000, 15000, 0, 5000)},
		{"refund", "refund", func(t *testing.T, c *vipps.Client, id vipps.OrderID) { capture(t, c, id, 0) }, sum(20000, 0, 5000, 15000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			r := newRaw(t, srv)
			const id = "idem-1"
			reserve(t, srv.Client, id, 20000)
			tt.setup(t, srv.Client, id)
			path := "/ecomm/v2/payments/" + id + "/" + tt.endpoint
			before := len(details(t, srv.Client, id).TransactionLogHistory)

			status, first := r.do("POST", path, actionBody(5000, "first"), "X-Request-Id", "key-1")
			if status != http.StatusOK {
				t.Fatalf("first %s = %d %s", tt.endpoint, status, first)
			}
			srv.Sim.Advance(time.Minute)
			status, again := r.do("POST", path, actionBody(5000, "first"), "X-Request-Id", "key-1")
			if status != http.StatusOK || string(again) != string(first) {
				t.Errorf("replay = %d %s, want the first answer %s", status, again, first)
			}
			d := details(t, srv.Client, id)
			if got := len(d.TransactionLogHistory); got != before+1 {
				t.Errorf("log has %d entries after a replay, want %d", got, before+1)
			}
			if got := withBIN(tt.want); *d.TransactionSummary != got {
				t.Errorf("summary after a replay = %+v, want %+v", *d.TransactionSummary, got)
			}
			if got := d.TransactionLogHistory[0].RequestID; got != "key-1" {
				t.Errorf("requestId in the log = %q, want key-1", got)
			}

			status, body := r.do("POST", path, actionBody(6000, "first"), "X-Request-Id", "key-1")
			if ds := errorArray(t, body); status != http.StatusBadRequest || ds[0].Group != vipps.GroupVippsError || ds[0].Code != vipps.CodeRetryBodyDiffers {
				t.Errorf("replay with another amount = %d %s, want 400 VippsError 93", status, body)
			}
			status, body = r.do("POST", path, actionBody(5000, "other text"), "X-Request-Id", "key-1")
			if ds := errorArray(t, body); status != http.StatusBadRequest || ds[0].Code != vipps.CodeRetryBodyDiffers {
				t.Errorf("replay with another text = %d %s, want 400 VippsError 93", status, body)
			}
			// A new key is a new operation.
			if status, body := r.do("POST", path, actionBody(1000, "second"), "X-Request-Id", "key-2"); status != http.StatusOK {
				t.Errorf("new key = %d %s, want 200", status, body)
			}
		})
	}

	t.Run("keys are per endpoint and per order", func(t *testing.T) {
		srv := newServer(t)
		r := newRaw(t, srv)
		reserve(t, srv.Client, "idem-a", 20000)
		reserve(t, srv.Client, "idem-b", 20000)
		for _, call := range []string{"/ecomm/v2/payments/idem-a/capture", "/ecomm/v2/payments/idem-a/refund", "/ecomm/v2/payments/idem-b/capture"} {
			if status, body := r.do("POST", call, actionBody(3000, "same key"), "X-Request-Id", "idem-a"); status != http.StatusOK {
				t.Errorf("POST %s with X-Request-Id idem-a = %d %s, want 200", call, status, body)
			}
		}
	})

	t.Run("refused requests keep nothing", func(t *testing.T) {
		srv := newServer(t)
		c := srv.Client
		initiate(t, c, regular("idem-early", 20000))
		req := vipps.CaptureRequest{Amount: 5000, TransactionText: "early", RequestID: "early-1"}
		_, err := c.Capture(t.Context(), "idem-early", req)
		wantVippsError(t, "Capture before approval", err, http.StatusBadRequest, vipps.GroupPayment, vipps.CodeCaptureNotReserved)
		approveHook(t, srv, "idem-early")
		if _, err := c.Capture(t.Context(), "idem-early", req); err != nil {
			t.Errorf("the same capture after approval = %v, want success", err)
		}
	})

	t.Run("through the client", func(t *testing.T) {
		srv := newServer(t)
		c := srv.Client
		reserve(t, c, "idem-client", 20000)
		req := vipps.CaptureRequest{Amount: 5000, TransactionText: "parcel 1", RequestID: "stored-key"}
		first, err := c.Capture(t.Context(), "idem-client", req)
		if err != nil {
			t.Fatal(err)
		}
		again, err := c.Capture(t.Context(), "idem-client", req)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(first, again, timeEqual); diff != "" {
			t.Errorf("replayed Capture (-first +replay):\n%s", diff)
		}
		req.Amount = 6000
		_, err = c.Capture(t.Context(), "idem-client", req)
		wantVippsError(t, "Capture with the key and another amount", err, http.StatusBadRequest, vipps.GroupVippsError, vipps.CodeRetryBodyDiffers)
		if e, ok := errors.AsType[*vipps.Error](err); !ok || !e.IdempotencyMismatch() {
			t.Errorf("IdempotencyMismatch() = false for %v", err)
		}
	})

	t.Run("force approve", func(t *testing.T) {
		var sink callbackSink
		srv := newServer(t)
		r := newRaw(t, srv)
		req := regular("idem-approve", 20000)
		req.MerchantInfo.CallbackPrefix = sink.start(t)
		res := initiate(t, srv.Client, req)
		body := `{"customerPhoneNumber":"91234567","token":"` + res.Token() + `"}`
		path := "/ecomm/v2/integration-test/payments/idem-approve/approve"
		for i := range 2 {
			if status, b := r.do("POST", path, body, "X-Request-Id", "approve-1"); status != http.StatusOK {
				t.Fatalf("approve %d = %d %s, want 200", i, status, b)
			}
		}
		sink.wait(t, srv, 1)
		if got := ops(details(t, srv.Client, "idem-approve")); len(got) != 2 {
			t.Errorf("log after a replayed approve = %v, want RESERVE, INITIATE", got)
		}
		other := `{"customerPhoneNumber":"97777777","token":"` + res.Token() + `"}`
		status, b := r.do("POST", path, other, "X-Request-Id", "approve-1")
		if ds := errorArray(t, b); status != http.StatusBadRequest || ds[0].Code != vipps.CodeRetryBodyDiffers {
			t.Errorf("approve replay with another phone = %d %s, want 400 VippsError 93", status, b)
		}
		status, b = r.do("POST", path, body, "X-Request-Id", "approve-2")
		if ds := errorArray(t, b); status != http.StatusBadRequest || ds[0].Code != vipps.CodeAlreadyProcessed {
			t.Errorf("second approve with a new key = %d %s, want 400 VippsError 92", status, b)
		}
	})
}
