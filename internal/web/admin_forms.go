package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

// Limits of the admin's form fields, in characters: the longest
// transaction text Vipps takes, an amount in kroner as people type it
// ("1 299 999,50 kr" and then some), the longest idempotency key the
// service takes, and a quantity of a receipt line.
const (
	adminTextMax     = 100
	adminAmountMax   = 20
	adminKeyMax      = 200
	adminQuantityMax = 6
)

// adminCapture serves POST /admin/payments/{orderId}/capture (form fields
// amount or line-N quantities, text, key).
func (s *Server) adminCapture(w http.ResponseWriter, r *http.Request) {
	s.adminOperate(w, r, payment.OpCapture, s.svc.Capture)
}

// adminRefund serves POST /admin/payments/{orderId}/refund (form fields
// amount or line-N quantities, text, key; confirm, once a refund of
// everything is confirmed).
func (s *Server) adminRefund(w http.ResponseWriter, r *http.Request) {
	s.adminOperate(w, r, payment.OpRefund, s.svc.Refund)
}

// adminCancel serves POST /admin/payments/{orderId}/cancel (form fields
// text, key; release and confirm, once confirmed).
func (s *Server) adminCancel(w http.ResponseWriter, r *http.Request) {
	s.adminOperate(w, r, payment.OpCancel, s.svc.Cancel)
}

// adminFormError is a refused form: the payment page is shown again with
// the status of the refusal, the values as they were sent, and the message
// next to the field at fault and in the summary at the top.
type adminFormError struct {
	Status int
	// Form is the form that was sent.
	Form payment.OpKind
	// Field is the id of the input at fault ("capture-amount",
	// "refund-line-0"), or "" when the form as a whole was refused.
	Field   string
	Message string
	// Values are the form's fields as sent.
	Values url.Values
}

// adminOperate reads an operation form and has the service carry it out
// once (by the form's idempotency key). A refund of everything and a
// cancel are first shown on a page that asks to confirm them; only the
// form of that page (with confirm set, and the same key) acts. What was
// done is told on the payment page after a redirect; a refused form is
// answered with the payment page itself (adminFormError). The service
// decides what is allowed.
func (s *Server) adminOperate(w http.ResponseWriter, r *http.Request, kind payment.OpKind, do opFunc) {
	ctx := r.Context()
	l := s.lang(r)
	id := vipps.OrderID(r.PathValue("orderId"))
	if err := checkOrderID(id); err != nil {
		s.adminFail(w, r, "", err)
		return
	}
	refuse := func(status int, field, msg string) {
		s.adminPaymentPage(w, r, id, &adminFormError{Status: status, Form: kind, Field: field, Message: msg, Values: r.PostForm})
	}

	req := payment.OpRequest{
		Key:              r.PostFormValue("key"),
		Text:             strings.TrimSpace(r.PostFormValue("text")),
		ReleaseRemaining: r.PostFormValue("release") != "",
	}
	switch {
	case req.Key == "":
		refuse(http.StatusBadRequest, "", l.T("The form was incomplete (no request key); nothing was done. Reload the page and try again."))
		return
	case len(req.Key) > adminKeyMax:
		refuse(http.StatusBadRequest, "", l.F("The form was damaged (its request key is over %d characters); nothing was done. Reload the page and try again.", adminKeyMax))
		return
	}
	if n := utf8.RuneCountInString(req.Text); n > adminTextMax {
		refuse(http.StatusBadRequest, adminField(kind, "text"), l.F("The text is %d characters; Vipps takes at most %d. Nothing was done.", n, adminTextMax))
		return
	}
	// The payment as it was: its receipt, and what "all that remains"
	// came to.
	h, err := s.svc.History(ctx, id)
	if err != nil {
		if statusOf(err) == http.StatusNotFound {
			s.adminFail(w, r, id, err)
			return
		}
		refuse(statusOf(err), "", s.adminRefusal(r, id, err))
		return
	}
	before := h.Payment
	if kind != payment.OpCancel {
		picks, field, msg := adminPicks(l, kind, r.PostForm, before.Receipt)
		if msg != "" {
			refuse(http.StatusBadRequest, field, msg)
			return
		}
		// By lines, the amount follows from them; a sent amount is ignored.
		req.Lines = picks
		if len(picks) == 0 {
			if n := utf8.RuneCountInString(r.PostFormValue("amount")); n > adminAmountMax {
				refuse(http.StatusBadRequest, adminField(kind, "amount"), l.F("The amount is %d characters; type at most %d, such as 1 299,50. Nothing was done.", n, adminAmountMax))
				return
			}
			if req.Amount, msg = adminAmount(l, r.PostFormValue("amount")); msg != "" {
				refuse(http.StatusBadRequest, adminField(kind, "amount"), msg)
				return
			}
		}
	}
	// Ask first, unless the payment does not allow it anyway: then the
	// service's refusal says why at once.
	x := before.Actions()
	if r.PostFormValue("confirm") == "" &&
		((kind == payment.OpCancel && x.Cancel) || (kind == payment.OpRefund && req.Amount == 0 && len(req.Lines) == 0 && x.Refund > 0)) {
		s.adminConfirm(w, r, h, kind, req)
		return
	}

	op, err := do(ctx, id, req)
	if err != nil {
		field, msg := s.adminOpRefusal(r, kind, id, req, err)
		refuse(statusOf(err), field, msg)
		return
	}
	again := ""
	if op.Replay {
		again = l.T("This form was sent before, so nothing was done twice.") + " "
		before = nil // the amounts are not those of the first request's time
	}
	switch op.Status {
	case payment.OpPending:
		if op.Sends == 0 {
			s.adminBack(w, r, id, adminWarn, again+l.T("Another operation of this payment is still with Vipps; this one is sent right after it. Refresh in a minute."))
			return
		}
		s.adminBack(w, r, id, adminWarn, again+l.T("Vipps did not answer in time; the service will retry with the same request id. Refresh in a minute."))
	case payment.OpFailed:
		msg := l.T("Vipps gave no reason.")
		status := http.StatusUnprocessableEntity
		if op.Error != nil {
			msg = op.Error.Message
			switch {
			case op.Error.StatusCode == 0:
				// Refused before sending, from what Vipps had reported.
				refuse(http.StatusConflict, "", again+adminNotSent(l, kind, msg))
				return
			case op.Error.StatusCode >= 500:
				status = http.StatusBadGateway
			}
		}
		refuse(status, "", again+adminVippsRefused(l, kind, msg))
	default:
		s.adminBack(w, r, id, adminOK, again+adminDone(l, op, before, req.Lines))
	}
}

// adminField is the id of a form's input, such as "capture-amount".
func adminField(kind payment.OpKind, name string) string { return string(kind) + "-" + name }

// adminLineField is the id of the quantity input of receipt line i.
func adminLineField(kind payment.OpKind, i int) string {
	return adminField(kind, "line-"+strconv.Itoa(i))
}

// adminPicks reads the quantities of a capture or refund form's receipt
// lines (fields line-0, line-1, …; empty is 0). It returns the picks of
// more than 0, or the id of the field at fault and what is wrong with it.
func adminPicks(l lang, kind payment.OpKind, form url.Values, rc *vipps.Receipt) (picks []payment.LinePick, field, msg string) {
	if rc == nil {
		return nil, "", ""
	}
	for i := range rc.OrderLines {
		v := strings.TrimSpace(form.Get("line-" + strconv.Itoa(i)))
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		switch {
		case len(v) > adminQuantityMax || err != nil:
			return nil, adminLineField(kind, i), l.F("Type the quantity of %s as a whole number, such as 2.", rc.OrderLines[i].Name)
		case n < 0:
			return nil, adminLineField(kind, i), l.F("The quantity of %s is negative; type 0 or more.", rc.OrderLines[i].Name)
		case n > 0:
			picks = append(picks, payment.LinePick{Line: i, Quantity: n})
		}
	}
	return picks, "", ""
}

// adminAmount reads the amount field of a capture or refund form (see
// vipps.ParseKroner). Empty means 0: all that remains; a typed 0 is
// refused, since it would mean the same. msg says what is wrong, in l.
func adminAmount(l lang, s string) (a vipps.Amount, msg string) {
	if strings.TrimSpace(s) == "" {
		return 0, ""
	}
	a, err := vipps.ParseKroner(s)
	switch {
	case err != nil:
		return 0, l.F("%q is not an amount in kroner. Type it like 149, 149,50 or 1 299,50: no minus sign, at most two decimals.", s)
	case a == 0:
		return 0, l.T("The amount is 0; leave the field empty to take all that is left.")
	}
	return a, ""
}

// adminOpRefusal says why the service refused an operation, and which
// field of its form is at fault ("" for none).
func (s *Server) adminOpRefusal(r *http.Request, kind payment.OpKind, id vipps.OrderID, req payment.OpRequest, err error) (field, msg string) {
	if rf, ok := errors.AsType[*payment.Refusal](err); ok {
		switch rf.Reason {
		case payment.OverLine:
			field = adminLineField(kind, rf.Line)
		case payment.OverLimit:
			field = adminField(kind, "amount")
			if len(req.Lines) > 0 {
				field = adminLineField(kind, req.Lines[0].Line)
			}
		}
	}
	return field, s.adminRefusal(r, id, err)
}

// adminNotSent says that an operation was refused before it was sent,
// from what Vipps had reported (msg).
func adminNotSent(l lang, kind payment.OpKind, msg string) string {
	switch kind {
	case payment.OpCapture:
		return l.F("The capture was not sent to Vipps: %s", msg)
	case payment.OpRefund:
		return l.F("The refund was not sent to Vipps: %s", msg)
	}
	return l.F("The cancel was not sent to Vipps: %s", msg)
}

// adminVippsRefused says that Vipps refused an operation, in its words
// (msg).
func adminVippsRefused(l lang, kind payment.OpKind, msg string) string {
	switch kind {
	case payment.OpCapture:
		return l.F("Vipps refused the capture: %s", msg)
	case payment.OpRefund:
		return l.F("Vipps refused the refund: %s", msg)
	}
	return l.F("Vipps refused the cancel: %s", msg)
}

// adminLines is picks in words: "2 × Kaffe Java, 1 × Frakt".
func adminLines(l lang, picks []payment.LinePick) string {
	parts := make([]string, len(picks))
	for i, p := range picks {
		parts[i] = l.F("%d × %s", p.Quantity, p.Name)
	}
	return strings.Join(parts, ", ")
}

// adminDone says what a succeeded operation did; before is the payment as
// it was, or nil when unknown; picks the receipt lines it took, by index
// (their names are read from before's receipt).
func adminDone(l lang, op *payment.Operation, before *payment.Payment, picks []payment.LinePick) string {
	amount := func(rest vipps.Amount) string {
		if op.Amount > 0 {
			return op.Amount.Kroner()
		}
		if before != nil {
			return rest.Kroner()
		}
		return l.T("everything that was left")
	}
	lines := ""
	if before != nil && before.Receipt != nil && len(picks) > 0 {
		named := make([]payment.LinePick, 0, len(picks))
		for _, p := range picks {
			if p.Line >= 0 && p.Line < len(before.Receipt.OrderLines) {
				p.Name = before.Receipt.OrderLines[p.Line].Name
				named = append(named, p)
			}
		}
		lines = " (" + adminLines(l, named) + ")"
	}
	switch op.Kind {
	case payment.OpCapture:
		var rest vipps.Amount
		if before != nil {
			rest = before.Amounts.RemainingToCapture
		}
		return l.F("Captured %s%s.", amount(rest), lines)
	case payment.OpRefund:
		var rest vipps.Amount
		if before != nil {
			rest = before.Amounts.RemainingToRefund
		}
		return l.F("Refunded %s%s to the customer. It can take a few days to reach their account.", amount(rest), lines)
	}
	switch {
	case before == nil:
		return l.T("Cancelled.")
	case before.State.WaitingForCustomer():
		return l.T("Cancelled: the customer can no longer pay this payment.")
	case op.ReleaseRemaining:
		return l.T("Released what was still reserved; the customer has that money back.")
	}
	return l.T("Cancelled: the reservation is released and the customer has the money back.")
}

// adminConfirmData is the data of admin_confirm.html: the question before
// a refund of everything or a cancel, and the form that does it.
type adminConfirmData struct {
	page
	// Question is what is about to happen, as a question; Help what it
	// means.
	Question, Help string
	// Action is the form's target; Back the payment's page.
	Action, Back string
	// Fields are the hidden fields of the confirmed form: the same key
	// and text, and confirm.
	Fields []adminHidden
	// Button is the confirm button's text.
	Button string
}

// adminHidden is one hidden field of a form.
type adminHidden struct{ Name, Value string }

// adminConfirm answers the first POST of a refund of everything or a
// cancel with a page that says what it will do and asks to confirm it.
// Its form carries the same idempotency key, so that confirming twice
// does it once.
func (s *Server) adminConfirm(w http.ResponseWriter, r *http.Request, h *payment.History, kind payment.OpKind, req payment.OpRequest) {
	l := s.lang(r)
	p := h.Payment
	x := p.Actions()
	who := l.T("the customer")
	if v := adminExpressOf(p.Shipping); p.Kind == payment.Express && v != nil && v.Name != "" {
		who = v.Name
	}
	d := adminConfirmData{
		page:   s.adminPage(r, "", ""),
		Action: adminPaymentURL(p.OrderID) + "/" + string(kind), Back: adminPaymentURL(p.OrderID),
		Fields: []adminHidden{{"key", req.Key}, {"text", req.Text}, {"confirm", "1"}},
		Button: l.T("Confirm"),
	}
	switch {
	case kind == payment.OpRefund:
		d.Title = l.T("Confirm the refund")
		d.Question = l.F("Refund %s to %s?", x.Refund.Kroner(), who)
		d.Help = l.T("This cannot be undone. It can take a few days to reach their account.")
	case p.State.WaitingForCustomer():
		d.Title = l.T("Confirm the cancel")
		d.Question = l.F("Cancel the payment of %s, so that %s can no longer approve it?", p.Amounts.Authorized.Kroner(), who)
		d.Help = l.T("This cannot be undone. No money has been taken.")
	case x.CancelReleases:
		d.Title = l.T("Confirm the release")
		d.Question = l.F("Release the %s still reserved for %s?", x.Capture.Kroner(), who)
		d.Help = l.T("This cannot be undone: nothing more can be captured afterwards. What is captured stays captured; refund it separately.")
		d.Fields = append(d.Fields, adminHidden{"release", "1"})
	default:
		d.Title = l.T("Confirm the cancel")
		d.Question = l.F("Cancel the payment and release the %s reserved for %s?", x.Capture.Kroner(), who)
		d.Help = l.T("This cannot be undone: nothing can be captured afterwards.")
	}
	d.Title += " · " + string(p.OrderID) + " · vippskit admin"
	s.writePage(w, r, http.StatusOK, "admin_confirm.html", &d)
}

// adminCheck serves POST /admin/payments/{orderId}/check: ask Vipps now.
func (s *Server) adminCheck(w http.ResponseWriter, r *http.Request) {
	l := s.lang(r)
	id := vipps.OrderID(r.PathValue("orderId"))
	if err := checkOrderID(id); err != nil {
		s.adminFail(w, r, "", err)
		return
	}
	p, err := s.svc.Check(r.Context(), id)
	switch {
	case err != nil && p != nil && (statusOf(err) == http.StatusInternalServerError || statusOf(err) == http.StatusServiceUnavailable):
		s.adminBack(w, r, id, adminError, s.adminRefusal(r, id, err))
	case err != nil && p != nil: // stored, but Vipps could not be asked
		s.adminBack(w, r, id, adminError, l.F("Could not check with Vipps: %s", adminReason(err, id)))
	case err != nil:
		s.adminBack(w, r, id, adminError, s.adminRefusal(r, id, err))
	default:
		s.adminBack(w, r, id, adminOK, l.F("Checked with Vipps: the payment is %s.", strings.ToLower(l.T(adminStateLabel(p.State)))))
	}
}

// adminRetryTask serves POST /admin/tasks/{taskId}/retry (form field
// orderId): deliver a webhook or receipt again, now.
func (s *Server) adminRetryTask(w http.ResponseWriter, r *http.Request) {
	l := s.lang(r)
	id := vipps.OrderID(r.PostFormValue("orderId"))
	if checkOrderID(id) != nil {
		http.Error(w, l.T("The form was incomplete (no orderId); go back and reload the page."), http.StatusBadRequest)
		return
	}
	taskID, err := strconv.ParseInt(r.PathValue("taskId"), 10, 64)
	if err != nil {
		s.adminBack(w, r, id, adminError, l.T("There is no such delivery."))
		return
	}
	t, err := s.svc.RetryTask(r.Context(), id, taskID)
	switch {
	case errors.Is(err, payment.ErrNotFound):
		s.adminBack(w, r, id, adminError, l.F("Payment %s has no delivery #%d.", id, taskID))
	case err != nil:
		s.adminBack(w, r, id, adminError, s.adminRefusal(r, id, err))
	case t.Status == payment.TaskDone:
		s.adminBack(w, r, id, adminOK, l.F("Delivery #%d has succeeded already; nothing to do.", taskID))
	default:
		s.adminBack(w, r, id, adminOK, l.F("Delivery #%d (%s) is queued again and will be sent shortly.", taskID, strings.ToLower(l.T(adminTaskLabel(t.Kind)))))
	}
}
