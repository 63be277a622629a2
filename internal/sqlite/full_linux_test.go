package sqlite

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vippskit/vipps/internal/payment"
)

// TestDiskFull writes while the disk takes no more (RLIMIT_FSIZE at one
// byte makes every write past the first byte of a file fail, as a full
// disk does; the Go runtime ignores SIGXFSZ, so the write fails with
// EFBIG): every write fails with payment.ErrUnavailable, which the shop is
// told as 503, and nothing half-written stays; reads go on. Once the disk
// takes writes again, the same writes succeed. The limit is the whole
// test process's, so the test is not parallel: no other test of the
// package runs meanwhile.
func TestDiskFull(t *testing.T) {
	ctx := t.Context()
	s := open(t, filepath.Join(t.TempDir(), "vipps.db"))
	p := storetestPayment("full-1")
	if err := s.Create(ctx, p); err != nil {
		t.Fatal(err)
	}

	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	full := func() {
		t.Helper()
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: 1, Max: old.Max}); err != nil {
			t.Fatal(err)
		}
	}
	freed := func() {
		t.Helper()
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old) })

	writes := map[string]func() error{
		"Create": func() error { return s.Create(ctx, storetestPayment("full-2")) },
		"Update": func() error {
			q, err := s.Get(ctx, p.OrderID)
			if err != nil {
				return err
			}
			q.Text = "changed"
			return s.Update(ctx, q)
		},
		"AddOperation": func() error {
			_, err := s.AddOperation(ctx, &payment.Operation{OrderID: p.OrderID, Kind: payment.OpCapture, IdempotencyKey: "k1",
				RequestID: "r1", Amount: 100, Status: payment.OpPending, CreatedAt: p.CreatedAt, UpdatedAt: p.CreatedAt}, nil)
			return err
		},
		"AddConsentRemoval": func() error {
			return s.AddConsentRemoval(ctx, "user-key", p.CreatedAt, p.CreatedAt.Add(-time.Hour))
		},
	}
	full()
	for name, write := range writes {
		if err := write(); !errors.Is(err, payment.ErrUnavailable) {
			t.Errorf("%s on a full disk = %v, want ErrUnavailable", name, err)
		}
	}
	if got, err := s.Get(ctx, p.OrderID); err != nil || got.Text != p.Text {
		t.Errorf("Get on a full disk = %+v, %v; want the payment as it was", got, err)
	}
	if _, err := s.Get(ctx, "full-2"); !errors.Is(err, payment.ErrNotFound) {
		t.Errorf("the payment created on a full disk: Get = %v, want ErrNotFound", err)
	}
	freed()
	for name, write := range writes {
		if err := write(); err != nil {
			t.Errorf("%s once the disk takes writes = %v, want nil", name, err)
		}
	}
	if got, err := s.Get(ctx, p.OrderID); err != nil || got.Text != "changed" {
		t.Errorf("Get after = %+v, %v; want the update made once the disk took writes", got, err)
	}
}

// TestOpenOnFullDisk: a service started on a full disk stops with one
// line that says what to do (free space), not only SQLite's "disk I/O
// error" (RLIMIT_FSIZE at one byte stands for the full disk, as in
// TestDiskFull).
func TestOpenOnFullDisk(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vipps.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: 1, Max: old.Max}); err != nil {
		t.Fatal(err)
	}
	s, err = Open(t.Context(), path)
	syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old)
	if err == nil {
		s.Close()
		t.Fatal("Open on a full disk = nil error, want one")
	}
	if msg := err.Error(); !strings.Contains(msg, "is full or failing; free space there") || strings.Contains(msg, "\n") {
		t.Errorf("Open on a full disk = %q, want one line that says to free space", msg)
	}
}
