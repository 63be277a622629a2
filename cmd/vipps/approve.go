package main

import (
	"cmp"
	"context"
	"fmt"
	"io"

	"github.com/vippskit/vipps"
)

const approveDoc = `
Approve approves a payment as the test user would in the Vipps app
(POST /ecomm/v2/integration-test/payments/{orderId}/approve). It works in the
test environment and the simulator only, and not for express or
skipLandingPage payments.

The token is -token, the token "vipps initiate" printed, or -url, the whole
URL it printed. The phone number is the test user's 8 digits.
`

func runApprove(ctx context.Context, e *env, args []string) error {
	v := newVerb(e, "approve", "<order-id>", approveDoc)
	var phone, token, fromURL, requestID string
	v.stringEnv(&phone, "phone", "", "VIPPS_TEST_PHONE", "the test user's 8-digit phone `number` (required)")
	v.fs.StringVar(&token, "token", "", "the `token` of the initiate URL")
	v.fs.StringVar(&fromURL, "url", "", "the initiate `url`, to take the token from (instead of -token)")
	v.fs.StringVar(&requestID, "request-id", "", "X-Request-Id `key` (default a new one)")
	id, err := v.parseOrder(args)
	if err != nil {
		return err
	}
	switch {
	case token != "" && fromURL != "":
		return v.usagef("give -token or -url, not both")
	case fromURL != "":
		r := vipps.InitiateResponse{URL: fromURL}
		if token = r.Token(); token == "" {
			return v.usagef("-url %q has no token= query parameter", fromURL)
		}
	case token == "":
		return v.usagef("missing -token (or -url, the URL initiate printed)")
	}
	requestID = cmp.Or(requestID, vipps.NewRequestID())
	return v.call(ctx, []string{"phone"}, func(ctx context.Context, client *vipps.Client) error {
		err := client.Approve(ctx, id, vipps.ApproveRequest{CustomerPhoneNumber: phone, Token: token, RequestID: requestID})
		if err != nil {
			return v.failed(err, id, requestID)
		}
		out := struct {
			OrderID   vipps.OrderID `json:"orderId"`
			Approved  bool          `json:"approved"`
			RequestID string        `json:"requestId"`
		}{id, true, requestID}
		return v.print(out, func(w io.Writer) {
			fmt.Fprintf(w, "approved order %s (X-Request-Id %s)\nRun \"vipps details %s\" to see the reservation.\n", id, requestID, id)
		})
	})
}
