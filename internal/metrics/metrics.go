// Package metrics holds the payment service's Prometheus metrics: payments
// by state and tasks by status (read from the store at scrape time), Vipps
// calls by endpoint (latency and outcome, from the client's transport),
// requests to the service by route group (callbacks among them), webhook and
// receipt deliveries, and polls.
package metrics

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vippskit/vipps/internal/payment"
)

// StatsReader counts payments and tasks; payment.Store is one.
type StatsReader interface {
	Stats(ctx context.Context) (payment.Stats, error)
}

// Config configures [New]. Stats is required.
type Config struct {
	// Stats is read at every scrape.
	Stats StatsReader
	// CallbackPath is where Vipps' callbacks are served (route group
	// "callback"); "" means payment.DefaultCallbackPath.
	CallbackPath string
}

// Metrics is one service's registry and instruments.
type Metrics struct {
	callbackPath  string
	reg           *prometheus.Registry
	vippsRequests *prometheus.CounterVec
	vippsDuration *prometheus.HistogramVec
	httpRequests  *prometheus.CounterVec
	tasks         *prometheus.CounterVec
	polls         *prometheus.CounterVec
}

// New returns the metrics of a service.
func New(cfg Config) *Metrics {
	m := &Metrics{
		callbackPath: cmp.Or(cfg.CallbackPath, payment.DefaultCallbackPath),
		reg:          prometheus.NewRegistry(),
		vippsRequests: counter("vippskit_vipps_requests_total",
			"Requests to Vipps by endpoint and HTTP status (\"error\" when no answer came).", "endpoint", "code"),
		vippsDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "vippskit_vipps_request_duration_seconds",
			Help:    "Latency of requests to Vipps by endpoint.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"endpoint"}),
		httpRequests: counter("vippskit_http_requests_total",
			"Requests to the service by route group (api, callback, return, admin, shop, other) and status.", "route", "code"),
		tasks: counter("vippskit_task_attempts_total", "Attempts of the outbox's tasks (webhooks, receipts, releases of superseded payments, consent checks) by kind and outcome (ok, error, database_unavailable).", "kind", "outcome"),
		polls: counter("vippskit_polls_total", "Payment checks by the poller by outcome (ok, error, database_unavailable).", "outcome"),
	}
	m.reg.MustRegister(m.vippsRequests, m.vippsDuration, m.httpRequests, m.tasks, m.polls,
		&stats{st: cfg.Stats}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// counter is a counter vector named name, with help and labels.
func counter(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
}

// Handler serves the metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Transport instruments the HTTP transport of the vipps client.
func (m *Metrics) Transport(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		ep := Endpoint(r.Method, r.URL.Path)
		start := time.Now()
		resp, err := rt.RoundTrip(r)
		m.vippsDuration.WithLabelValues(ep).Observe(time.Since(start).Seconds())
		code := "error"
		if err == nil {
			code = strconv.Itoa(resp.StatusCode)
		}
		m.vippsRequests.WithLabelValues(ep, code).Inc()
		return resp, err
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Endpoint names a Vipps API path for the endpoint label.
func Endpoint(method, path string) string {
	p := strings.Trim(path, "/")
	switch {
	case strings.HasPrefix(strings.ToLower(p), "accesstoken"):
		return "token"
	case p == "ecomm/v2/payments" && method == http.MethodPost:
		return "initiate"
	case strings.HasPrefix(p, "ecomm/v2/payments/"):
		parts := strings.Split(p, "/")
		switch last := parts[len(parts)-1]; last {
		case "capture", "refund", "cancel", "details", "status":
			if len(parts) == 5 {
				return last
			}
		}
	case strings.HasPrefix(p, "order-management/"):
		switch {
		case strings.Contains(p, "/categories/"):
			return "om_category"
		case strings.Contains(p, "/receipts/"):
			return "om_receipt"
		case strings.Contains(p, "/images"):
			return "om_image"
		}
		return "om_order"
	}
	return "other"
}

// Middleware counts requests to the service by route group.
func (m *Metrics) Middleware(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(rec, r)
		m.httpRequests.WithLabelValues(routeGroup(m.callbackPath, r.URL.Path), strconv.Itoa(rec.code)).Inc()
	})
}

func routeGroup(callbackPath, path string) string {
	switch {
	case strings.HasPrefix(path, callbackPath+"/"):
		return "callback"
	case strings.HasPrefix(path, "/api/"):
		return "api"
	case strings.HasPrefix(path, "/return/"):
		return "return"
	case strings.HasPrefix(path, "/admin/"):
		return "admin"
	case path == "/" || strings.HasPrefix(path, "/shop/"):
		return "shop"
	}
	return "other"
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// TaskAttempt counts a delivery attempt (poller.OutboxConfig.Observe).
func (m *Metrics) TaskAttempt(kind payment.TaskKind, err error) {
	m.tasks.WithLabelValues(string(kind), outcome(err)).Inc()
}

// Poll counts a payment check (poller.Config.Observe).
func (m *Metrics) Poll(err error) { m.polls.WithLabelValues(outcome(err)).Inc() }

// outcome is a poll's or task attempt's outcome label: "ok", "error", or
// "database_unavailable" when the database could not be used (a full
// disk, a restart, a lost connection: payment.ErrUnavailable), so that an
// alert can tell the database's trouble from Vipps' or a shop's.
func outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, payment.ErrUnavailable):
		return "database_unavailable"
	}
	return "error"
}

// stats reads the counts at scrape time.
type stats struct{ st StatsReader }

var (
	paymentsDesc = prometheus.NewDesc("vippskit_payments", "Payments by state.", []string{"state"}, nil)
	tasksDesc    = prometheus.NewDesc("vippskit_tasks", "The outbox's tasks (webhooks, receipts, releases of superseded payments, consent checks) by kind and status.", []string{"kind", "status"}, nil)
)

func (s *stats) Describe(ch chan<- *prometheus.Desc) {
	ch <- paymentsDesc
	ch <- tasksDesc
}

func (s *stats) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := s.st.Stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(paymentsDesc, err)
		return
	}
	for _, state := range payment.States() {
		ch <- prometheus.MustNewConstMetric(paymentsDesc, prometheus.GaugeValue, float64(st.Payments[state]), string(state))
	}
	for kind, byStatus := range st.Tasks {
		for status, n := range byStatus {
			ch <- prometheus.MustNewConstMetric(tasksDesc, prometheus.GaugeValue, float64(n), string(kind), string(status))
		}
	}
}
