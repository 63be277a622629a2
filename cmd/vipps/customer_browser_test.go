package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// customerWidths are the screens the customer's pages are checked at: a
// phone and a laptop.
var customerWidths = []int64{390, 1280}

// TestBrowserCustomerJourney buys in the demo shop in bokmål (express
// checkout) and in English (regular), approves on the simulator's app page
// and follows the customer to the return page and the order page, at 390
// and 1280 px: every page speaks the language chosen, shows the Vipps
// button with its verb, says Vipps on the confirmations and fits the
// screen. Screenshots of each page go to $TMPDIR/vippskit-customer/ to be
// looked at.
func TestBrowserCustomerJourney(t *testing.T) {
	app := startTestServe(t, "-database", filepath.Join(t.TempDir(), "vipps.db"))
	shots := filepath.Join(os.TempDir(), "vippskit-customer")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		lang, kind string
		// What each page must say, by selector.
		shop, ret, order map[string]string
	}{
		{
			lang: "nb", kind: "express",
			shop: map[string]string{"h1": "Velg kaffe", `label[for="quantity"]`: "Antall", ".env": "TESTMODUS: betalingene går til vippskit-simulatoren",
				`button[value="regular"]`: "Betal med\u00a0Vipps", `button[value="express"]`: "Kjøp nå med\u00a0Vipps"},
			ret: map[string]string{"section.outcome h1": "Betalingen er godkjent i Vipps – takk!",
				"dl.facts": "Betalingsmåte\nVipps", "section.outcome a.button": "Se bestillingen din"},
			order: map[string]string{"h1": "Bestillingen din", "p.status": "Betalingen er godkjent i Vipps – takk!",
				"dl.facts": "Frakt\nPosten: home delivery: 99,00\u00a0kr (ikke lagt til beløpet over)", "table.lines caption": "Dette har du bestilt"},
		},
		{
			lang: "en", kind: "regular",
			shop: map[string]string{"h1": "Choose your coffee", `label[for="quantity"]`: "Quantity", ".env": "TEST MODE: payments go to the vippskit simulator",
				`button[value="regular"]`: "Pay with\u00a0Vipps", `button[value="express"]`: "Buy now with\u00a0Vipps"},
			ret: map[string]string{"section.outcome h1": "Payment approved in Vipps — thank you",
				"dl.facts": "Payment method\nVipps", "section.outcome a.button": "See your order"},
			order: map[string]string{"h1": "Your order", "p.status": "Payment approved in Vipps — thank you",
				"table.lines caption": "What you ordered"},
		},
	} {
		t.Run(tt.lang, func(t *testing.T) {
			ctx := browser(t)
			check := func(page string, want map[string]string) {
				t.Helper()
				for sel, w := range want {
					got, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
					if err != nil {
						t.Errorf("%s: text of %s: %v", page, sel, err)
					} else if !strings.Contains(got, w) {
						t.Errorf("%s: %s says %q, want %q", page, sel, got, w)
					}
				}
				lang, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`))
				if err != nil || lang != tt.lang {
					t.Errorf("%s: <html lang=%q> (%v), want %q", page, lang, err, tt.lang)
				}
				// At each width: nothing wider than the screen, and a
				// screenshot to look at.
				for _, w := range customerWidths {
					if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, 900)); err != nil {
						t.Fatal(err)
					}
					wide, err := chromedp.Run(ctx, chromedp.Evaluate[pageWidth](overflowJS))
					if err != nil {
						t.Fatalf("%s: measuring at %d px: %v", page, w, err)
					}
					if wide.Scroll > wide.Client {
						t.Errorf("%s at %d px is %d px wide, want at most %d; wider than the screen: %v", page, w, wide.Scroll, wide.Client, wide.Over)
					}
					png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
					if err != nil {
						t.Fatalf("%s: screenshot at %d px: %v", page, w, err)
					}
					name := filepath.Join(shots, fmt.Sprintf("%s-%s-%d.png", page, tt.lang, w))
					if err := os.WriteFile(name, png, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				if err := chromedp.Do(ctx, chromedp.EmulateViewport(customerWidths[0], 900)); err != nil {
					t.Fatal(err)
				}
			}
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(customerWidths[0], 900), chromedp.Navigate(app.url+"/?lang="+tt.lang)); err != nil {
				t.Fatal(err)
			}
			check("shop", tt.shop)
			err := chromedp.Do(ctx,
				chromedp.SendKeys(chromedp.CSS("#phone"), "91234567"),
				chromedp.Click(chromedp.CSS(`button.vipps-button[value="`+tt.kind+`"]`)),
				chromedp.WaitVisible(chromedp.CSS(`form[action$="/phone"] button.primary`)),
				chromedp.Click(chromedp.CSS(`form[action$="/phone"] button.primary`)),
				chromedp.WaitVisible(chromedp.CSS(`button[value="reject"]`)),
			)
			if err != nil {
				t.Fatalf("buying in the demo shop: %v", err)
			}
			// Express: the app asks the service for shipping options of
			// the address first.
			if fetch, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.querySelector('button[value="address"]')`)); fetch {
				if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`button[value="address"]`))); err != nil {
					t.Fatalf("asking for shipping options: %v", err)
				}
			}
			wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			if tt.kind == "express" {
				// Home delivery, 99 kr, and the consent to share the
				// address.
				err = chromedp.Do(wctx,
					chromedp.WaitVisible(chromedp.CSS(`input[name="shipping"][value="posten-home"]`)),
					chromedp.Click(chromedp.CSS(`input[name="shipping"][value="posten-home"]`)),
					chromedp.Click(chromedp.CSS(`input[name="consent"]`)),
				)
				if err != nil {
					t.Fatalf("choosing shipping in the simulator's app: %v", err)
				}
			}
			err = chromedp.Do(wctx,
				chromedp.WaitVisible(chromedp.CSS(`button[value="approve"]`)),
				chromedp.Click(chromedp.CSS(`button[value="approve"]`)),
				chromedp.WaitVisible(chromedp.CSS(`section.outcome-approved`)),
			)
			if err != nil {
				png, _ := chromedp.Run(ctx, chromedp.FullScreenshot(100))
				os.WriteFile(filepath.Join(shots, "failed-"+tt.lang+".png"), png, 0o644)
				t.Fatalf("approving in the simulator's app: %v (the page: %s)", err, filepath.Join(shots, "failed-"+tt.lang+".png"))
			}
			check("return", tt.ret)
			err = chromedp.Do(ctx,
				chromedp.Click(chromedp.CSS(`section.outcome a.button`)),
				chromedp.WaitVisible(chromedp.CSS(`p.status`)),
			)
			if err != nil {
				t.Fatalf("to the order page: %v", err)
			}
			check("order", tt.order)
		})
	}
}

// buttonLook is what hoverJS reads of a button: the styles a hover effect
// would change, and its height.
type buttonLook struct {
	Style  string  `json:"style"`
	Height float64 `json:"height"`
	X      float64 `json:"x"`
	Y      float64 `json:"y"`
}

// lookJS reads button.vipps-button number %d, scrolled into view.
const lookJS = `(() => {
  const b = document.querySelectorAll("button.vipps-button")[%d];
  b.scrollIntoView({block: "center"});
  const r = b.getBoundingClientRect();
  const style = el => { const s = getComputedStyle(el); return ["background-color", "background-image", "color", "border",
    "border-radius", "box-shadow", "filter", "opacity", "outline", "transform", "text-decoration", "font", "padding"].map(p => p + ":" + s.getPropertyValue(p)).join(";"); };
  return {style: style(b) + "|" + style(b.querySelector(".wordmark")), height: r.height, x: r.x + r.width / 2, y: r.y + r.height / 2};
})()`

// othersJS is the height of the tallest other control of the page.
const othersJS = `Math.max(0, ...[...document.querySelectorAll("select, input[type=tel], a.button, button:not(.vipps-button)")].map(e => e.getBoundingClientRect().height))`

// TestBrowserVippsButtonNoHover: the builtin Vipps button (the mode with
// the simulator, and the fallback everywhere) looks the same under the
// pointer as away from it, as Vipps' guidelines ask, and is no smaller
// than the page's other controls (44 px at least), on a phone and a
// laptop.
func TestBrowserVippsButtonNoHover(t *testing.T) {
	app := startTestServe(t, "-database", filepath.Join(t.TempDir(), "vipps.db"))
	ctx := browser(t)
	for _, w := range customerWidths {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, 900), chromedp.Navigate(app.url+"/?lang=nb")); err != nil {
			t.Fatal(err)
		}
		others, err := chromedp.Run(ctx, chromedp.Evaluate[float64](othersJS))
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			before, err := chromedp.Run(ctx, chromedp.Evaluate[buttonLook](fmt.Sprintf(lookJS, i)))
			if err != nil {
				t.Fatal(err)
			}
			if err := chromedp.Do(ctx, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, before.X, before.Y)); err != nil {
				t.Fatal(err)
			}
			hovered, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`document.querySelectorAll("button.vipps-button")[%d].matches(":hover")`, i)))
			if err != nil || !hovered {
				t.Fatalf("at %d px the pointer is not over Vipps button %d (%v)", w, i, err)
			}
			under, err := chromedp.Run(ctx, chromedp.Evaluate[buttonLook](fmt.Sprintf(lookJS, i)))
			if err != nil {
				t.Fatal(err)
			}
			if under.Style != before.Style {
				t.Errorf("at %d px Vipps button %d changes under the pointer:\n away %s\nunder %s", w, i, before.Style, under.Style)
			}
			if before.Height < 44 || before.Height < others {
				t.Errorf("at %d px Vipps button %d is %.0f px tall, want at least 44 and the tallest other control's %.0f", w, i, before.Height, others)
			}
		}
		// Away again, for the next width.
		if err := chromedp.Do(ctx, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, 1, 1)); err != nil {
			t.Fatal(err)
		}
	}
}
