package main

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vippskit/vipps/internal/servicetest"
)

// TestLogWriterKeepsEveryLine writes lines from many goroutines at once
// and checks that each arrives whole, once, and in its writer's order, and
// that Close leaves nothing behind.
func TestLogWriterKeepsEveryLine(t *testing.T) {
	var out servicetest.Logs
	l := newLogWriter(&out)
	const writers, lines = 8, 500
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range lines {
				fmt.Fprintf(l, "writer=%d line=%d %s\n", w, i, strings.Repeat("x", i%50))
			}
		})
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	next := make([]int, writers)
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	for _, line := range got {
		var w, i int
		if _, err := fmt.Sscanf(line, "writer=%d line=%d", &w, &i); err != nil {
			t.Fatalf("line %q is not a whole line: %v", line, err)
		}
		if want := fmt.Sprintf("writer=%d line=%d %s", w, i, strings.Repeat("x", i%50)); line != want {
			t.Fatalf("line %q, want %q", line, want)
		}
		if i != next[w] {
			t.Fatalf("writer %d: line %d after line %d", w, i, next[w]-1)
		}
		next[w]++
	}
	if len(got) != writers*lines {
		t.Errorf("%d lines written, want %d", len(got), writers*lines)
	}

	// After Close a line goes straight through.
	fmt.Fprintf(l, "after close\n")
	if !strings.HasSuffix(out.String(), "after close\n") {
		t.Errorf("a line written after Close is missing")
	}
}

// TestLogWriterWritesAlone checks that a lone line reaches stderr without
// waiting for more lines or for Close.
func TestLogWriterWritesAlone(t *testing.T) {
	var out servicetest.Logs
	l := newLogWriter(&out)
	defer l.Close()
	fmt.Fprintf(l, "one line\n")
	deadline := time.Now().Add(10 * time.Second)
	for out.String() != "one line\n" {
		if time.Now().After(deadline) {
			t.Fatalf("a lone line was not written in 10s: %q", out.String())
		}
		time.Sleep(time.Millisecond)
	}
}

// blockedWriter blocks every write until release is closed.
type blockedWriter struct {
	started chan struct{} // closed at the first write
	once    sync.Once
	release chan struct{}
	n       int
}

func (b *blockedWriter) Write(p []byte) (int, error) {
	b.once.Do(func() { close(b.started) })
	<-b.release
	b.n += len(p)
	return len(p), nil
}

// TestLogWriterBounded checks that lines wait for room once logBufferMax
// bytes are waiting for a stderr that does not keep up, and go on when it
// does.
func TestLogWriterBounded(t *testing.T) {
	b := &blockedWriter{started: make(chan struct{}), release: make(chan struct{})}
	l := newLogWriter(b)
	l.Write([]byte("first\n")) // taken by the writer, which then blocks
	<-b.started
	line := []byte(strings.Repeat("y", 1023) + "\n")
	for range logBufferMax / len(line) {
		l.Write(line)
	}
	blocked := make(chan struct{})
	go func() {
		l.Write(line) // the buffer is full: this one waits
		close(blocked)
	}()
	select {
	case <-blocked:
		t.Fatalf("Write with %d bytes waiting returned before there was room", logBufferMax)
	case <-time.After(50 * time.Millisecond):
	}
	close(b.release)
	<-blocked
	if err := l.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if want := len("first\n") + (logBufferMax/len(line)+1)*len(line); b.n != want {
		t.Errorf("%d bytes written, want %d", b.n, want)
	}
}
