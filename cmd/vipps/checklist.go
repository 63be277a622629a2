package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/checklist"
	"github.com/vippskit/vipps/vippstest"
)

const checklistDoc = `
Grade Vipps' go-live checklist from what your shop did against the
simulator. Run the simulator in audit mode (vipps sim -audit), point your
shop at it, buy and handle a few orders as usual (approve one and reject
one; capture in full and in part; refund in full and in part; cancel one;
leave one order ending in REFUND and one in VOID; add receipts), then run

	vipps checklist -sim http://127.0.0.1:8085 [-msn 123456]

The audit mode drops the first callback of every third payment, so your
shop must learn those outcomes by polling /details, and loses the answer
to your first capture, so your shop must send it again with the same
X-Request-Id. The checklist fetches
the simulator's evidence (GET /_sim/audit), opens every fallBack URL as a
fresh browser without cookies, and grades each item: pass, fail, manual
(a person must check it) or not-seen (do what it says, then run again).
URLs that real Vipps would refuse (localhost, plain http) are flagged.

With -service, the checklist is that of a running vipps serve instead,
graded by the service from what it knows of itself (its settings, an
access token fetched now, its stored payments, callbacks, operations and
receipts), as its admin page /admin/checklist shows it:

	vipps checklist -service https://pay.example.no

It signs in to the admin as an administrator (-admin-user, -admin-password, or
VIPPS_ADMIN_USER and VIPPS_ADMIN_PASSWORD as vipps serve reads them).

With -vipps, the checklist asks Vipps itself, with the merchant's keys
(the client flags) and -base-url test or production, for the /details of
test orders, as steps 5 and 6 of Vipps' go-live flow ask: one order
ending in REFUND and one ending in VOID.

	vipps checklist -vipps -order acme-1001 -order acme-1002

-run-test-orders makes the two orders instead: it initiates 2,00 kr,
prints the URL for a person to approve in the Vipps app (-phone fills in
the test user's number), polls /details every -poll up to -wait, then
captures and refunds it in full; then a second one that it cancels.
Only refund-order, void-order, headers and endpoints can be graded so;
the rest is not-seen. Give exactly one of -sim, -service and -vipps.

-json prints the items as JSON; -report writes a report to attach to
your checklist submission: Markdown, or HTML when the name ends in .html.
The exit status is 1 when an item fails, else 0.
`

// runChecklist is the checklist command.
func runChecklist(ctx context.Context, e *env, args []string) error {
	var sim, service, adminUser, adminPassword, report string
	var asJSON, useVipps bool
	var timeout time.Duration
	var vo vippsChecklist
	fs := newFlagSet(e, "checklist", "", checklistDoc)
	v := &verb{flagSet: fs}
	v.client.define(fs, "test")
	fs.stringEnv(&sim, "sim", "", "VIPPS_CHECKLIST_SIM", "base `URL` of the simulator your shop used, such as http://127.0.0.1:8085")
	fs.stringEnv(&service, "service", "", "VIPPS_CHECKLIST_SERVICE", "base `URL` of a running vipps serve to grade instead, such as https://pay.example.no")
	fs.boolEnv(&useVipps, "vipps", false, "VIPPS_CHECKLIST_VIPPS", "grade test orders at Vipps itself (-base-url test or production, the client flags), with -order or -run-test-orders")
	fs.fs.Var(&vo.orders, "order", "orderId of a test order to check at Vipps (-vipps); repeat for more")
	fs.fs.BoolVar(&vo.run, "run-test-orders", false, "-vipps: make the two test orders now, one refunded and one cancelled, each approved by a person in the Vipps app")
	fs.fs.StringVar(&vo.phone, "phone", "", "-run-test-orders: the test user's 8-digit `number`, to fill in the landing page")
	fs.stringEnv(&vo.callbackPrefix, "callback-prefix", "", "VIPPS_CALLBACK_PREFIX", "-run-test-orders: https `url` that Vipps appends /v2/payments/{orderId} to for the callback")
	fs.stringEnv(&vo.fallBack, "fallback", "", "VIPPS_FALLBACK", "-run-test-orders: `url` the user returns to after the app")
	fs.durationEnv(&vo.wait, "wait", 5*time.Minute, "VIPPS_CHECKLIST_WAIT", "-run-test-orders: how long to wait for a person to approve each test order")
	fs.durationEnv(&vo.poll, "poll", 2*time.Second, "VIPPS_CHECKLIST_POLL", "-run-test-orders: how often to ask /details whether a test order is approved")
	fs.stringEnv(&adminUser, "admin-user", "admin", "VIPPS_ADMIN_USER", "admin `user` of the service (-service)")
	fs.stringEnv(&adminPassword, "admin-password", "", "VIPPS_ADMIN_PASSWORD", "admin password of the service (-service; use the environment)")
	fs.boolEnv(&asJSON, "json", false, "VIPPS_CHECKLIST_JSON", "print the items as JSON")
	fs.stringEnv(&report, "report", "", "VIPPS_CHECKLIST_REPORT", "also write a report to this `file`: Markdown, or HTML when it ends in .html")
	fs.durationEnv(&timeout, "timeout", 30*time.Second, "VIPPS_CHECKLIST_TIMEOUT", "how long the whole check may take, besides -wait for each test order")
	if err := fs.parseFlags(args); err != nil {
		return err
	}
	msn := v.client.msn // -sim: the merchant to grade; empty grades every merchant
	switch {
	case sim == "" && service == "" && !useVipps:
		return fs.usagef("-sim (or VIPPS_CHECKLIST_SIM) is required: the simulator's base URL; or -service (VIPPS_CHECKLIST_SERVICE), a running vipps serve; or -vipps, test orders at Vipps itself")
	case sim != "" && service != "":
		return fs.usagef("give one of -sim and -service, not both")
	case useVipps && (sim != "" || service != ""):
		return fs.usagef("give one of -sim, -service and -vipps, not more")
	case service != "" && adminPassword == "":
		return fs.usagef("-service needs the admin password: set VIPPS_ADMIN_PASSWORD (or -admin-password)")
	case !useVipps && (len(vo.orders) > 0 || vo.run):
		return fs.usagef("-order and -run-test-orders are for -vipps only")
	}
	var rs []checklist.Result
	if useVipps {
		if err := vo.check(v); err != nil {
			return err
		}
		if vo.run {
			timeout += 2 * vo.wait
		}
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		var header string
		err := v.call(ctx, vo.required(), func(ctx context.Context, client *vipps.Client) (err error) {
			rs, header, err = vo.grade(ctx, client, e.stderr)
			return err
		})
		if err != nil {
			return err
		}
		if report != "" {
			if err := writeChecklistFile(report, header, rs); err != nil {
				return err
			}
		}
		return printChecklist(e, asJSON, rs)
	}
	name, base := "-sim", sim
	if service != "" {
		name, base = "-service", service
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fs.usagef("%s %q must be an http or https URL such as http://127.0.0.1:8085", name, base)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	if service != "" {
		var err error
		if rs, err = fetchServiceChecklist(ctx, strings.TrimRight(service, "/"), adminUser, adminPassword); err != nil {
			return err
		}
		if report != "" {
			header := fmt.Sprintf("Go-live checklist of the vippskit service at %s, graded by the service itself, %s.",
				redact(service), time.Now().UTC().Format(time.RFC3339))
			if err := writeChecklistFile(report, header, rs); err != nil {
				return err
			}
		}
	} else {
		audit, err := fetchAudit(ctx, strings.TrimRight(sim, "/"), msn)
		if err != nil {
			return err
		}
		rs = checklist.Grade(checklist.Input{Audit: audit, FallBacks: checklist.CheckFallBacks(ctx, nil, audit.Payments)})
		if report != "" {
			if err := writeChecklistReport(report, sim, audit, rs); err != nil {
				return err
			}
		}
	}
	return printChecklist(e, asJSON, rs)
}

// printChecklist prints the results, as a table or JSON, and fails when an
// item fails.
func printChecklist(e *env, asJSON bool, rs []checklist.Result) error {
	var err error
	if asJSON {
		err = checklist.WriteJSON(e.stdout, rs)
	} else {
		err = checklist.WriteText(e.stdout, rs)
	}
	if err != nil {
		return err
	}
	if checklist.Failed(rs) {
		var failed []string
		for _, r := range rs {
			if r.Status == checklist.Fail {
				failed = append(failed, r.ID)
			}
		}
		return fmt.Errorf("%d item(s) fail: %s", len(failed), strings.Join(failed, ", "))
	}
	return nil
}

// fetchAudit gets the simulator's evidence of merchant msn.
func fetchAudit(ctx context.Context, sim, msn string) (vippstest.Audit, error) {
	var a vippstest.Audit
	u := sim + "/_sim/audit"
	if msn != "" {
		u += "?msn=" + url.QueryEscape(msn)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return a, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return a, fmt.Errorf("fetch the audit evidence: %w (is vipps sim running at %s?)", err, sim)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		return a, fmt.Errorf("fetch the audit evidence: %s answered %s: %s (is it vipps sim, of this version?)", u, resp.Status, strings.TrimSpace(string(b)))
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 256<<20)).Decode(&a); err != nil {
		return a, fmt.Errorf("fetch the audit evidence: read %s: %w", u, err)
	}
	return a, nil
}

func writeChecklistReport(name, sim string, a vippstest.Audit, rs []checklist.Result) error {
	who := "every merchant"
	if a.MSN != "" {
		who = "MSN " + string(a.MSN)
	}
	mode := "audit mode on"
	if !a.AuditMode {
		mode = "audit mode off"
	}
	header := fmt.Sprintf("Audit of %s against the simulator at %s (%s), %s; %d requests, %d payments.",
		who, sim, mode, a.Now.UTC().Format(time.RFC3339), len(a.Requests), len(a.Payments))
	return writeChecklistFile(name, header, rs)
}

// writeChecklistFile writes the report: HTML when name ends in .html, else
// Markdown.
func writeChecklistFile(name, header string, rs []checklist.Result) error {
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	if strings.HasSuffix(strings.ToLower(name), ".html") {
		err = checklist.WriteHTML(f, header, rs)
	} else {
		err = checklist.WriteMarkdown(f, header, rs)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write the report %s: %w", name, err)
	}
	return nil
}

// fetchServiceChecklist gets the go-live checklist a running vipps serve
// grades for itself (GET /admin/checklist.json), signed in as an
// administrator through the admin's sign-in form, and signs out after.
func fetchServiceChecklist(ctx context.Context, service, user, password string) ([]checklist.Result, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	token, err := adminFormToken(ctx, c, service+"/admin/login")
	if err != nil {
		return nil, fmt.Errorf("fetch the checklist: %w (is vipps serve running at %s?)", err, redact(service))
	}
	resp, err := adminPost(ctx, c, service, "/admin/login", url.Values{"name": {user}, "password": {password}, "csrf": {token}})
	if err != nil {
		return nil, fmt.Errorf("fetch the checklist: sign in: %w", err)
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusSeeOther:
	case http.StatusUnauthorized:
		return nil, fmt.Errorf("fetch the checklist: %s refused the admin sign-in; check -admin-user and VIPPS_ADMIN_PASSWORD", redact(service))
	case http.StatusTooManyRequests:
		return nil, fmt.Errorf("fetch the checklist: %s refuses sign-ins for %s seconds after too many wrong ones; wait and try again", redact(service), resp.Header.Get("Retry-After"))
	default:
		return nil, fmt.Errorf("fetch the checklist: sign in at %s: %s (is it vipps serve, of this version?)", redact(service), resp.Status)
	}
	defer func() { // sign out, so that no session is left behind
		if token, err := adminFormToken(ctx, c, service+"/admin/"); err == nil {
			if resp, err := adminPost(ctx, c, service, "/admin/logout", url.Values{"csrf": {token}}); err == nil {
				resp.Body.Close()
			}
		}
	}()
	u := service + "/admin/checklist.json"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err = c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch the checklist: %w (is vipps serve running at %s?)", err, redact(service))
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusForbidden:
		return nil, fmt.Errorf("fetch the checklist: %s is not an administrator of %s; sign in as one (-admin-user)", user, redact(service))
	default:
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		return nil, fmt.Errorf("fetch the checklist: %s answered %s: %s (is it vipps serve, of this version?)", redact(u), resp.Status, strings.TrimSpace(string(b)))
	}
	var rs []checklist.Result
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&rs); err != nil {
		return nil, fmt.Errorf("fetch the checklist: read %s: %w", redact(u), err)
	}
	return rs, nil
}

// adminCSRFRE finds the form token of an admin page.
var adminCSRFRE = regexp.MustCompile(`name="csrf" value="([^"]*)"`)

// adminFormToken reads the form token of the admin page at u.
func adminFormToken(ctx context.Context, c *http.Client, u string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	m := adminCSRFRE.FindSubmatch(b)
	if resp.StatusCode != http.StatusOK || m == nil {
		return "", fmt.Errorf("GET %s: %s, without a form", redact(u), resp.Status)
	}
	return html.UnescapeString(string(m[1])), nil
}

// adminPost posts form to path of the service as the admin's own page
// does.
func adminPost(ctx context.Context, c *http.Client, service, path string, form url.Values) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, service+path, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if u, err := url.Parse(service); err == nil {
		req.Header.Set("Origin", u.Scheme+"://"+u.Host)
	}
	return c.Do(req)
}
