package web

import (
	"crypto/hmac"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

// The demo shop (Config.DemoShop) lets a person try the whole flow in a
// browser: pick a product, pay with Vipps (or the simulator), come back to
// the return page, see the order. It is a client of payment.Service like any
// shop, through the same calls the API makes.

// product is a thing the demo shop sells.
type product struct {
	ID    string
	Name  string
	Price vipps.Amount // øre, VAT included
}

// products are the demo shop's goods; prices include 25% VAT.
var products = []product{
	{ID: "kaffe-1kg", Name: "Kaffe 1 kg", Price: 149_00},
	{ID: "kaffekopp", Name: "Kaffekopp", Price: 89_50},
	{ID: "kaffekvern", Name: "Kaffekvern", Price: 1234_50},
}

// maxQuantity is the most of one product the demo shop sells at once.
const maxQuantity = 10

// shopPhoneMax is the longest phone number the shop's form takes, in
// characters: "+47 912 34 567" with room to spare.
const shopPhoneMax = 30

// Limits of demo shop purchases (each one a payment at Vipps): each address
// may buy shopBuyBurst times, and then once every 30 seconds; all
// addresses together shopBuyGlobalBurst times, and then once every 10
// seconds. Past a limit the answer is 429 with Retry-After.
const (
	shopBuyBurst       = 10
	shopBuyEvery       = 30 * time.Second
	shopBuyGlobalBurst = 60
	shopBuyGlobalEvery = 10 * time.Second
)

// shopOrderCookieAge is how long a browser keeps the key to its demo order.
const shopOrderCookieAge = 30 * 24 * time.Hour

// A demo order belongs to the browser that placed it: shopBuy sets a
// cookie "order_<ref>" holding the order's key, an HMAC of the reference
// under the CSRF key, and the order page and "try again" act only for a
// browser that sends it. The reference alone (in the link, on the receipt
// in the Vipps app) shows nothing and changes nothing.

// orderKey is the key of demo order ref.
func (s *Server) orderKey(ref string) string { return s.csrfMAC("demo-order", ref) }

// holdsOrder reports whether the browser of r holds the key of demo order
// ref.
func (s *Server) holdsOrder(r *http.Request, ref string) bool {
	c, err := r.Cookie("order_" + ref)
	return err == nil && hmac.Equal([]byte(c.Value), []byte(s.orderKey(ref)))
}

// mayAct reports whether the browser of r may see and pay demo order ref;
// if not, it has answered: 404 for what is no demo reference, 403 for an
// order the browser does not hold.
func (s *Server) mayAct(w http.ResponseWriter, r *http.Request, ref string) bool {
	switch {
	case !demoRef(ref):
		s.notFoundPage(w, r)
		return false
	case !s.holdsOrder(r, ref):
		s.notYourOrder(w, r)
		return false
	}
	return true
}

// giveOrder gives the browser the key of demo order ref: HttpOnly, only
// sent to /shop/, SameSite=Lax (so that it comes along when Vipps sends
// the customer back), and Secure when the service is served over https.
func (s *Server) giveOrder(w http.ResponseWriter, r *http.Request, ref string) {
	http.SetCookie(w, &http.Cookie{
		Name: "order_" + ref, Value: s.orderKey(ref), Path: "/shop/",
		MaxAge: int(shopOrderCookieAge / time.Second), HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: r.TLS != nil || strings.HasPrefix(s.svc.PublicURL(), "https://"),
	})
}

// notYourOrder answers a request about a demo order from a browser that
// does not hold its key: 403, saying nothing about the order, not even
// whether it exists.
func (s *Server) notYourOrder(w http.ResponseWriter, r *http.Request) {
	l := s.lang(r)
	s.messagePage(w, r, http.StatusForbidden, messageView{
		page: page{Title: l.T("This order belongs to another browser")},
		Text: l.T("An order can only be seen and paid in the browser it was placed in. Open the link in that browser, or place a new order."),
		Link: "/", LinkText: l.T("Go to the shop"),
	})
}

// buyAllowed counts a purchase by r's address, or answers 429 and
// reports false when the address or everyone together is over the limit.
func (s *Server) buyAllowed(w http.ResponseWriter, r *http.Request, f shopForm) bool {
	now, who := s.now(), clientKey(r)
	if wait := s.shopBuys.wait(who, now); wait > 0 {
		w.Header().Set("Retry-After", retryAfter(wait))
		s.log.WarnContext(r.Context(), "demo shop: purchase refused: too many", "remote_addr", remoteHost(r))
		s.renderShop(w, r, http.StatusTooManyRequests, f,
			fmt.Sprintf("Too many purchases just now. Wait %s seconds and try again.", retryAfter(wait)))
		return false
	}
	s.shopBuys.take(who, now)
	return true
}

func productByID(id string) (product, bool) {
	for _, p := range products {
		if p.ID == id {
			return p, true
		}
	}
	return product{}, false
}

// demoRefPattern matches the demo shop's order references.
var demoRefPattern = regexp.MustCompile(`^demo-[a-z0-9]{6}$`)

// demoRef reports whether ref is a demo shop order reference: only those
// are shown on /shop/orders/, so that the demo shop never shows a real
// shop's orders.
func demoRef(ref string) bool { return demoRefPattern.MatchString(ref) }

// newDemoRef returns a fresh, readable demo order reference such as
// "demo-k3x9pa".
func newDemoRef() string {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789" // nothing easy to misread
	var b [6]byte
	rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "demo-" + string(b[:])
}

// shopForm is what the customer chose, as posted.
type shopForm struct {
	Product  string
	Quantity int
	Phone    string
	Express  bool
}

// productView is a product as the shop page lists it.
type productView struct {
	product
	PriceText string
	Checked   bool
}

// shopView is the data of shop.html.
type shopView struct {
	page
	Products []productView
	Form     shopForm
	Quantity []int
	// Error is what went wrong with the last try, for the customer.
	Error string
}

// shopPage serves GET /: the demo shop.
func (s *Server) shopPage(w http.ResponseWriter, r *http.Request) {
	s.renderShop(w, r, http.StatusOK, shopForm{Product: products[0].ID, Quantity: 1}, "")
}

func (s *Server) renderShop(w http.ResponseWriter, r *http.Request, status int, f shopForm, errText string) {
	v := shopView{
		page:  page{Title: "Demo shop", CSRF: s.csrfToken(s.formScope(r))},
		Form:  f,
		Error: errText,
	}
	for _, p := range products {
		v.Products = append(v.Products, productView{product: p, PriceText: p.Price.Kroner(), Checked: p.ID == f.Product})
	}
	for q := 1; q <= maxQuantity; q++ {
		v.Quantity = append(v.Quantity, q)
	}
	customerHeaders(w, cspPage)
	s.writePage(w, r, status, "shop.html", &v)
}

// shopBuy serves POST /shop/buy (behind forms): it creates the payment and
// sends the browser to Vipps. With "ref", it is a new attempt at that
// earlier demo order, for the same goods.
func (s *Server) shopBuy(w http.ResponseWriter, r *http.Request) {
	var req payment.CreateRequest
	f, problem := parseShopForm(r)
	if ref := r.PostFormValue("ref"); ref != "" {
		if !s.mayAct(w, r, ref) {
			return
		}
		prev, err := s.latestAttempt(r, ref)
		if err != nil {
			s.shopOrderError(w, r, err)
			return
		}
		req = payment.CreateRequest{Amount: prev.Amounts.Authorized, Text: prev.Text, ShopRef: ref,
			Express: prev.Kind == payment.Express, Receipt: prev.Receipt, OrderURL: prev.OrderURL}
	} else {
		if problem != "" {
			s.renderShop(w, r, http.StatusBadRequest, f, problem)
			return
		}
		p, _ := productByID(f.Product)
		ref := newDemoRef()
		total := p.Price * vipps.Amount(f.Quantity)
		req = payment.CreateRequest{
			Amount: total, Text: fmt.Sprintf("Demo shop: %d × %s", f.Quantity, p.Name),
			ShopRef: ref, Express: f.Express, Phone: f.Phone, Receipt: demoReceipt(p, f.Quantity, ref),
			// The order page is linked from the payment in the Vipps
			// app. ReturnURL stays empty: the return page links to the
			// demo order page instead (see backToShop).
			OrderURL: s.svc.PublicURL() + "/shop/orders/" + ref,
		}
	}
	if !s.buyAllowed(w, r, f) {
		return
	}
	p, err := s.svc.Create(r.Context(), req)
	if err == nil && p.VippsURL == "" {
		err = errors.New("vipps gave no url")
	}
	if err != nil {
		s.log.Warn("demo shop: creating the payment failed", "shop_ref", req.ShopRef, "err", err)
		s.renderShop(w, r, statusOf(err), f, customerError(s.lang(r), err))
		return
	}
	s.giveOrder(w, r, req.ShopRef)
	http.Redirect(w, r, p.VippsURL, http.StatusSeeOther)
}

// parseShopForm reads the shop's form; problem is what the customer must
// fix, or "".
func parseShopForm(r *http.Request) (f shopForm, problem string) {
	f.Product = r.PostFormValue("product")
	f.Express = r.PostFormValue("kind") == "express"
	f.Phone = strings.TrimSpace(r.PostFormValue("phone"))
	q, err := strconv.Atoi(r.PostFormValue("quantity"))
	f.Quantity = q
	var problems []string
	if _, ok := productByID(f.Product); !ok {
		f.Product = products[0].ID
		problems = append(problems, "Choose a product.")
	}
	if err != nil || q < 1 || q > maxQuantity {
		f.Quantity = 1
		problems = append(problems, fmt.Sprintf("Choose a quantity from 1 to %d.", maxQuantity))
	}
	if n := utf8.RuneCountInString(f.Phone); n > shopPhoneMax {
		f.Phone = ""
		problems = append(problems, fmt.Sprintf("The phone number is %d characters; enter at most %d, such as 912 34 567, or leave the field empty.", n, shopPhoneMax))
	} else if f.Phone != "" {
		phone, ok := norwegianMobile(f.Phone)
		if !ok {
			problems = append(problems, "Enter a Norwegian phone number of 8 digits, such as 912 34 567, or leave the field empty.")
		} else {
			f.Phone = phone
		}
	}
	return f, strings.Join(problems, " ")
}

// norwegianMobile reads a phone number as people type it ("912 34 567",
// "+47 91234567") and returns its 8 digits.
func norwegianMobile(s string) (string, bool) {
	s = strings.NewReplacer(" ", "", "-", "", ".", "").Replace(s)
	for _, prefix := range []string{"+47", "0047"} {
		if rest, ok := strings.CutPrefix(s, prefix); ok && len(rest) == 8 {
			s = rest
		}
	}
	if len(s) != 8 || strings.Trim(s, "0123456789") != "" {
		return "", false
	}
	return s, true
}

// demoReceipt is the receipt Order Management shows in the Vipps app: one
// line, 25% VAT included in the price, amounts in øre.
func demoReceipt(p product, quantity int, ref string) *vipps.Receipt {
	total := p.Price * vipps.Amount(quantity)
	excl := (total*4 + 2) / 5 // total / 1.25, rounded to the nearest øre
	return &vipps.Receipt{
		OrderLines: []vipps.OrderLine{{
			Name: p.Name, ID: p.ID,
			TotalAmount: total, TotalAmountExcludingTax: excl, TotalTaxAmount: total - excl, TaxPercentage: 25,
			UnitInfo: &vipps.UnitInfo{UnitPrice: p.Price, Quantity: strconv.Itoa(quantity), QuantityUnit: "PCS"},
		}},
		BottomLine: vipps.BottomLine{Currency: "NOK", ReceiptNumber: ref},
	}
}

// latestAttempt returns the newest payment of a demo order.
func (s *Server) latestAttempt(r *http.Request, ref string) (*payment.Payment, error) {
	if !demoRef(ref) {
		return nil, fmt.Errorf("demo order %q: %w", ref, payment.ErrNotFound)
	}
	ps, err := s.svc.Attempts(r.Context(), ref)
	if err != nil {
		return nil, fmt.Errorf("demo order %s: %w", ref, err)
	}
	if len(ps) == 0 {
		return nil, fmt.Errorf("demo order %s: %w", ref, payment.ErrNotFound)
	}
	return ps[len(ps)-1], nil
}

// shopOrderView is the data of shop_order.html.
type shopOrderView struct {
	page
	outcome
	orderFacts
	Lines   []orderLineView
	Total   string
	Waiting bool
	// Paid orders get no "try again" button.
	Paid bool
}

type orderLineView struct {
	Name     string
	Quantity string
	Amount   string
}

// shopOrder serves GET /shop/orders/{shopRef}: the demo shop's own view of
// an order, from the stored state of its latest attempt (no call to
// Vipps: the return page, callbacks and the poller keep it current).
func (s *Server) shopOrder(w http.ResponseWriter, r *http.Request) {
	ref := r.PathValue("shopRef")
	if !s.mayAct(w, r, ref) {
		return
	}
	p, err := s.latestAttempt(r, ref)
	if err != nil {
		s.shopOrderError(w, r, err)
		return
	}
	v := shopOrderView{
		page:       page{Title: "Your order " + ref, CSRF: s.csrfToken(s.formScope(r))},
		outcome:    outcomeOf(p),
		orderFacts: orderFactsOf(p),
		Total:      p.Amounts.Authorized.Kroner(),
		Waiting:    p.State.WaitingForCustomer(),
	}
	switch p.State {
	case payment.Reserved, payment.Captured, payment.Refunded:
		v.Paid = true
	}
	if p.Receipt != nil {
		for _, l := range p.Receipt.OrderLines {
			lv := orderLineView{Name: l.Name, Amount: l.TotalAmount.Kroner()}
			if l.UnitInfo != nil {
				lv.Quantity = l.UnitInfo.Quantity
			}
			v.Lines = append(v.Lines, lv)
		}
	}
	customerHeaders(w, cspPage)
	s.writePage(w, r, http.StatusOK, "shop_order.html", &v)
}

// shopOrderError answers for a demo order that cannot be read.
func (s *Server) shopOrderError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, payment.ErrNotFound) {
		s.notFoundPage(w, r)
		return
	}
	s.log.Error("demo shop: reading the order failed", "err", err)
	l := s.lang(r)
	s.messagePage(w, r, statusOf(err), messageView{
		page: page{Title: l.T("Something went wrong")},
		Text: l.T("We could not read the order just now. Please try again in a moment."),
		Link: "/", LinkText: l.T("Go to the shop"),
	})
}
