package web

import (
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// pace is a token bucket's shape: a full bucket holds burst tokens, and
// one token comes back every every.
type pace struct {
	burst int
	every time.Duration
}

// bucket returns a full token bucket of this pace.
func (p pace) bucket() *rate.Limiter { return rate.NewLimiter(rate.Every(p.every), p.burst) }

// waitFor is how long until b holds a token at now: 0 when it holds one.
// It takes nothing.
func waitFor(b *rate.Limiter, now time.Time) time.Duration {
	tokens := b.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration(math.Ceil((1 - tokens) * float64(time.Second) / float64(b.Limit())))
}

// limiter limits what clients may do (sign in wrongly, buy in the demo
// shop): a token bucket per client, and one for all clients together, so
// that many addresses cannot do together what one may not. A client that
// did well recently (trust: signed in with the right password) is exempt
// from the global bucket, so that a flood of wrong passwords from
// elsewhere does not lock out staff who are already signed in.
//
// It holds at most maxClients clients. When the map is full, clients whose
// buckets are full again and whose trust has ended are dropped (at most
// once a second); when none can be, new clients share one overflow bucket.
// So memory stays bounded, and a throttled client is never forgotten to
// make room for another.
type limiter struct {
	perClient, global pace
	maxClients        int

	mu        sync.Mutex
	all       *rate.Limiter
	clients   map[string]*client
	overflow  client
	lastSweep time.Time
}

// client is what a limiter knows about one client.
type client struct {
	bucket       *rate.Limiter
	trustedUntil time.Time
}

func newLimiter(perClient, global pace, maxClients int) *limiter {
	return &limiter{perClient: perClient, global: global, maxClients: maxClients, all: global.bucket(),
		clients: map[string]*client{}, overflow: client{bucket: perClient.bucket()}}
}

// wait is how long key must wait before it may try: 0 when it may now.
func (l *limiter) wait(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.entry(key, now, false)
	if c == nil {
		return waitFor(l.all, now)
	}
	w := waitFor(c.bucket, now)
	if now.Before(c.trustedUntil) {
		return w
	}
	return max(w, waitFor(l.all, now))
}

// take counts a try of key: a token from its bucket and one from the
// global bucket, each if it holds one (an empty bucket stays empty).
func (l *limiter) take(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entry(key, now, true).bucket.AllowN(now, 1)
	l.all.AllowN(now, 1)
}

// trust exempts key from the global bucket until now+d.
func (l *limiter) trust(key string, now time.Time, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c := l.entry(key, now, true); c != &l.overflow {
		c.trustedUntil = now.Add(d)
	}
}

// entry returns the entry of key. A key without one gets the overflow
// entry when the map is full, else a new entry with add, else nil.
func (l *limiter) entry(key string, now time.Time, add bool) *client {
	if c, ok := l.clients[key]; ok {
		return c
	}
	if len(l.clients) >= l.maxClients && now.Sub(l.lastSweep) >= time.Second {
		l.lastSweep = now
		for k, c := range l.clients {
			if c.bucket.TokensAt(now) >= float64(l.perClient.burst) && !now.Before(c.trustedUntil) {
				delete(l.clients, k)
			}
		}
	}
	switch {
	case len(l.clients) >= l.maxClients:
		return &l.overflow
	case !add:
		return nil
	}
	c := &client{bucket: l.perClient.bucket()}
	l.clients[key] = c
	return c
}

// size is the number of clients the limiter holds apart.
func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.clients)
}

// clientKey is who a request comes from, for the limiters: the remote IP
// address, or its /64 for IPv6, since one host commonly holds a whole /64.
// Behind a reverse proxy every request comes from the proxy, so that every
// client shares one bucket.
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	if a = a.Unmap(); a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// remoteHost is the address a request comes from, for the log.
func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// retryAfter is d as a Retry-After header: whole seconds, at least 1.
func retryAfter(d time.Duration) string {
	return strconv.FormatInt(max(int64(math.Ceil(d.Seconds())), 1), 10)
}

// logGate lets through the first few log lines of a kind in each window
// and counts the rest, so that a flood of events does not flood the log.
type logGate struct {
	window time.Duration
	first  int

	mu      sync.Mutex
	start   time.Time
	logged  int
	dropped int
}

// pass counts an event at now and reports whether to log it. When a new
// window begins, it also returns how many events of the last window were
// not logged (see flush).
func (g *logGate) pass(now time.Time) (log bool, dropped int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	dropped = g.roll(now)
	if g.logged < g.first {
		g.logged++
		return true, dropped
	}
	g.dropped++
	return false, dropped
}

// flush returns how many events of a window that has ended were not
// logged, once.
func (g *logGate) flush(now time.Time) (dropped int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.roll(now)
}

func (g *logGate) roll(now time.Time) (dropped int) {
	if !g.start.IsZero() && now.Sub(g.start) < g.window {
		return 0
	}
	dropped = g.dropped
	g.start, g.logged, g.dropped = now, 0, 0
	return dropped
}
