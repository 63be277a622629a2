package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

// adminSignIn signs the browser in to the admin at base as user, on the
// sign-in form with the keyboard: the name, Tab, the password, Enter.
func adminSignIn(t *testing.T, ctx context.Context, base, user, password string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/admin/login"),
		chromedp.WaitVisible(chromedp.CSS(`#login-name`)),
		chromedp.Focus(chromedp.CSS(`#login-name`)),
		chromedp.KeyEvent(user+kb.Tab+password+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`.admin-who`)),
	)
	if err != nil {
		t.Fatalf("signing in to the admin as %s: %v", user, err)
	}
}

// focused is what has the keyboard focus, as focusedJS reports it.
type focused struct {
	ID      string `json:"id"`
	Tag     string `json:"tag"`
	Text    string `json:"text"`
	Outline string `json:"outline"`
}

// focusedJS reports the focused element and its outline style.
const focusedJS = `(() => {
  const el = document.activeElement;
  return {id: el.id, tag: el.tagName.toLowerCase(), text: (el.innerText || "").trim().slice(0, 60), outline: getComputedStyle(el).outlineStyle};
})()`

// keys drives a page with the keyboard only.
type keys struct {
	t   *testing.T
	ctx context.Context
}

// focus returns what has the focus now.
func (k keys) focus() focused {
	k.t.Helper()
	f, err := chromedp.Run(k.ctx, chromedp.Evaluate[focused](focusedJS))
	if err != nil {
		k.t.Fatalf("reading the focus: %v", err)
	}
	return f
}

// press sends keys (see package kb), with modifiers.
func (k keys) press(s string, mods ...chromedp.Modifier) {
	k.t.Helper()
	if err := chromedp.Do(k.ctx, chromedp.KeyEvent(s, chromedp.KeyModifiers(mods...))); err != nil {
		k.t.Fatalf("pressing %q: %v", s, err)
	}
}

// tabTo presses Tab until match holds for the focused element, and fails
// after 80 presses. Each element it passes must show a focus outline.
func (k keys) tabTo(what string, match func(focused) bool) focused {
	k.t.Helper()
	for range 80 {
		k.press(kb.Tab)
		f := k.focus()
		if f.Tag != "body" && f.Outline == "none" {
			k.t.Errorf("%s#%s %q has the focus but no visible outline", f.Tag, f.ID, f.Text)
		}
		if match(f) {
			return f
		}
	}
	k.t.Fatalf("Tab never reached %s", what)
	return focused{}
}

// tabToID presses Tab until the element with id has the focus.
func (k keys) tabToID(id string) {
	k.t.Helper()
	k.tabTo("#"+id, func(f focused) bool { return f.ID == id })
}

// typeInto replaces the value of the focused input with s.
func (k keys) typeInto(s string) {
	k.t.Helper()
	k.press(kb.End)
	for range 8 {
		k.press(kb.Backspace)
	}
	k.press(s)
}

// fits fails the test when the page of ctx is wider than the window.
func fits(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= innerWidth`))
	if err != nil {
		t.Fatalf("measuring %s: %v", what, err)
	}
	if !ok {
		wide, _ := chromedp.Run(ctx, chromedp.Evaluate[pageWidth](overflowJS))
		t.Errorf("%s scrolls sideways: %d px wide in %d; wider than the window: %v", what, wide.Scroll, wide.Client, wide.Over)
	}
}

// screenshot saves the whole page of ctx as /tmp/vippskit-<name>.png.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(os.TempDir(), "vippskit-"+name+".png")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// TestBrowserAdminKeyboard works the admin payment page with the keyboard
// only, at phone and desktop widths, in English and in bokmål: capture by
// receipt lines (Tab to each line's quantity, type it, Enter on the
// button), then refund everything through the confirmation page (Enter on
// Refund, Tab to Confirm, Enter). No page scrolls sideways.
func TestBrowserAdminKeyboard(t *testing.T) {
	const password = "browser-test-password"
	app := startTestServe(t, "-database", filepath.Join(t.TempDir(), "vipps.db"), "-admin-password", password)
	ctx := browser(t)
	adminSignIn(t, ctx, app.url, "admin", password)

	words := map[string]struct{ captured, confirm, refunded string }{
		"en": {"Captured 2\u00a0469,00\u00a0kr (2 × Kaffe Java, 1 × Ost, 1 × Frakt).", "Refund 2\u00a0469,00\u00a0kr to the customer?", "Refunded 2\u00a0469,00\u00a0kr to the customer."},
		"nb": {"Trakk 2\u00a0469,00\u00a0kr (2 × Kaffe Java, 1 × Ost, 1 × Frakt).", "Refundere 2\u00a0469,00\u00a0kr til kunden?", "Refunderte 2\u00a0469,00\u00a0kr til kunden."},
	}
	for _, width := range []int64{390, 1280} {
		for _, lang := range []string{"en", "nb"} {
			t.Run(fmt.Sprintf("%s at %d px", lang, width), func(t *testing.T) {
				w := words[lang]
				id := reservedWithReceipt(t, app)
				name := fmt.Sprintf("admin-%s-%d", lang, width)
				k := keys{t, ctx}
				text := func(sel string) string { t.Helper(); return textOf(t, ctx, sel) }
				err := chromedp.Do(ctx,
					chromedp.EmulateViewport(width, 900),
					chromedp.Navigate(app.url+"/admin/payments/"+string(id)+"?lang="+lang),
					chromedp.WaitVisible(chromedp.CSS(`#capture-line-0`)),
				)
				if err != nil {
					t.Fatalf("opening the payment: %v", err)
				}
				fits(t, ctx, "the payment page")
				screenshot(t, ctx, name+"-reserved")

				// Capture by lines: 2 coffees, the cheese, shipping.
				for _, q := range []struct{ id, n string }{{"capture-line-0", "2"}, {"capture-line-1", "1"}, {"capture-line-2", "1"}} {
					k.tabToID(q.id)
					k.typeInto(q.n)
				}
				button := k.tabTo("the capture button", func(f focused) bool { return f.Tag == "button" })
				// Shift-Tab goes back to the text field, then Tab forward again.
				k.press(kb.Tab, chromedp.ModifierShift)
				if f := k.focus(); f.ID != "capture-text" {
					t.Errorf("Shift-Tab from the capture button focuses %s#%s, want #capture-text", f.Tag, f.ID)
				}
				k.press(kb.Tab)
				if f := k.focus(); f != button {
					t.Errorf("Tab from #capture-text focuses %+v, want the capture button %+v", f, button)
				}
				k.press(kb.Enter)
				if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`.admin-flash-ok`))); err != nil {
					t.Fatalf("capture by lines: %v", err)
				}
				if got := text(`.admin-flash-ok`); got != w.captured {
					t.Errorf("after the capture the page says %q, want %q", got, w.captured)
				}
				fits(t, ctx, "the payment page after the capture")

				// Refund everything: the refund form's button, with every
				// field left as it is, asks to confirm.
				k.tabTo("the refund button", func(f focused) bool {
					return f.Tag == "button" && (f.Text == "Refund" || f.Text == "Refunder")
				})
				k.press(kb.Enter)
				if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#confirm-question`))); err != nil {
					t.Fatalf("refund everything: no confirmation page: %v", err)
				}
				if got := text(`#confirm-question`); got != w.confirm {
					t.Errorf("confirmation asks %q, want %q", got, w.confirm)
				}
				// The browser moves the focus (autofocus) once the page is
				// loaded, which may be after it is visible.
				if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.activeElement && document.activeElement.id === "confirm-question"`,
					chromedp.WithPollingTimeout(5*time.Second))); err != nil {
					f := k.focus()
					t.Errorf("the confirmation page starts with the focus on %s#%s, want the question (%v)", f.Tag, f.ID, err)
				}
				fits(t, ctx, "the confirmation page")
				screenshot(t, ctx, name+"-confirm")
				if got := state(t, app, id); got != payment.Captured {
					t.Fatalf("payment is %s before the refund is confirmed, want captured", got)
				}
				k.tabTo("Confirm", func(f focused) bool { return f.Tag == "button" })
				k.press(kb.Enter)
				if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`.admin-flash-ok`))); err != nil {
					t.Fatalf("confirmed refund: %v", err)
				}
				if got := text(`.admin-flash-ok`); !strings.HasPrefix(got, w.refunded) {
					t.Errorf("after the refund the page says %q, want %q…", got, w.refunded)
				}
				fits(t, ctx, "the payment page after the refund")
				screenshot(t, ctx, name+"-refunded")
				p, err := app.svc.Get(context.Background(), id)
				if err != nil {
					t.Fatal(err)
				}
				if p.State != payment.Refunded || p.Amounts.Refunded != 246900 {
					t.Errorf("payment after the keyboard run: %s, %+v; want refunded 246900", p.State, p.Amounts)
				}
			})
		}
	}
}

// reservedWithReceipt makes a payment of 2 469,00 kr with a receipt of
// three lines that the customer approved.
func reservedWithReceipt(t *testing.T, app *serveApp) vipps.OrderID {
	t.Helper()
	return reserved(t, app, payment.CreateRequest{
		Amount: 246900, Text: "Kaffe og ost", ReturnURL: "https://shop.example/done",
		Receipt: &vipps.Receipt{OrderLines: []vipps.OrderLine{
			{Name: "Kaffe Java", ID: "kaffe-1", TotalAmount: 129000, TotalAmountExcludingTax: 103200, TotalTaxAmount: 25800, TaxPercentage: 25,
				UnitInfo: &vipps.UnitInfo{UnitPrice: 64500, Quantity: "2"}},
			{Name: "Ost", ID: "ost", TotalAmount: 113000, TotalAmountExcludingTax: 100000, TotalTaxAmount: 13000, TaxPercentage: 13,
				UnitInfo: &vipps.UnitInfo{UnitPrice: 226000, Quantity: "0.5", QuantityUnit: "KG"}},
			{Name: "Frakt", ID: "frakt", TotalAmount: 4900, TotalAmountExcludingTax: 3920, TotalTaxAmount: 980, TaxPercentage: 25, IsShipping: true},
		}, BottomLine: vipps.BottomLine{ReceiptNumber: "K-7"}},
	})
}
