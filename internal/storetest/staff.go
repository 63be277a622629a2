package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/internal/staff"
)

// RunStaff runs the conformance suite of staff.Store against the stores
// that open returns: a fresh, empty store each call, closed by open
// (t.Cleanup).
func RunStaff(t *testing.T, open func(t *testing.T) staff.Store) {
	t.Run("Accounts", func(t *testing.T) { testAccounts(t, open(t)) })
	t.Run("FirstAccount", func(t *testing.T) { testFirstAccount(t, open(t)) })
	t.Run("FirstAccountConcurrent", func(t *testing.T) { testFirstAccountConcurrent(t, open(t)) })
	t.Run("UpdateAccount", func(t *testing.T) { testUpdateAccount(t, open(t)) })
	t.Run("LastAdminConcurrent", func(t *testing.T) { testLastAdminConcurrent(t, open(t)) })
	t.Run("Sessions", func(t *testing.T) { testSessions(t, open(t)) })
	t.Run("ExpiredSessions", func(t *testing.T) { testExpiredSessions(t, open(t)) })
}

func newAccount(name string, role staff.Role) *staff.Account {
	return &staff.Account{Name: name, Role: role, PasswordHash: "$2a$04$hash-of-" + name,
		CreatedAt: t0.In(oslo), UpdatedAt: t0.Add(time.Second), UpdatedBy: "command line"}
}

func testAccounts(t *testing.T, s staff.Store) {
	ctx := t.Context()
	kari := newAccount("Kari.Nordmann", staff.Operator)
	if err := s.CreateAccount(ctx, kari, false); err != nil {
		t.Fatalf("CreateAccount(Kari.Nordmann) = %v", err)
	}
	if kari.ID == 0 {
		t.Errorf("CreateAccount set no ID")
	}
	for _, name := range []string{"kari.nordmann", "KARI.NORDMANN"} {
		if err := s.CreateAccount(ctx, newAccount(name, staff.Viewer), false); !errors.Is(err, payment.ErrExists) {
			t.Errorf("CreateAccount(%s) after Kari.Nordmann = %v, want ErrExists", name, err)
		}
	}
	ola := newAccount("øla", staff.Admin)
	if err := s.CreateAccount(ctx, ola, false); err != nil {
		t.Fatalf("CreateAccount(øla) = %v", err)
	}
	got, err := s.Account(ctx, staff.NameKey("KARI.nordmann"))
	if err != nil {
		t.Fatalf("Account(kari.nordmann) = %v", err)
	}
	if diff := cmp.Diff(kari, got, opts); diff != "" {
		t.Errorf("Account(kari.nordmann) mismatch (-want +got):\n%s", diff)
	}
	if got, err := s.Account(ctx, staff.NameKey("ØLA")); err != nil || got.ID != ola.ID {
		t.Errorf("Account(ØLA) = %+v, %v; want øla", got, err)
	}
	if _, err := s.Account(ctx, "nobody"); !errors.Is(err, payment.ErrNotFound) {
		t.Errorf("Account(nobody) = %v, want ErrNotFound", err)
	}
	all, err := s.Accounts(ctx)
	if err != nil {
		t.Fatalf("Accounts = %v", err)
	}
	var names []string
	for _, a := range all {
		names = append(names, a.Name)
	}
	if diff := cmp.Diff([]string{"Kari.Nordmann", "øla"}, names); diff != "" {
		t.Errorf("Accounts names mismatch (-want +got):\n%s", diff)
	}
}

func testFirstAccount(t *testing.T, s staff.Store) {
	ctx := t.Context()
	first := newAccount("admin", staff.Admin)
	if err := s.CreateAccount(ctx, first, true); err != nil {
		t.Fatalf("CreateAccount(admin, onlyFirst) on an empty store = %v", err)
	}
	if err := s.CreateAccount(ctx, newAccount("other", staff.Admin), true); !errors.Is(err, payment.ErrExists) {
		t.Errorf("CreateAccount(other, onlyFirst) with an account = %v, want ErrExists", err)
	}
	if err := s.CreateAccount(ctx, newAccount("other", staff.Viewer), false); err != nil {
		t.Errorf("CreateAccount(other) = %v", err)
	}
}

// testFirstAccountConcurrent: of replicas making the first account at
// once, under different names, one does.
func testFirstAccountConcurrent(t *testing.T, s staff.Store) {
	ctx := t.Context()
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { errs[i] = s.CreateAccount(ctx, newAccount(fmt.Sprintf("admin%d", i), staff.Admin), true) })
	}
	wg.Wait()
	made := 0
	for i, err := range errs {
		switch {
		case err == nil:
			made++
		case !errors.Is(err, payment.ErrExists):
			t.Errorf("CreateAccount(admin%d, onlyFirst) = %v, want nil or ErrExists", i, err)
		}
	}
	all, err := s.Accounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if made != 1 || len(all) != 1 {
		t.Errorf("%d concurrent first accounts: %d made, %d stored; want 1 and 1", n, made, len(all))
	}
}

func testUpdateAccount(t *testing.T, s staff.Store) {
	ctx := t.Context()
	a := newAccount("per", staff.Viewer)
	if err := s.CreateAccount(ctx, a, false); err != nil {
		t.Fatal(err)
	}
	sess := func(h string) *staff.Session {
		return &staff.Session{Hash: h, AccountID: a.ID, CreatedAt: t0, SeenAt: t0}
	}
	for _, h := range []string{"h1", "h2"} {
		if err := s.CreateSession(ctx, sess(h)); err != nil {
			t.Fatalf("CreateSession(%s) = %v", h, err)
		}
	}
	a.Role, a.UpdatedAt, a.UpdatedBy = staff.Operator, t0.Add(time.Hour), "kari"
	if err := s.UpdateAccount(ctx, a, false); err != nil {
		t.Fatalf("UpdateAccount(role) = %v", err)
	}
	if _, _, err := s.Session(ctx, "h1"); err != nil {
		t.Errorf("Session(h1) after UpdateAccount without endSessions = %v, want kept", err)
	}
	a.PasswordHash, a.Disabled, a.UpdatedAt = "$2a$04$new", true, t0.Add(2*time.Hour)
	if err := s.UpdateAccount(ctx, a, true); err != nil {
		t.Fatalf("UpdateAccount(disable) = %v", err)
	}
	got, err := s.Account(ctx, "per")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, got, opts); diff != "" {
		t.Errorf("Account(per) after UpdateAccount mismatch (-want +got):\n%s", diff)
	}
	for _, h := range []string{"h1", "h2"} {
		if _, _, err := s.Session(ctx, h); !errors.Is(err, payment.ErrNotFound) {
			t.Errorf("Session(%s) after UpdateAccount with endSessions = %v, want ErrNotFound", h, err)
		}
	}
	ghost := *a
	ghost.ID = a.ID + 1000
	if err := s.UpdateAccount(ctx, &ghost, true); !errors.Is(err, payment.ErrNotFound) {
		t.Errorf("UpdateAccount(unknown id) = %v, want ErrNotFound", err)
	}
}

func testSessions(t *testing.T, s staff.Store) {
	ctx := t.Context()
	a := newAccount("liv", staff.Admin)
	if err := s.CreateAccount(ctx, a, false); err != nil {
		t.Fatal(err)
	}
	se := &staff.Session{Hash: "abc", AccountID: a.ID, CreatedAt: t0, SeenAt: t0.Add(time.Minute)}
	if err := s.CreateSession(ctx, se); err != nil {
		t.Fatalf("CreateSession = %v", err)
	}
	if err := s.CreateSession(ctx, &staff.Session{Hash: "orphan", AccountID: a.ID + 1000, CreatedAt: t0, SeenAt: t0}); !errors.Is(err, payment.ErrNotFound) {
		t.Errorf("CreateSession(unknown account) = %v, want ErrNotFound", err)
	}
	gotS, gotA, err := s.Session(ctx, "abc")
	if err != nil {
		t.Fatalf("Session(abc) = %v", err)
	}
	if diff := cmp.Diff(se, gotS, opts); diff != "" {
		t.Errorf("Session(abc) mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(a, gotA, opts); diff != "" {
		t.Errorf("Session(abc) account mismatch (-want +got):\n%s", diff)
	}
	if err := s.TouchSession(ctx, "abc", t0.Add(time.Hour)); err != nil {
		t.Fatalf("TouchSession = %v", err)
	}
	if gotS, _, err := s.Session(ctx, "abc"); err != nil || !gotS.SeenAt.Equal(t0.Add(time.Hour).Truncate(time.Microsecond)) {
		t.Errorf("Session(abc) after TouchSession = %+v, %v; want SeenAt %v", gotS, err, t0.Add(time.Hour))
	}
	if err := s.TouchSession(ctx, "nope", t0); err != nil {
		t.Errorf("TouchSession(unknown) = %v, want nil", err)
	}
	if err := s.DeleteSession(ctx, "abc"); err != nil {
		t.Fatalf("DeleteSession = %v", err)
	}
	if _, _, err := s.Session(ctx, "abc"); !errors.Is(err, payment.ErrNotFound) {
		t.Errorf("Session(abc) after DeleteSession = %v, want ErrNotFound", err)
	}
	if err := s.DeleteSession(ctx, "abc"); err != nil {
		t.Errorf("DeleteSession again = %v, want nil", err)
	}
}

func testExpiredSessions(t *testing.T, s staff.Store) {
	ctx := t.Context()
	a := newAccount("eva", staff.Viewer)
	if err := s.CreateAccount(ctx, a, false); err != nil {
		t.Fatal(err)
	}
	for _, se := range []staff.Session{
		{Hash: "idle", CreatedAt: t0, SeenAt: t0},                                        // not seen since t0
		{Hash: "old", CreatedAt: t0.Add(-8 * 24 * time.Hour), SeenAt: t0.Add(time.Hour)}, // too old
		{Hash: "fresh", CreatedAt: t0, SeenAt: t0.Add(time.Hour)},
	} {
		se.AccountID = a.ID
		if err := s.CreateSession(ctx, &se); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.DeleteExpiredSessions(ctx, t0.Add(time.Minute), t0.Add(-7*24*time.Hour))
	if err != nil || n != 2 {
		t.Errorf("DeleteExpiredSessions = %d, %v; want 2, nil", n, err)
	}
	for h, want := range map[string]error{"idle": payment.ErrNotFound, "old": payment.ErrNotFound, "fresh": nil} {
		if _, _, err := s.Session(ctx, h); !errors.Is(err, want) {
			t.Errorf("Session(%s) after DeleteExpiredSessions = %v, want %v", h, err, want)
		}
	}
}

// testLastAdminConcurrent: two changes at once that each take one of the
// last two administrators away cannot both be stored: one is refused with
// ErrLastAdmin and one enabled administrator is left, round after round;
// the last one cannot be taken away either, and changes of other accounts
// are no changes of the administrators.
func testLastAdminConcurrent(t *testing.T, s staff.Store) {
	ctx := t.Context()
	anna, bjorn, kari := newAccount("anna", staff.Admin), newAccount("bjorn", staff.Admin), newAccount("kari", staff.Operator)
	for _, x := range []*staff.Account{anna, bjorn, kari} {
		if err := s.CreateAccount(ctx, x, false); err != nil {
			t.Fatalf("CreateAccount(%s) = %v", x.Name, err)
		}
	}
	var last *staff.Account
	for round := range 50 {
		// Both administrators again (adding one is always allowed).
		for _, x := range []*staff.Account{anna, bjorn} {
			x.Role, x.Disabled = staff.Admin, false
			if err := s.UpdateAccount(ctx, x, false); err != nil {
				t.Fatalf("round %d: UpdateAccount(%s) = %v", round, x.Name, err)
			}
		}
		demoted, disabled := *anna, *bjorn
		demoted.Role, disabled.Disabled = staff.Operator, true
		var wg sync.WaitGroup
		errs := make([]error, 2)
		wg.Go(func() { errs[0] = s.UpdateAccount(ctx, &demoted, false) })
		wg.Go(func() { errs[1] = s.UpdateAccount(ctx, &disabled, true) })
		wg.Wait()
		refused := 0
		for _, err := range errs {
			switch {
			case errors.Is(err, staff.ErrLastAdmin):
				refused++
			case err != nil:
				t.Fatalf("round %d: UpdateAccount = %v", round, err)
			}
		}
		if refused != 1 {
			t.Fatalf("round %d: %d of 2 changes refused, want 1 (errors %v)", round, refused, errs)
		}
		all, err := s.Accounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		last = nil
		for _, x := range all {
			if x.Role == staff.Admin && !x.Disabled {
				if last != nil {
					t.Fatalf("round %d: two enabled administrators left, want one", round)
				}
				last = x
			}
		}
		if last == nil {
			t.Fatalf("round %d: no enabled administrator left", round)
		}
	}
	last.Role = staff.Viewer
	if err := s.UpdateAccount(ctx, last, false); !errors.Is(err, staff.ErrLastAdmin) {
		t.Errorf("demoting the last administrator = %v, want ErrLastAdmin", err)
	}
	kari.Role = staff.Viewer
	if err := s.UpdateAccount(ctx, kari, false); err != nil {
		t.Errorf("UpdateAccount(kari) = %v", err)
	}
}
