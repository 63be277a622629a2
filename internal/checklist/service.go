package checklist

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/vippskit/vipps"
)

// Installation is what a running vippskit service knows about itself: the
// input of [GradeService]. The service gathers it (internal/web); nothing
// here calls anything.
type Installation struct {
	// Now is when the facts were gathered.
	Now time.Time
	// VippsURL is the Vipps base URL the service's client talks to:
	// vipps.TestURL, vipps.ProductionURL or a simulator.
	VippsURL string
	// SystemName and SystemVersion are what the client sends as
	// Vipps-System-Name and Vipps-System-Version (and the plugin headers).
	SystemName, SystemVersion string
	// PublicURL is the service's base URL as Vipps and browsers reach it;
	// CallbackURL is the callbackPrefix it sends.
	PublicURL, CallbackURL string
	// AdminURL is the admin UI's address.
	AdminURL string
	// Keys is the outcome of fetching an access token just now.
	Keys KeysCheck
	// Poller is what the background poller reported, if known.
	Poller PollerCheck
	// Payments are the newest payments, newest first; More is set when
	// there are older ones that were not looked at.
	Payments []InstalledPayment
	More     bool
}

// KeysCheck is the outcome of fetching an access token.
type KeysCheck struct {
	// Checked is set when a token was asked for; Error is why it failed,
	// "" when it worked.
	Checked bool
	Error   string
}

// PollerCheck is what the poller reported since the service started.
type PollerCheck struct {
	// Known is set when the service runs a poller and counts its checks.
	Known bool
	// Checks counts payments checked with /details; Last is the latest.
	Checks int64
	Last   time.Time
}

// InstalledPayment is one stored payment, as the checklist needs it.
type InstalledPayment struct {
	OrderID vipps.OrderID
	// State is the payment's state, as package payment names it
	// ("reserved", "captured", "refunded", "voided", "failed", ...).
	State     string
	CreatedAt time.Time
	// Decided is set when Vipps decided the payment (a reservation, a
	// sale, a failure or a cancel at Vipps); Failed when it failed.
	Decided, Failed bool
	// Callbacks are when Vipps' callbacks for it arrived.
	Callbacks []time.Time
	// Overdue is set when its next check is more than a few minutes late.
	Overdue bool
	// Ops are its captures, refunds and cancels, oldest first.
	Ops []InstalledOp
	// Receipt is set when the shop gave order lines; ReceiptSent when the
	// receipt task is done, ReceiptDead when it gave up.
	Receipt, ReceiptSent, ReceiptDead bool
}

// InstalledOp is one capture, refund or cancel.
type InstalledOp struct {
	Kind      string // "capture", "refund", "cancel"
	Status    string // "pending", "succeeded", "failed"
	Full      bool   // all that remained (capture, refund)
	Sends     int    // times sent, always with the same RequestID
	RequestID string
	At        time.Time
}

// overdueAfter is how late a check may be before polling is graded failed.
const overdueAfter = 5 * time.Minute

// OverdueAfter reports whether a payment due for a check at next is
// overdue at now (see InstalledPayment.Overdue).
func OverdueAfter(next, now time.Time) bool {
	return !next.IsZero() && now.Sub(next) > overdueAfter
}

// GradeService grades the go-live checklist for a vippskit installation
// from what it knows about itself. The results have the ids and order of
// Items.
func GradeService(in Installation) []Result {
	by := map[string]Result{
		"endpoints":    serviceEndpoints(in),
		"callbacks":    serviceCallbacks(in),
		"errors":       serviceErrors(in),
		"headers":      serviceHeaders(in),
		"receipts":     serviceReceipts(in),
		"orderid":      serviceOrderIDs(in),
		"polling":      servicePolling(in),
		"redirects":    serviceRedirects(in),
		"design":       serviceDesign(),
		"support":      serviceSupport(in),
		"refund-order": serviceEnding(in, "refunded", vipps.OperationRefund),
		"void-order":   serviceEnding(in, "voided", vipps.OperationVoid),
	}
	out := make([]Result, 0, len(Items))
	for _, it := range Items {
		r := by[it.ID]
		r.ID, r.Title = it.ID, it.Title
		if r.Evidence == nil {
			r.Evidence = []Evidence{}
		}
		out = append(out, r)
	}
	return out
}

// environment names the Vipps environment of a base URL.
func environment(u string) string {
	switch strings.TrimRight(u, "/") {
	case vipps.TestURL:
		return "the Vipps test environment"
	case vipps.ProductionURL:
		return "Vipps production"
	case "":
		return "an unknown Vipps environment"
	}
	return "a simulator at " + u
}

// simulated reports whether the service talks to something other than Vipps.
func simulated(in Installation) bool {
	u := strings.TrimRight(in.VippsURL, "/")
	return u != vipps.TestURL && u != vipps.ProductionURL
}

// publicProblem says why Vipps could not reach u, or "".
func publicProblem(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return fmt.Sprintf("%q is not an absolute URL", u)
	}
	host := p.Hostname()
	var problems []string
	if p.Scheme != "https" {
		problems = append(problems, "not https")
	}
	if ip := net.ParseIP(host); host == "localhost" || strings.HasSuffix(host, ".localhost") ||
		ip != nil && (ip.IsLoopback() || ip.IsPrivate() || ip.IsUnspecified() || ip.IsLinkLocalUnicast()) {
		problems = append(problems, "not reachable from the internet ("+host+")")
	}
	return strings.Join(problems, ", ")
}

func serviceEndpoints(in Installation) Result {
	seen := map[string]Evidence{}
	for _, p := range in.Payments {
		if p.Decided && !p.Failed {
			if _, ok := seen["initiate and details"]; !ok {
				seen["initiate and details"] = Evidence{OrderID: p.OrderID, Time: p.CreatedAt, Note: "initiated, and its outcome read with /details"}
			}
		}
		for _, op := range p.Ops {
			if op.Status != "succeeded" {
				continue
			}
			name := op.Kind
			if op.Kind != "cancel" {
				name = "partial " + op.Kind
				if op.Full {
					name = "full " + op.Kind
				}
			}
			if _, ok := seen[name]; !ok {
				seen[name] = Evidence{OrderID: p.OrderID, RequestID: op.RequestID, Time: op.At, Note: name + " succeeded"}
			}
		}
	}
	var r Result
	var missing []string
	r.Evidence, missing = seenIn(endpointVariants, seen)
	if len(missing) == 0 {
		r.Status, r.Summary = Pass, "initiate, details, full and partial capture and refund, and cancel all succeeded here"
		return r
	}
	r.Status, r.Summary = NotSeen, "not done here yet: "+strings.Join(missing, ", ")
	r.Fix = "vippskit integrates every endpoint; show it: from the admin (or the shop's API) capture one payment in full and one in part, refund one in full and one in part, and cancel one, then look again."
	return r
}

func serviceCallbacks(in Installation) Result {
	var r Result
	var ok, failed, decided, without int
	var last InstalledPayment
	for _, p := range in.Payments {
		if !p.Decided {
			continue
		}
		decided++
		if len(p.Callbacks) == 0 {
			without++
			continue
		}
		if p.Failed {
			failed++
		} else {
			ok++
		}
		if len(last.Callbacks) == 0 || p.Callbacks[len(p.Callbacks)-1].After(last.Callbacks[len(last.Callbacks)-1]) {
			last = p
		}
	}
	if problem := publicProblem(in.CallbackURL); problem != "" && !simulated(in) {
		r.Evidence = append(r.Evidence, Evidence{Note: "callbackPrefix " + in.CallbackURL + ": " + problem})
		r.Status, r.Summary = Fail, "Vipps cannot reach the callback URL: "+problem
		r.Fix = "Set the public URL (-public-url, VIPPS_PUBLIC_URL) to this service's https address on the internet, such as https://pay.example.no."
		return r
	}
	if len(last.Callbacks) > 0 {
		at := last.Callbacks[len(last.Callbacks)-1]
		r.Evidence = append(r.Evidence, Evidence{OrderID: last.OrderID, Time: at, Note: fmt.Sprintf("latest callback received and answered, %s ago", in.Now.Sub(at).Round(time.Second))})
	}
	r.Evidence = append(r.Evidence, Evidence{Note: fmt.Sprintf("of %d payments Vipps decided, %d succeeded and %d failed with a callback received; %d learned by polling alone", decided, ok, failed, without)})
	switch {
	case decided == 0:
		r.Status, r.Summary = NotSeen, "no payment decided yet"
		r.Fix = "Make a test payment: approve one and reject one in the Vipps app, then look again."
	case ok+failed == 0:
		r.Status, r.Summary = Fail, fmt.Sprintf("no callback arrived for any of %d decided payments", decided)
		r.Fix = "Vipps' callbacks do not reach " + in.CallbackURL + ": check that the public URL is right and that a proxy or firewall lets POSTs to it through."
	case ok == 0 || failed == 0:
		r.Status = NotSeen
		r.Summary = "callbacks arrive, but none yet for a failed payment"
		r.Fix = "Reject (or let time out) a test payment in the Vipps app, then look again."
		if failed > 0 {
			r.Summary, r.Fix = "callbacks arrive, but none yet for a successful payment", "Approve a test payment in the Vipps app, then look again."
		}
	default:
		r.Status, r.Summary = Pass, "callbacks arrive and are answered for successful and failed payments"
	}
	return r
}

func serviceErrors(in Installation) Result {
	var r Result
	for _, p := range in.Payments {
		for _, op := range p.Ops {
			if op.Sends > 1 && len(r.Evidence) < 5 {
				r.Evidence = append(r.Evidence, Evidence{OrderID: p.OrderID, RequestID: op.RequestID, Time: op.At,
					Note: fmt.Sprintf("%s sent %d times with the same X-Request-Id", op.Kind, op.Sends)})
			}
		}
	}
	if len(r.Evidence) > 0 {
		r.Status, r.Summary = Pass, "failed Vipps calls were sent again with the same X-Request-Id; errors are logged and shown on each payment's page"
		return r
	}
	r.Status, r.Summary = Pass, "by design: every capture, refund and cancel is stored with its X-Request-Id before it is sent and sent again with it until Vipps answers; errors are logged and shown on each payment's page"
	r.Evidence = []Evidence{{Note: "no retried operation here yet"}}
	return r
}

func serviceHeaders(in Installation) Result {
	r := Result{Evidence: []Evidence{{Note: fmt.Sprintf("Vipps-System-Name %q, Vipps-System-Version %q, and the same as Vipps-System-Plugin-*, on every request to %s", in.SystemName, in.SystemVersion, environment(in.VippsURL))}}}
	if in.SystemName == "" || in.SystemVersion == "" {
		r.Status, r.Summary = Fail, "the system name or version is empty"
		r.Fix = "Set the system name and version of the client (vipps.Config.SystemName and SystemVersion)."
		return r
	}
	r.Status, r.Summary = Pass, "the client sends the four Vipps-System-* headers on every request"
	switch {
	case !in.Keys.Checked:
	case in.Keys.Error != "":
		r.Status, r.Summary = Fail, "the keys do not work: no access token from "+environment(in.VippsURL)
		r.Evidence = append(r.Evidence, Evidence{Time: in.Now, Note: "access token refused: " + in.Keys.Error})
		r.Fix = "Check the client id, client secret, subscription key and merchant serial number (VIPPS_CLIENT_ID, VIPPS_CLIENT_SECRET, VIPPS_SUBSCRIPTION_KEY, VIPPS_MSN) for this environment in the Vipps portal."
	default:
		r.Summary += "; the keys work"
		r.Evidence = append(r.Evidence, Evidence{Time: in.Now, Note: "an access token was fetched from " + environment(in.VippsURL)})
	}
	return r
}

func serviceReceipts(in Installation) Result {
	var r Result
	var captured, given, sent, dead int
	for _, p := range in.Payments {
		if !hasOp(p, "capture") {
			continue
		}
		captured++
		if p.Receipt {
			given++
		}
		if p.ReceiptSent {
			sent++
			if len(r.Evidence) < 3 {
				r.Evidence = append(r.Evidence, Evidence{OrderID: p.OrderID, Note: "receipt and category sent to Order Management"})
			}
		}
		if p.ReceiptDead {
			dead++
			r.Evidence = append(r.Evidence, Evidence{OrderID: p.OrderID, Note: "receipt delivery gave up"})
		}
	}
	summary := fmt.Sprintf("of %d captured payments, %d have order lines and %d a receipt sent", captured, given, sent)
	switch {
	case dead > 0:
		r.Status, r.Summary = Fail, fmt.Sprintf("%s; %d receipt(s) gave up", summary, dead)
		r.Fix = "Open the payments whose receipt gave up, read the delivery log, and send again from the admin."
	case sent > 0:
		r.Status, r.Summary = Pass, summary
	case captured == 0:
		r.Status, r.Summary = NotSeen, "no captured payment yet"
		r.Fix = "Capture a test payment whose shop sent order lines (PUT /api/payments/{orderId}/receipt), then look again."
	default:
		r.Status, r.Summary = NotSeen, summary
		r.Fix = "Send order lines with a payment (PUT /api/payments/{orderId}/receipt) and capture it: the service then sends the receipt and category to Order Management."
	}
	return r
}

func hasOp(p InstalledPayment, kind string) bool {
	for _, op := range p.Ops {
		if op.Kind == kind && op.Status == "succeeded" {
			return true
		}
	}
	return false
}

func serviceOrderIDs(in Installation) Result {
	var r Result
	bad := 0
	for _, p := range in.Payments {
		if why := orderIDProblem(p.OrderID); why != "" {
			bad++
			if len(r.Evidence) < 5 {
				r.Evidence = append(r.Evidence, Evidence{OrderID: p.OrderID, Note: why})
			}
		}
	}
	switch {
	case len(in.Payments) == 0:
		r.Status, r.Summary = NotSeen, "no payments yet"
		r.Fix = "Make a test payment, then look again."
	case bad > 0:
		r.Status, r.Summary = Fail, fmt.Sprintf("%d of %d orderIds do not follow the recommendations", bad, len(in.Payments))
		r.Fix = "Set a readable orderId prefix, such as the shop's name (-order-id-prefix, VIPPS_ORDER_ID_PREFIX)."
	default:
		r.Status, r.Summary = Pass, fmt.Sprintf("all %d orderIds are readable and within the pattern", len(in.Payments))
		r.Evidence = append(r.Evidence, Evidence{OrderID: in.Payments[0].OrderID, Note: "newest orderId"})
	}
	return r
}

func servicePolling(in Installation) Result {
	var r Result
	var overdue, polled int
	for _, p := range in.Payments {
		if p.Overdue {
			overdue++
			if len(r.Evidence) < 5 {
				r.Evidence = append(r.Evidence, Evidence{OrderID: p.OrderID, Note: "its check with /details is more than " + overdueAfter.String() + " late"})
			}
		}
		if p.Decided && len(p.Callbacks) == 0 {
			polled++
		}
	}
	if in.Poller.Known {
		note := fmt.Sprintf("the poller checked %d payment(s) with /details since the service started", in.Poller.Checks)
		if !in.Poller.Last.IsZero() {
			note += fmt.Sprintf("; the latest %s ago", in.Now.Sub(in.Poller.Last).Round(time.Second))
		}
		r.Evidence = append(r.Evidence, Evidence{Time: in.Poller.Last, Note: note})
	}
	if polled > 0 {
		r.Evidence = append(r.Evidence, Evidence{Note: fmt.Sprintf("%d payment(s) learned their outcome by polling alone, without a callback", polled)})
	}
	switch {
	case overdue > 0:
		r.Status, r.Summary = Fail, fmt.Sprintf("%d payment(s) are overdue for a check: the poller is not running", overdue)
		r.Fix = "Run vipps serve with its poller (every replica runs one); look in its log for \"checking payment failed\"."
	case in.Poller.Known && in.Poller.Checks == 0:
		r.Status, r.Summary = NotSeen, "the poller runs but has checked no payment since the service started"
		r.Fix = "Make a test payment and leave it a minute; the poller checks it with /details whether or not a callback arrives."
	default:
		r.Status, r.Summary = Pass, "the poller checks every open payment with /details on the guidelines' schedule; no check is overdue"
	}
	return r
}

func serviceRedirects(in Installation) Result {
	r := Result{Status: Pass,
		Summary:  "the return page needs no session or cookie: the link carries a signed token",
		Evidence: []Evidence{{Note: "fallBack " + strings.TrimRight(in.PublicURL, "/") + "/return/{orderId}?t={signed token}"}}}
	if problem := publicProblem(in.PublicURL); problem != "" && !simulated(in) {
		r.Status, r.Summary = Fail, "customers cannot come back: the return URL is "+problem
		r.Fix = "Set the public URL (-public-url, VIPPS_PUBLIC_URL) to this service's https address on the internet."
	}
	return r
}

func serviceDesign() Result {
	return Result{Status: Manual, Summary: "check by hand",
		Evidence: []Evidence{{Note: "the demo shop's button is vippskit's own, not Vipps' official one"}},
		Fix:      "In your shop, use Vipps' own buttons and logos as the design guidelines show, put Vipps first or prominent among the payment options, and send the customer to Vipps straight from the button."}
}

func serviceSupport(in Installation) Result {
	return Result{Status: Pass, Summary: "customer service finds, checks, captures, refunds and cancels payments in the admin",
		Evidence: []Evidence{{Note: "admin at " + in.AdminURL}}}
}

func serviceEnding(in Installation, state string, op vipps.Operation) Result {
	for _, p := range in.Payments {
		if p.State == state {
			return Result{Status: Pass, Summary: fmt.Sprintf("order %s ends in %s", p.OrderID, op),
				Evidence: []Evidence{{OrderID: p.OrderID, Time: p.CreatedAt, Note: "state " + state}}}
		}
	}
	r := Result{Status: NotSeen, Summary: "no order ends in " + string(op)}
	if in.More {
		r.Summary += " among the newest payments"
	}
	if op == vipps.OperationRefund {
		r.Fix = "Capture a test payment and refund all of it, then look again."
	} else {
		r.Fix = "Cancel a reserved test payment before any capture, then look again."
	}
	return r
}
