package postgres

import (
	"errors"
	"os"
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
	pool, err := pgxpool.New(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	s := &Store{pool: pool}
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
