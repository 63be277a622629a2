package vippstest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vippskit/vipps"
)

// RateLimits are Vipps' per-order request limits (reference §11), counted
// on the simulator's clock in a sliding window. The zero value is Vipps'
// limits: per minute, initiate 2 and capture, cancel and refund 5 per
// orderId and MSN; details and status 120 per orderId and subscription key.
// See "Rate limits" in DESIGN.md for what counts.
type RateLimits struct {
	// Disabled turns rate limiting off.
	Disabled bool

	// Window is the length of the sliding window. Zero means one minute.
	Window time.Duration

	// Initiate, Capture, Cancel, Refund, Details and Status are the
	// requests allowed per window for one orderId. Zero means Vipps' limit
	// (2, 5, 5, 5, 120, 120); a negative value means no limit for that
	// endpoint.
	Initiate int
	Capture  int
	Cancel   int
	Refund   int
	Details  int
	Status   int
}

// Vipps' rate limits, per orderId and minute.
const (
	defaultRateWindow    = time.Minute
	defaultInitiateLimit = 2
	defaultActionLimit   = 5 // capture, cancel, refund
	defaultReadLimit     = 120
)

// problems lists what is wrong with the limits, for New.
func (rl RateLimits) problems() []string {
	if rl.Window < 0 {
		return []string{fmt.Sprintf("Config.RateLimits.Window %v must not be negative", rl.Window)}
	}
	return nil
}

// limit returns the requests allowed per window for op, and false when op
// is not limited.
func (rl RateLimits) limit(op string) (int, bool) {
	if rl.Disabled {
		return 0, false
	}
	var n, def int
	switch op {
	case "initiate":
		n, def = rl.Initiate, defaultInitiateLimit
	case "capture":
		n, def = rl.Capture, defaultActionLimit
	case "cancel":
		n, def = rl.Cancel, defaultActionLimit
	case "refund":
		n, def = rl.Refund, defaultActionLimit
	case "details":
		n, def = rl.Details, defaultReadLimit
	case "status":
		n, def = rl.Status, defaultReadLimit
	default:
		return 0, false
	}
	switch {
	case n < 0:
		return 0, false
	case n == 0:
		return def, true
	}
	return n, true
}

func (rl RateLimits) window() time.Duration {
	if rl.Window == 0 {
		return defaultRateWindow
	}
	return rl.Window
}

// rateKey is one counter: an endpoint, an orderId and the merchant (the
// MSN of the access token for initiate, capture, cancel and refund; the
// merchant of the subscription key for details and status, which is the
// same thing in the simulator, where every key belongs to one merchant).
type rateKey struct {
	op      string
	orderID vipps.OrderID
	msn     vipps.MSN
}

// rateLimiter counts requests per rateKey. The zero value is ready; it is
// guarded by Simulator.mu.
type rateLimiter struct {
	hits   map[rateKey][]time.Time // times of counted requests, oldest first
	checks int                     // since the last full prune
}

// pruneEvery is how many checks pass at least between prunes of every
// counter; with more counters than that, a prune waits for as many checks
// as there are counters, so that its cost per request stays constant.
const pruneEvery = 1024

// allowLocked counts a request by who for op at now, unless the limit is
// reached; then it returns false and how long until a request is allowed
// again.
func (s *Simulator) allowLocked(op string, who caller, now time.Time) (bool, time.Duration) {
	limit, ok := s.cfg.RateLimits.limit(op)
	if !ok || !who.authenticated || who.orderID == "" {
		return true, 0
	}
	l := &s.limiter
	if l.hits == nil {
		l.hits = map[rateKey][]time.Time{}
	}
	window := s.cfg.RateLimits.window()
	if l.checks++; l.checks >= max(pruneEvery, len(l.hits)) {
		l.checks = 0
		for k, ts := range l.hits {
			if len(ts) == 0 || !ts[len(ts)-1].After(now.Add(-window)) {
				delete(l.hits, k)
			}
		}
	}
	key := rateKey{op, who.orderID, who.msn}
	ts := inWindow(l.hits[key], now, window)
	if len(ts) >= limit {
		l.hits[key] = ts
		return false, ts[len(ts)-limit].Add(window).Sub(now)
	}
	l.hits[key] = append(ts, now)
	return true, 0
}

// inWindow drops the times that are a window or more before now.
func inWindow(ts []time.Time, now time.Time, window time.Duration) []time.Time {
	from := now.Add(-window)
	i := 0
	for i < len(ts) && !ts[i].After(from) {
		i++
	}
	if i == 0 {
		return ts
	}
	return append(ts[:0], ts[i:]...)
}

// ResetRateLimits forgets every request counted so far, as if a window
// had passed without moving the clock.
func (s *Simulator) ResetRateLimits() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limiter = rateLimiter{}
}

// retryAfterSeconds rounds d up to whole seconds, as the Retry-After
// header says it.
func retryAfterSeconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int(math.Ceil(d.Seconds()))
}

// rateLimited returns the API gateway's 429: Azure API Management's object
// with the text of its rate-limit policy. The Retry-After header, in
// seconds, goes out with it (see screening.write).
func (sc *screening) rateLimited(retryAfter time.Duration) reply {
	secs := retryAfterSeconds(retryAfter)
	sc.retryAfter = strconv.Itoa(secs)
	return gatewayReply(http.StatusTooManyRequests, fmt.Sprintf("Rate limit is exceeded. Try again in %d seconds.", secs))
}

// caller is what the API gateway knows of a request before the API handles
// it: whose keys it carries and which order it is about.
type caller struct {
	// authenticated is set when the subscription key and the access token
	// are valid and belong to the same merchant. Requests that are not are
	// refused with 401 before any limit applies.
	authenticated bool
	msn           vipps.MSN     // the merchant of the keys, when known
	orderID       vipps.OrderID // from the path, or the initiate body
}

// identifyLocked finds the caller of a request to op.
func (s *Simulator) identifyLocked(r *http.Request, op string, body []byte, now time.Time) caller {
	var who caller
	who.orderID = vipps.OrderID(r.PathValue("orderId"))
	if op == "initiate" {
		who.orderID = peekOrderID(body)
	}
	km := s.merchantByKey(r.Header.Get("Ocp-Apim-Subscription-Key"))
	if km != nil {
		who.msn = km.MSN
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return who
	}
	it, known := s.tokens[tok]
	if !known {
		return who
	}
	who.msn = cmp.Or(who.msn, it.msn)
	// Userinfo goes without a subscription key.
	who.authenticated = now.Before(it.expires) && (km == nil && op == "userinfo" || km != nil && km.MSN == it.msn)
	return who
}

// peekOrderID reads transaction.orderId from an initiate body, "" when it
// has none that is a string.
func peekOrderID(body []byte) vipps.OrderID {
	var b struct {
		Transaction struct {
			OrderID json.RawMessage `json:"orderId"`
		} `json:"transaction"`
	}
	if json.Unmarshal(body, &b) != nil {
		return ""
	}
	var id string
	if json.Unmarshal(b.Transaction.OrderID, &id) != nil {
		return ""
	}
	return vipps.OrderID(id)
}
