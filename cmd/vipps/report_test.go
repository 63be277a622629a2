package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"

	"github.com/vippskit/vipps"
)

func TestExitCode(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, 0},
		{"help", flag.ErrHelp, 0},
		{"usage", &usageError{cmd: "capture", err: errors.New("missing order id")}, 2},
		{"vipps", failed(&vipps.Error{StatusCode: 400}, "capture", "a", ""), 1},
		{"other", errors.New("boom"), 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := exitCode(tt.err); got != tt.want {
				t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

func TestPrintError(t *testing.T) {
	vippsErr := &vipps.Error{Op: "capture", OrderID: "acme-1", StatusCode: 400, Group: vipps.GroupPayment, Code: "62",
		Message: "Payment not reserved", ContextID: "ctx-1", RequestID: "req-1"}
	locked := &vipps.Error{Op: "refund", OrderID: "acme-1", StatusCode: 400, Group: vipps.GroupVippsError, Code: "94",
		Message: "Order locked", RequestID: "req-2"}
	for _, tt := range []struct {
		name string
		err  error
		want []string
	}{
		{
			name: "vipps error",
			err:  failed(vippsErr, "capture", "acme-1", "req-1"),
			want: []string{
				"vipps: capture order acme-1: vipps: HTTP 400 Payment 62",
				"  group:", "Payment",
				"  code:", "62",
				"  message:", "Payment not reserved",
				"  context id:", "ctx-1",
				"  request id:", "req-1",
				"  what to do:", vippsErr.MerchantMessage(),
			},
		},
		{
			name: "retryable",
			err:  failed(locked, "refund", "acme-1", "req-2"),
			want: []string{"Retry later with -request-id req-2"},
		},
		{
			name: "unknown outcome of a capture",
			err:  failed(fmt.Errorf("%w: capture order acme-1: connection reset", vipps.ErrOutcomeUnknown), "capture", "acme-1", "req-3"),
			want: []string{
				`Run "vipps details acme-1" before trying again`,
				"retry with -request-id req-3",
				"  request id:", "req-3",
			},
		},
		{
			name: "unknown outcome of an initiate",
			err:  failed(fmt.Errorf("%w: initiate order acme-2: timeout", vipps.ErrOutcomeUnknown), "initiate", "acme-2", ""),
			want: []string{`Run "vipps details acme-2" before trying again`, "initiate again with a new order id"},
		},
		{
			name: "usage",
			err:  &usageError{cmd: "capture", err: errors.New("missing order id")},
			want: []string{"vipps capture: missing order id\n", `Run "vipps capture -h" for usage.`},
		},
		{
			name: "unknown command",
			err:  &usageError{err: errors.New(`unknown command "nope"`)},
			want: []string{"vipps: unknown command \"nope\"\n", `Run "vipps help"`},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			printError(&b, tt.err)
			for _, w := range tt.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("printError(%v) does not show %q:\n%s", tt.err, w, b.String())
				}
			}
		})
	}

	var b bytes.Buffer
	printError(&b, flag.ErrHelp)
	if b.Len() != 0 {
		t.Errorf("printError(flag.ErrHelp) = %q, want nothing", b.String())
	}
}
