package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/internal/staff"
)

// The Store is also a staff.Store.
var _ staff.Store = (*Store)(nil)

const accountCols = `id, name, role, password_hash, disabled, created_at, updated_at, updated_by`

func scanAccount(sc scanner) (*staff.Account, error) {
	var (
		a                staff.Account
		role             string
		created, updated sql.NullInt64
	)
	if err := sc.Scan(&a.ID, &a.Name, &role, &a.PasswordHash, &a.Disabled, &created, &updated, &a.UpdatedBy); err != nil {
		return nil, err
	}
	a.Role, a.CreatedAt, a.UpdatedAt = staff.Role(role), fromMicros(created), fromMicros(updated)
	return &a, nil
}

// CreateAccount stores a new account and sets a.ID (see staff.Store).
func (s *Store) CreateAccount(ctx context.Context, a *staff.Account, onlyFirst bool) error {
	q := `INSERT INTO staff_accounts (name, name_key, role, password_hash, disabled, created_at, updated_at, updated_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
	if onlyFirst {
		q = `INSERT INTO staff_accounts (name, name_key, role, password_hash, disabled, created_at, updated_at, updated_by)
			SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM staff_accounts) RETURNING id`
	}
	var id int64
	err := s.tx(ctx, func(tx writeTx) error {
		return tx.QueryRowContext(ctx, q, a.Name, staff.NameKey(a.Name), string(a.Role), a.PasswordHash, a.Disabled,
			toMicros(a.CreatedAt), toMicros(a.UpdatedAt), a.UpdatedBy).Scan(&id)
	})
	switch {
	case errors.Is(err, sql.ErrNoRows): // onlyFirst, and there are accounts
		return fmt.Errorf("sqlite: create account %q: staff accounts exist: %w", a.Name, payment.ErrExists)
	case isUnique(err):
		return fmt.Errorf("sqlite: create account %q: %w", a.Name, payment.ErrExists)
	case err != nil:
		return fmt.Errorf("sqlite: create account %q: %w", a.Name, err)
	}
	a.ID = id
	return nil
}

// Account returns the account whose name key is key, or
// payment.ErrNotFound.
func (s *Store) Account(ctx context.Context, key string) (*staff.Account, error) {
	a, err := scanAccount(s.r.QueryRowContext(ctx, `SELECT `+accountCols+` FROM staff_accounts WHERE name_key = ?`, key))
	if errors.Is(err, sql.ErrNoRows) {
		err = payment.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: account %q: %w", key, err)
	}
	return a, nil
}

// Accounts returns every account, by name key.
func (s *Store) Accounts(ctx context.Context) ([]*staff.Account, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+accountCols+` FROM staff_accounts ORDER BY name_key`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: accounts: %w", err)
	}
	defer rows.Close()
	var out []*staff.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: accounts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: accounts: %w", err)
	}
	return out, nil
}

// UpdateAccount stores a's role, password hash, disabled flag and update
// time and author, and with endSessions deletes its sessions, in one
// transaction.
func (s *Store) UpdateAccount(ctx context.Context, a *staff.Account, endSessions bool) error {
	err := s.tx(ctx, func(tx writeTx) error {
		// One writer: no other change comes between these statements.
		var wasAdmin bool
		err := tx.QueryRowContext(ctx, `SELECT role = ? AND NOT disabled FROM staff_accounts WHERE id = ?`, string(staff.Admin), a.ID).Scan(&wasAdmin)
		if errors.Is(err, sql.ErrNoRows) {
			return payment.ErrNotFound
		} else if err != nil {
			return err
		}
		if err := execOne(ctx, tx, `UPDATE staff_accounts SET role = ?, password_hash = ?, disabled = ?, updated_at = ?, updated_by = ?
			WHERE id = ?`, string(a.Role), a.PasswordHash, a.Disabled, toMicros(a.UpdatedAt), a.UpdatedBy, a.ID); err != nil {
			return err
		}
		if wasAdmin {
			var admins int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM staff_accounts WHERE role = ? AND NOT disabled`, string(staff.Admin)).Scan(&admins); err != nil {
				return err
			}
			if admins == 0 {
				return staff.ErrLastAdmin
			}
		}
		if !endSessions {
			return nil
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM staff_sessions WHERE account_id = ?`, a.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: update account %q: %w", a.Name, err)
	}
	return nil
}

// CreateSession stores a new session; payment.ErrNotFound when its
// account does not exist.
func (s *Store) CreateSession(ctx context.Context, se *staff.Session) error {
	err := s.tx(ctx, func(tx writeTx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO staff_sessions (hash, account_id, created_at, seen_at) VALUES (?, ?, ?, ?)`,
			se.Hash, se.AccountID, toMicros(se.CreatedAt), toMicros(se.SeenAt))
		return err
	})
	if se, ok := errors.AsType[*msqlite.Error](err); ok && se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY {
		err = payment.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlite: create session: %w", err)
	}
	return nil
}

// Session returns the session whose hash is hash and its account, or
// payment.ErrNotFound.
func (s *Store) Session(ctx context.Context, hash string) (*staff.Session, *staff.Account, error) {
	var (
		se            = staff.Session{Hash: hash}
		created, seen sql.NullInt64
	)
	a, err := scanAccount(withMore{s.r.QueryRowContext(ctx, `SELECT `+qualified("a", accountCols)+`, s.account_id, s.created_at, s.seen_at
		FROM staff_sessions s JOIN staff_accounts a ON a.id = s.account_id WHERE s.hash = ?`, hash),
		[]any{&se.AccountID, &created, &seen}})
	if errors.Is(err, sql.ErrNoRows) {
		err = payment.ErrNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("sqlite: session: %w", err)
	}
	se.CreatedAt, se.SeenAt = fromMicros(created), fromMicros(seen)
	return &se, a, nil
}

// TouchSession sets the session's seen time.
func (s *Store) TouchSession(ctx context.Context, hash string, at time.Time) error {
	return s.sessionExec(ctx, "touch session", `UPDATE staff_sessions SET seen_at = ? WHERE hash = ?`, toMicros(at), hash)
}

// DeleteSession deletes a session.
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	return s.sessionExec(ctx, "delete session", `DELETE FROM staff_sessions WHERE hash = ?`, hash)
}

func (s *Store) sessionExec(ctx context.Context, what, q string, args ...any) error {
	err := s.tx(ctx, func(tx writeTx) error {
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	return nil
}

// DeleteExpiredSessions deletes the sessions seen before seenBefore or
// created before createdBefore.
func (s *Store) DeleteExpiredSessions(ctx context.Context, seenBefore, createdBefore time.Time) (int, error) {
	var n int64
	err := s.tx(ctx, func(tx writeTx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM staff_sessions WHERE seen_at < ? OR created_at < ?`,
			toMicros(seenBefore), toMicros(createdBefore))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired sessions: %w", err)
	}
	return int(n), nil
}
