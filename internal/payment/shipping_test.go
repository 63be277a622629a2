package payment_test

import (
	"testing"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

func TestChargeOf(t *testing.T) {
	for _, tt := range []struct {
		name                      string
		initiated, reserved, cost vipps.Amount
		want                      payment.ShippingCharge
	}{
		{"added on top", 149_00, 198_00, 49_00, payment.ShippingAdded},
		{"not added", 149_00, 149_00, 49_00, payment.ShippingNotAdded},
		{"free shipping", 149_00, 149_00, 0, payment.ShippingNotAdded},
		{"initiated not known", 0, 198_00, 49_00, payment.ShippingUnknown},
		{"not reserved", 149_00, 0, 49_00, payment.ShippingUnknown},
		{"neither", 149_00, 150_00, 49_00, payment.ShippingUnknown},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := payment.ChargeOf(tt.initiated, tt.reserved, tt.cost); got != tt.want {
				t.Errorf("ChargeOf(%d, %d, %d) = %q, want %q", tt.initiated, tt.reserved, tt.cost, got, tt.want)
			}
		})
	}
}
