package vippstest_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/vippstest"
)

// inject adds a fault or fails the test.
func inject(t *testing.T, srv *vippstest.Server, f vippstest.Fault) string {
	t.Helper()
	return mustInject(t, "InjectFault", srv.Sim.InjectFault, f)
}

// mustInject calls add (named name) with f and returns the fault's id, or
// fails the test.
func mustInject[F any](t *testing.T, name string, add func(F) (string, error), f F) string {
	t.Helper()
	id, err := add(f)
	if err != nil {
		t.Fatalf("%s(%+v) = %v", name, f, err)
	}
	return id
}

// opLog is what the request log says about the requests to op.
type opLog struct {
	Status    int
	Fault     vippstest.FaultKind
	RequestID string
}

func requestsTo(srv *vippstest.Server, op string) []opLog {
	var out []opLog
	for _, r := range srv.Sim.Requests() {
		if r.Op == op {
			out = append(out, opLog{r.Status, r.Fault, r.RequestID})
		}
	}
	return out
}

// captures counts the CAPTURE entries in the payment's log.
func captures(t *testing.T, c *vipps.Client, id vipps.OrderID) int {
	t.Helper()
	return countOps(details(t, c, id), vipps.OperationCapture)
}

func countOps(d *vipps.PaymentDetails, op vipps.Operation) int {
	n := 0
	for _, e := range d.TransactionLogHistory {
		if e.Operation == op {
			n++
		}
	}
	return n
}

// TestFaultCaptureRetried: the client retries a capture that failed with
// 500 with the same X-Request-Id, and Vipps captures once.
func TestFaultCaptureRetried(t *testing.T) {
	tests := []struct {
		name  string
		kind  vippstest.FaultKind
		count int
		want  []vippstest.FaultKind // faults in the request log, one per attempt
	}{
		{"server error", vippstest.FaultServerError, 1, []vippstest.FaultKind{vippstest.FaultServerError, ""}},
		{"two server errors", vippstest.FaultServerError, 2, []vippstest.FaultKind{vippstest.FaultServerError, vippstest.FaultServerError, ""}},
		{"rate limited", vippstest.FaultRateLimited, 1, []vippstest.FaultKind{vippstest.FaultRateLimited, ""}},
		{"dropped", vippstest.FaultDrop, 1, []vippstest.FaultKind{vippstest.FaultDrop, ""}},
		{"dropped after apply", vippstest.FaultDropAfterApply, 1, []vippstest.FaultKind{vippstest.FaultDropAfterApply, ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			c := srv.Client
			reserve(t, c, "retried-1", 20000)
			inject(t, srv, vippstest.Fault{Kind: tt.kind, Op: "capture", Count: tt.count})
			res, err := c.Capture(t.Context(), "retried-1", vipps.CaptureRequest{Amount: 5000, TransactionText: "shipped", RequestID: "capture-key-1"})
			if err != nil {
				t.Fatalf("Capture = %v, want success after retries", err)
			}
			if got, want := res.TransactionSummary.CapturedAmount, vipps.Amount(5000); got != want {
				t.Errorf("Capture captured %d, want %d", got, want)
			}
			if n := captures(t, c, "retried-1"); n != 1 {
				t.Errorf("details has %d CAPTURE entries, want 1", n)
			}
			var got []vippstest.FaultKind
			for _, r := range requestsTo(srv, "capture") {
				if r.RequestID != "capture-key-1" {
					t.Errorf("an attempt had X-Request-Id %q, want capture-key-1 on every attempt", r.RequestID)
				}
				got = append(got, r.Fault)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("faults per attempt (-want +got):\n%s", diff)
			}
			if f := srv.Sim.Faults(); len(f) != 0 {
				t.Errorf("Faults() = %+v, want none left", f)
			}
		})
	}
}

// TestFaultTimeoutAfterCommit is "Vipps timed out after committing": the
// capture is made, the client never hears of it, and a retry with the same
// RequestID gets the first answer without capturing twice.
func TestFaultTimeoutAfterCommit(t *testing.T) {
	tests := []struct {
		name string
		// client makes the client; call makes the capture.
		client   func(srv *vippstest.Server) *vipps.Client
		ctx      func(t *testing.T) (context.Context, context.CancelFunc)
		wantErr  bool // the first call fails with ErrOutcomeUnknown
		attempts int  // capture requests the simulator sees in the first call
	}{
		{
			name:   "the caller's deadline ends the call",
			client: func(srv *vippstest.Server) *vipps.Client { return srv.Client },
			ctx: func(t *testing.T) (context.Context, context.CancelFunc) {
				return context.WithTimeout(t.Context(), 100*time.Millisecond)
			},
			wantErr:  true,
			attempts: 1,
		},
		{
			name: "the per-attempt timeout makes the client retry",
			client: func(srv *vippstest.Server) *vipps.Client {
				return srv.NewClient(srv.Merchant, func(c *vipps.Config) {
					c.HTTPClient = &http.Client{Timeout: 100 * time.Millisecond, Transport: vippstest.LoopbackClient().Transport}
				})
			},
			ctx:      func(t *testing.T) (context.Context, context.CancelFunc) { return context.WithCancel(t.Context()) },
			attempts: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			c := tt.client(srv)
			const id = "committed-1"
			reserve(t, c, id, 20000)
			inject(t, srv, vippstest.Fault{Kind: vippstest.FaultTimeoutAfterApply, Op: "capture", OrderID: id, Count: 1})
			req := vipps.CaptureRequest{Amount: 5000, TransactionText: "shipped", RequestID: "commit-key"}

			ctx, cancel := tt.ctx(t)
			first, err := c.Capture(ctx, id, req)
			cancel()
			if tt.wantErr {
				if !errors.Is(err, vipps.ErrOutcomeUnknown) {
					t.Fatalf("Capture = %v, want ErrOutcomeUnknown", err)
				}
			} else if err != nil {
				t.Fatalf("Capture = %v, want success on the retry", err)
			}
			if n := len(requestsTo(srv, "capture")); n != tt.attempts {
				t.Errorf("the simulator saw %d capture requests, want %d", n, tt.attempts)
			}
			d := details(t, c, id)
			if countOps(d, vipps.OperationCapture) != 1 || d.TransactionSummary.CapturedAmount != 5000 {
				t.Fatalf("details after the timeout = %+v, want the capture of 5000 made once", d)
			}

			again, err := c.Capture(t.Context(), id, req)
			if err != nil {
				t.Fatalf("Capture again with the same RequestID = %v", err)
			}
			if first != nil && !cmp.Equal(first, again, timeEqual) {
				t.Errorf("the retry's answer differs from the first:\n%s", cmp.Diff(first, again, timeEqual))
			}
			if again.TransactionSummary.CapturedAmount != 5000 || captures(t, c, id) != 1 {
				t.Errorf("after the retry: %+v, %d captures; want 5000 captured once", again.TransactionSummary, captures(t, c, id))
			}
			log := requestsTo(srv, "capture")
			if log[0].Status != 0 || log[0].Fault != vippstest.FaultTimeoutAfterApply {
				t.Errorf("request log for the timed-out attempt = %+v, want status 0 and the fault", log[0])
			}
		})
	}
}

// TestFaultInitiate checks what the client's documentation promises for
// initiate: when the outcome is unknown the error wraps ErrOutcomeUnknown,
// and Details tells whether the payment exists.
func TestFaultInitiate(t *testing.T) {
	tests := []struct {
		name    string
		fault   vippstest.Fault
		unknown bool // the error wraps ErrOutcomeUnknown
		exists  bool // the payment exists afterwards
	}{
		{"server error", vippstest.Fault{Kind: vippstest.FaultServerError}, true, false},
		{"timeout", vippstest.Fault{Kind: vippstest.FaultTimeout, Delay: 20 * time.Millisecond}, true, false},
		{"drop", vippstest.Fault{Kind: vippstest.FaultDrop}, true, false},
		{"timeout after apply", vippstest.Fault{Kind: vippstest.FaultTimeoutAfterApply, Delay: 20 * time.Millisecond}, true, true},
		{"drop after apply", vippstest.Fault{Kind: vippstest.FaultDropAfterApply}, true, true},
		{"rate limited (retried)", vippstest.Fault{Kind: vippstest.FaultRateLimited}, false, true},
		{"delay", vippstest.Fault{Kind: vippstest.FaultDelay, Delay: 20 * time.Millisecond}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			c := srv.Client
			const id = "unknown-1"
			f := tt.fault
			f.Op, f.OrderID, f.Count = "initiate", id, 1
			inject(t, srv, f)
			_, err := c.Initiate(t.Context(), regular(id, 20000))
			if got := errors.Is(err, vipps.ErrOutcomeUnknown); got != tt.unknown {
				t.Errorf("Initiate = %v; wraps ErrOutcomeUnknown = %v, want %v", err, got, tt.unknown)
			}
			if !tt.unknown && err != nil {
				t.Errorf("Initiate = %v, want success", err)
			}
			_, err = c.Details(t.Context(), id)
			if tt.exists && err != nil {
				t.Errorf("Details = %v, want the payment", err)
			}
			if e, ok := errors.AsType[*vipps.Error](err); !tt.exists && (!ok || !e.NotFound()) {
				t.Errorf("Details = %v, want Merchant 35 (the payment does not exist)", err)
			}
		})
	}
}

// TestFaultMatching checks that faults hit only what they name, Count
// times.
func TestFaultMatching(t *testing.T) {
	srv := newServer(t, merchants(vippstest.DefaultMerchant(), directMerchant))
	a := srv.NewClient(srv.Merchant, noRetry)
	b := srv.NewClient(directMerchant, noRetry)
	for _, c := range []*vipps.Client{a, b} {
		reserve(t, c, "match-1", 20000)
		reserve(t, c, "match-2", 20000)
	}
	tests := []struct {
		name  string
		fault vippstest.Fault
		// hit lists, in order, which calls the fault hits: each call is
		// details of (client, order).
		calls []call
	}{
		{"by order", vippstest.Fault{OrderID: "match-1"}, []call{
			{a, "match-1", true}, {a, "match-2", false}, {b, "match-1", true}, {a, "match-1", true},
		}},
		{"by op", vippstest.Fault{Op: "status"}, []call{
			{a, "match-1", false}, {b, "match-2", false},
		}},
		{"by merchant", vippstest.Fault{MSN: directMerchant.MSN}, []call{
			{a, "match-1", false}, {b, "match-1", true}, {b, "match-2", true},
		}},
		{"by order and merchant", vippstest.Fault{OrderID: "match-2", MSN: directMerchant.MSN}, []call{
			{a, "match-2", false}, {b, "match-1", false}, {b, "match-2", true},
		}},
		{"count 2", vippstest.Fault{Op: "details", Count: 2}, []call{
			{a, "match-1", true}, {b, "match-2", true}, {a, "match-1", false}, {b, "match-2", false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Cleanup(srv.Sim.ClearFaults)
			f := tt.fault
			f.Kind = vippstest.FaultServerError
			inject(t, srv, f)
			hits := 0
			for i, cl := range tt.calls {
				_, err := cl.c.Details(t.Context(), cl.order)
				e, _ := errors.AsType[*vipps.Error](err)
				got := e != nil && e.StatusCode == http.StatusInternalServerError
				if got != cl.hit {
					t.Errorf("call %d: details of %s by MSN %s = %v, want hit by the fault = %v", i+1, cl.order, cl.c.MerchantSerialNumber(), err, cl.hit)
				}
				if got {
					hits++
					wantVippsError(t, "the faulted call", err, http.StatusInternalServerError, vipps.GroupVippsError, vipps.CodeInternal)
				}
			}
			if f.Count == 0 {
				if fs := srv.Sim.Faults(); len(fs) != 1 || fs[0].Hits != hits {
					t.Errorf("Faults() = %+v, want the fault with %d hits", fs, hits)
				}
			} else if fs := srv.Sim.Faults(); len(fs) != 0 {
				t.Errorf("Faults() = %+v, want none once the count is used up", fs)
			}
		})
	}
}

type call struct {
	c     *vipps.Client
	order vipps.OrderID
	hit   bool
}

// TestFaultDelay checks the delay fault, and that a client giving up
// during the delay leaves the payment unchanged.
func TestFaultDelay(t *testing.T) {
	t.Run("slow but handled", func(t *testing.T) {
		srv := newServer(t)
		reserve(t, srv.Client, "slow-1", 20000)
		inject(t, srv, vippstest.Fault{Kind: vippstest.FaultDelay, Op: "capture", Delay: 50 * time.Millisecond, Count: 1})
		start := time.Now()
		capture(t, srv.Client, "slow-1", 1000)
		if took := time.Since(start); took < 50*time.Millisecond {
			t.Errorf("Capture took %v, want at least the delay of 50ms", took)
		}
	})

	t.Run("the client gives up during the delay", func(t *testing.T) {
		srv := newServer(t)
		reserve(t, srv.Client, "slow-2", 20000)
		inject(t, srv, vippstest.Fault{Kind: vippstest.FaultDelay, Op: "capture", Delay: time.Minute, Count: 1})
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
		defer cancel()
		_, err := srv.Client.Capture(ctx, "slow-2", vipps.CaptureRequest{Amount: 1000, TransactionText: "x"})
		if !errors.Is(err, vipps.ErrOutcomeUnknown) {
			t.Errorf("Capture = %v, want ErrOutcomeUnknown", err)
		}
		waitFor(t, "the abandoned request in the log", func() bool { return len(requestsTo(srv, "capture")) == 1 })
		if n := captures(t, srv.Client, "slow-2"); n != 0 {
			t.Errorf("details has %d captures, want 0: an abandoned request is not handled", n)
		}
		if got := requestsTo(srv, "capture")[0]; got.Status != 0 || got.Fault != vippstest.FaultDelay {
			t.Errorf("request log = %+v, want status 0 and the delay fault", got)
		}
	})
}

// waitFor polls cond for up to two seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestFaultTimeoutEndsOnClose checks that a held request ends when the
// simulator closes, even if its client would wait for ever.
func TestFaultTimeoutEndsOnClose(t *testing.T) {
	srv := newServer(t)
	reserve(t, srv.Client, "held-1", 20000)
	inject(t, srv, vippstest.Fault{Kind: vippstest.FaultTimeout, Op: "details"})
	done := make(chan error, 1)
	go func() {
		_, err := srv.Client.Details(context.Background(), "held-1")
		done <- err
	}()
	waitFor(t, "the held request", func() bool { return len(requestsTo(srv, "details")) > 0 })
	srv.Sim.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("Details = nil error, want the dropped connection")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Details still waits after Close")
	}
}

// TestFaultRateLimitedRetryAfter: the client waits the Retry-After of a
// 429 before it tries again.
func TestFaultRateLimitedRetryAfter(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	reserve(t, srv.Client, "wait-1", 20000)
	inject(t, srv, vippstest.Fault{Kind: vippstest.FaultRateLimited, Op: "capture", RetryAfter: time.Second, Count: 1})
	start := time.Now()
	capture(t, srv.Client, "wait-1", 1000)
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("Capture returned after %v, want a wait of at least the Retry-After of 1s", waited)
	}
}

// TestFaultShapes checks the answers of the faults that answer.
func TestFaultShapes(t *testing.T) {
	srv := newServer(t)
	r := newRaw(t, srv)
	tests := []struct {
		name       string
		fault      vippstest.Fault
		method     string
		path       string
		status     int
		retryAfter string
		check      func(t *testing.T, body []byte)
	}{
		{"server error", vippstest.Fault{Kind: vippstest.FaultServerError}, "GET", "/ecomm/v2/payments/shape-1/details", 500, "", func(t *testing.T, body []byte) {
			ds := errorArray(t, body)
			if ds[0].Group != vipps.GroupVippsError || ds[0].Code != vipps.CodeInternal || ds[0].ContextID == "" {
				t.Errorf("body %s, want VippsError 99 with a contextId", body)
			}
		}},
		{"server error in Order Management", vippstest.Fault{Kind: vippstest.FaultServerError}, "GET", "/order-management/v2/ecom/shape-1", 500, "", func(t *testing.T, body []byte) {
			if !strings.Contains(string(body), `"title":"Internal Server Error"`) {
				t.Errorf("body %s, want a problem document", body)
			}
		}},
		{"rate limited", vippstest.Fault{Kind: vippstest.FaultRateLimited, RetryAfter: 1500 * time.Millisecond}, "GET", "/ecomm/v2/payments/shape-1/details", 429, "2", func(t *testing.T, body []byte) {
			if want := `{"statusCode":429,"message":"Rate limit is exceeded. Try again in 2 seconds."}`; string(body) != want {
				t.Errorf("body %s, want %s", body, want)
			}
		}},
		{"rate limited, retry at once", vippstest.Fault{Kind: vippstest.FaultRateLimited}, "GET", "/ecomm/v2/payments/shape-1/details", 429, "0", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Cleanup(srv.Sim.ClearFaults)
			f := tt.fault
			f.Count = 1
			inject(t, srv, f)
			status, header, body := r.doHeader(tt.method, tt.path)
			if status != tt.status || header.Get("Retry-After") != tt.retryAfter {
				t.Errorf("%s %s = %d, Retry-After %q; want %d, %q", tt.method, tt.path, status, header.Get("Retry-After"), tt.status, tt.retryAfter)
			}
			if tt.check != nil {
				tt.check(t, body)
			}
		})
	}
}

// doHeader is do with the answer's header.
func (r *raw) doHeader(method, path string) (int, http.Header, []byte) {
	r.t.Helper()
	resp, body := r.send(method, path, "")
	return resp.StatusCode, resp.Header, body
}

// TestFaultNotOnControlAPI: a fault that matches everything leaves the
// control API and the landing page alone.
func TestFaultNotOnControlAPI(t *testing.T) {
	srv := newServer(t)
	res := initiate(t, srv.Client, regular("spared-1", 20000))
	inject(t, srv, vippstest.Fault{Kind: vippstest.FaultServerError})
	if status := control(t, srv, "GET", "/_sim/payments/spared-1", "", nil); status != http.StatusOK {
		t.Errorf("GET /_sim/payments/spared-1 = %d, want 200", status)
	}
	resp, err := http.Get(res.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("landing page = %d, want 200", resp.StatusCode)
	}
	if _, err := srv.Client.Details(t.Context(), "spared-1"); err == nil {
		t.Errorf("Details = nil error, want the fault's 500")
	}
	if _, err := srv.Sim.InjectFault(vippstest.Fault{Kind: vippstest.FaultServerError, Op: "landing"}); err == nil {
		t.Errorf("InjectFault with op landing = nil error, want a refusal")
	}
}

func TestInjectFaultInvalid(t *testing.T) {
	srv := newServer(t)
	tests := []struct {
		name  string
		fault vippstest.Fault
		want  string
	}{
		{"no kind", vippstest.Fault{}, "kind"},
		{"unknown kind", vippstest.Fault{Kind: "explode"}, "kind"},
		{"unknown op", vippstest.Fault{Kind: vippstest.FaultDrop, Op: "captur"}, "op"},
		{"negative count", vippstest.Fault{Kind: vippstest.FaultDrop, Count: -1}, "negative"},
		{"negative delay", vippstest.Fault{Kind: vippstest.FaultTimeout, Delay: -time.Second}, "negative"},
		{"delay without a delay", vippstest.Fault{Kind: vippstest.FaultDelay}, "needs a delay"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := srv.Sim.InjectFault(tt.fault); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("InjectFault(%+v) = %v, want an error about %s", tt.fault, err, tt.want)
			}
		})
	}
	if fs := srv.Sim.Faults(); len(fs) != 0 {
		t.Errorf("Faults() = %+v after refusals, want none", fs)
	}
}

// TestFaultsGoAPI covers listing and removing faults.
func TestFaultsGoAPI(t *testing.T) {
	srv := newServer(t)
	f1 := inject(t, srv, vippstest.Fault{Kind: vippstest.FaultServerError, Op: "capture", Count: 3})
	f2 := inject(t, srv, vippstest.Fault{Kind: vippstest.FaultTimeout, OrderID: "x-1", Delay: time.Second})
	if f1 == f2 || f1 == "" {
		t.Fatalf("InjectFault ids %q and %q, want two different ids", f1, f2)
	}
	want := []vippstest.Fault{
		{ID: f1, Kind: vippstest.FaultServerError, Op: "capture", Count: 3},
		{ID: f2, Kind: vippstest.FaultTimeout, OrderID: "x-1", Delay: time.Second},
	}
	if diff := cmp.Diff(want, srv.Sim.Faults()); diff != "" {
		t.Errorf("Faults() (-want +got):\n%s", diff)
	}
	if !srv.Sim.RemoveFault(f1) || srv.Sim.RemoveFault(f1) {
		t.Errorf("RemoveFault(%s) twice: want true, then false", f1)
	}
	if diff := cmp.Diff(want[1:], srv.Sim.Faults()); diff != "" {
		t.Errorf("Faults() after RemoveFault (-want +got):\n%s", diff)
	}
	srv.Sim.ClearFaults()
	if fs := srv.Sim.Faults(); len(fs) != 0 {
		t.Errorf("Faults() after ClearFaults = %+v", fs)
	}
}

func TestFaultControlAPI(t *testing.T) {
	srv := newServer(t)
	reserve(t, srv.Client, "ctl-fault-1", 20000)

	var f vippstest.Fault
	if status := control(t, srv, "POST", "/_sim/faults", `{"kind":"server-error","op":"capture","orderId":"ctl-fault-1","count":2}`, &f); status != http.StatusCreated {
		t.Fatalf("POST /_sim/faults = %d", status)
	}
	want := vippstest.Fault{ID: f.ID, Kind: vippstest.FaultServerError, Op: "capture", OrderID: "ctl-fault-1", Count: 2}
	if f.ID == "" || f != want {
		t.Errorf("POST /_sim/faults = %+v, want %+v with an id", f, want)
	}
	var timeout vippstest.Fault
	if status := control(t, srv, "POST", "/_sim/faults", `{"kind":"timeout","op":"details","delay":"1.5s"}`, &timeout); status != http.StatusCreated || timeout.Delay != 1500*time.Millisecond {
		t.Errorf("POST a timeout fault = %d %+v, want 201 with delay 1.5s", status, timeout)
	}

	c := srv.NewClient(srv.Merchant, noRetry)
	_, err := c.Capture(t.Context(), "ctl-fault-1", vipps.CaptureRequest{TransactionText: "x"})
	wantVippsError(t, "Capture under the fault", err, http.StatusInternalServerError, vipps.GroupVippsError, vipps.CodeInternal)

	var list []vippstest.Fault
	control(t, srv, "GET", "/_sim/faults", "", &list)
	if len(list) != 2 || list[0].Hits != 1 || list[1].ID != timeout.ID {
		t.Errorf("GET /_sim/faults = %+v, want both faults, the first with one hit", list)
	}
	var raw []map[string]any
	control(t, srv, "GET", "/_sim/faults", "", &raw)
	if got := raw[1]["delay"]; got != "1.5s" {
		t.Errorf("GET /_sim/faults delay = %#v, want \"1.5s\"", got)
	}

	var e struct{ Error string }
	for _, bad := range []string{
		`{"kind":"explode"}`,
		`{"kind":"drop","op":"nothing"}`,
		`{"kind":"delay"}`,
		`{"kind":"drop","colour":"red"}`,
		`{"kind":"timeout","delay":5}`,
		`{"kind":"timeout","delay":"soon"}`,
		`not json`,
	} {
		if status := control(t, srv, "POST", "/_sim/faults", bad, &e); status != http.StatusBadRequest || e.Error == "" {
			t.Errorf("POST /_sim/faults %s = %d %+v, want 400 with an error", bad, status, e)
		}
	}

	if status := control(t, srv, "DELETE", "/_sim/faults/"+f.ID, "", nil); status != http.StatusNoContent {
		t.Errorf("DELETE /_sim/faults/%s = %d, want 204", f.ID, status)
	}
	if status := control(t, srv, "DELETE", "/_sim/faults/"+f.ID, "", &e); status != http.StatusNotFound {
		t.Errorf("DELETE /_sim/faults/%s again = %d, want 404", f.ID, status)
	}
	if _, err := c.Capture(t.Context(), "ctl-fault-1", vipps.CaptureRequest{TransactionText: "x"}); err != nil {
		t.Errorf("Capture after DELETE = %v, want success", err)
	}
	if status := control(t, srv, "DELETE", "/_sim/faults", "", nil); status != http.StatusNoContent {
		t.Errorf("DELETE /_sim/faults = %d, want 204", status)
	}
	list = nil
	control(t, srv, "GET", "/_sim/faults", "", &list)
	if list == nil || len(list) != 0 {
		t.Errorf("GET /_sim/faults after DELETE = %v, want []", list)
	}

	// The request log names the fault.
	var reqs []vippstest.Request
	control(t, srv, "GET", "/_sim/requests", "", &reqs)
	i := slices.IndexFunc(reqs, func(r vippstest.Request) bool { return r.FaultID == f.ID })
	if i < 0 || reqs[i].Fault != vippstest.FaultServerError || reqs[i].Status != 500 || reqs[i].OrderID != "ctl-fault-1" {
		t.Errorf("GET /_sim/requests has no 500 entry naming fault %s: %+v", f.ID, reqs)
	}

	// Rate-limit counters can be reset.
	for range 2 {
		c.Initiate(t.Context(), regular("ctl-reset-1", 20000))
	}
	_, err = c.Initiate(t.Context(), regular("ctl-reset-1", 20000))
	rateLimited(t, "third initiate", err, time.Minute)
	if status := control(t, srv, "DELETE", "/_sim/rate-limits", "", nil); status != http.StatusNoContent {
		t.Errorf("DELETE /_sim/rate-limits = %d, want 204", status)
	}
	_, err = c.Initiate(t.Context(), regular("ctl-reset-1", 20000))
	notRateLimited(t, "initiate after DELETE /_sim/rate-limits", err)
}
