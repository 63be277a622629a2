package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/internal/sqlite"
)

// Open creates the database file and applies the migrations; a poller then
// leases the payments that are due.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "vipps")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(dir, "vipps.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	p := &payment.Payment{
		OrderID: "acme-1", MSN: "123456", Kind: payment.Regular, Text: "Two mugs",
		State: payment.Initiated, Amounts: payment.Amounts{Authorized: 25000},
		CreatedAt: now, UpdatedAt: now, NextCheckAt: now.Add(5 * time.Second),
	}
	if err := s.Create(ctx, p, payment.Event{Type: payment.EventCreated, State: payment.Created, At: now}); err != nil {
		log.Fatal(err)
	}
	err = s.Create(ctx, p)
	fmt.Println("again:", errors.Is(err, payment.ErrExists))

	due, err := s.Lease(ctx, "replica-1", now.Add(10*time.Second), 30*time.Second, 50)
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range due {
		fmt.Println(p.OrderID, p.LeaseOwner, p.LeaseUntil.Format(time.TimeOnly))
	}
	// Output:
	// again: true
	// acme-1 replica-1 12:00:40
}
