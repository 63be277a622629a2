package web

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

// adminAttentionData is the data of admin_attention.html.
type adminAttentionData struct {
	page
	Rows []adminAttentionRow
	// More: there is more than the page shows; the oldest of each kind
	// are shown.
	More bool
}

// adminAttentionRow is one thing that needs a person, in words.
type adminAttentionRow struct {
	// Kind is the payment.AttentionKind, for the row's style.
	Kind    payment.AttentionKind
	Label   string
	OrderID vipps.OrderID
	URL     string
	// What says what is wrong; Detail adds the error or the ids to quote.
	What, Detail string
	// Since is when it began.
	Since, SinceISO string
	// Do says what staff can do.
	Do string
}

// adminAttentionCount is the count the list's header shows: the number
// of things that need a person, with "+" when there are more than the
// page shows.
type adminAttentionCount struct {
	N    int
	More bool
}

// String is the count as the badge shows it.
func (c adminAttentionCount) String() string {
	s := strconv.Itoa(c.N)
	if c.More {
		s += "+"
	}
	return s
}

// adminAttention serves GET /admin/attention: what needs a person, most
// urgent first (payment.Service.Attention decides what and in which
// order), each row linking to its payment.
func (s *Server) adminAttention(w http.ResponseWriter, r *http.Request) {
	l := s.lang(r)
	a, err := s.svc.Attention(r.Context(), 0)
	if err != nil {
		s.adminFail(w, r, "", err)
		return
	}
	now := s.now()
	d := adminAttentionData{page: s.adminPage(r, "attention", l.T("Needs attention")+" · vippskit admin"), More: a.More}
	for _, it := range a.Items {
		d.Rows = append(d.Rows, adminAttentionRowOf(l, it, now))
	}
	s.writePage(w, r, http.StatusOK, "admin_attention.html", &d)
}

// adminAttentionRowOf is an item as the page shows it.
func adminAttentionRowOf(l lang, it payment.AttentionItem, now time.Time) adminAttentionRow {
	row := adminAttentionRow{
		Kind: it.Kind, OrderID: it.OrderID, URL: adminPaymentURL(it.OrderID),
		Since: adminTime(it.Since, false), SinceISO: adminISO(it.Since),
	}
	switch it.Kind {
	case payment.AttentionReservation:
		p := it.Payment
		row.Label = l.T("Reservation about to expire")
		row.What = l.F("%s of %s is reserved and not captured.", p.Amounts.RemainingToCapture.Kroner(), p.Amounts.Authorized.Kroner())
		limit, days := int(payment.ReservationLimit.Hours()/24), int(math.Ceil(it.Deadline.Sub(now).Hours()/24))
		switch {
		case !now.Before(it.Deadline):
			row.Detail = l.F("Vipps' limit of %d days after the reservation passed on %s.", limit, adminDay(it.Deadline))
		case days == 1:
			row.Detail = l.F("Vipps' limit of %d days after the reservation ends on %s: 1 day left.", limit, adminDay(it.Deadline))
		default:
			row.Detail = l.F("Vipps' limit of %d days after the reservation ends on %s: %d days left.", limit, adminDay(it.Deadline), days)
		}
		row.Do = l.T("Capture what the customer has received, or cancel to release the rest.")
	case payment.AttentionOperation:
		op := it.Operation
		row.Label = l.T("Outcome unknown")
		switch op.Sends {
		case 0:
			row.What = l.F("%s of %s has waited its turn since it was asked for.", l.T(adminOpLabel(op.Kind)), adminOpAmount(l, op))
		case 1:
			row.What = l.F("%s of %s was sent to Vipps once, and no answer has come.", l.T(adminOpLabel(op.Kind)), adminOpAmount(l, op))
		default:
			row.What = l.F("%s of %s was sent to Vipps %d times, and no answer has come.", l.T(adminOpLabel(op.Kind)), adminOpAmount(l, op), op.Sends)
		}
		row.Detail = l.F("Request id %s.", op.RequestID)
		if op.Error != nil {
			row.Detail += " " + l.F("Last error: %s", op.Error.Message)
		}
		row.Do = l.T("Open the payment and use “Check with Vipps now”. The service sends it again with the same request id, so it cannot happen twice.")
	case payment.AttentionTaskDead:
		t := it.Task
		row.Label = l.T("Delivery gave up")
		row.What = l.F("%s: gave up after %d attempts.", l.T(adminTaskLabel(t.Kind)), t.Attempts)
		row.Detail = l.F("Last error: %s", t.LastError)
		row.Do = l.T("Fix what the error says, then open the payment and send it again.")
	case payment.AttentionTaskFailing:
		t := it.Task
		row.Label = l.T("Delivery failing")
		row.What = l.T(adminTaskLabel(t.Kind)) + ": " + adminFailingLabel(l, t, now)
		row.Do = l.T("The service keeps trying. If the error is on the shop's side, fix it; the payment page can send it again now.")
	case payment.AttentionUnreachable:
		p := it.Payment
		row.Label = l.T("Vipps cannot be asked")
		row.What = l.F("The last %d checks with Vipps failed.", p.CheckFailures)
		last := p.CheckError
		if e := p.LastError; e != nil && e.Op == "details" && !e.At.Before(p.CheckFailedSince) {
			last = e.StaffMessageIn(string(l))
		}
		row.Detail = l.F("Last error: %s", last)
		row.Do = l.T("The service keeps asking. If it goes on, check Vipps' status page, or ask Vipps about the orderId.")
	}
	return row
}

// adminFailingLabel says that a delivery is failing and when it is tried
// next: "Failing — retrying at 10:32 (3 attempts, last error: …)".
func adminFailingLabel(l lang, t *payment.Task, now time.Time) string {
	at := adminClock(t.NextAttemptAt, now)
	if t.Attempts == 1 {
		return l.F("Failing — retrying at %s (1 attempt, last error: %s)", at, t.LastError)
	}
	return l.F("Failing — retrying at %s (%d attempts, last error: %s)", at, t.Attempts, t.LastError)
}

// adminClock is t as staff read a time soon: the hour and minute on the
// day of now (in Oslo), else the day too.
func adminClock(t, now time.Time) string {
	lt, ln := t.In(adminZone), now.In(adminZone)
	if lt.Year() == ln.Year() && lt.YearDay() == ln.YearDay() {
		return lt.Format("15:04")
	}
	return lt.Format("02.01.2006 15:04")
}

// adminDay is the day of t in Oslo.
func adminDay(t time.Time) string { return t.In(adminZone).Format("02.01.2006") }
