package payment_test

import (
	"errors"
	"testing"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

func TestLinesAmount(t *testing.T) {
	r := &vipps.Receipt{OrderLines: []vipps.OrderLine{
		{Name: "Kaffe Java", TotalAmount: 10000, UnitInfo: &vipps.UnitInfo{UnitPrice: 3333, Quantity: "3"}},
		{Name: "Ost", TotalAmount: 4990, UnitInfo: &vipps.UnitInfo{UnitPrice: 19960, Quantity: "0.25", QuantityUnit: "KG"}},
		{Name: "Frakt", TotalAmount: 4900, IsShipping: true},
	}}
	none := payment.LineTally{Captured: map[int]int{}, Refunded: map[int]int{}, AllCapturesByLine: true}
	one := payment.LineTally{Captured: map[int]int{0: 1}, Refunded: map[int]int{}, AllCapturesByLine: true}
	two := payment.LineTally{Captured: map[int]int{0: 2}, Refunded: map[int]int{}, AllCapturesByLine: true}
	for _, tt := range []struct {
		name  string
		kind  payment.OpKind
		tally payment.LineTally
		picks []payment.LinePick
		want  vipps.Amount
		err   payment.RefusalReason // or "invalid"
	}{
		{"one unit", payment.OpCapture, none, []payment.LinePick{{Line: 0, Quantity: 1}}, 3333, ""},
		{"second unit", payment.OpCapture, one, []payment.LinePick{{Line: 0, Quantity: 1}}, 3333, ""},
		{"last unit takes the rest", payment.OpCapture, two, []payment.LinePick{{Line: 0, Quantity: 1}}, 3334, ""},
		{"whole lines", payment.OpCapture, none, []payment.LinePick{{Line: 1, Quantity: 1}, {Line: 2, Quantity: 1}, {Line: 0}}, 9890, ""},
		{"more than the line", payment.OpCapture, one, []payment.LinePick{{Line: 0, Quantity: 3}}, 0, payment.OverLine},
		{"a weight is one unit", payment.OpCapture, none, []payment.LinePick{{Line: 1, Quantity: 2}}, 0, payment.OverLine},
		{"refund only what was captured by line", payment.OpRefund, one, []payment.LinePick{{Line: 0, Quantity: 2}}, 0, payment.OverLine},
		{"no line", payment.OpCapture, none, []payment.LinePick{{Line: 3, Quantity: 1}}, 0, "invalid"},
		{"nothing picked", payment.OpCapture, none, []payment.LinePick{{Line: 0}}, 0, "invalid"},
		{"negative", payment.OpCapture, none, []payment.LinePick{{Line: 0, Quantity: -1}}, 0, "invalid"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := payment.LinesAmount(tt.kind, r, tt.tally, tt.picks)
			rf, isRefusal := errors.AsType[*payment.Refusal](err)
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("LinesAmount(%v) = %v", tt.picks, err)
			case tt.err == "invalid" && (!errors.Is(err, payment.ErrInvalid) || isRefusal):
				t.Fatalf("LinesAmount(%v) = %v, want ErrInvalid", tt.picks, err)
			case tt.err != "" && tt.err != "invalid" && (!isRefusal || rf.Reason != tt.err || !errors.Is(err, payment.ErrInvalid)):
				t.Fatalf("LinesAmount(%v) = %v, want a %s refusal", tt.picks, err, tt.err)
			}
			if got != tt.want {
				t.Errorf("LinesAmount(%v) = %d øre, want %d", tt.picks, got, tt.want)
			}
		})
	}
}
