package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/internal/servicetest"
	"github.com/vippskit/vipps/vippstest"
)

// getIn fetches path as a browser whose language is l (Accept-Language:
// no cookie, so that shopEnv's no-session check holds).
func (e *shopEnv) getIn(l lang, path string) response {
	e.t.Helper()
	req := e.newRequest("GET", strings.TrimPrefix(path, e.url), nil)
	req.Header.Set("Accept-Language", string(l))
	return e.fetch(req)
}

// TestVippsButtonModes: the demo shop and the order page's "try again"
// show the builtin button alone, with today's strict policy, in builtin
// mode; in library mode also Vipps' own button, in the page's language and
// with the right verb, under a policy that allows the library's origin and
// nothing more. Pages without a button keep their policies.
func TestVippsButtonModes(t *testing.T) {
	const script = `<script src="https://checkout.vipps.no/checkout-button/v1/vipps-checkout-button.js" async></script>`
	for _, mode := range []string{ButtonBuiltin, ButtonLibrary} {
		for _, l := range []lang{langEN, langNB} {
			t.Run(mode+"/"+string(l), func(t *testing.T) {
				e := newShopEnv(t, func(c *envConfig) { c.web.VippsButton = mode })
				pay, buy := "Pay with", "Buy now with"
				libLang := "en"
				if l == langNB {
					pay, buy, libLang = "Betal med", "Kjøp nå med", "no"
				}
				wantCSP := cspPage
				if mode == ButtonLibrary {
					wantCSP = cspButton
				}
				shop := e.getIn(l, "/")
				if got := shop.Header.Get("Content-Security-Policy"); got != wantCSP {
					t.Errorf("shop page CSP = %q, want %q", got, wantCSP)
				}
				builtin := []string{
					`<button type="submit" class="vipps-button" name="kind" value="regular">` + pay + `&nbsp;<span class="wordmark">Vipps</span></button>`,
					`<button type="submit" class="vipps-button" name="kind" value="express">` + buy + `&nbsp;<span class="wordmark">Vipps</span></button>`,
				}
				mustContain(t, "the shop page", shop.Body, builtin...)
				library := []string{script, `<script src="/static/vipps-button.js" defer></script>`,
					`<div class="vipps-pay" data-vipps-button>`,
					`<vipps-mobilepay-button brand="vipps" variant="primary" language="` + libLang + `" verb="pay" rounded="true" stretched="true"></vipps-mobilepay-button>`,
					`<vipps-mobilepay-button brand="vipps" variant="primary" language="` + libLang + `" verb="buy" rounded="true" stretched="true"></vipps-mobilepay-button>`,
				}
				if mode == ButtonLibrary {
					mustContain(t, "the shop page", shop.Body, library...)
				} else {
					mustNotContain(t, "the shop page", shop.Body, "vipps-mobilepay-button", "data-vipps-button", "vipps-button.js")
					if m := externalResource.FindString(shop.Body); m != "" {
						t.Errorf("the builtin shop page loads %q from elsewhere", m)
					}
				}

				// An order not paid offers "try again" with the verb of
				// its kind; a paid one has no button and today's policy.
				rejected := e.buy(url.Values{"product": {"kaffe-1kg"}, "quantity": {"1"}, "kind": {"express"}})
				if err := e.sim.Sim.Reject(rejected.OrderID); err != nil {
					t.Fatal(err)
				}
				if _, err := e.svc.Check(t.Context(), rejected.OrderID); err != nil {
					t.Fatal(err)
				}
				order := e.getIn(l, "/shop/orders/"+rejected.ShopRef)
				if got := order.Header.Get("Content-Security-Policy"); got != wantCSP {
					t.Errorf("unpaid order page CSP = %q, want %q", got, wantCSP)
				}
				mustContain(t, "the unpaid order page", order.Body,
					`<button type="submit" class="vipps-button">`+buy+`&nbsp;<span class="wordmark">Vipps</span></button>`)
				if mode == ButtonLibrary {
					mustContain(t, "the unpaid order page", order.Body, script, `verb="buy"`, `language="`+libLang+`"`)
				} else {
					mustNotContain(t, "the unpaid order page", order.Body, "vipps-mobilepay-button", "<script")
				}

				paid := e.buy(url.Values{"product": {"kaffe-1kg"}, "quantity": {"1"}, "kind": {"regular"}})
				if err := e.sim.Sim.Approve(paid.OrderID, ""); err != nil {
					t.Fatal(err)
				}
				e.waitCallback(paid.OrderID)
				for _, pg := range []struct{ name, path, csp string }{
					{"the paid order page", "/shop/orders/" + paid.ShopRef, cspPage},
					{"the return page", e.svc.ReturnURL(paid.OrderID), cspPoll},
					{"a page not found", "/shop/orders/demo-zzzzzz", cspPage},
				} {
					res := e.getIn(l, pg.path)
					if got := res.Header.Get("Content-Security-Policy"); got != pg.csp {
						t.Errorf("%s CSP = %q, want %q", pg.name, got, pg.csp)
					}
					mustNotContain(t, pg.name, res.Body, "vipps-mobilepay-button", "checkout.vipps.no", `class="vipps-button"`)
				}
			})
		}
	}
}

func TestParseVippsButton(t *testing.T) {
	for in, want := range map[string]string{"": ButtonBuiltin, "builtin": ButtonBuiltin, " Library ": ButtonLibrary} {
		if got, err := ParseVippsButton(in); got != want || err != nil {
			t.Errorf("ParseVippsButton(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
	if got, err := ParseVippsButton("image"); err == nil {
		t.Errorf("ParseVippsButton(image) = %q, want an error", got)
	}
	if _, err := New(Config{VippsButton: "widget"}); err == nil || !strings.Contains(err.Error(), `vipps button "widget"`) {
		t.Errorf("New with VippsButton widget: %v, want it refused", err)
	}
}

// TestCustomerPagesInBokmal follows a customer whose browser asks for
// Norwegian through the demo shop, a refused form, the return page and
// the order page: everything they read is bokmål, amounts never break.
func TestCustomerPagesInBokmal(t *testing.T) {
	e := newShopEnv(t)
	shop := e.getIn(langNB, "/")
	mustContain(t, "the shop page", shop.Body, `<html lang="nb">`, "<title>Demobutikk</title>", "Velg kaffe",
		"<legend>Produkt</legend>", `<label for="quantity">Antall</label>`,
		`Telefonnummer <span class="hint">(valgfritt)</span>`, "8 siffer, for eksempel 912 34 567.",
		"<h2 class=\"pay-head\">Betaling</h2>", "Betal med&nbsp;", "Kjøp nå med&nbsp;",
		"Hurtigkasse: velg adresse og levering i Vipps.", `<span class="amount">1`+"\u00a0"+`234,50`+"\u00a0"+`kr</span>`)
	mustNotContain(t, "the shop page", shop.Body, "Choose", "Quantity", "Pay with", "optional", "demo shop<")

	// A form error is said in the language of the page.
	req := e.newRequest("POST", "/shop/buy", strings.NewReader(url.Values{
		"csrf": {e.csrf("/")}, "product": {"kaffe-1kg"}, "quantity": {"11"}, "kind": {"regular"}, "phone": {"12"},
	}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.url)
	req.Header.Set("Accept-Language", "nb-NO,nb;q=0.9")
	bad := e.fetch(req)
	if bad.Status != http.StatusBadRequest {
		t.Fatalf("POST /shop/buy with a bad form = %d, want 400", bad.Status)
	}
	mustContain(t, "the refused shop form", bad.Body, "Velg et antall fra 1 til 10.",
		"Skriv inn et norsk telefonnummer med 8 siffer, for eksempel 912 34 567, eller la feltet stå tomt.")

	p := e.buy(url.Values{"product": {"kaffekopp"}, "quantity": {"2"}, "kind": {"regular"}})
	waiting := e.getIn(langNB, e.svc.ReturnURL(p.OrderID))
	mustContain(t, "the waiting return page", waiting.Body, "Venter på Vipps …", "Godkjenn betalingen i Vipps-appen.")
	if err := e.sim.Sim.Approve(p.OrderID, ""); err != nil {
		t.Fatal(err)
	}
	e.waitCallback(p.OrderID)
	ret := e.getIn(langNB, e.svc.ReturnURL(p.OrderID))
	mustContain(t, "the return page", ret.Body, "Betalingen er godkjent i Vipps – takk!",
		"179,00\u00a0kr er reservert hos Vipps. Beløpet trekkes når butikken sender bestillingen din.",
		`<dt>Godkjent i Vipps</dt><dd class="amount">179,00`+"\u00a0"+`kr</dd>`,
		"<dt>Betalingsmåte</dt><dd>Vipps</dd>", "<dt>Ordrereferanse</dt>", "<dt>Vipps-ordre-ID</dt>",
		`">Se bestillingen din</a>`)
	mustNotContain(t, "the return page", ret.Body, "Payment approved", "Approved in", "See your order")

	order := e.getIn(langNB, "/shop/orders/"+p.ShopRef)
	mustContain(t, "the order page", order.Body, "<title>Bestillingen din "+p.ShopRef+"</title>", "<h1>Bestillingen din</h1>",
		"<strong>Betalingen er godkjent i Vipps – takk!</strong>", "<caption>Dette har du bestilt</caption>",
		`<th scope="col">Antall</th>`, "Totalt inkl. mva.", "<dt>Betalingsmåte</dt><dd>Vipps</dd>", ">Tilbake til butikken</a>")
	mustNotContain(t, "the order page", order.Body, "Your order", "Back to the shop", "Quantity", "Try again")

	// Rejected: "Prøv igjen", with the builtin button saying "Betal med".
	q := e.buy(url.Values{"product": {"kaffe-1kg"}, "quantity": {"1"}, "kind": {"regular"}})
	if err := e.sim.Sim.Reject(q.OrderID); err != nil {
		t.Fatal(err)
	}
	rej := e.getIn(langNB, e.svc.ReturnURL(q.OrderID))
	mustContain(t, "the rejected return page", rej.Body, "Betalingen er avbrutt", "Ingen penger er trukket.", `">Prøv igjen</a>`)
	rorder := e.getIn(langNB, "/shop/orders/"+q.ShopRef)
	mustContain(t, "the rejected order page", rorder.Body, "<h2>Prøv igjen</h2>",
		"Du kan starte betalingen på nytt. Du betaler bare én gang.", "Betal med&nbsp;<span class=\"wordmark\">Vipps</span>")
}

// TestExpressShipping: whether Vipps reserved the shipping cost on top of
// the amount initiated is told from the reservation (the simulator does
// either), and the confirmation pages and the API say so, the API in øre.
func TestExpressShipping(t *testing.T) {
	for _, tt := range []struct {
		name       string
		adds       bool
		authorized vipps.Amount
		charged    payment.ShippingCharge
		en, nb     string
	}{
		{"added", true, 149_00 + 49_00, payment.ShippingAdded, "(included in the amount above)", "(inkludert i beløpet over)"},
		{"not added", false, 149_00, payment.ShippingNotAdded, "(not added to the amount above)", "(ikke lagt til beløpet over)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newShopEnv(t, func(c *envConfig) {
				c.service = append(c.service, servicetest.WithSim(func(c *vippstest.Config) { c.ExpressAddsShipping = tt.adds }))
			})
			p := e.buy(url.Values{"product": {"kaffe-1kg"}, "quantity": {"1"}, "kind": {"express"}})
			if err := e.sim.Sim.Approve(p.OrderID, ""); err != nil {
				t.Fatal(err)
			}
			e.waitCallback(p.OrderID)
			got, err := e.svc.Get(t.Context(), p.OrderID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Amounts.Authorized != tt.authorized {
				t.Fatalf("authorized = %d, want %d", got.Amounts.Authorized, tt.authorized)
			}
			want := &payment.Shipping{Method: "Posten", MethodID: "posten", Cost: 49_00, Charge: tt.charged}
			if diff := cmp.Diff(want, payment.ShippingOf(got)); diff != "" {
				t.Errorf("ShippingOf differs (-want +got):\n%s", diff)
			}
			cost := `<span class="amount">49,00` + "\u00a0" + `kr</span>`
			for _, pg := range []struct{ name, path string }{
				{"the return page", e.svc.ReturnURL(p.OrderID)},
				{"the order page", "/shop/orders/" + p.ShopRef},
			} {
				mustContain(t, pg.name, e.getIn(langEN, pg.path).Body,
					`<dt>Shipping</dt><dd>Posten: `+cost+` <span class="hint">`+tt.en+`</span></dd>`)
				mustContain(t, pg.name+" in bokmål", e.getIn(langNB, pg.path).Body,
					`<dt>Frakt</dt><dd>Posten: `+cost+` <span class="hint">`+tt.nb+`</span></dd>`)
			}

			var body struct {
				Amounts  payment.Amounts `json:"amounts"`
				Shipping map[string]any  `json:"shipping"`
				Express  struct {
					ShippingDetails struct {
						ShippingCost float64 `json:"shippingCost"`
					} `json:"shippingDetails"`
				} `json:"express"`
			}
			b := e.apiInto("GET", "/api/payments/"+string(p.OrderID), nil, http.StatusOK, nil)
			if err := json.Unmarshal(b, &body); err != nil {
				t.Fatal(err)
			}
			wantShip := map[string]any{"method": "Posten", "methodId": "posten", "cost": float64(4900), "charged": string(tt.charged)}
			if diff := cmp.Diff(wantShip, body.Shipping); diff != "" {
				t.Errorf("API shipping differs (-want +got):\n%s", diff)
			}
			if body.Amounts.Authorized != tt.authorized || body.Express.ShippingDetails.ShippingCost != 49 {
				t.Errorf("API authorized %d and Vipps' own shippingCost %v, want %d and 49 (NOK, as Vipps sent it)",
					body.Amounts.Authorized, body.Express.ShippingDetails.ShippingCost, tt.authorized)
			}
		})
	}
}
