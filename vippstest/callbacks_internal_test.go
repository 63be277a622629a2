package vippstest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vippskit/vipps"
)

// newPayment puts a waiting payment straight into s.
func newPayment(s *Simulator, id vipps.OrderID, callbackPrefix string) *payment {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	p := &payment{
		msn: "123456", orderID: id, amount: 20000, text: "socks",
		order: order{callbackPrefix: callbackPrefix, authToken: "tok", paymentType: vipps.PaymentTypeRegular},
		token: s.newLandingTokenLocked(), txID: s.nextTxIDLocked(), initiatedAt: now, idem: map[idemKey]idemRecord{},
	}
	p.append(p.entry(vipps.OperationInitiate, p.amount, p.text, p.txID, "", now, true), vipps.OrderStatusInitiate)
	s.payments[payKey{p.msn, id}] = p
	s.open[p] = struct{}{}
	return p
}

func TestCallbackTimeout(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)

	s, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	s.cbTimeout = 50 * time.Millisecond // Vipps waits 3 s; the test need not
	newPayment(s, "slow-1", slow.URL)
	if err := s.Approve("slow-1", ""); err != nil {
		t.Fatal(err)
	}
	s.WaitCallbacks()
	cbs := s.Callbacks()
	if len(cbs) != 1 || cbs[0].Delivered() || !strings.Contains(cbs[0].Err, "deadline") {
		t.Fatalf("Callbacks() = %+v, want one delivery that timed out", cbs)
	}
	if cbs[0].Duration > time.Second {
		t.Errorf("the timed-out delivery took %v", cbs[0].Duration)
	}
}

func TestCloseWaitsForCallbacks(t *testing.T) {
	arrived := make(chan struct{})
	merchant := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		time.Sleep(30 * time.Millisecond)
	}))
	defer merchant.Close()

	s, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	newPayment(s, "closing-1", merchant.URL)
	newPayment(s, "closing-2", merchant.URL)
	if err := s.Approve("closing-1", ""); err != nil {
		t.Fatal(err)
	}
	<-arrived
	s.Close()
	if cbs := s.Callbacks(); len(cbs) != 1 || !cbs[0].Delivered() {
		t.Fatalf("after Close, Callbacks() = %+v, want the delivery in flight finished", cbs)
	}
	// After Close nothing more is sent, but the outcome is recorded.
	if err := s.Reject("closing-2"); err != nil {
		t.Fatal(err)
	}
	if cbs := s.Callbacks(); len(cbs) != 2 || cbs[1].Err == "" || cbs[1].Delivered() {
		t.Fatalf("Callbacks() after Close = %+v, want the second one not sent", cbs)
	}
}
