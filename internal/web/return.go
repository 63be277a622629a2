package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

// returnCheckTimeout bounds the return page's call to Vipps: a customer
// waits no longer than this for the page, and sees the stored state when
// Vipps is slower.
const returnCheckTimeout = 3 * time.Second

// The return page is the fallBack URL Vipps sends the customer to, for
// success and failure alike, in whatever browser the phone opens: it needs
// no session or cookie. The orderId and a token (payment.Service.ReturnURL)
// in the link are all it has. It never believes the redirect: it asks Vipps
// (payment.Service.Check) while the payment is waiting, and shows what
// Vipps says. Without JavaScript, a waiting page reloads itself every 2
// seconds (meta refresh); with it, static/return.js asks
// /return/{orderId}/status instead and reloads once the outcome is known.

// errNoReturnPage is a return page link with a missing or wrong token.
var errNoReturnPage = fmt.Errorf("return page: %w", payment.ErrNotFound)

// returnPayment checks the link's token and returns the payment as Vipps
// has it now. A payment past waiting is not checked again: its stored state
// was derived from Vipps' /details already. When Vipps is slow or
// unreachable, the stored state is returned.
func (s *Server) returnPayment(r *http.Request) (*payment.Payment, error) {
	ctx := r.Context()
	id := vipps.OrderID(r.PathValue("orderId"))
	t := r.URL.Query().Get("t")
	if t == "" || !s.svc.CheckReturnToken(id, t) {
		return nil, errNoReturnPage
	}
	p, err := s.svc.Get(ctx, id)
	if err != nil || !p.State.WaitingForCustomer() {
		return p, err
	}
	cctx, cancel := context.WithTimeout(ctx, returnCheckTimeout)
	defer cancel()
	q, err := s.svc.Check(cctx, id)
	if err != nil {
		s.log.Warn("return page: checking the payment failed; showing the stored state", "order_id", id, "err", err)
		if q == nil {
			return p, nil
		}
	}
	return q, nil
}

// returnView is the data of return.html.
type returnView struct {
	page
	outcome
	orderFacts
	Waiting bool
	// Back is the link back to the shop, and BackText its label; "" for
	// none.
	Back, BackText string
	// StatusURL is what return.js asks while the payment is waiting.
	StatusURL string
}

// returnPage serves GET /return/{orderId}?t=...: the payment's outcome.
func (s *Server) returnPage(w http.ResponseWriter, r *http.Request) {
	p, err := s.returnPayment(r)
	if errors.Is(err, payment.ErrNotFound) {
		s.notFoundPage(w, r)
		return
	}
	var v returnView
	status := http.StatusOK
	if err != nil {
		// The database failed: say so, and try again shortly.
		s.log.Error("return page: reading the payment failed", "order_id", r.PathValue("orderId"), "err", err)
		status = http.StatusServiceUnavailable
		v.outcome = outcome{Key: "waiting", Heading: "We could not look up your payment just now", Text: "This page tries again by itself in a moment."}
		v.Waiting = true
	} else {
		v.outcome = outcomeOf(p)
		v.Waiting = p.State.WaitingForCustomer()
		v.orderFacts = orderFactsOf(p)
		v.Back, v.BackText = s.backToShop(p)
	}
	v.Title = v.Heading
	v.Keep = url.Values{"t": {r.URL.Query().Get("t")}}
	if v.Waiting {
		v.StatusURL = "/return/" + url.PathEscape(r.PathValue("orderId")) + "/status?t=" + url.QueryEscape(r.URL.Query().Get("t"))
	}
	customerHeaders(w, cspPoll)
	s.writePage(w, r, status, "return.html", &v)
}

// returnStatusBody is the JSON of GET /return/{orderId}/status.
type returnStatusBody struct {
	// Outcome is approved, waiting, cancelled, failed or refunded.
	Outcome string        `json:"outcome"`
	State   payment.State `json:"state"`
	Waiting bool          `json:"waiting"`
}

// returnStatus serves GET /return/{orderId}/status?t=...: the outcome as
// JSON, for return.js. It checks Vipps just as the page does.
func (s *Server) returnStatus(w http.ResponseWriter, r *http.Request) {
	p, err := s.returnPayment(r)
	customerHeaders(w, "default-src 'none'; frame-ancestors 'none'")
	switch {
	case errors.Is(err, payment.ErrNotFound):
		s.writeJSON(w, http.StatusNotFound, errorBody{Error: apiError{Status: http.StatusNotFound, Message: "not found", RequestID: requestID(r.Context())}})
	case err != nil:
		s.log.Error("return status: reading the payment failed", "order_id", r.PathValue("orderId"), "err", err)
		s.writeJSON(w, http.StatusServiceUnavailable, errorBody{Error: apiError{Status: http.StatusServiceUnavailable, Message: "try again shortly", RequestID: requestID(r.Context())}})
	default:
		s.writeJSON(w, http.StatusOK, returnStatusBody{Outcome: outcomeOf(p).Key, State: p.State, Waiting: p.State.WaitingForCustomer()})
	}
}

// backToShop is the link from the return page to the shop: the payment's
// ReturnURL with orderId and status added (the shop must still ask the API
// before it ships anything), else the demo shop's order page or front page
// when the demo shop is on, else none. After a failed or cancelled payment
// the label asks the customer to try again.
func (s *Server) backToShop(p *payment.Payment) (href, label string) {
	href, label = s.shopLink(p)
	if href != "" && outcomeOf(p).TryAgain {
		label = "Try again"
	}
	return href, label
}

func (s *Server) shopLink(p *payment.Payment) (href, label string) {
	if p.ReturnURL != "" {
		u, err := url.Parse(p.ReturnURL)
		if err != nil {
			return "", ""
		}
		add := url.Values{"orderId": {string(p.OrderID)}, "status": {string(p.State)}}.Encode()
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += add
		return u.String(), "Back to the shop"
	}
	if !s.cfg.DemoShop {
		return "", ""
	}
	if demoRef(p.ShopRef) {
		return "/shop/orders/" + p.ShopRef, "See your order"
	}
	return "/", "Back to the shop"
}
