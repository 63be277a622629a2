package checklist

import (
	"time"

	"github.com/vippskit/vipps"
)

// Status is the grade of one item.
type Status string

// The grades. Only Fail makes `vipps checklist` exit 1.
const (
	Pass    Status = "pass"
	Fail    Status = "fail"
	Manual  Status = "manual"   // a person must check it; Fix says what
	NotSeen Status = "not-seen" // the evidence holds nothing to grade; Fix says what to do
)

// Item is one entry of the go-live checklist.
type Item struct {
	ID    string
	Title string
}

// Items are the checklist's items, in its order.
var Items = []Item{
	{"endpoints", "All endpoints integrated"},
	{"callbacks", "Callbacks handled for successful and failed payments"},
	{"errors", "Errors logged and handled"},
	{"headers", "Vipps-System-* headers in all requests"},
	{"receipts", "Order Management receipts and categories"},
	{"orderid", "Useful orderIds"},
	{"polling", "Polling /details; never relying on the callback or fallBack alone"},
	{"redirects", "fallBack works in any browser, without a session"},
	{"design", "Vipps design guidelines"},
	{"support", "Customer service tools"},
	{"refund-order", "A test order ending in REFUND"},
	{"void-order", "A test order ending in VOID"},
}

// Evidence is one observation behind a grade.
type Evidence struct {
	OrderID   vipps.OrderID `json:"orderId,omitempty"`
	RequestID string        `json:"requestId,omitempty"`
	Time      time.Time     `json:"time,omitzero"`
	Note      string        `json:"note"`
}

// Result is the grade of one item.
type Result struct {
	ID       string     `json:"id"`
	Title    string     `json:"title"`
	Status   Status     `json:"status"`
	Summary  string     `json:"summary"`
	Evidence []Evidence `json:"evidence"`
	// Fix says what to do when the status is not pass.
	Fix string `json:"fix,omitempty"`
}

// Failed reports whether any result is a failure.
func Failed(rs []Result) bool {
	for _, r := range rs {
		if r.Status == Fail {
			return true
		}
	}
	return false
}
