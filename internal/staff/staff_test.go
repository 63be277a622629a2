package staff_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/internal/servicetest"
	"github.com/vippskit/vipps/internal/sqlite"
	"github.com/vippskit/vipps/internal/staff"
)

// newService returns a Service on a fresh SQLite store, with a clock the
// test moves.
func newService(t *testing.T) (*staff.Service, *servicetest.ManualClock) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "vipps.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clock := servicetest.NewManualClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	s, err := staff.New(staff.Config{Store: st, Now: clock.Now, WeakHashForTests: true})
	if err != nil {
		t.Fatal(err)
	}
	return s, clock
}

const pw = "correct horse battery"

func TestRoleMay(t *testing.T) {
	tests := []struct {
		r, least staff.Role
		want     bool
	}{
		{staff.Viewer, staff.Viewer, true},
		{staff.Viewer, staff.Operator, false},
		{staff.Operator, staff.Viewer, true},
		{staff.Operator, staff.Admin, false},
		{staff.Admin, staff.Operator, true},
		{"root", staff.Viewer, false},
	}
	for _, tt := range tests {
		if got := tt.r.May(tt.least); got != tt.want {
			t.Errorf("Role(%q).May(%q) = %v, want %v", tt.r, tt.least, got, tt.want)
		}
	}
}

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		name, pw string
		want     string // in the error; "" for none
	}{
		{"ok", pw, ""},
		{"short", "elevenchars", "at least 12"},
		{"72 bytes", strings.Repeat("a", 72), ""},
		{"73 bytes", strings.Repeat("a", 73), "73 bytes; at most 72"},
		{"æøå over 72 bytes", strings.Repeat("æ", 37), "74 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := staff.CheckPassword(tt.pw)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("CheckPassword = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, payment.ErrInvalid)):
				t.Errorf("CheckPassword = %v, want ErrInvalid saying %q", err, tt.want)
			}
		})
	}
}

func TestCheckName(t *testing.T) {
	for name, ok := range map[string]bool{"kari": true, "kari.nordmann@shop.no": true, "Ærlig-Øyvind_2": true,
		"": false, "kari nordmann": false, "<b>": false, strings.Repeat("a", 65): false} {
		if err := staff.CheckName(name); (err == nil) != ok {
			t.Errorf("CheckName(%q) = %v, want ok %v", name, err, ok)
		}
	}
}

func TestSignIn(t *testing.T) {
	s, clock := newService(t)
	ctx := t.Context()
	if _, err := s.Add(ctx, "Kari", staff.Operator, pw); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, user, pw string
	}{
		{"wrong password", "kari", pw + "x"},
		{"unknown user", "ola", pw},
		{"empty", "", ""},
		{"too long", "kari", pw + strings.Repeat("x", 80)},
	}
	for _, tt := range tests {
		if _, _, err := s.SignIn(ctx, tt.user, tt.pw); !errors.Is(err, staff.ErrSignIn) {
			t.Errorf("%s: SignIn(%q) = %v, want ErrSignIn", tt.name, tt.user, err)
		}
	}
	a, token, err := s.SignIn(ctx, "KARI", pw)
	if err != nil {
		t.Fatalf("SignIn(KARI) = %v", err)
	}
	if a.Name != "Kari" || len(token.Reveal()) != 43 {
		t.Errorf("SignIn = %s with a token of %d characters, want Kari and 43", a.Name, len(token.Reveal()))
	}
	if got, _, err := s.Session(ctx, token.Reveal()); err != nil || got.Name != "Kari" {
		t.Errorf("Session = %v, %v; want Kari", got, err)
	}

	// Used within the idle timeout, the session lives on; past it, it ends.
	for range 3 {
		clock.Advance(11 * time.Hour)
		if _, _, err := s.Session(ctx, token.Reveal()); err != nil {
			t.Fatalf("Session after 11 h idle = %v", err)
		}
	}
	clock.Advance(12 * time.Hour)
	if _, _, err := s.Session(ctx, token.Reveal()); !errors.Is(err, staff.ErrNoSession) {
		t.Errorf("Session after 12 h idle = %v, want ErrNoSession", err)
	}

	// Used all the time, it ends 7 days after sign-in.
	_, token, err = s.SignIn(ctx, "kari", pw)
	if err != nil {
		t.Fatal(err)
	}
	for range 14 { // 14 × 11:59 is 167:46
		clock.Advance(12*time.Hour - time.Minute)
		if _, _, err := s.Session(ctx, token.Reveal()); err != nil {
			t.Fatalf("Session = %v", err)
		}
	}
	clock.Advance(time.Hour)
	if _, _, err := s.Session(ctx, token.Reveal()); !errors.Is(err, staff.ErrNoSession) {
		t.Errorf("Session 7 days after sign-in = %v, want ErrNoSession", err)
	}

	if err := s.SignOut(ctx, token.Reveal()); err != nil {
		t.Errorf("SignOut of an ended session = %v", err)
	}
}

// TestSessionsEnd: a new password, disabling, and signing out end
// sessions; a new role does not.
func TestSessionsEnd(t *testing.T) {
	s, _ := newService(t)
	ctx := payment.WithActor(t.Context(), payment.Staff("boss"))
	for _, n := range []string{"boss", "kari"} {
		if _, err := s.Add(ctx, n, staff.Admin, pw); err != nil {
			t.Fatal(err)
		}
	}
	signIn := func() string {
		t.Helper()
		_, tok, err := s.SignIn(ctx, "kari", pw)
		if err != nil {
			t.Fatal(err)
		}
		return tok.Reveal()
	}
	alive := func(tok string) bool {
		_, _, err := s.Session(ctx, tok)
		return err == nil
	}
	tok := signIn()
	a, err := s.SetRole(ctx, "kari", staff.Viewer)
	if err != nil || a.UpdatedBy != "boss" {
		t.Fatalf("SetRole = %+v, %v; want updated by boss", a, err)
	}
	if !alive(tok) {
		t.Errorf("session ended by a new role")
	}
	if got, _, _ := s.Session(ctx, tok); got.Role != staff.Viewer {
		t.Errorf("session's role = %s, want the new one, viewer", got.Role)
	}
	if _, err := s.SetPassword(ctx, "kari", "another long password"); err != nil {
		t.Fatal(err)
	}
	if alive(tok) {
		t.Errorf("session lives after a new password")
	}
	if _, _, err := s.SignIn(ctx, "kari", pw); !errors.Is(err, staff.ErrSignIn) {
		t.Errorf("SignIn with the old password = %v, want ErrSignIn", err)
	}
	if _, err := s.SetPassword(ctx, "kari", pw); err != nil {
		t.Fatal(err)
	}
	tok = signIn()
	if _, err := s.SetDisabled(ctx, "kari", true); err != nil {
		t.Fatal(err)
	}
	if alive(tok) {
		t.Errorf("session lives after disabling")
	}
	if _, _, err := s.SignIn(ctx, "kari", pw); !errors.Is(err, staff.ErrSignIn) {
		t.Errorf("SignIn while disabled = %v, want ErrSignIn", err)
	}
	if _, err := s.SetDisabled(ctx, "kari", false); err != nil {
		t.Fatal(err)
	}
	tok = signIn()
	if err := s.SignOut(ctx, tok); err != nil || alive(tok) {
		t.Errorf("SignOut = %v, session alive %v; want ended", err, alive(tok))
	}
}

func TestLastAdmin(t *testing.T) {
	s, _ := newService(t)
	ctx := t.Context()
	if _, err := s.Add(ctx, "boss", staff.Admin, pw); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetRole(ctx, "boss", staff.Operator); !errors.Is(err, payment.ErrState) {
		t.Errorf("SetRole(last admin, operator) = %v, want ErrState", err)
	}
	if _, err := s.SetDisabled(ctx, "boss", true); !errors.Is(err, payment.ErrState) {
		t.Errorf("SetDisabled(last admin) = %v, want ErrState", err)
	}
	if _, err := s.Add(ctx, "boss2", staff.Admin, pw); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetDisabled(ctx, "boss", true); err != nil {
		t.Errorf("SetDisabled(boss) with another admin = %v", err)
	}
}

func TestBootstrap(t *testing.T) {
	s, _ := newService(t)
	ctx := t.Context()
	if made, err := s.Bootstrap(ctx, "admin", "short"); err == nil || made {
		t.Errorf("Bootstrap(short password) = %v, %v; want an error", made, err)
	}
	if made, err := s.Bootstrap(ctx, "admin", pw); err != nil || !made {
		t.Fatalf("Bootstrap on no accounts = %v, %v; want made", made, err)
	}
	if made, err := s.Bootstrap(ctx, "admin", "another long password"); err != nil || made {
		t.Errorf("Bootstrap again = %v, %v; want nothing made", made, err)
	}
	a, err := s.Get(ctx, "admin")
	if err != nil || a.Role != staff.Admin {
		t.Errorf("Get(admin) = %+v, %v; want an admin", a, err)
	}
	if _, _, err := s.SignIn(ctx, "admin", pw); err != nil {
		t.Errorf("SignIn with the bootstrap password = %v", err)
	}
	if _, err := s.Add(ctx, "ADMIN", staff.Viewer, pw); !errors.Is(err, payment.ErrExists) {
		t.Errorf("Add(ADMIN) = %v, want ErrExists", err)
	}
}

// TestUnknownNameCost: a sign-in of an unknown name checks the password
// against a hash of the service's own cost, so that it takes as long as
// that of a known name, though New no longer waits for that hash.
func TestUnknownNameCost(t *testing.T) {
	for _, weak := range []bool{true, false} {
		st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "vipps.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		s, err := staff.New(staff.Config{Store: st, WeakHashForTests: weak})
		if err != nil {
			t.Fatal(err)
		}
		want := staff.HashCost
		if weak {
			want = bcrypt.MinCost
		}
		h, err := s.DummyHash()
		if err != nil {
			t.Fatal(err)
		}
		if cost, err := bcrypt.Cost(h); err != nil || cost != want {
			t.Errorf("weak %v: the unknown name's hash has cost %d, %v; want %d", weak, cost, err, want)
		}
		if weak { // at HashCost a check takes seconds under -race
			if _, _, err := s.SignIn(t.Context(), "nobody", pw); !errors.Is(err, staff.ErrSignIn) {
				t.Errorf("SignIn(nobody) = %v, want ErrSignIn", err)
			}
		}
	}
}
