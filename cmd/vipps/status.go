package main

import (
	"context"
	"fmt"
	"io"
)

const statusDoc = `
Status shows a payment's last status (GET /ecomm/v2/payments/{orderId}/status).

Vipps has deprecated this endpoint because its answer can mislead (a failed
operation can hide what happened before); use "vipps details". Status prints
a reminder of that on stderr.
`

func runStatus(ctx context.Context, e *env, args []string) error {
	v := newVerb(e, "status", "<order-id>", statusDoc)
	rest, err := v.parse(args)
	if err != nil {
		return err
	}
	id, err := v.orderArg(rest)
	if err != nil {
		return err
	}
	client, err := v.newClient()
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "vipps status: the status endpoint is deprecated by Vipps; use \"vipps details %s\"\n", id)
	ctx, cancel := v.context(ctx)
	defer cancel()
	s, err := client.Status(ctx, id) // deprecated: this command exists to call it
	if err != nil {
		return failed(err, "status", id, "")
	}
	return v.print(s, func(w io.Writer) {
		t := s.TransactionInfo
		fields(w, "",
			"order id", string(s.OrderID),
			"status", string(t.Status),
			"amount", t.Amount.String(),
			"time", formatTime(t.TimeStamp),
			"transaction id", t.TransactionID,
		)
	})
}
