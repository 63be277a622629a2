package payment

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/callback"
	"github.com/vippskit/vipps/webhook"
)

// ErrInvalid wraps a request that cannot be served as sent; its message says
// what to fix.
var ErrInvalid = errors.New("invalid request")

// Vipps is what the service needs of the eCom v2 and Order Management APIs;
// *vipps.Client has it, and so does a client of the simulator.
type Vipps interface {
	Initiate(ctx context.Context, req vipps.InitiateRequest) (*vipps.InitiateResponse, error)
	Capture(ctx context.Context, id vipps.OrderID, req vipps.CaptureRequest) (*vipps.TransactionResponse, error)
	Refund(ctx context.Context, id vipps.OrderID, req vipps.CaptureRequest) (*vipps.TransactionResponse, error)
	Cancel(ctx context.Context, id vipps.OrderID, req vipps.CancelRequest) (*vipps.TransactionResponse, error)
	Details(ctx context.Context, id vipps.OrderID) (*vipps.PaymentDetails, error)
	PutCategory(ctx context.Context, pt vipps.OMPaymentType, orderID string, cat vipps.OrderCategory) (string, error)
	AddReceipt(ctx context.Context, pt vipps.OMPaymentType, orderID string, r vipps.Receipt) (string, error)
	MerchantSerialNumber() vipps.MSN
}

// DefaultCallbackPath is where Vipps' callbacks are served unless
// Config.CallbackPath says otherwise.
const DefaultCallbackPath = "/vipps"

// MinReturnKey is the least length of Config.ReturnKey, in bytes.
const MinReturnKey = 32

// Config configures a [Service]. Store, Vipps, PublicURL and ReturnKey are
// required; every other zero value is a documented default.
type Config struct {
	Store Store
	Vipps Vipps
	// PublicURL is this service's base URL as Vipps and the customer's
	// browser reach it, such as "https://pay.example.no". Vipps sends
	// callbacks to PublicURL+CallbackPath and the customer back to
	// PublicURL+"/return/{orderId}?t=...".
	PublicURL string
	// CallbackPath is where the callback handler is served; "" means
	// DefaultCallbackPath.
	CallbackPath string
	// ConsentPath is the consent-removal prefix; "" means CallbackPath.
	// Give it a long random segment to keep strangers away.
	ConsentPath string
	// ReturnKey signs the return page links (at least MinReturnKey bytes).
	ReturnKey []byte
	// OrderIDPrefix starts every orderId, such as the shop's name; "" means
	// "order".
	OrderIDPrefix string
	// Schedule is the polling schedule; the zero value is the guidelines'.
	Schedule Schedule
	// Shipping is the express checkout's shipping options: sent with
	// initiate when ShopShipping is nil, else the fallback when the shop
	// does not answer.
	Shipping []vipps.ShippingOption
	// ShopShipping asks the shop for the shipping options of an address;
	// nil means static options. Vipps waits 10 s; the callback handler
	// answers with Shipping when ShopShipping is slower or fails.
	ShopShipping func(ctx context.Context, p *Payment, addr *vipps.ShippingDetailsRequest) ([]vipps.ShippingOption, error)
	// Webhooks makes every state change queue a webhook to the shop.
	Webhooks bool
	// CallTimeout bounds each call to Vipps, its retries included (the
	// client waits no longer for a Retry-After than the deadline allows);
	// 0 means 20 s.
	CallTimeout time.Duration
	// OpWait is how long a shop's capture, refund or cancel waits for its
	// turn behind the payment's other operations before it is answered as
	// pending (and sent in turn later); 0 means 10 s.
	OpWait time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Exchanges is the log that keeps the exchanges with Vipps that
	// Store's AddExchanges stores, if any: a consent removal has it forget
	// a payment's exchanges still on their way before deleting the stored
	// ones ([ExchangeLog.Forget]).
	Exchanges *ExchangeLog
	// Logger gets one line per change and per Vipps error; nil discards.
	Logger *slog.Logger
}

// Service runs payments: it initiates them at Vipps, follows them by
// callbacks and polling, and carries out the shop's captures, refunds and
// cancels exactly once. Its methods are safe for concurrent use, also by
// several replicas on one database.
type Service struct {
	cfg     Config
	store   Store
	vipps   Vipps
	sched   Schedule
	now     func() time.Time
	log     *slog.Logger
	changes changes
	details detailsGate
	turns   turns
	// removals paces the consent removals RemoveConsent records (see
	// consentRecordRate).
	removals *rate.Limiter
}

// NewService checks cfg and returns a Service.
func NewService(cfg Config) (*Service, error) {
	var p []string
	if cfg.Store == nil {
		p = append(p, "Store is required")
	}
	if cfg.Vipps == nil {
		p = append(p, "Vipps is required")
	}
	if u, err := url.Parse(cfg.PublicURL); err != nil || !u.IsAbs() || u.Host == "" {
		p = append(p, fmt.Sprintf("PublicURL %q must be an absolute http(s) URL", cfg.PublicURL))
	}
	if len(cfg.ReturnKey) < MinReturnKey {
		p = append(p, fmt.Sprintf("ReturnKey must be at least %d bytes", MinReturnKey))
	}
	if len(p) > 0 {
		return nil, fmt.Errorf("payment service: %s", strings.Join(p, "; "))
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	cfg.CallbackPath = cmp.Or(cfg.CallbackPath, DefaultCallbackPath)
	cfg.ConsentPath = cmp.Or(cfg.ConsentPath, cfg.CallbackPath)
	cfg.OrderIDPrefix = cmp.Or(cfg.OrderIDPrefix, "order")
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = 20 * time.Second
	}
	if cfg.OpWait <= 0 {
		cfg.OpWait = 10 * time.Second
	}
	s := &Service{cfg: cfg, store: cfg.Store, vipps: cfg.Vipps, sched: cfg.Schedule.withDefaults(), now: cfg.Now, log: cfg.Logger,
		removals: rate.NewLimiter(consentRecordRate, consentRecordBurst)}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// PublicURL is the base URL Vipps and customers reach the service at.
func (s *Service) PublicURL() string { return s.cfg.PublicURL }

// CallbackPath is where Vipps' callbacks are served: Config.CallbackPath
// or its default.
func (s *Service) CallbackPath() string { return s.cfg.CallbackPath }

// ConsentPath is the consent-removal prefix: Config.ConsentPath or its
// default.
func (s *Service) ConsentPath() string { return s.cfg.ConsentPath }

// CreateRequest is a new payment as the shop asks for it.
type CreateRequest struct {
	Amount vipps.Amount // øre, at least 100
	Text   string       // shown in the Vipps app, at most 100 characters
	// ShopRef is the shop's order reference: the orderId is derived from
	// it, and a new payment for the same ShopRef is the next attempt.
	ShopRef   string
	Express   bool
	Phone     string // 8 digits, optional
	ReturnURL string // the shop's page to go back to (absolute URL)
	OrderURL  string // the shop's order page, linked in the Vipps app
	Receipt   *vipps.Receipt
}

func (r *CreateRequest) validate() error {
	var p []string
	if r.Amount < 100 {
		p = append(p, fmt.Sprintf("amount must be at least 100 øre (1 NOK), got %d", r.Amount))
	}
	if strings.TrimSpace(r.Text) == "" {
		p = append(p, "text is required: it is shown to the customer in the Vipps app")
	} else if n := utf8.RuneCountInString(r.Text); n > 100 {
		p = append(p, fmt.Sprintf("text is %d characters; Vipps allows 100", n))
	}
	if r.Phone != "" && !allDigits(r.Phone, 8) {
		p = append(p, fmt.Sprintf("phone %q must be 8 digits without +47", r.Phone))
	}
	for _, f := range []struct{ name, v string }{{"returnUrl", r.ReturnURL}, {"orderUrl", r.OrderURL}} {
		if f.v == "" {
			continue
		}
		if u, err := url.Parse(f.v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			p = append(p, fmt.Sprintf("%s %q must be an absolute http(s) URL", f.name, f.v))
		}
	}
	if len(r.ShopRef) > 100 {
		p = append(p, "shopRef is longer than 100 characters")
	}
	if r.Receipt != nil {
		if len(r.Receipt.OrderLines) == 0 {
			p = append(p, "receipt needs at least one order line")
		}
		if r.Receipt.BottomLine.Currency == "" {
			r.Receipt.BottomLine.Currency = "NOK"
		}
	}
	if len(p) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(p, "; "))
	}
	return nil
}

func allDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Create stores a new payment, initiates it at Vipps and returns it with the
// URL to send the customer to (Payment.VippsURL). A ShopRef that already has
// a payment gets the next attempt, whose orderId ends in "--1", "--2", ...
// (see [vipps.OrderID.Attempt]); the earlier attempts are cancelled should they still be
// approved. A ShopRef whose payment is reserved or further is refused with
// ErrState: it is paid.
//
// When Vipps refuses the payment, it is stored as Failed and the error is
// returned. When Vipps' answer is lost, the error wraps
// vipps.ErrOutcomeUnknown and the payment stays Created: the poller finds out
// what Vipps has. Create is not safe to retry: each call is a new attempt.
func (s *Service) Create(ctx context.Context, req CreateRequest) (*Payment, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	base, attempt, err := s.newOrderID(ctx, req.ShopRef)
	if err != nil {
		return nil, err
	}
	token, hash, err := callback.NewAuthToken()
	if err != nil {
		return nil, fmt.Errorf("create payment: %w", err)
	}
	now := s.now()
	p := &Payment{
		ShopRef: req.ShopRef, Attempt: attempt, MSN: s.vipps.MerchantSerialNumber(),
		Kind: Regular, Text: req.Text, Phone: req.Phone, ReturnURL: req.ReturnURL, OrderURL: req.OrderURL,
		Receipt: req.Receipt, AuthTokenHash: hash, State: Created,
		Amounts:   Amounts{Authorized: req.Amount},
		CreatedAt: now, UpdatedAt: now,
		// Should the process stop before initiate is answered, the poller
		// finds out what Vipps has.
		NextCheckAt: now.Add(s.sched.FirstDelay),
	}
	if req.Express {
		p.Kind = Express
	}
	id, err := s.storeNew(ctx, p, base, Event{Type: EventCreated, State: Created, Amount: req.Amount, At: now})
	if err != nil {
		return nil, err
	}
	if attempt > 0 {
		// An earlier attempt may have been approved since it was looked
		// at: then this one is not sent, and the shop is told as before.
		if paid, err := s.paidAttempt(ctx, req.ShopRef, id); err != nil || paid != nil {
			if err == nil {
				err = fmt.Errorf("create payment for %q: %w: payment %s is %s already", req.ShopRef, ErrState, paid.OrderID, paid.State)
			}
			if _, rerr := s.record(ctx, id, rec{change: func(p *Payment, now time.Time) ([]Event, error) {
				p.State, p.NextCheckAt = Failed, time.Time{}
				p.LastError = &VippsError{Op: "initiate", Message: "not sent: " + err.Error(), At: now}
				return []Event{errorEvent(p, now)}, nil
			}}); rerr != nil {
				// The attempt was never sent to Vipps, so no customer can
				// pay it; only its stored state is behind.
				s.log.Warn("marking an attempt that was not sent as failed", "order_id", id, "err", rerr)
			}
			return nil, err
		}
	}
	log := s.log.With("order_id", id)

	ictx, cancel := context.WithTimeout(ctx, s.cfg.CallTimeout)
	resp, ierr := s.vipps.Initiate(ictx, s.initiateRequest(p, token))
	cancel()
	// Store the answer even when the shop's request has ended.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.CallTimeout)
	defer cancel()
	stored, err := s.record(sctx, id, rec{change: func(p *Payment, now time.Time) ([]Event, error) {
		if ierr == nil && p.VippsURL == "" {
			p.VippsURL, p.SentAt = resp.URL, now
		}
		if p.State != Created {
			return nil, nil // the poller found out first
		}
		switch {
		case ierr == nil:
			p.State = Initiated
			p.NextCheckAt, _ = s.sched.Next(Initiated, now, now)
			return nil, nil
		case errors.Is(ierr, vipps.ErrOutcomeUnknown):
			// Vipps may have it: check soon.
			p.LastError, p.SentAt = vippsError("initiate", ierr, now), now
			p.NextCheckAt = now.Add(s.sched.FirstDelay)
		default:
			p.State, p.LastError, p.NextCheckAt = Failed, vippsError("initiate", ierr, now), time.Time{}
		}
		return []Event{errorEvent(p, now)}, nil
	}})
	if err == nil {
		p = stored
	}
	if ierr != nil {
		// Returned, not logged: the caller says it to the shop, and the
		// payment keeps it as its LastError.
		return p, fmt.Errorf("create payment %s: %w", id, ierr)
	}
	if err != nil {
		// Vipps has the payment, but it is stored as Created: the poller
		// will move it on. The customer can still pay.
		log.Error("storing the initiated payment failed; the poller will resume it", "err", err)
	}
	p.VippsURL = resp.URL
	log.Info("payment initiated", "amount", int64(p.Amounts.Authorized), "kind", string(p.Kind), "attempt", attempt)
	return p, nil
}

// paidAttempt returns an attempt of shopRef other than id that was paid
// (reserved or further), or nil.
func (s *Service) paidAttempt(ctx context.Context, shopRef string, id vipps.OrderID) (*Payment, error) {
	prev, err := s.store.Attempts(ctx, shopRef)
	if err != nil {
		return nil, fmt.Errorf("create payment for %q: %w", shopRef, err)
	}
	for _, q := range prev {
		if q.OrderID != id && q.State.reached() && q.State != Voided {
			return q, nil
		}
	}
	return nil, nil
}

// newOrderID returns the base orderId of a new payment of shopRef (its
// orderId when it is the first attempt, see [vipps.OrderID.Attempt]) and its attempt.
func (s *Service) newOrderID(ctx context.Context, shopRef string) (vipps.OrderID, int, error) {
	if shopRef == "" {
		return vipps.NewOrderID(s.cfg.OrderIDPrefix), 0, nil
	}
	base, err := vipps.OrderIDFor(s.cfg.OrderIDPrefix, shopRef)
	if err != nil {
		return "", 0, fmt.Errorf("%w: shopRef: %v", ErrInvalid, err)
	}
	prev, err := s.store.Attempts(ctx, shopRef)
	if err != nil {
		return "", 0, fmt.Errorf("create payment for %q: %w", shopRef, err)
	}
	attempt := 0
	for _, q := range prev {
		switch q.State {
		case Reserved, Captured, Refunded:
			return "", 0, fmt.Errorf("create payment for %q: %w: payment %s is %s already", shopRef, ErrState, q.OrderID, q.State)
		}
		attempt = max(attempt, q.Attempt+1)
	}
	return base, attempt, nil
}

// storeNew stores the new payment p (p.Attempt set) under the orderId of
// its attempt (base.Attempt(p.Attempt): base, then base--1, base--2, ...)
// with events, and returns that orderId. When that orderId is taken by a payment of another shopRef (one stored before
// attempts were "--n", or one of a shopRef with the same base, such as
// "60001 1" and "60001-1"), or by an earlier attempt of p's shopRef that
// was itself passed over, p gets the next one: the shop's order numbers
// are never refused for looking like another's attempt. An orderId taken
// by the same attempt of the same shopRef means a concurrent Create: that
// fails with ErrExists.
func (s *Service) storeNew(ctx context.Context, p *Payment, base vipps.OrderID, events ...Event) (vipps.OrderID, error) {
	if p.ShopRef == "" {
		p.OrderID = base
		if err := s.store.Create(ctx, p, events...); err != nil {
			return "", fmt.Errorf("create payment %s: %w", p.OrderID, err)
		}
		return p.OrderID, nil
	}
	for n := p.Attempt; ; n++ {
		p.OrderID = base.Attempt(n)
		err := s.store.Create(ctx, p, events...)
		if err == nil {
			return p.OrderID, nil
		}
		if !errors.Is(err, ErrExists) || n >= p.Attempt+maxPassedOver {
			return "", fmt.Errorf("create payment %s: %w", p.OrderID, err)
		}
		q, gerr := s.store.Get(ctx, p.OrderID)
		if gerr != nil {
			return "", fmt.Errorf("create payment %s: %w", p.OrderID, errors.Join(err, gerr))
		}
		if q.ShopRef == p.ShopRef && q.Attempt == p.Attempt {
			return "", fmt.Errorf("create payment %s: %w", p.OrderID, err)
		}
		s.log.Info("orderId taken by another shop order; trying the next", "order_id", p.OrderID, "shop_ref", p.ShopRef, "taken_by", q.ShopRef)
	}
}

// maxPassedOver bounds how many orderIds taken by others storeNew passes
// over.
const maxPassedOver = 20

func (s *Service) initiateRequest(p *Payment, token vipps.Secret) vipps.InitiateRequest {
	req := vipps.InitiateRequest{
		CustomerInfo: vipps.CustomerInfo{MobileNumber: p.Phone},
		MerchantInfo: vipps.MerchantInfo{
			CallbackPrefix: s.cfg.PublicURL + s.cfg.CallbackPath,
			FallBack:       s.ReturnURL(p.OrderID),
			AuthToken:      token,
			PaymentType:    vipps.PaymentTypeRegular,
		},
		Transaction: vipps.InitiateTransaction{Amount: p.Amounts.Authorized, OrderID: p.OrderID, TransactionText: p.Text},
	}
	if p.Kind == Express {
		m := &req.MerchantInfo
		m.PaymentType = vipps.PaymentTypeExpress
		m.ConsentRemovalPrefix = s.cfg.PublicURL + s.cfg.ConsentPath
		if s.cfg.ShopShipping != nil || len(s.cfg.Shipping) == 0 {
			m.ShippingDetailsPrefix = s.cfg.PublicURL + s.cfg.CallbackPath
		} else {
			m.StaticShippingDetails = s.cfg.Shipping
		}
	}
	return req
}

// ReturnURL is the fallBack URL of a payment: the return page with a token
// that proves the link came from this service, so that the page needs no
// session and shows nothing to someone guessing orderIds.
func (s *Service) ReturnURL(id vipps.OrderID) string {
	return s.cfg.PublicURL + "/return/" + string(id) + "?t=" + s.ReturnToken(id)
}

// ReturnToken is the return page token of a payment.
func (s *Service) ReturnToken(id vipps.OrderID) string {
	m := hmac.New(sha256.New, s.cfg.ReturnKey)
	m.Write([]byte("return\x00" + string(id)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// CheckReturnToken reports, in constant time, whether t is the return page
// token of the payment.
func (s *Service) CheckReturnToken(id vipps.OrderID, t string) bool {
	return hmac.Equal([]byte(t), []byte(s.ReturnToken(id)))
}

// Get returns the stored payment.
func (s *Service) Get(ctx context.Context, id vipps.OrderID) (*Payment, error) {
	p, err := s.store.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("payment %s: %w", id, err)
	}
	return p, nil
}

// ExpressDetails is what an express checkout shared, stored in
// Payment.Shipping until the customer removes the consent.
type ExpressDetails struct {
	Shipping *vipps.ShippingDetails `json:"shippingDetails,omitempty"`
	User     *vipps.UserDetails     `json:"userDetails,omitempty"`
}

// ShippingOptions answers Vipps' express shippingDetails call for a payment:
// the shop's options when it has a ShopShipping func that answers, else the
// static ones.
func (s *Service) ShippingOptions(ctx context.Context, id vipps.OrderID, addr *vipps.ShippingDetailsRequest) ([]vipps.ShippingOption, error) {
	if s.cfg.ShopShipping == nil {
		return s.cfg.Shipping, nil
	}
	p, err := s.store.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("shipping options for %s: %w", id, err)
	}
	opts, err := s.cfg.ShopShipping(ctx, p, addr)
	if err != nil || len(opts) == 0 {
		s.log.Warn("the shop gave no shipping options; answering with the configured ones", "order_id", id, "err", err)
		return s.cfg.Shipping, nil
	}
	return opts, nil
}

// FallbackShipping is what the callback handler answers when ShippingOptions
// is too slow.
func (s *Service) FallbackShipping() []vipps.ShippingOption { return s.cfg.Shipping }

// RemoveConsent forgets what express checkout shared about a Vipps user:
// every payment's user id, profile and address are cleared, its exchanges
// with Vipps deleted, and the shop is told. The removal itself is recorded
// first (by [UserKey], for ConsentRemovalKeep), so that the details of a
// payment the service has not yet seen reserved are not kept when it
// learns of them (see honourRemoval). Then, when the store is a
// [Scrubber], it scrubs, so that the erased values leave the disk too; a
// failed scrub is logged, since the erasure itself is stored. Repeats are
// harmless.
//
// Vipps sends consent removals without credentials, so anyone can send
// them: the records, which are written for unknown user ids too, are paced
// (consentRecordRate a second, consentRecordBurst at once) so that a flood
// cannot turn into as many writes; beyond that a removal still erases what
// the service holds, and is logged as not remembered.
func (s *Service) RemoveConsent(ctx context.Context, userID string) error {
	now := s.now()
	if s.removals.Allow() {
		if err := s.store.AddConsentRemoval(ctx, UserKey(userID), now, now.Add(-ConsentRemovalKeep)); err != nil {
			return fmt.Errorf("remove consent: %w", err)
		}
	} else {
		s.log.Warn("consent removals arrive faster than the service records them: this one erases what is stored, but is not remembered for payments not yet seen reserved",
			"per_second", float64(consentRecordRate))
	}
	ps, err := s.store.ByUser(ctx, userID)
	if err != nil {
		return fmt.Errorf("remove consent: %w", err)
	}
	erased := false
	for _, p := range ps {
		_, cleared, err := s.eraseUser(ctx, p.OrderID, userID)
		if err != nil {
			return fmt.Errorf("remove consent: %w", err)
		}
		erased = erased || cleared
	}
	if erased {
		s.scrub(ctx)
	}
	return nil
}

// ConsentRemovalKeep is how long a consent removal is remembered for the
// payments the service learns of later: as long as Vipps' /details shows
// an express customer's details, far longer than the ten minutes a
// customer has to approve and the polling after.
const ConsentRemovalKeep = 7 * 24 * time.Hour

// The pace of the consent removals RemoveConsent records: far above what
// customers withdrawing in the app send.
const (
	consentRecordRate  rate.Limit = 10
	consentRecordBurst int        = 100
)

// UserKey is how a Vipps userId is kept in the record of its consent
// removals: its SHA-256, so that the record holds no id of the customer.
func UserKey(userID string) string {
	h := sha256.Sum256([]byte("vippskit consent removal\x00" + userID))
	return hex.EncodeToString(h[:])
}

// eraseUser clears the user id, profile and address of payment id when
// they are userID's, records an EventConsentRemoved (the shop's webhook
// says it) and deletes the payment's exchanges with Vipps. cleared
// reports whether there was anything of userID's to clear.
func (s *Service) eraseUser(ctx context.Context, id vipps.OrderID, userID string) (p *Payment, cleared bool, err error) {
	p, err = s.record(ctx, id, rec{change: func(p *Payment, now time.Time) ([]Event, error) {
		cleared = p.UserID == userID
		if !cleared {
			return nil, nil
		}
		p.UserID, p.Shipping = "", nil
		return []Event{s.withTasks(p, Event{Type: EventConsentRemoved, State: p.State, Amounts: p.Amounts, At: now})}, nil
	}})
	if err != nil || !cleared {
		return p, cleared, err
	}
	// What was said to Vipps about the payment is masked, but it goes too:
	// nothing of the customer's is kept past consent, not even an exchange
	// still on its way to the store.
	s.cfg.Exchanges.Forget(id)
	if err := s.store.DeleteExchanges(ctx, id); err != nil {
		return p, cleared, err
	}
	s.log.Info("consent removed: user details deleted", "order_id", id)
	return p, cleared, nil
}

// HonourRemoval erases the details of payment id's express customer when
// they removed their consent after the payment was created: they approved,
// and then withdrew, before the service learnt of the reservation (the
// callback lost, the service down). A check that stores the details calls
// it at once, and the outbox again for the TaskConsentCheck queued with
// them, in case the process stops in between. It is safe to repeat.
func (s *Service) HonourRemoval(ctx context.Context, id vipps.OrderID) error {
	p, err := s.store.Get(ctx, id)
	if err != nil || p.UserID == "" {
		return err
	}
	_, err = s.honourRemoval(ctx, p, p.UserID)
	return err
}

// honourRemoval is HonourRemoval for p, whose details are userID's. The
// removal is read after the details were stored, and RemoveConsent records
// it before it looks for the user's payments, so one of the two sees the
// other.
func (s *Service) honourRemoval(ctx context.Context, p *Payment, userID string) (*Payment, error) {
	at, err := s.store.ConsentRemovedAt(ctx, UserKey(userID))
	if err != nil || at.IsZero() || at.Before(p.CreatedAt) {
		return p, err
	}
	q, cleared, err := s.eraseUser(ctx, p.OrderID, userID)
	if err != nil {
		return p, err
	}
	if cleared {
		s.log.Info("the customer removed their consent before the service learnt of the reservation: their details are not kept", "order_id", p.OrderID)
		s.scrub(ctx)
	}
	return q, nil
}

// scrub has a [Scrubber] store make what was erased unreadable on disk.
func (s *Service) scrub(ctx context.Context) {
	if sc, ok := s.store.(Scrubber); ok {
		if err := sc.Scrub(ctx); err != nil {
			s.log.Warn("consent removed, but scrubbing the store failed: the erased details may stay on disk until its next checkpoint", "err", err)
		}
	}
}

// withTasks adds the tasks an event queues: a webhook when the shop wants
// them and the event is one it is told about, with the amounts just after
// the event (e.Amounts). Its id is the event's Seq, set when it is sent.
func (s *Service) withTasks(p *Payment, e Event) Event {
	if s.cfg.Webhooks && e.Type.Webhook() {
		b := mustJSON(webhook.Event{Type: webhook.EventType(e.Type), OrderID: p.OrderID, ShopRef: p.ShopRef,
			State: webhook.State(e.State), Amount: e.Amount, Amounts: e.Amounts, At: e.At})
		e.Tasks = append(e.Tasks, Task{Kind: TaskWebhook, Payload: b})
	}
	return e
}

// vippsError turns an error met calling Vipps into what is stored.
func vippsError(op string, err error, now time.Time) *VippsError {
	out := &VippsError{Op: op, Message: err.Error(), At: now}
	if e, ok := errors.AsType[*vipps.Error](err); ok {
		out.StatusCode, out.Group, out.Code, out.ContextID = e.StatusCode, string(e.Group), string(e.Code), e.ContextID
		out.Message = e.MerchantMessage()
		if e.Message != "" && e.Message != out.Message {
			out.Message += " (Vipps: " + e.Message + ")"
			out.VippsMessage = e.Message
		}
	}
	return out
}

// vippsAttrs are the log attributes of an error met calling Vipps.
func vippsAttrs(err error) []any {
	attrs := []any{"err", err}
	if e, ok := errors.AsType[*vipps.Error](err); ok {
		attrs = append(attrs, "status", e.StatusCode, "group", string(e.Group), "code", e.Code, "context_id", e.ContextID)
	}
	return attrs
}

func errorEvent(p *Payment, now time.Time) Event {
	return Event{Type: EventVippsError, State: p.State, Data: mustJSON(p.LastError), At: now}
}

// mustJSON is v as JSON, for an event's data or a task's payload. The
// service gives it only plain structs, maps and strings, which always
// encode: an error is a bug, and panics.
func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("payment: encoding %T: %v", v, err))
	}
	return b
}

// same reports whether e and o say the same, whenever they happened: an
// error is recorded once.
func (e *VippsError) same(o *VippsError) bool {
	return e != nil && o != nil && e.Op == o.Op && e.StatusCode == o.StatusCode && e.Group == o.Group &&
		e.Code == o.Code && e.Message == o.Message
}

// CustomerMessage is what the return page tells the customer about an
// error, in English.
func (e *VippsError) CustomerMessage() string { return e.CustomerMessageIn("en") }

// CustomerMessageIn is CustomerMessage in language lang (see
// vipps.Error.CustomerMessageIn); "" for no error.
func (e *VippsError) CustomerMessageIn(lang string) string {
	if e == nil {
		return ""
	}
	ve := &vipps.Error{StatusCode: e.StatusCode, Group: vipps.ErrorGroup(e.Group), Code: vipps.ErrorCode(e.Code)}
	return ve.CustomerMessageIn(lang)
}

// StaffMessageIn is what staff read about e: Message, as stored (in
// English), or for lang "nb" (also "no", "nn") vipps.Error's
// MerchantMessageIn in bokmål with Vipps' own words after it. An error
// that is not Vipps' is told as it was stored; "" for no error.
func (e *VippsError) StaffMessageIn(lang string) string {
	switch {
	case e == nil:
		return ""
	case e.StatusCode == 0 && e.Group == "" && e.Code == "":
		return e.Message
	}
	switch strings.ToLower(lang) {
	case "nb", "no", "nn":
	default:
		return e.Message
	}
	msg := (&vipps.Error{StatusCode: e.StatusCode, Group: vipps.ErrorGroup(e.Group), Code: vipps.ErrorCode(e.Code), Message: e.VippsMessage}).MerchantMessageIn(lang)
	if e.VippsMessage != "" && e.VippsMessage != msg {
		msg += " (Vipps: " + e.VippsMessage + ")"
	}
	return msg
}

// Details returns what Vipps has for the payment now (its log newest
// first), for staff and the shop; it changes nothing stored. Safe to retry.
func (s *Service) Details(ctx context.Context, id vipps.OrderID) (*vipps.PaymentDetails, error) {
	if _, err := s.Get(ctx, id); err != nil {
		return nil, err
	}
	d, err := s.vipps.Details(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("details %s: %w", id, err)
	}
	return d, nil
}

// SetReceipt stores the receipt lines of a payment. They go to Order
// Management after the first capture, or now when something is captured
// already. A receipt can be sent once: after that SetReceipt fails with
// ErrState.
func (s *Service) SetReceipt(ctx context.Context, id vipps.OrderID, r vipps.Receipt) error {
	if len(r.OrderLines) == 0 {
		return fmt.Errorf("%w: a receipt needs at least one order line", ErrInvalid)
	}
	if r.BottomLine.Currency == "" {
		r.BottomLine.Currency = "NOK"
	}
	tasks, err := s.store.Tasks(ctx, id)
	if err != nil {
		return fmt.Errorf("receipt %s: %w", id, err)
	}
	for _, t := range tasks {
		if t.Kind == TaskReceipt {
			return fmt.Errorf("receipt %s: %w: the receipt is queued or sent already; Vipps keeps one receipt per payment", id, ErrState)
		}
	}
	_, err = s.record(ctx, id, rec{change: func(p *Payment, now time.Time) ([]Event, error) {
		if p.State.Final() && p.Amounts.Captured == 0 {
			return nil, fmt.Errorf("receipt %s: %w: the payment is %s and nothing was captured", id, ErrState, p.State)
		}
		p.Receipt = &r
		e := Event{Type: EventReceiptAdded, State: p.State, At: now}
		if p.Amounts.Captured > 0 {
			e.Tasks = []Task{{Kind: TaskReceipt}}
		}
		return []Event{e}, nil
	}})
	return err
}

// SendReceipt sends the payment's receipt to Order Management, with a link
// to the shop's order page (OrderURL) when there is one. A receipt Vipps
// has already (Conflict) counts as sent. The outbox calls it for a
// TaskReceipt; an error means "try again later".
func (s *Service) SendReceipt(ctx context.Context, id vipps.OrderID) error {
	p, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if p.Receipt == nil {
		return nil
	}
	if p.OrderURL != "" {
		cat := vipps.OrderCategory{Category: vipps.CategoryOrderConfirmation, OrderDetailsURL: p.OrderURL}
		if _, err := s.vipps.PutCategory(ctx, vipps.OMEcom, string(id), cat); err != nil {
			return fmt.Errorf("receipt %s: category: %w", id, err)
		}
	}
	if _, err := s.vipps.AddReceipt(ctx, vipps.OMEcom, string(id), *p.Receipt); err != nil {
		if ve, ok := errors.AsType[*vipps.Error](err); !ok || !ve.Conflict() {
			return fmt.Errorf("receipt %s: %w", id, err)
		}
	}
	s.log.Info("receipt sent to Order Management", "order_id", id)
	_, err = s.record(ctx, id, rec{change: func(p *Payment, now time.Time) ([]Event, error) {
		return []Event{{Type: EventReceiptSent, At: now}}, nil
	}})
	return err
}
