package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

// Limits of the admin's form fields, in characters: the longest
// transaction text Vipps takes, an amount in kroner as people type it
// ("1 299 999,50 kr" and then some), and the longest idempotency key the
// service takes.
const (
	adminTextMax   = 100
	adminAmountMax = 20
	adminKeyMax    = 200
)

// adminCapture serves POST /admin/payments/{orderId}/capture (form fields
// amount, text, key).
func (s *Server) adminCapture(w http.ResponseWriter, r *http.Request) {
	s.adminOperate(w, r, payment.OpCapture, s.svc.Capture)
}

// adminRefund serves POST /admin/payments/{orderId}/refund (form fields
// amount, text, key).
func (s *Server) adminRefund(w http.ResponseWriter, r *http.Request) {
	s.adminOperate(w, r, payment.OpRefund, s.svc.Refund)
}

// adminCancel serves POST /admin/payments/{orderId}/cancel (form fields
// release, text, key).
func (s *Server) adminCancel(w http.ResponseWriter, r *http.Request) {
	s.adminOperate(w, r, payment.OpCancel, s.svc.Cancel)
}

// adminOperate reads an operation form, has the service carry it out once
// (by the form's idempotency key) and sends the browser back to the
// payment with what happened. The service decides what is allowed; a
// refusal is told in kroner.
func (s *Server) adminOperate(w http.ResponseWriter, r *http.Request, kind payment.OpKind, do opFunc) {
	ctx := r.Context()
	id := vipps.OrderID(r.PathValue("orderId"))
	if err := checkOrderID(id); err != nil {
		s.adminFail(w, r, "", err)
		return
	}
	back := func(kind, msg string) { s.adminBack(w, r, id, kind, msg) }

	req := payment.OpRequest{
		Key:              r.PostFormValue("key"),
		Text:             strings.TrimSpace(r.PostFormValue("text")),
		ReleaseRemaining: r.PostFormValue("release") != "",
	}
	switch {
	case req.Key == "":
		back(adminError, "The form was incomplete (no request key); nothing was done. Reload the page and try again.")
		return
	case len(req.Key) > adminKeyMax:
		back(adminError, fmt.Sprintf("The form was damaged (its request key is over %d characters); nothing was done. Reload the page and try again.", adminKeyMax))
		return
	}
	if n := utf8.RuneCountInString(req.Text); n > adminTextMax {
		back(adminError, fmt.Sprintf("The text is %d characters; Vipps takes at most %d. Nothing was done.", n, adminTextMax))
		return
	}
	if kind != payment.OpCancel {
		if n := utf8.RuneCountInString(r.PostFormValue("amount")); n > adminAmountMax {
			back(adminError, fmt.Sprintf("The amount is %d characters; type at most %d, such as 1 299,50. Nothing was done.", n, adminAmountMax))
			return
		}
		amt, err := adminAmount(r.PostFormValue("amount"))
		if err != nil {
			back(adminError, "Nothing was done: "+err.Error())
			return
		}
		req.Amount = amt
	}
	// The payment as it was, to say what "all that remains" came to.
	before, err := s.svc.Get(ctx, id)
	if err != nil {
		back(adminError, s.adminRefusal(r, id, err))
		return
	}
	op, err := do(ctx, id, req)
	if err != nil {
		back(adminError, s.adminRefusal(r, id, err))
		return
	}
	again := ""
	if op.Replay {
		again = "This form was sent before, so nothing was done twice. "
		before = nil // the amounts are not those of the first request's time
	}
	switch op.Status {
	case payment.OpPending:
		if op.Sends == 0 {
			back(adminWarn, again+"Another operation of this payment is still with Vipps; this one is sent right after it. Refresh in a minute.")
			return
		}
		back(adminWarn, again+"Vipps did not answer in time; the service will retry with the same request id. Refresh in a minute.")
	case payment.OpFailed:
		msg := "Vipps refused the request."
		if op.Error != nil {
			msg = op.Error.Message
		}
		if op.Error != nil && op.Error.StatusCode == 0 {
			// Refused before sending, from what Vipps had reported.
			back(adminError, again+fmt.Sprintf("The %s was not sent to Vipps: %s", kind, msg))
			return
		}
		back(adminError, again+fmt.Sprintf("Vipps refused the %s: %s", kind, msg))
	default:
		back(adminOK, again+adminDone(op, before))
	}
}

// adminAmount reads the amount field of a capture or refund form (see
// vipps.ParseKroner). Empty means 0: all that remains; a typed 0 is
// refused, since it would mean the same.
func adminAmount(s string) (vipps.Amount, error) {
	if strings.TrimSpace(s) == "" {
		return 0, nil
	}
	a, err := vipps.ParseKroner(s)
	switch {
	case err != nil:
		return 0, err
	case a == 0:
		return 0, errors.New("the amount is 0; leave the field empty to take all that is left")
	}
	return a, nil
}

// adminDone says what a succeeded operation did; before is the payment as
// it was, or nil when unknown.
func adminDone(op *payment.Operation, before *payment.Payment) string {
	amount := func(rest func(payment.Amounts) vipps.Amount, all string) string {
		if op.Amount > 0 {
			return op.Amount.Kroner()
		}
		if before != nil {
			return rest(before.Amounts).Kroner()
		}
		return all
	}
	switch op.Kind {
	case payment.OpCapture:
		return "Captured " + amount(func(a payment.Amounts) vipps.Amount { return a.RemainingToCapture }, "everything that was left") + "."
	case payment.OpRefund:
		return "Refunded " + amount(func(a payment.Amounts) vipps.Amount { return a.RemainingToRefund }, "everything that was left") +
			" to the customer. It can take a few days to reach their account."
	}
	switch {
	case before == nil:
		return "Cancelled."
	case before.State.WaitingForCustomer():
		return "Cancelled: the customer can no longer pay this payment."
	case op.ReleaseRemaining:
		return "Released what was still reserved; the customer has that money back."
	}
	return "Cancelled: the reservation is released and the customer has the money back."
}

// adminCheck serves POST /admin/payments/{orderId}/check: ask Vipps now.
func (s *Server) adminCheck(w http.ResponseWriter, r *http.Request) {
	id := vipps.OrderID(r.PathValue("orderId"))
	if err := checkOrderID(id); err != nil {
		s.adminFail(w, r, "", err)
		return
	}
	p, err := s.svc.Check(r.Context(), id)
	switch {
	case err != nil && p != nil && statusOf(err) == http.StatusInternalServerError:
		s.adminBack(w, r, id, adminError, s.adminRefusal(r, id, err))
	case err != nil && p != nil: // stored, but Vipps could not be asked
		s.adminBack(w, r, id, adminError, "Could not check with Vipps: "+adminReason(err, id))
	case err != nil:
		s.adminBack(w, r, id, adminError, s.adminRefusal(r, id, err))
	default:
		s.adminBack(w, r, id, adminOK, "Checked with Vipps: the payment is "+strings.ToLower(adminStateLabel(p.State))+".")
	}
}

// adminRetryTask serves POST /admin/tasks/{taskId}/retry (form field
// orderId): deliver a webhook or receipt again, now.
func (s *Server) adminRetryTask(w http.ResponseWriter, r *http.Request) {
	id := vipps.OrderID(r.PostFormValue("orderId"))
	if checkOrderID(id) != nil {
		http.Error(w, "The form was incomplete (no orderId); go back and reload the page.", http.StatusBadRequest)
		return
	}
	taskID, err := strconv.ParseInt(r.PathValue("taskId"), 10, 64)
	if err != nil {
		s.adminBack(w, r, id, adminError, "There is no such delivery.")
		return
	}
	t, err := s.svc.RetryTask(r.Context(), id, taskID)
	switch {
	case errors.Is(err, payment.ErrNotFound):
		s.adminBack(w, r, id, adminError, fmt.Sprintf("Payment %s has no delivery #%d.", id, taskID))
	case err != nil:
		s.adminBack(w, r, id, adminError, s.adminRefusal(r, id, err))
	case t.Status == payment.TaskDone:
		s.adminBack(w, r, id, adminOK, fmt.Sprintf("Delivery #%d has succeeded already; nothing to do.", taskID))
	default:
		s.adminBack(w, r, id, adminOK, fmt.Sprintf("Delivery #%d (%s) is queued again and will be sent shortly.", taskID, strings.ToLower(adminTaskLabel(t.Kind))))
	}
}
