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

// TestMerchantTextsInBothLanguages checks that every error staff are told
// about in English has its own bokmål text, and the fallbacks too.
func TestMerchantTextsInBothLanguages(t *testing.T) {
	for k, en := range merchantText {
		nb, ok := merchantTextNB[k]
		if !ok || nb == en {
			t.Errorf("%s %s: no bokmål merchant text", k.group, k.code)
		}
		if got := (&Error{Group: k.group, Code: k.code}).MerchantMessageIn("nb"); got != nb {
			t.Errorf("%s %s: MerchantMessageIn(nb) = %q, want %q", k.group, k.code, got, nb)
		}
	}
	if len(merchantTextNB) != len(merchantText) {
		t.Errorf("%d bokmål merchant texts for %d English ones", len(merchantTextNB), len(merchantText))
	}
	for _, e := range []*Error{
		{Group: GroupInvalidRequest, Code: "transaction.amount", Message: "must be at least 100"},
		{StatusCode: 401},
		{StatusCode: 429},
		{StatusCode: 503},
		{StatusCode: 400},
	} {
		en, nb := e.MerchantMessage(), e.MerchantMessageIn("nb")
		if en == nb || en == "" || nb == "" {
			t.Errorf("%+v: English %q and bokmål %q", e, en, nb)
		}
	}
	if e := (&Error{StatusCode: 400, Message: "Vipps' own words"}); e.MerchantMessageIn("nb") != "Vipps' own words" {
		t.Errorf("Vipps' own message = %q, want it passed on", e.MerchantMessageIn("nb"))
	}
}
