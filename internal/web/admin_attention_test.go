package web

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/internal/poller"
	"github.com/vippskit/vipps/internal/servicetest"
	"github.com/vippskit/vipps/vippstest"
)

// attentionRowRE finds the rows of the attention page: kind and orderId.
var attentionRowRE = regexp.MustCompile(`(?s)<li class="admin-attention-([a-z_]+)">\s*<h2>.*?<a href="/admin/payments/([^"]+)">(.*?)</li>`)

// attentionRow is one row of the attention page as a browser shows it.
type attentionRow struct {
	kind    payment.AttentionKind
	orderID vipps.OrderID
	text    string
}

func attentionRows(page string) []attentionRow {
	var rows []attentionRow
	for _, m := range attentionRowRE.FindAllStringSubmatch(page, -1) {
		rows = append(rows, attentionRow{payment.AttentionKind(m[1]), vipps.OrderID(m[2]), html.UnescapeString(m[3])})
	}
	return rows
}

// find returns the row of kind about id, or fails the test.
func findRow(t *testing.T, rows []attentionRow, kind payment.AttentionKind, id vipps.OrderID) attentionRow {
	t.Helper()
	i := slices.IndexFunc(rows, func(r attentionRow) bool { return r.kind == kind && r.orderID == id })
	if i < 0 {
		t.Fatalf("attention page has no %s row for %s; rows: %+v", kind, id, rows)
	}
	return rows[i]
}

// TestAdminAttention drives real faults (a shop answering 503, Vipps
// dropping a capture, failing /details and Order Management) and reads the
// attention page: one row per problem, the most urgent kind first, each
// linked to its payment; the list's header counts them.
func TestAdminAttention(t *testing.T) {
	clock := &servicetest.WallClock{}
	e := newAdminEnv(t, func(c *envConfig) {
		c.service = append(c.service, servicetest.WithClock(clock),
			servicetest.WithPayment(func(c *payment.Config) { c.Webhooks = true }))
		c.web.Now = clock.Now
	})
	ctx := context.Background()
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	}))
	t.Cleanup(shop.Close)
	outbox := e.NewOutbox("test", func(c *poller.OutboxConfig) {
		c.WebhookURL, c.WebhookSecret, c.MaxAttempts = shop.URL, vipps.Secret(strings.Repeat("s", 16)), 2
	})
	poll := func() {
		t.Helper()
		if _, err := outbox.Poll(ctx); err != nil {
			t.Fatal(err)
		}
	}

	if rows := attentionRows(e.get(t, "/admin/attention")); len(rows) != 0 {
		t.Fatalf("attention page of a new service has rows: %+v", rows)
	}
	if page := e.get(t, "/admin/attention"); !strings.Contains(page, "Nothing needs attention now.") {
		t.Error("empty attention page does not say that nothing needs attention")
	}

	// A webhook that gives up: two attempts, 503 both times.
	dead := e.reserve(t, 10000)
	poll()
	clock.Advance(time.Minute)
	poll()

	// A webhook that fails once, and a receipt Order Management refuses.
	failing := e.reserve(t, 20000)
	receipt, err := e.svc.Create(ctx, payment.CreateRequest{Amount: 5000, Text: "Mug", ReturnURL: "https://shop.example/done",
		Receipt: &vipps.Receipt{OrderLines: []vipps.OrderLine{{Name: "Mug", ID: "mug", TotalAmount: 5000,
			TotalAmountExcludingTax: 4000, TotalTaxAmount: 1000, TaxPercentage: 25}}}})
	if err != nil {
		t.Fatal(err)
	}
	e.in(t).approve(receipt.OrderID)
	if _, err := e.svc.Capture(ctx, receipt.OrderID, payment.OpRequest{Key: "all"}); err != nil {
		t.Fatal(err)
	}
	omFault, err := e.sim.Sim.InjectFault(vippstest.Fault{Kind: vippstest.FaultServerError, Op: "om-receipt"})
	if err != nil {
		t.Fatal(err)
	}
	poll()
	e.sim.Sim.RemoveFault(omFault)

	// A capture whose answer Vipps drops.
	unknown := e.reserve(t, 30000)
	if _, err := e.sim.Sim.InjectFault(vippstest.Fault{Kind: vippstest.FaultDrop, Op: "capture", OrderID: unknown}); err != nil {
		t.Fatal(err)
	}
	op, err := e.svc.Capture(ctx, unknown, payment.OpRequest{Key: "lost"})
	if err == nil && op.Status != payment.OpPending {
		t.Fatalf("capture without an answer = %+v, want pending", op)
	}

	// A payment Vipps cannot be asked about.
	unreachable := e.create(t, 10000, "", false)
	detailsFault, err := e.sim.Sim.InjectFault(vippstest.Fault{Kind: vippstest.FaultServerError, Op: "details", OrderID: unreachable})
	if err != nil {
		t.Fatal(err)
	}
	for range payment.CheckFailuresForAttention {
		if _, err := e.svc.Check(ctx, unreachable); err == nil {
			t.Fatal("Check while details fail = nil, want an error")
		}
	}
	if p := e.stored(t, unreachable); p.CheckFailures != payment.CheckFailuresForAttention || p.CheckError == "" || p.CheckFailedSince.IsZero() {
		t.Fatalf("after %d failed checks: CheckFailures %d, CheckError %q, since %v", payment.CheckFailuresForAttention, p.CheckFailures, p.CheckError, p.CheckFailedSince)
	}

	// Past the grace period of the lost capture; then the page.
	clock.Advance(payment.OpUnknownAfter + time.Second)
	page := e.get(t, "/admin/attention")
	rows := attentionRows(page)

	r := findRow(t, rows, payment.AttentionTaskDead, dead)
	if !strings.Contains(r.text, "Notification to the shop: gave up after 2 attempts.") || !strings.Contains(r.text, "503 Service Unavailable") {
		t.Errorf("dead webhook row = %q, want the kind, attempts and error", r.text)
	}
	r = findRow(t, rows, payment.AttentionTaskFailing, failing)
	if !regexp.MustCompile(`Notification to the shop: Failing — retrying at \d\d:\d\d \(1 attempt, last error: the shop answered 503 Service Unavailable\)`).MatchString(r.text) {
		t.Errorf("failing webhook row = %q", r.text)
	}
	// The receipt's payment has failing webhooks too: find the receipt.
	if !slices.ContainsFunc(rows, func(r attentionRow) bool {
		return r.kind == payment.AttentionTaskFailing && r.orderID == receipt.OrderID &&
			strings.Contains(r.text, "Receipt to the Vipps app: Failing — retrying at")
	}) {
		t.Errorf("attention page has no failing receipt row for %s; rows: %+v", receipt.OrderID, rows)
	}
	r = findRow(t, rows, payment.AttentionOperation, unknown)
	if !strings.Contains(r.text, "Capture of all that remained was sent to Vipps once, and no answer has come.") || !strings.Contains(r.text, op.RequestID) {
		t.Errorf("unknown capture row = %q, want what was sent and its request id %s", r.text, op.RequestID)
	}
	r = findRow(t, rows, payment.AttentionUnreachable, unreachable)
	if !strings.Contains(r.text, "The last 3 checks with Vipps failed.") {
		t.Errorf("unreachable row = %q", r.text)
	}
	// In bokmål, Vipps' error too: from its code, with Vipps' own words.
	nbRow := findRow(t, attentionRows(e.get(t, "/admin/attention?lang=nb")), payment.AttentionUnreachable, unreachable)
	if !strings.Contains(nbRow.text, "Siste feil: Vipps meldte en intern feil") || strings.Contains(nbRow.text, "Vipps reported") {
		t.Errorf("unreachable row in bokmål = %q, want Vipps' error in bokmål", nbRow.text)
	}
	e.get(t, "/admin/attention?lang=en") // the switch is remembered: back to English
	for _, r := range rows {
		if r.kind == payment.AttentionReservation {
			t.Errorf("a reservation of today is listed as expiring: %+v", r)
		}
	}
	checkRanked(t, rows)
	if !strings.Contains(page, `href="/admin/payments/`+string(unknown)+`"`) {
		t.Errorf("attention page does not link to payment %s", unknown)
	}

	// The list's header counts them and links to the page.
	list := e.get(t, "/admin/")
	want := `<a href="/admin/attention" id="attention-link">Needs attention <span class="admin-badge admin-nav-count">` + itoa(len(rows)) + `</span></a>`
	if !strings.Contains(list, want) {
		t.Errorf("list page lacks the attention link with count %d: want %s", len(rows), want)
	}

	// The payment page of the failing webhook says so, not "Waiting to
	// be sent".
	pp := e.get(t, adminPaymentURL(failing))
	if !regexp.MustCompile(`admin-task-failing">Failing — retrying at \d\d:\d\d \(1 attempt, last error: the shop answered 503 Service Unavailable\)</span>`).MatchString(pp) {
		t.Errorf("payment page of a failing webhook lacks its failing status")
	}
	if strings.Contains(pp, "Waiting to be sent") {
		t.Errorf("payment page of a failing webhook says %q", "Waiting to be sent")
	}

	// In bokmål.
	nb := e.get(t, "/admin/attention?lang=nb")
	for _, want := range []string{"Trenger oppfølging", "Leveringen feiler", "Ukjent utfall", "Vipps kan ikke spørres", "Feiler — prøver igjen"} {
		if !strings.Contains(nb, want) {
			t.Errorf("attention page in bokmål lacks %q", want)
		}
	}

	// Vipps answers again: the next check clears the failures.
	e.sim.Sim.RemoveFault(detailsFault)
	if _, err := e.svc.Check(ctx, unreachable); err != nil {
		t.Fatal(err)
	}
	if p := e.stored(t, unreachable); p.CheckFailures != 0 || p.CheckError != "" || !p.CheckFailedSince.IsZero() {
		t.Errorf("after a check that worked: CheckFailures %d, CheckError %q, since %v; want all zero", p.CheckFailures, p.CheckError, p.CheckFailedSince)
	}

	// A week before Vipps' limit, the reservations that are not fully
	// captured come first.
	clock.Advance(payment.ReservationWarnAfter)
	e.admin = e.browser(testAdminUser) // the session ended months ago
	rows = attentionRows(e.get(t, "/admin/attention"))
	for _, id := range []vipps.OrderID{dead, failing, unknown} {
		r := findRow(t, rows, payment.AttentionReservation, id)
		if !strings.Contains(r.text, "is reserved and not captured.") || !strings.Contains(r.text, "days after the reservation ends on") ||
			!strings.Contains(r.text, "7 days left.") {
			t.Errorf("expiring reservation row of %s = %q", id, r.text)
		}
	}
	if slices.ContainsFunc(rows, func(r attentionRow) bool {
		return r.orderID == receipt.OrderID && r.kind == payment.AttentionReservation
	}) {
		t.Errorf("a fully captured payment is listed as an expiring reservation")
	}
	checkRanked(t, rows)
	if rows[0].kind != payment.AttentionReservation {
		t.Errorf("first row is %s, want an expiring reservation", rows[0].kind)
	}
}

// checkRanked checks that rows come most urgent kind first.
func checkRanked(t *testing.T, rows []attentionRow) {
	t.Helper()
	rank := []payment.AttentionKind{payment.AttentionReservation, payment.AttentionOperation, payment.AttentionTaskDead,
		payment.AttentionUnreachable, payment.AttentionTaskFailing}
	for i := 1; i < len(rows); i++ {
		if slices.Index(rank, rows[i].kind) < slices.Index(rank, rows[i-1].kind) {
			t.Errorf("row %d (%s) comes after %s, want the most urgent kind first", i, rows[i].kind, rows[i-1].kind)
		}
	}
}

func itoa(n int) string { return adminAttentionCount{N: n}.String() }

// TestAdminReceiptDelivered: a receipt Vipps took reads "Delivered", with
// no HTTP status of its own, never "no answer".
func TestAdminReceiptDelivered(t *testing.T) {
	e := newAdminEnv(t)
	ctx := context.Background()
	p, err := e.svc.Create(ctx, payment.CreateRequest{Amount: 5000, Text: "Mug", ReturnURL: "https://shop.example/done",
		Receipt: &vipps.Receipt{OrderLines: []vipps.OrderLine{{Name: "Mug", ID: "mug", TotalAmount: 5000,
			TotalAmountExcludingTax: 4000, TotalTaxAmount: 1000, TaxPercentage: 25}}}})
	if err != nil {
		t.Fatal(err)
	}
	e.in(t).approve(p.OrderID)
	if _, err := e.svc.Capture(ctx, p.OrderID, payment.OpRequest{Key: "all"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.NewOutbox("test").Poll(ctx); err != nil {
		t.Fatal(err)
	}
	page := e.get(t, adminPaymentURL(p.OrderID))
	if !regexp.MustCompile(`(?s)Receipt to the Vipps app <span class="admin-badge admin-task-done">Delivered</span>.*?<td[^>]*>—</td><td[^>]*>Delivered</td>`).MatchString(page) {
		t.Errorf("payment page lacks the delivered receipt with no status of its own")
	}
	if strings.Contains(page, "no answer") {
		t.Errorf("payment page of a delivered receipt says %q", "no answer")
	}
}

// TestAdminExchanges: the payment page lists the requests to Vipps and the
// answers, collapsed, with the X-Request-Id of a capture, and nothing the
// customer shared; they go with the consent.
func TestAdminExchanges(t *testing.T) {
	e := newAdminEnv(t)
	ctx := context.Background()
	id := e.create(t, 25000, "", true)
	p := e.in(t).approve(id)
	op, err := e.svc.Capture(ctx, id, payment.OpRequest{Key: "c", Amount: 10000})
	if err != nil {
		t.Fatal(err)
	}
	e.FlushExchanges()
	page := e.get(t, adminPaymentURL(id))
	start, end := strings.Index(page, `id="exchanges"`), strings.Index(page, `id="history"`)
	if start < 0 || end < start {
		t.Fatalf("payment page has no section of requests to Vipps before the history")
	}
	section := html.UnescapeString(page[start:end])
	for _, want := range []string{
		`<details class="admin-exchanges">`, "POST /ecomm/v2/payments</code>", "GET /ecomm/v2/payments/" + string(id) + "/details</code>",
		"POST /ecomm/v2/payments/" + string(id) + "/capture</code>", "X-Request-Id <code>" + op.RequestID + "</code>",
		`"amount": 10000`, `"mobileNumber": "****** `, `admin-exchange-ok">200</span>`, "Took ",
	} {
		if !strings.Contains(section, want) {
			t.Errorf("requests to Vipps lack %q", want)
		}
	}
	var d payment.ExpressDetails
	if err := json.Unmarshal(p.Shipping, &d); err != nil || d.User == nil || d.Shipping == nil {
		t.Fatalf("express details %s: %v", p.Shipping, err)
	}
	for _, secret := range []string{d.User.FirstName, d.User.LastName, d.User.Email, d.User.UserID, d.User.MobileNumber,
		d.Shipping.Address.AddressLine1, d.Shipping.Address.City} {
		if secret != "" && strings.Contains(section, secret) {
			t.Errorf("requests to Vipps show %q", secret)
		}
	}

	if err := e.svc.RemoveConsent(ctx, d.User.UserID); err != nil {
		t.Fatal(err)
	}
	if page := e.get(t, adminPaymentURL(id)); strings.Contains(page, `id="exchanges"`) {
		t.Errorf("payment page shows requests to Vipps after the consent was removed")
	}
}
