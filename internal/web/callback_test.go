package web

import (
	"encoding/hex"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/vippskit/vipps"
)

// TestCallbackUnknownOrderLikeWrongToken checks that a callback for an
// unknown orderId is handled just as one for a known orderId with a wrong
// token: the same answer, and the same work (a token hash to compare
// against, from one read of the store), so that neither tells which
// orderIds exist.
func TestCallbackUnknownOrderLikeWrongToken(t *testing.T) {
	var (
		mu     sync.Mutex
		hashes = map[vipps.OrderID][]string{}
	)
	e := newTestEnv(t, func(c *envConfig) {
		c.web.onTokenLookup = func(id vipps.OrderID, hash string) {
			mu.Lock()
			defer mu.Unlock()
			hashes[id] = append(hashes[id], hash)
		}
	})
	known := e.createPayment(1000, "Socks")
	unknown := vipps.OrderID("test-unknown1")

	type answer struct {
		Status            int
		Body, Challenge   string
		ContentType, Logs string
	}
	callback := func(id vipps.OrderID) answer {
		t.Helper()
		before := len(e.logs.String())
		body := `{"merchantSerialNumber":"123456","orderId":"` + string(id) + `","transactionInfo":{"amount":1000,"status":"RESERVED","timeStamp":"2026-01-01T00:00:00Z","transactionId":"5001"}}`
		req := e.newRequest("POST", e.svc.CallbackPath()+"/v2/payments/"+string(id), strings.NewReader(body))
		req.Header.Set("Authorization", "not-the-token-0123456789-0123456789-0123")
		req.Header.Set("Content-Type", "application/json")
		resp, b := e.do(req)
		logs := strings.ReplaceAll(e.logs.String()[before:], string(id), "ID")
		// Keep the refusal's line, without its time.
		var line string
		for l := range strings.Lines(logs) {
			if strings.Contains(l, "vipps request refused") {
				_, line, _ = strings.Cut(l, " ")
			}
		}
		return answer{resp.StatusCode, string(b), resp.Header.Get("WWW-Authenticate"), resp.Header.Get("Content-Type"), line}
	}
	for range 2 {
		k, u := callback(known), callback(unknown)
		if k.Status != http.StatusUnauthorized || k != u {
			t.Errorf("callback with a wrong token:\nknown orderId   %+v\nunknown orderId %+v\nwant the same 401", k, u)
		}
	}

	mu.Lock()
	defer mu.Unlock()
	p := e.Get(known)
	if got := hashes[known]; len(got) != 2 || got[0] != p.AuthTokenHash {
		t.Errorf("lookups of the known orderId returned %q, want its token hash twice", got)
	}
	got := hashes[unknown]
	if len(got) != 2 || got[0] != got[1] || got[0] == p.AuthTokenHash {
		t.Fatalf("lookups of the unknown orderId returned %q, want one hash, twice, that is no payment's", got)
	}
	if b, err := hex.DecodeString(got[0]); err != nil || len(b) != 32 || strings.Trim(got[0], "0") == "" {
		t.Errorf("hash for an unknown orderId = %q, want hex SHA-256 of a random token", got[0])
	}
}
