package web

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/internal/staff"
)

// Staff sign in at /admin/login with their own account (package staff);
// the session's token is in a cookie (sessionCookie) and only its hash in
// the database, so that every replica knows the session. Each admin route
// names the least role that may use it (adminRoutes in routes.go), and
// requireStaff enforces it before anything else runs.

// sessionCookie is the name of the admin session's cookie.
const sessionCookie = "vippskit_admin"

// adminLoginPath is the sign-in page.
const adminLoginPath = "/admin/login"

// adminNameMax is the longest user name the sign-in form reads, in bytes.
const adminNameMax = 256

// signedIn is the member of staff a request comes from.
type signedIn struct {
	Account *staff.Account
	Session *staff.Session
}

type signedInKey struct{}

// staffOf returns who signed in the request, or nil outside requireStaff.
func staffOf(ctx context.Context) *signedIn {
	si, _ := ctx.Value(signedInKey{}).(*signedIn)
	return si
}

// adminHeaders sets the headers every admin page gets: not cached, not
// framed, no referrer to other sites.
func adminHeaders(w http.ResponseWriter) {
	hd := w.Header()
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Content-Security-Policy", adminCSP)
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("X-Content-Type-Options", "nosniff")
}

// requireStaff serves h to a signed-in member of staff whose role is least
// or above, with who it is in the context (staffOf) and as the actor of the
// changes h makes (payment.WithActor). Without a session, a GET is sent to
// the sign-in page (which comes back here), anything else is refused with
// 401; a role below least is refused with 403. Either refusal is a page
// that says what to do.
func (s *Server) requireStaff(least staff.Role, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		adminHeaders(w)
		var token string
		if c, err := r.Cookie(sessionCookie); err == nil {
			token = c.Value
		}
		a, se, err := s.cfg.Staff.Session(r.Context(), token)
		switch {
		case errors.Is(err, staff.ErrNoSession):
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, adminLoginPath+"?"+url.Values{"next": {r.URL.RequestURI()}}.Encode(), http.StatusSeeOther)
				return
			}
			s.adminDenied(w, r, http.StatusUnauthorized, s.lang(r).T("You are not signed in, or your session has ended, so nothing was done. Sign in and try again."))
			return
		case err != nil:
			s.adminFail(w, r, "", err)
			return
		case !a.Role.May(least):
			l := s.lang(r)
			s.adminDenied(w, r, http.StatusForbidden, l.F("Your role, %s, may not do this; nothing was done. Ask an administrator if you need it.", l.T(staffRoleLabel(a.Role))))
			return
		}
		ctx := context.WithValue(r.Context(), signedInKey{}, &signedIn{Account: a, Session: se})
		h(w, r.WithContext(payment.WithActor(ctx, payment.Staff(a.Name))))
	}
}

// adminDenied answers a refused admin request with a page that says why
// and links to what to do.
func (s *Server) adminDenied(w http.ResponseWriter, r *http.Request, status int, msg string) {
	l := s.lang(r)
	m := messageView{page: s.adminPage(r, "", l.T("Not allowed")+" · vippskit admin"), Text: msg, Link: "/admin/", LinkText: l.T("All payments")}
	if status == http.StatusUnauthorized {
		m.Title, m.Link, m.LinkText = l.T("Sign in")+" · vippskit admin", adminLoginPath, l.T("Sign in")
	}
	s.writePage(w, r, status, "message", &m)
}

// adminPage is the frame of an admin page for the request: its title, its
// place in the menu (nav; see "admin-nav" in layout.html), the form token
// of the session and who is signed in (writePage adds the environment and
// the language).
func (s *Server) adminPage(r *http.Request, nav, title string) page {
	p := page{Title: title, Nav: nav}
	if si := staffOf(r.Context()); si != nil {
		p.CSRF = s.csrfToken(s.formScope(r))
		p.Staff = &staffBar{Name: si.Account.Name, Role: s.lang(r).T(staffRoleLabel(si.Account.Role)),
			Admin: si.Account.Role == staff.Admin, Operator: si.Account.Role.May(staff.Operator)}
	}
	return p
}

// staffBar is who is signed in, shown at the top of admin pages.
type staffBar struct {
	Name, Role string
	// Admin may manage staff; Operator may act on payments.
	Admin, Operator bool
}

// adminSessionScope is the CSRF scope of the forms of an admin session,
// known by the hash of its token.
func adminSessionScope(hash string) string { return "admin-session\x00" + hash }

// adminFormScope is the CSRF scope of a form under /admin/: the sign-in
// form's own, else the session's. Without a session it is one no token has.
func adminFormScope(r *http.Request) string {
	if r.URL.Path == adminLoginPath {
		return "admin-login"
	}
	if si := staffOf(r.Context()); si != nil {
		return adminSessionScope(si.Session.Hash)
	}
	return "admin-none\x00" + rand.Text()
}

// ---- sign-in ----

// adminLoginData is the data of admin_login.html.
type adminLoginData struct {
	page
	Name, Next string
	// Problem says why the last try was refused; SignedOut that the
	// browser signed out.
	Problem   string
	SignedOut bool
}

// adminLogin serves GET /admin/login: the sign-in form. A browser that is
// signed in already goes on to next.
func (s *Server) adminLogin(w http.ResponseWriter, r *http.Request) {
	adminHeaders(w)
	next := localNext(r.URL.Query().Get("next"))
	if c, err := r.Cookie(sessionCookie); err == nil {
		if _, _, err := s.cfg.Staff.Session(r.Context(), c.Value); err == nil {
			http.Redirect(w, r, next, http.StatusSeeOther)
			return
		}
	}
	s.loginPage(w, r, http.StatusOK, adminLoginData{Next: next, SignedOut: r.URL.Query().Has("out")})
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request, status int, d adminLoginData) {
	d.page = page{Title: s.lang(r).T("Sign in") + " · vippskit admin", CSRF: s.csrfToken(adminFormScope(r))}
	s.writePage(w, r, status, "admin_login.html", &d)
}

// adminLoginPost serves POST /admin/login (form fields name, password,
// next): it signs in and sends the browser on to next, a local admin
// path. Wrong sign-ins are limited (see adminLoginBurst) and logged at
// warn level, a few a minute (adminLoginLogFirst), with the address and
// the name given, never the password. A refusal keeps the name typed and
// says what was wrong, never whether the user exists.
func (s *Server) adminLoginPost(w http.ResponseWriter, r *http.Request) {
	adminHeaders(w)
	name, password := r.PostFormValue("name"), r.PostFormValue("password")
	d := adminLoginData{Name: clip(name, adminNameMax), Next: localNext(r.PostFormValue("next"))}
	now, who := s.now(), clientKey(r)
	s.flushLoginLog(r, now)
	if wait := s.logins.wait(who, now); wait > 0 {
		s.loginFailed(r, now, "", true)
		w.Header().Set("Retry-After", retryAfter(wait))
		d.Problem = s.lang(r).F("Too many wrong sign-ins. Wait %s seconds and try again.", retryAfter(wait))
		s.loginPage(w, r, http.StatusTooManyRequests, d)
		return
	}
	a, token, err := s.cfg.Staff.SignIn(r.Context(), name, password)
	switch {
	case errors.Is(err, staff.ErrSignIn):
		s.logins.take(who, now)
		s.loginFailed(r, now, name, false)
		d.Problem = s.lang(r).T("Wrong user name or password. Check them and try again; the password is case-sensitive.")
		if name == "" || password == "" {
			d.Problem = s.lang(r).T("Type both your user name and your password.")
		}
		s.loginPage(w, r, http.StatusUnauthorized, d)
		return
	case err != nil:
		s.adminFail(w, r, "", err)
		return
	}
	s.logins.trust(who, now, adminTrust)
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: token.Reveal(), Path: "/admin/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: overTLS(r),
	})
	s.log.InfoContext(r.Context(), "admin sign-in", "user", a.Name, "remote_addr", remoteHost(r))
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

// adminLogout serves POST /admin/logout: it ends the session and forgets
// the cookie.
func (s *Server) adminLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.cfg.Staff.SignOut(r.Context(), c.Value); err != nil {
			s.adminFail(w, r, "", err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Path: "/admin/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: overTLS(r)})
	http.Redirect(w, r, adminLoginPath+"?out=1", http.StatusSeeOther)
}

// overTLS reports whether the browser reached the service over TLS: here,
// or at a proxy in front that says so. (A false header only makes the
// cookie stricter.)
func overTLS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// localNext is where to go after signing in: next when it is a path of
// the admin on this site, else the list. Anything that could lead to
// another site ("//host", "/\host", a scheme) is refused.
func localNext(next string) string {
	const home = "/admin/"
	if next == "" || len(next) > 2000 || !strings.HasPrefix(next, home) || strings.ContainsAny(next, "\\\r\n\t\x00") {
		return home
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, home) ||
		strings.HasPrefix(u.Path, adminLoginPath) {
		return home
	}
	return u.RequestURI()
}
