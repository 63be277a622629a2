package vippstest_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/vippstest"
)

// start is the simulator's clock in tests, until they advance it.
var start = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func fixedClock(c *vippstest.Config) { c.Now = func() time.Time { return start } }

// newServer starts a simulator whose clock stands at start.
func newServer(t *testing.T, opts ...func(*vippstest.Config)) *vippstest.Server {
	t.Helper()
	return vippstest.NewServer(t, append([]func(*vippstest.Config){fixedClock}, opts...)...)
}

// directMerchant has direct capture (SALE).
var directMerchant = vippstest.Merchant{
	MSN: "654321", ClientID: "direct-id", ClientSecret: "direct-secret", SubscriptionKey: "direct-key",
	Name: "Direct Shop", DirectCapture: true,
}

func merchants(ms ...vippstest.Merchant) func(*vippstest.Config) {
	return func(c *vippstest.Config) { c.Merchants = ms }
}

// timeEqual compares vipps.Time values by instant.
var timeEqual = cmp.Comparer(func(a, b vipps.Time) bool { return a.Equal(b.Time) })

func regular(id vipps.OrderID, amount vipps.Amount) vipps.InitiateRequest {
	return vipps.InitiateRequest{
		MerchantInfo: vipps.MerchantInfo{
			CallbackPrefix: "https://shop.example/vipps",
			FallBack:       "https://shop.example/return/" + string(id),
		},
		Transaction: vipps.InitiateTransaction{OrderID: id, Amount: amount, TransactionText: "One pair of Vipps socks"},
	}
}

// expressOrder is regular as an express payment with these static
// shipping options, or with dynamic shipping when there are none; consent
// removals and shippingDetails go to https://shop.example/vipps.
func expressOrder(id vipps.OrderID, amount vipps.Amount, opts ...vipps.ShippingOption) vipps.InitiateRequest {
	req := regular(id, amount)
	req.MerchantInfo.PaymentType = vipps.PaymentTypeExpress
	req.MerchantInfo.ConsentRemovalPrefix = "https://shop.example/vipps"
	if len(opts) == 0 {
		req.MerchantInfo.ShippingDetailsPrefix = "https://shop.example/vipps"
	} else {
		req.MerchantInfo.StaticShippingDetails = opts
	}
	return req
}

func initiate(t *testing.T, c *vipps.Client, req vipps.InitiateRequest) *vipps.InitiateResponse {
	t.Helper()
	res, err := c.Initiate(t.Context(), req)
	if err != nil {
		t.Fatalf("Initiate(%s) = %v", req.Transaction.OrderID, err)
	}
	return res
}

// reserve initiates a regular payment and force-approves it.
func reserve(t *testing.T, c *vipps.Client, id vipps.OrderID, amount vipps.Amount) {
	t.Helper()
	res := initiate(t, c, regular(id, amount))
	if err := c.Approve(t.Context(), id, vipps.ApproveRequest{CustomerPhoneNumber: "91234567", Token: res.Token()}); err != nil {
		t.Fatalf("Approve(%s) = %v", id, err)
	}
}

// sum builds a summary in the order the reference writes them: captured,
// remaining to capture, refunded, remaining to refund.
func sum(captured, remainingToCapture, refunded, remainingToRefund vipps.Amount) vipps.TransactionSummary {
	return vipps.TransactionSummary{
		CapturedAmount:           captured,
		RemainingAmountToCapture: remainingToCapture,
		RefundedAmount:           refunded,
		RemainingAmountToRefund:  remainingToRefund,
	}
}

// wantVippsError checks that err is a *vipps.Error with this status, group
// and code.
func wantVippsError(t *testing.T, what string, err error, status int, group vipps.ErrorGroup, code vipps.ErrorCode) {
	t.Helper()
	e, ok := errors.AsType[*vipps.Error](err)
	if !ok {
		t.Fatalf("%s = %v, want HTTP %d %s %s", what, err, status, group, code)
	}
	if e.StatusCode != status || e.Group != group || e.Code != code {
		t.Fatalf("%s = HTTP %d %s %s (%s), want HTTP %d %s %s", what, e.StatusCode, e.Group, e.Code, e.Message, status, group, code)
	}
}

// raw calls the simulator with plain HTTP, with a valid token for the
// default merchant unless the headers say otherwise.
type raw struct {
	t     *testing.T
	srv   *vippstest.Server
	m     vippstest.Merchant
	token string
	hc    *http.Client // nil means http.DefaultClient
}

func newRaw(t *testing.T, srv *vippstest.Server) *raw {
	t.Helper()
	return newRawFor(t, srv, srv.Merchant)
}

func newRawFor(t *testing.T, srv *vippstest.Server, m vippstest.Merchant) *raw {
	t.Helper()
	r := &raw{t: t, srv: srv, m: m}
	status, body := r.do("POST", "/accesstoken/get", "", "Authorization", "", "client_id", m.ClientID, "client_secret", m.ClientSecret)
	if status != http.StatusOK {
		t.Fatalf("POST /accesstoken/get = %d %s", status, body)
	}
	var at vipps.AccessToken
	if err := json.Unmarshal(body, &at); err != nil {
		t.Fatalf("decode token: %v", err)
	}
	r.token = at.AccessToken.Reveal()
	return r
}

// do sends a request. headers are name, value pairs that replace the
// defaults; an empty value removes the header.
func (r *raw) do(method, path, body string, headers ...string) (int, []byte) {
	r.t.Helper()
	resp, b := r.send(method, path, body, headers...)
	return resp.StatusCode, b
}

// send is do with the whole answer; its body is read and closed.
func (r *raw) send(method, path, body string, headers ...string) (*http.Response, []byte) {
	r.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(r.t.Context(), method, r.srv.URL+path, rd)
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+r.token)
	req.Header.Set("Ocp-Apim-Subscription-Key", r.m.SubscriptionKey)
	req.Header.Set("Merchant-Serial-Number", string(r.m.MSN))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	hc := r.hc
	if hc == nil {
		hc = http.DefaultClient
	}
	return send(r.t, hc, req)
}

// send sends req with hc and returns the answer and its whole body, or
// fails the test.
func send(t *testing.T, hc *http.Client, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// errorArray decodes an eCom error array.
func errorArray(t *testing.T, body []byte) []vipps.ErrorDetail {
	t.Helper()
	var ds []vipps.ErrorDetail
	if err := json.Unmarshal(body, &ds); err != nil || len(ds) == 0 {
		t.Fatalf("body %s is not an eCom error array: %v", body, err)
	}
	return ds
}

// jsonBody builds a request body from a JSON-like value.
func jsonBody(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// initiateBody is the guide's minimal regular initiate body as a tree that
// tests change.
func initiateBody(id string) map[string]any {
	return map[string]any{
		"customerInfo": map[string]any{},
		"merchantInfo": map[string]any{
			"merchantSerialNumber": "123456",
			"callbackPrefix":       "https://example.com/vipps/callbacks",
			"fallBack":             "https://example.com/vipps/fallback/" + id,
		},
		"transaction": map[string]any{
			"orderId":         id,
			"amount":          20000,
			"transactionText": "One pair of Vipps socks",
		},
	}
}

func sub(m map[string]any, key string) map[string]any { return m[key].(map[string]any) }
