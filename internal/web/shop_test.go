package web

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/vippstest"
)

// shopEnv is newTestEnv's service as a customer's browser meets it. Its
// client keeps cookies, and its helpers fail the test if a page sets one,
// except the key to a demo order that POST /shop/buy gives the browser
// (with the attributes it must have): no other customer page needs a
// session.
type shopEnv struct{ *testEnv }

func newShopEnv(t *testing.T, opts ...func(*envConfig)) *shopEnv {
	t.Helper()
	e := newTestEnv(t, opts...)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	e.client.Jar = jar
	return &shopEnv{e}
}

// response is an answer, read.
type response struct {
	Status int
	Header http.Header
	Body   string
}

// fetch sends req and returns the answer.
func (e *shopEnv) fetch(req *http.Request) response {
	e.t.Helper()
	res, b := e.do(req)
	for _, c := range res.Cookies() {
		if req.Method != "POST" || req.URL.Path != "/shop/buy" {
			e.t.Errorf("%s %s sets cookie %q; customer pages need no session", req.Method, req.URL.Path, c)
			continue
		}
		if !strings.HasPrefix(c.Name, "order_demo-") || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/shop/" || c.Secure || c.MaxAge <= 0 {
			e.t.Errorf("POST /shop/buy sets cookie %q, want order_<ref> with HttpOnly, SameSite=Lax, Path=/shop/, Max-Age and (over http) not Secure", c)
		}
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: string(b)}
}

// get fetches path (or an absolute URL).
func (e *shopEnv) get(path string) response {
	e.t.Helper()
	if !strings.HasPrefix(path, "http") {
		path = e.url + path
	}
	req, err := http.NewRequestWithContext(e.t.Context(), "GET", path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.fetch(req)
}

// post sends a form as a browser on the service's own page does, with
// extra headers set (or removed, when the value is "").
func (e *shopEnv) post(path string, form url.Values, headers map[string]string) response {
	e.t.Helper()
	req := e.newRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.url)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	return e.fetch(req)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the form token of the page at path.
func (e *shopEnv) csrf(path string) string {
	e.t.Helper()
	res := e.get(path)
	m := csrfField.FindStringSubmatch(res.Body)
	if m == nil {
		e.t.Fatalf("GET %s: no csrf field in\n%s", path, res.Body)
	}
	return m[1]
}

// buy buys from the demo shop and returns the new payment, after checking
// that the browser is sent to Vipps.
func (e *shopEnv) buy(form url.Values) *payment.Payment {
	e.t.Helper()
	form.Set("csrf", e.csrf("/"))
	before := len(e.sim.Sim.Payments())
	res := e.post("/shop/buy", form, nil)
	if res.Status != http.StatusSeeOther {
		e.t.Fatalf("POST /shop/buy = %d, want 303; body:\n%s", res.Status, res.Body)
	}
	ps := e.sim.Sim.Payments()
	if len(ps) != before+1 {
		e.t.Fatalf("the simulator has %d payments after buying, want %d", len(ps), before+1)
	}
	p, err := e.svc.Get(e.t.Context(), ps[len(ps)-1].OrderID)
	if err != nil {
		e.t.Fatal(err)
	}
	if loc := res.Header.Get("Location"); loc != p.VippsURL || !strings.HasPrefix(loc, e.sim.URL+"/") {
		e.t.Fatalf("POST /shop/buy redirects to %q, want the payment's Vipps URL %q at the simulator", loc, p.VippsURL)
	}
	return p
}

func mustContain(t *testing.T, what, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q; body:\n%s", what, w, body)
		}
	}
}

func mustNotContain(t *testing.T, what, body string, unwanted ...string) {
	t.Helper()
	for _, u := range unwanted {
		if strings.Contains(body, u) {
			t.Errorf("%s has %q; body:\n%s", what, u, body)
		}
	}
}

// externalResource matches anything a page loads from elsewhere.
var externalResource = regexp.MustCompile(`(?i)(src|href)="(https?:)?//|@import|url\(\s*['"]?(https?:)?//`)

func TestShopDemoFlow(t *testing.T) {
	e := newShopEnv(t)
	ctx := t.Context()

	home := e.get("/")
	if home.Status != http.StatusOK {
		t.Fatalf("GET / = %d, want 200", home.Status)
	}
	p := e.buy(url.Values{"product": {"kaffe-1kg"}, "quantity": {"2"}, "kind": {"regular"}, "phone": {"+47 912 34 567"}})

	want := payment.CreateRequest{Amount: 298_00, Text: "Demo shop: 2 × Kaffe 1 kg", Phone: "91234567"}
	got := payment.CreateRequest{Amount: p.Amounts.Authorized, Text: p.Text, Phone: p.Phone, ReturnURL: p.ReturnURL}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the payment differs (-want +got):\n%s", diff)
	}
	if !demoRef(p.ShopRef) || p.Kind != payment.Regular || p.State != payment.Initiated {
		t.Errorf("payment ShopRef, Kind, State = %q, %s, %s; want demo-xxxxxx, regular, initiated", p.ShopRef, p.Kind, p.State)
	}
	if p.Receipt == nil || len(p.Receipt.OrderLines) != 1 || p.Receipt.OrderLines[0].TotalAmount != 298_00 {
		t.Errorf("payment receipt = %+v, want one line of 298 kr", p.Receipt)
	}

	// The browser opens Vipps (the simulator's landing page).
	if res := e.get(p.VippsURL); res.Status != http.StatusOK {
		t.Fatalf("GET %s = %d, want the simulator's landing page", p.VippsURL, res.Status)
	}
	// The callback is lost: the return page must find out by itself.
	if _, err := e.sim.Sim.InjectCallbackFault(vippstest.CallbackFault{Kind: vippstest.CallbackDrop, OrderID: p.OrderID}); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.Sim.Approve(p.OrderID, ""); err != nil {
		t.Fatalf("Approve: %v", err)
	}
	e.sim.Sim.WaitCallbacks()

	ret := e.get(e.svc.ReturnURL(p.OrderID))
	if ret.Status != http.StatusOK {
		t.Fatalf("GET the return page = %d, want 200; body:\n%s", ret.Status, ret.Body)
	}
	mustContain(t, "the return page", ret.Body, "Payment approved in Vipps — thank you", "298,00\u00a0kr", "TEST MODE: payments go to the vippskit simulator",
		`href="/shop/orders/`+p.ShopRef+`"`)
	mustNotContain(t, "the approved return page", ret.Body, `http-equiv="refresh"`, "return.js")

	stored, err := e.svc.Get(ctx, p.OrderID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.State != payment.Reserved {
		t.Errorf("after the return page, the payment is %s, want reserved", stored.State)
	}

	order := e.get("/shop/orders/" + p.ShopRef)
	if order.Status != http.StatusOK {
		t.Fatalf("GET the order page = %d, want 200", order.Status)
	}
	mustContain(t, "the order page", order.Body, "Payment approved in Vipps — thank you", "Kaffe 1 kg", "298,00\u00a0kr")
	mustNotContain(t, "the paid order page", order.Body, "Try again", `action="/shop/buy"`)
}

func TestShopPage(t *testing.T) {
	e := newShopEnv(t)
	res := e.get("/")
	if res.Status != http.StatusOK {
		t.Fatalf("GET / = %d, want 200", res.Status)
	}
	mustContain(t, "the shop page", res.Body,
		`<div class="env" role="note" aria-label="Environment">TEST MODE: payments go to the vippskit simulator (http://sim.test), not to Vipps. No real money moves.</div>`,
		"Kaffe 1 kg", "149,00\u00a0kr", "89,50\u00a0kr", "1\u00a0234,50\u00a0kr",
		`<label for="phone">`, "Express checkout: choose address and delivery in Vipps.",
		`<button type="submit" class="vipps-button" name="kind" value="regular">Pay with&nbsp;<span class="wordmark">Vipps</span></button>`,
		`<button type="submit" class="vipps-button" name="kind" value="express">Buy now with&nbsp;<span class="wordmark">Vipps</span></button>`,
		`name="csrf" value="`)
	if m := externalResource.FindString(res.Body); m != "" {
		t.Errorf("the shop page loads %q from elsewhere", m)
	}
	for k, want := range map[string]string{"Cache-Control": "no-store", "X-Frame-Options": "DENY"} {
		if got := res.Header.Get(k); got != want {
			t.Errorf("GET / %s = %q, want %q", k, got, want)
		}
	}
	css := e.get("/static/style.css")
	if css.Status != http.StatusOK || externalResource.MatchString(css.Body) {
		t.Errorf("GET /static/style.css = %d (external resources: %q)", css.Status, externalResource.FindString(css.Body))
	}
	mustContain(t, "style.css", css.Body, "#ff5b24")
}

func TestShopOff(t *testing.T) {
	e := newShopEnv(t, func(c *envConfig) { c.web.DemoShop = false })
	for _, path := range []string{"/", "/shop/orders/demo-abcdef"} {
		if res := e.get(path); res.Status != http.StatusNotFound {
			t.Errorf("GET %s without the demo shop = %d, want 404", path, res.Status)
		}
	}
	if res := e.post("/shop/buy", url.Values{"product": {"kaffe-1kg"}}, nil); res.Status != http.StatusNotFound && res.Status != http.StatusMethodNotAllowed {
		t.Errorf("POST /shop/buy without the demo shop = %d, want 404 or 405", res.Status)
	}
}

func TestShopBuyRefused(t *testing.T) {
	e := newShopEnv(t)
	valid := e.csrf("/")
	old := strconv.FormatInt(time.Now().Add(-13*time.Hour).Unix(), 10)
	tests := []struct {
		name    string
		csrf    string
		headers map[string]string
		body    string // replaces the form when set
		status  int
		text    string
	}{
		{name: "no token", status: http.StatusForbidden, text: "The form has expired"},
		{name: "bad token", csrf: "1700000000.bm90IGEgbWFj", status: http.StatusForbidden, text: "The form has expired"},
		{name: "garbage token", csrf: "garbage", status: http.StatusForbidden, text: "The form has expired"},
		{name: "admin token", csrf: e.server.csrfToken(adminSessionScope("a session")), status: http.StatusForbidden, text: "The form has expired"},
		{name: "expired token", csrf: old + "." + e.server.csrfMAC("shop", old), status: http.StatusForbidden, text: "The form has expired"},
		{name: "cross-site", csrf: valid, headers: map[string]string{"Sec-Fetch-Site": "cross-site"}, status: http.StatusForbidden, text: "another website"},
		{name: "foreign origin", csrf: valid, headers: map[string]string{"Sec-Fetch-Site": "", "Origin": "https://evil.example"}, status: http.StatusForbidden, text: "another website"},
		{name: "too large", body: "product=kaffe-1kg&pad=" + strings.Repeat("x", maxFormBytes), status: http.StatusRequestEntityTooLarge, text: "could not be read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(e.sim.Sim.Payments())
			var res response
			if tt.body != "" {
				req := e.newRequest("POST", "/shop/buy", strings.NewReader(tt.body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				res = e.fetch(req)
			} else {
				form := url.Values{"product": {"kaffe-1kg"}, "quantity": {"1"}}
				if tt.csrf != "" {
					form.Set("csrf", tt.csrf)
				}
				res = e.post("/shop/buy", form, tt.headers)
			}
			if res.Status != tt.status {
				t.Errorf("POST /shop/buy = %d, want %d; body:\n%s", res.Status, tt.status, res.Body)
			}
			mustContain(t, "the refusal", res.Body, tt.text, "TEST MODE: payments go to the vippskit simulator")
			if n := len(e.sim.Sim.Payments()); n != before {
				t.Errorf("a refused form created %d payments", n-before)
			}
		})
	}
	t.Run("same origin without Sec-Fetch-Site", func(t *testing.T) {
		res := e.post("/shop/buy", url.Values{"product": {"kaffe-1kg"}, "quantity": {"1"}, "csrf": {valid}}, map[string]string{"Sec-Fetch-Site": ""})
		if res.Status != http.StatusSeeOther {
			t.Errorf("POST /shop/buy = %d, want 303; body:\n%s", res.Status, res.Body)
		}
	})
}

func TestShopBuyInvalidForm(t *testing.T) {
	e := newShopEnv(t)
	tests := []struct {
		name string
		form url.Values
		text string
	}{
		{"bad phone", url.Values{"product": {"kaffe-1kg"}, "quantity": {"1"}, "phone": {"12345"}}, "8 digits, such as 912 34 567"},
		{"unknown product", url.Values{"product": {"te"}, "quantity": {"1"}}, "Choose a product."},
		{"no quantity", url.Values{"product": {"kaffe-1kg"}}, "Choose a quantity from 1 to 10."},
		{"too many", url.Values{"product": {"kaffe-1kg"}, "quantity": {"11"}}, "Choose a quantity from 1 to 10."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.form.Set("csrf", e.csrf("/"))
			res := e.post("/shop/buy", tt.form, nil)
			if res.Status != http.StatusBadRequest {
				t.Errorf("POST /shop/buy = %d, want 400", res.Status)
			}
			mustContain(t, "the shop page", res.Body, `role="alert"`, tt.text, `name="csrf"`)
		})
	}
	if n := len(e.sim.Sim.Payments()); n != 0 {
		t.Errorf("invalid forms created %d payments", n)
	}
}

func TestShopBuyVippsFails(t *testing.T) {
	e := newShopEnv(t)
	if _, err := e.sim.Sim.InjectFault(vippstest.Fault{Kind: vippstest.FaultServerError, Op: "initiate"}); err != nil {
		t.Fatal(err)
	}
	form := url.Values{"product": {"kaffekvern"}, "quantity": {"1"}, "csrf": {e.csrf("/")}}
	res := e.post("/shop/buy", form, nil)
	if res.Status < 500 {
		t.Errorf("POST /shop/buy while Vipps fails = %d, want a 5xx", res.Status)
	}
	mustContain(t, "the shop page", res.Body, `role="alert"`, "No money has been taken", `value="kaffekvern" checked`)
}

func TestShopOrderTryAgain(t *testing.T) {
	e := newShopEnv(t)
	ctx := t.Context()
	p := e.buy(url.Values{"product": {"kaffekopp"}, "quantity": {"3"}, "kind": {"express"}})
	if err := e.sim.Sim.Reject(p.OrderID); err != nil {
		t.Fatal(err)
	}
	e.sim.Sim.WaitCallbacks()
	if _, err := e.svc.Check(ctx, p.OrderID); err != nil {
		t.Fatal(err)
	}

	page := "/shop/orders/" + p.ShopRef
	order := e.get(page)
	mustContain(t, "the order page", order.Body, "Payment cancelled", "No money has been taken", "Try again",
		`name="ref" value="`+p.ShopRef+`"`, "Kaffekopp", "268,50\u00a0kr")

	csrf := csrfField.FindStringSubmatch(order.Body)
	if csrf == nil {
		t.Fatal("the order page has no csrf token")
	}
	res := e.post("/shop/buy", url.Values{"ref": {p.ShopRef}, "csrf": {csrf[1]}}, nil)
	if res.Status != http.StatusSeeOther {
		t.Fatalf("POST /shop/buy (try again) = %d, want 303; body:\n%s", res.Status, res.Body)
	}
	attempts, err := e.store.Attempts(ctx, p.ShopRef)
	if err != nil {
		t.Fatal(err)
	}
	if len(attempts) != 2 {
		t.Fatalf("the order has %d attempts, want 2", len(attempts))
	}
	again := attempts[1]
	got := []any{again.OrderID, again.Amounts.Authorized, again.Kind, again.Text, res.Header.Get("Location")}
	want := []any{p.OrderID.Attempt(1), vipps.Amount(268_50), payment.Express, p.Text, again.VippsURL}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the new attempt differs (-want +got):\n%s", diff)
	}
	waiting := e.get(page)
	mustContain(t, "the order page while waiting", waiting.Body, "Waiting for Vipps", `http-equiv="refresh"`)
}

func TestShopOrderNotFound(t *testing.T) {
	e := newShopEnv(t)
	// A real shop's payment is never shown by the demo shop.
	if _, err := e.svc.Create(t.Context(), payment.CreateRequest{Amount: 100_00, Text: "Real order", ShopRef: "10042"}); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"demo-zzzzzz", "10042", "demo-", "x"} {
		res := e.get("/shop/orders/" + ref)
		// A demo reference is 403 without its key, whether the order
		// exists or not (TestShopOrderBoundToBrowser).
		want := http.StatusNotFound
		if demoRef(ref) {
			want = http.StatusForbidden
		}
		if res.Status != want {
			t.Errorf("GET /shop/orders/%s = %d, want %d", ref, res.Status, want)
		}
		mustNotContain(t, "the 404 page", res.Body, "Real order")
	}
	form := url.Values{"ref": {"10042"}, "csrf": {e.csrf("/")}}
	if res := e.post("/shop/buy", form, nil); res.Status != http.StatusNotFound {
		t.Errorf("POST /shop/buy with a real shop's ref = %d, want 404", res.Status)
	}
}

func TestNorwegianMobile(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"91234567", "91234567", true},
		{"912 34 567", "91234567", true},
		{"+47 912 34 567", "91234567", true},
		{"0047-91234567", "91234567", true},
		{"4791234567", "", false},
		{"1234567", "", false},
		{"9123456a", "", false},
		{"+4791234", "", false},
	}
	for _, tt := range tests {
		got, ok := norwegianMobile(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("norwegianMobile(%q) = %q, %v, want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestDemoReceipt(t *testing.T) {
	for _, p := range products {
		for _, q := range []int{1, 3, maxQuantity} {
			r := demoReceipt(p, q, "demo-abcdef")
			l := r.OrderLines[0]
			total := p.Price * vipps.Amount(q)
			if l.TotalAmount != total || l.TotalAmountExcludingTax+l.TotalTaxAmount != total || l.TaxPercentage != 25 {
				t.Errorf("demoReceipt(%s, %d) line = %+v, want total %d = excl + tax", p.ID, q, l, total)
			}
			// 25% VAT on the amount excluding tax, to the øre.
			if d := l.TotalAmountExcludingTax/4 - l.TotalTaxAmount; d < -1 || d > 1 {
				t.Errorf("demoReceipt(%s, %d): tax %d is not 25%% of %d", p.ID, q, l.TotalTaxAmount, l.TotalAmountExcludingTax)
			}
			if r.BottomLine.Currency != "NOK" || l.UnitInfo.Quantity != strconv.Itoa(q) {
				t.Errorf("demoReceipt(%s, %d) = %+v", p.ID, q, r)
			}
		}
	}
}

// TestShopOrderBoundToBrowser checks that a demo order can be seen and
// paid again only in the browser that placed it: knowing its reference is
// not enough.
func TestShopOrderBoundToBrowser(t *testing.T) {
	e := newShopEnv(t)
	ctx := t.Context()
	p := e.buy(url.Values{"product": {"kaffekvern"}, "quantity": {"1"}})
	page := "/shop/orders/" + p.ShopRef

	// Another browser (no cookies) with the reference.
	stranger := &shopEnv{e.in(t)}
	c := *e.client
	c.Jar = nil
	stranger.client = &c
	res := stranger.get(page)
	if res.Status != http.StatusForbidden {
		t.Errorf("GET %s from another browser = %d, want 403", page, res.Status)
	}
	mustContain(t, "the order page in another browser", res.Body, "only be seen and paid in the browser it was placed in")
	mustNotContain(t, "the order page in another browser", res.Body, "Kaffekvern", "1\u00a0234,50", `name="ref"`)

	form := url.Values{"ref": {p.ShopRef}, "csrf": {stranger.csrf("/")}}
	if res := stranger.post("/shop/buy", form, nil); res.Status != http.StatusForbidden {
		t.Errorf("POST /shop/buy with another browser's ref = %d, want 403", res.Status)
	}
	// A forged key is no better.
	forged := stranger.newRequest("GET", page, nil)
	forged.AddCookie(&http.Cookie{Name: "order_" + p.ShopRef, Value: e.server.orderKey("demo-aaaaaa")})
	if res := stranger.fetch(forged); res.Status != http.StatusForbidden {
		t.Errorf("GET %s with another order's key = %d, want 403", page, res.Status)
	}
	attempts, err := e.store.Attempts(ctx, p.ShopRef)
	if err != nil {
		t.Fatal(err)
	}
	if len(attempts) != 1 || len(e.sim.Sim.Payments()) != 1 {
		t.Fatalf("after another browser's tries the order has %d attempts (%d at Vipps), want 1", len(attempts), len(e.sim.Sim.Payments()))
	}

	// The browser that placed it sees it, and may try again.
	res = e.get(page)
	if res.Status != http.StatusOK {
		t.Fatalf("GET %s from the buyer's browser = %d, want 200", page, res.Status)
	}
	mustContain(t, "the order page", res.Body, "Kaffekvern", `name="ref" value="`+p.ShopRef+`"`)
	form = url.Values{"ref": {p.ShopRef}, "csrf": {e.csrf("/")}}
	if res := e.post("/shop/buy", form, nil); res.Status != http.StatusSeeOther {
		t.Errorf("POST /shop/buy (try again) from the buyer's browser = %d, want 303\n%s", res.Status, res.Body)
	}
}

// TestShopBuyLimited checks that the demo shop limits purchases per
// address and for all addresses together, on the Server's clock.
func TestShopBuyLimited(t *testing.T) {
	e0, clock := clockEnv(t)
	e := &shopEnv{e0}
	form := func() url.Values {
		return url.Values{"product": {"kaffekopp"}, "quantity": {"1"}, "csrf": {e.csrf("/")}}
	}
	for i := range shopBuyBurst {
		if res := e.post("/shop/buy", form(), nil); res.Status != http.StatusSeeOther {
			t.Fatalf("purchase #%d = %d, want 303\n%s", i+1, res.Status, res.Body)
		}
	}
	res := e.post("/shop/buy", form(), nil)
	if res.Status != http.StatusTooManyRequests || res.Header.Get("Retry-After") != "30" {
		t.Errorf("purchase over the limit = %d, Retry-After %q; want 429, 30", res.Status, res.Header.Get("Retry-After"))
	}
	mustContain(t, "the shop page over the limit", res.Body, `role="alert"`, "Too many purchases just now. Wait 30 seconds")
	if n := len(e.sim.Sim.Payments()); n != shopBuyBurst {
		t.Errorf("the simulator has %d payments, want %d", n, shopBuyBurst)
	}

	// Everyone together: other addresses up to the global limit.
	n := shopBuyBurst
	for ip := 2; n < shopBuyGlobalBurst; ip++ {
		other := &shopEnv{e.in(t)}
		other.client = e.from("127.0.0." + strconv.Itoa(ip))
		for range shopBuyBurst {
			if n == shopBuyGlobalBurst {
				break
			}
			f := url.Values{"product": {"kaffekopp"}, "quantity": {"1"}, "csrf": {other.csrf("/")}}
			if res := other.post("/shop/buy", f, nil); res.Status != http.StatusSeeOther {
				t.Fatalf("purchase #%d overall = %d, want 303", n+1, res.Status)
			}
			n++
		}
	}
	other := &shopEnv{e.in(t)}
	other.client = e.from("127.0.0.100")
	f := url.Values{"product": {"kaffekopp"}, "quantity": {"1"}, "csrf": {other.csrf("/")}}
	if res := other.post("/shop/buy", f, nil); res.Status != http.StatusTooManyRequests || res.Header.Get("Retry-After") != "10" {
		t.Errorf("purchase from a new address past the global limit = %d, Retry-After %q; want 429, 10", res.Status, res.Header.Get("Retry-After"))
	}
	clock.Advance(shopBuyEvery)
	if res := e.post("/shop/buy", form(), nil); res.Status != http.StatusSeeOther {
		t.Errorf("purchase after the wait = %d, want 303", res.Status)
	}
}
