package webhook

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/vippskit/vipps"
)

// ShippingSignatureHeader signs the service's shipping requests (vipps serve
// -shipping-url): "t=<unix seconds>,v1=<hex>" as in the [SignatureHeader],
// but under the shipping key of the secret (see [SignShipping]). A shipping
// request carries no SignatureHeader: it is not a webhook.
const ShippingSignatureHeader = "Vippskit-Shipping-Signature"

// ShippingRequest is the body of the service's shipping request: the
// customer chose an address in an express checkout, and the shop answers
// with a JSON array of [vipps.ShippingOption] for it, within 5 s, without
// a redirect (the service follows none; it answers Vipps with its static
// options then).
type ShippingRequest struct {
	OrderID vipps.OrderID `json:"orderId"`
	// ShopRef is the shop's order reference the payment was created with;
	// may be empty.
	ShopRef string                        `json:"shopRef"`
	Address *vipps.ShippingDetailsRequest `json:"address"`
}

// SignShipping returns the [ShippingSignatureHeader] value for body signed
// with secret at t: "t=<unix seconds>,v1=<hex>", where the v1 value is the
// hex-encoded HMAC-SHA256 of "<unix seconds>.<body>" keyed with
// HMAC-SHA256(secret, "vippskit-signature/shipping"). It never verifies as
// a webhook, nor does a webhook's signature verify as a shipping request's.
func SignShipping(secret vipps.Secret, t time.Time, body []byte) string {
	return signAll(PurposeShipping, []vipps.Secret{secret}, t, body)
}

// VerifyShipping checks that header, the request's
// [ShippingSignatureHeader], is a shipping signature of payload, the body
// exactly as received, under secret, made within [DefaultTolerance] of now,
// as [Verify] does for webhooks. A webhook's signature is refused with
// [ErrMismatch].
func VerifyShipping(payload []byte, header string, secret vipps.Secret) error {
	return Verifier{Secrets: []vipps.Secret{secret}, Purpose: PurposeShipping}.Verify(payload, header)
}

// ParseShippingRequest verifies payload as [VerifyShipping] does and
// decodes it.
func ParseShippingRequest(payload []byte, header string, secret vipps.Secret) (ShippingRequest, error) {
	return Verifier{Secrets: []vipps.Secret{secret}}.ParseShippingRequest(payload, header)
}

// ParseShippingRequest verifies payload as a shipping request under v's
// secrets, tolerance and clock (whatever v.Purpose says), and decodes it.
// Decoding is lenient: fields added later are ignored.
func (v Verifier) ParseShippingRequest(payload []byte, header string) (ShippingRequest, error) {
	v.Purpose = PurposeShipping
	if err := v.Verify(payload, header); err != nil {
		return ShippingRequest{}, err
	}
	var r ShippingRequest
	if err := json.Unmarshal(payload, &r); err != nil {
		return ShippingRequest{}, fmt.Errorf("webhook: decode shipping request: %w", err)
	}
	return r, nil
}
