package checklist

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vippskit/vipps"
)

// Orders is what Vipps itself says about a merchant's test orders: the
// input of [GradeVipps]. The caller fetches it (cmd/vipps, checklist
// -vipps); nothing here calls anything.
type Orders struct {
	// VippsURL is the Vipps base URL the details came from:
	// vipps.TestURL, vipps.ProductionURL or a simulator.
	VippsURL string
	// SystemName and SystemVersion are what the client sent as
	// Vipps-System-Name and Vipps-System-Version.
	SystemName, SystemVersion string
	// Details are the /details answers of the orders, in the order given.
	Details []vipps.PaymentDetails
}

// GradeVipps grades the go-live checklist from the /details of given test
// orders, as steps 5 and 6 of Vipps' go-live flow ask: one order ending in
// REFUND and one ending in VOID. It also grades the headers (what the
// client sent) and the endpoints the orders' logs show; the other items
// cannot be seen from Vipps and are not-seen, pointing to the simulator's
// audit and the service's own checklist. The results have the ids and
// order of Items.
func GradeVipps(in Orders) []Result {
	by := map[string]Result{
		"endpoints":    vippsEndpoints(in),
		"headers":      vippsHeaders(in),
		"refund-order": vippsEnding(in, vipps.OperationRefund),
		"void-order":   vippsEnding(in, vipps.OperationVoid),
	}
	out := make([]Result, 0, len(Items))
	for _, it := range Items {
		r, ok := by[it.ID]
		if !ok {
			r = Result{Status: NotSeen, Summary: "Vipps' /details do not show this",
				Fix: "Grade it with the simulator's audit (vipps sim -audit, then vipps checklist -sim URL), or, for vipps serve, on its admin page /admin/checklist (vipps checklist -service URL)."}
		}
		r.ID, r.Title = it.ID, it.Title
		if r.Evidence == nil {
			r.Evidence = []Evidence{}
		}
		out = append(out, r)
	}
	return out
}

// Ending tells how a payment ends: "" when it ends in op, with everything
// captured refunded; else why not, such as "its latest entry is CAPTURE".
// The latest entry is the newest successful one: a failed attempt changes
// nothing.
func Ending(d vipps.PaymentDetails, op vipps.Operation) string {
	last, ok := d.Last()
	switch {
	case !ok:
		return "its log has no successful entry"
	case last.Operation != op:
		return "its latest entry is " + string(last.Operation)
	}
	if _, ok := d.Last(vipps.OperationReserve); !ok {
		return "it was never reserved"
	}
	var captured, refunded vipps.Amount
	for _, e := range d.TransactionLogHistory {
		if !e.OperationSuccess {
			continue
		}
		switch e.Operation {
		case vipps.OperationCapture:
			captured += e.Amount
		case vipps.OperationRefund:
			refunded += e.Amount
		}
	}
	if captured != refunded {
		return fmt.Sprintf("its log shows %s captured and %s refunded", captured.Kroner(), refunded.Kroner())
	}
	if s := d.TransactionSummary; s != nil && (s.CapturedAmount != s.RefundedAmount || s.RemainingAmountToRefund != 0) {
		return fmt.Sprintf("its summary shows %s captured, %s refunded and %s left to refund",
			s.CapturedAmount.Kroner(), s.RefundedAmount.Kroner(), s.RemainingAmountToRefund.Kroner())
	}
	if op == vipps.OperationRefund && captured == 0 {
		return "nothing was captured"
	}
	return ""
}

// logEvidence is one line per successful entry of the payment's log,
// oldest first.
func logEvidence(d vipps.PaymentDetails) []Evidence {
	var ev []Evidence
	for _, e := range slices.Backward(d.TransactionLogHistory) {
		if !e.OperationSuccess {
			continue
		}
		note := fmt.Sprintf("%s %s", e.Operation, e.Amount.Kroner())
		if e.TransactionID != "" {
			note += ", transaction " + e.TransactionID
		}
		ev = append(ev, Evidence{OrderID: d.OrderID, RequestID: e.RequestID, Time: e.TimeStamp.Time, Note: note})
	}
	return ev
}

func vippsEnding(in Orders, op vipps.Operation) Result {
	var why []Evidence
	for _, d := range in.Details {
		problem := Ending(d, op)
		if problem == "" {
			return Result{Status: Pass, Summary: fmt.Sprintf("order %s ends in %s at %s", d.OrderID, op, environment(in.VippsURL)),
				Evidence: logEvidence(d)}
		}
		why = append(why, Evidence{OrderID: d.OrderID, Note: "does not end in " + string(op) + ": " + problem})
	}
	r := Result{Evidence: why}
	if op == vipps.OperationRefund {
		r.Fix = "Reserve a test order, capture it and refund all of it (vipps capture ID, vipps refund ID), then give its orderId; or let vipps checklist -vipps -run-test-orders do it."
	} else {
		r.Fix = "Reserve a test order and cancel it before any capture (vipps cancel ID), then give its orderId; or let vipps checklist -vipps -run-test-orders do it."
	}
	if len(in.Details) == 0 {
		r.Status, r.Summary = NotSeen, "no orders given"
		return r
	}
	r.Status, r.Summary = Fail, fmt.Sprintf("none of the %s ends in %s", count(len(in.Details), "order", "orders"), op)
	return r
}

func vippsHeaders(in Orders) Result {
	r := Result{Evidence: []Evidence{{Note: fmt.Sprintf("Vipps-System-Name %q, Vipps-System-Version %q, and the Vipps-System-Plugin-* headers, on every request to %s", in.SystemName, in.SystemVersion, environment(in.VippsURL))}}}
	if in.SystemName == "" || in.SystemVersion == "" {
		r.Status, r.Summary = Fail, "the system name or version is empty"
		r.Fix = "Set -system-name and -system-version (VIPPS_SYSTEM_NAME, VIPPS_SYSTEM_VERSION)."
		return r
	}
	r.Status, r.Summary = Pass, "the client sends the four Vipps-System-* headers on every request"
	return r
}

// vippsEndpoints grades the endpoints the orders' logs show were used.
func vippsEndpoints(in Orders) Result {
	seen := map[string]Evidence{}
	note := func(name string, d vipps.PaymentDetails, e vipps.LogEntry) {
		if _, ok := seen[name]; !ok {
			seen[name] = Evidence{OrderID: d.OrderID, RequestID: e.RequestID, Time: e.TimeStamp.Time, Note: fmt.Sprintf("%s: %s %s", name, e.Operation, e.Amount.Kroner())}
		}
	}
	for _, d := range in.Details {
		reserve, ok := d.Last(vipps.OperationReserve)
		if !ok {
			continue
		}
		note("initiate and details", d, reserve)
		var captured vipps.Amount
		if d.TransactionSummary != nil {
			captured = d.TransactionSummary.CapturedAmount
		}
		for _, e := range d.TransactionLogHistory {
			if !e.OperationSuccess {
				continue
			}
			switch e.Operation {
			case vipps.OperationCapture:
				note(fullOrPartial(e.Amount, reserve.Amount)+" capture", d, e)
			case vipps.OperationRefund:
				note(fullOrPartial(e.Amount, captured)+" refund", d, e)
			case vipps.OperationVoid:
				note("cancel", d, e)
			}
		}
	}
	var r Result
	var missing []string
	r.Evidence, missing = seenIn(endpointVariants, seen)
	if len(missing) == 0 {
		r.Status, r.Summary = Pass, "the orders show initiate, details, full and partial capture and refund, and cancel"
		return r
	}
	r.Status, r.Summary = NotSeen, "the orders do not show: "+strings.Join(missing, ", ")
	r.Fix = "Give orders that show them too, or grade the endpoints with the simulator's audit (vipps checklist -sim URL) or the service's page (vipps checklist -service URL)."
	return r
}

// endpointVariants are the endpoints and variants the service and the
// Vipps modes look for, by the names they note them under.
var endpointVariants = []string{"initiate and details", "full capture", "partial capture", "cancel", "full refund", "partial refund"}

// fullOrPartial names an operation of amount out of all.
func fullOrPartial(amount, all vipps.Amount) string {
	if amount < all {
		return "partial"
	}
	return "full"
}
