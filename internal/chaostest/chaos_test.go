package chaostest

import (
	"context"
	"flag"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vippskit/vipps"
)

var (
	flagPayments    = flag.Int("chaos.payments", 150, "payments per database")
	flagDB          = flag.String("chaos.db", "sqlite,postgres", "comma-separated databases to run: sqlite (one replica), postgres (two replicas)")
	flagSeed        = flag.Uint64("chaos.seed", 0, "seed of the random choices; 0 picks one (it is logged)")
	flagKills       = flag.Int("chaos.kills", -1, "SIGKILLs of service processes per database; -1 means 4 + payments/500")
	flagDBRestarts  = flag.Int("chaos.dbrestarts", -1, "immediate restarts of the PostgreSQL cluster; -1 means 1 + payments/3000")
	flagDiskFull    = flag.Int("chaos.diskfull", -1, "windows of 1-4 s in which the SQLite replica's disk takes no writes; -1 means 2 + payments/1000")
	flagConcurrency = flag.Int("chaos.concurrency", 32, "payments driven at once")
	flagFaults      = flag.Bool("chaos.faults", true, "inject simulator request faults, callback faults and failures of the shop's webhook endpoint")
	flagConverge    = flag.Duration("chaos.converge", 0, "longest wait for the books to converge after the driver stops; 0 means 95s after the last kill or restart (at least 80s after the driver: a 429 of Vipps' rate limits asks to wait up to a minute) plus 10ms a payment")
	flagShow        = flag.Int("chaos.show", 5, "offending orderIds shown per invariant")
	flagLogDir      = flag.String("chaos.logdir", "", "keep the processes' logs (and the SQLite database) in a new directory under this one instead of a temporary one")
)

// The simulator's default merchant, and the service's own secrets.
const (
	simMSN             = "123456"
	simClientID        = "sim-client-id"
	simClientSecret    = "sim-client-secret"
	simSubscriptionKey = "sim-subscription-key"

	apiKey        = "chaos-api-key-0123456789"
	adminPassword = "chaos-admin-password"
	secretKey     = "chaos-secret-key-0123456789abcdef0123456789"
	webhookSecret = "chaos-webhook-secret-0123456789"
	orderPrefix   = "chaos"
)

// runConfig is one chaos run's settings.
type runConfig struct {
	db          string // "sqlite" or "postgres"
	seed        uint64
	payments    int
	concurrency int
	kills       int
	dbRestarts  int
	diskFull    int // SQLite only
	faults      bool
	converge    time.Duration // 0: derived from the last disruption
}

func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("the chaos suite runs real processes; skipped with -short")
	}
	seed := *flagSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano()%1_000_000_000 + 1)
	}
	t.Logf("chaos seed %d: repeat with -chaos.seed=%d", seed, seed)
	n := *flagPayments
	kills, restarts, full := *flagKills, *flagDBRestarts, *flagDiskFull
	if kills < 0 {
		kills = 4 + n/500
	}
	if restarts < 0 {
		restarts = 1 + n/3000
	}
	if full < 0 {
		full = 2 + n/1000
	}
	bin := buildVipps(t, t.TempDir())
	for _, db := range strings.Split(*flagDB, ",") {
		db = strings.TrimSpace(db)
		if db != "sqlite" && db != "postgres" {
			t.Fatalf("-chaos.db: %q is not sqlite or postgres", db)
		}
		cfg := runConfig{db: db, seed: seed, payments: n, concurrency: max(1, *flagConcurrency),
			kills: kills, dbRestarts: restarts, diskFull: full, faults: *flagFaults, converge: *flagConverge}
		if db == "sqlite" {
			cfg.dbRestarts = 0
		} else {
			cfg.diskFull = 0
		}
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			newRun(t, cfg, bin).main()
		})
	}
}

// run is one chaos run: a simulator, the service's replicas on one
// database, the webhook receiver, the driver and what they saw.
type run struct {
	t      *testing.T
	cfg    runConfig
	bin    string
	logDir string

	sim    *proc
	simURL string
	vipps  *vipps.Client // the suite's own client of the simulator, for /details
	pg     *pgCluster
	reps   []*replica
	hooks  *receiver
	shopC  *http.Client
	ctlC   *http.Client

	// addsShipping: the simulator reserves express shipping on top of
	// the amount initiated (-express-adds-shipping). shopShipping: the
	// service asks the shop for shipping options (-shipping-url, the
	// receiver's serveShipping) instead of sending its static ones.
	addsShipping, shopShipping bool

	dis     disruptions
	st      stats
	started atomic.Int64 // payments the driver has started

	mu     sync.Mutex
	orders map[string]*order // by shopRef
}

func newRun(t *testing.T, cfg runConfig, bin string) *run {
	r := &run{t: t, cfg: cfg, bin: bin, orders: map[string]*order{}}
	r.st.init()
	r.shopC = &http.Client{Timeout: shopTimeout, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	r.ctlC = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	t.Cleanup(r.shopC.CloseIdleConnections)
	t.Cleanup(r.ctlC.CloseIdleConnections)
	return r
}

// rng returns the random source of one part of the run (the driver's
// payment i, the monkey, ...): the same seed gives every part the same
// choices whatever the interleaving.
func (r *run) rng(part string, i int) *rand.Rand {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%s", r.cfg.db, part)
	return rand.New(rand.NewPCG(r.cfg.seed, h.Sum64()+uint64(i)))
}

func (r *run) main() {
	t := r.t
	began := time.Now()
	if *flagLogDir != "" {
		// A directory of its own in it, so that runs never share files.
		if err := os.MkdirAll(*flagLogDir, 0o755); err != nil {
			t.Fatal(err)
		}
		dir, err := os.MkdirTemp(*flagLogDir, "chaos-"+r.cfg.db+"-")
		if err != nil {
			t.Fatal(err)
		}
		r.logDir = dir
		t.Logf("%s: logs and database kept in %s", r.cfg.db, dir)
	} else {
		r.logDir = t.TempDir()
	}
	var hookRng *rand.Rand
	if r.cfg.faults {
		hookRng = r.rng("webhooks", 0)
	}
	r.hooks = newReceiver(webhookSecret, hookRng)
	t.Cleanup(r.hooks.close)
	r.startSim()
	var err error
	r.vipps, err = vipps.New(vipps.Config{
		BaseURL: r.simURL, ClientID: simClientID, ClientSecret: simClientSecret,
		SubscriptionKey: simSubscriptionKey, MerchantSerialNumber: simMSN, SystemName: "vippskit-chaostest",
	})
	if err != nil {
		t.Fatal(err)
	}

	var db string
	replicas := 1
	if r.cfg.db == "postgres" {
		r.pg = startPostgres(t)
		db, replicas = r.pg.dsn(), 2
	} else {
		db = filepath.Join(r.logDir, "vipps.db")
	}
	r.shopShipping = r.rng("shop-shipping", 0).IntN(2) == 0 // half the seeds
	for i := range replicas {
		r.reps = append(r.reps, r.newReplica(i, db))
	}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		t.Logf("simulator log (tail), %s:\n%s", r.sim.logPath, tail(r.sim.logPath, 15))
		for _, rep := range r.reps {
			t.Logf("%s log (tail), %s:\n%s", rep.proc.name, rep.proc.logPath, tail(rep.proc.logPath, 15))
		}
	})
	for _, rep := range r.reps { // one after the other: the first migrates
		if err := r.startReplica(rep, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%s: simulator %s, %d replica(s) %s, webhooks to %s; %d payments, %d at once, %d kills, %d database restarts, %d disk full, faults %v",
		r.cfg.db, r.simURL, len(r.reps), r.replicaURLs(), r.hooks.url, r.cfg.payments, r.cfg.concurrency, r.cfg.kills, r.cfg.dbRestarts,
		r.cfg.diskFull, r.cfg.faults)

	setup := time.Since(began)
	driveStart := time.Now()
	r.driveWithChaos()
	driven := time.Since(driveStart)

	convStart := time.Now()
	conv := r.converge()
	conv.took = time.Since(convStart)

	res := r.check(conv)
	r.report(res, conv, setup, driven)
}

func (r *run) replicaURLs() string {
	var s []string
	for _, rep := range r.reps {
		s = append(s, rep.url)
	}
	return strings.Join(s, ", ")
}

// driveWithChaos runs the driver, and meanwhile the monkey that kills
// replicas and restarts the database, and the supervisor that notices
// replicas that exit on their own.
func (r *run) driveWithChaos() {
	ctx, cancel := context.WithTimeout(context.Background(), r.driveTimeout())
	defer cancel()
	chaos, stopChaos := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { r.monkey(chaos, r.rng("monkey", 0)) })
	wg.Go(func() { r.supervise(chaos) })
	r.drive(ctx)
	stopChaos()
	wg.Wait()
	// Every replica up again before convergence.
	for _, rep := range r.reps {
		rep.mu.Lock()
		if err := r.waitReady(rep, time.Minute); err != nil {
			r.t.Errorf("%s after the driver: %v", rep.proc.name, err)
		}
		rep.mu.Unlock()
	}
}

// driveTimeout bounds the driver: generously, since a payment's
// operations take at most opBudget.
func (r *run) driveTimeout() time.Duration {
	waves := (r.cfg.payments + r.cfg.concurrency - 1) / r.cfg.concurrency
	return time.Duration(waves)*(opBudget+time.Minute) + 5*time.Minute
}
