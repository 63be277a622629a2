package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

// The queries of Attention. Each repeats the WHERE of its partial index
// (migrations/0004_attention.sql) word for word, so that the planner can
// use it whatever the parameters.
const (
	attentionOps = `SELECT ` + operationColumns + ` FROM operations
		WHERE status = 'pending' AND created_at < $1
		ORDER BY created_at, id LIMIT $2`
	attentionTasks = `SELECT ` + taskColumns + ` FROM tasks
		WHERE status = 'dead' OR (status = 'pending' AND attempts > 0)
		ORDER BY CASE WHEN status = 'dead' THEN 0 ELSE 1 END, updated_at, id LIMIT $1`
	// A reservation is made after the payment is created: created_at
	// before the bound picks the rows on the index, the reservation's
	// fact decides.
	attentionReserved = `SELECT ` + paymentColumns + `, reserved_at FROM (
			SELECT ` + paymentColumns + `, coalesce(
				(SELECT min(coalesce(f.at, f.seen_at)) FROM facts f
					WHERE f.order_id = p.order_id AND f.operation IN ('RESERVE', 'SALE') AND f.success),
				p.created_at) AS reserved_at
			FROM payments p
			WHERE state = 'reserved' AND remaining_to_capture > 0 AND created_at < $1) r
		WHERE reserved_at < $1
		ORDER BY reserved_at, order_id LIMIT $2`
	attentionUnreachable = `SELECT ` + paymentColumns + ` FROM payments
		WHERE check_failures > 0 AND check_failures >= $1
		ORDER BY check_failed_since, order_id LIMIT $2`
)

// Attention returns what needs a person (see payment.Store), in one
// repeatable-read transaction, so that the lists are of one moment.
func (s *Store) Attention(ctx context.Context, f payment.AttentionFilter) (*payment.AttentionLists, error) {
	limit := payment.AttentionLimit(f.Limit)
	var out *payment.AttentionLists
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		out = &payment.AttentionLists{}
		rows, err := tx.Query(ctx, attentionOps, timeArg(f.OpsBefore), limit)
		if err != nil {
			return err
		}
		if out.Operations, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*payment.Operation, error) { return scanOperation(r) }); err != nil {
			return err
		}
		if rows, err = tx.Query(ctx, attentionTasks, limit); err != nil {
			return err
		}
		if out.Tasks, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*payment.Task, error) { return scanTask(r) }); err != nil {
			return err
		}
		if rows, err = tx.Query(ctx, attentionReserved, timeArg(f.ReservedBefore), limit); err != nil {
			return err
		}
		out.Reservations, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (payment.Reservation, error) {
			var at pgtype.Timestamptz
			p, err := scanPayment(withMore{r, []any{&at}})
			return payment.Reservation{Payment: p, ReservedAt: timeOf(at)}, err
		})
		if err != nil {
			return err
		}
		out.Unreachable, err = queryPayments(ctx, tx, attentionUnreachable, max(f.CheckFailures, 1), limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("attention: %w", err)
	}
	return out, nil
}

// exchangeColumns are the columns of exchanges in the order Exchanges
// reads.
const exchangeColumns = `id, order_id, at, op, method, path, status_code, duration_us, request_id, request, response, error`

// AddExchanges stores exchanges of known payments and keeps the newest
// keep of each payment they are about, in one transaction: one batch, one
// round trip (see inBatch), of two statements however many exchanges.
func (s *Store) AddExchanges(ctx context.Context, xs []payment.Exchange, keep int) error {
	if len(xs) == 0 {
		return nil
	}
	var (
		ids []string
		c   exchangeArrays
	)
	for _, x := range xs {
		if !slices.Contains(ids, string(x.OrderID)) {
			ids = append(ids, string(x.OrderID))
		}
		c.add(x)
	}
	err := s.inBatch(ctx, func(b *pgx.Batch) {
		// One statement inserts them all, in their order (the ids are the
		// newest-first order staff read), those of unknown payments left
		// out.
		b.Queue(`INSERT INTO exchanges (order_id, at, op, method, path, status_code,
				duration_us, request_id, request, response, error)
			SELECT x.order_id, x.at, x.op, x.method, x.path, x.status_code,
				x.duration_us, x.request_id, x.request, x.response, x.error
			FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::integer[],
				$7::bigint[], $8::text[], $9::text[], $10::text[], $11::text[])
				WITH ORDINALITY AS x(order_id, at, op, method, path, status_code,
					duration_us, request_id, request, response, error, n)
			WHERE EXISTS (SELECT 1 FROM payments p WHERE p.order_id = x.order_id)
			ORDER BY x.n`,
			c.orderIDs, c.ats, c.ops, c.methods, c.paths, c.statuses,
			c.durations, c.requestIDs, c.requests, c.responses, c.errors)
		// One statement trims every payment of the batch (one that is
		// unknown has nothing to trim): it deletes a payment's exchanges
		// up to its keep+1st newest, none when it has no more than keep.
		// Both scans go by the payment's index, however large the table:
		// a form with only "id IN (...)" outside was planned on a young
		// table as a scan of the whole table, and kept that plan.
		b.Queue(`DELETE FROM exchanges e
				WHERE e.order_id = ANY($1)
					AND e.id <= (SELECT x.id FROM exchanges x WHERE x.order_id = e.order_id
						ORDER BY x.id DESC OFFSET $2 LIMIT 1)`,
			ids, max(keep, 0))
	})
	if err != nil {
		return fmt.Errorf("add %d exchanges: %w", len(xs), err)
	}
	return nil
}

// exchangeArrays are exchanges as one array per column, the parameters
// of AddExchanges' insert.
type exchangeArrays struct {
	orderIDs, ops, methods, paths, requestIDs, requests, responses, errors []string
	ats                                                                    []pgtype.Timestamptz
	statuses                                                               []int32
	durations                                                              []int64
}

func (c *exchangeArrays) add(x payment.Exchange) {
	c.orderIDs = append(c.orderIDs, string(x.OrderID))
	c.ats = append(c.ats, pgtype.Timestamptz{Time: x.At.UTC(), Valid: !x.At.IsZero()})
	c.ops = append(c.ops, x.Op)
	c.methods = append(c.methods, x.Method)
	c.paths = append(c.paths, x.Path)
	c.statuses = append(c.statuses, int32(x.StatusCode))
	c.durations = append(c.durations, x.Duration.Microseconds())
	c.requestIDs = append(c.requestIDs, x.RequestID)
	c.requests = append(c.requests, x.Request)
	c.responses = append(c.responses, x.Response)
	c.errors = append(c.errors, x.Error)
}

// Exchanges returns the payment's exchanges, newest first.
func (s *Store) Exchanges(ctx context.Context, id vipps.OrderID) ([]payment.Exchange, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+exchangeColumns+` FROM exchanges
		WHERE order_id = $1 ORDER BY id DESC`, string(id))
	if err != nil {
		return nil, fmt.Errorf("exchanges of %s: %w", id, err)
	}
	xs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (payment.Exchange, error) {
		var (
			x   payment.Exchange
			oid string
			at  pgtype.Timestamptz
			us  int64
		)
		err := r.Scan(&x.ID, &oid, &at, &x.Op, &x.Method, &x.Path, &x.StatusCode, &us,
			&x.RequestID, &x.Request, &x.Response, &x.Error)
		x.OrderID, x.At, x.Duration = vipps.OrderID(oid), timeOf(at), time.Duration(us)*time.Microsecond
		return x, err
	})
	if err != nil {
		return nil, fmt.Errorf("exchanges of %s: %w", id, err)
	}
	return xs, nil
}

// DeleteExchanges deletes the payment's exchanges.
func (s *Store) DeleteExchanges(ctx context.Context, id vipps.OrderID) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM exchanges WHERE order_id = $1`, string(id)); err != nil {
		return fmt.Errorf("delete exchanges of %s: %w", id, err)
	}
	return nil
}
