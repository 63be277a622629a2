package vipps_test

// Benchmarks of the client against the same exchange done with bare
// net/http, on the same in-process server and the same http.Client: the
// difference is the client's own cost (token cache, headers, encoding,
// error checks, logging hooks). Run them with
//
//	go test -run='^$' -bench=. -benchmem -count=5
//
// The target is at most 1.5x the bare ns/op and 2x the bare allocs/op.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vippskit/vipps"
)

const benchToken = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsIng1dCI6Ii1LSTNROW5OUjdiUm9meG1lWm9YcWJIWkdldyJ9.benchmark"

// benchFixture is an in-process server answering the token, details and
// capture calls with fixed realistic bodies (examples 1.2, 6.1 and 3.3), a
// client warmed up against it, and what a bare request needs.
type benchFixture struct {
	srv    *httptest.Server
	hc     *http.Client
	client *vipps.Client
}

func newBenchFixture(b *testing.B) *benchFixture {
	b.Helper()
	read := func(name string) []byte {
		body, err := os.ReadFile(filepath.Join("testdata", "examples", name))
		if err != nil {
			b.Fatal(err)
		}
		return body
	}
	token := []byte(`{"token_type":"Bearer","expires_in":"3600","ext_expires_in":"3600","expires_on":"1547823408","not_before":"1547819508","resource":"00000002-0000-0000-c000-000000000000","access_token":"` + benchToken + `"}`)
	details, capture := read("details-regular.json"), read("capture-response.json")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		var body []byte
		switch {
		case r.URL.Path == "/accesstoken/get":
			body = token
		case strings.HasSuffix(r.URL.Path, "/details"):
			body = details
		case strings.HasSuffix(r.URL.Path, "/capture"):
			body = capture
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.Write(body)
	}))
	b.Cleanup(srv.Close)
	hc := srv.Client()
	c, err := vipps.New(exampleConfig(srv.URL, hc))
	if err != nil {
		b.Fatal(err)
	}
	// Warm up: the token and a kept-alive connection.
	if _, err := c.Details(b.Context(), exampleOrderID); err != nil {
		b.Fatal(err)
	}
	return &benchFixture{srv: srv, hc: hc, client: c}
}

// bareDo sends what the client sends, with net/http only, and decodes the
// answer into out.
func (f *benchFixture) bareDo(ctx context.Context, method, path string, body []byte, requestID string, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, f.srv.URL+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+benchToken)
	req.Header.Set("Ocp-Apim-Subscription-Key", "0f14ebcab0ec4b29ae0cb90d91b4a84a")
	req.Header.Set("Merchant-Serial-Number", "123456")
	req.Header.Set("Vipps-System-Name", "acme")
	req.Header.Set("Vipps-System-Version", "3.1.2")
	req.Header.Set("Vipps-System-Plugin-Name", "acme-webshop")
	req.Header.Set("Vipps-System-Plugin-Version", "4.5.6")
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if requestID != "" {
		req.Header.Set("X-Request-Id", requestID)
	}
	resp, err := f.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return json.Unmarshal(respBody, out)
}

func BenchmarkDetails(b *testing.B) {
	f := newBenchFixture(b)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.client.Details(ctx, exampleOrderID); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBareDetails(b *testing.B) {
	f := newBenchFixture(b)
	ctx := b.Context()
	path := "/ecomm/v2/payments/" + string(exampleOrderID) + "/details"
	b.ReportAllocs()
	for b.Loop() {
		var d vipps.PaymentDetails
		if err := f.bareDo(ctx, http.MethodGet, path, nil, "", &d); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCapture(b *testing.B) {
	f := newBenchFixture(b)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		req := vipps.CaptureRequest{Amount: 20000, TransactionText: "Socks on the way! Tracking code: abc-tracking-123", RequestID: vipps.NewRequestID()}
		if _, err := f.client.Capture(ctx, exampleOrderID, req); err != nil {
			b.Fatal(err)
		}
	}
}

// benchCapture is the capture body as the client encodes it.
type benchCapture struct {
	MerchantInfo struct {
		MerchantSerialNumber string `json:"merchantSerialNumber"`
	} `json:"merchantInfo"`
	Transaction struct {
		Amount          vipps.Amount `json:"amount,omitzero"`
		TransactionText string       `json:"transactionText"`
	} `json:"transaction"`
}

func BenchmarkBareCapture(b *testing.B) {
	f := newBenchFixture(b)
	ctx := b.Context()
	path := "/ecomm/v2/payments/" + string(exampleOrderID) + "/capture"
	b.ReportAllocs()
	for b.Loop() {
		var in benchCapture
		in.MerchantInfo.MerchantSerialNumber = "123456"
		in.Transaction.Amount = 20000
		in.Transaction.TransactionText = "Socks on the way! Tracking code: abc-tracking-123"
		body, err := json.Marshal(&in)
		if err != nil {
			b.Fatal(err)
		}
		var out vipps.TransactionResponse
		if err := f.bareDo(ctx, http.MethodPost, path, body, vipps.NewRequestID(), &out); err != nil {
			b.Fatal(err)
		}
	}
}
