package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// loadOpTimeout bounds one unit of work (a payment, a request, a flow).
const loadOpTimeout = 30 * time.Second

// scenario is one thing vipps load measures.
type scenario struct {
	name string
	unit string // what one do is: "payments", "requests", "flows"
	// do runs one unit of work; an error ends the run.
	do func(ctx context.Context) error
	// pids are the processes whose CPU time is counted per unit; nil for
	// none.
	pids func() []int
	// rest are the other processes a unit needs that are not what the
	// scenario measures (the simulator, this driver): their CPU time per
	// unit bounds the rate any measured process could reach on this
	// machine (see ceilingOver); nil for none.
	rest func() []int
	// db are the database server's processes (PostgreSQL's: one per
	// connection and its helpers), whose CPU per unit is reported apart;
	// nil for none. Processes that start or exit during the window are
	// not counted.
	db func() []int
	// requests, if not nil, counts the HTTP requests sent to the service.
	requests *atomic.Int64
	// before, if not nil, runs before each of the scenario's runs.
	before func(ctx context.Context) error
	// children are the processes the scenario depends on, whose logs are
	// shown when it fails.
	children []*child
}

// scenarioResult is one scenario's measurement in one round.
type scenarioResult struct {
	Scenario  string  `json:"scenario"`
	Unit      string  `json:"unit"`
	Completed int     `json:"completed"`
	Seconds   float64 `json:"seconds"`
	Rate      float64 `json:"perSecond"`
	P50Ms     float64 `json:"p50Ms"`
	P99Ms     float64 `json:"p99Ms"`
	// CPUMsPerUnit is the CPU time (user and system) of the scenario's
	// processes per completed unit; absent when not measured.
	CPUMsPerUnit *float64 `json:"cpuMsPerUnit,omitempty"`
	// RestCPUMsPerUnit is the CPU time of the scenario's other processes
	// (scenario.rest) per completed unit; absent when not measured.
	RestCPUMsPerUnit *float64 `json:"restCpuMsPerUnit,omitempty"`
	// DBCPUMsPerUnit is the CPU time of the database server's processes
	// (scenario.db) per completed unit; absent when not measured.
	DBCPUMsPerUnit *float64 `json:"dbCpuMsPerUnit,omitempty"`
	// RequestsPerUnit is the HTTP requests the service got per completed
	// payment.
	RequestsPerUnit *float64 `json:"requestsPerUnit,omitempty"`
}

// measure runs sc with concurrency units in flight: warmup, then the
// measured window of duration, then it stops starting new units and lets
// those in flight finish (they are not counted). A unit counts when it
// completes in the window; its latency is from its start to its end.
func measure(ctx context.Context, sc *scenario, warmup, duration time.Duration, concurrency int) (scenarioResult, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var stop atomic.Bool
	var winStart atomic.Int64 // UnixNano; 0 while warming up
	// done are each worker's units that ended after the window started.
	type unit struct{ end, took int64 }
	done := make([][]unit, concurrency)
	var inWindow atomic.Int64 // units recorded in done
	var wg sync.WaitGroup
	for i := range concurrency {
		wg.Go(func() {
			for !stop.Load() && ctx.Err() == nil {
				t0 := time.Now()
				octx, ocancel := context.WithTimeout(ctx, loadOpTimeout)
				err := sc.do(octx)
				ocancel()
				if err != nil {
					if ctx.Err() == nil {
						cancel(err)
					}
					return
				}
				t1 := time.Now().UnixNano()
				if ws := winStart.Load(); ws != 0 && t1 >= ws {
					done[i] = append(done[i], unit{t1, t1 - t0.UnixNano()})
					inWindow.Add(1)
				}
			}
		})
	}
	finish := func() error {
		stop.Store(true)
		wg.Wait()
		if err := context.Cause(ctx); err != nil {
			return err
		}
		return nil
	}
	if !sleepCtx(ctx, warmup) {
		return scenarioResult{}, finish()
	}
	var pids, rest []int
	if sc.pids != nil {
		pids = sc.pids()
	}
	if sc.rest != nil {
		rest = sc.rest()
	}
	cpu0, cpuErr := cpuTicks(pids)
	rest0, restErr := cpuTicks(rest)
	var db0 map[int]int64
	if sc.db != nil {
		db0 = cpuTicksEach(sc.db())
	}
	var req0 int64
	if sc.requests != nil {
		req0 = sc.requests.Load()
	}
	start := time.Now()
	winStart.Store(start.UnixNano())
	if !sleepCtx(ctx, duration) {
		return scenarioResult{}, finish()
	}
	// On a slow or busy machine a short window may see few units end: it
	// stays open until minWindowUnits have, so that no rate is measured
	// from nothing, up to loadOpTimeout.
	for inWindow.Load() < minWindowUnits && time.Since(start) < duration+loadOpTimeout {
		if !sleepCtx(ctx, 10*time.Millisecond) {
			return scenarioResult{}, finish()
		}
	}
	end := time.Now()
	cpu1, cpuErr1 := cpuTicks(pids)
	rest1, restErr1 := cpuTicks(rest)
	var db1 map[int]int64
	if len(db0) > 0 {
		db1 = cpuTicksEach(slices.Collect(maps.Keys(db0)))
	}
	var req1 int64
	if sc.requests != nil {
		req1 = sc.requests.Load()
	}
	if err := finish(); err != nil {
		return scenarioResult{}, err
	}
	var all []time.Duration
	for _, u := range slices.Concat(done...) {
		if u.end < end.UnixNano() {
			all = append(all, time.Duration(u.took))
		}
	}
	slices.Sort(all)
	secs := end.Sub(start).Seconds()
	r := scenarioResult{Scenario: sc.name, Unit: sc.unit, Completed: len(all), Seconds: round3(secs),
		Rate: round3(float64(len(all)) / secs), P50Ms: ms(percentile(all, 0.50)), P99Ms: ms(percentile(all, 0.99))}
	if n := float64(len(all)); n > 0 {
		perUnit := func(ticks int64) *float64 {
			v := round3(float64(ticks) * 1000 / float64(clockTicks()) / n)
			return &v
		}
		if len(pids) > 0 && cpuErr == nil && cpuErr1 == nil {
			r.CPUMsPerUnit = perUnit(cpu1 - cpu0)
		}
		if len(rest) > 0 && restErr == nil && restErr1 == nil {
			r.RestCPUMsPerUnit = perUnit(rest1 - rest0)
		}
		if len(db1) > 0 {
			var ticks int64
			for pid, t1 := range db1 {
				ticks += t1 - db0[pid]
			}
			r.DBCPUMsPerUnit = perUnit(ticks)
		}
		if sc.requests != nil {
			v := round3(float64(req1-req0) / n)
			r.RequestsPerUnit = &v
		}
	}
	return r, nil
}

// thisProcess is the load process itself: the driver (and the bound, and
// the simulator's callback sink, where they run).
func thisProcess() []int { return []int{os.Getpid()} }

// minWindowUnits is how many units must end in a measured window before
// it closes (see measure).
const minWindowUnits = 5

// sleepCtx sleeps for d and reports whether ctx is still alive.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// percentile returns the p-quantile of sorted (nearest rank), 0 for none.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return round3(float64(d) / float64(time.Millisecond)) }

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// newLoadClient returns the HTTP client every scenario uses: keep-alive
// connections enough for concurrency requests in flight per host, no
// compression, no proxy.
func newLoadClient(concurrency int) *http.Client {
	tr := &http.Transport{
		MaxIdleConns:        4 * concurrency,
		MaxIdleConnsPerHost: 2 * concurrency,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
		Proxy:               nil,
	}
	return &http.Client{Transport: tr, Timeout: loadOpTimeout}
}

// errStatus is an unexpected HTTP answer.
type errStatus struct {
	what   string
	status int
	body   string
}

func (e *errStatus) Error() string {
	return fmt.Sprintf("%s: HTTP %d: %s", e.what, e.status, e.body)
}

// isStatus reports whether err is an unexpected answer with status code.
func isStatus(err error, code int) bool {
	e, ok := errors.AsType[*errStatus](err)
	return ok && e.status == code
}
