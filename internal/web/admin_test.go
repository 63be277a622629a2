package web

import (
	"context"
	"fmt"
	"html"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/internal/servicetest"
	"github.com/vippskit/vipps/vippstest"
)

// adminEnv is the shared testEnv with the helpers of the admin tests, which
// take the (sub)test to fail explicitly.
type adminEnv struct {
	*testEnv
	// admin is a browser signed in as testAdminUser, which send uses.
	admin *http.Client
}

// newAdminEnv starts a testEnv for admin tests, with a browser signed in
// as an administrator.
func newAdminEnv(t *testing.T, opts ...func(*envConfig)) *adminEnv {
	t.Helper()
	e := newTestEnv(t, opts...)
	return &adminEnv{testEnv: e, admin: e.browser(testAdminUser)}
}

// csrf is a form token of the administrator's session.
func (e *adminEnv) csrf() string { return e.csrfOf(e.admin) }

// do sends a request as a signed-in member of staff would from the admin
// page (same origin), and returns the status, the body and the response.
func (e *adminEnv) send(t *testing.T, method, path string, form url.Values) (int, string, *http.Response) {
	t.Helper()
	return e.sendWith(t, method, path, form, nil)
}

// sendWith is send with the headers h too.
func (e *adminEnv) sendWith(t *testing.T, method, path string, form url.Values, h http.Header) (int, string, *http.Response) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, e.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", e.url)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	resp, err := e.admin.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp
}

// get fetches an admin page and fails the test unless it is 200.
func (e *adminEnv) get(t *testing.T, path string) string {
	t.Helper()
	status, body, _ := e.send(t, http.MethodGet, path, nil)
	if status != http.StatusOK {
		t.Fatalf("GET %s = %d, want 200\n%s", path, status, body)
	}
	return body
}

var (
	adminFormRE   = regexp.MustCompile(`(?s)<form[^>]*method="post" action="([^"]+)">(.*?)</form>`)
	adminHiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// forms returns the post forms of a page by action, with their hidden
// fields, as a browser would send them.
func adminForms(page string) map[string]url.Values {
	out := map[string]url.Values{}
	for _, m := range adminFormRE.FindAllStringSubmatch(page, -1) {
		v := url.Values{}
		for _, h := range adminHiddenRE.FindAllStringSubmatch(m[2], -1) {
			v.Set(h[1], html.UnescapeString(h[2]))
		}
		out[html.UnescapeString(m[1])] = v
	}
	return out
}

// submit loads the payment page, fills in the form posting to action with
// fields, and sends it. It returns the flash kind and message of the
// redirect.
func (e *adminEnv) submit(t *testing.T, id vipps.OrderID, action string, fields url.Values) (kind, msg string) {
	t.Helper()
	form := e.form(t, id, action)
	for k, v := range fields {
		form[k] = v
	}
	return e.post(t, adminPaymentURL(id)+action, form)
}

// form returns the hidden fields of the payment page's form posting to
// action (such as "/capture"), failing when the page has none.
func (e *adminEnv) form(t *testing.T, id vipps.OrderID, action string) url.Values {
	t.Helper()
	forms := adminForms(e.get(t, adminPaymentURL(id)))
	f, ok := forms[adminPaymentURL(id)+action]
	if !ok {
		t.Fatalf("payment page of %s has no form posting to %s; it has %v", id, action, slices.Sorted(maps.Keys(forms)))
	}
	return f
}

// post sends a form and returns the flash of the 303 it must answer. A
// refund of everything and a cancel are first answered with a page that
// asks to confirm them: post confirms, as staff would (TestAdminConfirm
// tests that step itself).
func (e *adminEnv) post(t *testing.T, path string, form url.Values) (kind, msg string) {
	t.Helper()
	status, body, resp := e.send(t, http.MethodPost, path, form)
	if status == http.StatusOK && strings.Contains(body, `name="confirm"`) {
		confirm, ok := adminForms(body)[path]
		if !ok {
			t.Fatalf("POST %s: the confirmation page has no form posting to %s\n%s", path, path, body)
		}
		status, body, resp = e.send(t, http.MethodPost, path, confirm)
	}
	if status != http.StatusSeeOther {
		t.Fatalf("POST %s = %d, want 303\n%s", path, status, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := loc.Query()
	if q.Get("sig") == "" {
		t.Errorf("POST %s: redirect %s has no signed message", path, loc)
	}
	// The page it leads to shows the message.
	if page := e.get(t, loc.RequestURI()); !strings.Contains(page, html.EscapeString(q.Get("msg"))) {
		t.Errorf("GET %s does not show the message %q", loc, q.Get("msg"))
	}
	return q.Get("kind"), q.Get("msg")
}

// refused sends a form that must be refused with status, and returns the
// payment page it is answered with.
func (e *adminEnv) refused(t *testing.T, path string, form url.Values, status int) string {
	t.Helper()
	got, body, _ := e.send(t, http.MethodPost, path, form)
	if got != status {
		t.Fatalf("POST %s = %d, want %d\n%s", path, got, status, body)
	}
	if !strings.Contains(body, `class="admin-flash admin-flash-error admin-summary"`) {
		t.Errorf("POST %s: the answer has no error summary\n%s", path, body)
	}
	return body
}

// create makes a payment of amount øre that waits for the customer.
func (e *adminEnv) create(t *testing.T, amount vipps.Amount, shopRef string, express bool) vipps.OrderID {
	t.Helper()
	p, err := e.svc.Create(context.Background(), payment.CreateRequest{
		Amount: amount, Text: "Two mugs", ShopRef: shopRef, Express: express, ReturnURL: "https://shop.example/done",
	})
	if err != nil {
		t.Fatal(err)
	}
	return p.OrderID
}

// reserve makes a payment of amount øre that the customer approved.
func (e *adminEnv) reserve(t *testing.T, amount vipps.Amount) vipps.OrderID {
	t.Helper()
	id := e.create(t, amount, "", false)
	e.in(t).approve(id)
	return id
}

// stored returns the stored payment.
func (e *adminEnv) stored(t *testing.T, id vipps.OrderID) *payment.Payment {
	t.Helper()
	p, err := e.store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// simSummary is what the simulator says was captured, refunded and
// released.
func (e *adminEnv) simSummary(t *testing.T, id vipps.OrderID) [3]vipps.Amount {
	t.Helper()
	p, err := e.sim.Sim.Payment(id)
	if err != nil {
		t.Fatal(err)
	}
	return [3]vipps.Amount{p.Summary.CapturedAmount, p.Summary.RefundedAmount, p.Released}
}

// TestAdminAuth: the headers of every admin page (TestAdminRoutesNeedSession
// and TestAdminRoles check who may see them).
func TestAdminAuth(t *testing.T) {
	e := newAdminEnv(t)
	t.Run("signed in", func(t *testing.T) {
		status, _, resp := e.send(t, "GET", "/admin/", nil)
		if status != http.StatusOK {
			t.Fatalf("GET /admin/ = %d, want 200", status)
		}
		want := map[string]string{
			"Cache-Control":   "no-store",
			"X-Frame-Options": "DENY",
			"Referrer-Policy": "same-origin",
			"Content-Type":    "text/html; charset=utf-8",
		}
		got := map[string]string{}
		for k := range want {
			got[k] = resp.Header.Get(k)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GET /admin/ headers (-want +got):\n%s", diff)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("Content-Security-Policy = %q, want frame-ancestors 'none'", csp)
		}
	})
}

var (
	adminRowRE  = regexp.MustCompile(`<th scope="row"><a href="/admin/payments/([^"]+)">`)
	adminNextRE = regexp.MustCompile(`<a href="([^"]+)" rel="next">`)
)

func TestAdminList(t *testing.T) {
	e := newAdminEnv(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	// Six payments, a minute apart; p3 and p4 at the same time, so that the
	// cursor must use the orderId too.
	seed := []struct {
		id      vipps.OrderID
		shopRef string
		text    string
		state   payment.State
		at      time.Duration
		amounts payment.Amounts
	}{
		{"shop-1-0", "A-100", "Blue mug", payment.Reserved, 0, payment.Amounts{Authorized: 12345, RemainingToCapture: 12345}},
		{"shop-2-0", "A-101", "Red teapot", payment.Captured, time.Minute, payment.Amounts{Authorized: 123450, Captured: 123450, RemainingToRefund: 123450}},
		{"shop-3-0", "B-200", "Blue teapot", payment.Reserved, 2 * time.Minute, payment.Amounts{Authorized: 5000, RemainingToCapture: 5000}},
		{"shop-4-0", "B-201", "Green cup", payment.Cancelled, 2 * time.Minute, payment.Amounts{Authorized: 7000}},
		{"shop-5-0", "", "Socks", payment.Refunded, 4 * time.Minute, payment.Amounts{Authorized: 9900, Captured: 9900, Refunded: 9900}},
		{"shop-6-0", "A-102", "Blue socks", payment.Initiated, 5 * time.Minute, payment.Amounts{Authorized: 100}},
	}
	for _, s := range seed {
		at := t0.Add(s.at)
		p := &payment.Payment{OrderID: s.id, ShopRef: s.shopRef, MSN: "123456", Kind: payment.Regular, Text: s.text,
			State: s.state, Amounts: s.amounts, CreatedAt: at, UpdatedAt: at}
		if err := e.store.Create(ctx, p, payment.Event{Type: payment.EventCreated, State: s.state, At: at}); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(body string) []string {
		var out []string
		for _, m := range adminRowRE.FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out
	}

	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{"everything, newest first", "", []string{"shop-6-0", "shop-5-0", "shop-4-0", "shop-3-0", "shop-2-0", "shop-1-0"}},
		{"by state", "state=reserved", []string{"shop-3-0", "shop-1-0"}},
		{"by orderId", "q=shop-2", []string{"shop-2-0"}},
		{"by shop reference", "q=a-10", []string{"shop-6-0", "shop-2-0", "shop-1-0"}},
		{"by text", "q=teapot", []string{"shop-3-0", "shop-2-0"}},
		{"by text and state", "q=blue&state=reserved", []string{"shop-3-0", "shop-1-0"}},
		{"nothing matches", "q=kettle", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := e.get(t, "/admin/?"+tt.query)
			if diff := cmp.Diff(tt.want, ids(body)); diff != "" {
				t.Errorf("GET /admin/?%s rows (-want +got):\n%s", tt.query, diff)
			}
		})
	}

	t.Run("pages", func(t *testing.T) {
		var got [][]string
		path := "/admin/?limit=2"
		for range 5 {
			body := e.get(t, path)
			got = append(got, ids(body))
			m := adminNextRE.FindStringSubmatch(body)
			if m == nil {
				break
			}
			path = html.UnescapeString(m[1])
		}
		want := [][]string{{"shop-6-0", "shop-5-0"}, {"shop-4-0", "shop-3-0"}, {"shop-2-0", "shop-1-0"}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("pages of 2 (-want +got):\n%s", diff)
		}
	})

	t.Run("pages keep the filter", func(t *testing.T) {
		body := e.get(t, "/admin/?limit=1&q=blue")
		m := adminNextRE.FindStringSubmatch(body)
		if m == nil {
			t.Fatal("first page of 1 has no next link")
		}
		next, _ := url.Parse(html.UnescapeString(m[1]))
		if got := next.Query().Get("q"); got != "blue" {
			t.Errorf("next link %s has q=%q, want blue", next, got)
		}
		if diff := cmp.Diff([]string{"shop-3-0"}, ids(e.get(t, next.RequestURI()))); diff != "" {
			t.Errorf("second page of blue (-want +got):\n%s", diff)
		}
	})

	t.Run("cells", func(t *testing.T) {
		body := e.get(t, "/admin/?q=shop-2")
		for _, want := range []string{
			"1\u00a0234,50\u00a0kr", // amount and captured
			"A-101", "Red teapot",
			`<span class="admin-badge admin-state-captured">Captured</span>`,
			`<time datetime="2026-11-24T09:01:00Z">24.11.2026 10:01</time>`, // Oslo time
		} {
			if !strings.Contains(body, want) {
				t.Errorf("GET /admin/?q=shop-2 lacks %q", want)
			}
		}
	})

	t.Run("counts", func(t *testing.T) {
		body := e.get(t, "/admin/")
		for _, want := range []string{"Every state (6)", "Reserved (2)", "Captured (1)", "Failed (0)"} {
			if !strings.Contains(body, want) {
				t.Errorf("GET /admin/ lacks count %q", want)
			}
		}
	})

	for _, bad := range []string{"state=paid", "limit=0", "limit=x", "before=yesterday&before_id=shop-1-0", "before_id=no%20such"} {
		t.Run("bad link "+bad, func(t *testing.T) {
			status, body, _ := e.send(t, "GET", "/admin/?"+bad, nil)
			if status != http.StatusBadRequest {
				t.Errorf("GET /admin/?%s = %d, want 400", bad, status)
			}
			if !strings.Contains(body, `role="alert"`) {
				t.Errorf("GET /admin/?%s does not say what is wrong", bad)
			}
		})
	}
}

// TestAdminCapture captures through the form: once, even when the same
// form is sent twice, and never without the CSRF token.
func TestAdminCapture(t *testing.T) {
	e := newAdminEnv(t)
	id := e.reserve(t, 20000)

	form := e.form(t, id, "/capture")
	if form.Get("csrf") == "" || !strings.HasPrefix(form.Get("key"), "admin-") {
		t.Fatalf("capture form hidden fields = %v, want csrf and an admin- key", form)
	}
	form.Set("amount", "50,00")
	form.Set("text", "First parcel")

	t.Run("refused without CSRF token", func(t *testing.T) {
		for name, f := range map[string]url.Values{
			"missing": {"key": form["key"], "amount": {"50"}},
			"forged":  {"key": form["key"], "amount": {"50"}, "csrf": {"1." + strings.Repeat("A", 43)}},
		} {
			status, _, _ := e.send(t, "POST", adminPaymentURL(id)+"/capture", f)
			if status != http.StatusForbidden {
				t.Errorf("POST capture with %s CSRF token = %d, want 403", name, status)
			}
		}
		if got := e.simSummary(t, id); got != [3]vipps.Amount{} {
			t.Errorf("after refused posts, simulator summary = %v, want nothing captured", got)
		}
	})

	t.Run("refused cross-site", func(t *testing.T) {
		req, _ := http.NewRequest("POST", e.url+adminPaymentURL(id)+"/capture", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, err := e.admin.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site POST capture = %d, want 403", resp.StatusCode)
		}
	})

	kind, msg := e.post(t, adminPaymentURL(id)+"/capture", form)
	if kind != adminOK || msg != "Captured 50,00\u00a0kr." {
		t.Errorf("capture 50,00 = %s %q, want ok %q", kind, msg, "Captured 50,00\u00a0kr.")
	}
	// A double click, or the form sent again from the browser's history.
	kind, msg = e.post(t, adminPaymentURL(id)+"/capture", form)
	if kind != adminOK || !strings.HasPrefix(msg, "This form was sent before") {
		t.Errorf("the same capture again = %s %q, want ok, sent before", kind, msg)
	}
	if got, want := e.simSummary(t, id), [3]vipps.Amount{5000, 0, 0}; got != want {
		t.Errorf("simulator summary after the same form twice = %v, want %v", got, want)
	}
	ops, err := e.svc.Operations(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 1 || ops[0].Amount != 5000 || ops[0].Text != "First parcel" || ops[0].IdempotencyKey != form.Get("key") {
		t.Errorf("operations after the same form twice = %+v, want one capture of 5000 with the form's key", ops)
	}

	// The page shows the operation and the history.
	page := e.get(t, adminPaymentURL(id))
	for _, want := range []string{
		ops[0].RequestID, "First parcel", "Done",
		"Customer approved; money reserved", "Money captured", "Operation requested",
		"150,00\u00a0kr", // left to capture
	} {
		if !strings.Contains(page, want) {
			t.Errorf("payment page after capture lacks %q", want)
		}
	}

	// A new rendering has a new key: the rest is captured.
	kind, msg = e.submit(t, id, "/capture", url.Values{"amount": {""}})
	if kind != adminOK || msg != "Captured 150,00\u00a0kr." {
		t.Errorf("capture the rest = %s %q, want ok, captured 150,00 kr", kind, msg)
	}
	if got, want := e.simSummary(t, id), [3]vipps.Amount{20000, 0, 0}; got != want {
		t.Errorf("simulator summary after capturing the rest = %v, want %v", got, want)
	}
	if p := e.stored(t, id); p.State != payment.Captured {
		t.Errorf("state after capturing everything = %s, want captured", p.State)
	}
}

// TestAdminCaptureClickedAtOnce sends one capture form several times at
// once, as an impatient double click does: Vipps captures once.
func TestAdminCaptureClickedAtOnce(t *testing.T) {
	e := newAdminEnv(t)
	id := e.reserve(t, 20000)
	form := e.form(t, id, "/capture")
	form.Set("amount", "70")

	const clicks = 4
	var wg sync.WaitGroup
	statuses := make([]int, clicks)
	for i := range clicks {
		wg.Go(func() {
			req, err := http.NewRequest("POST", e.url+adminPaymentURL(id)+"/capture", strings.NewReader(form.Encode()))
			if err != nil {
				return
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			resp, err := e.admin.Do(req)
			if err != nil {
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	wg.Wait()
	want := []int{303, 303, 303, 303}
	if diff := cmp.Diff(want, statuses); diff != "" {
		t.Errorf("statuses of %d clicks (-want +got):\n%s", clicks, diff)
	}
	if got, want := e.simSummary(t, id), [3]vipps.Amount{7000, 0, 0}; got != want {
		t.Errorf("simulator summary after %d clicks = %v, want %v", clicks, got, want)
	}
	p, err := e.sim.Sim.Payment(id)
	if err != nil {
		t.Fatal(err)
	}
	captures := 0
	for _, l := range p.Log {
		if l.Operation == vipps.OperationCapture {
			captures++
		}
	}
	if captures != 1 {
		t.Errorf("simulator log has %d captures after %d clicks, want 1", captures, clicks)
	}
}

func TestAdminCaptureRefused(t *testing.T) {
	e := newAdminEnv(t)
	id := e.reserve(t, 20000)
	form := e.form(t, id, "/capture")

	tests := []struct {
		name, amount, text string
		status             int
		field              string // the id of the input marked invalid, or ""
		want               string
	}{
		{"garbage", "fifty", "", 400, "capture-amount", `"fifty" is not an amount in kroner`},
		{"negative", "-5", "", 400, "capture-amount", "no minus sign"},
		{"three decimals", "5,005", "", 400, "capture-amount", "at most two decimals"},
		{"more than reserved", "200,01", "", 400, "capture-amount", "200,01\u00a0kr is more than the 200,00\u00a0kr left to capture. Nothing was done."},
		{"text too long", "1", strings.Repeat("x", 101), 400, "capture-text", "The text is 101 characters; Vipps takes at most 100."},
		{"no key", "1", "", 400, "", "no request key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := url.Values{"csrf": form["csrf"], "key": form["key"], "amount": {tt.amount}, "text": {tt.text}}
			if tt.name == "no key" {
				f.Del("key")
			}
			page := e.refused(t, adminPaymentURL(id)+"/capture", f, tt.status)
			if !strings.Contains(page, html.EscapeString(tt.want)) {
				t.Errorf("capture %q: the page does not say %q", tt.amount, tt.want)
			}
			// The typed values are kept.
			for _, in := range []struct{ id, value string }{{"capture-amount", tt.amount}, {"capture-text", tt.text}} {
				if got, ok := adminInputValue(page, in.id); !ok || got != in.value {
					t.Errorf("capture %q: #%s value = %q (%v), want %q as typed", tt.amount, in.id, got, ok, in.value)
				}
			}
			if tt.field == "" {
				if strings.Contains(page, `aria-invalid="true"`) {
					t.Errorf("capture %q: a field is marked invalid; the form as a whole was refused", tt.amount)
				}
				return
			}
			// The field is marked, described by the message next to it,
			// and the summary links to it.
			in := adminInput(page, tt.field)
			if !strings.Contains(in, `aria-invalid="true"`) || !strings.Contains(in, `aria-describedby="`+tt.field+`-error`) {
				t.Errorf("capture %q: #%s = %s, want aria-invalid and aria-describedby %s-error", tt.amount, tt.field, in, tt.field)
			}
			if !strings.Contains(page, `<p id="`+tt.field+`-error" class="admin-field-error">`+html.EscapeString(tt.want)) &&
				!regexp.MustCompile(`<p id="`+tt.field+`-error" class="admin-field-error">[^<]*`+regexp.QuoteMeta(html.EscapeString(tt.want))).MatchString(page) {
				t.Errorf("capture %q: no message %q next to #%s", tt.amount, tt.want, tt.field)
			}
			if !strings.Contains(page, `<a href="#`+tt.field+`">`) {
				t.Errorf("capture %q: the error summary does not link to #%s", tt.amount, tt.field)
			}
		})
	}
	if got := e.simSummary(t, id); got != [3]vipps.Amount{} {
		t.Errorf("simulator summary after refused captures = %v, want nothing captured", got)
	}

	t.Run("refused by Vipps", func(t *testing.T) {
		// Captured behind the service's back: Vipps refuses the next one.
		if _, err := e.sim.Client.Capture(context.Background(), id, vipps.CaptureRequest{TransactionText: "elsewhere"}); err != nil {
			t.Fatal(err)
		}
		f := e.form(t, id, "/capture")
		f.Set("amount", "10")
		f.Set("text", "Second parcel")
		page := e.refused(t, adminPaymentURL(id)+"/capture", f, http.StatusUnprocessableEntity)
		if !strings.Contains(page, "Vipps refused the capture: ") {
			t.Errorf("capture refused by Vipps: the page does not say Vipps refused it")
		}
		if got, _ := adminInputValue(page, "capture-text"); got != "Second parcel" {
			t.Errorf("capture refused by Vipps: the text field is %q, want it as typed", got)
		}
		p := e.stored(t, id)
		if p.LastError == nil || p.LastError.Group != "Payment" {
			t.Fatalf("LastError = %+v, want a Payment error", p.LastError)
		}
		page = e.get(t, adminPaymentURL(id))
		for _, want := range []string{"Latest problem", html.EscapeString(p.LastError.Message), html.EscapeString(p.LastError.CustomerMessage()),
			"errorGroup <code>Payment</code>", "errorCode <code>" + p.LastError.Code + "</code>", "Refused"} {
			if !strings.Contains(page, want) {
				t.Errorf("payment page after a refusal lacks %q", want)
			}
		}
		if p.LastError.ContextID != "" && !strings.Contains(page, p.LastError.ContextID) {
			t.Errorf("payment page lacks the contextId %s", p.LastError.ContextID)
		}
	})
}

func TestAdminCapturePending(t *testing.T) {
	e := newAdminEnv(t)
	id := e.reserve(t, 20000)
	fid, err := e.sim.Sim.InjectFault(vippstest.Fault{Kind: vippstest.FaultDrop, Op: "capture"})
	if err != nil {
		t.Fatal(err)
	}
	kind, msg := e.submit(t, id, "/capture", url.Values{"amount": {"10"}})
	want := "Vipps did not answer in time; the service will retry with the same request id. Refresh in a minute."
	if kind != adminWarn || msg != want {
		t.Errorf("capture without an answer = %s %q, want warn %q", kind, msg, want)
	}
	e.sim.Sim.RemoveFault(fid)
	page := e.get(t, adminPaymentURL(id))
	if !strings.Contains(page, "Waiting for Vipps to answer") {
		t.Error("payment page does not say that a capture waits for Vipps")
	}
	if _, ok := adminForms(page)[adminPaymentURL(id)+"/capture"]; ok {
		t.Error("payment page offers a second capture while one is pending")
	}
}

func TestAdminRefund(t *testing.T) {
	e := newAdminEnv(t)
	id := e.reserve(t, 20000)
	if _, ok := adminForms(e.get(t, adminPaymentURL(id)))[adminPaymentURL(id)+"/refund"]; ok {
		t.Error("payment page offers a refund before anything is captured")
	}
	if kind, msg := e.submit(t, id, "/capture", nil); kind != adminOK {
		t.Fatalf("capture = %s %q", kind, msg)
	}

	f := e.form(t, id, "/refund")
	f.Set("amount", "1 000,01")
	page := e.refused(t, adminPaymentURL(id)+"/refund", f, http.StatusBadRequest)
	if !strings.Contains(page, "more than the 200,00\u00a0kr that can still be refunded") {
		t.Errorf("refund of too much: the page does not say how much can be refunded")
	}
	if got, _ := adminInputValue(page, "refund-amount"); got != "1 000,01" {
		t.Errorf("refund of too much: the amount field is %q, want it as typed", got)
	}
	kind, msg := e.submit(t, id, "/refund", url.Values{"amount": {"20.5"}, "text": {"Broken handle"}})
	if kind != adminOK || !strings.HasPrefix(msg, "Refunded 20,50\u00a0kr to the customer.") {
		t.Errorf("refund 20.5 = %s %q, want ok", kind, msg)
	}
	if got, want := e.simSummary(t, id), [3]vipps.Amount{20000, 2050, 0}; got != want {
		t.Errorf("simulator summary after refund = %v, want %v", got, want)
	}
	kind, msg = e.submit(t, id, "/refund", nil)
	if kind != adminOK || !strings.HasPrefix(msg, "Refunded 179,50\u00a0kr") {
		t.Errorf("refund the rest = %s %q, want ok", kind, msg)
	}
	p := e.stored(t, id)
	if p.State != payment.Refunded {
		t.Errorf("state after refunding everything = %s, want refunded", p.State)
	}
	page = e.get(t, adminPaymentURL(id))
	forms := adminForms(page)
	if got, want := slices.Sorted(maps.Keys(forms)), []string{adminPaymentURL(id) + "/check"}; !slices.Equal(got, want) {
		t.Errorf("forms of a refunded payment = %v, want %v", got, want)
	}
	if !strings.Contains(page, "Broken handle") {
		t.Error("payment page lacks the refund's text")
	}
}

func TestAdminCancel(t *testing.T) {
	e := newAdminEnv(t)
	ctx := context.Background()

	t.Run("waiting for the customer", func(t *testing.T) {
		id := e.create(t, 10000, "", false)
		page := e.get(t, adminPaymentURL(id))
		forms := adminForms(page)
		if got, want := slices.Sorted(maps.Keys(forms)), []string{adminPaymentURL(id) + "/cancel", adminPaymentURL(id) + "/check"}; !slices.Equal(got, want) {
			t.Errorf("forms of a waiting payment = %v, want %v", got, want)
		}
		kind, msg := e.submit(t, id, "/cancel", nil)
		if kind != adminOK || !strings.Contains(msg, "can no longer pay") {
			t.Errorf("cancel = %s %q, want ok", kind, msg)
		}
		if p := e.stored(t, id); p.State != payment.Cancelled {
			t.Errorf("state after cancel = %s, want cancelled", p.State)
		}
	})

	t.Run("reserved", func(t *testing.T) {
		id := e.reserve(t, 10000)
		kind, msg := e.submit(t, id, "/cancel", nil)
		if kind != adminOK || !strings.Contains(msg, "reservation is released") {
			t.Errorf("cancel = %s %q, want ok", kind, msg)
		}
		if p := e.stored(t, id); p.State != payment.Voided {
			t.Errorf("state after cancel = %s, want voided", p.State)
		}
		if got, want := e.simSummary(t, id), [3]vipps.Amount{0, 0, 10000}; got != want {
			t.Errorf("simulator summary after cancel = %v, want %v", got, want)
		}
	})

	t.Run("partly captured", func(t *testing.T) {
		id := e.reserve(t, 10000)
		if kind, msg := e.submit(t, id, "/capture", url.Values{"amount": {"30"}}); kind != adminOK {
			t.Fatalf("capture = %s %q", kind, msg)
		}
		// Without release (the confirmation adds it), nothing is done.
		page := e.refused(t, adminPaymentURL(id)+"/cancel", url.Values{"csrf": {e.csrf()}, "key": {"k-no-release"}, "confirm": {"1"}}, http.StatusConflict)
		if !strings.Contains(page, "release the 70,00\u00a0kr still reserved, or refund instead") {
			t.Errorf("cancel without release: the page does not say to release or refund")
		}
		kind, msg := e.submit(t, id, "/cancel", nil)
		if kind != adminOK || !strings.Contains(msg, "Released what was still reserved") {
			t.Errorf("cancel with release = %s %q, want ok", kind, msg)
		}
		if got, want := e.simSummary(t, id), [3]vipps.Amount{3000, 0, 7000}; got != want {
			t.Errorf("simulator summary after release = %v, want %v", got, want)
		}
		p := e.stored(t, id)
		if p.State != payment.Captured {
			t.Errorf("state after release = %s, want captured", p.State)
		}
		forms := adminForms(e.get(t, adminPaymentURL(id)))
		if got, want := slices.Sorted(maps.Keys(forms)), []string{adminPaymentURL(id) + "/check", adminPaymentURL(id) + "/refund"}; !slices.Equal(got, want) {
			t.Errorf("forms after release = %v, want %v", got, want)
		}
	})

	t.Run("cancelled already", func(t *testing.T) {
		id := e.create(t, 10000, "", false)
		form := e.form(t, id, "/cancel")
		if _, err := e.svc.Cancel(ctx, id, payment.OpRequest{}); err != nil {
			t.Fatal(err)
		}
		// Refused at once: there is nothing to confirm.
		page := e.refused(t, adminPaymentURL(id)+"/cancel", form, http.StatusConflict)
		if !strings.Contains(page, "A payment that is cancelled cannot be cancelled.") {
			t.Errorf("cancel of a cancelled payment: the page does not say it cannot be cancelled")
		}
	})
}

func TestAdminCheck(t *testing.T) {
	e := newAdminEnv(t)
	id := e.create(t, 10000, "", false)
	if err := e.sim.Sim.Approve(id, ""); err != nil {
		t.Fatal(err)
	}
	e.sim.Sim.WaitCallbacks()
	kind, msg := e.submit(t, id, "/check", nil)
	if kind != adminOK || msg != "Checked with Vipps: the payment is reserved." {
		t.Errorf("check = %s %q, want ok, reserved", kind, msg)
	}

	fid, err := e.sim.Sim.InjectFault(vippstest.Fault{Kind: vippstest.FaultServerError, Op: "details"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.sim.Sim.RemoveFault(fid)
	// Twice: the second failure is the same error, stored once (its time
	// is the first's), and must still be reported.
	for i := range 2 {
		kind, msg = e.submit(t, id, "/check", nil)
		if kind != adminError || !strings.HasPrefix(msg, "Could not check with Vipps: ") {
			t.Errorf("check #%d while Vipps fails = %s %q, want error", i+1, kind, msg)
		}
	}
}

func TestAdminPaymentPage(t *testing.T) {
	e := newAdminEnv(t) // with a static express shipping option: Posten, 49 kr
	ctx := context.Background()

	t.Run("not found", func(t *testing.T) {
		status, body, _ := e.send(t, "GET", "/admin/payments/nope-1", nil)
		if status != http.StatusNotFound || !strings.Contains(body, "There is no payment with that orderId") {
			t.Errorf("GET /admin/payments/nope-1 = %d, want 404 saying so\n%s", status, body)
		}
	})

	id := e.create(t, 25000, "B-42", true)
	e.in(t).approve(id)
	p := e.stored(t, id)
	if p.UserID == "" {
		t.Fatal("express payment has no user after approval")
	}
	page := e.get(t, adminPaymentURL(id))
	for _, want := range []string{
		"Express checkout", "B-42", "Two mugs", "250,00\u00a0kr",
		html.EscapeString(e.svc.ReturnURL(id)),
		"Customer and delivery", "Posten (49,00\u00a0kr, not added to the amount initiated)", "<address>",
		"Payment created", "Sent to Vipps; waiting for the customer", "Customer approved; money reserved",
		"Vipps shared the customer&#39;s address and details", "Delete the details if consent was withdrawn",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("express payment page lacks %q", want)
		}
	}
	// The consent check, once run, is housekeeping the page leaves out.
	if _, err := e.NewOutbox("test").Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if page := e.get(t, adminPaymentURL(id)); strings.Contains(page, "Delete the details if consent was withdrawn") {
		t.Error("the payment page lists the consent check that ran")
	}

	if err := e.svc.RemoveConsent(ctx, p.UserID); err != nil {
		t.Fatal(err)
	}
	page = e.get(t, adminPaymentURL(id))
	if strings.Contains(page, "<address>") || !strings.Contains(page, "withdrew their consent") {
		t.Error("payment page after consent removal shows the address, or does not say it was deleted")
	}

	t.Run("receipt", func(t *testing.T) {
		p, err := e.svc.Create(ctx, payment.CreateRequest{
			Amount: 29800, Text: "Mugs", ReturnURL: "https://shop.example/done",
			Receipt: &vipps.Receipt{OrderLines: []vipps.OrderLine{
				{Name: "Mug", ID: "mug-1", TotalAmount: 24900, TotalAmountExcludingTax: 19920, TotalTaxAmount: 4980, TaxPercentage: 25,
					UnitInfo: &vipps.UnitInfo{UnitPrice: 12450, Quantity: "2"}},
				{Name: "Posten", ID: "ship", TotalAmount: 4900, TotalAmountExcludingTax: 3920, TotalTaxAmount: 980, TaxPercentage: 25, IsShipping: true},
			}, BottomLine: vipps.BottomLine{ReceiptNumber: "R-1"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		page := e.get(t, adminPaymentURL(p.OrderID))
		for _, want := range []string{"Receipt R-1", "Mug", "mug-1", "124,50\u00a0kr", "249,00\u00a0kr", "25\u00a0%", "shipping", "298,00\u00a0kr"} {
			if !strings.Contains(page, want) {
				t.Errorf("payment page with a receipt lacks %q", want)
			}
		}
	})

	t.Run("flash must be signed", func(t *testing.T) {
		page := e.get(t, adminPaymentURL(id)+"?kind=ok&msg=Call+us+on+12345678")
		if strings.Contains(page, "12345678") {
			t.Error("payment page shows an unsigned message from the link")
		}
	})

	t.Run("flash of another payment", func(t *testing.T) {
		form := e.form(t, id, "/check")
		status, body, resp := e.send(t, "POST", adminPaymentURL(id)+"/check", form)
		if status != http.StatusSeeOther {
			t.Fatalf("POST check = %d, want 303\n%s", status, body)
		}
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		msg := loc.Query().Get("msg")
		if page := e.get(t, loc.RequestURI()); !strings.Contains(page, html.EscapeString(msg)) {
			t.Fatalf("the payment's own page does not show its message %q", msg)
		}
		other := e.create(t, 10000, "", false)
		if page := e.get(t, adminPaymentURL(other)+"?"+loc.RawQuery); strings.Contains(page, html.EscapeString(msg)) {
			t.Errorf("payment %s shows the message %q signed for %s", other, msg, id)
		}
		q := loc.Query()
		q.Set("kind", adminError)
		if page := e.get(t, adminPaymentURL(id)+"?"+q.Encode()); strings.Contains(page, html.EscapeString(msg)) {
			t.Errorf("payment %s shows the message %q under another kind", id, msg)
		}
	})
}

func TestAdminRetryTask(t *testing.T) {
	e := newAdminEnv(t, func(c *envConfig) {
		c.service = append(c.service, servicetest.WithPayment(func(c *payment.Config) { c.Webhooks = true }))
	})
	ctx := context.Background()
	id := e.reserve(t, 10000)

	// The delivery worker gives up on the webhook.
	tasks, err := e.store.LeaseTasks(ctx, "test", time.Now().Add(time.Hour), time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) == 0 {
		t.Fatal("no webhook queued for the reservation")
	}
	task := tasks[0]
	task.Status, task.Attempts, task.LastError = payment.TaskDead, 8, "the shop answered 500"
	if err := e.store.UpdateTask(ctx, task, &payment.TaskAttempt{At: time.Now(), Duration: 120 * time.Millisecond, StatusCode: 500, Error: "the shop answered 500"}); err != nil {
		t.Fatal(err)
	}

	page := e.get(t, adminPaymentURL(id))
	for _, want := range []string{"Notification to the shop", "Gave up", "the shop answered 500", "120ms"} {
		if !strings.Contains(page, want) {
			t.Errorf("payment page with a dead task lacks %q", want)
		}
	}
	action := fmt.Sprintf("/admin/tasks/%d/retry", task.ID)
	form, ok := adminForms(page)[action]
	if !ok {
		t.Fatalf("payment page has no form posting to %s", action)
	}
	kind, msg := e.post(t, action, form)
	if kind != adminOK || !strings.Contains(msg, "queued again") {
		t.Errorf("retry = %s %q, want ok", kind, msg)
	}
	got, err := e.store.Tasks(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(got, func(x *payment.Task) bool { return x.ID == task.ID })
	if i < 0 || got[i].Status != payment.TaskPending || len(got[i].Log) != 1 {
		t.Errorf("task after retry = %+v, want pending with its log kept", got[i])
	}

	t.Run("another payment's task", func(t *testing.T) {
		other := e.create(t, 10000, "", false)
		f := url.Values{"csrf": form["csrf"], "orderId": {string(other)}}
		kind, msg := e.post(t, action, f)
		if kind != adminError || !strings.Contains(msg, "has no delivery") {
			t.Errorf("retry of another payment's task = %s %q, want error", kind, msg)
		}
	})
}

func TestAdminAmount(t *testing.T) {
	tests := []struct {
		in      string
		want    vipps.Amount
		wantErr string
	}{
		{"", 0, ""},
		{"  ", 0, ""},
		{"123,45", 12345, ""},
		{"1\u00a0234,50 kr", 123450, ""},
		{"-5", 0, "no minus sign"},
		{"abc", 0, "is not an amount in kroner"},
		{"0", 0, "leave the field empty"},
		{"0,00", 0, "leave the field empty"},
	}
	for _, tt := range tests {
		got, msg := adminAmount(langEN, tt.in)
		switch {
		case tt.wantErr == "" && msg != "":
			t.Errorf("adminAmount(%q) = %q, want %d", tt.in, msg, tt.want)
		case tt.wantErr != "" && !strings.Contains(msg, tt.wantErr):
			t.Errorf("adminAmount(%q) = %d, %q, want a message containing %q", tt.in, got, msg, tt.wantErr)
		case msg == "" && got != tt.want:
			t.Errorf("adminAmount(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// TestAdminErrorQuote: the line staff quote to Vipps starts with what the
// error has, with no separator in front, also for an error that came in a
// callback and so has no HTTP status.
func TestAdminErrorQuote(t *testing.T) {
	e := newAdminEnv(t)
	id := e.create(t, 1_51, "", false) // 151 øre: the bank refuses
	if err := e.sim.Sim.Approve(id, ""); err != nil {
		t.Fatal(err)
	}
	p := e.in(t).waitFor(id, "the callback's error", func(p *payment.Payment, _ []payment.Event) bool {
		return p.LastError != nil && p.LastError.Op == "callback"
	})
	if p.LastError.StatusCode != 0 {
		t.Fatalf("the callback's error has HTTP status %d, want none", p.LastError.StatusCode)
	}
	page := e.get(t, adminPaymentURL(id))
	if want := "<dt>To quote to Vipps</dt><dd>errorGroup <code>"; !strings.Contains(page, want) {
		t.Errorf("payment page lacks %q; body:\n%s", want, page)
	}
	if strings.Contains(page, "<dd> ·") || strings.Contains(page, "<small> ·") {
		t.Errorf("payment page has a line that starts with a separator; body:\n%s", page)
	}
}

func TestAttemptStatus(t *testing.T) {
	tests := []struct {
		kind payment.TaskKind
		code int
		err  string
		want string
	}{
		{payment.TaskWebhook, 200, "", "200"},
		{payment.TaskWebhook, 500, "the shop answered 500", "500"},
		{payment.TaskWebhook, 0, "dial tcp: connection refused", "no answer"},
		// A receipt delivered: no status of its own, and not "no answer".
		{payment.TaskReceipt, 0, "", "—"},
		{payment.TaskReceipt, 0, "Vipps refused", "—"},
		{payment.TaskSupersede, 0, "", "—"},
	}
	for _, tt := range tests {
		if got := attemptStatus(langEN, tt.kind, tt.code, tt.err); got != tt.want {
			t.Errorf("attemptStatus(%s, %d, %q) = %q, want %q", tt.kind, tt.code, tt.err, got, tt.want)
		}
	}
}

// adminInput is the <input> element with id on page, or "".
func adminInput(page, id string) string {
	return regexp.MustCompile(`<input id="` + regexp.QuoteMeta(id) + `"[^>]*>`).FindString(page)
}

// adminInputValue is the value attribute of the input with id on page,
// unescaped, and whether there is such an input.
func adminInputValue(page, id string) (string, bool) {
	in := adminInput(page, id)
	if in == "" {
		return "", false
	}
	m := regexp.MustCompile(` value="([^"]*)"`).FindStringSubmatch(in)
	if m == nil {
		return "", true
	}
	return html.UnescapeString(m[1]), true
}
