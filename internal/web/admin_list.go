package web

import (
	"fmt"
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

// adminListData is the data of admin_list.html.
type adminListData struct {
	page
	Query  string
	State  payment.State
	States []adminStateCount
	// Total is the number of payments in every state.
	Total int
	// DeadTasks counts deliveries (webhooks, receipts) that gave up.
	DeadTasks int
	Rows      []adminRow
	// Next is the link to the next page; empty on the last one.
	Next string
	// Paged is set when this is not the first page; First links to it.
	Paged bool
	First string
	// Problem says what was wrong with the link, if anything.
	Problem string
}

// adminStateCount is one state in the filter and the overview.
type adminStateCount struct {
	State    payment.State
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

// adminList serves GET /admin/: payments newest first, filtered by state and
// a search text, a page at a time.
//
// Query: state, q (orderId or shop reference prefix, or part of the text),
// limit (1-500), and the cursor of the next page: before (RFC 3339 time)
// and before_id (orderId).
func (s *Server) adminList(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	d := adminListData{
		page:  page{Title: "Payments · vippskit admin", Environment: s.cfg.Environment},
		Query: strings.TrimSpace(q.Get("q")),
	}
	status := http.StatusOK
	var problems []string
	if n := utf8.RuneCountInString(d.Query); n > adminSearchMax {
		problems = append(problems, fmt.Sprintf("the search is %d characters; search with at most %d (an orderId, a shop reference or a few words of the text)", n, adminSearchMax))
		d.Query = ""
	}
	if st := payment.State(q.Get("state")); st != "" {
		if st.Valid() {
			d.State = st
		} else {
			problems = append(problems, fmt.Sprintf("there is no state %q; showing every state", clip(string(st), 30)))
		}
	}
	limit := adminPageSize
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			problems = append(problems, fmt.Sprintf("limit %q must be a number from 1 to 500; showing %d a page", clip(v, 10), adminPageSize))
		} else {
			limit = n
		}
	}
	f := payment.ListFilter{State: d.State, Query: d.Query, Limit: limit + 1}
	if b, id := q.Get("before"), q.Get("before_id"); b != "" || id != "" {
		at, err := time.Parse(time.RFC3339Nano, b)
		if len(b) > 40 || b != "" && err != nil || checkOrderID(vipps.OrderID(id)) != nil {
			problems = append(problems, "the page link is damaged; showing the first page")
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
	stats, err := s.svc.Stats(ctx)
	if err != nil {
		s.adminFail(w, r, "", err)
		return
	}

	link := func(st payment.State, c *payment.Cursor) string {
		v := url.Values{}
		if st != "" {
			v.Set("state", string(st))
		}
		if d.Query != "" {
			v.Set("q", d.Query)
		}
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
	for _, st := range payment.States() {
		n := stats.Payments[st]
		d.Total += n
		d.States = append(d.States, adminStateCount{State: st, Label: adminStateLabel(st), Count: n, Selected: st == d.State, URL: link(st, nil)})
	}
	for _, byStatus := range stats.Tasks {
		d.DeadTasks += byStatus[payment.TaskDead]
	}
	if len(ps) > limit {
		ps = ps[:limit]
		last := ps[len(ps)-1]
		d.Next = link(d.State, &payment.Cursor{CreatedAt: last.CreatedAt, OrderID: last.OrderID})
	}
	d.First = link(d.State, nil)
	for _, p := range ps {
		d.Rows = append(d.Rows, adminRow{
			Created: adminTime(p.CreatedAt, false), CreatedISO: adminISO(p.CreatedAt),
			OrderID: p.OrderID, URL: adminPaymentURL(p.OrderID), ShopRef: p.ShopRef, Text: p.Text,
			Amount: p.Amounts.Authorized.Kroner(), State: p.State, StateLabel: adminStateLabel(p.State),
			Captured: adminKronerOrDash(p.Amounts.Captured), Refunded: adminKronerOrDash(p.Amounts.Refunded),
		})
	}
	s.writePage(w, status, "admin_list.html", &d)
}
