package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/internal/staff"
)

// The Store is also a staff.Store.
var _ staff.Store = (*Store)(nil)

const accountColumns = `id, name, role, password_hash, disabled, created_at, updated_at, updated_by`

func scanAccount(row pgx.Row) (*staff.Account, error) {
	var (
		a    staff.Account
		role string
	)
	if err := row.Scan(&a.ID, &a.Name, &role, &a.PasswordHash, &a.Disabled, &a.CreatedAt, &a.UpdatedAt, &a.UpdatedBy); err != nil {
		return nil, err
	}
	a.Role, a.CreatedAt, a.UpdatedAt = staff.Role(role), a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	return &a, nil
}

// CreateAccount stores a new account and sets a.ID (see staff.Store).
// With onlyFirst the table is locked first, so that of several replicas
// making the first account at once, one does.
func (s *Store) CreateAccount(ctx context.Context, a *staff.Account, onlyFirst bool) error {
	var id int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if onlyFirst {
			if _, err := tx.Exec(ctx, `LOCK TABLE staff_accounts IN SHARE ROW EXCLUSIVE MODE`); err != nil {
				return err
			}
			var exist bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM staff_accounts)`).Scan(&exist); err != nil {
				return err
			}
			if exist {
				return fmt.Errorf("staff accounts exist: %w", payment.ErrExists)
			}
		}
		err := tx.QueryRow(ctx, `INSERT INTO staff_accounts (name, name_key, role, password_hash, disabled, created_at, updated_at, updated_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			a.Name, staff.NameKey(a.Name), string(a.Role), a.PasswordHash, a.Disabled, a.CreatedAt.UTC(), a.UpdatedAt.UTC(), a.UpdatedBy).Scan(&id)
		if sqlState(err) == codeUniqueViolation {
			return payment.ErrExists
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("create account %q: %w", a.Name, err)
	}
	a.ID = id
	return nil
}

// Account returns the account whose name key is key, or
// payment.ErrNotFound.
func (s *Store) Account(ctx context.Context, key string) (*staff.Account, error) {
	a, err := scanAccount(s.pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM staff_accounts WHERE name_key = $1`, key))
	if errors.Is(err, pgx.ErrNoRows) {
		err = payment.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("account %q: %w", key, err)
	}
	return a, nil
}

// Accounts returns every account, by name key.
func (s *Store) Accounts(ctx context.Context) ([]*staff.Account, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+accountColumns+` FROM staff_accounts ORDER BY name_key`)
	if err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	defer rows.Close()
	var out []*staff.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("accounts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	return out, nil
}

// UpdateAccount stores a's role, password hash, disabled flag and update
// time and author, and with endSessions deletes its sessions, in one
// transaction.
func (s *Store) UpdateAccount(ctx context.Context, a *staff.Account, endSessions bool) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// Lock the enabled administrators first, so that two changes at
		// once take turns and the second counts what the first left.
		rows, err := tx.Query(ctx, `SELECT id FROM staff_accounts WHERE role = $1 AND NOT disabled ORDER BY id FOR UPDATE`, string(staff.Admin))
		if err != nil {
			return err
		}
		locked, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE staff_accounts SET role = $1, password_hash = $2, disabled = $3, updated_at = $4, updated_by = $5
			WHERE id = $6`, string(a.Role), a.PasswordHash, a.Disabled, a.UpdatedAt.UTC(), a.UpdatedBy, a.ID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return payment.ErrNotFound
		}
		// Only a change that takes an administrator away can leave none:
		// then count what is left.
		var admins int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM staff_accounts WHERE role = $1 AND NOT disabled`, string(staff.Admin)).Scan(&admins); err != nil {
			return err
		}
		if admins == 0 && len(locked) > 0 && slices.Contains(locked, a.ID) {
			return staff.ErrLastAdmin
		}
		if endSessions {
			_, err = tx.Exec(ctx, `DELETE FROM staff_sessions WHERE account_id = $1`, a.ID)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("update account %q: %w", a.Name, err)
	}
	return nil
}

// CreateSession stores a new session; payment.ErrNotFound when its
// account does not exist.
func (s *Store) CreateSession(ctx context.Context, se *staff.Session) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO staff_sessions (hash, account_id, created_at, seen_at) VALUES ($1, $2, $3, $4)`,
		se.Hash, se.AccountID, se.CreatedAt.UTC(), se.SeenAt.UTC())
	if sqlState(err) == codeForeignKeyViolation {
		err = payment.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// Session returns the session whose hash is hash and its account, or
// payment.ErrNotFound.
func (s *Store) Session(ctx context.Context, hash string) (*staff.Session, *staff.Account, error) {
	se := staff.Session{Hash: hash}
	a, err := scanAccount(withMore{s.pool.QueryRow(ctx, `SELECT `+qualified("a", accountColumns)+`, s.account_id, s.created_at, s.seen_at
		FROM staff_sessions s JOIN staff_accounts a ON a.id = s.account_id WHERE s.hash = $1`, hash),
		[]any{&se.AccountID, &se.CreatedAt, &se.SeenAt}})
	if errors.Is(err, pgx.ErrNoRows) {
		err = payment.ErrNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("session: %w", err)
	}
	se.CreatedAt, se.SeenAt = se.CreatedAt.UTC(), se.SeenAt.UTC()
	return &se, a, nil
}

// TouchSession sets the session's seen time.
func (s *Store) TouchSession(ctx context.Context, hash string, at time.Time) error {
	if _, err := s.pool.Exec(ctx, `UPDATE staff_sessions SET seen_at = $1 WHERE hash = $2`, at.UTC(), hash); err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// DeleteSession deletes a session.
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM staff_sessions WHERE hash = $1`, hash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions deletes the sessions seen before seenBefore or
// created before createdBefore.
func (s *Store) DeleteExpiredSessions(ctx context.Context, seenBefore, createdBefore time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM staff_sessions WHERE seen_at < $1 OR created_at < $2`, seenBefore.UTC(), createdBefore.UTC())
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
