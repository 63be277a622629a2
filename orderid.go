package vipps

import (
	"bytes"
	crand "crypto/rand"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// orderIDAlphabet has no characters that are easy to misread, in byte
// order, so that numbers written with it sort as the numbers do.
const orderIDAlphabet = "23456789abcdefghjkmnpqrstuvwxyz"

// attemptRoom is what NewOrderID and OrderIDFor leave free for an attempt
// suffix such as "--123".
const attemptRoom = 5

// The two parts of NewOrderID's unique part.
const (
	orderIDTimeLen   = 9  // milliseconds since 1970: 31⁹ of them reach the year 2807
	orderIDRandomLen = 10 // about 49 random bits
)

// NewOrderID returns a fresh orderId that follows Vipps' recommendations: a
// readable prefix (such as "acme-shop" or the MSN), then a unique part of 19
// characters that never starts with a zero and is never all digits: the
// time in milliseconds (9 characters that sort as the time does) and a
// random part of 10. Ids made later sort after those made before, so that
// the indexes of a database that keeps them grow at one end rather than
// everywhere (the payment service's SQLite writes a quarter fewer pages a
// payment than with wholly random ids). Characters other than letters,
// digits and '-' in prefix become '-'; a long prefix is cut so that the id
// leaves room for an [OrderID.Attempt] suffix.
func NewOrderID(prefix string) OrderID {
	return newOrderID(prefix, time.Now())
}

func newOrderID(prefix string, now time.Time) OrderID {
	var b [orderIDTimeLen + orderIDRandomLen]byte
	base := uint64(len(orderIDAlphabet))
	t := uint64(now.UnixMilli())
	for i := orderIDTimeLen - 1; i >= 0; i-- {
		b[i] = orderIDAlphabet[t%base]
		t /= base
	}
	// Random bytes below the largest multiple of the alphabet's size, so
	// that every character is as likely.
	var r [32]byte
	for i, n := orderIDTimeLen, len(r); i < len(b); n++ {
		if n == len(r) {
			crand.Read(r[:])
			n = 0
		}
		if c := r[n]; int(c) < 256/len(orderIDAlphabet)*len(orderIDAlphabet) {
			b[i] = orderIDAlphabet[int(c)%len(orderIDAlphabet)]
			i++
		}
	}
	if !bytes.ContainsFunc(b[:], unicode.IsLetter) {
		b[len(b)-1] = 'x' // all digits, one time in a million
	}
	unique := string(b[:])
	p := sanitizeOrderID(prefix)
	if max := MaxOrderIDLen - attemptRoom - len(unique) - 1; len(p) > max {
		p = strings.TrimRight(p[:max], "-")
	}
	if p == "" {
		return OrderID(unique)
	}
	return OrderID(p + "-" + unique)
}

// OrderIDFor returns the orderId for a shop's own order reference, such as
// OrderIDFor("acme-shop", "10042") = "acme-shop-10042". It fails when the
// result would not be a valid orderId with room for an attempt suffix, so
// that the same shop order always maps to the same id and its retries to
// [OrderID.Attempt].
func OrderIDFor(prefix, reference string) (OrderID, error) {
	ref := sanitizeOrderID(reference)
	if ref == "" {
		return "", fmt.Errorf("order reference %q has no letters or digits", reference)
	}
	id := ref
	if p := sanitizeOrderID(prefix); p != "" {
		id = p + "-" + ref
	}
	if len(id) > MaxOrderIDLen-attemptRoom {
		return "", fmt.Errorf("orderId %q would be %d characters; keep prefix and reference within %d", id, len(id), MaxOrderIDLen-attemptRoom)
	}
	return OrderID(id), nil
}

// Attempt returns the orderId for re-attempt n of the same order: id itself
// for n <= 0, else id with the suffix "--n" (Vipps has no retry of a
// payment: a new attempt needs a new orderId). Attempt replaces no existing
// suffix; call it on the base id. If the result would be too long, the base
// is cut.
//
// The separator is a double '-' because no id that [NewOrderID] or
// [OrderIDFor] makes has one (they collapse runs of '-'), so an attempt is
// never another order's first orderId: with a single '-', attempt 1 of
// order "60001" and order "60001-1" would both be "acme-60001-1".
func (id OrderID) Attempt(n int) OrderID {
	if n <= 0 {
		return id
	}
	suffix := "--" + strconv.Itoa(n)
	base := string(id)
	if len(base)+len(suffix) > MaxOrderIDLen {
		base = base[:MaxOrderIDLen-len(suffix)]
	}
	return OrderID(base + suffix)
}

// sanitizeOrderID maps a text onto the orderId alphabet: other characters
// (spaces, underscores, Norwegian letters) become '-', runs of '-' collapse,
// and '-' is trimmed at both ends.
func sanitizeOrderID(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range s {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.Trim(b.String(), "-")
}
