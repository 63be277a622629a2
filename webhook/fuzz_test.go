package webhook_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/webhook"
)

// FuzzVerify feeds Verify any header and body, seeded with real headers:
// it must not panic, must refuse with one of its sentinels, and may accept
// only a header that carries the body's genuine signature. Sign and Verify
// must also agree on every body.
func FuzzVerify(f *testing.F) {
	body := []byte(readmeBody)
	for _, h := range []string{
		webhook.Sign(secret, signedAt, body),
		webhook.SignAll([]vipps.Secret{secret, oldSecret}, signedAt, body),
		webhook.SignAll([]vipps.Secret{oldSecret, secret}, signedAt, body),
		webhook.Sign(oldSecret, signedAt, body),
		"t=1767225600,v1=20d9c5ccad2c0d5f138e65d18a5915fe797af66f893d5662c612a85af64a34ef",
		"t=1767225600,v1=5c6b91d7bf44b8d8a979ad74df05e9bc8f62d0b18c111689417293f3efc52dab",
		"v1=" + strings.TrimPrefix(webhook.Sign(secret, signedAt, body), "t=1767225600,v1=") + ", t=1767225600",
		"t=1767225600, v0=00, v1=zz, v1=, v2=ff",
		"t=1767225600",
		"t=01767225600,v1=00",
		"t=-1,v1=00",
		"t=1767225600,t=1767225600,v1=00",
		"",
		",,,",
		"=,=,t=",
	} {
		f.Add(h, body)
	}
	f.Add(webhook.Sign(secret, signedAt, nil), []byte{})
	f.Add(webhook.SignShipping(secret, signedAt, body), body)
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		v := webhook.Verifier{Secrets: []vipps.Secret{secret}, Now: func() time.Time { return signedAt }}
		err := v.Verify(body, header)
		switch {
		case err == nil:
			if !genuine(header, body) {
				t.Fatalf("Verify(%q, %q) = nil without the genuine signature", body, header)
			}
		case errors.Is(err, webhook.ErrNoSignature), errors.Is(err, webhook.ErrInvalidHeader),
			errors.Is(err, webhook.ErrMismatch), errors.Is(err, webhook.ErrTooOld):
		default:
			t.Fatalf("Verify(%q, %q) = %v, want nil or a sentinel", body, header, err)
		}

		// Whatever the body, its own signature passes and a changed body
		// does not.
		at := signedAt.Add(time.Duration(len(header)%601-300) * time.Second) // within the tolerance
		own := webhook.Sign(secret, at, body)
		if err := v.Verify(body, own); err != nil {
			t.Fatalf("Verify(%q, Sign(...)) = %v", body, err)
		}
		changed := append(slices.Clip(body), 'x')
		if err := v.Verify(changed, own); !errors.Is(err, webhook.ErrMismatch) {
			t.Fatalf("Verify(changed body, Sign(...)) = %v, want ErrMismatch", err)
		}

		// Purposes do not cross: the body's shipping signature is no
		// webhook's, and its webhook signature no shipping request's.
		ship := webhook.SignShipping(secret, at, body)
		vs := v
		vs.Purpose = webhook.PurposeShipping
		if err := vs.Verify(body, ship); err != nil {
			t.Fatalf("Verify(%q, SignShipping(...)) for shipping = %v", body, err)
		}
		if err := v.Verify(body, ship); !errors.Is(err, webhook.ErrMismatch) {
			t.Fatalf("Verify(%q, SignShipping(...)) for webhooks = %v, want ErrMismatch", body, err)
		}
		if err := vs.Verify(body, own); !errors.Is(err, webhook.ErrMismatch) {
			t.Fatalf("Verify(%q, Sign(...)) for shipping = %v, want ErrMismatch", body, err)
		}
	})
}

// genuine reports whether header has a timestamp t and a v1 entry that is
// body's signature under secret at t, computed here.
func genuine(header string, body []byte) bool {
	var (
		ts   string
		sigs []string
	)
	for part := range strings.SplitSeq(header, ",") {
		k, val, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = val
		case "v1":
			sigs = append(sigs, strings.ToLower(val))
		}
	}
	return slices.Contains(sigs, hmacHex(secret, ts, string(body)))
}
