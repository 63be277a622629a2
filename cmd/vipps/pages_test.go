package main

import (
	"context"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/vippstest"
)

// screenshots is where TestPages writes its pictures: `go test ./cmd/vipps
// -run TestPages -screenshots DIR` gives a PNG of every page, in English
// and bokmål, at 390 and 1280 px, for a person to review.
var screenshots = flag.String("screenshots", "", "write a full-page PNG of every page TestPages opens into this `directory`")

// pageWidths are the widths every page is checked at: a phone and a
// desktop.
var pageWidths = []int64{390, 1280}

// shotPage is a page TestPages opens: a name for its picture and its
// path, with its query if it has one.
type shotPage struct{ name, path string }

// TestPages opens every page of `vipps serve` in a real browser, in both
// languages at both widths, in the states that matter to the people who
// read them: each page says it is in its language (<html lang>), fits the
// screen (nothing wider than the viewport), and with -screenshots is saved
// as a picture.
func TestPages(t *testing.T) {
	const password = "pages-test-password"
	app := startTestServe(t, "-database", filepath.Join(t.TempDir(), "vipps.db"), "-admin-password", password)
	ctx := browser(t)
	if *screenshots != "" {
		if err := os.MkdirAll(*screenshots, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	// buy pays for an order in the demo shop as a customer does, and
	// answers the simulated app with action (approve or reject); it returns
	// the orderId, the return page and the shop's order page.
	buy := func(phone, action string) (vipps.OrderID, string, string) {
		t.Helper()
		err := chromedp.Do(ctx,
			chromedp.Navigate(app.url+"/?lang=en"),
			chromedp.SendKeys(chromedp.CSS("#phone"), phone),
			chromedp.Click(chromedp.CSS(`form[action="/shop/buy"] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`form[action$="/phone"] button.primary`)),
			chromedp.Click(chromedp.CSS(`form[action$="/phone"] button.primary`)),
			chromedp.WaitVisible(chromedp.CSS(`button[value="`+action+`"]`)),
			chromedp.Click(chromedp.CSS(`button[value="`+action+`"]`)),
			chromedp.WaitVisible(chromedp.CSS(`section.outcome:not(.outcome-waiting)`)),
		)
		if err != nil {
			t.Fatalf("buying in the demo shop (%s): %v", action, err)
		}
		ret, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		id, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`dl.facts dd.order-id code`)))
		if err != nil {
			t.Fatal(err)
		}
		back, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`section.outcome a.button`), "href"))
		if err != nil || !back.Exists {
			t.Fatalf("the return page links back to no order page (%v)", err)
		}
		return vipps.OrderID(strings.TrimSpace(id)), strings.TrimPrefix(ret, app.url), back.Value
	}
	approved, approvedReturn, approvedOrder := buy("91234567", "approve")
	partly, partlyReturn, partlyOrder := buy("91234568", "approve")
	_, rejectedReturn, rejectedOrder := buy("91234569", "reject")

	// The case: part captured, part of that refunded, the rest
	// released.
	svc, bg := app.svc, context.Background()
	if _, err := svc.Capture(bg, partly, payment.OpRequest{Amount: 10000, Key: "pages-capture"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Refund(bg, partly, payment.OpRequest{Amount: 2500, Key: "pages-refund"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Cancel(bg, partly, payment.OpRequest{Key: "pages-release", ReleaseRemaining: true}); err != nil {
		t.Fatal(err)
	}

	// A payment Vipps cannot be asked about, for the attention page: its
	// details keep failing (the poller's checks too) until the test ends.
	if _, err := app.sim.InjectFault(vippstest.Fault{Kind: vippstest.FaultServerError, Op: "details", OrderID: approved}); err != nil {
		t.Fatal(err)
	}
	for range payment.CheckFailuresForAttention {
		svc.Check(bg, approved) //nolint:errcheck // fails: that is the point
	}

	customer := []shotPage{
		{"shop", "/"},
		{"return-approved", approvedReturn},
		{"order-approved", approvedOrder},
		{"return-partly-refunded", partlyReturn},
		{"order-partly-refunded", partlyOrder},
		{"return-rejected", rejectedReturn},
		{"order-rejected", rejectedOrder},
		{"not-found", "/no/such/page"},
		{"admin-login", "/admin/login"},
	}
	admin := []shotPage{
		{"admin-list", "/admin/"},
		{"admin-list-search", "/admin/?q=" + url.QueryEscape(string(approved))},
		{"admin-payment-reserved", "/admin/payments/" + string(approved)},
		{"admin-payment-partly-refunded", "/admin/payments/" + string(partly)},
		{"admin-checklist", "/admin/checklist"},
		{"admin-attention", "/admin/attention"},
		{"admin-staff", "/admin/staff"},
		{"admin-not-found", "/admin/payments/test-nosuchpayment"},
	}
	for _, p := range customer {
		checkPage(t, ctx, app.url, p)
	}
	adminSignIn(t, ctx, app.url, "admin", password)
	for _, p := range admin {
		checkPage(t, ctx, app.url, p)
	}
}

// checkPage opens p in each language at each width: it must say its
// language and fit the screen; with -screenshots it is saved as
// <name>-<lang>-<width>.png.
func checkPage(t *testing.T, ctx context.Context, base string, p shotPage) {
	t.Helper()
	for _, lang := range []string{"en", "nb"} {
		u, err := url.Parse(base + p.path)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("lang", lang)
		u.RawQuery = q.Encode()
		for _, width := range pageWidths {
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 900), chromedp.Navigate(u.String())); err != nil {
				t.Fatalf("opening %s: %v", u, err)
			}
			if strings.HasPrefix(p.path, "/admin/") && p.path != "/admin/login" {
				at, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`))
				if err != nil || at == "/admin/login" {
					t.Fatalf("%s in %s: the browser is at %q, not signed in (%v)", p.name, lang, at, err)
				}
			}
			got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`))
			if err != nil || got != lang {
				t.Errorf("%s in %s: <html lang=%q> (%v)", p.name, lang, got, err)
			}
			wide, err := chromedp.Run(ctx, chromedp.Evaluate[pageWidth](overflowJS))
			if err != nil {
				t.Fatalf("measuring %s: %v", u, err)
			}
			if wide.Scroll > wide.Client {
				t.Errorf("%s in %s at %d px is %d px wide; wider than the screen: %v", p.name, lang, width, wide.Scroll, wide.Over)
			}
			if *screenshots == "" {
				continue
			}
			png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
			if err != nil {
				t.Fatalf("screenshot of %s: %v", u, err)
			}
			name := filepath.Join(*screenshots, p.name+"-"+lang+"-"+strconv.FormatInt(width, 10)+".png")
			if err := os.WriteFile(name, png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
