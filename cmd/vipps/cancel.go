package main

import (
	"context"
	"io"

	"github.com/vippskit/vipps"
)

const cancelDoc = `
Cancel stops a payment (PUT /ecomm/v2/payments/{orderId}/cancel): one the
user has not approved yet ends as CANCEL, a reservation is released (VOID).
After a partial capture, cancel fails unless -release-remaining is given,
which releases what is still reserved.

Cancel has no idempotency key, but repeating it is harmless.
`

func runCancel(ctx context.Context, e *env, args []string) error {
	v := newVerb(e, "cancel", "<order-id>", cancelDoc)
	var text string
	var release bool
	v.fs.StringVar(&text, "text", "", "transaction text shown to the user, at most 100 characters (required)")
	v.fs.BoolVar(&release, "release-remaining", false, "after a partial capture, release what is still reserved (shouldReleaseRemainingFunds)")
	id, err := v.parseOrder(args)
	if err != nil {
		return err
	}
	return v.call(ctx, []string{"text"}, func(ctx context.Context, client *vipps.Client) error {
		resp, err := client.Cancel(ctx, id, vipps.CancelRequest{TransactionText: text, ShouldReleaseRemainingFunds: release})
		if err != nil {
			return v.failed(err, id, "")
		}
		return v.print(resp, func(w io.Writer) { writeTransaction(w, resp, "") })
	})
}
