package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/vippskit/vipps/internal/payment"
)

// maxTxAttempts bounds how often inTx runs a transaction that PostgreSQL
// aborted for a serialization failure or a deadlock.
const maxTxAttempts = 5

// inTx runs fn in a transaction and commits it. When PostgreSQL aborts the
// transaction with a serialization failure (40001) or a deadlock (40P01), it
// runs fn again, up to maxTxAttempts times in all; fn must therefore only
// change its caller's values once it cannot fail any more, or change them
// the same way every time.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return retry(ctx, func() error { return pgx.BeginFunc(ctx, s.pool, fn) })
}

// retry runs attempt, a transaction, until it succeeds, fails with an
// error that retrying will not mend, or has run maxTxAttempts times; it
// stops early when ctx ends. Its error is marked by unavailable.
func retry(ctx context.Context, attempt func() error) error {
	var err error
	for range maxTxAttempts {
		if err = ctx.Err(); err != nil {
			return err
		}
		if err = attempt(); !retryable(err) {
			return unavailable(err)
		}
	}
	return fmt.Errorf("gave up after %d attempts: %w", maxTxAttempts, err)
}

// inBatch sends the statements that queue puts in a batch, on their own,
// and reads their results with the functions queue gave them
// (QueuedQuery.QueryRow, Query or Exec), in order, until the first error.
//
// The batch is one round trip and one transaction: pgx ends it with a
// single Sync, and PostgreSQL runs the statements before a Sync in one
// implicit transaction, which it commits after the last one and rolls
// back, undoing the statements before, when one fails; it skips the
// statements after a failure. So a store call that must not go on when a
// condition fails says so in SQL, failing the statement (vipps_fail, a
// constraint) rather than leaving it to the reader: by the time a reader
// sees a result, the server has committed the batch or rolled it back.
//
// As inTx does, inBatch sends the batch again when PostgreSQL aborts it for
// a serialization failure or a deadlock, up to maxTxAttempts times; queue
// is called for each attempt, and the readers must change their caller's
// values the same way every time.
func (s *Store) inBatch(ctx context.Context, queue func(*pgx.Batch)) error {
	return retry(ctx, func() error {
		// A batch is sent once: pgx keeps what it prepared in it.
		b := &pgx.Batch{}
		queue(b)
		return s.pool.SendBatch(ctx, b).Close()
	})
}

// SQLSTATE codes the store acts on.
const (
	codeSerializationFailure = "40001"
	codeDeadlock             = "40P01"
	codeUniqueViolation      = "23505"
	codeForeignKeyViolation  = "23503"
	codeQueryCanceled        = "57014" // a statement timeout or a cancel: not unavailable
	codeReadOnlyTransaction  = "25006" // a standby (after a failover): unavailable

	// The codes a statement of the store raises with vipps_fail (migration
	// 0006): a compare-and-set that changed nothing because the row
	// changed, and because there is no such row.
	codeConflict = "VP409"
	codeNotFound = "VP404"
)

// storeError is err with the store's own failures (vipps_fail) as the
// sentinel errors of package payment, their message kept.
func storeError(err error) error {
	pe, ok := errors.AsType[*pgconn.PgError](err)
	switch {
	case !ok:
		return err
	case pe.Code == codeConflict:
		return fmt.Errorf("%s: %w", pe.Message, payment.ErrConflict)
	case pe.Code == codeNotFound:
		return fmt.Errorf("%s: %w", pe.Message, payment.ErrNotFound)
	}
	return err
}

func sqlState(err error) string {
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pe.Code
	}
	return ""
}

func retryable(err error) bool {
	c := sqlState(err)
	return c == codeSerializationFailure || c == codeDeadlock
}
