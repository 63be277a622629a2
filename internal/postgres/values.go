package postgres

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

// timeArg is t in UTC as a query argument, or NULL when t is zero.
func timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// timeOf is the time read from a nullable timestamptz, in UTC; NULL is the
// zero time.
func timeOf(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// rawJSON is raw JSON as a query argument for a json column, unchanged, or
// NULL when empty.
func rawJSON(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	return []byte(b)
}

// errorJSON encodes a stored Vipps error; nil is NULL.
func errorJSON(e *payment.VippsError) (any, error) {
	if e == nil {
		return nil, nil
	}
	return json.Marshal(e)
}

// parseError decodes what errorJSON stored.
func parseError(b []byte) (*payment.VippsError, error) {
	if b == nil {
		return nil, nil
	}
	var e payment.VippsError
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, err
	}
	if !e.At.IsZero() {
		e.At = e.At.UTC()
	}
	return &e, nil
}

// receiptJSON encodes a payment's receipt; nil is NULL.
func receiptJSON(r *vipps.Receipt) (any, error) {
	if r == nil {
		return nil, nil
	}
	return json.Marshal(r)
}

// parseReceipt decodes what receiptJSON stored.
func parseReceipt(b []byte) (*vipps.Receipt, error) {
	if b == nil {
		return nil, nil
	}
	var r vipps.Receipt
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// qualified prefixes each of the comma-separated columns with table.
func qualified(table, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = table + "." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}
