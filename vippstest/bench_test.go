package vippstest_test

// The benchmark: the simulator's GET details throughput under many
// concurrent clients, over real loopback HTTP, next to a bare net/http
// handler that answers the same bytes on the same kind of server
// (httptest.NewServer) with the same client. Target: the simulator serves
// at least half the bare handler's requests per second. Run them with
//
//	go test -run='^$' -bench=DetailsThroughput -count=5 ./vippstest/
//
// and compare the req/s metrics. Both sides get the same headers (a valid
// bearer token, the subscription key, the MSN) from 32 goroutines
// (b.SetParallelism(16) on two cores; more on bigger machines) sharing one
// http.Transport with enough idle connections for all of them.
//
// The simulator holds benchDetailsOrders reserved payments and the clients
// walk through them, as a shop's pollers would; Vipps' details rate limit
// (120 per minute per orderId) is turned off, since a benchmark is not the
// abuse it is there to catch.
//
// The same comparison with an external load generator: run
// "vipps sim -addr 127.0.0.1:18085", reserve a payment (vipps initiate and
// vipps approve), take a token from "vipps token -reveal", serve the bytes
// of its details from a bare net/http server, and point
//
//	wrk -t2 -c32 -d10s -H 'Authorization: Bearer …' \
//	    -H 'Ocp-Apim-Subscription-Key: sim-subscription-key' \
//	    -H 'Merchant-Serial-Number: 123456' \
//	    http://127.0.0.1:18085/ecomm/v2/payments/<orderId>/details
//
// at each (the sim command logs every request, which it pays for here).

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/vippstest"
)

// benchDetailsOrders is how many reserved payments the clients poll.
const benchDetailsOrders = 10000

// detailsTarget is a server to poll: the URLs of the details of each
// payment and the headers to send.
type detailsTarget struct {
	urls   []string
	header http.Header
}

// newSimDetailsTarget starts a simulator on loopback holding
// benchDetailsOrders reserved payments. It also returns what the
// simulator answers for the first one (Content-Type and body).
func newSimDetailsTarget(b *testing.B) (detailsTarget, string, []byte) {
	b.Helper()
	sim, err := vippstest.New(vippstest.Config{RateLimits: vippstest.RateLimits{Disabled: true}})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	b.Cleanup(srv.Close)

	// Set up in process: initiate through the handler, approve with the
	// hook. The simulator is closed first, so that the approvals send no
	// callbacks (it keeps serving the API).
	if err := sim.Close(); err != nil {
		b.Fatal(err)
	}
	h := benchToken(b, sim)
	t := detailsTarget{header: h}
	for i := range benchDetailsOrders {
		id := vipps.OrderID(fmt.Sprintf("bench-shop-order-%05d", i))
		body := `{"customerInfo":{},"merchantInfo":{"merchantSerialNumber":"123456","callbackPrefix":"https://shop.example/vipps","fallBack":"https://shop.example/return/` +
			string(id) + `"},"transaction":{"orderId":"` + string(id) + `","amount":49900,"transactionText":"One pair of Vipps socks"}}`
		benchServe(b, sim, "POST", "/ecomm/v2/payments", body, h)
		if err := sim.Approve(id, ""); err != nil {
			b.Fatal(err)
		}
		t.urls = append(t.urls, srv.URL+"/ecomm/v2/payments/"+string(id)+"/details")
	}

	req, err := http.NewRequestWithContext(b.Context(), "GET", t.urls[0], nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header = h.Clone()
	resp, err := srv.Client().Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("details = %d %s, %v", resp.StatusCode, body, err)
	}
	return t, resp.Header.Get("Content-Type"), body
}

// benchToken takes an access token from the simulator in process and
// returns the default merchant's API headers with it.
func benchToken(b *testing.B, sim http.Handler) http.Header {
	b.Helper()
	m := vippstest.DefaultMerchant()
	creds := http.Header{}
	creds.Set("Ocp-Apim-Subscription-Key", m.SubscriptionKey)
	creds.Set("client_id", m.ClientID)
	creds.Set("client_secret", m.ClientSecret)
	token := benchServe(b, sim, "POST", "/accesstoken/get", "", creds)
	var at struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(token), &at); err != nil {
		b.Fatal(err)
	}
	return http.Header{
		"Authorization":             {"Bearer " + at.AccessToken},
		"Ocp-Apim-Subscription-Key": {m.SubscriptionKey},
		"Merchant-Serial-Number":    {string(m.MSN)},
	}
}

// benchServe calls the simulator in process and returns the body of a 200.
func benchServe(b *testing.B, h http.Handler, method, path, body string, header http.Header) string {
	b.Helper()
	req := httptest.NewRequestWithContext(b.Context(), method, path, strings.NewReader(body))
	req.Header = header.Clone()
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		b.Fatalf("%s %s = %d %s", method, path, w.Code, w.Body)
	}
	return w.Body.String()
}

// pollDetails is the load generator: many goroutines GET the target's
// URLs in turn over one shared transport, and the result is reported as
// req/s.
func pollDetails(b *testing.B, t detailsTarget) {
	tr := &http.Transport{
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 1024,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	b.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr}
	var next atomic.Uint64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			url := t.urls[next.Add(1)%uint64(len(t.urls))]
			req, err := http.NewRequest("GET", url, nil)
			if err != nil {
				b.Error(err)
				return
			}
			req.Header = t.header
			resp, err := hc.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("GET %s = %d", url, resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkDetailsThroughput is the simulator serving GET details for
// reserved payments.
func BenchmarkDetailsThroughput(b *testing.B) {
	t, _, _ := newSimDetailsTarget(b)
	pollDetails(b, t)
}

// BenchmarkBareDetailsThroughput is a bare handler writing the bytes the
// simulator answered, on the same kind of server, polled the same way.
func BenchmarkBareDetailsThroughput(b *testing.B) {
	sim, contentType, body := newSimDetailsTarget(b)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Write(body)
	}))
	b.Cleanup(srv.Close)
	t := detailsTarget{header: sim.header}
	for _, u := range sim.urls {
		t.urls = append(t.urls, srv.URL+u[strings.Index(u, "/ecomm/"):])
	}
	pollDetails(b, t)
}
