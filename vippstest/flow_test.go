package vippstest_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/vippstest"
)

func entry(op vipps.Operation, amount vipps.Amount, text, txID string, at time.Time, requestID string) vipps.LogEntry {
	return vipps.LogEntry{Operation: op, Amount: amount, OperationSuccess: true, TransactionText: text,
		TransactionID: txID, TimeStamp: vipps.Time{Time: at}, RequestID: requestID}
}

// transaction is the answer to a capture, cancel or refund.
func transaction(id vipps.OrderID, amount vipps.Amount, st vipps.TransactionStatus, at time.Time, txID, text string, summary vipps.TransactionSummary) *vipps.TransactionResponse {
	return &vipps.TransactionResponse{
		OrderID:            id,
		TransactionInfo:    vipps.TransactionInfo{Amount: amount, Status: st, TimeStamp: vipps.Time{Time: at}, TransactionID: txID, TransactionText: text},
		TransactionSummary: summary,
	}
}

// wantTransaction checks the answer of the call what.
func wantTransaction(t *testing.T, what string, got *vipps.TransactionResponse, err error, want *vipps.TransactionResponse) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s = %v", what, err)
	}
	if diff := cmp.Diff(want, got, timeEqual); diff != "" {
		t.Fatalf("%s (-want +got):\n%s", what, diff)
	}
}

func details(t *testing.T, c *vipps.Client, id vipps.OrderID) *vipps.PaymentDetails {
	t.Helper()
	d, err := c.Details(t.Context(), id)
	if err != nil {
		t.Fatalf("Details(%s) = %v", id, err)
	}
	return d
}

func TestRegularFlowToRefund(t *testing.T) {
	srv := newServer(t)
	c, ctx := srv.Client, t.Context()
	const id = "acme-shop-123-order123abc"
	const text = "One pair of Vipps socks"

	res := initiate(t, c, regular(id, 20000))
	wantURL := srv.URL + "/dwo-api-application/v1/deeplink/vippsgateway?v=2&token="
	if !strings.HasPrefix(res.URL, wantURL) || res.Token() == "" || strings.Contains(res.Token(), "=") {
		t.Fatalf("Initiate url = %q, want %s<token without '='>", res.URL, wantURL)
	}

	d := details(t, c, id)
	want := &vipps.PaymentDetails{OrderID: id, TransactionLogHistory: []vipps.LogEntry{
		entry(vipps.OperationInitiate, 20000, text, "5000000001", start, ""),
	}}
	if diff := cmp.Diff(want, d, timeEqual); diff != "" {
		t.Fatalf("Details before approval (-want +got):\n%s", diff)
	}

	srv.Sim.Advance(17 * time.Second)
	if err := c.Approve(ctx, id, vipps.ApproveRequest{CustomerPhoneNumber: "91234567", Token: res.Token()}); err != nil {
		t.Fatalf("Approve = %v", err)
	}
	srv.Sim.Advance(time.Minute)
	capt, err := c.Capture(ctx, id, vipps.CaptureRequest{TransactionText: "Socks on the way! Tracking code: abc-tracking-123", RequestID: "cap-1"})
	wantTransaction(t, "Capture", capt, err, transaction(id, 20000, vipps.TransactionCaptured, start.Add(77*time.Second), "5000000002",
		"Socks on the way! Tracking code: abc-tracking-123", sum(20000, 0, 0, 20000)))

	srv.Sim.Advance(16 * time.Second)
	ref, err := c.Refund(ctx, id, vipps.CaptureRequest{TransactionText: "Refund of Vipps socks", RequestID: "ref-1"})
	wantTransaction(t, "Refund", ref, err, transaction(id, 20000, vipps.TransactionRefund, start.Add(93*time.Second), "5000000003",
		"Refund of Vipps socks", sum(20000, 0, 20000, 0)))

	summary := sum(20000, 0, 20000, 0)
	summary.BankIdentificationNumber = 492560
	want = &vipps.PaymentDetails{
		OrderID: id,
		TransactionLogHistory: []vipps.LogEntry{
			entry(vipps.OperationRefund, 20000, "Refund of Vipps socks", "5000000003", start.Add(93*time.Second), "ref-1"),
			entry(vipps.OperationCapture, 20000, "Socks on the way! Tracking code: abc-tracking-123", "5000000002", start.Add(77*time.Second), "cap-1"),
			entry(vipps.OperationReserve, 20000, text, "5000000001", start.Add(17*time.Second), ""),
			entry(vipps.OperationInitiate, 20000, text, "5000000001", start, ""),
		},
		TransactionSummary: &summary,
	}
	if diff := cmp.Diff(want, details(t, c, id), timeEqual); diff != "" {
		t.Fatalf("Details at the end (-want +got):\n%s", diff)
	}
}

func TestRegularFlowToVoid(t *testing.T) {
	srv := newServer(t)
	c := srv.Client
	const id = "acme-void-1"
	reserve(t, c, id, 20000)
	srv.Sim.Advance(time.Minute)
	res, err := c.Cancel(t.Context(), id, vipps.CancelRequest{TransactionText: "No socks for you!"})
	wantTransaction(t, "Cancel", res, err, transaction(id, 20000, vipps.TransactionCancelled, start.Add(time.Minute), "5000000002",
		"No socks for you!", sum(0, 0, 0, 0)))
	d := details(t, c, id)
	gotOps := ops(d)
	if diff := cmp.Diff([]vipps.Operation{"VOID", "RESERVE", "INITIATE"}, gotOps); diff != "" {
		t.Errorf("Details log (-want +got):\n%s", diff)
	}
	if d.TransactionLogHistory[0].Amount != 20000 || d.TransactionLogHistory[0].TransactionID != "5000000002" {
		t.Errorf("VOID entry = %+v, want amount 20000, transactionId 5000000002", d.TransactionLogHistory[0])
	}
	if got := *d.TransactionSummary; got != (vipps.TransactionSummary{BankIdentificationNumber: 492560}) {
		t.Errorf("Details summary = %+v, want zeros", got)
	}
}

func ops(d *vipps.PaymentDetails) []vipps.Operation {
	var out []vipps.Operation
	for _, e := range d.TransactionLogHistory {
		out = append(out, e.Operation)
	}
	return out
}

// TestWorkedExample follows the reference's worked example of the
// permission matrix: reserve 20000, capture 10000, release the rest,
// refund 5000.
func TestWorkedExample(t *testing.T) {
	srv := newServer(t)
	c, ctx := srv.Client, t.Context()
	const id = "acme-worked-1"
	reserve(t, c, id, 20000)

	if got := *details(t, c, id).TransactionSummary; got != withBIN(sum(0, 20000, 0, 0)) {
		t.Fatalf("after RESERVE summary = %+v", got)
	}
	steps := []struct {
		name string
		do   func() (*vipps.TransactionResponse, error)
		want vipps.TransactionSummary
		amt  vipps.Amount
	}{
		{"partial capture 10000", func() (*vipps.TransactionResponse, error) {
			return c.Capture(ctx, id, vipps.CaptureRequest{Amount: 10000, TransactionText: "First parcel shipped"})
		}, sum(10000, 10000, 0, 10000), 10000},
		{"cancel with release", func() (*vipps.TransactionResponse, error) {
			return c.Cancel(ctx, id, vipps.CancelRequest{TransactionText: "No more socks", ShouldReleaseRemainingFunds: true})
		}, sum(10000, 0, 0, 10000), 20000},
		{"refund 5000", func() (*vipps.TransactionResponse, error) {
			return c.Refund(ctx, id, vipps.CaptureRequest{Amount: 5000, TransactionText: "One sock was missing"})
		}, sum(10000, 0, 5000, 5000), 5000},
	}
	for _, st := range steps {
		res, err := st.do()
		if err != nil {
			t.Fatalf("%s = %v", st.name, err)
		}
		if res.TransactionSummary != st.want || res.TransactionInfo.Amount != st.amt {
			t.Fatalf("%s = amount %d, summary %+v; want amount %d, summary %+v", st.name, res.TransactionInfo.Amount, res.TransactionSummary, st.amt, st.want)
		}
	}
	d := details(t, c, id)
	if diff := cmp.Diff([]vipps.Operation{"REFUND", "VOID", "CAPTURE", "RESERVE", "INITIATE"}, ops(d)); diff != "" {
		t.Errorf("Details log (-want +got):\n%s", diff)
	}
	if got := d.TransactionLogHistory[1].Amount; got != 10000 {
		t.Errorf("VOID of the remainder amount = %d, want 10000", got)
	}
}

func withBIN(s vipps.TransactionSummary) vipps.TransactionSummary {
	s.BankIdentificationNumber = 492560
	return s
}

func TestPartialCapturesAndRefunds(t *testing.T) {
	srv := newServer(t)
	c, ctx := srv.Client, t.Context()
	const id = "acme-partial-1"
	reserve(t, c, id, 20000)
	steps := []struct {
		op     string
		amount vipps.Amount
		want   vipps.TransactionSummary
	}{
		{"capture", 5000, sum(5000, 15000, 0, 5000)},
		{"capture", 7000, sum(12000, 8000, 0, 12000)},
		{"refund", 2000, sum(12000, 8000, 2000, 10000)},
		{"capture", 0, sum(20000, 0, 2000, 18000)}, // the rest
		{"refund", 3000, sum(20000, 0, 5000, 15000)},
		{"refund", 0, sum(20000, 0, 20000, 0)}, // the rest
	}
	for i, st := range steps {
		req := vipps.CaptureRequest{Amount: st.amount, TransactionText: "step"}
		var (
			res *vipps.TransactionResponse
			err error
		)
		if st.op == "capture" {
			res, err = c.Capture(ctx, id, req)
		} else {
			res, err = c.Refund(ctx, id, req)
		}
		if err != nil {
			t.Fatalf("step %d: %s(%d) = %v", i, st.op, st.amount, err)
		}
		if res.TransactionSummary != st.want {
			t.Fatalf("step %d: %s(%d) summary = %+v, want %+v", i, st.op, st.amount, res.TransactionSummary, st.want)
		}
	}
	d := details(t, c, id)
	want := []vipps.Operation{"REFUND", "REFUND", "CAPTURE", "REFUND", "CAPTURE", "CAPTURE", "RESERVE", "INITIATE"}
	if diff := cmp.Diff(want, ops(d)); diff != "" {
		t.Errorf("Details log (-want +got):\n%s", diff)
	}
	seen := map[string]bool{}
	for _, e := range d.TransactionLogHistory[:6] {
		if seen[e.TransactionID] || len(e.TransactionID) < 10 || e.RequestID == "" {
			t.Errorf("entry %+v: want a fresh 10-digit transactionId and the X-Request-Id", e)
		}
		seen[e.TransactionID] = true
	}
}

func TestDirectCapture(t *testing.T) {
	var cbs callbackSink
	merchant := cbs.start(t)
	srv := newServer(t, merchants(directMerchant))
	c, ctx := srv.Client, t.Context()
	const id = "direct-sale-1"
	req := regular(id, 20000)
	req.MerchantInfo.CallbackPrefix = merchant
	res := initiate(t, c, req)
	if err := c.Approve(ctx, id, vipps.ApproveRequest{CustomerPhoneNumber: "91234567", Token: res.Token()}); err != nil {
		t.Fatalf("Approve = %v", err)
	}
	d := details(t, c, id)
	if diff := cmp.Diff([]vipps.Operation{"SALE", "INITIATE"}, ops(d)); diff != "" {
		t.Errorf("Details log (-want +got):\n%s", diff)
	}
	if got, want := *d.TransactionSummary, withBIN(sum(20000, 0, 0, 20000)); got != want {
		t.Errorf("Details summary = %+v, want %+v", got, want)
	}
	_, err := c.Cancel(ctx, id, vipps.CancelRequest{TransactionText: "too late"})
	wantVippsError(t, "Cancel of a SALE", err, http.StatusBadRequest, vipps.GroupPayment, vipps.CodeCancelCaptured)
	_, err = c.Capture(ctx, id, vipps.CaptureRequest{TransactionText: "again"})
	wantVippsError(t, "Capture of a SALE", err, http.StatusBadRequest, vipps.GroupPayment, vipps.CodeCaptureOverReserved)
	ref, err := c.Refund(ctx, id, vipps.CaptureRequest{Amount: 5000, TransactionText: "partial refund"})
	if err != nil {
		t.Fatalf("Refund = %v", err)
	}
	if got, want := ref.TransactionSummary, sum(20000, 0, 5000, 15000); got != want {
		t.Errorf("Refund summary = %+v, want %+v", got, want)
	}
	//lint:ignore SA1019 the simulator serves the deprecated status endpoint, so its tests call it
	st, err := c.Status(ctx, id)
	if err != nil || st.TransactionInfo.Status != vipps.OrderStatusRefund {
		t.Errorf("Status = %+v, %v; want REFUND", st, err)
	}
	got := cbs.wait(t, srv, 1)
	if got[0].body["transactionInfo"].(map[string]any)["status"] != "SALE" {
		t.Errorf("callback = %s, want status SALE", got[0].raw)
	}
}

func TestTimeout(t *testing.T) {
	srv := newServer(t)
	c := srv.Client
	const id = "acme-timeout-1"
	initiate(t, c, regular(id, 20000))

	srv.Sim.Advance(10*time.Minute - time.Second)
	if d := details(t, c, id); len(d.TransactionLogHistory) != 1 || d.TransactionSummary != nil {
		t.Fatalf("Details 1 s before the timeout = %+v, want INITIATE only", d)
	}
	srv.Sim.Advance(time.Second)
	d := details(t, c, id)
	want := []vipps.LogEntry{
		entry(vipps.OperationCancel, 20000, "One pair of Vipps socks", "5000000001", start.Add(10*time.Minute), ""),
		entry(vipps.OperationInitiate, 20000, "One pair of Vipps socks", "5000000001", start, ""),
	}
	if diff := cmp.Diff(want, d.TransactionLogHistory, timeEqual); diff != "" {
		t.Errorf("Details log after the timeout (-want +got):\n%s", diff)
	}
	//lint:ignore SA1019 the simulator serves the deprecated status endpoint, so its tests call it
	st, err := c.Status(t.Context(), id)
	if err != nil || st.TransactionInfo.Status != vipps.OrderStatusRejected {
		t.Errorf("Status = %+v, %v; want REJECTED", st, err)
	}
	_, err = c.Capture(t.Context(), id, vipps.CaptureRequest{TransactionText: "too late"})
	wantVippsError(t, "Capture after the timeout", err, http.StatusBadRequest, vipps.GroupPayment, vipps.CodeCaptureNotReserved)
	if err := srv.Sim.Approve(id, ""); err == nil {
		t.Errorf("Sim.Approve after the timeout = nil, want an error")
	}
}

func TestStatus(t *testing.T) {
	tests := []struct {
		name   string
		amount vipps.Amount
		setup  func(t *testing.T, srv *vippstest.Server, id vipps.OrderID)
		want   vipps.OrderStatus
		amt    vipps.Amount
	}{
		{"initiated", 20000, func(*testing.T, *vippstest.Server, vipps.OrderID) {}, vipps.OrderStatusInitiate, 20000},
		{"reserved", 20000, approveHook, vipps.OrderStatusReserve, 20000},
		{"captured", 20000, func(t *testing.T, srv *vippstest.Server, id vipps.OrderID) {
			approveHook(t, srv, id)
			capture(t, srv.Client, id, 5000)
		}, vipps.OrderStatusCapture, 5000},
		{"voided", 20000, func(t *testing.T, srv *vippstest.Server, id vipps.OrderID) {
			approveHook(t, srv, id)
			if _, err := srv.Client.Cancel(t.Context(), id, vipps.CancelRequest{TransactionText: "x"}); err != nil {
				t.Fatal(err)
			}
		}, vipps.OrderStatusVoid, 20000},
		{"cancelled by the user", 20000, func(t *testing.T, srv *vippstest.Server, id vipps.OrderID) {
			if err := srv.Sim.Reject(id); err != nil {
				t.Fatal(err)
			}
		}, vipps.OrderStatusCancel, 20000},
		{"timed out", 20000, func(t *testing.T, srv *vippstest.Server, id vipps.OrderID) {
			if err := srv.Sim.Expire(id); err != nil {
				t.Fatal(err)
			}
		}, vipps.OrderStatusRejected, 20000},
		{"failed", 186, approveHook, vipps.OrderStatusFailed, 186},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			id := vipps.OrderID("status-" + strings.ReplaceAll(tt.name, " ", "-"))
			initiate(t, srv.Client, regular(id, tt.amount))
			tt.setup(t, srv, id)
			//lint:ignore SA1019 the simulator serves the deprecated status endpoint, so its tests call it
			st, err := srv.Client.Status(t.Context(), id)
			if err != nil {
				t.Fatalf("Status = %v", err)
			}
			if st.TransactionInfo.Status != tt.want || st.TransactionInfo.Amount != tt.amt || st.OrderID != id {
				t.Errorf("Status = %+v, want %s, amount %d", st, tt.want, tt.amt)
			}
		})
	}
}

// reserveExpress initiates an express payment of amount with the one
// shipping option opt, its callbacks to cbs, and has the user approve it.
func reserveExpress(t *testing.T, srv *vippstest.Server, cbs *callbackSink, id vipps.OrderID, amount vipps.Amount, opt vipps.ShippingOption) {
	t.Helper()
	req := expressOrder(id, amount, opt)
	req.MerchantInfo.CallbackPrefix = cbs.start(t)
	initiate(t, srv.Client, req)
	approveHook(t, srv, id)
}

func approveHook(t *testing.T, srv *vippstest.Server, id vipps.OrderID) {
	t.Helper()
	if err := srv.Sim.Approve(id, ""); err != nil {
		t.Fatalf("Sim.Approve(%s) = %v", id, err)
	}
}

func capture(t *testing.T, c *vipps.Client, id vipps.OrderID, amount vipps.Amount) {
	t.Helper()
	if _, err := c.Capture(t.Context(), id, vipps.CaptureRequest{Amount: amount, TransactionText: "shipped"}); err != nil {
		t.Fatalf("Capture(%s, %d) = %v", id, amount, err)
	}
}

func TestMagicAmounts(t *testing.T) {
	tests := []struct {
		amount vipps.Amount
		code   vipps.ErrorCode // Payment error in the callback; "" means success
	}{
		{151, vipps.CodeRefusedByIssuer}, {182, vipps.CodeRefusedByIssuer}, {183, vipps.CodeRefusedByIssuer}, {184, vipps.CodeRefusedAmount}, {186, vipps.CodeExpiredCard}, {187, vipps.CodeNoValidCard}, {197, vipps.CodeRefusedByIssuer},
		{202, ""}, {20000, ""},
	}
	for _, tt := range tests {
		t.Run(tt.amount.String(), func(t *testing.T) {
			var cbs callbackSink
			srv := newServer(t)
			id := vipps.OrderID("magic-" + strconv.Itoa(int(tt.amount)))
			req := regular(id, tt.amount)
			req.MerchantInfo.CallbackPrefix = cbs.start(t)
			initiate(t, srv.Client, req)
			approveHook(t, srv, id)
			d := details(t, srv.Client, id)
			last := d.TransactionLogHistory[0]
			cb := cbs.wait(t, srv, 1)[0]
			status := cb.body["transactionInfo"].(map[string]any)["status"]
			if tt.code == "" {
				if last.Operation != vipps.OperationReserve || !last.OperationSuccess || status != "RESERVED" {
					t.Fatalf("after approval: log %+v, callback %s; want a successful RESERVE", last, cb.raw)
				}
				return
			}
			if last.Operation != vipps.OperationReserve || last.OperationSuccess {
				t.Errorf("log entry = %+v, want RESERVE with operationSuccess false", last)
			}
			info, _ := cb.body["errorInfo"].(map[string]any)
			if status != "RESERVE_FAILED" || info["errorGroup"] != "Payment" || info["errorCode"] != string(tt.code) {
				t.Errorf("callback = %s, want RESERVE_FAILED with errorInfo Payment %s", cb.raw, tt.code)
			}
		})
	}

	t.Run("201 waits an hour", func(t *testing.T) {
		srv := newServer(t)
		const id = "magic-201"
		res := initiate(t, srv.Client, regular(id, 201))
		approveHook(t, srv, id)
		srv.Sim.Advance(59 * time.Minute)
		if d := details(t, srv.Client, id); len(d.TransactionLogHistory) != 1 {
			t.Fatalf("after 59 minutes log = %v, want INITIATE only (no timeout while the bank decides)", ops(d))
		}
		err := srv.Client.Approve(t.Context(), id, vipps.ApproveRequest{CustomerPhoneNumber: "91234567", Token: res.Token()})
		wantVippsError(t, "force approve while pending", err, http.StatusBadRequest, vipps.GroupVippsError, vipps.CodeAlreadyProcessed)
		srv.Sim.Advance(time.Minute)
		d := details(t, srv.Client, id)
		if e := d.TransactionLogHistory[0]; e.Operation != vipps.OperationReserve || e.OperationSuccess {
			t.Errorf("after an hour newest entry = %+v, want a failed RESERVE", e)
		}
	})

	t.Run("force approve ignores them", func(t *testing.T) {
		srv := newServer(t)
		reserve(t, srv.Client, "magic-forced", 186)
		if e := details(t, srv.Client, "magic-forced").TransactionLogHistory[0]; !e.OperationSuccess {
			t.Errorf("force approve of 186 øre: %+v, want a successful RESERVE", e)
		}
	})
}

func TestUserActions(t *testing.T) {
	srv := newServer(t)
	c := srv.Client
	initiate(t, c, regular("user-reject", 20000))
	if err := srv.Sim.Reject("user-reject"); err != nil {
		t.Fatalf("Reject = %v", err)
	}
	d := details(t, c, "user-reject")
	if diff := cmp.Diff([]vipps.Operation{"CANCEL", "INITIATE"}, ops(d)); diff != "" || d.TransactionSummary == nil {
		t.Errorf("Details after reject: log (-want +got):\n%s summary %v", diff, d.TransactionSummary)
	}
	if err := srv.Sim.Reject("user-reject"); err == nil {
		t.Errorf("second Reject = nil, want an error")
	}
	if err := srv.Sim.Approve("nope", ""); err == nil {
		t.Errorf("Approve of an unknown order = nil, want an error")
	}
	p, err := srv.Sim.Payment("user-reject")
	if err != nil || p.Status != vipps.OrderStatusCancel || p.Amount != 20000 || len(p.Log) != 2 {
		t.Errorf("Payment = %+v, %v; want status CANCEL with two log entries", p, err)
	}
}

func TestAmbiguousOrderID(t *testing.T) {
	srv := newServer(t, merchants(vippstest.DefaultMerchant(), directMerchant))
	other := srv.NewClient(directMerchant)
	initiate(t, srv.Client, regular("shared-id", 20000))
	initiate(t, other, regular("shared-id", 30000))
	if _, err := srv.Sim.Payment("shared-id"); err == nil || !strings.Contains(err.Error(), "more than one") {
		t.Errorf("Payment of an orderId two merchants use = %v, want ErrAmbiguous", err)
	}
	// Each merchant sees its own payment.
	if d := details(t, other, "shared-id"); d.TransactionLogHistory[0].Amount != 30000 {
		t.Errorf("the other merchant's details = %+v, want its own 30000 øre payment", d)
	}
}

// TestDetailsFollowChanges polls /details as a shop does, over and over,
// and checks that each answer shows the payment as it is then: after a
// capture, and after the express data expired with the clock alone (no
// request, no Advance), since the simulator keeps the last answer until
// something changes.
func TestDetailsFollowChanges(t *testing.T) {
	var (
		mu  sync.Mutex
		now = start
	)
	clock := func(c *vippstest.Config) {
		c.Now = func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			return now
		}
	}
	srv := newServer(t, clock)
	c := srv.Client
	const id = "express-polled"
	reserveExpress(t, srv, new(callbackSink), id, 20000, vipps.ShippingOption{IsDefault: true, Priority: 1, ShippingCost: 99, ShippingMethod: "Posten", ShippingMethodID: "posten"})

	first := details(t, c, id)
	if first.UserDetails == nil || first.UserDetails.FirstName == "[Expired]" {
		t.Fatalf("Details = %+v, want the user's details", first.UserDetails)
	}
	for range 3 {
		if d := details(t, c, id); !cmp.Equal(d, first) {
			t.Fatalf("Details again, nothing changed = %+v, want %+v", d, first)
		}
	}

	capture(t, c, id, 5000)
	d := details(t, c, id)
	if d.TransactionSummary == nil || d.TransactionSummary.CapturedAmount != 5000 {
		t.Errorf("Details after capturing 5000 = summary %+v, want captured 5000", d.TransactionSummary)
	}
	if len(d.TransactionLogHistory) != len(first.TransactionLogHistory)+1 {
		t.Errorf("Details after a capture has %d log entries, want %d", len(d.TransactionLogHistory), len(first.TransactionLogHistory)+1)
	}

	// Just before the data expire the answer still shows them (and the
	// client fetches a new access token, a change of its own); then only
	// the clock moves, by two seconds, and nothing else changes.
	setNow := func(at time.Time) {
		mu.Lock()
		defer mu.Unlock()
		now = at
	}
	setNow(start.Add(7*24*time.Hour - time.Second))
	if d := details(t, c, id); d.UserDetails == nil || d.UserDetails.FirstName == "[Expired]" {
		t.Fatalf("Details a second before the expiry = %+v, want the user's details", d.UserDetails)
	}
	details(t, c, id)
	setNow(start.Add(7*24*time.Hour + time.Second))
	d = details(t, c, id)
	if d.UserDetails == nil || d.UserDetails.FirstName != "[Expired]" || d.ShippingDetails == nil || d.ShippingDetails.Address.City != "[Expired]" {
		t.Errorf("Details 7 days after the reservation = %+v %+v, want [Expired]", d.UserDetails, d.ShippingDetails)
	}
	if d.TransactionSummary == nil || d.TransactionSummary.CapturedAmount != 5000 {
		t.Errorf("Details after the expiry = summary %+v, want captured 5000", d.TransactionSummary)
	}
}

func TestExpressCheckout(t *testing.T) {
	var cbs callbackSink
	srv := newServer(t)
	c := srv.Client
	const id = "express-1"
	req := expressOrder(id, 20000,
		vipps.ShippingOption{IsDefault: false, Priority: 1, ShippingCost: 99, ShippingMethod: "Posten Servicepakke", ShippingMethodID: "posten"},
		vipps.ShippingOption{IsDefault: true, Priority: 2, ShippingCost: 109.99, ShippingMethod: "Home delivery", ShippingMethodID: "home"},
	)
	req.MerchantInfo.CallbackPrefix = cbs.start(t)
	res := initiate(t, c, req)
	err := c.Approve(t.Context(), id, vipps.ApproveRequest{CustomerPhoneNumber: "91234567", Token: res.Token()})
	wantVippsError(t, "force approve of express", err, http.StatusBadRequest, vipps.GroupVippsError, vipps.CodeNotAllowed)
	approveHook(t, srv, id)

	d := details(t, c, id)
	if d.ShippingDetails == nil || d.UserDetails == nil {
		t.Fatalf("Details = %+v, want shippingDetails and userDetails", d)
	}
	if d.ShippingDetails.ShippingMethodID != "home" || d.ShippingDetails.ShippingCost != 109.99 || d.ShippingDetails.Address.PostCode == "" {
		t.Errorf("shippingDetails = %+v, want the default option and an address", d.ShippingDetails)
	}
	if d.UserDetails.MobileNumber != "91234567" || d.UserDetails.UserID == "" {
		t.Errorf("userDetails = %+v", d.UserDetails)
	}
	if got := d.TransactionLogHistory[0].Amount; got != 20000 {
		t.Errorf("reserved amount = %d, want 20000 (shipping not added)", got)
	}

	cb := cbs.wait(t, srv, 1)[0]
	if cb.body["transactionInfo"].(map[string]any)["status"] != "RESERVE" {
		t.Errorf("express callback status = %s, want RESERVE", cb.raw)
	}
	addr := cb.body["shippingDetails"].(map[string]any)["address"].(map[string]any)
	if _, ok := addr["zipCode"]; !ok {
		t.Errorf("express callback address = %v, want zipCode", addr)
	}
	if _, ok := addr["postCode"]; ok {
		t.Errorf("express callback address = %v, want no postCode", addr)
	}
	if _, ok := cb.body["userDetails"].(map[string]any)["userId"]; !ok {
		t.Errorf("express callback = %s, want userDetails.userId", cb.raw)
	}

	srv.Sim.Advance(7*24*time.Hour + time.Second)
	d = details(t, c, id)
	if d.UserDetails.Email != "[Expired]" || d.ShippingDetails.Address.City != "[Expired]" {
		t.Errorf("after 7 days details = %+v %+v, want [Expired]", d.UserDetails, d.ShippingDetails)
	}

	t.Run("dynamic shipping with an unreachable merchant", func(t *testing.T) {
		initiate(t, c, expressOrder("express-2", 20000))
		if err := srv.Sim.Approve("express-2", ""); !errors.Is(err, vippstest.ErrShipping) {
			t.Errorf("Approve = %v, want ErrShipping", err)
		}
	})
}

// TestExpressAddsShipping: with Config.ExpressAddsShipping the chosen
// shipping cost is reserved on top of the initiated amount, and the
// merchant can capture all of it, and no more.
func TestExpressAddsShipping(t *testing.T) {
	var cbs callbackSink
	srv := newServer(t, func(c *vippstest.Config) { c.ExpressAddsShipping = true })
	c := srv.Client
	const id = "express-ship"
	reserveExpress(t, srv, &cbs, id, 20000, vipps.ShippingOption{IsDefault: true, Priority: 1, ShippingCost: 109.99, ShippingMethod: "Home delivery", ShippingMethodID: "home"})
	const total = 20000 + 10999
	d := details(t, c, id)
	if got := d.TransactionLogHistory[0].Amount; got != total {
		t.Errorf("reserved amount = %d, want %d (20000 and the shipping)", got, total)
	}
	if got := d.TransactionSummary.RemainingAmountToCapture; got != total {
		t.Errorf("remaining to capture = %d, want %d", got, total)
	}
	cb := cbs.wait(t, srv, 1)[0]
	if got := cb.body["transactionInfo"].(map[string]any)["amount"]; got != float64(total) {
		t.Errorf("callback amount = %v, want %d", got, total)
	}
	_, err := c.Capture(t.Context(), id, vipps.CaptureRequest{Amount: total + 1, TransactionText: "too much", RequestID: "cap-1"})
	wantVippsError(t, "capture above the reservation", err, http.StatusBadRequest, vipps.GroupPayment, vipps.CodeCaptureOverReserved)
	res, err := c.Capture(t.Context(), id, vipps.CaptureRequest{TransactionText: "all", RequestID: "cap-2"})
	if err != nil || res.TransactionSummary.CapturedAmount != total {
		t.Errorf("full capture = %+v, %v; want %d captured", res, err, total)
	}
}

func TestUserinfo(t *testing.T) {
	srv := newServer(t, merchants(vippstest.DefaultMerchant(), directMerchant))
	c := srv.Client
	const id = "profile-1"
	req := regular(id, 20000)
	req.Transaction.Scope = "name email phoneNumber address"
	initiate(t, c, req)
	approveHook(t, srv, id)
	d := details(t, c, id)
	if d.Sub == "" || d.UserDetails == nil || d.UserDetails.MobileNumber != "91234567" {
		t.Fatalf("Details = %+v, want sub and userDetails", d)
	}
	info, err := c.UserInfo(t.Context(), d.Sub)
	if err != nil {
		t.Fatalf("UserInfo = %v", err)
	}
	if info.Sub != d.Sub || info.PhoneNumber != "4791234567" || info.Email == "" || info.Name == "" || info.Address == nil {
		t.Errorf("UserInfo = %+v, want the shared name, email, phone number and address", info)
	}
	if info.BirthDate != "" || info.NIN != "" {
		t.Errorf("UserInfo = %+v, want no birthdate or nin (not in the scope)", info)
	}

	// The same phone number is the same person.
	p, _ := srv.Sim.Payment(id)
	if p.Sub != d.Sub || p.PhoneNumber != "91234567" {
		t.Errorf("Payment = %+v, want sub %s", p, d.Sub)
	}

	_, err = srv.NewClient(directMerchant).UserInfo(t.Context(), d.Sub)
	wantVippsError(t, "UserInfo by another merchant", err, http.StatusNotFound, "", "not_found")

	r := newRaw(t, srv)
	if status, body := r.do("GET", "/vipps-userinfo-api/userinfo/"+d.Sub, ""); status != http.StatusUnauthorized {
		t.Errorf("userinfo with a subscription key = %d %s, want 401", status, body)
	}
	if status, body := r.do("GET", "/vipps-userinfo-api/userinfo/"+d.Sub, "", "Ocp-Apim-Subscription-Key", ""); status != http.StatusOK {
		t.Errorf("userinfo without a subscription key = %d %s, want 200", status, body)
	}

	srv.Sim.Advance(169 * time.Hour)
	_, err = c.UserInfo(t.Context(), d.Sub)
	wantVippsError(t, "UserInfo after 169 hours", err, http.StatusForbidden, "", "access_denied")
}

// TestWireShapes checks the quirks of Vipps' wire format that the client's
// lenient decoding would hide.
func TestWireShapes(t *testing.T) {
	srv := newServer(t)
	r := newRaw(t, srv)
	reserve(t, srv.Client, "wire-1", 20000)
	reserve(t, srv.Client, "wire-2", 20000)
	keys := func(body []byte) map[string]any {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		return m
	}
	tests := []struct {
		name, method, path, body string
		key, status              string // the operation's key and its status
	}{
		{"capture", "POST", "/ecomm/v2/payments/wire-1/capture", actionBody(5000, "c"), "transactionInfo", "Captured"},
		{"refund", "POST", "/ecomm/v2/payments/wire-1/refund", actionBody(1000, "r"), "transaction", "Refund"},
		{"cancel", "PUT", "/ecomm/v2/payments/wire-2/cancel", `{"merchantInfo":{"merchantSerialNumber":"123456"},"transaction":{"transactionText":"x"}}`, "transactionInfo", "Cancelled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := r.do(tt.method, tt.path, tt.body, "X-Request-Id", "wire-"+tt.name)
			if status != http.StatusOK {
				t.Fatalf("%s = %d %s", tt.name, status, body)
			}
			m := keys(body)
			info, ok := m[tt.key].(map[string]any)
			if !ok || info["status"] != tt.status || len(m) != 3 {
				t.Fatalf("%s = %s, want orderId, %s with status %q, transactionSummary", tt.name, body, tt.key, tt.status)
			}
			if ts, _ := info["timeStamp"].(string); len(ts) != len("2026-03-02T10:00:00.000Z") || !strings.HasSuffix(ts, "Z") {
				t.Errorf("timeStamp = %q, want milliseconds and Z", ts)
			}
			if _, ok := m["transactionSummary"].(map[string]any)["bankIdentificationNumber"]; ok {
				t.Errorf("%s summary has bankIdentificationNumber; only details has it", tt.name)
			}
		})
	}
	status, body := r.do("GET", "/ecomm/v2/payments/wire-1/details", "")
	if status != 200 || !strings.Contains(string(body), `"requestId":""`) || !strings.Contains(string(body), `"bankIdentificationNumber":492560`) {
		t.Errorf("details = %d %s, want requestId \"\" on RESERVE and the BIN", status, body)
	}
}
