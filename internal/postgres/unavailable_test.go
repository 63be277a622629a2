package postgres_test

import (
	"errors"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/internal/servicetest"
	"github.com/vippskit/vipps/internal/staff"
)

// TestDatabaseAway cuts the store's connections to a real PostgreSQL (a
// proxy in between drops them and refuses new ones, as a restart or a
// network failure does): reads and writes of every kind fail with
// payment.ErrUnavailable, which the shop is told as 503; once the proxy
// takes connections again, the same calls succeed and nothing was lost.
func TestDatabaseAway(t *testing.T) {
	dsn := servicetest.PostgresDSN(t)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	px := newProxy(t, net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))))
	s := open(t, viaProxy(t, dsn, px.addr))
	ctx := t.Context()

	p := newPayment("away-1")
	if err := s.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	px.cut()
	calls := map[string]func() error{
		"Get (a query)":      func() error { _, err := s.Get(ctx, p.OrderID); return err },
		"Snapshot (a query)": func() error { _, err := s.Snapshot(ctx, p.OrderID); return err },
		"Create (a batch)": func() error {
			q := newPayment("away-2")
			q.ShopRef = "shop-2" // not an attempt of p's order, whose version it would raise
			return s.Create(ctx, q)
		},
		"Update (a batch)": func() error {
			q := *p // as read before the cut; AddOperation may raise the version once back
			if got, err := s.Get(ctx, p.OrderID); err == nil {
				q = *got
			}
			q.Text = "changed"
			return s.Update(ctx, &q)
		},
		"AddOperation (a batch)": func() error {
			_, err := s.AddOperation(ctx, &payment.Operation{OrderID: p.OrderID, Kind: payment.OpCapture, IdempotencyKey: "k1",
				RequestID: "r1", Amount: 100, Status: payment.OpPending, CreatedAt: t0, UpdatedAt: t0}, nil)
			return err
		},
		"CreateAccount (a transaction)": func() error {
			return s.CreateAccount(ctx, &staff.Account{Name: "kari", Role: staff.Viewer, PasswordHash: "x", CreatedAt: t0, UpdatedAt: t0}, false)
		},
		"Totals (a single row)":  func() error { _, err := s.Totals(ctx, payment.ListFilter{}); return err },
		"TokenHash (a row)":      func() error { _, err := s.TokenHash(ctx, p.OrderID); return err },
		"Stats (rows, grouped)":  func() error { _, err := s.Stats(ctx); return err },
		"TouchSession (an Exec)": func() error { return s.TouchSession(ctx, "no-such-session", t0) },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, payment.ErrUnavailable) {
			t.Errorf("%s with the database away = %v, want ErrUnavailable", name, err)
		}
	}

	px.resume()
	for name, call := range calls {
		if err := call(); err != nil {
			t.Errorf("%s once the database is back = %v, want nil", name, err)
		}
	}
	got, err := s.Get(ctx, p.OrderID)
	if err != nil || got.Text != "changed" {
		t.Fatalf("Get after = %+v, %v; want the update made once the database was back", got, err)
	}
	if _, err := s.Get(ctx, "away-2"); err != nil {
		t.Errorf("the payment created once the database was back: %v", err)
	}
}

// proxy forwards TCP connections to a PostgreSQL server; cut drops every
// connection and refuses new ones until resume.
type proxy struct {
	t      *testing.T
	addr   string // where the store connects
	target string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
	wg     sync.WaitGroup
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	px := &proxy{t: t, addr: ln.Addr().String(), target: target, conns: map[net.Conn]bool{}}
	px.serve(ln)
	t.Cleanup(func() {
		px.cut()
		px.wg.Wait()
	})
	return px
}

func (px *proxy) serve(ln net.Listener) {
	px.mu.Lock()
	px.ln = ln
	px.mu.Unlock()
	px.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", px.target)
			if err != nil {
				c.Close()
				continue
			}
			if !px.track(c, up) {
				return
			}
			pipe := func(dst, src net.Conn) {
				io.Copy(dst, src)
				dst.Close()
				src.Close()
			}
			px.wg.Go(func() { pipe(up, c) })
			px.wg.Go(func() { pipe(c, up) })
		}
	})
}

// track notes the pair of connections, or closes them when the proxy was
// cut meanwhile.
func (px *proxy) track(cs ...net.Conn) bool {
	px.mu.Lock()
	defer px.mu.Unlock()
	if px.ln == nil {
		for _, c := range cs {
			c.Close()
		}
		return false
	}
	for _, c := range cs {
		px.conns[c] = true
	}
	return true
}

func (px *proxy) cut() {
	px.mu.Lock()
	defer px.mu.Unlock()
	if px.ln != nil {
		px.ln.Close()
		px.ln = nil
	}
	for c := range px.conns {
		c.Close()
		delete(px.conns, c)
	}
}

func (px *proxy) resume() {
	ln, err := net.Listen("tcp", px.addr)
	if err != nil {
		px.t.Fatalf("listen on %s again: %v", px.addr, err)
	}
	px.serve(ln)
}

// viaProxy is dsn with its host and port replaced by addr.
func viaProxy(t *testing.T, dsn, addr string) string {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		host, port, _ := net.SplitHostPort(addr)
		return dsn + " host=" + host + " port=" + port
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = addr
	return u.String()
}
