package vipps

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// InitiateRequest is the body of POST /ecomm/v2/payments. The client fills in
// MerchantInfo.MerchantSerialNumber when it is empty.
type InitiateRequest struct {
	CustomerInfo CustomerInfo        `json:"customerInfo"`
	MerchantInfo MerchantInfo        `json:"merchantInfo"`
	Transaction  InitiateTransaction `json:"transaction"`
}

// CustomerInfo pre-fills the landing page. Send MobileNumber only when it is
// already known; it is required with SkipLandingPage.
type CustomerInfo struct {
	MobileNumber string `json:"mobileNumber,omitempty"` // 8 digits, no +47
}

// MerchantInfo says who is paid and where Vipps calls and sends the user back.
type MerchantInfo struct {
	MerchantSerialNumber MSN `json:"merchantSerialNumber"`
	// CallbackPrefix gets /v2/payments/{orderId} appended for the
	// transaction callback. HTTPS.
	CallbackPrefix string `json:"callbackPrefix"`
	// FallBack is where the user is sent after the app, on success and
	// failure alike. HTTPS, an app scheme, or "INTENT" on Android.
	FallBack string `json:"fallBack"`
	// AuthToken is sent back verbatim as the Authorization header of the
	// callback and shippingDetails requests. Use a random value per payment
	// (see callback.NewAuthToken).
	AuthToken Secret `json:"authToken,omitempty"`
	// IsApp makes the response URL a vipps:// deeplink for native apps.
	IsApp       bool        `json:"isApp,omitempty"`
	PaymentType PaymentType `json:"paymentType,omitempty"`
	// ConsentRemovalPrefix (express, required) gets /v2/consents/{userId}.
	ConsentRemovalPrefix string `json:"consentRemovalPrefix,omitempty"`
	// ShippingDetailsPrefix (express, unless StaticShippingDetails) gets
	// /v2/payments/{orderId}/shippingDetails.
	ShippingDetailsPrefix string `json:"shippingDetailsPrefix,omitempty"`
	// StaticShippingDetails lists the shipping options for express checkout
	// so that Vipps does not call the shippingDetails endpoint.
	StaticShippingDetails []ShippingOption `json:"staticShippingDetails,omitempty"`
}

// InitiateTransaction is the transaction part of an initiate request.
type InitiateTransaction struct {
	Amount          Amount  `json:"amount"` // øre, at least 100
	OrderID         OrderID `json:"orderId"`
	TransactionText string  `json:"transactionText"` // at most 100 characters, shown in the app
	// SkipLandingPage sends the push at once; only for whitelisted sales
	// units (POS, vending machines).
	SkipLandingPage bool `json:"skipLandingPage,omitempty"`
	// Scope asks for profile data for Userinfo, space-separated from
	// "name address email phoneNumber birthDate nin".
	Scope string `json:"scope,omitempty"`
	// UseExplicitCheckoutFlow has had no effect since March 2023.
	UseExplicitCheckoutFlow bool           `json:"useExplicitCheckoutFlow,omitempty"`
	AdditionalData          AdditionalData `json:"additionalData,omitzero"`
}

// AdditionalData carries airline data. All fields but TicketNumber are
// required when it is sent.
type AdditionalData struct {
	PassengerName         string `json:"passengerName"`
	AirlineCode           string `json:"airlineCode"`
	AirlineDesignatorCode string `json:"airlineDesignatorCode"`
	TicketNumber          string `json:"ticketNumber,omitempty"`
	AgencyInvoiceNumber   string `json:"agencyInvoiceNumber"`
}

// ShippingOption is one way of shipping offered in express checkout.
type ShippingOption struct {
	IsDefault        YesNo  `json:"isDefault"`
	Priority         int    `json:"priority,omitempty"`
	ShippingCost     NOK    `json:"shippingCost"` // kroner, not øre
	ShippingMethod   string `json:"shippingMethod"`
	ShippingMethodID string `json:"shippingMethodId"`
}

// YesNo is a boolean as Vipps spells it in shipping options: "Y" or "N".
type YesNo bool

// MarshalJSON writes "Y" or "N".
func (y YesNo) MarshalJSON() ([]byte, error) {
	if y {
		return []byte(`"Y"`), nil
	}
	return []byte(`"N"`), nil
}

// UnmarshalJSON reads "Y"/"N" (any case) or a JSON boolean.
func (y *YesNo) UnmarshalJSON(b []byte) error {
	switch strings.ToUpper(strings.Trim(string(b), `"`)) {
	case "Y", "YES", "TRUE":
		*y = true
	case "N", "NO", "FALSE", "", "NULL":
		*y = false
	default:
		return fmt.Errorf("isDefault: want \"Y\" or \"N\", got %s", b)
	}
	return nil
}

// InitiateResponse is the answer to initiate.
type InitiateResponse struct {
	OrderID OrderID `json:"orderId"`
	// URL is where to send the user: the landing page (or app switch), or a
	// vipps:// deeplink with IsApp. Valid for 5 minutes; use it unchanged.
	URL string `json:"url"`
}

// Token returns the token query value of the URL, as force approve needs it.
func (r *InitiateResponse) Token() string {
	if u, err := url.Parse(r.URL); err == nil {
		if t := u.Query().Get("token"); t != "" {
			return t
		}
	}
	if _, t, ok := strings.Cut(r.URL, "token="); ok {
		t, _, _ = strings.Cut(t, "&")
		return t
	}
	return ""
}

// validate checks what Vipps would refuse, so the caller learns it before
// anything is sent.
func (r *InitiateRequest) validate() error {
	var p []string
	t := &r.Transaction
	if err := t.OrderID.Validate(); err != nil {
		p = append(p, err.Error())
	}
	if t.Amount < MinAmount {
		p = append(p, fmt.Sprintf("transaction.amount %d øre is below the minimum of %d øre (1 NOK)", t.Amount, MinAmount))
	}
	p = append(p, checkText("transaction.transactionText", t.TransactionText)...)
	m := &r.MerchantInfo
	if err := m.MerchantSerialNumber.Validate(); err != nil {
		p = append(p, "merchantInfo."+err.Error())
	}
	if m.CallbackPrefix == "" {
		p = append(p, "merchantInfo.callbackPrefix is required (an https URL that Vipps appends /v2/payments/{orderId} to)")
	}
	if m.FallBack == "" {
		p = append(p, "merchantInfo.fallBack is required (where the user returns after Vipps)")
	}
	for name, v := range map[string]string{"callbackPrefix": m.CallbackPrefix, "fallBack": m.FallBack,
		"consentRemovalPrefix": m.ConsentRemovalPrefix, "shippingDetailsPrefix": m.ShippingDetailsPrefix, "authToken": m.AuthToken.Reveal()} {
		if len(v) > 255 {
			p = append(p, fmt.Sprintf("merchantInfo.%s is %d characters; the limit is 255", name, len(v)))
		}
	}
	if r.CustomerInfo.MobileNumber != "" && !isDigits(r.CustomerInfo.MobileNumber, 8) {
		p = append(p, fmt.Sprintf("customerInfo.mobileNumber %q must be 8 digits without +47", r.CustomerInfo.MobileNumber))
	}
	if t.SkipLandingPage && r.CustomerInfo.MobileNumber == "" {
		p = append(p, "transaction.skipLandingPage needs customerInfo.mobileNumber")
	}
	switch m.PaymentType {
	case "", PaymentTypeRegular:
	case PaymentTypeExpress:
		if m.ConsentRemovalPrefix == "" {
			p = append(p, "express checkout needs merchantInfo.consentRemovalPrefix")
		}
		if m.ShippingDetailsPrefix == "" && len(m.StaticShippingDetails) == 0 {
			p = append(p, "express checkout needs merchantInfo.shippingDetailsPrefix or merchantInfo.staticShippingDetails")
		}
		if t.Scope != "" {
			p = append(p, "transaction.scope cannot be combined with express checkout")
		}
	default:
		p = append(p, fmt.Sprintf("merchantInfo.paymentType %q must be %q or %q", m.PaymentType, PaymentTypeRegular, PaymentTypeExpress))
	}
	if len(p) > 0 {
		return errors.New(strings.Join(p, "; "))
	}
	return nil
}

func checkText(name, s string) []string {
	switch n := len([]rune(s)); {
	case n == 0:
		return []string{name + " is required"}
	case n > 100:
		return []string{fmt.Sprintf("%s is %d characters; the limit is 100", name, n)}
	}
	return nil
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Initiate starts a payment (POST /ecomm/v2/payments) and returns the URL to
// send the user to.
//
// Initiate is not idempotent: it is retried only when the request provably
// never reached Vipps. When the outcome is unknown the error wraps
// [ErrOutcomeUnknown]: check [Client.Details]; if Vipps does not know the
// orderId, initiate again with a new orderId ([OrderID.Attempt]).
func (c *Client) Initiate(ctx context.Context, req InitiateRequest) (*InitiateResponse, error) {
	req.MerchantInfo.MerchantSerialNumber = cmp.Or(req.MerchantInfo.MerchantSerialNumber, c.cfg.MerchantSerialNumber)
	cl := &call{op: "initiate", method: "POST", path: "/ecomm/v2/payments", orderID: req.Transaction.OrderID, body: &req, mode: retryUnsent}
	if err := req.validate(); err != nil {
		return nil, c.wrap(cl, fmt.Errorf("%w: %w", ErrInvalidRequest, err))
	}
	var out InitiateResponse
	if err := c.do(ctx, cl, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CaptureRequest is a capture or a refund.
type CaptureRequest struct {
	// Amount in øre; zero means everything that remains (full capture or
	// full refund).
	Amount Amount
	// TransactionText is shown to the user (at most 100 characters). For a
	// capture it is proof of delivery, such as a tracking code.
	TransactionText string
	// RequestID is the X-Request-Id idempotency key. Store it before the
	// call and send the same value when repeating the call after a crash;
	// empty means a new random id for this call (reused on its retries).
	RequestID string
}

type paymentAction struct {
	MerchantInfo merchantRef `json:"merchantInfo"`
	Transaction  actionTx    `json:"transaction"`
	Release      bool        `json:"shouldReleaseRemainingFunds,omitempty"`
}

type merchantRef struct {
	MerchantSerialNumber MSN `json:"merchantSerialNumber"`
}

type actionTx struct {
	Amount          Amount `json:"amount,omitzero"`
	TransactionText string `json:"transactionText"`
}

// TransactionResponse is the answer to capture, cancel and refund. Vipps
// names the operation part transactionInfo for capture and cancel and
// transaction for refund; both decode into TransactionInfo.
type TransactionResponse struct {
	OrderID            OrderID            `json:"orderId"`
	PaymentInstrument  string             `json:"paymentInstrument,omitempty"`
	TransactionInfo    TransactionInfo    `json:"transactionInfo"`
	TransactionSummary TransactionSummary `json:"transactionSummary"`
}

// UnmarshalJSON accepts transactionInfo or transaction.
func (r *TransactionResponse) UnmarshalJSON(b []byte) error {
	type plain TransactionResponse
	var w struct {
		plain
		Transaction *TransactionInfo `json:"transaction"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*r = TransactionResponse(w.plain)
	if w.Transaction != nil && r.TransactionInfo == (TransactionInfo{}) {
		r.TransactionInfo = *w.Transaction
	}
	return nil
}

// TransactionInfo describes one operation.
type TransactionInfo struct {
	Amount          Amount            `json:"amount"` // øre, of this operation
	Status          TransactionStatus `json:"status"`
	TimeStamp       Time              `json:"timeStamp"`
	TransactionID   string            `json:"transactionId,omitempty"`
	TransactionText string            `json:"transactionText"`
}

// TransactionSummary holds the running totals of a payment.
type TransactionSummary struct {
	CapturedAmount           Amount `json:"capturedAmount"`
	RefundedAmount           Amount `json:"refundedAmount"`
	RemainingAmountToCapture Amount `json:"remainingAmountToCapture"`
	RemainingAmountToRefund  Amount `json:"remainingAmountToRefund"`
	// BankIdentificationNumber is the card's first six digits, only in
	// details.
	BankIdentificationNumber int64 `json:"bankIdentificationNumber,omitempty"`
}

func (c *Client) action(ctx context.Context, op, method string, orderID OrderID, body paymentAction, requestID string, mode retryMode) (*TransactionResponse, error) {
	cl := &call{op: op, method: method, path: "/ecomm/v2/payments/" + string(orderID) + "/" + op, orderID: orderID, requestID: requestID, mode: mode}
	var p []string
	if err := orderID.Validate(); err != nil {
		p = append(p, err.Error())
	}
	if body.Transaction.Amount < 0 {
		p = append(p, fmt.Sprintf("amount %d øre is negative", body.Transaction.Amount))
	}
	p = append(p, checkText("transactionText", body.Transaction.TransactionText)...)
	if len(requestID) > 40 {
		p = append(p, fmt.Sprintf("RequestID is %d characters; Vipps allows 40", len(requestID)))
	}
	if len(p) > 0 {
		return nil, c.invalid(cl, strings.Join(p, "; "))
	}
	body.MerchantInfo.MerchantSerialNumber = c.cfg.MerchantSerialNumber
	cl.body = &body
	var out TransactionResponse
	if err := c.do(ctx, cl, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Capture captures reserved money (POST /ecomm/v2/payments/{orderId}/capture):
// all that remains when req.Amount is zero, else that amount. Safe to retry
// with the same req.RequestID: Vipps applies it once.
func (c *Client) Capture(ctx context.Context, orderID OrderID, req CaptureRequest) (*TransactionResponse, error) {
	if req.RequestID == "" {
		req.RequestID = NewRequestID()
	}
	return c.action(ctx, "capture", "POST", orderID, paymentAction{Transaction: actionTx{Amount: req.Amount, TransactionText: req.TransactionText}}, req.RequestID, retrySafe)
}

// Refund returns captured money (POST /ecomm/v2/payments/{orderId}/refund):
// all that remains captured when req.Amount is zero, else that amount. Safe
// to retry with the same req.RequestID: Vipps applies it once.
func (c *Client) Refund(ctx context.Context, orderID OrderID, req CaptureRequest) (*TransactionResponse, error) {
	if req.RequestID == "" {
		req.RequestID = NewRequestID()
	}
	return c.action(ctx, "refund", "POST", orderID, paymentAction{Transaction: actionTx{Amount: req.Amount, TransactionText: req.TransactionText}}, req.RequestID, retrySafe)
}

// CancelRequest is a cancel.
type CancelRequest struct {
	TransactionText string
	// ShouldReleaseRemainingFunds releases what is still reserved after one
	// or more partial captures. Without it, cancelling a captured payment
	// fails (Payment 51).
	ShouldReleaseRemainingFunds bool
}

// Cancel stops a payment the user has not approved yet (it ends CANCEL) or
// releases a reservation (VOID); PUT /ecomm/v2/payments/{orderId}/cancel.
//
// Cancel has no idempotency key, but repeating it is harmless: it is retried
// on network and server errors. When an earlier attempt went unanswered and a
// later one is refused, the error wraps [ErrOutcomeUnknown]: the first may
// have cancelled the payment, so check [Client.Details].
func (c *Client) Cancel(ctx context.Context, orderID OrderID, req CancelRequest) (*TransactionResponse, error) {
	return c.action(ctx, "cancel", "PUT", orderID, paymentAction{Transaction: actionTx{TransactionText: req.TransactionText}, Release: req.ShouldReleaseRemainingFunds}, "", retryRepeatable)
}

// PaymentDetails is the full history of a payment
// (GET /ecomm/v2/payments/{orderId}/details).
type PaymentDetails struct {
	OrderID OrderID `json:"orderId"`
	// TransactionLogHistory is newest first.
	TransactionLogHistory []LogEntry `json:"transactionLogHistory"`
	// TransactionSummary is nil until the user has acted.
	TransactionSummary *TransactionSummary `json:"transactionSummary,omitempty"`
	// ShippingDetails is set for express payments.
	ShippingDetails *ShippingDetails `json:"shippingDetails,omitempty"`
	// UserDetails is set for express payments and payments with a scope.
	UserDetails *UserDetails `json:"userDetails,omitempty"`
	// Sub is the Userinfo subject for payments with a scope; it may arrive
	// a little after approval.
	Sub string `json:"sub,omitempty"`
}

// LogEntry is one operation in the details log.
type LogEntry struct {
	Operation Operation `json:"operation"`
	Amount    Amount    `json:"amount"`
	// OperationSuccess must be checked: a failed RESERVE is no reservation.
	OperationSuccess bool   `json:"operationSuccess"`
	TransactionText  string `json:"transactionText"`
	TransactionID    string `json:"transactionId,omitempty"`
	TimeStamp        Time   `json:"timeStamp"`
	// RequestID is the X-Request-Id of the operation, "" when none.
	RequestID string `json:"requestId"`
}

// ShippingDetails is the address and shipping chosen in express checkout.
type ShippingDetails struct {
	Address          Address `json:"address"`
	ShippingCost     NOK     `json:"shippingCost"`
	ShippingMethod   string  `json:"shippingMethod"`
	ShippingMethodID string  `json:"shippingMethodId"`
}

// Address is a postal address. Details send postCode; express callbacks send
// zipCode: both decode into PostCode.
type Address struct {
	AddressLine1 string `json:"addressLine1"`
	AddressLine2 string `json:"addressLine2,omitempty"`
	City         string `json:"city"`
	Country      string `json:"country"`
	PostCode     string `json:"postCode"`
}

// UnmarshalJSON accepts postCode or zipCode.
func (a *Address) UnmarshalJSON(b []byte) error {
	type plain Address
	var w struct {
		plain
		AddressLine2 *string `json:"addressLine2"`
		ZipCode      string  `json:"zipCode"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*a = Address(w.plain)
	if w.AddressLine2 != nil {
		a.AddressLine2 = *w.AddressLine2
	}
	a.PostCode = cmp.Or(a.PostCode, w.ZipCode)
	return nil
}

// UserDetails is the profile the user shared (express or scope).
type UserDetails struct {
	UserID       string `json:"userId"` // store it: consent removal names it
	FirstName    string `json:"firstName"`
	LastName     string `json:"lastName"`
	Email        string `json:"email"`
	MobileNumber string `json:"mobileNumber"`
	// BankIDVerified, DateOfBirth and SSN appear in some examples only.
	BankIDVerified string `json:"bankIdVerified,omitempty"`
	DateOfBirth    string `json:"dateOfBirth,omitempty"`
	SSN            string `json:"ssn,omitempty"`
}

// UnmarshalJSON tolerates bankIdVerified as a string, number or boolean.
func (u *UserDetails) UnmarshalJSON(b []byte) error {
	type plain UserDetails
	var w struct {
		plain
		BankIDVerified json.RawMessage `json:"bankIdVerified"`
		MobileNumber   json.RawMessage `json:"mobileNumber"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*u = UserDetails(w.plain)
	var err error
	if u.MobileNumber, err = stringOrNumber(w.MobileNumber); err != nil {
		return fmt.Errorf("mobileNumber: %w", err)
	}
	switch s := strings.TrimSpace(string(w.BankIDVerified)); s {
	case "", "null":
	case "true", "false":
		u.BankIDVerified = s
	default:
		if u.BankIDVerified, err = stringOrNumber(w.BankIDVerified); err != nil {
			return fmt.Errorf("bankIdVerified: %w", err)
		}
	}
	return nil
}

// Last returns the newest successful log entry of one of the operations (any
// operation when none are given).
func (d *PaymentDetails) Last(ops ...Operation) (LogEntry, bool) {
	for _, e := range d.TransactionLogHistory {
		if !e.OperationSuccess {
			continue
		}
		if len(ops) == 0 {
			return e, true
		}
		for _, op := range ops {
			if e.Operation == op {
				return e, true
			}
		}
	}
	return LogEntry{}, false
}

// Details returns the full history of a payment; poll it, and call it after
// every callback and redirect, since neither can be trusted alone.
// Safe to retry.
func (c *Client) Details(ctx context.Context, orderID OrderID) (*PaymentDetails, error) {
	return getPayment[PaymentDetails](ctx, c, "details", orderID)
}

// getPayment reads GET /ecomm/v2/payments/{orderId}/{op}.
func getPayment[T any](ctx context.Context, c *Client, op string, orderID OrderID) (*T, error) {
	cl := &call{op: op, method: "GET", path: "/ecomm/v2/payments/" + string(orderID) + "/" + op, orderID: orderID}
	if err := orderID.Validate(); err != nil {
		return nil, c.wrap(cl, err)
	}
	var out T
	if err := c.do(ctx, cl, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// StatusResponse is the answer of the deprecated status endpoint.
type StatusResponse struct {
	OrderID         OrderID `json:"orderId"`
	TransactionInfo struct {
		Amount        Amount      `json:"amount"`
		Status        OrderStatus `json:"status"`
		TimeStamp     Time        `json:"timeStamp"`
		TransactionID string      `json:"transactionId,omitempty"`
	} `json:"transactionInfo"`
}

// Status returns the last status of a payment
// (GET /ecomm/v2/payments/{orderId}/status).
//
// Deprecated: Vipps deprecated this endpoint because its answer can mislead;
// use [Client.Details]. Safe to retry.
func (c *Client) Status(ctx context.Context, orderID OrderID) (*StatusResponse, error) {
	return getPayment[StatusResponse](ctx, c, "status", orderID)
}

// ApproveRequest is a force approve in the test environment.
type ApproveRequest struct {
	// CustomerPhoneNumber is the test user's 8-digit number.
	CustomerPhoneNumber string `json:"customerPhoneNumber"`
	// Token is the token query value of the initiate URL
	// ([InitiateResponse.Token]).
	Token string `json:"token"`
	// RequestID is the X-Request-Id; empty means a random one.
	RequestID string `json:"-"`
}

// Approve approves a payment as the test user would in the app
// (POST /ecomm/v2/integration-test/payments/{orderId}/approve). It works in
// the test environment and the simulator only, not for express or
// skipLandingPage payments. Safe to retry with the same RequestID.
func (c *Client) Approve(ctx context.Context, orderID OrderID, req ApproveRequest) error {
	if req.RequestID == "" {
		req.RequestID = NewRequestID()
	}
	cl := &call{op: "approve", method: "POST", path: "/ecomm/v2/integration-test/payments/" + string(orderID) + "/approve", orderID: orderID, body: &req, requestID: req.RequestID}
	var p []string
	if err := orderID.Validate(); err != nil {
		p = append(p, err.Error())
	}
	if !isDigits(req.CustomerPhoneNumber, 8) {
		p = append(p, fmt.Sprintf("customerPhoneNumber %q must be 8 digits", req.CustomerPhoneNumber))
	}
	if req.Token == "" {
		p = append(p, "token is required (the token query value of the initiate URL)")
	}
	if len(p) > 0 {
		return c.invalid(cl, strings.Join(p, "; "))
	}
	return c.do(ctx, cl, nil)
}
