package vippstest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/vippskit/vipps"
)

// form checks a JSON request body field by field, as Vipps does: it
// collects InvalidRequest errors (errorCode is the field's path, such as
// "transaction.orderId") and notes the mistakes that make real Vipps answer
// 500 (crash).
type form struct {
	lenient bool
	x       *exchange
	invalid []vipps.ErrorDetail
	crashed []string   // why real Vipps would answer 500
	user81  bool       // a phone number that could not be repaired
	refused *userError // a documented test user who cannot pay (users.go)
}

// tree is a decoded JSON object; numbers are json.Number.
type tree = map[string]any

func newForm(x *exchange, lenient bool) *form { return &form{x: x, lenient: lenient} }

// parse decodes the body into a tree. Malformed JSON makes Vipps answer 500
// (strict) or is an InvalidRequest on "body" (lenient).
func (f *form) parse(body []byte) tree {
	if len(bytes.TrimSpace(body)) == 0 {
		f.bad("body", "The request body is empty.")
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		f.crash("body", "the body is not valid JSON: "+err.Error())
		return nil
	}
	if _, extra := dec.Token(); !errors.Is(extra, io.EOF) {
		f.crash("body", "the body is not valid JSON: data after the JSON value")
		return nil
	}
	t, ok := v.(tree)
	if !ok {
		f.bad("body", "The request body must be a JSON object.")
		return nil
	}
	return t
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// objects yields the entries of the array at path with their paths
// ("orderLines[2]"), and records an error for each entry that is not an
// object.
func (f *form) objects(path string, arr []any) iter.Seq2[string, tree] {
	return func(yield func(string, tree) bool) {
		for i, e := range arr {
			p := fmt.Sprintf("%s[%d]", path, i)
			t, ok := e.(tree)
			if !ok {
				f.bad(p, "%s must be an object.", p)
				continue
			}
			if !yield(p, t) {
				return
			}
		}
	}
}

// bad records an InvalidRequest error for a field.
func (f *form) bad(field, format string, args ...any) {
	f.invalid = append(f.invalid, vipps.ErrorDetail{Group: vipps.GroupInvalidRequest, Code: vipps.ErrorCode(field), Message: fmt.Sprintf(format, args...)})
}

// crash records a mistake that makes real Vipps answer 500 VippsError 99.
// In lenient mode it is an InvalidRequest instead.
func (f *form) crash(field, why string) {
	if f.lenient {
		f.bad(field, "%s", strings.ToUpper(why[:1])+why[1:]+".")
		return
	}
	f.crashed = append(f.crashed, field+": "+why)
}

// result returns the reply for the problems found, or nil when there are
// none. 500 wins over 400, as the crash happens while Vipps reads the body.
func (f *form) result() *reply {
	switch {
	case len(f.crashed) > 0:
		for _, c := range f.crashed {
			f.x.warn("real Vipps answers 500 for this: %s", c)
		}
		rep := internalReply()
		return &rep
	case len(f.invalid) > 0:
		rep := errorsReply(http.StatusBadRequest, f.invalid)
		return &rep
	case f.user81:
		rep := vippsErr(http.StatusBadRequest, vipps.GroupUser, vipps.CodeUserCannotPay, msgUser81)
		return &rep
	case f.refused != nil:
		rep := f.refused.reply()
		return &rep
	}
	return nil
}

// object returns t[key] as an object. A missing required object is an
// InvalidRequest.
func (f *form) object(t tree, path, key string, required bool) tree {
	field := join(path, key)
	v, ok := t[key]
	if !ok || v == nil {
		if required {
			f.bad(field, "%s is required.", field)
		}
		return nil
	}
	o, ok := v.(tree)
	if !ok {
		f.bad(field, "%s must be an object.", field)
		return nil
	}
	return o
}

// str returns t[key] as a string of at most max characters (0: no limit).
func (f *form) str(t tree, path, key string, required bool, max int) string {
	field := join(path, key)
	v, ok := t[key]
	if !ok || v == nil {
		if required {
			f.bad(field, "%s is required.", field)
		}
		return ""
	}
	s, ok := v.(string)
	if !ok {
		f.bad(field, "%s must be a string.", field)
		return ""
	}
	if required && s == "" {
		f.bad(field, "%s must not be empty.", field)
		return ""
	}
	if max > 0 && utf8.RuneCountInString(s) > max {
		f.bad(field, "%s is %d characters; the limit is %d.", field, utf8.RuneCountInString(s), max)
	}
	return s
}

// numeric returns t[key] as a JSON number, recording what is wrong when it
// is missing (and required) or not a number.
func (f *form) numeric(t tree, path, key string, required bool) (json.Number, string, bool) {
	field := join(path, key)
	v, ok := t[key]
	if !ok || v == nil {
		if required {
			f.bad(field, "%s is required.", field)
		}
		return "", field, false
	}
	n, ok := v.(json.Number)
	if !ok {
		f.bad(field, "%s must be a number.", field)
		return "", field, false
	}
	return n, field, true
}

// integer returns t[key] as a whole number. A non-integer number makes real
// Vipps answer 500.
func (f *form) integer(t tree, path, key string, required bool) (int64, bool) {
	n, field, ok := f.numeric(t, path, key, required)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	if err != nil {
		f.crash(field, fmt.Sprintf("%s must be a whole number, not %s", field, n))
		return 0, false
	}
	return i, true
}

// number returns t[key] as a decimal number (shipping costs in NOK).
func (f *form) number(t tree, path, key string, required bool) (float64, bool) {
	n, field, ok := f.numeric(t, path, key, required)
	if !ok {
		return 0, false
	}
	x, err := n.Float64()
	if err != nil {
		f.bad(field, "%s is not a number.", field)
		return 0, false
	}
	return x, true
}

func (f *form) boolean(t tree, path, key string) bool {
	v, ok := t[key]
	if !ok || v == nil {
		return false
	}
	b, ok := v.(bool)
	if !ok {
		field := join(path, key)
		f.bad(field, "%s must be true or false.", field)
	}
	return b
}

var msnPattern = regexp.MustCompile(`^\d{5,6}$`)

// msn returns the merchantSerialNumber of t. Vipps needs a JSON string: a
// number makes it answer 500.
func (f *form) msn(t tree, path string) vipps.MSN {
	field := join(path, "merchantSerialNumber")
	switch v := t["merchantSerialNumber"].(type) {
	case nil:
		f.bad(field, "%s is required.", field)
	case json.Number:
		if f.lenient {
			f.x.warn("%s is a JSON number; real Vipps answers 500, it must be a string", field)
			if msnPattern.MatchString(v.String()) {
				return vipps.MSN(v.String())
			}
		} else {
			f.crashed = append(f.crashed, field+": a JSON number where Vipps needs a string")
			return ""
		}
		f.bad(field, "%s must be 5 or 6 digits.", field)
	case string:
		if !msnPattern.MatchString(v) {
			f.bad(field, "%s must be 5 or 6 digits.", field)
			return ""
		}
		return vipps.MSN(v)
	default:
		f.bad(field, "%s must be a string.", field)
	}
	return ""
}

var (
	orderIDPattern = regexp.MustCompile(`^[a-zA-Z0-9-]{1,50}$`)
	phonePattern   = regexp.MustCompile(`^\d{8}$`)
)

// phoneField returns t[key] as a repaired phone number ("" when absent).
// Vipps documents that it repairs badly formatted numbers rather than
// answering 400, and a JSON number is one (torfjor/go-vipps sends
// mobileNumber as one): it is read as its digits, with a warning, and then
// repaired like a string. 4791234567 loses its country code; leading
// zeros cannot survive a JSON number, so 0047 cannot occur.
func (f *form) phoneField(t tree, path, key string) string {
	field := join(path, key)
	switch v := t[key].(type) {
	case nil:
		return ""
	case json.Number:
		digits := v.String()
		if len(digits) == 10 && strings.HasPrefix(digits, "47") {
			digits = digits[2:]
		}
		if phonePattern.MatchString(digits) {
			f.x.warn("%s is a JSON number (%s); the simulator, like Vipps, repaired it to the string %q", field, v, digits)
			return digits
		}
		f.user81 = true
		return ""
	case string:
		if v == "" {
			return ""
		}
		return f.phone(field, v)
	default:
		f.bad(field, "%s must be a string.", field)
		return ""
	}
}

// phone repairs a Norwegian mobile number the way Vipps tries to (spaces,
// +47, 0047); what cannot be repaired is User error 81.
func (f *form) phone(field, s string) string {
	if phonePattern.MatchString(s) {
		return s
	}
	r := strings.NewReplacer(" ", "", "-", "").Replace(s)
	for _, p := range []string{"+47", "0047"} {
		if len(r) == len(p)+8 {
			r = strings.TrimPrefix(r, p)
		}
	}
	if phonePattern.MatchString(r) {
		f.x.warn("%s %q is not 8 digits; the simulator, like Vipps, repaired it to %q", field, s, r)
		return r
	}
	f.user81 = true
	return ""
}

// urlKind is what an initiate URL is used for.
type urlKind int

const (
	urlPrefix   urlKind = iota // Vipps calls it: HTTPS only
	urlFallBack                // the user is sent there: HTTPS, an app scheme, or INTENT
)

// checkURL validates a URL as Vipps does since October 2022: HTTPS only
// (fallBack may also be an app's own scheme). http to loopback is accepted
// with a warning, so that tests can use httptest servers; Lenient accepts
// http to any host.
func (f *form) checkURL(field, s string, kind urlKind) {
	if s == "" {
		return
	}
	if kind == urlFallBack && s == "INTENT" {
		return
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		f.bad(field, "%s is not a valid URL.", field)
		return
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme == "https" || scheme == "http":
		if u.Host == "" || u.Hostname() == "" {
			f.bad(field, "%s is not a valid URL: it has no host.", field)
			return
		}
	case kind == urlFallBack:
		return // an app scheme such as myapp://result
	default:
		f.bad(field, "%s must be an https URL.", field)
		return
	}
	host := u.Hostname()
	if scheme == "http" {
		switch {
		case isLoopback(host):
			f.x.warn("%s uses http://%s: real Vipps requires https and cannot reach loopback; accepted by the simulator", field, u.Host)
		case f.lenient:
			f.x.warn("%s uses http: real Vipps requires https; accepted in lenient mode", field)
		default:
			f.bad(field, "%s must be an https URL.", field)
		}
		return
	}
	if isLoopback(host) {
		f.x.warn("%s points at %s: real Vipps cannot reach it", field, host)
	} else if p := u.Port(); kind == urlPrefix && p != "" && p != "443" && p != "8080" {
		f.x.warn("%s uses port %s: Vipps may not call non-standard ports", field, p)
	}
}

// CheckCallbackPrefix reports why the simulator would refuse u as a
// payment's callbackPrefix at initiate, by the rule it applies there (as
// Vipps: https only; http only to loopback hosts, or to any host when
// Config.Lenient), or nil when it accepts it. A service that runs the
// simulator can tell its operator at start instead of at every payment.
func (s *Simulator) CheckCallbackPrefix(u string) error {
	f := newForm(&exchange{rec: &Request{}}, s.cfg.Lenient)
	f.checkURL("callbackPrefix", u, urlPrefix)
	if len(f.invalid) > 0 {
		return errors.New(f.invalid[0].Message)
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
