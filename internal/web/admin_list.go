package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

// adminPageSize is the list's page size unless ?limit= says otherwise.
const adminPageSize = 50

// adminSearchMax is the longest search (?q=) the list takes, in
// characters: longer than any orderId or shop reference, and short enough
// for any store to search by.
const adminSearchMax = 100

// adminDateLayout is how the list's date range is written in links: the
// value of an <input type="date">, a day in Oslo.
const adminDateLayout = "2006-01-02"

// adminListQuery is the filter of the list and of its export, as a link
// says it.
type adminListQuery struct {
	// Query is the search: words that must all match (see
	// payment.ListFilter.Query).
	Query string
	// State is a payment.State, a payment.Part, or "" for every payment.
	State string
	// From and To are the first and last day of the created range, in
	// Oslo (adminDateLayout), or "".
	From, To string
	// Filter is the above for the service.
	Filter payment.ListFilter
}

// parseAdminListQuery reads the list's filter from a link: q, state, from
// and to. Problems are said in words for staff; what is wrong is left
// out of the filter.
func parseAdminListQuery(lg lang, q url.Values) (adminListQuery, []string) {
	var (
		l        adminListQuery
		problems []string
	)
	l.Query = strings.TrimSpace(q.Get("q"))
	if n := utf8.RuneCountInString(l.Query); n > adminSearchMax {
		problems = append(problems, lg.F("the search is %d characters; search with at most %d (an orderId, a shop reference, a name, a phone number or a few words of the text)", n, adminSearchMax))
		l.Query = ""
	}
	l.Filter.Query = l.Query
	if v := q.Get("state"); v != "" {
		switch st, part := payment.State(v), payment.Part(v); {
		case st.Valid():
			l.State, l.Filter.State = v, st
		case part.Valid():
			l.State, l.Filter.Part = v, part
		default:
			problems = append(problems, lg.F("there is no state %q; showing every state", clip(v, 30)))
		}
	}
	day := func(name string) (time.Time, string) {
		v := q.Get(name)
		if v == "" {
			return time.Time{}, ""
		}
		t, err := time.ParseInLocation(adminDateLayout, v, adminZone)
		if len(v) > len(adminDateLayout) || err != nil {
			problems = append(problems, lg.F("the date %q is not a date like 2026-11-24; showing every date", clip(v, 20)))
			return time.Time{}, ""
		}
		return t, v
	}
	from, fromText := day("from")
	to, toText := day("to")
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		problems = append(problems, lg.F("the range ends (%s) before it starts (%s); showing every date", toText, fromText))
		from, fromText, to, toText = time.Time{}, "", time.Time{}, ""
	}
	l.From, l.To = fromText, toText
	l.Filter.CreatedFrom = from
	if !to.IsZero() {
		// The whole last day: until the next midnight in Oslo, which is
		// 23 or 25 hours later on the days the clocks change.
		l.Filter.CreatedTo = time.Date(to.Year(), to.Month(), to.Day()+1, 0, 0, 0, 0, adminZone)
	}
	return l, problems
}

// values is the filter for a link, without the empty ones.
func (l adminListQuery) values() url.Values {
	v := url.Values{}
	for _, kv := range [][2]string{{"q", l.Query}, {"state", l.State}, {"from", l.From}, {"to", l.To}} {
		if kv[1] != "" {
			v.Set(kv[0], kv[1])
		}
	}
	return v
}

// filtered reports whether the filter leaves out any payment.
func (l adminListQuery) filtered() bool {
	return l.Query != "" || l.State != "" || l.From != "" || l.To != ""
}

// adminListData is the data of admin_list.html.
type adminListData struct {
	page
	adminListQuery
	States []adminStateCount
	// Parts are the filters on partly captured and refunded payments.
	Parts []adminStateCount
	// Filtered is set when the filter leaves out any payment.
	Filtered bool
	// Total is the number of payments in every state.
	Total int
	// Sums are the count and sums of every payment of the filter, on
	// every page.
	Sums adminSums
	// CSV is the link to the export of every payment of the filter.
	CSV string
	// DeadTasks counts deliveries (webhooks, receipts) that gave up.
	DeadTasks int
	// Attention counts what needs a person (the attention page).
	Attention adminAttentionCount
	Rows      []adminRow
	// Next is the link to the next page; empty on the last one.
	Next string
	// Paged is set when this is not the first page; First links to it.
	Paged bool
	First string
	// Problem says what was wrong with the link, if anything.
	Problem string
}

// adminSums is payment.Totals in words.
type adminSums struct {
	Count                          int
	Authorized, Captured, Refunded string
}

// adminStateCount is one state (or part) in the filter and the overview.
type adminStateCount struct {
	State    string
	Label    string
	Count    int
	Selected bool
	URL      string
}

// adminRow is one payment in the list.
type adminRow struct {
	Created, CreatedISO string
	OrderID             vipps.OrderID
	URL                 string
	ShopRef             string
	Text                string
	Amount              string
	State               payment.State
	StateLabel          string
	Captured, Refunded  string
}

// adminPartLabel is what staff read for a part.
func adminPartLabel(l lang, p payment.Part) string {
	switch p {
	case payment.PartlyCaptured:
		return l.T("Partly captured")
	case payment.PartlyRefunded:
		return l.T("Partly refunded")
	}
	return string(p)
}

// adminList serves GET /admin/: payments newest first, filtered, a page at
// a time, with the count and sums of every payment of the filter.
//
// Query: q (words that must all be part of the orderId, shop reference,
// text, phone number or the express customer's name or e-mail), state (a
// state, partly_captured or partly_refunded), from and to (the first and
// last day created, YYYY-MM-DD in Oslo), limit (1-500), and the cursor of
// the next page: before (RFC 3339 time) and before_id (orderId).
func (s *Server) adminList(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	lg := s.lang(r)
	lq, problems := parseAdminListQuery(lg, q)
	d := adminListData{
		page:           s.adminPage(r, "payments", lg.T("Payments")+" · vippskit admin"),
		adminListQuery: lq,
		Filtered:       lq.filtered(),
	}
	status := http.StatusOK
	limit := adminPageSize
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			problems = append(problems, lg.F("limit %q must be a number from 1 to 500; showing %d a page", clip(v, 10), adminPageSize))
		} else {
			limit = n
		}
	}
	f := lq.Filter
	f.Limit = limit + 1
	if b, id := q.Get("before"), q.Get("before_id"); b != "" || id != "" {
		at, err := time.Parse(time.RFC3339Nano, b)
		if len(b) > 40 || b != "" && err != nil || checkOrderID(vipps.OrderID(id)) != nil {
			problems = append(problems, lg.T("the page link is damaged; showing the first page"))
		} else {
			f.Before = &payment.Cursor{CreatedAt: at, OrderID: vipps.OrderID(id)}
			d.Paged = true
		}
	}
	if len(problems) > 0 {
		status = http.StatusBadRequest
		d.Problem = strings.Join(problems, "; ") + "."
	}

	ps, err := s.svc.List(ctx, f)
	if err != nil {
		s.adminFail(w, r, "", err)
		return
	}
	totals, err := s.svc.Totals(ctx, lq.Filter)
	if err != nil {
		s.adminFail(w, r, "", err)
		return
	}
	stats, err := s.svc.Stats(ctx)
	if err != nil {
		s.adminFail(w, r, "", err)
		return
	}
	d.Sums = adminSums{Count: totals.Count, Authorized: totals.Authorized.Kroner(),
		Captured: totals.Captured.Kroner(), Refunded: totals.Refunded.Kroner()}

	link := func(state string, c *payment.Cursor) string {
		l := lq
		l.State = state
		v := l.values()
		if limit != adminPageSize {
			v.Set("limit", strconv.Itoa(limit))
		}
		if c != nil {
			if !c.CreatedAt.IsZero() {
				v.Set("before", c.CreatedAt.UTC().Format(time.RFC3339Nano))
			}
			v.Set("before_id", string(c.OrderID))
		}
		if len(v) == 0 {
			return "/admin/"
		}
		return "/admin/?" + v.Encode()
	}
	d.CSV = "/admin/payments.csv"
	if v := lq.values(); len(v) > 0 {
		d.CSV += "?" + v.Encode()
	}
	d.Keep = lq.values()
	for _, st := range payment.States() {
		n := stats.Payments[st]
		d.Total += n
		d.States = append(d.States, adminStateCount{State: string(st), Label: lg.T(adminStateLabel(st)), Count: n,
			Selected: string(st) == lq.State, URL: link(string(st), nil)})
	}
	for _, p := range payment.Parts() {
		d.Parts = append(d.Parts, adminStateCount{State: string(p), Label: adminPartLabel(lg, p),
			Selected: string(p) == lq.State, URL: link(string(p), nil)})
	}
	attention, err := s.svc.Attention(ctx, 0)
	if err != nil {
		s.adminFail(w, r, "", err)
		return
	}
	d.Attention = adminAttentionCount{N: len(attention.Items), More: attention.More}
	if d.Attention.N > 0 {
		d.NavAttention = d.Attention.String()
	}
	for _, byStatus := range stats.Tasks {
		d.DeadTasks += byStatus[payment.TaskDead]
	}
	if len(ps) > limit {
		ps = ps[:limit]
		last := ps[len(ps)-1]
		d.Next = link(lq.State, &payment.Cursor{CreatedAt: last.CreatedAt, OrderID: last.OrderID})
	}
	d.First = link(lq.State, nil)
	for _, p := range ps {
		d.Rows = append(d.Rows, adminRow{
			Created: adminTime(p.CreatedAt, false), CreatedISO: adminISO(p.CreatedAt),
			OrderID: p.OrderID, URL: adminPaymentURL(p.OrderID), ShopRef: p.ShopRef, Text: p.Text,
			Amount: p.Amounts.Authorized.Kroner(), State: p.State, StateLabel: lg.T(adminStateLabel(p.State)),
			Captured: adminKronerOrDash(p.Amounts.Captured), Refunded: adminKronerOrDash(p.Amounts.Refunded),
		})
	}
	s.writePage(w, r, status, "admin_list.html", &d)
}
