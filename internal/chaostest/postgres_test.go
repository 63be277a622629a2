package chaostest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pgCluster is a throwaway PostgreSQL cluster of the suite's own: initdb
// into a temporary directory, a free loopback port, the socket in the
// temporary directory. It never touches the machine's shared server.
type pgCluster struct {
	bin     string // the directory of initdb and pg_ctl
	base    string // temporary directory: data, sock, log
	port    int
	asUser  []string // runuser prefix when running as root, which initdb refuses
	logPath string
}

// pgBinDir finds the newest /usr/lib/postgresql/*/bin with initdb and
// pg_ctl, or "".
func pgBinDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return vb - va
	})
	for _, d := range dirs {
		_, e1 := os.Stat(filepath.Join(d, "initdb"))
		_, e2 := os.Stat(filepath.Join(d, "pg_ctl"))
		if e1 == nil && e2 == nil {
			return d
		}
	}
	return ""
}

// startPostgres creates and starts a cluster, stopped and removed when the
// test ends. Without the binaries it skips the test, or fails it when CI
// is set.
func startPostgres(t *testing.T) *pgCluster {
	t.Helper()
	bin := pgBinDir()
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("PostgreSQL binaries (/usr/lib/postgresql/*/bin/initdb, pg_ctl) are missing, and CI is set")
		}
		t.Skip("PostgreSQL binaries (/usr/lib/postgresql/*/bin/initdb, pg_ctl) are missing; skipping the PostgreSQL chaos run")
	}
	sweepClusters(t, bin)
	// Not t.TempDir: its parents are 0700 root, which the postgres user
	// cannot enter.
	base, err := os.MkdirTemp("", clusterPrefix)
	if err != nil {
		t.Fatal(err)
	}
	// The owner's pid lets a later run stop the cluster should this test
	// process die without its cleanup (a -timeout panic, a SIGKILL).
	if err := os.WriteFile(filepath.Join(base, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		t.Fatal(err)
	}
	c := &pgCluster{bin: bin, base: base, port: freePort(t), logPath: filepath.Join(base, "postgres.log")}
	t.Cleanup(func() {
		c.stop()
		if t.Failed() {
			t.Logf("postgres log (tail):\n%s", tail(c.logPath, 20))
		}
		os.RemoveAll(base)
	})
	if err := os.Mkdir(filepath.Join(base, "sock"), 0o755); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, initdb needs the postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		for _, p := range []string{base, filepath.Join(base, "sock")} {
			if err := os.Chown(p, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chmod(base, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	c.asUser = asPostgres(t)
	if out, err := c.run(time.Minute, "initdb", "-D", c.data(), "-U", "postgres", "--auth=trust",
		"-E", "UTF8", "--no-sync", "--no-instructions"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	if err := c.start(); err != nil {
		t.Fatal(err)
	}
	t.Logf("PostgreSQL %s on 127.0.0.1:%d, data in %s", filepath.Base(filepath.Dir(bin)), c.port, c.data())
	return c
}

// clusterPrefix names the temporary directories of the suite's clusters.
const clusterPrefix = "vippskit-chaos-pg-"

// asPostgres is the prefix that runs a PostgreSQL binary as the postgres
// user when the test runs as root (initdb refuses root), else nothing.
func asPostgres(t *testing.T) []string {
	if os.Geteuid() != 0 {
		return nil
	}
	runuser, err := exec.LookPath("runuser")
	if err != nil {
		t.Fatalf("running as root, initdb needs runuser: %v", err)
	}
	return []string{runuser, "-u", "postgres", "--"}
}

// sweepClusters stops and removes the clusters of earlier runs whose test
// process is gone: only directories this suite made, never anything else.
func sweepClusters(t *testing.T, bin string) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), clusterPrefix+"*"))
	for _, base := range dirs {
		b, err := os.ReadFile(filepath.Join(base, "owner.pid"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid == os.Getpid() || syscall.Kill(pid, 0) != syscall.ESRCH {
			continue // its owner still runs
		}
		c := &pgCluster{bin: bin, base: base, asUser: asPostgres(t)}
		if _, err := os.Stat(filepath.Join(c.data(), "postmaster.pid")); err == nil {
			c.stop()
		}
		os.RemoveAll(base)
		t.Logf("removed the PostgreSQL cluster %s left by test process %d", base, pid)
	}
}

func (c *pgCluster) data() string { return filepath.Join(c.base, "data") }

// dsn is the URL the replicas use (trust authentication, loopback).
func (c *pgCluster) dsn() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

// run runs one of the cluster's binaries as the postgres user.
func (c *pgCluster) run(timeout time.Duration, prog string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	argv := append(slices.Clone(c.asUser), filepath.Join(c.bin, prog))
	argv = append(argv, args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = cleanEnv()
	cmd.Dir = c.base
	return cmd.CombinedOutput()
}

// start starts the server and waits until it accepts connections. fsync is
// off: an immediate shutdown is a crash of the server, not of the machine,
// so the WAL in the page cache survives it and recovery is still tested.
func (c *pgCluster) start() error {
	opts := strings.Join([]string{
		"-p", strconv.Itoa(c.port), "-k", filepath.Join(c.base, "sock"),
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=200",
	}, " ")
	out, err := c.run(90*time.Second, "pg_ctl", "-D", c.data(), "-l", c.logPath, "-w", "-t", "60", "-o", opts, "start")
	if err != nil {
		return fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, tail(c.logPath, 20))
	}
	return nil
}

// stop stops the server with an immediate shutdown: no checkpoint, the
// next start recovers from the WAL, as after a crash.
func (c *pgCluster) stop() error {
	out, err := c.run(60*time.Second, "pg_ctl", "-D", c.data(), "-m", "immediate", "-w", "-t", "30", "stop")
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %v\n%s", err, out)
	}
	return nil
}
