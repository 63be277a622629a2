package vippstest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// snapshotDelay is how long the saver waits after a change before it
// writes, so that a burst of requests costs one write.
const snapshotDelay = 250 * time.Millisecond

// stateMutex is the simulator's mutex. It also counts changes of state for
// the snapshot saver, which saves only when the count moved since its last
// save.
//
// Unlock counts a change and wakes the saver: whoever may have changed
// state unlocks that way, so that no code path that changes state can
// forget to save it. A holder that only read unlocks with unlockRead,
// which counts nothing; where a reader changes state after all (a payment
// that times out in sweepLocked), that code calls changedLocked. Getting
// this wrong in the safe direction costs a needless save, never a lost
// change.
type stateMutex struct {
	sync.Mutex
	changes uint64        // holders that may have changed state, ever
	wake    chan struct{} // nil without a snapshot; holds at most one wake-up
}

// Unlock counts a change, wakes the snapshot saver and unlocks m.
func (m *stateMutex) Unlock() {
	m.changedLocked()
	m.Mutex.Unlock()
}

// unlockRead unlocks m after a holder that changed nothing a snapshot
// keeps.
func (m *stateMutex) unlockRead() { m.Mutex.Unlock() }

// changedLocked counts a change of state and wakes the snapshot saver.
func (m *stateMutex) changedLocked() {
	m.changes++
	if m.wake != nil {
		select {
		case m.wake <- struct{}{}:
		default: // a wake-up is pending already
		}
	}
}

// snapshotter keeps the snapshot file in step with the simulator.
type snapshotter struct {
	path string
	// write replaces the file (tests swap it); guarded by the simulator's
	// mutex.
	write func(path string, data []byte) error

	// mu is held through a save, so that saves never overlap; it is taken
	// before the simulator's mutex. It guards the fields below.
	mu      sync.Mutex
	saved   []byte // what the file holds; nil until it holds this state
	changes uint64 // stateMutex.changes when saved was captured

	stop    chan struct{} // closed by Close to stop the saver
	stopped chan struct{} // closed by the saver when it returns
}

// openSnapshot loads the snapshot file when there is one, or creates it,
// so that a path that cannot be written fails New rather than the first
// payment. Then it starts the saver. New calls it before s is shared.
func (s *Simulator) openSnapshot(path string) error {
	if path == "" {
		return nil
	}
	s.snap = &snapshotter{path: path, write: writeFileAtomic}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := s.saveSnapshot(); err != nil {
			return err
		}
	case err != nil:
		return fmt.Errorf("vippstest: snapshot: %w", err)
	default:
		f, err := decodeSnapshot(data)
		if err != nil {
			return fmt.Errorf("vippstest: snapshot %s: %w", path, err)
		}
		if err := s.restoreLocked(f); err != nil {
			return fmt.Errorf("vippstest: snapshot %s: %w", path, err)
		}
		s.snap.saved, s.snap.changes = data, s.mu.changes
	}
	s.snap.stop, s.snap.stopped = make(chan struct{}), make(chan struct{})
	s.mu.wake = make(chan struct{}, 1)
	go s.saveLoop(s.mu.wake, s.snap.stop, s.snap.stopped)
	return nil
}

// saveLoop is the snapshot saver: a goroutine owned by the simulator,
// stopped by Close. After each wake-up it waits snapshotDelay, then saves
// if the state changed. A failure is logged (once, until a save succeeds
// again) and retried on the next change and by Close, which returns it.
func (s *Simulator) saveLoop(wake <-chan struct{}, stop <-chan struct{}, stopped chan<- struct{}) {
	defer close(stopped)
	delay := time.NewTimer(snapshotDelay)
	delay.Stop()
	failing := false
	for {
		select {
		case <-stop:
			return
		case <-wake:
		}
		delay.Reset(snapshotDelay)
		select {
		case <-stop:
			delay.Stop()
			return
		case <-delay.C:
		}
		err := s.saveSnapshot()
		switch {
		case err != nil && !failing:
			s.log.LogAttrs(context.Background(), slog.LevelError, "snapshot not saved", slog.String("path", s.snap.path), slog.String("error", err.Error()))
		case err == nil && failing:
			s.log.LogAttrs(context.Background(), slog.LevelInfo, "snapshot saved again", slog.String("path", s.snap.path))
		}
		failing = err != nil
	}
}

// stopSnapshotSaver stops the saver and waits for it. It must be called
// without the lock; calling it again does nothing.
func (s *Simulator) stopSnapshotSaver() {
	if s.snap == nil || s.snap.stop == nil {
		return
	}
	select {
	case <-s.snap.stop:
	default:
		close(s.snap.stop)
	}
	<-s.snap.stopped
}

// saveSnapshot writes the state atomically when it changed since the last
// save; it must be called without the lock. It holds the lock only to
// capture the state and writes the file after, so that requests do not
// wait for the disk: a change made during the write moves the count past
// what this save records, and the next save writes it.
func (s *Simulator) saveSnapshot() error {
	sn := s.snap
	if sn == nil {
		return nil
	}
	sn.mu.Lock()
	defer sn.mu.Unlock()

	s.mu.Mutex.Lock() // not s.mu.Lock/Unlock: saving changes nothing
	changes, write := s.mu.changes, sn.write
	if sn.saved != nil && changes == sn.changes {
		s.mu.Mutex.Unlock()
		return nil
	}
	data, err := json.MarshalIndent(s.snapshotLocked(), "", "  ")
	s.mu.Mutex.Unlock()
	if err != nil {
		return fmt.Errorf("vippstest: snapshot %s: %w", sn.path, err)
	}
	data = append(data, '\n')
	if bytes.Equal(data, sn.saved) { // a change that changed nothing kept
		sn.changes = changes
		return nil
	}
	err = write(sn.path, data)
	s.metrics.snapshotWritten(err)
	if err != nil {
		return fmt.Errorf("vippstest: snapshot %s: %w", sn.path, err)
	}
	sn.saved, sn.changes = data, changes
	return nil
}

// writeFileAtomic replaces path with data: it writes a temporary file in
// the same directory, syncs it and renames it over path, so that path
// holds the old or the new data, never a part.
func writeFileAtomic(path string, data []byte) error {
	return replaceFile(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// replaceFile is writeFileAtomic with the writing done by fill. On any
// error the temporary file is removed and path is left as it was.
func replaceFile(path string, fill func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = fill(f); err != nil {
		return fmt.Errorf("write %s: %w", f.Name(), err)
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	// Make the rename itself durable. Not every system can sync a
	// directory; the data is safe in the file either way.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
