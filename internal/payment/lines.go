package payment

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/vippskit/vipps"
)

// LinePick is how much of one receipt line a capture or refund by line
// takes (OpRequest.Lines). It is recorded in the operation's
// EventOperationQueued, so that the history says which lines were taken
// and later forms know what is left of each line.
type LinePick struct {
	// Line is the index of the line in the payment's Receipt.OrderLines.
	Line int `json:"line"`
	// Name is the line's name as it was, for the history.
	Name string `json:"name"`
	// Quantity is the number of units taken (see LineUnits).
	Quantity int `json:"quantity"`
}

// LineUnits is the number of units line l is taken in: its quantity when
// that is a whole number of at least 1, else 1, so that a line sold by
// weight or length, or without unit info, is taken whole.
func LineUnits(l vipps.OrderLine) int {
	if l.UnitInfo != nil {
		if n, err := strconv.Atoi(l.UnitInfo.Quantity); err == nil && n >= 1 {
			return n
		}
	}
	return 1
}

// LineTally is what operations by line took of each receipt line, by the
// line's index; operations Vipps refused do not count, pending ones do.
type LineTally struct {
	Captured, Refunded map[int]int
	// AllCapturesByLine: every capture that counts was by line, so
	// Captured is all that is captured of each line.
	AllCapturesByLine bool
}

// Tally adds up the lines of a payment's operations by line, from its
// history (History.Events and History.Operations).
func Tally(events []Event, ops []*Operation) LineTally {
	t := LineTally{Captured: map[int]int{}, Refunded: map[int]int{}, AllCapturesByLine: true}
	status := make(map[string]OpStatus, len(ops))
	for _, op := range ops {
		status[op.RequestID] = op.Status
	}
	byLine := map[string]bool{}
	for _, e := range events {
		if e.Type != EventOperationQueued {
			continue
		}
		var d struct {
			Op        OpKind     `json:"op"`
			RequestID string     `json:"requestId"`
			Lines     []LinePick `json:"lines"`
		}
		if json.Unmarshal(e.Data, &d) != nil || status[d.RequestID] == OpFailed || len(d.Lines) == 0 {
			continue
		}
		byLine[d.RequestID] = true
		into := t.Captured
		if d.Op == OpRefund {
			into = t.Refunded
		} else if d.Op != OpCapture {
			continue
		}
		for _, l := range d.Lines {
			into[l.Line] += l.Quantity
		}
	}
	for _, op := range ops {
		if op.Kind == OpCapture && op.Status != OpFailed && !byLine[op.RequestID] {
			t.AllCapturesByLine = false
		}
	}
	return t
}

// Left is how many units of line i of r an operation of kind may still
// take by line: for a capture, the line's units less those captured by
// line; for a refund, those captured (all units, unless every capture was
// by line) less those refunded by line. The amounts still bound it: a
// capture or refund is never more than Payment.Actions allows.
func (t LineTally) Left(kind OpKind, r *vipps.Receipt, i int) int {
	if r == nil || i < 0 || i >= len(r.OrderLines) {
		return 0
	}
	n := LineUnits(r.OrderLines[i])
	if kind == OpCapture {
		return max(0, n-t.Captured[i])
	}
	if t.AllCapturesByLine && len(t.Captured) > 0 {
		n = t.Captured[i]
	}
	return max(0, n-t.Refunded[i])
}

// done is how many units of line i were taken by operations of kind.
func (t LineTally) done(kind OpKind, i int) int {
	if kind == OpRefund {
		return t.Refunded[i]
	}
	return t.Captured[i]
}

// LinesAmount is the amount of picks of receipt r for an operation of
// kind after those tallied in t, or a *Refusal (OverLine) for a pick of
// more units than are left, or ErrInvalid for a pick that names no line
// or no units. Units of a line cost its TotalAmount split so that the
// parts of a line always add up to the whole: k units after d of n cost
// ⌊T·(d+k)/n⌋ − ⌊T·d/n⌋. Picks of quantity 0 are dropped from the
// returned picks, which carry each line's name.
func LinesAmount(kind OpKind, r *vipps.Receipt, t LineTally, picks []LinePick) (vipps.Amount, []LinePick, error) {
	if r == nil {
		return 0, nil, fmt.Errorf("%w: the payment has no receipt to take lines of", ErrInvalid)
	}
	var sum vipps.Amount
	var out []LinePick
	seen := map[int]bool{}
	for _, p := range picks {
		switch {
		case p.Line < 0 || p.Line >= len(r.OrderLines):
			return 0, nil, fmt.Errorf("%w: the receipt has no line %d", ErrInvalid, p.Line)
		case seen[p.Line]:
			return 0, nil, fmt.Errorf("%w: line %d is picked twice", ErrInvalid, p.Line)
		case p.Quantity < 0:
			return 0, nil, fmt.Errorf("%w: quantity %d of line %d is negative", ErrInvalid, p.Quantity, p.Line)
		}
		seen[p.Line] = true
		if p.Quantity == 0 {
			continue
		}
		if left := t.Left(kind, r, p.Line); p.Quantity > left {
			return 0, nil, &Refusal{Op: kind, Reason: OverLine, Line: p.Line, Units: p.Quantity, UnitsLeft: left}
		}
		l := r.OrderLines[p.Line]
		n, d := int64(LineUnits(l)), int64(t.done(kind, p.Line))
		total := int64(l.TotalAmount)
		sum += vipps.Amount(total*(d+int64(p.Quantity))/n - total*d/n)
		out = append(out, LinePick{Line: p.Line, Name: l.Name, Quantity: p.Quantity})
	}
	if len(out) == 0 {
		return 0, nil, fmt.Errorf("%w: no line is picked", ErrInvalid)
	}
	return sum, out, nil
}
