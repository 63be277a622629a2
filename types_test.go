package vipps_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vippskit/vipps"
)

func TestAmount(t *testing.T) {
	for _, tt := range []struct {
		a    vipps.Amount
		want string
	}{{49900, "499.00 NOK"}, {5, "0.05 NOK"}, {-150, "-1.50 NOK"}, {0, "0.00 NOK"}} {
		if got := tt.a.String(); got != tt.want {
			t.Errorf("Amount(%d).String() = %q, want %q", tt.a, got, tt.want)
		}
	}
	for _, tt := range []struct {
		k    vipps.NOK
		want vipps.Amount
	}{{99, 9900}, {109.99, 10999}, {0.005, 1}, {1.15, 115}} {
		if got := tt.k.Amount(); got != tt.want {
			t.Errorf("NOK(%v).Amount() = %d, want %d", tt.k, got, tt.want)
		}
	}
}

func TestOrderIDValidate(t *testing.T) {
	for _, ok := range []vipps.OrderID{"a", "acme-shop-123-order123abc", vipps.OrderID(strings.Repeat("A", 50))} {
		if err := ok.Validate(); err != nil {
			t.Errorf("Validate(%q) = %v", ok, err)
		}
	}
	for _, bad := range []vipps.OrderID{"", "a_b", "ø", "a b", vipps.OrderID(strings.Repeat("A", 51))} {
		if err := bad.Validate(); err == nil {
			t.Errorf("Validate(%q) = nil, want an error", bad)
		}
	}
}

func TestNewOrderID(t *testing.T) {
	seen := map[vipps.OrderID]bool{}
	for range 1000 {
		id := vipps.NewOrderID("Acme Shop Øst!")
		if err := id.Validate(); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(id), "Acme-Shop-st-") {
			t.Fatalf("NewOrderID() = %q, want the sanitized prefix", id)
		}
		if seen[id] {
			t.Fatalf("NewOrderID() repeated %q", id)
		}
		seen[id] = true
		if err := id.Attempt(99).Validate(); err != nil {
			t.Fatalf("Attempt(99) of %q: %v", id, err)
		}
	}
	long := vipps.NewOrderID(strings.Repeat("x", 80))
	if len(long.Attempt(123)) > 50 || long.Attempt(123).Validate() != nil {
		t.Errorf("long prefix: %q attempt %q", long, long.Attempt(123))
	}
	if id := vipps.NewOrderID(""); len(id) != 19 || id.Validate() != nil {
		t.Errorf("NewOrderID(\"\") = %q", id)
	}
}

func TestOrderIDFor(t *testing.T) {
	id, err := vipps.OrderIDFor("acme-shop", "order 10042")
	if err != nil || id != "acme-shop-order-10042" {
		t.Fatalf("OrderIDFor() = %q, %v", id, err)
	}
	if got := id.Attempt(2); got != "acme-shop-order-10042--2" {
		t.Errorf("Attempt(2) = %q", got)
	}
	if got := id.Attempt(0); got != id {
		t.Errorf("Attempt(0) = %q", got)
	}
	if _, err := vipps.OrderIDFor("acme", "###"); err == nil {
		t.Error("OrderIDFor with no usable reference: no error")
	}
	if _, err := vipps.OrderIDFor("acme", strings.Repeat("9", 50)); err == nil {
		t.Error("OrderIDFor with a long reference: no error")
	}
}

func TestLenientDecoding(t *testing.T) {
	var cb vipps.TransactionCallback
	err := json.Unmarshal([]byte(`{"merchantSerialNumber":123456,"orderId":"o-1","transactionInfo":{"amount":20000,"status":"RESERVED","timeStamp":"2018-12-12T11:18:38.246","transactionId":"5001420062"},"unknown":{"x":1}}`), &cb)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2018, 12, 12, 11, 18, 38, 246e6, time.UTC)
	if cb.MerchantSerialNumber != "123456" || !cb.TransactionInfo.TimeStamp.Equal(want) || !cb.TransactionInfo.Status.Approved() || cb.Express() {
		t.Errorf("callback = %+v", cb)
	}
	for _, s := range []string{"2018-12-12T11:18:38.246Z", "2018-12-12T12:18:38.246+01:00", "2018-12-12T11:18:38.246"} {
		got, err := vipps.ParseTime(s)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	b, err := json.Marshal(vipps.Time{Time: want})
	if err != nil || string(b) != `"2018-12-12T11:18:38.246Z"` {
		t.Errorf("Time JSON = %s, %v", b, err)
	}
	var opt vipps.ShippingOption
	if err := json.Unmarshal([]byte(`{"isDefault":"Y","shippingCost":99.5}`), &opt); err != nil || !bool(opt.IsDefault) {
		t.Errorf("ShippingOption = %+v, %v", opt, err)
	}
	if err := json.Unmarshal([]byte(`{"isDefault":"maybe"}`), &opt); err == nil {
		t.Error(`isDefault "maybe" decoded without error`)
	}
	var req vipps.ShippingDetailsRequest
	if err := json.Unmarshal([]byte(`{"addressId":"3960","addressLine1":"Gate 1","addressLine2":null,"city":"OSLO","country":"NO","zipCode":"0154","addressType":"H"}`), &req); err != nil || req.AddressID != 3960 || req.PostCode != "0154" {
		t.Errorf("ShippingDetailsRequest = %+v, %v", req, err)
	}
	for _, s := range []vipps.CallbackStatus{vipps.CallbackRejected, vipps.CallbackReserveFailed, vipps.CallbackCancelled, vipps.CallbackSaleFailed} {
		if !s.Failed() || s.Approved() || !s.Known() {
			t.Errorf("%s: Failed %v Approved %v", s, s.Failed(), s.Approved())
		}
	}
	if vipps.CallbackStatus("NEW").Known() {
		t.Error("unknown status Known() = true")
	}
}
