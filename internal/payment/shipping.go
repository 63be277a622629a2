package payment

import (
	"encoding/json"

	"github.com/vippskit/vipps"
)

// ShippingCharge says whether Vipps reserved an express payment's shipping
// cost on top of the amount the payment was initiated with. Vipps does not
// document which it does (reference §8.6 item 4, §14 item 29), so the
// service tells from what it knows: the amount initiated (the INITIATE
// entry of Vipps' log) and the amount reserved (RESERVE or SALE).
type ShippingCharge string

const (
	// ShippingAdded: reserved == initiated + cost, with a cost above 0:
	// the shipping cost was added on top, and is part of what the
	// customer approved.
	ShippingAdded ShippingCharge = "added"
	// ShippingNotAdded: reserved == initiated: nothing was added; the
	// shop's own amount stands (and must include the shipping if the
	// shop wants it paid). Also a free option (cost 0).
	ShippingNotAdded ShippingCharge = "notAdded"
	// ShippingUnknown: the service does not know the initiated amount
	// (Vipps' log has no INITIATE entry it has seen), or the reservation
	// is neither of the two.
	ShippingUnknown ShippingCharge = "unknown"
)

// Shipping is the shipping an express checkout's customer chose in Vipps,
// in the service's own terms: the cost in øre (Vipps sends NOK), and
// whether it was charged on top.
type Shipping struct {
	Method   string
	MethodID string
	Cost     vipps.Amount
	Charge   ShippingCharge
}

// ShippingOf is p's express shipping, or nil when p has none: not an
// express payment, not approved, or the customer removed the consent to
// share it. Its Charge needs p's facts (Store.Get fills them).
func ShippingOf(p *Payment) *Shipping {
	if p.Kind != Express || len(p.Shipping) == 0 {
		return nil
	}
	var x ExpressDetails
	if json.Unmarshal(p.Shipping, &x) != nil || x.Shipping == nil {
		return nil
	}
	sd := x.Shipping
	s := &Shipping{Method: sd.ShippingMethod, MethodID: sd.ShippingMethodID, Cost: sd.ShippingCost.Amount()}
	var initiated, reserved vipps.Amount
	for _, f := range p.Facts {
		switch {
		case !f.Success:
		case f.Operation == vipps.OperationInitiate:
			initiated = f.Amount
		case f.Operation == vipps.OperationReserve || f.Operation == vipps.OperationSale:
			reserved = max(reserved, f.Amount)
		}
	}
	s.Charge = ChargeOf(initiated, reserved, s.Cost)
	return s
}

// ChargeOf decides whether a shipping cost was reserved on top of the
// initiated amount: see [ShippingCharge]. An amount of 0 is one not known.
func ChargeOf(initiated, reserved, cost vipps.Amount) ShippingCharge {
	switch {
	case initiated <= 0 || reserved <= 0:
		return ShippingUnknown
	case cost > 0 && reserved == initiated+cost:
		return ShippingAdded
	case reserved == initiated:
		return ShippingNotAdded
	}
	return ShippingUnknown
}
