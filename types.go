package vipps

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Amount is an amount of money in øre (1/100 NOK), as every eCom v2 amount
// field carries it. 499 kr is Amount(49900).
type Amount int64

// String formats the amount as kroner with two decimals, for example
// "499.00 NOK".
func (a Amount) String() string {
	sign := ""
	v := int64(a)
	if v < 0 {
		sign = "-"
		v = -v
	}
	return fmt.Sprintf("%s%d.%02d NOK", sign, v/100, v%100)
}

// MinAmount is the smallest amount Vipps accepts at initiate: 1 NOK.
const MinAmount Amount = 100

// NOK is an amount in Norwegian kroner as a decimal number. Vipps uses it for
// shipping costs only (shippingCost in static shipping options, the
// shippingDetails response, express callbacks and details); every other
// amount is an [Amount] in øre.
type NOK float64

// Amount converts k to øre, rounding to the nearest øre.
func (k NOK) Amount() Amount { return Amount(math.Round(float64(k) * 100)) }

// NOKFromAmount converts an amount in øre to kroner.
func NOKFromAmount(a Amount) NOK { return NOK(float64(a) / 100) }

// OrderID identifies a payment together with the merchant serial number. It is
// chosen by the merchant, is case-sensitive and must match
// ^[a-zA-Z0-9-]{1,50}$. See [NewOrderID] for ids that follow Vipps'
// recommendations.
type OrderID string

var orderIDPattern = regexp.MustCompile(`^[a-zA-Z0-9-]{1,50}$`)

// MaxOrderIDLen is the longest orderId Vipps accepts.
const MaxOrderIDLen = 50

// Validate reports whether id is a valid eCom orderId, and if not, what to fix.
func (id OrderID) Validate() error {
	switch {
	case id == "":
		return errors.New("orderId is empty; it needs 1 to 50 letters, digits or hyphens")
	case len(id) > MaxOrderIDLen:
		return fmt.Errorf("orderId %q is %d characters; the limit is %d", string(id), len(id), MaxOrderIDLen)
	case !orderIDPattern.MatchString(string(id)):
		return fmt.Errorf("orderId %q may contain only letters a-z and A-Z, digits and hyphens", string(id))
	}
	return nil
}

// MSN is a merchant serial number: the id of a Vipps sales unit, five or six
// digits. It is sent as a JSON string; it decodes from a JSON string or number,
// because Vipps' own callback examples send a number.
type MSN string

var msnPattern = regexp.MustCompile(`^[0-9]{5,6}$`)

// Validate reports whether m looks like a merchant serial number.
func (m MSN) Validate() error {
	if !msnPattern.MatchString(string(m)) {
		return fmt.Errorf("merchant serial number %q must be 5 or 6 digits", string(m))
	}
	return nil
}

// UnmarshalJSON accepts a JSON string or a JSON number.
func (m *MSN) UnmarshalJSON(b []byte) error {
	s, err := stringOrNumber(b)
	if err != nil {
		return fmt.Errorf("merchantSerialNumber: %w", err)
	}
	*m = MSN(s)
	return nil
}

// stringOrNumber decodes a JSON string or number into its text. null gives "".
func stringOrNumber(b []byte) (string, error) {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		return "", nil
	case b[0] == '"':
		var s string
		err := json.Unmarshal(b, &s)
		return s, err
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return "", fmt.Errorf("want a string or a number, got %.40s", b)
		}
		return n.String(), nil
	}
}

// Time is a timestamp as Vipps sends it: ISO-8601, usually with milliseconds and
// a Z, but sometimes without any zone (then UTC is assumed). It encodes as
// RFC 3339 with milliseconds in UTC.
type Time struct{ time.Time }

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

// ParseTime parses a Vipps timestamp leniently.
func ParseTime(s string) (Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			if !encodable(t) {
				return Time{}, fmt.Errorf("timestamp %q is out of range", s)
			}
			return Time{t}, nil
		}
	}
	return Time{}, fmt.Errorf("timestamp %q is not ISO-8601", s)
}

// encodable reports whether t has a four-digit year in UTC, as Time's JSON
// form needs (an offset can move 0000-01-01 or 9999-12-31 out of range).
func encodable(t time.Time) bool {
	y := t.UTC().Year()
	return y >= 0 && y <= 9999
}

// UnmarshalJSON parses ISO-8601 with or without a zone; null and "" give the
// zero Time.
func (t *Time) UnmarshalJSON(b []byte) error {
	s, err := stringOrNumber(b)
	if err != nil {
		return fmt.Errorf("timeStamp: %w", err)
	}
	if s == "" {
		*t = Time{}
		return nil
	}
	if b[0] != '"' { // a number: Unix seconds
		sec, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("timeStamp: %w", err)
		}
		// Years 0000 to 9999, which also keeps sec*1000 within int64.
		if !(sec >= -62167219200 && sec < 253402300800) {
			return fmt.Errorf("timeStamp %s is out of range", s)
		}
		*t = Time{time.UnixMilli(int64(sec * 1000)).UTC()}
		return nil
	}
	pt, err := ParseTime(s)
	if err != nil {
		return err
	}
	*t = pt
	return nil
}

// MarshalJSON writes RFC 3339 with milliseconds in UTC, like Vipps. Like
// time.Time, it fails for years outside 0000 to 9999 in UTC.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte(`""`), nil
	}
	if !encodable(t.Time) {
		return nil, fmt.Errorf("vipps.Time.MarshalJSON: year %d in UTC is outside 0000 to 9999", t.UTC().Year())
	}
	return []byte(`"` + t.UTC().Format("2006-01-02T15:04:05.000Z") + `"`), nil
}

// Secret is a credential or token. It prints as "[redacted]" in logs, errors
// and fmt verbs; [Secret.Reveal] returns the value, and JSON carries the real
// value because Vipps needs it on the wire.
type Secret string

// String returns "[redacted]" (or "" when empty).
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString makes %#v redact too.
func (s Secret) GoString() string { return `vipps.Secret("` + s.String() + `")` }

// Format makes every fmt verb redact.
func (s Secret) Format(f fmt.State, verb rune) { fmt.Fprint(f, s.String()) }

// Reveal returns the secret value.
func (s Secret) Reveal() string { return string(s) }

// PaymentType says whether a payment is a regular or an express checkout
// payment. The values are spelled as Vipps spells them.
type PaymentType string

// Payment types.
const (
	PaymentTypeRegular PaymentType = "eComm Regular Payment"
	PaymentTypeExpress PaymentType = "eComm Express Payment"
)

// Operation is an entry kind in the details transactionLogHistory.
type Operation string

// Operations in /details.
const (
	OperationInitiate Operation = "INITIATE"
	OperationReserve  Operation = "RESERVE"
	OperationSale     Operation = "SALE"
	OperationCapture  Operation = "CAPTURE"
	OperationRefund   Operation = "REFUND"
	OperationCancel   Operation = "CANCEL"
	OperationVoid     Operation = "VOID"
)

// OrderStatus is the status of the deprecated /status endpoint.
type OrderStatus string

// Statuses of the deprecated /status endpoint.
const (
	OrderStatusInitiate OrderStatus = "INITIATE"
	OrderStatusRegister OrderStatus = "REGISTER"
	OrderStatusReserve  OrderStatus = "RESERVE"
	OrderStatusSale     OrderStatus = "SALE"
	OrderStatusCapture  OrderStatus = "CAPTURE"
	OrderStatusRefund   OrderStatus = "REFUND"
	OrderStatusCancel   OrderStatus = "CANCEL"
	OrderStatusVoid     OrderStatus = "VOID"
	OrderStatusFailed   OrderStatus = "FAILED"
	OrderStatusRejected OrderStatus = "REJECTED"
)

// CallbackStatus is transactionInfo.status in a transaction callback. Regular
// payments say RESERVED where express payments say RESERVE.
type CallbackStatus string

// Callback statuses.
const (
	CallbackReserved      CallbackStatus = "RESERVED" // regular payment approved
	CallbackReserve       CallbackStatus = "RESERVE"  // express payment approved
	CallbackSale          CallbackStatus = "SALE"
	CallbackReserveFailed CallbackStatus = "RESERVE_FAILED"
	CallbackSaleFailed    CallbackStatus = "SALE_FAILED"
	CallbackCancelled     CallbackStatus = "CANCELLED"
	CallbackRejected      CallbackStatus = "REJECTED"
)

// Approved reports whether the status means the user approved and money was
// reserved or, for direct capture, captured.
func (s CallbackStatus) Approved() bool {
	return s == CallbackReserved || s == CallbackReserve || s == CallbackSale
}

// Failed reports whether the status means the payment ended without money:
// failed, cancelled by the user, or timed out.
func (s CallbackStatus) Failed() bool {
	switch s {
	case CallbackReserveFailed, CallbackSaleFailed, CallbackCancelled, CallbackRejected:
		return true
	}
	return false
}

// Known reports whether s is one of the statuses Vipps documents.
func (s CallbackStatus) Known() bool { return s.Approved() || s.Failed() }

// TransactionStatus is transactionInfo.status in capture, cancel and refund
// responses. Vipps spells these in mixed case.
type TransactionStatus string

// Transaction statuses in operation responses.
const (
	TransactionCaptured  TransactionStatus = "Captured"
	TransactionCancelled TransactionStatus = "Cancelled"
	TransactionRefund    TransactionStatus = "Refund"
)
