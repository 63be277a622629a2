package payment_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/vippskit/vipps/internal/payment"
)

// scrubStore is a store with a Scrub method that records its calls and,
// with err set, fails them.
type scrubStore struct {
	payment.Store
	ids []string // the user ids to look up at a call
	err error
	mu  sync.Mutex
	// calls holds, for each call, the user ids of ids that payments still
	// had: none, once the erasure is stored.
	calls [][]string
}

func (s *scrubStore) Scrub(ctx context.Context) error {
	var users []string
	for _, id := range s.ids {
		ps, err := s.ByUser(ctx, id)
		if err != nil {
			return err
		}
		for _, p := range ps {
			users = append(users, p.UserID)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, users)
	return s.err
}

func (s *scrubStore) scrubs() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// TestConsentRemovalScrubs: once a consent removal has stored the erasure,
// the service scrubs a store that can (a SQLite store checkpoints its WAL,
// where the erased values linger); a failed scrub is logged, and the
// erasure stands.
func TestConsentRemovalScrubs(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
	}{
		{"scrubbed", nil},
		{"scrub fails", errors.New("checkpoint: database is locked")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := &scrubStore{err: tt.err}
			e := newEnv(t, func(c *payment.Config) { st.Store = c.Store; c.Store = st })
			p := e.create(payment.CreateRequest{Express: true})
			if err := e.sim.Sim.Approve(p.OrderID, ""); err != nil {
				t.Fatal(err)
			}
			user := e.waitState(p.OrderID, payment.Reserved).UserID
			if user == "" {
				t.Fatal("the express payment stored no user")
			}
			st.ids = []string{user}
			ctx := context.Background()
			if err := e.svc.RemoveConsent(ctx, user); err != nil {
				t.Fatalf("RemoveConsent(...) = %v, want nil (the erasure is stored)", err)
			}
			calls := st.scrubs()
			if len(calls) != 1 || len(calls[0]) != 0 {
				t.Fatalf("Scrub calls = %v, want one, after the erasure was stored (no payment of the user left)", calls)
			}
			if got := e.Get(p.OrderID); got.UserID != "" || got.Shipping != nil {
				t.Errorf("after consent removal: user %q, shipping %s; want both gone", got.UserID, got.Shipping)
			}
			logged := strings.Contains(e.Logs.String(), "level=WARN msg=\"consent removed, but scrubbing the store failed")
			if logged != (tt.err != nil) {
				t.Errorf("WARN about the failed scrub logged = %v, want %v", logged, tt.err != nil)
			}
			// Nothing more to erase: a repeat, or an unknown user, does not
			// scrub again.
			for _, id := range []string{user, "unknown-user"} {
				if err := e.svc.RemoveConsent(ctx, id); err != nil {
					t.Fatalf("RemoveConsent(%q) = %v", id, err)
				}
			}
			if n := len(st.scrubs()); n != 1 {
				t.Errorf("Scrub calls after a repeat and an unknown user = %d, want still 1", n)
			}
		})
	}
}
