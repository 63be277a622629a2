package payment

import (
	"slices"
	"strconv"
	"time"

	"github.com/vippskit/vipps"
)

// Fact is one entry of Vipps' transaction log for a payment, as the service
// learned it: from a /details answer, or from Vipps' answer to one of the
// service's own captures and refunds (which Vipps logs the same way).
// Facts are the books: they are stored once, never changed and never
// deleted, and a payment's state and amounts are a function of them (see
// [Derive]). An answer that shows less than is stored (a replayed answer, a
// /details read before a later change, one operation's own summary) adds no
// fact and so takes nothing away.
//
// A fact names nothing specific to eCom v2 beyond Vipps' operation names,
// so that another source of Vipps' log (such as ePayment's events) could
// feed the same store.
type Fact struct {
	// Seq is assigned by the store when the fact is stored: increasing in
	// the order facts were learned. Zero means not stored yet.
	Seq     int64
	OrderID vipps.OrderID
	// Operation and Success are the log entry's operation and
	// operationSuccess: a failed RESERVE is a fact too, and no
	// reservation.
	Operation vipps.Operation
	Success   bool
	// Amount is the entry's amount in øre: for CAPTURE and REFUND the money
	// of that operation.
	Amount vipps.Amount
	// TransactionID and RequestID identify the entry (either may be empty):
	// two observations are the same fact when their operation and success
	// agree and they share a non-empty RequestID or TransactionID (see
	// [Fact.Same]).
	TransactionID string
	RequestID     string
	// At is Vipps' time of the entry.
	At time.Time
	// Source says where the service learned it: "details", or the
	// operation whose answer told it ("capture", "refund").
	Source string
	// SeenAt is when the service learned it.
	SeenAt time.Time
}

// Same reports whether f and g are one entry of Vipps' log seen twice.
func (f *Fact) Same(g *Fact) bool {
	if f.Operation != g.Operation || f.Success != g.Success {
		return false
	}
	switch {
	case f.RequestID != "" && f.RequestID == g.RequestID:
		return true
	case f.TransactionID != "" && f.TransactionID == g.TransactionID:
		return true
	case f.RequestID == "" && g.RequestID == "" && f.TransactionID == "" && g.TransactionID == "":
		return f.Amount == g.Amount && f.At.Equal(g.At)
	}
	return false
}

// Key is a stable name of the fact, unique within its payment: events made
// from a fact carry it, and the store refuses a second event of one type
// for one fact.
func (f Fact) Key() string {
	ok := "ok"
	if !f.Success {
		ok = "failed"
	}
	k := string(f.Operation) + ":" + ok + ":"
	switch {
	case f.RequestID != "":
		return k + "r:" + f.RequestID
	case f.TransactionID != "":
		return k + "t:" + f.TransactionID
	}
	return k + "a:" + strconv.FormatInt(f.At.UnixMicro(), 10) + ":" + strconv.FormatInt(int64(f.Amount), 10)
}

// money reports whether the fact moves or holds money.
func (f *Fact) money() bool {
	switch f.Operation {
	case vipps.OperationReserve, vipps.OperationSale, vipps.OperationCapture, vipps.OperationRefund, vipps.OperationVoid:
		return f.Success
	}
	return false
}

// FactsOf are the facts of a /details answer, oldest first (Vipps sends
// the log newest first). Entries whose operation the service does not know
// are left out.
func FactsOf(d *vipps.PaymentDetails, seen time.Time) []Fact {
	if d == nil {
		return nil
	}
	log := d.TransactionLogHistory
	out := make([]Fact, 0, len(log))
	for i := len(log) - 1; i >= 0; i-- {
		e := log[i]
		switch e.Operation {
		case vipps.OperationInitiate, vipps.OperationReserve, vipps.OperationSale, vipps.OperationCapture,
			vipps.OperationRefund, vipps.OperationCancel, vipps.OperationVoid:
		default:
			continue
		}
		out = append(out, Fact{
			OrderID: d.OrderID, Operation: e.Operation, Success: e.OperationSuccess, Amount: e.Amount,
			TransactionID: e.TransactionID, RequestID: e.RequestID, At: e.TimeStamp.Time.UTC(),
			Source: "details", SeenAt: seen,
		})
	}
	// Vipps sorts by time; entries of one instant keep Vipps' order.
	slices.SortStableFunc(out, func(a, b Fact) int { return a.At.Compare(b.At) })
	return out
}

// Books is what the facts of a payment say.
type Books struct {
	// State is the state the facts determine, or "" when they determine
	// none (no reservation, cancel or failure yet): the payment's own
	// record of initiate decides then.
	State State
	// Initiated is set when Vipps' log shows the payment.
	Initiated bool
	Amounts   Amounts
	// Released is what was reserved and let go without capture (a VOID).
	Released vipps.Amount
	// DirectCapture is set when Vipps captured at approval (SALE).
	DirectCapture bool
}

// Derive computes what facts say: amounts are sums of the money facts, so
// they only grow as facts are added; the state follows from the amounts.
// authorized is what the customer was asked for, kept as the authorized
// amount until a reservation says otherwise.
func Derive(facts []Fact, authorized vipps.Amount) Books {
	var (
		b                            = Books{Amounts: Amounts{Authorized: authorized}}
		reserved, captured, refunded vipps.Amount
		voided, cancelled, failed    bool
	)
	for i := range facts {
		f := &facts[i]
		switch f.Operation {
		case vipps.OperationInitiate:
			b.Initiated = b.Initiated || f.Success
		case vipps.OperationReserve, vipps.OperationSale:
			if !f.Success {
				failed = true
				continue
			}
			reserved = max(reserved, f.Amount)
			if f.Operation == vipps.OperationSale {
				b.DirectCapture = true
				captured += f.Amount
			}
		case vipps.OperationCapture:
			if f.Success {
				captured += f.Amount
			}
		case vipps.OperationRefund:
			if f.Success {
				refunded += f.Amount
			}
		case vipps.OperationVoid:
			voided = voided || f.Success
		case vipps.OperationCancel:
			cancelled = cancelled || f.Success
		}
	}
	switch {
	case reserved > 0:
		a := Amounts{Authorized: reserved, Captured: captured, Refunded: refunded}
		if !voided {
			a.RemainingToCapture = max(reserved-captured, 0)
		} else {
			b.Released = max(reserved-captured, 0)
		}
		a.RemainingToRefund = max(captured-refunded, 0)
		b.Amounts, b.State, b.Initiated = a, reservedState(a), true
	case cancelled:
		b.State, b.Initiated = Cancelled, true
	case failed:
		b.State, b.Initiated = Failed, true
	}
	return b
}

// learn adds to p.Facts those of fs that it does not have, and returns
// them, oldest first.
func (p *Payment) learn(fs ...Fact) []Fact {
	var added []Fact
next:
	for _, f := range fs {
		for i := range p.Facts {
			if p.Facts[i].Same(&f) {
				continue next
			}
		}
		f.OrderID, f.Seq = p.OrderID, 0
		p.Facts = append(p.Facts, f)
		added = append(added, f)
	}
	return added
}

// succeeded is the test for a successful fact of one of ops.
func succeeded(ops ...vipps.Operation) func(Fact) bool {
	return func(f Fact) bool { return f.Success && slices.Contains(ops, f.Operation) }
}

// has reports whether p knows a successful fact of one of ops.
func (p *Payment) has(ops ...vipps.Operation) bool {
	return slices.ContainsFunc(p.Facts, succeeded(ops...))
}

// cancelDone reports whether Vipps' log, as p knows it, shows what a
// cancel does: the payment cancelled before approval, or (all or the rest
// of) its reservation released.
func (p *Payment) cancelDone() bool { return p.has(vipps.OperationCancel, vipps.OperationVoid) }

// hasRequest reports whether p knows a successful fact with request id r.
func (p *Payment) hasRequest(op vipps.Operation, r string) bool {
	return r != "" && slices.ContainsFunc(p.Facts, func(f Fact) bool {
		return f.Success && f.Operation == op && f.RequestID == r
	})
}
