package vippstest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/vippstest"
)

// scrape fetches base/metrics and parses the text format.
func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics = %d, want 200", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// sample is one series: its name with labels in a fixed order, as in
// `name{a="1",b="2"}`, and its value (a histogram's count).
func samples(fams map[string]*dto.MetricFamily, prefix string) map[string]float64 {
	out := map[string]float64{}
	for name, f := range fams {
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			slices.Sort(labels)
			key := name + "{" + strings.Join(labels, ",") + "}"
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				out[key] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[key] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[key+"_count"] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

func TestMetrics(t *testing.T) {
	var sink callbackSink
	sink.answer = func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "acme-2") {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}
	prefix := sink.start(t)
	srv := newServer(t)
	c := srv.Client

	for _, id := range []vipps.OrderID{"acme-1", "acme-2", "acme-3"} {
		req := regular(id, 10000)
		req.MerchantInfo.CallbackPrefix = prefix
		initiate(t, c, req)
	}
	approveHook(t, srv, "acme-1")            // delivered
	approveHook(t, srv, "acme-2")            // the merchant answers 500
	initiate(t, c, regular("acme-4", 10000)) // shop.example: not loopback
	approveHook(t, srv, "acme-4")            // failed
	capture(t, c, "acme-1", 4000)            // CAPTURE
	if _, err := c.Details(t.Context(), "acme-404"); err == nil {
		t.Fatal("Details(acme-404) = nil error, want 404")
	}
	for _, path := range []string{"/no/such/path", "/_sim/clock"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	srv.Sim.WaitCallbacks()

	want := map[string]float64{
		`vippstest_requests_total{code="200",op="accesstoken"}`:            1,
		`vippstest_requests_total{code="200",op="initiate"}`:               4,
		`vippstest_requests_total{code="200",op="capture"}`:                1,
		`vippstest_requests_total{code="404",op="details"}`:                1,
		`vippstest_requests_total{code="404",op="unknown"}`:                1,
		`vippstest_requests_total{code="200",op="control"}`:                1,
		`vippstest_request_duration_seconds{op="accesstoken"}_count`:       1,
		`vippstest_request_duration_seconds{op="initiate"}_count`:          4,
		`vippstest_request_duration_seconds{op="capture"}_count`:           1,
		`vippstest_request_duration_seconds{op="details"}_count`:           1,
		`vippstest_request_duration_seconds{op="unknown"}_count`:           1,
		`vippstest_request_duration_seconds{op="control"}_count`:           1,
		`vippstest_payments{msn="123456",status="CAPTURE"}`:                1,
		`vippstest_payments{msn="123456",status="RESERVE"}`:                2,
		`vippstest_payments{msn="123456",status="INITIATE"}`:               1,
		`vippstest_tokens_issued_total{msn="123456"}`:                      1,
		`vippstest_tokens_active{msn="123456"}`:                            1,
		`vippstest_callbacks_total{outcome="delivered",status="RESERVED"}`: 1,
		`vippstest_callbacks_total{outcome="rejected",status="RESERVED"}`:  1,
		`vippstest_callbacks_total{outcome="failed",status="RESERVED"}`:    1,
	}
	// Scraping twice shows that scrapes count for nothing.
	for i := range 2 {
		got := samples(scrape(t, srv.URL), "vippstest_")
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("scrape %d: metrics (-want +got):\n%s", i+1, diff)
		}
	}
	for _, r := range srv.Sim.Requests() {
		if r.Path == "/metrics" {
			t.Errorf("Requests() has %s %s; /metrics must not be recorded", r.Method, r.Path)
		}
	}

	// After Close, a callback is not sent, and counted as such.
	if err := srv.Sim.Close(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Sim.Reject("acme-3"); err != nil {
		t.Fatal(err)
	}
	got := samples(scrape(t, srv.URL), "vippstest_callbacks_total")
	if n := got[`vippstest_callbacks_total{outcome="not_sent",status="CANCELLED"}`]; n != 1 {
		t.Errorf("callbacks after Close: %v, want one not_sent CANCELLED", got)
	}
}

// TestMetricsPerSimulator runs two simulators in one process: each counts
// its own requests, and neither touches the global registry.
func TestMetricsPerSimulator(t *testing.T) {
	a, b := newServer(t), newServer(t)
	initiate(t, a.Client, regular("acme-1", 10000))
	initiate(t, a.Client, regular("acme-2", 10000))
	initiate(t, b.Client, regular("acme-1", 10000))

	for _, tt := range []struct {
		name string
		srv  *vippstest.Server
		want float64
	}{{"a", a, 2}, {"b", b, 1}} {
		t.Run(tt.name, func(t *testing.T) {
			got := samples(scrape(t, tt.srv.URL), "vippstest_requests_total")
			if n := got[`vippstest_requests_total{code="200",op="initiate"}`]; n != tt.want {
				t.Errorf("initiate count = %v, want %v (all: %v)", n, tt.want, got)
			}
			fams, err := tt.srv.Sim.Metrics().Gather()
			if err != nil {
				t.Fatalf("Metrics().Gather() = %v", err)
			}
			if !slices.ContainsFunc(fams, func(f *dto.MetricFamily) bool { return f.GetName() == "vippstest_requests_total" }) {
				t.Errorf("Metrics().Gather() lacks vippstest_requests_total")
			}
		})
	}

	global, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range global {
		if strings.HasPrefix(f.GetName(), "vippstest_") {
			t.Errorf("the default registry has %s; simulators must use their own", f.GetName())
		}
	}

	// A third one made with New, in the same process, registers fine.
	sim, err := vippstest.New(vippstest.Config{})
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	defer sim.Close()
	sim.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/_sim/clock", nil))
	rec := httptest.NewRecorder()
	sim.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "# TYPE vippstest_requests_total counter") {
		t.Errorf("GET /metrics = %d %.200s", rec.Code, rec.Body)
	}
}

// TestMetricsFaults checks how injected faults count: with the status
// answered, and code "0" when no answer was sent.
func TestMetricsFaults(t *testing.T) {
	srv := newServer(t)
	r := newRaw(t, srv)
	for _, f := range []vippstest.Fault{
		{Kind: vippstest.FaultServerError, Op: "details", Count: 1},
		{Kind: vippstest.FaultDrop, Op: "details", Count: 1},
	} {
		if _, err := srv.Sim.InjectFault(f); err != nil {
			t.Fatalf("InjectFault(%+v) = %v", f, err)
		}
	}
	if status, body := r.do("GET", "/ecomm/v2/payments/acme-1/details", ""); status != http.StatusInternalServerError {
		t.Fatalf("details with a server-error fault = %d %s", status, body)
	}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL+"/ecomm/v2/payments/acme-1/details", nil)
	req.Header.Set("Authorization", "Bearer "+r.token)
	req.Header.Set("Ocp-Apim-Subscription-Key", srv.Merchant.SubscriptionKey)
	// A client of its own: net/http retries a GET whose reused connection
	// drops.
	fresh := &http.Client{Transport: &http.Transport{}}
	defer fresh.CloseIdleConnections()
	if resp, err := fresh.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("details with a drop fault = %d, want no answer", resp.StatusCode)
	}
	got := samples(scrape(t, srv.URL), "vippstest_requests_total")
	want := map[string]float64{
		`vippstest_requests_total{code="200",op="accesstoken"}`: 1,
		`vippstest_requests_total{code="500",op="details"}`:     1,
		`vippstest_requests_total{code="0",op="details"}`:       1,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
}
