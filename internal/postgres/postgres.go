package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

// Store is a [payment.Store] on PostgreSQL. It is safe for concurrent use,
// also by several processes on one database.
type Store struct {
	pool pool
}

var _ payment.Store = (*Store)(nil)

// Open connects to the database at dsn (a postgres:// URL or key=value
// string, as pgx reads them), checks the connection and applies the
// migrations the database lacks. Close the store when done. A failed
// connection is one line that names the host, database and user and
// what to do, never the password.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns
	}
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if err := p.Ping(ctx); err != nil {
		p.Close()
		return nil, explainConnect(cfg, err)
	}
	s := &Store{pool: pool{p}}
	if err := s.Migrate(ctx); err != nil {
		p.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	return s, nil
}

// defaultMaxConns is the size of the connection pool unless the URL says
// pool_max_conns. pgx's own default, four on a machine of up to four
// cores, makes a service's requests queue for a connection: with 16
// payments in flight on two cores, vipps load measured 250 payments/s with
// 4 connections, 295 with 8, 305-311 with 16 and 304-308 with 32, and less
// CPU per payment the more there were, up to 16.
const defaultMaxConns = 16

// Close closes the store's connections, waiting for queries in flight.
func (s *Store) Close() { s.pool.Close() }

const paymentColumns = `order_id, shop_ref, attempt, msn, kind, text, phone, return_url,
	auth_token_hash, vipps_url, state, authorized, captured, refunded,
	remaining_to_capture, remaining_to_refund, user_id, shipping, last_error,
	created_at, updated_at, sent_at, next_check_at, lease_owner, lease_until,
	order_url, receipt, op_owner, op_until,
	check_failures, check_failed_since, check_error, version`

// paymentArgs are p's values for paymentColumns, except version.
func paymentArgs(p *payment.Payment) ([]any, error) {
	lastErr, err := errorJSON(p.LastError)
	if err != nil {
		return nil, err
	}
	receipt, err := receiptJSON(p.Receipt)
	if err != nil {
		return nil, err
	}
	a := p.Amounts
	return []any{string(p.OrderID), p.ShopRef, p.Attempt, string(p.MSN), string(p.Kind), p.Text, p.Phone, p.ReturnURL,
		p.AuthTokenHash, p.VippsURL, string(p.State), int64(a.Authorized), int64(a.Captured), int64(a.Refunded),
		int64(a.RemainingToCapture), int64(a.RemainingToRefund), p.UserID, rawJSON(p.Shipping), lastErr,
		timeArg(p.CreatedAt), timeArg(p.UpdatedAt), timeArg(p.SentAt), timeArg(p.NextCheckAt), p.LeaseOwner, timeArg(p.LeaseUntil),
		p.OrderURL, receipt, p.OpOwner, timeArg(p.OpUntil),
		p.CheckFailures, timeArg(p.CheckFailedSince), p.CheckError}, nil
}

func scanPayment(row pgx.Row) (*payment.Payment, error) {
	var (
		p                                             payment.Payment
		id, msn, kind, state                          string
		auth, capt, refd, remCapt, remRefd            int64
		shipping, lastErr, receipt                    []byte
		created, updated, sent, nextCheck, leaseUntil pgtype.Timestamptz
		opUntil, checkSince                           pgtype.Timestamptz
	)
	err := row.Scan(&id, &p.ShopRef, &p.Attempt, &msn, &kind, &p.Text, &p.Phone, &p.ReturnURL,
		&p.AuthTokenHash, &p.VippsURL, &state, &auth, &capt, &refd,
		&remCapt, &remRefd, &p.UserID, &shipping, &lastErr,
		&created, &updated, &sent, &nextCheck, &p.LeaseOwner, &leaseUntil,
		&p.OrderURL, &receipt, &p.OpOwner, &opUntil,
		&p.CheckFailures, &checkSince, &p.CheckError, &p.Version)
	if err != nil {
		return nil, err
	}
	p.OrderID, p.MSN, p.Kind, p.State = vipps.OrderID(id), vipps.MSN(msn), payment.Kind(kind), payment.State(state)
	p.Amounts = payment.Amounts{Authorized: vipps.Amount(auth), Captured: vipps.Amount(capt), Refunded: vipps.Amount(refd),
		RemainingToCapture: vipps.Amount(remCapt), RemainingToRefund: vipps.Amount(remRefd)}
	if shipping != nil {
		p.Shipping = json.RawMessage(shipping)
	}
	if p.LastError, err = parseError(lastErr); err != nil {
		return nil, err
	}
	if p.Receipt, err = parseReceipt(receipt); err != nil {
		return nil, fmt.Errorf("receipt of %s: %w", p.OrderID, err)
	}
	p.CreatedAt, p.UpdatedAt, p.SentAt = timeOf(created), timeOf(updated), timeOf(sent)
	p.NextCheckAt, p.LeaseUntil, p.OpUntil = timeOf(nextCheck), timeOf(leaseUntil), timeOf(opUntil)
	p.CheckFailedSince = timeOf(checkSince)
	return &p, nil
}

// Create stores a new payment with its first events, or fails with
// payment.ErrExists when the orderId is taken. It sets p.Version to 1, and
// increments the versions of the other attempts of its ShopRef.
// Safe to retry: a retry after success fails with ErrExists.
//
// It is one batch, one round trip (see inBatch): the payment, the other
// attempts' versions, the facts, and the events with their tasks.
func (s *Store) Create(ctx context.Context, p *payment.Payment, events ...payment.Event) error {
	args, err := paymentArgs(p)
	if err != nil {
		return fmt.Errorf("create payment %s: %w", p.OrderID, err)
	}
	idx := unstored(p)
	err = s.inBatch(ctx, func(b *pgx.Batch) {
		// RETURNING, so that a reader sees the insert's error.
		b.Queue(`INSERT INTO payments (`+paymentColumns+`)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26,$27,$28,$29,$30,$31,$32,1)
			RETURNING 1`, args...).QueryRow(func(row pgx.Row) error {
			var one int
			err := row.Scan(&one)
			if sqlState(err) == codeUniqueViolation {
				return payment.ErrExists
			}
			return err
		})
		if p.ShopRef != "" {
			// A new attempt is a change of the shop order's other
			// attempts: an update based on an older read of them is
			// made again, and sees it.
			b.Queue(`UPDATE payments SET version = version + 1
				WHERE shop_ref = $1 AND order_id <> $2`, p.ShopRef, string(p.OrderID))
		}
		queueFacts(b, p, idx)
		queueEvents(b, p.OrderID, events)
	})
	if err != nil {
		resetFacts(p, idx)
		return fmt.Errorf("create payment %s: %w", p.OrderID, err)
	}
	p.Version = 1
	return nil
}

// Get returns the payment with its facts, or payment.ErrNotFound.
func (s *Store) Get(ctx context.Context, id vipps.OrderID) (*payment.Payment, error) {
	rows, err := s.pool.Query(ctx, getQuery, string(id))
	if err != nil {
		return nil, fmt.Errorf("get payment %s: %w", id, err)
	}
	return readPayment(rows, id)
}

// getQuery reads a payment with its facts: one statement, so that the
// payment and its facts agree, and one row, the facts an array of records
// (factsColumn) beside the payment's columns.
var getQuery = `SELECT ` + paymentColumns + `, ` + factsColumn + ` FROM payments WHERE order_id = $1`

// factsColumn is the facts of the payment $1 as an array of records
// (NULL when it has none). A column rather than a join: a join repeats the
// payment's columns on every fact's row. The arrays of records of the
// one-row reads come in no promised order, and their readers sort them
// (factsOf, scanSnapshot, operationsOf): an ORDER BY in the aggregate made
// PostgreSQL sort each array, a sixth of the snapshot statement's time.
const factsColumn = `(SELECT array_agg(row(` + factColumns + `)) FROM facts WHERE order_id = $1)`

// readPayment reads the row of getQuery, and closes the rows.
func readPayment(rows pgx.Rows, id vipps.OrderID) (*payment.Payment, error) {
	p, err := readOne(rows, func(row pgx.Row) (*payment.Payment, error) { return scanWithFacts(row) })
	if err != nil {
		return nil, fmt.Errorf("get payment %s: %w", id, err)
	}
	return p, nil
}

// scanWithFacts scans a row of getQuery, or of a query with more columns
// after the facts into more: the payment with its facts.
func scanWithFacts(row pgx.Row, more ...any) (*payment.Payment, error) {
	var facts []factRecord
	p, err := scanPayment(withMore{row, append([]any{&facts}, more...)})
	if err != nil {
		return nil, err
	}
	p.Facts = factsOf(p.OrderID, facts)
	return p, nil
}

// GetPending returns the payment with its facts and its pending
// operations, in one statement, or payment.ErrNotFound.
func (s *Store) GetPending(ctx context.Context, id vipps.OrderID) (*payment.Payment, []*payment.Operation, error) {
	var pending []*payment.Operation
	rows, err := s.pool.Query(ctx, getPendingQuery, string(id))
	if err == nil {
		var p *payment.Payment
		p, err = readOne(rows, func(row pgx.Row) (*payment.Payment, error) {
			var ops []operationRecord
			p, err := scanWithFacts(row, &ops)
			if err == nil {
				pending, err = operationsOf(ops)
			}
			return p, err
		})
		if err == nil {
			return p, pending, nil
		}
	}
	return nil, nil, fmt.Errorf("get payment %s: %w", id, err)
}

// getPendingQuery is getQuery with the payment's pending operations as an
// array of records in one more column.
var getPendingQuery = `SELECT ` + paymentColumns + `, ` + factsColumn + `,
		(SELECT array_agg(row(` + operationColumns + `)) FROM operations
			WHERE order_id = $1 AND status = 'pending')
		FROM payments WHERE order_id = $1`

// readOne reads the one row a query about a payment answers with, or
// payment.ErrNotFound when there is none, and closes the rows.
func readOne[T any](rows pgx.Rows, scan func(pgx.Row) (T, error)) (T, error) {
	defer rows.Close()
	var v T
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return v, err
		}
		return v, payment.ErrNotFound
	}
	v, err := scan(rows)
	if err != nil {
		return v, err
	}
	rows.Close()
	return v, rows.Err()
}

// factColumns are the columns of facts that factRecord reads.
const factColumns = `seq, operation, success, amount, transaction_id, request_id, at, source, seen_at`

// factRecord is a fact as read, one record of factsColumn. Its fields are
// exported so that pgx can scan a record into it, field by field.
type factRecord struct {
	Seq           int64
	Operation     string
	Success       bool
	Amount        int64
	TransactionID string
	RequestID     string
	At            pgtype.Timestamptz
	Source        string
	SeenAt        pgtype.Timestamptz
}

// factsOf makes the facts of the payment id of their records; nil for
// none, as a new payment has.
func factsOf(id vipps.OrderID, recs []factRecord) []payment.Fact {
	if len(recs) == 0 {
		return nil
	}
	slices.SortFunc(recs, func(a, b factRecord) int { return cmp.Compare(a.Seq, b.Seq) })
	facts := make([]payment.Fact, len(recs))
	for i, f := range recs {
		facts[i] = payment.Fact{Seq: f.Seq, OrderID: id, Operation: vipps.Operation(f.Operation), Success: f.Success,
			Amount: vipps.Amount(f.Amount), TransactionID: f.TransactionID, RequestID: f.RequestID,
			At: timeOf(f.At), Source: f.Source, SeenAt: timeOf(f.SeenAt)}
	}
	return facts
}

// withMore scans a row into the destinations given and then more.
type withMore struct {
	row  pgx.Row
	more []any
}

func (w withMore) Scan(dest ...any) error { return w.row.Scan(append(dest, w.more...)...) }

// unstored returns the indexes of p's facts that have no Seq yet.
func unstored(p *payment.Payment) []int {
	var idx []int
	for i := range p.Facts {
		if p.Facts[i].Seq == 0 {
			idx = append(idx, i)
		}
	}
	return idx
}

// queueFacts queues the inserts of p's facts at idx, which set their
// OrderID, and whose results set their Seq; the caller computes idx once,
// before any attempt. A fact that is stored already is a conflict: p was
// read before it was.
func queueFacts(b *pgx.Batch, p *payment.Payment, idx []int) {
	for _, i := range idx {
		f := &p.Facts[i]
		f.OrderID = p.OrderID
		b.Queue(insertFact, factArgs(f)...).QueryRow(func(row pgx.Row) error {
			err := row.Scan(&f.Seq)
			if sqlState(err) == codeUniqueViolation {
				return fmt.Errorf("fact %s is stored already: %w", f.Key(), payment.ErrConflict)
			}
			if err != nil {
				return fmt.Errorf("fact %s: %w", f.Key(), err)
			}
			return nil
		})
	}
}

// resetFacts undoes the Seq that a failed batch gave p's facts at idx.
func resetFacts(p *payment.Payment, idx []int) {
	for _, i := range idx {
		p.Facts[i].Seq = 0
	}
}

// Attempts returns the payments of a shop order reference, oldest attempt
// first.
func (s *Store) Attempts(ctx context.Context, shopRef string) ([]*payment.Payment, error) {
	ps, err := queryPayments(ctx, s.pool, `SELECT `+paymentColumns+` FROM payments WHERE shop_ref = $1
		ORDER BY attempt, created_at, order_id`, shopRef)
	if err != nil {
		return nil, fmt.Errorf("attempts of %q: %w", shopRef, err)
	}
	return ps, nil
}

// TokenHash returns the payment's callback token hash, or
// payment.ErrNotFound.
func (s *Store) TokenHash(ctx context.Context, id vipps.OrderID) (string, error) {
	var h string
	err := s.pool.QueryRow(ctx, `SELECT auth_token_hash FROM payments WHERE order_id = $1`, string(id)).Scan(&h)
	if errors.Is(err, pgx.ErrNoRows) {
		err = payment.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("token of order %s: %w", id, err)
	}
	return h, nil
}

// querier is what a pool and a transaction share.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func queryPayments(ctx context.Context, q querier, sql string, args ...any) ([]*payment.Payment, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*payment.Payment, error) { return scanPayment(r) })
}

// Update stores p if the stored version is still p.Version, appends events
// and increments p.Version. It fails with payment.ErrConflict when the row
// changed since p was read, and payment.ErrNotFound when there is no such
// payment. Not safe to retry blindly: read the payment again first.
//
// It is one batch, one round trip (see inBatch): the compare-and-set, the
// facts, and the events with their tasks.
func (s *Store) Update(ctx context.Context, p *payment.Payment, events ...payment.Event) error {
	args, err := paymentArgs(p)
	if err != nil {
		return fmt.Errorf("update payment %s: %w", p.OrderID, err)
	}
	idx := unstored(p)
	err = s.inBatch(ctx, func(b *pgx.Batch) { queueUpdate(b, p, args, idx, events) })
	if err != nil {
		resetFacts(p, idx)
		return fmt.Errorf("update payment %s: %w", p.OrderID, err)
	}
	p.Version++
	return nil
}

// queueUpdate queues Update's statements, with args the payment's
// paymentArgs and idx its unstored facts; it does not increment
// p.Version. The compare-and-set fails its statement, and so the batch,
// when it changes nothing, saying whether the payment exists, so that the
// facts and events after it are not stored and nothing need be asked
// after.
func queueUpdate(b *pgx.Batch, p *payment.Payment, args []any, idx []int, events []payment.Event) {
	b.Queue(`WITH u AS (UPDATE payments SET
		shop_ref = $2, attempt = $3, msn = $4, kind = $5, text = $6, phone = $7, return_url = $8,
		auth_token_hash = $9, vipps_url = $10, state = $11, authorized = $12, captured = $13, refunded = $14,
		remaining_to_capture = $15, remaining_to_refund = $16, user_id = $17, shipping = $18, last_error = $19,
		created_at = $20, updated_at = $21, sent_at = $22, next_check_at = $23, lease_owner = $24, lease_until = $25,
		order_url = $26, receipt = $27, op_owner = $28, op_until = $29,
		check_failures = $30, check_failed_since = $31, check_error = $32, version = version + 1
		WHERE order_id = $1 AND version = $33 RETURNING 1)
		SELECT CASE
			WHEN EXISTS (SELECT 1 FROM u) THEN 1
			WHEN EXISTS (SELECT 1 FROM payments WHERE order_id = $1)
				THEN vipps_fail('`+codeConflict+`', 'version ' || $33 || ' is not the stored one')
			ELSE vipps_fail('`+codeNotFound+`', 'no such payment')
		END`, append(args, p.Version)...).QueryRow(scanOne)
	queueFacts(b, p, idx)
	queueEvents(b, p.OrderID, events)
}

// scanOne reads the row of a statement that checks a condition: the
// condition held if it has a row, and a statement that fails with
// vipps_fail is the sentinel error it stands for.
func scanOne(row pgx.Row) error {
	var one int64
	return storeError(row.Scan(&one))
}

// insertFact inserts a fact and returns its Seq; factArgs are its
// arguments.
const insertFact = `INSERT INTO facts (order_id, operation, success, amount, transaction_id, request_id, at, source, seen_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING seq`

func factArgs(f *payment.Fact) []any {
	return []any{string(f.OrderID), string(f.Operation), f.Success, int64(f.Amount), f.TransactionID, f.RequestID,
		timeArg(f.At), f.Source, timeArg(f.SeenAt)}
}

// insertEvent inserts an event and returns its Seq; eventArgs are its
// arguments.
const insertEvent = `INSERT INTO events (order_id, type, state, amount, data, at, fact)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq`

func eventArgs(e *payment.Event) []any {
	return []any{string(e.OrderID), string(e.Type), string(e.State), int64(e.Amount), rawJSON(e.Data), timeArg(e.At), e.Fact}
}

// queueEvents queues the inserts of events of the payment id, with their
// tasks, which set their OrderID, and whose results set their Seq.
func queueEvents(b *pgx.Batch, id vipps.OrderID, events []payment.Event) {
	for i := range events {
		e := &events[i]
		e.OrderID = id
		// An event and its tasks are one statement: the tasks need the
		// event's Seq.
		sql, args := insertEvent, eventArgs(e)
		if len(e.Tasks) > 0 {
			sql, args = insertEventWithTasks, append(args, taskArgs(e)...)
		}
		b.Queue(sql, args...).QueryRow(func(row pgx.Row) error {
			err := row.Scan(&e.Seq)
			if sqlState(err) == codeUniqueViolation {
				return fmt.Errorf("event %s of fact %s is stored already: %w", e.Type, e.Fact, payment.ErrConflict)
			}
			if err != nil {
				return fmt.Errorf("event %s: %w", e.Type, err)
			}
			return nil
		})
	}
}

// Events returns the payment's history, oldest first.
func (s *Store) Events(ctx context.Context, id vipps.OrderID) ([]payment.Event, error) {
	rows, err := s.pool.Query(ctx, eventsQuery, string(id))
	if err != nil {
		return nil, fmt.Errorf("events of %s: %w", id, err)
	}
	return readEvents(rows, id)
}

// eventsQuery reads a payment's events.
const eventsQuery = `SELECT ` + eventColumns + ` FROM events WHERE order_id = $1 ORDER BY seq`

// eventColumns are the columns of events that eventRecord reads.
const eventColumns = `seq, order_id, type, state, amount, data, at, fact`

// eventRecord is an event as read: a row of eventsQuery or a record of
// the snapshot's events. Its fields are exported, in the order of
// eventColumns, so that pgx can scan a record into it.
type eventRecord struct {
	Seq     int64
	OrderID string
	Type    string
	State   string
	Amount  int64
	Data    []byte
	At      pgtype.Timestamptz
	Fact    string
}

func (r *eventRecord) dest() []any {
	return []any{&r.Seq, &r.OrderID, &r.Type, &r.State, &r.Amount, &r.Data, &r.At, &r.Fact}
}

func (r *eventRecord) event() payment.Event {
	e := payment.Event{Seq: r.Seq, OrderID: vipps.OrderID(r.OrderID), Type: payment.EventType(r.Type),
		State: payment.State(r.State), Amount: vipps.Amount(r.Amount), At: timeOf(r.At), Fact: r.Fact}
	if r.Data != nil {
		e.Data = json.RawMessage(r.Data)
	}
	return e
}

// readEvents reads the rows of eventsQuery, and closes them.
func readEvents(rows pgx.Rows, id vipps.OrderID) ([]payment.Event, error) {
	events, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (payment.Event, error) {
		var rec eventRecord
		err := r.Scan(rec.dest()...)
		return rec.event(), err
	})
	if err != nil {
		return nil, fmt.Errorf("events of %s: %w", id, err)
	}
	return events, nil
}

// Lease takes up to limit payments whose NextCheckAt is due at now and whose
// lease is free or expired (LeaseUntil before now), leases them to owner
// until now+ttl and returns them, earliest due first. Several replicas may
// lease at once: each due payment goes to one of them. A lease increments
// the payment's Version.
func (s *Store) Lease(ctx context.Context, owner string, now time.Time, ttl time.Duration, limit int) ([]*payment.Payment, error) {
	if limit <= 0 {
		return nil, nil
	}
	// One statement, its own transaction: one round trip.
	var ps []*payment.Payment
	err := s.inBatch(ctx, func(b *pgx.Batch) {
		b.Queue(`WITH due AS (
				SELECT order_id FROM payments
				WHERE next_check_at IS NOT NULL AND next_check_at <= $1
					AND (lease_until IS NULL OR lease_until < $1)
				ORDER BY next_check_at, order_id
				LIMIT $2
				FOR UPDATE SKIP LOCKED
			)
			UPDATE payments AS p SET lease_owner = $3, lease_until = $4, version = p.version + 1
			FROM due WHERE p.order_id = due.order_id
			RETURNING `+qualified("p", paymentColumns),
			now.UTC(), limit, owner, now.Add(ttl).UTC()).Query(func(rows pgx.Rows) error {
			var err error
			ps, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*payment.Payment, error) { return scanPayment(r) })
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("lease for %s: %w", owner, err)
	}
	payment.SortLeased(ps)
	return ps, nil
}

const operationColumns = `id, order_id, kind, idempotency_key, request_id, amount, text,
	release_remaining, status, error, created_at, updated_at, sends, sent_at`

func scanOperation(row pgx.Row) (*payment.Operation, error) {
	var rec operationRecord
	if err := row.Scan(rec.dest()...); err != nil {
		return nil, err
	}
	return rec.operation()
}

// operationRecord is an operation as read: a row of operationColumns or a
// record of the snapshot's operations. Its fields are exported, in the
// order of operationColumns, so that pgx can scan a record into it.
type operationRecord struct {
	ID               int64
	OrderID          string
	Kind             string
	IdempotencyKey   string
	RequestID        string
	Amount           int64
	Text             string
	ReleaseRemaining bool
	Status           string
	Error            []byte
	CreatedAt        pgtype.Timestamptz
	UpdatedAt        pgtype.Timestamptz
	Sends            int32
	SentAt           pgtype.Timestamptz
}

func (r *operationRecord) dest() []any {
	return []any{&r.ID, &r.OrderID, &r.Kind, &r.IdempotencyKey, &r.RequestID, &r.Amount, &r.Text,
		&r.ReleaseRemaining, &r.Status, &r.Error, &r.CreatedAt, &r.UpdatedAt, &r.Sends, &r.SentAt}
}

func (r *operationRecord) operation() (*payment.Operation, error) {
	opErr, err := parseError(r.Error)
	if err != nil {
		return nil, err
	}
	return &payment.Operation{ID: r.ID, OrderID: vipps.OrderID(r.OrderID), Kind: payment.OpKind(r.Kind),
		IdempotencyKey: r.IdempotencyKey, RequestID: r.RequestID, Amount: vipps.Amount(r.Amount), Text: r.Text,
		ReleaseRemaining: r.ReleaseRemaining, Status: payment.OpStatus(r.Status), Error: opErr,
		CreatedAt: timeOf(r.CreatedAt), UpdatedAt: timeOf(r.UpdatedAt), Sends: int(r.Sends), SentAt: timeOf(r.SentAt)}, nil
}

// AddOperation stores op as pending, setting op.ID and op.Status, and
// appends events. In the same transaction it makes the payment due for a
// check no later than op.CreatedAt+payment.OpResumeAfter and increments its
// version. When the payment already has an operation of that kind with that
// idempotency key, it returns that one and payment.ErrExists, and changes
// nothing; when there is no such payment, payment.ErrNotFound. Safe to
// retry.
//
// It is one batch, one round trip (see inBatch), and one more to read the
// operation that exists.
func (s *Store) AddOperation(ctx context.Context, op *payment.Operation, claim *payment.Claim, events ...payment.Event) (*payment.Operation, error) {
	opErr, err := errorJSON(op.Error)
	if err != nil {
		return nil, fmt.Errorf("add %s operation to %s: %w", op.Kind, op.OrderID, err)
	}
	var (
		id    int64
		sends int
	)
	err = s.inBatch(ctx, func(b *pgx.Batch) {
		// The claim and the insert are one statement, so that the insert
		// knows whether the claim was granted: both see the operations as
		// they were before it, without op. An operation that exists
		// fails the insert, and the batch, with a unique violation; no
		// payment, with a foreign key violation.
		args := []any{string(op.OrderID), string(op.Kind), op.IdempotencyKey, op.RequestID, int64(op.Amount), op.Text,
			op.ReleaseRemaining, string(payment.OpPending), opErr, timeArg(op.CreatedAt), timeArg(op.UpdatedAt)}
		sql := insertOperation
		if claim != nil {
			sql = insertClaimedOperation
			args = append(args, claim.Version, claim.Owner, claim.Until.UTC(), op.CreatedAt.UTC())
		}
		b.Queue(sql, args...).QueryRow(func(row pgx.Row) error {
			err := row.Scan(&id, &sends)
			switch sqlState(err) {
			case codeUniqueViolation:
				return payment.ErrExists
			case codeForeignKeyViolation:
				return payment.ErrNotFound
			}
			return err
		})
		// Due for a check no later than when the operation may be resumed;
		// a change of the payment, so an update based on an older read
		// cannot undo it.
		b.Queue(`UPDATE payments SET next_check_at = LEAST(next_check_at, $2), version = version + 1
			WHERE order_id = $1`, string(op.OrderID), op.CreatedAt.Add(payment.OpResumeAfter).UTC())
		queueEvents(b, op.OrderID, events)
	})
	if errors.Is(err, payment.ErrExists) {
		existing, err := scanOperation(s.pool.QueryRow(ctx, `SELECT `+operationColumns+` FROM operations
			WHERE order_id = $1 AND kind = $2 AND idempotency_key = $3`, string(op.OrderID), string(op.Kind), op.IdempotencyKey))
		if err != nil {
			return nil, fmt.Errorf("add %s operation %q to %s: read the one that exists: %w", op.Kind, op.IdempotencyKey, op.OrderID, err)
		}
		return existing, fmt.Errorf("add %s operation %q to %s: %w", op.Kind, op.IdempotencyKey, op.OrderID, payment.ErrExists)
	}
	if err != nil {
		return nil, fmt.Errorf("add %s operation to %s: %w", op.Kind, op.OrderID, err)
	}
	op.ID, op.Status = id, payment.OpPending
	if sends > 0 {
		op.Sends, op.SentAt = sends, op.CreatedAt
	}
	return op, nil
}

// insertOperation inserts a pending operation, never sent, and returns its
// id and sends (0).
const insertOperation = `INSERT INTO operations (order_id, kind, idempotency_key, request_id, amount, text,
		release_remaining, status, error, created_at, updated_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
	RETURNING id, sends`

// insertClaimedOperation is insertOperation with a claim on the payment
// for sending it at once ($12 the version the claim is based on, $13 the
// owner, $14 until when, $15 the operation's creation): granted, with the
// payment's version incremented and the send counted (sends 1, sent at
// its creation), if the payment is still at that version, no other
// operation of it is pending and no other claim holds.
const insertClaimedOperation = `WITH c AS (UPDATE payments SET op_owner = $13, op_until = $14, version = version + 1
		WHERE order_id = $1 AND version = $12 AND (op_owner = '' OR op_until IS NULL OR op_until < $15)
			AND NOT EXISTS (SELECT 1 FROM operations WHERE order_id = $1 AND status = 'pending')
		RETURNING 1)
	INSERT INTO operations (order_id, kind, idempotency_key, request_id, amount, text,
		release_remaining, status, error, created_at, updated_at, sends, sent_at)
	SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, claimed.n, CASE WHEN claimed.n > 0 THEN $15::timestamptz END
	FROM (SELECT count(*)::integer AS n FROM c) AS claimed
	RETURNING id, sends`

// UpdateOperation stores op's status, error, sends and times and, as
// Update does, p with its new facts and events, in one transaction, if op
// is still pending as stored (else payment.ErrConflict).
//
// It is one batch, one round trip (see inBatch): the operation's
// compare-and-set, and then Update's statements.
func (s *Store) UpdateOperation(ctx context.Context, op *payment.Operation, p *payment.Payment, events ...payment.Event) error {
	if op.OrderID != p.OrderID {
		return fmt.Errorf("update operation %d: operation of order %s, payment %s: want one order", op.ID, op.OrderID, p.OrderID)
	}
	opErr, err := errorJSON(op.Error)
	if err != nil {
		return fmt.Errorf("update operation %d: %w", op.ID, err)
	}
	args, err := paymentArgs(p)
	if err != nil {
		return fmt.Errorf("update operation %d: %w", op.ID, err)
	}
	idx := unstored(p)
	err = s.inBatch(ctx, func(b *pgx.Batch) {
		b.Queue(`WITH u AS (UPDATE operations SET status = $3, error = $4, sends = $5, sent_at = $6, updated_at = $7
				WHERE id = $1 AND order_id = $2 AND status = 'pending' RETURNING 1)
			SELECT CASE
				WHEN EXISTS (SELECT 1 FROM u) THEN 1
				WHEN o.status IS NULL THEN vipps_fail('`+codeNotFound+`', 'no such operation')
				ELSE vipps_fail('`+codeConflict+`', 'operation is ' || o.status || ', not pending')
			END
			FROM (SELECT (SELECT status FROM operations WHERE id = $1 AND order_id = $2) AS status) AS o`,
			op.ID, string(op.OrderID), string(op.Status), opErr, op.Sends, timeArg(op.SentAt), timeArg(op.UpdatedAt)).QueryRow(scanOne)
		queueUpdate(b, p, args, idx, events)
	})
	if err != nil {
		resetFacts(p, idx)
		return fmt.Errorf("update operation %d of payment %s: %w", op.ID, p.OrderID, err)
	}
	p.Version++
	return nil
}

// Operations returns the payment's operations, oldest first; with
// pendingOnly, only those still pending.
func (s *Store) Operations(ctx context.Context, id vipps.OrderID, pendingOnly bool) ([]*payment.Operation, error) {
	rows, err := s.pool.Query(ctx, operationsQuery, string(id), pendingOnly)
	if err != nil {
		return nil, fmt.Errorf("operations of %s: %w", id, err)
	}
	return readOperations(rows, id)
}

// operationsQuery reads a payment's operations ($2: pending ones only).
const operationsQuery = `SELECT ` + operationColumns + ` FROM operations
		WHERE order_id = $1 AND (NOT $2 OR status = 'pending') ORDER BY id`

// readOperations reads the rows of operationsQuery, and closes them.
func readOperations(rows pgx.Rows, id vipps.OrderID) ([]*payment.Operation, error) {
	ops, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*payment.Operation, error) { return scanOperation(r) })
	if err != nil {
		return nil, fmt.Errorf("operations of %s: %w", id, err)
	}
	return ops, nil
}

// Snapshot reads the payment with its facts, events and operations in one
// statement, so that they show one moment (a statement sees one snapshot
// of the database, whatever the isolation level), and in one row: the
// facts, events and operations are arrays of records beside the payment's
// columns. ErrNotFound for an unknown payment.
func (s *Store) Snapshot(ctx context.Context, id vipps.OrderID) (*payment.Snapshot, error) {
	rows, err := s.pool.Query(ctx, snapshotQuery, string(id))
	if err == nil {
		var snap *payment.Snapshot
		if snap, err = readOne(rows, scanSnapshot); err == nil {
			return snap, nil
		}
	}
	return nil, fmt.Errorf("snapshot of %s: %w", id, err)
}

// snapshotQuery is getQuery with the payment's events and operations as
// arrays of records in two more columns.
var snapshotQuery = `SELECT ` + paymentColumns + `, ` + factsColumn + `,
		(SELECT array_agg(row(` + eventColumns + `)) FROM events WHERE order_id = $1),
		(SELECT array_agg(row(` + operationColumns + `)) FROM operations WHERE order_id = $1)
		FROM payments WHERE order_id = $1`

// scanSnapshot reads a row of snapshotQuery.
func scanSnapshot(row pgx.Row) (*payment.Snapshot, error) {
	var (
		events []eventRecord
		ops    []operationRecord
	)
	p, err := scanWithFacts(row, &events, &ops)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(events, func(a, b eventRecord) int { return cmp.Compare(a.Seq, b.Seq) })
	snap := &payment.Snapshot{Payment: p, Events: make([]payment.Event, len(events))}
	for i := range events {
		snap.Events[i] = events[i].event()
	}
	if snap.Operations, err = operationsOf(ops); err != nil {
		return nil, err
	}
	return snap, nil
}

// operationsOf makes the operations of their records.
func operationsOf(recs []operationRecord) ([]*payment.Operation, error) {
	slices.SortFunc(recs, func(a, b operationRecord) int { return cmp.Compare(a.ID, b.ID) })
	ops := make([]*payment.Operation, len(recs))
	for i := range recs {
		var err error
		if ops[i], err = recs[i].operation(); err != nil {
			return nil, fmt.Errorf("operation %d: %w", recs[i].ID, err)
		}
	}
	return ops, nil
}
