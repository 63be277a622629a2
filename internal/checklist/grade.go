package checklist

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/vippstest"
)

// Input is what Grade grades.
type Input struct {
	Audit vippstest.Audit
	// FallBacks are the checks of the payments' fallBack URLs; see
	// [CheckFallBacks].
	FallBacks []FallBackCheck
}

// Polling limits. The guidelines poll every 2 seconds (30 a minute); the
// rate limit is 120 a minute per orderId. Polling one payment more than
// MaxDetailsPerMinute times in any minute is graded as polling too hard.
const (
	MaxDetailsPerMinute = 60
	maxEvidence         = 5 // evidence entries per kind of observation
)

// Grade grades every item of [Items] from in, in the checklist's order.
func Grade(in Input) []Result {
	a := in.Audit
	graders := map[string]func() Result{
		"endpoints":    func() Result { return gradeEndpoints(a) },
		"callbacks":    func() Result { return gradeCallbacks(a) },
		"errors":       func() Result { return gradeErrors(a) },
		"headers":      func() Result { return gradeHeaders(a) },
		"receipts":     func() Result { return gradeReceipts(a) },
		"orderid":      func() Result { return gradeOrderIDs(a) },
		"polling":      func() Result { return gradePolling(a) },
		"redirects":    func() Result { return gradeRedirects(a, in.FallBacks) },
		"design":       gradeDesign,
		"support":      gradeSupport,
		"refund-order": func() Result { return gradeEnding(a, vipps.OperationRefund) },
		"void-order":   func() Result { return gradeEnding(a, vipps.OperationVoid) },
	}
	out := make([]Result, 0, len(Items))
	for _, it := range Items {
		r := graders[it.ID]()
		r.ID, r.Title = it.ID, it.Title
		if r.Evidence == nil {
			r.Evidence = []Evidence{}
		}
		out = append(out, r)
	}
	return out
}

func ok2xx(code int) bool { return code >= 200 && code < 300 }

// count is n with the singular or plural noun: "1 callback", "2 callbacks".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// verb is the singular or plural verb for n things: "was" or "were".
func verb(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// evidenceOf is the evidence of a request.
func evidenceOf(r vippstest.Request, note string) Evidence {
	return Evidence{OrderID: r.OrderID, RequestID: r.RequestID, Time: r.Time, Note: note}
}

// capped appends e to es unless es holds maxEvidence entries already.
func capped(es []Evidence, e Evidence) []Evidence {
	if len(es) >= maxEvidence {
		return es
	}
	return append(es, e)
}

var amountPattern = regexp.MustCompile(`"amount"\s*:\s*(\d+)`)

// requestAmount is the transaction amount of a capture or refund body; 0
// when there is none (which Vipps reads as "all that remains").
func requestAmount(body string) vipps.Amount {
	m := amountPattern.FindStringSubmatch(body)
	if m == nil {
		return 0
	}
	var n int64
	fmt.Sscan(m[1], &n)
	return vipps.Amount(n)
}

func paymentsByID(a vippstest.Audit) map[vipps.OrderID]vippstest.Payment {
	m := map[vipps.OrderID]vippstest.Payment{}
	for _, p := range a.Payments {
		m[p.OrderID] = p
	}
	return m
}

func gradeEndpoints(a vippstest.Audit) Result {
	ps := paymentsByID(a)
	seen := map[string]Evidence{}
	see := func(k string, e Evidence) {
		if _, ok := seen[k]; !ok {
			seen[k] = e
		}
	}
	express := false
	for _, p := range a.Payments {
		express = express || p.PaymentType == vipps.PaymentTypeExpress
	}
	for _, r := range a.Requests {
		if !ok2xx(r.Status) {
			continue
		}
		p := ps[r.OrderID]
		amt := requestAmount(r.Body)
		switch r.Op {
		case "initiate", "cancel", "details":
			see(r.Op, evidenceOf(r, r.Op))
		case "capture":
			if amt == 0 || amt >= p.Amount {
				see("capture (full)", evidenceOf(r, "full capture"))
			} else {
				see("capture (partial)", evidenceOf(r, fmt.Sprintf("partial capture of %s", amt.Kroner())))
			}
		case "refund":
			if amt == 0 || amt >= p.Summary.CapturedAmount {
				see("refund (full)", evidenceOf(r, "full refund"))
			} else {
				see("refund (partial)", evidenceOf(r, fmt.Sprintf("partial refund of %s", amt.Kroner())))
			}
		}
	}
	for _, c := range a.Callbacks {
		if c.Delivered() {
			see("callback", Evidence{OrderID: c.OrderID, Time: c.Time, Note: "callback " + string(c.Status) + " answered " + fmt.Sprint(c.StatusCode)})
		}
	}
	want := []string{"initiate", "capture (full)", "capture (partial)", "cancel", "refund (full)", "refund (partial)", "details", "callback"}
	if express {
		for _, c := range a.ShippingCalls {
			if c.StatusCode == 200 && c.Err == "" {
				see("shippingDetails", Evidence{OrderID: c.OrderID, Time: c.Time, Note: fmt.Sprintf("shippingDetails answered with %d options", c.Options)})
			}
		}
		for _, c := range a.ConsentRemovals {
			if c.Delivered() {
				see("consent removal", Evidence{Time: c.Time, Note: "consent removal answered " + fmt.Sprint(c.StatusCode)})
			}
		}
		want = append(want, "shippingDetails", "consent removal")
	}
	r := Result{}
	var missing []string
	r.Evidence, missing = seenIn(want, seen)
	if len(missing) == 0 {
		r.Status, r.Summary = Pass, fmt.Sprintf("all %d endpoints and variants used successfully", len(want))
		if !express {
			r.Summary += " (no express payment seen; express adds shippingDetails and consent removal)"
		}
		return r
	}
	r.Status = NotSeen
	r.Summary = "not used yet: " + strings.Join(missing, ", ")
	r.Fix = "Make test orders that use " + strings.Join(missing, ", ") + " through your shop, then run the checklist again."
	return r
}

// insecureURL says why real Vipps would refuse u, or "" when it would not.
func insecureURL(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return "not a URL"
	}
	host := pu.Hostname()
	switch {
	case host == "localhost" || strings.HasSuffix(host, ".localhost"):
		return "localhost, which real Vipps refuses"
	case pu.Scheme == "http":
		return "plain http, which real Vipps refuses"
	}
	return ""
}

func gradeCallbacks(a vippstest.Audit) Result {
	r := Result{}
	var good, bad, worse []Evidence
	nWorse := 0
	for _, c := range a.Callbacks {
		if c.Fault == vippstest.CallbackDrop || (c.StatusCode == 0 && strings.HasPrefix(c.Err, "not sent")) {
			continue // never sent
		}
		e := Evidence{OrderID: c.OrderID, Time: c.Time}
		switch {
		case c.Delivered() && c.Status.Approved():
			e.Note = "success callback " + string(c.Status) + fmt.Sprintf(" answered %d", c.StatusCode)
			good = capped(good, e)
		case c.Delivered():
			e.Note = "failure callback " + string(c.Status) + fmt.Sprintf(" answered %d", c.StatusCode)
			bad = capped(bad, e)
		case c.StatusCode != 0:
			e.Note = fmt.Sprintf("callback %s answered %d; Vipps does not send it again", c.Status, c.StatusCode)
			worse, nWorse = capped(worse, e), nWorse+1
		default:
			e.Note = fmt.Sprintf("callback %s got no answer: %s", c.Status, c.Err)
			worse, nWorse = capped(worse, e), nWorse+1
		}
	}
	notes, nNotes := urlNotes(a, func(p vippstest.Payment) string { return p.CallbackPrefix }, "callbackPrefix")
	switch {
	case len(worse) > 0:
		r.Status, r.Evidence = Fail, worse
		r.Summary = count(nWorse, "callback", "callbacks") + " " + verb(nWorse, "was", "were") + " not answered 2xx"
		r.Fix = "Answer every callback, success and failure, with 2xx once it is handled (or known); check the callback server's logs for these orders."
	case len(good) == 0 || len(bad) == 0:
		r.Status, r.Evidence = NotSeen, append(good, bad...)
		var missing []string
		if len(good) == 0 {
			missing = append(missing, "success (RESERVED/SALE)")
		}
		if len(bad) == 0 {
			missing = append(missing, "failure (CANCELLED/REJECTED/..._FAILED)")
		}
		r.Summary = "no answered callback seen for " + strings.Join(missing, " and ")
		r.Fix = "Make a test order that the user approves and one the user rejects (in the simulator's app, or POST /_sim/payments/{orderId}/reject)."
	default:
		r.Status, r.Evidence = Pass, append(good[:1], bad[:1]...)
		r.Summary = "callbacks for successful and failed payments answered 2xx"
	}
	if len(notes) > 0 {
		r.Evidence = append(r.Evidence, notes...)
		r.Summary += "; " + count(nNotes, "callbackPrefix", "callbackPrefixes") + " real Vipps would refuse"
	}
	return r
}

// urlNotes flags the URLs of the payments that real Vipps would refuse,
// and counts them.
func urlNotes(a vippstest.Audit, of func(vippstest.Payment) string, name string) ([]Evidence, int) {
	var out []Evidence
	n := 0
	seen := map[string]bool{}
	for _, p := range a.Payments {
		u := of(p)
		if u == "" || seen[u] {
			continue
		}
		seen[u] = true
		if why := insecureURL(u); why != "" {
			out, n = capped(out, Evidence{OrderID: p.OrderID, Time: p.InitiatedAt, Note: name + " " + u + " is " + why}), n+1
		}
	}
	return out, n
}

// writeOps are the operations that carry an X-Request-Id.
var writeOps = []string{"capture", "refund"}

func gradeErrors(a vippstest.Audit) Result {
	r := Result{}
	var missing, changed, handled []Evidence
	nMissing, nChanged := 0, 0
	for i, q := range a.Requests {
		if !slices.Contains(writeOps, q.Op) {
			continue
		}
		if q.RequestID == "" {
			missing, nMissing = capped(missing, evidenceOf(q, q.Op+" without X-Request-Id")), nMissing+1
		}
		if ok2xx(q.Status) || (q.Status >= 400 && q.Status < 500 && q.Status != 429) {
			continue
		}
		// A fault, a 5xx or a 429: the next request of this op on this
		// order must reuse the X-Request-Id.
		for _, n := range a.Requests[i+1:] {
			if n.Op != q.Op || n.OrderID != q.OrderID {
				continue
			}
			what := fmt.Sprintf("%s answered %d%s", q.Op, q.Status, faultNote(q))
			if n.RequestID != q.RequestID {
				changed, nChanged = capped(changed, evidenceOf(n, what+"; retried with another X-Request-Id ("+n.RequestID+" after "+q.RequestID+")")), nChanged+1
			} else {
				handled = capped(handled, evidenceOf(n, what+"; retried with the same X-Request-Id"))
			}
			break
		}
	}
	switch {
	case len(missing) > 0 || len(changed) > 0:
		r.Status, r.Evidence = Fail, append(missing, changed...)
		var parts []string
		if nMissing > 0 {
			parts = append(parts, count(nMissing, "capture or refund", "captures or refunds")+" without X-Request-Id")
		}
		if nChanged > 0 {
			parts = append(parts, count(nChanged, "retry", "retries")+" with a new X-Request-Id")
		}
		r.Summary = strings.Join(parts, ", ")
		r.Fix = "Send an X-Request-Id with every capture and refund, store it before sending, and send the same one again after a timeout, a lost connection or a 5xx, after checking /details."
	case len(handled) == 0:
		r.Status = NotSeen
		r.Summary = "no failed capture or refund seen, so retries could not be checked"
		r.Fix = `Run the simulator with -audit (it loses the answer to each merchant's first capture) and capture a test order through your shop, or inject a fault, e.g. curl -X POST <sim>/_sim/faults -d '{"kind":"drop-after-apply","op":"capture","count":1}'; also check by hand that errors are logged and shown to staff.`
	default:
		r.Status, r.Evidence = Pass, handled
		r.Summary = "X-Request-Id sent on every capture and refund, and reused after a fault"
		r.Fix = "Also check by hand that errors are logged and shown to staff."
	}
	return r
}

func faultNote(q vippstest.Request) string {
	if q.Fault != "" {
		return " (fault " + string(q.Fault) + ")"
	}
	return ""
}

var headerNames = []string{"Vipps-System-Name", "Vipps-System-Version", "Vipps-System-Plugin-Name", "Vipps-System-Plugin-Version"}

// headerProblem says what is wrong with the Vipps-System-* headers of q,
// "" when nothing is.
func headerProblem(q vippstest.Request) string {
	limit := 30
	if strings.HasPrefix(q.Op, "om-") {
		limit = 100 // Order Management allows 100
	}
	var problems []string
	for _, h := range headerNames {
		v := q.Header.Get(h)
		switch {
		case v == "":
			problems = append(problems, "no "+h)
		case len(v) > limit:
			problems = append(problems, fmt.Sprintf("%s is %d characters (at most %d)", h, len(v), limit))
		case strings.TrimSpace(v) != v || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r > 0x7e }):
			problems = append(problems, fmt.Sprintf("%s %q is not printable ASCII without surrounding spaces", h, v))
		}
	}
	return strings.Join(problems, ", ")
}

func gradeHeaders(a vippstest.Audit) Result {
	r := Result{}
	n, bad := 0, 0
	for _, q := range a.Requests {
		n++
		if p := headerProblem(q); p != "" {
			bad++
			r.Evidence = capped(r.Evidence, evidenceOf(q, q.Op+": "+p))
		}
	}
	switch {
	case n == 0:
		r.Status, r.Summary = NotSeen, "no requests seen"
		r.Fix = "Point your shop at the simulator and make test orders."
	case bad > 0:
		r.Status = Fail
		r.Summary = fmt.Sprintf("%d of %s %s well-formed Vipps-System-* headers", bad, count(n, "request", "requests"), verb(bad, "lacks", "lack"))
		r.Fix = "Send Vipps-System-Name, -Version, -Plugin-Name and -Plugin-Version (at most 30 characters each) on every request, the access token request included."
	default:
		r.Status, r.Summary = Pass, fmt.Sprintf("all %d requests carry the four Vipps-System-* headers", n)
		if n == 1 {
			r.Summary = "the one request carries the four Vipps-System-* headers"
		}
		r.Evidence = []Evidence{evidenceOf(a.Requests[0], "first request: "+a.Requests[0].Header.Get("Vipps-System-Name")+" "+a.Requests[0].Header.Get("Vipps-System-Version"))}
	}
	return r
}

func gradeReceipts(a vippstest.Audit) Result {
	r := Result{}
	om := map[string]vippstest.AuditOrder{}
	for _, o := range a.OrderManagement {
		om[o.OrderID] = o
	}
	captured, receipts, categories := 0, 0, 0
	var without []Evidence
	for _, p := range a.Payments {
		if p.Summary.CapturedAmount == 0 {
			continue
		}
		captured++
		o := om[string(p.OrderID)]
		if o.Receipt {
			receipts++
		}
		if o.Category {
			categories++
		}
		if !o.Receipt || !o.Category {
			without = capped(without, Evidence{OrderID: p.OrderID, Time: p.InitiatedAt, Note: fmt.Sprintf("captured; receipt %v, category %v", o.Receipt, o.Category)})
		}
	}
	switch {
	case captured == 0:
		r.Status, r.Summary = NotSeen, "no captured payment seen"
		r.Fix = "Capture a test order and add its receipt and category through Order Management."
	case receipts == 0 || categories == 0:
		r.Status, r.Evidence = Fail, without
		r.Summary = receiptSummary(captured, receipts, categories)
		r.Fix = "Add a receipt (POST /order-management/v2/ecom/receipts/{orderId}) and a category with an order details link (PUT .../categories/{orderId}) for every paid order."
	default:
		r.Status = Pass
		r.Summary = receiptSummary(captured, receipts, categories)
		r.Evidence = without
		for _, o := range a.OrderManagement {
			if o.Receipt && o.Category {
				r.Evidence = capped(r.Evidence, Evidence{OrderID: vipps.OrderID(o.OrderID), Note: "receipt and category"})
				break
			}
		}
	}
	return r
}

// receiptSummary says how many of the captured payments have a receipt
// and a category.
func receiptSummary(captured, receipts, categories int) string {
	return fmt.Sprintf("of %s, %d %s a receipt and %d a category", count(captured, "captured payment", "captured payments"), receipts, verb(receipts, "has", "have"), categories)
}

var orderIDPattern = regexp.MustCompile(`^[a-zA-Z0-9-]{1,50}$`)

// orderIDProblem says what is wrong with id by the recommendations, ""
// when nothing is.
func orderIDProblem(id vipps.OrderID) string {
	s := string(id)
	switch {
	case !orderIDPattern.MatchString(s):
		return "outside ^[a-zA-Z0-9-]{1,50}$"
	case !strings.ContainsFunc(s, func(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }):
		return "digits only (a bare sequence number)"
	case s[0] == '0':
		return "a leading zero"
	case len(s) < 8:
		return "shorter than 8 characters"
	}
	return ""
}

func gradeOrderIDs(a vippstest.Audit) Result {
	r := Result{}
	bad := 0
	for _, p := range a.Payments {
		if why := orderIDProblem(p.OrderID); why != "" {
			bad++
			r.Evidence = capped(r.Evidence, Evidence{OrderID: p.OrderID, Time: p.InitiatedAt, Note: why})
		}
	}
	switch {
	case len(a.Payments) == 0:
		r.Status, r.Summary, r.Fix = NotSeen, "no payments seen", "Make test orders through your shop."
	case bad > 0:
		r.Status = Fail
		r.Summary = fmt.Sprintf("%d of %s %s not follow the recommendations", bad, count(len(a.Payments), "orderId", "orderIds"), verb(bad, "does", "do"))
		r.Fix = "Use readable orderIds with a prefix, such as acme-shop-123-order123abc (with several sales units, the MSN first); no bare or zero-padded numbers; add -1, -2 for new attempts."
	default:
		r.Status = Pass
		r.Summary = fmt.Sprintf("all %d orderIds are readable and within the pattern", len(a.Payments))
		if len(a.Payments) == 1 {
			r.Summary = "the one orderId is readable and within the pattern"
		}
		r.Evidence = []Evidence{{OrderID: a.Payments[0].OrderID, Time: a.Payments[0].InitiatedAt, Note: "for example"}}
	}
	return r
}

func gradePolling(a vippstest.Audit) Result {
	r := Result{}
	polls := map[vipps.OrderID][]time.Time{}
	var limited []Evidence
	for _, q := range a.Requests {
		if q.Op != "details" && q.Op != "status" {
			continue
		}
		polls[q.OrderID] = append(polls[q.OrderID], q.Time)
		if q.Status == 429 {
			limited = capped(limited, evidenceOf(q, q.Op+" answered 429 (rate limit)"))
		}
	}
	var hard []Evidence
	for id, ts := range polls {
		slices.SortFunc(ts, time.Time.Compare)
		for i := range ts {
			j := i + MaxDetailsPerMinute
			if j < len(ts) && ts[j].Sub(ts[i]) < time.Minute {
				hard = capped(hard, Evidence{OrderID: id, Time: ts[i], Note: fmt.Sprintf("more than %d /details calls within a minute", MaxDetailsPerMinute)})
				break
			}
		}
	}
	slices.SortFunc(hard, func(x, y Evidence) int { return strings.Compare(string(x.OrderID), string(y.OrderID)) })
	var learned, never []Evidence
	nLearned, nNever := 0, 0
	for _, c := range a.Callbacks {
		if c.Fault != vippstest.CallbackDrop {
			continue
		}
		found := false
		for _, t := range polls[c.OrderID] {
			if !t.Before(c.Time) {
				learned, nLearned = capped(learned, Evidence{OrderID: c.OrderID, Time: t, Note: "callback " + string(c.Status) + " dropped; /details polled afterwards"}), nLearned+1
				found = true
				break
			}
		}
		if !found {
			never, nNever = capped(never, Evidence{OrderID: c.OrderID, Time: c.Time, Note: "callback " + string(c.Status) + " dropped; /details never polled afterwards"}), nNever+1
		}
	}
	switch {
	case len(limited) > 0 || len(hard) > 0:
		r.Status, r.Evidence = Fail, append(limited, hard...)
		r.Summary = "polled /details harder than the guidelines and rate limits allow"
		r.Fix = "Poll /details 5 s after sending the customer to Vipps, then every 2 s, and stop at a final state or after 10 minutes; at most 120 calls a minute per orderId."
	case len(never) > 0:
		r.Status, r.Evidence = Fail, never
		r.Summary = fmt.Sprintf("%s whose callback was lost %s never checked with /details", count(nNever, "payment", "payments"), verb(nNever, "was", "were"))
		r.Fix = "Poll /details for every payment until it reaches a final state; callbacks and the fallBack can both be lost."
	case len(learned) == 0:
		r.Status = NotSeen
		r.Summary = "no callback was dropped, so polling could not be checked"
		r.Fix = "Run the simulator with -audit (it drops the first callback of every third payment) and make at least one test order."
	default:
		r.Status, r.Evidence = Pass, learned
		r.Summary = fmt.Sprintf("learned %s whose %s lost through /details, within the limits", count(nLearned, "outcome", "outcomes"), verb(nLearned, "callback was", "callbacks were"))
	}
	return r
}

func gradeRedirects(a vippstest.Audit, checks []FallBackCheck) Result {
	r := Result{}
	var bad, good []Evidence
	nBad, nGood := 0, 0
	for _, c := range checks {
		e := Evidence{OrderID: c.OrderID, Note: c.Note()}
		if c.OK() {
			good, nGood = capped(good, e), nGood+1
		} else if !c.Skipped {
			bad, nBad = capped(bad, e), nBad+1
		}
	}
	notes, nNotes := urlNotes(a, func(p vippstest.Payment) string {
		if p.IsApp {
			return ""
		}
		return p.FallBack
	}, "fallBack")
	switch {
	case len(bad) > 0:
		r.Status, r.Evidence = Fail, bad
		r.Summary = count(nBad, "fallBack URL", "fallBack URLs") + " did not answer a browser without a cookie"
		r.Fix = "The fallBack may open in another browser: put the orderId (and a token) in the URL, look the payment up without a session, check /details and show the result."
	case len(good) == 0:
		r.Status, r.Summary = NotSeen, "no fallBack URL checked"
		r.Fix = "Make a test order (a web payment, not isApp) and run the checklist where the fallBack URLs can be reached."
	default:
		r.Status, r.Evidence = Pass, good[:1]
		r.Summary = count(nGood, "fallBack URL", "fallBack URLs") + " answered a fresh browser without a cookie"
	}
	if len(notes) > 0 {
		r.Evidence = append(r.Evidence, notes...)
		r.Summary += "; " + count(nNotes, "fallBack", "fallBacks") + " real Vipps would refuse"
	}
	return r
}

func gradeDesign() Result {
	return Result{Status: Manual, Summary: "check by hand",
		Fix: "Use Vipps' buttons and logos as the design guidelines show, the Vipps payment option first or prominent, and the landing page flow for web payments."}
}

func gradeSupport() Result {
	return Result{Status: Manual, Summary: "check by hand",
		Fix: "Make sure customer service can look up a payment by orderId, see its status and history, and capture, cancel and refund it (e.g. the admin pages of vipps serve or Vipps' portal)."}
}

func gradeEnding(a vippstest.Audit, op vipps.Operation) Result {
	r := Result{}
	for _, p := range a.Payments {
		if len(p.Log) > 0 && p.Log[0].Operation == op && p.Log[0].OperationSuccess {
			r.Status = Pass
			r.Summary = fmt.Sprintf("order %s ends in %s", p.OrderID, op)
			r.Evidence = []Evidence{{OrderID: p.OrderID, RequestID: p.Log[0].RequestID, Time: p.Log[0].TimeStamp.Time, Note: "last operation " + string(op)}}
			return r
		}
	}
	r.Status, r.Summary = NotSeen, "no order ends in "+string(op)
	if op == vipps.OperationRefund {
		r.Fix = "Capture a test order and refund it through your shop; leave it so."
	} else {
		r.Fix = "Reserve a test order and cancel it before capture through your shop; leave it so."
	}
	return r
}

// seenIn splits the endpoint variants wanted, in order, into the evidence
// of those seen and the names of those missing.
func seenIn(want []string, seen map[string]Evidence) (evidence []Evidence, missing []string) {
	for _, k := range want {
		if e, ok := seen[k]; ok {
			evidence = append(evidence, e)
		} else {
			missing = append(missing, k)
		}
	}
	return evidence, missing
}
