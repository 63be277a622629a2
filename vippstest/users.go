package vippstest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/vippskit/vipps"
)

// user is a simulated Vipps test user. Everything about them follows from
// the phone number, so the same number is the same person in every run,
// with the same sub (which Vipps derives from the national identity
// number).
type user struct {
	phone     string
	sub       string // Userinfo subject, a UUID
	userID    string // express checkout userId, base64 with '=' padding
	firstName string
	lastName  string
	email     string
	birthDate string // YYYY-MM-DD
	nin       string
	address   vipps.Address // at home
}

// userAddress is one of a user's saved addresses. Vipps numbers them with
// an addressId of at least 100 and sends it to the merchant's
// shippingDetails endpoint.
type userAddress struct {
	id   int64
	kind string // addressType: H (home), W (work) or O (other)
	vipps.Address
}

func userFor(phone string) *user {
	h := sha256.Sum256([]byte("vippstest user " + phone))
	first := []string{"Ada", "Kari", "Ola", "Nora", "Emil", "Ingrid", "Jakob", "Sofie"}
	last := []string{"Lovelace", "Nordmann", "Hansen", "Johansen", "Olsen", "Larsen", "Berg", "Haugen"}
	streets := []string{"Dronning Eufemias gate", "Karl Johans gate", "Storgata", "Kirkeveien"}
	n := binary.BigEndian.Uint64(h[:8])
	u := &user{
		phone:     phone,
		firstName: first[n%uint64(len(first))],
		lastName:  last[(n/8)%uint64(len(last))],
	}
	u.sub = fmt.Sprintf("%x-%x-%x-%x-%x", h[8:12], h[12:14], h[14:16], h[16:18], h[18:24])
	u.userID = base64.StdEncoding.EncodeToString(h[24:32])[:10] + "+/uob=="
	u.email = strings.ToLower(u.firstName+"."+u.lastName) + "@example.com"
	year := 1950 + int(n%50)
	month := 1 + int(n/50%12)
	day := 1 + int(n/600%28)
	u.birthDate = fmt.Sprintf("%04d-%02d-%02d", year, month, day)
	u.nin = fmt.Sprintf("%02d%02d%02d%05d", day, month, year%100, n%100000)
	u.address = vipps.Address{
		AddressLine1: fmt.Sprintf("%s %d", streets[(n/64)%uint64(len(streets))], 1+n%90),
		City:         "OSLO",
		Country:      "NO",
		PostCode:     fmt.Sprintf("0%03d", 150+n%800),
	}
	return u
}

// addresses are the addresses express checkout offers the user: home (the
// address Userinfo shares), then work. Like the rest of the user they
// follow from the phone number.
func (u *user) addresses() []userAddress {
	h := sha256.Sum256([]byte("vippstest user " + u.phone))
	n := binary.BigEndian.Uint64(h[:8])
	work := []struct{ street, city, postCode string }{
		{"Bryggen", "BERGEN", "5003"}, {"Munkegata", "TRONDHEIM", "7011"},
		{"Kirkegata", "STAVANGER", "4006"}, {"Storgata", "TROMSØ", "9008"},
	}[(n/256)%4]
	homeID := 1000 + int64(n%8000)
	return []userAddress{
		{id: homeID, kind: "H", Address: u.address},
		{id: homeID + 1, kind: "W", Address: vipps.Address{
			AddressLine1: fmt.Sprintf("%s %d", work.street, 1+(n/1024)%40),
			AddressLine2: "c/o Simulert AS",
			City:         work.city,
			Country:      "NO",
			PostCode:     work.postCode,
		}},
	}
}

// addressByID returns the user's address with this addressId.
func (u *user) addressByID(id int64) (userAddress, bool) {
	for _, a := range u.addresses() {
		if a.id == id {
			return a, true
		}
	}
	return userAddress{}, false
}

func (u *user) details() vipps.UserDetails {
	return vipps.UserDetails{UserID: u.userID, FirstName: u.firstName, LastName: u.lastName, Email: u.email, MobileNumber: u.phone}
}

// consent is what a user shared with a merchant through a scope.
type consent struct {
	user   *user
	scopes []string
	at     time.Time
}

type consentKey struct {
	sub string
	msn vipps.MSN
}

// scopes are the values transaction.scope may hold.
func knownScope(s string) bool {
	switch s {
	case "name", "address", "email", "phoneNumber", "birthDate", "nin", "accountNumbers":
		return true
	}
	return false
}

// userinfo serves GET /vipps-userinfo-api/userinfo/{sub}: the profile a
// user shared with this merchant through a payment's scope, for 168 hours.
func (s *Simulator) userinfo(x *exchange) reply {
	m, rep := s.authorize(x, false)
	if rep != nil {
		return *rep
	}
	sub := x.r.PathValue("sub")
	c := s.subs[consentKey{sub, m.MSN}]
	switch {
	case c == nil:
		return jsonReply(http.StatusNotFound, map[string]string{"error": "not_found", "error_description": "No user with this sub has shared data with this merchant."})
	case x.now.Sub(c.at) > userinfoLife:
		return jsonReply(http.StatusForbidden, map[string]string{"error": "access_denied", "error_description": "The user's data can be fetched for 168 hours after the payment."})
	}
	u := c.user
	out := vipps.UserInfo{Sub: u.sub}
	for _, sc := range c.scopes {
		switch sc {
		case "name":
			out.Name, out.GivenName, out.FamilyName = u.firstName+" "+u.lastName, u.firstName, u.lastName
		case "email":
			out.Email, out.EmailVerified = u.email, true
		case "phoneNumber":
			out.PhoneNumber = "47" + u.phone
		case "birthDate":
			out.BirthDate = u.birthDate
		case "nin":
			out.NIN = u.nin
		case "address":
			a := u.address
			out.Address = &vipps.UserInfoAddress{
				StreetAddress: a.AddressLine1,
				PostalCode:    a.PostCode,
				Region:        a.City,
				Country:       a.Country,
				Formatted:     a.AddressLine1 + "\n" + a.PostCode + " " + a.City + "\n" + a.Country,
				AddressType:   "home",
			}
		}
	}
	return jsonReply(http.StatusOK, out)
}

// shareLocked records that the user of p shared p's scope with the merchant.
func (s *Simulator) shareLocked(p *payment, now time.Time) {
	k := consentKey{p.user.sub, p.msn}
	c := s.subs[k]
	if c == nil {
		c = &consent{user: p.user}
		s.subs[k] = c
	}
	for sc := range strings.FieldsSeq(p.order.scope) {
		if !slices.Contains(c.scopes, sc) {
			c.scopes = append(c.scopes, sc)
		}
	}
	c.at = now
}

// Documented test users whose phone numbers make the simulator answer as
// Vipps does for users who cannot pay. Every other 8-digit number is an
// ordinary, BankID-verified test user. See "Test users" in DESIGN.md.
const (
	// PhoneNotVippsUser is not a Vipps user: User 81 at initiate (as
	// customerInfo.mobileNumber) and when approving.
	PhoneNotVippsUser = "40000081"
	// PhoneAppTooOld has an app version Vipps no longer supports: User 82
	// at initiate and when approving.
	PhoneAppTooOld = "40000082"
	// PhoneUnder15 is a user under 15, who cannot pay businesses: User 81
	// at initiate (Vipps will not say why); approving fails the
	// reservation with Payment 1501, and force approve answers it.
	PhoneUnder15 = "40000015"
	// PhoneCardExpired has an expired card: approving (force approve
	// too) fails the reservation with Payment 44, as the magic amount 186
	// does.
	PhoneCardExpired = "40000044"
	// PhoneUnverifiedFirst to PhoneUnverifiedLast are test users who have
	// never approved a payment by hand in the app, so they are not BankID
	// verified: force approve answers Payment 1082 until the user approves
	// one payment with Approve, the control API or the browser app.
	PhoneUnverifiedFirst = "40000100"
	PhoneUnverifiedLast  = "40000199"
)

// ErrUser means that the test user cannot pay (see PhoneNotVippsUser and
// the other documented numbers); the control API maps it to 400.
var ErrUser = errors.New("vippstest: the test user cannot pay")

// userError is why a documented test user cannot pay, as Vipps says it.
type userError struct{ detail vipps.ErrorDetail }

func (e *userError) Error() string { return e.detail.Message }
func (e *userError) Unwrap() error { return ErrUser }

func (e *userError) reply() reply {
	return vippsErr(http.StatusBadRequest, e.detail.Group, e.detail.Code, "%s", e.detail.Message)
}

const (
	msgUser82        = "The user's app version is not supported. The user must update the Vipps app."
	msgCannotPay1501 = "This person can not pay to companies."
	msgNotBankID     = "This person is not BankID verified"
)

var (
	errNotVippsUser = &userError{vipps.ErrorDetail{Group: vipps.GroupUser, Code: vipps.CodeUserCannotPay, Message: msgUser81}}
	errAppTooOld    = &userError{vipps.ErrorDetail{Group: vipps.GroupUser, Code: vipps.CodeAppTooOld, Message: msgUser82}}
	errUnder15      = &userError{vipps.ErrorDetail{Group: vipps.GroupPayment, Code: vipps.CodeCannotPayCompanies, Message: msgCannotPay1501}}
	errNotBankID    = &userError{vipps.ErrorDetail{Group: vipps.GroupPayment, Code: vipps.CodeNotBankIDVerified, Message: msgNotBankID}}
)

// initiateRefusal is what initiate answers for customerInfo.mobileNumber,
// or nil. Vipps checks the user it will send the push to; the current
// guide folds "cannot pay businesses" into User 81.
func initiateRefusal(phone string) *userError {
	switch phone {
	case PhoneNotVippsUser, PhoneUnder15:
		return errNotVippsUser
	case PhoneAppTooOld:
		return errAppTooOld
	}
	return nil
}

// approvalRefusal is why phone cannot approve at all, or nil. The user
// under 15 can open the payment; the reservation fails (approveLocked).
func approvalRefusal(phone string) *userError {
	switch phone {
	case PhoneNotVippsUser:
		return errNotVippsUser
	case PhoneAppTooOld:
		return errAppTooOld
	}
	return nil
}

// unverifiedAtFirst reports whether phone starts as a test user who never
// approved by hand.
func unverifiedAtFirst(phone string) bool {
	return phone >= PhoneUnverifiedFirst && phone <= PhoneUnverifiedLast
}

// bankIDVerifiedLocked reports whether force approve may act for phone.
func (s *Simulator) bankIDVerifiedLocked(phone string) bool {
	return !unverifiedAtFirst(phone) || s.verified[phone]
}
