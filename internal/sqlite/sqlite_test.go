package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/internal/staff"
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

func TestStaffStore(t *testing.T) {
	storetest.RunStaff(t, func(t *testing.T) staff.Store {
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

// TestMigrateUpgrade opens a database that an older program (migration 1
// only) filled: its payments must read back, with the new fields empty, and
// take the new fields and tasks.
func TestMigrateUpgrade(t *testing.T) {
	ctx := t.Context()
	ms, err := migrations()
	if err != nil {
		t.Fatalf("migrations() = %v", err)
	}
	path := filepath.Join(t.TempDir(), "vipps.db")
	drv, err := newDriver()
	if err != nil {
		t.Fatal(err)
	}
	w := sql.OpenDB(connector{drv, dsn(path, SyncFull, true)})
	old := &Store{w: w, ws: newStmts(w)}
	old.c = newCommitter(old)
	err = old.migrate(ctx, ms[:1])
	old.c.close()
	if err == nil {
		_, err = w.ExecContext(ctx, `INSERT INTO payments (order_id, shop_ref, attempt, msn, kind, text, phone,
			return_url, auth_token_hash, vipps_url, state, authorized, captured, refunded,
			remaining_to_capture, remaining_to_refund, user_id, lease_owner, created_at, updated_at, version)
			VALUES ('old-1', 'ref-1', 0, '123456', 'regular', 'Old socks', '', '', '', '', 'reserved',
			1000, 0, 0, 1000, 0, 'u1', '', ?1, ?1, 3)`, t0.UnixMicro())
	}
	if err == nil {
		_, err = w.ExecContext(ctx, `INSERT INTO events (order_id, type, state, amount, at)
			VALUES ('old-1', 'reserved', 'reserved', 0, ?)`, t0.UnixMicro())
	}
	if err := errors.Join(err, w.Close()); err != nil {
		t.Fatal(err)
	}

	s := open(t, path)
	if got := appliedMigrations(t, s); len(got) != len(ms) {
		t.Errorf("after upgrade: %d migrations applied, want %d", len(got), len(ms))
	}
	storetest.CheckUpgraded(t, s, t0)
}

// t0 is a whole microsecond, as the store keeps times.
var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// TestStatementsPrepared checks that the store keeps its queries prepared:
// reads at once, a write transaction's after it ends.
func TestStatementsPrepared(t *testing.T) {
	ctx := t.Context()
	s := open(t, filepath.Join(t.TempDir(), "vipps.db"))
	p := &payment.Payment{OrderID: "shop-1", ShopRef: "1", MSN: "123456", Kind: payment.Regular,
		Text: "Socks", State: payment.Initiated, CreatedAt: t0, UpdatedAt: t0}
	if err := s.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, p.OrderID); err != nil {
		t.Fatal(err)
	}
	prepared := func(c *stmts, prefix string) bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for q := range c.m {
			if strings.HasPrefix(strings.TrimSpace(q), prefix) {
				return true
			}
		}
		return false
	}
	if !prepared(s.ws, "INSERT INTO payments") {
		t.Error("after Create, the writer has no prepared INSERT INTO payments")
	}
	if !prepared(s.r.stmts, getQuery) {
		t.Error("after Get, the readers have no prepared SELECT of payments")
	}
	// The prepared statements run again, in later transactions.
	for i := range 3 {
		p.UpdatedAt = t0.Add(time.Duration(i+1) * time.Second)
		if err := s.Update(ctx, p, payment.Event{Type: payment.EventReserved, State: payment.Reserved, At: p.UpdatedAt}); err != nil {
			t.Fatalf("Update %d = %v", i, err)
		}
	}
	got, err := s.Get(ctx, p.OrderID)
	if err != nil || got.Version != 4 || !got.UpdatedAt.Equal(t0.Add(3*time.Second)) {
		t.Errorf("Get = version %d updated %v, %v; want version 4 updated %v", got.Version, got.UpdatedAt, err, t0.Add(3*time.Second))
	}
	if evs, err := s.Events(ctx, p.OrderID); err != nil || len(evs) != 3 {
		t.Errorf("Events = %d events, %v; want 3", len(evs), err)
	}
}

// TestStoreUnprepared runs the conformance tests with no room for prepared
// statements: every query then runs unprepared, and must work the same.
func TestStoreUnprepared(t *testing.T) {
	storetest.Run(t, func(t *testing.T) payment.Store {
		s := open(t, filepath.Join(t.TempDir(), "vipps.db"))
		s.ws.max, s.r.stmts.max = 0, 0
		return s
	})
}

// storetestPayment is a minimal payment.
func storetestPayment(id string) *payment.Payment {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return &payment.Payment{
		OrderID: vipps.OrderID(id), MSN: "123456", Kind: payment.Regular, Text: "Order " + id,
		State: payment.Created, Amounts: payment.Amounts{Authorized: 1000}, CreatedAt: t0, UpdatedAt: t0,
	}
}

// TestScrub: after content is erased by Update and the store is scrubbed,
// its bytes are in none of the database's files.
func TestScrub(t *testing.T) {
	const marker = "SSN-MARKER-01017012345"
	path := filepath.Join(t.TempDir(), "vipps.db")
	s := open(t, path)
	ctx := t.Context()
	p := storetestPayment("scrub-1")
	p.Kind = payment.Express
	p.UserID = marker
	p.Shipping = json.RawMessage(`{"address":"` + marker + `"}`)
	if err := s.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	// Other payments around it, on the same pages.
	for i := range 20 {
		if err := s.Create(ctx, storetestPayment(fmt.Sprintf("scrub-other-%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if got := filesContaining(t, path, marker); len(got) == 0 {
		t.Fatalf("the marker is in no file before the erasure: the test proves nothing")
	}
	p.UserID, p.Shipping = "", nil
	if err := s.Update(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, p.OrderID); err != nil { // a reader that ends
		t.Fatal(err)
	}
	if err := s.Scrub(ctx); err != nil {
		t.Fatalf("Scrub = %v, want nil", err)
	}
	if got := filesContaining(t, path, marker); len(got) > 0 {
		t.Errorf("after Update and Scrub the marker is still in %v", got)
	}
	// The store works on.
	if got, err := s.Get(ctx, p.OrderID); err != nil || got.UserID != "" {
		t.Errorf("Get after Scrub = %+v, %v", got, err)
	}
}

// filesContaining lists which of the database's files hold marker.
func filesContaining(t *testing.T, path, marker string) []string {
	t.Helper()
	var in []string
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		b, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(marker)) {
			in = append(in, filepath.Base(f))
		}
	}
	return in
}

// TestOpenErrors: a database that cannot be created says which file and
// what to do, not SQLite's "unable to open database file (14)".
func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "plain")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, path, want string }{
		{"missing directory", filepath.Join(dir, "missing", "vipps.db"), "the directory " + filepath.Join(dir, "missing") + " does not exist: create it"},
		{"file as directory", filepath.Join(file, "vipps.db"), "is a file, not a directory"},
	}
	checkOpenErrors(t, tests)
}

// TestOpenErrorsReadOnly: a directory this user may not write says so, for
// a new database and for an existing one (whose -wal and -shm cannot be
// made). Root writes anywhere, so as root the test runs itself again as
// the user nobody.
func TestOpenErrorsReadOnly(t *testing.T) {
	if os.Getuid() == 0 {
		rerunAsNobody(t)
		return
	}
	ro := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(ro, 0o755); err != nil {
		t.Fatal(err)
	}
	// A database made before the directory became read-only.
	existing := filepath.Join(ro, "existing.db")
	s, err := Open(t.Context(), existing)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(ro, 0o755) })
	checkOpenErrors(t, []struct{ name, path, want string }{
		{"read-only directory", filepath.Join(ro, "vipps.db"), "check that this user may write the file and the directory " + ro},
		{"existing file, read-only directory", existing, "check that this user may write the directory " + ro},
	})
}

// rerunAsNobody runs the calling test again in a copy of the test binary as
// the user nobody (with runuser, as the chaos suite runs PostgreSQL), and
// fails with its output unless it passed.
func rerunAsNobody(t *testing.T) {
	t.Helper()
	runuser, err := exec.LookPath("runuser")
	if err != nil {
		t.Fatalf("running as root, this test needs runuser to run as another user: %v", err)
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)
	// A directory nobody owns, below ones it may enter.
	dir, err := os.MkdirTemp("", "sqlite-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "sqlite.test")
	b, err := os.ReadFile(os.Args[0])
	if err == nil {
		err = os.WriteFile(bin, b, 0o755)
	}
	if err == nil {
		err = errors.Join(os.Chmod(dir, 0o755), os.Chown(dir, uid, gid))
	}
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), runuser, "-u", "nobody", "--", bin, "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TMPDIR="+dir, "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("--- PASS: "+t.Name())) {
		t.Fatalf("%s as nobody: %v\n%s", t.Name(), err, out)
	}
}

// checkOpenErrors opens each path and wants an error naming it and saying
// what to do.
func checkOpenErrors(t *testing.T, tests []struct{ name, path, want string }) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(t.Context(), tt.path)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%s) = nil, want an error", tt.path)
			}
			if !strings.Contains(err.Error(), tt.path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open(%s) = %v, want the path and %q", tt.path, err, tt.want)
			}
		})
	}
}

// TestAttentionIndexed: each query of Attention reads its partial index,
// never a whole table, however many payments there are.
func TestAttentionIndexed(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "vipps.db"))
	tests := []struct {
		name, query, index string
		args               []any
	}{
		{"operations", attentionOps, "operations_pending_age", []any{1, 10}},
		{"tasks", attentionTasks, "tasks_failing", []any{10}},
		{"reservations", attentionReserved, "payments_reserved", []any{1, 10}},
		{"unreachable", attentionUnreachable, "payments_check_failing", []any{3, 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := s.r.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+tt.query, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			text := strings.Join(plan, "\n")
			if !strings.Contains(text, "INDEX "+tt.index) {
				t.Errorf("plan of the %s query does not use %s:\n%s", tt.name, tt.index, text)
			}
			for _, table := range []string{"SCAN payments", "SCAN operations", "SCAN tasks", "SCAN facts"} {
				if strings.Contains(text, table+"\n") || strings.HasSuffix(text, table) {
					t.Errorf("plan of the %s query reads a whole table (%s):\n%s", tt.name, table, text)
				}
			}
		})
	}
}

// TestSQLValue reads the column values of Snapshot's JSON rows as SQLite
// writes them, through SQLite itself, and checks that each comes back as
// database/sql would have handed it over.
func TestSQLValue(t *testing.T) {
	st := open(t, filepath.Join(t.TempDir(), "values.db"))
	tests := []struct {
		expr string
		want any
	}{
		{`NULL`, nil},
		{`'plain'`, "plain"},
		{`''`, ""},
		{`'quote " backslash \ tab ` + "\t" + ` newline ` + "\n" + ` end'`, "quote \" backslash \\ tab \t newline \n end"},
		{`'æøå Æ 💳'`, "æøå Æ 💳"},
		{`char(1)`, "\x01"},
		{`0`, int64(0)},
		{`-42`, int64(-42)},
		{`9223372036854775807`, int64(9223372036854775807)},
		{`-9223372036854775808`, int64(-9223372036854775808)},
	}
	for _, tt := range tests {
		var js string
		if err := st.r.QueryRowContext(t.Context(), `SELECT json_array(`+tt.expr+`)`).Scan(&js); err != nil {
			t.Fatalf("json_array(%s) = %v", tt.expr, err)
		}
		var row jsonRow
		if err := json.Unmarshal([]byte(js), &row); err != nil {
			t.Fatalf("json_array(%s) = %s, not a JSON array: %v", tt.expr, js, err)
		}
		got, err := sqlValue(row[0])
		if err != nil || got != tt.want {
			t.Errorf("sqlValue(%s) = %#v, %v; want %#v", row[0], got, err, tt.want)
		}
	}
	for _, bad := range []string{`1.5`, `true`, `[1]`, `{}`, ``, `"`} {
		if got, err := sqlValue(json.RawMessage(bad)); err == nil {
			t.Errorf("sqlValue(%s) = %#v, want an error", bad, got)
		}
	}
}

// TestScanJSON checks that a JSON row's value lands in the store's own
// types as json.Unmarshal would put it there.
func TestScanJSON(t *testing.T) {
	type (
		name  string
		count int32
	)
	tests := []struct {
		raw  string
		dest func() any // a fresh destination, set to its "before" value
		want any
	}{
		{`"abc"`, func() any { s := "x"; return &s }, "abc"},
		{`"a\"b\\c\u0001"`, func() any { s := "x"; return &s }, "a\"b\\c\x01"},
		{`null`, func() any { s := "x"; return &s }, "x"},
		{`"order-1"`, func() any { id := vipps.OrderID("x"); return &id }, vipps.OrderID("order-1")},
		{`"ada"`, func() any { n := name("x"); return &n }, name("ada")},
		{`42`, func() any { n := int64(7); return &n }, int64(42)},
		{`-42`, func() any { a := vipps.Amount(7); return &a }, vipps.Amount(-42)},
		{`null`, func() any { n := int64(7); return &n }, int64(7)},
		{`12`, func() any { c := count(1); return &c }, count(12)},
		{`1`, func() any { b := false; return &b }, true},
		{`0`, func() any { b := true; return &b }, false},
	}
	for _, tt := range tests {
		dest := tt.dest()
		if err := scanJSON(json.RawMessage(tt.raw), dest); err != nil {
			t.Errorf("scanJSON(%s) = %v", tt.raw, err)
			continue
		}
		if got := reflect.ValueOf(dest).Elem().Interface(); got != tt.want {
			t.Errorf("scanJSON(%s) set %#v, want %#v", tt.raw, got, tt.want)
		}
	}
	// What does not fit fails as json.Unmarshal fails.
	for _, bad := range []struct {
		raw  string
		dest any
	}{
		{`"abc"`, new(int64)},
		{`42`, new(string)},
		{`99999`, new(int8)},
		{`1.5`, new(int64)},
	} {
		if err := scanJSON(json.RawMessage(bad.raw), bad.dest); err == nil {
			t.Errorf("scanJSON(%s) into %T = nil, want an error", bad.raw, bad.dest)
		}
	}
}
