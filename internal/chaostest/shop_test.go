package chaostest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vippskit/vipps"
)

// shopTimeout bounds one shop request: a shop does not wait longer.
const shopTimeout = 20 * time.Second

// amounts are a payment's amounts as the service shows them.
type amounts struct {
	Authorized         vipps.Amount `json:"authorized"`
	Captured           vipps.Amount `json:"captured"`
	Refunded           vipps.Amount `json:"refunded"`
	RemainingToCapture vipps.Amount `json:"remainingToCapture"`
	RemainingToRefund  vipps.Amount `json:"remainingToRefund"`
}

func (a amounts) String() string {
	return fmt.Sprintf("auth %d capt %d ref %d rtc %d rtr %d", a.Authorized, a.Captured, a.Refunded, a.RemainingToCapture, a.RemainingToRefund)
}

// paymentJSON is GET /api/payments/{orderId}, as much as the suite reads.
type paymentJSON struct {
	OrderID    string   `json:"orderId"`
	ShopRef    string   `json:"shopRef"`
	Attempt    int      `json:"attempt"`
	State      string   `json:"state"`
	Amounts    amounts  `json:"amounts"`
	Operations []opJSON `json:"operations"`
	// Shipping is an express checkout's shipping as the service stored
	// it.
	Shipping *struct {
		MethodID string       `json:"methodId"`
		Cost     vipps.Amount `json:"cost"`
		Charged  string       `json:"charged"`
	} `json:"shipping"`
	Events []struct {
		Seq    int64        `json:"seq"`
		Type   string       `json:"type"`
		Amount vipps.Amount `json:"amount"`
	} `json:"events"`
}

// opJSON is an operation as the service shows it.
type opJSON struct {
	ID               int64        `json:"id"`
	Kind             string       `json:"kind"`
	IdempotencyKey   string       `json:"idempotencyKey"`
	RequestID        string       `json:"requestId"`
	Amount           vipps.Amount `json:"amount"`
	ReleaseRemaining bool         `json:"releaseRemaining"`
	Status           string       `json:"status"`
	Error            *struct {
		Group   string `json:"group"`
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func (o opJSON) String() string {
	s := fmt.Sprintf("%s #%d key %q amount %d %s", o.Kind, o.ID, o.IdempotencyKey, o.Amount, o.Status)
	if o.ReleaseRemaining {
		s += " releaseRemaining"
	}
	if o.Error != nil {
		s += fmt.Sprintf(" (%s %s: %s)", o.Error.Group, o.Error.Code, o.Error.Message)
	}
	return s
}

// apiAnswer is what create, capture, refund and cancel answer, as much as
// the suite reads: the payment (create, and errors of create), the
// operation, the error.
type apiAnswer struct {
	OrderID   string       `json:"orderId"`
	Payment   *paymentJSON `json:"payment"`
	Operation *opJSON      `json:"operation"`
	Error     *struct {
		Status  int    `json:"status"`
		Message string `json:"message"`
		Code    string `json:"code"`
	} `json:"error"`
}

// order is one shop order (shopRef) and what the shop did with it.
type order struct {
	shopRef string
	amount  vipps.Amount
	receipt bool
	express bool
	phone   string // the customer's, for express orders

	// consentRemoved: the customer removed their consent after approving,
	// and the service answered Vipps' request 2xx. consentAsked: Vipps was
	// asked to tell the service, whatever the answer (a service killed
	// meanwhile may have erased the details without answering).
	consentRemoved, consentAsked bool

	mu            sync.Mutex
	attempts      []string // orderIds the service answered with, oldest first
	createTrouble bool     // a create got no clear answer
	faultAt       time.Time
	ops           map[string]*shopOp // by kind/key
	keys          int
	plan          string
	began         time.Time
	took          time.Duration
	phases        []string // "create 120ms", ... for the slowest payments in the report
	last          time.Time
}

// phase notes how long the part of the payment that just ended took.
func (o *order) phase(name string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	from := o.last
	if from.IsZero() {
		from = o.began
	}
	o.last = time.Now()
	o.phases = append(o.phases, fmt.Sprintf("%s %v", name, o.last.Sub(from).Round(100*time.Millisecond)))
}

// shopOp is one capture, refund or cancel key the shop used.
type shopOp struct {
	orderID   string
	kind, key string
	amount    vipps.Amount
	release   bool
	statuses  []int   // every answer's status, 0 for none
	opIDs     []int64 // the operation ids answered
	repeat    bool    // send again later with the same key
}

func (o *order) addAttempt(id string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if id != "" && !slices.Contains(o.attempts, id) {
		o.attempts = append(o.attempts, id)
	}
}

func (o *order) faultedBefore(t time.Time) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return !o.faultAt.IsZero() && o.faultAt.Before(t)
}

func (o *order) newKey(orderID, kind string, amount vipps.Amount, release bool) *shopOp {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.keys++
	op := &shopOp{orderID: orderID, kind: kind, key: fmt.Sprintf("%s-%s-%d", orderID, kind, o.keys), amount: amount, release: release}
	o.ops[kind+"/"+op.key] = op
	return op
}

// window is a time when requests to a replica (or, with replica -1, to
// every replica) may fail: it was killed and is starting again, or the
// database restarts. end is zero while the window is open.
type window struct {
	replica    int
	why        string
	start, end time.Time
}

type disruptions struct {
	mu sync.Mutex
	ws []*window
}

func (d *disruptions) open(replica int, why string) *window {
	d.mu.Lock()
	defer d.mu.Unlock()
	w := &window{replica: replica, why: why, start: time.Now()}
	d.ws = append(d.ws, w)
	return w
}

// close ends the window grace after now: connections and pools need a
// moment to find out that the other side is back.
func (d *disruptions) close(w *window, grace time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	w.end = time.Now().Add(grace)
}

// overlaps reports whether a request to replica between from and to met a
// window.
func (d *disruptions) overlaps(replica int, from, to time.Time) (bool, string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, w := range d.ws {
		if w.replica != -1 && w.replica != replica {
			continue
		}
		if from.Before(w.end) || w.end.IsZero() {
			if to.After(w.start) {
				return true, w.why
			}
		}
	}
	return false, ""
}

// lastEnd is when the latest window closed.
func (d *disruptions) lastEnd() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	var last time.Time
	for _, w := range d.ws {
		e := w.end
		if e.IsZero() {
			e = time.Now()
		}
		if e.After(last) {
			last = e
		}
	}
	return last
}

// stats are the run's figures.
type stats struct {
	mu         sync.Mutex
	requests   map[string]int // "capture 202"
	faults     map[string]int // "timeout-after-apply capture"
	cbFaults   map[string]int // "reorder"
	consents   map[string]int // consent removals: "delivered", "not delivered"
	kills      int
	dbRestarts int
	diskFull   int
	crashes    []string // replicas that exited on their own
	expected   map[string]int
	unexpected []violation // 5xx and lost connections outside any window
	timeouts   []string    // shop requests that got no answer within shopTimeout
	opRequests int
	keys       int
	anomalies  []string // what the driver did not expect of the simulator
}

func (s *stats) init() {
	s.requests, s.faults, s.cbFaults, s.expected, s.consents = map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
}

func (s *stats) add(m map[string]int, k string) {
	s.mu.Lock()
	m[k]++
	s.mu.Unlock()
}

func (s *stats) anomaly(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.anomalies) < 200 {
		s.anomalies = append(s.anomalies, fmt.Sprintf(format, args...))
	}
}

// answer is the outcome of one shop request.
type answer struct {
	status     int // 0: no answer
	body       []byte
	err        error
	timeout    bool
	replica    int
	start, end time.Time
}

func (a answer) decode() (*apiAnswer, error) {
	var v apiAnswer
	if err := json.Unmarshal(a.body, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// failed reports whether the shop got no usable answer: a 5xx, no answer,
// or a timeout. A shop tries again.
func (a answer) failed() bool { return a.status == 0 || a.status >= 500 }

// pick chooses the replica of one shop request: at random, as a load
// balancer would.
func (r *run) pick(rng *rand.Rand) int {
	if len(r.reps) == 1 {
		return 0
	}
	return rng.IntN(len(r.reps))
}

// shop sends one request of the shop's API to a replica and records its
// outcome; route names it in the figures. o (may be nil) is the order it
// is about.
func (r *run) shop(ctx context.Context, rng *rand.Rand, o *order, route, method, path string, body any, header http.Header) answer {
	a := answer{replica: r.pick(rng)}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			panic(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.reps[a.replica].url+path, rd)
	if err != nil {
		panic(err)
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	a.start = time.Now()
	resp, err := r.shopC.Do(req)
	if err == nil {
		a.body, err = io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		resp.Body.Close()
		a.status = resp.StatusCode
	}
	a.end, a.err = time.Now(), err
	if ctx.Err() != nil && err != nil {
		return a // the run is ending; not the service's doing
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		a.timeout, a.status = true, 0
	} else if err != nil {
		a.status = 0
	}
	key := fmt.Sprintf("%s %d", route, a.status)
	if a.timeout {
		key = route + " timeout"
	}
	r.st.add(r.st.requests, key)
	r.classify(o, route, method, path, a)
	return a
}

// classify records a failed request as expected (it met a kill or
// database restart window, or a 502/504 on an order with Vipps faults) or
// unexpected. A 500 is never expected: a database that is restarting is
// told as 503, a killed service gives no answer, and Vipps' faults are
// 502 or 504; a 500 is an error the service did not understand.
func (r *run) classify(o *order, route, method, path string, a answer) {
	if !a.failed() {
		return
	}
	overlap, why := r.dis.overlaps(a.replica, a.start, a.end)
	if a.timeout {
		if !overlap {
			r.st.mu.Lock()
			r.st.timeouts = append(r.st.timeouts, fmt.Sprintf("%s %s to replica %d at %s: no answer in %v",
				method, path, a.replica, a.start.Format("15:04:05.000"), shopTimeout))
			r.st.mu.Unlock()
		}
		return
	}
	kind := fmt.Sprintf("%d", a.status)
	if a.status == 0 {
		kind = "no answer"
	}
	switch {
	case overlap && a.status != http.StatusInternalServerError:
		r.st.add(r.st.expected, kind+" ("+why+")")
		return
	case (a.status == http.StatusBadGateway || a.status == http.StatusGatewayTimeout) && o != nil && o.faultedBefore(a.end):
		r.st.add(r.st.expected, kind+" (Vipps fault)")
		return
	}
	id := strings.TrimPrefix(path, "/api/payments/")
	id, _, _ = strings.Cut(id, "/")
	if id == "" || id == "/api/payments" {
		if o != nil {
			id = "shopRef " + o.shopRef
		}
	}
	detail := fmt.Sprintf("%s %s → %s from replica %d at %s", method, path, kind, a.replica, a.start.Format("15:04:05.000"))
	if a.err != nil {
		detail += ": " + a.err.Error()
	} else {
		detail += ": " + strings.TrimSpace(string(a.body))
	}
	r.st.mu.Lock()
	r.st.unexpected = append(r.st.unexpected, violation{id, detail})
	r.st.mu.Unlock()
}

// ctl calls the simulator's control API; it fails when the answer is not
// want.
func (r *run) ctl(ctx context.Context, method, path string, body any, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, fmt.Errorf("control %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.simURL+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.ctlC.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// getPayment reads a payment from the service, trying again (a few times)
// while it fails. ok is false when there is no such payment or no answer.
func (r *run) getPayment(ctx context.Context, rng *rand.Rand, o *order, id string) (p *paymentJSON, status int) {
	for try := range 5 {
		a := r.shop(ctx, rng, o, "get", http.MethodGet, "/api/payments/"+id, nil, nil)
		if a.status == http.StatusOK {
			var v paymentJSON
			if err := json.Unmarshal(a.body, &v); err == nil {
				return &v, a.status
			}
		}
		if !a.failed() {
			return nil, a.status
		}
		if !sleep(ctx, time.Duration(200<<try)*time.Millisecond) {
			return nil, 0
		}
	}
	return nil, 0
}

// sleep waits d or until ctx ends, and reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// between returns a random duration in [lo, hi).
func between(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(rng.Int64N(int64(hi-lo)))
}
