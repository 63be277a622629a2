package staff_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
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
		want     *staff.Refusal // nil for none
		says     string         // in the error
	}{
		{"ok", pw, nil, ""},
		{"short", "elevenchars", &staff.Refusal{Reason: staff.PasswordTooShort, Length: 11, Limit: 12}, "at least 12"},
		{"72 bytes", strings.Repeat("a", 72), nil, ""},
		{"73 bytes", strings.Repeat("a", 73), &staff.Refusal{Reason: staff.PasswordTooLong, Length: 73, Limit: 72}, "73 bytes; at most 72"},
		{"æøå over 72 bytes", strings.Repeat("æ", 37), &staff.Refusal{Reason: staff.PasswordTooLong, Length: 74, Limit: 72}, "74 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkRefusal(t, "CheckPassword", staff.CheckPassword(tt.pw), tt.want, payment.ErrInvalid, tt.says)
		})
	}
}

func TestCheckName(t *testing.T) {
	tests := []struct {
		name string
		want *staff.Refusal
		says string
	}{
		{"kari", nil, ""},
		{"kari.nordmann@shop.no", nil, ""},
		{"Ærlig-Øyvind_2", nil, ""},
		{"", &staff.Refusal{Reason: staff.NameEmpty}, "empty"},
		{"kari nordmann", &staff.Refusal{Reason: staff.NameCharacter, Char: ' '}, "not ' '"},
		{"<b>", &staff.Refusal{Reason: staff.NameCharacter, Char: '<'}, "not '<'"},
		{"kari\xff", &staff.Refusal{Reason: staff.NameNotText}, "UTF-8"},
		{strings.Repeat("a", 65), &staff.Refusal{Reason: staff.NameTooLong, Length: 65, Limit: 64}, "65 characters; at most 64"},
	}
	for _, tt := range tests {
		checkRefusal(t, fmt.Sprintf("CheckName(%q)", tt.name), staff.CheckName(tt.name), tt.want, payment.ErrInvalid, tt.says)
	}
}

// checkRefusal checks that err is the refusal want (or nil for none),
// wraps sentinel, and says says in English.
func checkRefusal(t *testing.T, call string, err error, want *staff.Refusal, sentinel error, says string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Errorf("%s = %v, want nil", call, err)
		}
		return
	}
	got, ok := errors.AsType[*staff.Refusal](err)
	if !ok {
		t.Errorf("%s = %v, want a *staff.Refusal", call, err)
		return
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: refusal (-want +got):\n%s", call, diff)
	}
	if !errors.Is(err, sentinel) || !strings.Contains(err.Error(), says) {
		t.Errorf("%s = %v, want %v saying %q", call, err, sentinel, says)
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
	last := &staff.Refusal{Reason: staff.LastAdmin, Name: "boss"}
	_, err := s.SetRole(ctx, "boss", staff.Operator)
	checkRefusal(t, "SetRole(last admin, operator)", err, last, payment.ErrState, "boss is the only enabled administrator")
	_, err = s.SetDisabled(ctx, "boss", true)
	checkRefusal(t, "SetDisabled(last admin)", err, last, staff.ErrLastAdmin, "boss is the only enabled administrator")
	_, err = s.SetRole(ctx, "boss", "root")
	checkRefusal(t, "SetRole(boss, root)", err, &staff.Refusal{Reason: staff.UnknownRole, Role: "root"}, payment.ErrInvalid, `unknown role "root"`)
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
