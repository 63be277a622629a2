package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/webhook"
)

// shippingKey is the shipping key of a secret, computed here,
// independently of the package.
func shippingKey(s vipps.Secret) vipps.Secret {
	m := hmac.New(sha256.New, []byte(s))
	m.Write([]byte("vippskit-signature/shipping"))
	return vipps.Secret(m.Sum(nil))
}

func TestSignShipping(t *testing.T) {
	body := `{"orderId":"shop-10042","shopRef":"10042","address":{"addressId":1}}`
	got := webhook.SignShipping(secret, signedAt, []byte(body))
	want := "t=1767225600,v1=" + hmacHex(shippingKey(secret), "1767225600", body)
	if got != want {
		t.Errorf("SignShipping(...) = %q, want %q", got, want)
	}
	if err := webhook.VerifyShipping([]byte(body), got, secret); err == nil || !errors.Is(err, webhook.ErrTooOld) {
		t.Errorf("VerifyShipping(a 2026 signature) = %v, want ErrTooOld (genuine, but old)", err)
	}
}

// TestPurposesDoNotCross: one secret signs webhooks and shipping requests,
// and neither signature passes for the other.
func TestPurposesDoNotCross(t *testing.T) {
	body := []byte(`{"orderId":"shop-10042","shopRef":"10042","address":{"addressId":1,"addressLine1":"Storgata 1","city":"Oslo","country":"NO","postCode":"0155"}}`)
	now := signedAt
	clock := func() time.Time { return now }
	hook := webhook.Sign(secret, now, body)
	ship := webhook.SignShipping(secret, now, body)
	verifier := func(p webhook.Purpose) webhook.Verifier {
		return webhook.Verifier{Secrets: []vipps.Secret{secret}, Now: clock, Purpose: p}
	}
	for _, tt := range []struct {
		name   string
		verify func() error
		want   error
	}{
		{"webhook as webhook", func() error { return verifier("").Verify(body, hook) }, nil},
		{"webhook as webhook, named", func() error { return verifier(webhook.PurposeWebhook).Verify(body, hook) }, nil},
		{"shipping as shipping", func() error { return verifier(webhook.PurposeShipping).Verify(body, ship) }, nil},
		{"shipping parsed", func() error { _, err := verifier("").ParseShippingRequest(body, ship); return err }, nil},
		{"shipping as webhook", func() error { return verifier("").Verify(body, ship) }, webhook.ErrMismatch},
		{"shipping parsed as event", func() error { _, err := verifier(webhook.PurposeShipping).ParseEvent(body, ship); return err }, webhook.ErrMismatch},
		{"webhook as shipping", func() error { return verifier(webhook.PurposeShipping).Verify(body, hook) }, webhook.ErrMismatch},
		{"webhook parsed as shipping", func() error { _, err := verifier("").ParseShippingRequest(body, hook); return err }, webhook.ErrMismatch},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.verify(); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("Verify(...) = %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("package functions", func(t *testing.T) {
		hook, ship := webhook.Sign(secret, time.Now(), body), webhook.SignShipping(secret, time.Now(), body)
		if err := webhook.VerifyShipping(body, hook, secret); !errors.Is(err, webhook.ErrMismatch) {
			t.Errorf("VerifyShipping(a webhook's signature) = %v, want ErrMismatch", err)
		}
		if err := webhook.Verify(body, ship, secret); !errors.Is(err, webhook.ErrMismatch) {
			t.Errorf("Verify(a shipping signature) = %v, want ErrMismatch", err)
		}
		if _, err := webhook.ParseEvent(body, ship, secret); !errors.Is(err, webhook.ErrMismatch) {
			t.Errorf("ParseEvent(a shipping signature) = %v, want ErrMismatch", err)
		}
		r, err := webhook.ParseShippingRequest(body, ship, secret)
		if err != nil {
			t.Fatalf("ParseShippingRequest(...) = %v", err)
		}
		want := webhook.ShippingRequest{OrderID: "shop-10042", ShopRef: "10042",
			Address: &vipps.ShippingDetailsRequest{AddressID: 1, AddressLine1: "Storgata 1", City: "Oslo", Country: "NO", PostCode: "0155"}}
		if diff := cmp.Diff(want, r); diff != "" {
			t.Errorf("ParseShippingRequest(...) (-want +got):\n%s", diff)
		}
	})
	t.Run("unknown purpose", func(t *testing.T) {
		err := verifier("refund").Verify(body, hook)
		if err == nil || errors.Is(err, webhook.ErrMismatch) {
			t.Errorf("Verify with purpose %q = %v, want a configuration error", "refund", err)
		}
	})
}
