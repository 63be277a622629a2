package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/vippskit/vipps"
)

const captureDoc = `
Capture captures reserved money (POST /ecomm/v2/payments/{orderId}/capture):
-amount øre (or -nok kroner) of it, or all that remains when no amount is
given (or it is 0). Capture only what has been delivered; the text is shown to
the user, so a tracking code is a good one.
` + retryDoc

// retryDoc is what capture and refund say about retrying; {op} stands for
// the command.
const retryDoc = `
Every {op} carries an X-Request-Id idempotency key: -request-id, or a new
one, which is printed. Retrying with the same key and body is safe: Vipps
{op}s at most once. After an unknown outcome, run "vipps details" first,
then retry with the printed key.
`

func runCapture(ctx context.Context, e *env, args []string) error {
	return moveMoney(ctx, e, args, "capture", captureDoc)
}

// moveMoney is capture and refund: the same flags, the same answer.
func moveMoney(ctx context.Context, e *env, args []string, op, doc string) error {
	v := newVerb(e, op, "<order-id>", strings.ReplaceAll(doc, "{op}", op))
	amount := defineAmount(v, "amount to "+op+", 0 for all that remains,")
	var text, requestID string
	v.fs.StringVar(&text, "text", "", "transaction text shown to the user, at most 100 characters (required)")
	v.fs.StringVar(&requestID, "request-id", "", "X-Request-Id idempotency `key`, at most 40 characters (default a new one); reuse it to retry")
	id, err := v.parseOrder(args)
	if err != nil {
		return err
	}
	ore, _, err := amount.get()
	if err != nil {
		return v.usageErr(err)
	}
	if len(requestID) > 40 {
		return v.usagef("-request-id is %d characters; Vipps allows 40", len(requestID))
	}
	return v.call(ctx, []string{"text"}, func(ctx context.Context, client *vipps.Client) error {
		if requestID == "" {
			requestID = vipps.NewRequestID()
			if v.json {
				// stdout is for the response; the key must not be lost.
				fmt.Fprintf(e.stderr, "vipps %s: X-Request-Id %s\n", op, requestID)
			}
		}
		req := vipps.CaptureRequest{Amount: ore, TransactionText: text, RequestID: requestID}
		call := client.Capture
		if op == "refund" {
			call = client.Refund
		}
		resp, err := call(ctx, id, req)
		if err != nil {
			return v.failed(err, id, requestID)
		}
		return v.print(resp, func(w io.Writer) { writeTransaction(w, resp, requestID) })
	})
}

// writeTransaction writes the answer to capture, refund and cancel.
func writeTransaction(w io.Writer, r *vipps.TransactionResponse, requestID string) {
	t, s := r.TransactionInfo, r.TransactionSummary
	fields(w, "", append(transactionFields(r.OrderID, string(t.Status), t.Amount, t.TimeStamp, t.TransactionID),
		"text", t.TransactionText,
		"request id", requestID,
		"captured", s.CapturedAmount.Kroner(),
		"refunded", s.RefundedAmount.Kroner(),
		"remaining to capture", s.RemainingAmountToCapture.Kroner(),
		"remaining to refund", s.RemainingAmountToRefund.Kroner(),
	)...)
}

// transactionFields are the fields of an operation, for fields: what
// capture, refund, cancel and status show first.
func transactionFields(id vipps.OrderID, status string, amount vipps.Amount, at vipps.Time, transactionID string) []string {
	return []string{
		"order id", string(id),
		"status", status,
		"amount", amount.Kroner(),
		"time", formatTime(at),
		"transaction id", transactionID,
	}
}
