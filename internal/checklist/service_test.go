package checklist

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps"
)

// goodInstallation is a service in the test environment that did
// everything the checklist asks for.
func goodInstallation() Installation {
	cb := []time.Time{at(10)}
	return Installation{
		Now: at(3600), VippsURL: vipps.TestURL, SystemName: "vippskit", SystemVersion: "1.2.3",
		PublicURL: "https://pay.example.no", CallbackURL: "https://pay.example.no/vipps",
		AdminURL: "https://pay.example.no/admin/",
		Keys:     KeysCheck{Checked: true},
		Poller:   PollerCheck{Known: true, Checks: 12, Last: at(3500)},
		Payments: []InstalledPayment{
			{OrderID: "acme-1001", State: "refunded", Decided: true, Callbacks: cb, Receipt: true, ReceiptSent: true, Ops: []InstalledOp{
				{Kind: "capture", Status: "succeeded", Full: true, Sends: 1, RequestID: "c1"},
				{Kind: "refund", Status: "succeeded", Full: true, Sends: 2, RequestID: "r1"},
			}},
			{OrderID: "acme-1002", State: "captured", Decided: true, Callbacks: cb, Ops: []InstalledOp{
				{Kind: "capture", Status: "succeeded", Sends: 1, RequestID: "c2"},
				{Kind: "refund", Status: "succeeded", Sends: 1, RequestID: "r2"},
			}},
			{OrderID: "acme-1003", State: "voided", Decided: true, Callbacks: cb, Ops: []InstalledOp{
				{Kind: "cancel", Status: "succeeded", Sends: 1, RequestID: "x3"},
			}},
			{OrderID: "acme-1004", State: "failed", Decided: true, Failed: true, Callbacks: cb},
			{OrderID: "acme-1005", State: "reserved", Decided: true}, // learned by polling
		},
	}
}

func serviceStatuses(rs []Result) map[string]Status {
	m := map[string]Status{}
	for _, r := range rs {
		m[r.ID] = r.Status
	}
	return m
}

func TestGradeService(t *testing.T) {
	all := func(s Status) map[string]Status {
		m := map[string]Status{}
		for _, it := range Items {
			m[it.ID] = s
		}
		m["design"] = Manual
		return m
	}
	with := func(m map[string]Status, kv ...any) map[string]Status {
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1].(Status)
		}
		return m
	}
	tests := []struct {
		name   string
		change func(*Installation)
		want   map[string]Status
	}{
		{"everything done", func(*Installation) {}, all(Pass)},
		{"new installation", func(in *Installation) { in.Payments = nil; in.Poller.Checks = 0 },
			with(all(NotSeen), "errors", Pass, "headers", Pass, "redirects", Pass, "support", Pass)},
		{"keys refused", func(in *Installation) { in.Keys.Error = "401 Unauthorized" }, with(all(Pass), "headers", Fail)},
		{"keys not checked", func(in *Installation) { in.Keys = KeysCheck{} }, all(Pass)},
		{"no system name", func(in *Installation) { in.SystemName = "" }, with(all(Pass), "headers", Fail)},
		{"localhost public URL against Vipps", func(in *Installation) {
			in.PublicURL, in.CallbackURL = "http://localhost:8080", "http://localhost:8080/vipps"
		}, with(all(Pass), "callbacks", Fail, "redirects", Fail)},
		{"localhost public URL against a simulator", func(in *Installation) {
			in.VippsURL, in.PublicURL, in.CallbackURL = "http://127.0.0.1:9000", "http://127.0.0.1:8080", "http://127.0.0.1:8080/vipps"
		}, all(Pass)},
		{"no callback ever arrived", func(in *Installation) {
			for i := range in.Payments {
				in.Payments[i].Callbacks = nil
			}
		}, with(all(Pass), "callbacks", Fail)},
		{"no failure callback", func(in *Installation) { in.Payments[3].Callbacks = nil }, with(all(Pass), "callbacks", NotSeen)},
		{"poller stopped", func(in *Installation) { in.Payments[4].Overdue = true }, with(all(Pass), "polling", Fail)},
		{"receipt gave up", func(in *Installation) { in.Payments[1].ReceiptDead = true }, with(all(Pass), "receipts", Fail)},
		{"digits-only orderIds", func(in *Installation) { in.Payments[0].OrderID = "10000001" }, with(all(Pass), "orderid", Fail)},
		{"no partial refund", func(in *Installation) { in.Payments[1].Ops = in.Payments[1].Ops[:1] }, with(all(Pass), "endpoints", NotSeen)},
		{"nothing refunded or voided", func(in *Installation) { in.Payments[0].State, in.Payments[2].State = "captured", "cancelled" },
			with(all(Pass), "refund-order", NotSeen, "void-order", NotSeen)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := goodInstallation()
			tt.change(&in)
			rs := GradeService(in)
			if diff := cmp.Diff(tt.want, serviceStatuses(rs)); diff != "" {
				for _, r := range rs {
					t.Logf("%s: %s: %s", r.ID, r.Status, r.Summary)
				}
				t.Errorf("GradeService() statuses (-want +got):\n%s", diff)
			}
			for i, r := range rs {
				if r.ID != Items[i].ID || r.Title != Items[i].Title {
					t.Errorf("GradeService()[%d] = %s %q, want %s %q", i, r.ID, r.Title, Items[i].ID, Items[i].Title)
				}
				if r.Status != Pass && r.Fix == "" {
					t.Errorf("GradeService() %s is %s without a fix", r.ID, r.Status)
				}
				if r.Evidence == nil {
					t.Errorf("GradeService() %s has nil evidence, want a list (JSON [])", r.ID)
				}
			}
		})
	}
}

func TestGradeServiceEvidence(t *testing.T) {
	rs := GradeService(goodInstallation())
	got := map[string]Result{}
	for _, r := range rs {
		got[r.ID] = r
	}
	if e := got["errors"].Evidence; len(e) != 1 || e[0].RequestID != "r1" {
		t.Errorf("errors evidence = %+v, want the refund r1 sent twice", e)
	}
	if e := got["support"].Evidence; len(e) != 1 || e[0].Note != "admin at https://pay.example.no/admin/" {
		t.Errorf("support evidence = %+v, want the admin URL", e)
	}
	if e := got["refund-order"].Evidence; len(e) != 1 || e[0].OrderID != "acme-1001" {
		t.Errorf("refund-order evidence = %+v, want acme-1001", e)
	}
}
