package web

import (
	"fmt"
	"strings"
)

// The Vipps button of the demo shop and of the order page's "try again"
// (Config.VippsButton) is one of two:
//
//   - "library": Vipps' own button, the vipps-mobilepay-button web
//     component of Vipps' button generator, loaded from Vipps
//     (vippsButtonScript; never copied here), which keeps the button as
//     Vipps draws it now. The page also has the builtin button below, shown
//     until static/vipps-button.js sees the component defined, and for
//     good where the script cannot load (no network, blocked, JavaScript
//     off); a click on Vipps' button sends the form as the builtin one
//     would.
//   - "builtin" (the default): only the builtin button, a real
//     <button type=submit>, kept to Vipps' rules for any button: an
//     approved verb, "Vipps" in white on Vipps orange, no hover effect, as
//     tall as the page's other buttons (48 px) and full width on phones.
//     Its pages load nothing from outside, so that tests and offline demos
//     never reach the internet.
//
// vipps serve picks "library" against Vipps and "builtin" with the
// in-process simulator, unless -vipps-button says otherwise.
// templates/DESIGN.md says which of Vipps' rules each element follows.

// The button modes (Config.VippsButton).
const (
	ButtonBuiltin = "builtin"
	ButtonLibrary = "library"
)

// ParseVippsButton reads a button mode: "library" or "builtin" (also "" for
// builtin). It is what vipps serve -vipps-button takes.
func ParseVippsButton(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", ButtonBuiltin:
		return ButtonBuiltin, nil
	case ButtonLibrary:
		return ButtonLibrary, nil
	}
	return "", fmt.Errorf("vipps button %q is not one the pages draw; use library (Vipps' own, loaded from Vipps) or builtin", s)
}

// vippsButtonScript is Vipps' button library, as Vipps' design guidelines
// give it (developer.vippsmobilepay.com, "Buttons"): it defines the
// vipps-mobilepay-button element.
const vippsButtonScript = "https://checkout.vipps.no/checkout-button/v1/vipps-checkout-button.js"

// cspButton is the Content-Security-Policy of a page that shows Vipps'
// button library: cspPage, with the service's own vipps-button.js and the
// library's origin for the script and for what a drawn button may load
// (its style sheet, font and logo). Nothing may connect anywhere, and no
// inline script or style is allowed. Pages without the button keep
// cspPage.
const cspButton = "default-src 'none'; script-src 'self' https://checkout.vipps.no; " +
	"style-src 'self' https://checkout.vipps.no; font-src https://checkout.vipps.no; " +
	"img-src 'self' https://checkout.vipps.no; base-uri 'none'; frame-ancestors 'none'"

// library reports whether the pages show Vipps' button library.
func (s *Server) library() bool { return s.cfg.VippsButton == ButtonLibrary }

// buttonCSP is the policy of a page that shows a Vipps button.
func (s *Server) buttonCSP() string {
	if s.library() {
		return cspButton
	}
	return cspPage
}

// vippsButton is one Vipps button: the data of the "vipps-button"
// template (layout.html).
type vippsButton struct {
	// Library adds Vipps' own button (see above).
	Library bool
	// Express says "Buy now with Vipps", the wording of Vipps' express
	// checkout button; else "Pay with Vipps".
	Express bool
	// Lang is the page's language: the library's language attribute.
	Lang lang
	// Name and Value are the builtin button's, sent with the form; Name
	// "" for none.
	Name, Value string
}

// Script is the address of Vipps' button library, which the page loads
// for this button; "" for none.
func (b vippsButton) Script() string {
	if b.Library {
		return vippsButtonScript
	}
	return ""
}

// LibraryLang is the library's language attribute: "no" or "en".
func (b vippsButton) LibraryLang() string {
	if b.Lang == langNB {
		return "no"
	}
	return "en"
}

// Verb is the library's verb attribute: "buy" for express checkout (the
// library's "Kjøp nå med Vipps" / "Buy now with Vipps"), else "pay".
func (b vippsButton) Verb() string {
	if b.Express {
		return "buy"
	}
	return "pay"
}
