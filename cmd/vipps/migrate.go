package main

import (
	"context"
	"fmt"
)

const migrateDoc = `
Migrate brings the payment service's database schema up to date: it
applies the embedded migrations that the database does not have yet, in
order, and does nothing when it is current. "vipps serve" does the same at
start; run migrate to do it ahead of a deploy. Several replicas on one
PostgreSQL database may start (or migrate) at once: the migrations run
once, under a lock.

-database is a SQLite file path or file: URL (created when missing) or a
PostgreSQL URL (postgres://user:password@host:5432/db?sslmode=disable).
`

func runMigrate(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "migrate", "", migrateDoc)
	var database string
	defineDatabase(fs, &database)
	if err := fs.parseFlags(args); err != nil {
		return err
	}
	db, err := parseDatabase(database)
	if err != nil {
		return fs.usageErr(err)
	}
	name := redact(database)
	_, closer, err := openStore(ctx, db)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", name, err)
	}
	if err := closer.Close(); err != nil {
		return fmt.Errorf("migrate %s: %w", name, err)
	}
	fmt.Fprintf(e.stdout, "database %s: schema up to date\n", name)
	return nil
}
