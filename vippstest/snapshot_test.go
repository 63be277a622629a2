package vippstest_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/vippstest"
)

func snapshotAt(path string) func(*vippstest.Config) {
	return func(c *vippstest.Config) { c.SnapshotPath = path }
}

// TestSnapshotRestart stops a simulator in the middle of a flow and goes
// on with a new one started from the snapshot.
func TestSnapshotRestart(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sim.json")
	ctx := t.Context()

	srv1 := newServer(t, snapshotAt(path))
	r := newRaw(t, srv1)
	reserve(t, srv1.Client, "acme-1", 10000)
	capturePath := "/ecomm/v2/payments/acme-1/capture"
	status, firstCapture := r.do("POST", capturePath, actionBody(4000, "Part one"), "X-Request-Id", "cap-1")
	if status != http.StatusOK {
		t.Fatalf("capture = %d %s", status, firstCapture)
	}
	// A payment with a scope leaves a consent for Userinfo.
	req := regular("profile-1", 20000)
	req.Transaction.Scope = "name email"
	initiate(t, srv1.Client, req)
	approveHook(t, srv1, "profile-1")
	sub := details(t, srv1.Client, "profile-1").Sub
	// Order Management.
	if _, err := srv1.Client.UploadImage(ctx, "socks", pngOf(t, 200, 200)); err != nil {
		t.Fatal(err)
	}
	cat := vipps.OrderCategory{Category: vipps.CategoryReceipt, OrderDetailsURL: "https://shop.example/orders/acme-1", ImageID: "socks"}
	if _, err := srv1.Client.PutCategory(ctx, vipps.OMEcom, "acme-1", cat); err != nil {
		t.Fatal(err)
	}
	if _, err := srv1.Client.AddReceipt(ctx, vipps.OMEcom, "acme-1", exampleReceipt()); err != nil {
		t.Fatal(err)
	}
	// A payment still waiting for the user, five minutes into its ten.
	initiate(t, srv1.Client, regular("acme-2", 10000))
	srv1.Sim.Advance(5 * time.Minute)
	before := srv1.Sim.Payments()
	srv1.Close()
	if err := srv1.Sim.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	// A crash during a later write would leave a temporary file behind;
	// it must not disturb loading.
	if err := os.WriteFile(filepath.Join(dir, ".sim.json.tmp-123"), []byte(`{"format":`), 0o600); err != nil {
		t.Fatal(err)
	}

	srv2 := newServer(t, snapshotAt(path))
	if diff := cmp.Diff(before, srv2.Sim.Payments(), timeEqual); diff != "" {
		t.Errorf("Payments after a restart (-before +after):\n%s", diff)
	}
	if got, want := srv2.Sim.Now(), start.Add(5*time.Minute); !got.Equal(want) {
		t.Errorf("Now after a restart = %v, want %v (the clock offset is kept)", got, want)
	}

	// The access token from before the restart still works, and a replay
	// of the capture gets the first answer byte for byte.
	r.srv = srv2
	status, replay := r.do("POST", capturePath, actionBody(4000, "Part one"), "X-Request-Id", "cap-1")
	if status != http.StatusOK || string(replay) != string(firstCapture) {
		t.Errorf("replay after a restart = %d %s, want 200 %s", status, replay, firstCapture)
	}
	// Capture the rest, and refund it all.
	if status, body := r.do("POST", capturePath, actionBody(0, "The rest"), "X-Request-Id", "cap-2"); status != http.StatusOK {
		t.Fatalf("capture the rest = %d %s", status, body)
	}
	if status, body := r.do("POST", "/ecomm/v2/payments/acme-1/refund", actionBody(10000, "Returned"), "X-Request-Id", "ref-1"); status != http.StatusOK {
		t.Fatalf("refund = %d %s", status, body)
	}
	d := details(t, srv2.Client, "acme-1")
	if got, want := *d.TransactionSummary, withBIN(sum(10000, 0, 10000, 0)); got != want {
		t.Errorf("summary = %+v, want %+v", got, want)
	}
	wantOps := []vipps.Operation{vipps.OperationRefund, vipps.OperationCapture, vipps.OperationCapture, vipps.OperationReserve, vipps.OperationInitiate}
	if diff := cmp.Diff(wantOps, ops(d)); diff != "" {
		t.Errorf("log operations (-want +got):\n%s", diff)
	}
	ids := map[string]bool{}
	for _, e := range d.TransactionLogHistory[:3] {
		if ids[e.TransactionID] {
			t.Errorf("transaction id %s is used twice: the counter was not kept", e.TransactionID)
		}
		ids[e.TransactionID] = true
	}

	order, err := srv2.Client.GetOrder(ctx, vipps.OMEcom, "acme-1")
	rec := exampleReceipt()
	if err != nil {
		t.Errorf("GetOrder after a restart = %v", err)
	} else if diff := cmp.Diff(&vipps.Order{Category: &cat, Receipt: &rec}, order); diff != "" {
		t.Errorf("GetOrder after a restart (-want +got):\n%s", diff)
	}
	if _, err := srv2.Client.UploadImage(ctx, "socks", pngOf(t, 200, 200)); err == nil {
		t.Errorf("UploadImage of an image from before the restart = nil error, want a conflict")
	}
	if info, err := srv2.Client.UserInfo(ctx, sub); err != nil || info.Email == "" {
		t.Errorf("UserInfo after a restart = %+v, %v; want the shared profile", info, err)
	}
	_, err = srv2.Client.Initiate(ctx, regular("acme-1", 10000))
	wantVippsError(t, "Initiate of an orderId from before the restart", err, http.StatusBadRequest, vipps.GroupMerchant, vipps.CodeDuplicateOrderID)

	// The waiting payment times out on the kept clock.
	srv2.Sim.Advance(5 * time.Minute)
	if p, _ := srv2.Sim.Payment("acme-2"); p.Status != vipps.OrderStatusRejected {
		t.Errorf("acme-2 after ten minutes = %s, want REJECTED", p.Status)
	}

	// And once more: the state after the restart is kept too.
	srv2.Close()
	srv3 := newServer(t, snapshotAt(path))
	if p, _ := srv3.Sim.Payment("acme-1"); p.Summary.RefundedAmount != 10000 {
		t.Errorf("acme-1 after a second restart = %+v, want 10000 refunded", p.Summary)
	}
}

// TestSnapshotFile checks the file New creates and what a fresh simulator
// writes.
func TestSnapshotFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.json")
	sim, err := vippstest.New(vippstest.Config{SnapshotPath: path})
	if err != nil {
		t.Fatalf("New with a missing snapshot = %v, want nil", err)
	}
	defer sim.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("New did not create the snapshot: %v", err)
	}
	var head struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(b, &head); err != nil || head.Format != "vippstest-snapshot" || head.Version != 1 {
		t.Errorf("snapshot = %s (%v), want format vippstest-snapshot version 1", b, err)
	}
	info, err := os.Stat(path)
	if err == nil && info.Mode().Perm()&0o077 != 0 {
		t.Errorf("snapshot mode = %v, want no access for others (it holds tokens)", info.Mode())
	}
}

func TestSnapshotErrors(t *testing.T) {
	const empty = `"clockOffset":"0s","lastTransactionId":5000000000,"payments":[],"accessTokens":[],"consents":[],"orderManagement":[],"images":[]`
	payment := func(msn, phase string) string {
		return `{"format":"vippstest-snapshot","version":1,"clockOffset":"0s","lastTransactionId":5000000001,"payments":[` +
			`{"msn":"` + msn + `","orderId":"acme-1","amount":100,"transactionText":"x","order":{"callbackPrefix":"https://x","fallBack":"https://x","paymentType":"eComm Regular Payment"},` +
			`"token":"t","url":"u","transactionId":"5000000001","phase":"` + phase + `","status":"INITIATE","last":{"operation":"INITIATE","amount":100,"success":true,"transactionText":"x"},` +
			`"captured":0,"refunded":0,"released":0,"initiatedAt":"2026-03-02T10:00:00Z","log":[]}]}`
	}
	tests := []struct {
		name    string
		content string // "" with dir: the path is a directory
		dir     bool
		want    string
	}{
		{"corrupt", `{"format":"vippstest-snapshot","version":1,"payments":[`, false, "corrupt: line 1, column 55: unexpected end of JSON input"},
		{"garbage", "\n\n  {\"format\": vippstest}", false, "corrupt: line 3, column 14"},
		{"empty", "", false, "empty"},
		{"newer version", `{"format":"vippstest-snapshot","version":2,` + empty + `}`, false, "format version 2 is newer than this simulator reads (1)"},
		{"version 0", `{"format":"vippstest-snapshot","version":0}`, false, "format version 0"},
		{"another file", `{"hello":"world"}`, false, "not a vippstest snapshot"},
		{"unknown field", `{"format":"vippstest-snapshot","version":1,"extra":1,` + empty + `}`, false, `unknown field "extra"`},
		{"trailing data", `{"format":"vippstest-snapshot","version":1,` + empty + `} {}`, false, "after top-level value"},
		{"bad clock", `{"format":"vippstest-snapshot","version":1,"clockOffset":"soon","lastTransactionId":5000000000}`, false, `clockOffset "soon"`},
		{"bad counter", `{"format":"vippstest-snapshot","version":1,"clockOffset":"0s","lastTransactionId":7}`, false, "lastTransactionId 7"},
		{"unknown merchant", payment("999999", "initiated"), false, "payments[0] (order acme-1): MSN 999999 is not a configured merchant"},
		{"unknown phase", payment("123456", "limbo"), false, `payments[0] (order acme-1): unknown phase "limbo"`},
		{"directory", "", true, "is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sim.json")
			var err error
			if tt.dir {
				err = os.Mkdir(path, 0o700)
			} else {
				err = os.WriteFile(path, []byte(tt.content), 0o600)
			}
			if err != nil {
				t.Fatal(err)
			}
			sim, err := vippstest.New(vippstest.Config{SnapshotPath: path})
			if err == nil {
				sim.Close()
				t.Fatalf("New = nil error, want one saying %q", tt.want)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New = %v, want an error naming %s and saying %q", err, path, tt.want)
			}
			if !tt.dir {
				if b, _ := os.ReadFile(path); string(b) != tt.content {
					t.Errorf("New changed the file it refused: %q", b)
				}
			}
		})
	}

	t.Run("unwritable", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "no", "such", "dir", "sim.json")
		_, err := vippstest.New(vippstest.Config{SnapshotPath: path})
		if err == nil || !strings.Contains(err.Error(), filepath.Dir(path)) {
			t.Errorf("New in a missing directory = %v, want an error naming it", err)
		}
	})
}
