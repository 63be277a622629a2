package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

// openScratch opens a store with a table t(k TEXT PRIMARY KEY) to write in.
func openScratch(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "vipps.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	err = s.tx(t.Context(), func(tx writeTx) error {
		_, err := tx.ExecContext(t.Context(), `CREATE TABLE t (k TEXT PRIMARY KEY) STRICT`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// keys are the keys stored in t.
func keys(t *testing.T, s *Store) map[string]bool {
	t.Helper()
	rows, err := s.r.QueryContext(t.Context(), `SELECT k FROM t`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		got[k] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

// insert is a transaction that stores key, then fails with fail if not nil.
func insert(key string, fail error) func(writeTx) error {
	return func(tx writeTx) error {
		if _, err := tx.ExecContext(context.Background(), `INSERT INTO t (k) VALUES (?)`, key); err != nil {
			return err
		}
		return fail
	}
}

// request makes a request of a batch.
func request(ctx context.Context, f func(writeTx) error) *txRequest {
	return &txRequest{ctx: ctx, f: f, done: make(chan error, 1)}
}

// TestCommitBatch commits one batch by hand: a transaction that fails is
// rolled back alone, one whose caller gave up before it started is not run,
// and the others are stored, each caller told its own outcome.
func TestCommitBatch(t *testing.T) {
	s := openScratch(t)
	gaveUp, cancel := context.WithCancel(t.Context())
	cancel()
	boom := errors.New("boom")
	ranLate := false
	batch := []*txRequest{
		request(t.Context(), insert("a", nil)),
		request(t.Context(), insert("b", boom)),
		request(t.Context(), insert("c", nil)),
		request(gaveUp, func(tx writeTx) error { ranLate = true; return insert("d", nil)(tx) }),
		request(t.Context(), insert("a", nil)), // a duplicate key: fails alone
	}
	s.c.commit(batch)
	want := []error{nil, boom, nil, context.Canceled, nil}
	for i, r := range batch {
		err := <-r.done
		switch {
		case i == 4:
			if err == nil {
				t.Errorf("request %d (duplicate key) = nil, want the constraint error", i)
			}
		case !errors.Is(err, want[i]) || (want[i] == nil && err != nil):
			t.Errorf("request %d = %v, want %v", i, err, want[i])
		}
	}
	if ranLate {
		t.Error("the transaction of a caller that gave up was run")
	}
	if got := keys(t, s); len(got) != 2 || !got["a"] || !got["c"] {
		t.Errorf("stored %v, want a and c", got)
	}
}

// TestCommitBatchBroken: when a transaction breaks the batch's transaction
// (here by ending it), no work of the batch is stored, and every caller is
// told so, those whose own function succeeded too.
func TestCommitBatchBroken(t *testing.T) {
	s := openScratch(t)
	batch := []*txRequest{
		request(t.Context(), insert("a", nil)),
		request(t.Context(), func(tx writeTx) error {
			if _, err := tx.Tx.ExecContext(context.Background(), `ROLLBACK`); err != nil {
				return err
			}
			return errors.New("ended the transaction")
		}),
		request(t.Context(), insert("c", nil)),
	}
	s.c.commit(batch)
	for i, r := range batch {
		if err := <-r.done; err == nil {
			t.Errorf("request %d = nil, want an error: its work was not stored", i)
		}
	}
	if got := keys(t, s); len(got) != 0 {
		t.Errorf("stored %v, want nothing", got)
	}
	// The store goes on.
	if err := s.tx(t.Context(), insert("e", nil)); err != nil {
		t.Fatalf("a write after the broken batch = %v", err)
	}
}

// TestConcurrentWrites writes from many goroutines at once, some
// transactions failing and some callers giving up: what each caller was
// told is exactly what is stored, and concurrent writes share commits.
func TestConcurrentWrites(t *testing.T) {
	s := openScratch(t)
	var maxBatchSeen atomic.Int64
	s.c.batched = func(n int) {
		for {
			m := maxBatchSeen.Load()
			if int64(n) <= m || maxBatchSeen.CompareAndSwap(m, int64(n)) {
				return
			}
		}
	}
	const writers, each = 32, 25
	var (
		mu     sync.Mutex
		stored = map[string]bool{}
		wg     sync.WaitGroup
	)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				key := fmt.Sprintf("%d-%d", w, i)
				ctx, cancel := context.WithCancel(t.Context())
				var fail error
				switch (w + i) % 7 {
				case 0:
					fail = errors.New("refused")
				case 1:
					cancel() // gave up before it was its turn
				}
				err := s.tx(ctx, insert(key, fail))
				cancel()
				switch {
				case err == nil:
					mu.Lock()
					stored[key] = true
					mu.Unlock()
				case fail != nil && !errors.Is(err, fail):
					t.Errorf("%s = %v, want %v", key, err, fail)
				case fail == nil && !errors.Is(err, context.Canceled):
					t.Errorf("%s = %v", key, err)
				}
			}
		})
	}
	wg.Wait()
	got := keys(t, s)
	for k := range got {
		if !stored[k] {
			t.Errorf("%s is stored, but its caller was told it failed", k)
		}
	}
	for k := range stored {
		if !got[k] {
			t.Errorf("%s was acknowledged, but is not stored", k)
		}
	}
	if len(got) == 0 {
		t.Fatal("nothing stored")
	}
	t.Logf("%d stored; the largest batch committed %d transactions together", len(got), maxBatchSeen.Load())
}

// TestWriteAfterClose: a write after Close fails at once.
func TestWriteAfterClose(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "vipps.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.tx(t.Context(), func(writeTx) error { return nil }); !errors.Is(err, errClosed) {
		t.Errorf("tx after Close = %v, want errClosed", err)
	}
}

func TestParseSync(t *testing.T) {
	for in, want := range map[string]Sync{"full": SyncFull, "FULL": SyncFull, " normal ": SyncNormal} {
		if got, err := ParseSync(in); err != nil || got != want {
			t.Errorf("ParseSync(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseSync("off"); err == nil {
		t.Error("ParseSync(off) = nil error; OFF loses commits to a crash and is not offered")
	}
	var mode string
	s := openScratch(t)
	if err := s.r.QueryRowContext(t.Context(), `PRAGMA synchronous`).Scan(&mode); err != nil || mode != "2" {
		t.Errorf("PRAGMA synchronous = %q, %v; want 2 (FULL) by default", mode, err)
	}
	n, err := OpenWith(t.Context(), filepath.Join(t.TempDir(), "n.db"), Options{Sync: SyncNormal})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if err := n.r.QueryRowContext(t.Context(), `PRAGMA synchronous`).Scan(&mode); err != nil || mode != "1" {
		t.Errorf("PRAGMA synchronous = %q, %v; want 1 (NORMAL) when asked", mode, err)
	}
}

// TestCommitPanic: a write transaction that panics fails, with the batch
// it was in, and the store goes on writing.
func TestCommitPanic(t *testing.T) {
	s := openScratch(t)
	batch := []*txRequest{
		request(t.Context(), insert("a", nil)),
		request(t.Context(), func(writeTx) error { panic("a bug") }),
	}
	s.c.commit(batch)
	for i, r := range batch {
		if err := <-r.done; err == nil {
			t.Errorf("request %d = nil, want an error: the batch was rolled back", i)
		}
	}
	if err := s.tx(t.Context(), func(writeTx) error { panic("alone") }); !errors.Is(err, errPanicked) {
		t.Errorf("a lone panicking transaction = %v, want errPanicked", err)
	}
	if err := s.tx(t.Context(), insert("b", nil)); err != nil {
		t.Fatalf("a write after the panics = %v", err)
	}
	if got := keys(t, s); len(got) != 1 || !got["b"] {
		t.Errorf("stored %v, want b only", got)
	}
}
