package web

// The shared test harness of package web: newTestEnv runs the whole service
// on loopback, against the Vipps simulator and a real SQLite database, so
// that the API, admin, shop and return page tests all make real HTTP round
// trips. Nothing here is exported.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/internal/servicetest"
	"github.com/vippskit/vipps/internal/staff"
	"github.com/vippskit/vipps/vippstest"
)

// The secrets every testEnv is configured with, and its staff: an
// administrator, an operator and a viewer, with one password.
const (
	testAPIKey        = "test-api-key-0123456789"
	testAdminUser     = "admin"
	testOperator      = "olga"
	testViewer        = "vera"
	testAdminPassword = "test-admin-password"
)

// testEnv is the service on loopback for one test (internal/servicetest),
// serving the Server under test: the Vipps simulator (sim), a SQLite store
// in t.TempDir() (store), the payment service (svc) and the Server, served
// at url. url is the service's PublicURL, so Vipps' callbacks and the
// customer's way back reach the Server as they would in production; the
// simulator accepts the http callbackPrefix because it points at loopback
// (with a warning in its request log). The lower-case fields name the
// harness's under the names these tests use.
//
// Everything is shut down by t.Cleanup in a safe order: the HTTP listener,
// then the Server (its callback workers, which may still call the
// simulator and the store), then the store, then the simulator.
type testEnv struct {
	*servicetest.Env
	t      *testing.T
	sim    *vippstest.Server
	store  servicetest.Store
	svc    *payment.Service
	server *Server
	// url is the Server's base URL, such as http://127.0.0.1:41234.
	url string
	// client sends the requests of the helpers below. It does not follow
	// redirects, so tests see the 303 of a form or the return page.
	client *http.Client
	// logs holds what the service and the Server logged, as slog text at
	// debug level; the same lines go to the test's output.
	logs *servicetest.Logs
	// staff is the Server's staff service, on the same store.
	staff *staff.Service
}

// envConfig is what newTestEnv builds the environment from. Options
// change it before anything starts.
type envConfig struct {
	// service configures the harness (servicetest.WithSim, WithPayment,
	// ...); it starts with the order ID prefix "test". An option that
	// changes the service's CallbackPath or ConsentPath must change the
	// Server's (in web) to match.
	service []servicetest.Option
	// web configures the Server. newTestEnv sets Service and Logger after
	// the options ran; the rest may be changed.
	web Config
}

// newTestEnv starts a testEnv. Without options it has the keys above,
// DemoShop on, one static express shipping option, Vipps' rate limits on,
// the real clock for both the simulator and the service, and no poller or
// task worker running: tests call svc.Poll or svc.Check themselves.
//
//	env := newTestEnv(t, func(c *envConfig) { c.web.DemoShop = false })
func newTestEnv(t *testing.T, opts ...func(*envConfig)) *testEnv {
	t.Helper()
	cfg := envConfig{
		service: []servicetest.Option{servicetest.WithPayment(func(c *payment.Config) {
			c.ReturnKey, c.OrderIDPrefix = bytes.Repeat([]byte("r"), 32), "test"
		})},
		web: Config{
			APIKey:      testAPIKey,
			CSRFKey:     bytes.Repeat([]byte("c"), 32),
			Environment: Environment{Simulator: "http://sim.test"},
			DemoShop:    true,
		},
	}
	for _, o := range opts {
		o(&cfg)
	}
	e := &testEnv{t: t}
	serve := servicetest.WithHandler(func(se *servicetest.Env) http.Handler {
		cfg.web.Service, cfg.web.Logger = se.Service, se.Logger
		if cfg.web.Staff == nil {
			now := cfg.web.Now
			if now == nil {
				now = se.Clock.Now
			}
			cfg.web.Staff = newTestStaff(t, se.Store, now)
		}
		e.staff = cfg.web.Staff
		var err error
		if e.server, err = New(cfg.web); err != nil {
			t.Fatalf("web.New: %v", err)
		}
		return e.server
	})
	e.Env = servicetest.New(t, append(cfg.service, serve)...)
	e.sim, e.store, e.svc, e.url, e.logs = e.Sim, e.Store, e.Service, e.URL, e.Logs
	client := *e.Client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	e.client = &client
	return e
}

// newTestStaff returns a staff service on st with the clock now and the
// test staff: testAdminUser, testOperator and testViewer.
func newTestStaff(t *testing.T, st servicetest.Store, now func() time.Time) *staff.Service {
	t.Helper()
	ss, ok := st.(staff.Store)
	if !ok {
		t.Fatalf("the test store %T is no staff.Store", st)
	}
	sv, err := staff.New(staff.Config{Store: ss, Now: now, WeakHashForTests: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []struct {
		name string
		role staff.Role
	}{{testAdminUser, staff.Admin}, {testOperator, staff.Operator}, {testViewer, staff.Viewer}} {
		if _, err := sv.Add(t.Context(), a.name, a.role, testAdminPassword); err != nil {
			t.Fatal(err)
		}
	}
	return sv
}

// in returns a copy of e that reports to t: call it first thing in a
// subtest, so that the helpers fail the subtest and not its parent.
//
//	t.Run(name, func(t *testing.T) {
//		e := e.in(t)
//		...
//	})
func (e *testEnv) in(t *testing.T) *testEnv {
	c := *e
	c.t = t
	c.Env = e.Env.In(t)
	return &c
}

// newRequest returns a request to the Server (path starts with "/"),
// without credentials, bound to the test's context.
func (e *testEnv) newRequest(method, path string, body io.Reader) *http.Request {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.url+path, body)
	if err != nil {
		e.t.Fatalf("new request %s %s: %v", method, path, err)
	}
	return req
}

// do sends req and returns the response with its whole body (the
// response's Body is closed).
func (e *testEnv) do(req *http.Request) (*http.Response, []byte) {
	e.t.Helper()
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading the body: %v", req.Method, req.URL.Path, err)
	}
	return resp, b
}

// apiRequest returns an API request with the API key. body is sent as is
// when it is a string or []byte, as JSON otherwise, and not at all when
// nil.
func (e *testEnv) apiRequest(method, path string, body any) *http.Request {
	e.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(body)
		if err != nil {
			e.t.Fatalf("encoding the body of %s %s: %v", method, path, err)
		}
		r = bytes.NewReader(j)
	}
	req := e.newRequest(method, path, r)
	req.Header.Set("Authorization", "Bearer "+testAPIKey)
	if r != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// api calls the API with the key (body as for apiRequest) and returns the
// response and its JSON body decoded into a map.
func (e *testEnv) api(method, path string, body any) (*http.Response, map[string]any) {
	e.t.Helper()
	resp, b := e.do(e.apiRequest(method, path, body))
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		e.t.Fatalf("%s %s = %d with a body that is not a JSON object: %v\n%s", method, path, resp.StatusCode, err, b)
	}
	return resp, m
}

// apiInto calls the API with the key, fails the test unless the status is
// want, and decodes the JSON body into out (unless out is nil). It returns
// the raw body.
func (e *testEnv) apiInto(method, path string, body any, want int, out any) []byte {
	e.t.Helper()
	resp, b := e.do(e.apiRequest(method, path, body))
	if resp.StatusCode != want {
		e.t.Fatalf("%s %s = %d, want %d\n%s", method, path, resp.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: decoding the body: %v\n%s", method, path, err, b)
		}
	}
	return b
}

// createPayment creates a payment through the API and returns its orderId.
func (e *testEnv) createPayment(amount vipps.Amount, text string) vipps.OrderID {
	e.t.Helper()
	var got createAnswer
	e.apiInto("POST", "/api/payments", map[string]any{"amount": amount, "text": text}, http.StatusCreated, &got)
	return got.OrderID
}

// approve acts as the customer approving the payment in the Vipps app and
// waits until the service has handled the callback and the payment is
// reserved.
func (e *testEnv) approve(id vipps.OrderID) *payment.Payment {
	e.t.Helper()
	if err := e.sim.Sim.Approve(id, ""); err != nil {
		e.t.Fatalf("Sim.Approve(%s): %v", id, err)
	}
	e.waitCallback(id)
	return e.waitFor(id, "reserved", func(p *payment.Payment, _ []payment.Event) bool { return p.State == payment.Reserved })
}

// reserved creates a payment and approves it.
func (e *testEnv) reserved(amount vipps.Amount) vipps.OrderID {
	e.t.Helper()
	id := e.createPayment(amount, "Test purchase")
	e.approve(id)
	return id
}

// waitCallback waits until the simulator has delivered its callbacks and
// the service has recorded one for the payment (the callback handler
// answers Vipps first and works afterwards).
func (e *testEnv) waitCallback(id vipps.OrderID) {
	e.t.Helper()
	e.sim.Sim.WaitCallbacks()
	for _, cb := range e.sim.Sim.Callbacks() {
		if cb.OrderID == id && !cb.Delivered() {
			e.t.Fatalf("callback for %s not delivered: status %d, error %q", id, cb.StatusCode, cb.Err)
		}
	}
	e.waitFor(id, "callback_received", func(_ *payment.Payment, ev []payment.Event) bool {
		for _, x := range ev {
			if x.Type == payment.EventCallback {
				return true
			}
		}
		return false
	})
}

// waitFor polls the store until cond holds for the payment and its events,
// and returns the payment; after 10 s it fails the test, naming what.
func (e *testEnv) waitFor(id vipps.OrderID, what string, cond func(*payment.Payment, []payment.Event) bool) *payment.Payment {
	e.t.Helper()
	return e.WaitFor(id, what, cond)
}

// simRequests returns the requests the simulator got for the order with
// the given op ("capture", "details", ...; "" for all).
func (e *testEnv) simRequests(id vipps.OrderID, op string) []vippstest.Request {
	var out []vippstest.Request
	for _, r := range e.sim.Sim.Requests() {
		if r.OrderID == id && (op == "" || r.Op == op) {
			out = append(out, r)
		}
	}
	return out
}

// TestEnv checks the harness itself: the service serves, and the
// simulator reaches it.
func TestEnv(t *testing.T) {
	e := newTestEnv(t)
	id := e.reserved(25000)
	p, err := e.svc.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(p.State, " ", int64(p.Amounts.RemainingToCapture)), "reserved 25000"; got != want {
		t.Errorf("after approve: state and remaining = %s, want %s", got, want)
	}
}
