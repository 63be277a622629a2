package chaostest

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/vippstest"
	"golang.org/x/sys/unix"
)

// child returns a new random source drawn from rng, for a goroutine of its
// own (a *rand.Rand is not safe for concurrent use).
func child(rng *rand.Rand) *rand.Rand { return rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64())) }

// drive runs the payments, at most concurrency at once.
func (r *run) drive(ctx context.Context) {
	sem := make(chan struct{}, r.cfg.concurrency)
	var wg sync.WaitGroup
	for i := range r.cfg.payments {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		r.started.Add(1)
		wg.Go(func() {
			defer func() { <-sem }()
			r.payment(ctx, i)
		})
	}
	wg.Wait()
}

// opBudget bounds the time a payment's operations may take in all.
const opBudget = 40 * time.Second

// payment plays one shop order from create to its last operation.
func (r *run) payment(ctx context.Context, i int) {
	rng := r.rng("payment", i)
	o := &order{shopRef: fmt.Sprintf("r%06d", i), ops: map[string]*shopOp{}, began: time.Now()}
	defer func() {
		o.mu.Lock()
		o.took = time.Since(o.began)
		o.mu.Unlock()
	}()
	o.amount = vipps.Amount(1000 + rng.IntN(99_000))
	if rng.IntN(50) == 0 {
		o.amount = 151 // a magic amount: the reservation fails (Payment 42)
	}
	o.receipt = rng.IntN(10) < 3
	// Express checkout: the customer picks shipping (its cost reserved on
	// top for half the seeds, see startSim), and the callback carries
	// what they shared.
	o.express = rng.IntN(10) < 2
	if o.express {
		// A customer of their own, whose consent removal is theirs alone.
		o.phone = fmt.Sprintf("98%06d", i%1_000_000)
	}
	r.mu.Lock()
	r.orders[o.shopRef] = o
	r.mu.Unlock()
	faults := r.cfg.faults

	if faults && rng.IntN(20) == 0 {
		// The first attempt's orderId is known before create.
		kinds := []string{"server-error", "drop", "drop-after-apply", "timeout-after-apply", "delay"}
		r.fault(ctx, rng, o, orderPrefix+"-"+o.shopRef, "initiate", kinds[rng.IntN(len(kinds))])
	}
	id, ok := r.create(ctx, rng, o)
	o.phase("create")
	if !ok {
		return
	}
	var older string
	if rng.IntN(20) == 0 {
		// A second attempt while the first waits: the first is approved
		// late and must be released by the service.
		if id2, ok := r.create(ctx, rng, o); ok {
			older, id = id, id2
		}
	}
	if faults {
		if rng.IntN(10) < 3 {
			r.callbackFault(ctx, rng, o, id)
		}
		if rng.IntN(10) == 0 {
			kinds := []string{"server-error", "rate-limited", "drop", "timeout", "delay"}
			r.fault(ctx, rng, o, id, "details", kinds[rng.IntN(len(kinds))])
		}
		if o.receipt && rng.IntN(4) == 0 {
			kinds := []string{"server-error", "drop", "drop-after-apply", "timeout-after-apply"}
			r.fault(ctx, rng, o, id, "om-receipt", kinds[rng.IntN(len(kinds))])
		}
	}
	if !sleep(ctx, between(rng, 0, 500*time.Millisecond)) {
		return
	}

	approved := false
	switch n := rng.IntN(100); {
	case n < 78:
		approved = r.user(ctx, o, id, "approve")
	case n < 85:
		r.user(ctx, o, id, "reject")
	case n < 92:
		r.user(ctx, o, id, "expire")
	default: // the shop cancels before approval, sometimes racing the customer
		o.plan = "cancel-initiated"
		var wg sync.WaitGroup
		if rng.IntN(2) == 0 {
			wg.Go(func() { r.user(ctx, o, id, "approve") })
		}
		r.send(ctx, rng, o, id, "cancel", 0, false)
		wg.Wait()
	}
	if older != "" {
		sleep(ctx, between(rng, 200*time.Millisecond, 2*time.Second))
		r.user(ctx, o, older, "approve")
	}
	o.phase("user")
	// An express customer may remove their consent in the app: at once,
	// racing the service's learning of the reservation, or after the
	// shop's operations.
	withdraw := -1
	if approved && o.express {
		withdraw = rng.IntN(6)
	}
	if withdraw == 0 || withdraw == 1 {
		r.removeConsent(ctx, o, id)
	}
	// The shop's operations on one order get a budget: the service's
	// answers may take long (it waits out Vipps' Retry-After), and the
	// run must end in its time; what is left undone is left to the
	// service and the convergence.
	ctx, cancel := context.WithTimeout(ctx, opBudget)
	defer cancel()
	if approved {
		st := r.waitSettled(ctx, rng, o, id, 25*time.Second)
		o.phase("settle")
		if st == "reserved" {
			r.operate(ctx, rng, o, id)
			o.phase("operate")
		}
	}
	if withdraw == 2 {
		r.removeConsent(ctx, o, id)
	}
	r.repeat(ctx, rng, o, id)
	o.phase("repeat")
}

// create creates a payment for o, trying again (a new attempt, as a shop
// does) when the service fails; it returns the orderId.
func (r *run) create(ctx context.Context, rng *rand.Rand, o *order) (string, bool) {
	body := map[string]any{"amount": o.amount, "text": "Chaos order " + o.shopRef, "shopRef": o.shopRef, "express": o.express}
	if o.receipt {
		body["receipt"] = vipps.Receipt{
			OrderLines: []vipps.OrderLine{{Name: "Chaos goods", ID: "g1", TotalAmount: o.amount,
				TotalAmountExcludingTax: o.amount * 4 / 5, TotalTaxAmount: o.amount - o.amount*4/5, TaxPercentage: 25}},
			BottomLine: vipps.BottomLine{Currency: "NOK"},
		}
	}
	for try := range 4 {
		a := r.shop(ctx, rng, o, "create", http.MethodPost, "/api/payments", body, nil)
		v, _ := a.decode()
		switch {
		case a.status == http.StatusCreated && v != nil && v.OrderID != "":
			o.addAttempt(v.OrderID)
			return v.OrderID, true
		case a.failed():
			o.mu.Lock()
			o.createTrouble = true
			o.mu.Unlock()
			if v != nil && v.Payment != nil {
				o.addAttempt(v.Payment.OrderID)
			}
			if ctx.Err() != nil || !sleep(ctx, time.Duration(300<<try)*time.Millisecond) {
				return "", false
			}
		default:
			if a.status != http.StatusConflict {
				r.st.anomaly("create %s: %d %s", o.shopRef, a.status, a.body)
			}
			return "", false
		}
	}
	return "", false
}

// user acts as the customer through the simulator's control API: approve
// (with the order's phone, if it has one), reject or expire. It reports
// whether the simulator did it.
func (r *run) user(ctx context.Context, o *order, id, act string) bool {
	var body any
	if act == "approve" && o.phone != "" {
		body = map[string]string{"phoneNumber": o.phone}
	}
	status, err := r.ctl(ctx, http.MethodPost, "/_sim/payments/"+id+"/"+act, body, nil)
	// 502: the service gave no shipping options (killed meanwhile).
	shippingLost := status == http.StatusBadGateway && o.express && r.shopShipping
	if err != nil && status != http.StatusConflict && status != http.StatusBadRequest && !shippingLost && ctx.Err() == nil {
		r.st.anomaly("%s %s: %v", act, id, err)
	}
	return err == nil
}

// removeConsent withdraws, as o's customer in the app, the consent their
// express checkout gave; Vipps (the simulator) tells the service at once,
// and o records whether the service answered 2xx.
func (r *run) removeConsent(ctx context.Context, o *order, id string) {
	d, err := r.vipps.Details(ctx, vipps.OrderID(id))
	if err != nil || d.UserDetails == nil {
		return // not approved, or Vipps did not answer: nothing to remove
	}
	o.mu.Lock()
	o.consentAsked = true
	o.mu.Unlock()
	var sent []vippstest.ConsentRemoval
	if _, err := r.ctl(ctx, http.MethodPost, "/_sim/consents/"+url.PathEscape(d.UserDetails.UserID)+"/remove", nil, &sent); err != nil {
		if ctx.Err() == nil {
			r.st.anomaly("remove the consent of %s's customer: %v", id, err)
		}
		return
	}
	delivered := slices.ContainsFunc(sent, vippstest.ConsentRemoval.Delivered)
	r.st.add(r.st.consents, map[bool]string{true: "delivered", false: "not delivered"}[delivered])
	if delivered {
		o.mu.Lock()
		o.consentRemoved = true
		o.mu.Unlock()
	}
}

// waitSettled polls the payment until the service no longer shows it
// waiting for the customer, as a shop waiting for its webhook would, and
// returns the state.
func (r *run) waitSettled(ctx context.Context, rng *rand.Rand, o *order, id string, timeout time.Duration) string {
	deadline := time.Now().Add(timeout)
	st := ""
	for time.Now().Before(deadline) {
		if p, _ := r.getPayment(ctx, rng, o, id); p != nil {
			st = p.State
			if st != "created" && st != "initiated" {
				return st
			}
		}
		if !sleep(ctx, between(rng, 250*time.Millisecond, 600*time.Millisecond)) {
			break
		}
	}
	return st
}

// operate runs one of the shop's plans on a reserved payment.
func (r *run) operate(ctx context.Context, rng *rand.Rand, o *order, id string) {
	total := o.amount
	switch n := rng.IntN(100); {
	case n < 22:
		o.plan = "capture"
		amt := total
		if rng.IntN(2) == 0 {
			amt = 0 // all that remains
		}
		r.send(ctx, rng, o, id, "capture", amt, false)
		if rng.IntN(3) == 0 {
			r.refunds(ctx, rng, o, id, 1)
		}
	case n < 40:
		o.plan = "partial captures"
		k := 2 + rng.IntN(3)
		r.many(ctx, rng, o, id, "capture", k, total/vipps.Amount(k+1), rng.IntN(2) == 0)
		if rng.IntN(2) == 0 {
			r.send(ctx, rng, o, id, "cancel", 0, true) // release the rest
		} else {
			r.send(ctx, rng, o, id, "capture", 0, false) // capture the rest
		}
	case n < 60:
		o.plan = "capture and refunds"
		amt := total
		if rng.IntN(2) == 0 {
			amt = total / 2
		}
		r.send(ctx, rng, o, id, "capture", amt, false)
		r.refunds(ctx, rng, o, id, 1+rng.IntN(3))
	case n < 70:
		o.plan = "void"
		r.send(ctx, rng, o, id, "cancel", 0, false)
	case n < 80:
		o.plan = "partial capture and release"
		r.send(ctx, rng, o, id, "capture", max(1, total/vipps.Amount(2+rng.IntN(4))), false)
		r.send(ctx, rng, o, id, "cancel", 0, true)
	case n < 85:
		o.plan = "left reserved"
	default:
		o.plan = "storm"
		// More captures at once than there is money, then refunds at once.
		r.many(ctx, rng, o, id, "capture", 3+rng.IntN(4), max(1, total/3), true)
		r.many(ctx, rng, o, id, "refund", 2+rng.IntN(3), max(1, total/4), true)
	}
}

// refunds sends k refunds of what the service shows as captured, split in
// k parts, at once or one after the other.
func (r *run) refunds(ctx context.Context, rng *rand.Rand, o *order, id string, k int) {
	left := o.amount / 2
	if p, _ := r.getPayment(ctx, rng, o, id); p != nil && p.Amounts.RemainingToRefund > 0 {
		left = p.Amounts.RemainingToRefund
	}
	if k == 1 && rng.IntN(2) == 0 {
		r.send(ctx, rng, o, id, "refund", 0, false) // all that remains
		return
	}
	r.many(ctx, rng, o, id, "refund", k, max(1, left/vipps.Amount(k)), rng.IntN(2) == 0)
}

// many sends k operations of one kind with different keys, at once or one
// after the other.
func (r *run) many(ctx context.Context, rng *rand.Rand, o *order, id, kind string, k int, amount vipps.Amount, together bool) {
	if !together {
		for range k {
			r.send(ctx, rng, o, id, kind, amount, false)
		}
		return
	}
	var wg sync.WaitGroup
	for range k {
		rng := child(rng)
		wg.Go(func() { r.send(ctx, rng, o, id, kind, amount, false) })
	}
	wg.Wait()
}

// send sends one operation with a new key: sometimes several times at once
// with that key, sometimes with a Vipps fault waiting for it. A key
// answered 202 (and some others) is sent again later by repeat.
func (r *run) send(ctx context.Context, rng *rand.Rand, o *order, id, kind string, amount vipps.Amount, release bool) {
	op := o.newKey(id, kind, amount, release)
	r.st.mu.Lock()
	r.st.keys++
	r.st.mu.Unlock()
	if r.cfg.faults && rng.IntN(100) < 30 {
		kinds := []string{"timeout-after-apply", "timeout-after-apply", "drop-after-apply", "drop-after-apply",
			"server-error", "rate-limited", "timeout", "drop", "delay"}
		r.fault(ctx, rng, o, id, kind, kinds[rng.IntN(len(kinds))])
	}
	copies := 1
	if rng.IntN(4) == 0 {
		copies = 2 + rng.IntN(3)
	}
	var wg sync.WaitGroup
	for range copies {
		rng := child(rng)
		wg.Go(func() { r.opRequest(ctx, rng, o, id, op) })
	}
	wg.Wait()
	o.mu.Lock()
	if slices.Contains(op.statuses, http.StatusAccepted) || rng.IntN(5) == 0 {
		op.repeat = true
	}
	o.mu.Unlock()
}

// opRequest sends one operation request, trying again with the same key
// while the service fails or does not answer, as a shop does.
func (r *run) opRequest(ctx context.Context, rng *rand.Rand, o *order, id string, op *shopOp) int {
	body := map[string]any{}
	switch op.kind {
	case "cancel":
		if op.release {
			body["releaseRemaining"] = true
		}
	default:
		if op.amount > 0 {
			body["amount"] = op.amount
		}
	}
	var header http.Header
	if rng.IntN(2) == 0 {
		body["idempotencyKey"] = op.key
	} else {
		header = http.Header{"Idempotency-Key": {op.key}}
	}
	status, timeouts := 0, 0
	began := time.Now()
	for try := range 6 {
		r.st.mu.Lock()
		r.st.opRequests++
		r.st.mu.Unlock()
		a := r.shop(ctx, rng, o, op.kind, http.MethodPost, "/api/payments/"+id+"/"+op.kind, body, header)
		status = a.status
		o.mu.Lock()
		op.statuses = append(op.statuses, a.status)
		if v, err := a.decode(); err == nil && v.Operation != nil && v.Operation.ID != 0 && !slices.Contains(op.opIDs, v.Operation.ID) {
			op.opIDs = append(op.opIDs, v.Operation.ID)
		}
		o.mu.Unlock()
		if a.timeout {
			timeouts++
		}
		// A shop gives up on a request after two timeouts or 40 s, and
		// leaves the rest to the repeat later (and to the webhooks).
		if !a.failed() || ctx.Err() != nil || timeouts == 2 || time.Since(began) > 40*time.Second {
			break
		}
		if !sleep(ctx, min(time.Duration(300<<try)*time.Millisecond, 3*time.Second)) {
			break
		}
	}
	return status
}

// repeat sends again, with the same key and body, the operations marked
// for it: those answered 202 (or not at all) up to twice more until they
// are answered otherwise.
func (r *run) repeat(ctx context.Context, rng *rand.Rand, o *order, id string) {
	for round := range 3 {
		o.mu.Lock()
		var due []*shopOp
		for _, op := range o.ops {
			if op.repeat {
				due = append(due, op)
			}
		}
		o.mu.Unlock()
		if len(due) == 0 {
			return
		}
		slices.SortFunc(due, func(a, b *shopOp) int { return cmp.Compare(a.key, b.key) })
		if !sleep(ctx, between(rng, time.Second, time.Duration(3+2*round)*time.Second)) {
			return
		}
		var wg sync.WaitGroup
		for _, op := range due {
			rng := child(rng)
			wg.Go(func() {
				st := r.opRequest(ctx, rng, o, id, op)
				o.mu.Lock()
				op.repeat = st == http.StatusAccepted || st == 0
				o.mu.Unlock()
			})
		}
		wg.Wait()
	}
}

// fault injects a request fault of kind on op for orderID, hitting once
// or twice. Timeouts are held for a few seconds at most, so that no shop
// request waits for the service's 30 s client timeout.
func (r *run) fault(ctx context.Context, rng *rand.Rand, o *order, orderID, op, kind string) {
	f := map[string]any{"kind": kind, "op": op, "orderId": orderID, "count": 1 + rng.IntN(2)}
	switch kind {
	case "timeout", "timeout-after-apply":
		f["delay"] = between(rng, time.Second, 3*time.Second).Round(time.Millisecond).String()
	case "delay":
		f["delay"] = between(rng, 300*time.Millisecond, 2500*time.Millisecond).Round(time.Millisecond).String()
	case "rate-limited":
		f["retryAfter"] = "1s"
	}
	o.mu.Lock()
	if o.faultAt.IsZero() {
		o.faultAt = time.Now()
	}
	o.mu.Unlock()
	if _, err := r.ctl(ctx, http.MethodPost, "/_sim/faults", f, nil); err != nil {
		if ctx.Err() == nil {
			r.st.anomaly("inject fault %v: %v", f, err)
		}
		return
	}
	r.st.add(r.st.faults, kind+" on "+op)
}

// callbackFault makes the next callback of orderID dropped, delayed,
// duplicated or reordered.
func (r *run) callbackFault(ctx context.Context, rng *rand.Rand, o *order, orderID string) {
	kinds := []string{"drop", "delay", "duplicate", "reorder"}
	kind := kinds[rng.IntN(len(kinds))]
	f := map[string]any{"kind": kind, "orderId": orderID, "count": 1}
	if kind == "delay" {
		f["delay"] = between(rng, 200*time.Millisecond, 3*time.Second).Round(time.Millisecond).String()
	}
	if _, err := r.ctl(ctx, http.MethodPost, "/_sim/callback-faults", f, nil); err != nil {
		if ctx.Err() == nil {
			r.st.anomaly("inject callback fault %v: %v", f, err)
		}
		return
	}
	r.st.add(r.st.cbFaults, kind)
}

// monkey kills replicas and restarts the database at random points of the
// driver's progress, spread over its first five sixths, so that the last
// payments run calmly and the books have time to converge: event i of n
// waits until about (i+1)/(n+1) of the payments have started.
func (r *run) monkey(ctx context.Context, rng *rand.Rand) {
	var events []string
	for range r.cfg.kills {
		events = append(events, "kill")
	}
	if r.pg != nil {
		for range r.cfg.dbRestarts {
			events = append(events, "db")
		}
	} else {
		for range r.cfg.diskFull {
			events = append(events, "disk")
		}
	}
	rng.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
	n := float64(r.cfg.payments) * 5 / 6
	step := n / float64(len(events)+1)
	for i, ev := range events {
		at := int64(step*float64(i+1) + (rng.Float64()-0.5)*step)
		for r.started.Load() < at {
			if !sleep(ctx, 100*time.Millisecond) {
				return
			}
		}
		if !sleep(ctx, between(rng, 0, 2*time.Second)) {
			return
		}
		switch ev {
		case "kill":
			r.kill(rng)
		case "db":
			r.restartDB(rng)
		case "disk":
			r.fillDisk(rng)
		}
	}
}

// kill kills a random replica with SIGKILL and starts it again on the
// same port and database after a moment.
func (r *run) kill(rng *rand.Rand) {
	rep := r.reps[rng.IntN(len(r.reps))]
	rep.mu.Lock()
	defer rep.mu.Unlock()
	w := r.dis.open(rep.idx, fmt.Sprintf("kill -9 of %s", rep.proc.name))
	rep.proc.kill()
	time.Sleep(between(rng, 200*time.Millisecond, 2*time.Second))
	if err := r.startReplica(rep, time.Minute); err != nil {
		r.t.Errorf("restart after kill: %v", err)
	}
	r.dis.close(w, 2*time.Second)
	r.st.mu.Lock()
	r.st.kills++
	r.st.mu.Unlock()
	r.t.Logf("killed and restarted %s", rep.proc.name)
}

// restartDB stops the PostgreSQL cluster with an immediate shutdown and
// starts it again.
func (r *run) restartDB(rng *rand.Rand) {
	for _, rep := range r.reps {
		rep.mu.Lock()
		defer rep.mu.Unlock()
	}
	w := r.dis.open(-1, "PostgreSQL restart")
	if err := r.pg.stop(); err != nil {
		r.t.Errorf("database restart: %v", err)
	}
	time.Sleep(between(rng, 500*time.Millisecond, 2*time.Second))
	var err error
	for range 3 {
		if err = r.pg.start(); err == nil {
			break
		}
		time.Sleep(time.Second)
	}
	if err != nil {
		r.t.Errorf("database restart: %v", err)
	}
	for _, rep := range r.reps {
		if err := r.waitReady(rep, time.Minute); err != nil {
			r.t.Errorf("%s after the database restart: %v", rep.proc.name, err)
		}
	}
	r.dis.close(w, 3*time.Second)
	r.st.mu.Lock()
	r.st.dbRestarts++
	r.st.mu.Unlock()
	r.t.Logf("restarted PostgreSQL (immediate shutdown)")
}

// fillDisk makes the SQLite replica's disk take no writes for a moment,
// as a full disk does, while it serves: its RLIMIT_FSIZE is set to one
// byte (prlimit), so that every write to its files past their first byte
// fails with EFBIG (the Go runtime ignores SIGXFSZ), the database's as
// the log's; then the limit is lifted. Unlike a kill the process goes on,
// so the service's handling of failed writes is what is tested: nothing
// half-stored, a 503 to the shop, everything made good once the disk
// takes writes again.
func (r *run) fillDisk(rng *rand.Rand) {
	rep := r.reps[0]
	rep.mu.Lock()
	defer rep.mu.Unlock()
	pid := rep.proc.pid()
	if pid == 0 {
		return
	}
	var old unix.Rlimit
	if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, &unix.Rlimit{Cur: 1, Max: unix.RLIM_INFINITY}, &old); err != nil {
		r.t.Errorf("disk full: prlimit %s: %v", rep.proc.name, err)
		return
	}
	w := r.dis.open(rep.idx, "disk full")
	time.Sleep(between(rng, time.Second, 4*time.Second))
	if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, &old, nil); err != nil {
		r.t.Errorf("disk full: lift the limit of %s: %v", rep.proc.name, err)
	}
	r.dis.close(w, 2*time.Second)
	r.st.mu.Lock()
	r.st.diskFull++
	r.st.mu.Unlock()
	r.t.Logf("filled the disk of %s for a moment", rep.proc.name)
}

// supervise notices replicas that exit without being killed: a finding,
// recorded; the replica is started again so the run goes on.
func (r *run) supervise(ctx context.Context) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for _, rep := range r.reps {
			if !rep.mu.TryLock() {
				continue
			}
			if exited, killed := rep.proc.exited(); exited && !killed {
				msg := fmt.Sprintf("%s exited on its own at %s:\n%s", rep.proc.name, time.Now().Format("15:04:05.000"), tail(rep.proc.logPath, 10))
				r.st.mu.Lock()
				r.st.crashes = append(r.st.crashes, msg)
				r.st.mu.Unlock()
				r.t.Log(msg)
				if err := r.startReplica(rep, time.Minute); err != nil {
					r.t.Errorf("restart after exit: %v", err)
				}
			}
			rep.mu.Unlock()
		}
	}
}
