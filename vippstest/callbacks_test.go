package vippstest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/vippstest"
)

// received is a callback as the merchant's server saw it.
type received struct {
	method string
	path   string
	header http.Header
	raw    string
	body   map[string]any
}

// callbackSink is a merchant's callback endpoint on loopback.
type callbackSink struct {
	mu     sync.Mutex
	got    []received
	answer func(w http.ResponseWriter, r *http.Request) // nil: 200
}

// start serves the sink and returns a callbackPrefix pointing at it.
func (s *callbackSink) start(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec := received{method: r.Method, path: r.URL.Path, header: r.Header.Clone(), raw: string(b)}
		json.Unmarshal(b, &rec.body)
		s.mu.Lock()
		s.got = append(s.got, rec)
		s.mu.Unlock()
		if s.answer != nil {
			s.answer(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/vipps"
}

// wait waits for the simulator's callbacks and checks that the sink got n.
func (s *callbackSink) wait(t *testing.T, srv *vippstest.Server, n int) []received {
	t.Helper()
	srv.Sim.WaitCallbacks()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.got) != n {
		t.Fatalf("merchant got %d callbacks, want %d: %v (simulator: %+v)", len(s.got), n, s.got, srv.Sim.Callbacks())
	}
	return append([]received(nil), s.got...)
}

func TestCallbacks(t *testing.T) {
	tests := []struct {
		name      string
		amount    vipps.Amount
		authToken vipps.Secret
		act       func(t *testing.T, srv *vippstest.Server, id vipps.OrderID)
		want      vipps.CallbackStatus
		errorCode vipps.ErrorCode
	}{
		{"approved with authToken", 20000, "ae0cb90d91b4a84a", approveHook, vipps.CallbackReserved, ""},
		{"approved without authToken", 20000, "", approveHook, vipps.CallbackReserved, ""},
		{"rejected", 20000, "tok", func(t *testing.T, srv *vippstest.Server, id vipps.OrderID) {
			if err := srv.Sim.Reject(id); err != nil {
				t.Fatal(err)
			}
		}, vipps.CallbackCancelled, ""},
		{"timed out", 20000, "tok", func(t *testing.T, srv *vippstest.Server, id vipps.OrderID) {
			srv.Sim.Advance(10 * time.Minute)
		}, vipps.CallbackRejected, ""},
		{"reservation failed", 186, "tok", approveHook, vipps.CallbackReserveFailed, vipps.CodeExpiredCard},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sink callbackSink
			prefix := sink.start(t)
			srv := newServer(t)
			const id = "acme-shop-123-order123abc"
			req := regular(id, tt.amount)
			req.MerchantInfo.CallbackPrefix = prefix
			req.MerchantInfo.AuthToken = tt.authToken
			initiate(t, srv.Client, req)
			srv.Sim.Advance(5 * time.Second)
			tt.act(t, srv, id)

			got := sink.wait(t, srv, 1)[0]
			if got.method != http.MethodPost || got.path != "/vipps/v2/payments/"+id {
				t.Errorf("callback request = %s %s, want POST /vipps/v2/payments/%s", got.method, got.path, id)
			}
			if auth := got.header.Get("Authorization"); auth != tt.authToken.Reveal() {
				t.Errorf("callback Authorization = %q, want %q", auth, tt.authToken.Reveal())
			}
			if _, sent := got.header["Authorization"]; sent != (tt.authToken != "") {
				t.Errorf("callback Authorization sent = %v, want %v", sent, tt.authToken != "")
			}
			if ct := got.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("callback Content-Type = %q", ct)
			}
			if msn, ok := got.body["merchantSerialNumber"].(string); !ok || msn != "123456" {
				t.Errorf("callback merchantSerialNumber = %#v, want the string \"123456\"", got.body["merchantSerialNumber"])
			}
			var cb vipps.TransactionCallback
			if err := json.Unmarshal([]byte(got.raw), &cb); err != nil {
				t.Fatalf("decode callback: %v", err)
			}
			if cb.OrderID != id || cb.TransactionInfo.Status != tt.want || cb.TransactionInfo.Amount != tt.amount ||
				cb.TransactionInfo.TransactionID != "5000000001" || cb.Express() {
				t.Errorf("callback = %s, want the regular shape with status %s", got.raw, tt.want)
			}
			if tt.errorCode != "" && (cb.ErrorInfo == nil || cb.ErrorInfo.Code != tt.errorCode) {
				t.Errorf("callback errorInfo = %+v, want Payment %s", cb.ErrorInfo, tt.errorCode)
			}
			if tt.errorCode == "" && cb.ErrorInfo != nil {
				t.Errorf("callback errorInfo = %+v, want none", cb.ErrorInfo)
			}

			rec := srv.Sim.Callbacks()
			if len(rec) != 1 || !rec[0].Delivered() || rec[0].Status != tt.want || rec[0].Authorized != (tt.authToken != "") {
				t.Errorf("Sim.Callbacks() = %+v, want one delivered %s", rec, tt.want)
			}
			if string(rec[0].Body) != got.raw {
				t.Errorf("recorded body %s, sent %s", rec[0].Body, got.raw)
			}
		})
	}
}

func TestCallbackDelivery(t *testing.T) {
	t.Run("redirects are not followed", func(t *testing.T) {
		var target, sink callbackSink
		to := target.start(t)
		sink.answer = func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, http.StatusFound) }
		srv := newServer(t)
		req := regular("redirected", 20000)
		req.MerchantInfo.CallbackPrefix = sink.start(t)
		initiate(t, srv.Client, req)
		approveHook(t, srv, "redirected")
		sink.wait(t, srv, 1)
		if len(target.got) != 0 {
			t.Errorf("the redirect target got %d requests, want 0", len(target.got))
		}
		if rec := srv.Sim.Callbacks(); rec[0].StatusCode != http.StatusFound || rec[0].Delivered() {
			t.Errorf("Sim.Callbacks() = %+v, want an undelivered 302", rec)
		}
	})

	t.Run("prefix with a trailing slash", func(t *testing.T) {
		var sink callbackSink
		srv := newServer(t)
		req := regular("slash", 20000)
		req.MerchantInfo.CallbackPrefix = sink.start(t) + "/"
		initiate(t, srv.Client, req)
		approveHook(t, srv, "slash")
		if got := sink.wait(t, srv, 1)[0].path; got != "/vipps//v2/payments/slash" {
			t.Errorf("callback path = %q, want the literal concatenation /vipps//v2/payments/slash", got)
		}
	})

	t.Run("merchant down", func(t *testing.T) {
		dead := httptest.NewServer(http.NotFoundHandler())
		dead.Close()
		srv := newServer(t)
		req := regular("down", 20000)
		req.MerchantInfo.CallbackPrefix = dead.URL
		initiate(t, srv.Client, req)
		approveHook(t, srv, "down")
		srv.Sim.WaitCallbacks()
		if rec := srv.Sim.Callbacks(); len(rec) != 1 || rec[0].Err == "" || rec[0].Delivered() {
			t.Errorf("Sim.Callbacks() = %+v, want one failed delivery", rec)
		}
	})

	t.Run("non-loopback hosts are not called from tests", func(t *testing.T) {
		srv := newServer(t)
		initiate(t, srv.Client, regular("hermetic", 20000)) // callbackPrefix https://shop.example/vipps
		approveHook(t, srv, "hermetic")
		srv.Sim.WaitCallbacks()
		if rec := srv.Sim.Callbacks(); len(rec) != 1 || !strings.Contains(rec[0].Err, "not a loopback address") {
			t.Errorf("Sim.Callbacks() = %+v, want a refusal to leave loopback", rec)
		}
	})

	t.Run("no callbacks for merchant operations", func(t *testing.T) {
		var sink callbackSink
		srv := newServer(t)
		req := regular("merchant-ops", 20000)
		req.MerchantInfo.CallbackPrefix = sink.start(t)
		res := initiate(t, srv.Client, req)
		if err := srv.Client.Approve(t.Context(), "merchant-ops", vipps.ApproveRequest{CustomerPhoneNumber: "91234567", Token: res.Token()}); err != nil {
			t.Fatal(err)
		}
		capture(t, srv.Client, "merchant-ops", 5000)
		if _, err := srv.Client.Refund(t.Context(), "merchant-ops", vipps.CaptureRequest{Amount: 1000, TransactionText: "r"}); err != nil {
			t.Fatal(err)
		}
		got := sink.wait(t, srv, 1) // the force approve only
		if diff := cmp.Diff("RESERVED", got[0].body["transactionInfo"].(map[string]any)["status"]); diff != "" {
			t.Errorf("callback status (-want +got):\n%s", diff)
		}
	})
}
