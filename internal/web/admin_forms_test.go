package web

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

// TestAdminConfirm: a refund of everything and a cancel act only from the
// confirmation page's form, which carries the form's key, so that
// confirming twice acts once.
func TestAdminConfirm(t *testing.T) {
	e := newAdminEnv(t)

	t.Run("refund everything", func(t *testing.T) {
		id := e.reserve(t, 246900)
		if kind, msg := e.submit(t, id, "/capture", nil); kind != adminOK {
			t.Fatalf("capture = %s %q", kind, msg)
		}
		form := e.form(t, id, "/refund")
		form.Set("text", "Returned")
		status, page, _ := e.send(t, "POST", adminPaymentURL(id)+"/refund", form)
		if status != http.StatusOK || !strings.Contains(page, "Refund 2\u00a0469,00\u00a0kr to the customer?") || !strings.Contains(page, "This cannot be undone.") {
			t.Fatalf("first POST of a refund of everything = %d, want a page that asks to confirm it\n%s", status, page)
		}
		if got := e.simSummary(t, id); got[1] != 0 {
			t.Fatalf("simulator refunded %d before the refund was confirmed", got[1])
		}
		if !strings.Contains(page, `<a class="admin-button-link" href="`+adminPaymentURL(id)+`">Go back</a>`) {
			t.Errorf("the confirmation page has no way back to the payment")
		}
		confirm := adminForms(page)[adminPaymentURL(id)+"/refund"]
		if confirm.Get("key") != form.Get("key") || confirm.Get("text") != "Returned" || confirm.Get("confirm") == "" || confirm.Get("csrf") == "" {
			t.Fatalf("confirmation form = %v, want the form's key %q and text, confirm and a csrf token", confirm, form.Get("key"))
		}
		// Without its CSRF token, the confirmation is refused too.
		noCSRF := url.Values{"key": confirm["key"], "confirm": {"1"}}
		if status, _, _ := e.send(t, "POST", adminPaymentURL(id)+"/refund", noCSRF); status != http.StatusForbidden {
			t.Errorf("confirmation without a CSRF token = %d, want 403", status)
		}
		kind, msg := e.post(t, adminPaymentURL(id)+"/refund", confirm)
		if kind != adminOK || !strings.HasPrefix(msg, "Refunded 2\u00a0469,00\u00a0kr to the customer.") {
			t.Errorf("confirmed refund = %s %q, want ok", kind, msg)
		}
		// Confirmed twice (a double click, the back button): done once.
		kind, msg = e.post(t, adminPaymentURL(id)+"/refund", confirm)
		if kind != adminOK || !strings.HasPrefix(msg, "This form was sent before, so nothing was done twice.") {
			t.Errorf("the confirmation again = %s %q, want ok, sent before", kind, msg)
		}
		if got, want := e.simSummary(t, id), [3]vipps.Amount{246900, 246900, 0}; got != want {
			t.Errorf("simulator summary = %v, want %v", got, want)
		}
		if n := len(e.simRequests(id, "refund")); n != 1 {
			t.Errorf("simulator got %d refunds, want 1", n)
		}
	})

	t.Run("a typed amount goes straight through", func(t *testing.T) {
		id := e.reserve(t, 10000)
		if kind, msg := e.submit(t, id, "/capture", nil); kind != adminOK {
			t.Fatalf("capture = %s %q", kind, msg)
		}
		form := e.form(t, id, "/refund")
		form.Set("amount", "10")
		status, body, _ := e.send(t, "POST", adminPaymentURL(id)+"/refund", form)
		if status != http.StatusSeeOther {
			t.Errorf("refund of a typed amount = %d, want 303 without a confirmation\n%s", status, body)
		}
	})

	for _, tt := range []struct {
		name     string
		captured string // "" for none
		wait     bool
		question string
		state    payment.State
	}{
		{"cancel a waiting payment", "", true, "Cancel the payment of 100,00\u00a0kr, so that the customer can no longer approve it?", payment.Cancelled},
		{"cancel a reservation", "", false, "Cancel the payment and release the 100,00\u00a0kr reserved for the customer?", payment.Voided},
		{"release the rest", "30", false, "Release the 70,00\u00a0kr still reserved for the customer?", payment.Captured},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var id vipps.OrderID
			if tt.wait {
				id = e.create(t, 10000, "", false)
			} else {
				id = e.reserve(t, 10000)
			}
			if tt.captured != "" {
				if kind, msg := e.submit(t, id, "/capture", url.Values{"amount": {tt.captured}}); kind != adminOK {
					t.Fatalf("capture = %s %q", kind, msg)
				}
			}
			form := e.form(t, id, "/cancel")
			status, page, _ := e.send(t, "POST", adminPaymentURL(id)+"/cancel", form)
			if status != http.StatusOK || !strings.Contains(page, html.EscapeString(tt.question)) {
				t.Fatalf("first POST of the cancel = %d, want a page asking %q\n%s", status, tt.question, page)
			}
			if ops, _ := e.svc.Operations(context.Background(), id); len(ops) != map[bool]int{true: 1, false: 0}[tt.captured != ""] {
				t.Fatalf("operations before the confirmation = %d, want none new", len(ops))
			}
			confirm := adminForms(page)[adminPaymentURL(id)+"/cancel"]
			if confirm.Get("key") != form.Get("key") || (confirm.Get("release") != "") != (tt.captured != "") {
				t.Errorf("confirmation form = %v, want the form's key, and release only after a capture", confirm)
			}
			if kind, msg := e.post(t, adminPaymentURL(id)+"/cancel", confirm); kind != adminOK {
				t.Errorf("confirmed cancel = %s %q, want ok", kind, msg)
			}
			if kind, msg := e.post(t, adminPaymentURL(id)+"/cancel", confirm); kind != adminOK || !strings.Contains(msg, "sent before") {
				t.Errorf("the confirmation again = %s %q, want ok, sent before", kind, msg)
			}
			if p := e.stored(t, id); p.State != tt.state {
				t.Errorf("state = %s, want %s", p.State, tt.state)
			}
			if n := len(e.simRequests(id, "cancel")); n != 1 {
				t.Errorf("simulator got %d cancels, want 1", n)
			}
		})
	}
}

// testReceipt is a receipt of 2 469,00 kr: two coffees, a cheese by
// weight and shipping.
func testReceipt() *vipps.Receipt {
	return &vipps.Receipt{OrderLines: []vipps.OrderLine{
		{Name: "Kaffe Java", ID: "kaffe-1", TotalAmount: 129000, TotalAmountExcludingTax: 103200, TotalTaxAmount: 25800, TaxPercentage: 25,
			UnitInfo: &vipps.UnitInfo{UnitPrice: 64500, Quantity: "2"}},
		{Name: "Ost", ID: "ost", TotalAmount: 113000, TotalAmountExcludingTax: 100000, TotalTaxAmount: 13000, TaxPercentage: 13,
			UnitInfo: &vipps.UnitInfo{UnitPrice: 226000, Quantity: "0.5", QuantityUnit: "KG"}},
		{Name: "Frakt", ID: "frakt", TotalAmount: 4900, TotalAmountExcludingTax: 3920, TotalTaxAmount: 980, TaxPercentage: 25, IsShipping: true},
	}, BottomLine: vipps.BottomLine{ReceiptNumber: "K-7"}}
}

// reserveWithReceipt makes a payment of testReceipt that the customer
// approved.
func (e *adminEnv) reserveWithReceipt(t *testing.T) vipps.OrderID {
	t.Helper()
	p, err := e.svc.Create(context.Background(), payment.CreateRequest{
		Amount: 246900, Text: "Kaffe og ost", ReturnURL: "https://shop.example/done", Receipt: testReceipt(),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.in(t).approve(p.OrderID)
	return p.OrderID
}

// TestAdminLines: capture and refund by receipt line. The amount follows
// from the stored receipt, never from the form; a line gives no more than
// is left of it; the history says which lines.
func TestAdminLines(t *testing.T) {
	e := newAdminEnv(t)
	id := e.reserveWithReceipt(t)

	page := e.get(t, adminPaymentURL(id))
	for _, in := range []struct{ id, max string }{{"capture-line-0", "2"}, {"capture-line-1", "1"}, {"capture-line-2", "1"}} {
		el := adminInput(page, in.id)
		if el == "" || !strings.Contains(el, `max="`+in.max+`"`) || !strings.Contains(el, `value="0"`) {
			t.Errorf("capture form's #%s = %q, want a quantity input of 0..%s", in.id, el, in.max)
		}
		if !strings.Contains(page, `<label for="`+in.id+`">`) {
			t.Errorf("capture form's #%s has no label", in.id)
		}
	}

	// A tampered amount is ignored: the lines decide.
	form := e.form(t, id, "/capture")
	form.Set("line-0", "1")
	form.Set("line-2", "1")
	form.Set("amount", "1")
	kind, msg := e.post(t, adminPaymentURL(id)+"/capture", form)
	if want := "Captured 694,00\u00a0kr (1 × Kaffe Java, 1 × Frakt)."; kind != adminOK || msg != want {
		t.Errorf("capture by lines = %s %q, want ok %q", kind, msg, want)
	}
	if got := e.simSummary(t, id); got[0] != 69400 {
		t.Errorf("simulator captured %d øre, want 69400 (645,00 + 49,00 kr)", got[0])
	}

	t.Run("more than is left of a line", func(t *testing.T) {
		f := e.form(t, id, "/capture")
		f.Set("line-0", "2") // one of two is captured
		f.Set("text", "Rest of the coffee")
		page := e.refused(t, adminPaymentURL(id)+"/capture", f, http.StatusBadRequest)
		in := adminInput(page, "capture-line-0")
		if !strings.Contains(in, `aria-invalid="true"`) || !strings.Contains(in, `value="2"`) || !strings.Contains(in, `max="1"`) {
			t.Errorf("capture of 2 of the 1 coffee left: #capture-line-0 = %s, want it marked, with 2 as typed and max 1", in)
		}
		if !strings.Contains(page, "2 is more than the 1 left of this line.") || !strings.Contains(page, `<a href="#capture-line-0">`) {
			t.Errorf("capture of 2 of the 1 coffee left: the page does not say so, or does not link to the line")
		}
		if got, _ := adminInputValue(page, "capture-text"); got != "Rest of the coffee" {
			t.Errorf("the text field = %q, want it as typed", got)
		}
		// Frakt is captured in full: no input for it.
		if adminInput(page, "capture-line-2") != "" {
			t.Errorf("the capture form offers the shipping line, which is captured")
		}
	})
	for name, q := range map[string]string{"negative": "-1", "not a number": "to", "too long": "1000000"} {
		t.Run(name, func(t *testing.T) {
			f := e.form(t, id, "/capture")
			f.Set("line-1", q)
			page := e.refused(t, adminPaymentURL(id)+"/capture", f, http.StatusBadRequest)
			if in := adminInput(page, "capture-line-1"); !strings.Contains(in, `aria-invalid="true"`) {
				t.Errorf("quantity %q: #capture-line-1 = %s, want it marked", q, in)
			}
		})
	}
	if got := e.simSummary(t, id); got[0] != 69400 {
		t.Errorf("simulator captured %d øre after refused forms, want 69400", got[0])
	}

	// The rest by lines: the last coffee costs what is left of the line.
	kind, msg = e.submit(t, id, "/capture", url.Values{"line-0": {"1"}, "line-1": {"1"}})
	if want := "Captured 1\u00a0775,00\u00a0kr (1 × Kaffe Java, 1 × Ost)."; kind != adminOK || msg != want {
		t.Errorf("capture of the rest by lines = %s %q, want ok %q", kind, msg, want)
	}
	// Refund a coffee by line, then more coffee than was captured.
	kind, msg = e.submit(t, id, "/refund", url.Values{"line-0": {"1"}})
	if kind != adminOK || !strings.HasPrefix(msg, "Refunded 645,00\u00a0kr (1 × Kaffe Java) to the customer.") {
		t.Errorf("refund by line = %s %q, want ok", kind, msg)
	}
	f := e.form(t, id, "/refund")
	f.Set("line-0", "2")
	e.refused(t, adminPaymentURL(id)+"/refund", f, http.StatusBadRequest)
	if got, want := e.simSummary(t, id), [3]vipps.Amount{246900, 64500, 0}; got != want {
		t.Errorf("simulator summary = %v, want %v", got, want)
	}

	page = e.get(t, adminPaymentURL(id))
	for _, want := range []string{"Capture: 1 × Kaffe Java, 1 × Frakt (request id ", "Refund: 1 × Kaffe Java (request id "} {
		if !strings.Contains(page, want) {
			t.Errorf("the history lacks %q", want)
		}
	}
}

// TestAdminPaymentPageBokmal: the payment page, its refusals and its
// confirmation speak bokmål to a browser that asks for it.
func TestAdminPaymentPageBokmal(t *testing.T) {
	e := newAdminEnv(t)
	id := e.reserveWithReceipt(t)
	nb := func(method, path string, form url.Values) (int, string) {
		t.Helper()
		status, body, _ := e.sendWith(t, method, path, form, http.Header{"Accept-Language": {"nb-NO,nb;q=0.9,en;q=0.5"}})
		return status, body
	}
	status, page := nb("GET", adminPaymentURL(id), nil)
	if status != http.StatusOK {
		t.Fatalf("GET = %d", status)
	}
	for _, want := range []string{
		`<html lang="nb">`, "Betaling " + string(id), "Reservert", "Hva du kan gjøre", "Trekk beløp", "Per kvitteringslinje",
		"Kanseller og frigi", "Sjekk med Vipps nå", "Kvittering K-7", "Historikk", "Kunden har godkjent", "2 av 2 igjen, 645,00\u00a0kr per stk.",
		"Kunden godkjente; beløpet er reservert", "2\u00a0469,00\u00a0kr",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page in bokmål lacks %q", want)
		}
	}
	// ">History<": the Vipps exchanges show transactionLogHistory.
	for _, english := range []string{"What you can do", "Capture money", ">History<", "Left to capture"} {
		if strings.Contains(page, english) {
			t.Errorf("the page in bokmål says %q", english)
		}
	}

	form := adminForms(page)[adminPaymentURL(id)+"/capture"]
	form.Set("amount", "mye")
	status, page = nb("POST", adminPaymentURL(id)+"/capture", form)
	if status != http.StatusBadRequest || !strings.Contains(page, "Ingenting ble gjort") || !strings.Contains(page, "er ikke et beløp i kroner") {
		t.Errorf("refused capture in bokmål = %d, want 400 in bokmål\n%s", status, page)
	}

	form = adminForms(page)[adminPaymentURL(id)+"/cancel"]
	status, page = nb("POST", adminPaymentURL(id)+"/cancel", form)
	if status != http.StatusOK || !strings.Contains(page, "Kansellere betalingen og frigi de 2\u00a0469,00\u00a0kr som er reservert for kunden?") ||
		!strings.Contains(page, ">Bekreft</button>") || !strings.Contains(page, ">Gå tilbake</a>") {
		t.Errorf("cancel confirmation in bokmål = %d\n%s", status, page)
	}
}
