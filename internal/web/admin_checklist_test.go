package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vippskit/vipps/internal/checklist"
)

// checklistEnv is an admin env whose GoLive counts the access token
// fetches and fails them with keysErr when it is set.
func checklistEnv(t *testing.T, keysErr error) (*adminEnv, *atomic.Int32) {
	var fetches atomic.Int32
	e := newAdminEnv(t, func(c *envConfig) {
		c.web.GoLive = GoLive{
			VippsURL: "http://127.0.0.1:9/sim", SystemName: "vippskit", SystemVersion: "test",
			CheckKeys: func(ctx context.Context) error {
				fetches.Add(1)
				if _, ok := ctx.Deadline(); !ok {
					t.Error("CheckKeys got a context without a deadline")
				}
				return keysErr
			},
			PollerChecks: func() (int64, time.Time) { return 3, time.Now() },
		}
	})
	return e, &fetches
}

// checklistJSON fetches /admin/checklist.json as results by id.
func (e *adminEnv) checklistJSON(t *testing.T) map[string]checklist.Result {
	t.Helper()
	status, body, resp := e.send(t, http.MethodGet, "/admin/checklist.json", nil)
	if status != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /admin/checklist.json = %d %s, want 200 JSON\n%s", status, resp.Header.Get("Content-Type"), body)
	}
	var rs []checklist.Result
	if err := json.Unmarshal([]byte(body), &rs); err != nil {
		t.Fatalf("GET /admin/checklist.json: %v\n%s", err, body)
	}
	if len(rs) != len(checklist.Items) {
		t.Fatalf("GET /admin/checklist.json has %d items, want %d", len(rs), len(checklist.Items))
	}
	m := map[string]checklist.Result{}
	for i, r := range rs {
		if r.ID != checklist.Items[i].ID {
			t.Errorf("item %d = %s, want %s", i, r.ID, checklist.Items[i].ID)
		}
		m[r.ID] = r
	}
	return m
}

func TestAdminChecklist(t *testing.T) {
	e, fetches := checklistEnv(t, nil)

	t.Run("new installation", func(t *testing.T) {
		rs := e.checklistJSON(t)
		for id, want := range map[string]checklist.Status{
			"headers": checklist.Pass, "support": checklist.Pass, "redirects": checklist.Pass,
			"refund-order": checklist.NotSeen, "void-order": checklist.NotSeen, "callbacks": checklist.NotSeen,
			"polling": checklist.Pass, "design": checklist.Manual,
		} {
			if got := rs[id].Status; got != want {
				t.Errorf("%s = %s (%s), want %s", id, got, rs[id].Summary, want)
			}
		}
		if got, want := rs["support"].Evidence[0].Note, "admin at "+e.url+"/admin/"; got != want {
			t.Errorf("support evidence = %q, want %q", got, want)
		}
		if !strings.Contains(rs["headers"].Summary, "the keys work") {
			t.Errorf("headers summary = %q, want the keys checked", rs["headers"].Summary)
		}
	})

	refunded := e.reserve(t, 20000)
	if kind, msg := e.submit(t, refunded, "/capture", nil); kind != adminOK {
		t.Fatalf("capture = %s %q", kind, msg)
	}
	if kind, msg := e.submit(t, refunded, "/refund", nil); kind != adminOK {
		t.Fatalf("refund = %s %q", kind, msg)
	}
	voided := e.reserve(t, 10000)
	if kind, msg := e.submit(t, voided, "/cancel", nil); kind != adminOK {
		t.Fatalf("cancel = %s %q", kind, msg)
	}

	t.Run("after a refund and a void", func(t *testing.T) {
		rs := e.checklistJSON(t)
		for id, want := range map[string]checklist.Status{
			"refund-order": checklist.Pass, "void-order": checklist.Pass, "orderid": checklist.Pass,
			"endpoints": checklist.NotSeen, // no partial capture or refund
			"callbacks": checklist.NotSeen, // no failed payment
		} {
			if got := rs[id].Status; got != want {
				t.Errorf("%s = %s (%s), want %s", id, got, rs[id].Summary, want)
			}
		}
		if got := rs["refund-order"].Evidence[0].OrderID; got != refunded {
			t.Errorf("refund-order evidence = %s, want %s", got, refunded)
		}
		if got := rs["void-order"].Evidence[0].OrderID; got != voided {
			t.Errorf("void-order evidence = %s, want %s", got, voided)
		}
	})

	t.Run("page", func(t *testing.T) {
		before := fetches.Load()
		page := e.get(t, "/admin/checklist")
		if got := fetches.Load() - before; got != 1 {
			t.Errorf("access token fetches for one page view = %d, want 1", got)
		}
		for _, want := range []string{
			"<title>Go-live checklist · vippskit admin</title>",
			"TEST MODE: payments go to the vippskit simulator", // the environment banner of every page
			"A test order ending in REFUND",
			`<span class="admin-badge admin-grade-pass">Pass</span>`,
			`<span class="admin-badge admin-grade-not-seen">Not seen yet</span>`,
			`<span class="admin-badge admin-grade-manual">Check by hand</span>`,
			`<a href="` + adminPaymentURL(refunded) + `">` + string(refunded) + `</a>`,
			"What to do:",
		} {
			if !strings.Contains(page, want) {
				t.Errorf("checklist page lacks %q", want)
			}
		}
		if list := e.get(t, "/admin/"); !strings.Contains(list, `<a href="/admin/checklist">Go-live checklist</a>`) {
			t.Error("the payments list does not link to the checklist")
		}
	})

	t.Run("needs admin sign-in", func(t *testing.T) {
		for _, path := range []string{"/admin/checklist", "/admin/checklist.json"} {
			resp, _ := e.do(e.newRequest(http.MethodGet, path, nil))
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), adminLoginPath+"?") {
				t.Errorf("GET %s without sign-in = %d, want 303 to sign in", path, resp.StatusCode)
			}
			if got := resp.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("GET %s Cache-Control = %q, want no-store", path, got)
			}
		}
	})
}

func TestAdminChecklistKeysRefused(t *testing.T) {
	e, _ := checklistEnv(t, errors.New("access token: 401 Unauthorized"))
	rs := e.checklistJSON(t)
	if h := rs["headers"]; h.Status != checklist.Fail || !strings.Contains(h.Evidence[len(h.Evidence)-1].Note, "401 Unauthorized") {
		t.Errorf("headers = %s %q %+v, want fail with the refusal as evidence", h.Status, h.Summary, h.Evidence)
	}
	if page := e.get(t, "/admin/checklist"); !strings.Contains(page, `<span class="admin-badge admin-grade-fail">Fail</span>`) {
		t.Error("checklist page does not show the failed item")
	}
}
