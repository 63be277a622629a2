package checklist_test

import (
	"bytes"
	"encoding/json"
	"io"
	"slices"
	"testing"

	"github.com/vippskit/vipps/internal/checklist"
	"github.com/vippskit/vipps/vippstest"
)

// FuzzGrade checks that decoding the evidence as `vipps checklist` does
// (GET /_sim/audit into a vippstest.Audit), grading it and rendering the
// results never panics, whatever the simulator (or something posing as it)
// sends. It is seeded with the audits of real merchants, a good one and
// one with every flaw. Their audits are some 30 KB, so minimizing an
// interesting input takes long: fuzz with -fuzzminimizetime=5s or so.
func FuzzGrade(f *testing.F) {
	for _, fl := range []flaws{{}, {newRequestID: true, failureCallback500: true, noReceipts: true, shipping500: true}} {
		m := newMerchant(f, fl)
		m.shopRegular()
		m.shopExpress()
		m.srv.Sim.WaitCallbacks()
		b, err := json.Marshal(m.srv.Sim.Audit(m.srv.Merchant.MSN))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"requests":[{"op":"capture","status":0,"fault":"drop-after-apply"},{"op":"capture","requestId":"x"}],"payments":[{"orderId":""}]}`))
	f.Add([]byte(`{"payments":[{"orderId":"0","callbackPrefix":"%zz","fallBack":"http://[::1"}],"callbacks":[{"fault":"drop","orderId":"0"}]}`))
	statuses := []checklist.Status{checklist.Pass, checklist.Fail, checklist.Manual, checklist.NotSeen}
	f.Fuzz(func(t *testing.T, b []byte) {
		var a vippstest.Audit
		if err := json.NewDecoder(bytes.NewReader(b)).Decode(&a); err != nil {
			return
		}
		// The fallBack checks need the network; stand-ins of each kind.
		var fbs []checklist.FallBackCheck
		for i, p := range a.Payments {
			fbs = append(fbs, checklist.FallBackCheck{OrderID: p.OrderID, URL: p.FallBack, Status: []int{200, 401, 0}[i%3], Skipped: p.IsApp})
		}
		rs := checklist.Grade(checklist.Input{Audit: a, FallBacks: fbs})
		if len(rs) != len(checklist.Items) {
			t.Fatalf("Grade(...) returned %d results, want %d", len(rs), len(checklist.Items))
		}
		for _, r := range rs {
			if !slices.Contains(statuses, r.Status) || r.Summary == "" {
				t.Errorf("Grade(...)[%s] = status %q, summary %q; want a known status and a summary", r.ID, r.Status, r.Summary)
			}
		}
		for _, write := range []func(io.Writer) error{
			func(w io.Writer) error { return checklist.WriteText(w, rs) },
			func(w io.Writer) error { return checklist.WriteJSON(w, rs) },
			func(w io.Writer) error { return checklist.WriteMarkdown(w, "fuzz", rs) },
			func(w io.Writer) error { return checklist.WriteHTML(w, "fuzz", rs) },
		} {
			if err := write(io.Discard); err != nil {
				t.Errorf("rendering the results: %v", err)
			}
		}
	})
}
