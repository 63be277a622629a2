package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

// chromium returns the path of a Chromium to test with: $VIPPS_TEST_CHROMIUM
// or chromium on PATH (Debian's package; .ci/run installs it).
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("VIPPS_TEST_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no chromium on PATH (apt-get install chromium, as .ci/run does); CI must run the browser tests")
	}
	t.Skip("no chromium on PATH; apt-get install chromium, or set VIPPS_TEST_CHROMIUM")
	return ""
}

// browser starts a headless Chromium with a fresh profile, closed when the
// test ends, and returns a context for chromedp.Run. The flags keep it off
// the network but for the pages it is sent to.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	// The browser lives as long as the context of its first action: two
	// minutes at most, should the test hang.
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	actx, cancelTimeout := context.WithTimeout(actx, 2*time.Minute)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelTimeout(); cancelAlloc() })
	// Start it now, to report a broken install clearly.
	if _, err := chromedp.Run(ctx, chromedp.Title()); err != nil {
		t.Fatalf("starting %s: %v", chromium(t), err)
	}
	return ctx
}

// TestBrowserShopToRefundAndVoid runs `vipps serve` on its defaults and
// drives it in a real browser, as a customer and then as customer service:
// two purchases in the demo shop (the second with JavaScript off), each
// approved on the simulator's app page, back on the session-less return
// page and the shop's order page;
// then the admin UI captures and refunds the first (REFUND) and cancels
// the second (VOID) through its CSRF-protected forms, which the browser
// sends with its own Origin and Sec-Fetch-Site headers.
func TestBrowserShopToRefundAndVoid(t *testing.T) {
	const password = "browser-test-password"
	app := startTestServe(t, "-database", filepath.Join(t.TempDir(), "vipps.db"), "-admin-password", password)
	ctx := browser(t)

	text := func(sel string) string { t.Helper(); return textOf(t, ctx, sel) }
	buy := func() vipps.OrderID {
		t.Helper()
		err := chromedp.Do(ctx,
			chromedp.Navigate(app.url+"/"),
			chromedp.SendKeys(chromedp.CSS("#phone"), "91234567"),
			chromedp.Click(chromedp.CSS("button.vipps-button")),
			// The simulator's landing page, with the number filled in.
			chromedp.WaitVisible(chromedp.CSS(`form[action$="/phone"] button.primary`)),
			chromedp.Click(chromedp.CSS(`form[action$="/phone"] button.primary`)),
			chromedp.WaitVisible(chromedp.CSS(`button[value="approve"]`)),
			chromedp.Click(chromedp.CSS(`button[value="approve"]`)),
			// The return page, once it knows.
			chromedp.WaitVisible(chromedp.CSS(`section.outcome-approved`)),
		)
		if err != nil {
			t.Fatalf("buying in the demo shop: %v", err)
		}
		if h := text(`section.outcome h1`); !strings.Contains(h, "Payment approved") {
			t.Errorf("return page heading = %q, want it to say the payment is approved", h)
		}
		id := vipps.OrderID(text(`dl.facts dd.order-id code`))
		back, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`section.outcome a.button`), "href"))
		if err != nil || !strings.Contains(back.Value, "/shop/") {
			t.Errorf("return page links back to %q (%v), want the demo shop's order page", back.Value, err)
		}
		err = chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`section.outcome a.button`)),
			chromedp.WaitVisible(chromedp.CSS(`p.status`)),
		)
		if err != nil {
			t.Fatalf("back to the shop: %v", err)
		}
		if status := text(`p.status`); status == "" || strings.Contains(strings.ToLower(status), "not paid") {
			t.Errorf("shop order page status = %q, want it paid", status)
		}
		if got := state(t, app, id); got != payment.Reserved {
			t.Fatalf("payment %q is %s after the browser flow, want reserved", id, got)
		}
		return id
	}
	refundMe := buy()
	// The second customer's browser runs no JavaScript: the shop, the
	// simulator's pages and the return page work without it.
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	voidMe := buy()
	if refundMe == voidMe {
		t.Fatalf("two purchases got one orderId %s", refundMe)
	}

	// Customer service signs in: the first page leads to the sign-in form
	// and back.
	err := chromedp.Do(ctx,
		chromedp.Navigate(app.url+"/admin/payments/"+string(refundMe)),
		chromedp.WaitVisible(chromedp.CSS(`#login-name`)),
		chromedp.SendKeys(chromedp.CSS(`#login-name`), "admin"),
		chromedp.SendKeys(chromedp.CSS(`#login-password`), password),
		chromedp.Click(chromedp.CSS(`.admin-login button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`h1 .admin-badge`)),
	)
	if err != nil {
		t.Fatalf("signing in to the admin UI: %v", err)
	}
	if who := strings.Join(strings.Fields(text(`.admin-who`)), " "); !strings.Contains(who, "Signed in as admin (Administrator)") {
		t.Errorf("the admin page says %q, want who is signed in", who)
	}
	act := func(id vipps.OrderID, form string, wantState payment.State) {
		t.Helper()
		sel := `form[action$="/` + form + `"] button`
		err := chromedp.Do(ctx,
			chromedp.Navigate(app.url+"/admin/payments/"+string(id)),
			chromedp.WaitVisible(chromedp.CSS(sel)),
			chromedp.Click(chromedp.CSS(sel)),
		)
		if err != nil {
			t.Fatalf("%s of %s in the admin UI: %v", form, id, err)
		}
		// A refund of everything and a cancel ask to confirm first.
		if form != "capture" {
			err = chromedp.Do(ctx,
				chromedp.WaitVisible(chromedp.CSS(`#confirm-question`)),
				chromedp.Click(chromedp.CSS(`form[action$="/`+form+`"] button`)),
			)
			if err != nil {
				t.Fatalf("confirming the %s of %s in the admin UI: %v", form, id, err)
			}
		}
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`.admin-flash`))); err != nil {
			t.Fatalf("%s of %s in the admin UI: %v", form, id, err)
		}
		flash := text(`.admin-flash`)
		if class, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`.admin-flash`), "class")); err != nil || strings.Contains(class.Value, "error") {
			t.Fatalf("%s of %s in the admin UI: %q (%v)", form, id, flash, err)
		}
		if _, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`h1 .admin-state-`+string(wantState)))); err != nil {
			t.Fatalf("%s of %s in the admin UI: the page does not show %s (%v); it says %q", form, id, wantState, err, flash)
		}
	}
	act(refundMe, "capture", payment.Captured)
	act(refundMe, "refund", payment.Refunded)
	act(voidMe, "cancel", payment.Voided)

	for id, want := range map[vipps.OrderID]payment.State{refundMe: payment.Refunded, voidMe: payment.Voided} {
		p, err := app.svc.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if p.State != want {
			t.Errorf("payment %s is %s, want %s", id, p.State, want)
		}
		if want == payment.Refunded && (p.Amounts.Captured != p.Amounts.Authorized || p.Amounts.Refunded != p.Amounts.Authorized) {
			t.Errorf("refunded payment %s: amounts %+v, want all captured and refunded", id, p.Amounts)
		}
	}
	// The simulator agrees: each operation reached Vipps once.
	for id, want := range map[vipps.OrderID]map[string]int{refundMe: {"capture": 1, "refund": 1}, voidMe: {"cancel": 1}} {
		got := map[string]int{}
		for _, r := range app.sim.Requests() {
			if strings.Contains(r.Path, string(id)) && (r.Op == "capture" || r.Op == "refund" || r.Op == "cancel") {
				got[r.Op]++
			}
		}
		for op, n := range want {
			if got[op] != n {
				t.Errorf("simulator got %d %s requests for %s, want %d", got[op], op, id, n)
			}
		}
	}

	// Every page fits a 390 px phone: nothing wider than the screen.
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: false}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 900)); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/admin/payments/" + string(refundMe), "/admin/payments/" + string(voidMe), "/admin/attention", "/"} {
		if err := chromedp.Do(ctx, chromedp.Navigate(app.url+path)); err != nil {
			t.Fatalf("opening %s at 390 px: %v", path, err)
		}
		// Measured open: the requests to Vipps and their bodies too.
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("details").forEach(d => d.open = true), 0`)); err != nil {
			t.Fatalf("opening the details of %s: %v", path, err)
		}
		wide, err := chromedp.Run(ctx, chromedp.Evaluate[pageWidth](overflowJS))
		if err != nil {
			t.Fatalf("measuring %s at 390 px: %v", path, err)
		}
		if wide.Scroll > wide.Client {
			t.Errorf("%s at 390 px is %d px wide, want at most %d; wider than the screen: %v", path, wide.Scroll, wide.Client, wide.Over)
		}
	}
}

// textOf returns the text of the first element sel matches, trimmed.
func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(v)
}

// pageWidth is what overflowJS measures.
type pageWidth struct {
	Scroll int      `json:"scroll"`
	Client int      `json:"client"`
	Over   []string `json:"over"`
}

// overflowJS measures the page: its scroll width, the viewport's width, and
// the innermost elements whose right edge is past the viewport and not in
// a box that scrolls (at most 5), to say what to fix.
const overflowJS = `(() => {
  const client = document.documentElement.clientWidth;
  const past = el => el.getBoundingClientRect().right > client + 0.5;
  // clipped: inside a box that scrolls or hides its overflow.
  const clipped = el => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== "visible") return true;
    }
    return false;
  };
  const over = [];
  for (const el of document.querySelectorAll("body *")) {
    const r = el.getBoundingClientRect();
    if (past(el) && !clipped(el) && ![...el.children].some(c => past(c) && !clipped(c))) {
      over.push(el.tagName.toLowerCase() + (el.className ? "." + String(el.className).split(" ").join(".") : "") + " right=" + Math.round(r.right));
    }
  }
  return {scroll: document.documentElement.scrollWidth, client: client, over: over.slice(0, 5)};
})()`
