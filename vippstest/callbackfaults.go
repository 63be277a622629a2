package vippstest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vippskit/vipps"
)

// CallbackFaultKind is what an injected [CallbackFault] does to the
// transaction callbacks it hits.
type CallbackFaultKind string

// The kinds of callback faults.
const (
	// CallbackDrop does not send the callback; it is recorded as not sent.
	CallbackDrop CallbackFaultKind = "drop"
	// CallbackDelay sends the callback CallbackFault.Delay later (real
	// time). Close does not wait for the delay: the callback is recorded
	// as not sent.
	CallbackDelay CallbackFaultKind = "delay"
	// CallbackDuplicate sends the callback twice, the second time once the
	// merchant has answered the first; both are recorded.
	CallbackDuplicate CallbackFaultKind = "duplicate"
	// CallbackReorder holds the callback back until the next callback that
	// is not held back has been delivered, and sends it after that one.
	// Several held callbacks are then sent one by one, newest first, so
	// that they arrive in reverse order. [Simulator.ReleaseCallbacks]
	// sends them at once; Close records them as not sent.
	CallbackReorder CallbackFaultKind = "reorder"
)

var callbackFaultKinds = []CallbackFaultKind{CallbackDrop, CallbackDelay, CallbackDuplicate, CallbackReorder}

// CallbackFault changes how transaction callbacks reach the merchant, for
// testing a merchant's callback handling against what Vipps does not
// promise: delivery, timeliness, uniqueness and order. It hits the
// callbacks that match OrderID, MSN and Status (each empty matches
// anything), Count times or until removed. Each callback is hit by at most
// one fault: the oldest that matches.
type CallbackFault struct {
	// ID names the fault; InjectCallbackFault sets it ("cf1", "cf2", ...).
	ID string
	// Kind is what the fault does.
	Kind CallbackFaultKind
	// OrderID limits the fault to the callbacks of this order.
	OrderID vipps.OrderID
	// MSN limits the fault to the callbacks of this merchant.
	MSN vipps.MSN
	// Status limits the fault to callbacks with this status (RESERVED,
	// CANCELLED, ...).
	Status vipps.CallbackStatus
	// Count is how many callbacks the fault hits before it is removed.
	// Zero means until it is removed.
	Count int
	// Delay is how long CallbackDelay waits, in real time.
	Delay time.Duration
	// Hits counts the callbacks the fault has hit so far.
	Hits int
}

func (f *CallbackFault) matches(cb *Callback) bool {
	return (f.OrderID == "" || f.OrderID == cb.OrderID) &&
		(f.MSN == "" || f.MSN == cb.MSN) &&
		(f.Status == "" || f.Status == cb.Status)
}

func (f *CallbackFault) check() error {
	var problems []string
	if !slices.Contains(callbackFaultKinds, f.Kind) {
		problems = append(problems, fmt.Sprintf("kind %q is not one of %s", f.Kind, joinKinds(callbackFaultKinds)))
	}
	if f.Count < 0 || f.Delay < 0 {
		problems = append(problems, "count and delay must not be negative")
	}
	if f.Kind == CallbackDelay && f.Delay == 0 {
		problems = append(problems, "a delay fault needs a delay")
	}
	if len(problems) > 0 {
		return errors.New("vippstest: invalid callback fault: " + strings.Join(problems, "; "))
	}
	return nil
}

// callbackFaultJSON is the wire form of a CallbackFault.
type callbackFaultJSON struct {
	ID      string               `json:"id,omitempty"`
	Kind    CallbackFaultKind    `json:"kind"`
	OrderID vipps.OrderID        `json:"orderId,omitempty"`
	MSN     vipps.MSN            `json:"merchantSerialNumber,omitempty"`
	Status  vipps.CallbackStatus `json:"status,omitempty"`
	Count   int                  `json:"count,omitempty"`
	Delay   jsonDuration         `json:"delay,omitzero"`
	Hits    int                  `json:"hits"`
}

// MarshalJSON writes the fault as the control API shows it: the delay is a
// Go duration string such as "250ms".
func (f CallbackFault) MarshalJSON() ([]byte, error) {
	return json.Marshal(callbackFaultJSON{f.ID, f.Kind, f.OrderID, f.MSN, f.Status, f.Count, jsonDuration(f.Delay), f.Hits})
}

// UnmarshalJSON reads the fault as the control API takes it, refusing
// unknown fields.
func (f *CallbackFault) UnmarshalJSON(b []byte) error {
	var w callbackFaultJSON
	if err := strictJSON(b, &w); err != nil {
		return err
	}
	*f = CallbackFault{w.ID, w.Kind, w.OrderID, w.MSN, w.Status, w.Count, time.Duration(w.Delay), w.Hits}
	return nil
}

// heldCallback is a callback a reorder fault holds back.
type heldCallback struct {
	cb        Callback
	authToken string
}

// InjectCallbackFault adds a callback fault and returns its id. It fails
// when the fault is not valid: an unknown kind, a negative count or delay,
// or a delay fault without a delay.
func (s *Simulator) InjectCallbackFault(f CallbackFault) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.injectCallbackFaultLocked(f)
}

func (s *Simulator) injectCallbackFaultLocked(f CallbackFault) (string, error) {
	if err := f.check(); err != nil {
		return "", err
	}
	f.ID, f.Hits = s.faults.newIDLocked("cf"), 0
	s.faults.callbacks = append(s.faults.callbacks, &f)
	return f.ID, nil
}

// CallbackFaults returns the callback faults in force, oldest first.
func (s *Simulator) CallbackFaults() []CallbackFault {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.callbackFaultsLocked()
}

func (s *Simulator) callbackFaultsLocked() []CallbackFault {
	out := make([]CallbackFault, len(s.faults.callbacks))
	for i, f := range s.faults.callbacks {
		out[i] = *f
	}
	return out
}

// ReleaseCallbacks sends the callbacks that reorder faults hold back, one
// by one, newest first, and returns how many there were. Use
// [Simulator.WaitCallbacks] to wait for them.
func (s *Simulator) ReleaseCallbacks() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.releaseHeldLocked()
}

// takeCallbackFaultLocked finds the oldest callback fault that hits cb,
// counts the hit and returns a copy of it, or nil.
func (s *Simulator) takeCallbackFaultLocked(cb *Callback) *CallbackFault {
	fs := &s.faults
	for i, f := range fs.callbacks {
		if !f.matches(cb) {
			continue
		}
		f.Hits++
		hit := *f
		if f.Count > 0 && f.Hits >= f.Count {
			fs.callbacks = slices.Delete(fs.callbacks, i, i+1)
		}
		return &hit
	}
	return nil
}

// dispatchLocked starts the delivery of cb as the callback faults say.
// Every delivery goroutine owns one unit of s.pending, so that Close and
// WaitCallbacks wait for it.
func (s *Simulator) dispatchLocked(cb Callback, authToken string) {
	f := s.takeCallbackFaultLocked(&cb)
	if f == nil {
		s.pending++
		go s.deliver(cb, authToken)
		return
	}
	cb.Fault, cb.FaultID = f.Kind, f.ID
	switch f.Kind {
	case CallbackDrop:
		cb.Err = "not sent: dropped by callback fault " + f.ID
		s.recordCallbackLocked(cb, false)
	case CallbackReorder:
		s.faults.held = append(s.faults.held, heldCallback{cb, authToken})
	case CallbackDelay:
		s.pending++
		go s.deliverLater(cb, authToken, f.Delay, s.faults.stopLocked())
	case CallbackDuplicate:
		s.pending++
		go s.deliverTwice(cb, authToken)
	}
}

// deliverLater delivers cb after d, unless the simulator closes first.
func (s *Simulator) deliverLater(cb Callback, authToken string, d time.Duration, stop <-chan struct{}) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		s.deliver(cb, authToken)
	case <-stop:
		cb.Err = "not sent: the simulator closed during the delay of callback fault " + cb.FaultID
		s.mu.Lock()
		s.recordCallbackLocked(cb, false)
		s.donePendingLocked()
		s.mu.Unlock()
	}
}

// deliverTwice delivers cb, and once the merchant has answered, again.
func (s *Simulator) deliverTwice(cb Callback, authToken string) {
	first := s.post(cb, authToken)
	s.mu.Lock()
	s.recordCallbackLocked(first, true)
	s.mu.Unlock()
	s.deliver(cb, authToken)
}

// releaseHeldLocked starts sending the held-back callbacks, newest first,
// one after the other, and returns how many there are.
func (s *Simulator) releaseHeldLocked() int {
	held := s.faults.held
	if len(held) == 0 || s.closed {
		return 0
	}
	s.faults.held = nil
	slices.Reverse(held)
	s.pending++
	go func() {
		for _, h := range held {
			cb := s.post(h.cb, h.authToken)
			s.mu.Lock()
			s.recordCallbackLocked(cb, true)
			s.mu.Unlock()
		}
		s.mu.Lock()
		s.donePendingLocked()
		s.mu.Unlock()
	}()
	return len(held)
}

// donePendingLocked ends one delivery goroutine's hold on s.pending.
func (s *Simulator) donePendingLocked() {
	s.pending--
	if s.pending == 0 {
		s.idle.Broadcast()
	}
}
