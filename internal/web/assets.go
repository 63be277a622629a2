package web

import (
	"embed"
	"html/template"
)

//go:embed templates/*.html
var templateFS embed.FS

// staticFS holds static/...: served as /static/... .
//
//go:embed static
var staticFS embed.FS

// templates holds every page; each page file defines a template named after
// the file and uses "top" and "bottom" from layout.html.
var templates = template.Must(template.New("").ParseFS(templateFS, "templates/*.html"))

// page is the data every page template gets, embedded in its own.
type page struct {
	Title       string
	Environment string
	// CSRF is the form token, for pages with forms.
	CSRF string
	// Staff is who is signed in, on admin pages; nil elsewhere.
	Staff *staffBar
}
