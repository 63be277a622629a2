package callback

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/vippskit/vipps"
)

func TestNewAuthToken(t *testing.T) {
	seen := map[vipps.Secret]bool{}
	for range 100 {
		token, hash, err := NewAuthToken()
		if err != nil {
			t.Fatalf("NewAuthToken() = %v", err)
		}
		raw, err := base64.RawURLEncoding.DecodeString(token.Reveal())
		if err != nil || len(raw)*8 < 128 {
			t.Fatalf("NewAuthToken() token %d bytes (%v), want at least 128 random bits", len(raw), err)
		}
		if len(token.Reveal()) > 255 {
			t.Errorf("token is %d characters; Vipps allows 255", len(token.Reveal()))
		}
		if seen[token] {
			t.Fatal("NewAuthToken() repeated a token")
		}
		seen[token] = true
		if hash != HashAuthToken(token) {
			t.Errorf("NewAuthToken() hash %q, want HashAuthToken(token) %q", hash, HashAuthToken(token))
		}
		if b, err := hex.DecodeString(hash); err != nil || len(b) != 32 || hash != strings.ToLower(hash) {
			t.Errorf("hash %q is not lower-case hex SHA-256", hash)
		}
		if s := fmt.Sprint(token); s != "[redacted]" {
			t.Errorf("fmt.Sprint(token) = %q, want [redacted]", s)
		}
	}
}

func TestHashAuthToken(t *testing.T) {
	// SHA-256 of the spec's example token, computed with sha256sum.
	const want = "d93e8b3b69858cc76da65eabe01d664abef06fb370832e2fdad33fa20070c065"
	if got := HashAuthToken("ae0cb90d91b4a84a"); got != want {
		t.Errorf("HashAuthToken(ae0cb90d91b4a84a) = %q, want %q", got, want)
	}
}

func TestTokenMatches(t *testing.T) {
	token, hash, err := NewAuthToken()
	if err != nil {
		t.Fatal(err)
	}
	tok := token.Reveal()
	tests := []struct {
		name, header, hash string
		want               bool
		err                error
	}{
		{"raw", tok, hash, true, nil},
		{"Bearer", "Bearer " + tok, hash, true, nil},
		{"bearer", "bearer " + tok, hash, true, nil},
		{"surrounding space", "  " + tok + " ", hash, true, nil},
		{"Bearer, two spaces", "Bearer  " + tok, hash, true, nil},
		{"upper-case hash", tok, strings.ToUpper(hash), true, nil},
		{"empty", "", hash, false, nil},
		{"Bearer only", "Bearer ", hash, false, nil},
		{"prefix", tok[:10], hash, false, nil},
		{"longer", tok + tok, hash, false, nil},
		{"one character off", tok[:len(tok)-1] + "?", hash, false, nil},
		{"Bearer without space", "Bearer" + tok, hash, false, nil},
		{"the hash itself", hash, hash, false, nil},
		{"dummy hash", tok, dummyHash, false, nil},
		{"short hash", tok, hash[:62], false, errBadHash},
		{"not hex", tok, strings.Repeat("z", 64), false, errBadHash},
		{"empty hash", tok, "", false, errBadHash},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tokenMatches(tt.header, tt.hash)
			if got != tt.want || !errors.Is(err, tt.err) {
				t.Errorf("tokenMatches(%s) = %v, %v; want %v, %v", tt.name, got, err, tt.want, tt.err)
			}
		})
	}
}
