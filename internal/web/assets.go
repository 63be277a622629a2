package web

import (
	"embed"
	"net/url"
)

//go:embed templates/*.html
var templateFS embed.FS

// staticFS holds static/...: served as /static/... .
//
//go:embed static
var staticFS embed.FS

// Each page file in templates/ defines a template named after the file and
// uses "top" and "bottom" from layout.html; pageTemplates (i18n.go) holds
// them, once per language.

// page is the data every page template gets, embedded in its own.
type page struct {
	Title       string
	Environment string
	// CSRF is the form token, for pages with forms.
	CSRF string
	// Staff is who is signed in, on admin pages; nil elsewhere.
	Staff *staffBar
	// Nav is the admin page it is (see "admin-nav" in layout.html), and
	// NavAttention the count of what needs attention, where known.
	Nav, NavAttention string
	// Keep is the query the link to the page in the other language keeps:
	// only values the handler checked (such as the return page's token),
	// never the request's query as it came.
	Keep url.Values
	// Lang is the page's language and Switch the link to it in the other
	// one; writePage sets both.
	Lang   lang
	Switch *langSwitch
}

// base is the page of a page's data, for writePage.
func (p *page) base() *page { return p }

// pager is a page's data: a pointer to a struct that embeds page.
type pager interface{ base() *page }
