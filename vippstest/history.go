package vippstest

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/vippskit/vipps"
)

// This file is the payment history of a simulated user, as the Vipps app
// shows it: every payment with its status, and the receipt and category
// the merchant sent through Order Management.

// imageKey names an Order Management image.
type imageKey struct {
	msn vipps.MSN
	id  string
}

// keepImageLocked stores an uploaded image's bytes for the history page.
func (s *Simulator) keepImageLocked(msn vipps.MSN, id, src string) {
	data, err := base64.StdEncoding.DecodeString(src)
	if err != nil {
		return // checked before; cannot happen
	}
	if s.app.images == nil {
		s.app.images = map[imageKey][]byte{}
	}
	s.app.images[imageKey{msn, id}] = data
}

// serveImage serves GET /_sim/images/{msn}/{imageId}: an uploaded image.
func (s *Simulator) serveImage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	data := s.app.images[imageKey{vipps.MSN(r.PathValue("msn")), r.PathValue("imageId")}]
	s.mu.unlockRead()
	if data == nil {
		http.NotFound(w, r)
		return
	}
	serveBytes(w, http.DetectContentType(data), data)
}

type historyView struct {
	Name      string
	Phone     string
	Email     string
	Addresses []addressView
	Consents  []consentView
	Removals  []ConsentRemoval
	RemoveURL string
	FormToken string
	Notice    string
	Payments  []historyItem
}

type consentView struct {
	Merchant string
	MSN      vipps.MSN
	Since    string
}

type historyItem struct {
	Merchant string
	Amount   string
	Time     string
	OrderID  string
	Text     string
	Status   string
	Tone     string
	Money    string // captured and refunded, when any
	Shipping string
	Category *categoryView
	Receipt  *receiptView
	AppURL   string // for payments that wait for the user
}

type categoryView struct {
	Label    string
	URL      string
	ImageURL string
}

type receiptView struct {
	Lines []receiptLine
	Total string
	Tax   string
	Tip   string
}

type receiptLine struct {
	Name   string
	Detail string
	Total  string
}

const historyTime = "2 Jan 2006 15:04 MST"

// historyPage serves GET /_sim/users/{phone}.
func (s *Simulator) historyPage(w http.ResponseWriter, r *http.Request) {
	phone := r.PathValue("phone")
	if !phonePattern.MatchString(phone) {
		writePage(w, messagePage(http.StatusNotFound, "No such user", "Test users are 8-digit phone numbers, such as "+DefaultPhoneNumber+"."))
		return
	}
	s.lockSwept()
	v := s.historyLocked(phone)
	if msn := vipps.MSN(r.URL.Query().Get("removed")); msn != "" && s.byMSN[msn] != nil {
		v.Notice = "You removed " + s.byMSN[msn].Name + "'s access to your details. Its next express checkout asks for your consent again."
	}
	s.mu.Unlock()
	writePage(w, page{name: "history", title: "Payments of " + v.Name, data: v})
}

func (s *Simulator) historyLocked(phone string) historyView {
	u := userFor(phone)
	v := historyView{
		Name:      u.firstName + " " + u.lastName,
		Phone:     formatPhone(phone),
		Email:     u.email,
		RemoveURL: historyURL(phone) + "/consents/remove",
		FormToken: s.formTokenLocked("user", phone),
	}
	for _, a := range u.addresses() {
		v.Addresses = append(v.Addresses, addressView{ID: a.id, Label: addressLabel(a.kind), Line1: a.AddressLine1, Line2: a.AddressLine2, PostCode: a.PostCode, City: a.City})
	}
	for _, m := range s.merchants {
		if at, ok := s.app.consents[expressConsentKey{u.userID, m.MSN}]; ok {
			v.Consents = append(v.Consents, consentView{Merchant: m.Name, MSN: m.MSN, Since: at.Format(historyTime)})
		}
	}
	for _, c := range s.app.consentRemovals {
		if c.UserID == u.userID {
			v.Removals = append(v.Removals, c)
		}
	}
	slices.Reverse(v.Removals)

	var mine []*payment
	for _, p := range s.payments {
		sess := s.app.sessions[p]
		if (p.user != nil && p.user.phone == phone) || (p.user == nil && sess != nil && sess.phone == phone) {
			mine = append(mine, p)
		}
	}
	slices.SortFunc(mine, func(a, b *payment) int {
		return cmp.Or(b.initiatedAt.Compare(a.initiatedAt), cmp.Compare(b.txID, a.txID))
	})
	for _, p := range mine {
		v.Payments = append(v.Payments, s.historyItemLocked(p))
	}
	return v
}

func (s *Simulator) historyItemLocked(p *payment) historyItem {
	name := s.byMSN[p.msn].Name
	it := historyItem{
		Merchant: name,
		Amount:   p.amount.Kroner(),
		Time:     p.initiatedAt.Format(historyTime),
		OrderID:  string(p.orderID),
		Text:     p.text,
	}
	it.Status, _, it.Tone = outcomeText(p, name)
	var money []string
	if p.captured > 0 && p.phase != phaseSale {
		money = append(money, "captured "+p.captured.Kroner())
	}
	if p.refunded > 0 {
		money = append(money, "refunded "+p.refunded.Kroner())
	}
	if p.released > 0 && p.phase == phaseReserved {
		money = append(money, "released "+p.released.Kroner())
	}
	if len(money) > 0 {
		money[0] = strings.ToUpper(money[0][:1]) + money[0][1:]
	}
	it.Money = strings.Join(money, " · ")
	if p.waiting() {
		it.AppURL = landingURL(p.token)
	}
	if sh := p.shipping; sh != nil && !p.reservedAt.IsZero() {
		it.Shipping = fmt.Sprintf("%s (%s) to %s, %s %s", sh.ShippingMethod, sh.ShippingCost.Amount().Kroner(), sh.Address.AddressLine1, sh.Address.PostCode, sh.Address.City)
	}
	o := s.om[omKey{p.msn, vipps.OMEcom, string(p.orderID)}]
	if o == nil {
		return it
	}
	if c := o.category; c != nil {
		cv := &categoryView{Label: categoryLabel(c.Category), URL: c.OrderDetailsURL}
		if c.ImageID != "" && s.app.images[imageKey{p.msn, c.ImageID}] != nil {
			cv.ImageURL = "/_sim/images/" + string(p.msn) + "/" + c.ImageID
		}
		it.Category = cv
	}
	if o.receipt != nil {
		var rc vipps.Receipt
		if json.Unmarshal(o.receipt, &rc) == nil {
			it.Receipt = receiptOf(rc)
		}
	}
	return it
}

func categoryLabel(c vipps.Category) string {
	switch c {
	case vipps.CategoryReceipt:
		return "Receipt"
	case vipps.CategoryOrderConfirmation:
		return "Order confirmation"
	case vipps.CategoryDelivery:
		return "Delivery"
	case vipps.CategoryTicket:
		return "Ticket"
	case vipps.CategoryBooking:
		return "Booking"
	}
	return "Order details"
}

// receiptOf renders a receipt's lines and totals.
func receiptOf(rc vipps.Receipt) *receiptView {
	money := func(a vipps.Amount) string {
		if c := rc.BottomLine.Currency; c != "" && c != "NOK" {
			return strings.TrimSuffix(a.Kroner(), "kr") + c
		}
		return a.Kroner()
	}
	var total, tax vipps.Amount
	rv := &receiptView{}
	for _, l := range rc.OrderLines {
		var detail []string
		if ui := l.UnitInfo; ui != nil {
			unit := cmp.Or(ui.QuantityUnit, "PCS")
			q := ui.Quantity
			if unit != "PCS" {
				q += " " + strings.ToLower(unit)
			}
			detail = append(detail, q+" × "+money(ui.UnitPrice))
		}
		if l.Discount > 0 {
			detail = append(detail, "discount "+money(l.Discount))
		}
		if l.IsShipping {
			detail = append(detail, "shipping")
		}
		sign := vipps.Amount(1)
		if l.IsReturn {
			detail = append(detail, "returned")
			sign = -1
		}
		total += sign * l.TotalAmount
		tax += sign * l.TotalTaxAmount
		rv.Lines = append(rv.Lines, receiptLine{Name: l.Name, Detail: strings.Join(detail, " · "), Total: money(sign * l.TotalAmount)})
	}
	if t := rc.BottomLine.TipAmount; t > 0 {
		rv.Tip = money(t)
		total += t
	}
	rv.Total, rv.Tax = money(total), money(tax)
	return rv
}

// historyRemoveConsent serves POST /_sim/users/{phone}/consents/remove:
// the "remove access" button of the history page.
func (s *Simulator) historyRemoveConsent(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	phone := r.PathValue("phone")
	msn := vipps.MSN(r.PostForm.Get("msn"))
	s.mu.Lock()
	ok := phonePattern.MatchString(phone) && s.formTokenOKLocked("user", phone, r.PostForm.Get("ft"))
	known := s.byMSN[msn] != nil
	s.mu.Unlock()
	switch {
	case !ok:
		writePage(w, badFormPage())
		return
	case !known:
		writePage(w, messagePage(http.StatusBadRequest, "No such merchant", "The form names no merchant the simulator knows."))
		return
	}
	// A user with nothing to remove gets the page back without a notice.
	if _, err := s.RemoveConsent(r.Context(), msn, userFor(phone).userID); err != nil {
		writePage(w, page{location: historyURL(phone)})
		return
	}
	writePage(w, page{location: historyURL(phone) + "?removed=" + string(msn)})
}
