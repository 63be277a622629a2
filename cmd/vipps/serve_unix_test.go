//go:build unix

package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestServeFilesOwnerOnly: the files of a simulated run hold personal
// data or secrets and are readable by their owner only.
func TestServeFilesOwnerOnly(t *testing.T) {
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })
	db := filepath.Join(t.TempDir(), "vipps.db")
	app := startTestServe(t, "-database", db)
	check := func(files ...string) {
		t.Helper()
		for _, f := range files {
			fi, err := os.Stat(f)
			if err != nil {
				t.Error(err)
				continue
			}
			if got := fi.Mode().Perm(); got != 0o600 {
				t.Errorf("%s: mode %v, want -rw-------", filepath.Base(f), got)
			}
		}
	}
	check(db, db+"-wal", db+"-shm", db+".secrets")
	if err := app.close(); err != nil {
		t.Fatal(err)
	}
	check(db, db+".secrets", db+".sim.json")
}
