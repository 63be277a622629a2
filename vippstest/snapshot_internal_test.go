package vippstest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps"
)

// filler sets every field of a value, exported or not, to a distinct
// non-zero value, so that a round trip shows which fields a snapshot
// drops.
type filler struct {
	t *testing.T
	n int
}

func (f *filler) fill(v reflect.Value, path string) {
	f.n++
	n := f.n
	// Types whose zero or arbitrary values the simulator cannot hold.
	switch v.Type() {
	case reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(time.Date(2031, 1, 1, 0, 0, n, n*1001, time.UTC)))
		return
	case reflect.TypeFor[phase]():
		v.Set(reflect.ValueOf(phaseReserved))
		return
	case reflect.TypeFor[vipps.MSN]():
		v.SetString("123456")
		return
	case reflect.TypeFor[json.RawMessage]():
		v.SetBytes(fmt.Appendf(nil, `{"n":%d}`, n))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("%s-%d", path, n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(n))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(n % 256))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(n) + 0.25)
	case reflect.Struct:
		for i := range v.NumField() {
			fv := v.Field(i)
			if !fv.CanSet() {
				fv = reflect.NewAt(fv.Type(), unsafe.Pointer(fv.UnsafeAddr())).Elem()
			}
			f.fill(fv, path+"."+v.Type().Field(i).Name)
		}
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		f.fill(p.Elem(), path)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			f.fill(s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		f.fill(k, path+".key")
		f.fill(e, path+"[key]")
		m.SetMapIndex(k, e)
		v.Set(m)
	default:
		f.t.Fatalf("%s: the test cannot fill a %s; teach it (and the snapshot) about it", path, v.Type())
	}
}

func filled[T any](f *filler, path string) T {
	var v T
	f.fill(reflect.ValueOf(&v).Elem(), path)
	return v
}

// field returns the value of s's field name ("app.consents" for a field
// of a field), unexported or not.
func field(s *Simulator, name string) any {
	v := reflect.ValueOf(s).Elem()
	for part := range strings.SplitSeq(name, ".") {
		v = v.FieldByName(part)
	}
	return reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem().Interface()
}

// snapshotFields classifies every field of Simulator. "snapshot" fields
// are saved and restored (and compared by TestSnapshotComplete);
// everything else says why it is not.
var snapshotFields = map[string]string{
	"offset":   "snapshot",
	"tokens":   "snapshot",
	"payments": "snapshot",
	"nextTx":   "snapshot",
	"subs":     "snapshot",
	"verified": "snapshot",
	"om":       "snapshot",
	"images":   "snapshot",

	"byToken": "derived from payments",
	"open":    "derived from payments",

	"requests":    "a diagnostic log, not state",
	"callbacks":   "a diagnostic log, not state",
	"pending":     "callbacks in flight; Close waits for them",
	"busy":        "requests in flight",
	"inFlight":    "requests in flight",
	"nextTidy":    "a schedule: after a restart the first request looks at every payment",
	"closed":      "the life of this process",
	"idle":        "the life of this process",
	"mu":          "the life of this process",
	"metrics":     "counters start afresh with the process, as Prometheus expects",
	"snap":        "the snapshot itself",
	"limiter":     "rate-limit windows are transient",
	"detailsKept": "encoded answers, made again from the payments",
	"detailsAt":   "goes with detailsKept",
	"faults":      "injected faults are test set-up, not state",
	"audit":       "which callbacks the audit mode dropped is in the callback log, which snapshots do not keep either",

	"app":                 "split", // each field on its own
	"app.sessions":        "snapshot",
	"app.consents":        "snapshot",
	"app.images":          "snapshot",
	"app.formKey":         "a secret made afresh: a page opened before a restart must be reloaded",
	"app.shippingTimeout": "configuration",
	"app.shippingCalls":   "a diagnostic log, not state",
	"app.consentRemovals": "a diagnostic log, not state",

	"cfg":       "configuration",
	"merchants": "configuration",
	"byMSN":     "configuration",
	"log":       "configuration",
	"hc":        "configuration",
	"mux":       "configuration",
	"token":     "configuration",
	"cbTimeout": "configuration",
}

// TestSnapshotFieldsClassified fails when Simulator gains a field that
// nobody decided about.
func TestSnapshotFieldsClassified(t *testing.T) {
	seen := map[string]bool{}
	var check func(typ reflect.Type, prefix string)
	check = func(typ reflect.Type, prefix string) {
		for i := range typ.NumField() {
			name := prefix + typ.Field(i).Name
			seen[name] = true
			switch class, ok := snapshotFields[name]; {
			case !ok:
				t.Errorf("Simulator.%s is new: carry it in the snapshot (snapshot.go, snapshotstate.go) and mark it \"snapshot\" in snapshotFields (snapshot_internal_test.go), or add it there with the reason it is not kept", name)
			case class == "split":
				check(typ.Field(i).Type, name+".")
			}
		}
	}
	check(reflect.TypeFor[Simulator](), "")
	for name, class := range snapshotFields {
		if class == "snapshot" && !seen[name] {
			t.Errorf("snapshotFields lists %s, which Simulator no longer has", name)
		}
	}
}

// TestSnapshotPhases checks that every phase has a name in the file.
func TestSnapshotPhases(t *testing.T) {
	names := map[string]phase{}
	for ph := phase(0); ph.String() != fmt.Sprintf("phase(%d)", int(ph)); ph++ {
		name, ok := phaseNames[ph]
		if !ok {
			t.Errorf("phase %s has no name in phaseNames (snapshot.go)", ph)
			continue
		}
		if other, dup := names[name]; dup {
			t.Errorf("phases %s and %s are both %q", other, ph, name)
		}
		names[name] = ph
		if got, ok := phaseByName(name); !ok || got != ph {
			t.Errorf("phaseByName(%q) = %v, %v, want %v", name, got, ok, ph)
		}
	}
}

// snapshotCmp compares simulator state, unexported fields included.
var snapshotCmp = cmp.Options{
	cmp.Exporter(func(reflect.Type) bool { return true }),
	cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) && a.Location().String() == b.Location().String() }),
}

// TestSnapshotComplete fills every field of the state (payments with all
// their fields, tokens, consents, Order Management, images, the clock
// offset and the transaction counter), saves, restarts from the file and
// compares. When a struct gains a field that the snapshot does not carry,
// the diff names it.
func TestSnapshotComplete(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sim.json")
	clock := func() time.Time { return time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC) } // before every filled time
	cfg := Config{Now: clock, SnapshotPath: path}
	s1, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f := &filler{t: t}
	s1.mu.Lock()
	s1.offset = 90*time.Minute + 7
	s1.nextTx = firstTxID + 42
	s1.app.sessions = map[*payment]*appSession{}
	for i := range 2 {
		p := filled[payment](f, fmt.Sprintf("payment%d", i))
		s1.payments[payKey{p.msn, p.orderID}] = &p
		s1.byToken[p.token] = &p
		if i == 0 {
			s1.app.sessions[&p] = filled[*appSession](f, "session")
		}
	}
	// A payment waiting for the user, with the pointers and slices the
	// simulator leaves nil.
	waiting := &payment{msn: "123456", orderID: "waiting-1", token: "tok-waiting", phase: phaseInitiated, idem: map[idemKey]idemRecord{}}
	s1.payments[payKey{waiting.msn, waiting.orderID}] = waiting
	s1.byToken[waiting.token] = waiting
	s1.open[waiting] = struct{}{}
	s1.tokens = filled[map[string]issuedToken](f, "tokens")
	s1.subs = filled[map[consentKey]*consent](f, "subs")
	s1.verified = map[string]bool{PhoneUnverifiedFirst: true, "40000142": true} // only documented numbers load
	s1.om = filled[map[omKey]*omOrder](f, "om")
	s1.images = filled[map[vipps.MSN]map[string]bool](f, "images")
	s1.app.images = map[imageKey][]byte{}
	for msn, ids := range s1.images {
		for id := range ids {
			s1.app.images[imageKey{msn, id}] = filled[[]byte](f, "image")
		}
	}
	s1.app.consents = filled[map[expressConsentKey]time.Time](f, "consents")
	s1.mu.Unlock()
	if err := s1.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}

	s2, err := New(cfg)
	if err != nil {
		t.Fatalf("New from %s = %v", path, err)
	}
	defer s2.Close()
	for name, class := range snapshotFields {
		if class != "snapshot" {
			continue
		}
		want, got := field(s1, name), field(s2, name)
		if name == "app.sessions" { // keyed by *payment: compare by payment
			want, got = sessionsByKey(s1.app.sessions), sessionsByKey(s2.app.sessions)
		}
		if reflect.ValueOf(want).IsZero() {
			t.Errorf("Simulator.%s is zero before the save; set it in this test", name)
		}
		if diff := cmp.Diff(want, got, snapshotCmp); diff != "" {
			t.Errorf("Simulator.%s after a restart (-saved +restored); carry the missing fields in snapshot.go and snapshotstate.go:\n%s", name, diff)
		}
	}
	// Derived state.
	if diff := cmp.Diff(s1.byToken, s2.byToken, snapshotCmp); diff != "" {
		t.Errorf("byToken after a restart (-saved +restored):\n%s", diff)
	}
	if len(s2.open) != 1 || s2.byToken["tok-waiting"] == nil {
		t.Errorf("open = %v, want only the waiting payment", s2.open)
	}
	for p := range s2.open {
		if p != s2.byToken["tok-waiting"] {
			t.Errorf("open holds %s, want waiting-1", p.orderID)
		}
	}
}

// TestSnapshotWriteFailure checks that a failed write leaves the old file
// as it was, and that Close reports it.
func TestSnapshotWriteFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sim.json")
	s, err := New(Config{SnapshotPath: path})
	if err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("New did not create %s: %v", path, err)
	}
	// The write dies half-way, as on a full disk or a crash.
	s.mu.Lock()
	s.snap.write = func(path string, data []byte) error {
		return replaceFile(path, func(w io.Writer) error {
			w.Write(data[:len(data)/2])
			return errors.New("disk full")
		})
	}
	s.mu.Unlock()
	s.Advance(time.Hour)
	err = s.Close()
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Close = %v, want an error naming %s and the cause", err, path)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(before), string(after)); diff != "" {
		t.Errorf("the file changed after a failed write (-before +after):\n%s", diff)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %v, want only sim.json (no temporary files)", entries)
	}

	// Once writing works again, the next save catches up.
	s.mu.Lock()
	s.snap.write = writeFileAtomic
	s.mu.Unlock()
	if err := s.Close(); err != nil {
		t.Fatalf("Close after recovery = %v", err)
	}
	s2, err := New(Config{SnapshotPath: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if s2.offset != time.Hour {
		t.Errorf("clock offset after recovery = %v, want 1h", s2.offset)
	}
}

// TestReplaceFile checks the atomic write on its own: a failed fill leaves
// the old file and no temporary file; a good one replaces the file.
func TestReplaceFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.json")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		fill    func(io.Writer) error
		wantErr bool
		want    string
	}{
		{"fails half-way", func(w io.Writer) error { io.WriteString(w, "ne"); return errors.New("boom") }, true, "old"},
		{"succeeds", func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }, false, "new"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := replaceFile(path, tt.fill)
			if (err != nil) != tt.wantErr {
				t.Fatalf("replaceFile = %v, want error %v", err, tt.wantErr)
			}
			got, _ := os.ReadFile(path)
			if string(got) != tt.want {
				t.Errorf("file = %q, want %q", got, tt.want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("directory holds %v, want only f.json", entries)
			}
		})
	}
}

// TestSnapshotSaver checks that changes reach the file without Close, and
// that Close stops the saver.
func TestSnapshotSaver(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sim.json")
	s, err := New(Config{SnapshotPath: path})
	if err != nil {
		t.Fatal(err)
	}
	s.Advance(90 * time.Minute)
	waitForFile(t, path, `"clockOffset": "1h30m0s"`)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.snap.stopped:
	default:
		t.Error("the saver still runs after Close")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func sessionsByKey(m map[*payment]*appSession) map[payKey]*appSession {
	out := map[payKey]*appSession{}
	for p, sess := range m {
		out[payKey{p.msn, p.orderID}] = sess
	}
	return out
}

// countingWrites makes s count its snapshot writes, and lets a test hold a
// write half-way: while hold is set, each write signals on started and
// waits for release.
type countingWrites struct {
	n       atomic.Int32
	hold    atomic.Bool
	started chan struct{}
	release chan struct{}
}

func countWrites(s *Simulator) *countingWrites {
	c := &countingWrites{started: make(chan struct{}), release: make(chan struct{})}
	s.mu.Lock()
	s.snap.write = func(path string, data []byte) error {
		if c.hold.Load() {
			c.started <- struct{}{}
			<-c.release
		}
		c.n.Add(1)
		return writeFileAtomic(path, data)
	}
	s.mu.Unlock()
	return c
}

// waitForFile waits until the snapshot file contains want.
func waitForFile(t *testing.T, path, want string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the snapshot does not hold %s within 5s:\n%s", want, b)
		}
	}
}

// TestSnapshotSavesOnlyChanges checks that the saver writes after a change
// and does nothing at all while only reads happen: no write, and not even
// a count of a change that would make it capture the state.
func TestSnapshotSavesOnlyChanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sim.json")
	srv := NewServer(t, func(c *Config) { c.SnapshotPath = path })
	s := srv.Sim
	writes := countWrites(s)
	ctx := t.Context()
	if _, err := srv.Client.Initiate(ctx, vipps.InitiateRequest{
		MerchantInfo: vipps.MerchantInfo{CallbackPrefix: "https://shop.example/vipps", FallBack: "https://shop.example/return"},
		Transaction:  vipps.InitiateTransaction{OrderID: "acme-1", Amount: 10000, TransactionText: "Socks"},
	}); err != nil {
		t.Fatal(err)
	}
	waitForFile(t, path, `"orderId": "acme-1"`)
	if writes.n.Load() == 0 {
		t.Fatal("the change reached the file without a write")
	}
	// Let a save that is due run before the read-only period starts.
	time.Sleep(2 * snapshotDelay)

	s.mu.Lock()
	changes := s.mu.changes
	s.mu.unlockRead()
	before, n := must(os.ReadFile(path)), writes.n.Load()
	for range 3 {
		if _, err := srv.Client.Details(ctx, "acme-1"); err != nil {
			t.Fatal(err)
		}
		//lint:ignore SA1019 the simulator serves the deprecated status endpoint, so its tests call it
		if _, err := srv.Client.Status(ctx, "acme-1"); err != nil {
			t.Fatal(err)
		}
		if _, err := srv.Client.Details(ctx, "no-such-order"); err == nil {
			t.Fatal("Details of an unknown order succeeded")
		}
		s.Now()
		s.Payments()
		s.Requests()
		s.Callbacks()
		must(s.Metrics().Gather())
		for _, path := range []string{"/_sim/clock", "/_sim/payments", "/_sim/payments/acme-1", "/_sim/requests", "/_sim/callbacks"} {
			if resp, err := http.Get(srv.URL + path); err != nil {
				t.Fatal(err)
			} else {
				resp.Body.Close()
			}
		}
		time.Sleep(snapshotDelay)
	}
	s.mu.Lock()
	after := s.mu.changes
	s.mu.unlockRead()
	if after != changes {
		t.Errorf("reads counted %d changes of state, want none", after-changes)
	}
	if got := writes.n.Load(); got != n {
		t.Errorf("the saver wrote %d times while only reads happened, want none", got-n)
	}
	if diff := cmp.Diff(string(before), string(must(os.ReadFile(path)))); diff != "" {
		t.Errorf("the file changed while only reads happened (-before +after):\n%s", diff)
	}

	// A payment that times out while only reads happen is a change.
	s.mu.Lock()
	s.offset += paymentTimeout
	s.mu.unlockRead() // as if only the real clock had moved
	if _, err := srv.Client.Details(ctx, "acme-1"); err != nil {
		t.Fatal(err)
	}
	waitForFile(t, path, `"phase": "timed-out"`)
}

// TestSnapshotChangeDuringSave checks that a change made while the file is
// being written is not lost: it is saved by a later tick of the saver, and
// by Close when Close comes first.
func TestSnapshotChangeDuringSave(t *testing.T) {
	for _, closeAtOnce := range []bool{false, true} {
		t.Run(fmt.Sprintf("close at once %v", closeAtOnce), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sim.json")
			s, err := New(Config{SnapshotPath: path})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			writes := countWrites(s)
			writes.hold.Store(true)
			s.Advance(time.Hour)
			<-writes.started // the saver writes the 1h offset
			writes.hold.Store(false)
			s.Advance(time.Hour) // the write does not hold the lock
			close(writes.release)
			if closeAtOnce {
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
			}
			waitForFile(t, path, `"clockOffset": "2h0m0s"`)
		})
	}
}
