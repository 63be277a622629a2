package poller

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

// Webhook headers.
const (
	// SignatureHeader carries "t=<unix seconds>,v1=<hex HMAC-SHA256>" where
	// the HMAC key is the webhook secret and the message is
	// "<unix seconds>.<body>".
	SignatureHeader = "Vippskit-Signature"
	EventIDHeader   = "Vippskit-Event-Id"
	EventTypeHeader = "Vippskit-Event-Type"
)

// Sign returns the SignatureHeader value for body at time t.
func Sign(secret vipps.Secret, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret.Reveal()))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a SignatureHeader value against body, in constant time, and
// refuses signatures older (or newer) than tolerance: what a shop written in
// Go does with a webhook.
func Verify(secret vipps.Secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts, sig string
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return errors.New("webhook signature: malformed header")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("webhook signature: timestamp is %s off", d.Round(time.Second))
	}
	_, want, _ := strings.Cut(Sign(secret, time.Unix(sec, 0), body), ",v1=")
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return errors.New("webhook signature: mismatch")
	}
	return nil
}

// OutboxConfig configures an [Outbox]. Store, Service and Owner are
// required; WebhookURL and WebhookSecret when webhooks are queued.
type OutboxConfig struct {
	Store   payment.Store
	Service *payment.Service
	Owner   string
	// WebhookURL receives a POST per event; WebhookSecret signs it.
	WebhookURL    string
	WebhookSecret vipps.Secret
	// HTTPClient sends webhooks; nil means a client with a 10 s timeout
	// that does not follow redirects (a 3xx answer is a failed delivery).
	HTTPClient *http.Client
	// MaxAttempts is how many times a task is tried before it is dead
	// (staff can retry it); 0 means 20: about 1.5 days of backoff.
	MaxAttempts int
	// Backoff is the wait after the first failure, doubling up to 2 h;
	// 0 means 5 s.
	Backoff  time.Duration
	Interval time.Duration // idle wait; 0 means 250 ms
	Batch    int           // 0 means 50
	Workers  int           // 0 means 8
	LeaseTTL time.Duration // 0 means 1 minute
	Drain    time.Duration // 0 means 10 s
	Now      func() time.Time
	Logger   *slog.Logger
	// Observe, when set, is told every attempt's outcome.
	Observe func(kind payment.TaskKind, err error)
}

// Outbox delivers tasks at least once: webhooks to the shop and receipts to
// Order Management, each attempt logged, with exponential backoff.
type Outbox struct {
	cfg OutboxConfig
	log *slog.Logger
}

// NewOutbox returns an Outbox.
func NewOutbox(cfg OutboxConfig) (*Outbox, error) {
	if cfg.Store == nil || cfg.Service == nil || cfg.Owner == "" {
		return nil, fmt.Errorf("outbox: Store, Service and Owner are required")
	}
	if cfg.WebhookURL != "" && len(cfg.WebhookSecret.Reveal()) < 16 {
		return nil, fmt.Errorf("outbox: a WebhookSecret of at least 16 characters is required with a WebhookURL")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{
			Timeout: 10 * time.Second,
			// Following a redirect would turn the POST into a GET without
			// the event, and count the page redirected to as a delivery.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	cfg.MaxAttempts = or(cfg.MaxAttempts, 20)
	cfg.Backoff = or(cfg.Backoff, 5*time.Second)
	cfg.Interval = or(cfg.Interval, 250*time.Millisecond)
	cfg.Batch = or(cfg.Batch, 50)
	cfg.Workers = or(cfg.Workers, 8)
	cfg.LeaseTTL = or(cfg.LeaseTTL, time.Minute)
	cfg.Drain = or(cfg.Drain, 10*time.Second)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	o := &Outbox{cfg: cfg, log: cfg.Logger}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// Poll leases the tasks due now and tries each once; it returns how many it
// leased.
func (o *Outbox) Poll(ctx context.Context) (int, error) {
	due, err := o.cfg.Store.LeaseTasks(ctx, o.cfg.Owner, o.cfg.Now(), o.cfg.LeaseTTL, o.cfg.Batch)
	if err != nil {
		return 0, fmt.Errorf("outbox: %w", err)
	}
	each(due, o.cfg.Workers, func(t *payment.Task) { o.attempt(ctx, t) })
	return len(due), nil
}

// attempt tries a task once and stores the outcome.
func (o *Outbox) attempt(ctx context.Context, t *payment.Task) {
	start := o.cfg.Now()
	var (
		code int
		err  error
	)
	switch t.Kind {
	case payment.TaskWebhook:
		code, err = o.deliver(ctx, t)
	case payment.TaskReceipt:
		err = o.cfg.Service.SendReceipt(ctx, t.OrderID)
	default:
		err = fmt.Errorf("unknown task kind %q", t.Kind)
	}
	now := o.cfg.Now()
	a := &payment.TaskAttempt{At: start, Duration: now.Sub(start), StatusCode: code}
	t.Attempts++
	log := o.log.With("order_id", t.OrderID, "task", t.ID, "kind", string(t.Kind), "attempt", t.Attempts)
	switch {
	case err == nil:
		t.Status, t.LastError = payment.TaskDone, ""
		log.Debug("task done")
	case t.Attempts >= o.cfg.MaxAttempts:
		a.Error, t.Status, t.LastError = err.Error(), payment.TaskDead, err.Error()
		log.Error("task failed for the last time; retry it from the admin page", "err", err)
	default:
		a.Error, t.LastError = err.Error(), err.Error()
		t.NextAttemptAt = now.Add(o.backoff(t.Attempts))
		log.Warn("task failed; will retry", "err", err, "next_attempt_at", t.NextAttemptAt)
	}
	if o.cfg.Observe != nil {
		o.cfg.Observe(t.Kind, err)
	}
	// Store the outcome even when ctx is ending: the delivery happened.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := o.cfg.Store.UpdateTask(sctx, t, a); err != nil {
		log.Error("storing the task outcome failed; it will be tried again", "err", err)
	}
}

// backoff is the wait after failed attempt n (1-based): Backoff, doubling,
// at most 2 hours.
func (o *Outbox) backoff(n int) time.Duration {
	d := o.cfg.Backoff
	for i := 1; i < n && d < 2*time.Hour; i++ {
		d *= 2
	}
	return min(d, 2*time.Hour)
}

// deliver POSTs a webhook; any 2xx is delivered.
func (o *Outbox) deliver(ctx context.Context, t *payment.Task) (int, error) {
	if o.cfg.WebhookURL == "" {
		return 0, errors.New("no webhook URL is configured")
	}
	var ev payment.WebhookEvent
	if err := json.Unmarshal(t.Payload, &ev); err != nil {
		return 0, fmt.Errorf("webhook payload: %w", err)
	}
	ev.ID = t.EventSeq
	body, err := json.Marshal(ev)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.cfg.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "vippskit-webhooks")
	req.Header.Set(EventIDHeader, strconv.FormatInt(ev.ID, 10))
	req.Header.Set(EventTypeHeader, string(ev.Type))
	req.Header.Set(SignatureHeader, Sign(o.cfg.WebhookSecret, o.cfg.Now(), body))
	resp, err := o.cfg.HTTPClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("the shop answered %s", resp.Status)
	}
	return resp.StatusCode, nil
}

// Run delivers until ctx ends, then lets the attempts in flight finish (at
// most Drain) and returns.
func (o *Outbox) Run(ctx context.Context) error {
	loop(ctx, o.cfg.Drain, o.cfg.Interval, o.cfg.Batch, o.Poll, o.log.With("component", "outbox"))
	return nil
}
