package poller

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/webhook"
)

// TaskStore leases tasks and stores their outcomes; payment.Store is one
// (see its LeaseTasks and UpdateTask).
type TaskStore interface {
	LeaseTasks(ctx context.Context, owner string, now time.Time, ttl time.Duration, limit int) ([]*payment.Task, error)
	UpdateTask(ctx context.Context, t *payment.Task, attempt *payment.TaskAttempt) error
}

// MinWebhookSecret is the least length of a webhook secret, in bytes.
const MinWebhookSecret = 16

// OutboxConfig configures an [Outbox]. Store, Service and Owner are
// required; WebhookURL and WebhookSecret when webhooks are queued.
type OutboxConfig struct {
	Store   TaskStore
	Service *payment.Service
	Owner   string
	// WebhookURL receives a POST per event; WebhookSecret, of at least
	// MinWebhookSecret characters, signs it (see package webhook).
	WebhookURL    string
	WebhookSecret vipps.Secret
	// PreviousWebhookSecrets also sign every webhook, while a secret is
	// being rotated: the header then carries one v1 signature per secret,
	// so that a shop holding any of them accepts it. Each is
	// MinWebhookSecret+ characters.
	PreviousWebhookSecrets []vipps.Secret
	// HTTPClient sends webhooks; nil means a client with AttemptTimeout as
	// its timeout that does not follow redirects (a 3xx answer is a failed
	// delivery).
	HTTPClient *http.Client
	// AttemptTimeout bounds each attempt of a task, webhook or receipt,
	// besides the HTTP client's own timeout; 0 means 10 s. An attempt that
	// runs out is a failed one, retried with backoff.
	AttemptTimeout time.Duration
	// MaxAttempts is how many times a task is tried before it is dead
	// (staff can retry it); 0 means 20: about 19 hours of backoff.
	MaxAttempts int
	// Backoff is the wait after the first failure, doubling up to 2 h;
	// 0 means 5 s.
	Backoff time.Duration
	// Loop: Interval, Workers, Drain, Now and Logger.
	Loop
	// Batch is how many tasks one Poll leases; 0 means 50. Run leases at
	// most as many as it has idle workers, and at most Batch.
	Batch int
	// LeaseTTL is how long a task's lease holds; 0 means 1 minute. It must
	// exceed AttemptTimeout, with room to store the outcome, so that no
	// other replica takes a task over while it is being attempted.
	LeaseTTL time.Duration
	// Observe, when set, is told every attempt's outcome.
	Observe func(kind payment.TaskKind, err error)
}

// Outbox delivers tasks at least once: webhooks to the shop and receipts to
// Order Management, each attempt logged, with exponential backoff.
type Outbox struct {
	cfg     OutboxConfig
	log     *slog.Logger
	secrets []vipps.Secret // WebhookSecret, then PreviousWebhookSecrets
}

// NewOutbox returns an Outbox.
func NewOutbox(cfg OutboxConfig) (*Outbox, error) {
	if cfg.Store == nil || cfg.Service == nil || cfg.Owner == "" {
		return nil, fmt.Errorf("outbox: Store, Service and Owner are required")
	}
	if err := CheckWebhookSecrets(cfg.WebhookURL, cfg.WebhookSecret, cfg.PreviousWebhookSecrets...); err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	if cfg.AttemptTimeout < 0 || cfg.LeaseTTL < 0 {
		return nil, fmt.Errorf("outbox: AttemptTimeout and LeaseTTL must not be negative")
	}
	cfg.AttemptTimeout = cmp.Or(cfg.AttemptTimeout, 10*time.Second)
	cfg.LeaseTTL = cmp.Or(cfg.LeaseTTL, time.Minute)
	if cfg.LeaseTTL <= cfg.AttemptTimeout {
		return nil, fmt.Errorf("outbox: LeaseTTL (%s) must exceed AttemptTimeout (%s), or another replica may take a task over while it is attempted",
			cfg.LeaseTTL, cfg.AttemptTimeout)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{
			Timeout: cfg.AttemptTimeout,
			// Following a redirect would turn the POST into a GET without
			// the event, and count the page redirected to as a delivery.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	cfg.MaxAttempts = cmp.Or(cfg.MaxAttempts, 20)
	cfg.Backoff = cmp.Or(cfg.Backoff, 5*time.Second)
	cfg.Loop = cfg.Loop.withDefaults()
	cfg.Batch = cmp.Or(cfg.Batch, 50)
	secrets := append([]vipps.Secret{cfg.WebhookSecret}, cfg.PreviousWebhookSecrets...)
	return &Outbox{cfg: cfg, log: cfg.Logger, secrets: secrets}, nil
}

// CheckWebhookSecrets checks the webhook settings of an [OutboxConfig]: a
// URL needs a secret, and every secret given has at least
// MinWebhookSecret characters. NewOutbox checks them; a command can check
// its flags with it before it starts anything.
func CheckWebhookSecrets(url string, secret vipps.Secret, previous ...vipps.Secret) error {
	if url != "" && len(secret.Reveal()) < MinWebhookSecret {
		return fmt.Errorf("a webhook secret of at least %d characters is required with a webhook URL", MinWebhookSecret)
	}
	for i, s := range previous {
		if len(s.Reveal()) < MinWebhookSecret {
			return fmt.Errorf("previous webhook secret %d is shorter than %d characters", i+1, MinWebhookSecret)
		}
	}
	return nil
}

// Poll leases the tasks due now (at most Batch) and tries each once, at
// most Workers at once; it returns how many it leased once all are tried.
// It is Run's work as a single step, for tests.
func (o *Outbox) Poll(ctx context.Context) (int, error) {
	return pollOnce(ctx, o.pace(), o.lease, o.attempt)
}

func (o *Outbox) pace() pace {
	return pace{o.cfg.Workers, o.cfg.Batch, o.cfg.Interval, o.cfg.Drain}
}

func (o *Outbox) lease(ctx context.Context, n int) ([]*payment.Task, error) {
	due, err := o.cfg.Store.LeaseTasks(ctx, o.cfg.Owner, o.cfg.Now(), o.cfg.LeaseTTL, n)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	return due, nil
}

// attempt tries a task once, within AttemptTimeout, and stores the
// outcome.
func (o *Outbox) attempt(ctx context.Context, t *payment.Task) {
	start := o.cfg.Now()
	actx, cancel := context.WithTimeout(ctx, o.cfg.AttemptTimeout)
	var (
		code int
		err  error
	)
	switch t.Kind {
	case payment.TaskWebhook:
		code, err = o.deliver(actx, t)
	case payment.TaskReceipt:
		err = o.cfg.Service.SendReceipt(actx, t.OrderID)
	case payment.TaskSupersede:
		err = o.cfg.Service.ReleaseSuperseded(actx, t.OrderID)
	case payment.TaskConsentCheck:
		err = o.cfg.Service.HonourRemoval(actx, t.OrderID)
	default:
		err = fmt.Errorf("unknown task kind %q", t.Kind)
	}
	if err != nil && ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("no outcome within the attempt timeout (%s): %w", o.cfg.AttemptTimeout, err)
	}
	cancel()
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
	var ev webhook.Event
	if err := json.Unmarshal(t.Payload, &ev); err != nil {
		return 0, fmt.Errorf("webhook payload: %w", err)
	}
	ev.ID = t.EventSeq
	req, err := webhook.NewRequest(ctx, o.cfg.WebhookURL, ev, o.cfg.Now(), o.secrets...)
	if err != nil {
		return 0, err
	}
	req.Header.Set("User-Agent", "vippskit-webhooks")
	resp, err := o.cfg.HTTPClient.Do(req)
	if err != nil {
		return 0, withoutURLSecrets(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("the shop answered %s", resp.Status)
	}
	return resp.StatusCode, nil
}

// Run attempts due tasks until ctx ends, each as soon as a worker is free
// (see [dispatch]): a slow shop or Order Management holds up only the
// workers it occupies, for at most AttemptTimeout each. Then it lets the
// attempts in flight finish (at most Drain) and returns.
func (o *Outbox) Run(ctx context.Context) error {
	dispatch(ctx, o.pace(), o.lease, o.attempt, o.log.With("component", "outbox"))
	return nil
}

// withoutURLSecrets drops the user info, query and fragment of the URL in
// a *url.Error (the webhook URL may carry a token there): the error is
// logged, stored with the task and shown to staff.
func withoutURLSecrets(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.User, u.RawQuery, u.ForceQuery, u.Fragment = nil, "", false, ""
			ue.URL = u.String()
		}
	}
	return err
}
