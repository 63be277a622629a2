package poller_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
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

const webhookSecret = vipps.Secret("test-webhook-secret-0123456789")

// shop is the shop's webhook endpoint: it records every request and
// answers with the status set (200 unless told otherwise).
type shop struct {
	*httptest.Server
	mu     sync.Mutex
	got    []delivery
	answer http.HandlerFunc
}

type delivery struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

func newShop(t *testing.T) *shop {
	t.Helper()
	s := &shop{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.got = append(s.got, delivery{r.Method, r.URL.Path, r.Header.Clone(), body})
		answer := s.answer
		s.mu.Unlock()
		if answer != nil {
			r.Body = io.NopCloser(bytes.NewReader(body)) // for the answer to read again
			answer(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *shop) setAnswer(h http.HandlerFunc) {
	s.mu.Lock()
	s.answer = h
	s.mu.Unlock()
}

func (s *shop) status(code int) {
	s.setAnswer(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) })
}

func (s *shop) deliveries() []delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]delivery(nil), s.got...)
}

func (e *env) outbox(opts ...func(*poller.OutboxConfig)) *poller.Outbox {
	e.t.Helper()
	return e.NewOutbox("a", opts...)
}

// webhookTo sends webhooks to the shop, signed with webhookSecret.
func webhookTo(s *shop) func(*poller.OutboxConfig) {
	return func(c *poller.OutboxConfig) { c.WebhookURL, c.WebhookSecret = s.URL+"/hook", webhookSecret }
}

func (e *env) poll(o *poller.Outbox) int {
	e.t.Helper()
	n, err := o.Poll(context.Background())
	if err != nil {
		e.t.Fatalf("Outbox.Poll(...) = %d, %v", n, err)
	}
	return n
}

// onlyTask returns the payment's only task.
func (e *env) onlyTask(id vipps.OrderID) *payment.Task {
	e.t.Helper()
	ts := e.tasks(id)
	if len(ts) != 1 {
		e.t.Fatalf("Tasks(%s) = %d tasks, want 1", id, len(ts))
	}
	return ts[0]
}

// reservedPayment is an approved payment whose reserved event queued one
// webhook task.
func (e *env) reservedPayment() *payment.Payment {
	e.t.Helper()
	p := e.create(payment.CreateRequest{Amount: 1000, ShopRef: "10042"})
	return e.approve(p.OrderID)
}

// capturedWithReceipt is a payment of 1000 øre with a receipt, captured in
// full, so that one receipt task is queued.
func (e *env) capturedWithReceipt() *payment.Payment {
	e.t.Helper()
	receipt := vipps.Receipt{
		OrderLines: []vipps.OrderLine{{Name: "Socks", ID: "sku-1", TotalAmount: 1000, TotalAmountExcludingTax: 800, TotalTaxAmount: 200, TaxPercentage: 25}},
		BottomLine: vipps.BottomLine{Currency: "NOK"},
	}
	p := e.create(payment.CreateRequest{Amount: 1000, Receipt: &receipt})
	e.approve(p.OrderID)
	if _, err := e.svc.Capture(context.Background(), p.OrderID, payment.OpRequest{}); err != nil {
		e.t.Fatal(err)
	}
	return p
}

func TestNewOutbox(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct {
		name    string
		cfg     poller.OutboxConfig
		wantErr bool
	}{
		{"without webhooks", poller.OutboxConfig{Store: e.store, Service: e.svc, Owner: "a"}, false},
		{"with webhooks", poller.OutboxConfig{Store: e.store, Service: e.svc, Owner: "a", WebhookURL: "http://127.0.0.1/hook", WebhookSecret: webhookSecret}, false},
		{"no store", poller.OutboxConfig{Service: e.svc, Owner: "a"}, true},
		{"no service", poller.OutboxConfig{Store: e.store, Owner: "a"}, true},
		{"no owner", poller.OutboxConfig{Store: e.store, Service: e.svc}, true},
		{"URL without secret", poller.OutboxConfig{Store: e.store, Service: e.svc, Owner: "a", WebhookURL: "http://127.0.0.1/hook"}, true},
		{"short secret", poller.OutboxConfig{Store: e.store, Service: e.svc, Owner: "a", WebhookURL: "http://127.0.0.1/hook", WebhookSecret: "0123456789abcde"}, true},
		{"previous secrets", poller.OutboxConfig{Store: e.store, Service: e.svc, Owner: "a", WebhookURL: "http://127.0.0.1/hook", WebhookSecret: webhookSecret,
			PreviousWebhookSecrets: []vipps.Secret{"old-secret-0123456789", "older-secret-0123456789"}}, false},
		{"short previous secret", poller.OutboxConfig{Store: e.store, Service: e.svc, Owner: "a", WebhookURL: "http://127.0.0.1/hook", WebhookSecret: webhookSecret,
			PreviousWebhookSecrets: []vipps.Secret{"old-secret-0123456789", ""}}, true},
		{"attempt timeout within the default lease", poller.OutboxConfig{Store: e.store, Service: e.svc, Owner: "a", AttemptTimeout: 59 * time.Second}, false},
		{"attempt timeout as long as the default lease", poller.OutboxConfig{Store: e.store, Service: e.svc, Owner: "a", AttemptTimeout: time.Minute}, true},
		{"lease shorter than the default attempt timeout", poller.OutboxConfig{Store: e.store, Service: e.svc, Owner: "a", LeaseTTL: 5 * time.Second}, true},
		{"lease longer than the attempt timeout", poller.OutboxConfig{Store: e.store, Service: e.svc, Owner: "a", LeaseTTL: 5 * time.Second, AttemptTimeout: time.Second}, false},
		{"lease as long as the attempt timeout", poller.OutboxConfig{Store: e.store, Service: e.svc, Owner: "a", LeaseTTL: time.Second, AttemptTimeout: time.Second}, true},
		{"negative attempt timeout", poller.OutboxConfig{Store: e.store, Service: e.svc, Owner: "a", AttemptTimeout: -time.Second}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o, err := poller.NewOutbox(tt.cfg)
			if (err != nil) != tt.wantErr || (err == nil) != (o != nil) {
				t.Errorf("NewOutbox(...) = %v, %v; want error %v", o, err, tt.wantErr)
			}
		})
	}
}

func TestWebhookDelivered(t *testing.T) {
	e := newEnv(t, withWebhooks)
	sh := newShop(t)
	ob := e.outbox(webhookTo(sh))
	p := e.reservedPayment()
	now := e.clock.Now()

	task := e.onlyTask(p.OrderID)
	if task.Kind != payment.TaskWebhook || task.Status != payment.TaskPending || task.Attempts != 0 {
		t.Fatalf("queued task = %s %s after %d attempts, want a pending webhook, never attempted", task.Kind, task.Status, task.Attempts)
	}
	var seq int64
	for _, ev := range e.events(p.OrderID) {
		if ev.Type == payment.EventReserved {
			seq = ev.Seq
		}
	}
	if seq == 0 || task.EventSeq != seq {
		t.Fatalf("task EventSeq = %d, want the reserved event's %d", task.EventSeq, seq)
	}

	if n := e.poll(ob); n != 1 {
		t.Fatalf("Outbox.Poll(...) = %d, want 1", n)
	}
	ds := sh.deliveries()
	if len(ds) != 1 {
		t.Fatalf("the shop got %d requests, want 1", len(ds))
	}
	d := ds[0]
	if d.Method != http.MethodPost || d.Path != "/hook" {
		t.Errorf("request = %s %s, want POST /hook", d.Method, d.Path)
	}

	var body map[string]any
	if err := json.Unmarshal(d.Body, &body); err != nil {
		t.Fatalf("body %s: %v", d.Body, err)
	}
	at, _ := body["at"].(string)
	delete(body, "at")
	if got, err := time.Parse(time.RFC3339Nano, at); err != nil || !got.Equal(now) {
		t.Errorf("body at = %q, want %v", at, now)
	}
	wantBody := map[string]any{
		"id": float64(seq), "type": "reserved", "orderId": string(p.OrderID), "shopRef": "10042",
		"state": "reserved", "amount": 1000.0,
		"amounts": map[string]any{"authorized": 1000.0, "captured": 0.0, "refunded": 0.0, "remainingToCapture": 1000.0, "remainingToRefund": 0.0},
	}
	if diff := cmp.Diff(wantBody, body); diff != "" {
		t.Errorf("webhook body (-want +got):\n%s", diff)
	}

	wantHeader := map[string]string{
		"Content-Type":          "application/json",
		webhook.EventIDHeader:   strconv.FormatInt(seq, 10),
		webhook.EventTypeHeader: "reserved",
	}
	for k, want := range wantHeader {
		if got := d.Header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	// What a shop in Go gets from package webhook.
	v := webhook.Verifier{Secrets: []vipps.Secret{webhookSecret}, Now: func() time.Time { return now }}
	ev, err := v.ParseEvent(d.Body, d.Header.Get(webhook.SignatureHeader))
	if err != nil {
		t.Fatalf("ParseEvent(body, %s header) = %v, want nil", webhook.SignatureHeader, err)
	}
	wantEvent := webhook.Event{ID: seq, Type: webhook.EventReserved, OrderID: p.OrderID, ShopRef: "10042",
		State: webhook.StateReserved, Amount: 1000, Amounts: webhook.Amounts{Authorized: 1000, RemainingToCapture: 1000}, At: now}
	if diff := cmp.Diff(wantEvent, ev); diff != "" {
		t.Errorf("ParseEvent(...) (-want +got):\n%s", diff)
	}
	if got, want := d.Header.Get(webhook.SignatureHeader), webhook.Sign(webhookSecret, now, d.Body); got != want {
		t.Errorf("%s = %q, want %q (one v1, no previous secrets)", webhook.SignatureHeader, got, want)
	}

	got := e.onlyTask(p.OrderID)
	wantTask := taskView{Status: payment.TaskDone, Attempts: 1, NextAttemptAt: now,
		Log: []payment.TaskAttempt{{At: now, StatusCode: 200}}}
	if diff := cmp.Diff(wantTask, viewOf(got)); diff != "" {
		t.Errorf("task after delivery (-want +got):\n%s", diff)
	}
	if n := e.poll(ob); n != 0 || len(sh.deliveries()) != 1 {
		t.Errorf("Outbox.Poll(...) after delivery = %d with %d requests, want 0 and the one request", n, len(sh.deliveries()))
	}
}

// taskView is what the tests compare of a task.
type taskView struct {
	Status        payment.TaskStatus
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	LeaseOwner    string
	Log           []payment.TaskAttempt
}

func viewOf(t *payment.Task) taskView {
	return taskView{t.Status, t.Attempts, t.NextAttemptAt, t.LastError, t.LeaseOwner, t.Log}
}

func TestWebhookShopAnswers(t *testing.T) {
	for _, tt := range []struct {
		name       string
		answer     http.HandlerFunc
		wantStatus payment.TaskStatus
		wantCode   int
	}{
		{"200", func(w http.ResponseWriter, r *http.Request) {}, payment.TaskDone, 200},
		{"204", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }, payment.TaskDone, 204},
		{"404", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(404) }, payment.TaskPending, 404},
		{"500", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }, payment.TaskPending, 500},
		// A redirect (to a login page, say) is not a delivery: following it
		// would turn the POST into a GET without the event.
		{"302 to a page answering 200", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/hook" {
				http.Redirect(w, r, "/login", http.StatusFound)
			}
		}, payment.TaskPending, 302},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, withWebhooks)
			sh := newShop(t)
			sh.setAnswer(tt.answer)
			ob := e.outbox(webhookTo(sh), func(c *poller.OutboxConfig) { c.Backoff = 5 * time.Second })
			p := e.reservedPayment()
			now := e.clock.Now()
			e.poll(ob)
			got := e.onlyTask(p.OrderID)
			if got.Status != tt.wantStatus || len(got.Log) != 1 || got.Log[0].StatusCode != tt.wantCode {
				t.Fatalf("task = %s with log %+v, want %s with one attempt answered %d", got.Status, got.Log, tt.wantStatus, tt.wantCode)
			}
			if tt.wantStatus == payment.TaskDone {
				if got.Log[0].Error != "" || got.LastError != "" {
					t.Errorf("delivered task has errors %q, %q; want none", got.Log[0].Error, got.LastError)
				}
				return
			}
			if got.Log[0].Error == "" || got.LastError != got.Log[0].Error || !got.NextAttemptAt.Equal(now.Add(5*time.Second)) {
				t.Errorf("failed attempt: error %q, last error %q, next attempt %v; want an error, the same, and %v",
					got.Log[0].Error, got.LastError, got.NextAttemptAt, now.Add(5*time.Second))
			}
			for _, d := range sh.deliveries() {
				if d.Path != "/hook" {
					t.Errorf("the outbox followed the shop's answer to %s %s", d.Method, d.Path)
				}
			}
		})
	}
}

func TestWebhookBackoffDeadAndRetry(t *testing.T) {
	e := newEnv(t, withWebhooks)
	sh := newShop(t)
	sh.status(http.StatusInternalServerError)
	const backoff = 5 * time.Second
	ob := e.outbox(webhookTo(sh), func(c *poller.OutboxConfig) { c.Backoff, c.MaxAttempts = backoff, 3 })
	p := e.reservedPayment()
	t0 := e.clock.Now()

	steps := []struct {
		at           time.Duration // since t0
		wantLeased   int
		wantStatus   payment.TaskStatus
		wantAttempts int
		wantNext     time.Duration // NextAttemptAt since t0
	}{
		{0, 1, payment.TaskPending, 1, backoff},
		{backoff - time.Millisecond, 0, payment.TaskPending, 1, backoff},
		{backoff, 1, payment.TaskPending, 2, backoff + 2*backoff},
		{3 * backoff, 1, payment.TaskDead, 3, 3 * backoff}, // the last attempt leaves NextAttemptAt
		{3*backoff + 24*time.Hour, 0, payment.TaskDead, 3, 3 * backoff},
	}
	for _, s := range steps {
		e.clock.Advance(t0.Add(s.at).Sub(e.clock.Now()))
		if n := e.poll(ob); n != s.wantLeased {
			t.Fatalf("at t0+%v: Outbox.Poll(...) = %d, want %d", s.at, n, s.wantLeased)
		}
		got := e.onlyTask(p.OrderID)
		if got.Status != s.wantStatus || got.Attempts != s.wantAttempts || !got.NextAttemptAt.Equal(t0.Add(s.wantNext)) || got.LeaseOwner != "" {
			t.Fatalf("at t0+%v: task %s, %d attempts, next t0+%v, lease %q; want %s, %d, t0+%v, none",
				s.at, got.Status, got.Attempts, got.NextAttemptAt.Sub(t0), got.LeaseOwner, s.wantStatus, s.wantAttempts, s.wantNext)
		}
	}
	if got := len(sh.deliveries()); got != 3 {
		t.Fatalf("the shop got %d requests, want 3", got)
	}

	// Staff retry the dead task; the shop is back.
	sh.status(http.StatusOK)
	task := e.onlyTask(p.OrderID)
	if err := e.store.RetryTask(context.Background(), task.ID, e.clock.Now()); err != nil {
		t.Fatalf("RetryTask(%d) = %v", task.ID, err)
	}
	if got := e.onlyTask(p.OrderID); got.Status != payment.TaskPending {
		t.Fatalf("after RetryTask: task %s, want pending", got.Status)
	}
	if n := e.poll(ob); n != 1 {
		t.Fatalf("Outbox.Poll(...) after RetryTask = %d, want 1", n)
	}
	got := e.onlyTask(p.OrderID)
	var codes []int
	for _, a := range got.Log {
		codes = append(codes, a.StatusCode)
		if (a.Error == "") != (a.StatusCode == 200) {
			t.Errorf("attempt answered %d has error %q", a.StatusCode, a.Error)
		}
	}
	if got.Status != payment.TaskDone || got.Attempts != 4 || got.LastError != "" {
		t.Errorf("task after the retry: %s, %d attempts, last error %q; want done, 4, none", got.Status, got.Attempts, got.LastError)
	}
	if diff := cmp.Diff([]int{500, 500, 500, 200}, codes); diff != "" {
		t.Errorf("attempt log status codes (-want +got):\n%s", diff)
	}
	// At least once: every delivery is the same event, with the same id.
	ds := sh.deliveries()
	for i, d := range ds {
		if d.Header.Get(webhook.EventIDHeader) != strconv.FormatInt(got.EventSeq, 10) || string(d.Body) != string(ds[0].Body) {
			t.Errorf("delivery %d: event id %q, body %s; want %d and the first body %s",
				i, d.Header.Get(webhook.EventIDHeader), d.Body, got.EventSeq, ds[0].Body)
		}
	}
}

func TestWebhookTimeout(t *testing.T) {
	e := newEnv(t, withWebhooks)
	sh := newShop(t)
	stop := make(chan struct{})
	sh.setAnswer(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	})
	t.Cleanup(func() { close(stop) }) // before the server closes
	ob := e.outbox(webhookTo(sh), func(c *poller.OutboxConfig) {
		c.HTTPClient = &http.Client{Timeout: 50 * time.Millisecond}
		c.Backoff = 5 * time.Second
	})
	p := e.reservedPayment()
	now := e.clock.Now()
	if n := e.poll(ob); n != 1 {
		t.Fatalf("Outbox.Poll(...) = %d, want 1", n)
	}
	got := e.onlyTask(p.OrderID)
	if got.Status != payment.TaskPending || len(got.Log) != 1 || !got.NextAttemptAt.Equal(now.Add(5*time.Second)) {
		t.Fatalf("task = %s, log %+v, next %v; want pending, one attempt, %v", got.Status, got.Log, got.NextAttemptAt, now.Add(5*time.Second))
	}
	if a := got.Log[0]; a.StatusCode != 0 || !strings.Contains(a.Error, "Timeout") {
		t.Errorf("attempt = %+v, want no status and a timeout error", a)
	}
}

func TestWebhookWithoutURL(t *testing.T) {
	e := newEnv(t, withWebhooks)
	p := e.reservedPayment()
	var obs []error
	// Webhooks are queued, but no URL is configured.
	ob := e.outbox(func(c *poller.OutboxConfig) {
		c.Observe = func(kind payment.TaskKind, err error) { obs = append(obs, err) }
	})
	if n := e.poll(ob); n != 1 {
		t.Fatalf("Outbox.Poll(...) = %d, want 1", n)
	}
	got := e.onlyTask(p.OrderID)
	const want = "no webhook URL is configured"
	if got.Status != payment.TaskPending || got.LastError != want || len(got.Log) != 1 || got.Log[0].Error != want {
		t.Errorf("task = %s, last error %q, log %+v; want pending with %q logged", got.Status, got.LastError, got.Log, want)
	}
	if len(obs) != 1 || obs[0] == nil {
		t.Errorf("Observe got %v, want one error", obs)
	}
}

func TestOutboxRunDrain(t *testing.T) {
	for _, tt := range []struct {
		name  string
		drain time.Duration
		// release lets the shop answer after ctx ends; without it, the
		// shop holds the delivery until Drain cuts it.
		release bool
		want    func(t *testing.T, got *payment.Task)
	}{
		{"delivery in flight finishes and is stored", time.Minute, true, func(t *testing.T, got *payment.Task) {
			if got.Status != payment.TaskDone || len(got.Log) != 1 || got.Log[0].StatusCode != 200 {
				t.Errorf("task = %s with log %+v, want done with one attempt answered 200", got.Status, got.Log)
			}
		}},
		{"delivery cut at Drain is stored as failed", 200 * time.Millisecond, false, func(t *testing.T, got *payment.Task) {
			if got.Status != payment.TaskPending || got.LeaseOwner != "" || len(got.Log) != 1 ||
				got.Log[0].StatusCode != 0 || !strings.Contains(got.Log[0].Error, "context canceled") {
				t.Errorf("task = %s, lease %q, log %+v; want pending, no lease, one attempt failed by context canceled",
					got.Status, got.LeaseOwner, got.Log)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, withWebhooks)
			sh := newShop(t)
			arrived := make(chan struct{}, 1)
			release, releaseShop := hold(t)
			sh.setAnswer(func(w http.ResponseWriter, r *http.Request) {
				arrived <- struct{}{}
				select {
				case <-release:
				case <-r.Context().Done():
				}
			})
			ob := e.outbox(webhookTo(sh), func(c *poller.OutboxConfig) { c.Drain = tt.drain })
			p := e.reservedPayment()
			cancel, done := start(t, ob.Run)
			within(t, arrived, 10*time.Second, "Run did not deliver the due webhook within 10 s")
			cancel()
			if tt.release {
				releaseShop()
			}
			if err := within(t, done, tt.drain+10*time.Second, fmt.Sprintf("Run did not return within Drain (%v) + 10 s of ctx ending", tt.drain)); err != nil {
				t.Errorf("Run(...) = %v, want nil", err)
			}
			tt.want(t, e.onlyTask(p.OrderID))
		})
	}
}

func TestReceiptSentAfterFirstCapture(t *testing.T) {
	e := newEnv(t)
	ob := e.outbox()
	receipt := vipps.Receipt{
		OrderLines: []vipps.OrderLine{{Name: "Socks", ID: "sku-1", TotalAmount: 1000, TotalAmountExcludingTax: 800,
			TotalTaxAmount: 200, TaxPercentage: 25, UnitInfo: &vipps.UnitInfo{UnitPrice: 500, Quantity: "2"}}},
		BottomLine: vipps.BottomLine{Currency: "NOK"},
	}
	const orderURL = "https://shop.example/orders/10042"
	p := e.create(payment.CreateRequest{Amount: 1000, ShopRef: "10042", OrderURL: orderURL, Receipt: &receipt})
	e.approve(p.OrderID)
	if ts := e.tasks(p.OrderID); len(ts) != 0 {
		t.Fatalf("tasks before any capture = %d, want none", len(ts))
	}

	capture := func(amount vipps.Amount) {
		t.Helper()
		op, err := e.svc.Capture(context.Background(), p.OrderID, payment.OpRequest{Amount: amount})
		if err != nil || op.Status != payment.OpSucceeded {
			t.Fatalf("Capture(%d) = %+v, %v; want succeeded", amount, op, err)
		}
	}
	capture(400)
	task := e.onlyTask(p.OrderID)
	if task.Kind != payment.TaskReceipt || task.Status != payment.TaskPending {
		t.Fatalf("task after the first capture = %s %s, want a pending receipt", task.Kind, task.Status)
	}
	if _, err := e.sim.Client.GetOrder(context.Background(), vipps.OMEcom, string(p.OrderID)); err == nil {
		t.Fatal("Order Management has the order before the outbox sent it")
	}

	if n := e.poll(ob); n != 1 {
		t.Fatalf("Outbox.Poll(...) = %d, want 1", n)
	}
	order, err := e.sim.Client.GetOrder(context.Background(), vipps.OMEcom, string(p.OrderID))
	if err != nil {
		t.Fatalf("GetOrder(%s) = %v", p.OrderID, err)
	}
	want := &vipps.Order{
		Category: &vipps.OrderCategory{Category: vipps.CategoryOrderConfirmation, OrderDetailsURL: orderURL},
		Receipt:  &receipt,
	}
	if diff := cmp.Diff(want, order); diff != "" {
		t.Errorf("Order Management (-want +got):\n%s", diff)
	}
	if got := e.onlyTask(p.OrderID); got.Status != payment.TaskDone || len(got.Log) != 1 || got.Log[0].Error != "" {
		t.Errorf("receipt task = %s, log %+v; want done after one clean attempt", got.Status, got.Log)
	}

	capture(0) // the rest
	if n := e.poll(ob); n != 0 {
		t.Errorf("Outbox.Poll(...) after the second capture = %d, want 0", n)
	}
	var kinds []payment.TaskKind
	for _, tk := range e.tasks(p.OrderID) {
		kinds = append(kinds, tk.Kind)
	}
	if diff := cmp.Diff([]payment.TaskKind{payment.TaskReceipt}, kinds); diff != "" {
		t.Errorf("tasks after two captures (-want +got):\n%s", diff)
	}
	sent, receipts := 0, 0
	for _, ev := range e.events(p.OrderID) {
		if ev.Type == payment.EventReceiptSent {
			sent++
		}
	}
	for _, r := range e.sim.Sim.Requests() {
		if r.Op == "om-receipt" && r.OrderID == p.OrderID {
			receipts++
		}
	}
	if sent != 1 || receipts != 1 {
		t.Errorf("receipt_sent events = %d, receipts posted = %d; want 1 each", sent, receipts)
	}
	if got := e.get(p.OrderID); got.State != payment.Captured {
		t.Errorf("payment = %s, want captured", got.State)
	}
}

func TestReceiptRetriedWhenOrderManagementFails(t *testing.T) {
	e := newEnv(t)
	ob := e.outbox(func(c *poller.OutboxConfig) { c.Backoff = 5 * time.Second })
	p := e.capturedWithReceipt()
	// Order Management refuses every receipt until the fault is removed
	// (the client's own retries included).
	id, err := e.sim.Sim.InjectFault(vippstest.Fault{Kind: vippstest.FaultServerError, Op: "om-receipt"})
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	if n := e.poll(ob); n != 1 {
		t.Fatalf("Outbox.Poll(...) = %d, want 1", n)
	}
	got := e.onlyTask(p.OrderID)
	if got.Status != payment.TaskPending || got.LastError == "" || !got.NextAttemptAt.Equal(now.Add(5*time.Second)) {
		t.Fatalf("receipt task after a failure = %s, error %q, next %v; want pending with an error, due %v",
			got.Status, got.LastError, got.NextAttemptAt, now.Add(5*time.Second))
	}
	e.sim.Sim.RemoveFault(id)
	e.clock.Advance(5 * time.Second)
	if n := e.poll(ob); n != 1 {
		t.Fatalf("Outbox.Poll(...) when due again = %d, want 1", n)
	}
	if got := e.onlyTask(p.OrderID); got.Status != payment.TaskDone || got.Attempts != 2 {
		t.Errorf("receipt task = %s after %d attempts, want done after 2", got.Status, got.Attempts)
	}
	if order, err := e.sim.Client.GetOrder(context.Background(), vipps.OMEcom, string(p.OrderID)); err != nil || order.Receipt == nil {
		t.Errorf("GetOrder(%s) = %+v, %v; want the receipt", p.OrderID, order, err)
	}
}

// An older attempt approved after the shop started a newer one is released
// by the task queued with its reservation, also when the release tried at
// once found Vipps down.
func TestSupersedeByOutbox(t *testing.T) {
	e := newEnv(t)
	ob := e.outbox()
	older := e.create(payment.CreateRequest{ShopRef: "A-7"})
	newer := e.create(payment.CreateRequest{ShopRef: "A-7"})
	if newer.Attempt != 1 {
		t.Fatalf("second payment of A-7 is attempt %d, want 1", newer.Attempt)
	}
	if _, err := e.sim.Sim.InjectFault(vippstest.Fault{Kind: vippstest.FaultServerError, Op: "cancel", OrderID: older.OrderID, Count: 4}); err != nil {
		t.Fatal(err)
	}
	e.approve(older.OrderID) // the release tried at once fails: every try answered 500
	all, err := e.store.Tasks(context.Background(), older.OrderID)
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(all, func(t *payment.Task) bool { return t.Kind == payment.TaskSupersede }); i < 0 {
		t.Fatalf("tasks of the reserved older attempt = %+v, want a supersede task", all)
	}
	if got := e.get(older.OrderID); got.State != payment.Reserved {
		t.Fatalf("older attempt is %s after the failed release, want reserved still", got.State)
	}
	e.clock.Advance(time.Minute)
	if _, err := ob.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := e.get(older.OrderID); got.State != payment.Voided {
		t.Errorf("older attempt is %s after the outbox ran, want voided", got.State)
	}
	all, _ = e.store.Tasks(context.Background(), older.OrderID)
	for _, task := range all {
		if task.Kind == payment.TaskSupersede && task.Status != payment.TaskDone {
			t.Errorf("supersede task is %s, want done", task.Status)
		}
	}
	if sp, _ := e.sim.Sim.Payment(newer.OrderID); sp.Status == vipps.OrderStatusVoid {
		t.Error("the newer attempt was released")
	}
}

// TestWebhookErrorWithoutURLSecrets: a token in the webhook URL stays out
// of the error that is stored with the task and shown to staff.
func TestWebhookErrorWithoutURLSecrets(t *testing.T) {
	e := newEnv(t, withWebhooks)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	ob := e.outbox(func(c *poller.OutboxConfig) {
		c.WebhookURL, c.WebhookSecret = "http://user:pw-secret@"+addr+"/hooks?token=s3cret-token", webhookSecret
	})
	p := e.reservedPayment()
	if n := e.poll(ob); n != 1 {
		t.Fatalf("Outbox.Poll(...) = %d, want 1", n)
	}
	got := e.onlyTask(p.OrderID)
	if got.LastError == "" || !strings.Contains(got.LastError, addr+"/hooks") ||
		strings.Contains(got.LastError, "s3cret-token") || strings.Contains(got.LastError, "pw-secret") {
		t.Errorf("last error %q, want one naming %s/hooks without the token or password", got.LastError, addr)
	}
}
