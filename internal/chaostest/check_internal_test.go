package chaostest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps"
)

// The suite's own pieces are checked here without processes, so that a
// violation it reports is the service's and not the suite's.

func TestDeriveTruth(t *testing.T) {
	const tx = "5000000001" // the payment's own transaction id
	e := func(op vipps.Operation, amount vipps.Amount, txID string, ok bool) vipps.LogEntry {
		return vipps.LogEntry{Operation: op, Amount: amount, TransactionID: txID, OperationSuccess: ok}
	}
	initiate := e(vipps.OperationInitiate, 1000, tx, true)
	reserve := e(vipps.OperationReserve, 1000, tx, true)
	type outcome struct {
		State        string
		Amounts      amounts
		Released     vipps.Amount
		MerchantEnds int
	}
	tests := []struct {
		name string
		log  []vipps.LogEntry // newest first, as /details sends it
		sum  *vipps.TransactionSummary
		want outcome
	}{
		{"waiting", []vipps.LogEntry{initiate}, nil,
			outcome{State: "initiated", Amounts: amounts{Authorized: 1000}}},
		{"reserved, partly captured",
			[]vipps.LogEntry{e(vipps.OperationCapture, 300, "2", true), reserve, initiate},
			&vipps.TransactionSummary{CapturedAmount: 300, RemainingAmountToCapture: 700, RemainingAmountToRefund: 300},
			outcome{State: "reserved", Amounts: amounts{Authorized: 1000, Captured: 300, RemainingToCapture: 700, RemainingToRefund: 300}}},
		{"voided", []vipps.LogEntry{e(vipps.OperationVoid, 1000, "2", true), reserve, initiate},
			&vipps.TransactionSummary{},
			outcome{State: "voided", Amounts: amounts{Authorized: 1000}, Released: 1000, MerchantEnds: 1}},
		{"rest released after a partial capture",
			[]vipps.LogEntry{e(vipps.OperationVoid, 700, "3", true), e(vipps.OperationCapture, 300, "2", true), reserve, initiate},
			&vipps.TransactionSummary{CapturedAmount: 300, RemainingAmountToRefund: 300},
			outcome{State: "captured", Amounts: amounts{Authorized: 1000, Captured: 300, RemainingToRefund: 300}, Released: 700, MerchantEnds: 1}},
		{"refunded",
			[]vipps.LogEntry{e(vipps.OperationRefund, 1000, "3", true), e(vipps.OperationCapture, 1000, "2", true), reserve, initiate},
			&vipps.TransactionSummary{CapturedAmount: 1000, RefundedAmount: 1000},
			outcome{State: "refunded", Amounts: amounts{Authorized: 1000, Captured: 1000, Refunded: 1000}}},
		{"rejected by the user", []vipps.LogEntry{e(vipps.OperationCancel, 1000, tx, true), initiate},
			&vipps.TransactionSummary{},
			outcome{State: "cancelled", Amounts: amounts{Authorized: 1000}}},
		{"cancelled by the merchant", []vipps.LogEntry{e(vipps.OperationCancel, 1000, "2", true), initiate},
			&vipps.TransactionSummary{},
			outcome{State: "cancelled", Amounts: amounts{Authorized: 1000}, MerchantEnds: 1}},
		{"reservation failed", []vipps.LogEntry{e(vipps.OperationReserve, 1000, tx, false), initiate},
			&vipps.TransactionSummary{},
			outcome{State: "failed", Amounts: amounts{Authorized: 1000}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := deriveTruth(1000, tt.log, tt.sum)
			got := outcome{tr.state, tr.amounts, tr.released, tr.merchantEnds}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("deriveTruth() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReceiverVerify(t *testing.T) {
	const secret = "test-webhook-secret-123"
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"id":1,"type":"reserved","orderId":"chaos-r000001"}`)
	sig := func(secret string, at time.Time, body []byte) string {
		m := hmac.New(sha256.New, []byte(secret))
		fmt.Fprintf(m, "%d.%s", at.Unix(), body)
		return hex.EncodeToString(m.Sum(nil))
	}
	h := &receiver{secret: []byte(secret)}
	tests := []struct {
		name, header string
		ok           bool
	}{
		{"valid", fmt.Sprintf("t=%d,v1=%s", now.Unix(), sig(secret, now, body)), true},
		{"one of two v1 valid", fmt.Sprintf("t=%d,v1=%s,v1=%s", now.Unix(), sig("old-secret-000000", now, body), sig(secret, now, body)), true},
		{"other secret", fmt.Sprintf("t=%d,v1=%s", now.Unix(), sig("another-secret-0000", now, body)), false},
		{"other body", fmt.Sprintf("t=%d,v1=%s", now.Unix(), sig(secret, now, []byte("{}"))), false},
		{"too old", fmt.Sprintf("t=%d,v1=%s", now.Add(-time.Hour).Unix(), sig(secret, now.Add(-time.Hour), body)), false},
		{"no timestamp", "v1=" + sig(secret, now, body), false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := h.verify(tt.header, body, now)
			if (err == nil) != tt.ok {
				t.Errorf("verify(%q) = %v, want ok %v", tt.header, err, tt.ok)
			}
		})
	}
}
