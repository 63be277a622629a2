package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/vippskit/vipps/vippstest"
)

// setupSim starts a simulator and the bare handler for the sim-* and
// bare-* scenarios: it reserves the payments the details scenarios walk,
// makes one flow to learn the simulator's answers, and gives those bytes to
// the bare handler.
func (l *loadRun) setupSim(ctx context.Context, hc *http.Client) ([]*scenario, error) {
	sim, err := l.startSim(ctx, "sim-bench")
	if err != nil {
		return nil, err
	}
	sink, err := l.callbackSink()
	if err != nil {
		return nil, err
	}
	v := &vippsDriver{hc: hc, sim: sim.url, base: sim.url, sink: sink, id: l.id}
	if err := v.refreshToken(ctx); err != nil {
		return nil, err
	}

	// The details scenarios walk enough reserved payments that none meets
	// Vipps' limit of 120 details a minute per orderId (which the
	// simulator keeps) below 36,000 requests/s: the simulator's clock is
	// also moved a minute on before each sim-details run.
	n := max(200, int(math.Ceil((l.f.warmup+l.f.duration).Seconds()*300)))
	v.details = make([]string, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(l.f.concurrency)
	for i := range n {
		g.Go(func() error {
			id := fmt.Sprintf("load-%s-d%d", l.id, i)
			v.details[i] = "/ecomm/v2/payments/" + id + "/details"
			if _, err := v.initiate(gctx, id); err != nil {
				return err
			}
			_, err := v.approve(gctx, id)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("reserve the payments of sim-details: %w", err)
	}

	// The simulator's answers, for the bare handler.
	var ans bareAnswers
	id := fmt.Sprintf("load-%s-probe", l.id)
	if ans.Initiate, err = v.initiate(ctx, id); err != nil {
		return nil, err
	}
	if ans.Approve, err = v.approve(ctx, id); err != nil {
		return nil, err
	}
	if ans.Capture, err = v.capture(ctx, id); err != nil {
		return nil, err
	}
	if ans.Details, err = v.get(ctx, v.details[0]); err != nil {
		return nil, err
	}
	b, err := json.Marshal(ans)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(l.dir, "bare.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, err
	}
	bare, err := l.startChild("bare", childEnv(), "load", "bare", path)
	if err != nil {
		return nil, err
	}
	if err := bare.waitURL(ctx); err != nil {
		return nil, err
	}
	bv := &vippsDriver{hc: hc, sim: sim.url, base: bare.url, id: l.id, sink: sink, details: v.details, tok: v.tok}

	pid := func(c *child) func() []int { return func() []int { return []int{c.pid()} } }
	var scs []*scenario
	add := func(name, unit string, c *child, do func(context.Context) error, before func(context.Context) error) {
		if slices.Contains(l.f.run, name) {
			scs = append(scs, &scenario{name: name, unit: unit, do: do, pids: pid(c), rest: thisProcess, children: []*child{c}, before: before})
		}
	}
	add(scSimDetails, "requests", sim, v.detailsRequest, func(ctx context.Context) error {
		if _, err := v.call(ctx, http.MethodPost, "/_sim/clock/advance", `{"duration":"61s"}`, nil); err != nil {
			return fmt.Errorf("move the simulator's clock on: %w", err)
		}
		return v.refreshToken(ctx)
	})
	add(scBareDetails, "requests", bare, bv.detailsRequest, nil)
	add(scSimFlow, "flows", sim, v.flow, v.refreshToken)
	add(scBareFlow, "flows", bare, bv.flow, nil)
	return scs, nil
}

// callbackSink serves the simulator's callbacks for the sim-* scenarios in
// this process, answering each at once, and returns its callback prefix.
func (l *loadRun) callbackSink() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	})}
	go srv.Serve(ln)
	l.onClose(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			srv.Close()
		}
		return nil
	})
	return "http://" + ln.Addr().String() + "/vipps", nil
}

// vippsDriver is a shop calling Vipps' eCom API directly, and its
// customer approving on the control API: against the simulator, or
// against the bare handler with the same requests.
type vippsDriver struct {
	hc      *http.Client
	sim     string // where the token comes from
	base    string // where the requests go
	sink    string // callback prefix
	id      string
	details []string // paths of reserved payments' details
	next    atomic.Uint64
	flows   atomic.Uint64
	tok     *atomic.Pointer[http.Header]
}

// refreshToken takes a new access token from the simulator, so that a
// long run never meets its expiry.
func (v *vippsDriver) refreshToken(ctx context.Context) error {
	m := vippstest.DefaultMerchant()
	h := http.Header{"client_id": {m.ClientID}, "client_secret": {m.ClientSecret}, "Ocp-Apim-Subscription-Key": {m.SubscriptionKey}}
	b, err := do(ctx, v.hc, http.MethodPost, v.sim+"/accesstoken/get", "", h, http.StatusOK)
	if err != nil {
		return fmt.Errorf("access token from the simulator: %w", err)
	}
	var t struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(b, &t); err != nil || t.AccessToken == "" {
		return fmt.Errorf("access token from the simulator: %s", b)
	}
	hdr := http.Header{
		"Authorization":             {"Bearer " + t.AccessToken},
		"Ocp-Apim-Subscription-Key": {m.SubscriptionKey},
		"Merchant-Serial-Number":    {string(m.MSN)},
	}
	if v.tok == nil {
		v.tok = new(atomic.Pointer[http.Header])
	}
	v.tok.Store(&hdr)
	return nil
}

// bareAnswer is one answer of the simulator, as the bare handler repeats it.
type bareAnswer struct {
	ContentType string `json:"contentType"`
	Body        []byte `json:"body"`
}

// bareAnswers are the simulator's answers the bare handler repeats.
type bareAnswers struct {
	Details, Initiate, Approve, Capture bareAnswer
}

// call sends a request with the API headers to v.base+path, and returns
// the answer of a 200.
func (v *vippsDriver) call(ctx context.Context, method, path, body string, extra http.Header) (bareAnswer, error) {
	h := http.Header{}
	for k, vs := range *v.tok.Load() {
		h[k] = vs
	}
	for k, vs := range extra {
		h[k] = vs
	}
	return send(ctx, v.hc, method, v.base+path, body, h, http.StatusOK)
}

func (v *vippsDriver) get(ctx context.Context, path string) (bareAnswer, error) {
	return v.call(ctx, http.MethodGet, path, "", nil)
}

func (v *vippsDriver) initiate(ctx context.Context, id string) (bareAnswer, error) {
	body := `{"customerInfo":{},"merchantInfo":{"merchantSerialNumber":"` + string(vippstest.DefaultMerchant().MSN) +
		`","callbackPrefix":"` + v.sink + `","fallBack":"https://shop.example/return/` + id +
		`"},"transaction":{"orderId":"` + id + `","amount":` + strconv.Itoa(loadAmount) + `,"transactionText":"vipps load"}}`
	a, err := v.call(ctx, http.MethodPost, "/ecomm/v2/payments", body, nil)
	if err != nil {
		return a, fmt.Errorf("initiate %s: %w", id, err)
	}
	return a, nil
}

func (v *vippsDriver) approve(ctx context.Context, id string) (bareAnswer, error) {
	a, err := send(ctx, v.hc, http.MethodPost, v.base+"/_sim/payments/"+id+"/approve", "", nil, http.StatusOK)
	if err != nil {
		return a, fmt.Errorf("approve %s: %w", id, err)
	}
	return a, nil
}

func (v *vippsDriver) capture(ctx context.Context, id string) (bareAnswer, error) {
	body := `{"merchantInfo":{"merchantSerialNumber":"` + string(vippstest.DefaultMerchant().MSN) +
		`"},"transaction":{"amount":` + strconv.Itoa(loadAmount) + `,"transactionText":"vipps load"}}`
	a, err := v.call(ctx, http.MethodPost, "/ecomm/v2/payments/"+id+"/capture", body, http.Header{"X-Request-Id": {"capture-" + id}})
	if err != nil {
		return a, fmt.Errorf("capture %s: %w", id, err)
	}
	return a, nil
}

// detailsRequest is one GET details of the next reserved payment.
func (v *vippsDriver) detailsRequest(ctx context.Context) error {
	path := v.details[v.next.Add(1)%uint64(len(v.details))]
	_, err := v.get(ctx, path)
	if isStatus(err, http.StatusTooManyRequests) {
		return fmt.Errorf("%w (the simulator's details rate limit, 120 a minute per orderId: use a shorter -duration)", err)
	}
	return err
}

// flow is one payment directly on Vipps' API: initiate, approve as the
// customer, capture.
func (v *vippsDriver) flow(ctx context.Context) error {
	id := fmt.Sprintf("load-%s-f%d", v.id, v.flows.Add(1))
	if _, err := v.initiate(ctx, id); err != nil {
		return err
	}
	if _, err := v.approve(ctx, id); err != nil {
		return err
	}
	_, err := v.capture(ctx, id)
	return err
}

const loadBareDoc = `
The bare handler of vipps load: a net/http server on a loopback port that
answers the simulator's requests of the sim-* scenarios with the bytes in
<answers.json>, which vipps load writes. It prints its URL and serves until
interrupted. vipps load starts it; it is of no use on its own.
`

// runLoadBare is "vipps load bare <answers.json>".
func runLoadBare(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "load bare", "<answers.json>", loadBareDoc)
	rest, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return fs.usagef("want the answers file, got %d arguments", len(rest))
	}
	b, err := os.ReadFile(rest[0])
	if err != nil {
		return fmt.Errorf("load bare: %w", err)
	}
	var ans bareAnswers
	if err := json.Unmarshal(b, &ans); err != nil {
		return fmt.Errorf("load bare: %s: %w", rest[0], err)
	}
	answer := func(a bareAnswer) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", a.ContentType)
			w.Write(a.Body)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /ecomm/v2/payments/{orderId}/details", answer(ans.Details))
	mux.Handle("POST /ecomm/v2/payments", answer(ans.Initiate))
	mux.Handle("POST /_sim/payments/{orderId}/approve", answer(ans.Approve))
	mux.Handle("POST /ecomm/v2/payments/{orderId}/capture", answer(ans.Capture))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("load bare: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(e.stdout, "bare handler listening on http://%s\n", ln.Addr())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("load bare: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("load bare: %w", err)
	}
	return nil
}
