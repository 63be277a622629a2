package servicetest

import (
	"sync"
	"time"
)

// Clock is the time an Env's service, pollers and outboxes read. Only the
// test moves it: Advance moves it forward by d and returns the new now.
// Both implementations are safe for concurrent use.
type Clock interface {
	Now() time.Time
	Advance(d time.Duration) time.Time
}

// ManualClock is a Clock that stands still until the test moves it. Its
// times are whole milliseconds, which every store keeps exactly, so that a
// time read back compares equal to the one written.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewManualClock returns a ManualClock at start, truncated to the
// millisecond.
func NewManualClock(start time.Time) *ManualClock {
	return &ManualClock{now: start.Truncate(time.Millisecond)}
}

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d and returns its new time.
func (c *ManualClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// WallClock is a Clock that runs with real time, ahead of it by all that
// Advance added. Its zero value is real time. It is the clock of a
// service that must agree with the simulator, which runs on real time,
// until a test jumps ahead.
type WallClock struct {
	mu    sync.Mutex
	ahead time.Duration
}

// Now returns real time plus what Advance added.
func (c *WallClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.ahead)
}

// Advance puts the clock d further ahead of real time and returns its new
// time.
func (c *WallClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	c.ahead += d
	c.mu.Unlock()
	return c.Now()
}
