package payment

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/vippskit/vipps"
)

// TaskKind is a kind of work queued with an event: delivered at least once,
// retried with backoff, each attempt logged.
type TaskKind string

// Task kinds.
const (
	// TaskWebhook tells the shop about the event.
	TaskWebhook TaskKind = "webhook"
	// TaskReceipt sends the payment's receipt and category link to the
	// Order Management API.
	TaskReceipt TaskKind = "receipt"
	// TaskSupersede releases a reservation of a shop order that has a
	// newer attempt (see [Service.ReleaseSuperseded]): queued with the
	// reservation, so that a crash cannot leave the customer paying twice.
	TaskSupersede TaskKind = "supersede"
	// TaskConsentCheck erases an express customer's details when they
	// removed their consent before the service learnt of them (see
	// [Service.HonourRemoval]): queued with the details, so that a crash
	// right after storing them cannot keep them.
	TaskConsentCheck TaskKind = "consent_check"
)

// TaskStatus is where a task is.
type TaskStatus string

// Task statuses.
const (
	TaskPending TaskStatus = "pending"
	TaskDone    TaskStatus = "done"
	// TaskDead: given up after too many attempts; staff may retry it.
	TaskDead TaskStatus = "dead"
)

// Task is one unit of outbound work about a payment.
type Task struct {
	ID       int64 // assigned by the store
	Kind     TaskKind
	OrderID  vipps.OrderID
	EventSeq int64           // the event the task was queued with; set by the store
	Payload  json.RawMessage // what to send, built when the event happened
	Status   TaskStatus
	Attempts int
	// NextAttemptAt is when the task is due; the zero value at queueing
	// means the event's time.
	NextAttemptAt time.Time
	LastError     string
	LeaseOwner    string
	LeaseUntil    time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
	// Log is every attempt, oldest first; filled by Store.Tasks only.
	Log []TaskAttempt
}

// TaskAttempt is one try at a task, as shown in the delivery log.
type TaskAttempt struct {
	At         time.Time
	Duration   time.Duration
	StatusCode int    // the HTTP status answered, 0 if none
	Error      string // empty when the attempt succeeded
}

// ListFilter selects payments for the admin list, newest first.
type ListFilter struct {
	// State, when set, keeps payments in that state only.
	State State
	// Part, when set, keeps payments whose amounts show a partial capture
	// or refund (see [Part]), in any state.
	Part Part
	// Query, when set, keeps payments that match every word of it (split
	// at white space; see [ListFilter.Words]): a word matches when it is
	// part of the orderId, the shop reference, the text or the phone
	// number given at create, or of the first name, last name, e-mail or
	// mobile number the customer shared through express checkout, in any
	// case. LIKE's wildcards are plain characters.
	Query string
	// CreatedFrom and CreatedTo, when not zero, keep payments created at
	// or after CreatedFrom and before CreatedTo. A payment without a
	// creation time is left out by either.
	CreatedFrom, CreatedTo time.Time
	// Before, when set, keeps payments created before it (or at it with a
	// smaller orderId): the cursor of the next page. Totals ignores it.
	Before *Cursor
	// Limit is the page size; 0 means 50, at most 500. Totals ignores it.
	Limit int
}

// The default and the most of ListFilter.Limit.
const (
	defaultListLimit = 50
	maxListLimit     = 500
)

// PageSize is the page size the stores list for f.Limit: 50 for 0 (or
// less), at most 500.
func (f ListFilter) PageSize() int {
	if f.Limit <= 0 {
		return defaultListLimit
	}
	return min(f.Limit, maxListLimit)
}

// Words returns the words of the filter's Query, each of which a payment
// must match. A Norwegian country code before a phone number ("+47",
// "0047", alone or stuck to the digits) is left out.
func (f ListFilter) Words() []string {
	var words []string
	for _, w := range strings.Fields(f.Query) {
		// Staff type Norwegian numbers with the country code; the service
		// keeps the 8 digits.
		for _, cc := range []string{"+47", "0047"} {
			if rest, ok := strings.CutPrefix(w, cc); ok && (rest == "" || allDigits(rest, len(rest))) {
				w = rest
			}
		}
		if w != "" {
			words = append(words, w)
		}
	}
	return words
}

// Patterns returns, for each of Words, the SQL LIKE pattern that finds it
// anywhere in a column folded to lower case: "%word%" in lower case, with
// %, _ and the escape character \ escaped (ESCAPE '\').
func (f ListFilter) Patterns() []string {
	esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	var ps []string
	for _, w := range f.Words() {
		ps = append(ps, "%"+esc.Replace(strings.ToLower(w))+"%")
	}
	return ps
}

// Match reports whether p passes the filter's State, Part, Query and
// creation range (not Before or Limit): what the stores' List and Totals
// select, said in Go.
func (f ListFilter) Match(p *Payment) bool {
	if f.State != "" && p.State != f.State || !f.Part.Has(p.Amounts) {
		return false
	}
	if !f.CreatedFrom.IsZero() && (p.CreatedAt.IsZero() || p.CreatedAt.Before(f.CreatedFrom)) ||
		!f.CreatedTo.IsZero() && (p.CreatedAt.IsZero() || !p.CreatedAt.Before(f.CreatedTo)) {
		return false
	}
	fields := []string{string(p.OrderID), p.ShopRef, p.Text, p.Phone}
	var d ExpressDetails
	if len(p.Shipping) > 0 && json.Unmarshal(p.Shipping, &d) == nil && d.User != nil {
		fields = append(fields, d.User.FirstName, d.User.LastName, d.User.Email, d.User.MobileNumber)
	}
	for _, w := range f.Words() {
		w = strings.ToLower(w)
		if !slices.ContainsFunc(fields, func(s string) bool { return strings.Contains(strings.ToLower(s), w) }) {
			return false
		}
	}
	return true
}

// Part is a filter of the list on amounts rather than on state.
type Part string

// Parts of a payment's amounts the list can filter on.
const (
	// PartlyCaptured: some of the authorized amount is captured, not all
	// of it (the rest still reserved, or released).
	PartlyCaptured Part = "partly_captured"
	// PartlyRefunded: some of the captured amount is refunded, not all of
	// it.
	PartlyRefunded Part = "partly_refunded"
)

// Parts returns every Part, in the order the admin list offers them.
func Parts() []Part { return []Part{PartlyCaptured, PartlyRefunded} }

// Valid reports whether p is one of the parts above.
func (p Part) Valid() bool { return slices.Contains(Parts(), p) }

// Has reports whether amounts a show the part p; every amount has the
// empty part.
func (p Part) Has(a Amounts) bool {
	switch p {
	case "":
		return true
	case PartlyCaptured:
		return a.Captured > 0 && a.Captured < a.Authorized
	case PartlyRefunded:
		return a.Refunded > 0 && a.Refunded < a.Captured
	}
	return false
}

// Totals sums the payments of a filter (all of them, not one page).
type Totals struct {
	// Count is the number of payments.
	Count int
	// Authorized sums Amounts.Authorized of the payments the customer
	// approved (see [TotalsCountAuthorized]): what was reserved, not what
	// was only asked for.
	Authorized vipps.Amount
	// Captured and Refunded sum the payments' amounts.
	Captured, Refunded vipps.Amount
}

// TotalsCountAuthorized reports whether Totals counts the Authorized
// amount of a payment in state s: the customer approved, so the amount was
// reserved.
func TotalsCountAuthorized(s State) bool { return s.reached() }

// Cursor is a position in the newest-first list.
type Cursor struct {
	CreatedAt time.Time
	OrderID   vipps.OrderID
}

// Stats counts payments by state and tasks by kind and status, for metrics
// and the admin overview.
type Stats struct {
	Payments map[State]int
	Tasks    map[TaskKind]map[TaskStatus]int
}
