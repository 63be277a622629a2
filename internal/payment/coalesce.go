package payment

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/vippskit/vipps"
)

// confirmedFor is how long a /details answer may stand in for a new call
// when a callback reports what it shows already: long enough for the
// duplicates and replays of a callback, short enough that a callback after
// a quiet while still makes the service look.
const confirmedFor = 10 * time.Second

// detailsGate coalesces the /details calls of a payment in this process.
// A caller gets the answer of a call sent after it asked, so that no
// answer is older than the question: callers who ask while a call is in
// flight share the next call, and a burst of them makes at most two. A
// callback asks with the outcome it reports (see [confirms]); an answer
// that shows that outcome already, in flight or younger than
// [confirmedFor], is its answer too, so that a callback replayed a hundred
// times makes one call. An outcome no answer shows is always asked anew:
// the callback alone is never trusted.
type detailsGate struct {
	mu      sync.Mutex
	m       map[vipps.OrderID]*detailsCalls
	sweepAt int
}

// detailsCalls are the calls of one payment.
type detailsCalls struct {
	cur  *detailsCall // in flight, or nil
	next *detailsCall // to be sent when cur ends; not sent yet
	last *detailsCall // the latest successful answer
}

// detailsCall is one /details call; d, err and cut are set when done is
// closed.
type detailsCall struct {
	done chan struct{}
	sent time.Time
	d    *vipps.PaymentDetails
	err  error
	// cut reports that the call failed because the ctx of its sender
	// ended: it says nothing to the others who waited for it.
	cut bool
}

// ask returns an answer of Vipps' /details for the payment, made by call
// (at most one call at a time per payment). With shows, an answer for which
// shows reports true is enough when it is in flight or was sent less than
// confirmedFor before now; otherwise, and without shows, the answer is of a
// call sent after ask was called. A call runs with the ctx of the caller
// who sends it: when that ctx ends, the others who wait for the call ask
// again.
func (g *detailsGate) ask(ctx context.Context, id vipps.OrderID, now func() time.Time, shows func(*vipps.PaymentDetails) bool, call func(context.Context) (*vipps.PaymentDetails, error)) (*vipps.PaymentDetails, error) {
	for {
		c, err := g.join(ctx, id, now, shows, call)
		if err != nil {
			return nil, err
		}
		if !c.cut || ctx.Err() != nil {
			return c.d, c.err
		}
	}
}

// join returns a call for ask, done.
func (g *detailsGate) join(ctx context.Context, id vipps.OrderID, now func() time.Time, shows func(*vipps.PaymentDetails) bool, call func(context.Context) (*vipps.PaymentDetails, error)) (*detailsCall, error) {
	g.mu.Lock()
	o := g.calls(id, now())
	if shows != nil {
		if l := o.last; l != nil && now().Sub(l.sent) < confirmedFor && shows(l.d) {
			g.mu.Unlock()
			return l, nil
		}
		if c := o.cur; c != nil {
			g.mu.Unlock()
			if err := c.wait(ctx); err != nil {
				return nil, err
			}
			if c.err == nil && shows(c.d) {
				return c, nil
			}
			g.mu.Lock()
			o = g.calls(id, now())
		}
	}
	var c *detailsCall
	switch {
	case o.next != nil:
		// Not sent yet: its answer is younger than this question.
		c = o.next
		g.mu.Unlock()
		return c, c.wait(ctx)
	case o.cur != nil:
		// Sent before this question: wait for it to end (it is bounded
		// by its timeout), then send the next call for everyone who asks
		// meanwhile.
		c = &detailsCall{done: make(chan struct{})}
		o.next = c
		prev := o.cur
		g.mu.Unlock()
		<-prev.done
		g.mu.Lock()
		o.cur, o.next = c, nil
	default:
		c = &detailsCall{done: make(chan struct{})}
		o.cur = c
	}
	c.sent = now()
	g.mu.Unlock()

	c.d, c.err = call(ctx)
	c.cut = c.err != nil && ctx.Err() != nil

	g.mu.Lock()
	o.cur = nil
	if c.err == nil && (o.last == nil || !c.sent.Before(o.last.sent)) {
		o.last = c
	}
	g.mu.Unlock()
	close(c.done)
	return c, nil
}

// calls returns the calls of the payment, made on first use. Every so
// often it forgets the payments with no call in flight and no recent
// answer, so that the map holds only what is recent. g.mu is held.
func (g *detailsGate) calls(id vipps.OrderID, now time.Time) *detailsCalls {
	if g.m == nil {
		g.m = map[vipps.OrderID]*detailsCalls{}
	}
	if len(g.m) >= max(g.sweepAt, 256) {
		for k, o := range g.m {
			if o.cur == nil && o.next == nil && (o.last == nil || now.Sub(o.last.sent) >= confirmedFor) {
				delete(g.m, k)
			}
		}
		g.sweepAt = 2 * len(g.m)
	}
	o := g.m[id]
	if o == nil {
		o = &detailsCalls{}
		g.m[id] = o
	}
	return o
}

// wait waits until the call is done, or ctx ends.
func (c *detailsCall) wait(ctx context.Context) error {
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// confirms reports whether d, an answer of /details, shows the outcome
// that a callback of status st reports. An unknown status is confirmed by
// nothing.
func confirms(d *vipps.PaymentDetails, st vipps.CallbackStatus) bool {
	facts := FactsOf(d, time.Time{})
	has := func(ok bool, ops ...vipps.Operation) bool {
		return slices.ContainsFunc(facts, func(f Fact) bool { return f.Success == ok && slices.Contains(ops, f.Operation) })
	}
	switch st {
	case vipps.CallbackReserved, vipps.CallbackReserve:
		return has(true, vipps.OperationReserve, vipps.OperationSale)
	case vipps.CallbackSale:
		return has(true, vipps.OperationSale)
	case vipps.CallbackReserveFailed, vipps.CallbackSaleFailed:
		return has(false, vipps.OperationReserve, vipps.OperationSale)
	case vipps.CallbackCancelled:
		return has(true, vipps.OperationCancel, vipps.OperationVoid)
	case vipps.CallbackRejected:
		return has(true, vipps.OperationCancel)
	}
	return false
}
