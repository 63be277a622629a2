package web

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vippskit/vipps/internal/servicetest"
)

// clockEnv is a testEnv whose Server reads the manual clock returned.
func clockEnv(t *testing.T, opts ...func(*envConfig)) (*testEnv, *servicetest.ManualClock) {
	t.Helper()
	clock := servicetest.NewManualClock(time.Now())
	opts = append([]func(*envConfig){func(c *envConfig) { c.web.Now = clock.Now }}, opts...)
	return newTestEnv(t, opts...), clock
}

// from returns a client of e that connects from the loopback address ip
// (such as "127.0.0.7"), to be another client to the limiters.
func (e *testEnv) from(ip string) *http.Client {
	tr := e.client.Transport.(*http.Transport).Clone()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}
	c := *e.client
	c.Transport = tr
	e.t.Cleanup(tr.CloseIdleConnections)
	return &c
}

// signIn signs in through the sign-in page as user and pass from client
// c, and returns the status (303 when signed in), the Retry-After header
// and the body.
func (e *testEnv) signIn(c *http.Client, user, pass string) (int, string, string) {
	e.t.Helper()
	status, after, body, _ := e.login(c, user, pass, "")
	return status, after, body
}

func TestAdminLoginThrottled(t *testing.T) {
	e, clock := clockEnv(t)
	const wrong = "not-the-password-x"
	for i := range adminLoginBurst {
		if status, _, _ := e.signIn(e.client, "mallory", wrong); status != http.StatusUnauthorized {
			t.Fatalf("wrong password #%d = %d, want 401", i+1, status)
		}
	}
	// Over the limit: refused, whatever the password, until the wait is over.
	for _, pass := range []string{wrong, testAdminPassword} {
		status, after, body := e.signIn(e.client, testAdminUser, pass)
		if status != http.StatusTooManyRequests || after != "60" || !strings.Contains(body, "Wait 60 seconds") {
			t.Errorf("sign-in over the limit = %d, Retry-After %q, %q; want 429, 60 and how long to wait", status, after, body)
		}
	}
	logs := e.logs.String()
	if strings.Contains(logs, wrong) || strings.Contains(logs, testAdminPassword) {
		t.Errorf("the log shows a password:\n%s", logs)
	}
	if n := strings.Count(logs, `level=WARN msg="admin sign-in failed" remote_addr=127.0.0.1 user=mallory`); n != adminLoginLogFirst {
		t.Errorf("the log has %d warnings of a failed sign-in, want %d (the first of the window):\n%s", n, adminLoginLogFirst, logs)
	}

	// Another address is not throttled.
	if status, _, _ := e.signIn(e.from("127.0.0.2"), testAdminUser, testAdminPassword); status != http.StatusSeeOther {
		t.Errorf("right password from another address = %d, want 303", status)
	}
	clock.Advance(adminLoginEvery)
	if status, _, _ := e.signIn(e.client, testAdminUser, testAdminPassword); status != http.StatusSeeOther {
		t.Errorf("right password after the wait = %d, want 303", status)
	}
	// One token came back, and was spent: the next wrong one is 401, the
	// one after 429.
	if status, _, _ := e.signIn(e.client, "mallory", wrong); status != http.StatusUnauthorized {
		t.Errorf("wrong password after the wait = %d, want 401", status)
	}
	if status, _, _ := e.signIn(e.client, "mallory", wrong); status != http.StatusTooManyRequests {
		t.Errorf("second wrong password after the wait = %d, want 429", status)
	}
	// The next window began with a count of the lines left out.
	if logs := e.logs.String(); !strings.Contains(logs, `level=WARN msg="admin sign-ins failed, not logged one by one" count=5`) {
		t.Errorf("the log has no count of the sign-ins it did not log:\n%s", logs)
	}
}

func TestAdminLoginThrottledGlobally(t *testing.T) {
	e, clock := clockEnv(t)
	staff := e.from("127.0.0.200")
	if status, _, _ := e.signIn(staff, testAdminUser, testAdminPassword); status != http.StatusSeeOther {
		t.Fatalf("staff sign-in = %d, want 303", status)
	}
	// Many addresses, each under its own limit, together over the global one.
	n := 0
	for ip := 2; n < adminLoginGlobalBurst; ip++ {
		c := e.from("127.0.0." + strconv.Itoa(ip))
		for range adminLoginBurst - 1 {
			if n == adminLoginGlobalBurst {
				break
			}
			if status, _, _ := e.signIn(c, "admin", "guess"); status != http.StatusUnauthorized {
				t.Fatalf("guess #%d = %d, want 401", n+1, status)
			}
			n++
		}
	}
	status, after, _ := e.signIn(e.from("127.0.0.100"), testAdminUser, testAdminPassword)
	if status != http.StatusTooManyRequests || after != "5" {
		t.Errorf("right password from a new address past the global limit = %d, Retry-After %q; want 429, 5", status, after)
	}
	if status, _, _ := e.signIn(staff, testAdminUser, testAdminPassword); status != http.StatusSeeOther {
		t.Errorf("staff who signed in before, past the global limit = %d, want 303", status)
	}
	clock.Advance(adminLoginGlobalEvery)
	if status, _, _ := e.signIn(e.from("127.0.0.100"), testAdminUser, testAdminPassword); status != http.StatusSeeOther {
		t.Errorf("right password from a new address after the wait = %d, want 303", status)
	}
}

// TestLimiterBounded checks that a limiter holds at most maxClients
// clients, drops those that are idle to make room, and never forgets a
// throttled one.
func TestLimiterBounded(t *testing.T) {
	now := time.Now()
	l := newLimiter(pace{2, time.Minute}, pace{1 << 30, time.Nanosecond}, 3)
	for _, k := range []string{"a", "b", "c"} {
		l.take(k, now)
		l.take(k, now)
	}
	l.take("d", now) // no room: the overflow bucket
	l.take("x", now) // the same overflow bucket
	if got := l.size(); got != 3 {
		t.Fatalf("size = %d, want 3", got)
	}
	for _, k := range []string{"a", "b", "c", "d"} {
		if l.wait(k, now) == 0 {
			t.Errorf("wait(%q) = 0, want throttled", k)
		}
	}
	later := now.Add(2 * time.Minute) // every bucket full again
	l.take("e", later)
	if got := l.size(); got != 1 {
		t.Errorf("size after the idle clients were dropped = %d, want 1", got)
	}
	if l.wait("a", later) != 0 || l.wait("e", later) != 0 {
		t.Errorf("wait after the buckets refilled > 0, want 0")
	}
}
