package callback

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps"
)

// testOrder is the orderId of every example in testdata.
const testOrder vipps.OrderID = "acme-shop-123-order123abc"

// merchant is a fake merchant: it knows the auth tokens of its payments and
// records what the handler hands it.
type merchant struct {
	mu      sync.Mutex
	hashes  map[vipps.OrderID]string
	tokens  map[vipps.OrderID]vipps.Secret
	lookups atomic.Int32
	calls   atomic.Int32 // OnTransaction, ShippingOptions and OnConsentRemoved

	got      chan *vipps.TransactionCallback
	consents chan string
	logs     *syncBuffer
}

func newMerchant(t *testing.T, orders ...vipps.OrderID) *merchant {
	t.Helper()
	m := &merchant{
		hashes:   map[vipps.OrderID]string{},
		tokens:   map[vipps.OrderID]vipps.Secret{},
		got:      make(chan *vipps.TransactionCallback, 64),
		consents: make(chan string, 64),
		logs:     &syncBuffer{},
	}
	for _, id := range append([]vipps.OrderID{testOrder}, orders...) {
		m.add(t, id)
	}
	return m
}

// add initiates a payment: a new token, its hash stored.
func (m *merchant) add(t *testing.T, id vipps.OrderID) vipps.Secret {
	t.Helper()
	token, hash, err := NewAuthToken()
	if err != nil {
		t.Fatalf("NewAuthToken() = %v", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hashes[id], m.tokens[id] = hash, token
	return token
}

func (m *merchant) token(id vipps.OrderID) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tokens[id].Reveal()
}

func (m *merchant) lookup(_ context.Context, id vipps.OrderID) (string, error) {
	m.lookups.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	h, ok := m.hashes[id]
	if !ok {
		return "", ErrUnknownOrder
	}
	return h, nil
}

// config returns a Config whose funcs record into m. Tests override fields.
func (m *merchant) config() Config {
	return Config{
		Prefix: "/vipps",
		Lookup: m.lookup,
		OnTransaction: func(_ context.Context, cb *vipps.TransactionCallback) error {
			m.calls.Add(1)
			m.got <- cb
			return nil
		},
		ShippingOptions: func(context.Context, vipps.OrderID, *vipps.ShippingDetailsRequest) ([]vipps.ShippingOption, error) {
			m.calls.Add(1)
			return guideOptions, nil
		},
		OnConsentRemoved: func(_ context.Context, userID string) error {
			m.calls.Add(1)
			m.consents <- userID
			return nil
		},
		Logger: slog.New(slog.NewJSONHandler(m.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

// guideOptions are the options of the guide's shippingDetails answer
// (testdata/shipping-response.json).
var guideOptions = []vipps.ShippingOption{
	{IsDefault: false, Priority: 1, ShippingCost: 99, ShippingMethod: "Walking", ShippingMethodID: "123abc"},
	{IsDefault: true, Priority: 2, ShippingCost: 199, ShippingMethod: "Running", ShippingMethodID: "321abc"},
}

// start serves a new Handler for cfg on a loopback server. The handler is
// shut down, and must drain, when the test ends.
func start(t *testing.T, cfg Config) (*Handler, *httptest.Server) {
	t.Helper()
	h, err := New(cfg)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	return h, serve(t, h, h)
}

// serve runs handler on a loopback server and shuts h down after it.
func serve(t *testing.T, h *Handler, handler http.Handler) *httptest.Server {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown() = %v", err)
		}
	})
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return srv
}

type response struct {
	status int
	body   string
	header http.Header
}

// send makes one request without following redirects, as Vipps does.
func send(t *testing.T, method, url, auth, body string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, string(b), resp.Header}
}

// receive waits for the next value on ch; the guard only turns a hang into
// a failure.
func receive[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("nothing received")
		panic("unreachable")
	}
}

func testdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// syncBuffer is a bytes.Buffer safe for the handler's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestNewValidates(t *testing.T) {
	m := newMerchant(t)
	ok := m.config()
	tests := []struct {
		name string
		edit func(*Config)
		want string // in the error; "" for no error
	}{
		{"valid", func(*Config) {}, ""},
		{"defaults only", func(c *Config) { *c = Config{Lookup: c.Lookup, OnTransaction: c.OnTransaction} }, ""},
		{"no Lookup", func(c *Config) { c.Lookup = nil }, "Lookup is required"},
		{"no OnTransaction", func(c *Config) { c.OnTransaction = nil }, "OnTransaction is required"},
		{"relative prefix", func(c *Config) { c.Prefix = "vipps" }, `Prefix "vipps" must start with /`},
		{"bad escape in prefix", func(c *Config) { c.Prefix = "/vipps%zz" }, "not an escaped URL path"},
		{"bad consent prefix", func(c *Config) { c.ConsentPrefix = "consent" }, "ConsentPrefix"},
		{"trailing slash prefix", func(c *Config) { c.Prefix = "/vipps/" }, ""},
		{"shipping timeout too long", func(c *Config) { c.ShippingTimeout = 10 * time.Second }, "ShippingTimeout"},
		{"negative workers", func(c *Config) { c.Workers = -1 }, "Workers must not be negative"},
		{"negative body limit", func(c *Config) { c.MaxBodyBytes = -1 }, "MaxBodyBytes must not be negative"},
		{"fallback without func", func(c *Config) {
			c.ShippingOptions = nil
			c.FallbackShippingOptions = guideOptions
		}, "FallbackShippingOptions needs ShippingOptions"},
		{"invalid fallback", func(c *Config) {
			c.FallbackShippingOptions = []vipps.ShippingOption{{ShippingCost: -1, ShippingMethod: "x", ShippingMethodID: "x"}}
		}, "shippingCost -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.edit(&cfg)
			h, err := New(cfg)
			if err == nil {
				defer h.Shutdown(t.Context())
			}
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("New() = %v, want no error", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("New() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestRouting(t *testing.T) {
	m := newMerchant(t)
	_, srv := start(t, m.config())
	tok := m.token(testOrder)
	body := testdata(t, "transaction-regular-reserved.json")
	tests := []struct {
		name, method, path, body string
		want                     int
		allow                    string
	}{
		{"callback", "POST", "/vipps/v2/payments/" + string(testOrder), body, 200, ""},
		{"callback, double slash", "POST", "/vipps//v2/payments/" + string(testOrder), body, 200, ""},
		{"callback, triple slash", "POST", "/vipps///v2/payments/" + string(testOrder), body, 200, ""},
		{"shipping, double slash", "POST", "/vipps//v2/payments/" + string(testOrder) + "/shippingDetails", testdata(t, "shipping-request.json"), 200, ""},
		{"consent, double slash", "DELETE", "/vipps//v2/consents/abc", "", 200, ""},
		{"callback GET", "GET", "/vipps/v2/payments/" + string(testOrder), "", 405, "POST"},
		{"callback PUT", "PUT", "/vipps/v2/payments/" + string(testOrder), body, 405, "POST"},
		{"shipping GET", "GET", "/vipps/v2/payments/" + string(testOrder) + "/shippingDetails", "", 405, "POST"},
		{"consent POST", "POST", "/vipps/v2/consents/abc", "", 405, "DELETE"},
		{"root", "POST", "/", body, 404, ""},
		{"no prefix", "POST", "/v2/payments/" + string(testOrder), body, 404, ""},
		{"other prefix", "POST", "/vippsx/v2/payments/" + string(testOrder), body, 404, ""},
		{"no orderId", "POST", "/vipps/v2/payments/", body, 404, ""},
		{"unknown suffix", "POST", "/vipps/v2/payments/" + string(testOrder) + "/capture", body, 404, ""},
		{"no userId", "DELETE", "/vipps/v2/consents/", "", 404, ""},
		{"v1", "POST", "/vipps/v1/payments/" + string(testOrder), body, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := send(t, tt.method, srv.URL+tt.path, tok, tt.body)
			if got.status != tt.want {
				t.Fatalf("%s %s = %d %q, want %d", tt.method, tt.path, got.status, got.body, tt.want)
			}
			if a := got.header.Get("Allow"); a != tt.allow {
				t.Errorf("%s %s: Allow = %q, want %q", tt.method, tt.path, a, tt.allow)
			}
		})
	}
}

// TestMounting mounts the handler the ways doc.go describes and checks that
// Vipps' double-slash URL is answered directly, never with a redirect.
func TestMounting(t *testing.T) {
	body := testdata(t, "transaction-regular-reserved.json")
	other := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "shop") })
	tests := []struct {
		name   string
		prefix string
		mount  func(h *Handler) http.Handler
		path   string
		want   int
	}{
		{"prefix", "/vipps", func(h *Handler) http.Handler { return h }, "/vipps/v2/payments/", 200},
		{"prefix, double slash", "/vipps", func(h *Handler) http.Handler { return h }, "/vipps//v2/payments/", 200},
		{"prefix with trailing slash, double slash", "/vipps/", func(h *Handler) http.Handler { return h }, "/vipps//v2/payments/", 200},
		{"nested prefix", "/shop/vipps/cb", func(h *Handler) http.Handler { return h }, "/shop/vipps/cb//v2/payments/", 200},
		{"root", "", func(h *Handler) http.Handler { return h }, "/v2/payments/", 200},
		{"root, double slash", "", func(h *Handler) http.Handler { return h }, "//v2/payments/", 200},
		{"StripPrefix", "", func(h *Handler) http.Handler { return http.StripPrefix("/cb", h) }, "/cb/v2/payments/", 200},
		{"StripPrefix, double slash", "", func(h *Handler) http.Handler { return http.StripPrefix("/cb", h) }, "/cb//v2/payments/", 200},
		{"Wrap in front of a mux", "/vipps", func(h *Handler) http.Handler { return h.Wrap(muxWith(other)) }, "/vipps/v2/payments/", 200},
		{"Wrap in front of a mux, double slash", "/vipps", func(h *Handler) http.Handler { return h.Wrap(muxWith(other)) }, "/vipps//v2/payments/", 200},
		{"Wrap, root prefix, double slash", "", func(h *Handler) http.Handler { return h.Wrap(muxWith(other)) }, "//v2/payments/", 200},
		// Why Wrap exists: a ServeMux redirects "//", and Vipps does not
		// follow redirects.
		{"registered on a mux, double slash", "/vipps", func(h *Handler) http.Handler {
			mux := muxWith(other)
			mux.Handle("/vipps/", h)
			return mux
		}, "/vipps//v2/payments/", http.StatusTemporaryRedirect},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMerchant(t)
			cfg := m.config()
			cfg.Prefix = tt.prefix
			h, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			srv := serve(t, h, tt.mount(h))
			got := send(t, "POST", srv.URL+tt.path+string(testOrder), m.token(testOrder), body)
			if got.status != tt.want {
				t.Fatalf("POST %s = %d %q, want %d", tt.path, got.status, got.body, tt.want)
			}
			if tt.want == 200 {
				cb := receive(t, m.got)
				if cb.OrderID != testOrder {
					t.Errorf("OnTransaction got orderId %q, want %q", cb.OrderID, testOrder)
				}
			}
		})
	}
}

func muxWith(other http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/", other)
	return mux
}

func TestWrapPassesOtherRequests(t *testing.T) {
	m := newMerchant(t)
	cfg := m.config()
	cfg.ShippingOptions = nil // not served: the mux may serve it
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "shop") })
	mux.HandleFunc("POST /vipps/v2/payments/{id}/shippingDetails", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "own shipping") })
	srv := serve(t, h, h.Wrap(mux))
	tests := []struct {
		method, path string
		want         response
	}{
		{"GET", "/", response{status: 200, body: "shop"}},
		{"GET", "/products/1", response{status: 200, body: "shop"}},
		{"POST", "/vipps/v2/payments/" + string(testOrder) + "/shippingDetails", response{status: 200, body: "own shipping"}},
		{"GET", "/vipps/v2/payments/" + string(testOrder), response{status: 405, body: "method not allowed: /vipps/v2/payments/acme-shop-123-order123abc wants POST, not GET\n"}},
	}
	for _, tt := range tests {
		got := send(t, tt.method, srv.URL+tt.path, "", "")
		if got.status != tt.want.status || got.body != tt.want.body {
			t.Errorf("%s %s = %d %q, want %d %q", tt.method, tt.path, got.status, got.body, tt.want.status, tt.want.body)
		}
	}
}

// TestBodies checks the answers to bodies that cannot be decoded; each says
// what is wrong.
func TestBodies(t *testing.T) {
	m := newMerchant(t)
	cfg := m.config()
	cfg.MaxBodyBytes = 1 << 10
	_, srv := start(t, cfg)
	callback := srv.URL + "/vipps/v2/payments/" + string(testOrder)
	shipping := callback + "/shippingDetails"
	tests := []struct {
		name, url, body string
		want            int
		reason          string
	}{
		{"oversize", callback, `{"orderId":"` + strings.Repeat("a", 2<<10) + `"}`, 413, "request body too large: the limit is 1024 bytes"},
		{"empty", callback, "", 400, "body is empty"},
		{"not an object", callback, `["RESERVED"]`, 400, "body is not a JSON object"},
		{"null", callback, `null`, 400, "body is not a JSON object"},
		{"truncated", callback, `{"orderId": "acme`, 400, "malformed JSON"},
		{"trailing garbage", callback, `{"orderId": "acme"} x`, 400, "malformed JSON"},
		{"amount as text", callback, `{"orderId":"acme-shop-123-order123abc","transactionInfo":{"amount":"lots","status":"RESERVED"}}`, 400, "field transactionInfo.amount: JSON string cannot be vipps.Amount"},
		{"bad timestamp", callback, `{"orderId":"acme-shop-123-order123abc","transactionInfo":{"amount":1,"status":"RESERVED","timeStamp":"yesterday"}}`, 400, `timestamp "yesterday" is not ISO-8601`},
		{"no status", callback, `{"merchantSerialNumber":"123456","orderId":"acme-shop-123-order123abc","transactionInfo":{"amount":20000}}`, 400, "transactionInfo.status is missing"},
		{"no orderId", callback, `{"merchantSerialNumber":"123456","transactionInfo":{"amount":20000,"status":"RESERVED"}}`, 400, "orderId is empty"},
		{"invalid body orderId", callback, `{"orderId":"acme_shop","transactionInfo":{"status":"RESERVED"}}`, 400, `orderId "acme_shop" may contain only`},
		{"orderId mismatch", callback, strings.Replace(testdata(t, "transaction-regular-reserved.json"), string(testOrder), "acme-shop-123-order999", 1), 400, `body orderId "acme-shop-123-order999" does not match path orderId "acme-shop-123-order123abc"`},
		{"shipping, oversize", shipping, strings.Repeat(" ", 2<<10) + "{}", 413, "request body too large"},
		{"shipping, addressId text", shipping, `{"addressId":"three","addressLine1":"x"}`, 400, `addressId "three" is not a whole number`},
		{"shipping, not an object", shipping, `"Oslo"`, 400, "body is not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := send(t, "POST", tt.url, m.token(testOrder), tt.body)
			if got.status != tt.want || !strings.Contains(got.body, tt.reason) {
				t.Fatalf("POST = %d %q, want %d with %q", got.status, got.body, tt.want, tt.reason)
			}
		})
	}
	if n := m.calls.Load(); n != 0 {
		t.Errorf("merchant funcs called %d times for refused bodies, want 0", n)
	}
}

func TestInvalidPathOrderID(t *testing.T) {
	m := newMerchant(t)
	_, srv := start(t, m.config())
	body := testdata(t, "transaction-regular-reserved.json")
	for _, id := range []string{"acme_shop", strings.Repeat("a", 51), "acme%20shop", "%C3%A6"} {
		t.Run(id, func(t *testing.T) {
			got := send(t, "POST", srv.URL+"/vipps/v2/payments/"+id, m.token(testOrder), body)
			if got.status != 400 || !strings.Contains(got.body, "orderId") {
				t.Errorf("POST /vipps/v2/payments/%s = %d %q, want 400 about the orderId", id, got.status, got.body)
			}
		})
	}
	if n := m.lookups.Load(); n != 0 {
		t.Errorf("Lookup called %d times for invalid orderIds, want 0", n)
	}
}

func TestStatusOf(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{errNotFound, 404},
		{errMethod, 405},
		{errBadRequest, 400},
		{errUnauthorized, 401},
		{errTooLarge, 413},
		{errUnavailable, 503},
		{errors.New("database down"), 500},
		{errBadHash, 500},
	}
	for _, tt := range tests {
		if got := statusOf(tt.err); got != tt.want {
			t.Errorf("statusOf(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
	if diff := cmp.Diff(400, statusOf(errors.Join(errors.New("x"), errBadRequest))); diff != "" {
		t.Errorf("statusOf(joined) mismatch (-want +got):\n%s", diff)
	}
}
