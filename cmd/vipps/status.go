package main

import (
	"context"
	"fmt"
	"io"

	"github.com/vippskit/vipps"
)

const statusDoc = `
Status shows a payment's last status (GET /ecomm/v2/payments/{orderId}/status).

Vipps has deprecated this endpoint because its answer can mislead (a failed
operation can hide what happened before); use "vipps details". Status prints
a reminder of that on stderr.
`

func runStatus(ctx context.Context, e *env, args []string) error {
	v := newVerb(e, "status", "<order-id>", statusDoc)
	id, err := v.parseOrder(args)
	if err != nil {
		return err
	}
	return v.call(ctx, nil, func(ctx context.Context, client *vipps.Client) error {
		fmt.Fprintf(e.stderr, "vipps status: the status endpoint is deprecated by Vipps; use \"vipps details %s\"\n", id)
		//lint:ignore SA1019 this command exists to call the deprecated endpoint
		s, err := client.Status(ctx, id)
		if err != nil {
			return v.failed(err, id, "")
		}
		return v.print(s, func(w io.Writer) {
			t := s.TransactionInfo
			fields(w, "", transactionFields(s.OrderID, string(t.Status), t.Amount, t.TimeStamp, t.TransactionID)...)
		})
	})
}
