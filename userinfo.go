package vipps

import (
	"context"
	"encoding/json"
	"net/url"
)

// UserInfo is the profile a user agreed to share, from the Userinfo API.
// Which fields are set depends on the scope of the payment.
type UserInfo struct {
	Sub            string            `json:"sub"`
	Name           string            `json:"name,omitempty"`
	GivenName      string            `json:"given_name,omitempty"`
	FamilyName     string            `json:"family_name,omitempty"`
	Email          string            `json:"email,omitempty"`
	EmailVerified  bool              `json:"email_verified,omitempty"`
	PhoneNumber    string            `json:"phone_number,omitempty"` // MSISDN, for example 4712345678
	BirthDate      string            `json:"birthdate,omitempty"`
	NIN            string            `json:"nin,omitempty"`
	SID            string            `json:"sid,omitempty"`
	Address        *UserInfoAddress  `json:"address,omitempty"`
	OtherAddresses []UserInfoAddress `json:"other_addresses,omitempty"`
	// Accounts is kept as sent; its shape is not part of eCom.
	Accounts json.RawMessage `json:"accounts,omitempty"`
}

// UserInfoAddress is an address in a Userinfo profile.
type UserInfoAddress struct {
	StreetAddress string `json:"street_address,omitempty"`
	PostalCode    string `json:"postal_code,omitempty"`
	Region        string `json:"region,omitempty"`
	Country       string `json:"country,omitempty"`
	Formatted     string `json:"formatted,omitempty"`
	AddressType   string `json:"address_type,omitempty"`
}

// UserInfo fetches the profile behind sub (PaymentDetails.Sub of a payment
// initiated with a scope) from GET /vipps-userinfo-api/userinfo/{sub}. The data
// can be fetched for a week after the payment. As Vipps requires, this call
// carries no subscription key. Safe to retry.
func (c *Client) UserInfo(ctx context.Context, sub string) (*UserInfo, error) {
	cl := &call{op: "userinfo", method: "GET", path: "/vipps-userinfo-api/userinfo/" + url.PathEscape(sub), noSubscriptionKey: true}
	if sub == "" {
		return nil, c.invalid(cl, "sub is empty; read it from the payment's details")
	}
	var out UserInfo
	if err := c.do(ctx, cl, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
