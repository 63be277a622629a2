package main

import "context"

const refundDoc = `
Refund returns captured money to the user
(POST /ecomm/v2/payments/{orderId}/refund): -amount øre (or -nok kroner) of
it, or all that remains captured when no amount is given (or it is 0).
Refunds are possible up to 365 days after the reservation.
` + retryDoc

func runRefund(ctx context.Context, e *env, args []string) error {
	return moveMoney(ctx, e, args, "refund", refundDoc)
}
