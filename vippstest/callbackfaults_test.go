package vippstest_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/vippstest"
)

// injectCallback adds a callback fault or fails the test.
func injectCallback(t *testing.T, srv *vippstest.Server, f vippstest.CallbackFault) string {
	t.Helper()
	return mustInject(t, "InjectCallbackFault", srv.Sim.InjectCallbackFault, f)
}

// callbackShop is a simulator whose payments call back to a sink.
type callbackShop struct {
	srv    *vippstest.Server
	sink   *callbackSink
	prefix string
}

func newCallbackShop(t *testing.T, ids ...vipps.OrderID) *callbackShop {
	t.Helper()
	sh := &callbackShop{srv: newServer(t), sink: &callbackSink{}}
	sh.prefix = sh.sink.start(t)
	for _, id := range ids {
		req := regular(id, 20000)
		req.MerchantInfo.CallbackPrefix = sh.prefix
		initiate(t, sh.srv.Client, req)
	}
	return sh
}

// count returns how many callbacks the sink got so far.
func (s *callbackSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.got)
}

// orders lists the orderIds of the callbacks the merchant got, in order.
func orders(got []received) []string {
	var out []string
	for _, r := range got {
		out = append(out, strings.TrimPrefix(r.path, "/vipps/v2/payments/"))
	}
	return out
}

func TestCallbackFaults(t *testing.T) {
	tests := []struct {
		name  string
		fault vippstest.CallbackFault
		// act runs after the fault is injected; ids are cb-1, cb-2, cb-3.
		act  func(t *testing.T, sh *callbackShop)
		want []string // orders of the callbacks the merchant got, in order
		// record lists, per recorded delivery in order, the fault that hit it.
		record []vippstest.CallbackFaultKind
	}{
		{
			name:   "drop",
			fault:  vippstest.CallbackFault{Kind: vippstest.CallbackDrop, OrderID: "cb-1"},
			act:    approveAll("cb-1", "cb-2"),
			want:   []string{"cb-2"},
			record: []vippstest.CallbackFaultKind{vippstest.CallbackDrop, ""},
		},
		{
			name:   "drop only rejections",
			fault:  vippstest.CallbackFault{Kind: vippstest.CallbackDrop, Status: vipps.CallbackCancelled},
			act:    func(t *testing.T, sh *callbackShop) { approveAll("cb-1")(t, sh); rejectAll("cb-2")(t, sh) },
			want:   []string{"cb-1"},
			record: []vippstest.CallbackFaultKind{"", vippstest.CallbackDrop},
		},
		{
			name:   "duplicate",
			fault:  vippstest.CallbackFault{Kind: vippstest.CallbackDuplicate, Count: 1},
			act:    approveAll("cb-1", "cb-2"),
			want:   []string{"cb-1", "cb-1", "cb-2"},
			record: []vippstest.CallbackFaultKind{vippstest.CallbackDuplicate, vippstest.CallbackDuplicate, ""},
		},
		{
			name:   "reorder one",
			fault:  vippstest.CallbackFault{Kind: vippstest.CallbackReorder, Count: 1},
			act:    approveAll("cb-1", "cb-2"),
			want:   []string{"cb-2", "cb-1"},
			record: []vippstest.CallbackFaultKind{"", vippstest.CallbackReorder},
		},
		{
			name:   "reorder two",
			fault:  vippstest.CallbackFault{Kind: vippstest.CallbackReorder, Count: 2},
			act:    approveAll("cb-1", "cb-2", "cb-3"),
			want:   []string{"cb-3", "cb-2", "cb-1"},
			record: []vippstest.CallbackFaultKind{"", vippstest.CallbackReorder, vippstest.CallbackReorder},
		},
		{
			name:  "reorder, released by hand",
			fault: vippstest.CallbackFault{Kind: vippstest.CallbackReorder, OrderID: "cb-1"},
			act: func(t *testing.T, sh *callbackShop) {
				approveAll("cb-1")(t, sh)
				sh.srv.Sim.WaitCallbacks()
				if n := len(sh.srv.Sim.Callbacks()); n != 0 {
					t.Errorf("Callbacks() has %d entries while the callback is held, want 0", n)
				}
				if n := sh.srv.Sim.ReleaseCallbacks(); n != 1 {
					t.Errorf("ReleaseCallbacks() = %d, want 1", n)
				}
			},
			want:   []string{"cb-1"},
			record: []vippstest.CallbackFaultKind{vippstest.CallbackReorder},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sh := newCallbackShop(t, "cb-1", "cb-2", "cb-3")
			injectCallback(t, sh.srv, tt.fault)
			tt.act(t, sh)
			got := sh.sink.wait(t, sh.srv, len(tt.want))
			if diff := cmp.Diff(tt.want, orders(got)); diff != "" {
				t.Errorf("callbacks the merchant got (-want +got):\n%s", diff)
			}
			var record []vippstest.CallbackFaultKind
			for _, cb := range sh.srv.Sim.Callbacks() {
				record = append(record, cb.Fault)
				if cb.Fault == vippstest.CallbackDrop && (cb.Delivered() || !strings.Contains(cb.Err, "dropped")) {
					t.Errorf("dropped callback recorded as %+v, want not sent", cb)
				}
			}
			if diff := cmp.Diff(tt.record, record); diff != "" {
				t.Errorf("recorded deliveries' faults (-want +got):\n%s", diff)
			}
		})
	}
}

func approveAll(ids ...vipps.OrderID) func(t *testing.T, sh *callbackShop) {
	return func(t *testing.T, sh *callbackShop) {
		for _, id := range ids {
			approveHook(t, sh.srv, id)
			sh.srv.Sim.WaitCallbacks() // one at a time, so that the order is known
		}
	}
}

func rejectAll(ids ...vipps.OrderID) func(t *testing.T, sh *callbackShop) {
	return func(t *testing.T, sh *callbackShop) {
		for _, id := range ids {
			if err := sh.srv.Sim.Reject(id); err != nil {
				t.Fatal(err)
			}
			sh.srv.Sim.WaitCallbacks()
		}
	}
}

func TestCallbackDelay(t *testing.T) {
	sh := newCallbackShop(t, "late-1")
	injectCallback(t, sh.srv, vippstest.CallbackFault{Kind: vippstest.CallbackDelay, Delay: 50 * time.Millisecond})
	start := time.Now()
	approveHook(t, sh.srv, "late-1")
	if n := sh.sink.count(); n != 0 {
		t.Errorf("the merchant got %d callbacks at once, want them after the delay", n)
	}
	sh.sink.wait(t, sh.srv, 1) // WaitCallbacks waits through the delay
	if took := time.Since(start); took < 50*time.Millisecond {
		t.Errorf("the callback came after %v, want at least 50ms", took)
	}
	if cbs := sh.srv.Sim.Callbacks(); len(cbs) != 1 || !cbs[0].Delivered() || cbs[0].Fault != vippstest.CallbackDelay {
		t.Errorf("Callbacks() = %+v, want one delayed delivery", cbs)
	}
}

// TestCallbackFaultsOnClose: Close neither waits out a callback delay nor
// sends held callbacks; both are recorded as not sent.
func TestCallbackFaultsOnClose(t *testing.T) {
	sh := newCallbackShop(t, "closing-1", "closing-2")
	injectCallback(t, sh.srv, vippstest.CallbackFault{Kind: vippstest.CallbackDelay, OrderID: "closing-1", Delay: time.Hour})
	injectCallback(t, sh.srv, vippstest.CallbackFault{Kind: vippstest.CallbackReorder, OrderID: "closing-2"})
	approveHook(t, sh.srv, "closing-1")
	approveHook(t, sh.srv, "closing-2")
	start := time.Now()
	sh.srv.Sim.Close()
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Close took %v, want it not to wait out the delay", took)
	}
	cbs := sh.srv.Sim.Callbacks()
	if len(cbs) != 2 {
		t.Fatalf("Callbacks() = %+v, want two not sent", cbs)
	}
	for _, cb := range cbs {
		if cb.Delivered() || !strings.Contains(cb.Err, "not sent") {
			t.Errorf("callback of %s = %+v, want recorded as not sent", cb.OrderID, cb)
		}
	}
	if n := sh.sink.count(); n != 0 {
		t.Errorf("the merchant got %d callbacks, want 0", n)
	}
}

func TestInjectCallbackFaultInvalid(t *testing.T) {
	srv := newServer(t)
	tests := []struct {
		name  string
		fault vippstest.CallbackFault
		want  string
	}{
		{"no kind", vippstest.CallbackFault{}, "kind"},
		{"unknown kind", vippstest.CallbackFault{Kind: "lose"}, "kind"},
		{"negative count", vippstest.CallbackFault{Kind: vippstest.CallbackDrop, Count: -2}, "negative"},
		{"delay without a delay", vippstest.CallbackFault{Kind: vippstest.CallbackDelay}, "needs a delay"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := srv.Sim.InjectCallbackFault(tt.fault); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("InjectCallbackFault(%+v) = %v, want an error about %s", tt.fault, err, tt.want)
			}
		})
	}
}

func TestCallbackFaultControlAPI(t *testing.T) {
	sh := newCallbackShop(t, "ctl-cb-1", "ctl-cb-2")
	srv := sh.srv

	var f vippstest.CallbackFault
	if status := control(t, srv, "POST", "/_sim/callback-faults", `{"kind":"reorder","orderId":"ctl-cb-1","count":1}`, &f); status != http.StatusCreated {
		t.Fatalf("POST /_sim/callback-faults = %d", status)
	}
	if want := (vippstest.CallbackFault{ID: f.ID, Kind: vippstest.CallbackReorder, OrderID: "ctl-cb-1", Count: 1}); f.ID == "" || f != want {
		t.Errorf("POST /_sim/callback-faults = %+v, want %+v with an id", f, want)
	}
	var d vippstest.CallbackFault
	control(t, srv, "POST", "/_sim/callback-faults", `{"kind":"delay","delay":"10ms","status":"CANCELLED"}`, &d)
	var list []vippstest.CallbackFault
	control(t, srv, "GET", "/_sim/callback-faults", "", &list)
	if len(list) != 2 || list[1].Delay != 10*time.Millisecond || list[1].Status != vipps.CallbackCancelled {
		t.Errorf("GET /_sim/callback-faults = %+v, want both faults", list)
	}

	approveHook(t, srv, "ctl-cb-1")
	srv.Sim.WaitCallbacks()
	var released struct{ Released int }
	if status := control(t, srv, "POST", "/_sim/callbacks/release", "", &released); status != http.StatusOK || released.Released != 1 {
		t.Errorf("POST /_sim/callbacks/release = %d %+v, want 200 and one released", status, released)
	}
	if got := sh.sink.wait(t, srv, 1); got[0].path != "/vipps/v2/payments/ctl-cb-1" {
		t.Errorf("released callback went to %s", got[0].path)
	}

	var e struct{ Error string }
	for _, bad := range []string{`{"kind":"lose"}`, `{"kind":"delay"}`, `{"kind":"drop","when":"now"}`} {
		if status := control(t, srv, "POST", "/_sim/callback-faults", bad, &e); status != http.StatusBadRequest || e.Error == "" {
			t.Errorf("POST /_sim/callback-faults %s = %d %+v, want 400", bad, status, e)
		}
	}
	if status := control(t, srv, "DELETE", "/_sim/callback-faults/"+d.ID, "", nil); status != http.StatusNoContent {
		t.Errorf("DELETE /_sim/callback-faults/%s = %d, want 204", d.ID, status)
	}
	control(t, srv, "POST", "/_sim/callback-faults", `{"kind":"drop"}`, nil)
	if status := control(t, srv, "DELETE", "/_sim/callback-faults", "", nil); status != http.StatusNoContent {
		t.Errorf("DELETE /_sim/callback-faults = %d, want 204", status)
	}
	if fs := srv.Sim.CallbackFaults(); len(fs) != 0 {
		t.Errorf("CallbackFaults() after DELETE = %+v, want none", fs)
	}
	approveHook(t, srv, "ctl-cb-2")
	sh.sink.wait(t, srv, 2)
}
