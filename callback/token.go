package callback

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/vippskit/vipps"
)

// authTokenBytes is the entropy of a token from NewAuthToken: 256 bits.
const authTokenBytes = 32

// NewAuthToken returns a random token to send as merchantInfo.authToken at
// initiate, and its hash to store with the payment. Store only the hash:
// [Config.Lookup] returns it, and the handler hashes the Authorization header
// Vipps sends and compares the two in constant time. The token is 43
// URL-safe characters (256 bits). err is non-nil only when the system's
// random source fails.
func NewAuthToken() (token vipps.Secret, hash string, err error) {
	b := make([]byte, authTokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("new auth token: %w", err)
	}
	token = vipps.Secret(base64.RawURLEncoding.EncodeToString(b))
	return token, HashAuthToken(token), nil
}

// HashAuthToken returns the hash of token as [Config.Lookup] must return it:
// hex SHA-256 of the token's bytes, in lower case.
func HashAuthToken(token vipps.Secret) string {
	sum := sha256.Sum256([]byte(token.Reveal()))
	return hex.EncodeToString(sum[:])
}

// errBadHash marks a stored hash that is not hex SHA-256: a merchant bug.
var errBadHash = errors.New("stored auth token hash is not 64 hex digits (hex SHA-256)")

// dummyHash is compared against when the orderId is unknown, so that an
// unknown orderId costs the same work as a wrong token.
var dummyHash = strings.Repeat("0", 2*sha256.Size)

// tokenMatches reports whether the Authorization header value carries the
// token whose hash is storedHash. Vipps sends the raw token; "Bearer <token>"
// is accepted too. Both sides of the comparison are SHA-256 digests, so it
// takes the same time whatever the header holds.
func tokenMatches(header, storedHash string) (bool, error) {
	want, err := hex.DecodeString(strings.TrimSpace(storedHash))
	if err != nil || len(want) != sha256.Size {
		return false, errBadHash
	}
	v := strings.TrimSpace(header)
	if len(v) > len("bearer ") && strings.EqualFold(v[:len("bearer ")], "bearer ") {
		v = strings.TrimSpace(v[len("bearer "):])
	}
	got := sha256.Sum256([]byte(v))
	return subtle.ConstantTimeCompare(got[:], want) == 1, nil
}

// authorize checks the Authorization header of a request for orderID. A
// missing header is refused before Lookup is called. An unknown orderId is
// refused like a wrong token. The token itself is never logged or returned.
func (h *Handler) authorize(r *http.Request, id vipps.OrderID) error {
	header := r.Header.Get("Authorization")
	if strings.TrimSpace(header) == "" {
		return fmt.Errorf("%w: no Authorization header", errUnauthorized)
	}
	hash, err := h.lookup(r.Context(), id)
	known := err == nil && hash != ""
	switch {
	case errors.Is(err, ErrUnknownOrder):
	case err != nil:
		return fmt.Errorf("look up auth token hash: %w", err)
	}
	if !known {
		hash = dummyHash
	}
	ok, err := tokenMatches(header, hash)
	switch {
	case err != nil:
		return fmt.Errorf("check auth token: %w", err)
	case !known:
		return fmt.Errorf("%w: unknown orderId", errUnauthorized)
	case !ok:
		return fmt.Errorf("%w: Authorization does not match the payment's auth token", errUnauthorized)
	}
	return nil
}
