package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/vippskit/vipps"
)

// usageError is a mistake on the command line: a bad flag, a missing
// argument or setting. It exits with status 2.
type usageError struct {
	cmd string // "" for the vipps command itself
	err error
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// opError is a failed call to Vipps with what the user needs to act on it.
type opError struct {
	err       error
	op        string // the command: "capture", "initiate", ...
	orderID   vipps.OrderID
	requestID string // the X-Request-Id sent, "" when none
}

func (e *opError) Error() string { return e.err.Error() }
func (e *opError) Unwrap() error { return e.err }

// failed wraps err from a call for order with its X-Request-Id (if any).
func failed(err error, op string, order vipps.OrderID, requestID string) error {
	return &opError{err: err, op: op, orderID: order, requestID: requestID}
}

// exitCode maps an error to the process exit status: 0 for none and for -h,
// 2 for usage errors, 1 for everything else.
func exitCode(err error) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if _, ok := errors.AsType[*usageError](err); ok {
		return 2
	}
	return 1
}

// printError writes err for a person: the error, then for an error from
// Vipps its group, code, message and context id and what to do about it,
// and for an unknown outcome how to find out before acting again. It
// prints nothing for flag.ErrHelp: the usage was printed already.
func printError(w io.Writer, err error) {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return
	}
	if ue, ok := errors.AsType[*usageError](err); ok {
		if ue.cmd == "" {
			fmt.Fprintf(w, "vipps: %v\nRun \"vipps help\" for the commands.\n", ue.err)
		} else {
			fmt.Fprintf(w, "vipps %s: %v\nRun \"vipps %s -h\" for usage.\n", ue.cmd, ue.err, ue.cmd)
		}
		return
	}
	fmt.Fprintf(w, "vipps: %v\n", err)
	var kv []string
	ve, isVipps := errors.AsType[*vipps.Error](err)
	if isVipps {
		status := ""
		if ve.StatusCode != 0 {
			status = strconv.Itoa(ve.StatusCode)
		}
		kv = append(kv,
			"group", string(ve.Group),
			"code", string(ve.Code),
			"message", ve.Message,
			"http status", status,
			"context id", ve.ContextID,
			"request id", ve.RequestID,
		)
		for _, p := range ve.InvalidParams {
			kv = append(kv, "invalid", p.Name+": "+p.Reason)
		}
	}
	oe, _ := errors.AsType[*opError](err)
	if oe == nil {
		oe = &opError{}
	}
	if oe.requestID != "" && (!isVipps || ve.RequestID == "") {
		kv = append(kv, "request id", oe.requestID)
	}
	var todo []string
	if isVipps {
		todo = append(todo, ve.MerchantMessage())
	}
	details := "vipps details " + string(oe.orderID)
	if oe.orderID == "" {
		details = "vipps details <order-id>"
	}
	switch {
	case errors.Is(err, vipps.ErrOutcomeUnknown):
		todo = append(todo, fmt.Sprintf("The outcome is unknown: the request may have reached Vipps. Run %q before trying again.", details))
		switch {
		case oe.op == "initiate":
			todo = append(todo, "If Vipps does not know the order id, initiate again with a new order id.")
		case oe.requestID != "":
			todo = append(todo, fmt.Sprintf("If the log does not show the %s, retry with -request-id %s: Vipps applies it at most once.", oe.op, oe.requestID))
		}
	case isVipps && ve.Retryable() && oe.requestID != "":
		todo = append(todo, fmt.Sprintf("Retry later with -request-id %s: Vipps applies it at most once.", oe.requestID))
	}
	if len(todo) > 0 {
		kv = append(kv, "what to do", strings.Join(todo, " "))
	}
	fields(w, "  ", kv...)
}
