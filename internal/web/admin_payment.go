package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

// adminPaymentData is the data of admin_payment.html.
type adminPaymentData struct {
	page
	Flash *adminFlash
	// Problem is a refused form's message, shown at the top with a link
	// to the field at fault.
	Problem *adminProblemView
	// Latest is the newest problem of the payment, shown near the top.
	Latest *adminLatestView
	P      adminPaymentView
	// ReturnURL is the customer's return page, to send to a customer who
	// lost it.
	ReturnURL string
	// AttemptsURL lists every payment of the shop order.
	AttemptsURL string
	Express     *adminExpressView
	// ConsentRemoved: the customer withdrew consent; express details are
	// deleted.
	ConsentRemoved bool
	// Receipt is the order lines sent (or to be sent) to the Vipps app.
	Receipt *adminReceiptView
	Events  []adminEventView
	Ops     []adminOpView
	// Pending are operations waiting for Vipps' answer.
	Pending []adminOpView
	Tasks   []adminTaskView
	// Exchanges are the requests to Vipps about the payment and the
	// answers, newest first, masked.
	Exchanges []adminExchangeView
	Capture   *adminOpForm
	Refund    *adminOpForm
	Cancel    *adminCancelForm
	// Actions are the form targets.
	Actions adminActions
	// NoActions explains why no capture, refund or cancel is offered.
	NoActions string
}

// adminProblemView is the summary of a refused form.
type adminProblemView struct {
	Message string
	// Field is the id of the input at fault, or "".
	Field string
	// Unsure: the service failed (5xx) after the form was accepted, so
	// the operation may have reached Vipps; the page says "Not
	// confirmed" rather than "Nothing was done", and the form keeps its
	// key, so that sending it again is never done twice.
	Unsure bool
}

// adminLatestView is the newest problem of a payment: a Vipps error, or
// a delivery that fails.
type adminLatestView struct {
	// What says what went wrong, in a line.
	What      string
	At, AtISO string
	// Error is set for a Vipps error.
	Error *adminErrorView
	// Delivery is the error of a delivery, and Link its place on the page.
	Delivery, Link string
}

// adminPaymentView is the payment itself, formatted.
type adminPaymentView struct {
	OrderID                        vipps.OrderID
	ShopRef                        string
	Attempt                        int
	Express                        bool
	Text                           string
	Phone                          string
	MSN                            vipps.MSN
	State                          payment.State
	StateLabel                     string
	StateHelp                      string
	Created, CreatedISO            string
	Updated, UpdatedISO            string
	Sent, SentISO                  string
	NextCheck, NextCheckISO        string
	Authorized, Captured, Refunded string
	RemainingToCapture             string
	RemainingToRefund              string
	OrderURL                       string
}

// adminActions are the POST targets of a payment's forms.
type adminActions struct {
	Capture, Refund, Cancel, Check string
}

// adminOpForm is a capture or refund form, with what was typed in it when
// it is shown again after a refusal.
type adminOpForm struct {
	// Kind is "capture" or "refund": the prefix of the fields' ids.
	Kind payment.OpKind
	// Key is the idempotency key made for this rendering of the form.
	Key string
	// Max is what an empty amount means: all that remains.
	Max string
	// Amount and Text are the values of the fields.
	Amount, Text string
	// AmountError and TextError say what is wrong with a field.
	AmountError, TextError string
	// Lines are the receipt's lines that can still be taken, each with a
	// quantity input; none without a receipt.
	Lines []adminLineInput
}

// adminLineInput is the quantity input of one receipt line.
type adminLineInput struct {
	// Field is the input's id; Name its form field (line-N).
	Field, Name string
	Label       string
	// Help says how many are left and what one costs.
	Help  string
	Left  int
	Value string
	Error string
}

// adminCancelForm is the cancel form.
type adminCancelForm struct {
	Key string
	// Release: something is captured, so cancelling releases what is
	// still reserved.
	Release bool
	// Remaining is what is released.
	Remaining string
	// Waiting: the customer has not approved yet.
	Waiting bool
	// Text and TextError are the text field's value and what is wrong
	// with it.
	Text, TextError string
}

// adminErrorView is a Vipps error, as staff and as the customer see it.
type adminErrorView struct {
	Op         string
	At, AtISO  string
	Staff      string
	Customer   string
	StatusCode int
	Group      string
	Code       string
	ContextID  string
	// Quote is what staff quote to Vipps about the error: only the parts
	// it has, so the page joins them with no stray separator.
	Quote []adminQuotePart
}

// adminQuotePart is one labelled value of an adminErrorView's Quote.
type adminQuotePart struct{ Label, Value string }

// adminExpressView is what express checkout shared.
type adminExpressView struct {
	Name, Email, Phone string
	Address            []string
	ShippingMethod     string
	ShippingCost       string
}

// adminReceiptView is a payment's receipt.
type adminReceiptView struct {
	Number string
	Lines  []adminReceiptLine
	Total  string
}

// adminReceiptLine is one order line.
type adminReceiptLine struct {
	Name, ID  string
	Quantity  string
	UnitPrice string
	Tax       string
	Total     string
	Note      string
}

// adminEventView is one entry of the history.
type adminEventView struct {
	Seq        int64
	At, AtISO  string
	Type       payment.EventType
	Label      string
	State      payment.State
	StateLabel string
	Amount     string
	Detail     string
	// By is who asked for the change, when the event says.
	By string
}

// adminOpView is one capture, refund or cancel.
type adminOpView struct {
	At, AtISO   string
	Kind        payment.OpKind
	KindLabel   string
	Amount      string
	Text        string
	Release     bool
	Status      payment.OpStatus
	StatusLabel string
	RequestID   string
	Key         string
	Error       *adminErrorView
}

// adminTaskView is one delivery with its attempts.
type adminTaskView struct {
	ID        int64
	KindLabel string
	Event     string
	Status    payment.TaskStatus
	// StatusClass styles the status: the Status, or "failing" for a
	// pending task that failed.
	StatusClass string
	StatusLabel string
	Attempts    int
	Next        string
	NextISO     string
	LastError   string
	Log         []adminAttemptView
	// Retry is the retry form's target; empty when the task is done.
	Retry string
}

// adminAttemptView is one try of a delivery.
type adminAttemptView struct {
	At, AtISO string
	Duration  string
	// Status is the HTTP status in words: the shop's answer to a
	// webhook, "no answer" when none came; "—" for a receipt or a
	// release, which are calls to Vipps with no one status to show.
	Status string
	Error  string
}

// adminPayment serves GET /admin/payments/{orderId}: everything about one
// payment, and the forms of what can be done with it now.
func (s *Server) adminPayment(w http.ResponseWriter, r *http.Request) {
	id := vipps.OrderID(r.PathValue("orderId"))
	if err := checkOrderID(id); err != nil {
		s.adminFail(w, r, "", err)
		return
	}
	s.adminPaymentPage(w, r, id, nil)
}

// adminPaymentPage sends the page of payment id: with status 200, or
// after a refused form (fe) with the refusal's status, the form's values
// and its message.
func (s *Server) adminPaymentPage(w http.ResponseWriter, r *http.Request, id vipps.OrderID, fe *adminFormError) {
	h, err := s.svc.History(r.Context(), id)
	if err != nil {
		s.adminFail(w, r, id, err)
		return
	}
	p := h.Payment
	a := p.Amounts
	l, now := s.lang(r), s.now()
	d := adminPaymentData{
		page: s.adminPage(r, "", l.F("Payment %s · vippskit admin", id)),
		P: adminPaymentView{
			OrderID: p.OrderID, ShopRef: p.ShopRef, Attempt: p.Attempt, Express: p.Kind == payment.Express,
			Text: p.Text, Phone: p.Phone, MSN: p.MSN, OrderURL: adminWebURL(p.OrderURL),
			State: p.State, StateLabel: l.T(adminStateLabel(p.State)), StateHelp: adminStateHelp(l, p),
			Created: adminTime(p.CreatedAt, true), CreatedISO: adminISO(p.CreatedAt),
			Updated: adminTime(p.UpdatedAt, true), UpdatedISO: adminISO(p.UpdatedAt),
			Sent: adminTime(p.SentAt, true), SentISO: adminISO(p.SentAt),
			NextCheck: adminTime(p.NextCheckAt, true), NextCheckISO: adminISO(p.NextCheckAt),
			Authorized: a.Authorized.Kroner(), Captured: a.Captured.Kroner(), Refunded: a.Refunded.Kroner(),
			RemainingToCapture: a.RemainingToCapture.Kroner(), RemainingToRefund: a.RemainingToRefund.Kroner(),
		},
		ReturnURL: s.svc.ReturnURL(p.OrderID),
		Actions: adminActions{
			Capture: adminPaymentURL(id) + "/capture", Refund: adminPaymentURL(id) + "/refund",
			Cancel: adminPaymentURL(id) + "/cancel", Check: adminPaymentURL(id) + "/check",
		},
	}
	if fe == nil {
		d.Flash = s.adminFlashFrom(id, r.URL.Query())
	}
	if p.ShopRef != "" {
		d.AttemptsURL = "/admin/?" + url.Values{"q": {p.ShopRef}}.Encode()
	}

	labels := map[int64]string{}
	for _, e := range h.Events {
		if e.Type == payment.EventConsentRemoved {
			d.ConsentRemoved = true
		}
		ev := adminEventView{
			Seq: e.Seq, At: adminTime(e.At, true), AtISO: adminISO(e.At), Type: e.Type, Label: l.T(adminEventLabel(e.Type)),
			State: e.State, StateLabel: l.T(adminStateLabel(e.State)), Amount: adminKronerOrDash(e.Amount), Detail: adminEventDetail(l, e),
		}
		if by, ok := payment.EventActor(e); ok {
			ev.By = by.String()
		}
		labels[e.Seq] = fmt.Sprintf("#%d %s", e.Seq, ev.Label)
		d.Events = append(d.Events, ev)
	}
	if p.Kind == payment.Express && len(p.Shipping) > 0 {
		d.Express = adminExpressOf(p.Shipping)
		if sh := payment.ShippingOf(p); d.Express != nil && sh != nil {
			d.Express.ShippingCost = adminShippingCost(l, sh)
		}
	}
	if p.Receipt != nil {
		d.Receipt = adminReceiptOf(l, p.Receipt)
	}

	pending := map[payment.OpKind]bool{}
	for _, op := range h.Operations {
		v := adminOpView{
			At: adminTime(op.CreatedAt, true), AtISO: adminISO(op.CreatedAt), Kind: op.Kind, KindLabel: l.T(adminOpLabel(op.Kind)),
			Amount: adminOpAmount(l, op), Text: op.Text, Release: op.ReleaseRemaining,
			Status: op.Status, StatusLabel: l.T(adminOpStatusLabel(op.Status)), RequestID: op.RequestID, Key: op.IdempotencyKey,
			Error: adminErrorOf(l, op.Error),
		}
		d.Ops = append(d.Ops, v)
		if op.Status == payment.OpPending {
			pending[op.Kind] = true
			d.Pending = append(d.Pending, v)
		}
	}
	for _, t := range h.Tasks {
		if t.Kind == payment.TaskConsentCheck && t.Status == payment.TaskDone {
			// Housekeeping that ran; one that waits or failed is shown,
			// since it may keep a customer's details past their consent.
			continue
		}
		d.Tasks = append(d.Tasks, adminTaskOf(l, t, labels, now))
	}
	for _, x := range h.Exchanges {
		d.Exchanges = append(d.Exchanges, adminExchangeOf(l, x))
	}
	d.Latest = adminLatest(l, p, h.Tasks)
	adminOffer(l, &d, h, pending)
	if !d.Staff.Operator {
		// A viewer reads; the forms are an operator's.
		d.Capture, d.Refund, d.Cancel = nil, nil, nil
		d.NoActions = l.F("Your role, %s, may read payments only. Capturing, refunding, cancelling and checking with Vipps need an operator.", d.Staff.Role)
		for i := range d.Tasks {
			d.Tasks[i].Retry = ""
		}
	}
	status := http.StatusOK
	if fe != nil {
		status = fe.Status
		adminRefill(&d, fe)
	}
	s.writePage(w, r, status, "admin_payment.html", &d)
}

// adminLatest is the newest problem of p: its last Vipps error, or the
// last error of a delivery that has not succeeded, whichever is newer; or
// nil.
func adminLatest(l lang, p *payment.Payment, tasks []*payment.Task) *adminLatestView {
	var v *adminLatestView
	var at time.Time
	if e := p.LastError; e != nil {
		v = &adminLatestView{What: l.T("Error from Vipps"), Error: adminErrorOf(l, e)}
		at = e.At
	}
	for _, t := range tasks {
		if t.Status == payment.TaskDone || len(t.Log) == 0 {
			continue
		}
		last := t.Log[len(t.Log)-1]
		if last.Error == "" || (v != nil && !last.At.After(at)) {
			continue
		}
		v = &adminLatestView{
			What:     l.F("Delivery #%d (%s) failed", t.ID, strings.ToLower(l.T(adminTaskLabel(t.Kind)))),
			Delivery: last.Error, Link: fmt.Sprintf("#task-%d", t.ID),
		}
		at = last.At
	}
	if v != nil {
		v.At, v.AtISO = adminTime(at, true), adminISO(at)
	}
	return v
}

// adminOffer adds to d the forms of what the payment of h allows now (see
// payment.Payment.Actions), leaving out a kind whose earlier request is
// still pending at Vipps, or says why there are none.
func adminOffer(l lang, d *adminPaymentData, h *payment.History, pending map[payment.OpKind]bool) {
	p := h.Payment
	x := p.Actions()
	tally := payment.Tally(h.Events, h.Operations)
	if x.Capture > 0 && !pending[payment.OpCapture] {
		d.Capture = &adminOpForm{Kind: payment.OpCapture, Key: adminKey(), Max: x.Capture.Kroner(), Lines: adminLineInputs(l, payment.OpCapture, p.Receipt, tally)}
	}
	if x.Refund > 0 && !pending[payment.OpRefund] {
		d.Refund = &adminOpForm{Kind: payment.OpRefund, Key: adminKey(), Max: x.Refund.Kroner(), Lines: adminLineInputs(l, payment.OpRefund, p.Receipt, tally)}
	}
	if x.Cancel && !pending[payment.OpCancel] {
		d.Cancel = &adminCancelForm{Key: adminKey(), Release: x.CancelReleases, Remaining: x.Capture.Kroner(),
			Waiting: p.State.WaitingForCustomer()}
	}
	if d.Capture != nil || d.Refund != nil || d.Cancel != nil {
		return
	}
	switch {
	case len(d.Pending) > 0:
		d.NoActions = l.T("Wait for the operation above to finish.")
	case p.State == payment.Failed || p.State == payment.Cancelled:
		d.NoActions = l.T("The customer was not charged; nothing can be done with this payment. The shop can start a new payment.")
	default:
		d.NoActions = l.T("Nothing can be captured, refunded or cancelled in this state.")
	}
}

// adminLineInputs are the quantity inputs of the lines of receipt rc that
// an operation of kind can still take (see payment.LineTally.Left); none
// when no line can.
func adminLineInputs(l lang, kind payment.OpKind, rc *vipps.Receipt, t payment.LineTally) []adminLineInput {
	if rc == nil {
		return nil
	}
	var out []adminLineInput
	for i, ln := range rc.OrderLines {
		left := t.Left(kind, rc, i)
		if left == 0 {
			continue
		}
		in := adminLineInput{
			Field: adminLineField(kind, i), Name: "line-" + strconv.Itoa(i), Label: ln.Name, Left: left, Value: "0",
		}
		units := payment.LineUnits(ln)
		if units == 1 {
			in.Help = l.F("1 for the whole line (%s)", ln.TotalAmount.Kroner())
		} else {
			in.Help = l.F("%d of %d left, %s each", left, units, (ln.TotalAmount / vipps.Amount(units)).Kroner())
		}
		out = append(out, in)
	}
	return out
}

// adminRefill puts a refused form's values and message into d's form of
// that kind, and the message at the top. A field the page no longer has
// (the form is no longer offered) is not linked to.
func adminRefill(d *adminPaymentData, fe *adminFormError) {
	d.Problem = &adminProblemView{Message: fe.Message, Unsure: fe.Status >= http.StatusInternalServerError}
	// The same key, when the first request may have been carried out: a
	// second press is then its replay, not a second operation.
	sameKey := func(key *string) {
		if k := fe.Values.Get("key"); d.Problem.Unsure && k != "" && len(k) <= adminKeyMax {
			*key = k
		}
	}
	// What was typed is shown again, unless it is far past the field's
	// limit: then as much as makes the point.
	keep := func(name string, limit int) string {
		v := fe.Values.Get(name)
		if utf8.RuneCountInString(v) > 2*limit {
			return string([]rune(v)[:2*limit]) + "…"
		}
		return v
	}
	found := false
	mark := func(id string, msg *string) {
		if id == fe.Field {
			*msg, found = fe.Message, true
		}
	}
	switch fe.Form {
	case payment.OpCapture, payment.OpRefund:
		f := d.Capture
		if fe.Form == payment.OpRefund {
			f = d.Refund
		}
		if f == nil {
			break
		}
		sameKey(&f.Key)
		f.Amount, f.Text = keep("amount", adminAmountMax), keep("text", adminTextMax)
		mark(adminField(fe.Form, "amount"), &f.AmountError)
		mark(adminField(fe.Form, "text"), &f.TextError)
		for i := range f.Lines {
			if _, ok := fe.Values[f.Lines[i].Name]; ok {
				f.Lines[i].Value = keep(f.Lines[i].Name, adminQuantityMax)
			}
			mark(f.Lines[i].Field, &f.Lines[i].Error)
		}
	case payment.OpCancel:
		if f := d.Cancel; f != nil {
			sameKey(&f.Key)
			f.Text = keep("text", adminTextMax)
			mark(adminField(fe.Form, "text"), &f.TextError)
		}
	}
	if found {
		d.Problem.Field = fe.Field
	}
}

// adminTaskOf is a delivery as the page shows it, in l at now; labels
// name the events by Seq. A delivery that failed and is retried says so,
// with when it is tried next and why it failed.
func adminTaskOf(l lang, t *payment.Task, labels map[int64]string, now time.Time) adminTaskView {
	v := adminTaskView{
		ID: t.ID, KindLabel: l.T(adminTaskLabel(t.Kind)), Event: labels[t.EventSeq], Status: t.Status,
		StatusClass: string(t.Status), StatusLabel: l.T(adminTaskStatusLabel(t.Status)), Attempts: t.Attempts, LastError: t.LastError,
	}
	if t.Failing() {
		v.StatusClass, v.StatusLabel = "failing", adminFailingLabel(l, t, now)
	}
	if v.Event == "" {
		v.Event = fmt.Sprintf("#%d", t.EventSeq)
	}
	if t.Status == payment.TaskPending {
		v.Next, v.NextISO = adminTime(t.NextAttemptAt, true), adminISO(t.NextAttemptAt)
	}
	if t.Status == payment.TaskPending || t.Status == payment.TaskDead {
		v.Retry = fmt.Sprintf("/admin/tasks/%d/retry", t.ID)
	}
	for _, at := range t.Log {
		v.Log = append(v.Log, adminAttemptView{
			At: adminTime(at.At, true), AtISO: adminISO(at.At), Duration: at.Duration.Round(time.Millisecond).String(),
			Status: attemptStatus(l, t.Kind, at.StatusCode, at.Error), Error: at.Error,
		})
	}
	return v
}

// adminExchangeView is one request to Vipps and its answer.
type adminExchangeView struct {
	At, AtISO    string
	Method, Path string
	// Status is the HTTP status, or "no answer"; Bad is set for no answer
	// or an error status.
	Status    string
	Bad       bool
	Duration  string
	RequestID string
	// Request and Response are the bodies, masked and indented.
	Request, Response string
	Error             string
}

// adminExchangeOf is an exchange as the page shows it, in l.
func adminExchangeOf(l lang, x payment.Exchange) adminExchangeView {
	v := adminExchangeView{
		At: adminTime(x.At, true), AtISO: adminISO(x.At), Method: x.Method, Path: x.Path,
		Status: strconv.Itoa(x.StatusCode), Bad: x.StatusCode == 0 || x.StatusCode >= 400,
		Duration: adminDuration(x.Duration), RequestID: x.RequestID,
		Request: x.Request, Response: x.Response, Error: x.Error,
	}
	if x.StatusCode == 0 {
		v.Status = l.T("no answer")
	}
	return v
}

// adminDuration is how long a request took: to the millisecond, or to
// 10 µs under a millisecond (a simulator answers that fast).
func adminDuration(d time.Duration) string {
	if d < time.Millisecond {
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Millisecond).String()
}

// adminErrorOf is a stored Vipps error as the page shows it.
func adminErrorOf(l lang, e *payment.VippsError) *adminErrorView {
	if e == nil {
		return nil
	}
	v := &adminErrorView{
		Op: e.Op, At: adminTime(e.At, true), AtISO: adminISO(e.At), Staff: e.StaffMessageIn(string(l)), Customer: e.CustomerMessageIn(string(l)),
		StatusCode: e.StatusCode, Group: e.Group, Code: e.Code, ContextID: e.ContextID,
	}
	if e.StatusCode != 0 {
		v.Quote = append(v.Quote, adminQuotePart{"HTTP", strconv.Itoa(e.StatusCode)})
	}
	for _, q := range []adminQuotePart{{"errorGroup", e.Group}, {"errorCode", e.Code}, {"contextId", e.ContextID}} {
		if q.Value != "" {
			v.Quote = append(v.Quote, q)
		}
	}
	return v
}

// attemptStatus is the HTTP status of an attempt of a task of kind in
// words (see adminAttemptView.Status).
func attemptStatus(l lang, kind payment.TaskKind, code int, errText string) string {
	switch {
	case code != 0:
		return strconv.Itoa(code)
	case kind == payment.TaskWebhook && errText != "":
		return l.T("no answer")
	}
	return "—"
}

func adminExpressOf(raw json.RawMessage) *adminExpressView {
	var x payment.ExpressDetails
	if json.Unmarshal(raw, &x) != nil {
		return nil
	}
	v := &adminExpressView{}
	if u := x.User; u != nil {
		v.Name = strings.TrimSpace(u.FirstName + " " + u.LastName)
		v.Email, v.Phone = u.Email, u.MobileNumber
	}
	if sd := x.Shipping; sd != nil {
		ad := sd.Address
		for _, l := range []string{ad.AddressLine1, ad.AddressLine2, strings.TrimSpace(ad.PostCode + " " + ad.City), ad.Country} {
			if l != "" {
				v.Address = append(v.Address, l)
			}
		}
		v.ShippingMethod = sd.ShippingMethod
		v.ShippingCost = sd.ShippingCost.Amount().Kroner()
	}
	return v
}

// adminShippingCost is the express shipping cost with whether Vipps
// reserved it on top of the amount initiated (payment.ShippingCharge).
func adminShippingCost(lg lang, sh *payment.Shipping) string {
	switch sh.Charge {
	case payment.ShippingAdded:
		return lg.F("%s, reserved on top of the amount initiated", sh.Cost.Kroner())
	case payment.ShippingNotAdded:
		return lg.F("%s, not added to the amount initiated", sh.Cost.Kroner())
	}
	return lg.F("%s, whether it was added is not known", sh.Cost.Kroner())
}

func adminReceiptOf(lg lang, r *vipps.Receipt) *adminReceiptView {
	v := &adminReceiptView{Number: r.BottomLine.ReceiptNumber}
	var total vipps.Amount
	for _, l := range r.OrderLines {
		line := adminReceiptLine{Name: l.Name, ID: l.ID, Tax: fmt.Sprintf("%d\u00a0%%", l.TaxPercentage), Total: l.TotalAmount.Kroner()}
		if u := l.UnitInfo; u != nil {
			line.Quantity = strings.TrimSpace(strings.ReplaceAll(u.Quantity, ".", ",") + " " + strings.ToLower(u.QuantityUnit))
			line.UnitPrice = u.UnitPrice.Kroner()
		}
		var notes []string
		if l.Discount > 0 {
			notes = append(notes, lg.F("discount %s", l.Discount.Kroner()))
		}
		if l.IsShipping {
			notes = append(notes, lg.T("shipping"))
		}
		if l.IsReturn {
			notes = append(notes, lg.T("returned"))
		}
		line.Note = strings.Join(notes, ", ")
		total += l.TotalAmount
		v.Lines = append(v.Lines, line)
	}
	v.Total = total.Kroner()
	return v
}

// adminWebURL returns u when it is an http(s) URL, else "" (never a
// javascript: link).
func adminWebURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") {
		return ""
	}
	return u
}
