package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // staff read Oslo time even where the system has no zoneinfo
	"unicode/utf8"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

// The admin UI is for a merchant's customer-service staff: find any payment,
// see everything about it, and capture, refund, cancel or re-check it
// without the Vipps portal. Pages are server-rendered HTML that works
// without JavaScript; every form is CSRF-protected (s.forms) and carries an
// idempotency key made when the page was rendered, so that a double click
// or a resubmitted form never does anything twice.

const (
	// adminPageSize is the list's page size unless ?limit= says otherwise.
	adminPageSize = 50
	// adminTextMax is the longest transaction text Vipps takes.
	adminTextMax = 100
)

// adminZone is the time zone staff read times in.
var adminZone = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Oslo")
	if err != nil { // cannot happen with time/tzdata
		panic(err)
	}
	return loc
}()

// adminCSP allows the admin pages their own style sheets and forms only.
const adminCSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// requireAdmin guards h with HTTP basic auth (Config.AdminUser and
// AdminPassword, both compared in constant time) and sets the headers every
// admin page gets: not cached, not framed, no referrer to other sites.
func (s *Server) requireAdmin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Cache-Control", "no-store")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Content-Security-Policy", adminCSP)
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("X-Content-Type-Options", "nosniff")
		user, pass, ok := r.BasicAuth()
		// Both compared every time, so that the time taken does not tell which
		// one was wrong.
		userOK := secretEqual(user, vipps.Secret(s.cfg.AdminUser))
		passOK := secretEqual(pass, s.cfg.AdminPassword)
		if !ok || !userOK || !passOK {
			hd.Set("WWW-Authenticate", `Basic realm="vippskit admin", charset="UTF-8"`)
			http.Error(w, "Sign in with the admin user name and password.", http.StatusUnauthorized)
			return
		}
		h(w, r)
	}
}

// ---- the list ----

// adminListData is the data of admin_list.html.
type adminListData struct {
	page
	Query  string
	State  payment.State
	States []adminStateCount
	// Total is the number of payments in every state.
	Total int
	// DeadTasks counts deliveries (webhooks, receipts) that gave up.
	DeadTasks int
	Rows      []adminRow
	// Next is the link to the next page; empty on the last one.
	Next string
	// Paged is set when this is not the first page; First links to it.
	Paged bool
	First string
	// Problem says what was wrong with the link, if anything.
	Problem string
}

// adminStateCount is one state in the filter and the overview.
type adminStateCount struct {
	State    payment.State
	Label    string
	Count    int
	Selected bool
	URL      string
}

// adminRow is one payment in the list.
type adminRow struct {
	Created, CreatedISO string
	OrderID             vipps.OrderID
	URL                 string
	ShopRef             string
	Text                string
	Amount              string
	State               payment.State
	StateLabel          string
	Captured, Refunded  string
}

// adminStates is every state in the order staff meet them.
var adminStates = []payment.State{payment.Created, payment.Initiated, payment.Reserved, payment.Captured,
	payment.Refunded, payment.Cancelled, payment.Voided, payment.Failed}

// adminList serves GET /admin/: payments newest first, filtered by state and
// a search text, a page at a time.
//
// Query: state, q (orderId or shop reference prefix, or part of the text),
// limit (1-500), and the cursor of the next page: before (RFC 3339 time)
// and before_id (orderId).
func (s *Server) adminList(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	d := adminListData{
		page:  page{Title: "Payments · vippskit admin", Environment: s.cfg.Environment},
		Query: strings.TrimSpace(q.Get("q")),
	}
	status := http.StatusOK
	var problems []string
	if st := payment.State(q.Get("state")); st != "" {
		if st.Valid() {
			d.State = st
		} else {
			problems = append(problems, fmt.Sprintf("there is no state %q; showing every state", st))
		}
	}
	limit := adminPageSize
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			problems = append(problems, fmt.Sprintf("limit %q must be a number from 1 to 500; showing %d a page", v, adminPageSize))
		} else {
			limit = n
		}
	}
	f := payment.ListFilter{State: d.State, Query: d.Query, Limit: limit + 1}
	if b, id := q.Get("before"), q.Get("before_id"); b != "" || id != "" {
		at, err := time.Parse(time.RFC3339Nano, b)
		if b != "" && err != nil || vipps.OrderID(id).Validate() != nil {
			problems = append(problems, "the page link is damaged; showing the first page")
		} else {
			f.Before = &payment.Cursor{CreatedAt: at, OrderID: vipps.OrderID(id)}
			d.Paged = true
		}
	}
	if len(problems) > 0 {
		status = http.StatusBadRequest
		d.Problem = strings.Join(problems, "; ") + "."
	}

	ps, err := s.svc.Store().List(ctx, f)
	if err != nil {
		s.adminFail(w, r, err)
		return
	}
	stats, err := s.svc.Store().Stats(ctx)
	if err != nil {
		s.adminFail(w, r, err)
		return
	}

	link := func(st payment.State, c *payment.Cursor) string {
		v := url.Values{}
		if st != "" {
			v.Set("state", string(st))
		}
		if d.Query != "" {
			v.Set("q", d.Query)
		}
		if limit != adminPageSize {
			v.Set("limit", strconv.Itoa(limit))
		}
		if c != nil {
			if !c.CreatedAt.IsZero() {
				v.Set("before", c.CreatedAt.UTC().Format(time.RFC3339Nano))
			}
			v.Set("before_id", string(c.OrderID))
		}
		if len(v) == 0 {
			return "/admin/"
		}
		return "/admin/?" + v.Encode()
	}
	for _, st := range adminStates {
		n := stats.Payments[st]
		d.Total += n
		d.States = append(d.States, adminStateCount{State: st, Label: adminStateLabel(st), Count: n, Selected: st == d.State, URL: link(st, nil)})
	}
	for _, byStatus := range stats.Tasks {
		d.DeadTasks += byStatus[payment.TaskDead]
	}
	if len(ps) > limit {
		ps = ps[:limit]
		last := ps[len(ps)-1]
		d.Next = link(d.State, &payment.Cursor{CreatedAt: last.CreatedAt, OrderID: last.OrderID})
	}
	d.First = link(d.State, nil)
	for _, p := range ps {
		d.Rows = append(d.Rows, adminRow{
			Created: adminTime(p.CreatedAt, false), CreatedISO: adminISO(p.CreatedAt),
			OrderID: p.OrderID, URL: adminPaymentURL(p.OrderID), ShopRef: p.ShopRef, Text: p.Text,
			Amount: adminKroner(p.Amounts.Authorized), State: p.State, StateLabel: adminStateLabel(p.State),
			Captured: adminKronerOrDash(p.Amounts.Captured), Refunded: adminKronerOrDash(p.Amounts.Refunded),
		})
	}
	s.writePage(w, status, "admin_list.html", &d)
}

// ---- one payment ----

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
}

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
	At, AtISO  string
	Duration   string
	StatusCode int
	Error      string
}

// adminPayment serves GET /admin/payments/{orderId}: everything about one
// payment, and the forms of what can be done with it now.
func (s *Server) adminPayment(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := vipps.OrderID(r.PathValue("orderId"))
	st := s.svc.Store()
	p, err := st.Get(ctx, id)
	if err != nil {
		s.adminFail(w, r, fmt.Errorf("payment %s: %w", id, err))
		return
	}
	events, err := st.Events(ctx, id)
	if err != nil {
		s.adminFail(w, r, err)
		return
	}
	ops, err := s.svc.Operations(ctx, id)
	if err != nil {
		s.adminFail(w, r, err)
		return
	}
	tasks, err := st.Tasks(ctx, id)
	if err != nil {
		s.adminFail(w, r, err)
		return
	}

	a := p.Amounts
	d := adminPaymentData{
		page:  page{Title: "Payment " + string(id) + " · vippskit admin", Environment: s.cfg.Environment, CSRF: s.csrfToken(s.cfg.AdminUser)},
		Flash: s.adminFlashFrom(r.URL.Query()),
		P: adminPaymentView{
			OrderID: p.OrderID, ShopRef: p.ShopRef, Attempt: p.Attempt, Express: p.Kind == payment.Express,
			Text: p.Text, Phone: p.Phone, MSN: p.MSN, OrderURL: adminWebURL(p.OrderURL),
			State: p.State, StateLabel: adminStateLabel(p.State), StateHelp: adminStateHelp(p),
			Created: adminTime(p.CreatedAt, true), CreatedISO: adminISO(p.CreatedAt),
			Updated: adminTime(p.UpdatedAt, true), UpdatedISO: adminISO(p.UpdatedAt),
			Sent: adminTime(p.SentAt, true), SentISO: adminISO(p.SentAt),
			NextCheck: adminTime(p.NextCheckAt, true), NextCheckISO: adminISO(p.NextCheckAt),
			Authorized: adminKroner(a.Authorized), Captured: adminKroner(a.Captured), Refunded: adminKroner(a.Refunded),
			RemainingToCapture: adminKroner(a.RemainingToCapture), RemainingToRefund: adminKroner(a.RemainingToRefund),
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
	for _, e := range events {
		if e.Type == payment.EventConsentRemoved {
			d.ConsentRemoved = true
		}
		ev := adminEventView{
			Seq: e.Seq, At: adminTime(e.At, true), AtISO: adminISO(e.At), Type: e.Type, Label: adminEventLabel(e.Type),
			State: e.State, StateLabel: adminStateLabel(e.State), Amount: adminKronerOrDash(e.Amount), Detail: adminEventDetail(e),
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
	for _, op := range ops {
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

	for _, t := range tasks {
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
				StatusCode: at.StatusCode, Error: at.Error,
			})
		}
		d.Tasks = append(d.Tasks, v)
	}

	// The forms: what payment.allowed would accept now, and nothing of a
	// kind whose earlier request is still waiting for Vipps.
	if p.State == payment.Reserved && a.RemainingToCapture > 0 && !pending[payment.OpCapture] {
		d.Capture = &adminOpForm{Key: adminKey(), Max: adminKroner(a.RemainingToCapture)}
	}
	if a.RemainingToRefund > 0 && !pending[payment.OpRefund] {
		d.Refund = &adminOpForm{Key: adminKey(), Max: adminKroner(a.RemainingToRefund)}
	}
	if (p.State.WaitingForCustomer() || p.State == payment.Reserved) && !pending[payment.OpCancel] {
		d.Cancel = &adminCancelForm{Key: adminKey(), Release: a.Captured > 0, Remaining: adminKroner(a.RemainingToCapture),
			Waiting: p.State.WaitingForCustomer()}
	}
	if d.Capture == nil && d.Refund == nil && d.Cancel == nil {
		switch {
		case len(d.Pending) > 0:
			d.NoActions = "Wait for the operation above to finish."
		case p.State == payment.Failed || p.State == payment.Cancelled:
			d.NoActions = "The customer was not charged; nothing can be done with this payment. The shop can start a new payment."
		default:
			d.NoActions = "Nothing can be captured, refunded or cancelled in this state."
		}
	}
	s.writePage(w, http.StatusOK, "admin_payment.html", &d)
}

// ---- the forms ----

// adminCapture serves POST /admin/payments/{orderId}/capture (form fields
// amount, text, key).
func (s *Server) adminCapture(w http.ResponseWriter, r *http.Request) {
	s.adminOperate(w, r, payment.OpCapture)
}

// adminRefund serves POST /admin/payments/{orderId}/refund (form fields
// amount, text, key).
func (s *Server) adminRefund(w http.ResponseWriter, r *http.Request) {
	s.adminOperate(w, r, payment.OpRefund)
}

// adminCancel serves POST /admin/payments/{orderId}/cancel (form fields
// release, text, key).
func (s *Server) adminCancel(w http.ResponseWriter, r *http.Request) {
	s.adminOperate(w, r, payment.OpCancel)
}

// adminOperate reads an operation form, carries it out once (by the form's
// idempotency key) and sends the browser back to the payment with what
// happened.
func (s *Server) adminOperate(w http.ResponseWriter, r *http.Request, kind payment.OpKind) {
	ctx := r.Context()
	id := vipps.OrderID(r.PathValue("orderId"))
	back := func(kind, msg string) { s.adminBack(w, r, id, kind, msg) }

	req := payment.OpRequest{
		Key:              r.PostFormValue("key"),
		Text:             strings.TrimSpace(r.PostFormValue("text")),
		ReleaseRemaining: r.PostFormValue("release") != "",
	}
	if req.Key == "" {
		back(adminError, "The form was incomplete (no request key); nothing was done. Reload the page and try again.")
		return
	}
	if n := utf8.RuneCountInString(req.Text); n > adminTextMax {
		back(adminError, fmt.Sprintf("The text is %d characters; Vipps takes at most %d. Nothing was done.", n, adminTextMax))
		return
	}
	if kind != payment.OpCancel {
		amt, err := adminParseAmount(r.PostFormValue("amount"))
		if err != nil {
			back(adminError, "Nothing was done: "+err.Error())
			return
		}
		req.Amount = amt
	}
	p, err := s.svc.Store().Get(ctx, id)
	if err != nil {
		back(adminError, adminRefusal(fmt.Errorf("payment %s: %w", id, err)))
		return
	}
	first, err := s.adminFirstUse(ctx, id, kind, req.Key)
	if err != nil {
		back(adminError, adminRefusal(err))
		return
	}
	if first == nil {
		// Checked here to say it in kroner; the service checks again.
		if msg := adminPrecheck(p, kind, req); msg != "" {
			back(adminError, msg+" Nothing was done.")
			return
		}
	}

	var op *payment.Operation
	switch kind {
	case payment.OpCapture:
		op, err = s.svc.Capture(ctx, id, req)
	case payment.OpRefund:
		op, err = s.svc.Refund(ctx, id, req)
	case payment.OpCancel:
		op, err = s.svc.Cancel(ctx, id, req)
	}
	if err != nil {
		back(adminError, adminRefusal(err))
		return
	}
	again := ""
	if first != nil {
		again = "This form was sent before, so nothing was done twice. "
		p = nil // the amounts are not those of the first request's time
	}
	switch op.Status {
	case payment.OpPending:
		if op.Sends == 0 {
			back(adminWarn, again+"Another operation of this payment is still with Vipps; this one is sent right after it. Refresh in a minute.")
			break
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
			break
		}
		back(adminError, again+fmt.Sprintf("Vipps refused the %s: %s", kind, msg))
	default:
		back(adminOK, again+adminDone(op, p))
	}
}

// adminFirstUse returns the operation of kind made earlier with the
// idempotency key, or nil when the key is new: a form sent twice.
func (s *Server) adminFirstUse(ctx context.Context, id vipps.OrderID, kind payment.OpKind, key string) (*payment.Operation, error) {
	ops, err := s.svc.Operations(ctx, id)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(ops, func(o *payment.Operation) bool { return o.Kind == kind && o.IdempotencyKey == key })
	if i < 0 {
		return nil, nil
	}
	return ops[i], nil
}

// adminPrecheck mirrors the service's checks of an operation, in kroner,
// and returns what is wrong, or "".
func adminPrecheck(p *payment.Payment, kind payment.OpKind, req payment.OpRequest) string {
	a := p.Amounts
	switch kind {
	case payment.OpCapture:
		switch {
		case p.State.WaitingForCustomer():
			return "The customer has not approved the payment yet, so there is nothing to capture."
		case p.State != payment.Reserved || a.RemainingToCapture == 0:
			return fmt.Sprintf("Nothing is left to capture (the payment is %s).", strings.ToLower(adminStateLabel(p.State)))
		case req.Amount > a.RemainingToCapture:
			return fmt.Sprintf("%s is more than the %s left to capture.", adminKroner(req.Amount), adminKroner(a.RemainingToCapture))
		}
	case payment.OpRefund:
		switch {
		case a.RemainingToRefund == 0:
			return "Nothing is captured that is not refunded already, so there is nothing to refund."
		case req.Amount > a.RemainingToRefund:
			return fmt.Sprintf("%s is more than the %s that can still be refunded.", adminKroner(req.Amount), adminKroner(a.RemainingToRefund))
		}
	case payment.OpCancel:
		switch {
		case p.State.WaitingForCustomer(), p.State == payment.Reserved && a.Captured == 0:
		case p.State == payment.Reserved && !req.ReleaseRemaining:
			return fmt.Sprintf("%s is captured already: tick the box to release the %s still reserved, or refund instead.", adminKroner(a.Captured), adminKroner(a.RemainingToCapture))
		case p.State == payment.Reserved:
		default:
			return fmt.Sprintf("A payment that is %s cannot be cancelled.", strings.ToLower(adminStateLabel(p.State)))
		}
	}
	return ""
}

// adminDone says what a succeeded operation did; before is the payment as
// it was, or nil when unknown.
func adminDone(op *payment.Operation, before *payment.Payment) string {
	amount := func(rest func(payment.Amounts) vipps.Amount, all string) string {
		if op.Amount > 0 {
			return adminKroner(op.Amount)
		}
		if before != nil {
			return adminKroner(rest(before.Amounts))
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
	p, err := s.svc.Check(r.Context(), id)
	switch {
	case err != nil && p != nil: // stored, but Vipps could not be asked
		s.adminBack(w, r, id, adminError, "Could not check with Vipps: "+adminReason(err))
	case err != nil:
		s.adminBack(w, r, id, adminError, adminRefusal(err))
	default:
		s.adminBack(w, r, id, adminOK, "Checked with Vipps: the payment is "+strings.ToLower(adminStateLabel(p.State))+".")
	}
}

// adminRetryTask serves POST /admin/tasks/{taskId}/retry (form field
// orderId): deliver a webhook or receipt again, now.
func (s *Server) adminRetryTask(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := vipps.OrderID(r.PostFormValue("orderId"))
	if id.Validate() != nil {
		http.Error(w, "The form was incomplete (no orderId); go back and reload the page.", http.StatusBadRequest)
		return
	}
	taskID, err := strconv.ParseInt(r.PathValue("taskId"), 10, 64)
	if err != nil {
		s.adminBack(w, r, id, adminError, "There is no such delivery.")
		return
	}
	tasks, err := s.svc.Store().Tasks(ctx, id)
	if err != nil {
		s.adminBack(w, r, id, adminError, adminRefusal(err))
		return
	}
	i := slices.IndexFunc(tasks, func(t *payment.Task) bool { return t.ID == taskID })
	switch {
	case i < 0:
		s.adminBack(w, r, id, adminError, fmt.Sprintf("Payment %s has no delivery #%d.", id, taskID))
		return
	case tasks[i].Status == payment.TaskDone:
		s.adminBack(w, r, id, adminOK, fmt.Sprintf("Delivery #%d has succeeded already; nothing to do.", taskID))
		return
	}
	if err := s.svc.Store().RetryTask(ctx, taskID, s.now()); err != nil {
		s.adminBack(w, r, id, adminError, adminRefusal(err))
		return
	}
	s.adminBack(w, r, id, adminOK, fmt.Sprintf("Delivery #%d (%s) is queued again and will be sent shortly.", taskID, strings.ToLower(adminTaskLabel(tasks[i].Kind))))
}

// ---- flash messages ----

// Flash kinds: the outcome of a form, shown on the page it leads back to.
const (
	adminOK    = "ok"
	adminError = "error"
	// adminWarn: sent, and not yet answered.
	adminWarn = "warn"
)

// adminFlash is a message about the last form sent.
type adminFlash struct {
	Kind, Message string
}

// adminBack sends the browser back to the payment page (303) with a
// message in the query, signed so that a link from elsewhere cannot put
// words on the page.
func (s *Server) adminBack(w http.ResponseWriter, r *http.Request, id vipps.OrderID, kind, msg string) {
	v := url.Values{"msg": {msg}, "kind": {kind}, "sig": {s.adminFlashMAC(kind, msg)}}
	http.Redirect(w, r, adminPaymentURL(id)+"?"+v.Encode(), http.StatusSeeOther)
}

func (s *Server) adminFlashMAC(kind, msg string) string {
	return s.csrfMAC("admin-flash", kind+"\x00"+msg)
}

// adminFlashFrom reads the message of q, if it is one of ours.
func (s *Server) adminFlashFrom(q url.Values) *adminFlash {
	msg, kind := q.Get("msg"), q.Get("kind")
	if msg == "" || !secretEqual(q.Get("sig"), vipps.Secret(s.adminFlashMAC(kind, msg))) {
		return nil
	}
	switch kind {
	case adminOK, adminError, adminWarn:
		return &adminFlash{Kind: kind, Message: msg}
	}
	return nil
}

// adminRefusal explains an error of a request that was refused or failed
// before Vipps answered, for staff: what happened first, then the detail.
func adminRefusal(err error) string {
	detail := adminReason(err)
	switch statusOf(err) {
	case http.StatusBadRequest:
		return "Nothing was done: " + detail
	case http.StatusNotFound:
		return "Not found, so nothing was done (" + detail + ")."
	case http.StatusConflict:
		switch {
		case errors.Is(err, payment.ErrIdempotencyMismatch):
			return "This form was already used for a different request, so nothing was done. Reload the page and try again."
		case errors.Is(err, payment.ErrState):
			return "Not possible now: " + detail
		}
		return "The payment changed while you were working on it; nothing was done. Reload the page and try again (" + detail + ")."
	case http.StatusGatewayTimeout:
		return "No answer in time. Reload the page in a minute to see whether it went through (" + detail + ")."
	case http.StatusUnprocessableEntity:
		return "Vipps refused the request: " + detail
	case http.StatusBadGateway:
		return "Vipps could not be reached or had a problem; try again in a few minutes (" + detail + ")."
	}
	return "Something went wrong in the payment service; try again, or ask a developer to look at the logs (" + detail + ")."
}

// adminReason is an error's message without the prefixes that repeat what
// the page shows, such as "capture order-1: not allowed in this state: ".
func adminReason(err error) string {
	var ve *vipps.Error
	if errors.As(err, &ve) {
		return ve.MerchantMessage() + adminErrorRef(string(ve.Group), string(ve.Code), ve.ContextID)
	}
	msg := err.Error()
	for _, sentinel := range []error{payment.ErrState, payment.ErrInvalid} {
		if errors.Is(err, sentinel) {
			if i := strings.LastIndex(msg, sentinel.Error()+": "); i >= 0 {
				return adminSentence(msg[i+len(sentinel.Error())+2:])
			}
		}
	}
	return msg
}

// adminSentence starts s with a capital letter and ends it with a stop.
func adminSentence(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
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

// ---- amounts ----

// adminParseAmount reads an amount in kroner as staff type it: "149",
// "149,50", "149.5", "1 234,50", optionally with "kr" before or after.
// Empty means 0: all that remains. It refuses negative amounts, more than
// two decimals, and anything else, saying what to fix.
func adminParseAmount(s string) (vipps.Amount, error) {
	in := s
	s = strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(s, "\u00a0", " "), "\u202f", " "))
	lower := strings.ToLower(s)
	switch {
	case strings.HasPrefix(lower, "kr"):
		s = strings.TrimSpace(strings.TrimPrefix(s[2:], "."))
	case strings.HasSuffix(lower, "kr"):
		s = strings.TrimSpace(s[:len(s)-2])
	case strings.HasSuffix(lower, "nok"):
		s = strings.TrimSpace(s[:len(s)-3])
	}
	s = strings.TrimSuffix(s, ",-") // "149,-": whole kroner
	if s == "" && strings.TrimSpace(in) == "" {
		return 0, nil
	}
	if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "\u2212") {
		return 0, fmt.Errorf("the amount %q is negative; write the amount without a minus sign", in)
	}
	whole, frac, hasFrac := strings.Cut(s, ",")
	if !hasFrac {
		whole, frac, hasFrac = strings.Cut(s, ".")
	}
	if strings.ContainsAny(whole, ".,") {
		return 0, fmt.Errorf("the amount %q has more than one decimal mark; write thousands without a separator or with spaces, like 1234,50", in)
	}
	// Spaces group thousands ("1 234"); nothing else may.
	groups := strings.Split(whole, " ")
	for i, g := range groups {
		if g == "" || !adminDigits(g) || (i > 0 && len(g) != 3) || (i == 0 && len(groups) > 1 && len(g) > 3) {
			return 0, fmt.Errorf("the amount %q is not an amount in kroner; write it like 149 or 149,50", in)
		}
	}
	whole = strings.Join(groups, "")
	if hasFrac && (frac == "" || !adminDigits(frac)) {
		if strings.ContainsAny(frac, ".,") {
			return 0, fmt.Errorf("the amount %q has more than one decimal mark; write thousands without a separator, like 1234,50", in)
		}
		return 0, fmt.Errorf("the amount %q is not an amount in kroner; write it like 149 or 149,50", in)
	}
	if len(frac) > 2 {
		return 0, fmt.Errorf("the amount %q has more than two decimals; write it like 149,50 (and thousands without a separator, like 1234,50)", in)
	}
	if len(whole) > 9 {
		return 0, fmt.Errorf("the amount %q is too large", in)
	}
	kr, _ := strconv.ParseInt(whole, 10, 64)
	ore := int64(0)
	if frac != "" {
		ore, _ = strconv.ParseInt((frac + "0")[:2], 10, 64)
	}
	a := vipps.Amount(kr*100 + ore)
	if a == 0 {
		return 0, fmt.Errorf("the amount is 0; leave the field empty to take all that is left")
	}
	return a, nil
}

func adminDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// adminKroner formats øre as nok does ("kr 1 234,50"), with non-breaking
// spaces so that an amount never breaks over two lines.
func adminKroner(a vipps.Amount) string { return strings.ReplaceAll(nok(a), " ", "\u00a0") }

// adminKronerOrDash is adminKroner, or "–" for nothing.
func adminKronerOrDash(a vipps.Amount) string {
	if a == 0 {
		return "–"
	}
	return adminKroner(a)
}

func adminOpAmount(op *payment.Operation) string {
	switch {
	case op.Kind == payment.OpCancel:
		return "–"
	case op.Amount == 0:
		return "all that remained"
	}
	return adminKroner(op.Amount)
}

// ---- labels ----

func adminStateLabel(st payment.State) string {
	switch st {
	case payment.Created:
		return "Created"
	case payment.Initiated:
		return "Waiting for customer"
	case payment.Reserved:
		return "Reserved"
	case payment.Captured:
		return "Captured"
	case payment.Refunded:
		return "Refunded"
	case payment.Cancelled:
		return "Cancelled"
	case payment.Voided:
		return "Released"
	case payment.Failed:
		return "Failed"
	}
	return string(st)
}

// adminStateHelp says what a payment's state means for staff.
func adminStateHelp(p *payment.Payment) string {
	a := p.Amounts
	switch p.State {
	case payment.Created:
		return "The payment is being sent to Vipps. If it stays like this, use “Check with Vipps now”."
	case payment.Initiated:
		return "Vipps has the payment and is waiting for the customer to approve it in the app. No money has moved yet."
	case payment.Reserved:
		if a.Captured > 0 {
			return fmt.Sprintf("Part of the money is captured (%s); %s is still reserved on the customer's card and can be captured or released.", adminKroner(a.Captured), adminKroner(a.RemainingToCapture))
		}
		return "The customer approved: the money is reserved on their card but not taken. Capture it when the goods are sent, or cancel to release it."
	case payment.Captured:
		if a.Refunded > 0 {
			return fmt.Sprintf("The money is taken; %s of it is refunded.", adminKroner(a.Refunded))
		}
		return "The money is taken from the customer. It can be refunded."
	case payment.Refunded:
		return "Everything that was taken is refunded to the customer."
	case payment.Cancelled:
		return "The payment ended before the customer approved it (cancelled, rejected in the app, or not approved in time). No money was taken."
	case payment.Voided:
		return "The reservation was released without taking any money. The customer has the money back."
	case payment.Failed:
		return "The payment failed (for example, the card was refused). No money was taken."
	}
	return ""
}

func adminEventLabel(t payment.EventType) string {
	switch t {
	case payment.EventCreated:
		return "Payment created"
	case payment.EventInitiated:
		return "Sent to Vipps; waiting for the customer"
	case payment.EventReserved:
		return "Customer approved; money reserved"
	case payment.EventCaptured:
		return "Money captured"
	case payment.EventRefunded:
		return "Money refunded"
	case payment.EventCancelled:
		return "Cancelled"
	case payment.EventVoided:
		return "Reservation released"
	case payment.EventFailed:
		return "Payment failed"
	case payment.EventExpired:
		return "Not approved (rejected or timed out)"
	case payment.EventConsentRemoved:
		return "Customer withdrew consent; details deleted"
	case payment.EventCallback:
		return "Vipps sent a notification"
	case payment.EventVippsError:
		return "Error from Vipps"
	case payment.EventOperationQueued:
		return "Operation requested"
	case payment.EventOperationFailed:
		return "Operation refused by Vipps"
	case payment.EventReceiptAdded:
		return "Receipt added"
	case payment.EventReceiptSent:
		return "Receipt sent to the Vipps app"
	case payment.EventSuperseded:
		return "Replaced by a newer payment"
	}
	return string(t)
}

// adminEventDetail explains an event's data in a line.
func adminEventDetail(e payment.Event) string {
	if len(e.Data) == 0 {
		return ""
	}
	switch e.Type {
	case payment.EventVippsError, payment.EventOperationFailed:
		var ve payment.VippsError
		if json.Unmarshal(e.Data, &ve) == nil && ve.Message != "" {
			return ve.Message + adminErrorRef(ve.Group, ve.Code, ve.ContextID)
		}
	case payment.EventOperationQueued:
		var d struct {
			Op        payment.OpKind `json:"op"`
			RequestID string         `json:"requestId"`
			Release   bool           `json:"release"`
		}
		if json.Unmarshal(e.Data, &d) == nil && d.Op != "" {
			s := adminOpLabel(d.Op)
			if d.Release {
				s += ", releasing what remains"
			}
			return s + " (request id " + d.RequestID + ")"
		}
	case payment.EventCallback:
		var d struct {
			Status vipps.CallbackStatus `json:"status"`
			Error  *vipps.ErrorDetail   `json:"errorInfo"`
		}
		if json.Unmarshal(e.Data, &d) == nil && d.Status != "" {
			s := "Status " + string(d.Status)
			if d.Error != nil {
				s += ": " + d.Error.Message + adminErrorRef(string(d.Error.Group), string(d.Error.Code), d.Error.ContextID)
			}
			return s
		}
	case payment.EventSuperseded:
		var d struct {
			Newer vipps.OrderID `json:"newer"`
		}
		if json.Unmarshal(e.Data, &d) == nil && d.Newer != "" {
			return "The customer approved after a newer attempt (" + string(d.Newer) + ") was started; this one is released so they do not pay twice."
		}
	}
	var b bytes.Buffer
	if json.Compact(&b, e.Data) != nil {
		return string(e.Data)
	}
	return b.String()
}

func adminOpLabel(k payment.OpKind) string {
	switch k {
	case payment.OpCapture:
		return "Capture"
	case payment.OpRefund:
		return "Refund"
	case payment.OpCancel:
		return "Cancel"
	}
	return string(k)
}

func adminOpStatusLabel(st payment.OpStatus) string {
	switch st {
	case payment.OpPending:
		return "Waiting for Vipps"
	case payment.OpSucceeded:
		return "Done"
	case payment.OpFailed:
		return "Refused"
	}
	return string(st)
}

func adminTaskLabel(k payment.TaskKind) string {
	switch k {
	case payment.TaskWebhook:
		return "Notification to the shop"
	case payment.TaskReceipt:
		return "Receipt to the Vipps app"
	case payment.TaskSupersede:
		return "Release if a newer attempt exists"
	}
	return string(k)
}

func adminTaskStatusLabel(st payment.TaskStatus) string {
	switch st {
	case payment.TaskPending:
		return "Waiting to be sent"
	case payment.TaskDone:
		return "Delivered"
	case payment.TaskDead:
		return "Gave up"
	}
	return string(st)
}

// ---- helpers ----

func adminErrorOf(e *payment.VippsError) *adminErrorView {
	if e == nil {
		return nil
	}
	return &adminErrorView{
		Op: e.Op, At: adminTime(e.At, true), AtISO: adminISO(e.At), Staff: e.Message, Customer: e.CustomerMessage(),
		StatusCode: e.StatusCode, Group: e.Group, Code: e.Code, ContextID: e.ContextID,
	}
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
		v.ShippingCost = adminKroner(sd.ShippingCost.Amount())
	}
	return v
}

func adminReceiptOf(r *vipps.Receipt) *adminReceiptView {
	v := &adminReceiptView{Number: r.BottomLine.ReceiptNumber}
	var total vipps.Amount
	for _, l := range r.OrderLines {
		line := adminReceiptLine{Name: l.Name, ID: l.ID, Tax: fmt.Sprintf("%d\u00a0%%", l.TaxPercentage), Total: adminKroner(l.TotalAmount)}
		if u := l.UnitInfo; u != nil {
			line.Quantity = strings.TrimSpace(strings.ReplaceAll(u.Quantity, ".", ",") + " " + strings.ToLower(u.QuantityUnit))
			line.UnitPrice = adminKroner(u.UnitPrice)
		}
		var notes []string
		if l.Discount > 0 {
			notes = append(notes, "discount "+adminKroner(l.Discount))
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
	v.Total = adminKroner(total)
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

func adminPaymentURL(id vipps.OrderID) string {
	return "/admin/payments/" + url.PathEscape(string(id))
}

// adminKey makes an idempotency key for one rendering of a form.
func adminKey() string { return "admin-" + rand.Text() }

// adminTime formats t in Oslo time: "24.11.2026 13:05" (with seconds when
// exact), or "" for the zero time.
func adminTime(t time.Time, exact bool) string {
	if t.IsZero() {
		return ""
	}
	if exact {
		return t.In(adminZone).Format("02.01.2006 15:04:05")
	}
	return t.In(adminZone).Format("02.01.2006 15:04")
}

// adminISO is t for a <time datetime>, in UTC.
func adminISO(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// adminErrorData is the data of admin_error.html.
type adminErrorData struct {
	page
	Status  int
	Message string
}

// adminFail shows an error page with the status of err.
func (s *Server) adminFail(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	msg := adminRefusal(err)
	if status == http.StatusNotFound {
		msg = "There is no payment with that orderId. Search for it in the list."
	}
	if status >= 500 {
		s.log.ErrorContext(r.Context(), "admin page failed", "path", r.URL.Path, "err", err)
	}
	s.writePage(w, status, "admin_error.html", &adminErrorData{
		page:   page{Title: http.StatusText(status) + " · vippskit admin", Environment: s.cfg.Environment},
		Status: status, Message: msg,
	})
}
