package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/vippskit/vipps"
)

const detailsDoc = `
Details shows a payment (GET /ecomm/v2/payments/{orderId}/details): what is
captured, refunded and left, in kroner to the øre; for express checkout the
shipping chosen; the user details the user shared; and the log of
operations, newest first. Times are UTC.

Details is the one source of truth about a payment: run it after every
callback or redirect, and before trying again when an outcome is unknown.
`

func runDetails(ctx context.Context, e *env, args []string) error {
	v := newVerb(e, "details", "<order-id>", detailsDoc)
	id, err := v.parseOrder(args)
	if err != nil {
		return err
	}
	return v.call(ctx, nil, func(ctx context.Context, client *vipps.Client) error {
		d, err := client.Details(ctx, id)
		if err != nil {
			return v.failed(err, id, "")
		}
		return v.print(d, func(w io.Writer) { writeDetails(w, d) })
	})
}

// writeDetails writes the summary, shipping, user and log of a payment.
func writeDetails(w io.Writer, d *vipps.PaymentDetails) {
	last := "none yet"
	if e, ok := d.Last(); ok {
		last = fmt.Sprintf("%s %s at %s", e.Operation, e.Amount.Kroner(), formatTime(e.TimeStamp))
	}
	kv := []string{"order id", string(d.OrderID), "last operation", last}
	if s := d.TransactionSummary; s != nil {
		kv = append(kv,
			"captured", s.CapturedAmount.Kroner(),
			"refunded", s.RefundedAmount.Kroner(),
			"remaining to capture", s.RemainingAmountToCapture.Kroner(),
			"remaining to refund", s.RemainingAmountToRefund.Kroner(),
		)
		if s.BankIdentificationNumber != 0 {
			kv = append(kv, "card bin", strconv.FormatInt(s.BankIdentificationNumber, 10))
		}
	} else {
		kv = append(kv, "summary", "none yet: the user has not acted")
	}
	kv = append(kv, "sub", d.Sub)
	fields(w, "", kv...)

	if s := d.ShippingDetails; s != nil {
		fmt.Fprintln(w, "\nshipping:")
		a := s.Address
		fields(w, "  ",
			"method", fmt.Sprintf("%s (%s)", s.ShippingMethod, s.ShippingMethodID),
			"cost", s.ShippingCost.Amount().Kroner(),
			"address", joinNonEmpty(", ", a.AddressLine1, a.AddressLine2, joinNonEmpty(" ", a.PostCode, a.City), a.Country),
		)
	}
	if u := d.UserDetails; u != nil {
		fmt.Fprintln(w, "\nuser:")
		fields(w, "  ",
			"user id", u.UserID,
			"name", joinNonEmpty(" ", u.FirstName, u.LastName),
			"email", u.Email,
			"phone", u.MobileNumber,
			"birth date", u.DateOfBirth,
			"bankid verified", u.BankIDVerified,
		)
	}

	fmt.Fprintln(w, "\nlog, newest first:")
	log := slices.Clone(d.TransactionLogHistory)
	// Vipps sends the log newest first; make sure, keeping its order for
	// entries with the same time.
	slices.SortStableFunc(log, func(a, b vipps.LogEntry) int { return cmp.Compare(b.TimeStamp.UnixNano(), a.TimeStamp.UnixNano()) })
	rows := [][]string{{"TIME", "OPERATION", "AMOUNT", "OK", "TRANSACTION ID", "REQUEST ID", "TEXT"}}
	for _, e := range log {
		ok := "yes"
		if !e.OperationSuccess {
			ok = "FAILED"
		}
		rows = append(rows, []string{formatTime(e.TimeStamp), string(e.Operation), e.Amount.Kroner(), ok,
			cmp.Or(e.TransactionID, "-"), cmp.Or(e.RequestID, "-"), e.TransactionText})
	}
	table(w, rows)
}

func joinNonEmpty(sep string, parts ...string) string {
	return strings.Join(slices.DeleteFunc(parts, func(s string) bool { return s == "" }), sep)
}
