package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

// adminPaymentData is the data of admin_payment.html.
type adminPaymentData struct {
	page
	Flash *adminFlash
	P     adminPaymentView
	// ReturnURL is the customer's return page, to send to a customer who
	// lost it.
	ReturnURL string
	// AttemptsURL lists every payment of the shop order.
	AttemptsURL string
	LastError   *adminErrorView
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
	Capture *adminOpForm
	Refund  *adminOpForm
	Cancel  *adminCancelForm
	// Actions are the form targets.
	Actions adminActions
	// NoActions explains why no capture, refund or cancel is offered.
	NoActions string
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

// adminOpForm is a capture or refund form.
type adminOpForm struct {
	// Key is the idempotency key made for this rendering of the form.
	Key string
	// Max is what an empty amount means: all that remains.
	Max string
}

// adminCancelForm is the cancel form.
type adminCancelForm struct {
	Key string
	// Release: something is captured, so cancelling releases what is
	// still reserved; the form asks to confirm that.
	Release bool
	// Remaining is what is released.
	Remaining string
	// Waiting: the customer has not approved yet.
	Waiting bool
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
	ID          int64
	KindLabel   string
	Event       string
	Status      payment.TaskStatus
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
	h, err := s.svc.History(r.Context(), id)
	if err != nil {
		s.adminFail(w, r, id, err)
		return
	}
	p := h.Payment
	a := p.Amounts
	d := adminPaymentData{
		page:  s.adminPage(r, "Payment "+string(id)+" · vippskit admin"),
		Flash: s.adminFlashFrom(id, r.URL.Query()),
		P: adminPaymentView{
			OrderID: p.OrderID, ShopRef: p.ShopRef, Attempt: p.Attempt, Express: p.Kind == payment.Express,
			Text: p.Text, Phone: p.Phone, MSN: p.MSN, OrderURL: adminWebURL(p.OrderURL),
			State: p.State, StateLabel: adminStateLabel(p.State), StateHelp: adminStateHelp(p),
			Created: adminTime(p.CreatedAt, true), CreatedISO: adminISO(p.CreatedAt),
			Updated: adminTime(p.UpdatedAt, true), UpdatedISO: adminISO(p.UpdatedAt),
			Sent: adminTime(p.SentAt, true), SentISO: adminISO(p.SentAt),
			NextCheck: adminTime(p.NextCheckAt, true), NextCheckISO: adminISO(p.NextCheckAt),
			Authorized: a.Authorized.Kroner(), Captured: a.Captured.Kroner(), Refunded: a.Refunded.Kroner(),
			RemainingToCapture: a.RemainingToCapture.Kroner(), RemainingToRefund: a.RemainingToRefund.Kroner(),
		},
		ReturnURL: s.svc.ReturnURL(p.OrderID),
		LastError: adminErrorOf(p.LastError),
		Actions: adminActions{
			Capture: adminPaymentURL(id) + "/capture", Refund: adminPaymentURL(id) + "/refund",
			Cancel: adminPaymentURL(id) + "/cancel", Check: adminPaymentURL(id) + "/check",
		},
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
			Seq: e.Seq, At: adminTime(e.At, true), AtISO: adminISO(e.At), Type: e.Type, Label: adminEventLabel(e.Type),
			State: e.State, StateLabel: adminStateLabel(e.State), Amount: adminKronerOrDash(e.Amount), Detail: adminEventDetail(e),
		}
		if by, ok := payment.EventActor(e); ok {
			ev.By = by.String()
		}
		labels[e.Seq] = fmt.Sprintf("#%d %s", e.Seq, ev.Label)
		d.Events = append(d.Events, ev)
	}
	if p.Kind == payment.Express && len(p.Shipping) > 0 {
		d.Express = adminExpressOf(p.Shipping)
	}
	if p.Receipt != nil {
		d.Receipt = adminReceiptOf(p.Receipt)
	}

	pending := map[payment.OpKind]bool{}
	for _, op := range h.Operations {
		v := adminOpView{
			At: adminTime(op.CreatedAt, true), AtISO: adminISO(op.CreatedAt), Kind: op.Kind, KindLabel: adminOpLabel(op.Kind),
			Amount: adminOpAmount(op), Text: op.Text, Release: op.ReleaseRemaining,
			Status: op.Status, StatusLabel: adminOpStatusLabel(op.Status), RequestID: op.RequestID, Key: op.IdempotencyKey,
			Error: adminErrorOf(op.Error),
		}
		d.Ops = append(d.Ops, v)
		if op.Status == payment.OpPending {
			pending[op.Kind] = true
			d.Pending = append(d.Pending, v)
		}
	}
	for _, t := range h.Tasks {
		d.Tasks = append(d.Tasks, adminTaskOf(t, labels))
	}
	adminOffer(&d, p, pending)
	if !d.Staff.Operator {
		// A viewer reads; the forms are an operator's.
		d.Capture, d.Refund, d.Cancel = nil, nil, nil
		d.NoActions = "Your role, " + d.Staff.Role + ", may read payments only. Capturing, refunding, cancelling and checking with Vipps need an operator."
		for i := range d.Tasks {
			d.Tasks[i].Retry = ""
		}
	}
	s.writePage(w, r, http.StatusOK, "admin_payment.html", &d)
}

// adminOffer adds to d the forms of what p allows now (see
// payment.Payment.Actions), leaving out a kind whose earlier request is
// still pending at Vipps, or says why there are none.
func adminOffer(d *adminPaymentData, p *payment.Payment, pending map[payment.OpKind]bool) {
	x := p.Actions()
	if x.Capture > 0 && !pending[payment.OpCapture] {
		d.Capture = &adminOpForm{Key: adminKey(), Max: x.Capture.Kroner()}
	}
	if x.Refund > 0 && !pending[payment.OpRefund] {
		d.Refund = &adminOpForm{Key: adminKey(), Max: x.Refund.Kroner()}
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
		d.NoActions = "Wait for the operation above to finish."
	case p.State == payment.Failed || p.State == payment.Cancelled:
		d.NoActions = "The customer was not charged; nothing can be done with this payment. The shop can start a new payment."
	default:
		d.NoActions = "Nothing can be captured, refunded or cancelled in this state."
	}
}

// adminTaskOf is a delivery as the page shows it; labels name the events
// by Seq.
func adminTaskOf(t *payment.Task, labels map[int64]string) adminTaskView {
	v := adminTaskView{
		ID: t.ID, KindLabel: adminTaskLabel(t.Kind), Event: labels[t.EventSeq], Status: t.Status,
		StatusLabel: adminTaskStatusLabel(t.Status), Attempts: t.Attempts, LastError: t.LastError,
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
			Status: attemptStatus(t.Kind, at.StatusCode, at.Error), Error: at.Error,
		})
	}
	return v
}

// adminErrorOf is a stored Vipps error as the page shows it.
func adminErrorOf(e *payment.VippsError) *adminErrorView {
	if e == nil {
		return nil
	}
	v := &adminErrorView{
		Op: e.Op, At: adminTime(e.At, true), AtISO: adminISO(e.At), Staff: e.Message, Customer: e.CustomerMessage(),
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
func attemptStatus(kind payment.TaskKind, code int, errText string) string {
	switch {
	case code != 0:
		return strconv.Itoa(code)
	case kind == payment.TaskWebhook && errText != "":
		return "no answer"
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

func adminReceiptOf(r *vipps.Receipt) *adminReceiptView {
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
			notes = append(notes, "discount "+l.Discount.Kroner())
		}
		if l.IsShipping {
			notes = append(notes, "shipping")
		}
		if l.IsReturn {
			notes = append(notes, "returned")
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
