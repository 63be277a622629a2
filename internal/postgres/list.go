package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

// List returns payments newest first (CreatedAt, then OrderID, both
// descending; a payment without CreatedAt counts as the oldest), filtered
// by f. Query matches case-insensitively as the database's locale folds
// case. A Limit of 0 or less means 50; more than 500 means 500. Safe to
// retry.
func (s *Store) List(ctx context.Context, f payment.ListFilter) ([]*payment.Payment, error) {
	where, args := listWhere(f)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if c := f.Before; c != nil {
		id := arg(string(c.OrderID))
		if at := timeArg(c.CreatedAt); at != nil {
			at := arg(at)
			where = append(where, `(created_at IS NULL OR created_at < `+at+` OR (created_at = `+at+` AND order_id < `+id+`))`)
		} else {
			where = append(where, `(created_at IS NULL AND order_id < `+id+`)`)
		}
	}
	query := `SELECT ` + paymentColumns + ` FROM payments`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	query += ` ORDER BY created_at DESC NULLS LAST, order_id DESC LIMIT ` + arg(f.PageSize())
	ps, err := queryPayments(ctx, s.pool, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list payments: %w", err)
	}
	return ps, nil
}

// searchColumns are the expressions a word of ListFilter.Query is looked
// for in: the payment's own fields, and what express checkout shared.
var searchColumns = []string{
	`order_id`, `shop_ref`, `text`, `phone`,
	`shipping->'userDetails'->>'firstName'`,
	`shipping->'userDetails'->>'lastName'`,
	`shipping->'userDetails'->>'email'`,
	`shipping->'userDetails'->>'mobileNumber'`,
}

// listWhere is the conditions and arguments ($1...) of f, but for its
// Before and Limit.
func listWhere(f payment.ListFilter) (where []string, args []any) {
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.State != "" {
		where = append(where, `state = `+arg(string(f.State)))
	}
	switch f.Part {
	case "":
	case payment.PartlyCaptured:
		where = append(where, `(captured > 0 AND captured < authorized)`)
	case payment.PartlyRefunded:
		where = append(where, `(refunded > 0 AND refunded < captured)`)
	default:
		where = append(where, `FALSE`)
	}
	for _, p := range f.Patterns() {
		q := arg(p)
		var or []string
		for _, c := range searchColumns {
			or = append(or, `(`+c+`) ILIKE `+q+` ESCAPE '\'`)
		}
		where = append(where, `(`+strings.Join(or, ` OR `)+`)`)
	}
	if at := timeArg(f.CreatedFrom); at != nil {
		where = append(where, `created_at >= `+arg(at))
	}
	if at := timeArg(f.CreatedTo); at != nil {
		where = append(where, `created_at < `+arg(at))
	}
	return where, args
}

// Totals counts and sums the payments of f, but for its Before and Limit.
// Safe to retry.
func (s *Store) Totals(ctx context.Context, f payment.ListFilter) (payment.Totals, error) {
	where, args := listWhere(f)
	var reached []string
	for _, st := range payment.States() {
		if payment.TotalsCountAuthorized(st) {
			reached = append(reached, string(st))
		}
	}
	args = append(args, reached)
	query := `SELECT count(*),
		coalesce(sum(CASE WHEN state = ANY($` + strconv.Itoa(len(args)) + `) THEN authorized ELSE 0 END), 0)::bigint,
		coalesce(sum(captured), 0)::bigint, coalesce(sum(refunded), 0)::bigint FROM payments`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	var t payment.Totals
	var a, c, r int64
	if err := s.pool.QueryRow(ctx, query, args...).Scan(&t.Count, &a, &c, &r); err != nil {
		return payment.Totals{}, fmt.Errorf("totals: %w", err)
	}
	t.Authorized, t.Captured, t.Refunded = vipps.Amount(a), vipps.Amount(c), vipps.Amount(r)
	return t, nil
}

// ByUser returns the payments whose UserID is userID, oldest first; none
// for the empty userID. Safe to retry.
func (s *Store) ByUser(ctx context.Context, userID string) ([]*payment.Payment, error) {
	ps, err := queryPayments(ctx, s.pool, `SELECT `+paymentColumns+` FROM payments
		WHERE user_id = $1 AND user_id <> '' ORDER BY created_at NULLS FIRST, order_id`, userID)
	if err != nil {
		return nil, fmt.Errorf("payments of user %q: %w", userID, err)
	}
	return ps, nil
}

// Stats counts payments by state and tasks by kind and status. Safe to
// retry.
func (s *Store) Stats(ctx context.Context) (payment.Stats, error) {
	st := payment.Stats{
		Payments: map[payment.State]int{},
		Tasks:    map[payment.TaskKind]map[payment.TaskStatus]int{},
	}
	rows, err := s.pool.Query(ctx, `SELECT state, count(*) FROM payments GROUP BY state`)
	if err != nil {
		return payment.Stats{}, fmt.Errorf("stats: %w", err)
	}
	var (
		state string
		n     int
	)
	_, err = pgx.ForEachRow(rows, []any{&state, &n}, func() error {
		st.Payments[payment.State(state)] = n
		return nil
	})
	if err != nil {
		return payment.Stats{}, fmt.Errorf("stats: %w", err)
	}
	rows, err = s.pool.Query(ctx, `SELECT kind, status, count(*) FROM tasks GROUP BY kind, status`)
	if err != nil {
		return payment.Stats{}, fmt.Errorf("stats: %w", err)
	}
	var kind, status string
	_, err = pgx.ForEachRow(rows, []any{&kind, &status, &n}, func() error {
		k := payment.TaskKind(kind)
		if st.Tasks[k] == nil {
			st.Tasks[k] = map[payment.TaskStatus]int{}
		}
		st.Tasks[k][payment.TaskStatus(status)] = n
		return nil
	})
	if err != nil {
		return payment.Stats{}, fmt.Errorf("stats: %w", err)
	}
	return st, nil
}
