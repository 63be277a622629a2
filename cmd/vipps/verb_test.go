package main

import (
	"bytes"
	"context"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseInterleaved(t *testing.T) {
	for _, tt := range []struct {
		name     string
		args     []string
		wantPos  []string
		wantText string
	}{
		{name: "flags first", args: []string{"-text", "hi", "acme-1"}, wantPos: []string{"acme-1"}, wantText: "hi"},
		{name: "argument first", args: []string{"acme-1", "-text", "hi"}, wantPos: []string{"acme-1"}, wantText: "hi"},
		{name: "mixed", args: []string{"a", "-text", "hi", "b"}, wantPos: []string{"a", "b"}, wantText: "hi"},
		{name: "double dash", args: []string{"-text", "hi", "--", "-a", "-text"}, wantPos: []string{"-a", "-text"}, wantText: "hi"},
		{name: "none", args: nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			text := fs.String("text", "", "")
			pos, err := parseInterleaved(fs, tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantPos, pos); diff != "" || *text != tt.wantText {
				t.Errorf("parseInterleaved(%q) = %q, -text %q, want %q, -text %q", tt.args, pos, *text, tt.wantPos, tt.wantText)
			}
		})
	}
}

func TestEnvFallback(t *testing.T) {
	vars := map[string]string{
		"VIPPS_CLIENT_ID": "env-id",
		"VIPPS_MSN":       "654321",
		"VIPPS_TIMEOUT":   "5s",
	}
	e := &env{getenv: func(k string) string { return vars[k] }}
	v := newVerb(e, "test", "", "")
	if _, err := v.parse([]string{"-msn", "123456"}); err != nil {
		t.Fatal(err)
	}
	if v.client.clientID != "env-id" {
		t.Errorf("client id = %q, want env-id from VIPPS_CLIENT_ID", v.client.clientID)
	}
	if v.client.msn != "123456" {
		t.Errorf("msn = %q, want 123456: the flag wins over VIPPS_MSN", v.client.msn)
	}
	if v.timeout != 5*time.Second {
		t.Errorf("timeout = %v, want 5s from VIPPS_TIMEOUT", v.timeout)
	}

	vars["VIPPS_TIMEOUT"] = "soon"
	_, err := newVerb(e, "test", "", "").parse(nil)
	if got := exitCode(err); got != 2 || !strings.Contains(err.Error(), "VIPPS_TIMEOUT") {
		t.Errorf("parse with VIPPS_TIMEOUT=soon = %v (exit %d), want a usage error naming VIPPS_TIMEOUT", err, got)
	}
}

func TestRequire(t *testing.T) {
	vars := map[string]string{"VIPPS_CLIENT_ID": "id", "VIPPS_SUBSCRIPTION_KEY": "key"}
	e := &env{getenv: func(k string) string { return vars[k] }}
	v := newVerb(e, "capture", "", "")
	v.fs.String("text", "", "")
	if _, err := v.parse(nil); err != nil {
		t.Fatal(err)
	}
	err := v.require("text")
	want := "missing -client-secret (or VIPPS_CLIENT_SECRET), -msn (or VIPPS_MSN), -text"
	if err == nil || err.Error() != want || exitCode(err) != 2 {
		t.Errorf("require() = %v (exit %d), want %q (exit 2)", err, exitCode(err), want)
	}
}

func TestUsageListsEnv(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"capture", "-h"}, func(string) string { return "" }, nil, &out, &out)
	if err != flag.ErrHelp || exitCode(err) != 0 {
		t.Fatalf("capture -h = %v (exit %d), want flag.ErrHelp (exit 0)", err, exitCode(err))
	}
	for _, want := range []string{
		"usage: vipps capture [flags] <order-id>",
		"-client-secret",
		"(env VIPPS_CLIENT_SECRET)",
		"(env VIPPS_BASE_URL)",
		"-request-id key",
		"(default 1m0s)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("capture -h does not show %q:\n%s", want, out.String())
		}
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	vars := map[string]string{
		"VIPPS_CLIENT_ID":        "id",
		"VIPPS_CLIENT_SECRET":    "s3cret-value",
		"VIPPS_SUBSCRIPTION_KEY": "k3y-value",
		"VIPPS_MSN":              "12",
	}
	var out bytes.Buffer
	err := run(context.Background(), []string{"details", "acme-1"}, func(k string) string { return vars[k] }, nil, &out, &out)
	printError(&out, err)
	if strings.Contains(out.String(), "s3cret-value") || strings.Contains(out.String(), "k3y-value") {
		t.Errorf("output shows a secret:\n%s", out.String())
	}
	if exitCode(err) != 2 || !strings.Contains(out.String(), "-msn") {
		t.Errorf("details with MSN 12 = %v (exit %d), want a usage error about -msn", err, exitCode(err))
	}
}
