package sqlite

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Group commit. With synchronous=FULL every commit waits for the disk
// (an fsync of the write-ahead log), so that nothing acknowledged is lost
// to a power cut; one transaction per commit would make that wait the
// service's bound. Instead one goroutine, the committer, owns the writer
// connection and runs the write transactions that are waiting together:
// one BEGIN IMMEDIATE, each transaction's function in a SAVEPOINT of its
// own (so that one that fails is rolled back alone and the others keep
// their work), and one COMMIT, one fsync, for all of them. Nobody waits
// for a batch to fill: the committer takes whatever queued while the last
// commit was on disk, so a lone write commits at once and many concurrent
// writes share the disk's time.
//
// Each caller learns its own outcome only after the COMMIT: an error from
// its function, or the commit's own error for all of them (then none of
// their work was stored). A caller whose context ends before its function
// starts gets the context's error and nothing of it is run; once started,
// the function runs to the end (see writeTx: its statements are never
// interrupted, since interrupting a statement rolls back the whole batch).

// maxBatch bounds the transactions committed together, so that a queue
// that never empties still commits regularly.
const maxBatch = 128

// errClosed is the error of a write after Close.
var errClosed = errors.New("sqlite: the store is closed")

// txRequest is one write transaction waiting for the committer.
type txRequest struct {
	ctx  context.Context
	f    func(tx writeTx) error
	done chan error
}

// committer runs the write transactions of a store in batches.
type committer struct {
	s      *Store
	queue  chan *txRequest
	quit   chan struct{}
	closed sync.Once
	wg     sync.WaitGroup
	// batched, for tests, sees the size of every batch.
	batched func(n int)
}

func newCommitter(s *Store) *committer {
	c := &committer{s: s, queue: make(chan *txRequest), quit: make(chan struct{})}
	c.wg.Go(c.run)
	return c
}

// tx runs f in a write transaction, which begins IMMEDIATE, perhaps
// together with others, and reports once it is committed: nil, or f's
// error (then none of f's work is stored), or the commit's.
func (c *committer) tx(ctx context.Context, f func(tx writeTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &txRequest{ctx: ctx, f: f, done: make(chan error, 1)}
	select {
	case c.queue <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-c.quit:
		return unavailable(errClosed)
	}
	// Once the committer has it, it answers: waiting on ctx too could
	// report a failure for work that is then committed.
	return <-r.done
}

// close stops the committer after the batch it is running.
func (c *committer) close() {
	c.closed.Do(func() { close(c.quit) })
	c.wg.Wait()
}

// run takes the transactions that are waiting, up to maxBatch, and commits
// them together, until close.
func (c *committer) run() {
	for {
		var first *txRequest
		select {
		case first = <-c.queue:
		case <-c.quit:
			return
		}
		batch := []*txRequest{first}
	more:
		for len(batch) < maxBatch {
			select {
			case r := <-c.queue:
				batch = append(batch, r)
			default:
				break more
			}
		}
		if c.batched != nil {
			c.batched(len(batch))
		}
		c.commit(batch)
	}
}

// commit runs batch in one transaction and answers each request.
func (c *committer) commit(batch []*txRequest) {
	s := c.s
	// The batch's own context: it must not end with a caller's.
	ctx := context.Background()
	errs := make([]error, len(batch))
	answer := func(all error) {
		// Now that the connection is free: prepare what ran unprepared,
		// before anyone hears back (stmts).
		s.ws.preparePending(ctx)
		for i, r := range batch {
			err := errs[i]
			if err == nil {
				err = all
			}
			r.done <- unavailable(err)
		}
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		answer(err)
		return
	}
	wtx := writeTx{tx, s.ws}
	ran := 0
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if len(batch) == 1 {
			// Alone: no savepoint needed.
			if errs[i] = run(r, wtx); errs[i] == nil {
				ran++
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, `SAVEPOINT tx`); err != nil {
			answer(errors.Join(err, ignoreDone(tx.Rollback())))
			return
		}
		if errs[i] = run(r, wtx); errors.Is(errs[i], errPanicked) {
			// Where it stopped is unknown: nothing of the batch stays.
			answer(errors.Join(errs[i], ignoreDone(tx.Rollback())))
			return
		} else if errs[i] != nil {
			if _, err := tx.ExecContext(ctx, `ROLLBACK TO tx`); err != nil {
				// The transaction is broken (SQLite may have rolled it back
				// itself, as after a full disk): nothing of the batch stays.
				answer(errors.Join(err, ignoreDone(tx.Rollback())))
				return
			}
		} else {
			ran++
		}
		if _, err := tx.ExecContext(ctx, `RELEASE tx`); err != nil {
			answer(errors.Join(err, ignoreDone(tx.Rollback())))
			return
		}
	}
	if ran == 0 {
		answer(ignoreDone(tx.Rollback()))
		return
	}
	answer(tx.Commit())
}

// errPanicked is the error of a write transaction whose function
// panicked.
var errPanicked = errors.New("sqlite: a write transaction panicked")

// run runs r's function in wtx, and turns a panic into errPanicked: a
// panic in the committer's goroutine would stop the process, and every
// write with it, where it used to fail one request.
func run(r *txRequest, wtx writeTx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", errPanicked, p)
		}
	}()
	return r.f(wtx)
}
