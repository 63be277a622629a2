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
	// TryAgain reports whether the customer should be offered to pay
	// again: the payment failed or was cancelled before approval.
	TryAgain bool
}

// moneyLine is one labelled amount of an outcome.
type moneyLine struct {
	Label  string
	Amount string
}

// outcomeOf says where p is in words a customer understands. It follows
// p.State and p.Amounts only: after a partial capture, a partial refund and
// a release it says what was charged, refunded and released, never the
// amount first approved as if it had all been taken.
func outcomeOf(p *payment.Payment) outcome {
	a := p.Amounts
	kr := vipps.Amount.Kroner
	// released is what was reserved and will never be charged.
	released := max(a.Authorized-a.Captured-a.RemainingToCapture, 0)
	reached := func(key, heading, text string) outcome {
		o := outcome{Key: key, Heading: heading, Text: text}
		o.Money = append(o.Money, moneyLine{"Approved in Vipps", kr(a.Authorized)})
		if a.Captured > 0 {
			o.Money = append(o.Money, moneyLine{"Charged", kr(a.Captured)})
		}
		if a.Refunded > 0 {
			o.Money = append(o.Money, moneyLine{"Refunded to you", kr(a.Refunded)})
		}
		if a.RemainingToCapture > 0 && a.Captured > 0 {
			o.Money = append(o.Money, moneyLine{"Still reserved", kr(a.RemainingToCapture)})
		}
		if released > 0 {
			o.Money = append(o.Money, moneyLine{"Released (not charged)", kr(released)})
		}
		return o
	}
	switch p.State {
	case payment.Reserved:
		if a.Captured == 0 {
			return reached("approved", "Payment approved in Vipps — thank you",
				kr(a.Authorized)+" is reserved with Vipps. You are charged when the shop sends your order.")
		}
		text := "You have been charged " + kr(a.Captured) + " with Vipps so far; " + kr(a.RemainingToCapture) + " is still reserved and is charged when the rest of your order is sent."
		if a.Refunded > 0 {
			text += " " + kr(a.Refunded) + " has been refunded to you."
		}
		return reached("approved", "Paid with Vipps — thank you", text)
	case payment.Captured:
		text := "You paid " + kr(a.Captured) + " with Vipps."
		if a.Refunded > 0 {
			text = "You paid " + kr(a.Captured) + " with Vipps, and " + kr(a.Refunded) + " of it has been refunded to you."
		}
		if released > 0 {
			text += " The remaining " + kr(released) + " was released: you are not charged for it."
		}
		return reached("approved", "Paid with Vipps — thank you", text)
	case payment.Refunded:
		text := "The " + kr(a.Refunded) + " you paid with Vipps has been refunded to you in full."
		if released > 0 {
			text += " The remaining " + kr(released) + " was released and never charged."
		}
		return reached("refunded", "Payment refunded", text)
	case payment.Voided:
		return reached("cancelled", "Payment cancelled — not charged",
			"The "+kr(released)+" reserved with Vipps was released. You have not been charged.")
	case payment.Cancelled:
		return outcome{Key: "cancelled", Heading: "Payment cancelled",
			Text:  "The payment with Vipps was cancelled. No money has been taken.",
			Money: []moneyLine{{"Amount", kr(a.Authorized)}}, TryAgain: true}
	case payment.Failed:
		text := p.LastError.CustomerMessage()
		if text == "" {
			text = "The payment could not be completed. No money has been taken. Please try again, or choose another payment method."
		}
		return outcome{Key: "failed", Heading: "Payment with Vipps failed", Text: text,
			Money: []moneyLine{{"Amount", kr(a.Authorized)}}, TryAgain: true}
	}
	return outcome{Key: "waiting", Heading: "Waiting for Vipps…",
		Text:  "Approve the payment in the Vipps app. This page updates by itself.",
		Money: []moneyLine{{"Amount", kr(a.Authorized)}}}
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
