package vippstest_test

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/callback"
	"github.com/vippskit/vipps/vippstest"
)

// landingPath is where the initiate url points.
const landingPath = "/dwo-api-application/v1/deeplink/vippsgateway"

// browser drives the simulator's browser app with plain HTTP: no cookies,
// no JavaScript, redirects not followed.
type browser struct {
	t    *testing.T
	base string
	hc   *http.Client
}

func newBrowser(t *testing.T, srv *vippstest.Server) *browser {
	return &browser{t: t, base: srv.URL, hc: &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// resp is a page as the browser got it.
type resp struct {
	status int
	header http.Header
	body   string
}

// do sends a request; target is absolute or a path. headers are name,
// value pairs.
func (b *browser) do(method, target string, form url.Values, headers ...string) resp {
	b.t.Helper()
	if strings.HasPrefix(target, "/") {
		target = b.base + target
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(b.t.Context(), method, target, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, raw := send(b.t, b.hc, req)
	return resp{status: res.StatusCode, header: res.Header, body: string(raw)}
}

func (b *browser) get(target string) resp { b.t.Helper(); return b.do(http.MethodGet, target, nil) }

func (b *browser) post(path string, form url.Values, headers ...string) resp {
	b.t.Helper()
	return b.do(http.MethodPost, path, form, headers...)
}

// field returns the value of the first input named name.
func (r resp) field(t *testing.T, name string) string {
	t.Helper()
	m := regexp.MustCompile(`name="` + regexp.QuoteMeta(name) + `"[^>]*?value="([^"]*)"`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("page has no input %q:\n%s", name, r.body)
	}
	return html.UnescapeString(m[1])
}

// values returns the values of every input named name, in page order.
func (r resp) values(name string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`name="`+regexp.QuoteMeta(name)+`" value="([^"]*)"`).FindAllStringSubmatch(r.body, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

// text is the page's text with tags and entities resolved and white space
// collapsed, for "the page says" checks.
func (r resp) text() string {
	s := regexp.MustCompile(`<[^>]*>`).ReplaceAllString(r.body, " ")
	// Collapse ASCII white space only: amounts keep their no-break spaces.
	return strings.TrimSpace(regexp.MustCompile(`[ \t\r\n]+`).ReplaceAllString(html.UnescapeString(s), " "))
}

// want checks the status and that the page says each of texts.
func (r resp) want(t *testing.T, what string, status int, texts ...string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s = %d, want %d:\n%s", what, r.status, status, r.text())
	}
	for _, s := range texts {
		if !strings.Contains(r.text(), s) {
			t.Errorf("%s does not say %q:\n%s", what, s, r.text())
		}
	}
}

// wantRedirect checks for a 303 to location.
func (r resp) wantRedirect(t *testing.T, what, location string) {
	t.Helper()
	if r.status != http.StatusSeeOther || r.header.Get("Location") != location {
		t.Fatalf("%s = %d Location %q, want 303 to %q:\n%s", what, r.status, r.header.Get("Location"), location, r.text())
	}
}

// appURL is the browser app's url for a payment (isApp payments too).
func appURL(res *vipps.InitiateResponse) string {
	return landingPath + "?v=2&token=" + url.QueryEscape(res.Token())
}

// signIn opens the landing page, gives the phone number and returns the
// app screen.
func (b *browser) signIn(res *vipps.InitiateResponse, phone string) resp {
	b.t.Helper()
	landing := b.get(appURL(res))
	landing.want(b.t, "landing page", http.StatusOK, "Mobile number")
	b.post(landingPath+"/phone", url.Values{
		"token": {landing.field(b.t, "token")}, "ft": {landing.field(b.t, "ft")}, "phone": {phone},
	}).wantRedirect(b.t, "phone step", appURL(res))
	app := b.get(appURL(res))
	app.want(b.t, "app screen", http.StatusOK, "Vipps app of", "Reject")
	return app
}

// act posts the app screen's form with action and the extra fields
// (name, value pairs).
func (b *browser) act(app resp, action string, extra ...string) resp {
	b.t.Helper()
	form := url.Values{"token": {app.field(b.t, "token")}, "ft": {app.field(b.t, "ft")}, "action": {action}}
	for i := 0; i+1 < len(extra); i += 2 {
		form.Set(extra[i], extra[i+1])
	}
	return b.post(landingPath+"/app", form)
}

// merchant is a shop's Vipps endpoints, served by package callback.
type merchant struct {
	prefix string
	tx     chan *vipps.TransactionCallback

	mu       sync.Mutex
	paths    []string // method and escaped path of every request
	consents []string // userIds of consent removals
}

// newMerchant serves a callback.Handler that accepts authToken; configure
// may change its configuration (to serve shippingDetails, say).
func newMerchant(t *testing.T, authToken vipps.Secret, configure func(*callback.Config)) *merchant {
	t.Helper()
	m := &merchant{tx: make(chan *vipps.TransactionCallback, 16)}
	cfg := callback.Config{
		Prefix: "/vipps",
		Lookup: func(context.Context, vipps.OrderID) (string, error) { return callback.HashAuthToken(authToken), nil },
		OnTransaction: func(_ context.Context, cb *vipps.TransactionCallback) error {
			m.tx <- cb
			return nil
		},
		OnConsentRemoved: func(_ context.Context, userID string) error {
			m.mu.Lock()
			defer m.mu.Unlock()
			m.consents = append(m.consents, userID)
			return nil
		},
		Logger: slog.New(slog.DiscardHandler),
	}
	if configure != nil {
		configure(&cfg)
	}
	h, err := callback.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		m.paths = append(m.paths, r.Method+" "+r.URL.EscapedPath())
		m.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		srv.Close()
		h.Shutdown(context.Background())
	})
	m.prefix = srv.URL + "/vipps"
	return m
}

// callback waits for the next transaction callback the merchant accepted.
func (m *merchant) callback(t *testing.T) *vipps.TransactionCallback {
	t.Helper()
	select {
	case cb := <-m.tx:
		return cb
	case <-time.After(5 * time.Second):
		t.Fatal("the merchant got no (authorized) callback")
		return nil
	}
}

// removed returns the userIds of the consent removals the merchant got.
func (m *merchant) removed() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.consents...)
}

func (m *merchant) requests() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.paths...)
}

const cbToken vipps.Secret = "ae0cb90d91b4a84a"

// appPayment initiates a regular payment whose callbacks go to m.
func appPayment(t *testing.T, srv *vippstest.Server, m *merchant, id vipps.OrderID, amount vipps.Amount) (vipps.InitiateRequest, *vipps.InitiateResponse) {
	t.Helper()
	req := regular(id, amount)
	req.MerchantInfo.CallbackPrefix = m.prefix
	req.MerchantInfo.AuthToken = cbToken
	return req, initiate(t, srv.Client, req)
}

func wantStatus(t *testing.T, srv *vippstest.Server, id vipps.OrderID, want vipps.OrderStatus) vippstest.Payment {
	t.Helper()
	p, err := srv.Sim.Payment(id)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != want {
		t.Fatalf("payment %s is %s, want %s", id, p.Status, want)
	}
	return p
}

func TestAppRegularFlow(t *testing.T) {
	m := newMerchant(t, cbToken, nil)
	srv := newServer(t)
	b := newBrowser(t, srv)
	const id = "app-regular-1"
	req := regular(id, 149900)
	req.MerchantInfo.CallbackPrefix = m.prefix
	req.MerchantInfo.AuthToken = cbToken
	req.CustomerInfo.MobileNumber = "90000001"
	res := initiate(t, srv.Client, req)

	landing := b.get(res.URL)
	landing.want(t, "landing page", http.StatusOK,
		"Simulator — not real Vipps", "Sim Shop", "1\u00a0499,00\u00a0kr", "One pair of Vipps socks", "Order "+id, "Mobile number")
	for _, s := range []string{`lang="en"`, `<label for="phone">`, `value="90000001"`, `type="tel"`} {
		if !strings.Contains(landing.body, s) {
			t.Errorf("landing page lacks %s", s)
		}
	}
	if got := landing.header.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("X-Frame-Options = %q, want DENY", got)
	}
	if got := landing.header.Get("Content-Security-Policy"); !strings.Contains(got, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy = %q, want frame-ancestors 'none'", got)
	}
	if got := landing.header.Get("Content-Type"); got != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}
	token, ft := landing.field(t, "token"), landing.field(t, "ft")

	for _, phone := range []string{"123", "1234567890", "abcdefgh", ""} {
		t.Run("phone "+phone, func(t *testing.T) {
			r := b.post(landingPath+"/phone", url.Values{"token": {token}, "ft": {ft}, "phone": {phone}})
			r.want(t, "phone step", http.StatusBadRequest, "is not a Vipps user", "Mobile number")
			if !strings.Contains(r.body, `aria-invalid="true"`) {
				t.Errorf("the phone field is not marked invalid")
			}
			// The customer has no API specification to see.
			if strings.Contains(r.body, "specification") {
				t.Errorf("the phone step tells the customer to see a specification; body:\n%s", r.body)
			}
		})
	}

	b.post(landingPath+"/phone", url.Values{"token": {token}, "ft": {ft}, "phone": {"+47 900 00 001"}}).
		wantRedirect(t, "phone step", appURL(res))
	app := b.get(appURL(res))
	app.want(t, "app screen", http.StatusOK, "Vipps app of", "900\u00a000\u00a0001", "Approve", "Reject", "Payment history")
	if strings.Contains(app.body, `name="address"`) {
		t.Errorf("a regular payment's app screen asks for an address")
	}

	b.act(app, "approve").wantRedirect(t, "approve", req.MerchantInfo.FallBack)

	cb := m.callback(t)
	if cb.OrderID != id || cb.TransactionInfo.Status != vipps.CallbackReserved || cb.TransactionInfo.Amount != 149900 || cb.Express() {
		t.Errorf("callback = %+v, want RESERVED for 149900", cb)
	}
	srv.Sim.WaitCallbacks()
	if rec := srv.Sim.Callbacks(); len(rec) != 1 || !rec[0].Authorized || !rec[0].Delivered() {
		t.Errorf("Sim.Callbacks() = %+v, want one authorized delivery", rec)
	}
	if p := wantStatus(t, srv, id, vipps.OrderStatusReserve); p.PhoneNumber != "90000001" {
		t.Errorf("approved by %q, want 90000001", p.PhoneNumber)
	}
	b.get(appURL(res)).want(t, "the link afterwards", http.StatusOK, "Payment approved", "1\u00a0499,00\u00a0kr")

	t.Run("a second approve changes nothing", func(t *testing.T) {
		b.act(app, "approve").wantRedirect(t, "approve again", appURL(res))
		srv.Sim.WaitCallbacks()
		if n := len(srv.Sim.Callbacks()); n != 1 {
			t.Errorf("%d callbacks, want 1", n)
		}
	})
}

func TestAppReject(t *testing.T) {
	m := newMerchant(t, cbToken, nil)
	srv := newServer(t)
	b := newBrowser(t, srv)
	req, res := appPayment(t, srv, m, "app-reject-1", 20000)
	app := b.signIn(res, "91234567")
	b.act(app, "reject").wantRedirect(t, "reject", req.MerchantInfo.FallBack)
	if cb := m.callback(t); cb.TransactionInfo.Status != vipps.CallbackCancelled {
		t.Errorf("callback status = %s, want CANCELLED", cb.TransactionInfo.Status)
	}
	wantStatus(t, srv, "app-reject-1", vipps.OrderStatusCancel)
	b.get(appURL(res)).want(t, "the link afterwards", http.StatusOK, "Payment rejected")
}

func TestAppMagicAmount(t *testing.T) {
	m := newMerchant(t, cbToken, nil)
	srv := newServer(t)
	b := newBrowser(t, srv)
	req, res := appPayment(t, srv, m, "app-magic-1", 186)
	b.act(b.signIn(res, "91234567"), "approve").wantRedirect(t, "approve", req.MerchantInfo.FallBack)
	if cb := m.callback(t); cb.TransactionInfo.Status != vipps.CallbackReserveFailed {
		t.Errorf("callback status = %s, want RESERVE_FAILED", cb.TransactionInfo.Status)
	}
	b.get(appURL(res)).want(t, "the link afterwards", http.StatusOK, "Payment failed")
}

func TestAppExpiry(t *testing.T) {
	tests := []struct {
		name   string
		act    func(t *testing.T, srv *vippstest.Server, b *browser, res *vipps.InitiateResponse)
		status int
		says   string
	}{
		{"link not used in 5 minutes", func(t *testing.T, srv *vippstest.Server, b *browser, res *vipps.InitiateResponse) {
			landing := b.get(appURL(res))
			srv.Sim.Advance(5*time.Minute + time.Second)
			b.post(landingPath+"/phone", url.Values{"token": {landing.field(t, "token")}, "ft": {landing.field(t, "ft")}, "phone": {"91234567"}}).
				wantRedirect(t, "phone step after 5 minutes", appURL(res))
		}, http.StatusGone, "The link has expired"},
		{"phone given in time", func(t *testing.T, srv *vippstest.Server, b *browser, res *vipps.InitiateResponse) {
			b.signIn(res, "91234567")
			srv.Sim.Advance(9 * time.Minute)
		}, http.StatusOK, "Approve"},
		{"timed out after 10 minutes", func(t *testing.T, srv *vippstest.Server, b *browser, res *vipps.InitiateResponse) {
			b.signIn(res, "91234567")
			srv.Sim.Advance(10 * time.Minute)
		}, http.StatusOK, "Payment timed out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			b := newBrowser(t, srv)
			res := initiate(t, srv.Client, regular("app-expiry-1", 20000))
			tt.act(t, srv, b, res)
			b.get(appURL(res)).want(t, "the link", tt.status, tt.says)
		})
	}
}

func TestAppFallBack(t *testing.T) {
	skipper := vippstest.DefaultMerchant()
	skipper.SkipLandingPageAllowed = true
	tests := []struct {
		name     string
		change   func(*vipps.InitiateRequest)
		location string // a 303 there, or else
		says     string // a 200 page that says this
		link     string // with this link
	}{
		{"https", func(*vipps.InitiateRequest) {}, "https://shop.example/return/fb-1", "", ""},
		{"isApp", func(r *vipps.InitiateRequest) {
			r.MerchantInfo.IsApp = true
			r.MerchantInfo.FallBack = "merchantapp://result?order=fb-1"
		}, "", "Vipps now opens the merchant's app", `href="merchantapp://result?order=fb-1"`},
		{"isApp with https", func(r *vipps.InitiateRequest) { r.MerchantInfo.IsApp = true }, "", "Payment approved", `href="https://shop.example/return/fb-1"`},
		{"app scheme", func(r *vipps.InitiateRequest) { r.MerchantInfo.FallBack = "merchantapp://result" }, "", "Payment approved", `href="merchantapp://result"`},
		{"INTENT", func(r *vipps.InitiateRequest) { r.MerchantInfo.FallBack = "INTENT" }, "", "fallBack is INTENT", ""},
		{"javascript with isApp", func(r *vipps.InitiateRequest) {
			r.MerchantInfo.IsApp = true
			r.MerchantInfo.FallBack = "javascript:alert(1)"
		}, "", "Payment approved", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			b := newBrowser(t, srv)
			req := regular("fb-1", 20000)
			tt.change(&req)
			res := initiate(t, srv.Client, req)
			r := b.act(b.signIn(res, "91234567"), "approve")
			if tt.location != "" {
				r.wantRedirect(t, "approve", tt.location)
				return
			}
			r.want(t, "approve", http.StatusOK, tt.says)
			if tt.link != "" && !strings.Contains(r.body, tt.link) {
				t.Errorf("the page has no link %s:\n%s", tt.link, r.body)
			}
			if strings.Contains(r.body, "javascript:") {
				t.Errorf("the page links to javascript:")
			}
		})
	}

	t.Run("skipLandingPage", func(t *testing.T) {
		srv := newServer(t, merchants(skipper))
		b := newBrowser(t, srv)
		req := regular("fb-skip", 20000)
		req.CustomerInfo.MobileNumber = "90000002"
		req.Transaction.SkipLandingPage = true
		res := initiate(t, srv.Client, req)
		app := b.get(appURL(res))
		app.want(t, "the link", http.StatusOK, "Vipps app of", "900\u00a000\u00a0002", "Approve")
		if strings.Contains(app.body, "Use another number") {
			t.Errorf("with skipLandingPage the number can be changed")
		}
		b.act(app, "approve").want(t, "approve", http.StatusOK, "Payment approved", "There is no redirect")
		wantStatus(t, srv, "fb-skip", vipps.OrderStatusReserve)
	})
}

func TestAppChangeNumber(t *testing.T) {
	srv := newServer(t)
	b := newBrowser(t, srv)
	res := initiate(t, srv.Client, regular("change-1", 20000))
	app := b.signIn(res, "91234567")
	b.post(landingPath+"/phone", url.Values{"token": {app.field(t, "token")}, "ft": {app.field(t, "ft")}, "action": {"change"}}).
		wantRedirect(t, "use another number", appURL(res))
	b.get(appURL(res)).want(t, "the link", http.StatusOK, "Mobile number")
	b.act(b.signIn(res, "98765432"), "approve")
	if p := wantStatus(t, srv, "change-1", vipps.OrderStatusReserve); p.PhoneNumber != "98765432" {
		t.Errorf("approved by %s, want 98765432", p.PhoneNumber)
	}
}

func TestAppFormProtection(t *testing.T) {
	srv := newServer(t)
	b := newBrowser(t, srv)
	res := initiate(t, srv.Client, regular("csrf-1", 20000))
	app := b.signIn(res, "91234567")
	good := url.Values{"token": {app.field(t, "token")}, "ft": {app.field(t, "ft")}, "action": {"approve"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for key, vs := range good {
			f[key] = vs
		}
		f.Set(k, v)
		return f
	}
	tests := []struct {
		name    string
		path    string
		form    url.Values
		headers []string
		status  int
	}{
		{"cross-site approve", "/app", good, []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"cross-site phone", "/phone", good, []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"foreign origin", "/app", good, []string{"Origin", "https://evil.example"}, http.StatusForbidden},
		{"no form token", "/app", with("ft", ""), nil, http.StatusForbidden},
		{"wrong form token", "/app", with("ft", "AAAA"), nil, http.StatusForbidden},
		{"unknown payment", "/app", with("token", "nope"), nil, http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.post(landingPath+tt.path, tt.form, tt.headers...)
			if r.status != tt.status {
				t.Errorf("POST %s = %d, want %d: %s", tt.path, r.status, tt.status, r.text())
			}
			wantStatus(t, srv, "csrf-1", vipps.OrderStatusInitiate)
		})
	}
	t.Run("same origin", func(t *testing.T) {
		b.post(landingPath+"/app", good, "Sec-Fetch-Site", "same-origin", "Origin", srv.URL).
			wantRedirect(t, "approve", "https://shop.example/return/csrf-1")
	})
	t.Run("unknown link", func(t *testing.T) {
		b.get(landingPath+"?v=2&token=nope").want(t, "unknown link", http.StatusNotFound, "No payment has this link")
	})
	t.Run("style sheet", func(t *testing.T) {
		r := b.get("/_sim/static/app.css")
		if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/css") || !strings.Contains(r.body, "#ff5b24") {
			t.Errorf("GET app.css = %d %s", r.status, r.header.Get("Content-Type"))
		}
	})
}
