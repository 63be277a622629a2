package web

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

// maxFormBytes is the largest form body the service reads.
const maxFormBytes = 64 << 10

// forms guards a handler of POSTed HTML forms: it refuses cross-origin
// browser requests (http.CrossOriginProtection: Sec-Fetch-Site, else Origin
// against Host), reads at most 64 KiB, parses the form and checks its "csrf"
// field against the scope of the path: under /admin/ the admin session's
// (or the sign-in form's), "shop" elsewhere. A refused form gets a 403 page that says what to do.
func (s *Server) forms(h http.HandlerFunc) http.HandlerFunc {
	cop := http.NewCrossOriginProtection()
	return func(w http.ResponseWriter, r *http.Request) {
		l := s.lang(r)
		if err := cop.Check(r); err != nil {
			s.messagePage(w, r, http.StatusForbidden, messageView{
				page: page{Title: l.T("Form refused")},
				Text: l.T("This form was sent from another website, so it was not accepted. Open this site's own page and send the form from there."),
			})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			err = fmt.Errorf("%w: form: %w", payment.ErrInvalid, err)
			s.messagePage(w, r, statusOf(err), messageView{
				page: page{Title: l.T("Form not accepted")},
				Text: l.T("The form could not be read. Go back, reload the page and try again."),
			})
			return
		}
		if !s.csrfValid(r, s.formScope(r)) {
			s.messagePage(w, r, http.StatusForbidden, messageView{
				page: page{Title: l.T("The form has expired")},
				Text: l.T("For your safety, forms are valid for a limited time. Go back, reload the page and send the form again."),
			})
			return
		}
		h(w, r)
	}
}

// formScope is the CSRF token scope of a form posted to r's path, and of
// the page that shows it.
func (s *Server) formScope(r *http.Request) string {
	if strings.HasPrefix(r.URL.Path, "/admin/") {
		return adminFormScope(r)
	}
	return "shop"
}

// Content security policies of the customer's pages: nothing but the
// service's own style sheet and scripts. The shop page has no form-action,
// since its form is answered with a redirect to Vipps.
const (
	cspPage = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'"
	cspPoll = "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; connect-src 'self'; " +
		"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

// customerHeaders sets the headers of a customer's page: never cached (it
// holds a payment's state or a form token), no referrer (return page links
// carry a token), not framed, not indexed.
func customerHeaders(w http.ResponseWriter, csp string) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Robots-Tag", "noindex")
	h.Set("Content-Security-Policy", csp)
}

// writePage renders the template name with data, in r's language, and
// sends it with status. The page is rendered before anything is sent, so
// that a template error is a clean 500.
func (s *Server) writePage(w http.ResponseWriter, r *http.Request, status int, name string, data pager) {
	l := s.lang(r)
	p := data.base()
	p.Lang, p.Environment = l, s.cfg.Environment.text(l)
	if status < 400 { // an error page has no address of its own to offer
		p.Switch = switchFor(r, l, p.Keep)
	}
	var b bytes.Buffer
	if err := pageTemplates[l].ExecuteTemplate(&b, name, data); err != nil {
		s.log.Error("rendering a page failed", "template", name, "err", err)
		http.Error(w, l.T("Something went wrong on our side. Please try again."), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// messageView is the data of the "message" page (layout.html): a title, a text
// and an optional link.
type messageView struct {
	page
	Text     string
	Link     string
	LinkText string
}

// messagePage sends a page with one message, such as "not found" or "form
// refused".
func (s *Server) messagePage(w http.ResponseWriter, r *http.Request, status int, m messageView) {
	customerHeaders(w, cspPage)
	s.writePage(w, r, status, "message", &m)
}

// notFoundPage is the 404 of the customer's pages. It says nothing about
// what was looked for, so that guessing addresses teaches nothing.
func (s *Server) notFoundPage(w http.ResponseWriter, r *http.Request) {
	l := s.lang(r)
	m := messageView{
		page: page{Title: l.T("Page not found")},
		Text: l.T("There is nothing at this address. Check that you used the whole link."),
	}
	if s.cfg.DemoShop {
		m.Link, m.LinkText = "/", l.T("Go to the shop")
	}
	s.messagePage(w, r, http.StatusNotFound, m)
}

// customerError is what a customer is told about err: Vipps' own customer
// text for a Vipps refusal, else a plain text that says no money was taken.
func customerError(l lang, err error) string {
	if ve, ok := errors.AsType[*vipps.Error](err); ok {
		return ve.CustomerMessageIn(string(l))
	}
	switch {
	case errors.Is(err, payment.ErrState):
		return l.T("This order is paid already.")
	case errors.Is(err, vipps.ErrOutcomeUnknown), statusOf(err) == http.StatusGatewayTimeout:
		return l.T("We could not reach Vipps just now. No money has been taken. Please try again in a moment.")
	case errors.Is(err, payment.ErrUnavailable):
		return l.T("The shop cannot take payments just now. No money has been taken. Please try again in a few minutes.")
	}
	return l.T("Something went wrong on our side. No money has been taken. Please try again in a moment.")
}
