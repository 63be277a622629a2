package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/webhook"
)

const (
	secret    = vipps.Secret("test-webhook-secret-0123456789")
	oldSecret = vipps.Secret("old-webhook-secret-0123456789")
)

// signedAt is the time of the test signatures: 2026-01-01T00:00:00Z.
var signedAt = time.Unix(1767225600, 0)

// hmacHex is the v1 value computed here, independently of the package.
func hmacHex(key vipps.Secret, ts string, body string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(ts + "." + body))
	return hex.EncodeToString(m.Sum(nil))
}

func TestSign(t *testing.T) {
	for _, tt := range []struct {
		name   string
		secret vipps.Secret
		at     time.Time
		body   string
		want   string
	}{
		// Produced by internal/poller.Sign, which shops verify today: the
		// wire format must not change.
		{"poller vector", secret, signedAt, `{"id":1,"type":"reserved"}`,
			"t=1767225600,v1=20d9c5ccad2c0d5f138e65d18a5915fe797af66f893d5662c612a85af64a34ef"},
		{"README example", "whsec-0123456789abcdef", signedAt,
			`{"id":42,"type":"captured","orderId":"shop-10042","shopRef":"10042","state":"captured","amount":49900,"amounts":{"authorized":49900,"captured":49900,"refunded":0,"remainingToCapture":0,"remainingToRefund":49900},"at":"2026-11-24T12:00:00Z"}`,
			"t=1767225600,v1=5c6b91d7bf44b8d8a979ad74df05e9bc8f62d0b18c111689417293f3efc52dab"},
		{"sub-second time is truncated", secret, signedAt.Add(999 * time.Millisecond), `{}`,
			"t=1767225600,v1=" + hmacHex(secret, "1767225600", `{}`)},
		{"empty body", secret, signedAt, ``, "t=1767225600,v1=" + hmacHex(secret, "1767225600", ``)},
		{"another zone, same instant", secret, signedAt.In(time.FixedZone("CET", 3600)), `{}`,
			"t=1767225600,v1=" + hmacHex(secret, "1767225600", `{}`)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := webhook.Sign(tt.secret, tt.at, []byte(tt.body)); got != tt.want {
				t.Errorf("Sign(%q) = %q, want %q", tt.body, got, tt.want)
			}
		})
	}
}

func TestSignAll(t *testing.T) {
	body := []byte(`{"id":7}`)
	for _, tt := range []struct {
		name    string
		secrets []vipps.Secret
		want    string
	}{
		{"one secret is Sign", []vipps.Secret{secret}, webhook.Sign(secret, signedAt, body)},
		{"one v1 per secret, in order", []vipps.Secret{secret, oldSecret},
			"t=1767225600,v1=" + hmacHex(secret, "1767225600", string(body)) + ",v1=" + hmacHex(oldSecret, "1767225600", string(body))},
		{"no secret, no signature", nil, "t=1767225600"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := webhook.SignAll(tt.secrets, signedAt, body); got != tt.want {
				t.Errorf("SignAll(%d secrets) = %q, want %q", len(tt.secrets), got, tt.want)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"id":7,"type":"reserved","orderId":"shop-10042"}`)
	header := webhook.Sign(secret, signedAt, body)
	sig := strings.TrimPrefix(header, "t=1767225600,v1=")
	oldSig := hmacHex(oldSecret, "1767225600", string(body))
	both := webhook.SignAll([]vipps.Secret{secret, oldSecret}, signedAt, body)
	tampered := []byte(`{"id":7,"type":"captured","orderId":"shop-10042"}`)
	for _, tt := range []struct {
		name      string
		secrets   []vipps.Secret
		tolerance time.Duration
		header    string
		body      []byte
		now       time.Duration // since signedAt
		want      error
	}{
		{name: "genuine", header: header},
		{name: "received later, at the tolerance", header: header, now: webhook.DefaultTolerance},
		{name: "receiver's clock behind, at the tolerance", header: header, now: -webhook.DefaultTolerance},
		{name: "too old", header: header, now: webhook.DefaultTolerance + time.Second, want: webhook.ErrTooOld},
		{name: "from the future", header: header, now: -webhook.DefaultTolerance - time.Second, want: webhook.ErrTooOld},
		{name: "a day old", header: header, now: 24 * time.Hour, want: webhook.ErrTooOld},
		{name: "shorter tolerance, within", tolerance: time.Minute, header: header, now: time.Minute},
		{name: "shorter tolerance, too old", tolerance: time.Minute, header: header, now: time.Minute + time.Second, want: webhook.ErrTooOld},
		{name: "shorter tolerance, from the future", tolerance: time.Minute, header: header, now: -time.Minute - time.Second, want: webhook.ErrTooOld},
		{name: "longer tolerance", tolerance: time.Hour, header: header, now: 59 * time.Minute},
		{name: "negative tolerance is the default", tolerance: -time.Second, header: header, now: 4 * time.Minute},
		{name: "an old forgery is a mismatch, not too old", secrets: []vipps.Secret{"another-secret-0123456789"}, header: header, now: time.Hour, want: webhook.ErrMismatch},

		{name: "spaces after the commas", header: strings.ReplaceAll(both, ",", ", ")},
		{name: "spaces around the header", header: " " + header + " "},
		{name: "parts in the other order", header: "v1=" + sig + ",t=1767225600"},
		{name: "upper-case hex", header: "t=1767225600,v1=" + strings.ToUpper(sig)},
		{name: "unknown schemes ignored", header: "t=1767225600,v0=abc,v1=" + sig + ",v2=def"},
		{name: "empty parts ignored", header: "t=1767225600,,v1=" + sig + ","},
		{name: "a bad v1 beside a good one", header: "t=1767225600,v1=nothex,v1=" + sig},
		{name: "an empty v1 beside a good one", header: "t=1767225600,v1=,v1=" + sig},

		// Rotation: the service signs with both secrets, or the shop
		// accepts both.
		{name: "two signatures, the new secret", header: both},
		{name: "two signatures, the old secret", secrets: []vipps.Secret{oldSecret}, header: both},
		{name: "two signatures, both secrets", secrets: []vipps.Secret{oldSecret, secret}, header: both},
		{name: "two signatures, neither secret", secrets: []vipps.Secret{"another-secret-0123456789"}, header: both, want: webhook.ErrMismatch},
		{name: "old signature, shop accepts new and old", secrets: []vipps.Secret{secret, oldSecret}, header: "t=1767225600,v1=" + oldSig},
		{name: "old signature, shop accepts only new", header: "t=1767225600,v1=" + oldSig, want: webhook.ErrMismatch},
		{name: "empty secrets are skipped", secrets: []vipps.Secret{"", secret}, header: header},

		{name: "tampered body", header: header, body: tampered, want: webhook.ErrMismatch},
		{name: "tampered body, both signatures", header: both, body: tampered, want: webhook.ErrMismatch},
		{name: "empty body", header: header, body: []byte{}, want: webhook.ErrMismatch},
		{name: "body with a trailing newline", header: header, body: append(append([]byte{}, body...), '\n'), want: webhook.ErrMismatch},
		{name: "wrong secret", secrets: []vipps.Secret{"another-secret-0123456789"}, header: header, want: webhook.ErrMismatch},
		{name: "timestamp changed", header: "t=1767225601,v1=" + sig, want: webhook.ErrMismatch},
		{name: "signature truncated", header: "t=1767225600,v1=" + sig[:len(sig)-2], want: webhook.ErrMismatch},
		{name: "signature of another body", header: "t=1767225600,v1=" + hmacHex(secret, "1767225600", `{}`), want: webhook.ErrMismatch},
		{name: "v1 not hex", header: "t=1767225600,v1=" + strings.Repeat("zz", 32), want: webhook.ErrMismatch},
		{name: "signature without its scheme", header: "t=1767225600," + sig, want: webhook.ErrNoSignature},

		{name: "empty header", header: "", want: webhook.ErrNoSignature},
		{name: "blank header", header: "  ", want: webhook.ErrNoSignature},
		{name: "timestamp only", header: "t=1767225600", want: webhook.ErrNoSignature},
		{name: "empty signature", header: "t=1767225600,v1=", want: webhook.ErrNoSignature},
		{name: "another scheme only", header: "t=1767225600,v0=" + sig, want: webhook.ErrNoSignature},
		{name: "no timestamp", header: "v1=" + sig, want: webhook.ErrInvalidHeader},
		{name: "two timestamps", header: "t=1767225600,t=1767225600,v1=" + sig, want: webhook.ErrInvalidHeader},
		{name: "timestamp not a number", header: "t=yesterday,v1=" + sig, want: webhook.ErrInvalidHeader},
		{name: "timestamp empty", header: "t=,v1=" + sig, want: webhook.ErrInvalidHeader},
		{name: "timestamp with a sign", header: "t=+1767225600,v1=" + sig, want: webhook.ErrInvalidHeader},
		{name: "timestamp with a leading zero", header: "t=01767225600,v1=" + sig, want: webhook.ErrInvalidHeader},
		{name: "negative timestamp", header: "t=-1,v1=" + sig, want: webhook.ErrInvalidHeader},
		{name: "timestamp in milliseconds overflows", header: "t=99999999999999999999,v1=" + sig, want: webhook.ErrInvalidHeader},
		{name: "semicolons", header: "t=1767225600;v1=" + sig, want: webhook.ErrInvalidHeader},
		{name: "another vendor's header", header: "sha256=" + sig, want: webhook.ErrInvalidHeader},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v := webhook.Verifier{
				Secrets:   tt.secrets,
				Tolerance: tt.tolerance,
				Now:       func() time.Time { return signedAt.Add(tt.now) },
			}
			if v.Secrets == nil {
				v.Secrets = []vipps.Secret{secret}
			}
			b := tt.body
			if b == nil {
				b = body
			}
			err := v.Verify(b, tt.header)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("Verify(%q) = %v, want %v", tt.header, err, tt.want)
			}
			// The one-secret function, on time.Now, agrees on the refusals
			// that do not depend on the time.
			if len(tt.secrets) <= 1 && tt.want != nil && tt.want != webhook.ErrTooOld {
				s := secret
				if len(tt.secrets) == 1 {
					s = tt.secrets[0]
				}
				if err := webhook.Verify(b, tt.header, s); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
					t.Errorf("webhook.Verify(%q) = %v, want %v", tt.header, err, tt.want)
				}
			}
		})
	}
}

// TestVerifyNoSecret checks that a shop that forgot to configure its
// secret refuses every webhook, rather than accepting those signed with an
// empty key, and that the error is none of the sentinels that blame the
// sender.
func TestVerifyNoSecret(t *testing.T) {
	body := []byte(`{"id":1}`)
	forged := webhook.Sign("", time.Now(), body)
	for _, secrets := range [][]vipps.Secret{nil, {}, {""}, {"", ""}} {
		err := webhook.Verifier{Secrets: secrets}.Verify(body, forged)
		if err == nil {
			t.Fatalf("Verifier{Secrets: %q}.Verify(signed with an empty key) = nil, want an error", secrets)
		}
		for _, sentinel := range []error{webhook.ErrNoSignature, webhook.ErrInvalidHeader, webhook.ErrMismatch, webhook.ErrTooOld} {
			if errors.Is(err, sentinel) {
				t.Errorf("Verifier{Secrets: %q}.Verify(...) = %v, want no sentinel of a bad webhook", secrets, err)
			}
		}
	}
	if err := webhook.Verify(body, forged, ""); err == nil {
		t.Error(`Verify(signed with an empty key, "") = nil, want an error`)
	}
}

func TestVerifyErrorText(t *testing.T) {
	body := []byte(`{}`)
	header := webhook.Sign(secret, signedAt, body)
	for _, tt := range []struct {
		now  time.Duration
		want string
	}{
		{time.Hour, "webhook: timestamp outside the tolerance: signed 1h0m0s ago, more than 5m0s"},
		{-10 * time.Minute, "webhook: timestamp outside the tolerance: signed 10m0s ahead of this clock, more than 5m0s"},
	} {
		v := webhook.Verifier{Secrets: []vipps.Secret{secret}, Now: func() time.Time { return signedAt.Add(tt.now) }}
		if err := v.Verify(body, header); err == nil || err.Error() != tt.want {
			t.Errorf("Verify(at %v) = %v, want %q", tt.now, err, tt.want)
		}
	}
}

// TestVerifyConstantTime checks in the source that Verifier.Verify
// compares signatures with hmac.Equal and never with ==, != or
// bytes.Equal, which would leak through timing how much of a forged
// signature is right.
func TestVerifyConstantTime(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "signature.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var verify *ast.FuncDecl
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv != nil && fd.Name.Name == "Verify" {
			verify = fd
		}
	}
	if verify == nil {
		t.Fatal("signature.go has no method Verify")
	}
	var equal bool
	ast.Inspect(verify.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			if sel, ok := n.Fun.(*ast.SelectorExpr); ok {
				if x, ok := sel.X.(*ast.Ident); ok {
					switch {
					case x.Name == "hmac" && sel.Sel.Name == "Equal":
						equal = true
					case (x.Name == "bytes" || x.Name == "strings" || x.Name == "slices") &&
						(sel.Sel.Name == "Equal" || sel.Sel.Name == "EqualFold" || sel.Sel.Name == "Compare"):
						t.Errorf("Verify calls %s.%s; want hmac.Equal only", x.Name, sel.Sel.Name)
					}
				}
			}
		case *ast.BinaryExpr:
			if n.Op != token.EQL && n.Op != token.NEQ {
				break
			}
			for _, side := range []ast.Expr{n.X, n.Y} {
				if id, ok := side.(*ast.Ident); ok && (id.Name == "sig" || id.Name == "want") {
					t.Errorf("Verify compares %s with %s; want hmac.Equal only", id.Name, n.Op)
				}
			}
		}
		return true
	})
	if !equal {
		t.Error("Verify does not call hmac.Equal")
	}
}
