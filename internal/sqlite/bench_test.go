package sqlite

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

// BenchmarkTokenHash reads a callback token for an orderId that exists and
// for one that does not. The callback handler looks up every callback's
// orderId this way, so the two should cost about the same: a difference
// tells an attacker which orderIds exist. Compare the two ns/op figures.
func BenchmarkTokenHash(b *testing.B) {
	s, err := Open(b.Context(), filepath.Join(b.TempDir(), "vipps.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	for i := range 1000 {
		p := &payment.Payment{OrderID: vipps.OrderID(fmt.Sprintf("shop-%d", i)), MSN: "123456", Kind: payment.Regular,
			Text: "Socks", State: payment.Reserved, AuthTokenHash: "sha256:" + fmt.Sprint(i),
			Amounts: payment.Amounts{Authorized: 1000}, CreatedAt: now, UpdatedAt: now}
		if err := s.Create(b.Context(), p); err != nil {
			b.Fatal(err)
		}
	}
	for _, bb := range []struct {
		name string
		id   vipps.OrderID
	}{{"known", "shop-500"}, {"unknown", "shop-x500"}} {
		b.Run(bb.name, func(b *testing.B) {
			for b.Loop() {
				_, _ = s.TokenHash(b.Context(), bb.id)
			}
		})
	}
}

// BenchmarkAnswerReads reads what an answer about a payment shows (the
// payment, its events and its operations) while another payment is
// written all the time, as in a busy service, where each commit makes the
// readers read their pages again: as one Snapshot, and as the three reads
// Get, Events and Operations. Compare the ns/op figures.
func BenchmarkAnswerReads(b *testing.B) {
	s, err := Open(b.Context(), filepath.Join(b.TempDir(), "vipps.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	for _, id := range []vipps.OrderID{"read-me", "write-me"} {
		p := &payment.Payment{OrderID: id, MSN: "123456", Kind: payment.Regular, Text: "Socks", State: payment.Reserved,
			Amounts: payment.Amounts{Authorized: 1000}, CreatedAt: now, UpdatedAt: now}
		ev := []payment.Event{{Type: payment.EventCreated, State: payment.Created, At: now},
			{Type: payment.EventInitiated, State: payment.Initiated, At: now}, {Type: payment.EventReserved, State: payment.Reserved, At: now}}
		if err := s.Create(b.Context(), p, ev...); err != nil {
			b.Fatal(err)
		}
	}
	op := &payment.Operation{OrderID: "read-me", Kind: payment.OpCapture, IdempotencyKey: "k", RequestID: "r", Status: payment.OpPending, CreatedAt: now, UpdatedAt: now}
	if _, err := s.AddOperation(b.Context(), op, nil); err != nil {
		b.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // the writer
		defer close(done)
		w, err := s.Get(b.Context(), "write-me")
		if err != nil {
			b.Error(err)
			return
		}
		for {
			select {
			case <-stop:
				return
			default:
			}
			w.UpdatedAt = w.UpdatedAt.Add(time.Millisecond)
			if err := s.Update(b.Context(), w); err != nil {
				b.Error(err)
				return
			}
		}
	}()
	defer func() { close(stop); <-done }()
	b.Run("snapshot", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Snapshot(b.Context(), "read-me"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("three-reads", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Get(b.Context(), "read-me"); err != nil {
				b.Fatal(err)
			}
			if _, err := s.Events(b.Context(), "read-me"); err != nil {
				b.Fatal(err)
			}
			if _, err := s.Operations(b.Context(), "read-me", false); err != nil {
				b.Fatal(err)
			}
		}
	})
}
