package web

import (
	"context"
	"errors"
	"html"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/internal/servicetest"
)

// downStore is a payment store whose writes fail as a full disk makes
// them fail (the stores' own tests cause that for real: TestDiskFull,
// TestDatabaseAway) while down is set; reads go on. With outcomeLost set
// only the outcome of an operation cannot be stored: Vipps has carried it
// out, and the service cannot say so.
type downStore struct {
	payment.Store
	down, outcomeLost atomic.Bool
}

func (s *downStore) UpdateOperation(ctx context.Context, op *payment.Operation, p *payment.Payment, events ...payment.Event) error {
	if err := s.fail(); err != nil {
		return err
	}
	if s.outcomeLost.Load() && op.Status != payment.OpPending {
		return payment.Unavailable(errors.New("sqlite: write: database or disk is full (13)"))
	}
	return s.Store.UpdateOperation(ctx, op, p, events...)
}

func (s *downStore) fail() error {
	if s.down.Load() {
		return payment.Unavailable(errors.New("sqlite: write: database or disk is full (13)"))
	}
	return nil
}

func (s *downStore) Create(ctx context.Context, p *payment.Payment, events ...payment.Event) error {
	if err := s.fail(); err != nil {
		return err
	}
	return s.Store.Create(ctx, p, events...)
}

func (s *downStore) Update(ctx context.Context, p *payment.Payment, events ...payment.Event) error {
	if err := s.fail(); err != nil {
		return err
	}
	return s.Store.Update(ctx, p, events...)
}

func (s *downStore) AddOperation(ctx context.Context, op *payment.Operation, claim *payment.Claim, events ...payment.Event) (*payment.Operation, error) {
	if err := s.fail(); err != nil {
		return nil, err
	}
	return s.Store.AddOperation(ctx, op, claim, events...)
}

// TestDatabaseUnavailable: while the database takes no writes, the shop is
// told 503 with Retry-After and what to do, staff and customers are told
// in their words (not "internal error"), and nothing reaches Vipps; once
// it takes writes again, the same requests go through.
func TestDatabaseUnavailable(t *testing.T) {
	ds := &downStore{}
	e := newAdminEnv(t, func(c *envConfig) {
		c.service = append(c.service, servicetest.WithPayment(func(pc *payment.Config) {
			ds.Store = pc.Store
			pc.Store = ds
		}))
	})
	id := e.reserve(t, 20000)
	form := e.form(t, id, "/capture")
	ds.down.Store(true)

	t.Run("shop API", func(t *testing.T) {
		for _, req := range []struct{ path, body string }{
			{"/api/payments", `{"amount": 1000, "text": "Socks"}`},
			{"/api/payments/" + string(id) + "/capture", `{"amount": 5000, "idempotencyKey": "cap-1"}`},
		} {
			resp, body := e.in(t).api("POST", req.path, req.body)
			if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != retryAfterUnavailable {
				t.Errorf("POST %s with the database down = %d, Retry-After %q; want 503 with Retry-After %s",
					req.path, resp.StatusCode, resp.Header.Get("Retry-After"), retryAfterUnavailable)
			}
			if msg := body["error"].(map[string]any)["message"]; msg != unavailableMessage {
				t.Errorf("POST %s with the database down: message %q, want %q", req.path, msg, unavailableMessage)
			}
		}
		if resp, _ := e.in(t).api("GET", "/api/payments/"+string(id), nil); resp.StatusCode != http.StatusOK {
			t.Errorf("GET the payment with writes failing = %d, want 200: reads go on", resp.StatusCode)
		}
	})

	t.Run("admin", func(t *testing.T) {
		f := url.Values{"csrf": form["csrf"], "key": form["key"], "amount": {"50"}, "text": {""}}
		page := e.refused(t, adminPaymentURL(id)+"/capture", f, http.StatusServiceUnavailable)
		want := "The payment service cannot use its database just now"
		if !strings.Contains(page, html.EscapeString(want)) || !strings.Contains(page, "<h2>Not confirmed</h2>") {
			t.Errorf("admin capture with the database down: the page does not say %q under \"Not confirmed\"", want)
		}
		// Sending the form again is never a second capture: it keeps its key.
		if again := adminForms(page)[adminPaymentURL(id)+"/capture"]; again.Get("key") != form.Get("key") {
			t.Errorf("the capture form shown again has key %q, want the one sent (%q)", again.Get("key"), form.Get("key"))
		}
		// A check asks Vipps, then cannot store what it learnt.
		if kind, msg := e.submit(t, id, "/check", nil); kind != string(adminError) || !strings.HasPrefix(msg, want) {
			t.Errorf("admin check with the database down: %s %q, want an error saying %q", kind, msg, want)
		}
	})

	t.Run("customer", func(t *testing.T) {
		s := &shopEnv{e.in(t)}
		res := s.post("/shop/buy", url.Values{"product": {"kaffekopp"}, "quantity": {"1"}, "csrf": {s.csrf("/")}}, nil)
		want := "The shop cannot take payments just now. No money has been taken."
		if res.Status != http.StatusServiceUnavailable || !strings.Contains(res.Body, want) {
			t.Errorf("the demo shop's buy with the database down = %d; want 503 saying %q\n%s", res.Status, want, res.Body)
		}
	})

	if got := len(e.in(t).simRequests(id, "capture")); got != 0 {
		t.Errorf("the simulator got %d captures while the database was down, want none", got)
	}
	ds.down.Store(false)
	var op struct {
		Operation payment.Operation `json:"operation"`
	}
	e.in(t).apiInto("POST", "/api/payments/"+string(id)+"/capture", `{"amount": 5000, "idempotencyKey": "cap-1"}`, http.StatusOK, &op)
	if got := e.simSummary(t, id); got[0] != vipps.Amount(5000) {
		t.Errorf("captured at Vipps once the database is back = %v, want 50 kr", got[0])
	}

	// Vipps captures, and the outcome cannot be stored: staff are not
	// told that nothing was done, and no capture form is offered while
	// that capture is pending, so none is sent twice.
	t.Run("admin, outcome lost", func(t *testing.T) {
		id := e.reserve(t, 20000)
		form := e.form(t, id, "/capture")
		ds.outcomeLost.Store(true)
		f := url.Values{"csrf": form["csrf"], "key": form["key"], "amount": {"30"}, "text": {""}}
		page := e.refused(t, adminPaymentURL(id)+"/capture", f, http.StatusServiceUnavailable)
		ds.outcomeLost.Store(false)
		if !strings.Contains(page, "<h2>Not confirmed</h2>") || strings.Contains(page, "Nothing was done") {
			t.Errorf("admin capture whose outcome was lost: the page does not say it is not confirmed")
		}
		if _, ok := adminForms(page)[adminPaymentURL(id)+"/capture"]; ok {
			t.Errorf("admin capture whose outcome was lost: the page offers another capture while it is pending")
		}
		if got := e.simSummary(t, id); got[0] != 3000 {
			t.Errorf("captured at Vipps = %v, want 30 kr (the outcome only was lost)", got[0])
		}
		// Once the database is back, the service learns the outcome.
		if _, err := e.svc.Check(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		if p := e.stored(t, id); p.Amounts.Captured != 3000 {
			t.Errorf("stored as captured once the database is back: %v, want 30 kr", p.Amounts.Captured)
		}
	})
}
