package vippstest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/vippskit/vipps"
)

// snapshotLocked captures the state in the file format of snapshot.go;
// restoreLocked is its inverse. Expired access tokens are left out.
func (s *Simulator) snapshotLocked() snapshotFile {
	f := snapshotFile{
		Format:            snapshotFormat,
		Version:           snapshotVersion,
		ClockOffset:       s.offset.String(),
		LastTransactionID: s.nextTx,
		Payments:          []paymentSnap{},
		Tokens:            []tokenSnap{},
		Consents:          []consentSnap{},
		OrderManagement:   []omOrderSnap{},
		Images:            []imageSnap{},
	}
	for _, k := range sortedKeys(s.payments, func(a, b payKey) int {
		return cmp.Or(cmp.Compare(a.msn, b.msn), cmp.Compare(a.orderID, b.orderID))
	}) {
		p := s.payments[k]
		ps := snapPayment(p)
		ps.App = snapSession(s.app.sessions[p])
		f.Payments = append(f.Payments, ps)
	}
	now := s.nowLocked()
	for _, tok := range slices.Sorted(maps.Keys(s.tokens)) {
		if it := s.tokens[tok]; now.Before(it.expires) {
			f.Tokens = append(f.Tokens, tokenSnap{Token: tok, MSN: it.msn, Expires: it.expires})
		}
	}
	for _, k := range sortedKeys(s.subs, func(a, b consentKey) int {
		return cmp.Or(cmp.Compare(a.msn, b.msn), cmp.Compare(a.sub, b.sub))
	}) {
		c := s.subs[k]
		f.Consents = append(f.Consents, consentSnap{Sub: k.sub, MSN: k.msn, User: snapUser(c.user), Scopes: slices.Clone(c.scopes), At: c.at})
	}
	f.VerifiedUsers = slices.Sorted(maps.Keys(s.verified))
	for _, k := range sortedKeys(s.om, func(a, b omKey) int {
		return cmp.Or(cmp.Compare(a.msn, b.msn), cmp.Compare(a.paymentType, b.paymentType), cmp.Compare(a.orderID, b.orderID))
	}) {
		o := s.om[k]
		entry := omOrderSnap{MSN: k.msn, PaymentType: k.paymentType, OrderID: k.orderID, Receipt: o.receipt}
		if c := o.category; c != nil {
			entry.Category = &categorySnap{Category: c.Category, OrderDetailsURL: c.OrderDetailsURL, ImageID: c.ImageID}
		}
		f.OrderManagement = append(f.OrderManagement, entry)
	}
	for _, msn := range slices.Sorted(maps.Keys(s.images)) {
		for _, id := range slices.Sorted(maps.Keys(s.images[msn])) {
			if s.images[msn][id] {
				f.Images = append(f.Images, imageSnap{MSN: msn, ImageID: id, Data: s.app.images[imageKey{msn, id}]})
			}
		}
	}
	f.ExpressConsents = []expressConsentSnap{}
	for _, k := range sortedKeys(s.app.consents, func(a, b expressConsentKey) int {
		return cmp.Or(cmp.Compare(a.msn, b.msn), cmp.Compare(a.userID, b.userID))
	}) {
		f.ExpressConsents = append(f.ExpressConsents, expressConsentSnap{UserID: k.userID, MSN: k.msn, At: s.app.consents[k]})
	}
	return f
}

func sortedKeys[K comparable, V any](m map[K]V, compare func(a, b K) int) []K {
	return slices.SortedFunc(maps.Keys(m), compare)
}

func snapPayment(p *payment) paymentSnap {
	o := p.order
	ps := paymentSnap{
		MSN:     p.msn,
		OrderID: p.orderID,
		Amount:  p.amount,
		Text:    p.text,
		Order: orderSnap{
			CallbackPrefix:        o.callbackPrefix,
			FallBack:              o.fallBack,
			AuthToken:             o.authToken,
			IsApp:                 o.isApp,
			PaymentType:           o.paymentType,
			ConsentRemovalPrefix:  o.consentRemovalPrefix,
			ShippingDetailsPrefix: o.shippingDetailsPrefix,
			MobileNumber:          o.mobileNumber,
			SkipLandingPage:       o.skipLandingPage,
			Scope:                 o.scope,
		},
		Token:         p.token,
		URL:           p.url,
		TransactionID: p.txID,
		Phase:         phaseNames[p.phase],
		Status:        p.status,
		Last:          snapLogEntry(p.last),
		Captured:      p.captured,
		Refunded:      p.refunded,
		Released:      p.released,
		InitiatedAt:   p.initiatedAt,
		ReservedAt:    p.reservedAt,
		PendingUntil:  p.pendingUntil,
		ExpiredAt:     p.expiredAt,
		Log:           []logEntrySnap{},
		User:          snapUser(p.user),
	}
	ps.Order.StaticShipping = snapOptions(o.staticShipping)
	if f := p.failure; f != nil {
		ps.Failure = &failureSnap{Group: f.Group, Code: f.Code, Message: f.Message, ContextID: f.ContextID}
	}
	for _, e := range p.log {
		ps.Log = append(ps.Log, snapLogEntry(e))
	}
	for _, k := range sortedKeys(p.idem, func(a, b idemKey) int {
		return cmp.Or(cmp.Compare(a.op, b.op), cmp.Compare(a.requestID, b.requestID))
	}) {
		r := p.idem[k]
		ps.Idempotency = append(ps.Idempotency, idemSnap{
			Op: k.op, RequestID: k.requestID, Fingerprint: r.fingerprint,
			Status: r.rep.status, ContentType: r.rep.contentType, Body: r.rep.body,
		})
	}
	if sd := p.shipping; sd != nil {
		ps.Shipping = &shippingDetailsSnap{
			Address: snapAddress(sd.Address), ShippingCost: float64(sd.ShippingCost),
			ShippingMethod: sd.ShippingMethod, ShippingMethodID: sd.ShippingMethodID,
		}
	}
	return ps
}

func snapOptions(opts []vipps.ShippingOption) []shippingOptionSnap {
	var out []shippingOptionSnap
	for _, o := range opts {
		out = append(out, shippingOptionSnap{
			IsDefault: bool(o.IsDefault), Priority: o.Priority, ShippingCost: float64(o.ShippingCost),
			ShippingMethod: o.ShippingMethod, ShippingMethodID: o.ShippingMethodID,
		})
	}
	return out
}

func optionsOf(opts []shippingOptionSnap) []vipps.ShippingOption {
	var out []vipps.ShippingOption
	for _, o := range opts {
		out = append(out, vipps.ShippingOption{
			IsDefault: vipps.YesNo(o.IsDefault), Priority: o.Priority, ShippingCost: vipps.NOK(o.ShippingCost),
			ShippingMethod: o.ShippingMethod, ShippingMethodID: o.ShippingMethodID,
		})
	}
	return out
}

func snapSession(a *appSession) *appSessionSnap {
	if a == nil {
		return nil
	}
	return &appSessionSnap{
		Phone: a.phone, Address: a.address, Option: a.option, FetchedFor: a.fetchedFor,
		Options: snapOptions(a.options), ShipErr: a.shipErr, ShipReason: a.shipReason,
	}
}

func (a *appSessionSnap) session() *appSession {
	if a == nil {
		return nil
	}
	return &appSession{
		phone: a.Phone, address: a.Address, option: a.Option, fetchedFor: a.FetchedFor,
		options: optionsOf(a.Options), shipErr: a.ShipErr, shipReason: a.ShipReason,
	}
}

func snapLogEntry(e vipps.LogEntry) logEntrySnap {
	return logEntrySnap{
		Operation: e.Operation, Amount: e.Amount, Success: e.OperationSuccess, Text: e.TransactionText,
		TransactionID: e.TransactionID, Time: e.TimeStamp.Time, RequestID: e.RequestID,
	}
}

func (e logEntrySnap) entry() vipps.LogEntry {
	return vipps.LogEntry{
		Operation: e.Operation, Amount: e.Amount, OperationSuccess: e.Success, TransactionText: e.Text,
		TransactionID: e.TransactionID, TimeStamp: vipps.Time{Time: e.Time}, RequestID: e.RequestID,
	}
}

func snapUser(u *user) *userSnap {
	if u == nil {
		return nil
	}
	return &userSnap{
		Phone: u.phone, Sub: u.sub, UserID: u.userID, FirstName: u.firstName, LastName: u.lastName,
		Email: u.email, BirthDate: u.birthDate, NIN: u.nin, Address: snapAddress(u.address),
	}
}

func (u *userSnap) user() *user {
	if u == nil {
		return nil
	}
	return &user{
		phone: u.Phone, sub: u.Sub, userID: u.UserID, firstName: u.FirstName, lastName: u.LastName,
		email: u.Email, birthDate: u.BirthDate, nin: u.NIN, address: u.Address.address(),
	}
}

func snapAddress(a vipps.Address) addressSnap {
	return addressSnap{AddressLine1: a.AddressLine1, AddressLine2: a.AddressLine2, City: a.City, Country: a.Country, PostCode: a.PostCode}
}

func (a addressSnap) address() vipps.Address {
	return vipps.Address{AddressLine1: a.AddressLine1, AddressLine2: a.AddressLine2, City: a.City, Country: a.Country, PostCode: a.PostCode}
}

// payment rebuilds a payment, or says what is wrong with the entry.
func (ps paymentSnap) payment() (*payment, error) {
	ph, ok := phaseByName(ps.Phase)
	if !ok {
		return nil, fmt.Errorf("unknown phase %q", ps.Phase)
	}
	o := ps.Order
	p := &payment{
		msn:     ps.MSN,
		orderID: ps.OrderID,
		amount:  ps.Amount,
		text:    ps.Text,
		order: order{
			callbackPrefix:        o.CallbackPrefix,
			fallBack:              o.FallBack,
			authToken:             o.AuthToken,
			isApp:                 o.IsApp,
			paymentType:           o.PaymentType,
			consentRemovalPrefix:  o.ConsentRemovalPrefix,
			shippingDetailsPrefix: o.ShippingDetailsPrefix,
			mobileNumber:          o.MobileNumber,
			skipLandingPage:       o.SkipLandingPage,
			scope:                 o.Scope,
		},
		token:        ps.Token,
		url:          ps.URL,
		txID:         ps.TransactionID,
		phase:        ph,
		status:       ps.Status,
		last:         ps.Last.entry(),
		captured:     ps.Captured,
		refunded:     ps.Refunded,
		released:     ps.Released,
		initiatedAt:  ps.InitiatedAt,
		reservedAt:   ps.ReservedAt,
		pendingUntil: ps.PendingUntil,
		expiredAt:    ps.ExpiredAt,
		failure:      ps.Failure.detail(),
		idem:         map[idemKey]idemRecord{},
		user:         ps.User.user(),
	}
	p.order.staticShipping = optionsOf(o.StaticShipping)
	for _, e := range ps.Log {
		p.log = append(p.log, e.entry())
	}
	for i, r := range ps.Idempotency {
		k := idemKey{r.Op, r.RequestID}
		if _, dup := p.idem[k]; dup {
			return nil, fmt.Errorf("idempotency[%d]: %s X-Request-Id %q appears twice", i, r.Op, r.RequestID)
		}
		p.idem[k] = idemRecord{fingerprint: r.Fingerprint, rep: reply{status: r.Status, contentType: r.ContentType, body: r.Body}}
	}
	if sd := ps.Shipping; sd != nil {
		p.shipping = &vipps.ShippingDetails{
			Address: sd.Address.address(), ShippingCost: vipps.NOK(sd.ShippingCost),
			ShippingMethod: sd.ShippingMethod, ShippingMethodID: sd.ShippingMethodID,
		}
	}
	return p, nil
}

// restoreLocked replaces the (fresh) simulator's state with f. Every
// merchant the file names must be configured.
func (s *Simulator) restoreLocked(f snapshotFile) error {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	known := func(where string, msn vipps.MSN) bool {
		if s.byMSN[msn] == nil {
			bad("%s: MSN %s is not a configured merchant; start with the merchants the snapshot was written with, or delete the file", where, msn)
			return false
		}
		return true
	}

	offset, err := time.ParseDuration(f.ClockOffset)
	switch {
	case err != nil:
		bad("clockOffset %q is not a duration", f.ClockOffset)
	case offset < 0:
		bad("clockOffset %q is negative", f.ClockOffset)
	}
	if f.LastTransactionID < firstTxID {
		bad("lastTransactionId %d is below %d", f.LastTransactionID, firstTxID)
	}
	payments := map[payKey]*payment{}
	byToken := map[string]*payment{}
	var sessions map[*payment]*appSession
	for i, ps := range f.Payments {
		where := fmt.Sprintf("payments[%d] (order %s)", i, ps.OrderID)
		if !known(where, ps.MSN) {
			continue
		}
		p, err := ps.payment()
		switch {
		case err != nil:
			bad("%s: %v", where, err)
			continue
		case payments[payKey{p.msn, p.orderID}] != nil:
			bad("%s: MSN %s has this orderId twice", where, p.msn)
			continue
		case p.token != "" && byToken[p.token] != nil:
			bad("%s: its landing page token belongs to another payment too", where)
			continue
		}
		payments[payKey{p.msn, p.orderID}] = p
		if p.token != "" {
			byToken[p.token] = p
		}
		if sess := ps.App.session(); sess != nil {
			if sessions == nil {
				sessions = map[*payment]*appSession{}
			}
			sessions[p] = sess
		}
	}
	tokens := map[string]issuedToken{}
	for i, t := range f.Tokens {
		if known(fmt.Sprintf("accessTokens[%d]", i), t.MSN) {
			tokens[t.Token] = issuedToken{msn: t.MSN, expires: t.Expires}
		}
	}
	subs := map[consentKey]*consent{}
	for i, c := range f.Consents {
		if known(fmt.Sprintf("consents[%d]", i), c.MSN) {
			subs[consentKey{c.Sub, c.MSN}] = &consent{user: c.User.user(), scopes: c.Scopes, at: c.At}
		}
	}
	om := map[omKey]*omOrder{}
	for i, o := range f.OrderManagement {
		if !known(fmt.Sprintf("orderManagement[%d]", i), o.MSN) {
			continue
		}
		oo := &omOrder{}
		if len(o.Receipt) > 0 {
			var compact bytes.Buffer
			if err := json.Compact(&compact, o.Receipt); err != nil {
				bad("orderManagement[%d].receipt: %v", i, err)
				continue
			}
			oo.receipt = compact.Bytes() // as posted, compacted
		}
		if c := o.Category; c != nil {
			oo.category = &vipps.OrderCategory{Category: c.Category, OrderDetailsURL: c.OrderDetailsURL, ImageID: c.ImageID}
		}
		om[omKey{o.MSN, o.PaymentType, o.OrderID}] = oo
	}
	images := map[vipps.MSN]map[string]bool{}
	var imageData map[imageKey][]byte
	for i, im := range f.Images {
		if !known(fmt.Sprintf("images[%d]", i), im.MSN) {
			continue
		}
		if images[im.MSN] == nil {
			images[im.MSN] = map[string]bool{}
		}
		images[im.MSN][im.ImageID] = true
		if im.Data != nil {
			if imageData == nil {
				imageData = map[imageKey][]byte{}
			}
			imageData[imageKey{im.MSN, im.ImageID}] = im.Data
		}
	}
	var consents map[expressConsentKey]time.Time
	for i, c := range f.ExpressConsents {
		if !known(fmt.Sprintf("expressConsents[%d]", i), c.MSN) {
			continue
		}
		if consents == nil {
			consents = map[expressConsentKey]time.Time{}
		}
		consents[expressConsentKey{c.UserID, c.MSN}] = c.At
	}
	verified := map[string]bool{}
	for i, phone := range f.VerifiedUsers {
		if !unverifiedAtFirst(phone) {
			bad("verifiedUsers[%d]: %q is not one of the documented unverified test users", i, phone)
			continue
		}
		verified[phone] = true
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}

	s.verified = verified
	s.offset, s.nextTx = offset, f.LastTransactionID
	s.payments, s.byToken, s.tokens, s.subs, s.om, s.images = payments, byToken, tokens, subs, om, images
	s.app.sessions, s.app.images, s.app.consents = sessions, imageData, consents
	s.open = map[*payment]struct{}{}
	for _, p := range payments {
		if p.phase == phaseInitiated {
			s.open[p] = struct{}{}
		}
	}
	return nil
}

func (f *failureSnap) detail() *vipps.ErrorDetail {
	if f == nil {
		return nil
	}
	return &vipps.ErrorDetail{Group: f.Group, Code: f.Code, Message: f.Message, ContextID: f.ContextID}
}
