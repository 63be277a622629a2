package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps"
)

func TestAmountValue(t *testing.T) {
	for _, tt := range []struct {
		flag    string // "amount" or "nok"
		in      string
		want    vipps.Amount
		wantErr string
	}{
		{flag: "amount", in: "49900", want: 49900},
		{flag: "amount", in: "0", want: 0},
		{flag: "amount", in: "499.00", wantErr: "for kroner use -nok"},
		{flag: "amount", in: "499,5", wantErr: "for kroner use -nok"},
		{flag: "amount", in: "-100", wantErr: "negative"},
		{flag: "amount", in: "abc", wantErr: "not a whole number"},
		{flag: "amount", in: "1e5", wantErr: "not a whole number"},

		{flag: "nok", in: "499", want: 49900},
		{flag: "nok", in: "499.00", want: 49900},
		{flag: "nok", in: "499,50", want: 49950},
		{flag: "nok", in: "499.5", want: 49950},
		{flag: "nok", in: "0.01", want: 1},
		{flag: "nok", in: "0", want: 0},
		{flag: "nok", in: "1 000", want: 100000},
		{flag: "nok", in: "1 299,50", want: 129950},
		{flag: "nok", in: "1\u00a0299,50 kr", want: 129950},
		{flag: "nok", in: "1,000", wantErr: `"1,000" is not kroner`},
		{flag: "nok", in: "1.000", wantErr: `"1.000" is not kroner`},
		{flag: "nok", in: "499.005", wantErr: "not kroner"},
		{flag: "nok", in: "-1", wantErr: "not kroner"},
		{flag: "nok", in: "+1", wantErr: "not kroner"},
		{flag: "nok", in: "1e3", wantErr: "not kroner"},
		{flag: "nok", in: "10 00", wantErr: "not kroner"},
		{flag: "nok", in: "", wantErr: "not kroner"},
		{flag: "nok", in: ".5", wantErr: "not kroner"},
		{flag: "nok", in: "99999999999999999999", wantErr: "too large"},
	} {
		t.Run(tt.flag+"="+tt.in, func(t *testing.T) {
			v := amountValue{kroner: tt.flag == "nok"}
			err := v.Set(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("-%s %q: Set = %v, value %v, want error containing %q", tt.flag, tt.in, err, v.a, tt.wantErr)
				}
				return
			}
			if err != nil || v.a != tt.want || !v.set {
				t.Fatalf("-%s %q: Set = %v, value %v, want %v", tt.flag, tt.in, err, v.a, tt.want)
			}
		})
	}
}

func TestAmountFlags(t *testing.T) {
	for _, tt := range []struct {
		name    string
		args    []string
		want    vipps.Amount
		wantOK  bool
		wantErr string
	}{
		{name: "none", args: nil},
		{name: "øre", args: []string{"-amount", "100"}, want: 100, wantOK: true},
		{name: "kroner", args: []string{"-nok", "1,50"}, want: 150, wantOK: true},
		{name: "both", args: []string{"-amount", "100", "-nok", "1"}, wantErr: "not both"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v := newVerb(&env{getenv: func(string) string { return "" }}, "test", "", "")
			a := defineAmount(v, "amount")
			if _, err := v.parse(tt.args); err != nil {
				t.Fatal(err)
			}
			got, ok, err := a.get()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("get() = %v, %v, %v, want error containing %q", got, ok, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want || ok != tt.wantOK {
				t.Fatalf("get() = %v, %v, %v, want %v, %v", got, ok, err, tt.want, tt.wantOK)
			}
		})
	}
}

func TestShippingValue(t *testing.T) {
	var s shippingValue
	for _, in := range []string{"pickup:Pick up in store:0", "posten:Posten: Servicepakke:49,90"} {
		if err := s.Set(in); err != nil {
			t.Fatalf("Set(%q) = %v", in, err)
		}
	}
	want := []vipps.ShippingOption{
		{IsDefault: true, Priority: 0, ShippingCost: 0, ShippingMethod: "Pick up in store", ShippingMethodID: "pickup"},
		{IsDefault: false, Priority: 1, ShippingCost: 49.9, ShippingMethod: "Posten: Servicepakke", ShippingMethodID: "posten"},
	}
	if diff := cmp.Diff(want, s.opts); diff != "" {
		t.Errorf("options (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"", "posten", "posten:49", ":Posten:49", "posten::49", "posten:Posten:49.999", "posten:Posten:-1"} {
		if err := new(shippingValue).Set(bad); err == nil {
			t.Errorf("Set(%q) = nil, want an error", bad)
		}
	}
}

func TestLineValue(t *testing.T) {
	var l lineValue
	for _, in := range []string{"sku-1:Socks: red:24900:25", "food:Bread:3000:15", "free:Sticker:0:0"} {
		if err := l.Set(in); err != nil {
			t.Fatalf("Set(%q) = %v", in, err)
		}
	}
	want := []vipps.OrderLine{
		{ID: "sku-1", Name: "Socks: red", TotalAmount: 24900, TotalAmountExcludingTax: 19920, TotalTaxAmount: 4980, TaxPercentage: 25},
		{ID: "food", Name: "Bread", TotalAmount: 3000, TotalAmountExcludingTax: 2609, TotalTaxAmount: 391, TaxPercentage: 15},
		{ID: "free", Name: "Sticker"},
	}
	if diff := cmp.Diff(want, l.lines); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"", "sku", "sku:Socks:100", ":Socks:100:25", "sku::100:25", "sku:Socks:1.00:25", "sku:Socks:100:101", "sku:Socks:100:x"} {
		if err := new(lineValue).Set(bad); err == nil {
			t.Errorf("Set(%q) = nil, want an error", bad)
		}
	}
}
