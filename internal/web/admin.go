package web

import (
	"crypto/rand"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
	_ "time/tzdata" // staff read Oslo time even where the system has no zoneinfo
	"unicode/utf8"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

// The admin UI is for a merchant's customer-service staff: find any payment,
// see everything about it, and capture, refund, cancel or re-check it
// without the Vipps portal. Pages are server-rendered HTML that works
// without JavaScript; staff sign in with their own accounts, and each
// route needs a role (admin_auth.go); every form is CSRF-protected
// (s.forms, bound to the session) and carries an
// idempotency key made when the page was rendered, so that a double click
// or a resubmitted form never does anything twice.
//
// The admin renders what package payment decides: the forms it offers are
// the payment's Actions, and a refused form is told from the service's
// *payment.Refusal. admin_list.go is the list, admin_payment.go one
// payment's page, admin_forms.go what its forms do, admin_labels.go the
// words staff read.

// adminZone is the time zone staff read times in.
var adminZone = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Oslo")
	if err != nil { // cannot happen with time/tzdata
		panic(err)
	}
	return loc
}()

// adminCSP allows the admin pages their own style sheets and forms only.
const adminCSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Limits of wrong admin sign-ins (POST /admin/login). Each address may get the password wrong
// adminLoginBurst times, and then once a minute; all addresses together
// adminLoginGlobalBurst times, and then once every 5 seconds, except an
// address that signed in rightly in the last adminTrust. Past a limit the
// answer is 429 with Retry-After, whatever the password: a right one is
// refused too until the wait is over, so that the answer tells nothing.
const (
	adminLoginBurst       = 10
	adminLoginEvery       = time.Minute
	adminLoginGlobalBurst = 50
	adminLoginGlobalEvery = 5 * time.Second
	adminTrust            = 12 * time.Hour
	// maxLimitClients is how many addresses a limiter holds apart.
	maxLimitClients = 10_000
	// adminLoginLogFirst wrong sign-ins are logged one by one in each
	// adminLoginLogWindow; the rest are counted in one line after it.
	adminLoginLogFirst  = 5
	adminLoginLogWindow = time.Minute
)

// loginFailed logs a wrong sign-in (user is the name given), or one refused
// while the address waits (throttled), unless too many were logged in this
// window already.
func (s *Server) loginFailed(r *http.Request, now time.Time, user string, throttled bool) {
	gate := &s.loginLog
	if throttled {
		gate = &s.throttleLog
	}
	logIt, dropped := gate.pass(now)
	s.logDropped(r, throttled, dropped)
	if !logIt {
		return
	}
	if throttled {
		s.log.WarnContext(r.Context(), "admin sign-in refused: too many wrong ones", "remote_addr", remoteHost(r))
		return
	}
	s.log.WarnContext(r.Context(), "admin sign-in failed", "remote_addr", remoteHost(r), "user", clip(user, 64))
}

// flushLoginLog logs how many wrong sign-ins of a window that has ended
// were not logged one by one.
func (s *Server) flushLoginLog(r *http.Request, now time.Time) {
	s.logDropped(r, false, s.loginLog.flush(now))
	s.logDropped(r, true, s.throttleLog.flush(now))
}

func (s *Server) logDropped(r *http.Request, throttled bool, n int) {
	switch {
	case n == 0:
	case throttled:
		s.log.WarnContext(r.Context(), "admin sign-ins refused while throttled, not logged one by one", "count", n, "window", adminLoginLogWindow)
	default:
		s.log.WarnContext(r.Context(), "admin sign-ins failed, not logged one by one", "count", n, "window", adminLoginLogWindow)
	}
}

// clip shortens outside input to at most n bytes (on a rune boundary)
// before it goes into a log line or a message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// ---- flash messages ----

// Flash kinds: the outcome of a form, shown on the page it leads back to.
const (
	adminOK    = "ok"
	adminError = "error"
	// adminWarn: sent, and not yet answered.
	adminWarn = "warn"
)

// adminFlash is a message about the last form sent.
type adminFlash struct {
	Kind, Message string
}

// adminBack sends the browser back to the payment page (303) with a
// message in the query, signed for that payment and kind, so that a link
// from elsewhere cannot put words on the page, nor a message about one
// payment be shown on another's.
func (s *Server) adminBack(w http.ResponseWriter, r *http.Request, id vipps.OrderID, kind, msg string) {
	v := url.Values{"msg": {msg}, "kind": {kind}, "sig": {s.adminFlashMAC(id, kind, msg)}}
	http.Redirect(w, r, adminPaymentURL(id)+"?"+v.Encode(), http.StatusSeeOther)
}

func (s *Server) adminFlashMAC(id vipps.OrderID, kind, msg string) string {
	return s.csrfMAC("admin-flash", string(id)+"\x00"+kind+"\x00"+msg)
}

// adminFlashFrom reads the message of q on the page of payment id, if it is
// one of ours for that payment.
func (s *Server) adminFlashFrom(id vipps.OrderID, q url.Values) *adminFlash {
	msg, kind := q.Get("msg"), q.Get("kind")
	if msg == "" || !secretEqual(q.Get("sig"), vipps.Secret(s.adminFlashMAC(id, kind, msg))) {
		return nil
	}
	switch kind {
	case adminOK, adminError, adminWarn:
		return &adminFlash{Kind: kind, Message: msg}
	}
	return nil
}

// adminRefusal explains an error of a request about payment id that was
// refused or failed before Vipps answered, for staff: what happened first,
// then the detail, never a store's text. An internal error is logged, with
// the request id the message quotes.
func (s *Server) adminRefusal(r *http.Request, id vipps.OrderID, err error) string {
	l := s.lang(r)
	if rf, ok := errors.AsType[*payment.Refusal](err); ok {
		return adminRefused(l, rf) + " " + l.T("Nothing was done.")
	}
	detail := messageOf(err, id)
	if ve, ok := errors.AsType[*vipps.Error](err); ok && statusOf(err) != http.StatusInternalServerError {
		detail = ve.MerchantMessageIn(string(l))
	}
	switch statusOf(err) {
	case http.StatusBadRequest:
		return l.F("Nothing was done: %s", detail)
	case http.StatusNotFound:
		return l.F("Not found, so nothing was done (%s).", detail)
	case http.StatusConflict:
		switch {
		case errors.Is(err, payment.ErrIdempotencyMismatch):
			return l.T("This form was already used for a different request, so nothing was done. Reload the page and try again.")
		case errors.Is(err, payment.ErrState):
			return l.F("Not possible now: %s", detail)
		}
		return l.T("The payment changed while you were working on it; nothing was done. Reload the page and try again.")
	case http.StatusGatewayTimeout:
		return l.T("No answer in time. Reload the page in a minute to see whether it went through.")
	case http.StatusServiceUnavailable:
		s.log.WarnContext(r.Context(), "admin request failed", "path", r.URL.Path, "order_id", id, "err", err)
		return l.T("The payment service cannot use its database just now (a full disk, a restart or no connection). Send the form again in a minute: nothing is carried out twice.")
	case http.StatusUnprocessableEntity:
		return l.F("Vipps refused the request: %s", detail)
	case http.StatusBadGateway:
		return l.F("Vipps could not be reached or had a problem; try again in a few minutes (%s).", detail)
	}
	rid := requestID(r.Context())
	s.log.ErrorContext(r.Context(), "admin request failed", "path", r.URL.Path, "order_id", id, "request_id", rid, "err", err)
	return l.F("Something went wrong in the payment service; try again, or ask a developer to look at the log (request id %s).", rid)
}

// adminRefused says in kroner why the service refused an operation.
func adminRefused(l lang, r *payment.Refusal) string {
	state := strings.ToLower(l.T(adminStateLabel(r.State)))
	switch r.Reason {
	case payment.NotApproved:
		switch r.Op {
		case payment.OpCapture:
			return l.T("The customer has not approved the payment yet, so there is nothing to capture.")
		case payment.OpRefund:
			return l.T("The customer has not approved the payment yet, so there is nothing to refund.")
		}
		return l.T("The customer has not approved the payment yet.")
	case payment.NothingLeft:
		if r.Op == payment.OpRefund {
			return l.T("Nothing is captured that is not refunded already, so there is nothing to refund.")
		}
		return l.F("Nothing is left to capture (the payment is %s).", state)
	case payment.OverLimit:
		if r.Op == payment.OpRefund {
			return l.F("%s is more than the %s that can still be refunded.", r.Amount.Kroner(), r.Limit.Kroner())
		}
		return l.F("%s is more than the %s left to capture.", r.Amount.Kroner(), r.Limit.Kroner())
	case payment.OverLine:
		return l.F("%d is more than the %d left of this line.", r.Units, r.UnitsLeft)
	case payment.NeedsRelease:
		return l.F("%s was captured meanwhile: release the %s still reserved, or refund instead.", r.Captured.Kroner(), r.Limit.Kroner())
	case payment.Ended:
		return l.F("A payment that is %s cannot be cancelled.", state)
	}
	return l.F("%s is not possible now (the payment is %s).", l.T(adminOpLabel(r.Op)), state)
}

// adminReason is what an error says: in Vipps' words for the merchant when
// Vipps refused, else messageOf's.
func adminReason(err error, id vipps.OrderID) string {
	if ve, ok := errors.AsType[*vipps.Error](err); ok {
		return ve.MerchantMessage() + adminErrorRef(string(ve.Group), string(ve.Code), ve.ContextID)
	}
	return messageOf(err, id)
}

// ---- helpers ----

// adminPaymentURL is the page of a payment.
func adminPaymentURL(id vipps.OrderID) string {
	return "/admin/payments/" + url.PathEscape(string(id))
}

// adminKey makes an idempotency key for one rendering of a form.
func adminKey() string { return "admin-" + rand.Text() }

// adminTime formats t in Oslo time: "24.11.2026 13:05" (with seconds when
// exact), or "" for the zero time.
func adminTime(t time.Time, exact bool) string {
	if t.IsZero() {
		return ""
	}
	if exact {
		return t.In(adminZone).Format("02.01.2006 15:04:05")
	}
	return t.In(adminZone).Format("02.01.2006 15:04")
}

// adminISO is t for a <time datetime>, in UTC.
func adminISO(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// adminErrorData is the data of admin_error.html.
type adminErrorData struct {
	page
	Status  int
	Message string
}

// adminFail shows an error page with the status of err.
func (s *Server) adminFail(w http.ResponseWriter, r *http.Request, id vipps.OrderID, err error) {
	status := statusOf(err)
	msg := s.adminRefusal(r, id, err)
	l := s.lang(r)
	title := l.T("Something went wrong")
	if status == http.StatusNotFound {
		msg = l.T("There is no payment with that orderId. Search for it in the list.")
		title = l.T("Not found")
	}
	s.writePage(w, r, status, "admin_error.html", &adminErrorData{
		page:   s.adminPage(r, "", title+" · vippskit admin"),
		Status: status, Message: msg,
	})
}
