package web

import (
	"crypto/sha256"
	"encoding/hex"
	"html"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/internal/staff"
)

var adminCSRFRE = regexp.MustCompile(`name="csrf" value="([^"]*)"`)

// login signs in as a browser does from client c: it fetches the sign-in
// page (with next) for its form token, then posts user and pass. It
// returns the status, the Retry-After header, the body and the response.
func (e *testEnv) login(c *http.Client, user, pass, next string) (int, string, string, *http.Response) {
	e.t.Helper()
	path := adminLoginPath
	if next != "" {
		path += "?" + url.Values{"next": {next}}.Encode()
	}
	resp, page := e.doWith(c, e.newRequest("GET", path, nil))
	m := adminCSRFRE.FindStringSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		e.t.Fatalf("GET %s = %d without a form token\n%s", path, resp.StatusCode, page)
	}
	form := url.Values{"name": {user}, "password": {pass}, "csrf": {html.UnescapeString(m[1])}, "next": {next}}
	req := e.newRequest("POST", adminLoginPath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.url)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, body := e.doWith(c, req)
	return resp.StatusCode, resp.Header.Get("Retry-After"), body, resp
}

// doWith sends req with c and returns the response and its body.
func (e *testEnv) doWith(c *http.Client, req *http.Request) (*http.Response, string) {
	e.t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, string(b)
}

// browser returns a client with a cookie jar, signed in as user. Like
// e.client, it does not follow redirects.
func (e *testEnv) browser(user string) *http.Client {
	e.t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	c := *e.client
	c.Jar = jar
	if status, _, body, _ := e.login(&c, user, testAdminPassword, ""); status != http.StatusSeeOther {
		e.t.Fatalf("sign in as %s = %d, want 303\n%s", user, status, body)
	}
	return &c
}

// sessionCookie returns the session cookie of a browser.
func (e *testEnv) sessionOf(c *http.Client) string {
	e.t.Helper()
	u, _ := url.Parse(e.url + "/admin/")
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == sessionCookie {
			return ck.Value
		}
	}
	e.t.Fatalf("the browser has no session cookie")
	return ""
}

// csrfOf is a form token of the browser's session, as its pages carry.
func (e *testEnv) csrfOf(c *http.Client) string {
	h := sha256.Sum256([]byte(e.sessionOf(c)))
	return e.server.csrfToken(adminSessionScope(hex.EncodeToString(h[:])))
}

// adminPath is a path of an admin route's pattern, with its wildcards
// filled in.
func adminPath(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	path = strings.NewReplacer("{$}", "", "{orderId}", "test-x1", "{taskId}", "1", "{name}", testViewer).Replace(path)
	return method, path
}

// formPost sends form to path from browser c as its own page would.
func (e *testEnv) formPost(c *http.Client, path string, form url.Values) (*http.Response, string) {
	e.t.Helper()
	req := e.newRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.url)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return e.doWith(c, req)
}

// TestAdminRoutesNeedSession: without a session every admin GET leads to
// the sign-in page and back, and every POST is refused.
func TestAdminRoutesNeedSession(t *testing.T) {
	e := newTestEnv(t)
	forged := &http.Cookie{Name: sessionCookie, Value: strings.Repeat("A", 43)}
	for _, rt := range adminRoutes() {
		method, path := adminPath(rt.pattern)
		for name, ck := range map[string]*http.Cookie{"no cookie": nil, "forged cookie": forged} {
			t.Run(rt.pattern+"/"+name, func(t *testing.T) {
				e := e.in(t)
				req := e.newRequest(method, path+"?a=1", strings.NewReader("csrf=x"))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Sec-Fetch-Site", "same-origin")
				if ck != nil {
					req.AddCookie(ck)
				}
				resp, body := e.do(req)
				if method == "GET" {
					want := adminLoginPath + "?" + url.Values{"next": {path + "?a=1"}}.Encode()
					if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
						t.Errorf("%s %s = %d to %q, want 303 to %q", method, path, resp.StatusCode, resp.Header.Get("Location"), want)
					}
					return
				}
				if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "not signed in") {
					t.Errorf("%s %s = %d, want 401 saying to sign in\n%s", method, path, resp.StatusCode, body)
				}
			})
		}
	}
}

// TestAdminRoles goes through every admin route as every role: a role
// below the route's is refused with 403 before anything is done; a role
// that may use it gets past the check (a POST then meets the form check,
// as it is sent without a token, so that nothing is done either).
func TestAdminRoles(t *testing.T) {
	e := newTestEnv(t)
	browsers := map[staff.Role]*http.Client{
		staff.Viewer: e.browser(testViewer), staff.Operator: e.browser(testOperator), staff.Admin: e.browser(testAdminUser),
	}
	for _, rt := range adminRoutes() {
		method, path := adminPath(rt.pattern)
		for _, role := range staff.Roles() {
			t.Run(rt.pattern+"/"+string(role), func(t *testing.T) {
				e := e.in(t)
				c := browsers[role]
				var resp *http.Response
				var body string
				if method == "GET" {
					resp, body = e.doWith(c, e.newRequest("GET", path, nil))
				} else {
					resp, body = e.formPost(c, path, url.Values{"role": {"admin"}, "password": {"a new long password"}})
				}
				switch {
				case !role.May(rt.role):
					if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "may not do this") {
						t.Errorf("%s %s as %s = %d, want 403 saying the role may not\n%s", method, path, role, resp.StatusCode, body)
					}
				case method == "POST":
					if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "The form has expired") {
						t.Errorf("%s %s as %s without a token = %d, want the form refused\n%s", method, path, role, resp.StatusCode, body)
					}
				case resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized:
					t.Errorf("%s %s as %s = %d, want it served", method, path, role, resp.StatusCode)
				}
			})
		}
	}
	// Nothing was changed: the viewer's account is as it was.
	if a, err := e.staff.Get(t.Context(), testViewer); err != nil || a.Role != staff.Viewer || a.Disabled {
		t.Errorf("viewer after the refused forms = %+v, %v; want unchanged", a, err)
	}
}

// TestAdminLogin signs in right and wrong.
func TestAdminLogin(t *testing.T) {
	e := newTestEnv(t)

	t.Run("wrong", func(t *testing.T) {
		var messages []string
		for _, c := range []struct{ user, pass string }{
			{testAdminUser, "not-the-password"}, {"nobody", testAdminPassword}, {"Admin ", testAdminPassword},
		} {
			status, _, body, resp := e.in(t).login(e.client, c.user, c.pass, "")
			if status != http.StatusUnauthorized || resp.Header.Get("Set-Cookie") != "" {
				t.Errorf("sign in as %q with a wrong password = %d with cookie %q, want 401 and none", c.user, status, resp.Header.Get("Set-Cookie"))
			}
			if !strings.Contains(body, `value="`+html.EscapeString(c.user)+`"`) {
				t.Errorf("the page after a wrong sign-in as %q does not keep the name", c.user)
			}
			messages = append(messages, adminFlashRE.FindString(body))
		}
		for _, m := range messages {
			if m != messages[0] || !strings.Contains(m, "Wrong user name or password") {
				t.Errorf("refusals say %q, want one message for every wrong sign-in, saying the name or password is wrong", messages)
				break
			}
		}
		status, _, body, _ := e.in(t).login(e.client, "", "", "")
		if status != http.StatusUnauthorized || !strings.Contains(body, "Type both") {
			t.Errorf("empty sign-in = %d, want 401 asking for both\n%s", status, body)
		}
	})

	t.Run("cookie", func(t *testing.T) {
		for _, tls := range []bool{false, true} {
			req := e.newRequest("GET", adminLoginPath, nil)
			_, page := e.doWith(e.client, req)
			form := url.Values{"name": {"ADMIN"}, "password": {testAdminPassword}, "csrf": {html.UnescapeString(adminCSRFRE.FindStringSubmatch(page)[1])}}
			req = e.newRequest("POST", adminLoginPath, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			if tls {
				req.Header.Set("X-Forwarded-Proto", "https")
			}
			resp, _ := e.do(req)
			cks := resp.Cookies()
			if resp.StatusCode != http.StatusSeeOther || len(cks) != 1 {
				t.Fatalf("sign in as ADMIN = %d with cookies %v, want 303 and one", resp.StatusCode, cks)
			}
			ck := cks[0]
			if ck.Name != sessionCookie || len(ck.Value) != 43 || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/admin/" || ck.Secure != tls {
				t.Errorf("session cookie (TLS %v) = %s, want %s, 43 characters, HttpOnly, SameSite=Strict, Path=/admin/, Secure %v", tls, ck, sessionCookie, tls)
			}
		}
	})

	t.Run("next", func(t *testing.T) {
		for next, want := range map[string]string{
			"":                               "/admin/",
			"/admin/payments/test-1?x=1":     "/admin/payments/test-1?x=1",
			"/admin/?q=kaffe&state=reserved": "/admin/?q=kaffe&state=reserved",
			"https://evil.example/admin/":    "/admin/",
			"//evil.example/admin/":          "/admin/",
			"/\\evil.example/admin/":         "/admin/",
			"/admin/\\evil.example":          "/admin/",
			"javascript:alert(1)":            "/admin/",
			"/shop/orders/1":                 "/admin/",
			"/admin/login?next=//evil":       "/admin/",
			"/admin/\r\nLocation: //evil":    "/admin/",
		} {
			t.Run(next, func(t *testing.T) {
				jar, _ := cookiejar.New(nil)
				c := *e.client
				c.Jar = jar
				status, _, _, resp := e.in(t).login(&c, testAdminUser, testAdminPassword, next)
				if got := resp.Header.Get("Location"); status != http.StatusSeeOther || got != want {
					t.Errorf("sign in with next %q = %d to %q, want 303 to %q", next, status, got, want)
				}
				// Signed in, the sign-in page goes straight on.
				resp, _ = e.in(t).doWith(&c, e.newRequest("GET", adminLoginPath+"?"+url.Values{"next": {next}}.Encode(), nil))
				if got := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || got != want {
					t.Errorf("GET the sign-in page signed in, next %q = %d to %q, want 303 to %q", next, resp.StatusCode, got, want)
				}
			})
		}
	})
}

var adminFlashRE = regexp.MustCompile(`<p class="admin-flash[^"]*"[^>]*>[^<]*</p>`)

// TestAdminLogout: signing out ends the session on the server, so that
// the old cookie is worth nothing.
func TestAdminLogout(t *testing.T) {
	e := newTestEnv(t)
	c := e.browser(testOperator)
	token := e.sessionOf(c)
	if resp, body := e.formPost(c, "/admin/logout", url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign out without a form token = %d, want 403\n%s", resp.StatusCode, body)
	}
	page := e.getAs(c, "/admin/")
	m := adminCSRFRE.FindStringSubmatch(page)
	if m == nil || !strings.Contains(page, `action="/admin/logout"`) || !strings.Contains(page, "Signed in as <strong>olga</strong> (Operator)") {
		t.Fatalf("the list has no sign-out form, or does not say who is signed in\n%s", page)
	}
	resp, _ := e.formPost(c, "/admin/logout", url.Values{"csrf": {html.UnescapeString(m[1])}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != adminLoginPath+"?out=1" {
		t.Errorf("sign out = %d to %q, want 303 to the sign-in page", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, page := e.doWith(e.client, e.newRequest("GET", adminLoginPath+"?out=1", nil)); !strings.Contains(page, "You are signed out") {
		t.Errorf("the sign-in page after sign-out does not say so")
	}
	req := e.newRequest("GET", "/admin/", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: token})
	if resp, _ := e.do(req); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("GET /admin/ with the cookie of the ended session = %d, want 303 to sign in", resp.StatusCode)
	}
}

// getAs fetches path with browser c and fails unless it is 200.
func (e *testEnv) getAs(c *http.Client, path string) string {
	e.t.Helper()
	resp, body := e.doWith(c, e.newRequest("GET", path, nil))
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("GET %s = %d, want 200\n%s", path, resp.StatusCode, body)
	}
	return body
}

// TestAdminSessionExpiry: a session ends after 12 hours unused, and 7
// days after sign-in, by the Server's clock.
func TestAdminSessionExpiry(t *testing.T) {
	e, clock := clockEnv(t)
	c := e.browser(testViewer)
	signedIn := func() bool {
		resp, _ := e.doWith(c, e.newRequest("GET", "/admin/", nil))
		return resp.StatusCode == http.StatusOK
	}
	clock.Advance(11 * time.Hour)
	if !signedIn() {
		t.Fatalf("signed out after 11 hours")
	}
	clock.Advance(12*time.Hour + time.Minute)
	if signedIn() {
		t.Errorf("still signed in after 12 hours unused")
	}

	c = e.browser(testViewer)
	for range 14 {
		clock.Advance(12*time.Hour - time.Minute)
		if !signedIn() {
			t.Fatalf("signed out while in use, before 7 days")
		}
	}
	clock.Advance(time.Hour)
	if signedIn() {
		t.Errorf("still signed in 7 days after sign-in")
	}
}

// TestAdminCSRFBoundToSession: a form token is good for the session that
// got it only.
func TestAdminCSRFBoundToSession(t *testing.T) {
	e := newAdminEnv(t)
	id := e.reserve(t, 10000)
	operator := e.browser(testOperator)
	path := adminPaymentURL(id) + "/check"
	for name, token := range map[string]string{
		"another session's":   e.csrf(),
		"the sign-in form's":  e.server.csrfToken("admin-login"),
		"a user name's (old)": e.server.csrfToken(testOperator),
	} {
		if resp, body := e.formPost(operator, path, url.Values{"csrf": {token}}); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "The form has expired") {
			t.Errorf("check with %s token = %d, want 403 form expired", name, resp.StatusCode)
		}
	}
	if resp, body := e.formPost(operator, path, url.Values{"csrf": {e.csrfOf(operator)}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("check with the session's own token = %d, want 303\n%s", resp.StatusCode, body)
	}
}

// TestAdminWhoDidIt: the history says who captured, checked and
// redelivered, the shop API and the service included.
func TestAdminWhoDidIt(t *testing.T) {
	e := newAdminEnv(t)
	id := e.reserve(t, 20000)
	operator := e.browser(testOperator)
	page := e.getAs(operator, adminPaymentURL(id))
	form := adminForms(page)[adminPaymentURL(id)+"/capture"]
	form.Set("amount", "50")
	if resp, body := e.formPost(operator, adminPaymentURL(id)+"/capture", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("capture as olga = %d\n%s", resp.StatusCode, body)
	}
	if resp, body := e.formPost(operator, adminPaymentURL(id)+"/check", url.Values{"csrf": {e.csrfOf(operator)}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("check as olga = %d\n%s", resp.StatusCode, body)
	}
	e.apiInto("POST", "/api/payments/"+string(id)+"/capture", map[string]any{"amount": 1000}, http.StatusOK, nil)

	evs, err := e.svc.Events(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range evs {
		if by, ok := payment.EventActor(ev); ok {
			got = append(got, string(ev.Type)+" by "+by.String())
		}
	}
	want := []string{"operation_queued by olga", "checked by olga", "operation_queued by shop API"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events with who asked (-want +got):\n%s", diff)
	}
	page = e.getAs(operator, adminPaymentURL(id))
	for _, w := range []string{`Operation requested<br><small class="admin-by">by olga</small>`, `Checked with Vipps<br><small class="admin-by">by olga</small>`,
		`<small class="admin-by">by shop API</small>`} {
		if !strings.Contains(page, w) {
			t.Errorf("the history does not show %q", w)
		}
	}
}

// TestAdminViewerSeesNoForms: a viewer's payment page offers nothing to
// do, and says why.
func TestAdminViewerSeesNoForms(t *testing.T) {
	e := newAdminEnv(t)
	id := e.reserve(t, 20000)
	page := e.getAs(e.browser(testViewer), adminPaymentURL(id))
	if forms := adminForms(page); len(forms) != 0 {
		t.Errorf("a viewer's payment page has forms %v, want none", slices.Sorted(maps.Keys(forms)))
	}
	if !strings.Contains(page, "may read payments only") {
		t.Errorf("a viewer's payment page does not say why there is nothing to do")
	}
	if list := e.getAs(e.browser(testViewer), "/admin/"); strings.Contains(list, `href="/admin/staff"`) || strings.Contains(list, `href="/admin/checklist"`) {
		t.Errorf("a viewer's list links to pages for administrators")
	}
	if forms := adminForms(e.getAs(e.admin, adminPaymentURL(id))); len(forms) != 3 {
		t.Errorf("an administrator's payment page has forms %v, want capture, cancel and check", slices.Sorted(maps.Keys(forms)))
	}
}

// TestAdminStaffPage manages an account from the staff page.
func TestAdminStaffPage(t *testing.T) {
	e := newAdminEnv(t)
	post := func(path string, fields url.Values) (kind, msg string) {
		t.Helper()
		fields.Set("csrf", e.csrf())
		return e.post(t, path, fields)
	}
	kind, msg := post("/admin/staff", url.Values{"name": {"Kari"}, "role": {"operator"}, "password": {"short"}})
	if kind != adminError || !strings.Contains(msg, "at least 12") {
		t.Errorf("add with a short password = %s %q, want an error saying at least 12", kind, msg)
	}
	kind, msg = post("/admin/staff", url.Values{"name": {"Kari"}, "role": {"operator"}, "password": {strings.Repeat("ø", 40)}})
	if kind != adminError || !strings.Contains(msg, "80 bytes") {
		t.Errorf("add with an 80-byte password = %s %q, want an error about bytes", kind, msg)
	}
	if kind, msg = post("/admin/staff", url.Values{"name": {"Kari"}, "role": {"operator"}, "password": {"kari's long password"}}); kind != adminOK {
		t.Fatalf("add Kari = %s %q", kind, msg)
	}
	if kind, msg = post("/admin/staff", url.Values{"name": {"KARI"}, "role": {"viewer"}, "password": {"kari's long password"}}); kind != adminError || !strings.Contains(msg, "exists already") {
		t.Errorf("add KARI = %s %q, want exists already", kind, msg)
	}
	page := e.getAs(e.admin, "/admin/staff")
	for _, w := range []string{"Kari", "Operator", "by admin", `action="/admin/staff/Kari/role"`} {
		if !strings.Contains(page, w) {
			t.Errorf("the staff page lacks %q", w)
		}
	}

	jar, _ := cookiejar.New(nil)
	kari := *e.client
	kari.Jar = jar
	if status, _, _, _ := e.login(&kari, "kari", "kari's long password", ""); status != http.StatusSeeOther {
		t.Fatalf("Kari signs in = %d, want 303", status)
	}
	if kind, _ = post("/admin/staff/Kari/role", url.Values{"role": {"viewer"}}); kind != adminOK {
		t.Errorf("set Kari's role = %s", kind)
	}
	if resp, _ := e.formPost(&kari, "/admin/payments/test-x/check", url.Values{"csrf": {e.csrfOf(&kari)}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("Kari as viewer checks = %d, want 403", resp.StatusCode)
	}
	if kind, _ = post("/admin/staff/Kari/password", url.Values{"password": {"another long password"}}); kind != adminOK {
		t.Errorf("set Kari's password = %s", kind)
	}
	if resp, _ := e.doWith(&kari, e.newRequest("GET", "/admin/", nil)); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("Kari's session after a new password: GET /admin/ = %d, want 303 to sign in", resp.StatusCode)
	}
	if kind, _ = post("/admin/staff/Kari/disable", url.Values{}); kind != adminOK {
		t.Errorf("disable Kari = %s", kind)
	}
	if status, _, _, _ := e.login(&kari, "kari", "another long password", ""); status != http.StatusUnauthorized {
		t.Errorf("disabled Kari signs in = %d, want 401", status)
	}
	if kind, _ = post("/admin/staff/Kari/enable", url.Values{}); kind != adminOK {
		t.Errorf("enable Kari = %s", kind)
	}
	if status, _, _, _ := e.login(&kari, "kari", "another long password", ""); status != http.StatusSeeOther {
		t.Errorf("enabled Kari signs in = %d, want 303", status)
	}
	if kind, msg = post("/admin/staff/admin/disable", url.Values{}); kind != adminError || !strings.Contains(msg, "only enabled administrator") {
		t.Errorf("the last administrator disables themself = %s %q, want refused", kind, msg)
	}
}

// TestAdminStaffInBokmål: the sign-in page, the staff page and a refusal
// in bokmål.
func TestAdminStaffInBokmål(t *testing.T) {
	e := newAdminEnv(t)
	_, login := e.doWith(e.client, e.newRequest("GET", adminLoginPath+"?lang=nb", nil))
	for _, want := range []string{"<h1>Logg inn</h1>", ">Brukernavn</label>", ">Passord</label>"} {
		if !strings.Contains(login, want) {
			t.Errorf("the sign-in page in bokmål lacks %q", want)
		}
	}
	page := e.getAs(e.admin, "/admin/staff?lang=nb")
	for _, want := range []string{"<h1>Brukere</h1>", "Lesetilgang", "Operatør", "Administrator", "Logget inn som", ">Logg ut</button>"} {
		if !strings.Contains(page, want) {
			t.Errorf("the staff page in bokmål lacks %q", want)
		}
	}
	// The refusals of a change of an account, in bokmål throughout.
	post := func(path string, fields url.Values) (kind, msg string) {
		t.Helper()
		fields.Set("csrf", e.csrf())
		return e.post(t, path, fields)
	}
	for _, tt := range []struct {
		path   string
		fields url.Values
		want   string
	}{
		{"/admin/staff", url.Values{"name": {"Kari Nordmann"}, "role": {"operator"}, "password": {"a long enough password"}},
			"Et brukernavn kan bare inneholde bokstaver, sifre og . _ @ - (for eksempel kari.nordmann), ikke ' '. Ingenting ble gjort."},
		{"/admin/staff", url.Values{"name": {"kari"}, "role": {"operator"}, "password": {"kort"}},
			"Passordet er 4 tegn; bruk minst 12. Ingenting ble gjort."},
		{"/admin/staff", url.Values{"name": {"kari"}, "role": {"root"}, "password": {"a long enough password"}},
			"Velg en av rollene på siden. Ingenting ble gjort."},
		{"/admin/staff/admin/disable", url.Values{},
			"admin er den eneste aktive administratoren, og noen må kunne administrere brukere; gjør en annen konto til administrator først. Ingenting ble gjort."},
	} {
		if kind, msg := post(tt.path, tt.fields); kind != adminError || msg != tt.want {
			t.Errorf("POST %s %v in bokmål = %s %q, want an error %q", tt.path, tt.fields, kind, msg, tt.want)
		}
	}

	viewer := e.browser(testViewer)
	e.getAs(viewer, "/admin/?lang=nb") // the language is remembered
	if resp, body := e.doWith(viewer, e.newRequest("GET", "/admin/staff", nil)); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Rollen din, lesetilgang") && !strings.Contains(body, "Rollen din, Lesetilgang") {
		t.Errorf("a viewer's GET /admin/staff in bokmål = %d, want 403 saying the role may not\n%s", resp.StatusCode, body)
	}
}
