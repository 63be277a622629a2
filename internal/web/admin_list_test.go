package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

// seedAdminSearch stores payments for the search, totals and export
// tests, newest first: s-7 ... s-1. s-5 and s-6 are express payments whose
// customer shared a name and e-mail; s-2 was made just after midnight in
// Oslo on 25 November (23:30 UTC on the 24th).
func seedAdminSearch(t *testing.T, e *adminEnv) {
	t.Helper()
	t0 := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	user := func(first, last, email, mobile string) json.RawMessage {
		b, err := json.Marshal(payment.ExpressDetails{User: &vipps.UserDetails{FirstName: first, LastName: last, Email: email, MobileNumber: mobile}})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	seed := []struct {
		id            vipps.OrderID
		shopRef, text string
		phone         string
		shipping      json.RawMessage
		state         payment.State
		at            time.Time
		amounts       payment.Amounts
	}{
		{"s-1", "A-100", "Blue mug", "91234567", nil, payment.Reserved, t0,
			payment.Amounts{Authorized: 10000, Captured: 4000, RemainingToCapture: 6000, RemainingToRefund: 4000}},
		{"s-2", "=HYPERLINK(\"http://evil\")", "Kaffe, 100% arabica", "", nil, payment.Captured, time.Date(2026, 11, 24, 23, 30, 0, 0, time.UTC),
			payment.Amounts{Authorized: 123450, Captured: 123450, Refunded: 50, RemainingToRefund: 123400}},
		{"s-3", "B_200", "Grønn kopp", "", nil, payment.Cancelled, t0.Add(26 * time.Hour), payment.Amounts{Authorized: 7000}},
		{"s-4", "", "+47 socks", "", nil, payment.Refunded, t0.Add(27 * time.Hour),
			payment.Amounts{Authorized: 9900, Captured: 9900, Refunded: 9900}},
		{"s-5", "C-1", "Tea", "", user("Åse", "Ødegård", "ase@example.no", "4748000000"), payment.Reserved, t0.Add(28 * time.Hour),
			payment.Amounts{Authorized: 2000, RemainingToCapture: 2000}},
		{"s-6", "C-2", "Tea, large", "", user("Ola", "Nordmann", "OLA@Example.com", "4791111111"), payment.Captured, t0.Add(29 * time.Hour),
			payment.Amounts{Authorized: 3000, Captured: 3000, RemainingToRefund: 3000}},
		{"s-7", "@sum", "-2+3", "", nil, payment.Initiated, t0.Add(30 * time.Hour), payment.Amounts{Authorized: 100}},
	}
	for _, s := range seed {
		p := &payment.Payment{OrderID: s.id, ShopRef: s.shopRef, MSN: "123456", Kind: payment.Regular, Text: s.text, Phone: s.phone,
			Shipping: s.shipping, State: s.state, Amounts: s.amounts, CreatedAt: s.at, UpdatedAt: s.at}
		if err := e.store.Create(context.Background(), p, payment.Event{Type: payment.EventCreated, State: s.state, At: s.at}); err != nil {
			t.Fatal(err)
		}
	}
}

// adminRowIDs is the orderIds of the list's rows.
func adminRowIDs(body string) []string {
	var out []string
	for _, m := range adminRowRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

var adminTotalRE = regexp.MustCompile(`<dd class="admin-num" id="total-(\w+)">([^<]*)</dd>`)

// adminTotals is the totals the list shows, by name.
func adminTotals(body string) map[string]string {
	out := map[string]string{}
	for _, m := range adminTotalRE.FindAllStringSubmatch(body, -1) {
		out[m[1]] = m[2]
	}
	return out
}

func TestAdminListSearch(t *testing.T) {
	e := newAdminEnv(t)
	seedAdminSearch(t, e)
	all := []string{"s-7", "s-6", "s-5", "s-4", "s-3", "s-2", "s-1"}
	tests := []struct {
		name  string
		query url.Values
		want  []string
	}{
		{"everything", nil, all},
		{"phone given at create", url.Values{"q": {"1234"}}, []string{"s-1"}},
		{"express customer's mobile", url.Values{"q": {"4791111"}}, []string{"s-6"}},
		{"first and last name, other case", url.Values{"q": {"åse ØDEGÅRD"}}, []string{"s-5"}},
		{"e-mail, other case", url.Values{"q": {"ola@example.COM"}}, []string{"s-6"}},
		{"part of an orderId", url.Values{"q": {"-3"}}, []string{"s-3"}},
		{"part of a shop reference", url.Values{"q": {"hyperlink"}}, []string{"s-2"}},
		{"every word must match", url.Values{"q": {"tea large"}}, []string{"s-6"}},
		{"words in any field", url.Values{"q": {"tea nordmann"}}, []string{"s-6"}},
		{"percent is no wildcard", url.Values{"q": {"0%"}}, []string{"s-2"}},
		{"underscore is no wildcard", url.Values{"q": {"b_2"}}, []string{"s-3"}},
		{"Norwegian letters, any case", url.Values{"q": {"GRØNN"}}, []string{"s-3"}},
		{"partly captured", url.Values{"state": {"partly_captured"}}, []string{"s-1"}},
		{"partly refunded", url.Values{"state": {"partly_refunded"}}, []string{"s-2"}},
		{"state", url.Values{"state": {"captured"}}, []string{"s-6", "s-2"}},
		{"a day in Oslo, not in UTC", url.Values{"from": {"2026-11-25"}, "to": {"2026-11-25"}}, []string{"s-7", "s-6", "s-5", "s-4", "s-3", "s-2"}},
		{"until a day, included", url.Values{"to": {"2026-11-24"}}, []string{"s-1"}},
		{"from a day", url.Values{"from": {"2026-11-25"}, "q": {"tea"}}, []string{"s-6", "s-5"}},
		{"everything at once", url.Values{"from": {"2026-11-24"}, "to": {"2026-11-26"}, "state": {"captured"}, "q": {"ola"}}, []string{"s-6"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := e.get(t, "/admin/?"+tt.query.Encode())
			if diff := cmp.Diff(tt.want, adminRowIDs(body)); diff != "" {
				t.Errorf("GET /admin/?%s rows (-want +got):\n%s", tt.query.Encode(), diff)
			}
			if got := adminTotals(body)["count"]; got != strconv.Itoa(len(tt.want)) {
				t.Errorf("GET /admin/?%s total count = %q, want %d", tt.query.Encode(), got, len(tt.want))
			}
		})
	}

	t.Run("totals of every page", func(t *testing.T) {
		body := e.get(t, "/admin/?limit=2")
		if got := len(adminRowIDs(body)); got != 2 {
			t.Fatalf("GET /admin/?limit=2 shows %d rows, want 2", got)
		}
		want := map[string]string{
			"count":      "7",
			"authorized": vipps.Amount(10000 + 123450 + 9900 + 2000 + 3000).Kroner(),
			"captured":   vipps.Amount(4000 + 123450 + 9900 + 3000).Kroner(),
			"refunded":   vipps.Amount(50 + 9900).Kroner(),
		}
		if diff := cmp.Diff(want, adminTotals(body)); diff != "" {
			t.Errorf("GET /admin/?limit=2 totals (-want +got):\n%s", diff)
		}
		next := adminNextRE.FindStringSubmatch(body)
		if next == nil {
			t.Fatal("no next page")
		}
		if diff := cmp.Diff(want, adminTotals(e.get(t, html.UnescapeString(next[1])))); diff != "" {
			t.Errorf("second page totals (-want +got):\n%s", diff)
		}
	})

	t.Run("links keep the filter", func(t *testing.T) {
		body := e.get(t, "/admin/?limit=1&q=tea&from=2026-11-25&to=2026-11-26&state=reserved")
		if diff := cmp.Diff([]string{"s-5"}, adminRowIDs(body)); diff != "" {
			t.Errorf("rows (-want +got):\n%s", diff)
		}
		for _, want := range []string{
			`href="/admin/payments.csv?from=2026-11-25&amp;q=tea&amp;state=reserved&amp;to=2026-11-26"`,
			`<input id="from" name="from" type="date" value="2026-11-25">`,
			`<option value="reserved" selected>`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("page lacks %s", want)
			}
		}
	})

	for name, q := range map[string]string{
		"search too long":   "q=" + strings.Repeat("ø", adminSearchMax+1),
		"not a date":        "from=25.11.2026",
		"a date too long":   "to=2026-11-250",
		"range ends before": "from=2026-11-26&to=2026-11-25",
		"unknown state":     "state=partly",
	} {
		t.Run("bad link: "+name, func(t *testing.T) {
			status, body, _ := e.send(t, http.MethodGet, "/admin/?"+q, nil)
			if status != http.StatusBadRequest || !strings.Contains(body, `role="alert"`) {
				t.Errorf("GET /admin/?%s = %d, want 400 with an alert", q, status)
			}
			if diff := cmp.Diff(all, adminRowIDs(body)); diff != "" {
				t.Errorf("GET /admin/?%s rows, want every payment (-want +got):\n%s", q, diff)
			}
			status, _, _ = e.send(t, http.MethodGet, "/admin/payments.csv?"+q, nil)
			if status != http.StatusBadRequest {
				t.Errorf("GET /admin/payments.csv?%s = %d, want 400", q, status)
			}
		})
	}
	t.Run("search of 100 characters", func(t *testing.T) {
		q := strings.Repeat("ø", adminSearchMax)
		status, _, _ := e.send(t, http.MethodGet, "/admin/?q="+q, nil)
		if status != http.StatusOK {
			t.Errorf("GET /admin/?q=<100 ø> = %d, want 200", status)
		}
	})
}

// adminCSV fetches the export with the filter q and parses it.
func adminCSV(t *testing.T, e *adminEnv, q url.Values) (*http.Response, [][]string) {
	t.Helper()
	status, body, resp := e.send(t, http.MethodGet, "/admin/payments.csv?"+q.Encode(), nil)
	if status != http.StatusOK {
		t.Fatalf("GET /admin/payments.csv?%s = %d, want 200\n%s", q.Encode(), status, body)
	}
	if strings.HasPrefix(body, "\ufeff") {
		t.Errorf("export starts with a byte order mark")
	}
	r := csv.NewReader(strings.NewReader(body))
	r.FieldsPerRecord = len(adminCSVHeader)
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("export does not parse as CSV: %v\n%s", err, body)
	}
	if len(recs) == 0 {
		t.Fatal("export is empty, want at least the header")
	}
	if diff := cmp.Diff(adminCSVHeader, recs[0]); diff != "" {
		t.Errorf("export header (-want +got):\n%s", diff)
	}
	return resp, recs[1:]
}

func TestAdminExport(t *testing.T) {
	e := newAdminEnv(t)
	seedAdminSearch(t, e)

	t.Run("headers", func(t *testing.T) {
		resp, _ := adminCSV(t, e, nil)
		if got := resp.Header.Get("Content-Type"); got != "text/csv; charset=utf-8" {
			t.Errorf("Content-Type = %q, want text/csv; charset=utf-8", got)
		}
		if got := resp.Header.Get("Content-Disposition"); !regexp.MustCompile(`^attachment; filename="payments-\d{8}-\d{6}\.csv"$`).MatchString(got) {
			t.Errorf("Content-Disposition = %q, want an attachment payments-<time>.csv", got)
		}
	})

	t.Run("same payments as the list", func(t *testing.T) {
		for _, q := range []url.Values{
			nil,
			{"q": {"tea"}},
			{"q": {"åse"}},
			{"state": {"partly_refunded"}},
			{"from": {"2026-11-25"}, "to": {"2026-11-25"}},
			{"q": {"nothing like it"}},
		} {
			_, recs := adminCSV(t, e, q)
			var got []string
			for _, r := range recs {
				got = append(got, r[0])
			}
			want := adminRowIDs(e.get(t, "/admin/?"+q.Encode()))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("export of %s: orderIds differ from the list's (-list +export):\n%s", q.Encode(), diff)
			}
		}
	})

	t.Run("cells", func(t *testing.T) {
		_, recs := adminCSV(t, e, nil)
		byID := map[string][]string{}
		for _, r := range recs {
			byID[r[0]] = r
		}
		want := map[string][]string{
			// A formula is sent as text; quotes and commas survive.
			"s-2": {"s-2", `'=HYPERLINK("http://evil")`, "0", "123456", "2026-11-25T00:30:00+01:00", "captured", "Kaffe, 100% arabica",
				"123450", "123450", "50", "1234.50", "1234.50", "0.50"},
			"s-3": {"s-3", "B_200", "0", "123456", "2026-11-25T12:00:00+01:00", "cancelled", "Grønn kopp",
				"7000", "0", "0", "70.00", "0.00", "0.00"},
			"s-4": {"s-4", "", "0", "123456", "2026-11-25T13:00:00+01:00", "refunded", "'+47 socks",
				"9900", "9900", "9900", "99.00", "99.00", "99.00"},
			"s-7": {"s-7", "'@sum", "0", "123456", "2026-11-25T16:00:00+01:00", "initiated", "'-2+3",
				"100", "0", "0", "1.00", "0.00", "0.00"},
		}
		for id, w := range want {
			if diff := cmp.Diff(w, byID[id]); diff != "" {
				t.Errorf("export row of %s (-want +got):\n%s", id, diff)
			}
		}
	})

	t.Run("every page", func(t *testing.T) {
		defer func(n int) { adminExportPage = n }(adminExportPage)
		for _, n := range []int{1, 2, 3, 7} {
			adminExportPage = n
			_, recs := adminCSV(t, e, nil)
			var got []string
			for _, r := range recs {
				got = append(got, r[0])
			}
			if diff := cmp.Diff([]string{"s-7", "s-6", "s-5", "s-4", "s-3", "s-2", "s-1"}, got); diff != "" {
				t.Errorf("export read %d at a time (-want +got):\n%s", n, diff)
			}
		}
	})

	t.Run("only for staff", func(t *testing.T) {
		resp, err := e.client.Get(e.url + "/admin/payments.csv")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), adminLoginPath+"?") {
			t.Errorf("GET /admin/payments.csv without a session = %d, want 303 to sign in", resp.StatusCode)
		}
	})

	// Last: it closes the store.
	t.Run("a failing store is an error page, not a file", func(t *testing.T) {
		e.store.Close()
		status, body, resp := e.send(t, http.MethodGet, "/admin/payments.csv", nil)
		if status != http.StatusInternalServerError || resp.Header.Get("Content-Disposition") != "" {
			t.Errorf("GET /admin/payments.csv with a closed database = %d, Content-Disposition %q; want 500 and none",
				status, resp.Header.Get("Content-Disposition"))
		}
		if !strings.Contains(body, "request id "+resp.Header.Get("X-Request-Id")) {
			t.Errorf("error page does not name the request id:\n%s", body)
		}
	})
}

func TestCSVText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"A-100", "A-100"},
		{"=1+2", "'=1+2"},
		{"+47", "'+47"},
		{"-1", "'-1"},
		{"@x", "'@x"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"a=b", "a=b"},
		{"ærlig", "ærlig"},
	}
	for _, tt := range tests {
		if got := csvText(tt.in); got != tt.want {
			t.Errorf("csvText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
