package web

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

// adminExportPage is how many payments the export reads at a time (at most
// the stores' largest page, 500); a variable so that tests can page
// through a few payments.
var adminExportPage = 500

// adminCSVHeader is the first row of the export. Amounts are in øre (as
// the API and webhooks give them, exact) and in kroner with a decimal point
// (as Vipps' settlement reports give them), so that the file can be
// matched against a settlement report by orderId and amount.
var adminCSVHeader = []string{
	"orderId", "shopRef", "attempt", "msn", "created", "state", "text",
	"authorized_ore", "captured_ore", "refunded_ore",
	"authorized_nok", "captured_nok", "refunded_nok",
}

// adminExport serves GET /admin/payments.csv: every payment of the list's
// filter (q, state, from, to; see adminList), newest first, as CSV (RFC
// 4180, UTF-8 without a byte order mark: the file is meant for scripts and
// spreadsheets that ask for the encoding, and a BOM would end up in the
// first column's name for most CSV readers).
//
// A bad filter is answered 400 rather than with a file of something else
// than what was asked for.
func (s *Server) adminExport(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lq, problems := parseAdminListQuery(s.lang(r), r.URL.Query())
	if len(problems) > 0 {
		http.Error(w, strings.Join(problems, "; ")+".", http.StatusBadRequest)
		return
	}
	f := lq.Filter
	f.Limit = adminExportPage
	// Read the first page before any header goes out, so that a failing
	// store is still answered with an error page.
	ps, err := s.svc.List(ctx, f)
	if err != nil {
		s.adminFail(w, r, "", err)
		return
	}
	name := "payments-" + s.now().In(adminZone).Format("20060102-150405") + ".csv"
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	cw := csv.NewWriter(w)
	write := func(rec []string) bool {
		if err := cw.Write(rec); err != nil {
			s.log.WarnContext(ctx, "admin export: write", "err", err)
			return false
		}
		return true
	}
	if !write(adminCSVHeader) {
		return
	}
	for len(ps) > 0 {
		for _, p := range ps {
			if !write(adminCSVRow(p)) {
				return
			}
		}
		if len(ps) < adminExportPage {
			break
		}
		last := ps[len(ps)-1]
		f.Before = &payment.Cursor{CreatedAt: last.CreatedAt, OrderID: last.OrderID}
		if ps, err = s.svc.List(ctx, f); err != nil {
			// The status is sent: end the file short, and say so in
			// the log. The missing last line is the sign.
			s.log.ErrorContext(ctx, "admin export: list", "err", err)
			cw.Flush()
			panic(http.ErrAbortHandler)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		s.log.WarnContext(ctx, "admin export: write", "err", err)
	}
}

// adminCSVRow is the export's row of p.
func adminCSVRow(p *payment.Payment) []string {
	created := ""
	if !p.CreatedAt.IsZero() {
		created = p.CreatedAt.In(adminZone).Format(time.RFC3339)
	}
	a := p.Amounts
	return []string{
		csvText(string(p.OrderID)), csvText(p.ShopRef), strconv.Itoa(p.Attempt), csvText(string(p.MSN)),
		created, string(p.State), csvText(p.Text),
		strconv.FormatInt(int64(a.Authorized), 10), strconv.FormatInt(int64(a.Captured), 10), strconv.FormatInt(int64(a.Refunded), 10),
		csvNOK(a.Authorized), csvNOK(a.Captured), csvNOK(a.Refunded),
	}
}

// csvNOK is an amount in kroner with a decimal point: "1234.50".
func csvNOK(a vipps.Amount) string {
	sign, v := "", int64(a)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// csvText is a text cell that a spreadsheet will not run as a formula
// (CSV injection): one that starts with = + - @, a tab or a carriage
// return gets a leading apostrophe, which spreadsheets show as text.
// Shop references and texts come from shops and customers.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
