package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestLoad runs vipps load end to end for one short round: real vipps sim
// and vipps serve processes (this test binary, which TestMain makes the
// vipps command), the recorded writes replayed, the bare handler. It
// checks the output's structure, that every scenario completed work, and
// that the figures are there and finite; never a speed. With
// VIPPS_TEST_POSTGRES (which CI sets) it runs the PostgreSQL scenarios
// too.
func TestLoad(t *testing.T) {
	bin, err := exec.LookPath("vipps")
	if err != nil {
		t.Fatalf("the vipps command TestMain sets up: %v", err)
	}
	scenarios := []string{scServiceSQLite, scBoundSQLite, scSimDetails, scBareDetails}
	figures := []string{"service-sqlite / bound-sqlite", "ceiling of service-sqlite / bound-sqlite", "service-sqlite CPU-ms per payment",
		"sim-details / bare-details", "ceiling of sim-details / bare-details"}
	// Figures without a goal; the budget may be below 0 on a busy machine.
	reported := []string{"serve CPU-ms per payment for 0.5 (budget)", "bound-sqlite CPU-ms per payment (writes only)"}
	args := []string{"load", "-rounds", "1", "-duration", "300ms", "-warmup", "100ms", "-json"}
	dsn := os.Getenv("VIPPS_TEST_POSTGRES")
	switch {
	case dsn != "":
		scenarios = append(scenarios, scServicePostgres, scServicePostgres2)
		figures = append(figures, "service-postgres / service-sqlite", "ceiling of service-postgres / service-sqlite", "service-postgres-2 / service-postgres")
		args = append(args, "-postgres", dsn)
	case os.Getenv("CI") != "":
		t.Fatal("VIPPS_TEST_POSTGRES is not set; CI must run the PostgreSQL tests (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	default:
		t.Log("VIPPS_TEST_POSTGRES is not set: the PostgreSQL scenarios are not run")
	}
	args = append(args, "-scenarios", strings.Join(scenarios, ","))
	tmp := t.TempDir()
	cmd := exec.CommandContext(t.Context(), bin, args...)
	cmd.Env = append(childEnv(), "TMPDIR="+tmp)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("vipps %s: %v\nstderr:\n%s\nstdout:\n%s", strings.Join(args, " "), err, stderr.String(), stdout.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("vipps load wrote to stderr:\n%s", stderr.String())
	}
	var res loadResult
	dec := json.NewDecoder(&stdout)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("decode the JSON output: %v\n%s", err, stdout.String())
	}

	if len(res.Rounds) != 1 {
		t.Fatalf("rounds = %d, want 1", len(res.Rounds))
	}
	var ran []string
	for _, m := range res.Rounds[0].Results {
		ran = append(ran, m.Scenario)
		if m.Completed <= 0 || !finite(m.Rate) || m.Rate <= 0 {
			t.Errorf("%s: completed %d at %v/s, want some", m.Scenario, m.Completed, m.Rate)
		}
		if m.P50Ms <= 0 || m.P99Ms < m.P50Ms {
			t.Errorf("%s: p50 %v ms, p99 %v ms, want 0 < p50 <= p99", m.Scenario, m.P50Ms, m.P99Ms)
		}
		if m.CPUMsPerUnit == nil || !finite(*m.CPUMsPerUnit) || *m.CPUMsPerUnit <= 0 {
			t.Errorf("%s: CPU-ms per unit %v, want it measured", m.Scenario, optional(m.CPUMsPerUnit, "%v"))
		}
		// The rest of the chain (the simulator, this driver) is measured
		// in every scenario but the bound, which runs in the driver alone.
		wantRest := m.Scenario != scBoundSQLite
		if (m.RestCPUMsPerUnit != nil) != wantRest || (wantRest && (!finite(*m.RestCPUMsPerUnit) || *m.RestCPUMsPerUnit <= 0)) {
			t.Errorf("%s: rest CPU-ms per unit %v, want it measured: %v", m.Scenario, optional(m.RestCPUMsPerUnit, "%v"), wantRest)
		}
		// PostgreSQL's own CPU, in the PostgreSQL scenarios only.
		wantDB := strings.HasPrefix(m.Scenario, scServicePostgres)
		if (m.DBCPUMsPerUnit != nil) != wantDB || (wantDB && (!finite(*m.DBCPUMsPerUnit) || *m.DBCPUMsPerUnit <= 0)) {
			t.Errorf("%s: PostgreSQL CPU-ms per unit %v, want it measured: %v", m.Scenario, optional(m.DBCPUMsPerUnit, "%v"), wantDB)
		}
	}
	if diff := cmp.Diff(slices.Sorted(slices.Values(scenarios)), slices.Sorted(slices.Values(ran))); diff != "" {
		t.Errorf("scenarios run (-want +got):\n%s", diff)
	}
	if w := res.Writes; w == nil || w.Writes == 0 || len(w.Sequence) != w.Writes || w.Sequence[0] != "Create" {
		t.Errorf("boundWrites = %+v, want the recorded writes of a payment, Create first", w)
	}
	got := map[string]figure{}
	for _, f := range res.Figures {
		got[f.Name] = f
	}
	for _, name := range figures {
		f, ok := got[name]
		if !ok {
			t.Errorf("figure %q missing; figures: %+v", name, res.Figures)
			continue
		}
		if len(f.Rounds) != 1 || !finite(f.Median) || f.Median < 0 || f.Min > f.Median || f.Median > f.Max || f.Goal == "" || f.Met == nil {
			t.Errorf("figure %+v, want one finite round and a goal", f)
		}
	}
	for _, name := range reported {
		if f, ok := got[name]; !ok || len(f.Rounds) != 1 || !finite(f.Median) || f.Goal != "" || f.Met != nil {
			t.Errorf("figure %q = %+v (found: %v), want one finite round and no goal", name, f, ok)
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("vipps load left %v in its temporary directory", left)
	}
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// TestLoadReport pins the text output of a run with golden files: the
// header, a round's table and the summary with its figures (run with
// -update to rewrite them).
func TestLoadReport(t *testing.T) {
	res := &loadResult{
		Config: loadConfig{Rounds: 2, Duration: "5s", Warmup: "1s", Concurrency: 16, ClockTicks: 100, CPUs: 2,
			Scenarios: []string{scServiceSQLite, scBoundSQLite, scServicePostgres, scSimDetails, scBareDetails}},
		Skipped: []skip{{scServicePostgres2, "not asked for"}},
		Writes:  &writeRecord{OrderID: "load-x", Writes: 5, Sequence: []string{"Create", "Update", "Update", "AddOperation", "UpdateOperation"}},
		Rounds: []loadRound{
			{Round: 1, Results: []scenarioResult{
				{Scenario: scServiceSQLite, Unit: "payments", Completed: 2225, Seconds: 5, Rate: 445, P50Ms: 30.5, P99Ms: 80.25, CPUMsPerUnit: new(2.2), RestCPUMsPerUnit: new(1.6), RequestsPerUnit: new(4.2)},
				{Scenario: scBoundSQLite, Unit: "payments", Completed: 10485, Seconds: 5, Rate: 2097, P50Ms: 7.5, P99Ms: 20, CPUMsPerUnit: new(0.4)},
				{Scenario: scServicePostgres, Unit: "payments", Completed: 1500, Seconds: 5, Rate: 300, P50Ms: 45, P99Ms: 90, CPUMsPerUnit: new(1.9), RestCPUMsPerUnit: new(1.0),
					DBCPUMsPerUnit: new(2.5), RequestsPerUnit: new(4.4)},
				{Scenario: scSimDetails, Unit: "requests", Completed: 28000, Seconds: 5, Rate: 5600, P50Ms: 2, P99Ms: 9, CPUMsPerUnit: new(0.1), RestCPUMsPerUnit: new(0.2)},
				{Scenario: scBareDetails, Unit: "requests", Completed: 50000, Seconds: 5, Rate: 10000, P50Ms: 1, P99Ms: 5, CPUMsPerUnit: new(0.05)},
			}},
			{Round: 2, Results: []scenarioResult{
				{Scenario: scBoundSQLite, Unit: "payments", Completed: 10000, Seconds: 5, Rate: 2000, P50Ms: 8, P99Ms: 21},
				{Scenario: scSimDetails, Unit: "requests", Completed: 30000, Seconds: 5, Rate: 6000, P50Ms: 2, P99Ms: 8, CPUMsPerUnit: new(0.1)},
				{Scenario: scBareDetails, Unit: "requests", Completed: 50000, Seconds: 5, Rate: 10000, P50Ms: 1, P99Ms: 5, CPUMsPerUnit: new(0.05)},
				{Scenario: scServiceSQLite, Unit: "payments", Completed: 2500, Seconds: 5, Rate: 500, P50Ms: 28, P99Ms: 70, CPUMsPerUnit: new(1.9), RestCPUMsPerUnit: new(2.0), RequestsPerUnit: new(4.1)},
			}},
		},
	}
	res.summarize()
	var text bytes.Buffer
	res.writeHeader(&text)
	for i := range res.Rounds {
		res.writeRound(&text, &res.Rounds[i])
	}
	res.writeSummary(&text)
	var js bytes.Buffer
	if err := res.writeJSON(&js); err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][]byte{"load_report.txt": text.Bytes(), "load_report.json": js.Bytes()} {
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to write it)", err)
		}
		if diff := cmp.Diff(string(want), string(got)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}
