package vipps

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// ErrOutcomeUnknown is wrapped by errors from calls whose request may have
// reached Vipps without an answer coming back (a timeout, a dropped
// connection, a server error). The payment may or may not have changed. Check
// with [Client.Details]: for capture and refund, then retry with the same
// RequestID; for initiate, if Details says the orderId is unknown, initiate
// again with a new orderId (see [OrderID.Attempt]).
var ErrOutcomeUnknown = errors.New("outcome unknown: the request may have reached Vipps; check Details before acting again")

// ErrInvalidRequest is wrapped by errors from calls the client refused to
// send because the request breaks Vipps' rules (a transactionText over 100
// characters, a malformed orderId, ...): Vipps never saw it, and sending it
// again unchanged fails the same way. The error says what to fix.
var ErrInvalidRequest = errors.New("invalid request, not sent")

// ErrorGroup is the errorGroup of a Vipps error.
type ErrorGroup string

// Error groups. GroupGateway is ours: it marks errors from Vipps' API gateway
// (Azure API Management), which have no group of their own.
const (
	GroupAuthentication ErrorGroup = "Authentication"
	GroupPayment        ErrorGroup = "Payment"
	GroupInvalidRequest ErrorGroup = "InvalidRequest"
	GroupVippsError     ErrorGroup = "VippsError"
	GroupUser           ErrorGroup = "User"
	GroupMerchant       ErrorGroup = "Merchant"
	GroupGateway        ErrorGroup = "Gateway"
)

// ErrorCode is the errorCode of a Vipps error. Codes are numbers sent as
// strings and mean something only together with their group: Payment 51 is
// not Merchant 51 (see [Error.Has]). In the InvalidRequest group the code
// is the name of the field that failed validation; gateway and OAuth errors
// carry their own codes ("401", "invalid_client").
type ErrorCode string

// The eCom v2 error codes, named for what they mean, with the group they come
// in. Codes marked "2022" are only in older revisions of Vipps' guide.
const (
	// Payment group.
	CodeNoValidCard         ErrorCode = "41"   // Payment: the user has no valid card
	CodeRefusedByIssuer     ErrorCode = "42"   // Payment: refused by the issuer; the user must contact the bank
	CodeRefusedAmount       ErrorCode = "43"   // Payment: refused by the issuer because of the amount
	CodeExpiredCard         ErrorCode = "44"   // Payment: refused by the issuer because the card has expired
	CodeReservationFailed   ErrorCode = "45"   // Payment: reservation failed, most often because the user did not act in time
	CodeCancelCaptured      ErrorCode = "51"   // Payment: cannot cancel a captured payment; refund it (Merchant 51 is CodeNinNotAllowed)
	CodeCancelFailed        ErrorCode = "52"   // Payment: cancellation failed for an unknown reason
	CodeCancelNotReserved   ErrorCode = "53"   // Payment (2022): cannot cancel an order that is not reserved
	CodeCaptureOverReserved ErrorCode = "61"   // Payment: the captures add up to more than is reserved
	CodeCaptureNotReserved  ErrorCode = "62"   // Payment: nothing is reserved; the user has not approved
	CodeCaptureFailed       ErrorCode = "63"   // Payment: capture failed for an unknown reason; check details
	CodeRefundOverCaptured  ErrorCode = "71"   // Payment: cannot refund more than is captured
	CodeRefundNotCaptured   ErrorCode = "72"   // Payment: cannot refund a payment that is only reserved; cancel it
	CodeRefundCancelled     ErrorCode = "73"   // Payment: cannot refund a cancelled payment
	CodeRefundDebitFailed   ErrorCode = "74"   // Payment: the refund could not be debited from the merchant's account
	CodeRetryAmountDiffers  ErrorCode = "93"   // Payment: an idempotent retry carried another amount (VippsError 93 is CodeRetryBodyDiffers)
	CodeRefundTooLate       ErrorCode = "95"   // Payment: refunds only up to 365 days after reservation; also "direct capture is not allowed"
	CodeCaptureTooLate2022  ErrorCode = "96"   // Payment (2022): captures only up to 180 days after reservation; now CodeCaptureTooLate
	CodeCaptureTooLate      ErrorCode = "98"   // Payment: captures only up to 180 days after reservation (VippsError 98 is CodeTooManyRequests)
	CodeNotBankIDVerified   ErrorCode = "1082" // Payment: the test user is not BankID verified (force approve)
	CodeCannotPayCompanies  ErrorCode = "1501" // Payment (2022): the person cannot pay companies (under 15)

	// VippsError group.
	CodeNotAllowed       ErrorCode = "91" // VippsError: not allowed in the payment's state (capture of a cancelled payment)
	CodeAlreadyProcessed ErrorCode = "92" // VippsError: the transaction is already processed
	CodeRetryBodyDiffers ErrorCode = "93" // VippsError: an idempotent retry carried another body (Payment 93 is CodeRetryAmountDiffers)
	CodeOrderLocked      ErrorCode = "94" // VippsError: the order is locked while Vipps processes it; retry with the same key
	CodeTooManyRequests  ErrorCode = "98" // VippsError: too many concurrent requests (Payment 98 is CodeCaptureTooLate)
	CodeInternal         ErrorCode = "99" // VippsError: internal error, in practice mostly a bad request

	// User group.
	CodeUserCannotPay ErrorCode = "81" // User: badly formatted number, not a Vipps user, or cannot pay businesses
	CodeAppTooOld     ErrorCode = "82" // User: the user's app version is not supported

	// Merchant group.
	CodeReferenceInvalid          ErrorCode = "21" // Merchant (2022): the reference orderId is not valid
	CodeReferenceState            ErrorCode = "22" // Merchant (2022): the reference orderId is not in a valid state
	CodeMerchantBlocked           ErrorCode = "31" // Merchant: the merchant is blocked
	CodeReceivingLimit            ErrorCode = "32" // Merchant: the merchant's receiving limit is exceeded
	CodeRequestLimit              ErrorCode = "33" // Merchant: the merchant's payment request limit is exceeded
	CodeDuplicateOrderID          ErrorCode = "34" // Merchant: the orderId is already used for this MSN
	CodeOrderNotFound             ErrorCode = "35" // Merchant: the orderId does not exist for this MSN
	CodeAgreementNotSigned        ErrorCode = "36" // Merchant: the merchant agreement is not signed
	CodeSalesUnitUnavailable      ErrorCode = "37" // Merchant: the sales unit is unavailable, deleted, deactivated or blocked
	CodeSkipLandingPageNotAllowed ErrorCode = "38" // Merchant: the sales unit may not skip the landing page
	CodeLongLivingNotAllowed      ErrorCode = "39" // Merchant: the sales unit may not initiate long-living payments
	CodeNinNotAllowed             ErrorCode = "51" // Merchant: the nin scope is not allowed, HTTP 403 (Payment 51 is CodeCancelCaptured)
	CodePaymentsNotAllowed        ErrorCode = "97" // Merchant: the sales unit may not take payments (only Login approved), HTTP 403
)

// ErrorDetail is one entry of a Vipps error array. Callbacks carry the same
// shape as errorInfo.
type ErrorDetail struct {
	Group     ErrorGroup `json:"errorGroup"`
	Code      ErrorCode  `json:"errorCode"`
	Message   string     `json:"errorMessage"`
	ContextID string     `json:"contextId,omitempty"`
}

// UnmarshalJSON accepts errorCode as a string or a number and normalises the
// group's casing ("user" → "User").
func (d *ErrorDetail) UnmarshalJSON(b []byte) error {
	var w struct {
		Group     string          `json:"errorGroup"`
		Code      json.RawMessage `json:"errorCode"`
		Message   string          `json:"errorMessage"`
		ContextID string          `json:"contextId"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	code, err := stringOrNumber(w.Code)
	if err != nil {
		return fmt.Errorf("errorCode: %w", err)
	}
	*d = ErrorDetail{Group: normalGroup(w.Group), Code: ErrorCode(code), Message: w.Message, ContextID: w.ContextID}
	return nil
}

func normalGroup(g string) ErrorGroup {
	for _, known := range []ErrorGroup{GroupAuthentication, GroupPayment, GroupInvalidRequest, GroupVippsError, GroupUser, GroupMerchant} {
		if strings.EqualFold(g, string(known)) {
			return known
		}
	}
	return ErrorGroup(g)
}

// InvalidParam is one field problem in an Order Management validation error.
type InvalidParam struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// Error is an error answer from Vipps: an eCom error array, an API gateway
// object, an Order Management problem document, or a non-JSON body. Use
// errors.AsType[*vipps.Error](err) to get at it.
type Error struct {
	// Op names the call ("capture", "initiate", ...); OrderID is set for
	// payment calls.
	Op      string
	OrderID OrderID

	// StatusCode is the HTTP status. It is 200 when Vipps answered 200 with
	// an error body.
	StatusCode int
	// Group, Code, Message and ContextID come from the first entry of the
	// error array (or the gateway / problem document).
	Group     ErrorGroup
	Code      ErrorCode
	Message   string
	ContextID string
	// Details holds every entry of an error array.
	Details []ErrorDetail
	// InvalidParams lists field problems of Order Management errors.
	InvalidParams []InvalidParam
	// RequestID is the X-Request-Id this call sent, if any.
	RequestID string
	// RetryAfter is the server's Retry-After on a 429 or 503, if given.
	RetryAfter time.Duration
	// Body is the raw body (at most 4 KiB) when it had no known shape.
	Body string
}

// Error formats the error with what happened, the group and code, and the
// context id to quote to Vipps.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		if e.OrderID != "" {
			fmt.Fprintf(&b, " order %s", e.OrderID)
		}
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "vipps: HTTP %d", e.StatusCode)
	if e.Group != "" {
		fmt.Fprintf(&b, " %s", e.Group)
		if e.Code != "" {
			fmt.Fprintf(&b, " %s", e.Code)
		}
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	} else if e.Body != "" {
		fmt.Fprintf(&b, ": %q", e.Body)
	}
	for _, p := range e.InvalidParams {
		fmt.Fprintf(&b, "; %s: %s", p.Name, p.Reason)
	}
	if e.ContextID != "" {
		fmt.Fprintf(&b, " (contextId %s)", e.ContextID)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (X-Request-Id %s)", e.RequestID)
	}
	return b.String()
}

// Has reports whether e, or any entry of its error array, has this group and code.
func (e *Error) Has(group ErrorGroup, code ErrorCode) bool {
	if e.Group == group && e.Code == code {
		return true
	}
	for _, d := range e.Details {
		if d.Group == group && d.Code == code {
			return true
		}
	}
	return false
}

// Retryable reports whether repeating the same request later may succeed
// without changing it: rate limiting (429), an order locked by Vipps
// (VippsError 94), too many concurrent requests (VippsError 98), and server
// errors. For capture and refund, retry with the same RequestID.
func (e *Error) Retryable() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500 ||
		e.Has(GroupVippsError, CodeOrderLocked) || e.Has(GroupVippsError, CodeTooManyRequests)
}

// DuplicateOrderID reports whether initiate failed because the orderId was
// used before for this MSN (Merchant 34). Initiate again with a new orderId.
func (e *Error) DuplicateOrderID() bool { return e.Has(GroupMerchant, CodeDuplicateOrderID) }

// NotFound reports whether Vipps does not know the orderId for this MSN
// (Merchant 35, or HTTP 404).
func (e *Error) NotFound() bool {
	return e.Has(GroupMerchant, CodeOrderNotFound) || e.StatusCode == http.StatusNotFound
}

// Unauthorized reports whether the credentials, subscription key or access
// token were refused.
func (e *Error) Unauthorized() bool {
	return e.StatusCode == http.StatusUnauthorized || e.Group == GroupAuthentication
}

// RateLimited reports whether Vipps answered 429 Too Many Requests.
func (e *Error) RateLimited() bool { return e.StatusCode == http.StatusTooManyRequests }

// Locked reports whether the order is locked while Vipps processes it
// (VippsError 94); retry later with the same RequestID.
func (e *Error) Locked() bool { return e.Has(GroupVippsError, CodeOrderLocked) }

// IdempotencyMismatch reports whether a retry with the same X-Request-Id
// carried a different body than the first request (error 93).
func (e *Error) IdempotencyMismatch() bool {
	return e.Has(GroupVippsError, CodeRetryBodyDiffers) || e.Has(GroupPayment, CodeRetryAmountDiffers)
}

// Conflict reports whether Order Management refused because the object
// already exists (a receipt or an image can be stored once).
func (e *Error) Conflict() bool { return e.StatusCode == http.StatusConflict }

// errorKey is what an error means: its group and code.
type errorKey struct {
	group ErrorGroup
	code  ErrorCode
}

// customerText holds what a customer may be told, by group and code. Only the
// outcomes a customer can act on are here; everything else gets the generic
// text.
var customerText = map[errorKey]string{
	{GroupPayment, CodeNoValidCard}:       "Your Vipps account has no valid card. Add a card in Vipps and try again.",
	{GroupPayment, CodeRefusedByIssuer}:   "Your bank refused the payment. Contact your bank, or pay with another card.",
	{GroupPayment, CodeRefusedAmount}:     "Your bank refused the amount. Contact your bank, or pay with another card.",
	{GroupPayment, CodeExpiredCard}:       "Your card has expired. Update your card in Vipps and try again.",
	{GroupPayment, CodeReservationFailed}: "The payment was not completed, most likely because it was not confirmed in Vipps in time. Please try again.",
	{GroupUser, CodeUserCannotPay}:        "This phone number cannot pay with Vipps. Check the number, or use another payment method.",
	{GroupUser, CodeAppTooOld}:            "Your Vipps app is too old. Update the Vipps app and try again.",
}

const genericCustomerText = "The payment could not be completed. No money has been taken. Please try again, or choose another payment method."

// customerTextNB is customerText in Norwegian bokmål.
var customerTextNB = map[errorKey]string{
	{GroupPayment, CodeNoValidCard}:       "Vipps-kontoen din har ikke et gyldig kort. Legg til et kort i Vipps og prøv igjen.",
	{GroupPayment, CodeRefusedByIssuer}:   "Banken din avviste betalingen. Kontakt banken din, eller betal med et annet kort.",
	{GroupPayment, CodeRefusedAmount}:     "Banken din avviste beløpet. Kontakt banken din, eller betal med et annet kort.",
	{GroupPayment, CodeExpiredCard}:       "Kortet ditt er utløpt. Oppdater kortet i Vipps og prøv igjen.",
	{GroupPayment, CodeReservationFailed}: "Betalingen ble ikke fullført, trolig fordi den ikke ble bekreftet i Vipps i tide. Prøv igjen.",
	{GroupUser, CodeUserCannotPay}:        "Dette telefonnummeret kan ikke betale med Vipps. Sjekk nummeret, eller velg en annen betalingsmåte.",
	{GroupUser, CodeAppTooOld}:            "Vipps-appen din er for gammel. Oppdater Vipps-appen og prøv igjen.",
}

const genericCustomerTextNB = "Betalingen kunne ikke fullføres. Ingen penger er trukket. Prøv igjen, eller velg en annen betalingsmåte."

// CustomerMessage returns a text that a paying customer understands and can
// act on, in English. It never reveals internal details; for errors that
// are not the customer's to fix it returns a generic text.
func (e *Error) CustomerMessage() string { return e.CustomerMessageIn("en") }

// CustomerMessageIn is CustomerMessage in the language lang: "nb" (or "no",
// "nn") for Norwegian bokmål, English for any other.
func (e *Error) CustomerMessageIn(lang string) string {
	texts, generic := customerText, genericCustomerText
	switch strings.ToLower(lang) {
	case "nb", "no", "nn":
		texts, generic = customerTextNB, genericCustomerTextNB
	}
	if t, ok := texts[errorKey{e.Group, e.Code}]; ok {
		return t
	}
	return generic
}

// merchantText says what a merchant employee or developer should do.
var merchantText = map[errorKey]string{
	{GroupPayment, CodeCancelCaptured}:             "The payment is already captured and cannot be cancelled; refund it instead.",
	{GroupPayment, CodeCancelFailed}:               "Vipps could not cancel the payment; check its details.",
	{GroupPayment, CodeCaptureOverReserved}:        "The capture is larger than what remains reserved; check the remaining amount in the details.",
	{GroupPayment, CodeCaptureNotReserved}:         "Nothing is reserved yet: the customer has not approved the payment.",
	{GroupPayment, CodeCaptureFailed}:              "The capture failed for an unknown reason; check the details before trying again.",
	{GroupPayment, CodeRefundOverCaptured}:         "The refund is larger than what remains captured.",
	{GroupPayment, CodeRefundNotCaptured}:          "Nothing is captured; cancel the payment instead of refunding it.",
	{GroupPayment, CodeRefundCancelled}:            "The payment is cancelled; there is nothing to refund.",
	{GroupPayment, CodeRefundDebitFailed}:          "The refund could not be debited from the merchant's account; check the settlement account balance.",
	{GroupPayment, CodeRetryAmountDiffers}:         "A retry carried a different amount than the first attempt; use a new request id for a new operation.",
	{GroupPayment, CodeRefundTooLate}:              "Refunds are possible up to 365 days after reservation (or direct capture is not allowed for this sales unit).",
	{GroupPayment, CodeCaptureTooLate2022}:         "Captures are possible up to 180 days after reservation.",
	{GroupPayment, CodeCaptureTooLate}:             "Captures are possible up to 180 days after reservation.",
	{GroupPayment, CodeNotBankIDVerified}:          "The test user is not BankID verified: approve one payment manually in the Vipps test app first.",
	{GroupVippsError, CodeNotAllowed}:              "The operation is not allowed in the payment's current state (for example capture of a cancelled payment).",
	{GroupVippsError, CodeAlreadyProcessed}:        "The transaction is already processed.",
	{GroupVippsError, CodeRetryBodyDiffers}:        "A retry carried a different body than the first attempt with the same request id.",
	{GroupVippsError, CodeOrderLocked}:             "Vipps is still processing the order; retry later with the same request id.",
	{GroupVippsError, CodeTooManyRequests}:         "Too many concurrent requests for this order; slow down.",
	{GroupVippsError, CodeInternal}:                "Vipps reported an internal error; this is usually a malformed request. Check the request, then retry.",
	{GroupUser, CodeUserCannotPay}:                 "The phone number is wrong, not a Vipps user, or cannot pay businesses.",
	{GroupUser, CodeAppTooOld}:                     "The customer's Vipps app is too old.",
	{GroupMerchant, CodeMerchantBlocked}:           "The merchant is blocked by Vipps; contact Vipps.",
	{GroupMerchant, CodeReceivingLimit}:            "The merchant's receiving limit is exceeded; contact Vipps.",
	{GroupMerchant, CodeRequestLimit}:              "The merchant's payment request limit is exceeded; contact Vipps.",
	{GroupMerchant, CodeDuplicateOrderID}:          "The orderId is already used for this sales unit; initiate with a new orderId.",
	{GroupMerchant, CodeOrderNotFound}:             "Vipps does not know this orderId for this sales unit (wrong MSN or keys?).",
	{GroupMerchant, CodeAgreementNotSigned}:        "The merchant agreement is not signed.",
	{GroupMerchant, CodeSalesUnitUnavailable}:      "The sales unit is unavailable, deactivated or blocked; check portal.vipps.no.",
	{GroupMerchant, CodeSkipLandingPageNotAllowed}: "This sales unit may not skip the landing page.",
	{GroupMerchant, CodeLongLivingNotAllowed}:      "This sales unit may not initiate long-living payments.",
	{GroupMerchant, CodeNinNotAllowed}:             "The nin scope is not allowed for this sales unit.",
	{GroupMerchant, CodePaymentsNotAllowed}:        "This sales unit is not allowed to take payments (only approved for Login?).",
}

// merchantTextNB is merchantText in Norwegian bokmål.
var merchantTextNB = map[errorKey]string{
	{GroupPayment, CodeCancelCaptured}:             "Betalingen er allerede trukket og kan ikke kanselleres; refunder den i stedet.",
	{GroupPayment, CodeCancelFailed}:               "Vipps kunne ikke kansellere betalingen; sjekk detaljene.",
	{GroupPayment, CodeCaptureOverReserved}:        "Trekket er større enn det som fortsatt er reservert; sjekk gjenstående beløp i detaljene.",
	{GroupPayment, CodeCaptureNotReserved}:         "Ingenting er reservert ennå: kunden har ikke godkjent betalingen.",
	{GroupPayment, CodeCaptureFailed}:              "Trekket feilet av ukjent grunn; sjekk detaljene før du prøver igjen.",
	{GroupPayment, CodeRefundOverCaptured}:         "Refusjonen er større enn det som fortsatt er trukket.",
	{GroupPayment, CodeRefundNotCaptured}:          "Ingenting er trukket; kanseller betalingen i stedet for å refundere den.",
	{GroupPayment, CodeRefundCancelled}:            "Betalingen er kansellert; det er ingenting å refundere.",
	{GroupPayment, CodeRefundDebitFailed}:          "Refusjonen kunne ikke belastes brukerstedets konto; sjekk saldoen på oppgjørskontoen.",
	{GroupPayment, CodeRetryAmountDiffers}:         "Et nytt forsøk hadde et annet beløp enn det første; bruk en ny request id for en ny operasjon.",
	{GroupPayment, CodeRefundTooLate}:              "Refusjon er mulig inntil 365 dager etter reservasjonen (eller direkte trekk er ikke tillatt for dette salgsstedet).",
	{GroupPayment, CodeCaptureTooLate2022}:         "Trekk er mulig inntil 180 dager etter reservasjonen.",
	{GroupPayment, CodeCaptureTooLate}:             "Trekk er mulig inntil 180 dager etter reservasjonen.",
	{GroupPayment, CodeNotBankIDVerified}:          "Testbrukeren er ikke verifisert med BankID: godkjenn én betaling manuelt i Vipps' testapp først.",
	{GroupVippsError, CodeNotAllowed}:              "Operasjonen er ikke tillatt i betalingens nåværende status (for eksempel trekk av en kansellert betaling).",
	{GroupVippsError, CodeAlreadyProcessed}:        "Transaksjonen er allerede behandlet.",
	{GroupVippsError, CodeRetryBodyDiffers}:        "Et nytt forsøk med samme request id hadde et annet innhold enn det første.",
	{GroupVippsError, CodeOrderLocked}:             "Vipps behandler fortsatt ordren; prøv igjen senere med samme request id.",
	{GroupVippsError, CodeTooManyRequests}:         "For mange samtidige forespørsler for denne ordren; senk farten.",
	{GroupVippsError, CodeInternal}:                "Vipps meldte en intern feil; som regel er forespørselen feil utformet. Sjekk forespørselen, og prøv igjen.",
	{GroupUser, CodeUserCannotPay}:                 "Telefonnummeret er feil, er ikke en Vipps-bruker, eller kan ikke betale til bedrifter.",
	{GroupUser, CodeAppTooOld}:                     "Kundens Vipps-app er for gammel.",
	{GroupMerchant, CodeMerchantBlocked}:           "Brukerstedet er sperret av Vipps; kontakt Vipps.",
	{GroupMerchant, CodeReceivingLimit}:            "Brukerstedets mottaksgrense er overskredet; kontakt Vipps.",
	{GroupMerchant, CodeRequestLimit}:              "Brukerstedets grense for betalingsforespørsler er overskredet; kontakt Vipps.",
	{GroupMerchant, CodeDuplicateOrderID}:          "OrderId-en er allerede brukt for dette salgsstedet; start betalingen med en ny orderId.",
	{GroupMerchant, CodeOrderNotFound}:             "Vipps kjenner ikke denne orderId-en for dette salgsstedet (feil MSN eller nøkler?).",
	{GroupMerchant, CodeAgreementNotSigned}:        "Brukerstedsavtalen er ikke signert.",
	{GroupMerchant, CodeSalesUnitUnavailable}:      "Salgsstedet er utilgjengelig, deaktivert eller sperret; sjekk portal.vipps.no.",
	{GroupMerchant, CodeSkipLandingPageNotAllowed}: "Dette salgsstedet har ikke lov til å hoppe over landingssiden.",
	{GroupMerchant, CodeLongLivingNotAllowed}:      "Dette salgsstedet har ikke lov til å starte langvarige betalinger.",
	{GroupMerchant, CodeNinNotAllowed}:             "Scopet nin er ikke tillatt for dette salgsstedet.",
	{GroupMerchant, CodePaymentsNotAllowed}:        "Dette salgsstedet har ikke lov til å ta imot betalinger (bare godkjent for Login?).",
}

// MerchantMessage returns a text for the merchant's staff or developers: what
// went wrong and what to do about it, in English.
func (e *Error) MerchantMessage() string { return e.MerchantMessageIn("en") }

// MerchantMessageIn is MerchantMessage in the language lang: "nb" (or
// "no", "nn") for Norwegian bokmål, English for any other. Vipps' own
// message, where it is passed on, stays as Vipps wrote it.
func (e *Error) MerchantMessageIn(lang string) string {
	nb := false
	switch strings.ToLower(lang) {
	case "nb", "no", "nn":
		nb = true
	}
	texts := merchantText
	if nb {
		texts = merchantTextNB
	}
	if t, ok := texts[errorKey{e.Group, e.Code}]; ok {
		return t
	}
	pick := func(en, bokmål string) string {
		if nb {
			return bokmål
		}
		return en
	}
	switch {
	case e.Group == GroupInvalidRequest:
		return fmt.Sprintf(pick("Vipps refused the field %q: %s", "Vipps avviste feltet %q: %s"), e.Code, e.Message)
	case e.Unauthorized():
		return pick("Vipps refused the credentials: check the client id, client secret, subscription key and MSN, and that they belong to this environment (test or production).",
			"Vipps avviste nøklene: sjekk client id, client secret, subscription key og MSN, og at de hører til dette miljøet (test eller produksjon).")
	case e.RateLimited():
		return pick("Too many requests for this order; wait and retry.", "For mange forespørsler for denne ordren; vent litt og prøv igjen.")
	case e.StatusCode >= 500:
		return pick("Vipps had a server error; retrying is safe for details, capture and refund with the same request id.",
			"Vipps hadde en serverfeil; det er trygt å prøve igjen for detaljer, trekk og refusjon med samme request id.")
	case e.Message != "":
		return e.Message
	}
	return pick("Vipps refused the request; see the error for details.", "Vipps avviste forespørselen; se feilen for detaljer.")
}

// maxErrorBody is how much of an unrecognised error body Error keeps.
const maxErrorBody = 4 << 10

// parseError decodes an error body of any documented shape. It returns nil
// when body is not an error (for status 200 bodies that are not errors).
func parseError(status int, body []byte) *Error {
	e := &Error{StatusCode: status}
	trim := bytes.TrimSpace(body)
	switch {
	case len(trim) > 0 && trim[0] == '[':
		var ds []ErrorDetail
		if json.Unmarshal(trim, &ds) == nil && len(ds) > 0 && (ds[0].Group != "" || ds[0].Code != "") {
			e.Details = ds
			e.Group, e.Code, e.Message, e.ContextID = ds[0].Group, ds[0].Code, ds[0].Message, ds[0].ContextID
			return e
		}
	case len(trim) > 0 && trim[0] == '{':
		var o struct {
			// gateway, guide shape
			StatusCode json.Number `json:"statusCode"`
			Message    string      `json:"message"`
			// gateway, spec shape
			ResponseInfo *struct {
				ResponseCode    json.Number `json:"responseCode"`
				ResponseMessage string      `json:"responseMessage"`
			} `json:"responseInfo"`
			Result *struct {
				Message string `json:"message"`
			} `json:"result"`
			// Order Management problem document
			Title         string         `json:"title"`
			Detail        string         `json:"detail"`
			Instance      string         `json:"instance"`
			InvalidParams []InvalidParam `json:"invalidParams"`
			// OAuth-style
			Error            string `json:"error"`
			ErrorDescription string `json:"error_description"`
		}
		var single ErrorDetail // a lone eCom error object
		if json.Unmarshal(trim, &single) == nil && single.Group != "" {
			e.Group, e.Code, e.Message, e.ContextID = single.Group, single.Code, single.Message, single.ContextID
			e.Details = []ErrorDetail{single}
			return e
		}
		if json.Unmarshal(trim, &o) == nil {
			switch {
			case o.ResponseInfo != nil || o.Result != nil:
				e.Group = GroupGateway
				if o.ResponseInfo != nil {
					e.Code = ErrorCode(o.ResponseInfo.ResponseCode.String())
					e.Message = o.ResponseInfo.ResponseMessage
				}
				if o.Result != nil && o.Result.Message != "" {
					e.Message = strings.TrimSpace(e.Message + ": " + o.Result.Message)
					e.Message = strings.TrimPrefix(e.Message, ": ")
				}
				return e
			case o.StatusCode != "" || (o.Message != "" && o.Title == ""):
				e.Group, e.Code, e.Message = GroupGateway, ErrorCode(o.StatusCode.String()), o.Message
				return e
			case o.Title != "" || o.Detail != "":
				e.Message = o.Title
				if o.Detail != "" && o.Detail != o.Title {
					e.Message = strings.TrimPrefix(e.Message+": "+o.Detail, ": ")
				}
				e.ContextID = o.Instance
				e.InvalidParams = o.InvalidParams
				return e
			case o.Error != "":
				e.Code, e.Message = ErrorCode(o.Error), o.ErrorDescription
				return e
			}
		}
	}
	if status < 300 {
		return nil
	}
	if len(trim) > maxErrorBody {
		trim = trim[:maxErrorBody]
	}
	e.Body = string(trim)
	if e.Body == "" {
		e.Message = http.StatusText(status)
	}
	return e
}
