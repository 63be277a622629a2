package vippstest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/vippskit/vipps"
)

// FaultKind is what an injected [Fault] does to the requests it hits.
type FaultKind string

// The kinds of request faults. Faults that answer without handling the
// request change nothing; the "after apply" kinds make the change and then
// keep the answer from the client, which is what a timeout after Vipps
// committed looks like.
const (
	// FaultServerError answers 500 without handling the request: the eCom
	// error array with VippsError 99 (a problem document for Order
	// Management).
	FaultServerError FaultKind = "server-error"
	// FaultRateLimited answers 429 without handling the request, in the
	// shape of the rate limiter's answer, with Retry-After from
	// Fault.RetryAfter.
	FaultRateLimited FaultKind = "rate-limited"
	// FaultTimeout holds the request without handling it until the client
	// gives up, Fault.Delay passes (when set) or the simulator closes, and
	// then drops the connection: the client gets no answer.
	FaultTimeout FaultKind = "timeout"
	// FaultTimeoutAfterApply handles the request (the change is made and
	// shows in details; an X-Request-Id is remembered), then holds it like
	// FaultTimeout and drops the connection without the answer.
	FaultTimeoutAfterApply FaultKind = "timeout-after-apply"
	// FaultDrop closes the connection at once without handling the request
	// or answering it.
	FaultDrop FaultKind = "drop"
	// FaultDropAfterApply handles the request, then closes the connection
	// at once without the answer.
	FaultDropAfterApply FaultKind = "drop-after-apply"
	// FaultDelay waits Fault.Delay, then handles the request as usual. If
	// the client gives up during the wait, the request is not handled.
	FaultDelay FaultKind = "delay"
)

var faultKinds = []FaultKind{
	FaultServerError, FaultRateLimited, FaultTimeout, FaultTimeoutAfterApply,
	FaultDrop, FaultDropAfterApply, FaultDelay,
}

// afterApply reports whether requests the kind hits are handled before
// the client is left without an answer.
func (k FaultKind) afterApply() bool {
	return k == FaultTimeoutAfterApply || k == FaultDropAfterApply
}

// unanswered reports whether the client gets no answer.
func (k FaultKind) unanswered() bool {
	return k == FaultTimeout || k == FaultDrop || k.afterApply()
}

// Fault makes API requests fail on purpose, for testing what a client does
// when Vipps fails. It hits the requests that match Op, OrderID and MSN
// (each empty matches anything), Count times or until removed. Each request
// is hit by at most one fault: the oldest that matches. The control API and
// the landing page are never hit.
type Fault struct {
	// ID names the fault; InjectFault sets it ("f1", "f2", ...).
	ID string
	// Kind is what the fault does.
	Kind FaultKind
	// Op limits the fault to one endpoint, named as in [Request.Op]
	// ("initiate", "capture", "details", ...).
	Op string
	// OrderID limits the fault to requests about this order: the orderId
	// in the path, or in the body of initiate.
	OrderID vipps.OrderID
	// MSN limits the fault to requests with this merchant's keys.
	MSN vipps.MSN
	// Count is how many requests the fault hits before it is removed. Zero
	// means until it is removed.
	Count int
	// Delay is how long FaultDelay waits, and the longest that
	// FaultTimeout and FaultTimeoutAfterApply hold a request (zero: until
	// the client gives up or the simulator closes). It is real time, not
	// the simulator's clock.
	Delay time.Duration
	// RetryAfter is the Retry-After of FaultRateLimited, rounded up to
	// whole seconds. Zero sends "Retry-After: 0".
	RetryAfter time.Duration
	// Hits counts the requests the fault has hit so far.
	Hits int
}

// matches reports whether the fault hits a request to op by who.
func (f *Fault) matches(op string, who caller) bool {
	return (f.Op == "" || f.Op == op) &&
		(f.OrderID == "" || f.OrderID == who.orderID) &&
		(f.MSN == "" || f.MSN == who.msn)
}

// check validates f against the endpoints the simulator has.
func (f *Fault) check(ops map[string]bool) error {
	var problems []string
	if !slices.Contains(faultKinds, f.Kind) {
		problems = append(problems, fmt.Sprintf("kind %q is not one of %s", f.Kind, joinKinds(faultKinds)))
	}
	if f.Op != "" && !ops[f.Op] {
		problems = append(problems, fmt.Sprintf("op %q is not an endpoint of the simulator", f.Op))
	}
	if f.Count < 0 || f.Delay < 0 || f.RetryAfter < 0 {
		problems = append(problems, "count, delay and retryAfter must not be negative")
	}
	if f.Kind == FaultDelay && f.Delay == 0 {
		problems = append(problems, "a delay fault needs a delay")
	}
	if len(problems) > 0 {
		return errors.New("vippstest: invalid fault: " + strings.Join(problems, "; "))
	}
	return nil
}

func joinKinds[K ~string](ks []K) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = fmt.Sprintf("%q", k)
	}
	return strings.Join(s, ", ")
}

// faultJSON is the wire form of a Fault, with durations as Go duration
// strings ("250ms", "2s").
type faultJSON struct {
	ID         string        `json:"id,omitempty"`
	Kind       FaultKind     `json:"kind"`
	Op         string        `json:"op,omitempty"`
	OrderID    vipps.OrderID `json:"orderId,omitempty"`
	MSN        vipps.MSN     `json:"merchantSerialNumber,omitempty"`
	Count      int           `json:"count,omitempty"`
	Delay      jsonDuration  `json:"delay,omitzero"`
	RetryAfter jsonDuration  `json:"retryAfter,omitzero"`
	Hits       int           `json:"hits"`
}

// MarshalJSON writes the fault as the control API shows it: durations are
// Go duration strings such as "250ms".
func (f Fault) MarshalJSON() ([]byte, error) {
	return json.Marshal(faultJSON{f.ID, f.Kind, f.Op, f.OrderID, f.MSN, f.Count, jsonDuration(f.Delay), jsonDuration(f.RetryAfter), f.Hits})
}

// UnmarshalJSON reads the fault as the control API takes it, refusing
// unknown fields.
func (f *Fault) UnmarshalJSON(b []byte) error {
	var w faultJSON
	if err := strictJSON(b, &w); err != nil {
		return err
	}
	*f = Fault{w.ID, w.Kind, w.Op, w.OrderID, w.MSN, w.Count, time.Duration(w.Delay), time.Duration(w.RetryAfter), w.Hits}
	return nil
}

// jsonDuration is a time.Duration that is a Go duration string in JSON.
type jsonDuration time.Duration

func (d jsonDuration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

func (d *jsonDuration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration must be a string such as \"250ms\" or \"2s\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q must be a Go duration such as \"250ms\" or \"2s\"", s)
	}
	*d = jsonDuration(v)
	return nil
}

func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// faultState holds the injected faults. Its zero value is ready; it is
// guarded by Simulator.mu.
type faultState struct {
	nextID    int
	faults    []*Fault         // in injection order
	callbacks []*CallbackFault // in injection order
	held      []heldCallback   // callbacks held back by reorder faults, oldest first
	stop      chan struct{}    // closed by Close: held requests and delayed callbacks end
	ops       map[string]bool  // the endpoints faults may name
}

// stopLocked returns the channel that Close closes.
func (fs *faultState) stopLocked() <-chan struct{} {
	if fs.stop == nil {
		fs.stop = make(chan struct{})
	}
	return fs.stop
}

func (fs *faultState) newIDLocked(prefix string) string {
	fs.nextID++
	return fmt.Sprintf("%s%d", prefix, fs.nextID)
}

// guard registers op as an endpoint that faults and rate limits apply to.
// handle calls it while New builds the routes.
func (s *Simulator) guard(op string) {
	if s.faults.ops == nil {
		s.faults.ops = map[string]bool{}
	}
	s.faults.ops[op] = true
}

// closeFaultsLocked ends what faults hold when the simulator closes:
// held requests are dropped, delayed callbacks are not sent, and callbacks
// held back by reorder faults are recorded as not sent.
func (s *Simulator) closeFaultsLocked() {
	fs := &s.faults
	select {
	case <-fs.stopLocked():
	default:
		close(fs.stop)
	}
	for _, h := range fs.held {
		h.cb.Err = "not sent: held back by callback fault " + h.cb.FaultID + " when the simulator closed"
		s.recordCallbackLocked(h.cb, false)
	}
	fs.held = nil
}

// InjectFault adds a fault and returns its id. It fails when the fault is
// not valid: an unknown kind or op, a negative count or duration, or a
// delay fault without a delay.
func (s *Simulator) InjectFault(f Fault) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.injectFaultLocked(f)
}

func (s *Simulator) injectFaultLocked(f Fault) (string, error) {
	if err := f.check(s.faults.ops); err != nil {
		return "", err
	}
	f.ID, f.Hits = s.faults.newIDLocked("f"), 0
	s.faults.faults = append(s.faults.faults, &f)
	return f.ID, nil
}

// Faults returns the faults in force, oldest first. A fault with a Count
// is gone once it has hit that many requests.
func (s *Simulator) Faults() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faultsLocked()
}

func (s *Simulator) faultsLocked() []Fault {
	out := make([]Fault, len(s.faults.faults))
	for i, f := range s.faults.faults {
		out[i] = *f
	}
	return out
}

// RemoveFault removes the fault or callback fault with this id and reports
// whether there was one. Callbacks a reorder fault already holds stay held
// (see [Simulator.ReleaseCallbacks]).
func (s *Simulator) RemoveFault(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.removeFaultLocked(id)
}

func (s *Simulator) removeFaultLocked(id string) bool {
	fs := &s.faults
	n, m := len(fs.faults), len(fs.callbacks)
	fs.faults = slices.DeleteFunc(fs.faults, func(f *Fault) bool { return f.ID == id })
	fs.callbacks = slices.DeleteFunc(fs.callbacks, func(f *CallbackFault) bool { return f.ID == id })
	return len(fs.faults) != n || len(fs.callbacks) != m
}

// ClearFaults removes every request fault. Requests already held by a
// timeout fault stay held until their client gives up or their Delay
// passes.
func (s *Simulator) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.faults = nil
}

// takeFaultLocked finds the oldest fault that hits a request to op by who,
// counts the hit and returns a copy of it; else the audit mode's fault, if
// it hits the request; else nil.
func (s *Simulator) takeFaultLocked(op string, who caller) *Fault {
	audit := s.auditFaultLocked(op, who) // audit.go
	fs := &s.faults
	for i, f := range fs.faults {
		if !f.matches(op, who) {
			continue
		}
		f.Hits++
		hit := *f
		if f.Count > 0 && f.Hits >= f.Count {
			fs.faults = slices.Delete(fs.faults, i, i+1)
		}
		return &hit
	}
	return audit
}

// screening is what the simulator decides about an API request before
// handling it: who sent it and which fault, if any, hits it.
type screening struct {
	op     string
	who    caller
	fault  *Fault // a copy of the fault that hit the request
	gaveUp bool   // the client went away during a FaultDelay
	stop   <-chan struct{}

	retryAfter string // the Retry-After header of a 429, in seconds
}

// screen identifies the caller of a request to op and takes the fault that
// hits it. A FaultDelay is waited out here, without the lock.
func (s *Simulator) screen(r *http.Request, op string, body []byte) *screening {
	s.mu.Lock()
	sc := &screening{op: op, who: s.identifyLocked(r, op, body, s.nowLocked()), stop: s.faults.stopLocked()}
	sc.fault = s.takeFaultLocked(op, sc.who)
	release := func() {}
	if sc.fault != nil && sc.fault.Kind == FaultDelay {
		// Marked in the same hold of the lock that took the fault, so that
		// no request sees the fault gone and the payment not yet busy.
		release = s.markBusyLocked(op, sc.who) // ecom.go: other writes of the payment get 94 meanwhile
	}
	s.mu.unlockRead() // faults are not kept in a snapshot
	if sc.fault != nil && sc.fault.Kind == FaultDelay {
		defer release()
		t := time.NewTimer(sc.fault.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-sc.stop: // the simulator closed: go on at once
		case <-r.Context().Done():
			sc.gaveUp = true
		}
	}
	return sc
}

// guardedLocked applies the fault and the rate limit to an API request and
// runs h unless one of them answers instead.
func (s *Simulator) guardedLocked(x *exchange, sc *screening, h func(*exchange) reply) reply {
	f := sc.fault
	if f != nil {
		x.rec.Fault, x.rec.FaultID = f.Kind, f.ID
		x.rec.OrderID = cmp.Or(x.rec.OrderID, sc.who.orderID)
		if x.rec.MSN == "" && sc.who.authenticated {
			x.rec.MSN = sc.who.msn
		}
	}
	switch {
	case sc.gaveUp:
		x.warn("fault %s (%s): the client gave up during the delay; the request was not handled", f.ID, f.Kind)
		return reply{}
	case f == nil, f.Kind == FaultDelay, f.Kind.afterApply():
	case f.Kind == FaultServerError:
		x.warn("fault %s (%s): answered 500 without handling the request", f.ID, f.Kind)
		if strings.HasPrefix(sc.op, "om-") {
			return problemReply(http.StatusInternalServerError, "Internal Server Error", "An unexpected error occurred.", nil)
		}
		return internalReply()
	case f.Kind == FaultRateLimited:
		x.warn("fault %s (%s): answered 429 without handling the request", f.ID, f.Kind)
		return sc.rateLimited(f.RetryAfter)
	default: // timeout, drop
		x.warn("fault %s (%s): the request was not handled and got no answer", f.ID, f.Kind)
		return reply{}
	}
	if ok, after := s.allowLocked(sc.op, sc.who, x.now); !ok {
		limit, _ := s.cfg.RateLimits.limit(sc.op)
		x.rec.OrderID = cmp.Or(x.rec.OrderID, sc.who.orderID)
		x.warn("rate limit: more than %d %s requests for order %s in %v", limit, sc.op, sc.who.orderID, s.cfg.RateLimits.window())
		rep := sc.rateLimited(after)
		if f != nil && f.Kind.afterApply() {
			x.warn("fault %s (%s): the answer (HTTP %d) was not sent", f.ID, f.Kind, rep.status)
			return reply{}
		}
		return rep
	}
	rep := h(x)
	if f != nil && f.Kind.afterApply() {
		x.warn("fault %s (%s): the request was handled, but its answer (HTTP %d) was not sent", f.ID, f.Kind, rep.status)
		return reply{}
	}
	return rep
}

// answered reports whether the client gets the reply: false when a fault
// leaves it without an answer. A nil screening is answered.
func (sc *screening) answered() bool {
	return sc == nil || sc.fault == nil || (!sc.gaveUp && !sc.fault.Kind.unanswered())
}

// write writes the reply with the headers the screening adds. A nil
// screening adds none.
func (sc *screening) write(w http.ResponseWriter, rep reply) {
	if sc != nil && sc.retryAfter != "" {
		w.Header().Set("Retry-After", sc.retryAfter)
	}
	rep.write(w)
}

// leave leaves the client of an unanswered request without an answer: it
// holds the request (timeouts) and then aborts the handler, which makes the
// server drop the connection.
func (s *Simulator) leave(r *http.Request, sc *screening) {
	if k := sc.fault.Kind; !sc.gaveUp && (k == FaultTimeout || k == FaultTimeoutAfterApply) {
		hold(r.Context(), sc.stop, sc.fault.Delay)
	}
	panic(http.ErrAbortHandler)
}

// hold waits until ctx ends, stop is closed or d passes (d > 0).
func hold(ctx context.Context, stop <-chan struct{}, d time.Duration) {
	var timeout <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-ctx.Done():
	case <-stop:
	case <-timeout:
	}
}

// faultRoutes registers the control API for faults, callback faults and
// rate limits.
func (s *Simulator) faultRoutes(ctl func(pattern string, h func(*exchange) reply)) {
	ctl("GET /_sim/faults", func(x *exchange) reply { return jsonReply(http.StatusOK, s.faultsLocked()) })
	ctl("POST /_sim/faults", func(x *exchange) reply {
		var f Fault
		if err := decodeControl(x.body, &f); err != nil {
			return ctlError(err)
		}
		if _, err := s.injectFaultLocked(f); err != nil {
			return ctlError(err)
		}
		return jsonReply(http.StatusCreated, *s.faults.faults[len(s.faults.faults)-1])
	})
	ctl("DELETE /_sim/faults", func(x *exchange) reply {
		s.faults.faults = nil
		return reply{status: http.StatusNoContent}
	})
	ctl("DELETE /_sim/faults/{id}", s.ctlRemoveFault)

	ctl("GET /_sim/callback-faults", func(x *exchange) reply { return jsonReply(http.StatusOK, s.callbackFaultsLocked()) })
	ctl("POST /_sim/callback-faults", func(x *exchange) reply {
		var f CallbackFault
		if err := decodeControl(x.body, &f); err != nil {
			return ctlError(err)
		}
		if _, err := s.injectCallbackFaultLocked(f); err != nil {
			return ctlError(err)
		}
		return jsonReply(http.StatusCreated, *s.faults.callbacks[len(s.faults.callbacks)-1])
	})
	ctl("DELETE /_sim/callback-faults", func(x *exchange) reply {
		s.faults.callbacks = nil
		return reply{status: http.StatusNoContent}
	})
	ctl("DELETE /_sim/callback-faults/{id}", s.ctlRemoveFault)
	ctl("POST /_sim/callbacks/release", func(x *exchange) reply {
		return jsonReply(http.StatusOK, map[string]int{"released": s.releaseHeldLocked()})
	})

	ctl("DELETE /_sim/rate-limits", func(x *exchange) reply {
		s.limiter = rateLimiter{}
		return reply{status: http.StatusNoContent}
	})
}

func (s *Simulator) ctlRemoveFault(x *exchange) reply {
	id := x.r.PathValue("id")
	if !s.removeFaultLocked(id) {
		return jsonReply(http.StatusNotFound, map[string]string{"error": "no fault with id " + id})
	}
	return reply{status: http.StatusNoContent}
}
