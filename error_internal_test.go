package vipps

import "testing"

// TestCustomerTextsInBothLanguages checks that every error a customer is
// told about in English has its own bokmål text, and no more.
func TestCustomerTextsInBothLanguages(t *testing.T) {
	for k, en := range customerText {
		nb, ok := customerTextNB[k]
		if !ok || nb == en {
			t.Errorf("%s %s: no bokmål customer text", k.group, k.code)
		}
		e := &Error{Group: k.group, Code: k.code}
		if got := e.CustomerMessageIn("no"); got != nb {
			t.Errorf("%s %s: CustomerMessageIn(no) = %q, want %q", k.group, k.code, got, nb)
		}
		if got := e.CustomerMessage(); got != en {
			t.Errorf("%s %s: CustomerMessage() = %q, want %q", k.group, k.code, got, en)
		}
	}
	if len(customerTextNB) != len(customerText) {
		t.Errorf("%d bokmål customer texts for %d English ones", len(customerTextNB), len(customerText))
	}
	if got := (&Error{Group: GroupMerchant, Code: "35"}).CustomerMessageIn("nb"); got != genericCustomerTextNB {
		t.Errorf("generic bokmål text = %q", got)
	}
}
