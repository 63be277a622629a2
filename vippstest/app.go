package vippstest

import (
	"bytes"
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vippskit/vipps"
)

// This file is the browser "Vipps app": the landing page at the initiate
// url, the phone number step, and the app screen where the user approves or
// rejects (and, for express checkout, picks an address and a shipping
// option). It acts through the same state changes as the test hooks.

// appState is the simulator's state for the browser app, the calls it makes
// to merchants and the consents users gave. It lives in Simulator.app,
// guarded by Simulator.mu.
type appState struct {
	formKey         []byte        // keys the hidden form tokens; made on first use
	shippingTimeout time.Duration // 0 means shippingTimeout (10 s); tests shorten it
	sessions        map[*payment]*appSession
	shippingCalls   []ShippingCall
	consentRemovals []ConsentRemoval
	consents        map[expressConsentKey]time.Time // express consents, by user and merchant
	images          map[imageKey][]byte             // Order Management images, decoded
}

// appSession is what the browser app knows about one payment: who is
// paying and what they picked so far.
type appSession struct {
	phone      string // the number given on the landing page; "" before that
	address    int64  // the addressId picked; 0 before that
	option     string // the shippingMethodId picked
	fetchedFor int64  // the addressId options (or shipErr) are for
	options    []vipps.ShippingOption
	shipErr    string // what the app shows when the merchant gave no options
	shipReason string // why, for the developer
}

// landingLinkLife is how long the url from initiate can be used to start
// (per the reference, 5 minutes); after the phone number is given the user
// has until the 10-minute payment timeout.
const landingLinkLife = 5 * time.Minute

// maxForm bounds the body of the app's forms.
const maxForm = 16 << 10

//go:embed templates
var templateFS embed.FS

// pages are the app's templates by page name, each parsed with the layout.
var pages = parsePages("landing", "app", "outcome", "message", "history")

// appCSS is the style sheet every page links to.
var appCSS = must(fs.ReadFile(templateFS, "templates/app.css"))

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func parsePages(names ...string) map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, n := range names {
		out[n] = template.Must(template.New(n).ParseFS(templateFS, "templates/layout.html", "templates/"+n+".html"))
	}
	return out
}

// appRoutes registers the browser app, the history page and the parts of
// the control API that call merchants. Forms are refused when posted from
// another site (http.CrossOriginProtection) or without the page's hidden
// token.
func (s *Simulator) appRoutes(mux *http.ServeMux) {
	cop := http.NewCrossOriginProtection()
	post := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, cop.Handler(h)) }

	mux.HandleFunc("GET "+landingPath, s.appLanding)
	post("POST "+landingPath+"/phone", s.appPhone)
	post("POST "+landingPath+"/app", s.appAction)
	mux.HandleFunc("GET /_sim/static/app.css", serveCSS)

	mux.HandleFunc("GET /_sim/users/{phone}", s.historyPage)
	post("POST /_sim/users/{phone}/consents/remove", s.historyRemoveConsent)
	mux.HandleFunc("GET /_sim/images/{msn}/{imageId}", s.serveImage)

	ctl := func(pattern string, h func(*exchange) reply) {
		mux.Handle(pattern, cop.Handler(s.handle("", false, h)))
	}
	ctl("GET /_sim/shipping-calls", readOnly(func(x *exchange) reply { return jsonReply(http.StatusOK, nonNil(s.app.shippingCalls)) }))
	ctl("GET /_sim/consent-removals", readOnly(func(x *exchange) reply { return jsonReply(http.StatusOK, nonNil(s.app.consentRemovals)) }))
	post("POST /_sim/consents/{userId}/remove", s.ctlRemoveConsent)
}

// page is an answer of the browser app: a rendered template, or a 303.
type page struct {
	status   int
	name     string // template
	title    string
	data     any
	location string // 303 See Other when set
}

// pageView is what the layout template gets.
type pageView struct {
	Title string
	Body  any
}

// contentSecurityPolicy allows the app's own style sheet and images and
// nothing else; no page may be framed. There is no form-action: after a
// form the browser is redirected to the merchant's fallBack.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'"

func writePage(w http.ResponseWriter, pg page) {
	h := w.Header()
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("Referrer-Policy", "no-referrer") // the url carries the token
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if pg.location != "" {
		h.Set("Location", pg.location)
		w.WriteHeader(http.StatusSeeOther)
		return
	}
	var b bytes.Buffer
	if err := pages[pg.name].ExecuteTemplate(&b, "layout", pageView{pg.title, pg.data}); err != nil {
		http.Error(w, "vippstest: render "+pg.name+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(cmp.Or(pg.status, http.StatusOK))
	w.Write(b.Bytes())
}

func serveCSS(w http.ResponseWriter, r *http.Request) {
	serveBytes(w, "text/css; charset=utf-8", appCSS)
}

// serveBytes serves a file the simulator holds (the style sheet, an
// uploaded image): never sniffed as another type, revalidated on every use.
func serveBytes(w http.ResponseWriter, contentType string, data []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(data)
}

// messageView is a page with a title and a message.
type messageView struct {
	Title   string
	Message string
	Tone    string // "ok", "bad" or "wait"
}

func messagePage(status int, title, message string) page {
	return page{status: status, name: "message", title: title, data: messageView{title, message, "bad"}}
}

func noPaymentPage() page {
	return messagePage(http.StatusNotFound, "Payment not found", "No payment has this link. Check that you copied the whole link from the shop.")
}

func badFormPage() page {
	return messagePage(http.StatusForbidden, "Form refused", "This form was not sent from the page the simulator gave you, or the page is too old. Go back to the shop and start again.")
}

func landingURL(token string) string { return landingPath + "?v=2&token=" + url.QueryEscape(token) }

func historyURL(phone string) string { return "/_sim/users/" + phone }

// formTokenLocked is the hidden form token for subject: an HMAC under a
// key of the simulator's own, so only pages it served carry it.
func (s *Simulator) formTokenLocked(purpose, subject string) string {
	if s.app.formKey == nil {
		s.app.formKey = randomBytes(32)
	}
	m := hmac.New(sha256.New, s.app.formKey)
	m.Write([]byte(purpose + "\x00" + subject))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s *Simulator) formTokenOKLocked(purpose, subject, got string) bool {
	return hmac.Equal([]byte(s.formTokenLocked(purpose, subject)), []byte(got))
}

// parseForm reads a posted form of at most maxForm bytes.
func parseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		writePage(w, messagePage(http.StatusBadRequest, "Bad request", "The form could not be read: "+err.Error()))
		return false
	}
	return true
}

// lockSwept takes the lock and applies what is due; the caller unlocks.
func (s *Simulator) lockSwept() time.Time {
	s.mu.Lock()
	now := s.nowLocked()
	s.sweepLocked(now)
	return now
}

// sessionLocked returns p's browser session, making it on first use. With
// skipLandingPage the push goes straight to customerInfo.mobileNumber.
func (s *Simulator) sessionLocked(p *payment) *appSession {
	if s.app.sessions == nil {
		s.app.sessions = map[*payment]*appSession{}
	}
	sess := s.app.sessions[p]
	if sess == nil {
		sess = &appSession{}
		if p.order.skipLandingPage {
			sess.phone = p.order.mobileNumber
		}
		s.app.sessions[p] = sess
	}
	return sess
}

// appLanding serves GET {landingPath}?v=2&token=…: the landing page, the
// app screen, or the outcome, by the payment's state.
func (s *Simulator) appLanding(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	now := s.lockSwept()
	var pg page
	if p := s.byToken[token]; p == nil {
		pg = noPaymentPage()
	} else {
		pg = s.screenLocked(p, now, flash{})
	}
	s.mu.Unlock()
	writePage(w, pg)
}

// flash is what a failed form shows on the page it came from.
type flash struct {
	status     int
	phoneErr   string
	phoneValue string
	appErr     string
}

// screenLocked is the page for p in its current state.
func (s *Simulator) screenLocked(p *payment, now time.Time, f flash) page {
	if !p.waiting() {
		return s.outcomeLocked(p, "")
	}
	sess := s.sessionLocked(p)
	if sess.phone == "" {
		if now.Sub(p.initiatedAt) > landingLinkLife {
			return messagePage(http.StatusGone, "The link has expired",
				"Links to pay with Vipps are valid for 5 minutes. Go back to "+s.byMSN[p.msn].Name+" and start the payment again.")
		}
		return s.landingLocked(p, f)
	}
	return s.appScreenLocked(p, sess, f)
}

// paymentView is the payment card every page shows.
type paymentView struct {
	Merchant string
	Amount   string
	Text     string
	OrderID  string
}

func (s *Simulator) paymentViewLocked(p *payment) paymentView {
	return paymentView{Merchant: s.byMSN[p.msn].Name, Amount: p.amount.Kroner(), Text: p.text, OrderID: string(p.orderID)}
}

type landingView struct {
	Payment   paymentView
	Token     string
	FormToken string
	PhoneURL  string
	Phone     string
	Error     string
}

func (s *Simulator) landingLocked(p *payment, f flash) page {
	v := landingView{
		Payment:   s.paymentViewLocked(p),
		Token:     p.token,
		FormToken: s.formTokenLocked("app", p.token),
		PhoneURL:  landingPath + "/phone",
		Phone:     cmp.Or(f.phoneValue, p.order.mobileNumber),
		Error:     f.phoneErr,
	}
	return page{status: f.status, name: "landing", title: "Pay with Vipps", data: v}
}

type appView struct {
	Payment        paymentView
	Token          string
	FormToken      string
	ActionURL      string
	PhoneURL       string
	HistoryURL     string
	Name           string
	Phone          string
	CanChangePhone bool
	Error          string

	Express        bool
	Addresses      []addressView
	Options        []optionView
	NeedFetch      bool // the merchant has not been asked for this address
	CanRefetch     bool
	ShippingError  string
	ShippingReason string
	NeedConsent    bool
}

type addressView struct {
	ID       int64
	Label    string
	Line1    string
	Line2    string
	PostCode string
	City     string
	Checked  bool
}

type optionView struct {
	ID      string
	Method  string
	Cost    string
	Checked bool
}

func (s *Simulator) appScreenLocked(p *payment, sess *appSession, f flash) page {
	u := userFor(sess.phone)
	v := appView{
		Payment:        s.paymentViewLocked(p),
		Token:          p.token,
		FormToken:      s.formTokenLocked("app", p.token),
		ActionURL:      landingPath + "/app",
		PhoneURL:       landingPath + "/phone",
		HistoryURL:     historyURL(sess.phone),
		Name:           u.firstName + " " + u.lastName,
		Phone:          formatPhone(sess.phone),
		CanChangePhone: !p.order.skipLandingPage,
		Error:          f.appErr,
		Express:        p.order.express(),
	}
	if v.Express {
		sel := cmp.Or(sess.address, u.addresses()[0].id)
		for _, a := range u.addresses() {
			v.Addresses = append(v.Addresses, addressView{
				ID: a.id, Label: addressLabel(a.kind), Line1: a.AddressLine1, Line2: a.AddressLine2,
				PostCode: a.PostCode, City: a.City, Checked: a.id == sel,
			})
		}
		var opts []vipps.ShippingOption
		switch {
		case !p.dynamicShipping():
			opts = p.order.staticShipping
		case sess.fetchedFor == sel:
			opts = sess.options
			v.CanRefetch = true
			v.ShippingError, v.ShippingReason = sess.shipErr, sess.shipReason
		default:
			v.NeedFetch = true
		}
		chosen := sess.option
		if !slices.ContainsFunc(opts, func(o vipps.ShippingOption) bool { return o.ShippingMethodID == chosen }) {
			d, _ := defaultShipping(opts)
			chosen = d.ShippingMethodID
		}
		for _, o := range displayOrder(opts) {
			v.Options = append(v.Options, optionView{ID: o.ShippingMethodID, Method: o.ShippingMethod, Cost: o.ShippingCost.Amount().Kroner(), Checked: o.ShippingMethodID == chosen})
		}
		if len(v.Options) == 0 && !v.NeedFetch {
			v.NeedFetch = true // nothing to approve with: ask again
		}
		v.NeedConsent = !s.consentedLocked(u, p.msn)
	}
	return page{status: f.status, name: "app", title: "Vipps", data: v}
}

// displayOrder sorts options by priority, those without one last.
func displayOrder(opts []vipps.ShippingOption) []vipps.ShippingOption {
	out := slices.Clone(opts)
	slices.SortStableFunc(out, func(a, b vipps.ShippingOption) int {
		if (a.Priority == 0) != (b.Priority == 0) {
			if a.Priority == 0 {
				return 1
			}
			return -1
		}
		return cmp.Compare(a.Priority, b.Priority)
	})
	return out
}

func addressLabel(kind string) string {
	switch kind {
	case "H":
		return "Home"
	case "W":
		return "Work"
	}
	return "Other"
}

// appPhone serves POST {landingPath}/phone: the phone number step, and
// "use another number".
func (s *Simulator) appPhone(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	now := s.lockSwept()
	pg := s.phoneLocked(r.PostForm, now)
	s.mu.Unlock()
	writePage(w, pg)
}

func (s *Simulator) phoneLocked(form url.Values, now time.Time) page {
	token := form.Get("token")
	p := s.byToken[token]
	switch {
	case p == nil:
		return noPaymentPage()
	case !s.formTokenOKLocked("app", token, form.Get("ft")):
		return badFormPage()
	}
	back := page{location: landingURL(token)}
	if !p.waiting() {
		return back
	}
	sess := s.sessionLocked(p)
	if form.Get("action") == "change" {
		if !p.order.skipLandingPage {
			*sess = appSession{}
		}
		return back
	}
	if sess.phone != "" || now.Sub(p.initiatedAt) > landingLinkLife {
		return back
	}
	phone, ok := normalizePhone(form.Get("phone"))
	if !ok {
		return s.landingLocked(p, flash{status: http.StatusBadRequest, phoneErr: msgPhoneCustomer, phoneValue: form.Get("phone")})
	}
	sess.phone = phone
	return back
}

// normalizePhone accepts 8 digits, with spaces or hyphens and +47 or 0047
// in front, as Vipps repairs them.
func normalizePhone(s string) (string, bool) {
	r := strings.NewReplacer(" ", "", "-", "", "\u00a0", "").Replace(strings.TrimSpace(s))
	for _, cc := range []string{"+47", "0047"} {
		if len(r) == len(cc)+8 {
			r = strings.TrimPrefix(r, cc)
		}
	}
	return r, phonePattern.MatchString(r)
}

// pendingAsk is a shippingDetails call the app must make before it can
// show options.
type pendingAsk struct {
	shippingAsk
	phone string
}

// appAction serves POST {landingPath}/app: approve, reject, or (express
// with shippingDetailsPrefix) ask the merchant for the options of the
// picked address. The merchant is called without the lock.
func (s *Simulator) appAction(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	now := s.lockSwept()
	pg, ask := s.actionLocked(r.PostForm, now)
	s.mu.Unlock()
	if ask != nil {
		opts, err := s.askShipping(r.Context(), ask.shippingAsk)
		s.lockSwept()
		pg = s.shippingAnsweredLocked(r.PostForm.Get("token"), ask, opts, err)
		s.mu.Unlock()
	}
	writePage(w, pg)
}

func (s *Simulator) actionLocked(form url.Values, now time.Time) (page, *pendingAsk) {
	token := form.Get("token")
	p := s.byToken[token]
	switch {
	case p == nil:
		return noPaymentPage(), nil
	case !s.formTokenOKLocked("app", token, form.Get("ft")):
		return badFormPage(), nil
	}
	back := page{location: landingURL(token)}
	sess := s.sessionLocked(p)
	if !p.waiting() || sess.phone == "" {
		return back, nil
	}
	fail := func(msg string) (page, *pendingAsk) {
		return s.appScreenLocked(p, sess, flash{status: http.StatusBadRequest, appErr: msg}), nil
	}
	action := form.Get("action")
	switch action {
	case "reject":
		if err := s.rejectLocked(p, now); err != nil {
			return back, nil
		}
		return s.afterActionLocked(p), nil
	case "approve", "address":
	default:
		return fail("Choose Approve or Reject.")
	}
	if !p.order.express() {
		if action != "approve" {
			return back, nil
		}
		if err := s.approveLocked(p, sess.phone, now, false, nil); err != nil {
			return fail(err.Error())
		}
		return s.afterActionLocked(p), nil
	}

	u := userFor(sess.phone)
	id, _ := strconv.ParseInt(form.Get("address"), 10, 64)
	addr, ok := u.addressByID(id)
	if !ok {
		return fail("Choose a delivery address.")
	}
	sess.address = id
	if o := form.Get("shipping"); o != "" {
		sess.option = o
	}
	opts := p.order.staticShipping
	if p.dynamicShipping() {
		if action == "address" || sess.fetchedFor != id {
			return page{}, &pendingAsk{shippingAskFor(p, addr), sess.phone}
		}
		opts = sess.options
	}
	if action != "approve" {
		return back, nil
	}
	i := slices.IndexFunc(opts, func(o vipps.ShippingOption) bool { return o.ShippingMethodID == form.Get("shipping") })
	if i < 0 {
		return fail("Choose a shipping option.")
	}
	if !s.consentedLocked(u, p.msn) && form.Get("consent") != "yes" {
		return fail("To pay with express checkout, agree to share your name, email, phone number and address with " + s.byMSN[p.msn].Name + ".")
	}
	if err := s.approveLocked(p, sess.phone, now, false, &expressChoice{address: addr, option: opts[i]}); err != nil {
		return fail(err.Error())
	}
	return s.afterActionLocked(p), nil
}

// shippingAnsweredLocked stores what the merchant answered for the
// session, if the payment still waits for the same user, and sends the
// browser back to the app screen.
func (s *Simulator) shippingAnsweredLocked(token string, ask *pendingAsk, opts []vipps.ShippingOption, err error) page {
	p := s.byToken[token]
	if p == nil {
		return noPaymentPage()
	}
	sess := s.sessionLocked(p)
	if p.waiting() && sess.phone == ask.phone {
		sess.fetchedFor, sess.options, sess.shipErr, sess.shipReason = ask.address.id, opts, "", ""
		if se, ok := errors.AsType[*shippingError](err); ok {
			sess.shipErr, sess.shipReason = se.shown, se.reason
		}
	}
	return page{location: landingURL(token)}
}

// afterActionLocked is where the browser goes once the user has acted: to
// fallBack with a 303, or, when that cannot be a redirect (isApp, INTENT,
// an app's own scheme) or there is none (skipLandingPage), to a page.
func (s *Simulator) afterActionLocked(p *payment) page {
	fb := p.order.fallBack
	switch {
	case p.order.skipLandingPage, fb == "INTENT", p.order.isApp, !isWebURL(fb):
		return s.outcomeLocked(p, "")
	}
	return page{location: fb}
}

// outcomeView is the result page.
type outcomeView struct {
	Payment    paymentView
	Title      string
	Message    string
	Tone       string
	Note       string
	BackURL    template.URL
	BackText   string
	HistoryURL string
}

// outcomeLocked is the page for a payment the user no longer acts on.
func (s *Simulator) outcomeLocked(p *payment, note string) page {
	m := s.byMSN[p.msn]
	v := outcomeView{Payment: s.paymentViewLocked(p), Note: note}
	v.Title, v.Message, v.Tone = outcomeText(p, m.Name)
	if sess := s.app.sessions[p]; sess != nil && sess.phone != "" {
		v.HistoryURL = historyURL(sess.phone)
	} else if p.user != nil {
		v.HistoryURL = historyURL(p.user.phone)
	}
	fb := p.order.fallBack
	switch {
	case p.order.skipLandingPage:
		v.Note = cmp.Or(note, "There is no redirect after a payment with skipLandingPage: the app shows the result. You can close this page.")
	case fb == "INTENT":
		v.Note = cmp.Or(note, "The merchant's fallBack is INTENT: on Android, Vipps now closes and the merchant's app continues.")
	default:
		if link, ok := safeLink(fb); ok {
			v.BackURL, v.BackText = link, "Back to "+m.Name
			if p.order.isApp || !isWebURL(fb) {
				v.Note = cmp.Or(note, "Vipps now opens the merchant's app at "+fb+".")
			}
		}
	}
	return page{name: "outcome", title: v.Title, data: v}
}

// outcomeText describes the payment's state to the user.
func outcomeText(p *payment, merchant string) (title, message, tone string) {
	amount := p.amount.Kroner()
	switch p.phase {
	case phaseInitiated:
		if !p.pendingUntil.IsZero() {
			return "Waiting for the bank", "The bank has not answered yet. The result is known within an hour (test amount 2,01 kr).", "wait"
		}
		return "Waiting for you", "The payment waits for approval.", "wait"
	case phaseReserved:
		return "Payment approved", "You approved " + amount + " to " + merchant + ". The amount is reserved until the merchant captures it.", "ok"
	case phaseSale:
		return "Payment approved", "You paid " + amount + " to " + merchant + ".", "ok"
	case phaseUserCancelled:
		return "Payment rejected", "You rejected the payment. Nothing was charged.", "bad"
	case phaseTimedOut:
		return "Payment timed out", "Nobody approved the payment within 10 minutes. Nothing was charged.", "bad"
	case phaseFailed:
		return "Payment failed", "The bank refused the payment (a test amount). Nothing was charged.", "bad"
	case phaseCancelled, phaseVoided:
		return "Cancelled by the merchant", merchant + " cancelled the payment. Nothing was charged.", "bad"
	}
	return "Payment", p.phase.String(), "wait"
}

func isWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

var schemePattern = regexp.MustCompile(`^[a-z][a-z0-9+.-]*$`)

// safeLink returns fallBack as a link target: a web URL or an app's own
// scheme, never a scheme that runs code or embeds data.
func safeLink(s string) (template.URL, bool) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return "", false
	}
	switch sc := strings.ToLower(u.Scheme); {
	case sc == "javascript" || sc == "vbscript" || sc == "data" || sc == "file" || sc == "blob" || sc == "about":
		return "", false
	case !schemePattern.MatchString(sc):
		return "", false
	}
	return template.URL(u.String()), true
}

// formatPhone groups a Norwegian mobile number as "912 34 567".
func formatPhone(p string) string {
	if len(p) != 8 {
		return p
	}
	return p[:3] + "\u00a0" + p[3:5] + "\u00a0" + p[5:]
}
