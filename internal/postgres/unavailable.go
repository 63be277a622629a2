package postgres

import (
	"context"
	"errors"
	"io"
	"net"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/puddle/v2"

	"github.com/vippskit/vipps/internal/payment"
)

// unavailable marks err as payment.ErrUnavailable when it says that the
// database could not be used just now rather than that the request was
// wrong: no connection could be made or it broke (the server restarts,
// fails over or is unreachable), the server is shutting down or refuses
// connections, it ran out of disk, memory or connections (class 53), an
// I/O error (58), a standby that takes no writes (25006), or the pool is
// closing. A deadline or cancellation is left as it is: the service tells
// the shop that the outcome is unknown (504), which is what it is.
func unavailable(err error) error {
	if err == nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return err
	}
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		switch class := pe.Code[:min(2, len(pe.Code))]; {
		case pe.Code == codeQueryCanceled:
			return err
		case class == "08", class == "53", class == "57", class == "58", pe.Code == codeReadOnlyTransaction:
			return payment.Unavailable(err)
		}
		return err
	}
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok {
		return payment.Unavailable(err)
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return payment.Unavailable(err)
	}
	if errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, puddle.ErrClosedPool) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return payment.Unavailable(err)
	}
	return err
}

// pool is the store's connection pool, its errors marked by unavailable.
// Transactions and batches (inTx, inBatch) mark theirs in retry.
type pool struct{ *pgxpool.Pool }

func (p pool) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	r, err := p.Pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, unavailable(err)
	}
	return rows{r}, nil
}

func (p pool) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return row{p.Pool.QueryRow(ctx, sql, args...)}
}

func (p pool) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	tag, err := p.Pool.Exec(ctx, sql, args...)
	return tag, unavailable(err)
}

type rows struct{ pgx.Rows }

func (r rows) Err() error             { return unavailable(r.Rows.Err()) }
func (r rows) Scan(dest ...any) error { return unavailable(r.Rows.Scan(dest...)) }

type row struct{ pgx.Row }

func (r row) Scan(dest ...any) error { return unavailable(r.Row.Scan(dest...)) }
