package payment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// MaskBody returns the JSON body b as staff may see it: indented, with the
// personal data Vipps sends or receives left out, and at most max bytes
// long (a longer text is cut and says so; 0 means no limit). It walks the
// JSON, so that what is left out is decided by where a value is, not by
// what it looks like:
//
//   - names, e-mail addresses, postal addresses (every address line, city,
//     postcode, country), the Vipps userId, userinfo's sub, sid and nin,
//     national identity and birth dates and bank accounts are left out,
//     keys and all ("name" too in an object that is a person's profile,
//     not in a receipt's order line);
//   - tokens, secrets and keys (any key whose name holds "token",
//     "secret", "password", "authorization" or "apikey") are left out;
//   - phone numbers keep their last 2 digits: "****** 67";
//   - a URL keeps its scheme, host and path: its query, fragment and user
//     are left out (the return page's token, the deeplink's token).
//
// A body that is not JSON is not kept at all: MaskBody says only how long
// it was. An empty body is "".
func MaskBody(b []byte, max int) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return ""
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return fmt.Sprintf("[%d bytes that are not JSON; not kept]", len(b))
	}
	out, err := json.MarshalIndent(maskValue(v), "", "  ")
	if err != nil {
		return fmt.Sprintf("[%d bytes; could not be shown]", len(b))
	}
	return clipText(string(out), max)
}

// clipText cuts s to at most max bytes (0: no limit) at a character
// boundary, saying so at the end.
func clipText(s string, max int) string {
	if max <= 0 || len(s) <= max {
		return s
	}
	note := fmt.Sprintf("\n… cut: %d of %d bytes shown", max, len(s))
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + note
}

// maskDropped are the keys (in lower case) whose values are personal data
// and are left out.
var maskDropped = map[string]bool{
	"firstname": true, "lastname": true, "fullname": true, "given_name": true, "family_name": true,
	"givenname": true, "familyname": true, "middlename": true,
	"email": true, "emailaddress": true, "email_verified": true,
	"address": true, "addresses": true, "addressline1": true, "addressline2": true, "addressline3": true,
	"streetaddress": true, "street_address": true, "city": true, "postcode": true, "zipcode": true,
	"postalcode": true, "postal_code": true, "country": true, "region": true, "formatted": true,
	"userid": true, "sub": true, "nin": true, "ssn": true, "birthdate": true, "dateofbirth": true,
	"accounts": true, "sid": true,
}

// maskPersonMarks are keys that make an object a person's profile.
var maskPersonMarks = []string{"sub", "given_name", "family_name", "email", "firstName", "lastName"}

// maskPhoneKey reports whether lk, a key in lower case, names a phone
// number: mobileNumber, customerPhoneNumber, phone_number, msisdn, ...
func maskPhoneKey(lk string) bool {
	return strings.Contains(lk, "phone") || strings.Contains(lk, "mobilenumber") || lk == "msisdn"
}

// maskSecretParts are parts of key names (in lower case) that name a
// secret.
var maskSecretParts = []string{"token", "secret", "password", "authorization", "apikey", "api_key"}

// maskValue masks v, decoded with UseNumber, in place, and returns it.
func maskValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		// A person's profile (Userinfo's) has a "name" that is theirs; a
		// receipt's order line has one that is the product's.
		person := false
		for _, k := range maskPersonMarks {
			if _, ok := x[k]; ok {
				person = true
			}
		}
		for k, e := range x {
			lk := strings.ToLower(k)
			switch {
			case maskDropped[lk] || maskSecret(lk) || person && lk == "name":
				delete(x, k)
			case maskPhoneKey(lk):
				x[k] = maskPhone(e)
			default:
				x[k] = maskValue(e)
			}
		}
	case []any:
		for i := range x {
			x[i] = maskValue(x[i])
		}
	case string:
		return maskURL(x)
	}
	return v
}

func maskSecret(lk string) bool {
	for _, p := range maskSecretParts {
		if strings.Contains(lk, p) {
			return true
		}
	}
	return false
}

// maskPhone is a phone number with only its last 2 digits: "****** 67".
// A value that is no number (null, "[Expired]") is kept as it is.
func maskPhone(v any) any {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case json.Number:
		s = x.String()
	default:
		return v
	}
	var digits []byte
	for i := range len(s) {
		if s[i] >= '0' && s[i] <= '9' {
			digits = append(digits, s[i])
		}
	}
	if len(digits) == 0 {
		if s == "" || strings.HasPrefix(s, "[") {
			return s
		}
		return "******"
	}
	if len(digits) < 4 {
		return "******"
	}
	return "****** " + string(digits[len(digits)-2:])
}

// maskURL is s without the query, fragment and user of a URL; s itself
// when it is no absolute URL.
func maskURL(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "[a URL that could not be read; not kept]"
	}
	if u.RawQuery == "" && u.Fragment == "" && u.User == nil && !u.ForceQuery {
		return s
	}
	hadQuery := u.RawQuery != "" || u.ForceQuery
	u.RawQuery, u.Fragment, u.RawFragment, u.User, u.ForceQuery = "", "", "", nil, false
	if hadQuery {
		return u.String() + "?[query not kept]"
	}
	return u.String()
}
