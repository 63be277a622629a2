package main

import (
	"context"
	"fmt"
	"io"

	"github.com/vippskit/vipps"
)

const initiateDoc = `
Initiate starts a payment (POST /ecomm/v2/payments) and prints its order id,
the URL to send the user to (valid for 5 minutes), and the token that
"vipps approve" needs in the test environment.

The amount is -amount in øre (49900 is 499 kr), as Vipps sends amounts, or
-nok in kroner with at most two decimals (499, 499.00, 499,50 or 1 299,50,
thousands grouped by spaces). Give one of them; anything that could be read
two ways, such as "1,000", is refused. The least Vipps accepts is 1 kr.

The order id is -order-id, or else a new one made of -prefix and a random
part (vipps.NewOrderID). An order id can be used once per sales unit: Vipps
refuses a second initiate with Merchant 34.

Express checkout (-express) needs -consent-removal-prefix and either static
shipping options, one -shipping 'id:name:cost' per option with the cost in
kroner (the first is the default), or -shipping-prefix for Vipps to ask the
merchant's shippingDetails endpoint.

Initiate is not retried once the request may have reached Vipps. If the
outcome is unknown, run "vipps details <order-id>" before trying again: if
Vipps does not know the order id, initiate again with a new one.
`

func runInitiate(ctx context.Context, e *env, args []string) error {
	v := newVerb(e, "initiate", "", initiateDoc)
	amount := defineAmount(v, "amount to reserve")
	var (
		orderID, prefix, text, callbackPrefix, fallBack, authToken string
		phone, scope, consentPrefix, shippingPrefix                string
		express, isApp, skipLanding                                bool
		shipping                                                   shippingValue
	)
	v.fs.StringVar(&orderID, "order-id", "", "the payment's order `id` (default -prefix and a random part)")
	v.stringEnv(&prefix, "prefix", "", "VIPPS_ORDER_PREFIX", "readable start of a generated order id, such as the shop's name")
	v.fs.StringVar(&text, "text", "", "transaction text shown to the user in the app, at most 100 characters (required)")
	v.stringEnv(&callbackPrefix, "callback-prefix", "", "VIPPS_CALLBACK_PREFIX", "https `url` that Vipps appends /v2/payments/{orderId} to for the callback (required)")
	v.stringEnv(&fallBack, "fallback", "", "VIPPS_FALLBACK", "`url` the user returns to after the app, on success and failure alike (required)")
	v.stringEnv(&authToken, "auth-token", "", "VIPPS_AUTH_TOKEN", "`token` Vipps sends back as the Authorization header of its callbacks")
	v.fs.StringVar(&phone, "phone", "", "the user's 8-digit `number` without +47, to fill in the landing page")
	v.fs.StringVar(&scope, "scope", "", "profile data to ask for, space-separated from \"name address email phoneNumber birthDate nin\"")
	v.fs.BoolVar(&isApp, "app", false, "ask for a vipps:// deeplink for a native app (isApp)")
	v.fs.BoolVar(&skipLanding, "skip-landing-page", false, "push to -phone at once; only for whitelisted sales units")
	v.fs.BoolVar(&express, "express", false, "express checkout: Vipps asks the user for the shipping address and method")
	v.fs.Var(&shipping, "shipping", "static express shipping `option` 'id:name:cost', cost in kroner; repeat for more, the first is the default")
	v.stringEnv(&shippingPrefix, "shipping-prefix", "", "VIPPS_SHIPPING_PREFIX", "express: https `url` that Vipps appends /v2/payments/{orderId}/shippingDetails to")
	v.stringEnv(&consentPrefix, "consent-removal-prefix", "", "VIPPS_CONSENT_REMOVAL_PREFIX", "express: https `url` that Vipps appends /v2/consents/{userId} to")
	rest, err := v.parse(args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return v.usagef("initiate takes no arguments (the order id is -order-id), got %q", rest)
	}
	ore, ok, err := amount.get()
	if err != nil {
		return v.usageErr(err)
	}
	if !ok {
		return v.usagef("missing the amount: -amount in øre (49900 is 499 kr) or -nok in kroner (499.00)")
	}
	if ore < vipps.MinAmount {
		return v.usagef("the amount %s is below the least Vipps accepts, %s", ore, vipps.MinAmount)
	}
	required := []string{"text", "callback-prefix", "fallback"}
	if express {
		required = append(required, "consent-removal-prefix")
		if len(shipping.opts) == 0 && shippingPrefix == "" {
			return v.usagef("-express needs -shipping 'id:name:cost' options or -shipping-prefix")
		}
	} else if len(shipping.opts) > 0 || shippingPrefix != "" {
		return v.usagef("-shipping and -shipping-prefix are for -express only")
	}
	if err := v.require(required...); err != nil {
		return err
	}
	id := vipps.OrderID(orderID)
	if id == "" {
		id = vipps.NewOrderID(prefix)
	} else if err := id.Validate(); err != nil {
		return v.usagef("-order-id: %v", err)
	}
	req := vipps.InitiateRequest{
		CustomerInfo: vipps.CustomerInfo{MobileNumber: phone},
		MerchantInfo: vipps.MerchantInfo{
			CallbackPrefix: callbackPrefix,
			FallBack:       fallBack,
			AuthToken:      vipps.Secret(authToken),
			IsApp:          isApp,
		},
		Transaction: vipps.InitiateTransaction{
			Amount:          ore,
			OrderID:         id,
			TransactionText: text,
			SkipLandingPage: skipLanding,
			Scope:           scope,
		},
	}
	if express {
		req.MerchantInfo.PaymentType = vipps.PaymentTypeExpress
		req.MerchantInfo.ConsentRemovalPrefix = consentPrefix
		req.MerchantInfo.ShippingDetailsPrefix = shippingPrefix
		req.MerchantInfo.StaticShippingDetails = shipping.opts
	}
	return v.call(ctx, nil, func(ctx context.Context, client *vipps.Client) error {
		resp, err := client.Initiate(ctx, req)
		if err != nil {
			return v.failed(err, id, "")
		}
		return v.print(resp, func(w io.Writer) {
			fields(w, "",
				"order id", string(resp.OrderID),
				"amount", ore.Kroner(),
				"url", resp.URL,
				"token", resp.Token(),
			)
			fmt.Fprintln(w, "\nSend the user to the URL (valid for 5 minutes).")
			if tok := resp.Token(); tok != "" && !express && !skipLanding {
				fmt.Fprintf(w, "In the test environment, approve it as the test user with\n\tvipps approve %s -phone <test-user> -token %s\n", resp.OrderID, tok)
			}
		})
	})
}
