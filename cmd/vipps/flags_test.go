package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"testing"
)

// TestHelpEveryCommand checks that every command prints its usage the same
// way: -h on stdout, nothing on stderr, exit status 0.
func TestHelpEveryCommand(t *testing.T) {
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), []string{c.name, "-h"}, func(string) string { return "" }, nil, &stdout, &stderr)
			if !errors.Is(err, flag.ErrHelp) || exitCode(err) != 0 {
				t.Errorf("%s -h = %v (exit %d), want flag.ErrHelp (exit 0)", c.name, err, exitCode(err))
			}
			if want := "usage: vipps " + c.name + " [flags]"; !strings.HasPrefix(stdout.String(), want) {
				t.Errorf("%s -h stdout starts %.40q, want %q", c.name, stdout.String(), want)
			}
			if !strings.Contains(stdout.String(), "(env VIPPS_") {
				t.Errorf("%s -h names no environment variable:\n%s", c.name, stdout.String())
			}
			if stderr.Len() > 0 {
				t.Errorf("%s -h wrote to stderr: %q", c.name, stderr.String())
			}
		})
	}
}

// TestEnvMistakes checks that every environment variable a flag refuses is
// named in one usage error.
func TestEnvMistakes(t *testing.T) {
	vars := map[string]string{"VIPPS_SIM_TOKEN_LIFETIME": "forever", "VIPPS_SIM_LENIENT": "perhaps"}
	var out bytes.Buffer
	err := run(context.Background(), []string{"sim"}, func(k string) string { return vars[k] }, nil, &out, &out)
	if exitCode(err) != 2 {
		t.Fatalf("sim with bad environment = %v (exit %d), want a usage error", err, exitCode(err))
	}
	for v := range vars {
		if !strings.Contains(err.Error(), "invalid "+v) {
			t.Errorf("sim with bad environment = %v, want it to name %s", err, v)
		}
	}
}
