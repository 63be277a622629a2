package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/webhook"
)

// shippingTimeout bounds a shipping request: Vipps waits 10 s for the
// service's answer, and the service answers with its static options when
// the shop has not answered by then.
const shippingTimeout = 5 * time.Second

// errShippingRedirect is why a shipping request that was redirected
// failed.
var errShippingRedirect = errors.New("the shipping URL answered with a redirect; it must answer itself (set -shipping-url to the final URL)")

// shopShipping asks the shop's URL for the shipping options of an address:
// a POST of a webhook.ShippingRequest signed for shipping
// (webhook.SignShipping in webhook.ShippingSignatureHeader, never as a
// webhook), which answers a JSON array of Vipps shipping options. It
// follows no redirect: the body is the customer's address, and the
// signature is the shop's, so neither goes anywhere but shopURL; a
// redirect fails the request, and the service answers with its static
// options.
func shopShipping(shopURL string, secret vipps.Secret) func(ctx context.Context, p *payment.Payment, addr *vipps.ShippingDetailsRequest) ([]vipps.ShippingOption, error) {
	client := &http.Client{
		Timeout: shippingTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return errShippingRedirect
		},
	}
	return func(ctx context.Context, p *payment.Payment, addr *vipps.ShippingDetailsRequest) ([]vipps.ShippingOption, error) {
		body, err := json.Marshal(webhook.ShippingRequest{OrderID: p.OrderID, ShopRef: p.ShopRef, Address: addr})
		if err != nil {
			return nil, fmt.Errorf("shipping request: %w", err)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, shopURL, bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("shipping request: %w", err)
		}
		req.Header.Set("Content-Type", "application/json")
		if secret != "" {
			req.Header.Set(webhook.ShippingSignatureHeader, webhook.SignShipping(secret, time.Now(), body))
		}
		resp, err := client.Do(req)
		if ue, ok := errors.AsType[*url.Error](err); ok {
			ue.URL = redact(ue.URL) // it may carry a token; the error is logged
		}
		if err != nil {
			return nil, fmt.Errorf("shipping request: %w", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("shipping URL answered %s", resp.Status)
		}
		var opts []vipps.ShippingOption
		if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&opts); err != nil {
			return nil, fmt.Errorf("shipping URL: %w", err)
		}
		return opts, nil
	}
}
