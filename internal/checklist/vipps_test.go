package checklist

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps"
)

// entry is one log entry at second s; ok is operationSuccess.
func entry(op vipps.Operation, amount vipps.Amount, s int, ok bool) vipps.LogEntry {
	return vipps.LogEntry{Operation: op, Amount: amount, OperationSuccess: ok, TimeStamp: vipps.Time{Time: at(s)},
		TransactionID: "1000000" + string(rune('0'+s%10)) + "00", RequestID: "req-" + string(op)}
}

// details builds /details of an order from its entries, oldest first (as
// one reads a story), with the summary Vipps would give.
func details(id vipps.OrderID, oldestFirst ...vipps.LogEntry) vipps.PaymentDetails {
	d := vipps.PaymentDetails{OrderID: id, TransactionLogHistory: slices.Clone(oldestFirst)}
	slices.Reverse(d.TransactionLogHistory)
	var reserved, captured, refunded vipps.Amount
	var acted bool
	for _, e := range oldestFirst {
		if !e.OperationSuccess {
			continue
		}
		switch e.Operation {
		case vipps.OperationReserve:
			reserved, acted = e.Amount, true
		case vipps.OperationCapture:
			captured += e.Amount
		case vipps.OperationRefund:
			refunded += e.Amount
		case vipps.OperationVoid:
			reserved = captured
		}
	}
	if acted {
		d.TransactionSummary = &vipps.TransactionSummary{CapturedAmount: captured, RefundedAmount: refunded,
			RemainingAmountToCapture: reserved - captured, RemainingAmountToRefund: captured - refunded}
	}
	return d
}

var (
	initiate = entry(vipps.OperationInitiate, 200, 0, true)
	reserve  = entry(vipps.OperationReserve, 200, 1, true)
	capture  = entry(vipps.OperationCapture, 200, 2, true)
	refund   = entry(vipps.OperationRefund, 200, 3, true)
	void     = entry(vipps.OperationVoid, 200, 2, true)
)

func TestEnding(t *testing.T) {
	tests := []struct {
		name string
		d    vipps.PaymentDetails
		op   vipps.Operation
		want string
	}{
		{"refunded in full", details("acme-1", initiate, reserve, capture, refund), vipps.OperationRefund, ""},
		{"refunded in two parts", details("acme-1", initiate, reserve, capture,
			entry(vipps.OperationRefund, 50, 3, true), entry(vipps.OperationRefund, 150, 4, true)), vipps.OperationRefund, ""},
		{"a failed refund after the full one changes nothing", details("acme-1", initiate, reserve, capture, refund,
			entry(vipps.OperationRefund, 100, 5, false)), vipps.OperationRefund, ""},
		{"refunded in part", details("acme-1", initiate, reserve, capture, entry(vipps.OperationRefund, 50, 3, true)),
			vipps.OperationRefund, "its log shows 2,00\u00a0kr captured and 0,50\u00a0kr refunded"},
		{"captured only", details("acme-1", initiate, reserve, capture), vipps.OperationRefund, "its latest entry is CAPTURE"},
		{"voided is no refund", details("acme-1", initiate, reserve, void), vipps.OperationRefund, "its latest entry is VOID"},
		{"voided", details("acme-2", initiate, reserve, void), vipps.OperationVoid, ""},
		{"voided after a partial capture", details("acme-2", initiate, reserve, entry(vipps.OperationCapture, 100, 2, true),
			entry(vipps.OperationVoid, 100, 3, true)), vipps.OperationVoid, "its log shows 1,00\u00a0kr captured and 0,00\u00a0kr refunded"},
		{"rejected by the user", details("acme-2", initiate, entry(vipps.OperationCancel, 200, 1, true)), vipps.OperationVoid, "its latest entry is CANCEL"},
		{"a failed reservation", details("acme-2", initiate, entry(vipps.OperationReserve, 200, 1, false)), vipps.OperationVoid, "its latest entry is INITIATE"},
		{"nothing at all", vipps.PaymentDetails{OrderID: "acme-3"}, vipps.OperationVoid, "its log has no successful entry"},
		{"a summary that disagrees", func() vipps.PaymentDetails {
			d := details("acme-1", initiate, reserve, capture, refund)
			d.TransactionSummary.RemainingAmountToRefund = 100
			return d
		}(), vipps.OperationRefund, "its summary shows 2,00\u00a0kr captured, 2,00\u00a0kr refunded and 1,00\u00a0kr left to refund"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Ending(tt.d, tt.op); got != tt.want {
				t.Errorf("Ending(%s, %s) = %q, want %q", tt.d.OrderID, tt.op, got, tt.want)
			}
		})
	}
}

func TestGradeVipps(t *testing.T) {
	refunded := details("acme-refund", initiate, reserve, capture, refund)
	voided := details("acme-void", initiate, reserve, void)
	partial := details("acme-part", initiate, reserve, entry(vipps.OperationCapture, 100, 2, true),
		entry(vipps.OperationRefund, 50, 3, true))
	captured := details("acme-cap", initiate, reserve, capture)
	tests := []struct {
		name string
		in   Orders
		want map[string]Status
	}{
		{"refund and void", Orders{Details: []vipps.PaymentDetails{refunded, voided}},
			map[string]Status{"refund-order": Pass, "void-order": Pass, "headers": Pass, "endpoints": NotSeen}},
		{"every variant", Orders{Details: []vipps.PaymentDetails{voided, partial, refunded}},
			map[string]Status{"refund-order": Pass, "void-order": Pass, "headers": Pass, "endpoints": Pass}},
		{"no void", Orders{Details: []vipps.PaymentDetails{refunded, captured}},
			map[string]Status{"refund-order": Pass, "void-order": Fail, "headers": Pass, "endpoints": NotSeen}},
		{"no orders", Orders{},
			map[string]Status{"refund-order": NotSeen, "void-order": NotSeen, "headers": Pass, "endpoints": NotSeen}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.VippsURL, tt.in.SystemName, tt.in.SystemVersion = vipps.TestURL, "acme", "1.0"
			rs := GradeVipps(tt.in)
			if len(rs) != len(Items) {
				t.Fatalf("GradeVipps returned %d results, want %d", len(rs), len(Items))
			}
			got := map[string]Status{}
			for i, r := range rs {
				if r.ID != Items[i].ID {
					t.Errorf("GradeVipps()[%d].ID = %s, want %s", i, r.ID, Items[i].ID)
				}
				if r.Status != Pass && r.Fix == "" {
					t.Errorf("GradeVipps(): %s is %s without a fix", r.ID, r.Status)
				}
				if _, graded := tt.want[r.ID]; graded {
					got[r.ID] = r.Status
				} else if r.Status != NotSeen {
					t.Errorf("GradeVipps(): %s = %s, want %s", r.ID, r.Status, NotSeen)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("GradeVipps() statuses (-want +got):\n%s", diff)
			}
		})
	}
}

// TestGradeVippsEvidence pins what a passing refund-order shows: the
// order's successful log entries, oldest first, with their transaction ids
// and times.
func TestGradeVippsEvidence(t *testing.T) {
	refunded := details("acme-refund", initiate, reserve, capture, entry(vipps.OperationRefund, 300, 4, false), refund)
	rs := GradeVipps(Orders{VippsURL: vipps.TestURL, SystemName: "acme", SystemVersion: "1.0", Details: []vipps.PaymentDetails{refunded}})
	var got Result
	for _, r := range rs {
		if r.ID == "refund-order" {
			got = r
		}
	}
	want := Result{ID: "refund-order", Title: "A test order ending in REFUND", Status: Pass,
		Summary: "order acme-refund ends in REFUND at the Vipps test environment",
		Evidence: []Evidence{
			{OrderID: "acme-refund", RequestID: "req-INITIATE", Time: at(0), Note: "INITIATE 2,00\u00a0kr, transaction 1000000000"},
			{OrderID: "acme-refund", RequestID: "req-RESERVE", Time: at(1), Note: "RESERVE 2,00\u00a0kr, transaction 1000000100"},
			{OrderID: "acme-refund", RequestID: "req-CAPTURE", Time: at(2), Note: "CAPTURE 2,00\u00a0kr, transaction 1000000200"},
			{OrderID: "acme-refund", RequestID: "req-REFUND", Time: at(3), Note: "REFUND 2,00\u00a0kr, transaction 1000000300"},
		}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GradeVipps() refund-order (-want +got):\n%s", diff)
	}
}
