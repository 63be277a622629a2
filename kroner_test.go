package vipps_test

import (
	"strings"
	"testing"

	"github.com/vippskit/vipps"
)

func TestAmountKroner(t *testing.T) {
	tests := []struct {
		in   vipps.Amount
		want string
	}{
		{0, "0,00\u00a0kr"},
		{5, "0,05\u00a0kr"},
		{12345, "123,45\u00a0kr"},
		{129900, "1\u00a0299,00\u00a0kr"},
		{100000000, "1\u00a0000\u00a0000,00\u00a0kr"},
		{-150, "-1,50\u00a0kr"},
	}
	for _, tt := range tests {
		if got := tt.in.Kroner(); got != tt.want {
			t.Errorf("Amount(%d).Kroner() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseKroner(t *testing.T) {
	tests := []struct {
		in      string
		want    vipps.Amount
		wantErr string
	}{
		{"123", 12300, ""},
		{"0", 0, ""},
		{"123,45", 12345, ""},
		{"123.45", 12345, ""},
		{"123,4", 12340, ""},
		{"0,01", 1, ""},
		{" 149,50 ", 14950, ""},
		{"1 234,50", 123450, ""},
		{"1\u00a0234,50", 123450, ""},
		{"1\u202f234,50", 123450, ""},
		{"12 345 678", 1234567800, ""},
		{"kr 149,50", 14950, ""},
		{"kr. 149,50", 14950, ""},
		{"149,50 kr", 14950, ""},
		{"1\u00a0299,00\u00a0kr", 129900, ""},
		{"149 NOK", 14900, ""},
		{"NOK 149", 14900, ""},
		{"149,-", 14900, ""},
		{"", 0, "no number"},
		{"  ", 0, "no number"},
		{"kr", 0, "no number"},
		{"-5", 0, "negative"},
		{"\u22125", 0, "negative"},
		{"-0,50", 0, "negative"},
		{"1,234", 0, "more than two decimals"},
		{"1,000", 0, "more than two decimals"},
		{"1.005", 0, "more than two decimals"},
		{"1.234,50", 0, "more than one decimal mark"},
		{"1,2,3", 0, "more than one decimal mark"},
		{"12,", 0, "write it like"},
		{",5", 0, "write it like"},
		{".5", 0, "write it like"},
		{"abc", 0, "write it like"},
		{"12a", 0, "write it like"},
		{"+5", 0, "write it like"},
		{"1e3", 0, "write it like"},
		{"12 34", 0, "write it like"},
		{"1234 567", 0, "write it like"},
		{"1  234", 0, "write it like"},
		{"999999999999", 99999999999900, ""},
		{"1000000000000", 0, "too large"},
		{"99999999999999999999999", 0, "too large"},
	}
	for _, tt := range tests {
		got, err := vipps.ParseKroner(tt.in)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("ParseKroner(%q) = %v, want %d", tt.in, err, tt.want)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("ParseKroner(%q) = %d, %v, want error containing %q", tt.in, got, err, tt.wantErr)
		case tt.wantErr != "" && !strings.Contains(err.Error(), "is not kroner"):
			t.Errorf("ParseKroner(%q) error %q does not say it is not kroner", tt.in, err)
		case err == nil && got != tt.want:
			t.Errorf("ParseKroner(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// FuzzParseKroner checks that whatever parses formats back to the same
// amount, and that nothing negative or absurd gets through.
func FuzzParseKroner(f *testing.F) {
	for _, s := range []string{"149", "149,50", "1 299,00 kr", "kr 1\u00a0234,5", "1,000", "-1", "149,-", "NOK 0.01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := vipps.ParseKroner(s)
		if err != nil {
			return
		}
		if a < 0 {
			t.Fatalf("ParseKroner(%q) = %d, negative", s, a)
		}
		back, err := vipps.ParseKroner(a.Kroner())
		if err != nil || back != a {
			t.Fatalf("ParseKroner(%q) = %d; ParseKroner(%q) = %d, %v", s, a, a.Kroner(), back, err)
		}
	})
}
