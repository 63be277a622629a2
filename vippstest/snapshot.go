package vippstest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/vippskit/vipps"
)

// The snapshot file is JSON with explicit structs below, apart from the
// simulator's internal types, so that a refactoring inside the simulator
// cannot change the file format by accident.
const (
	snapshotFormat = "vippstest-snapshot"
	// snapshotVersion is the format version written and the newest read.
	// Fields may be added without a new version: older files load with the
	// new fields at their zero values, and older simulators refuse newer
	// files because of the unknown fields. A change of meaning needs a new
	// version.
	snapshotVersion = 1
	// firstTxID is where transaction ids start counting.
	firstTxID = 5000000000
)

type snapshotFile struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	// ClockOffset is what Advance added to the real clock, as a Go
	// duration ("1h30m0s"); the time itself is not kept.
	ClockOffset string `json:"clockOffset"`
	// LastTransactionID is the last transaction id handed out.
	LastTransactionID int64         `json:"lastTransactionId"`
	Payments          []paymentSnap `json:"payments"`
	Tokens            []tokenSnap   `json:"accessTokens"`
	Consents          []consentSnap `json:"consents"`
	OrderManagement   []omOrderSnap `json:"orderManagement"`
	Images            []imageSnap   `json:"images"`
	// ExpressConsents are the consents users gave merchants to share
	// their details in express checkout.
	ExpressConsents []expressConsentSnap `json:"expressConsents"`
	// VerifiedUsers are the phone numbers of the documented unverified
	// test users (PhoneUnverifiedFirst to PhoneUnverifiedLast) who have
	// approved a payment by hand since.
	VerifiedUsers []string `json:"verifiedUsers,omitempty"`
}

type expressConsentSnap struct {
	UserID string    `json:"userId"`
	MSN    vipps.MSN `json:"msn"`
	At     time.Time `json:"at"`
}

type paymentSnap struct {
	MSN           vipps.MSN         `json:"msn"`
	OrderID       vipps.OrderID     `json:"orderId"`
	Amount        vipps.Amount      `json:"amount"`
	Text          string            `json:"transactionText"`
	Order         orderSnap         `json:"order"`
	Token         string            `json:"token"`
	URL           string            `json:"url"`
	TransactionID string            `json:"transactionId"`
	Phase         string            `json:"phase"`
	Status        vipps.OrderStatus `json:"status"`
	Last          logEntrySnap      `json:"last"`
	Captured      vipps.Amount      `json:"captured"`
	Refunded      vipps.Amount      `json:"refunded"`
	Released      vipps.Amount      `json:"released"`
	InitiatedAt   time.Time         `json:"initiatedAt"`
	ReservedAt    time.Time         `json:"reservedAt,omitzero"`
	PendingUntil  time.Time         `json:"pendingUntil,omitzero"`
	// ExpiredAt is when the reservation ran out (180 days).
	ExpiredAt time.Time `json:"expiredAt,omitzero"`
	// Failure is why the reservation failed: the callback's errorInfo.
	Failure *failureSnap `json:"failure,omitempty"`
	// Log is oldest first, as the simulator keeps it.
	Log         []logEntrySnap       `json:"log"`
	Idempotency []idemSnap           `json:"idempotency,omitempty"`
	User        *userSnap            `json:"user,omitempty"`
	Shipping    *shippingDetailsSnap `json:"shipping,omitempty"`
	// App is what the browser app knows of the payment so far.
	App *appSessionSnap `json:"app,omitempty"`
}

type failureSnap struct {
	Group   vipps.ErrorGroup `json:"errorGroup"`
	Code    vipps.ErrorCode  `json:"errorCode"`
	Message string           `json:"errorMessage"`
	// ContextID is empty: the simulator sends errorInfo without one.
	ContextID string `json:"contextId,omitempty"`
}

type appSessionSnap struct {
	Phone      string               `json:"phone,omitempty"`
	Address    int64                `json:"addressId,omitempty"`
	Option     string               `json:"shippingMethodId,omitempty"`
	FetchedFor int64                `json:"fetchedFor,omitempty"`
	Options    []shippingOptionSnap `json:"options,omitempty"`
	ShipErr    string               `json:"shippingError,omitempty"`
	ShipReason string               `json:"shippingReason,omitempty"`
}

type orderSnap struct {
	CallbackPrefix        string               `json:"callbackPrefix"`
	FallBack              string               `json:"fallBack"`
	AuthToken             string               `json:"authToken,omitempty"`
	IsApp                 bool                 `json:"isApp,omitempty"`
	PaymentType           vipps.PaymentType    `json:"paymentType"`
	ConsentRemovalPrefix  string               `json:"consentRemovalPrefix,omitempty"`
	ShippingDetailsPrefix string               `json:"shippingDetailsPrefix,omitempty"`
	StaticShipping        []shippingOptionSnap `json:"staticShippingDetails,omitempty"`
	MobileNumber          string               `json:"mobileNumber,omitempty"`
	SkipLandingPage       bool                 `json:"skipLandingPage,omitempty"`
	Scope                 string               `json:"scope,omitempty"`
}

type shippingOptionSnap struct {
	IsDefault        bool    `json:"isDefault,omitempty"`
	Priority         int     `json:"priority,omitempty"`
	ShippingCost     float64 `json:"shippingCost"` // NOK
	ShippingMethod   string  `json:"shippingMethod"`
	ShippingMethodID string  `json:"shippingMethodId"`
}

type logEntrySnap struct {
	Operation     vipps.Operation `json:"operation"`
	Amount        vipps.Amount    `json:"amount"`
	Success       bool            `json:"success"`
	Text          string          `json:"transactionText"`
	TransactionID string          `json:"transactionId,omitempty"`
	Time          time.Time       `json:"time,omitzero"`
	RequestID     string          `json:"requestId,omitempty"`
}

// idemSnap is a kept answer to an idempotent request, byte for byte.
type idemSnap struct {
	Op          string `json:"op"`
	RequestID   string `json:"requestId"`
	Fingerprint string `json:"fingerprint"`
	Status      int    `json:"status"`
	ContentType string `json:"contentType,omitempty"`
	Body        []byte `json:"body,omitempty"` // base64
}

type userSnap struct {
	Phone     string      `json:"phone"`
	Sub       string      `json:"sub"`
	UserID    string      `json:"userId"`
	FirstName string      `json:"firstName"`
	LastName  string      `json:"lastName"`
	Email     string      `json:"email"`
	BirthDate string      `json:"birthDate"`
	NIN       string      `json:"nin"`
	Address   addressSnap `json:"address"`
}

type addressSnap struct {
	AddressLine1 string `json:"addressLine1"`
	AddressLine2 string `json:"addressLine2,omitempty"`
	City         string `json:"city"`
	Country      string `json:"country"`
	PostCode     string `json:"postCode"`
}

type shippingDetailsSnap struct {
	Address          addressSnap `json:"address"`
	ShippingCost     float64     `json:"shippingCost"` // NOK
	ShippingMethod   string      `json:"shippingMethod"`
	ShippingMethodID string      `json:"shippingMethodId"`
}

type tokenSnap struct {
	Token   string    `json:"token"`
	MSN     vipps.MSN `json:"msn"`
	Expires time.Time `json:"expires"`
}

type consentSnap struct {
	Sub    string    `json:"sub"`
	MSN    vipps.MSN `json:"msn"`
	User   *userSnap `json:"user"`
	Scopes []string  `json:"scopes"`
	At     time.Time `json:"at"`
}

type omOrderSnap struct {
	MSN         vipps.MSN           `json:"msn"`
	PaymentType vipps.OMPaymentType `json:"paymentType"`
	OrderID     string              `json:"orderId"`
	Category    *categorySnap       `json:"category,omitempty"`
	Receipt     json.RawMessage     `json:"receipt,omitempty"`
}

type categorySnap struct {
	Category        vipps.Category `json:"category"`
	OrderDetailsURL string         `json:"orderDetailsUrl"`
	ImageID         string         `json:"imageId,omitempty"`
}

// imageSnap is an uploaded Order Management image, with its bytes (for
// the history page) when the simulator kept them.
type imageSnap struct {
	MSN     vipps.MSN `json:"msn"`
	ImageID string    `json:"imageId"`
	Data    []byte    `json:"data,omitempty"` // base64
}

// phaseNames spell the phases in the file; they never change meaning.
var phaseNames = map[phase]string{
	phaseInitiated:     "initiated",
	phaseReserved:      "reserved",
	phaseSale:          "sale",
	phaseCancelled:     "cancelled",
	phaseVoided:        "voided",
	phaseUserCancelled: "user-cancelled",
	phaseTimedOut:      "timed-out",
	phaseFailed:        "failed",
}

// decodeSnapshot checks the format and version, then decodes strictly.
func decodeSnapshot(data []byte) (snapshotFile, error) {
	var f snapshotFile
	if len(bytes.TrimSpace(data)) == 0 {
		return f, errors.New("the file is empty; delete it to start afresh")
	}
	var head struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return f, fmt.Errorf("corrupt: %s", jsonErrorAt(data, err))
	}
	switch {
	case head.Format != snapshotFormat:
		return f, fmt.Errorf("not a vippstest snapshot (format %q, want %q)", head.Format, snapshotFormat)
	case head.Version > snapshotVersion:
		return f, fmt.Errorf("format version %d is newer than this simulator reads (%d); use a newer vipps, or delete the file", head.Version, snapshotVersion)
	case head.Version < 1:
		return f, fmt.Errorf("corrupt: format version %d", head.Version)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return f, fmt.Errorf("corrupt: %s", jsonErrorAt(data, err))
	}
	return f, nil
}

func phaseByName(name string) (phase, bool) {
	for ph, n := range phaseNames {
		if n == name {
			return ph, true
		}
	}
	return 0, false
}
