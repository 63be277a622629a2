package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

const taskColumns = `id, kind, order_id, event_seq, payload, status, attempts,
	next_attempt_at, last_error, lease_owner, lease_until, created_at, updated_at`

// insertEventWithTasks is insertEvent that also queues the event's tasks
// ($8 kinds, $9 payloads, $10 due times, $11 the pending status): never
// attempted, due at their time or else at the event's, in the order given
// (ids follow the ordinality). It returns the event's Seq.
const insertEventWithTasks = `WITH e AS (INSERT INTO events (order_id, type, state, amount, data, at, fact)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq, order_id, at),
	t AS (INSERT INTO tasks (kind, order_id, event_seq, payload, status, attempts,
			next_attempt_at, created_at, updated_at)
		SELECT x.kind, e.order_id, e.seq, x.payload, $11, 0, coalesce(x.next, e.at), e.at, e.at
		FROM e, unnest($8::text[], $9::json[], $10::timestamptz[]) WITH ORDINALITY AS x(kind, payload, next, n)
		ORDER BY x.n)
	SELECT seq FROM e`

// taskArgs are the arguments of insertEventWithTasks after eventArgs: e's
// tasks as arrays.
func taskArgs(e *payment.Event) []any {
	kinds := make([]string, len(e.Tasks))
	payloads := make([][]byte, len(e.Tasks))
	next := make([]pgtype.Timestamptz, len(e.Tasks))
	for i, t := range e.Tasks {
		kinds[i] = string(t.Kind)
		if len(t.Payload) > 0 {
			payloads[i] = t.Payload
		}
		next[i] = pgtype.Timestamptz{Time: t.NextAttemptAt.UTC(), Valid: !t.NextAttemptAt.IsZero()}
	}
	return []any{kinds, payloads, next, string(payment.TaskPending)}
}

// scanTask reads the taskColumns of a row, and then into more, if any.
func scanTask(row pgx.Row, more ...any) (*payment.Task, error) {
	var (
		t                                  payment.Task
		kind, oid, status                  string
		payload                            []byte
		next, leaseUntil, created, updated pgtype.Timestamptz
	)
	dest := append([]any{&t.ID, &kind, &oid, &t.EventSeq, &payload, &status, &t.Attempts,
		&next, &t.LastError, &t.LeaseOwner, &leaseUntil, &created, &updated}, more...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	t.Kind, t.OrderID, t.Status = payment.TaskKind(kind), vipps.OrderID(oid), payment.TaskStatus(status)
	if payload != nil {
		t.Payload = json.RawMessage(payload)
	}
	t.NextAttemptAt, t.LeaseUntil = timeOf(next), timeOf(leaseUntil)
	t.CreatedAt, t.UpdatedAt = timeOf(created), timeOf(updated)
	return &t, nil
}

// LeaseTasks takes up to limit pending tasks due at now (a task without
// NextAttemptAt is due at once) whose lease is free or ended before now,
// and leases them to owner until now+ttl; it returns them oldest
// NextAttemptAt first. Several replicas may lease at once: each task goes
// to one of them.
func (s *Store) LeaseTasks(ctx context.Context, owner string, now time.Time, ttl time.Duration, limit int) ([]*payment.Task, error) {
	if limit <= 0 {
		return nil, nil
	}
	// One statement, its own transaction: one round trip.
	var ts []*payment.Task
	err := s.inBatch(ctx, func(b *pgx.Batch) {
		b.Queue(`WITH due AS (
				SELECT id FROM tasks
				WHERE status = 'pending'
					AND (next_attempt_at IS NULL OR next_attempt_at <= $1)
					AND (lease_until IS NULL OR lease_until < $1)
				ORDER BY next_attempt_at NULLS FIRST, id
				LIMIT $2
				FOR UPDATE SKIP LOCKED
			)
			UPDATE tasks AS t SET lease_owner = $3, lease_until = $4
			FROM due WHERE t.id = due.id
			RETURNING `+qualified("t", taskColumns),
			now.UTC(), limit, owner, now.Add(ttl).UTC()).Query(func(rows pgx.Rows) error {
			var err error
			ts, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*payment.Task, error) { return scanTask(r) })
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("lease tasks for %s: %w", owner, err)
	}
	payment.SortLeasedTasks(ts)
	return ts, nil
}

// UpdateTask stores the task's Status, Attempts, NextAttemptAt and
// LastError, frees its lease, and appends attempt (if not nil) to its log,
// in one transaction. It sets UpdatedAt, stored and in t, to attempt.At, or
// to the current time without an attempt, and clears t's lease. It fails
// with payment.ErrNotFound for an unknown task. Not safe to retry with an
// attempt: the log would have it twice.
func (s *Store) UpdateTask(ctx context.Context, t *payment.Task, attempt *payment.TaskAttempt) error {
	now := payment.TaskUpdatedAt(attempt)
	var a payment.TaskAttempt
	if attempt != nil {
		a = *attempt
	}
	// One statement, its own transaction: the attempt is logged only if
	// the task was updated, and the count says whether it was.
	err := s.inBatch(ctx, func(b *pgx.Batch) {
		b.Queue(`WITH u AS (UPDATE tasks SET status = $2, attempts = $3, next_attempt_at = $4,
				last_error = $5, lease_owner = '', lease_until = NULL, updated_at = $6
				WHERE id = $1 RETURNING id),
			a AS (INSERT INTO task_attempts (task_id, at, duration_us, status_code, error)
				SELECT id, $8, $9, $10, $11 FROM u WHERE $7)
			SELECT count(*) FROM u`,
			t.ID, string(t.Status), t.Attempts, timeArg(t.NextAttemptAt), t.LastError, timeArg(now),
			attempt != nil, timeArg(a.At), a.Duration.Microseconds(), a.StatusCode, a.Error).QueryRow(func(row pgx.Row) error {
			var n int64
			if err := row.Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return payment.ErrNotFound
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("update task %d: %w", t.ID, err)
	}
	t.UpdatedAt, t.LeaseOwner, t.LeaseUntil = now, "", time.Time{}
	return nil
}

// RetryTask makes a task pending and due at now again, with its lease
// freed, keeping its attempts, last error and log. It fails with
// payment.ErrNotFound for an unknown task. Safe to retry.
func (s *Store) RetryTask(ctx context.Context, id int64, now time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE tasks SET status = $2, next_attempt_at = $3,
		lease_owner = '', lease_until = NULL, updated_at = $3
		WHERE id = $1`, id, string(payment.TaskPending), timeArg(now))
	if err == nil && tag.RowsAffected() == 0 {
		err = payment.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("retry task %d: %w", id, err)
	}
	return nil
}

// Tasks returns the payment's tasks, oldest first, each with its log,
// oldest attempt first; none for an unknown payment. Safe to retry.
func (s *Store) Tasks(ctx context.Context, id vipps.OrderID) ([]*payment.Task, error) {
	// One query, so that tasks and logs are of one snapshot.
	rows, err := s.pool.Query(ctx, `SELECT `+qualified("t", taskColumns)+`,
			a.id, a.at, a.duration_us, a.status_code, a.error
		FROM tasks AS t LEFT JOIN task_attempts AS a ON a.task_id = t.id
		WHERE t.order_id = $1
		ORDER BY t.id, a.id`, string(id))
	if err != nil {
		return nil, fmt.Errorf("tasks of %s: %w", id, err)
	}
	var ts []*payment.Task
	_, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (struct{}, error) {
		var (
			attemptID, durationUS pgtype.Int8
			at                    pgtype.Timestamptz
			statusCode            pgtype.Int4
			errText               pgtype.Text
		)
		t, err := scanTask(r, &attemptID, &at, &durationUS, &statusCode, &errText)
		if err != nil {
			return struct{}{}, err
		}
		var attempt *payment.TaskAttempt
		if attemptID.Valid {
			attempt = &payment.TaskAttempt{
				At:         timeOf(at),
				Duration:   time.Duration(durationUS.Int64) * time.Microsecond,
				StatusCode: int(statusCode.Int32),
				Error:      errText.String,
			}
		}
		ts = payment.AppendTaskRow(ts, t, attempt)
		return struct{}{}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("tasks of %s: %w", id, err)
	}
	return ts, nil
}
