package vippstest_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/vippstest"
)

// outcome is a cell of the permission matrix: a summary after success, or
// an error.
type outcome struct {
	group vipps.ErrorGroup
	code  vipps.ErrorCode
	sum   vipps.TransactionSummary
}

func ok(captured, remainingToCapture, refunded, remainingToRefund vipps.Amount) outcome {
	return outcome{sum: sum(captured, remainingToCapture, refunded, remainingToRefund)}
}

func payment(code vipps.ErrorCode) outcome  { return outcome{group: vipps.GroupPayment, code: code} }
func vippsErr(code vipps.ErrorCode) outcome { return outcome{group: vipps.GroupVippsError, code: code} }

// TestPermissionMatrix checks every cell of the reference's permission
// matrix, each on a fresh 20000 øre payment.
func TestPermissionMatrix(t *testing.T) {
	type setup func(t *testing.T, srv *vippstest.Server, id vipps.OrderID)
	approved := func(t *testing.T, srv *vippstest.Server, id vipps.OrderID) { approveHook(t, srv, id) }
	then := func(steps ...setup) setup {
		return func(t *testing.T, srv *vippstest.Server, id vipps.OrderID) {
			for _, s := range steps {
				s(t, srv, id)
			}
		}
	}
	captured := func(a vipps.Amount) setup {
		return func(t *testing.T, srv *vippstest.Server, id vipps.OrderID) { capture(t, srv.Client, id, a) }
	}
	cancelled := func(release bool) setup {
		return func(t *testing.T, srv *vippstest.Server, id vipps.OrderID) {
			if _, err := srv.Client.Cancel(t.Context(), id, vipps.CancelRequest{TransactionText: "cancel", ShouldReleaseRemainingFunds: release}); err != nil {
				t.Fatalf("Cancel = %v", err)
			}
		}
	}
	advanced := func(d time.Duration) setup {
		return func(t *testing.T, srv *vippstest.Server, id vipps.OrderID) { srv.Sim.Advance(d) }
	}
	day := 24 * time.Hour

	ops := []struct {
		name string
		do   func(ctx context.Context, c *vipps.Client, id vipps.OrderID) (*vipps.TransactionResponse, error)
	}{
		{"capture full", func(ctx context.Context, c *vipps.Client, id vipps.OrderID) (*vipps.TransactionResponse, error) {
			return c.Capture(ctx, id, vipps.CaptureRequest{TransactionText: "all of it"})
		}},
		{"capture 1000", func(ctx context.Context, c *vipps.Client, id vipps.OrderID) (*vipps.TransactionResponse, error) {
			return c.Capture(ctx, id, vipps.CaptureRequest{Amount: 1000, TransactionText: "some of it"})
		}},
		{"cancel", func(ctx context.Context, c *vipps.Client, id vipps.OrderID) (*vipps.TransactionResponse, error) {
			return c.Cancel(ctx, id, vipps.CancelRequest{TransactionText: "cancel"})
		}},
		{"cancel releasing", func(ctx context.Context, c *vipps.Client, id vipps.OrderID) (*vipps.TransactionResponse, error) {
			return c.Cancel(ctx, id, vipps.CancelRequest{TransactionText: "release", ShouldReleaseRemainingFunds: true})
		}},
		{"refund 1000", func(ctx context.Context, c *vipps.Client, id vipps.OrderID) (*vipps.TransactionResponse, error) {
			return c.Refund(ctx, id, vipps.CaptureRequest{Amount: 1000, TransactionText: "refund"})
		}},
	}

	rows := []struct {
		state  string
		direct bool
		amount vipps.Amount
		setup  setup
		want   [5]outcome // in the order of ops
	}{
		{"INITIATE", false, 20000, func(*testing.T, *vippstest.Server, vipps.OrderID) {},
			[5]outcome{payment(vipps.CodeCaptureNotReserved), payment(vipps.CodeCaptureNotReserved), ok(0, 0, 0, 0), ok(0, 0, 0, 0), payment(vipps.CodeRefundNotCaptured)}},
		{"RESERVE", false, 20000, approved,
			[5]outcome{ok(20000, 0, 0, 20000), ok(1000, 19000, 0, 1000), ok(0, 0, 0, 0), ok(0, 0, 0, 0), payment(vipps.CodeRefundNotCaptured)}},
		{"partly captured", false, 20000, then(approved, captured(5000)),
			[5]outcome{ok(20000, 0, 0, 20000), ok(6000, 14000, 0, 6000), payment(vipps.CodeCancelCaptured), ok(5000, 0, 0, 5000), ok(5000, 15000, 1000, 4000)}},
		{"fully captured", false, 20000, then(approved, captured(0)),
			[5]outcome{payment(vipps.CodeCaptureOverReserved), payment(vipps.CodeCaptureOverReserved), payment(vipps.CodeCancelCaptured), payment(vipps.CodeCancelCaptured), ok(20000, 0, 1000, 19000)}},
		{"rest released", false, 20000, then(approved, captured(5000), cancelled(true)),
			[5]outcome{payment(vipps.CodeCaptureOverReserved), payment(vipps.CodeCaptureOverReserved), payment(vipps.CodeCancelCaptured), payment(vipps.CodeCancelCaptured), ok(5000, 0, 1000, 4000)}},
		{"SALE", true, 20000, approved,
			[5]outcome{payment(vipps.CodeCaptureOverReserved), payment(vipps.CodeCaptureOverReserved), payment(vipps.CodeCancelCaptured), payment(vipps.CodeCancelCaptured), ok(20000, 0, 1000, 19000)}},
		{"CANCEL by the merchant", false, 20000, cancelled(false),
			[5]outcome{vippsErr(vipps.CodeNotAllowed), vippsErr(vipps.CodeNotAllowed), vippsErr(vipps.CodeAlreadyProcessed), vippsErr(vipps.CodeAlreadyProcessed), payment(vipps.CodeRefundCancelled)}},
		{"VOID", false, 20000, then(approved, cancelled(false)),
			[5]outcome{vippsErr(vipps.CodeNotAllowed), vippsErr(vipps.CodeNotAllowed), vippsErr(vipps.CodeAlreadyProcessed), vippsErr(vipps.CodeAlreadyProcessed), payment(vipps.CodeRefundCancelled)}},
		{"rejected by the user", false, 20000, func(t *testing.T, srv *vippstest.Server, id vipps.OrderID) {
			if err := srv.Sim.Reject(id); err != nil {
				t.Fatal(err)
			}
		}, [5]outcome{payment(vipps.CodeCaptureNotReserved), payment(vipps.CodeCaptureNotReserved), payment(vipps.CodeCancelFailed), payment(vipps.CodeCancelFailed), payment(vipps.CodeRefundCancelled)}},
		{"timed out", false, 20000, advanced(11 * time.Minute),
			[5]outcome{payment(vipps.CodeCaptureNotReserved), payment(vipps.CodeCaptureNotReserved), payment(vipps.CodeCancelFailed), payment(vipps.CodeCancelFailed), payment(vipps.CodeRefundCancelled)}},
		{"reservation failed", false, 186, approved,
			[5]outcome{payment(vipps.CodeCaptureNotReserved), payment(vipps.CodeCaptureNotReserved), payment(vipps.CodeCancelFailed), payment(vipps.CodeCancelFailed), payment(vipps.CodeRefundCancelled)}},
		{"reserved 181 days ago", false, 20000, then(approved, advanced(181*day)),
			[5]outcome{payment(vipps.CodeCaptureTooLate), payment(vipps.CodeCaptureTooLate), payment(vipps.CodeCancelFailed), payment(vipps.CodeCancelFailed), payment(vipps.CodeRefundNotCaptured)}},
		{"captured, reserved 179 days ago", false, 20000, then(approved, captured(5000), advanced(179*day)),
			[5]outcome{ok(20000, 0, 0, 20000), ok(6000, 14000, 0, 6000), payment(vipps.CodeCancelCaptured), ok(5000, 0, 0, 5000), ok(5000, 15000, 1000, 4000)}},
		{"captured, reserved 366 days ago", false, 20000, then(approved, captured(5000), advanced(366*day)),
			[5]outcome{payment(vipps.CodeCaptureTooLate), payment(vipps.CodeCaptureTooLate), payment(vipps.CodeCancelFailed), payment(vipps.CodeCancelFailed), payment(vipps.CodeRefundTooLate)}},
	}

	for _, row := range rows {
		t.Run(row.state, func(t *testing.T) {
			for i, op := range ops {
				t.Run(op.name, func(t *testing.T) {
					var srv *vippstest.Server
					if row.direct {
						srv = newServer(t, merchants(directMerchant))
					} else {
						srv = newServer(t)
					}
					const id = "matrix-1"
					initiate(t, srv.Client, regular(id, row.amount))
					row.setup(t, srv, id)
					res, err := op.do(t.Context(), srv.Client, id)
					want := row.want[i]
					if want.group != "" {
						wantVippsError(t, op.name, err, http.StatusBadRequest, want.group, want.code)
						return
					}
					if err != nil {
						t.Fatalf("%s = %v, want success", op.name, err)
					}
					if res.TransactionSummary != want.sum {
						t.Errorf("%s summary = %+v, want %+v", op.name, res.TransactionSummary, want.sum)
					}
				})
			}
		})
	}
}
