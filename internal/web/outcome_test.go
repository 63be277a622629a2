package web

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps/internal/payment"
)

func TestOutcomeOf(t *testing.T) {
	tests := []struct {
		name  string
		state payment.State
		a     payment.Amounts
		want  outcome
	}{
		{
			name: "reserved", state: payment.Reserved,
			a: payment.Amounts{Authorized: 2469_00, RemainingToCapture: 2469_00},
			want: outcome{Key: "approved", Heading: "Payment approved in Vipps — thank you",
				Text:  "2\u00a0469,00\u00a0kr is reserved with Vipps. You are charged when the shop sends your order.",
				Money: []moneyLine{{"Approved in Vipps", "2\u00a0469,00\u00a0kr"}}},
		},
		{
			name: "partly captured", state: payment.Reserved,
			a: payment.Amounts{Authorized: 2469_00, Captured: 1000_00, RemainingToCapture: 1469_00, RemainingToRefund: 1000_00},
			want: outcome{Key: "approved", Heading: "Paid with Vipps — thank you",
				Text:  "You have been charged 1\u00a0000,00\u00a0kr with Vipps so far; 1\u00a0469,00\u00a0kr is still reserved and is charged when the rest of your order is sent.",
				Money: []moneyLine{{"Approved in Vipps", "2\u00a0469,00\u00a0kr"}, {"Charged", "1\u00a0000,00\u00a0kr"}, {"Still reserved", "1\u00a0469,00\u00a0kr"}}},
		},
		{
			name: "captured", state: payment.Captured,
			a: payment.Amounts{Authorized: 2469_00, Captured: 2469_00, RemainingToRefund: 2469_00},
			want: outcome{Key: "approved", Heading: "Paid with Vipps — thank you",
				Text:  "You paid 2\u00a0469,00\u00a0kr with Vipps.",
				Money: []moneyLine{{"Approved in Vipps", "2\u00a0469,00\u00a0kr"}, {"Charged", "2\u00a0469,00\u00a0kr"}}},
		},
		{
			name: "partly captured, partly refunded, rest released", state: payment.Captured,
			a: payment.Amounts{Authorized: 2469_00, Captured: 1000_00, Refunded: 200_00, RemainingToRefund: 800_00},
			want: outcome{Key: "approved", Heading: "Paid with Vipps — thank you",
				Text: "You paid 1\u00a0000,00\u00a0kr with Vipps, and 200,00\u00a0kr of it has been refunded to you. The remaining 1\u00a0469,00\u00a0kr was released: you are not charged for it.",
				Money: []moneyLine{{"Approved in Vipps", "2\u00a0469,00\u00a0kr"}, {"Charged", "1\u00a0000,00\u00a0kr"},
					{"Refunded to you", "200,00\u00a0kr"}, {"Released (not charged)", "1\u00a0469,00\u00a0kr"}}},
		},
		{
			name: "refunded", state: payment.Refunded,
			a: payment.Amounts{Authorized: 2469_00, Captured: 2469_00, Refunded: 2469_00},
			want: outcome{Key: "refunded", Heading: "Payment refunded",
				Text:  "The 2\u00a0469,00\u00a0kr you paid with Vipps has been refunded to you in full.",
				Money: []moneyLine{{"Approved in Vipps", "2\u00a0469,00\u00a0kr"}, {"Charged", "2\u00a0469,00\u00a0kr"}, {"Refunded to you", "2\u00a0469,00\u00a0kr"}}},
		},
		{
			name: "voided", state: payment.Voided,
			a: payment.Amounts{Authorized: 2469_00},
			want: outcome{Key: "cancelled", Heading: "Payment cancelled — not charged",
				Text:  "The 2\u00a0469,00\u00a0kr reserved with Vipps was released. You have not been charged.",
				Money: []moneyLine{{"Approved in Vipps", "2\u00a0469,00\u00a0kr"}, {"Released (not charged)", "2\u00a0469,00\u00a0kr"}}},
		},
		{
			name: "cancelled", state: payment.Cancelled,
			a: payment.Amounts{Authorized: 149_00},
			want: outcome{Key: "cancelled", Heading: "Payment cancelled", Text: "The payment with Vipps was cancelled. No money has been taken.",
				Money: []moneyLine{{"Amount", "149,00\u00a0kr"}}, TryAgain: true},
		},
		{
			name: "failed", state: payment.Failed,
			a: payment.Amounts{Authorized: 149_00},
			want: outcome{Key: "failed", Heading: "Payment with Vipps failed",
				Text:  "The payment could not be completed. No money has been taken. Please try again, or choose another payment method.",
				Money: []moneyLine{{"Amount", "149,00\u00a0kr"}}, TryAgain: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := outcomeOf(langEN, &payment.Payment{State: tt.state, Amounts: tt.a})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("outcomeOf(%s, %+v) differs (-want +got):\n%s", tt.state, tt.a, diff)
			}
		})
	}
}

// TestConfirmationPagesFollowAmounts: after a partial capture, a partial
// refund and a release, the return page and the order page say what was
// charged, refunded and released, both under the same identifiers, and
// both say Vipps.
func TestConfirmationPagesFollowAmounts(t *testing.T) {
	e := newShopEnv(t)
	ctx := t.Context()
	p := e.buy(url.Values{"product": {"kaffekvern"}, "quantity": {"2"}, "kind": {"regular"}})
	if err := e.sim.Sim.Approve(p.OrderID, ""); err != nil {
		t.Fatal(err)
	}
	e.waitCallback(p.OrderID)
	for _, step := range []struct {
		name string
		do   func() error
	}{
		{"capture 1000 kr", func() error {
			_, err := e.svc.Capture(ctx, p.OrderID, payment.OpRequest{Amount: 1000_00})
			return err
		}},
		{"refund 200 kr", func() error {
			_, err := e.svc.Refund(ctx, p.OrderID, payment.OpRequest{Amount: 200_00})
			return err
		}},
		{"release the rest", func() error {
			_, err := e.svc.Cancel(ctx, p.OrderID, payment.OpRequest{ReleaseRemaining: true})
			return err
		}},
	} {
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
	}
	got, err := e.svc.Get(ctx, p.OrderID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != payment.Captured {
		t.Fatalf("after capture, refund and release the payment is %s %+v, want captured", got.State, got.Amounts)
	}
	want := []string{
		"Paid with Vipps — thank you",
		"You paid 1\u00a0000,00\u00a0kr with Vipps, and 200,00\u00a0kr of it has been refunded to you. The remaining 1\u00a0469,00\u00a0kr was released: you are not charged for it.",
		"<dt>Payment method</dt><dd>Vipps</dd>",
		"<dt>Order reference</dt><dd><code>" + p.ShopRef + "</code></dd>",
		"<dt>Vipps order ID</dt><dd class=\"order-id\"><code>" + string(p.OrderID) + "</code></dd>",
	}
	for _, page := range []struct{ name, path string }{
		{"the return page", e.svc.ReturnURL(p.OrderID)},
		{"the order page", "/shop/orders/" + p.ShopRef},
	} {
		res := e.get(page.path)
		if res.Status != http.StatusOK {
			t.Fatalf("GET %s = %d, want 200", page.name, res.Status)
		}
		mustContain(t, page.name, res.Body, want...)
		mustNotContain(t, page.name, res.Body, "We have your payment of", "Order "+p.ShopRef, "Order number")
	}
}

// TestFailedReturnPageTryAgain: the return page of a demo payment that did
// not go through (here the customer rejected it) sends the customer to the
// order page, whose button pays again. Failed payments: TestReturnPageOutcomes
// and TestBackToShop.
func TestFailedReturnPageTryAgain(t *testing.T) {
	e := newShopEnv(t)
	p := e.buy(url.Values{"product": {"kaffe-1kg"}, "quantity": {"1"}, "kind": {"regular"}})
	if err := e.sim.Sim.Reject(p.OrderID); err != nil {
		t.Fatal(err)
	}
	ret := e.get(e.svc.ReturnURL(p.OrderID))
	mustContain(t, "the return page of a rejected payment", ret.Body,
		`<a class="button" href="/shop/orders/`+p.ShopRef+`">Try again</a>`)
	order := e.get("/shop/orders/" + p.ShopRef)
	mustContain(t, "the order page of a rejected payment", order.Body, `action="/shop/buy"`, "Try again")
}
