package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

// The queries of Attention. Each repeats the WHERE of its partial index
// (migrations/0004_attention.sql) word for word, so that SQLite uses it.
const (
	attentionOps = `SELECT ` + opCols + ` FROM operations
		WHERE status = 'pending' AND created_at < ?
		ORDER BY created_at, id LIMIT ?`
	attentionTasks = `SELECT ` + taskCols + ` FROM tasks
		WHERE status = 'dead' OR (status = 'pending' AND attempts > 0)
		ORDER BY CASE WHEN status = 'dead' THEN 0 ELSE 1 END, updated_at, id LIMIT ?`
	// A reservation is made after the payment is created: created_at
	// before the bound picks the rows on the index, the reservation's
	// fact decides.
	attentionReserved = `SELECT ` + paymentCols + `, reserved_at FROM (
			SELECT ` + paymentCols + `, coalesce(
				(SELECT min(coalesce(f.at, f.seen_at)) FROM facts f
					WHERE f.order_id = p.order_id AND f.operation IN ('RESERVE', 'SALE') AND f.success),
				p.created_at) AS reserved_at
			FROM payments p
			WHERE state = 'reserved' AND remaining_to_capture > 0 AND created_at < ?1)
		WHERE reserved_at < ?1
		ORDER BY reserved_at, order_id LIMIT ?2`
	attentionUnreachable = `SELECT ` + paymentCols + ` FROM payments
		WHERE check_failures > 0 AND check_failures >= ?
		ORDER BY check_failed_since, order_id LIMIT ?`
)

// Attention returns what needs a person (see payment.Store), in one read
// transaction, so that the lists are of one moment.
func (s *Store) Attention(ctx context.Context, f payment.AttentionFilter) (*payment.AttentionLists, error) {
	limit := payment.AttentionLimit(f.Limit)
	out := &payment.AttentionLists{}
	rtx, err := s.r.DB.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("sqlite: attention: %w", unavailable(err))
	}
	defer rtx.Rollback() //nolint:errcheck // read only
	tx := readTx{rtx}
	err = func() error {
		var err error
		if out.Operations, err = queryAll(ctx, tx, scanOperation, attentionOps, toMicros(f.OpsBefore), limit); err != nil {
			return err
		}
		if out.Tasks, err = queryAll(ctx, tx, func(sc scanner) (*payment.Task, error) { return scanTask(sc) }, attentionTasks, limit); err != nil {
			return err
		}
		scanReservation := func(sc scanner) (payment.Reservation, error) {
			var at sql.NullInt64
			p, err := scanPayment(withMore{sc, []any{&at}})
			return payment.Reservation{Payment: p, ReservedAt: fromMicros(at)}, err
		}
		if out.Reservations, err = queryAll(ctx, tx, scanReservation, attentionReserved, toMicros(f.ReservedBefore), limit); err != nil {
			return err
		}
		out.Unreachable, err = queryPayments(ctx, tx, attentionUnreachable, max(f.CheckFailures, 1), limit)
		return err
	}()
	if err != nil {
		return nil, fmt.Errorf("sqlite: attention: %w", err)
	}
	return out, nil
}

// exchangeCols are the columns of exchanges in the order Exchanges reads.
const exchangeCols = `id, order_id, at, op, method, path, status_code, duration_us, request_id, request, response, error`

// AddExchanges stores exchanges of known payments and keeps the newest
// keep of each payment they are about, in one transaction.
func (s *Store) AddExchanges(ctx context.Context, xs []payment.Exchange, keep int) error {
	if len(xs) == 0 {
		return nil
	}
	err := s.tx(ctx, func(tx writeTx) error {
		touched := map[vipps.OrderID]bool{}
		for _, x := range xs {
			res, err := tx.ExecContext(ctx, `INSERT INTO exchanges (order_id, at, op, method, path, status_code,
					duration_us, request_id, request, response, error)
				SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11
				WHERE EXISTS (SELECT 1 FROM payments WHERE order_id = ?1)`,
				string(x.OrderID), toMicros(x.At), x.Op, x.Method, x.Path, x.StatusCode,
				x.Duration.Microseconds(), x.RequestID, x.Request, x.Response, x.Error)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n > 0 {
				touched[x.OrderID] = true
			}
		}
		for id := range touched {
			if _, err := tx.ExecContext(ctx, `DELETE FROM exchanges WHERE order_id = ?1 AND id NOT IN (
					SELECT id FROM exchanges WHERE order_id = ?1 ORDER BY id DESC LIMIT ?2)`,
				string(id), max(keep, 0)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: add %d exchanges: %w", len(xs), err)
	}
	return nil
}

// Exchanges returns the payment's exchanges, newest first.
func (s *Store) Exchanges(ctx context.Context, id vipps.OrderID) ([]payment.Exchange, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+exchangeCols+` FROM exchanges
		WHERE order_id = ? ORDER BY id DESC`, string(id))
	if err != nil {
		return nil, fmt.Errorf("sqlite: exchanges of order %s: %w", id, err)
	}
	defer rows.Close()
	var xs []payment.Exchange
	for rows.Next() {
		var (
			x  payment.Exchange
			at sql.NullInt64
			us int64
		)
		if err := rows.Scan(&x.ID, &x.OrderID, &at, &x.Op, &x.Method, &x.Path, &x.StatusCode, &us,
			&x.RequestID, &x.Request, &x.Response, &x.Error); err != nil {
			return nil, fmt.Errorf("sqlite: exchanges of order %s: %w", id, err)
		}
		x.At, x.Duration = fromMicros(at), time.Duration(us)*time.Microsecond
		xs = append(xs, x)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: exchanges of order %s: %w", id, err)
	}
	return xs, nil
}

// DeleteExchanges deletes the payment's exchanges; secure_delete zeroes
// them in the file, and Scrub empties the write-ahead log.
func (s *Store) DeleteExchanges(ctx context.Context, id vipps.OrderID) error {
	err := s.tx(ctx, func(tx writeTx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM exchanges WHERE order_id = ?`, string(id))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete exchanges of order %s: %w", id, err)
	}
	return nil
}
