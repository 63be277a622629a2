package vippstest_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/vippstest"
)

// expressApproved initiates an express payment with static options whose
// consent removals go to consentPrefix, and approves it as phone.
func expressApproved(t *testing.T, srv *vippstest.Server, m *merchant, id vipps.OrderID, consentPrefix, phone string) *vipps.PaymentDetails {
	t.Helper()
	req := regular(id, 20000)
	req.MerchantInfo.CallbackPrefix = m.prefix
	req.MerchantInfo.AuthToken = cbToken
	req.MerchantInfo.PaymentType = vipps.PaymentTypeExpress
	req.MerchantInfo.ConsentRemovalPrefix = consentPrefix
	req.MerchantInfo.StaticShippingDetails = staticOptions
	initiate(t, srv.Client, req)
	if err := srv.Sim.Approve(id, phone); err != nil {
		t.Fatalf("Approve(%s) = %v", id, err)
	}
	return details(t, srv.Client, id)
}

func TestRemoveConsent(t *testing.T) {
	shop, other := newMerchant(t, cbToken, nil), newMerchant(t, cbToken, nil)
	srv := newServer(t)
	d := expressApproved(t, srv, shop, "consent-1", shop.prefix, "91234567")
	expressApproved(t, srv, shop, "consent-2", shop.prefix, "91234567")
	expressApproved(t, srv, shop, "consent-3", other.prefix+"/", "91234567") // a second prefix, with a slash
	expressApproved(t, srv, shop, "consent-4", shop.prefix, "98765432")      // another user
	initiate(t, srv.Client, regular("consent-5", 20000))                     // not express
	approveHook(t, srv, "consent-5")
	userID := d.UserDetails.UserID
	if !strings.ContainsAny(userID, "+/=") {
		t.Fatalf("userId %q has no character that needs escaping; the test needs one", userID)
	}

	out, err := srv.Sim.RemoveConsent(t.Context(), "123456", userID)
	if err != nil {
		t.Fatalf("RemoveConsent = %v", err)
	}
	escaped := strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D").Replace(userID)
	want := []string{shop.prefix + "/v2/consents/" + escaped, other.prefix + "//v2/consents/" + escaped}
	var got []string
	for _, c := range out {
		got = append(got, c.URL)
		if !c.Delivered() || c.UserID != userID || c.MSN != "123456" {
			t.Errorf("consent removal %+v, want delivered for %s", c, userID)
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("consent removal URLs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(out, srv.Sim.ConsentRemovals()); diff != "" {
		t.Errorf("ConsentRemovals() differs from what RemoveConsent returned (-returned +recorded):\n%s", diff)
	}
	for _, m := range []*merchant{shop, other} {
		if diff := cmp.Diff([]string{userID}, m.removed()); diff != "" {
			t.Errorf("the merchant's OnConsentRemoved got (-want +got):\n%s", diff)
		}
	}
	if got := shop.requests(); !strings.HasSuffix(got[len(got)-1], "DELETE /vipps/v2/consents/"+escaped) {
		t.Errorf("last request to the shop = %q, want DELETE /vipps/v2/consents/%s", got[len(got)-1], escaped)
	}

	t.Run("unknown user", func(t *testing.T) {
		if _, err := srv.Sim.RemoveConsent(t.Context(), "123456", "nobody"); !errors.Is(err, vippstest.ErrNotFound) {
			t.Errorf("RemoveConsent = %v, want ErrNotFound", err)
		}
	})

	t.Run("control API", func(t *testing.T) {
		b := newBrowser(t, srv)
		path := "/_sim/consents/" + url.PathEscape(userID) + "/remove?msn=123456"
		if r := b.post(path, url.Values{}, "Sec-Fetch-Site", "cross-site"); r.status != http.StatusForbidden {
			t.Errorf("cross-site POST = %d, want 403", r.status)
		}
		r := b.post(path, url.Values{})
		var sent []vippstest.ConsentRemoval
		if err := json.Unmarshal([]byte(r.body), &sent); r.status != http.StatusOK || err != nil || len(sent) != 2 {
			t.Fatalf("POST %s = %d %s, want the two requests", path, r.status, r.body)
		}
		r = b.get("/_sim/consent-removals")
		var all []vippstest.ConsentRemoval
		if err := json.Unmarshal([]byte(r.body), &all); err != nil || len(all) != 4 {
			t.Errorf("GET /_sim/consent-removals = %s, want 4 requests", r.body)
		}
		if r := b.post("/_sim/consents/nobody/remove", url.Values{}); r.status != http.StatusNotFound {
			t.Errorf("POST for an unknown user = %d, want 404", r.status)
		}
	})
}

func TestConsentAskedAgain(t *testing.T) {
	m := newMerchant(t, cbToken, nil)
	srv := newServer(t)
	b := newBrowser(t, srv)
	const phone = "91234567"
	const consent = `name="consent"`
	tests := []struct {
		name       string
		before     func(t *testing.T, userID string)
		askConsent bool
	}{
		{"first express payment", nil, true},
		{"after consenting", nil, false},
		{"after removing the consent", func(t *testing.T, userID string) {
			if _, err := srv.Sim.RemoveConsent(t.Context(), "", userID); err != nil {
				t.Fatal(err)
			}
		}, true},
	}
	var userID string
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.before != nil {
				tt.before(t, userID)
			}
			id := vipps.OrderID("asked-" + string(rune('a'+i)))
			req, res := express(t, srv, m, id, staticOptions)
			app := b.signIn(res, phone)
			if got := strings.Contains(app.body, consent); got != tt.askConsent {
				t.Fatalf("the app asks for consent: %v, want %v", got, tt.askConsent)
			}
			extra := []string{"address", app.values("address")[0], "shipping", "home"}
			if tt.askConsent {
				extra = append(extra, "consent", "yes")
			}
			b.act(app, "approve", extra...).wantRedirect(t, "approve", req.MerchantInfo.FallBack)
			userID = details(t, srv.Client, id).UserDetails.UserID
		})
	}
}

func TestHistoryRemoveConsentButton(t *testing.T) {
	m := newMerchant(t, cbToken, nil)
	srv := newServer(t)
	b := newBrowser(t, srv)
	d := expressApproved(t, srv, m, "button-1", m.prefix, "91234567")

	page := b.get("/_sim/users/91234567")
	page.want(t, "history", http.StatusOK, "Companies that remember you", "Sim Shop", "Remove access")
	form := url.Values{"msn": {page.field(t, "msn")}, "ft": {page.field(t, "ft")}}

	if r := b.post("/_sim/users/91234567/consents/remove", form, "Sec-Fetch-Site", "cross-site"); r.status != http.StatusForbidden {
		t.Errorf("cross-site POST = %d, want 403", r.status)
	}
	bad := url.Values{"msn": {"123456"}, "ft": {"forged"}}
	if r := b.post("/_sim/users/91234567/consents/remove", bad); r.status != http.StatusForbidden {
		t.Errorf("POST with a forged form token = %d, want 403", r.status)
	}
	if len(srv.Sim.ConsentRemovals()) != 0 {
		t.Fatalf("refused forms sent consent removals: %+v", srv.Sim.ConsentRemovals())
	}

	b.post("/_sim/users/91234567/consents/remove", form).wantRedirect(t, "remove access", "/_sim/users/91234567?removed=123456")
	if diff := cmp.Diff([]string{d.UserDetails.UserID}, m.removed()); diff != "" {
		t.Errorf("the merchant's OnConsentRemoved got (-want +got):\n%s", diff)
	}
	page = b.get("/_sim/users/91234567?removed=123456")
	page.want(t, "history", http.StatusOK, "You removed Sim Shop's access", "Consent removals sent", "DELETE "+m.prefix+"/v2/consents/")
	if strings.Contains(page.text(), "Companies that remember you") {
		t.Errorf("the history still lists the consent")
	}
}
