package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/checklist"
)

// testOrderAmount is what each test order of -run-test-orders reserves.
const testOrderAmount vipps.Amount = 200

// vippsChecklist is the settings of vipps checklist -vipps.
type vippsChecklist struct {
	orders                   orderList
	run                      bool
	phone                    string
	callbackPrefix, fallBack string
	wait, poll               time.Duration
}

// orderList is a repeatable -order flag.
type orderList []vipps.OrderID

func (l orderList) String() string {
	s := make([]string, len(l))
	for i, id := range l {
		s[i] = string(id)
	}
	return strings.Join(s, ",")
}

func (l *orderList) Set(v string) error {
	id := vipps.OrderID(v)
	if err := id.Validate(); err != nil {
		return err
	}
	*l = append(*l, id)
	return nil
}

// check checks the -vipps settings that are not the client's.
func (c *vippsChecklist) check(f *verb) error {
	switch {
	case len(c.orders) == 0 && !c.run:
		return f.usagef("-vipps needs the test orders: -order ID for each (one ending in REFUND, one in VOID), or -run-test-orders to make them now")
	case len(c.orders) > 0 && c.run:
		return f.usagef("give -order or -run-test-orders, not both")
	case c.run && (c.wait <= 0 || c.poll <= 0):
		return f.usagef("-wait and -poll must be positive")
	case c.phone != "" && !c.run:
		return f.usagef("-phone is for -run-test-orders only")
	}
	return nil
}

// required names the flags -vipps needs besides the client's credentials.
func (c *vippsChecklist) required() []string {
	if c.run {
		return []string{"callback-prefix", "fallback"}
	}
	return nil
}

// grade makes the test orders when asked, reads the /details of every
// order, and grades them. Progress and what a person must do go to w.
func (c *vippsChecklist) grade(ctx context.Context, client *vipps.Client, w io.Writer) ([]checklist.Result, string, error) {
	ids := c.orders
	if c.run {
		for _, end := range []vipps.Operation{vipps.OperationRefund, vipps.OperationVoid} {
			id, err := c.testOrder(ctx, client, w, end)
			if err != nil {
				return nil, "", err
			}
			ids = append(ids, id)
		}
	}
	in := checklist.Orders{VippsURL: client.BaseURL()}
	in.SystemName, in.SystemVersion = client.System()
	for _, id := range ids {
		d, err := client.Details(ctx, id)
		if err != nil {
			return nil, "", fmt.Errorf("details of order %s: %w", id, err)
		}
		in.Details = append(in.Details, *d)
	}
	header := fmt.Sprintf("Go-live test orders %s at %s (MSN %s), as Vipps' /details showed them %s.",
		ids.String(), redact(client.BaseURL()), client.MerchantSerialNumber(), time.Now().UTC().Format(time.RFC3339))
	return checklist.GradeVipps(in), header, nil
}

// testOrder initiates a test order, prints its URL for a person to approve
// in the Vipps app, waits until it is reserved, and then either captures
// and refunds it in full (end REFUND) or cancels it (end VOID).
func (c *vippsChecklist) testOrder(ctx context.Context, client *vipps.Client, w io.Writer, end vipps.Operation) (vipps.OrderID, error) {
	id := vipps.NewOrderID("golive-" + strings.ToLower(string(end)))
	text := "Go-live test order, to end in " + string(end)
	resp, err := client.Initiate(ctx, vipps.InitiateRequest{
		CustomerInfo: vipps.CustomerInfo{MobileNumber: c.phone},
		MerchantInfo: vipps.MerchantInfo{CallbackPrefix: c.callbackPrefix, FallBack: c.fallBack},
		Transaction:  vipps.InitiateTransaction{Amount: testOrderAmount, OrderID: id, TransactionText: text},
	})
	if err != nil {
		return "", fmt.Errorf("initiate test order %s: %w", id, err)
	}
	who := "the test user"
	if c.phone != "" {
		who += " " + c.phone
	}
	fmt.Fprintf(w, "Test order %s (%s, to end in %s): open this URL within %s and approve it in the Vipps app as %s:\n\t%s\n",
		id, testOrderAmount.Kroner(), end, c.wait, who, resp.URL)
	if err := c.awaitReserve(ctx, client, id); err != nil {
		return "", err
	}
	if end == vipps.OperationRefund {
		if _, err := client.Capture(ctx, id, vipps.CaptureRequest{TransactionText: text}); err != nil {
			return "", fmt.Errorf("capture test order %s: %w", id, err)
		}
		if _, err := client.Refund(ctx, id, vipps.CaptureRequest{TransactionText: text}); err != nil {
			return "", fmt.Errorf("refund test order %s: %w", id, err)
		}
		fmt.Fprintf(w, "Test order %s is reserved, captured and refunded.\n", id)
	} else {
		if _, err := client.Cancel(ctx, id, vipps.CancelRequest{TransactionText: text}); err != nil {
			return "", fmt.Errorf("cancel test order %s: %w", id, err)
		}
		fmt.Fprintf(w, "Test order %s is reserved and cancelled.\n", id)
	}
	return id, nil
}

// errNotApproved is why waiting for a test order stopped.
var errNotApproved = errors.New("not approved in time")

// awaitReserve polls /details every -poll until the order is reserved, and
// fails when it ends otherwise or -wait passes.
func (c *vippsChecklist) awaitReserve(ctx context.Context, client *vipps.Client, id vipps.OrderID) error {
	ctx, cancel := context.WithTimeoutCause(ctx, c.wait, errNotApproved)
	defer cancel()
	tick := time.NewTicker(c.poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			if errors.Is(context.Cause(ctx), errNotApproved) {
				return fmt.Errorf("test order %s was not approved within %s: run again and approve it in the Vipps app (or give a longer -wait)", id, c.wait)
			}
			return ctx.Err()
		case <-tick.C:
		}
		d, err := client.Details(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				continue // the deadline says why
			}
			return fmt.Errorf("details of test order %s: %w", id, err)
		}
		if _, ok := d.Last(vipps.OperationReserve); ok {
			return nil
		}
		if last, ok := d.Last(); ok && last.Operation != vipps.OperationInitiate {
			return fmt.Errorf("test order %s ended in %s instead of being reserved: make sure the sales unit uses reserve-capture, run again, and approve it in the Vipps app", id, last.Operation)
		}
		if len(d.TransactionLogHistory) > 0 && d.TransactionLogHistory[0].Operation == vipps.OperationReserve {
			return fmt.Errorf("the reservation of test order %s failed: run again and pay with a card that works", id)
		}
	}
}
