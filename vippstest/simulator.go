package vippstest

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/vippskit/vipps"
)

// Config configures a [Simulator]. The zero value is one merchant
// ([DefaultMerchant]), the real clock, strict validation and access tokens
// that live one hour.
type Config struct {
	// Merchants are the sales units the simulator knows. Empty means
	// []Merchant{DefaultMerchant()}. MSNs, client ids and subscription
	// keys must be unique.
	Merchants []Merchant

	// Now is the clock. nil means time.Now. The simulator's clock is Now()
	// plus everything passed to [Simulator.Advance].
	Now func() time.Time

	// Lenient accepts what real Vipps refuses where the meaning is clear:
	// http URLs to any host, merchantSerialNumber as a JSON number,
	// "fallback" for "fallBack", partial captures and refunds without
	// X-Request-Id, and a Merchant-Serial-Number header that disagrees
	// with the keys. Requests that still make no sense get a 400 instead
	// of Vipps' 500. See DESIGN.md ("Credentials and errors").
	Lenient bool

	// TokenLifetime is how long access tokens are valid. Zero means one
	// hour, as in the Vipps test environment.
	TokenLifetime time.Duration

	// Logger receives one line per request and a warning for every request
	// that real Vipps would treat differently. nil discards them.
	Logger *slog.Logger

	// HTTPClient sends the callbacks to merchants. nil means a client on
	// a [vipps.NewTransport]. Either way the simulator applies the
	// 3-second timeout and never follows redirects, as Vipps does.
	HTTPClient *http.Client

	// ExpressAddsShipping adds the shipping cost the user chose in express
	// checkout to the reserved amount. Whether Vipps does is not
	// documented, so a merchant should test both: off (the default), the
	// reservation is the initiated amount.
	ExpressAddsShipping bool

	// RateLimits are Vipps' per-order request limits, on by default; set
	// RateLimits.Disabled to turn them off. See [RateLimits] and "Rate
	// limits" in DESIGN.md.
	RateLimits RateLimits

	// SnapshotPath names a file that keeps the state across restarts
	// (payments, access tokens, consents, Order Management, the clock
	// offset): New loads it, or creates it when it does not exist; a
	// quarter of a second after the state changes it is rewritten
	// atomically, and Close rewrites it a last time. A corrupt file, one
	// of a newer format, or one that names merchants not in Merchants
	// makes New fail. Empty means memory only. See "Snapshots" in
	// DESIGN.md.
	SnapshotPath string

	// ControlFromLoopbackOnly refuses the control API (every route under
	// /_sim/ but the pages of the browser app: /_sim/users/, /_sim/images/
	// and /_sim/static/) to clients whose remote address is not loopback,
	// with 403 and {"error": "..."}. The control API lists every payment
	// and callback with its authorization token and lets anyone approve
	// payments, so a simulator that others can reach should turn it on.
	// See "Control API" in DESIGN.md.
	ControlFromLoopbackOnly bool

	// Audit drops the first transaction callback of the 1st, 4th, 7th, ...
	// payment of each merchant on purpose (recorded as dropped, with
	// FaultID [AuditDropID]), so that a merchant must learn those outcomes
	// by polling /details, as Vipps' go-live checklist demands; and it
	// loses the answer to each merchant's first capture (applied, never
	// answered), to see that the merchant retries with the same
	// X-Request-Id. It forgets no payment (RetainFinished is ignored). GET
	// /_sim/audit serves the evidence `vipps checklist` grades. See
	// "Audit" in DESIGN.md.
	Audit bool

	// RetainFinished is how long, on the simulator's clock, a finished
	// payment is kept after it finished: cancelled, voided, rejected,
	// timed out, failed, fully refunded, or captured with nothing left to
	// capture and its 365-day refund window closed. Then it is forgotten,
	// and the API answers for its orderId as for one that never existed
	// (404 Merchant 35). Zero keeps every payment for ever (tests); `vipps
	// sim` keeps them 24 hours by default. Audit mode keeps every payment,
	// since the audit grades them all. See "Memory" in DESIGN.md.
	RetainFinished time.Duration
}

// Merchant is a sales unit with its API keys.
type Merchant struct {
	MSN             vipps.MSN
	ClientID        string
	ClientSecret    string
	SubscriptionKey string
	// Name is shown on the landing page. Empty means "Merchant <MSN>".
	Name string
	// DirectCapture makes approved payments SALE (captured at once)
	// instead of RESERVE.
	DirectCapture bool
	// SkipLandingPageAllowed lets the sales unit initiate with
	// skipLandingPage (else Merchant error 38).
	SkipLandingPageAllowed bool
	// NinAllowed lets the sales unit ask for the nin scope (else Merchant
	// error 51, HTTP 403).
	NinAllowed bool
}

// DefaultMerchant returns the sales unit a zero Config gets: MSN 123456,
// client id "sim-client-id", client secret "sim-client-secret" and
// subscription key "sim-subscription-key".
func DefaultMerchant() Merchant {
	return Merchant{
		MSN:             "123456",
		ClientID:        "sim-client-id",
		ClientSecret:    "sim-client-secret",
		SubscriptionKey: "sim-subscription-key",
		Name:            "Sim Shop",
	}
}

// DefaultPhoneNumber is the test user who approves when a hook is given no
// phone number and the payment has no customerInfo.mobileNumber.
const DefaultPhoneNumber = "91234567"

// Limits of the simulator itself.
const (
	// paymentTimeout is how long a user has to act before the payment is
	// REJECTED.
	paymentTimeout = 10 * time.Minute
	// callbackTimeout is how long Vipps waits for the merchant's answer.
	callbackTimeout = 3 * time.Second
	// captureLimit and refundLimit are counted from the reservation.
	captureLimit = 180 * 24 * time.Hour
	refundLimit  = 365 * 24 * time.Hour
	// expressDataLife is how long express personal data is shown in
	// details.
	expressDataLife = 7 * 24 * time.Hour
	// userinfoLife is how long Userinfo serves a payment's profile.
	userinfoLife = 168 * time.Hour
	// pendingResult is how long the magic amount 201 leaves the result
	// unknown.
	pendingResult = time.Hour
	// maxBody bounds request bodies (Order Management images are up to
	// 2 MB before base64).
	maxBody = 4 << 20
	// maxRecords bounds the request and callback logs; the oldest entries
	// are dropped.
	maxRecords = 10000
)

// Errors of the test hooks. The control API maps them to 404, 409, 409
// and 501.
var (
	// ErrNotFound means that no payment has the orderId.
	ErrNotFound = errors.New("vippstest: no payment with that orderId")
	// ErrAmbiguous means that more than one merchant has used the orderId.
	ErrAmbiguous = errors.New("vippstest: orderId exists for more than one merchant")
	// ErrState means that the payment is not in a state the hook applies to.
	ErrState = errors.New("vippstest: not allowed in the payment's state")
	// ErrUnsupported means that the simulator cannot do this yet.
	ErrUnsupported = errors.New("vippstest: not supported by the simulator")
)

// Simulator is a stateful, in-memory simulation of the Vipps eCom v2 test
// environment: the access token API, every eCom endpoint, force approve,
// Userinfo and Order Management, plus test hooks that act as the user. It
// is an http.Handler and safe for concurrent use. Call Close when done: it
// waits for callbacks in flight.
type Simulator struct {
	cfg       Config
	merchants []*Merchant // in Config order
	byMSN     map[vipps.MSN]*Merchant
	log       *slog.Logger
	hc        *http.Client // callbacks
	mux       *http.ServeMux
	token     http.Handler // the access token route

	mu stateMutex // snapshotsaver.go: Unlock counts a change for the snapshot saver
	// detailsKept are the /details answers encoded since the count of
	// changes was last detailsAt (ecom.go: Simulator.details).
	detailsKept map[*payment]detailsCache
	detailsAt   uint64
	idle        *sync.Cond // signalled when pending drops to zero
	offset      time.Duration
	tokens      map[string]issuedToken
	payments    map[payKey]*payment
	byToken     map[string]*payment // landing-page token → payment
	open        map[*payment]struct{}
	nextTx      int64
	requests    []Request
	callbacks   []Callback
	pending     int // callbacks and calls to merchants in flight
	closed      bool
	subs        map[consentKey]*consent // what users shared through a scope
	verified    map[string]bool         // unverifiedAtFirst users who approved by hand (users.go)
	busy        map[payKey]int          // writes held by a delay fault, per payment (ecom.go)
	inFlight    map[payKey]int          // requests held by a delay fault, per payment (ecom.go)
	nextTidy    time.Time               // when sweepLocked next looks at every payment (hooks.go)
	om          map[omKey]*omOrder
	images      map[vipps.MSN]map[string]bool
	cbTimeout   time.Duration
	app         appState     // the browser app, shipping calls, consents (app.go)
	limiter     rateLimiter  // ratelimit.go
	faults      faultState   // faults.go, callbackfaults.go
	audit       auditState   // audit.go
	metrics     *metrics     // metrics.go
	snap        *snapshotter // snapshotsaver.go; nil without Config.SnapshotPath
}

type payKey struct {
	msn     vipps.MSN
	orderID vipps.OrderID
}

// New validates cfg and returns a simulator.
func New(cfg Config) (*Simulator, error) {
	if len(cfg.Merchants) == 0 {
		cfg.Merchants = []Merchant{DefaultMerchant()}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.TokenLifetime = cmp.Or(cfg.TokenLifetime, time.Hour)
	var problems []string
	if cfg.TokenLifetime < time.Second {
		problems = append(problems, fmt.Sprintf("Config.TokenLifetime %v must be at least a second", cfg.TokenLifetime))
	}
	if cfg.RetainFinished < 0 {
		problems = append(problems, fmt.Sprintf("Config.RetainFinished %v must not be negative (0 keeps every payment)", cfg.RetainFinished))
	}
	problems = append(problems, cfg.RateLimits.problems()...)
	s := &Simulator{
		cfg:       cfg,
		byMSN:     map[vipps.MSN]*Merchant{},
		log:       cfg.Logger,
		tokens:    map[string]issuedToken{},
		payments:  map[payKey]*payment{},
		byToken:   map[string]*payment{},
		open:      map[*payment]struct{}{},
		nextTx:    firstTxID,
		subs:      map[consentKey]*consent{},
		verified:  map[string]bool{},
		busy:      map[payKey]int{},
		inFlight:  map[payKey]int{},
		om:        map[omKey]*omOrder{},
		images:    map[vipps.MSN]map[string]bool{},
		cbTimeout: callbackTimeout,
	}
	ids, keys := map[string]bool{}, map[string]bool{}
	for i := range cfg.Merchants {
		m := cfg.Merchants[i]
		where := fmt.Sprintf("Config.Merchants[%d]", i)
		if err := m.MSN.Validate(); err != nil {
			problems = append(problems, where+": "+err.Error())
		}
		if m.ClientID == "" || m.ClientSecret == "" || m.SubscriptionKey == "" {
			problems = append(problems, where+": ClientID, ClientSecret and SubscriptionKey are required")
		}
		if s.byMSN[m.MSN] != nil {
			problems = append(problems, fmt.Sprintf("%s: MSN %s is used twice", where, m.MSN))
		}
		if ids[m.ClientID] || keys[m.SubscriptionKey] {
			problems = append(problems, where+": client id and subscription key must be unique")
		}
		ids[m.ClientID], keys[m.SubscriptionKey] = true, true
		m.Name = cmp.Or(m.Name, "Merchant "+string(m.MSN))
		s.merchants = append(s.merchants, &m)
		s.byMSN[m.MSN] = &m
	}
	if len(problems) > 0 {
		return nil, errors.New("vippstest: invalid config: " + strings.Join(problems, "; "))
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	// Callbacks of concurrent payments go to one merchant host.
	hc := http.Client{Transport: vipps.NewTransport()}
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	s.hc = &hc
	s.idle = sync.NewCond(&s.mu)
	s.metrics = newMetrics(s)
	if err := s.openSnapshot(cfg.SnapshotPath); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

// Merchants returns the sales units the simulator knows, in Config order.
func (s *Simulator) Merchants() []Merchant {
	out := make([]Merchant, len(s.merchants))
	for i, m := range s.merchants {
		out[i] = *m
	}
	return out
}

// ServeHTTP serves the Vipps APIs, the browser app at the initiate url and
// the control API under /_sim/.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Vipps' own material spells this path two ways; accept any casing.
	if strings.EqualFold(r.URL.Path, "/accesstoken/get") {
		s.token.ServeHTTP(w, r)
		return
	}
	if s.cfg.ControlFromLoopbackOnly && isControlPath(r.URL.Path) && !isLoopbackRemote(r.RemoteAddr) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, "{\"error\": %q}\n", "the simulator's control API answers loopback clients only: call it from the simulator's machine (vipps sim -control-remote lets others in)")
		return
	}
	s.mux.ServeHTTP(w, r)
}

// isControlPath reports whether path is of the control API: under /_sim/,
// but not a page of the browser app that a customer opens.
func isControlPath(path string) bool {
	if !strings.HasPrefix(path, "/_sim/") && path != "/_sim" {
		return false
	}
	for _, app := range []string{"/_sim/users/", "/_sim/images/", "/_sim/static/"} {
		if strings.HasPrefix(path, app) {
			return false
		}
	}
	return true
}

// isLoopbackRemote reports whether remoteAddr, a request's RemoteAddr, is
// a loopback address.
func isLoopbackRemote(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Now returns the simulator's clock.
func (s *Simulator) Now() time.Time {
	s.mu.Lock()
	defer s.mu.unlockRead()
	return s.nowLocked()
}

func (s *Simulator) nowLocked() time.Time { return s.cfg.Now().Add(s.offset).UTC() }

// Advance moves the simulator's clock forward by d and then applies what
// became due: payments time out, the magic amount 201 resolves, access
// tokens expire. Advance(0) only applies what is due. It returns the new
// time.
func (s *Simulator) Advance(d time.Duration) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d > 0 {
		s.offset += d
	}
	now := s.nowLocked()
	s.sweepLocked(now)
	return now
}

// Close stops sending callbacks and waits for those in flight (each is
// bounded by the 3-second callback timeout) and for shippingDetails and
// consent removal calls in flight, then saves the snapshot (with
// Config.SnapshotPath) and returns the error if that fails. The handler
// keeps answering API calls after Close, but sends no more callbacks and
// saves changes only when Close is called again.
func (s *Simulator) Close() error {
	s.stopSnapshotSaver()
	s.mu.Lock()
	s.closed = true
	s.closeFaultsLocked() // faults.go: release held requests and callbacks
	for s.pending > 0 {
		s.idle.Wait()
	}
	s.mu.Unlock()
	return s.saveSnapshot()
}

// nextTxIDLocked returns a fresh transaction id: ten digits and counting.
func (s *Simulator) nextTxIDLocked() string {
	s.nextTx++
	return fmt.Sprint(s.nextTx)
}

// exchange is one API request being handled under the lock.
type exchange struct {
	r    *http.Request
	body []byte
	now  time.Time
	rec  *Request
	// readOnly is set by handlers wrapped in [readOnly]: handle then
	// unlocks without counting a change of state.
	readOnly bool
}

// readOnly marks h as a handler that changes nothing a snapshot keeps, so
// that answering it never makes the snapshot saver write.
func readOnly(h func(*exchange) reply) func(*exchange) reply {
	return func(x *exchange) reply {
		x.readOnly = true
		return h(x)
	}
}

// warn records something real Vipps would treat differently.
func (x *exchange) warn(format string, args ...any) {
	x.rec.Warnings = append(x.rec.Warnings, fmt.Sprintf(format, args...))
}

// handle wraps a handler: it reads the body, takes the lock, applies what is
// due, runs h, records the request (when record is set) and writes the reply
// after unlocking.
func (s *Simulator) handle(op string, record bool, h func(*exchange) reply) http.Handler {
	guarded := record && op != "" // API calls: faults and rate limits apply
	if guarded {
		s.guard(op)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		body, readErr := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		var sc *screening
		if guarded && readErr == nil {
			sc = s.screen(r, op, body) // faults.go; waits out a delay fault
		}
		s.mu.Lock()
		x := &exchange{r: r, body: body, now: s.nowLocked()}
		x.rec = &Request{
			Time:      x.now,
			Method:    r.Method,
			Path:      r.URL.Path,
			Query:     r.URL.RawQuery,
			Header:    r.Header, // as it came: readers redact it (requestsLocked)
			Body:      recordedBody(body),
			Op:        op,
			RequestID: r.Header.Get("X-Request-Id"),
		}
		if id := r.PathValue("orderId"); id != "" {
			x.rec.OrderID = vipps.OrderID(id)
		}
		s.sweepLocked(x.now)
		var rep reply
		if readErr != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](readErr); ok {
				rep = gatewayReply(http.StatusRequestEntityTooLarge, "Request body too large.")
			} else {
				rep = gatewayReply(http.StatusBadRequest, "Could not read the request body.")
			}
		} else if sc != nil {
			rep = s.guardedLocked(x, sc, h) // faults, rate limits, then h
		} else {
			rep = h(x)
		}
		x.rec.Status = rep.status
		rec := *x.rec
		if record {
			s.requests = appendBounded(s.requests, rec)
		}
		if x.readOnly {
			s.mu.unlockRead()
		} else {
			s.mu.Unlock()
		}

		if sc.answered() {
			sc.write(w, rep) // faults.go: with Retry-After on a 429
		} else {
			defer s.leave(r, sc) // faults.go: hold, then drop the connection
		}
		s.metrics.request(op, record, rep.status, time.Since(start))
		if !record {
			return
		}
		attrs := []slog.Attr{
			slog.String("method", rec.Method), slog.String("path", rec.Path),
			slog.Int("status", rec.Status), slog.Duration("duration", time.Since(start)),
		}
		if rec.Op != "" {
			attrs = append(attrs, slog.String("op", rec.Op))
		}
		if rec.MSN != "" {
			attrs = append(attrs, slog.String("msn", string(rec.MSN)))
		}
		if rec.OrderID != "" {
			attrs = append(attrs, slog.String("order_id", string(rec.OrderID)))
		}
		if rec.RequestID != "" {
			attrs = append(attrs, slog.String("request_id", rec.RequestID))
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "vipps request", attrs...)
		for _, wmsg := range rec.Warnings {
			s.log.LogAttrs(r.Context(), slog.LevelWarn, "vipps request warning",
				slog.String("path", rec.Path), slog.String("warning", wmsg))
		}
	})
}

// maxRecordedBody bounds the body kept in the request log.
const maxRecordedBody = 64 << 10

func recordedBody(b []byte) string {
	if len(b) > maxRecordedBody {
		return string(b[:maxRecordedBody]) + "…[truncated]"
	}
	return string(b)
}

// appendBounded appends v to a log and drops the oldest entries beyond
// maxRecords. The log is a window sliding along its backing array, so a
// full log costs one copy every maxRecords appends, not one per append
// (which made every request under the lock copy 10,000 entries).
func appendBounded[T any](s []T, v T) []T {
	for len(s) >= maxRecords {
		var zero T
		s[0] = zero // let go of what the dropped entry holds
		s = s[1:]
	}
	if len(s) == cap(s) && len(s) >= maxRecords/2 {
		grown := make([]T, len(s), 2*maxRecords)
		copy(grown, s)
		s = grown
	}
	return append(s, v)
}

// routes registers every endpoint. One line per route; the op names are
// what the request log, metrics, rate limits and fault injection key on.
func (s *Simulator) routes() {
	mux := http.NewServeMux()
	api := func(pattern, op string, h func(*exchange) reply) { mux.Handle(pattern, s.handle(op, true, h)) }

	s.token = s.handle("accesstoken", true, s.accessToken)

	api("POST /ecomm/v2/payments", "initiate", s.initiate)
	api("POST /ecomm/v2/payments/{$}", "initiate", s.initiate)
	api("POST /ecomm/v2/payments/{orderId}/capture", "capture", s.capture)
	api("PUT /ecomm/v2/payments/{orderId}/cancel", "cancel", s.cancel)
	api("POST /ecomm/v2/payments/{orderId}/refund", "refund", s.refund)
	api("GET /ecomm/v2/payments/{orderId}/details", "details", readOnly(s.details))
	api("GET /ecomm/v2/payments/{orderId}/status", "status", readOnly(s.status))
	api("POST /ecomm/v2/integration-test/payments/{orderId}/approve", "approve", s.forceApprove)
	api("GET /vipps-userinfo-api/userinfo/{sub}", "userinfo", readOnly(s.userinfo))

	api("POST /order-management/v1/images", "om-image", s.omImage)
	api("PUT /order-management/v2/{paymentType}/categories/{orderId}", "om-category", s.omCategory)
	api("POST /order-management/v2/{paymentType}/receipts/{orderId}", "om-receipt", s.omReceipt)
	api("GET /order-management/v2/{paymentType}/{orderId}", "om-order", readOnly(s.omOrder))

	s.appRoutes(mux) // the browser app at the initiate url, history, consent removal (app.go)

	s.controlRoutes(mux)
	// Control routes kept next to what they drive (the rest are in control.go).
	cop := http.NewCrossOriginProtection()
	mux.Handle("POST /_sim/payments/{orderId}/resend-callback", cop.Handler(s.handle("", false, s.ctlResendCallback)))
	mux.Handle("GET /metrics", s.metrics.handler()) // neither recorded nor counted

	mux.Handle("/", s.handle("", true, readOnly(func(x *exchange) reply {
		return gatewayReply(http.StatusNotFound, "Resource not found")
	})))
	s.mux = mux
}
