package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// loadResult is what vipps load measured, as -json prints it.
type loadResult struct {
	Config  loadConfig `json:"config"`
	Skipped []skip     `json:"skipped,omitempty"`
	// Writes are the service's writes of one payment, which bound-sqlite
	// replays.
	Writes    *writeRecord      `json:"boundWrites,omitempty"`
	Rounds    []loadRound       `json:"rounds"`
	Scenarios []scenarioSummary `json:"scenarios"`
	Figures   []figure          `json:"figures"`
}

type loadConfig struct {
	Rounds      int      `json:"rounds"`
	Duration    string   `json:"duration"`
	Warmup      string   `json:"warmup"`
	Concurrency int      `json:"concurrency"`
	Scenarios   []string `json:"scenarios"`
	// ClockTicks is the unit of the CPU times read from /proc, per second.
	ClockTicks int64 `json:"clockTicks"`
	// CPUs is how many CPUs the run could use (runtime.NumCPU): the
	// machine's CPU-ms per second that the ceilings divide.
	CPUs int `json:"cpus"`
}

// loadRound is one round: each scenario once, in the order run.
type loadRound struct {
	Round   int              `json:"round"`
	Results []scenarioResult `json:"results"`
}

// scenarioSummary is a scenario's rate over the rounds, and the medians of
// its latencies and CPU time.
type scenarioSummary struct {
	Scenario        string   `json:"scenario"`
	Unit            string   `json:"unit"`
	Min             float64  `json:"min"`
	Median          float64  `json:"median"`
	Max             float64  `json:"max"`
	P50MsMedian     float64  `json:"p50MsMedian"`
	P99MsMedian     float64  `json:"p99MsMedian"`
	CPUMsPerUnitMed *float64 `json:"cpuMsPerUnitMedian,omitempty"`
	// RestCPUMsPerUnitMed is the median CPU-ms per unit of the scenario's
	// other processes (the simulator, the driver).
	RestCPUMsPerUnitMed *float64 `json:"restCpuMsPerUnitMedian,omitempty"`
	// DBCPUMsPerUnitMed is the median CPU-ms per unit of the database
	// server (PostgreSQL's processes).
	DBCPUMsPerUnitMed *float64 `json:"dbCpuMsPerUnitMedian,omitempty"`
}

// figure is one of the figures issue 14 sets a goal for (or reports),
// computed per round and then summarised.
type figure struct {
	Name   string    `json:"name"`
	Rounds []float64 `json:"rounds"`
	Min    float64   `json:"min"`
	Median float64   `json:"median"`
	Max    float64   `json:"max"`
	Goal   string    `json:"goal,omitempty"`
	// Met says whether the median meets the goal.
	Met *bool `json:"met,omitempty"`
}

// figureDef says how a figure is computed from one round's results, on
// a machine of cpus CPUs.
type figureDef struct {
	name string
	of   func(r map[string]scenarioResult, cpus int) (float64, bool)
	goal string
	meet func(median float64) bool
}

// ratio is a's rate over b's.
func ratio(a, b string) func(r map[string]scenarioResult, cpus int) (float64, bool) {
	return func(r map[string]scenarioResult, _ int) (float64, bool) {
		x, ok1 := r[a]
		y, ok2 := r[b]
		if !ok1 || !ok2 || y.Rate == 0 {
			return 0, false
		}
		return x.Rate / y.Rate, true
	}
}

// cpuOf is a scenario's CPU-ms per unit.
func cpuOf(a string) func(r map[string]scenarioResult, cpus int) (float64, bool) {
	return func(r map[string]scenarioResult, _ int) (float64, bool) {
		x, ok := r[a]
		if !ok || x.CPUMsPerUnit == nil {
			return 0, false
		}
		return *x.CPUMsPerUnit, true
	}
}

// ceilingOver is the most a's rate could be over b's on this machine:
// were a's measured processes to take no CPU at all, its other processes
// (the simulator, the driver, and the database server where measured)
// would still take what they took per unit,
// so a could complete at most cpus×1000 / (their CPU-ms per unit) units a
// second. It assumes that the CPU is what limits a, as it is when the
// machine runs at full load, and that the other processes' cost per unit
// would not fall with a faster service.
func ceilingOver(a, b string) func(r map[string]scenarioResult, cpus int) (float64, bool) {
	return func(r map[string]scenarioResult, cpus int) (float64, bool) {
		x, ok1 := r[a]
		y, ok2 := r[b]
		if !ok1 || !ok2 || y.Rate == 0 || x.RestCPUMsPerUnit == nil || *x.RestCPUMsPerUnit <= 0 || cpus <= 0 {
			return 0, false
		}
		rest := *x.RestCPUMsPerUnit
		if x.DBCPUMsPerUnit != nil {
			rest += *x.DBCPUMsPerUnit
		}
		return float64(cpus) * 1000 / rest / y.Rate, true
	}
}

// serveBudget is the CPU-ms a payment that service-sqlite's serve process
// may take for it to reach share × bound-sqlite's rate on this machine,
// with the rest of the chain (the simulator, the driver) taking what it
// took per payment: the machine's CPU-ms per payment at that rate less
// the rest's. Next to bound-sqlite's own CPU-ms per payment (the writes
// alone) it says how much of the budget the durable writes leave.
func serveBudget(share float64) func(r map[string]scenarioResult, cpus int) (float64, bool) {
	return func(r map[string]scenarioResult, cpus int) (float64, bool) {
		x, ok1 := r[scServiceSQLite]
		y, ok2 := r[scBoundSQLite]
		if !ok1 || !ok2 || y.Rate == 0 || x.RestCPUMsPerUnit == nil || cpus <= 0 {
			return 0, false
		}
		return float64(cpus)*1000/(share*y.Rate) - *x.RestCPUMsPerUnit, true
	}
}

// atLeast is a goal's test: the median is v or more.
func atLeast(v float64) func(float64) bool { return func(m float64) bool { return m >= v } }

// loadFigures are the figures, in the order issue 14 names them; each
// ceiling follows the ratio it bounds, with the same goal: a ceiling that
// does not meet it says that no service (or simulator) could on this
// machine, with the rest of the chain as it is.
var loadFigures = []figureDef{
	{name: "service-sqlite / bound-sqlite", of: ratio(scServiceSQLite, scBoundSQLite), goal: ">= 0.5", meet: atLeast(0.5)},
	{name: "ceiling of service-sqlite / bound-sqlite", of: ceilingOver(scServiceSQLite, scBoundSQLite), goal: ">= 0.5", meet: atLeast(0.5)},
	{name: "serve CPU-ms per payment for 0.5 (budget)", of: serveBudget(0.5)},
	{name: "bound-sqlite CPU-ms per payment (writes only)", of: cpuOf(scBoundSQLite)},
	{name: "service-sqlite CPU-ms per payment", of: cpuOf(scServiceSQLite), goal: "<= 1", meet: func(v float64) bool { return v <= 1 }},
	{name: "service-postgres / service-sqlite", of: ratio(scServicePostgres, scServiceSQLite), goal: ">= 0.8", meet: atLeast(0.8)},
	{name: "ceiling of service-postgres / service-sqlite", of: ceilingOver(scServicePostgres, scServiceSQLite), goal: ">= 0.8", meet: atLeast(0.8)},
	{name: "service-postgres-2 / service-postgres", of: ratio(scServicePostgres2, scServicePostgres), goal: ">= 1", meet: atLeast(1)},
	{name: "service-postgres-2 p99 / service-postgres p99", of: func(r map[string]scenarioResult, _ int) (float64, bool) {
		x, ok1 := r[scServicePostgres2]
		y, ok2 := r[scServicePostgres]
		if !ok1 || !ok2 || y.P99Ms == 0 {
			return 0, false
		}
		return x.P99Ms / y.P99Ms, true
	}},
	{name: "service-postgres CPU-ms per payment", of: cpuOf(scServicePostgres)},
	{name: "sim-details / bare-details", of: ratio(scSimDetails, scBareDetails), goal: ">= 0.8", meet: atLeast(0.8)},
	{name: "ceiling of sim-details / bare-details", of: ceilingOver(scSimDetails, scBareDetails), goal: ">= 0.8", meet: atLeast(0.8)},
	{name: "sim-flow / bare-flow", of: ratio(scSimFlow, scBareFlow), goal: ">= 0.6", meet: atLeast(0.6)},
	{name: "ceiling of sim-flow / bare-flow", of: ceilingOver(scSimFlow, scBareFlow), goal: ">= 0.6", meet: atLeast(0.6)},
}

// summarize computes the scenarios' summaries and the figures from the
// rounds.
func (res *loadResult) summarize() {
	res.Scenarios, res.Figures = nil, nil
	for _, name := range res.Config.Scenarios {
		var rates, p50, p99, cpu, rest, db []float64
		s := scenarioSummary{Scenario: name}
		for _, r := range res.Rounds {
			for _, m := range r.Results {
				if m.Scenario != name {
					continue
				}
				s.Unit = m.Unit
				rates, p50, p99 = append(rates, m.Rate), append(p50, m.P50Ms), append(p99, m.P99Ms)
				if m.CPUMsPerUnit != nil {
					cpu = append(cpu, *m.CPUMsPerUnit)
				}
				if m.RestCPUMsPerUnit != nil {
					rest = append(rest, *m.RestCPUMsPerUnit)
				}
				if m.DBCPUMsPerUnit != nil {
					db = append(db, *m.DBCPUMsPerUnit)
				}
			}
		}
		if len(rates) == 0 {
			continue
		}
		s.Min, s.Median, s.Max = stats(rates)
		_, s.P50MsMedian, _ = stats(p50)
		_, s.P99MsMedian, _ = stats(p99)
		s.CPUMsPerUnitMed, s.RestCPUMsPerUnitMed, s.DBCPUMsPerUnitMed = medianOf(cpu), medianOf(rest), medianOf(db)
		res.Scenarios = append(res.Scenarios, s)
	}
	for _, d := range loadFigures {
		f := figure{Name: d.name, Goal: d.goal}
		for _, r := range res.Rounds {
			byName := map[string]scenarioResult{}
			for _, m := range r.Results {
				byName[m.Scenario] = m
			}
			if v, ok := d.of(byName, res.Config.CPUs); ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
				f.Rounds = append(f.Rounds, round3(v))
			}
		}
		if len(f.Rounds) == 0 {
			continue
		}
		f.Min, f.Median, f.Max = stats(f.Rounds)
		if d.meet != nil {
			met := d.meet(f.Median)
			f.Met = &met
		}
		res.Figures = append(res.Figures, f)
	}
}

// medianOf returns the median of vs, or nil for none.
func medianOf(vs []float64) *float64 {
	if len(vs) == 0 {
		return nil
	}
	_, m, _ := stats(vs)
	return &m
}

// stats returns the minimum, median and maximum of vs (not empty).
func stats(vs []float64) (lo, median, hi float64) {
	s := slices.Sorted(slices.Values(vs))
	n := len(s)
	median = s[n/2]
	if n%2 == 0 {
		median = (s[n/2-1] + s[n/2]) / 2
	}
	return s[0], round3(median), s[n-1]
}

// writeJSON prints the result as indented JSON.
func (res *loadResult) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}

// writeHeader prints what the run does, before the rounds.
func (res *loadResult) writeHeader(w io.Writer) {
	c := res.Config
	fmt.Fprintf(w, "vipps load: %d rounds; each scenario %s per round after %s of warm-up, %d in flight, on %d CPUs\n",
		c.Rounds, c.Duration, c.Warmup, c.Concurrency, c.CPUs)
	for _, s := range res.Skipped {
		fmt.Fprintf(w, "skipped %s: %s\n", s.Scenario, s.Reason)
	}
	if r := res.Writes; r != nil {
		fmt.Fprintf(w, "bound-sqlite replays the %d writes the service made for one payment: %s\n", r.Writes, strings.Join(r.Sequence, ", "))
		if r.Failed > 0 {
			fmt.Fprintf(w, "  (and %d write(s) the store refused as conflicts, not replayed)\n", r.Failed)
		}
	}
}

// writeRound prints one round's table.
func (res *loadResult) writeRound(w io.Writer, r *loadRound) {
	fmt.Fprintf(w, "\nround %d of %d\n", r.Round, res.Config.Rounds)
	rows := [][]string{{"  scenario", "per second", "unit", "completed", "p50 ms", "p99 ms", "cpu-ms/unit", "rest cpu-ms", "db cpu-ms", "requests/unit"}}
	for _, m := range r.Results {
		rows = append(rows, []string{"  " + m.Scenario, fmt.Sprintf("%.1f", m.Rate), m.Unit, fmt.Sprint(m.Completed),
			fmt.Sprintf("%.2f", m.P50Ms), fmt.Sprintf("%.2f", m.P99Ms), optional(m.CPUMsPerUnit, "%.3f"), optional(m.RestCPUMsPerUnit, "%.3f"),
			optional(m.DBCPUMsPerUnit, "%.3f"), optional(m.RequestsPerUnit, "%.1f")})
	}
	table(w, rows)
}

// writeSummary prints the summary over the rounds.
func (res *loadResult) writeSummary(w io.Writer) {
	fmt.Fprintf(w, "\nsummary over %d rounds: rate per second\n", len(res.Rounds))
	rows := [][]string{{"  scenario", "unit", "min", "median", "max", "p50 ms", "p99 ms", "cpu-ms/unit", "rest cpu-ms", "db cpu-ms"}}
	for _, s := range res.Scenarios {
		rows = append(rows, []string{"  " + s.Scenario, s.Unit, fmt.Sprintf("%.1f", s.Min), fmt.Sprintf("%.1f", s.Median), fmt.Sprintf("%.1f", s.Max),
			fmt.Sprintf("%.2f", s.P50MsMedian), fmt.Sprintf("%.2f", s.P99MsMedian), optional(s.CPUMsPerUnitMed, "%.3f"), optional(s.RestCPUMsPerUnitMed, "%.3f"),
			optional(s.DBCPUMsPerUnitMed, "%.3f")})
	}
	table(w, rows)
	if len(res.Figures) == 0 {
		return
	}
	fmt.Fprintf(w, "\nfigures of issue 14: per round, then min/median/max (latencies and CPU-ms are medians over the rounds);\n"+
		"a ceiling is the most the ratio above it could be on these %d CPUs were the measured process to take no CPU,\n"+
		"with the rest of the chain (rest cpu-ms: the simulator and this driver; db cpu-ms: PostgreSQL) as it is\n", res.Config.CPUs)
	rows = [][]string{{"  figure", "min", "median", "max", "goal", "median meets it"}}
	for _, f := range res.Figures {
		met := "-"
		if f.Met != nil {
			met = map[bool]string{true: "yes", false: "no"}[*f.Met]
		}
		rows = append(rows, []string{"  " + f.Name, fmt.Sprintf("%.3f", f.Min), fmt.Sprintf("%.3f", f.Median), fmt.Sprintf("%.3f", f.Max),
			cmp.Or(f.Goal, "-"), met})
	}
	table(w, rows)
}

// optional formats *v, or "-" for nil.
func optional(v *float64, format string) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf(format, *v)
}
