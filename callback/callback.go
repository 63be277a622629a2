package callback

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vippskit/vipps"
)

// Defaults for the zero values of [Config].
const (
	DefaultShippingTimeout    = 8 * time.Second
	DefaultWorkers            = 4
	DefaultQueueSize          = 1024
	DefaultQueueWait          = time.Second
	DefaultTransactionTimeout = time.Minute
	DefaultMaxBodyBytes       = 64 << 10
)

// vippsShippingTimeout is how long Vipps waits for a shippingDetails answer.
const vippsShippingTimeout = 10 * time.Second

// ErrUnknownOrder is what [Config.Lookup] returns (possibly wrapped) when it
// knows no payment with the orderId. The handler then answers 401, exactly as
// for a wrong token.
var ErrUnknownOrder = errors.New("unknown orderId")

// Config configures a [Handler]. Lookup and OnTransaction are required; every
// other field has a documented default for its zero value.
type Config struct {
	// Prefix is the path the endpoints live under, as it appears in the
	// (escaped) URL path, for example "/vipps" when callbackPrefix is
	// "https://shop.example/vipps". A trailing slash is ignored. Leave it
	// empty when the handler sees paths that start at "/v2/", for example
	// behind http.StripPrefix.
	Prefix string

	// ConsentPrefix, when set, is the path consent removal is served under
	// instead of Prefix, for a consentRemovalPrefix with a secret path
	// segment (see the package doc). Same rules as Prefix.
	ConsentPrefix string

	// Lookup returns the stored hash (from [NewAuthToken] or
	// [HashAuthToken]) of the authToken sent at initiate for orderID. For an
	// orderId it does not know it returns "" or an error wrapping
	// [ErrUnknownOrder]. Any other error makes the handler answer 500.
	// Required.
	Lookup func(ctx context.Context, orderID vipps.OrderID) (hash string, err error)

	// OnTransaction handles an authenticated, validated transaction
	// callback. It runs on the handler's worker pool after Vipps has been
	// answered, with a context that ends after TransactionTimeout or when
	// [Handler.Shutdown] gives up. An error is logged; Vipps never sees it.
	// Required.
	OnTransaction func(ctx context.Context, cb *vipps.TransactionCallback) error

	// ShippingOptions returns the shipping options for the address the user
	// picked in express checkout. Its context ends after ShippingTimeout.
	// Nil means the shippingDetails endpoint is not served (404): use it
	// when every express payment sends staticShippingDetails.
	ShippingOptions func(ctx context.Context, orderID vipps.OrderID, addr *vipps.ShippingDetailsRequest) ([]vipps.ShippingOption, error)

	// FallbackShippingOptions are sent when ShippingOptions fails, panics,
	// returns invalid options or misses its deadline. Empty means such
	// requests get 503, and the user cannot finish express checkout.
	FallbackShippingOptions []vipps.ShippingOption

	// ShippingTimeout is the deadline for ShippingOptions; zero means
	// DefaultShippingTimeout (8 s). It must be below Vipps' 10 s.
	ShippingTimeout time.Duration

	// OnConsentRemoved is called when the user withdraws the consent to
	// share their profile: the merchant must delete what it stored about
	// userID. It must ignore userIds it does not know (the request is not
	// authenticated; see the package doc) and may be called more than once
	// for the same userID. Nil means the consent removal endpoint is not
	// served (404), which is fine only without express checkout.
	OnConsentRemoved func(ctx context.Context, userID string) error

	// Workers is how many OnTransaction calls may run at once; zero means
	// DefaultWorkers.
	Workers int
	// QueueSize is how many accepted callbacks may wait for a worker; zero
	// means DefaultQueueSize.
	QueueSize int
	// QueueWait is how long a callback waits for room in a full queue
	// before it is answered 503; zero means DefaultQueueWait. Keep it well
	// below Vipps' 3 s.
	QueueWait time.Duration
	// TransactionTimeout bounds each OnTransaction call; zero means
	// DefaultTransactionTimeout.
	TransactionTimeout time.Duration

	// MaxBodyBytes limits request bodies; zero means DefaultMaxBodyBytes
	// (64 KiB). Larger bodies get 413.
	MaxBodyBytes int64

	// Logger receives a line for every callback accepted, request refused
	// and merchant func failing. Nil means slog.Default().
	Logger *slog.Logger
}

// Handler serves the endpoints Vipps calls on a merchant. Create it with
// [New], mount it (see [Handler.Wrap]) and stop it with [Handler.Shutdown].
type Handler struct {
	prefix          string
	consentPrefix   string
	lookup          func(context.Context, vipps.OrderID) (string, error)
	onTransaction   func(context.Context, *vipps.TransactionCallback) error
	shippingOptions func(context.Context, vipps.OrderID, *vipps.ShippingDetailsRequest) ([]vipps.ShippingOption, error)
	fallback        []vipps.ShippingOption
	onConsent       func(context.Context, string) error
	shippingTimeout time.Duration
	queueWait       time.Duration
	txTimeout       time.Duration
	maxBody         int64
	log             *slog.Logger

	// base is the parent of every OnTransaction context; abort cancels it
	// when Shutdown gives up.
	base  context.Context
	abort context.CancelFunc

	jobs chan *vipps.TransactionCallback

	// mu guards closed. Every wg.Add and every send on jobs happens under
	// mu.RLock with closed false, so none can race with Shutdown closing
	// jobs and waiting on wg.
	mu      sync.RWMutex
	closed  bool
	wg      sync.WaitGroup // workers and running ShippingOptions calls
	once    sync.Once
	drained chan struct{} // closed when wg reaches zero after Shutdown
}

// New validates cfg and returns a Handler whose workers are running. Call
// [Handler.Shutdown] to stop them.
func New(cfg Config) (*Handler, error) {
	var problems []string
	if cfg.Lookup == nil {
		problems = append(problems, "Lookup is required: it returns the stored auth token hash of an orderId")
	}
	if cfg.OnTransaction == nil {
		problems = append(problems, "OnTransaction is required: it handles transaction callbacks")
	}
	prefix, err := cleanPrefix("Prefix", cfg.Prefix)
	if err != nil {
		problems = append(problems, err.Error())
	}
	consentPrefix := prefix
	if cfg.ConsentPrefix != "" {
		if consentPrefix, err = cleanPrefix("ConsentPrefix", cfg.ConsentPrefix); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if cfg.ShippingTimeout < 0 || cfg.ShippingTimeout >= vippsShippingTimeout {
		problems = append(problems, fmt.Sprintf("ShippingTimeout %v must be between 0 and Vipps' %v", cfg.ShippingTimeout, vippsShippingTimeout))
	}
	if len(cfg.FallbackShippingOptions) > 0 {
		if cfg.ShippingOptions == nil {
			problems = append(problems, "FallbackShippingOptions needs ShippingOptions; without it send staticShippingDetails at initiate")
		}
		if err := validateOptions(cfg.FallbackShippingOptions); err != nil {
			problems = append(problems, "FallbackShippingOptions: "+err.Error())
		}
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"Workers", int64(cfg.Workers)},
		{"QueueSize", int64(cfg.QueueSize)},
		{"QueueWait", int64(cfg.QueueWait)},
		{"TransactionTimeout", int64(cfg.TransactionTimeout)},
		{"MaxBodyBytes", cfg.MaxBodyBytes},
	} {
		if f.v < 0 {
			problems = append(problems, f.name+" must not be negative")
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("callback config: %s", strings.Join(problems, "; "))
	}

	h := &Handler{
		prefix:          prefix,
		consentPrefix:   consentPrefix,
		lookup:          cfg.Lookup,
		onTransaction:   cfg.OnTransaction,
		shippingOptions: cfg.ShippingOptions,
		fallback:        slices.Clone(cfg.FallbackShippingOptions),
		onConsent:       cfg.OnConsentRemoved,
		shippingTimeout: cmp.Or(cfg.ShippingTimeout, DefaultShippingTimeout),
		queueWait:       cmp.Or(cfg.QueueWait, DefaultQueueWait),
		txTimeout:       cmp.Or(cfg.TransactionTimeout, DefaultTransactionTimeout),
		maxBody:         cmp.Or(cfg.MaxBodyBytes, DefaultMaxBodyBytes),
		log:             cfg.Logger,
		jobs:            make(chan *vipps.TransactionCallback, cmp.Or(cfg.QueueSize, DefaultQueueSize)),
		drained:         make(chan struct{}),
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	h.base, h.abort = context.WithCancel(context.Background())
	for range cmp.Or(cfg.Workers, DefaultWorkers) {
		h.wg.Add(1)
		go h.work()
	}
	return h, nil
}

// cleanPrefix checks a configured path prefix and drops its trailing slashes.
func cleanPrefix(name, p string) (string, error) {
	p = strings.TrimRight(p, "/")
	if p == "" {
		return "", nil
	}
	if !strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("%s %q must start with /", name, p)
	}
	if _, err := url.PathUnescape(p); err != nil {
		return "", fmt.Errorf("%s %q is not an escaped URL path: %v", name, p, err)
	}
	return p, nil
}

// Shutdown stops accepting callbacks (they get 503 from now on) and waits
// until every accepted callback has been handled and every running
// ShippingOptions call has returned. If ctx ends first, it cancels the
// context of the OnTransaction calls in flight, drops the callbacks still
// queued (logging each orderId: reconcile them through /details) and returns
// the context's error without waiting further. It is safe to call more than
// once; call it after http.Server.Shutdown.
func (h *Handler) Shutdown(ctx context.Context) error {
	h.once.Do(func() {
		h.mu.Lock()
		h.closed = true
		close(h.jobs)
		h.mu.Unlock()
		go func() { // stops when the last worker and shipping call return
			h.wg.Wait()
			close(h.drained)
		}()
	})
	select {
	case <-h.drained:
		h.abort()
		return nil
	case <-ctx.Done():
		h.abort()
		return fmt.Errorf("callback shutdown: %w", ctx.Err())
	}
}

// begin registers a unit of work that Shutdown must wait for. It reports
// false once Shutdown has started.
func (h *Handler) begin() bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.closed {
		return false
	}
	h.wg.Add(1)
	return true
}

// endpoint is one of the three merchant endpoints.
type endpoint int

const (
	noEndpoint endpoint = iota
	transactionEndpoint
	shippingEndpoint
	consentEndpoint
)

// route finds the endpoint of a request and its escaped path argument (the
// orderId or the userId). It works on the escaped path so that an encoded
// "/" in a userId survives, and it skips any run of slashes after the
// prefix, because Vipps appends "/v2/..." to the prefix literally.
func (h *Handler) route(r *http.Request) (endpoint, string) {
	path := r.URL.EscapedPath()
	if rest, ok := under(path, h.prefix); ok {
		if tail, ok := strings.CutPrefix(rest, "v2/payments/"); ok {
			id, sub, more := strings.Cut(tail, "/")
			switch {
			case id == "":
			case !more:
				return transactionEndpoint, id
			case sub == "shippingDetails" && h.shippingOptions != nil:
				return shippingEndpoint, id
			}
			return noEndpoint, ""
		}
	}
	if rest, ok := under(path, h.consentPrefix); ok && h.onConsent != nil {
		if userID, ok := strings.CutPrefix(rest, "v2/consents/"); ok && userID != "" {
			return consentEndpoint, userID
		}
	}
	return noEndpoint, ""
}

// under returns what follows prefix and any run of slashes in path.
func under(path, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(path, prefix)
	if !ok || !strings.HasPrefix(rest, "/") {
		return "", false
	}
	return strings.TrimLeft(rest, "/"), true
}

var allowed = map[endpoint]string{
	transactionEndpoint: http.MethodPost,
	shippingEndpoint:    http.MethodPost,
	consentEndpoint:     http.MethodDelete,
}

// ServeHTTP serves POST {Prefix}/v2/payments/{orderId},
// POST {Prefix}/v2/payments/{orderId}/shippingDetails and
// DELETE {Prefix}/v2/consents/{userId}, with any number of slashes before
// "v2". Anything else gets 404, or 405 for a wrong method.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ep, arg := h.route(r)
	log := h.log
	var err error
	switch {
	case ep == noEndpoint:
		err = fmt.Errorf("%w: no Vipps endpoint at %s", errNotFound, r.URL.EscapedPath())
	case r.Method != allowed[ep]:
		w.Header().Set("Allow", allowed[ep])
		err = fmt.Errorf("%w: %s wants %s, not %s", errMethod, r.URL.EscapedPath(), allowed[ep], r.Method)
	case ep == consentEndpoint:
		var userID string
		if userID, err = pathUserID(arg); err != nil {
			log = log.With("user_id", clip(arg))
			break
		}
		log = log.With("user_id", userID)
		err = h.serveConsent(w, r, userID, log)
	default:
		var id vipps.OrderID
		if id, err = pathOrderID(arg); err != nil {
			log = log.With("order_id", clip(arg))
			break
		}
		log = log.With("order_id", string(id))
		if ep == transactionEndpoint {
			err = h.serveTransaction(w, r, id, log)
		} else {
			err = h.serveShipping(w, r, id, log)
		}
	}
	if err != nil {
		fail(w, r, log, err)
	}
}

// Wrap returns a handler that sends the requests h serves to h and every
// other request to next. Put it in front of an http.ServeMux: a ServeMux
// answers a path with "//" by redirecting to the cleaned path, and Vipps
// does not follow redirects.
func (h *Handler) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ep, _ := h.route(r); ep != noEndpoint {
			h.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// pathOrderID unescapes and validates the orderId of a path.
func pathOrderID(escaped string) (vipps.OrderID, error) {
	s, err := url.PathUnescape(escaped)
	if err != nil {
		return "", fmt.Errorf("%w: orderId in path: %v", errBadRequest, err)
	}
	id := vipps.OrderID(s)
	if err := id.Validate(); err != nil {
		return "", fmt.Errorf("%w: path: %v", errBadRequest, err)
	}
	return id, nil
}

// clip shortens outside input before it goes into a log line.
func clip(s string) string {
	const max = 100
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
