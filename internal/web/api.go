package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

// This file is the shop's JSON API under /api/ (see doc.go for the shapes,
// and apiRoutes in routes.go for the routes). Every handler runs behind
// requireAPIKey, which checks the key and limits the body.

// apiError is the error object of every failed API request.
type apiError struct {
	Status int `json:"status"`
	// Message says what went wrong and what to do about it.
	Message string `json:"message"`
	// Group, Code and ContextID are Vipps' when Vipps refused.
	Group     string `json:"group,omitempty"`
	Code      string `json:"code,omitempty"`
	ContextID string `json:"contextId,omitempty"`
	// RequestID finds the request's lines in the service log.
	RequestID string `json:"requestId,omitempty"`
}

// errorBody is the answer of a failed API request.
type errorBody struct {
	Error apiError `json:"error"`
	// Routes lists the API's routes, for a request to none of them.
	Routes []string `json:"routes,omitempty"`
	// Payment is the payment as stored, when create stored one before it
	// failed.
	Payment *paymentJSON `json:"payment,omitempty"`
}

// paymentJSON is a payment as the API shows it. Amounts are øre.
type paymentJSON struct {
	OrderID vipps.OrderID   `json:"orderId"`
	ShopRef string          `json:"shopRef,omitempty"`
	Attempt int             `json:"attempt"`
	Kind    payment.Kind    `json:"kind"`
	Text    string          `json:"text"`
	State   payment.State   `json:"state"`
	Amounts payment.Amounts `json:"amounts"`
	// ReturnURL and OrderURL are the shop's pages given at create.
	ReturnURL string `json:"returnUrl,omitempty"`
	OrderURL  string `json:"orderUrl,omitempty"`
	// VippsURL is where the customer is sent; valid 5 minutes from create.
	VippsURL    string              `json:"vippsUrl,omitempty"`
	Receipt     *vipps.Receipt      `json:"receipt,omitempty"`
	CreatedAt   time.Time           `json:"createdAt"`
	UpdatedAt   time.Time           `json:"updatedAt"`
	NextCheckAt time.Time           `json:"nextCheckAt,omitzero"`
	LastError   *payment.VippsError `json:"lastError,omitempty"`
	// Express is what an express checkout shared ({shippingDetails,
	// userDetails}), as Vipps sent it (so its shippingCost is NOK, as
	// Vipps writes it); gone once the customer removes the consent.
	Express json.RawMessage `json:"express,omitempty"`
	// Shipping is the express shipping in the service's own terms: the
	// cost in øre, and whether Vipps reserved it on top of the amount
	// initiated (see payment.ShippingCharge).
	Shipping   *shippingJSON   `json:"shipping,omitempty"`
	Events     []eventJSON     `json:"events"`
	Operations []operationJSON `json:"operations"`
	// VippsLog is Vipps' transaction log of the payment, newest first, as
	// /details says now; only with ?vipps=1.
	VippsLog []vipps.LogEntry `json:"vippsLog,omitzero"`
}

// shippingJSON is a payment's express shipping as the API shows it.
type shippingJSON struct {
	Method   string       `json:"method"`
	MethodID string       `json:"methodId"`
	Cost     vipps.Amount `json:"cost"` // øre
	// Charged is "added" (reserved on top of the amount initiated),
	// "notAdded" (the reservation is the amount initiated) or "unknown".
	Charged payment.ShippingCharge `json:"charged"`
}

// eventJSON is one entry of a payment's history.
type eventJSON struct {
	Seq    int64             `json:"seq"`
	Type   payment.EventType `json:"type"`
	State  payment.State     `json:"state"`
	Amount vipps.Amount      `json:"amount"`
	Data   json.RawMessage   `json:"data,omitempty"`
	At     time.Time         `json:"at"`
}

// operationJSON is a capture, refund or cancel.
type operationJSON struct {
	ID               int64               `json:"id"`
	Kind             payment.OpKind      `json:"kind"`
	IdempotencyKey   string              `json:"idempotencyKey"`
	RequestID        string              `json:"requestId"`
	Amount           vipps.Amount        `json:"amount"`
	Text             string              `json:"text"`
	ReleaseRemaining bool                `json:"releaseRemaining"`
	Status           payment.OpStatus    `json:"status"`
	Error            *payment.VippsError `json:"error,omitempty"`
	// Sends is how often it was sent to Vipps: 0 while it waits its turn.
	Sends     int       `json:"sends"`
	SentAt    time.Time `json:"sentAt,omitzero"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

func newOperationJSON(op *payment.Operation) operationJSON {
	return operationJSON{
		ID: op.ID, Kind: op.Kind, IdempotencyKey: op.IdempotencyKey, RequestID: op.RequestID,
		Amount: op.Amount, Text: op.Text, ReleaseRemaining: op.ReleaseRemaining,
		Status: op.Status, Error: op.Error, Sends: op.Sends, SentAt: op.SentAt, CreatedAt: op.CreatedAt, UpdatedAt: op.UpdatedAt,
	}
}

// paymentView is the payment id with its events and operations as stored
// now, as the API shows it: read in one snapshot, so that they agree. The
// callback token's hash and the lease are left out.
func (s *Server) paymentView(ctx context.Context, id vipps.OrderID) (*paymentJSON, error) {
	snap, err := s.svc.Snapshot(ctx, id)
	if err != nil {
		return nil, err
	}
	p, events, ops := snap.Payment, snap.Events, snap.Operations
	v := &paymentJSON{
		OrderID: p.OrderID, ShopRef: p.ShopRef, Attempt: p.Attempt, Kind: p.Kind, Text: p.Text,
		State: p.State, Amounts: p.Amounts, ReturnURL: p.ReturnURL, OrderURL: p.OrderURL,
		VippsURL: p.VippsURL, Receipt: p.Receipt, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
		NextCheckAt: p.NextCheckAt, LastError: p.LastError,
		Events: make([]eventJSON, 0, len(events)), Operations: make([]operationJSON, 0, len(ops)),
	}
	if len(p.Shipping) > 0 && string(p.Shipping) != "null" {
		v.Express = p.Shipping
	}
	if sh := payment.ShippingOf(p); sh != nil {
		v.Shipping = &shippingJSON{Method: sh.Method, MethodID: sh.MethodID, Cost: sh.Cost, Charged: sh.Charge}
	}
	for _, e := range events {
		v.Events = append(v.Events, eventJSON{Seq: e.Seq, Type: e.Type, State: e.State, Amount: e.Amount, Data: e.Data, At: e.At})
	}
	for _, op := range ops {
		v.Operations = append(v.Operations, newOperationJSON(op))
	}
	return v, nil
}

// createBody is the body of POST /api/payments.
type createBody struct {
	Amount    vipps.Amount   `json:"amount"`
	Text      string         `json:"text"`
	ShopRef   string         `json:"shopRef"`
	Express   bool           `json:"express"`
	Phone     string         `json:"phone"`
	ReturnURL string         `json:"returnUrl"`
	OrderURL  string         `json:"orderUrl"`
	Receipt   *vipps.Receipt `json:"receipt"`
}

// createAnswer is the answer of POST /api/payments.
type createAnswer struct {
	OrderID vipps.OrderID `json:"orderId"`
	// URL is where to send the customer: the Vipps landing page or app.
	URL string `json:"url"`
	// ReturnURL is the service's return page, where Vipps sends the
	// customer back to; it shows the outcome and links to the shop's
	// returnUrl.
	ReturnURL string       `json:"returnUrl"`
	Payment   *paymentJSON `json:"payment"`
}

// apiCreate starts a payment: POST /api/payments. It is not safe to retry
// blindly: each call is a new payment (with a shopRef, the next attempt of
// that order). On 201 send the customer to url.
func (s *Server) apiCreate(w http.ResponseWriter, r *http.Request) {
	var b createBody
	if err := decodeJSON(r, &b, false); err != nil {
		s.apiFail(w, r, "", err)
		return
	}
	ctx := r.Context()
	p, err := s.svc.Create(ctx, payment.CreateRequest{
		Amount: b.Amount, Text: b.Text, ShopRef: b.ShopRef, Express: b.Express, Phone: b.Phone,
		ReturnURL: b.ReturnURL, OrderURL: b.OrderURL, Receipt: b.Receipt,
	})
	if err != nil {
		s.createFailed(w, r, p, err)
		return
	}
	view, err := s.paymentView(ctx, p.OrderID)
	if err != nil {
		s.apiFail(w, r, p.OrderID, err)
		return
	}
	w.Header().Set("Location", "/api/payments/"+string(p.OrderID))
	s.writeJSON(w, http.StatusCreated, createAnswer{
		OrderID: p.OrderID, URL: p.VippsURL, ReturnURL: s.svc.ReturnURL(p.OrderID), Payment: view,
	})
}

// createFailed answers a create that failed; p is the payment when it was
// stored before Vipps refused it or its answer was lost, else nil.
func (s *Server) createFailed(w http.ResponseWriter, r *http.Request, p *payment.Payment, err error) {
	if p == nil {
		s.apiFail(w, r, "", err)
		return
	}
	e := s.apiErrorOf(r, p.OrderID, err)
	view, verr := s.paymentView(r.Context(), p.OrderID)
	if verr != nil {
		// The error answer says all without the payment; its reading
		// failing is logged, not answered.
		s.log.Warn("reading the payment of a failed create failed", "order_id", p.OrderID, "request_id", e.RequestID, "err", verr)
	}
	s.writeJSON(w, e.Status, errorBody{Error: e, Payment: view})
}

// apiGet answers GET /api/payments/{orderId} with the stored payment, its
// events and operations. It does not call Vipps (see apiCheck), unless
// ?vipps=1 asks for Vipps' own log as well: then it fails when Vipps does.
func (s *Server) apiGet(w http.ResponseWriter, r *http.Request) {
	id, err := pathOrderID(r)
	if err != nil {
		s.apiFail(w, r, "", err)
		return
	}
	withLog := false
	if v := r.URL.Query().Get("vipps"); v != "" {
		if withLog, err = strconv.ParseBool(v); err != nil {
			s.apiFail(w, r, id, fmt.Errorf("%w: query parameter vipps=%q must be 1 or 0", payment.ErrInvalid, v))
			return
		}
	}
	view, err := s.apiPayment(r.Context(), id, withLog)
	if err != nil {
		s.apiFail(w, r, id, err)
		return
	}
	s.writeJSON(w, http.StatusOK, view)
}

// apiPayment is the stored payment as the API shows it, with Vipps' log
// when withLog is set.
func (s *Server) apiPayment(ctx context.Context, id vipps.OrderID, withLog bool) (*paymentJSON, error) {
	view, err := s.paymentView(ctx, id)
	if err != nil || !withLog {
		return view, err
	}
	d, err := s.svc.Details(ctx, id)
	if err != nil {
		return nil, err
	}
	view.VippsLog = append([]vipps.LogEntry{}, d.TransactionLogHistory...)
	return view, nil
}

// apiCheck asks Vipps about the payment now and answers with it, like
// apiGet: POST /api/payments/{orderId}/check. Safe to repeat.
func (s *Server) apiCheck(w http.ResponseWriter, r *http.Request) {
	id, err := pathOrderID(r)
	if err != nil {
		s.apiFail(w, r, "", err)
		return
	}
	p, err := s.svc.Check(r.Context(), id)
	s.answerPayment(w, r, id, p, err)
}

func (s *Server) answerPayment(w http.ResponseWriter, r *http.Request, id vipps.OrderID, p *payment.Payment, err error) {
	if err != nil {
		s.apiFail(w, r, id, err)
		return
	}
	view, err := s.paymentView(r.Context(), p.OrderID)
	if err != nil {
		s.apiFail(w, r, id, err)
		return
	}
	s.writeJSON(w, http.StatusOK, view)
}

// amountBody is the body of capture and refund; every field is optional.
type amountBody struct {
	// Amount in øre; 0 or absent means all that remains.
	Amount         vipps.Amount `json:"amount"`
	Text           string       `json:"text"`
	IdempotencyKey string       `json:"idempotencyKey"`
}

// cancelBody is the body of cancel; every field is optional.
type cancelBody struct {
	Text             string `json:"text"`
	ReleaseRemaining bool   `json:"releaseRemaining"`
	IdempotencyKey   string `json:"idempotencyKey"`
}

// opAnswer is the answer of capture, refund and cancel: 200 when Vipps
// did it, 202 when its answer was lost (the service sends the operation
// again with the same X-Request-Id until Vipps answers), 422 when Vipps
// refused it (Error says why).
type opAnswer struct {
	Error     *apiError     `json:"error,omitempty"`
	Operation operationJSON `json:"operation"`
	// Payment is the payment after the operation.
	Payment *paymentJSON `json:"payment,omitempty"`
}

// apiCapture captures all that remains, or amount:
// POST /api/payments/{orderId}/capture. With an idempotency key it is safe
// to retry: the same key and body get the first answer and capture once.
func (s *Server) apiCapture(w http.ResponseWriter, r *http.Request) {
	s.apiAmountOp(w, r, s.svc.Capture)
}

// apiRefund refunds all that is captured and not refunded, or amount:
// POST /api/payments/{orderId}/refund. Like apiCapture, safe to retry with
// an idempotency key.
func (s *Server) apiRefund(w http.ResponseWriter, r *http.Request) {
	s.apiAmountOp(w, r, s.svc.Refund)
}

// apiCancel cancels a payment not yet approved, voids a reservation with
// nothing captured, or with releaseRemaining releases what remains after
// partial captures: POST /api/payments/{orderId}/cancel.
func (s *Server) apiCancel(w http.ResponseWriter, r *http.Request) {
	var b cancelBody
	id, key, err := readOp(r, &b, &b.IdempotencyKey)
	if err != nil {
		s.apiFail(w, r, id, err)
		return
	}
	op, err := s.svc.Cancel(r.Context(), id, payment.OpRequest{Key: key, Text: b.Text, ReleaseRemaining: b.ReleaseRemaining})
	s.answerOp(w, r, id, op, err)
}

type opFunc func(ctx context.Context, id vipps.OrderID, req payment.OpRequest) (*payment.Operation, error)

func (s *Server) apiAmountOp(w http.ResponseWriter, r *http.Request, do opFunc) {
	var b amountBody
	id, key, err := readOp(r, &b, &b.IdempotencyKey)
	if err != nil {
		s.apiFail(w, r, id, err)
		return
	}
	op, err := do(r.Context(), id, payment.OpRequest{Key: key, Amount: b.Amount, Text: b.Text})
	s.answerOp(w, r, id, op, err)
}

// readOp reads an operation's request: the path's orderId, the optional
// body into body, and the idempotency key from the header or *bodyKey (a
// field of body, read once body is decoded).
func readOp(r *http.Request, body any, bodyKey *string) (vipps.OrderID, string, error) {
	id, err := pathOrderID(r)
	if err != nil {
		return "", "", err
	}
	if err := decodeJSON(r, body, true); err != nil {
		return id, "", err
	}
	key, err := idempotencyKey(r, *bodyKey)
	return id, key, err
}

func (s *Server) answerOp(w http.ResponseWriter, r *http.Request, id vipps.OrderID, op *payment.Operation, err error) {
	if err != nil {
		s.apiFail(w, r, id, err)
		return
	}
	a := opAnswer{Operation: newOperationJSON(op)}
	status := http.StatusOK
	switch op.Status {
	case payment.OpPending:
		status = http.StatusAccepted
	case payment.OpFailed:
		status = http.StatusUnprocessableEntity
		a.Error = &apiError{Status: status, RequestID: requestID(r.Context()), Message: "Vipps refused the " + string(op.Kind)}
		if e := op.Error; e != nil {
			a.Error.Message, a.Error.Group, a.Error.Code, a.Error.ContextID = e.Message, e.Group, e.Code, e.ContextID
		}
	}
	// The operation is done either way; a payment that cannot be read now
	// is left out rather than turning the answer into an error.
	view, err := s.apiPayment(r.Context(), id, false)
	if err != nil {
		s.log.Error("reading the payment after an operation failed", "order_id", id, "request_id", requestID(r.Context()), "err", err)
		s.writeJSON(w, status, a)
		return
	}
	a.Payment = view
	// As stored, so that a replay shows the same times as the first
	// answer (the store keeps microseconds).
	for _, o := range view.Operations {
		if o.ID == op.ID && o.Status == op.Status {
			a.Operation = o
		}
	}
	s.writeJSON(w, status, a)
}

// apiReceipt sets the receipt (order lines) that goes to Order Management
// with the first capture, or at once when something is captured already:
// PUT /api/payments/{orderId}/receipt with a vipps.Receipt. It answers with
// the payment. Vipps keeps one receipt per payment: once it is queued or
// sent, a new one is 409. Safe to repeat until then.
func (s *Server) apiReceipt(w http.ResponseWriter, r *http.Request) {
	id, err := s.setReceipt(r)
	if err != nil {
		s.apiFail(w, r, id, err)
		return
	}
	p, err := s.svc.Get(r.Context(), id)
	s.answerPayment(w, r, id, p, err)
}

// setReceipt reads apiReceipt's request and sets the receipt.
func (s *Server) setReceipt(r *http.Request) (vipps.OrderID, error) {
	id, err := pathOrderID(r)
	if err != nil {
		return "", err
	}
	var rc vipps.Receipt
	if err := decodeJSON(r, &rc, false); err != nil {
		return id, err
	}
	if _, err := s.svc.Get(r.Context(), id); err != nil {
		return id, err // an unknown orderId is 404, not a receipt error
	}
	return id, s.svc.SetReceipt(r.Context(), id, rc)
}

// apiNotFound answers requests under /api/ that match no route: 405 with
// Allow when the path is a route's with another method, else 404 with the
// list of routes.
func (s *Server) apiNotFound(w http.ResponseWriter, r *http.Request) {
	var allow []string
	routes := apiPatterns()
	for _, rt := range routes {
		method, pattern, _ := strings.Cut(rt, " ")
		if pathMatches(pattern, r.URL.Path) {
			allow = append(allow, method)
			if method == http.MethodGet {
				allow = append(allow, http.MethodHead)
			}
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		s.writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: apiError{
			Status:    http.StatusMethodNotAllowed,
			Message:   fmt.Sprintf("%s is not allowed on %s; use %s", r.Method, r.URL.Path, strings.Join(allow, " or ")),
			RequestID: requestID(r.Context()),
		}})
		return
	}
	s.writeJSON(w, http.StatusNotFound, errorBody{
		Error: apiError{
			Status:    http.StatusNotFound,
			Message:   fmt.Sprintf("no API route %s %s; see routes", r.Method, r.URL.Path),
			RequestID: requestID(r.Context()),
		},
		Routes: routes,
	})
}

// pathMatches reports whether path fits pattern, whose {name} segments
// match any one non-empty segment.
func pathMatches(pattern, path string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i, p := range ps {
		if strings.HasPrefix(p, "{") {
			if xs[i] == "" {
				return false
			}
		} else if p != xs[i] {
			return false
		}
	}
	return true
}

// pathOrderID returns the {orderId} of the route. One that Vipps would
// refuse cannot name a payment: a *badOrderID, which is ErrNotFound.
func pathOrderID(r *http.Request) (vipps.OrderID, error) {
	id := vipps.OrderID(r.PathValue("orderId"))
	if err := checkOrderID(id); err != nil {
		return "", err
	}
	return id, nil
}

// checkOrderID returns a *badOrderID when id is not one Vipps takes.
func checkOrderID(id vipps.OrderID) error {
	if len(id) > vipps.MaxOrderIDLen { // not echoed: it may be very long
		return &badOrderID{fmt.Errorf("the orderId is %d characters; the limit is %d", len(id), vipps.MaxOrderIDLen)}
	}
	if err := id.Validate(); err != nil {
		return &badOrderID{err}
	}
	return nil
}

// badOrderID is an orderId that no payment can have; it is
// payment.ErrNotFound.
type badOrderID struct{ why error }

func (e *badOrderID) Error() string { return "no payment can have this orderId: " + e.why.Error() }
func (e *badOrderID) Unwrap() error { return payment.ErrNotFound }

// idempotencyKey is the operation's key: from the body or the
// Idempotency-Key header, which must agree when both are sent.
func idempotencyKey(r *http.Request, body string) (string, error) {
	h := r.Header.Get("Idempotency-Key")
	switch {
	case h == "":
		return body, nil
	case body == "" || body == h:
		return h, nil
	}
	return "", fmt.Errorf("%w: the Idempotency-Key header %q and the body's idempotencyKey %q differ; send one of them", payment.ErrInvalid, h, body)
}

// decodeJSON reads the body as one JSON object into v, refusing unknown
// fields and anything after the object. With optional, an empty body is
// an empty object. Its errors wrap payment.ErrInvalid and name the field,
// or are the *http.MaxBytesError of a body that is too large.
func decodeJSON(r *http.Request, v any, optional bool) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) && optional {
			return nil
		}
		return bodyError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if mbe, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return mbe
		}
		return fmt.Errorf("%w: body: unexpected data after the JSON object; send one object", payment.ErrInvalid)
	}
	return nil
}

// bodyError says what is wrong with a body json refused.
func bodyError(err error) error {
	if mbe, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return mbe
	}
	var msg string
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		msg = fmt.Sprintf("body is not valid JSON (at byte %d): %v", se.Offset, se)
	} else if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		if te.Field == "" {
			msg = fmt.Sprintf("body must be a JSON object, not %s", te.Value)
		} else {
			msg = fmt.Sprintf("field %q must be %s, not %s", te.Field, jsonKind(te.Type), te.Value)
		}
	} else if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		msg = "unknown field " + f
	} else {
		switch {
		case errors.Is(err, io.EOF):
			msg = "body is empty; send a JSON object"
		case errors.Is(err, io.ErrUnexpectedEOF):
			msg = "body ends in the middle of the JSON"
		default:
			msg = "body: " + strings.TrimPrefix(err.Error(), "json: ")
		}
	}
	return fmt.Errorf("%w: %s", payment.ErrInvalid, msg)
}

// jsonKind says in words what JSON a Go type takes.
func jsonKind(t reflect.Type) string {
	if t == reflect.TypeFor[vipps.Amount]() {
		return "an integer amount in øre"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map, reflect.Pointer:
		return "an object"
	}
	return "a " + t.String()
}

// apiErrorOf turns err into the API's error object, using statusOf. The
// message of a 5xx never shows the error itself: the error is logged with
// the request id, which the answer quotes.
func (s *Server) apiErrorOf(r *http.Request, id vipps.OrderID, err error) apiError {
	status := statusOf(err)
	e := apiError{Status: status, RequestID: requestID(r.Context())}
	ve, isVipps := errors.AsType[*vipps.Error](err)
	if status > http.StatusInternalServerError { // Vipps failed or timed out
		s.log.Warn("api request failed", "order_id", id, "request_id", e.RequestID,
			"method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	switch {
	case status == http.StatusRequestEntityTooLarge:
		e.Message = fmt.Sprintf("the body is larger than %d KiB", maxAPIBody>>10)
	case status == http.StatusGatewayTimeout:
		e.Message = "Vipps or the database did not answer in time, so the outcome is unknown; " +
			"the service finds out by itself: read the payment again before retrying"
	case status == http.StatusServiceUnavailable:
		e.Message = unavailableMessage
	case isVipps && status != http.StatusInternalServerError:
		e.Message, e.Group, e.Code, e.ContextID = ve.MerchantMessage(), string(ve.Group), string(ve.Code), ve.ContextID
	case status >= 500:
		s.log.Error("api request failed", "order_id", id, "request_id", e.RequestID,
			"method", r.Method, "path", r.URL.Path, "err", err)
		e.Message = "internal error; see the service log (request id " + e.RequestID + ")"
	default:
		e.Message = messageOf(err, id)
	}
	return e
}

// apiFail answers with the error object of err.
func (s *Server) apiFail(w http.ResponseWriter, r *http.Request, id vipps.OrderID, err error) {
	e := s.apiErrorOf(r, id, err)
	if e.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", retryAfterUnavailable)
	}
	s.writeJSON(w, e.Status, errorBody{Error: e})
}

// writeJSON answers with v as JSON.
func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.log.Error("encoding a JSON answer failed", "err", err)
		status, b = http.StatusInternalServerError, []byte(`{"error":{"status":500,"message":"internal error; see the service log"}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
