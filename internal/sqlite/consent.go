package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// AddConsentRemoval records a removal of the consent of userKey's user at
// at (keeping the latest), and deletes the records from before before.
func (s *Store) AddConsentRemoval(ctx context.Context, userKey string, at, before time.Time) error {
	err := s.tx(ctx, func(tx writeTx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM consent_removals WHERE removed_at < ?`, toMicros(before)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO consent_removals (user_key, removed_at) VALUES (?, ?)
			ON CONFLICT (user_key) DO UPDATE SET removed_at = max(removed_at, excluded.removed_at)`, userKey, toMicros(at))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: add a consent removal: %w", err)
	}
	return nil
}

// ConsentRemovedAt returns the latest removal of the consent of userKey's
// user, or the zero time.
func (s *Store) ConsentRemovedAt(ctx context.Context, userKey string) (time.Time, error) {
	var at sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT removed_at FROM consent_removals WHERE user_key = ?`, userKey).Scan(&at)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return time.Time{}, nil
	case err != nil:
		return time.Time{}, fmt.Errorf("sqlite: consent removal: %w", err)
	}
	return fromMicros(at), nil
}
