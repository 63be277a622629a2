package poller_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/internal/poller"
	"github.com/vippskit/vipps/vippstest"
	"github.com/vippskit/vipps/webhook"
)

// taskQueue is a payment.Store that holds tasks only, in memory, with the
// leases of the real stores: all the outbox uses. It records how many
// tasks were leased at once at most, and every limit asked for.
type taskQueue struct {
	payment.Store // nil: the outbox calls nothing else
	mu            sync.Mutex
	tasks         []*payment.Task
	leased        int // tasks leased and not yet updated
	maxLeased     int
	limits        []int
}

// add queues a webhook task for ev, due at once.
func (q *taskQueue) add(ev webhook.Event) {
	q.mu.Lock()
	defer q.mu.Unlock()
	b, err := json.Marshal(ev)
	if err != nil {
		panic(err) // a webhook.Event always marshals
	}
	q.tasks = append(q.tasks, &payment.Task{ID: ev.ID, Kind: payment.TaskWebhook, OrderID: ev.OrderID, EventSeq: ev.ID,
		Payload: b, Status: payment.TaskPending})
}

func (q *taskQueue) LeaseTasks(ctx context.Context, owner string, now time.Time, ttl time.Duration, limit int) ([]*payment.Task, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.limits = append(q.limits, limit)
	var out []*payment.Task
	for _, t := range q.tasks {
		if len(out) == limit {
			break
		}
		if t.Status != payment.TaskPending || t.NextAttemptAt.After(now) || (t.LeaseOwner != "" && !t.LeaseUntil.Before(now)) {
			continue
		}
		t.LeaseOwner, t.LeaseUntil = owner, now.Add(ttl)
		c := *t
		out = append(out, &c)
	}
	q.leased += len(out)
	q.maxLeased = max(q.maxLeased, q.leased)
	return out, nil
}

func (q *taskQueue) UpdateTask(ctx context.Context, t *payment.Task, a *payment.TaskAttempt) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, s := range q.tasks {
		if s.ID != t.ID {
			continue
		}
		if s.LeaseOwner != "" {
			q.leased--
		}
		s.Status, s.Attempts, s.NextAttemptAt, s.LastError = t.Status, t.Attempts, t.NextAttemptAt, t.LastError
		s.LeaseOwner, s.LeaseUntil = "", time.Time{}
		if a != nil {
			s.Log = append(s.Log, *a)
		}
		return nil
	}
	return payment.ErrNotFound
}

// snapshot returns copies of the tasks by id, and the lease figures.
func (q *taskQueue) snapshot() (tasks map[int64]payment.Task, leased, maxLeased int, limits []int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	tasks = map[int64]payment.Task{}
	for _, t := range q.tasks {
		tasks[t.ID] = *t
	}
	return tasks, q.leased, q.maxLeased, append([]int(nil), q.limits...)
}

// TestOutboxRunDeliversIndependently runs the outbox against a shop that
// answers some orders at once and holds the others until the test lets go
// (or their attempt times out, which the test never waits for). Tasks 1-7
// are slow, 8-57 fast, 58-70 slow: with 8 workers, seven hold on to the
// first slow tasks and the eighth must go on delivering the fast ones, one
// after another, while the slow ones are still held. A loop that waits for
// its whole batch delivers none of the fast tasks leased after the batch
// that holds the slow ones until those time out.
func TestOutboxRunDeliversIndependently(t *testing.T) {
	const (
		workers   = 8
		firstSlow = 7  // slow tasks ahead of the fast ones
		fast      = 50 // then fast tasks
		lastSlow  = 13 // then slow tasks again
		total     = firstSlow + fast + lastSlow
	)
	isSlow := func(id int64) bool { return id <= firstSlow || id > firstSlow+fast }

	e := newEnv(t)
	q := &taskQueue{}
	for id := int64(1); id <= total; id++ {
		kind := "fast"
		if isSlow(id) {
			kind = "slow"
		}
		q.add(webhook.Event{ID: id, Type: webhook.EventCaptured, OrderID: vipps.OrderID(fmt.Sprintf("shop-%s-%d", kind, id)),
			State: webhook.StateCaptured, Amount: 100, At: e.clock.Now()})
	}

	var (
		mu                    sync.Mutex
		got                   = map[int64]int{} // deliveries per event id
		slowStarted, slowDone int
		fastDone              int
		inFlight, maxInFlight int
	)
	sh := newShop(t)
	release, releaseSlow := hold(t) // released before the shop closes
	allFast := make(chan struct{})
	v := webhook.Verifier{Secrets: []vipps.Secret{webhookSecret}, Now: e.clock.Now}
	sh.setAnswer(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ev, err := v.ParseEvent(body, r.Header.Get(webhook.SignatureHeader))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		got[ev.ID]++
		inFlight++
		maxInFlight = max(maxInFlight, inFlight)
		slow := isSlow(ev.ID)
		if slow {
			slowStarted++
		}
		mu.Unlock()
		if slow {
			select {
			case <-release:
			case <-r.Context().Done(): // the attempt timed out
			}
		}
		mu.Lock()
		inFlight--
		if slow {
			slowDone++
		} else {
			fastDone++
		}
		last := !slow && fastDone == fast
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
		if last {
			close(allFast)
		}
	})

	ob := e.outbox(webhookTo(sh), func(c *poller.OutboxConfig) {
		c.Store, c.Workers, c.Interval = q, workers, 10*time.Millisecond
		// Longer than the test could wait: the slow tasks end only when
		// released.
		c.AttemptTimeout, c.LeaseTTL = 10*time.Minute, 11*time.Minute
		c.HTTPClient = &http.Client{}
	})
	cancel, done := start(t, ob.Run)

	select {
	case <-allFast:
	case <-time.After(30 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("after 30 s, %d of %d fast tasks delivered, with %d slow ones held: the fast ones wait for the slow ones",
			fastDone, fast, slowStarted-slowDone)
	}
	mu.Lock()
	if slowDone != 0 {
		t.Errorf("when every fast task was delivered: %d slow attempts done; want none (they are held)", slowDone)
	}
	mu.Unlock()
	// The slow tasks ahead of the fast ones were leased first and hold their
	// workers; their requests may still be on the way to the shop (on a busy
	// machine they can arrive after 50 fast round trips), so wait for them
	// rather than assume they came first.
	for wait := time.After(30 * time.Second); ; {
		mu.Lock()
		started := slowStarted
		mu.Unlock()
		if started >= firstSlow {
			break
		}
		select {
		case <-wait:
			t.Fatalf("%d slow attempts started 30 s after every fast task was delivered, want %d", started, firstSlow)
		case <-time.After(time.Millisecond):
		}
	}
	mu.Lock()
	if slowDone != 0 || slowStarted > workers {
		t.Errorf("with the slow tasks held: %d slow attempts started and %d done; want %d-%d started, none done",
			slowStarted, slowDone, firstSlow, workers)
	}
	mu.Unlock()
	// The slow tasks past the pool's reach are not leased: no lease runs
	// out while its task waits in a queue.
	tasks, leased, _, _ := q.snapshot()
	if leased > workers {
		t.Errorf("%d tasks leased while %d workers are busy; want at most %d", leased, workers, workers)
	}
	for id := int64(firstSlow + fast + 2); id <= total; id++ {
		if tk := tasks[id]; tk.LeaseOwner != "" || tk.Attempts != 0 {
			t.Errorf("task %d, slow and beyond the workers' reach: lease %q, %d attempts; want neither", id, tk.LeaseOwner, tk.Attempts)
		}
	}

	releaseSlow()
	deadline := time.After(30 * time.Second)
	for {
		tasks, _, _, _ = q.snapshot()
		n := 0
		for _, tk := range tasks {
			if tk.Status == payment.TaskDone {
				n++
			}
		}
		if n == total {
			break
		}
		select {
		case <-deadline:
			t.Fatalf("%d of %d tasks done 30 s after the slow ones were let go", n, total)
		case <-time.After(5 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run(...) = %v, want nil", err)
	}

	mu.Lock()
	defer mu.Unlock()
	want := map[int64]int{}
	for id := int64(1); id <= total; id++ {
		want[id] = 1
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("deliveries per event id (-want +got):\n%s", diff)
	}
	for id, tk := range tasks {
		if tk.Attempts != 1 || len(tk.Log) != 1 || tk.Log[0].StatusCode != http.StatusNoContent {
			t.Errorf("task %d: %d attempts, log %+v; want one, answered 204", id, tk.Attempts, tk.Log)
		}
	}
	_, leased, maxLeased, limits := q.snapshot()
	if leased != 0 || maxLeased > workers || maxInFlight > workers {
		t.Errorf("leases: %d held at the end, at most %d at once, %d requests at once; want 0, at most %d, at most %d",
			leased, maxLeased, maxInFlight, workers, workers)
	}
	for i, n := range limits {
		if n < 1 || n > workers {
			t.Errorf("lease %d asked for %d tasks; want 1-%d, as many as there are idle workers", i, n, workers)
		}
	}
}

// TestWebhookAttemptTimeout checks that an attempt ends at AttemptTimeout
// even when the HTTP client would wait for ever, and is stored as a failed
// attempt that says so.
func TestWebhookAttemptTimeout(t *testing.T) {
	e := newEnv(t, withWebhooks)
	sh := newShop(t)
	ended := make(chan error, 1)
	stop := make(chan struct{})
	sh.setAnswer(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
			ended <- r.Context().Err()
		case <-stop:
		}
	})
	t.Cleanup(func() { close(stop) }) // before the server closes
	ob := e.outbox(webhookTo(sh), func(c *poller.OutboxConfig) {
		c.HTTPClient = &http.Client{} // no timeout of its own
		c.AttemptTimeout, c.Backoff = 50*time.Millisecond, 5*time.Second
	})
	p := e.reservedPayment()
	now := e.clock.Now()
	if n := e.poll(ob); n != 1 {
		t.Fatalf("Outbox.Poll(...) = %d, want 1", n)
	}
	within(t, ended, 10*time.Second, "the shop's request did not end within 10 s of an attempt timeout of 50 ms")
	got := e.onlyTask(p.OrderID)
	if got.Status != payment.TaskPending || len(got.Log) != 1 || !got.NextAttemptAt.Equal(now.Add(5*time.Second)) || got.LeaseOwner != "" {
		t.Fatalf("task = %s, log %+v, next %v, lease %q; want pending, one attempt, %v, none", got.Status, got.Log, got.NextAttemptAt, got.LeaseOwner, now.Add(5*time.Second))
	}
	const want = "no outcome within the attempt timeout (50ms)"
	if a := got.Log[0]; a.StatusCode != 0 || !strings.Contains(a.Error, want) || !strings.Contains(a.Error, "context deadline exceeded") {
		t.Errorf("attempt = %+v, want no status and an error saying %q", a, want)
	}
}

// TestReceiptAttemptTimeout checks that a receipt attempt ends at
// AttemptTimeout while Order Management holds the request.
func TestReceiptAttemptTimeout(t *testing.T) {
	e := newEnv(t)
	p := e.capturedWithReceipt()
	id, err := e.sim.Sim.InjectFault(vippstest.Fault{Kind: vippstest.FaultTimeout, Op: "om-receipt"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.sim.Sim.RemoveFault(id) })
	ob := e.outbox(func(c *poller.OutboxConfig) { c.AttemptTimeout, c.Backoff = 100*time.Millisecond, 5*time.Second })
	now := e.clock.Now()
	start := time.Now()
	if n := e.poll(ob); n != 1 {
		t.Fatalf("Outbox.Poll(...) = %d, want 1", n)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Outbox.Poll(...) took %v with an attempt timeout of 100 ms", d)
	}
	got := e.onlyTask(p.OrderID)
	if got.Kind != payment.TaskReceipt || got.Status != payment.TaskPending || len(got.Log) != 1 || !got.NextAttemptAt.Equal(now.Add(5*time.Second)) {
		t.Fatalf("task = %s %s, log %+v, next %v; want a pending receipt, one attempt, due %v", got.Kind, got.Status, got.Log, got.NextAttemptAt, now.Add(5*time.Second))
	}
	if !strings.Contains(got.LastError, "no outcome within the attempt timeout (100ms)") {
		t.Errorf("last error = %q, want the attempt timeout", got.LastError)
	}
}

// TestWebhookPreviousSecrets checks that during a rotation every webhook
// carries a signature per secret, so that a shop holding any one accepts
// it.
func TestWebhookPreviousSecrets(t *testing.T) {
	const old = vipps.Secret("old-webhook-secret-0123456789")
	e := newEnv(t, withWebhooks)
	sh := newShop(t)
	ob := e.outbox(webhookTo(sh), func(c *poller.OutboxConfig) { c.PreviousWebhookSecrets = []vipps.Secret{old} })
	e.reservedPayment()
	now := e.clock.Now()
	e.poll(ob)
	ds := sh.deliveries()
	if len(ds) != 1 {
		t.Fatalf("the shop got %d requests, want 1", len(ds))
	}
	header := ds[0].Header.Get(webhook.SignatureHeader)
	if want := webhook.SignAll([]vipps.Secret{webhookSecret, old}, now, ds[0].Body); header != want {
		t.Errorf("%s = %q, want %q", webhook.SignatureHeader, header, want)
	}
	for _, s := range []vipps.Secret{webhookSecret, old} {
		v := webhook.Verifier{Secrets: []vipps.Secret{s}, Now: e.clock.Now}
		if err := v.Verify(ds[0].Body, header); err != nil {
			t.Errorf("Verify(with one of the secrets) = %v, want nil", err)
		}
	}
	v := webhook.Verifier{Secrets: []vipps.Secret{"another-secret-0123456789"}, Now: e.clock.Now}
	if err := v.Verify(ds[0].Body, header); !errors.Is(err, webhook.ErrMismatch) {
		t.Errorf("Verify(with another secret) = %v, want ErrMismatch", err)
	}
}

func TestNewOutboxLeaseShorterThanAttempt(t *testing.T) {
	e := newEnv(t)
	_, err := poller.NewOutbox(poller.OutboxConfig{Store: e.store, Service: e.svc, Owner: "a", LeaseTTL: 10 * time.Second, AttemptTimeout: 30 * time.Second})
	const want = "outbox: LeaseTTL (10s) must exceed AttemptTimeout (30s)"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("NewOutbox(LeaseTTL 10s, AttemptTimeout 30s) = %v, want %q...", err, want)
	}
}

// TestPollerRunChecksIndependently holds one payment's check in flight and
// makes more payments due meanwhile: Run checks them with the other
// workers, without waiting for the held one.
func TestPollerRunChecksIndependently(t *testing.T) {
	e := newEnv(t)
	slow := e.create(payment.CreateRequest{})
	e.clock.Advance(payment.DefaultSchedule.FirstDelay)
	started := make(chan struct{}, 1)
	release, releaseSlow := hold(t)
	e.vipps.setHook(func(ctx context.Context, id vipps.OrderID) error {
		if id != slow.OrderID {
			return nil
		}
		select {
		case started <- struct{}{}:
		default:
		}
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	checked := make(chan error, 64)
	pl := e.poller("a", func(c *poller.Config) {
		c.Workers, c.Interval = 2, 10*time.Millisecond
		c.Observe = func(err error) { checked <- err }
	})
	cancel, done := start(t, pl.Run)
	within(t, started, 10*time.Second, "Run did not check the due payment within 10 s")

	// Five more payments come due while the first check is held.
	const more = 5
	for range more {
		e.create(payment.CreateRequest{})
	}
	e.clock.Advance(payment.DefaultSchedule.FirstDelay)
	for i := range more {
		select {
		case err := <-checked:
			if err != nil {
				t.Errorf("check %d = %v, want nil", i, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%d of %d payments checked in 30 s while one check was held: the others wait for it", i, more)
		}
	}
	releaseSlow()
	if err := within(t, checked, 10*time.Second, "the held check did not finish within 10 s of its release"); err != nil {
		t.Errorf("the held check = %v, want nil", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run(...) = %v, want nil", err)
	}
}
