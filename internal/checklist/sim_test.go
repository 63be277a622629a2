package checklist_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/checklist"
	"github.com/vippskit/vipps/vippstest"
)

// stripSystemHeaders is a transport of a merchant that sends no
// Vipps-System-* headers.
type stripSystemHeaders struct{}

func (stripSystemHeaders) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for _, h := range []string{"Vipps-System-Name", "Vipps-System-Version", "Vipps-System-Plugin-Name", "Vipps-System-Plugin-Version"} {
		r.Header.Del(h)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestBrokenMerchantAgainstSimulator drives an audit-mode simulator as a
// merchant that sends no system headers, uses bare numeric orderIds,
// never polls, and whose fallBack wants a cookie: exactly headers,
// orderid, polling and redirects fail.
func TestBrokenMerchantAgainstSimulator(t *testing.T) {
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := r.Cookie("session"); err != nil && strings.HasPrefix(r.URL.Path, "/return/") {
			http.Error(w, "log in first", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(shop.Close)
	srv := vippstest.NewServer(t, func(c *vippstest.Config) { c.Audit = true })
	client := srv.NewClient(vippstest.DefaultMerchant(), func(c *vipps.Config) {
		c.HTTPClient = &http.Client{Transport: stripSystemHeaders{}}
	})
	for _, id := range []vipps.OrderID{"10001", "10002"} {
		_, err := client.Initiate(t.Context(), vipps.InitiateRequest{
			MerchantInfo: vipps.MerchantInfo{CallbackPrefix: shop.URL + "/vipps", FallBack: shop.URL + "/return/" + string(id)},
			Transaction:  vipps.InitiateTransaction{OrderID: id, Amount: 10000, TransactionText: "Socks"},
		})
		if err != nil {
			t.Fatalf("Initiate(%s) = %v", id, err)
		}
		if err := srv.Sim.Approve(id, ""); err != nil {
			t.Fatal(err)
		}
	}
	srv.Sim.WaitCallbacks()
	a := srv.Sim.Audit(vippstest.DefaultMerchant().MSN)
	rs := checklist.Grade(checklist.Input{Audit: a, FallBacks: checklist.CheckFallBacks(t.Context(), nil, a.Payments)})
	got := map[string]checklist.Status{}
	for _, r := range rs {
		got[r.ID] = r.Status
	}
	want := map[string]checklist.Status{
		"headers": checklist.Fail, "orderid": checklist.Fail, "polling": checklist.Fail, "redirects": checklist.Fail,
		"endpoints": checklist.NotSeen, "callbacks": checklist.NotSeen, "errors": checklist.NotSeen, "receipts": checklist.NotSeen,
		"refund-order": checklist.NotSeen, "void-order": checklist.NotSeen,
		"design": checklist.Manual, "support": checklist.Manual,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Grade(...) statuses (-want +got):\n%s", diff)
	}
}
