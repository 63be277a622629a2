package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/internal/storetest"
)

func open(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%s) = %v, want nil", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close = %v", err)
		}
	})
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) payment.Store {
		return open(t, filepath.Join(t.TempDir(), "vipps.db"))
	})
}

type applied struct {
	Version   int
	Name      string
	AppliedAt int64
}

func appliedMigrations(t *testing.T, s *Store) []applied {
	t.Helper()
	rows, err := s.r.QueryContext(t.Context(), `SELECT version, name, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatalf("query schema_migrations: %v", err)
	}
	defer rows.Close()
	var out []applied
	for rows.Next() {
		var a applied
		if err := rows.Scan(&a.Version, &a.Name, &a.AppliedAt); err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMigrate(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatalf("migrations() = %v", err)
	}

	t.Run("applied once", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "vipps.db")
		s1, err := Open(t.Context(), path)
		if err != nil {
			t.Fatalf("Open = %v", err)
		}
		first := appliedMigrations(t, s1)
		if len(first) != len(ms) {
			t.Errorf("after Open: %d migrations applied, want %d", len(first), len(ms))
		}
		for i, a := range first {
			if a.Version != i+1 || a.Name != ms[i].name {
				t.Errorf("migration %d = %d %s, want %d %s", i, a.Version, a.Name, i+1, ms[i].name)
			}
		}
		if err := s1.Close(); err != nil {
			t.Fatalf("Close = %v", err)
		}

		s2 := open(t, path)
		if err := s2.Migrate(t.Context()); err != nil {
			t.Errorf("Migrate again = %v, want nil", err)
		}
		if diff := cmp.Diff(first, appliedMigrations(t, s2)); diff != "" {
			t.Errorf("migrations after second Open and Migrate changed (-first +now):\n%s", diff)
		}
	})

	t.Run("newer database", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "vipps.db")
		s, err := Open(t.Context(), path)
		if err != nil {
			t.Fatalf("Open = %v", err)
		}
		if _, err := s.w.ExecContext(t.Context(),
			`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from_the_future.sql', 0)`,
			len(ms)+1); err != nil {
			t.Fatal(err)
		}
		s.Close()

		s, err = Open(t.Context(), path)
		if err == nil {
			s.Close()
			t.Fatal("Open(database with a newer schema) = nil, want an error")
		}
		if !strings.Contains(err.Error(), "newer") {
			t.Errorf("Open(database with a newer schema) = %v, want it to say the schema is newer", err)
		}
	})

	t.Run("not a file", func(t *testing.T) {
		for _, path := range []string{"", ":memory:", "file:x.db?mode=memory"} {
			if s, err := Open(context.Background(), path); err == nil {
				s.Close()
				t.Errorf("Open(%q) = nil, want an error", path)
			}
		}
	})
}
