package checklist

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/vippstest"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

func goodHeader() http.Header {
	return http.Header{"Vipps-System-Name": {"acme"}, "Vipps-System-Version": {"1.0"},
		"Vipps-System-Plugin-Name": {"acme-shop"}, "Vipps-System-Plugin-Version": {"1.0"}}
}

func req(s int, op string, id vipps.OrderID, rid string, status int, body string) vippstest.Request {
	return vippstest.Request{Time: at(s), Op: op, OrderID: id, RequestID: rid, Status: status, Body: body, Header: goodHeader()}
}

func pay(id vipps.OrderID, captured vipps.Amount, last vipps.Operation) vippstest.Payment {
	return vippstest.Payment{OrderID: id, Amount: 10000, InitiatedAt: t0,
		FallBack:       "https://shop.example/return/" + string(id),
		CallbackPrefix: "https://shop.example/vipps",
		Summary:        vipps.TransactionSummary{CapturedAmount: captured},
		Log:            []vipps.LogEntry{{Operation: last, OperationSuccess: true}}}
}

// goodAudit is the evidence of a merchant that does everything right.
func goodAudit() Input {
	a := vippstest.Audit{AuditMode: true,
		Requests: []vippstest.Request{
			req(0, "initiate", "acme-order-1", "", 200, ""),
			req(0, "initiate", "acme-order-2", "", 200, ""),
			req(0, "initiate", "acme-order-3", "", 200, ""),
			req(6, "details", "acme-order-1", "", 200, ""),
			req(7, "capture", "acme-order-1", "c1", 0, `{"transaction":{"amount":4000}}`),
			req(8, "capture", "acme-order-1", "c1", 200, `{"transaction":{"amount":4000}}`),
			req(9, "capture", "acme-order-1", "c2", 200, `{"transaction":{"amount":6000}}`),
			req(10, "refund", "acme-order-1", "r1", 200, `{"transaction":{"amount":2000}}`),
			req(14, "refund", "acme-order-3", "r2", 200, `{"transaction":{"amount":10000}}`),
			req(12, "cancel", "acme-order-2", "", 200, ""),
			req(13, "capture", "acme-order-3", "c3", 200, `{"transaction":{"amount":0}}`),
			req(14, "om-receipt", "acme-order-1", "", 200, ""),
			req(15, "om-category", "acme-order-1", "", 200, ""),
		},
		Payments: []vippstest.Payment{pay("acme-order-1", 10000, vipps.OperationRefund), pay("acme-order-2", 0, vipps.OperationVoid), pay("acme-order-3", 10000, vipps.OperationCapture)},
		Callbacks: []vippstest.Callback{
			{Time: at(5), OrderID: "acme-order-1", Status: vipps.CallbackReserved, Fault: vippstest.CallbackDrop, FaultID: vippstest.AuditDropID, Err: "not sent"},
			{Time: at(5), OrderID: "acme-order-2", Status: vipps.CallbackReserved, StatusCode: 200},
			{Time: at(5), OrderID: "acme-order-4", Status: vipps.CallbackCancelled, StatusCode: 204},
		},
		OrderManagement: []vippstest.AuditOrder{
			{OrderID: "acme-order-1", Receipt: true, Category: true},
			{OrderID: "acme-order-3", Receipt: true, Category: true},
		},
	}
	a.Requests[4].Fault = vippstest.FaultDropAfterApply
	return Input{Audit: a, FallBacks: []FallBackCheck{{OrderID: "acme-order-1", URL: "https://shop.example/return/acme-order-1", Status: 200}}}
}

func statuses(rs []Result) map[string]Status {
	m := map[string]Status{}
	for _, r := range rs {
		m[r.ID] = r.Status
	}
	return m
}

func allPass() map[string]Status {
	m := map[string]Status{}
	for _, it := range Items {
		m[it.ID] = Pass
	}
	m["design"], m["support"] = Manual, Manual
	return m
}

// TestGrade breaks a good merchant one way at a time; each break must
// change exactly the items it breaks.
func TestGrade(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(in *Input)
		want   map[string]Status
	}{
		{"good", func(*Input) {}, nil},
		{"no system headers", func(in *Input) {
			in.Audit.Requests[3].Header.Del("Vipps-System-Plugin-Name")
		}, map[string]Status{"headers": Fail}},
		{"header too long", func(in *Input) {
			in.Audit.Requests[0].Header.Set("Vipps-System-Name", "a-name-that-is-longer-than-thirty-characters")
		}, map[string]Status{"headers": Fail}},
		{"bare numeric orderId", func(in *Input) {
			in.Audit.Payments = append(in.Audit.Payments, vippstest.Payment{OrderID: "10042"})
		}, map[string]Status{"orderid": Fail}},
		{"never polls", func(in *Input) {
			in.Audit.Requests[3].Op = "om-order"
		}, map[string]Status{"polling": Fail, "endpoints": NotSeen}},
		{"polls too hard", func(in *Input) {
			for i := range MaxDetailsPerMinute + 1 {
				in.Audit.Requests = append(in.Audit.Requests, req(20+i/2, "details", "acme-order-3", "", 200, ""))
			}
		}, map[string]Status{"polling": Fail}},
		{"rate limited", func(in *Input) {
			in.Audit.Requests = append(in.Audit.Requests, req(30, "details", "acme-order-3", "", 429, ""))
		}, map[string]Status{"polling": Fail}},
		{"no drop", func(in *Input) {
			in.Audit.Callbacks = in.Audit.Callbacks[1:]
		}, map[string]Status{"polling": NotSeen}},
		{"failure callback answered 500", func(in *Input) {
			in.Audit.Callbacks[2].StatusCode = 500
		}, map[string]Status{"callbacks": Fail}},
		{"failure callback not answered", func(in *Input) {
			in.Audit.Callbacks[2].StatusCode, in.Audit.Callbacks[2].Err = 0, "connection refused"
		}, map[string]Status{"callbacks": Fail}},
		{"no failure callback", func(in *Input) {
			in.Audit.Callbacks = in.Audit.Callbacks[:2]
		}, map[string]Status{"callbacks": NotSeen}},
		{"fallBack needs a cookie", func(in *Input) {
			in.FallBacks[0].Status = 401
		}, map[string]Status{"redirects": Fail}},
		{"fallBack redirects to login", func(in *Input) {
			in.FallBacks[0].Login = true
		}, map[string]Status{"redirects": Fail}},
		{"no receipts", func(in *Input) {
			in.Audit.OrderManagement = nil
		}, map[string]Status{"receipts": Fail}},
		{"no X-Request-Id", func(in *Input) {
			in.Audit.Requests[10].RequestID = ""
		}, map[string]Status{"errors": Fail}},
		{"new X-Request-Id after a fault", func(in *Input) {
			in.Audit.Requests[5].RequestID = "c1-again"
		}, map[string]Status{"errors": Fail}},
		{"no fault seen", func(in *Input) {
			in.Audit.Requests[4].Op = "om-order"
		}, map[string]Status{"errors": NotSeen}},
		{"no refund order", func(in *Input) {
			in.Audit.Payments[0].Log[0].Operation = vipps.OperationCapture
		}, map[string]Status{"refund-order": NotSeen}},
		{"no void order", func(in *Input) {
			in.Audit.Payments[1].Log[0].Operation = vipps.OperationCancel
		}, map[string]Status{"void-order": NotSeen}},
		{"no partial refund", func(in *Input) {
			in.Audit.Requests[7].Op = "om-order"
		}, map[string]Status{"endpoints": NotSeen}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := goodAudit()
			tt.break_(&in)
			want := allPass()
			for k, v := range tt.want {
				want[k] = v
			}
			rs := Grade(in)
			if diff := cmp.Diff(want, statuses(rs)); diff != "" {
				for _, r := range rs {
					t.Logf("%s %s: %s %v", r.ID, r.Status, r.Summary, r.Evidence)
				}
				t.Errorf("Grade(...) statuses (-want +got):\n%s", diff)
			}
			if got := Failed(rs); got != (len(tt.want) > 0 && containsFail(tt.want)) {
				t.Errorf("Failed(...) = %v", got)
			}
		})
	}
}

func containsFail(m map[string]Status) bool {
	for _, s := range m {
		if s == Fail {
			return true
		}
	}
	return false
}

func TestGradeFlagsURLsVippsRefuses(t *testing.T) {
	in := goodAudit()
	in.Audit.Payments[0].FallBack = "http://localhost:8080/return/acme-order-1"
	rs := Grade(in)
	r := rs[7]
	if r.ID != "redirects" || r.Status != Pass {
		t.Fatalf("redirects = %+v, want pass (a flag, not a failure)", r)
	}
	if last := r.Evidence[len(r.Evidence)-1].Note; last != "fallBack http://localhost:8080/return/acme-order-1 is localhost, which real Vipps refuses" {
		t.Errorf("last evidence = %q", last)
	}
}

func TestOrderIDProblem(t *testing.T) {
	for id, want := range map[vipps.OrderID]string{
		"acme-shop-123-order123abc": "",
		"123456789":                 "digits only (a bare sequence number)",
		"0acme-123":                 "a leading zero",
		"ab-1":                      "shorter than 8 characters",
		"acme_shop_1":               "outside ^[a-zA-Z0-9-]{1,50}$",
	} {
		if got := orderIDProblem(id); got != want {
			t.Errorf("orderIDProblem(%q) = %q, want %q", id, got, want)
		}
	}
}
