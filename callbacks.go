package vipps

import (
	"cmp"
	"encoding/json"
	"fmt"
	"strconv"
)

// This file holds the wire types of the requests Vipps sends to the merchant:
// the transaction callback, the express shippingDetails request and its
// answer. Package callback serves them; package vippstest sends them.

// TransactionCallback is the body of POST {callbackPrefix}/v2/payments/{orderId}.
// Regular payments send MerchantSerialNumber, OrderID and TransactionInfo
// (and ErrorInfo on failures); express payments add ShippingDetails and
// UserDetails when approved.
type TransactionCallback struct {
	MerchantSerialNumber MSN                     `json:"merchantSerialNumber"`
	OrderID              OrderID                 `json:"orderId"`
	TransactionInfo      CallbackTransactionInfo `json:"transactionInfo"`
	ShippingDetails      *ShippingDetails        `json:"shippingDetails,omitempty"`
	UserDetails          *UserDetails            `json:"userDetails,omitempty"`
	ErrorInfo            *ErrorDetail            `json:"errorInfo,omitempty"`
}

// CallbackTransactionInfo is the transactionInfo of a callback.
type CallbackTransactionInfo struct {
	Amount        Amount         `json:"amount"`
	Status        CallbackStatus `json:"status"`
	TimeStamp     Time           `json:"timeStamp"`
	TransactionID string         `json:"transactionId,omitempty"`
}

// Express reports whether the callback has the express shape.
func (cb *TransactionCallback) Express() bool {
	return cb.ShippingDetails != nil || cb.UserDetails != nil
}

// ShippingDetailsRequest is the body of
// POST {shippingDetailsPrefix}/v2/payments/{orderId}/shippingDetails: the
// address the user picked in express checkout.
type ShippingDetailsRequest struct {
	// AddressID must be echoed in the answer.
	AddressID    int64  `json:"addressId"`
	AddressLine1 string `json:"addressLine1"`
	AddressLine2 string `json:"addressLine2,omitempty"`
	City         string `json:"city"`
	Country      string `json:"country"`
	PostCode     string `json:"postCode"`
	// AddressType is H (home, the default), W (work) or O (other).
	AddressType string `json:"addressType,omitempty"`
}

// UnmarshalJSON accepts addressId as a number or a string, addressLine2 as
// null, and zipCode for postCode.
func (r *ShippingDetailsRequest) UnmarshalJSON(b []byte) error {
	type plain ShippingDetailsRequest
	var w struct {
		plain
		AddressID    json.RawMessage `json:"addressId"`
		AddressLine2 *string         `json:"addressLine2"`
		ZipCode      string          `json:"zipCode"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*r = ShippingDetailsRequest(w.plain)
	s, err := stringOrNumber(w.AddressID)
	if err != nil {
		return fmt.Errorf("addressId: %w", err)
	}
	if s != "" {
		if r.AddressID, err = strconv.ParseInt(s, 10, 64); err != nil {
			return fmt.Errorf("addressId %q is not a whole number", s)
		}
	}
	if w.AddressLine2 != nil {
		r.AddressLine2 = *w.AddressLine2
	}
	r.PostCode = cmp.Or(r.PostCode, w.ZipCode)
	return nil
}

// ShippingDetailsResponse is the merchant's answer to a shippingDetails
// request: the options to show for that address.
type ShippingDetailsResponse struct {
	AddressID       int64            `json:"addressId"`
	OrderID         OrderID          `json:"orderId"`
	ShippingDetails []ShippingOption `json:"shippingDetails"`
}
