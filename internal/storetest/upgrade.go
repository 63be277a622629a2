package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

// CheckUpgraded checks a store migrated from the first schema in which
// the store's own test wrote one payment, "old-1": reserved 1000 øre for
// "Old socks" (shopRef ref-1, MSN 123456, user u1, version 3, created at
// t0), with one reserved event. The upgraded store must read it as it was,
// due at once (so that the service learns its facts), and take a change
// with a task as any new payment does.
func CheckUpgraded(t *testing.T, s payment.Store, t0 time.Time) {
	t.Helper()
	ctx := t.Context()
	want := &payment.Payment{
		OrderID: "old-1", ShopRef: "ref-1", MSN: "123456", Kind: payment.Regular, Text: "Old socks",
		State: payment.Reserved, Amounts: payment.Amounts{Authorized: 1000, RemainingToCapture: 1000},
		UserID: "u1", CreatedAt: t0, UpdatedAt: t0, Version: 3,
		NextCheckAt: t0,
	}
	got, err := s.Get(ctx, "old-1")
	if err != nil {
		t.Fatalf("Get(old-1) = %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Get(old-1) after upgrade mismatch (-want +got):\n%s", diff)
	}

	got.OrderURL = "https://shop.example/orders/ref-1"
	got.Receipt = &vipps.Receipt{BottomLine: vipps.BottomLine{Currency: "NOK"}}
	captured := payment.Event{Type: payment.EventCaptured, State: payment.Captured, At: t0.Add(time.Minute),
		Tasks: []payment.Task{{Kind: payment.TaskReceipt}}}
	if err := s.Update(ctx, got, captured); err != nil {
		t.Fatalf("Update(old-1) = %v", err)
	}
	again, err := s.Get(ctx, "old-1")
	if err != nil {
		t.Fatalf("Get(old-1) = %v", err)
	}
	if diff := cmp.Diff(got, again); diff != "" {
		t.Errorf("Get(old-1) after Update mismatch (-want +got):\n%s", diff)
	}
	if ts, err := s.Tasks(ctx, "old-1"); err != nil || len(ts) != 1 || ts[0].Kind != payment.TaskReceipt {
		t.Errorf("Tasks(old-1) = %+v, %v; want one receipt task", ts, err)
	}
}
