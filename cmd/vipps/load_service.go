package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vippskit/vipps/vippstest"
)

// loadPollEvery is how often the shop asks the service whether a payment
// is reserved (or captured) yet.
const loadPollEvery = 5 * time.Millisecond

// loadAmount is every load payment's amount, in øre.
const loadAmount = 1000

// startSim starts vipps sim on a loopback port of its own and waits until
// it answers.
func (l *loadRun) startSim(ctx context.Context, name string) (*child, error) {
	args := []string{"sim", "-addr", "127.0.0.1:0", "-shutdown-timeout", "2s"}
	if l.f.profiles != "" {
		args = append(args, "-cpuprofile", filepath.Join(l.f.profiles, name+".pprof"))
	}
	c, err := l.startChild(name, childEnv(), args...)
	if err != nil {
		return nil, err
	}
	if err := c.waitURL(ctx); err != nil {
		return nil, err
	}
	if err := c.waitReady(ctx, c.url+"/_sim/clock"); err != nil {
		return nil, err
	}
	return c, nil
}

// setupService starts the serve processes of scenario name (service-sqlite,
// service-postgres or service-postgres-2) against the simulator sim.
func (l *loadRun) setupService(ctx context.Context, name string, sim *child, hc *http.Client) (*scenario, error) {
	db := filepath.Join(l.dir, name+".db")
	replicas := 1
	if name != scServiceSQLite {
		var err error
		if db, err = l.newSchema(ctx, strings.ReplaceAll(name, "-", "_")); err != nil {
			return nil, err
		}
		if name == scServicePostgres2 {
			replicas = 2
		}
	}
	m := vippstest.DefaultMerchant()
	apiKey := rand.Text()
	d := &shopDriver{hc: hc, apiKey: apiKey, sim: sim.url}
	sc := &scenario{name: name, unit: "payments", requests: &d.requests, children: []*child{sim}}
	var reps []*child
	for i := range replicas {
		port, err := freeLoopbackPort()
		if err != nil {
			return nil, err
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		env := childEnv("VIPPS_CLIENT_SECRET="+m.ClientSecret, "VIPPS_SUBSCRIPTION_KEY="+m.SubscriptionKey,
			"VIPPS_API_KEY="+apiKey, "VIPPS_ADMIN_PASSWORD="+rand.Text(), "VIPPS_SECRET_KEY="+rand.Text()+rand.Text(),
			"VIPPS_DATABASE="+db)
		child := fmt.Sprintf("%s-%d", name, i+1)
		args := []string{"serve", "-addr", addr, "-public-url", "http://" + addr,
			"-base-url", sim.url, "-client-id", m.ClientID, "-msn", string(m.MSN), "-order-id-prefix", "load",
			"-shutdown-timeout", "2s"}
		if l.f.profiles != "" {
			args = append(args, "-cpuprofile", filepath.Join(l.f.profiles, child+".pprof"))
		}
		c, err := l.startChild(child, env, args...)
		if err != nil {
			return nil, err
		}
		// The first replica brings the schema up to date before the
		// second starts.
		if err := c.waitReady(ctx, "http://"+addr+"/readyz"); err != nil {
			return nil, err
		}
		reps = append(reps, c)
		d.urls = append(d.urls, "http://"+addr)
	}
	sc.children = append(sc.children, reps...)
	sc.pids = func() []int {
		var pids []int
		for _, c := range reps {
			pids = append(pids, c.pid())
		}
		return pids
	}
	sc.rest = func() []int { return append(thisProcess(), sim.pid()) }
	if name != scServiceSQLite {
		// Every PostgreSQL process of this machine: the -postgres server
		// is expected to be local and otherwise quiet.
		sc.db = func() []int { return processesNamed("postgres") }
	}
	sc.do = func(ctx context.Context) error {
		_, err := d.payment(ctx)
		return err
	}
	return sc, nil
}

// newSchema makes a new schema in the -postgres database, dropped when
// the run ends, and returns a DSN whose search_path is that schema.
func (l *loadRun) newSchema(ctx context.Context, what string) (string, error) {
	base := l.f.postgres
	schema := "vipps_load_" + l.id + "_" + what
	exec := func(ctx context.Context, sql string) error {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return err
		}
		defer conn.Close(context.Background())
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", fmt.Errorf("-postgres %s: create schema %s: %w", redact(base), schema, err)
	}
	l.onClose(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			return fmt.Errorf("-postgres %s: drop schema %s: %w", redact(base), schema, err)
		}
		return nil
	})
	if !strings.HasPrefix(base, "postgres://") && !strings.HasPrefix(base, "postgresql://") {
		return base + " search_path=" + schema, nil
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("-postgres %s: %w", redact(base), err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// freeLoopbackPort returns a loopback port that was free a moment ago:
// serve needs its -public-url before it listens.
func freeLoopbackPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// shopDriver is a shop and its customers: it makes payments through the
// service's API and approves them on the simulator's control API.
type shopDriver struct {
	hc       *http.Client
	apiKey   string
	urls     []string // the service's replicas
	sim      string
	next     atomic.Uint64 // round-robin over urls
	requests atomic.Int64  // requests sent to the service
}

// service returns the replica for the next request.
func (d *shopDriver) service() string {
	return d.urls[d.next.Add(1)%uint64(len(d.urls))]
}

// shopAnswer is as much of the service's answers as the shop reads.
type shopAnswer struct {
	OrderID   string                   `json:"orderId"`
	State     string                   `json:"state"`
	Payment   *struct{ State string }  `json:"payment"`
	Operation *struct{ Status string } `json:"operation"`
}

// payment makes one payment from create to captured and returns its
// orderId: create, approve as the customer, GET until reserved, capture
// (and GET until captured when the capture answers pending).
func (d *shopDriver) payment(ctx context.Context) (string, error) {
	var a shopAnswer
	if err := d.api(ctx, http.MethodPost, "/api/payments", `{"amount":`+strconv.Itoa(loadAmount)+`,"text":"vipps load"}`, nil, http.StatusCreated, &a); err != nil {
		return "", err
	}
	id := a.OrderID
	if id == "" {
		return "", fmt.Errorf("create: the answer has no orderId")
	}
	if _, err := do(ctx, d.hc, http.MethodPost, d.sim+"/_sim/payments/"+id+"/approve", "", nil, http.StatusOK); err != nil {
		return id, fmt.Errorf("approve %s on the simulator: %w", id, err)
	}
	if err := d.waitState(ctx, id, "reserved", "created", "initiated"); err != nil {
		return id, err
	}
	h := http.Header{"Idempotency-Key": {"capture-" + id}}
	var c shopAnswer
	err := d.api(ctx, http.MethodPost, "/api/payments/"+id+"/capture", `{}`, h, http.StatusOK, &c)
	switch {
	case isStatus(err, http.StatusAccepted): // Vipps' answer is pending
		return id, d.waitState(ctx, id, "captured", "reserved")
	case err != nil:
		return id, fmt.Errorf("capture %s: %w", id, err)
	case c.Payment == nil || c.Payment.State != "captured":
		return id, fmt.Errorf("capture %s answered 200 with the payment %+v, want captured", id, c.Payment)
	}
	return id, nil
}

// waitState polls the payment every loadPollEvery until it is in state,
// failing when it is neither there nor in one of the states on the way.
func (d *shopDriver) waitState(ctx context.Context, id, state string, onTheWay ...string) error {
	for {
		var p shopAnswer
		if err := d.api(ctx, http.MethodGet, "/api/payments/"+id, "", nil, http.StatusOK, &p); err != nil {
			return err
		}
		switch {
		case p.State == state:
			return nil
		case !slices.Contains(onTheWay, p.State):
			return fmt.Errorf("payment %s is %s, want %s", id, p.State, state)
		}
		if !sleepCtx(ctx, loadPollEvery) {
			return fmt.Errorf("payment %s still %s: %w", id, p.State, ctx.Err())
		}
	}
}

// api calls the service's API and decodes its answer into out.
func (d *shopDriver) api(ctx context.Context, method, path, body string, h http.Header, want int, out any) error {
	if h == nil {
		h = http.Header{}
	}
	h.Set("Authorization", "Bearer "+d.apiKey)
	d.requests.Add(1)
	b, err := do(ctx, d.hc, method, d.service()+path, body, h, want)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	return nil
}

// do sends one request and returns the body of an answer with status
// want; another status is an *errStatus.
func do(ctx context.Context, hc *http.Client, method, url, body string, h http.Header, want int) ([]byte, error) {
	a, err := send(ctx, hc, method, url, body, h, want)
	return a.Body, err
}

// send is do that returns the answer's Content-Type too.
func send(ctx context.Context, hc *http.Client, method, url, body string, h http.Header, want int) (bareAnswer, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return bareAnswer{}, err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return bareAnswer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return bareAnswer{}, err
	}
	a := bareAnswer{ContentType: resp.Header.Get("Content-Type"), Body: b}
	if resp.StatusCode != want {
		return a, &errStatus{what: method + " " + req.URL.Path, status: resp.StatusCode, body: strings.TrimSpace(string(b))}
	}
	return a, nil
}
