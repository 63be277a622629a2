package postgres_test

import (
	"context"
	"log"
	"time"

	"github.com/vippskit/vipps/internal/postgres"
)

// Open applies the migrations; every replica may call it at start-up.
func ExampleOpen() {
	ctx := context.Background()
	s, err := postgres.Open(ctx, "postgres://postgres@127.0.0.1:5432/shop?sslmode=disable&search_path=vipps")
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	// A poller on each replica leases due payments; no payment is leased
	// to two replicas at once.
	due, err := s.Lease(ctx, "replica-1", time.Now(), 30*time.Second, 50)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("%d payments to check", len(due))
}
