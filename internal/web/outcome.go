package web

import (
	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

// outcome is what a customer is told about a payment, on the return page
// and on the demo shop's order page alike.
type outcome struct {
	// Key is approved, waiting, cancelled, failed or refunded: the
	// status endpoint's "outcome" and the page's CSS class.
	Key     string
	Heading string
	Text    string
	// Money is the payment's amounts that matter to the customer now, in
	// words: what was approved, charged, refunded and released.
	Money []moneyLine
	// Shipping is the express shipping the customer chose, with whether it
	// is in the amount; nil for none.
	Shipping *shippingLine
	// TryAgain reports whether the customer should be offered to pay
	// again: the payment failed or was cancelled before approval.
	TryAgain bool
}

// moneyLine is one labelled amount of an outcome.
type moneyLine struct {
	Label  string
	Amount string
}

// outcomeOf says in l where p is, in words a customer understands. It
// follows p.State and p.Amounts only: after a partial capture, a partial
// refund and a release it says what was charged, refunded and released,
// never the amount first approved as if it had all been taken.
func outcomeOf(l lang, p *payment.Payment) outcome {
	a := p.Amounts
	kr := vipps.Amount.Kroner
	// released is what was reserved and will never be charged.
	released := max(a.Authorized-a.Captured-a.RemainingToCapture, 0)
	reached := func(key, heading, text string) outcome {
		o := outcome{Key: key, Heading: heading, Text: text, Shipping: shippingOf(l, payment.ShippingOf(p))}
		o.Money = append(o.Money, moneyLine{l.T("Approved in Vipps"), kr(a.Authorized)})
		if a.Captured > 0 {
			o.Money = append(o.Money, moneyLine{l.T("Charged"), kr(a.Captured)})
		}
		if a.Refunded > 0 {
			o.Money = append(o.Money, moneyLine{l.T("Refunded to you"), kr(a.Refunded)})
		}
		if a.RemainingToCapture > 0 && a.Captured > 0 {
			o.Money = append(o.Money, moneyLine{l.T("Still reserved"), kr(a.RemainingToCapture)})
		}
		if released > 0 {
			o.Money = append(o.Money, moneyLine{l.T("Released (not charged)"), kr(released)})
		}
		return o
	}
	amount := []moneyLine{{l.T("Amount"), kr(a.Authorized)}}
	switch p.State {
	case payment.Reserved:
		if a.Captured == 0 {
			return reached("approved", l.T("Payment approved in Vipps — thank you"),
				l.F("%s is reserved with Vipps. You are charged when the shop sends your order.", kr(a.Authorized)))
		}
		text := l.F("You have been charged %s with Vipps so far; %s is still reserved and is charged when the rest of your order is sent.",
			kr(a.Captured), kr(a.RemainingToCapture))
		if a.Refunded > 0 {
			text += " " + l.F("%s has been refunded to you.", kr(a.Refunded))
		}
		return reached("approved", l.T("Paid with Vipps — thank you"), text)
	case payment.Captured:
		text := l.F("You paid %s with Vipps.", kr(a.Captured))
		if a.Refunded > 0 {
			text = l.F("You paid %s with Vipps, and %s of it has been refunded to you.", kr(a.Captured), kr(a.Refunded))
		}
		if released > 0 {
			text += " " + l.F("The remaining %s was released: you are not charged for it.", kr(released))
		}
		return reached("approved", l.T("Paid with Vipps — thank you"), text)
	case payment.Refunded:
		text := l.F("The %s you paid with Vipps has been refunded to you in full.", kr(a.Refunded))
		if released > 0 {
			text += " " + l.F("The remaining %s was released and never charged.", kr(released))
		}
		return reached("refunded", l.T("Payment refunded"), text)
	case payment.Voided:
		return reached("cancelled", l.T("Payment cancelled — not charged"),
			l.F("The %s reserved with Vipps was released. You have not been charged.", kr(released)))
	case payment.Cancelled:
		return outcome{Key: "cancelled", Heading: l.T("Payment cancelled"),
			Text:  l.T("The payment with Vipps was cancelled. No money has been taken."),
			Money: amount, TryAgain: true}
	case payment.Failed:
		text := p.LastError.CustomerMessageIn(string(l))
		if text == "" {
			text = l.T("The payment could not be completed. No money has been taken. Please try again, or choose another payment method.")
		}
		return outcome{Key: "failed", Heading: l.T("Payment with Vipps failed"), Text: text, Money: amount, TryAgain: true}
	}
	return outcome{Key: "waiting", Heading: l.T("Waiting for Vipps…"),
		Text:  l.T("Approve the payment in the Vipps app. This page updates by itself."),
		Money: amount}
}

// shippingLine is an express customer's shipping, as the confirmation
// pages show it: "Posten: 49,00 kr (included in the amount above)".
type shippingLine struct {
	Method string
	Cost   string
	// Note says whether the cost is in the amount approved; "" when the
	// service cannot tell, or the shipping is free.
	Note string
}

// shippingOf is s in l; nil for no shipping. See payment.ShippingCharge.
func shippingOf(l lang, s *payment.Shipping) *shippingLine {
	if s == nil {
		return nil
	}
	v := &shippingLine{Method: s.Method, Cost: s.Cost.Kroner()}
	switch {
	case s.Cost == 0:
	case s.Charge == payment.ShippingAdded:
		v.Note = l.T("included in the amount above")
	case s.Charge == payment.ShippingNotAdded:
		v.Note = l.T("not added to the amount above")
	}
	return v
}

// orderFacts is what both confirmation pages say to identify a payment,
// under the same labels: the shop's order reference and Vipps' orderId.
type orderFacts struct {
	ShopRef string
	OrderID vipps.OrderID
	What    string // the transaction text
}

func orderFactsOf(p *payment.Payment) orderFacts {
	return orderFacts{ShopRef: p.ShopRef, OrderID: p.OrderID, What: p.Text}
}
