package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

// taskCols are the columns of tasks in the order scanTask reads.
const taskCols = `id, kind, order_id, event_seq, payload, status, attempts,
	next_attempt_at, last_error, lease_owner, lease_until, created_at, updated_at`

// addTasks queues the tasks of event e, stored as seq, of the payment id:
// pending, never attempted, due at their NextAttemptAt or else at e.At.
func addTasks(ctx context.Context, tx writeTx, id vipps.OrderID, seq int64, e payment.Event) error {
	for _, t := range e.Tasks {
		next := t.NextAttemptAt
		if next.IsZero() {
			next = e.At
		}
		payload := sql.NullString{String: string(t.Payload), Valid: len(t.Payload) > 0}
		if _, err := tx.ExecContext(ctx, `INSERT INTO tasks (kind, order_id, event_seq, payload, status, attempts,
				next_attempt_at, last_error, lease_owner, lease_until, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 0, ?, '', '', NULL, ?, ?)`,
			string(t.Kind), string(id), seq, payload, string(payment.TaskPending),
			toMicros(next), toMicros(e.At), toMicros(e.At)); err != nil {
			return fmt.Errorf("task %s: %w", t.Kind, err)
		}
	}
	return nil
}

// LeaseTasks takes up to limit pending tasks due at now (a task without
// NextAttemptAt is due at once) whose lease is free or ended before now,
// oldest NextAttemptAt first, and leases them to owner until now+ttl.
func (s *Store) LeaseTasks(ctx context.Context, owner string, now time.Time, ttl time.Duration, limit int) ([]*payment.Task, error) {
	if limit <= 0 {
		return nil, nil
	}
	var ts []*payment.Task
	err := s.tx(ctx, func(tx writeTx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE tasks SET lease_owner = ?1, lease_until = ?2
			WHERE id IN (
				SELECT id FROM tasks
				WHERE status = 'pending'
					AND (next_attempt_at IS NULL OR next_attempt_at <= ?3)
					AND (lease_until IS NULL OR lease_until < ?3)
				ORDER BY next_attempt_at, id
				LIMIT ?4)
			RETURNING `+taskCols,
			owner, toMicros(now.Add(ttl)), toMicros(now), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanTask(rows)
			if err != nil {
				return err
			}
			ts = append(ts, t)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: lease tasks for %s: %w", owner, err)
	}
	payment.SortLeasedTasks(ts)
	return ts, nil
}

// UpdateTask stores the task's Status, Attempts, NextAttemptAt and
// LastError, frees its lease, and appends attempt (if not nil) to its log,
// in one transaction. It sets UpdatedAt, stored and in t, to attempt.At, or
// to the current time without an attempt, and clears t's lease. It fails
// with payment.ErrNotFound for an unknown task.
func (s *Store) UpdateTask(ctx context.Context, t *payment.Task, attempt *payment.TaskAttempt) error {
	now := payment.TaskUpdatedAt(attempt)
	err := s.tx(ctx, func(tx writeTx) error {
		err := execOne(ctx, tx, `UPDATE tasks SET status = ?, attempts = ?, next_attempt_at = ?,
			last_error = ?, lease_owner = '', lease_until = NULL, updated_at = ?
			WHERE id = ?`,
			string(t.Status), t.Attempts, toMicros(t.NextAttemptAt), t.LastError, toMicros(now), t.ID)
		if err != nil || attempt == nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO task_attempts (task_id, at, duration_us, status_code, error)
			VALUES (?, ?, ?, ?, ?)`,
			t.ID, toMicros(attempt.At), attempt.Duration.Microseconds(), attempt.StatusCode, attempt.Error)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: update task %d: %w", t.ID, err)
	}
	t.UpdatedAt, t.LeaseOwner, t.LeaseUntil = now, "", time.Time{}
	return nil
}

// RetryTask makes a task pending and due at now again, with its lease
// freed, keeping its attempts, last error and log. It fails with
// payment.ErrNotFound for an unknown task.
func (s *Store) RetryTask(ctx context.Context, id int64, now time.Time) error {
	err := s.tx(ctx, func(tx writeTx) error {
		return execOne(ctx, tx, `UPDATE tasks SET status = ?, next_attempt_at = ?,
			lease_owner = '', lease_until = NULL, updated_at = ?
			WHERE id = ?`,
			string(payment.TaskPending), toMicros(now), toMicros(now), id)
	})
	if err != nil {
		return fmt.Errorf("sqlite: retry task %d: %w", id, err)
	}
	return nil
}

// Tasks returns the payment's tasks, oldest first, each with its log,
// oldest attempt first; none for an unknown payment.
func (s *Store) Tasks(ctx context.Context, id vipps.OrderID) ([]*payment.Task, error) {
	// One query, so that tasks and logs are of one snapshot.
	rows, err := s.r.QueryContext(ctx, `SELECT t.id, t.kind, t.order_id, t.event_seq, t.payload, t.status, t.attempts,
			t.next_attempt_at, t.last_error, t.lease_owner, t.lease_until, t.created_at, t.updated_at,
			a.id, a.at, a.duration_us, a.status_code, a.error
		FROM tasks AS t LEFT JOIN task_attempts AS a ON a.task_id = t.id
		WHERE t.order_id = ?
		ORDER BY t.id, a.id`, string(id))
	if err != nil {
		return nil, fmt.Errorf("sqlite: tasks of order %s: %w", id, err)
	}
	defer rows.Close()
	var ts []*payment.Task
	for rows.Next() {
		var (
			attemptID  sql.NullInt64
			at         sql.NullInt64
			durationUS sql.NullInt64
			statusCode sql.NullInt64
			errText    sql.NullString
		)
		t, err := scanTask(rows, &attemptID, &at, &durationUS, &statusCode, &errText)
		if err != nil {
			return nil, fmt.Errorf("sqlite: tasks of order %s: %w", id, err)
		}
		var attempt *payment.TaskAttempt
		if attemptID.Valid {
			attempt = &payment.TaskAttempt{
				At:         fromMicros(at),
				Duration:   time.Duration(durationUS.Int64) * time.Microsecond,
				StatusCode: int(statusCode.Int64),
				Error:      errText.String,
			}
		}
		ts = payment.AppendTaskRow(ts, t, attempt)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: tasks of order %s: %w", id, err)
	}
	return ts, nil
}

// scanTask reads the taskCols of a row, and then into more, if any.
func scanTask(sc scanner, more ...any) (*payment.Task, error) {
	var (
		t                             payment.Task
		payload                       sql.NullString
		next, until, created, updated sql.NullInt64
	)
	dest := append([]any{&t.ID, &t.Kind, &t.OrderID, &t.EventSeq, &payload, &t.Status, &t.Attempts,
		&next, &t.LastError, &t.LeaseOwner, &until, &created, &updated}, more...)
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	t.Payload = rawJSON(payload)
	t.NextAttemptAt, t.LeaseUntil = fromMicros(next), fromMicros(until)
	t.CreatedAt, t.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &t, nil
}
