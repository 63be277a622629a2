package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vippskit/vipps"
)

// DefaultTolerance is how far a signature's timestamp may be from the
// receiver's clock, either way, unless [Verifier.Tolerance] says otherwise.
const DefaultTolerance = 5 * time.Minute

// Errors of [Verify] and [ParseEvent]; the errors returned wrap one of them,
// so check with errors.Is. Answer all four with 400: the service retries,
// and an operator finds the cause in the attempt log.
var (
	// ErrNoSignature: the header is empty or carries no v1 signature.
	ErrNoSignature = errors.New("webhook: no signature")
	// ErrInvalidHeader: the header has no timestamp, a malformed one, or
	// more than one.
	ErrInvalidHeader = errors.New("webhook: malformed signature header")
	// ErrMismatch: no v1 signature in the header is the body's under any
	// of the secrets: another secret, or a changed body or timestamp.
	ErrMismatch = errors.New("webhook: signature mismatch")
	// ErrTooOld: the signature is genuine, but its timestamp is further
	// from now than the tolerance (in the past, or in the future): a
	// replay, or a clock that is off.
	ErrTooOld = errors.New("webhook: timestamp outside the tolerance")
)

// errNoSecret is Verify's error when it has no secret to check with.
var errNoSecret = errors.New("webhook: no secret to verify with")

// Sign returns the [SignatureHeader] value for body signed with secret at
// t: "t=<unix seconds>,v1=<hex>", where the v1 value is the hex-encoded
// HMAC-SHA256 of "<unix seconds>.<body>" keyed with the secret.
func Sign(secret vipps.Secret, t time.Time, body []byte) string {
	return SignAll([]vipps.Secret{secret}, t, body)
}

// SignAll is [Sign] with several secrets: one v1 entry per secret, in the
// order given, all over the same timestamp. A sender rotating its secret
// signs with the new and the old one until every receiver has the new one;
// a receiver holding either accepts the webhook.
func SignAll(secrets []vipps.Secret, t time.Time, body []byte) string {
	return signAll(PurposeWebhook, secrets, t, body)
}

// signAll is SignAll for purpose p.
func signAll(p Purpose, secrets []vipps.Secret, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	var b strings.Builder
	b.WriteString("t=")
	b.WriteString(ts)
	for _, s := range secrets {
		b.WriteString(",v1=")
		b.WriteString(hex.EncodeToString(mac(p.key(s), ts, body)))
	}
	return b.String()
}

// mac is HMAC-SHA256 of "<ts>.<body>" keyed with key.
func mac(key []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Purpose is what a signature is for. One secret signs webhooks and the
// shipping requests of the service, each under a key of its own, so that a
// signature made for one purpose never passes for another: a shipping
// request (which carries the customer's address) cannot be replayed as a
// webhook, nor a webhook as a shipping request.
type Purpose string

// Purposes of a signature.
const (
	// PurposeWebhook signs webhooks, keyed with the secret itself (as
	// every webhook was signed before purposes existed), in the
	// [SignatureHeader]. It is what a zero Purpose means.
	PurposeWebhook Purpose = "webhook"
	// PurposeShipping signs the service's shipping requests, keyed with
	// HMAC-SHA256(secret, "vippskit-signature/shipping"), in the
	// [ShippingSignatureHeader]: see [SignShipping].
	PurposeShipping Purpose = "shipping"
)

// key is the HMAC key of purpose p under secret: the secret itself for
// webhooks, else HMAC-SHA256(secret, "vippskit-signature/<purpose>").
func (p Purpose) key(secret vipps.Secret) []byte {
	if p == "" || p == PurposeWebhook {
		return []byte(secret.Reveal())
	}
	m := hmac.New(sha256.New, []byte(secret.Reveal()))
	m.Write([]byte("vippskit-signature/" + string(p)))
	return m.Sum(nil)
}

// Verify checks that header, the request's [SignatureHeader], is a
// signature of payload, the request body exactly as received, under
// secret, made within [DefaultTolerance] of now. It compares in constant
// time. See [Verifier] for several secrets, another tolerance or clock.
func Verify(payload []byte, header string, secret vipps.Secret) error {
	return Verifier{Secrets: []vipps.Secret{secret}}.Verify(payload, header)
}

// ParseEvent verifies payload as [Verify] does and decodes it.
func ParseEvent(payload []byte, header string, secret vipps.Secret) (Event, error) {
	return Verifier{Secrets: []vipps.Secret{secret}}.ParseEvent(payload, header)
}

// Verifier checks webhooks. Its zero values are the defaults; only Secrets
// is required. A Verifier is not changed by its methods and may be used
// from several goroutines.
type Verifier struct {
	// Secrets are the webhook secrets accepted. While a secret is being
	// rotated, give the new and the old one: a webhook signed with either
	// passes.
	Secrets []vipps.Secret
	// Tolerance is how far a signature's timestamp may be from Now, either
	// way; 0 (or less) means DefaultTolerance.
	Tolerance time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Purpose is what Verify accepts signatures for; "" means
	// PurposeWebhook. ParseEvent and ParseShippingRequest verify for their
	// own purpose whatever it says.
	Purpose Purpose
}

// Verify checks that header is a signature of payload under one of
// v.Secrets, made within v.Tolerance of v.Now. It accepts a header with
// several v1 entries if any of them matches, ignores entries of other
// schemes, and compares in constant time. The error wraps [ErrNoSignature],
// [ErrInvalidHeader], [ErrMismatch] or [ErrTooOld]; the signature is
// checked before the timestamp, so ErrTooOld means a genuine webhook that is
// too old (or too new). Empty secrets are skipped; without any other,
// every webhook is refused with an error that wraps none of these: the
// receiver is misconfigured, not the webhook wrong.
//
// A Verifier of one purpose refuses a signature made for another with
// ErrMismatch; a Purpose it does not know, it refuses like a missing
// secret.
func (v Verifier) Verify(payload []byte, header string) error {
	if !slices.ContainsFunc(v.Secrets, func(s vipps.Secret) bool { return s != "" }) {
		return errNoSecret
	}
	switch v.Purpose {
	case "", PurposeWebhook, PurposeShipping:
	default:
		return fmt.Errorf("webhook: unknown signature purpose %q", v.Purpose)
	}
	h, err := parseHeader(header)
	if err != nil {
		return err
	}
	ts := strconv.FormatInt(h.t, 10)
	ok := false
	for _, s := range v.Secrets {
		if s == "" {
			continue
		}
		want := mac(v.Purpose.key(s), ts, payload)
		for _, sig := range h.v1 {
			// Every pair is compared, so that the time taken does not
			// depend on which one matched.
			if hmac.Equal(sig, want) {
				ok = true
			}
		}
	}
	if !ok {
		return ErrMismatch
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	tol := v.Tolerance
	if tol <= 0 {
		tol = DefaultTolerance
	}
	switch d := now().Sub(time.Unix(h.t, 0)); {
	case d > tol:
		return fmt.Errorf("%w: signed %s ago, more than %s", ErrTooOld, d.Truncate(time.Second), tol)
	case d < -tol:
		return fmt.Errorf("%w: signed %s ahead of this clock, more than %s", ErrTooOld, (-d).Truncate(time.Second), tol)
	}
	return nil
}

// ParseEvent verifies payload as [Verifier.Verify] does and decodes it into
// an Event. Decoding is lenient: fields added to the body later are
// ignored.
func (v Verifier) ParseEvent(payload []byte, header string) (Event, error) {
	v.Purpose = PurposeWebhook
	if err := v.Verify(payload, header); err != nil {
		return Event{}, err
	}
	var ev Event
	if err := json.Unmarshal(payload, &ev); err != nil {
		return Event{}, fmt.Errorf("webhook: decode event: %w", err)
	}
	return ev, nil
}

// header is a parsed SignatureHeader.
type header struct {
	t  int64    // unix seconds
	v1 [][]byte // decoded v1 signatures
}

// parseHeader parses "t=<unix seconds>,v1=<hex>[,v1=<hex>...]": parts
// separated by commas, in any order, with spaces around them allowed. The
// timestamp is exactly one t, in decimal without sign or leading zeros.
// Empty parts and parts of other schemes (v0, v2, ...) are ignored; so is a
// v1 value that is not hex, which can match nothing. At least one v1 entry
// with a value is required.
func parseHeader(s string) (header, error) {
	var (
		h       header
		ts      string
		nts, v1 int
	)
	if strings.TrimSpace(s) == "" {
		return h, ErrNoSignature
	}
	for part := range strings.SplitSeq(s, ",") {
		k, val, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = val
			nts++
		case "v1":
			if val == "" {
				continue
			}
			v1++
			if sig, err := hex.DecodeString(val); err == nil && len(sig) == sha256.Size {
				h.v1 = append(h.v1, sig)
			}
		}
	}
	switch {
	case nts == 0:
		return h, fmt.Errorf("%w: no timestamp", ErrInvalidHeader)
	case nts > 1:
		return h, fmt.Errorf("%w: %d timestamps", ErrInvalidHeader, nts)
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || strconv.FormatInt(t, 10) != ts || t < 0 {
		return h, fmt.Errorf("%w: timestamp %q", ErrInvalidHeader, clip(ts))
	}
	h.t = t
	if v1 == 0 {
		return h, ErrNoSignature
	}
	return h, nil
}

// clip shortens what a header says to quote in an error.
func clip(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}
