package vippstest

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/vippskit/vipps"
)

// metrics are the simulator's Prometheus metrics. They live on a registry
// of the simulator's own, never the global default one, so that several
// simulators in one process keep apart. The metric names are listed in
// DESIGN.md ("Metrics").
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	callbacks *prometheus.CounterVec
	tokens    *prometheus.CounterVec
	snapshots *prometheus.CounterVec
}

// durationBuckets suit a simulator: most answers take well under a
// millisecond; injected delays and slow disks (snapshots) take longer.
var durationBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

func newMetrics(s *Simulator) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vippstest_requests_total",
			Help: "Requests the simulator answered, by op (the endpoint, as in the request log; \"control\" for the control API, \"unknown\" for unknown paths) and HTTP status code.",
		}, []string{"op", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "vippstest_request_duration_seconds",
			Help:    "Time the simulator took to answer a request, in real time, by op.",
			Buckets: durationBuckets,
		}, []string{"op"}),
		callbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vippstest_callbacks_total",
			Help: "Transaction callbacks to merchants, by callback status (RESERVED, CANCELLED, ...) and outcome: delivered (2xx), rejected (another HTTP status), failed (no answer: refused, timed out), not_sent (the simulator was closed).",
		}, []string{"status", "outcome"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vippstest_tokens_issued_total",
			Help: "Access tokens issued, by merchant serial number.",
		}, []string{"msn"}),
		snapshots: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vippstest_snapshot_writes_total",
			Help: "Writes of the snapshot file, by result (ok, error). Only when Config.SnapshotPath is set.",
		}, []string{"result"}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.callbacks, m.tokens, m.snapshots, stateCollector{s})
	return m
}

// handler serves the registry in the Prometheus text format. It is routed
// around [Simulator.handle]: scrapes are neither recorded nor counted.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// request counts one answered request. Control API and unknown-path
// requests have no op; record tells them apart.
func (m *metrics) request(op string, record bool, status int, d time.Duration) {
	switch {
	case op != "":
	case record:
		op = "unknown"
	default:
		op = "control"
	}
	m.requests.WithLabelValues(op, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(op).Observe(d.Seconds())
}

func (m *metrics) tokenIssued(msn vipps.MSN) { m.tokens.WithLabelValues(string(msn)).Inc() }

func (m *metrics) snapshotWritten(err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.snapshots.WithLabelValues(result).Inc()
}

// recordCallbackLocked adds a callback to the log and counts it; sent is
// false when no attempt was made.
func (s *Simulator) recordCallbackLocked(cb Callback, sent bool) {
	s.callbacks = appendBounded(s.callbacks, cb)
	outcome := "not_sent"
	switch {
	case !sent:
	case cb.Delivered():
		outcome = "delivered"
	case cb.StatusCode != 0:
		outcome = "rejected"
	default:
		outcome = "failed"
	}
	s.metrics.callbacks.WithLabelValues(string(cb.Status), outcome).Inc()
}

// Metrics returns the registry that /metrics serves, for tests that read
// the metrics without HTTP, or to merge them into another registry's
// output with prometheus.Gatherers. The metrics are listed in DESIGN.md
// ("Metrics").
func (s *Simulator) Metrics() prometheus.Gatherer { return s.metrics.reg }

// stateCollector reports what the simulator holds at scrape time: payments
// by MSN and status, and the access tokens still valid.
type stateCollector struct{ s *Simulator }

var (
	paymentsDesc = prometheus.NewDesc("vippstest_payments",
		"Payments the simulator holds, by merchant serial number and status (what /status says: INITIATE, RESERVE, SALE, CAPTURE, REFUND, CANCEL, VOID, REJECTED, FAILED).",
		[]string{"msn", "status"}, nil)
	activeTokensDesc = prometheus.NewDesc("vippstest_tokens_active",
		"Access tokens that have not expired on the simulator's clock, by merchant serial number.",
		[]string{"msn"}, nil)
)

func (c stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- paymentsDesc
	ch <- activeTokensDesc
}

func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	type key struct {
		msn    vipps.MSN
		status vipps.OrderStatus
	}
	s := c.s
	s.mu.Lock()
	payments := map[key]int{}
	for _, p := range s.payments {
		payments[key{p.msn, p.status}]++
	}
	now := s.nowLocked()
	tokens := map[vipps.MSN]int{}
	for _, t := range s.tokens {
		if now.Before(t.expires) {
			tokens[t.msn]++
		}
	}
	s.mu.unlockRead()
	for k, n := range payments {
		ch <- prometheus.MustNewConstMetric(paymentsDesc, prometheus.GaugeValue, float64(n), string(k.msn), string(k.status))
	}
	for msn, n := range tokens {
		ch <- prometheus.MustNewConstMetric(activeTokensDesc, prometheus.GaugeValue, float64(n), string(msn))
	}
}
