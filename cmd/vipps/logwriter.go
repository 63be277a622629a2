package main

import (
	"io"
	"sync"
)

// logWriter is the way of the request logs of vipps serve and vipps sim to
// stderr. A log line used to be one write system call on the goroutine
// that answers the request, which under load cost the simulator a twentieth
// of its time. Write now copies the line into a buffer and returns, and
// one goroutine writes out whatever has gathered: a line alone goes out at
// once, and the lines that arrive while a write is under way go out
// together in the next one.
//
// The buffer is bounded (logBufferMax): when stderr cannot keep up, Write
// waits for room, as a write to a full pipe does, rather than letting the
// log eat the memory. Close writes out the rest; a process that crashes
// loses the lines of the last write at most, which had not reached the
// system yet.
type logWriter struct {
	w    io.Writer
	mu   sync.Mutex
	cond *sync.Cond // signals both: lines to write, and room to add them
	buf  []byte     // lines waiting for the writer
	// closed is set by Close: the writer writes out the rest and stops,
	// and later lines go straight to w.
	closed bool
	done   chan struct{} // closed when the writer has stopped
}

// logBufferMax bounds the lines waiting to be written.
const logBufferMax = 1 << 20

func newLogWriter(w io.Writer) *logWriter {
	l := &logWriter{w: w, done: make(chan struct{})}
	l.cond = sync.NewCond(&l.mu)
	go l.run()
	return l
}

// Write adds p, a whole log line as slog writes it, to what is waiting. It
// never fails: a stderr that fails has nowhere to report it.
func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	for len(l.buf) >= logBufferMax && !l.closed {
		l.cond.Wait()
	}
	if l.closed {
		l.mu.Unlock()
		<-l.done // after the rest, in order
		return l.w.Write(p)
	}
	l.buf = append(l.buf, p...)
	l.cond.Broadcast()
	l.mu.Unlock()
	return len(p), nil
}

// run writes out what gathers, until Close and the rest is written.
func (l *logWriter) run() {
	defer close(l.done)
	var out []byte
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		for len(l.buf) == 0 && !l.closed {
			l.cond.Wait()
		}
		if len(l.buf) == 0 {
			return // closed, and nothing left
		}
		// Two buffers take turns: lines gather in one while the other is
		// written.
		out, l.buf = l.buf, out[:0]
		l.cond.Broadcast() // room for writers that waited
		l.mu.Unlock()
		l.w.Write(out) // a failure has nowhere to go (see Write)
		l.mu.Lock()
	}
}

// Close writes out what is waiting and returns when it is written; later
// writes go straight through.
func (l *logWriter) Close() error {
	l.mu.Lock()
	l.closed = true
	l.cond.Broadcast()
	l.mu.Unlock()
	<-l.done
	return nil
}
