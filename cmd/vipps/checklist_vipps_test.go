package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/checklist"
	"github.com/vippskit/vipps/vippstest"
)

// vippsEnv is the environment of vipps checklist -vipps with the
// simulator standing in for Vipps.
func vippsEnv(srv *vippstest.Server) func(string) string {
	m := srv.Merchant
	vars := map[string]string{
		"VIPPS_BASE_URL": srv.URL, "VIPPS_CLIENT_ID": m.ClientID, "VIPPS_CLIENT_SECRET": m.ClientSecret,
		"VIPPS_SUBSCRIPTION_KEY": m.SubscriptionKey, "VIPPS_MSN": string(m.MSN),
		"VIPPS_CALLBACK_PREFIX": srv.URL + "/shop", "VIPPS_FALLBACK": "https://shop.example/back",
	}
	return func(k string) string { return vars[k] }
}

// checklistStatuses runs vipps checklist with args and returns the
// statuses it printed as JSON, and its error.
func checklistStatuses(t *testing.T, getenv func(string) string, args ...string) (map[string]checklist.Status, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), append([]string{"checklist", "-json"}, args...), getenv, nil, &stdout, &stderr)
	var rs []checklist.Result
	if jerr := json.Unmarshal(stdout.Bytes(), &rs); jerr != nil {
		t.Fatalf("vipps checklist %s: %v, output %v\n%s%s", strings.Join(args, " "), err, jerr, stdout.String(), stderr.String())
	}
	got := map[string]checklist.Status{}
	for _, r := range rs {
		got[r.ID] = r.Status
	}
	return got, stderr.String(), err
}

// TestChecklistVippsOrders grades orders made through the client against
// the simulator: one refunded and one voided pass; without the voided one,
// void-order fails and so does the command.
func TestChecklistVippsOrders(t *testing.T) {
	srv := vippstest.NewServer(t)
	ctx := t.Context()
	reserved := func(prefix string) vipps.OrderID {
		t.Helper()
		id := vipps.NewOrderID(prefix)
		if _, err := srv.Client.Initiate(ctx, vipps.InitiateRequest{
			MerchantInfo: vipps.MerchantInfo{CallbackPrefix: srv.URL + "/shop", FallBack: "https://shop.example/back"},
			Transaction:  vipps.InitiateTransaction{Amount: 1000, OrderID: id, TransactionText: "Socks"},
		}); err != nil {
			t.Fatal(err)
		}
		if err := srv.Sim.Approve(id, ""); err != nil {
			t.Fatal(err)
		}
		return id
	}
	refunded := reserved("acme-refund")
	if _, err := srv.Client.Capture(ctx, refunded, vipps.CaptureRequest{Amount: 400, TransactionText: "part"}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Client.Capture(ctx, refunded, vipps.CaptureRequest{TransactionText: "rest"}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Client.Refund(ctx, refunded, vipps.CaptureRequest{TransactionText: "all"}); err != nil {
		t.Fatal(err)
	}
	voided := reserved("acme-void")
	if _, err := srv.Client.Cancel(ctx, voided, vipps.CancelRequest{TransactionText: "never mind"}); err != nil {
		t.Fatal(err)
	}

	got, stderr, err := checklistStatuses(t, vippsEnv(srv), "-vipps", "-order", string(refunded), "-order", string(voided))
	if err != nil {
		t.Fatalf("vipps checklist -vipps -order %s -order %s = %v, want nil\n%s", refunded, voided, err, stderr)
	}
	for id, want := range map[string]checklist.Status{
		"refund-order": checklist.Pass, "void-order": checklist.Pass, "headers": checklist.Pass,
		"endpoints": checklist.NotSeen, "callbacks": checklist.NotSeen,
	} {
		if got[id] != want {
			t.Errorf("vipps checklist -vipps: %s = %s, want %s", id, got[id], want)
		}
	}

	got, _, err = checklistStatuses(t, vippsEnv(srv), "-vipps", "-order", string(refunded))
	if err == nil || !strings.Contains(err.Error(), "void-order") {
		t.Errorf("vipps checklist -vipps -order %s = %v, want an error naming void-order", refunded, err)
	}
	if got["refund-order"] != checklist.Pass || got["void-order"] != checklist.Fail {
		t.Errorf("vipps checklist -vipps -order %s: refund-order %s, void-order %s; want pass, fail", refunded, got["refund-order"], got["void-order"])
	}
}

// TestChecklistVippsRunTestOrders lets the command make the two test
// orders against the simulator while a goroutine approves each as soon as
// it appears, as a person would in the app.
func TestChecklistVippsRunTestOrders(t *testing.T) {
	srv := vippstest.NewServer(t)
	ctx, stop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	wg.Go(func() {
		approved := map[vipps.OrderID]bool{}
		for ctx.Err() == nil {
			for _, p := range srv.Sim.Payments() {
				if !approved[p.OrderID] && p.Status == vipps.OrderStatusInitiate {
					approved[p.OrderID] = srv.Sim.Approve(p.OrderID, "") == nil
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
	})

	got, stderr, err := checklistStatuses(t, vippsEnv(srv), "-vipps", "-run-test-orders", "-phone", "12345678", "-poll", "10ms", "-wait", "30s")
	if err != nil {
		t.Fatalf("vipps checklist -vipps -run-test-orders = %v, want nil\n%s", err, stderr)
	}
	if got["refund-order"] != checklist.Pass || got["void-order"] != checklist.Pass {
		t.Errorf("vipps checklist -vipps -run-test-orders: refund-order %s, void-order %s; want pass, pass\n%s", got["refund-order"], got["void-order"], stderr)
	}
	for _, want := range []string{"approve it in the Vipps app as the test user 12345678", "captured and refunded", "reserved and cancelled"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("vipps checklist -vipps -run-test-orders: stderr lacks %q:\n%s", want, stderr)
		}
	}
	if n := len(srv.Sim.Payments()); n != 2 {
		t.Errorf("vipps checklist -vipps -run-test-orders made %d payments, want 2", n)
	}
}

// TestChecklistVippsNotApproved: a test order nobody approves ends the
// command with an error that says what to do.
func TestChecklistVippsNotApproved(t *testing.T) {
	srv := vippstest.NewServer(t)
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"checklist", "-vipps", "-run-test-orders", "-poll", "10ms", "-wait", "50ms"}, vippsEnv(srv), nil, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "was not approved within 50ms") {
		t.Errorf("vipps checklist -vipps -run-test-orders, not approved = %v, want an error saying it was not approved", err)
	}
}
