package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

var _ payment.Store = (*Store)(nil)

// paymentCols are the columns of payments in the order scanPayment reads.
const paymentCols = `order_id, shop_ref, attempt, msn, kind, text, phone,
	return_url, auth_token_hash, vipps_url, state,
	authorized, captured, refunded, remaining_to_capture, remaining_to_refund,
	user_id, shipping, last_error,
	created_at, updated_at, sent_at, next_check_at, lease_owner, lease_until,
	order_url, receipt, op_owner, op_until,
	check_failures, check_failed_since, check_error, version`

// Create stores a new payment with its first events and sets p.Version to
// 1, and increments the versions of the other attempts of its ShopRef. It
// fails with payment.ErrExists when the orderId is taken.
func (s *Store) Create(ctx context.Context, p *payment.Payment, events ...payment.Event) error {
	err := s.tx(ctx, func(tx writeTx) error {
		args, err := paymentArgs(p)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO payments (`+paymentCols+`)
			VALUES (`+placeholders(33)+`)
			ON CONFLICT (order_id) DO NOTHING`, append(args, int64(1))...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return payment.ErrExists
		}
		if p.ShopRef != "" {
			// A new attempt is a change of the shop order's other
			// attempts: an update based on an older read of them is
			// made again, and sees it.
			if _, err := tx.ExecContext(ctx, `UPDATE payments SET version = version + 1
				WHERE shop_ref = ? AND order_id <> ?`, p.ShopRef, string(p.OrderID)); err != nil {
				return err
			}
		}
		if err := addFacts(ctx, tx, p); err != nil {
			return err
		}
		return addEvents(ctx, tx, p.OrderID, events)
	})
	if err != nil {
		return fmt.Errorf("sqlite: create order %s: %w", p.OrderID, err)
	}
	p.Version = 1
	return nil
}

// Get returns the payment with its facts, or payment.ErrNotFound.
func (s *Store) Get(ctx context.Context, id vipps.OrderID) (*payment.Payment, error) {
	p, err := s.get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("sqlite: get order %s: %w", id, err)
	}
	return p, nil
}

// TokenHash returns the payment's callback token hash, or
// payment.ErrNotFound.
func (s *Store) TokenHash(ctx context.Context, id vipps.OrderID) (string, error) {
	var h string
	err := s.r.QueryRowContext(ctx, `SELECT auth_token_hash FROM payments WHERE order_id = ?`, string(id)).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		err = payment.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: token of order %s: %w", id, err)
	}
	return h, nil
}

func (s *Store) get(ctx context.Context, id vipps.OrderID) (*payment.Payment, error) {
	return getPayment(ctx, s.r, id)
}

// getQuery reads a payment with its facts: one statement, so that the
// payment and its facts agree, and one row, the facts as a JSON array of
// rows (factsColumn) beside the payment's columns.
var getQuery = `SELECT ` + paymentCols + `, ` + factsColumn + ` FROM payments WHERE order_id = ?1`

// factsColumn is the payment ?1's facts as a JSON array of rows, oldest
// first. A column rather than a join: a join repeats the payment's columns
// on every fact's row, and each is read again.
const factsColumn = `(SELECT json_group_array(json_array(` + factCols + `))
		FROM (SELECT * FROM facts WHERE order_id = ?1 ORDER BY seq))`

// getPayment reads the payment id with its facts through q.
func getPayment(ctx context.Context, q querier, id vipps.OrderID) (*payment.Payment, error) {
	return readPayment(ctx, q, getQuery, id)
}

// readPayment runs query, getQuery or one with more columns after the
// facts, for the payment id through q, and reads its one row: the
// payment with its facts, and the columns after them into more. It fails
// with payment.ErrNotFound when there is no row.
func readPayment(ctx context.Context, q querier, query string, id vipps.OrderID, more ...any) (*payment.Payment, error) {
	rows, err := q.QueryContext(ctx, query, string(id))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, err
		}
		return nil, payment.ErrNotFound
	}
	var facts sql.NullString
	p, err := scanPayment(withMore{rows, append([]any{&facts}, more...)})
	if err != nil {
		return nil, err
	}
	if p.Facts, err = scanFacts(facts); err != nil {
		return nil, fmt.Errorf("facts: %w", err)
	}
	return p, rows.Close()
}

// GetPending returns the payment with its facts and its pending
// operations, in one statement, or payment.ErrNotFound.
func (s *Store) GetPending(ctx context.Context, id vipps.OrderID) (*payment.Payment, []*payment.Operation, error) {
	var opJS sql.NullString
	p, err := readPayment(ctx, s.r, getPendingQuery, id, &opJS)
	var pending []*payment.Operation
	if err == nil {
		pending, err = rowsOfJSON(opJS.String, scanOperation)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("sqlite: get order %s: %w", id, err)
	}
	return p, pending, nil
}

// getPendingQuery is getQuery with the payment's pending operations as a
// JSON array of rows in one more column.
var getPendingQuery = `SELECT ` + paymentCols + `, ` + factsColumn + `,
		(SELECT json_group_array(json_array(` + opCols + `))
			FROM (SELECT * FROM operations WHERE order_id = ?1 AND status = 'pending' ORDER BY id))
		FROM payments WHERE order_id = ?1`

// scanFacts reads factsColumn.
func scanFacts(js sql.NullString) ([]payment.Fact, error) {
	facts, err := rowsOfJSON(js.String, func(sc scanner) (payment.Fact, error) {
		var f factRow
		err := sc.Scan(f.dest()...)
		return f.fact(), err
	})
	if err != nil || len(facts) == 0 {
		return nil, err // a payment without facts has nil, as it was made
	}
	return facts, nil
}

// factRow is a fact as read.
type factRow struct {
	seq, success, amount             sql.NullInt64
	orderID, op, txID, reqID, source sql.NullString
	at, seen                         sql.NullInt64
}

func (f *factRow) dest() []any {
	return []any{&f.seq, &f.orderID, &f.op, &f.success, &f.amount, &f.txID, &f.reqID, &f.at, &f.source, &f.seen}
}

func (f *factRow) fact() payment.Fact {
	return payment.Fact{Seq: f.seq.Int64, OrderID: vipps.OrderID(f.orderID.String), Operation: vipps.Operation(f.op.String),
		Success: f.success.Int64 != 0, Amount: vipps.Amount(f.amount.Int64), TransactionID: f.txID.String,
		RequestID: f.reqID.String, At: fromMicros(f.at), Source: f.source.String, SeenAt: fromMicros(f.seen)}
}

// withMore scans a row into the destinations given and then more.
type withMore struct {
	row  scanner
	more []any
}

func (w withMore) Scan(dest ...any) error { return w.row.Scan(append(dest, w.more...)...) }

// qualified prefixes each of the comma-separated columns with table.
func qualified(table, columns string) string {
	cols := rowCols(columns)
	for i, c := range cols {
		cols[i] = table + "." + c
	}
	return strings.Join(cols, ", ")
}

// rowCols splits comma-separated columns.
func rowCols(columns string) []string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = strings.TrimSpace(c)
	}
	return cols
}

// factCols are the columns of facts in the order factRow reads.
const factCols = `seq, order_id, operation, success, amount, transaction_id, request_id, at, source, seen_at`

// addFacts stores those of p's facts that have no Seq yet, and sets it. A
// fact that is stored already is a conflict: p was read before it was.
func addFacts(ctx context.Context, tx writeTx, p *payment.Payment) error {
	for i := range p.Facts {
		f := &p.Facts[i]
		if f.Seq != 0 {
			continue
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO facts (order_id, operation, success, amount,
			transaction_id, request_id, at, source, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			string(p.OrderID), string(f.Operation), f.Success, int64(f.Amount), f.TransactionID, f.RequestID,
			toMicros(f.At), f.Source, toMicros(f.SeenAt))
		if isUnique(err) {
			return fmt.Errorf("fact %s is stored already: %w", f.Key(), payment.ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("fact %s: %w", f.Key(), err)
		}
		if f.Seq, err = res.LastInsertId(); err != nil {
			return err
		}
		f.OrderID = p.OrderID
	}
	return nil
}

// isUnique reports whether err is a violated UNIQUE constraint.
func isUnique(err error) bool {
	se, ok := errors.AsType[*msqlite.Error](err)
	return ok && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

// Attempts returns the payments of a shop order reference, oldest attempt
// first.
func (s *Store) Attempts(ctx context.Context, shopRef string) ([]*payment.Payment, error) {
	ps, err := queryPayments(ctx, s.r, `SELECT `+paymentCols+` FROM payments
		WHERE shop_ref = ? ORDER BY attempt, created_at, order_id`, shopRef)
	if err != nil {
		return nil, fmt.Errorf("sqlite: attempts of %q: %w", shopRef, err)
	}
	return ps, nil
}

// Update stores p if the stored version is still p.Version (else
// payment.ErrConflict; payment.ErrNotFound if there is no such payment),
// adds its new facts, appends events, and increments p.Version.
func (s *Store) Update(ctx context.Context, p *payment.Payment, events ...payment.Event) error {
	facts := slices.Clone(p.Facts)
	err := s.tx(ctx, func(tx writeTx) error { return updatePayment(ctx, tx, p, events) })
	if err != nil {
		p.Facts = facts
		return fmt.Errorf("sqlite: update order %s: %w", p.OrderID, err)
	}
	p.Version++
	return nil
}

// updatePayment is Update in tx, without incrementing p.Version.
func updatePayment(ctx context.Context, tx writeTx, p *payment.Payment, events []payment.Event) error {
	args, err := paymentArgs(p)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `UPDATE payments SET
		shop_ref = ?2, attempt = ?3, msn = ?4, kind = ?5, text = ?6, phone = ?7,
		return_url = ?8, auth_token_hash = ?9, vipps_url = ?10, state = ?11,
		authorized = ?12, captured = ?13, refunded = ?14,
		remaining_to_capture = ?15, remaining_to_refund = ?16,
		user_id = ?17, shipping = ?18, last_error = ?19,
		created_at = ?20, updated_at = ?21, sent_at = ?22, next_check_at = ?23,
		lease_owner = ?24, lease_until = ?25, order_url = ?26, receipt = ?27,
		op_owner = ?28, op_until = ?29,
		check_failures = ?30, check_failed_since = ?31, check_error = ?32,
		version = version + 1
		WHERE order_id = ?1 AND version = ?33`, append(args, p.Version)...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM payments WHERE order_id = ?`, string(p.OrderID)).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return payment.ErrNotFound
		} else if err != nil {
			return err
		}
		return fmt.Errorf("version %d: %w", p.Version, payment.ErrConflict)
	}
	if err := addFacts(ctx, tx, p); err != nil {
		return err
	}
	return addEvents(ctx, tx, p.OrderID, events)
}

// Events returns the payment's history, oldest first; none for an unknown
// payment.
func (s *Store) Events(ctx context.Context, id vipps.OrderID) ([]payment.Event, error) {
	return events(ctx, s.r, id)
}

// eventsQuery reads a payment's events.
const eventsQuery = `SELECT seq, order_id, type, state, amount, data, at, fact
		FROM events WHERE order_id = ? ORDER BY seq`

// events reads the payment's events through q.
func events(ctx context.Context, q querier, id vipps.OrderID) ([]payment.Event, error) {
	evs, err := queryAll(ctx, q, scanEvent, eventsQuery, string(id))
	if err != nil {
		return nil, fmt.Errorf("sqlite: events of order %s: %w", id, err)
	}
	return evs, nil
}

// scanEvent reads a row of eventsQuery's columns.
func scanEvent(sc scanner) (payment.Event, error) {
	var (
		e    payment.Event
		data sql.NullString
		at   sql.NullInt64
	)
	if err := sc.Scan(&e.Seq, &e.OrderID, &e.Type, &e.State, &e.Amount, &data, &at, &e.Fact); err != nil {
		return e, err
	}
	e.Data, e.At = rawJSON(data), fromMicros(at)
	return e, nil
}

// Lease takes up to limit payments whose NextCheckAt is set and due at now
// and whose lease is free or ended before now, most overdue first, and
// leases them to owner until now+ttl. Taking a lease is a change: it
// increments the payments' versions, so that an update based on an older
// read cannot undo the lease.
func (s *Store) Lease(ctx context.Context, owner string, now time.Time, ttl time.Duration, limit int) ([]*payment.Payment, error) {
	if limit <= 0 {
		return nil, nil
	}
	var ps []*payment.Payment
	err := s.tx(ctx, func(tx writeTx) error {
		var err error
		ps, err = queryPayments(ctx, tx, `UPDATE payments
			SET lease_owner = ?1, lease_until = ?2, version = version + 1
			WHERE order_id IN (
				SELECT order_id FROM payments
				WHERE next_check_at IS NOT NULL AND next_check_at <= ?3
					AND (lease_until IS NULL OR lease_until < ?3)
				ORDER BY next_check_at, order_id
				LIMIT ?4)
			RETURNING `+paymentCols,
			owner, toMicros(now.Add(ttl)), toMicros(now), limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: lease for %s: %w", owner, err)
	}
	payment.SortLeased(ps)
	return ps, nil
}

// opCols are the columns of operations in the order scanOperation reads.
const opCols = `id, order_id, kind, idempotency_key, request_id, amount, text,
	release_remaining, status, error, created_at, updated_at, sends, sent_at`

// AddOperation stores op as pending, sets op.ID and appends events, and
// with a claim claims the payment for sending op (see payment.Store). In
// the same transaction it makes the payment due for a check no later than
// op.CreatedAt+payment.OpResumeAfter and increments its version. When an
// operation with the same payment, kind and idempotency key exists, it
// returns that one and payment.ErrExists, and changes nothing; for an
// unknown payment, payment.ErrNotFound.
func (s *Store) AddOperation(ctx context.Context, op *payment.Operation, claim *payment.Claim, events ...payment.Event) (*payment.Operation, error) {
	var (
		existing *payment.Operation
		id       int64
		claimed  bool
	)
	err := s.tx(ctx, func(tx writeTx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM payments WHERE order_id = ?`, string(op.OrderID)).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return payment.ErrNotFound
		} else if err != nil {
			return err
		}
		opErr, err := toJSON(op.Error)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO operations (order_id, kind, idempotency_key,
			request_id, amount, text, release_remaining, status, error, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (order_id, kind, idempotency_key) DO NOTHING`,
			string(op.OrderID), string(op.Kind), op.IdempotencyKey, op.RequestID, int64(op.Amount), op.Text,
			op.ReleaseRemaining, string(payment.OpPending), opErr, toMicros(op.CreatedAt), toMicros(op.UpdatedAt))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			existing, err = scanOperation(tx.QueryRowContext(ctx, `SELECT `+opCols+` FROM operations
				WHERE order_id = ? AND kind = ? AND idempotency_key = ?`,
				string(op.OrderID), string(op.Kind), op.IdempotencyKey))
			if err != nil {
				return err
			}
			return payment.ErrExists
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		if claim != nil {
			res, err := tx.ExecContext(ctx, `UPDATE payments
				SET op_owner = ?3, op_until = ?4, version = version + 1
				WHERE order_id = ?1 AND version = ?2 AND (op_owner = '' OR op_until IS NULL OR op_until < ?5)
					AND NOT EXISTS (SELECT 1 FROM operations WHERE order_id = ?1 AND status = 'pending' AND id <> ?6)`,
				string(op.OrderID), claim.Version, claim.Owner, toMicros(claim.Until), toMicros(op.CreatedAt), id)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if claimed = n == 1; claimed {
				if err := execOne(ctx, tx, `UPDATE operations SET sends = 1, sent_at = ? WHERE id = ?`, toMicros(op.CreatedAt), id); err != nil {
					return err
				}
			}
		}
		// Due for a check no later than when the operation may be resumed;
		// a change of the payment, so an update based on an older read
		// cannot undo it.
		if _, err := tx.ExecContext(ctx, `UPDATE payments
			SET next_check_at = min(coalesce(next_check_at, ?2), ?2), version = version + 1
			WHERE order_id = ?1`,
			string(op.OrderID), toMicros(op.CreatedAt.Add(payment.OpResumeAfter))); err != nil {
			return err
		}
		return addEvents(ctx, tx, op.OrderID, events)
	})
	if err != nil {
		return existing, fmt.Errorf("sqlite: add %s of order %s (key %q): %w", op.Kind, op.OrderID, op.IdempotencyKey, err)
	}
	op.ID, op.Status = id, payment.OpPending
	if claimed {
		op.Sends, op.SentAt = 1, op.CreatedAt
	}
	return op, nil
}

// UpdateOperation stores op's status, error, sends and times and, as
// Update does, p with its new facts and events, in one transaction, if op
// is still pending as stored (else payment.ErrConflict).
func (s *Store) UpdateOperation(ctx context.Context, op *payment.Operation, p *payment.Payment, events ...payment.Event) error {
	facts := slices.Clone(p.Facts)
	err := s.tx(ctx, func(tx writeTx) error {
		if op.OrderID != p.OrderID {
			return fmt.Errorf("operation of order %s, payment %s: want one order", op.OrderID, p.OrderID)
		}
		opErr, err := toJSON(op.Error)
		if err != nil {
			return err
		}
		err = execOne(ctx, tx, `UPDATE operations SET status = ?, error = ?, sends = ?, sent_at = ?, updated_at = ?
			WHERE id = ? AND order_id = ? AND status = 'pending'`,
			string(op.Status), opErr, op.Sends, toMicros(op.SentAt), toMicros(op.UpdatedAt), op.ID, string(op.OrderID))
		if errors.Is(err, payment.ErrNotFound) {
			var status string
			err := tx.QueryRowContext(ctx, `SELECT status FROM operations WHERE id = ? AND order_id = ?`, op.ID, string(op.OrderID)).Scan(&status)
			if errors.Is(err, sql.ErrNoRows) {
				return payment.ErrNotFound
			} else if err != nil {
				return err
			}
			return fmt.Errorf("operation is %s, not pending: %w", status, payment.ErrConflict)
		}
		if err != nil {
			return err
		}
		return updatePayment(ctx, tx, p, events)
	})
	if err != nil {
		p.Facts = facts
		return fmt.Errorf("sqlite: update operation %d of order %s: %w", op.ID, op.OrderID, err)
	}
	p.Version++
	return nil
}

// execOne runs a statement that changes one row, and fails with
// payment.ErrNotFound when it changes none.
func execOne(ctx context.Context, tx writeTx, query string, args ...any) error {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return payment.ErrNotFound
	}
	return nil
}

// Operations returns the payment's operations, oldest first; with
// pendingOnly, only those still pending.
func (s *Store) Operations(ctx context.Context, id vipps.OrderID, pendingOnly bool) ([]*payment.Operation, error) {
	return operations(ctx, s.r, id, pendingOnly)
}

// operationsQuery reads a payment's operations.
var operationsQuery = `SELECT ` + opCols + ` FROM operations WHERE order_id = ? ORDER BY id`

// operations reads the payment's operations through q.
func operations(ctx context.Context, q querier, id vipps.OrderID, pendingOnly bool) ([]*payment.Operation, error) {
	query := operationsQuery
	if pendingOnly {
		query = `SELECT ` + opCols + ` FROM operations WHERE order_id = ? AND status = 'pending' ORDER BY id`
	}
	ops, err := queryAll(ctx, q, scanOperation, query, string(id))
	if err != nil {
		return nil, fmt.Errorf("sqlite: operations of order %s: %w", id, err)
	}
	return ops, nil
}

// addEvents appends events to the payment's history, and queues their
// tasks; they are stored under id whatever their OrderID says.
func addEvents(ctx context.Context, tx writeTx, id vipps.OrderID, events []payment.Event) error {
	for _, e := range events {
		data := sql.NullString{String: string(e.Data), Valid: len(e.Data) > 0}
		res, err := tx.ExecContext(ctx, `INSERT INTO events (order_id, type, state, amount, data, at, fact)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			string(id), string(e.Type), string(e.State), int64(e.Amount), data, toMicros(e.At), e.Fact)
		if isUnique(err) {
			return fmt.Errorf("event %s of fact %s is stored already: %w", e.Type, e.Fact, payment.ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("event %s: %w", e.Type, err)
		}
		seq, err := res.LastInsertId()
		if err != nil {
			return fmt.Errorf("event %s: %w", e.Type, err)
		}
		if err := addTasks(ctx, tx, id, seq, e); err != nil {
			return fmt.Errorf("event %s: %w", e.Type, err)
		}
	}
	return nil
}

// paymentArgs are p's columns in paymentCols order, without version.
func paymentArgs(p *payment.Payment) ([]any, error) {
	lastErr, err := toJSON(p.LastError)
	if err != nil {
		return nil, err
	}
	receipt, err := toJSON(p.Receipt)
	if err != nil {
		return nil, err
	}
	shipping := sql.NullString{String: string(p.Shipping), Valid: len(p.Shipping) > 0}
	return []any{
		string(p.OrderID), p.ShopRef, p.Attempt, string(p.MSN), string(p.Kind), p.Text, p.Phone,
		p.ReturnURL, p.AuthTokenHash, p.VippsURL, string(p.State),
		int64(p.Amounts.Authorized), int64(p.Amounts.Captured), int64(p.Amounts.Refunded),
		int64(p.Amounts.RemainingToCapture), int64(p.Amounts.RemainingToRefund),
		p.UserID, shipping, lastErr,
		toMicros(p.CreatedAt), toMicros(p.UpdatedAt), toMicros(p.SentAt), toMicros(p.NextCheckAt),
		p.LeaseOwner, toMicros(p.LeaseUntil),
		p.OrderURL, receipt, p.OpOwner, toMicros(p.OpUntil),
		p.CheckFailures, toMicros(p.CheckFailedSince), p.CheckError,
	}, nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// querier is a readPool or a writeTx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (rowSet, error)
}

func queryPayments(ctx context.Context, q querier, query string, args ...any) ([]*payment.Payment, error) {
	return queryAll(ctx, q, scanPayment, query, args...)
}

// queryAll runs query through q and reads each row with scan.
func queryAll[T any](ctx context.Context, q querier, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func scanPayment(sc scanner) (*payment.Payment, error) {
	var (
		p                                                 payment.Payment
		shipping, lastErr, receipt                        sql.NullString
		created, updated, sent, nextCheck, until, opUntil sql.NullInt64
		checkSince                                        sql.NullInt64
	)
	err := sc.Scan(&p.OrderID, &p.ShopRef, &p.Attempt, &p.MSN, &p.Kind, &p.Text, &p.Phone,
		&p.ReturnURL, &p.AuthTokenHash, &p.VippsURL, &p.State,
		&p.Amounts.Authorized, &p.Amounts.Captured, &p.Amounts.Refunded,
		&p.Amounts.RemainingToCapture, &p.Amounts.RemainingToRefund,
		&p.UserID, &shipping, &lastErr,
		&created, &updated, &sent, &nextCheck, &p.LeaseOwner, &until,
		&p.OrderURL, &receipt, &p.OpOwner, &opUntil,
		&p.CheckFailures, &checkSince, &p.CheckError, &p.Version)
	if err != nil {
		return nil, err
	}
	p.Shipping = rawJSON(shipping)
	if p.LastError, err = fromJSON[payment.VippsError](lastErr); err != nil {
		return nil, fmt.Errorf("order %s: last_error: %w", p.OrderID, err)
	}
	if p.Receipt, err = fromJSON[vipps.Receipt](receipt); err != nil {
		return nil, fmt.Errorf("order %s: receipt: %w", p.OrderID, err)
	}
	p.CreatedAt, p.UpdatedAt, p.SentAt = fromMicros(created), fromMicros(updated), fromMicros(sent)
	p.NextCheckAt, p.LeaseUntil, p.OpUntil = fromMicros(nextCheck), fromMicros(until), fromMicros(opUntil)
	p.CheckFailedSince = fromMicros(checkSince)
	return &p, nil
}

func scanOperation(sc scanner) (*payment.Operation, error) {
	var (
		op                     payment.Operation
		opErr                  sql.NullString
		created, updated, sent sql.NullInt64
	)
	err := sc.Scan(&op.ID, &op.OrderID, &op.Kind, &op.IdempotencyKey, &op.RequestID, &op.Amount, &op.Text,
		&op.ReleaseRemaining, &op.Status, &opErr, &created, &updated, &op.Sends, &sent)
	if err != nil {
		return nil, err
	}
	if op.Error, err = fromJSON[payment.VippsError](opErr); err != nil {
		return nil, fmt.Errorf("operation %d: error: %w", op.ID, err)
	}
	op.CreatedAt, op.UpdatedAt, op.SentAt = fromMicros(created), fromMicros(updated), fromMicros(sent)
	return &op, nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// toMicros is t as Unix microseconds, NULL for the zero time.
func toMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

// fromMicros is the UTC time of Unix microseconds, zero for NULL.
func fromMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}

func rawJSON(v sql.NullString) json.RawMessage {
	if !v.Valid || v.String == "" {
		return nil
	}
	return json.RawMessage(v.String)
}

func toJSON[T any](v *T) (sql.NullString, error) {
	if v == nil {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return sql.NullString{}, err
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

func fromJSON[T any](v sql.NullString) (*T, error) {
	if !v.Valid {
		return nil, nil
	}
	var t T
	if err := json.Unmarshal([]byte(v.String), &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// List returns payments newest first (CreatedAt, then OrderID, both
// descending; a payment without CreatedAt counts as the oldest), filtered
// by f. A Limit of 0 or less means 50; more than 500 means 500.
func (s *Store) List(ctx context.Context, f payment.ListFilter) ([]*payment.Payment, error) {
	where, args := listWhere(f)
	if c := f.Before; c != nil {
		if at := toMicros(c.CreatedAt); at.Valid {
			where = append(where, `(created_at IS NULL OR created_at < ? OR (created_at = ? AND order_id < ?))`)
			args = append(args, at, at, string(c.OrderID))
		} else {
			where = append(where, `(created_at IS NULL AND order_id < ?)`)
			args = append(args, string(c.OrderID))
		}
	}
	query := `SELECT ` + paymentCols + ` FROM payments`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	query += ` ORDER BY created_at DESC, order_id DESC LIMIT ?`
	args = append(args, f.PageSize())
	ps, err := queryPayments(ctx, s.r, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list payments: %w", err)
	}
	return ps, nil
}

// searchColumns are the expressions a word of ListFilter.Query is looked
// for in: the payment's own fields, and what express checkout shared.
var searchColumns = []string{
	`order_id`, `shop_ref`, `text`, `phone`,
	`json_extract(shipping, '$.userDetails.firstName')`,
	`json_extract(shipping, '$.userDetails.lastName')`,
	`json_extract(shipping, '$.userDetails.email')`,
	`json_extract(shipping, '$.userDetails.mobileNumber')`,
}

// listWhere is the conditions and arguments of f, but for its Before and
// Limit.
func listWhere(f payment.ListFilter) (where []string, args []any) {
	if f.State != "" {
		where = append(where, `state = ?`)
		args = append(args, string(f.State))
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
	for _, q := range f.Patterns() {
		var or []string
		for _, c := range searchColumns {
			or = append(or, foldFunc+`(`+c+`) LIKE ? ESCAPE '\'`)
			args = append(args, q)
		}
		where = append(where, `(`+strings.Join(or, ` OR `)+`)`)
	}
	if at := toMicros(f.CreatedFrom); at.Valid {
		where = append(where, `created_at >= ?`)
		args = append(args, at)
	}
	if at := toMicros(f.CreatedTo); at.Valid {
		where = append(where, `created_at < ?`)
		args = append(args, at)
	}
	return where, args
}

// Totals counts and sums the payments of f, but for its Before and Limit.
func (s *Store) Totals(ctx context.Context, f payment.ListFilter) (payment.Totals, error) {
	where, args := listWhere(f)
	var reached []string
	for _, st := range payment.States() {
		if payment.TotalsCountAuthorized(st) {
			reached = append(reached, `'`+string(st)+`'`)
		}
	}
	query := `SELECT count(*),
		coalesce(sum(CASE WHEN state IN (` + strings.Join(reached, `, `) + `) THEN authorized ELSE 0 END), 0),
		coalesce(sum(captured), 0), coalesce(sum(refunded), 0) FROM payments`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	var t payment.Totals
	err := s.r.QueryRowContext(ctx, query, args...).Scan(&t.Count, &t.Authorized, &t.Captured, &t.Refunded)
	if err != nil {
		return payment.Totals{}, fmt.Errorf("sqlite: totals: %w", err)
	}
	return t, nil
}

// ByUser returns the payments whose UserID is userID, oldest first; none
// for the empty userID.
func (s *Store) ByUser(ctx context.Context, userID string) ([]*payment.Payment, error) {
	ps, err := queryPayments(ctx, s.r, `SELECT `+paymentCols+` FROM payments
		WHERE user_id = ? AND user_id <> '' ORDER BY created_at, order_id`, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: payments of user %q: %w", userID, err)
	}
	return ps, nil
}

// Stats counts payments by state and tasks by kind and status.
func (s *Store) Stats(ctx context.Context) (payment.Stats, error) {
	st := payment.Stats{
		Payments: map[payment.State]int{},
		Tasks:    map[payment.TaskKind]map[payment.TaskStatus]int{},
	}
	err := func() error {
		rows, err := s.r.QueryContext(ctx, `SELECT state, count(*) FROM payments GROUP BY state`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				state payment.State
				n     int
			)
			if err := rows.Scan(&state, &n); err != nil {
				return err
			}
			st.Payments[state] = n
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = s.r.QueryContext(ctx, `SELECT kind, status, count(*) FROM tasks GROUP BY kind, status`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				kind   payment.TaskKind
				status payment.TaskStatus
				n      int
			)
			if err := rows.Scan(&kind, &status, &n); err != nil {
				return err
			}
			if st.Tasks[kind] == nil {
				st.Tasks[kind] = map[payment.TaskStatus]int{}
			}
			st.Tasks[kind][status] = n
		}
		return rows.Err()
	}()
	if err != nil {
		return payment.Stats{}, fmt.Errorf("sqlite: stats: %w", err)
	}
	return st, nil
}

// Snapshot reads the payment with its facts, events and operations in one
// statement, which is one read transaction of its own, so that they show
// one moment; or payment.ErrNotFound. The facts, events and operations
// come as JSON arrays beside the payment's columns, in one row, since a
// statement is what costs most here: three statements, or one explicit
// transaction around them, cost more (BenchmarkAnswerReads).
func (s *Store) Snapshot(ctx context.Context, id vipps.OrderID) (*payment.Snapshot, error) {
	var evJS, opJS sql.NullString
	p, err := readPayment(ctx, s.r, snapshotQuery, id, &evJS, &opJS)
	snap := &payment.Snapshot{Payment: p}
	if err == nil {
		if snap.Events, err = rowsOfJSON(evJS.String, scanEvent); err != nil {
			err = fmt.Errorf("events: %w", err)
		}
	}
	if err == nil {
		if snap.Operations, err = rowsOfJSON(opJS.String, scanOperation); err != nil {
			err = fmt.Errorf("operations: %w", err)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: snapshot of order %s: %w", id, err)
	}
	return snap, nil
}

// snapshotQuery is getQuery with the payment's events and operations as
// JSON arrays in two more columns. JSON-valued columns (data, error) go as
// strings, so that they come back byte for byte.
var snapshotQuery = `SELECT ` + paymentCols + `, ` + factsColumn + `,
		(SELECT json_group_array(json_array(seq, order_id, type, state, amount, data, at, fact))
			FROM (SELECT * FROM events WHERE order_id = ?1 ORDER BY seq)),
		(SELECT json_group_array(json_array(` + opCols + `))
			FROM (SELECT * FROM operations WHERE order_id = ?1 ORDER BY id))
		FROM payments WHERE order_id = ?1`

// rowsOfJSON reads a JSON array of rows, each a JSON array of column
// values (the events and operations columns of snapshotQuery), with the
// scan of those columns' rows.
func rowsOfJSON[T any](js string, scan func(scanner) (T, error)) ([]T, error) {
	var rows []jsonRow
	if err := json.Unmarshal([]byte(js), &rows); err != nil {
		return nil, err
	}
	out := make([]T, 0, len(rows))
	for _, r := range rows {
		v, err := scan(r)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// jsonRow is a row as a JSON array of column values; it scans as *sql.Rows
// does for the types the store scans into: a sql.Scanner gets nil, a
// string or an int64; a bool is read from SQLite's 0 or 1; anything else is
// decoded from its JSON.
type jsonRow []json.RawMessage

func (r jsonRow) Scan(dest ...any) error {
	if len(r) != len(dest) {
		return fmt.Errorf("a row of %d values, want %d", len(r), len(dest))
	}
	for i, raw := range r {
		if err := scanJSON(raw, dest[i]); err != nil {
			return fmt.Errorf("value %d: %w", i, err)
		}
	}
	return nil
}

func scanJSON(raw json.RawMessage, dest any) error {
	switch d := dest.(type) {
	case sql.Scanner:
		v, err := sqlValue(raw)
		if err != nil {
			return err
		}
		return d.Scan(v)
	case *bool:
		var n int64
		if err := json.Unmarshal(raw, &n); err != nil {
			return err
		}
		*d = n != 0
		return nil
	}
	// Strings and integers, of the store's own types too (OrderID,
	// Amount, State, ...), as json.Unmarshal would set them, without a
	// decoder per value; null leaves them as they are.
	if v := reflect.ValueOf(dest); v.Kind() == reflect.Pointer && !v.IsNil() {
		if e := v.Elem(); e.Kind() == reflect.String || e.CanInt() {
			if x, err := sqlValue(raw); err == nil {
				switch x := x.(type) {
				case nil:
					return nil
				case string:
					if e.Kind() == reflect.String {
						e.SetString(x)
						return nil
					}
				case int64:
					if e.CanInt() && !e.OverflowInt(x) {
						e.SetInt(x)
						return nil
					}
				}
			}
		}
	}
	return json.Unmarshal(raw, dest) // anything else, and every error, as json says it
}

// sqlValue is a column's value as SQLite's JSON functions write it, as
// database/sql would hand it to a sql.Scanner: nil, a string or an int64
// (the store keeps no other kinds). It reads the JSON literal directly,
// since a reader per value cost a snapshot a fifth of its time.
func sqlValue(raw json.RawMessage) (any, error) {
	switch {
	case string(raw) == "null":
		return nil, nil
	case len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"':
		if !bytes.ContainsRune(raw, '\\') {
			return string(raw[1 : len(raw)-1]), nil // nothing escaped
		}
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("value %s: want null, a string or an integer", raw)
	}
	return n, nil
}
