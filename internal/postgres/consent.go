package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// AddConsentRemoval records a removal of the consent of userKey's user at
// at (keeping the latest), and deletes the records from before before, in
// one round trip.
func (s *Store) AddConsentRemoval(ctx context.Context, userKey string, at, before time.Time) error {
	err := s.inBatch(ctx, func(b *pgx.Batch) {
		b.Queue(`DELETE FROM consent_removals WHERE removed_at < $1`, before.UTC())
		b.Queue(`INSERT INTO consent_removals (user_key, removed_at) VALUES ($1, $2)
			ON CONFLICT (user_key) DO UPDATE SET removed_at = greatest(consent_removals.removed_at, excluded.removed_at)`, userKey, at.UTC())
	})
	if err != nil {
		return fmt.Errorf("add a consent removal: %w", err)
	}
	return nil
}

// ConsentRemovedAt returns the latest removal of the consent of userKey's
// user, or the zero time.
func (s *Store) ConsentRemovedAt(ctx context.Context, userKey string) (time.Time, error) {
	var at time.Time
	err := s.pool.QueryRow(ctx, `SELECT removed_at FROM consent_removals WHERE user_key = $1`, userKey).Scan(&at)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return time.Time{}, nil
	case err != nil:
		return time.Time{}, fmt.Errorf("consent removal: %w", err)
	}
	return at.UTC(), nil
}
