package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

const loadDoc = `
Measure the payment service and the simulator under load, over real HTTP
as a shop uses them, each next to a bare bound measured in the same run
(issue 14). It starts what it measures as real processes of this binary
(vipps sim, vipps serve) on loopback, runs every scenario for -duration
after -warmup with -concurrency payments (or requests) in flight, in
interleaved rounds (round 1 runs each scenario once, round 2 each again,
..., the order rotated per round so that no scenario always goes first),
and prints a table per round and a summary: each scenario's rate
min/median/max over the rounds, and the ratios issue 14 names, computed
per round and then summarised, next to the issue's goals.

The scenarios:

  service-sqlite      vipps serve on a fresh SQLite file at the default
                      durability (synchronous=FULL) against vipps sim. Per
                      payment the driver, as the shop: POST /api/payments;
                      as the customer: POST /_sim/payments/{id}/approve on
                      the simulator's control API; as the shop: GET
                      /api/payments/{id} every 5 ms until reserved, then
                      POST .../capture (and GET until captured should it
                      answer pending). Payments/s, latency p50/p99 and the
                      serve process's CPU-ms per payment (utime+stime
                      from /proc/<pid>/stat over the measured window).
  bound-sqlite        the write-only bound: in this process, only the
                      service's write transactions of one payment, on a
                      fresh SQLite file with the same schema at
                      synchronous=NORMAL. The writes are recorded from one
                      payment through the real service (in this process,
                      against its own simulator) and replayed with fresh
                      orderIds.
  service-postgres    as service-sqlite on PostgreSQL (-postgres; a new
                      schema, dropped at the end); service-postgres-2 with
                      two serve replicas, the driver spreading requests
                      over them round-robin. Skipped without -postgres.
  sim-details         GET /ecomm/v2/payments/{id}/details on vipps sim,
                      walking reserved payments; bare-details: a bare
                      net/http handler (a child process, vipps load bare)
                      answering the same bytes, with the same client.
  sim-flow            initiate + approve + capture on vipps sim (callbacks
                      to a sink in this process); bare-flow: the bare
                      handler answering the same three requests with the
                      simulator's bytes.

Next to the CPU time of what a scenario measures (cpu-ms/unit) it reports
that of the rest of the chain (rest cpu-ms: the simulator and this driver
for the service scenarios, this driver for the others) and PostgreSQL's
(db cpu-ms: every postgres process of this machine), and from them a
ceiling for each ratio with a goal: the most the ratio could be on this
machine's CPUs were the measured process to take no CPU at all. A
ceiling below a goal says that the goal cannot be met here, whatever the
measured process does, without a cheaper simulator, driver or database.

Speeds depend on the machine: run it on a quiet one, and compare ratios,
not rates. Everything it starts is stopped and its files removed at the
end, on an error and on Ctrl-C; a child process that fails has the tail of
its log printed.
`

// Scenario names, in the order of a round before rotation.
const (
	scServiceSQLite    = "service-sqlite"
	scBoundSQLite      = "bound-sqlite"
	scServicePostgres  = "service-postgres"
	scServicePostgres2 = "service-postgres-2"
	scSimDetails       = "sim-details"
	scBareDetails      = "bare-details"
	scSimFlow          = "sim-flow"
	scBareFlow         = "bare-flow"
)

// loadScenarios are every scenario of vipps load.
var loadScenarios = []string{scServiceSQLite, scBoundSQLite, scServicePostgres, scServicePostgres2,
	scSimDetails, scBareDetails, scSimFlow, scBareFlow}

// loadFlags are the settings of the load command.
type loadFlags struct {
	rounds      int
	duration    time.Duration
	warmup      time.Duration
	concurrency int
	scenarios   string
	postgres    string
	bin         string
	json        bool
	profiles    string

	run     []string // the scenarios to run, in loadScenarios order
	skipped []skip   // those left out, with why
}

// skip is a scenario left out of the run.
type skip struct {
	Scenario string `json:"scenario"`
	Reason   string `json:"reason"`
}

func parseLoadFlags(e *env, args []string) (*loadFlags, error) {
	f := &loadFlags{}
	fs := newFlagSet(e, "load", "", loadDoc)
	fs.intEnv(&f.rounds, "rounds", 5, "VIPPS_LOAD_ROUNDS", "interleaved `rounds`: each runs every scenario once")
	fs.durationEnv(&f.duration, "duration", 5*time.Second, "VIPPS_LOAD_DURATION", "how long each scenario is measured per round")
	fs.durationEnv(&f.warmup, "warmup", time.Second, "VIPPS_LOAD_WARMUP", "how long each scenario runs before it is measured")
	fs.intEnv(&f.concurrency, "concurrency", 16, "VIPPS_LOAD_CONCURRENCY", "payments (or requests) in flight at once")
	fs.stringEnv(&f.scenarios, "scenarios", "", "VIPPS_LOAD_SCENARIOS",
		"comma-separated `list` of scenarios (default every one available): "+strings.Join(loadScenarios, ", "))
	fs.stringEnv(&f.postgres, "postgres", "", "VIPPS_LOAD_POSTGRES",
		"PostgreSQL `URL` for the service-postgres scenarios; each gets a new schema there, dropped at the end")
	fs.stringEnv(&f.profiles, "serve-cpuprofile", "", "VIPPS_LOAD_SERVE_CPUPROFILE", "write a CPU profile of each serve and sim process into this `directory` (<name>.pprof)")
	fs.stringEnv(&f.bin, "bin", "", "VIPPS_LOAD_BIN", "the vipps `binary` to start as vipps sim and vipps serve (default this one)")
	fs.fs.BoolVar(&f.json, "json", false, "print the results as JSON instead of tables")
	if err := fs.parseFlags(args); err != nil {
		return nil, err
	}
	var bad []string
	if f.rounds < 1 {
		bad = append(bad, fmt.Sprintf("-rounds %d must be at least 1", f.rounds))
	}
	if f.duration <= 0 {
		bad = append(bad, fmt.Sprintf("-duration %v must be positive", f.duration))
	}
	if f.warmup < 0 {
		bad = append(bad, fmt.Sprintf("-warmup %v must not be negative", f.warmup))
	}
	if f.concurrency < 1 || f.concurrency > 1024 {
		bad = append(bad, fmt.Sprintf("-concurrency %d must be from 1 to 1024", f.concurrency))
	}
	if f.postgres != "" {
		if db, err := parseDatabase(f.postgres); err != nil || !db.postgres {
			bad = append(bad, fmt.Sprintf("-postgres %q is not a PostgreSQL URL (postgres://...) or key=value DSN", redact(f.postgres)))
		}
	}
	if f.bin != "" {
		if st, err := os.Stat(f.bin); err != nil || st.IsDir() {
			bad = append(bad, fmt.Sprintf("-bin %s: no such file: name a vipps binary, or leave -bin unset to use this one", f.bin))
		}
	}
	explicit := f.scenarios != ""
	want := loadScenarios
	if explicit {
		want = nil
		for s := range strings.SplitSeq(f.scenarios, ",") {
			s = strings.TrimSpace(s)
			switch {
			case s == "":
			case !slices.Contains(loadScenarios, s):
				bad = append(bad, fmt.Sprintf("-scenarios: unknown scenario %q: choose from %s", s, strings.Join(loadScenarios, ", ")))
			case !slices.Contains(want, s):
				want = append(want, s)
			}
		}
	}
	for _, s := range loadScenarios {
		if !slices.Contains(want, s) {
			continue
		}
		if (s == scServicePostgres || s == scServicePostgres2) && f.postgres == "" {
			if explicit {
				bad = append(bad, fmt.Sprintf("-scenarios: %s needs -postgres (or VIPPS_LOAD_POSTGRES)", s))
			} else {
				f.skipped = append(f.skipped, skip{s, "no -postgres (or VIPPS_LOAD_POSTGRES) given"})
			}
			continue
		}
		f.run = append(f.run, s)
	}
	if len(f.run) == 0 && len(bad) == 0 {
		bad = append(bad, "-scenarios names no scenario: choose from "+strings.Join(loadScenarios, ", "))
	}
	if len(bad) > 0 {
		return nil, fs.usagef("%s", strings.Join(bad, "; "))
	}
	return f, nil
}

// runLoad is "vipps load", and "vipps load bare", the bare handler it
// starts as a child process.
func runLoad(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "bare" {
		return runLoadBare(ctx, e, args[1:])
	}
	f, err := parseLoadFlags(e, args)
	if err != nil {
		return err
	}
	bin := f.bin
	if bin == "" {
		if bin, err = os.Executable(); err != nil {
			return fmt.Errorf("load: this binary's path, to start it as vipps sim and vipps serve: %w (give it with -bin)", err)
		}
	}
	dir, err := os.MkdirTemp("", "vipps-load-")
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	l := &loadRun{f: f, e: e, bin: bin, dir: dir, id: strings.ToLower(rand.Text()[:8])}
	defer func() {
		if err := os.RemoveAll(dir); err != nil {
			fmt.Fprintf(e.stderr, "vipps load: removing %s: %v\n", dir, err)
		}
	}()
	res, err := l.run(ctx)
	if cerr := l.close(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			return fmt.Errorf("load: interrupted; everything started was stopped: %w", err)
		}
		return fmt.Errorf("load: %w", err)
	}
	if f.json {
		return res.writeJSON(e.stdout)
	}
	res.writeSummary(e.stdout)
	return nil
}

// loadRun is one run of vipps load: what it started, to stop at the end.
type loadRun struct {
	f   *loadFlags
	e   *env
	bin string
	dir string // temporary: databases, logs, the bare handler's answers
	id  string // in the orderIds of this run

	children []*child
	closers  []func() error // run in reverse order by close
}

// onClose registers c to run when the run ends.
func (l *loadRun) onClose(c func() error) { l.closers = append(l.closers, c) }

// close stops every child process and runs the closers, newest first.
func (l *loadRun) close() error {
	var errs []error
	for _, c := range slices.Backward(l.children) {
		errs = append(errs, c.stop())
	}
	for _, c := range slices.Backward(l.closers) {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
}

// run sets up every scenario, then runs the rounds. Text output goes out
// round by round.
func (l *loadRun) run(ctx context.Context) (*loadResult, error) {
	res := &loadResult{Config: loadConfig{Rounds: l.f.rounds, Duration: l.f.duration.String(), Warmup: l.f.warmup.String(),
		Concurrency: l.f.concurrency, Scenarios: l.f.run, ClockTicks: clockTicks(), CPUs: runtime.NumCPU()}, Skipped: l.f.skipped}
	scs, err := l.setup(ctx, res)
	if err != nil {
		return nil, err
	}
	if !l.f.json {
		res.writeHeader(l.e.stdout)
	}
	for r := range l.f.rounds {
		round := loadRound{Round: r + 1}
		for i := range scs {
			sc := scs[(i+r)%len(scs)]
			if sc.before != nil {
				if err := sc.before(ctx); err != nil {
					return nil, fmt.Errorf("round %d, %s: %w%s", r+1, sc.name, err, l.tails(sc.children))
				}
			}
			m, err := measure(ctx, sc, l.f.warmup, l.f.duration, l.f.concurrency)
			if err != nil {
				return nil, fmt.Errorf("round %d, %s: %w%s", r+1, sc.name, err, l.tails(sc.children))
			}
			round.Results = append(round.Results, m)
		}
		res.Rounds = append(res.Rounds, round)
		if !l.f.json {
			res.writeRound(l.e.stdout, &round)
		}
	}
	res.summarize()
	return res, nil
}

// setup starts what the scenarios need and returns them in run order.
func (l *loadRun) setup(ctx context.Context, res *loadResult) ([]*scenario, error) {
	var scs []*scenario
	want := func(name string) bool { return slices.Contains(l.f.run, name) }
	hc := newLoadClient(l.f.concurrency)
	l.onClose(func() error { hc.CloseIdleConnections(); return nil })

	if want(scServiceSQLite) || want(scServicePostgres) || want(scServicePostgres2) {
		sim, err := l.startSim(ctx, "sim-service")
		if err != nil {
			return nil, err
		}
		for _, name := range []string{scServiceSQLite, scServicePostgres, scServicePostgres2} {
			if !want(name) {
				continue
			}
			sc, err := l.setupService(ctx, name, sim, hc)
			if err != nil {
				return nil, err
			}
			scs = append(scs, sc)
		}
	}
	if want(scBoundSQLite) {
		sc, rec, err := l.setupBound(ctx)
		if err != nil {
			return nil, err
		}
		res.Writes = rec
		scs = append(scs, sc)
	}
	if want(scSimDetails) || want(scBareDetails) || want(scSimFlow) || want(scBareFlow) {
		more, err := l.setupSim(ctx, hc)
		if err != nil {
			return nil, err
		}
		scs = append(scs, more...)
	}
	// Run order: as loadScenarios lists them.
	slices.SortFunc(scs, func(a, b *scenario) int {
		return slices.Index(loadScenarios, a.name) - slices.Index(loadScenarios, b.name)
	})
	return scs, nil
}

// tails returns the tail of the log of each child, for an error.
func (l *loadRun) tails(cs []*child) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "\n--- %s (%s), last lines of its log:\n%s", c.name, c.status(), tailFile(c.logPath, 20))
	}
	return b.String()
}

// discard is an env for what runs in this process and must print nothing.
func discardEnv() *env {
	return &env{getenv: func(string) string { return "" }, stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard}
}
