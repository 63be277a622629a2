package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/vippstest"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"vipps": main})
}

// TestScript runs the scripts in testdata/script. Each script gets its own
// simulator, with the environment set up for its default merchant:
// VIPPS_BASE_URL, VIPPS_CLIENT_ID, VIPPS_CLIENT_SECRET,
// VIPPS_SUBSCRIPTION_KEY, VIPPS_MSN, VIPPS_CALLBACK_PREFIX and
// VIPPS_FALLBACK. The simulator's callbacks never leave the process.
//
// Besides the standard commands, scripts have
//
//	exits <status> <command> [args...]  run a command and check its exit status
//	grab <VAR> <regexp>                 set VAR to the first group of regexp in the last stdout
//	sim-approve <order-id>              act as the user approving in the app (express too)
//	sim-header <op> <header> <regexp>   check a header of the last request to an endpoint
//	port held|free <VAR>                set VAR to a loopback address that a listener holds
//	                                    until the script ends, or where nothing listens
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
			sim, err := vippstest.New(vippstest.Config{HTTPClient: &http.Client{Transport: noNetwork{}}})
			if err != nil {
				return err
			}
			srv := httptest.NewServer(sim)
			env.Defer(func() {
				srv.Close()
				sim.Close()
			})
			env.Values[simKey{}] = sim
			m := vippstest.DefaultMerchant()
			env.Setenv("VIPPS_BASE_URL", srv.URL)
			env.Setenv("VIPPS_CLIENT_ID", m.ClientID)
			env.Setenv("VIPPS_CLIENT_SECRET", m.ClientSecret)
			env.Setenv("VIPPS_SUBSCRIPTION_KEY", m.SubscriptionKey)
			env.Setenv("VIPPS_MSN", string(m.MSN))
			env.Setenv("VIPPS_CALLBACK_PREFIX", "https://shop.example/vipps")
			env.Setenv("VIPPS_FALLBACK", "https://shop.example/return")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":       cmdExits,
			"grab":        cmdGrab,
			"sim-approve": cmdSimApprove,
			"sim-header":  cmdSimHeader,
			"port":        cmdPort,
		},
	})
}

// noNetwork refuses every request: the simulator's callbacks to the
// merchant fail at once instead of leaving the machine.
type noNetwork struct{}

func (noNetwork) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("no network in tests: %s %s", r.Method, r.URL)
}

// cmdExits runs a command and checks its exit status.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits <status> <command> [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: status %q is not a number", args[0])
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		got = ee.ExitCode()
	} else if err != nil {
		ts.Fatalf("exits: %v", err)
	}
	if got != want {
		ts.Fatalf("exit status %d, want %d", got, want)
	}
}

// cmdGrab sets an environment variable from the last command's stdout.
func cmdGrab(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: grab <VAR> <regexp with one group>")
	}
	re, err := regexp.Compile(`(?m)` + args[1])
	ts.Check(err)
	m := re.FindStringSubmatch(ts.ReadFile("stdout"))
	if len(m) < 2 {
		ts.Fatalf("grab: no match for %s in stdout", args[1])
	}
	ts.Setenv(args[0], m[1])
}

// simKey keys the script's simulator in testscript's values.
type simKey struct{}

func scriptSim(ts *testscript.TestScript) *vippstest.Simulator {
	return ts.Value(simKey{}).(*vippstest.Simulator)
}

// cmdSimApprove approves a payment as the user would in the app.
func cmdSimApprove(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: sim-approve <order-id>")
	}
	err := scriptSim(ts).Approve(vipps.OrderID(args[0]), "")
	switch {
	case err != nil && !neg:
		ts.Fatalf("sim-approve: %v", err)
	case err == nil && neg:
		ts.Fatalf("sim-approve: unexpected success")
	}
}

// cmdSimHeader checks a header of the latest request the simulator got
// for an endpoint ("initiate", "capture", ...).
func cmdSimHeader(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: sim-header <op> <header> <regexp>")
	}
	re, err := regexp.Compile(args[2])
	ts.Check(err)
	reqs := scriptSim(ts).Requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Op != args[0] {
			continue
		}
		if got := reqs[i].Header.Get(args[1]); !re.MatchString(got) {
			ts.Fatalf("sim-header: %s sent %s %q, want a match for %s", args[0], args[1], got, args[2])
		}
		return
	}
	ts.Fatalf("sim-header: no %s request recorded", args[0])
}

// cmdPort sets a variable to a loopback address on a port the system
// chose: held by a listener until the script ends, or free (a listener
// opened and closed).
func cmdPort(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 || (args[0] != "held" && args[0] != "free") {
		ts.Fatalf("usage: port held|free <VAR>")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	if args[0] == "free" {
		ts.Check(ln.Close())
	} else {
		ts.Defer(func() { ln.Close() })
	}
	ts.Setenv(args[1], ln.Addr().String())
}
