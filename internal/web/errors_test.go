package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vippskit/vipps"
)

// storeText is what a store's or a driver's error says; no answer may.
var storeText = []string{"sqlite", "postgres", "get order", "sql:", "database is closed"}

func TestAPIErrorsSayNoStoreText(t *testing.T) {
	e := newTestEnv(t)
	long := strings.Repeat("a", 300)
	tests := []struct {
		method, path string
		body         any
		wantStatus   int
		wantMessage  string
	}{
		{"GET", "/api/payments/test-nope", nil, 404, "no payment with orderId test-nope"},
		{"POST", "/api/payments/test-nope/capture", nil, 404, "no payment with orderId test-nope"},
		{"POST", "/api/payments/test-nope/refund", nil, 404, "no payment with orderId test-nope"},
		{"POST", "/api/payments/test-nope/cancel", nil, 404, "no payment with orderId test-nope"},
		{"POST", "/api/payments/test-nope/check", nil, 404, "no payment with orderId test-nope"},
		{"PUT", "/api/payments/test-nope/receipt", map[string]any{"orderLines": []any{map[string]any{"name": "x", "id": "x", "totalAmount": 100, "totalAmountExcludingTax": 80, "totalTaxAmount": 20, "taxPercentage": 25}}, "bottomLine": map[string]any{"currency": "NOK"}}, 404, "no payment with orderId test-nope"},
		{"GET", "/api/payments/a_b", nil, 404, `no payment can have this orderId: orderId "a_b" may contain only letters a-z and A-Z, digits and hyphens`},
		{"GET", "/api/payments/" + long, nil, 404, "no payment can have this orderId: the orderId is 300 characters; the limit is 50"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path[:min(len(tt.path), 40)], func(t *testing.T) {
			e := e.in(t)
			var eb errorBody
			raw := e.apiInto(tt.method, tt.path, tt.body, tt.wantStatus, &eb)
			if eb.Error.Message != tt.wantMessage {
				t.Errorf("%s %s: message = %q, want %q", tt.method, tt.path, eb.Error.Message, tt.wantMessage)
			}
			mustNotContain(t, "the answer", string(raw), storeText...)
		})
	}
}

func TestAPIKeyHowToSend(t *testing.T) {
	e := newTestEnv(t)
	tests := []struct {
		name    string
		headers map[string]string
		want    string
	}{
		{"no Bearer", map[string]string{"Authorization": testAPIKey}, `the Authorization header must be "Bearer " and the API key: send the API key as "Authorization: Bearer <key>"`},
		{"X-Api-Key", map[string]string{"X-Api-Key": testAPIKey}, `the API key goes in the Authorization header, not in an API key header: send the API key as "Authorization: Bearer <key>"`},
		{"Bearer and nothing", map[string]string{"Authorization": "Bearer"}, `the Authorization header must be "Bearer " and the API key`},
		{"nothing", nil, `send the API key as "Authorization: Bearer <key>"`},
		{"wrong key", map[string]string{"Authorization": "Bearer not-the-key-0123456789"}, "the API key is wrong"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := e.in(t)
			req := e.newRequest("GET", "/api/payments/test-nope", nil)
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			resp, raw := e.do(req)
			var eb errorBody
			if err := json.Unmarshal(raw, &eb); err != nil || resp.StatusCode != 401 {
				t.Fatalf("GET = %d %s, want 401 with a JSON error", resp.StatusCode, raw)
			}
			if !strings.HasPrefix(eb.Error.Message, tt.want) {
				t.Errorf("GET: message = %q, want it to start %q", eb.Error.Message, tt.want)
			}
			if tt.name != "wrong key" && strings.Contains(eb.Error.Message, "wrong") {
				t.Errorf("GET: message = %q says the key is wrong; it was sent the wrong way", eb.Error.Message)
			}
		})
	}
}

func TestAdminErrorsSayNoStoreText(t *testing.T) {
	e := newAdminEnv(t)
	id := e.create(t, 10000, "", false)

	// A form for a payment that does not exist.
	form := url.Values{"csrf": {e.csrf()}, "key": {"k1"}}
	status, body, _ := e.send(t, "POST", "/admin/payments/test-nope/capture", form)
	if want := "There is no payment with that orderId."; status != http.StatusNotFound || !strings.Contains(body, want) {
		t.Errorf("capture of an unknown payment = %d, want 404 saying %q\n%s", status, want, body)
	}

	e.store.Close() // every query fails from now on
	for _, path := range []string{adminPaymentURL(id), "/admin/", "/admin/?q=x"} {
		status, body, resp := e.send(t, "GET", path, nil)
		if status != http.StatusInternalServerError {
			t.Errorf("GET %s with a closed database = %d, want 500", path, status)
		}
		mustNotContain(t, "GET "+path, body, storeText...)
		mustContain(t, "GET "+path, body, "request id "+resp.Header.Get("X-Request-Id"))
	}
	// Without a database no session can be read: a form is refused whole.
	status, body, _ = e.send(t, "POST", adminPaymentURL(id)+"/check", url.Values{"csrf": {e.csrf()}})
	if status != http.StatusInternalServerError {
		t.Errorf("POST check with a closed database = %d, want 500", status)
	}
	mustNotContain(t, "POST check", body, storeText...)
	if !strings.Contains(e.logs.String(), `level=ERROR msg="admin request failed"`) {
		t.Errorf("the internal errors are not logged:\n%s", e.logs)
	}
}

func TestUnknownPathsNotFound(t *testing.T) {
	for _, demo := range []bool{true, false} {
		e := newTestEnv(t, func(c *envConfig) { c.web.DemoShop = demo })
		for _, path := range []string{"/nope", "/admin/nope", "/return", "/shop/orders/"} {
			resp, body := e.do(e.newRequest("GET", path, nil))
			if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				t.Errorf("GET %s (demo shop %v) = %d %s, want 404 html", path, demo, resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			mustContain(t, "GET "+path, string(body), "Page not found", "There is nothing at this address")
		}
		// A path served with other methods keeps its 405.
		resp, _ := e.do(e.newRequest("POST", "/healthz", nil))
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") == "" {
			t.Errorf("POST /healthz = %d, Allow %q; want 405 with Allow", resp.StatusCode, resp.Header.Get("Allow"))
		}
		// The API keeps its JSON 404 with the routes.
		resp, raw := e.do(e.apiRequest("GET", "/api/nope", nil))
		var eb errorBody
		if err := json.Unmarshal(raw, &eb); err != nil || resp.StatusCode != 404 || len(eb.Routes) == 0 {
			t.Errorf("GET /api/nope = %d %s, want a JSON 404 with the routes", resp.StatusCode, raw)
		}
	}
}

func TestInputLengthsBounded(t *testing.T) {
	e := newAdminEnv(t)
	id := e.reserve(t, 10000)
	huge := strings.Repeat("ab", 25_000)

	t.Run("search", func(t *testing.T) {
		status, body, _ := e.send(t, "GET", "/admin/?"+url.Values{"q": {huge}}.Encode(), nil)
		if status != http.StatusBadRequest {
			t.Errorf("GET /admin/ with a %d-character search = %d, want 400", len(huge), status)
		}
		mustContain(t, "the list", body, "the search is 50000 characters; search with at most 100")
		mustNotContain(t, "the list", body, append(storeText, huge[:200])...)
		if status, _, _ := e.send(t, "GET", "/admin/?"+url.Values{"q": {strings.Repeat("x", adminSearchMax)}}.Encode(), nil); status != http.StatusOK {
			t.Errorf("GET /admin/ with a %d-character search = %d, want 200", adminSearchMax, status)
		}
	})
	t.Run("other list parameters", func(t *testing.T) {
		for _, k := range []string{"state", "limit", "before", "before_id"} {
			status, body, _ := e.send(t, "GET", "/admin/?"+url.Values{k: {huge}}.Encode(), nil)
			if status != http.StatusBadRequest {
				t.Errorf("GET /admin/ with a %d-character %s = %d, want 400", len(huge), k, status)
			}
			mustNotContain(t, "the list", body, append(storeText, huge[:200])...)
		}
	})
	t.Run("amount", func(t *testing.T) {
		status, body, _ := e.send(t, "POST", adminPaymentURL(id)+"/capture", url.Values{
			"csrf": {e.csrf()}, "key": {"k1"}, "amount": {huge},
		})
		if status != http.StatusBadRequest {
			t.Fatalf("POST capture with a long amount = %d, want 400\n%s", status, body)
		}
		mustContain(t, "the payment page", body, "The amount is 50000 characters; type at most 20, such as 1 299,50. Nothing was done.")
		mustNotContain(t, "the payment page", body, huge[:200])
	})
	t.Run("orderId in the path", func(t *testing.T) {
		long := strings.Repeat("a", 300)
		for _, m := range []string{"GET", "POST"} {
			path := adminPaymentURL(vipps.OrderID(long))
			form := url.Values(nil)
			if m == "POST" {
				path += "/capture"
				form = url.Values{"csrf": {e.csrf()}, "key": {"k1"}}
			}
			if status, body, _ := e.send(t, m, path, form); status != http.StatusNotFound {
				t.Errorf("%s %s = %d, want 404\n%s", m, path, status, body)
			}
		}
	})
	t.Run("shop phone", func(t *testing.T) {
		s := &shopEnv{e.in(t)}
		form := url.Values{"product": {"kaffe-1kg"}, "quantity": {"1"}, "phone": {huge}, "csrf": {s.csrf("/")}}
		res := s.post("/shop/buy", form, nil)
		if res.Status != http.StatusBadRequest {
			t.Errorf("POST /shop/buy with a long phone = %d, want 400", res.Status)
		}
		mustContain(t, "the shop page", res.Body, "The phone number is 50000 characters; enter at most 30")
		mustNotContain(t, "the shop page", res.Body, huge[:200])
	})
}
