package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/checklist"
	"github.com/vippskit/vipps/internal/payment"
)

// TestChecklistService runs vipps checklist -service against a real
// in-process vipps serve (with its simulator) that has one order ending in
// REFUND and one in VOID: the service grades itself, and the command
// prints, reports and exits as it does with -sim.
func TestChecklistService(t *testing.T) {
	const password = "test-admin-password"
	app := startTestServe(t, "-database", filepath.Join(t.TempDir(), "vipps.db"), "-admin-password", password)
	ctx := context.Background()
	reserve := func(ref string) vipps.OrderID {
		t.Helper()
		return reserved(t, app, payment.CreateRequest{Amount: 10000, Text: "Socks", ShopRef: ref, ReturnURL: "https://shop.example/" + ref})
	}
	refunded := reserve("r1")
	for _, op := range []func(context.Context, vipps.OrderID, payment.OpRequest) (*payment.Operation, error){app.svc.Capture, app.svc.Refund} {
		if _, err := op(ctx, refunded, payment.OpRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	voided := reserve("v1")
	if _, err := app.svc.Cancel(ctx, voided, payment.OpRequest{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "refunded and voided", func() bool {
		return state(t, app, refunded) == payment.Refunded && state(t, app, voided) == payment.Voided
	})

	getenv := func(k string) string {
		if k == "VIPPS_ADMIN_PASSWORD" {
			return password
		}
		return ""
	}
	report := filepath.Join(t.TempDir(), "checklist.md")
	var stdout, stderr bytes.Buffer
	if err := run(ctx, []string{"checklist", "-service", app.url, "-json", "-report", report}, getenv, nil, &stdout, &stderr); err != nil {
		t.Fatalf("vipps checklist -service = %v, want nil\n%s%s", err, stdout.String(), stderr.String())
	}
	var rs []checklist.Result
	if err := json.Unmarshal(stdout.Bytes(), &rs); err != nil {
		t.Fatalf("vipps checklist -service -json: %v\n%s", err, stdout.String())
	}
	got := map[string]checklist.Status{}
	for _, r := range rs {
		got[r.ID] = r.Status
	}
	for id, want := range map[string]checklist.Status{
		"refund-order": checklist.Pass, "void-order": checklist.Pass, "headers": checklist.Pass,
		"orderid": checklist.Pass, "support": checklist.Pass, "design": checklist.Manual,
	} {
		if got[id] != want {
			t.Errorf("vipps checklist -service: %s = %s, want %s", id, got[id], want)
		}
	}
	if len(rs) != len(checklist.Items) {
		t.Errorf("vipps checklist -service printed %d items, want %d", len(rs), len(checklist.Items))
	}
	md, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "graded by the service itself") || !strings.Contains(string(md), "order "+string(refunded)) {
		t.Errorf("report lacks its header or the REFUND order:\n%s", md)
	}

	stdout.Reset()
	if err := run(ctx, []string{"checklist", "-service", app.url}, getenv, nil, &stdout, &stderr); err != nil {
		t.Fatalf("vipps checklist -service (table) = %v", err)
	}
	if !strings.HasPrefix(stdout.String(), "ITEM") || !strings.Contains(stdout.String(), "refund-order") {
		t.Errorf("vipps checklist -service table:\n%s", stdout.String())
	}

	noEnv := func(string) string { return "" }
	err = run(ctx, []string{"checklist", "-service", app.url, "-admin-password", "wrong-password"}, noEnv, nil, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "refused the admin sign-in") {
		t.Errorf("vipps checklist -service with a wrong password = %v, want a refused sign-in", err)
	}
}
