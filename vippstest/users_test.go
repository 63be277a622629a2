package vippstest_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/vippstest"
)

func TestTestUsersAtInitiate(t *testing.T) {
	tests := []struct {
		phone  string
		status int
		group  vipps.ErrorGroup
		code   vipps.ErrorCode
	}{
		{vippstest.DefaultPhoneNumber, 200, "", ""},
		{vippstest.PhoneUnverifiedFirst, 200, "", ""},
		{vippstest.PhoneNotVippsUser, 400, vipps.GroupUser, vipps.CodeUserCannotPay},
		{vippstest.PhoneUnder15, 400, vipps.GroupUser, vipps.CodeUserCannotPay},
		{vippstest.PhoneAppTooOld, 400, vipps.GroupUser, vipps.CodeAppTooOld},
	}
	for _, tt := range tests {
		t.Run(tt.phone, func(t *testing.T) {
			srv := newServer(t)
			b := initiateBody("users-1")
			b["customerInfo"] = map[string]any{"mobileNumber": tt.phone}
			status, body := newRaw(t, srv).do("POST", "/ecomm/v2/payments", jsonBody(t, b))
			wantAnswer(t, "initiate", status, body, tt.status, tt.group, tt.code)
		})
	}
}

func TestTestUsersAtApproval(t *testing.T) {
	tests := []struct {
		phone string
		group vipps.ErrorGroup // of the error Approve and force approve give
		code  vipps.ErrorCode
	}{
		{vippstest.PhoneNotVippsUser, vipps.GroupUser, vipps.CodeUserCannotPay},
		{vippstest.PhoneAppTooOld, vipps.GroupUser, vipps.CodeAppTooOld},
	}
	for _, tt := range tests {
		t.Run(tt.phone, func(t *testing.T) {
			srv := newServer(t)
			res := initiate(t, srv.Client, regular("users-2", 20000))
			err := srv.Sim.Approve("users-2", tt.phone)
			if !errors.Is(err, vippstest.ErrUser) {
				t.Errorf("Approve(%s) = %v, want ErrUser", tt.phone, err)
			}
			status, body := newRaw(t, srv).do("POST", "/ecomm/v2/integration-test/payments/users-2/approve",
				`{"customerPhoneNumber":"`+tt.phone+`","token":"`+res.Token()+`"}`)
			wantAnswer(t, "force approve", status, body, 400, tt.group, tt.code)
			wantStatus(t, srv, "users-2", vipps.OrderStatusInitiate)
		})
	}

	t.Run("under 15", func(t *testing.T) {
		srv := newServer(t)
		res := initiate(t, srv.Client, regular("users-3", 20000))
		status, body := newRaw(t, srv).do("POST", "/ecomm/v2/integration-test/payments/users-3/approve",
			`{"customerPhoneNumber":"`+vippstest.PhoneUnder15+`","token":"`+res.Token()+`"}`)
		wantAnswer(t, "force approve", status, body, 400, vipps.GroupPayment, vipps.CodeCannotPayCompanies)
		if err := srv.Sim.Approve("users-3", vippstest.PhoneUnder15); err != nil {
			t.Fatalf("Approve = %v, want the reservation to fail", err)
		}
		wantStatus(t, srv, "users-3", vipps.OrderStatusFailed)
		srv.Sim.WaitCallbacks()
		cbs := srv.Sim.Callbacks()
		if len(cbs) != 1 {
			t.Fatalf("callbacks = %d, want 1", len(cbs))
		}
		var cb struct {
			TransactionInfo struct{ Status vipps.CallbackStatus }
			ErrorInfo       vipps.ErrorDetail
		}
		if err := json.Unmarshal(cbs[0].Body, &cb); err != nil {
			t.Fatal(err)
		}
		if cb.TransactionInfo.Status != vipps.CallbackReserveFailed || cb.ErrorInfo.Code != vipps.CodeCannotPayCompanies {
			t.Errorf("callback = %s, want RESERVE_FAILED with Payment 1501", cbs[0].Body)
		}
	})
}

func TestForceApproveNeedsBankIDVerifiedUser(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sim.json")
	srv := newServer(t, snapshotAt(path))
	forceApprove := func(srv *vippstest.Server, id vipps.OrderID, phone string) error {
		res := initiate(t, srv.Client, regular(id, 20000))
		return srv.Client.Approve(t.Context(), id, vipps.ApproveRequest{CustomerPhoneNumber: phone, Token: res.Token()})
	}
	if err := forceApprove(srv, "bankid-0", vippstest.DefaultPhoneNumber); err != nil {
		t.Errorf("force approve by the default user = %v, want success", err)
	}
	if err := forceApprove(srv, "bankid-1", "40000150"); !hasCode(err, vipps.GroupPayment, vipps.CodeNotBankIDVerified) {
		t.Fatalf("force approve by an unverified user = %v, want Payment 1082", err)
	}
	// Approving once by hand verifies the user.
	if err := srv.Sim.Approve("bankid-1", "40000150"); err != nil {
		t.Fatal(err)
	}
	if err := forceApprove(srv, "bankid-2", "40000150"); err != nil {
		t.Errorf("force approve after approving by hand = %v, want success", err)
	}
	if err := forceApprove(srv, "bankid-3", "40000151"); !hasCode(err, vipps.GroupPayment, vipps.CodeNotBankIDVerified) {
		t.Errorf("force approve by another unverified user = %v, want Payment 1082", err)
	}
	srv.Close()
	if err := srv.Sim.Close(); err != nil {
		t.Fatal(err)
	}
	// The snapshot keeps who is verified.
	srv2 := newServer(t, snapshotAt(path))
	if err := forceApprove(srv2, "bankid-4", "40000150"); err != nil {
		t.Errorf("force approve after a restart = %v, want success", err)
	}
}

// hasCode reports whether err is a *vipps.Error with this group and code.
func hasCode(err error, group vipps.ErrorGroup, code vipps.ErrorCode) bool {
	e, ok := errors.AsType[*vipps.Error](err)
	return ok && e.Has(group, code)
}

func TestCardExpiredUser(t *testing.T) {
	srv := newServer(t)
	res := initiate(t, srv.Client, regular("card-1", 20000))
	if err := srv.Client.Approve(t.Context(), "card-1", vipps.ApproveRequest{CustomerPhoneNumber: vippstest.PhoneCardExpired, Token: res.Token()}); err != nil {
		t.Fatalf("force approve = %v, want 200 and a failed reservation", err)
	}
	wantStatus(t, srv, "card-1", vipps.OrderStatusFailed)
	initiate(t, srv.Client, regular("card-2", 20000))
	if err := srv.Sim.Approve("card-2", vippstest.PhoneCardExpired); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, srv, "card-2", vipps.OrderStatusFailed)
}

// TestResendCallback checks that the callback of a payment's outcome can
// be sent again, with its errorInfo, and that a payment without one says
// so.
func TestResendCallback(t *testing.T) {
	srv := newServer(t)
	initiate(t, srv.Client, regular("again-1", 20000))
	if err := srv.Sim.Approve("again-1", vippstest.PhoneCardExpired); err != nil {
		t.Fatal(err)
	}
	initiate(t, srv.Client, regular("again-2", 20000))
	if _, err := srv.Sim.ResendCallback("", "again-2"); !errors.Is(err, vippstest.ErrState) {
		t.Errorf("ResendCallback of a waiting payment = %v, want ErrState", err)
	}
	var out map[string]string
	if status := control(t, srv, "POST", "/_sim/payments/again-1/resend-callback", "", &out); status != http.StatusAccepted || out["status"] != string(vipps.CallbackReserveFailed) {
		t.Errorf("POST resend-callback = %d %v, want 202 RESERVE_FAILED", status, out)
	}
	if status := control(t, srv, "POST", "/_sim/payments/nope/resend-callback", "", nil); status != http.StatusNotFound {
		t.Errorf("POST resend-callback of an unknown order = %d, want 404", status)
	}
	srv.Sim.WaitCallbacks()
	cbs := srv.Sim.Callbacks()
	if len(cbs) != 2 {
		t.Fatalf("callbacks = %d, want 2", len(cbs))
	}
	for _, cb := range cbs {
		var body struct{ ErrorInfo vipps.ErrorDetail }
		if err := json.Unmarshal(cb.Body, &body); err != nil {
			t.Fatal(err)
		}
		if cb.Status != vipps.CallbackReserveFailed || body.ErrorInfo.Code != vipps.CodeExpiredCard {
			t.Errorf("callback %s %s, want RESERVE_FAILED with Payment 44", cb.Status, cb.Body)
		}
	}
}
