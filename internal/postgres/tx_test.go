package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vippskit/vipps/internal/payment"
)

func TestRetryable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"serialization failure", &pgconn.PgError{Code: "40001"}, true},
		{"deadlock", &pgconn.PgError{Code: "40P01"}, true},
		{"wrapped deadlock", errors.Join(errors.New("x"), &pgconn.PgError{Code: "40P01"}), true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"other", errors.New("boom"), false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := retryable(tt.err); got != tt.want {
				t.Errorf("retryable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestInTxRetries(t *testing.T) {
	dsn := os.Getenv("VIPPS_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("VIPPS_TEST_POSTGRES is not set; CI must run the PostgreSQL tests")
		}
		t.Skip("VIPPS_TEST_POSTGRES is not set; skipping the PostgreSQL tests")
	}
	p, err := pgxpool.New(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s := &Store{pool: pool{p}}
	serialization := &pgconn.PgError{Code: codeSerializationFailure}
	tests := []struct {
		name         string
		failures     int   // how many attempts fail
		failWith     error // with this
		wantAttempts int
		wantErr      error
	}{
		{"success", 0, nil, 1, nil},
		{"two serialization failures", 2, serialization, 3, nil},
		{"deadlocks every time", maxTxAttempts + 10, &pgconn.PgError{Code: codeDeadlock}, maxTxAttempts, &pgconn.PgError{Code: codeDeadlock}},
		{"not retryable", 3, payment.ErrConflict, 1, payment.ErrConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			attempts := 0
			err := s.inTx(t.Context(), func(tx pgx.Tx) error {
				attempts++
				if _, err := tx.Exec(t.Context(), "SELECT 1"); err != nil {
					return err
				}
				if attempts <= tt.failures {
					return tt.failWith
				}
				return nil
			})
			if attempts != tt.wantAttempts {
				t.Errorf("inTx ran fn %d times, want %d", attempts, tt.wantAttempts)
			}
			switch want := tt.wantErr.(type) {
			case nil:
				if err != nil {
					t.Errorf("inTx() = %v, want nil", err)
				}
			case *pgconn.PgError:
				if sqlState(err) != want.Code {
					t.Errorf("inTx() = %v, want SQLSTATE %s", err, want.Code)
				}
			default:
				if !errors.Is(err, want) {
					t.Errorf("inTx() = %v, want %v", err, want)
				}
			}
		})
	}
}

func TestUnavailable(t *testing.T) {
	// A real ConnectError: nothing listens on port 1.
	_, refused := pgconn.Connect(t.Context(), "postgres://u@127.0.0.1:1/db?connect_timeout=5")
	if _, ok := errors.AsType[*pgconn.ConnectError](refused); !ok {
		t.Fatalf("connect to port 1 = %v, want a ConnectError", refused)
	}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"admin shutdown (a restart)", &pgconn.PgError{Code: "57P01"}, true},
		{"cannot connect now (starting up)", &pgconn.PgError{Code: "57P03"}, true},
		{"disk full", &pgconn.PgError{Code: "53100"}, true},
		{"too many connections", &pgconn.PgError{Code: "53300"}, true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"I/O error", &pgconn.PgError{Code: "58030"}, true},
		{"read-only standby", &pgconn.PgError{Code: "25006"}, true},
		{"statement timeout: told as a timeout", &pgconn.PgError{Code: "57014"}, false},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"the store's conflict", &pgconn.PgError{Code: codeConflict}, false},
		{"connection refused", refused, true},
		{"broken connection", fmt.Errorf("receive message failed: %w", io.ErrUnexpectedEOF), true},
		{"closed connection", pgconn.ErrConnClosed, true},
		{"network error", &net.OpError{Op: "read", Err: syscall.ECONNRESET}, true},
		{"deadline: told as a timeout", fmt.Errorf("%w: %w", context.DeadlineExceeded, &net.OpError{Op: "read"}), false},
		{"no rows", pgx.ErrNoRows, false},
		{"other", errors.New("boom"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := unavailable(tt.err)
			if got := errors.Is(err, payment.ErrUnavailable); got != tt.want {
				t.Errorf("unavailable(%v) is ErrUnavailable: %v, want %v", tt.err, got, tt.want)
			}
			if tt.err != nil && (err == nil || err.Error() != tt.err.Error() || !errors.Is(err, tt.err)) {
				t.Errorf("unavailable(%v) = %v, want the same text and chain", tt.err, err)
			}
		})
	}
}
