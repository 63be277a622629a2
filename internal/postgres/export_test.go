package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// OpenVersion opens a store on dsn with only the first n migrations
// applied, as an older program would have left the database.
func OpenVersion(ctx context.Context, dsn string, n int) (*Store, error) {
	ms, err := migrations()
	if err != nil {
		return nil, err
	}
	if n > len(ms) {
		return nil, fmt.Errorf("%d migrations, want at least %d", len(ms), n)
	}
	p, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, err
	}
	s := &Store{pool: pool{p}}
	if err := s.migrate(ctx, ms[:n]); err != nil {
		p.Close()
		return nil, err
	}
	return s, nil
}

// SynchronousCommit is the synchronous_commit setting of the store's
// connections.
func (s *Store) SynchronousCommit(ctx context.Context) (string, error) {
	var v string
	err := s.pool.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&v)
	return v, err
}

// Trace makes the store's connections report their queries to tracer, and
// their batches too if tracer is a pgx.BatchTracer: it replaces the pool
// with a new one whose connections carry the tracer. Call it before the
// store is in use; the old pool is closed.
func (s *Store) Trace(ctx context.Context, tracer pgx.QueryTracer) error {
	cfg := s.pool.Config()
	cfg.ConnConfig.Tracer = tracer
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return err
	}
	old := s.pool
	s.pool = pool{p}
	old.Close()
	return nil
}

// InBatch sends the batch that queue makes as the store's calls do.
func (s *Store) InBatch(ctx context.Context, queue func(*pgx.Batch)) error {
	return s.inBatch(ctx, queue)
}

// MaxConns is the size of the store's connection pool.
func (s *Store) MaxConns() int32 { return s.pool.Config().MaxConns }
