package web

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/checklist"
	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/internal/staff"
)

// The words staff read for states, events, operations and deliveries;
// what is not listed is shown as it is stored.
var (
	adminStateLabels = map[payment.State]string{
		payment.Created:   "Created",
		payment.Initiated: "Waiting for customer",
		payment.Reserved:  "Reserved",
		payment.Captured:  "Captured",
		payment.Refunded:  "Refunded",
		payment.Cancelled: "Cancelled",
		payment.Voided:    "Released",
		payment.Failed:    "Failed",
	}
	adminEventLabels = map[payment.EventType]string{
		payment.EventCreated:         "Payment created",
		payment.EventInitiated:       "Sent to Vipps; waiting for the customer",
		payment.EventReserved:        "Customer approved; money reserved",
		payment.EventCaptured:        "Money captured",
		payment.EventRefunded:        "Money refunded",
		payment.EventCancelled:       "Cancelled",
		payment.EventVoided:          "Reservation released",
		payment.EventFailed:          "Payment failed",
		payment.EventExpired:         "Not approved (rejected or timed out)",
		payment.EventConsentRemoved:  "Customer withdrew consent; details deleted",
		payment.EventCallback:        "Vipps sent a notification",
		payment.EventVippsError:      "Error from Vipps",
		payment.EventOperationQueued: "Operation requested",
		payment.EventOperationFailed: "Operation refused by Vipps",
		payment.EventReceiptAdded:    "Receipt added",
		payment.EventReceiptSent:     "Receipt sent to the Vipps app",
		payment.EventSuperseded:      "Replaced by a newer payment",
		payment.EventExpressDetails:  "Vipps shared the customer's address and details",
		payment.EventChecked:         "Checked with Vipps",
		payment.EventDeliveryRetried: "Delivery queued again",
	}
	adminOpLabels = map[payment.OpKind]string{
		payment.OpCapture: "Capture",
		payment.OpRefund:  "Refund",
		payment.OpCancel:  "Cancel",
	}
	adminOpStatusLabels = map[payment.OpStatus]string{
		payment.OpPending:   "Waiting for Vipps",
		payment.OpSucceeded: "Done",
		payment.OpFailed:    "Refused",
	}
	adminTaskLabels = map[payment.TaskKind]string{
		payment.TaskWebhook:      "Notification to the shop",
		payment.TaskReceipt:      "Receipt to the Vipps app",
		payment.TaskSupersede:    "Release if a newer attempt exists",
		payment.TaskConsentCheck: "Delete the details if consent was withdrawn",
	}
	staffRoleLabels = map[staff.Role]string{
		staff.Viewer:   "Viewer",
		staff.Operator: "Operator",
		staff.Admin:    "Administrator",
	}
	staffRoleHelps = map[staff.Role]string{
		staff.Viewer:   "Reads payments, their history and deliveries.",
		staff.Operator: "Also captures, refunds, cancels, checks with Vipps and sends deliveries again.",
		staff.Admin:    "Also manages staff accounts and sees the go-live checklist.",
	}
	adminTaskStatusLabels = map[payment.TaskStatus]string{
		payment.TaskPending: "Waiting to be sent",
		payment.TaskDone:    "Delivered",
		payment.TaskDead:    "Gave up",
	}
)

// adminLabel is the label of v in labels, or v as stored.
func adminLabel[K ~string](labels map[K]string, v K) string {
	if l, ok := labels[v]; ok {
		return l
	}
	return string(v)
}

func adminStateLabel(st payment.State) string           { return adminLabel(adminStateLabels, st) }
func adminEventLabel(t payment.EventType) string        { return adminLabel(adminEventLabels, t) }
func adminOpLabel(k payment.OpKind) string              { return adminLabel(adminOpLabels, k) }
func adminOpStatusLabel(st payment.OpStatus) string     { return adminLabel(adminOpStatusLabels, st) }
func adminTaskLabel(k payment.TaskKind) string          { return adminLabel(adminTaskLabels, k) }
func adminTaskStatusLabel(st payment.TaskStatus) string { return adminLabel(adminTaskStatusLabels, st) }
func staffRoleLabel(r staff.Role) string                { return adminLabel(staffRoleLabels, r) }
func staffRoleHelp(r staff.Role) string                 { return adminLabel(staffRoleHelps, r) }

// adminStateHelp says what a payment's state means for staff, in l.
func adminStateHelp(l lang, p *payment.Payment) string {
	a := p.Amounts
	switch p.State {
	case payment.Created:
		return l.T("The payment is being sent to Vipps. If it stays like this, use “Check with Vipps now”.")
	case payment.Initiated:
		return l.T("Vipps has the payment and is waiting for the customer to approve it in the app. No money has moved yet.")
	case payment.Reserved:
		if a.Captured > 0 {
			return l.F("Part of the money is captured (%s); %s is still reserved on the customer's card and can be captured or released.", a.Captured.Kroner(), a.RemainingToCapture.Kroner())
		}
		return l.T("The customer approved: the money is reserved on their card but not taken. Capture it when the goods are sent, or cancel to release it.")
	case payment.Captured:
		if a.Refunded > 0 {
			return l.F("The money is taken; %s of it is refunded.", a.Refunded.Kroner())
		}
		return l.T("The money is taken from the customer. It can be refunded.")
	case payment.Refunded:
		return l.T("Everything that was taken is refunded to the customer.")
	case payment.Cancelled:
		return l.T("The payment ended before the customer approved it (cancelled, rejected in the app, or not approved in time). No money was taken.")
	case payment.Voided:
		return l.T("The reservation was released without taking any money. The customer has the money back.")
	case payment.Failed:
		return l.T("The payment failed (for example, the card was refused). No money was taken.")
	}
	return ""
}

// adminEventDetail explains an event's data in a line, in l.
func adminEventDetail(l lang, e payment.Event) string {
	if len(e.Data) == 0 {
		return ""
	}
	switch e.Type {
	case payment.EventVippsError, payment.EventOperationFailed:
		var ve payment.VippsError
		if json.Unmarshal(e.Data, &ve) == nil && ve.Message != "" {
			return ve.StaffMessageIn(string(l)) + adminErrorRef(ve.Group, ve.Code, ve.ContextID)
		}
	case payment.EventOperationQueued:
		var d struct {
			Op        payment.OpKind     `json:"op"`
			RequestID string             `json:"requestId"`
			Release   bool               `json:"release"`
			Lines     []payment.LinePick `json:"lines"`
		}
		if json.Unmarshal(e.Data, &d) == nil && d.Op != "" {
			s := l.T(adminOpLabel(d.Op))
			if d.Release {
				s = l.T("Cancel, releasing what remains")
			}
			if len(d.Lines) > 0 {
				s += ": " + adminLines(l, d.Lines)
			}
			return l.F("%s (request id %s)", s, d.RequestID)
		}
	case payment.EventCallback:
		var d struct {
			Status vipps.CallbackStatus `json:"status"`
			Error  *vipps.ErrorDetail   `json:"errorInfo"`
		}
		if json.Unmarshal(e.Data, &d) == nil && d.Status != "" {
			s := l.F("Status %s", d.Status)
			if d.Error != nil {
				s += ": " + d.Error.Message + adminErrorRef(string(d.Error.Group), string(d.Error.Code), d.Error.ContextID)
			}
			return s
		}
	case payment.EventChecked:
		return ""
	case payment.EventDeliveryRetried:
		var d struct {
			Task int64            `json:"task"`
			Kind payment.TaskKind `json:"kind"`
		}
		if json.Unmarshal(e.Data, &d) == nil && d.Task != 0 {
			return "#" + strconv.FormatInt(d.Task, 10) + " " + strings.ToLower(l.T(adminTaskLabel(d.Kind)))
		}
	case payment.EventSuperseded:
		var d struct {
			Newer vipps.OrderID `json:"newer"`
		}
		if json.Unmarshal(e.Data, &d) == nil && d.Newer != "" {
			return l.F("The customer approved after a newer attempt (%s) was started; this one is released so they do not pay twice.", d.Newer)
		}
	}
	var b bytes.Buffer
	if json.Compact(&b, e.Data) != nil {
		return string(e.Data)
	}
	return b.String()
}

// adminErrorRef is what to quote to Vipps about an error, or "".
func adminErrorRef(group, code, contextID string) string {
	var parts []string
	if group != "" || code != "" {
		parts = append(parts, strings.TrimSpace("error "+group+" "+code))
	}
	if contextID != "" {
		parts = append(parts, "contextId "+contextID)
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// adminKronerOrDash is a.Kroner(), or "–" for nothing.
func adminKronerOrDash(a vipps.Amount) string {
	if a == 0 {
		return "–"
	}
	return a.Kroner()
}

// adminOpAmount is an operation's amount as staff read it, in l.
func adminOpAmount(l lang, op *payment.Operation) string {
	switch {
	case op.Kind == payment.OpCancel:
		return "–"
	case op.Amount == 0:
		return l.T("all that remained")
	}
	return op.Amount.Kroner()
}

// checklistStatusLabels are the words staff read for a go-live checklist
// grade.
var checklistStatusLabels = map[checklist.Status]string{
	checklist.Pass:    "Pass",
	checklist.Fail:    "Fail",
	checklist.Manual:  "Check by hand",
	checklist.NotSeen: "Not seen yet",
}

// checklistStatusLabel is the label of a checklist grade.
func checklistStatusLabel(st checklist.Status) string {
	if l, ok := checklistStatusLabels[st]; ok {
		return l
	}
	return string(st)
}
