package payment

import (
	"encoding/json"
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
	// Query, when set, keeps payments whose orderId or shop reference
	// starts with it, or whose text contains it (case-insensitive).
	Query string
	// Before, when set, keeps payments created before it (or at it with a
	// smaller orderId): the cursor of the next page.
	Before *Cursor
	// Limit is the page size; 0 means 50, at most 500.
	Limit int
}

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
