package vipps_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps"
)

// fixture is a fresh mux behind a real HTTP server and a client pointed at it.
type fixture struct {
	mux        *http.ServeMux
	srv        *httptest.Server
	client     *vipps.Client
	tokenCalls atomic.Int32
	tokenDelay atomic.Int64 // nanoseconds the token endpoint waits
}

func testConfig(url string) vipps.Config {
	return vipps.Config{
		BaseURL:              url,
		ClientID:             "client-id",
		ClientSecret:         "client-secret",
		SubscriptionKey:      "sub-key",
		MerchantSerialNumber: "123456",
		SystemName:           "acme",
		SystemVersion:        "3.1.2",
		PluginName:           "acme-webshop",
		PluginVersion:        "4.5.6",
		Retry:                vipps.RetryPolicy{MaxAttempts: 4, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond},
	}
}

func setup(t *testing.T, opts ...func(*vipps.Config)) *fixture {
	t.Helper()
	f := &fixture{mux: http.NewServeMux()}
	f.srv = httptest.NewServer(f.mux)
	t.Cleanup(f.srv.Close)
	f.mux.HandleFunc("POST /accesstoken/get", func(w http.ResponseWriter, r *http.Request) {
		n := f.tokenCalls.Add(1)
		time.Sleep(time.Duration(f.tokenDelay.Load()))
		if r.Header.Get("client_id") != "client-id" || r.Header.Get("client_secret") != "client-secret" || r.Header.Get("Ocp-Apim-Subscription-Key") != "sub-key" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"statusCode":401,"message":"Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription."}`)
			return
		}
		fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":"3600","ext_expires_in":"0","expires_on":"1547823408","not_before":"1547819508","resource":"00000002-0000-0000-c000-000000000000","access_token":"tok-%d"}`, n)
	})
	cfg := testConfig(f.srv.URL)
	for _, o := range opts {
		o(&cfg)
	}
	c, err := vipps.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	f.client = c
	return f
}

// counted serves pattern with h and returns how many requests reached it.
func (f *fixture) counted(pattern string, h http.HandlerFunc) *atomic.Int32 {
	n := new(atomic.Int32)
	f.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h(w, r)
	})
	return n
}

// wantHeaders checks the headers every eCom request must carry.
func wantHeaders(t *testing.T, r *http.Request) {
	t.Helper()
	want := map[string]string{
		"Ocp-Apim-Subscription-Key":   "sub-key",
		"Merchant-Serial-Number":      "123456",
		"Vipps-System-Name":           "acme",
		"Vipps-System-Version":        "3.1.2",
		"Vipps-System-Plugin-Name":    "acme-webshop",
		"Vipps-System-Plugin-Version": "4.5.6",
	}
	for k, v := range want {
		if got := r.Header.Get(k); got != v {
			t.Errorf("%s %s: header %s = %q, want %q", r.Method, r.URL.Path, k, got, v)
		}
	}
	if got := r.Header.Get("Authorization"); !strings.HasPrefix(got, "Bearer tok-") {
		t.Errorf("%s %s: Authorization = %q, want Bearer tok-N", r.Method, r.URL.Path, got)
	}
}

func decodeBody(t *testing.T, r *http.Request) map[string]any {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var m map[string]any
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		t.Fatalf("decode request body: %v", err)
	}
	return m
}

func TestNewValidates(t *testing.T) {
	good := testConfig("https://apitest.vipps.no")
	tests := []struct {
		name   string
		mutate func(*vipps.Config)
		want   string // substring of the error
	}{
		{"no client id", func(c *vipps.Config) { c.ClientID = "" }, "Config.ClientID is empty"},
		{"no secret", func(c *vipps.Config) { c.ClientSecret = "" }, "Config.ClientSecret is empty"},
		{"no subscription key", func(c *vipps.Config) { c.SubscriptionKey = "" }, "Config.SubscriptionKey is empty"},
		{"no msn", func(c *vipps.Config) { c.MerchantSerialNumber = "" }, "Config.MerchantSerialNumber is empty"},
		{"bad msn", func(c *vipps.Config) { c.MerchantSerialNumber = "12ab56" }, "must be 5 or 6 digits"},
		{"bad base url", func(c *vipps.Config) { c.BaseURL = "apitest.vipps.no" }, "Config.BaseURL"},
		{"long system name", func(c *vipps.Config) { c.SystemName = strings.Repeat("x", 31) }, "Config.SystemName"},
		{"newline in version", func(c *vipps.Config) { c.PluginVersion = "1\n2" }, "Config.PluginVersion must be one line"},
		{"negative retry", func(c *vipps.Config) { c.Retry.MaxAttempts = -1 }, "Config.Retry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.mutate(&cfg)
			_, err := vipps.New(cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New() error = %v, want it to mention %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "client-secret") {
				t.Errorf("New() error reveals the secret: %v", err)
			}
		})
	}
	if _, err := vipps.New(good); err != nil {
		t.Errorf("New(good) = %v", err)
	}
	def := vipps.Config{ClientID: "a", ClientSecret: "b", SubscriptionKey: "c", MerchantSerialNumber: "12345"}
	c, err := vipps.New(def)
	if err != nil {
		t.Fatalf("New(defaults) = %v", err)
	}
	if c.BaseURL() != vipps.TestURL {
		t.Errorf("default BaseURL = %q, want %q", c.BaseURL(), vipps.TestURL)
	}
}

func TestDefaultSystemHeaders(t *testing.T) {
	f := setup(t, func(c *vipps.Config) { c.SystemName, c.SystemVersion, c.PluginName, c.PluginVersion = "", "", "", "" })
	var got http.Header
	f.mux.HandleFunc("GET /ecomm/v2/payments/{orderId}/details", func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		io.WriteString(w, `{"orderId":"o-1","transactionLogHistory":[]}`)
	})
	if _, err := f.client.Details(t.Context(), "o-1"); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"Vipps-System-Name": "vippskit", "Vipps-System-Version": vipps.Version,
		"Vipps-System-Plugin-Name": "vippskit", "Vipps-System-Plugin-Version": vipps.Version} {
		if got.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, got.Get(k), want)
		}
	}
}

func TestInitiate(t *testing.T) {
	f := setup(t)
	var body map[string]any
	f.mux.HandleFunc("POST /ecomm/v2/payments", func(w http.ResponseWriter, r *http.Request) {
		wantHeaders(t, r)
		if r.Header.Get("X-Request-Id") != "" {
			t.Errorf("initiate sent X-Request-Id %q; it has none", r.Header.Get("X-Request-Id"))
		}
		body = decodeBody(t, r)
		io.WriteString(w, `{"orderId":"acme-shop-123-order123abc","url":"https://apitest.vipps.no/dwo-api-application/v1/deeplink/vippsgateway?v=2&token=eyJraWQiOiJqd3RrZXkiLC"}`)
	})
	res, err := f.client.Initiate(t.Context(), vipps.InitiateRequest{
		CustomerInfo: vipps.CustomerInfo{MobileNumber: "91234567"},
		MerchantInfo: vipps.MerchantInfo{
			CallbackPrefix:       "https://example.com/vipps/callback",
			FallBack:             "https://example.com/vipps/fallback/acme-shop-123-order123abc",
			AuthToken:            "tok",
			PaymentType:          vipps.PaymentTypeExpress,
			ConsentRemovalPrefix: "https://example.com/vipps/consents",
			StaticShippingDetails: []vipps.ShippingOption{
				{IsDefault: true, Priority: 1, ShippingCost: 99.5, ShippingMethod: "Posten", ShippingMethodID: "posten"},
			},
		},
		Transaction: vipps.InitiateTransaction{Amount: 49900, OrderID: "acme-shop-123-order123abc", TransactionText: "One pair of socks"},
	})
	if err != nil {
		t.Fatalf("Initiate: %v", err)
	}
	want := map[string]any{
		"customerInfo": map[string]any{"mobileNumber": "91234567"},
		"merchantInfo": map[string]any{
			"merchantSerialNumber": "123456",
			"callbackPrefix":       "https://example.com/vipps/callback",
			"fallBack":             "https://example.com/vipps/fallback/acme-shop-123-order123abc",
			"authToken":            "tok",
			"paymentType":          "eComm Express Payment",
			"consentRemovalPrefix": "https://example.com/vipps/consents",
			"staticShippingDetails": []any{map[string]any{
				"isDefault": "Y", "priority": float64(1), "shippingCost": 99.5, "shippingMethod": "Posten", "shippingMethodId": "posten",
			}},
		},
		"transaction": map[string]any{"amount": float64(49900), "orderId": "acme-shop-123-order123abc", "transactionText": "One pair of socks"},
	}
	if diff := cmp.Diff(want, body); diff != "" {
		t.Errorf("initiate body mismatch (-want +got):\n%s", diff)
	}
	if res.Token() != "eyJraWQiOiJqd3RrZXkiLC" {
		t.Errorf("Token() = %q", res.Token())
	}
}

func TestInitiateValidation(t *testing.T) {
	f := setup(t)
	f.mux.HandleFunc("POST /ecomm/v2/payments", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("an invalid initiate reached the server")
	})
	base := vipps.InitiateRequest{
		MerchantInfo: vipps.MerchantInfo{CallbackPrefix: "https://x.no/cb", FallBack: "https://x.no/back"},
		Transaction:  vipps.InitiateTransaction{Amount: 1000, OrderID: "acme-1", TransactionText: "t"},
	}
	tests := []struct {
		name   string
		mutate func(*vipps.InitiateRequest)
		want   string
	}{
		{"bad order id", func(r *vipps.InitiateRequest) { r.Transaction.OrderID = "acme 1" }, "may contain only"},
		{"amount too small", func(r *vipps.InitiateRequest) { r.Transaction.Amount = 99 }, "below the minimum"},
		{"no text", func(r *vipps.InitiateRequest) { r.Transaction.TransactionText = "" }, "transactionText is required"},
		{"long text", func(r *vipps.InitiateRequest) { r.Transaction.TransactionText = strings.Repeat("æ", 101) }, "101 characters"},
		{"no callback", func(r *vipps.InitiateRequest) { r.MerchantInfo.CallbackPrefix = "" }, "callbackPrefix is required"},
		{"bad phone", func(r *vipps.InitiateRequest) { r.CustomerInfo.MobileNumber = "+4791234567" }, "8 digits"},
		{"skip landing without phone", func(r *vipps.InitiateRequest) { r.Transaction.SkipLandingPage = true }, "skipLandingPage needs"},
		{"express without consent", func(r *vipps.InitiateRequest) {
			r.MerchantInfo.PaymentType = vipps.PaymentTypeExpress
			r.MerchantInfo.ShippingDetailsPrefix = "https://x.no/ship"
		}, "consentRemovalPrefix"},
		{"express without shipping", func(r *vipps.InitiateRequest) {
			r.MerchantInfo.PaymentType = vipps.PaymentTypeExpress
			r.MerchantInfo.ConsentRemovalPrefix = "https://x.no/c"
		}, "shippingDetailsPrefix or"},
		{"bad payment type", func(r *vipps.InitiateRequest) { r.MerchantInfo.PaymentType = "eCom Regular Payment" }, "paymentType"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := base
			tt.mutate(&req)
			_, err := f.client.Initiate(t.Context(), req)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Initiate() error = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestCaptureRefundCancel(t *testing.T) {
	f := setup(t)
	type seen struct {
		requestID string
		body      map[string]any
	}
	var mu sync.Mutex
	got := map[string]seen{}
	handle := func(op, respKey, status string) {
		method := "POST"
		if op == "cancel" {
			method = "PUT"
		}
		f.mux.HandleFunc(method+" /ecomm/v2/payments/{orderId}/"+op, func(w http.ResponseWriter, r *http.Request) {
			wantHeaders(t, r)
			mu.Lock()
			got[op] = seen{r.Header.Get("X-Request-Id"), decodeBody(t, r)}
			mu.Unlock()
			fmt.Fprintf(w, `{"orderId":%q,"%s":{"amount":10000,"timeStamp":"2018-11-14T15:23:02.286","transactionText":"x","status":%q,"transactionId":"5600727726"},"transactionSummary":{"capturedAmount":20000,"remainingAmountToCapture":0,"refundedAmount":10000,"remainingAmountToRefund":10000}}`, r.PathValue("orderId"), respKey, status)
		})
	}
	handle("capture", "transactionInfo", "Captured")
	handle("refund", "transaction", "Refund")
	handle("cancel", "transactionInfo", "Cancelled")

	ctx := t.Context()
	wantSummary := vipps.TransactionSummary{CapturedAmount: 20000, RefundedAmount: 10000, RemainingAmountToRefund: 10000}
	wantTime, _ := vipps.ParseTime("2018-11-14T15:23:02.286Z")

	t.Run("partial capture with request id", func(t *testing.T) {
		res, err := f.client.Capture(ctx, "o-1", vipps.CaptureRequest{Amount: 10000, TransactionText: "Shipped: abc-123", RequestID: "req-1"})
		if err != nil {
			t.Fatal(err)
		}
		want := &vipps.TransactionResponse{OrderID: "o-1", TransactionInfo: vipps.TransactionInfo{Amount: 10000, Status: vipps.TransactionCaptured, TimeStamp: wantTime, TransactionID: "5600727726", TransactionText: "x"}, TransactionSummary: wantSummary}
		if diff := cmp.Diff(want, res); diff != "" {
			t.Errorf("Capture() mismatch (-want +got):\n%s", diff)
		}
		s := got["capture"]
		if s.requestID != "req-1" {
			t.Errorf("X-Request-Id = %q, want req-1", s.requestID)
		}
		wantBody := map[string]any{"merchantInfo": map[string]any{"merchantSerialNumber": "123456"}, "transaction": map[string]any{"amount": float64(10000), "transactionText": "Shipped: abc-123"}}
		if diff := cmp.Diff(wantBody, s.body); diff != "" {
			t.Errorf("capture body (-want +got):\n%s", diff)
		}
	})
	t.Run("full capture omits amount and generates request id", func(t *testing.T) {
		if _, err := f.client.Capture(ctx, "o-1", vipps.CaptureRequest{TransactionText: "all"}); err != nil {
			t.Fatal(err)
		}
		s := got["capture"]
		if len(s.requestID) != 36 {
			t.Errorf("generated X-Request-Id = %q, want a UUID", s.requestID)
		}
		if _, ok := s.body["transaction"].(map[string]any)["amount"]; ok {
			t.Errorf("full capture sent an amount: %v", s.body)
		}
	})
	t.Run("refund decodes transaction key", func(t *testing.T) {
		res, err := f.client.Refund(ctx, "o-1", vipps.CaptureRequest{Amount: 10000, TransactionText: "Returned"})
		if err != nil {
			t.Fatal(err)
		}
		if res.TransactionInfo.Status != vipps.TransactionRefund || res.TransactionInfo.Amount != 10000 || !res.TransactionInfo.TimeStamp.Equal(wantTime.Time) {
			t.Errorf("Refund().TransactionInfo = %+v", res.TransactionInfo)
		}
		if got["refund"].requestID == "" {
			t.Error("refund sent no X-Request-Id")
		}
	})
	t.Run("cancel with release", func(t *testing.T) {
		res, err := f.client.Cancel(ctx, "o-1", vipps.CancelRequest{TransactionText: "Out of stock", ShouldReleaseRemainingFunds: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.TransactionInfo.Status != vipps.TransactionCancelled {
			t.Errorf("status = %q", res.TransactionInfo.Status)
		}
		wantBody := map[string]any{"merchantInfo": map[string]any{"merchantSerialNumber": "123456"}, "transaction": map[string]any{"transactionText": "Out of stock"}, "shouldReleaseRemainingFunds": true}
		if diff := cmp.Diff(wantBody, got["cancel"].body); diff != "" {
			t.Errorf("cancel body (-want +got):\n%s", diff)
		}
	})
	t.Run("invalid input sends nothing", func(t *testing.T) {
		for name, call := range map[string]func() error{
			"bad order id": func() error {
				_, err := f.client.Capture(ctx, "o_1", vipps.CaptureRequest{TransactionText: "x"})
				return err
			},
			"no text": func() error { _, err := f.client.Refund(ctx, "o-1", vipps.CaptureRequest{}); return err },
			"negative": func() error {
				_, err := f.client.Capture(ctx, "o-1", vipps.CaptureRequest{Amount: -1, TransactionText: "x"})
				return err
			},
			"long key": func() error {
				_, err := f.client.Capture(ctx, "o-1", vipps.CaptureRequest{TransactionText: "x", RequestID: strings.Repeat("k", 41)})
				return err
			},
		} {
			if err := call(); err == nil {
				t.Errorf("%s: no error", name)
			} else if _, ok := errors.AsType[*vipps.Error](err); ok {
				t.Errorf("%s: got a Vipps error %v; want a local validation error", name, err)
			}
		}
	})
}

func TestDetailsStatusApprove(t *testing.T) {
	f := setup(t)
	f.mux.HandleFunc("GET /ecomm/v2/payments/{orderId}/details", func(w http.ResponseWriter, r *http.Request) {
		wantHeaders(t, r)
		io.WriteString(w, `{"orderId":"o-1","transactionSummary":{"capturedAmount":0,"remainingAmountToCapture":20000,"refundedAmount":0,"remainingAmountToRefund":0,"bankIdentificationNumber":492560},
		"shippingDetails":{"address":{"addressLine1":"Robert Levins gate 5","addressLine2":null,"city":"Oslo","country":"NO","zipCode":"0154"},"shippingCost":109.99,"shippingMethod":"Posten","shippingMethodId":"posten"},
		"userDetails":{"bankIdVerified":0,"email":"a@b.no","firstName":"Ada","lastName":"L","mobileNumber":"91234567","userId":"uiJskNQ6qNN1iwN891uuob=="},
		"transactionLogHistory":[
		 {"amount":20000,"transactionText":"t","transactionId":"5001420062","timeStamp":"2018-11-14T15:21:22.126Z","operation":"RESERVE","requestId":"","operationSuccess":true},
		 {"amount":20000,"transactionText":"t","transactionId":"5001420062","timeStamp":"2018-11-14T15:21:04.697Z","operation":"INITIATE","requestId":"","operationSuccess":true}]}`)
	})
	f.mux.HandleFunc("GET /ecomm/v2/payments/{orderId}/status", func(w http.ResponseWriter, r *http.Request) {
		wantHeaders(t, r)
		io.WriteString(w, `{"orderId":"o-1","transactionInfo":{"amount":20000,"status":"RESERVE","timeStamp":"2018-11-14T15:21:22.126Z","transactionId":"5001420062"}}`)
	})
	var approveID string
	var approveBody map[string]any
	f.mux.HandleFunc("POST /ecomm/v2/integration-test/payments/{orderId}/approve", func(w http.ResponseWriter, r *http.Request) {
		wantHeaders(t, r)
		approveID = r.Header.Get("X-Request-Id")
		approveBody = decodeBody(t, r)
	})
	ctx := t.Context()
	d, err := f.client.Details(ctx, "o-1")
	if err != nil {
		t.Fatal(err)
	}
	if d.TransactionSummary == nil || d.TransactionSummary.RemainingAmountToCapture != 20000 || d.TransactionSummary.BankIdentificationNumber != 492560 {
		t.Errorf("summary = %+v", d.TransactionSummary)
	}
	if e, ok := d.Last(vipps.OperationReserve); !ok || e.Amount != 20000 {
		t.Errorf("Last(RESERVE) = %+v, %v", e, ok)
	}
	if d.ShippingDetails.Address.PostCode != "0154" || d.ShippingDetails.ShippingCost.Amount() != 10999 {
		t.Errorf("shipping = %+v", d.ShippingDetails)
	}
	if d.UserDetails.UserID != "uiJskNQ6qNN1iwN891uuob==" || d.UserDetails.BankIDVerified != "0" {
		t.Errorf("user = %+v", d.UserDetails)
	}
	st, err := f.client.Status(ctx, "o-1")
	if err != nil {
		t.Fatal(err)
	}
	if st.TransactionInfo.Status != vipps.OrderStatusReserve {
		t.Errorf("Status() = %+v", st)
	}
	if err := f.client.Approve(ctx, "o-1", vipps.ApproveRequest{CustomerPhoneNumber: "91234567", Token: "tkn"}); err != nil {
		t.Fatal(err)
	}
	if approveID == "" {
		t.Error("approve sent no X-Request-Id")
	}
	if diff := cmp.Diff(map[string]any{"customerPhoneNumber": "91234567", "token": "tkn"}, approveBody); diff != "" {
		t.Errorf("approve body (-want +got):\n%s", diff)
	}
	if err := f.client.Approve(ctx, "o-1", vipps.ApproveRequest{CustomerPhoneNumber: "123"}); err == nil {
		t.Error("Approve with a bad phone and no token: no error")
	}
}

func TestErrorShapes(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   vipps.Error
	}{
		{"array", 400, `[{"errorGroup":"Payment","errorCode":"61","errorMessage":"too much","contextId":"ctx-1"}]`,
			vipps.Error{StatusCode: 400, Group: vipps.GroupPayment, Code: "61", Message: "too much", ContextID: "ctx-1"}},
		{"numeric code and lowercase group", 400, `[{"errorGroup":"user","errorCode":81,"errorMessage":"bad phone"}]`,
			vipps.Error{StatusCode: 400, Group: vipps.GroupUser, Code: "81", Message: "bad phone"}},
		{"gateway guide shape", 401, `{"statusCode":401,"message":"Access denied due to invalid subscription key."}`,
			vipps.Error{StatusCode: 401, Group: vipps.GroupGateway, Code: "401", Message: "Access denied due to invalid subscription key."}},
		{"gateway spec shape", 403, `{"responseInfo":{"responseCode":403,"responseMessage":"Forbidden"},"result":{"message":"nope"}}`,
			vipps.Error{StatusCode: 403, Group: vipps.GroupGateway, Code: "403", Message: "Forbidden: nope"}},
		{"problem document", 400, `{"type":"https://x","title":"One or more validation errors occurred.","detail":"BadRequest","instance":"00-61","invalidParams":[{"name":"RedirectUrl","reason":"bad"}]}`,
			vipps.Error{StatusCode: 400, Message: "One or more validation errors occurred.: BadRequest", ContextID: "00-61", InvalidParams: []vipps.InvalidParam{{Name: "RedirectUrl", Reason: "bad"}}}},
		{"200 with error array", 200, `[{"errorGroup":"VippsError","errorCode":"99","errorMessage":"Internal error"}]`,
			vipps.Error{StatusCode: 200, Group: vipps.GroupVippsError, Code: "99", Message: "Internal error"}},
		{"html", 404, `<html>not found</html>`, vipps.Error{StatusCode: 404, Body: "<html>not found</html>"}},
		{"empty", 404, ``, vipps.Error{StatusCode: 404, Message: "Not Found"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t, func(c *vipps.Config) { c.Retry.MaxAttempts = 1 })
			f.mux.HandleFunc("GET /ecomm/v2/payments/{orderId}/details", func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			_, err := f.client.Details(t.Context(), "o-1")
			e, ok := errors.AsType[*vipps.Error](err)
			if !ok {
				t.Fatalf("Details() error = %v, want *vipps.Error", err)
			}
			want := tt.want
			want.Op, want.OrderID = "details", "o-1"
			if diff := cmp.Diff(&want, e, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Details" }, cmp.Ignore())); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
			if !strings.HasPrefix(e.Error(), "details order o-1: vipps: HTTP ") {
				t.Errorf("Error() = %q", e.Error())
			}
		})
	}
}

func TestErrorTexts(t *testing.T) {
	customer := &vipps.Error{StatusCode: 400, Group: vipps.GroupPayment, Code: "44"}
	if !strings.Contains(customer.CustomerMessage(), "expired") {
		t.Errorf("CustomerMessage(44) = %q", customer.CustomerMessage())
	}
	internal := &vipps.Error{StatusCode: 400, Group: vipps.GroupMerchant, Code: "35", Message: "The orderId 'x' does not exist for MSN 654321."}
	if strings.Contains(internal.CustomerMessage(), "MSN") || !strings.Contains(internal.CustomerMessage(), "No money") {
		t.Errorf("CustomerMessage(Merchant 35) = %q, want the generic text", internal.CustomerMessage())
	}
	if !strings.Contains(internal.MerchantMessage(), "does not know this orderId") || !internal.NotFound() {
		t.Errorf("MerchantMessage(Merchant 35) = %q", internal.MerchantMessage())
	}
	field := &vipps.Error{StatusCode: 400, Group: vipps.GroupInvalidRequest, Code: "transaction.amount", Message: "must be at least 100"}
	if !strings.Contains(field.MerchantMessage(), `"transaction.amount"`) {
		t.Errorf("MerchantMessage(InvalidRequest) = %q", field.MerchantMessage())
	}
	preds := []struct {
		e    *vipps.Error
		pred func(*vipps.Error) bool
		name string
	}{
		{&vipps.Error{StatusCode: 400, Group: vipps.GroupMerchant, Code: "34"}, (*vipps.Error).DuplicateOrderID, "DuplicateOrderID"},
		{&vipps.Error{StatusCode: 429}, (*vipps.Error).RateLimited, "RateLimited"},
		{&vipps.Error{StatusCode: 400, Group: vipps.GroupVippsError, Code: "94"}, (*vipps.Error).Locked, "Locked"},
		{&vipps.Error{StatusCode: 400, Group: vipps.GroupVippsError, Code: "93"}, (*vipps.Error).IdempotencyMismatch, "IdempotencyMismatch"},
		{&vipps.Error{StatusCode: 401, Group: vipps.GroupGateway}, (*vipps.Error).Unauthorized, "Unauthorized"},
		{&vipps.Error{StatusCode: 409}, (*vipps.Error).Conflict, "Conflict"},
		{&vipps.Error{StatusCode: 503}, (*vipps.Error).Retryable, "Retryable"},
	}
	for _, p := range preds {
		if !p.pred(p.e) {
			t.Errorf("%s(%v) = false, want true", p.name, p.e)
		}
		if p.pred(&vipps.Error{StatusCode: 400, Group: vipps.GroupPayment, Code: "61"}) {
			t.Errorf("%s(Payment 61) = true, want false", p.name)
		}
	}
}

func TestRetriesReuseRequestID(t *testing.T) {
	f := setup(t)
	var ids []string
	var bodies []string
	f.mux.HandleFunc("POST /ecomm/v2/payments/{orderId}/capture", func(w http.ResponseWriter, r *http.Request) {
		ids = append(ids, r.Header.Get("X-Request-Id"))
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
		switch len(ids) {
		case 1:
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `[{"errorGroup":"VippsError","errorCode":"99","errorMessage":"Internal error"}]`)
		case 2:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
		case 3:
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `[{"errorGroup":"VippsError","errorCode":"94","errorMessage":"Order locked"}]`)
		default:
			io.WriteString(w, `{"orderId":"o-1","transactionInfo":{"amount":100,"status":"Captured","timeStamp":"2018-11-14T15:22:46.736Z","transactionText":"x","transactionId":"5001420058"},"transactionSummary":{"capturedAmount":100,"remainingAmountToCapture":0,"refundedAmount":0,"remainingAmountToRefund":100}}`)
		}
	})
	res, err := f.client.Capture(t.Context(), "o-1", vipps.CaptureRequest{Amount: 100, TransactionText: "x"})
	if err != nil {
		t.Fatalf("Capture after 500, 429, 94: %v", err)
	}
	if res.TransactionSummary.CapturedAmount != 100 {
		t.Errorf("captured = %v", res.TransactionSummary.CapturedAmount)
	}
	if len(ids) != 4 {
		t.Fatalf("attempts = %d, want 4", len(ids))
	}
	for i := range ids {
		if ids[i] != ids[0] || bodies[i] != bodies[0] {
			t.Errorf("attempt %d: X-Request-Id %q body %s; want %q %s", i+1, ids[i], bodies[i], ids[0], bodies[0])
		}
	}
}

func TestRetriesExhausted(t *testing.T) {
	f := setup(t, func(c *vipps.Config) { c.Retry.MaxAttempts = 3 })
	n := f.counted("POST /ecomm/v2/payments/{orderId}/refund", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	})
	_, err := f.client.Refund(t.Context(), "o-1", vipps.CaptureRequest{Amount: 100, TransactionText: "x", RequestID: "r-1"})
	if n.Load() != 3 {
		t.Errorf("attempts = %d, want 3", n.Load())
	}
	if !errors.Is(err, vipps.ErrOutcomeUnknown) {
		t.Errorf("Refund() error = %v, want ErrOutcomeUnknown", err)
	}
	if e, ok := errors.AsType[*vipps.Error](err); !ok || e.StatusCode != 502 || e.RequestID != "r-1" {
		t.Errorf("Refund() error = %#v, want a 502 *vipps.Error with the request id", e)
	}
}

func TestNoRetryOnClientErrors(t *testing.T) {
	f := setup(t)
	n := f.counted("POST /ecomm/v2/payments/{orderId}/capture", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `[{"errorGroup":"Payment","errorCode":"62","errorMessage":"not reserved"}]`)
	})
	_, err := f.client.Capture(t.Context(), "o-1", vipps.CaptureRequest{TransactionText: "x"})
	if n.Load() != 1 {
		t.Errorf("attempts = %d, want 1", n.Load())
	}
	if errors.Is(err, vipps.ErrOutcomeUnknown) {
		t.Errorf("a definite refusal was reported as unknown: %v", err)
	}
	if e, ok := errors.AsType[*vipps.Error](err); !ok || !e.Has(vipps.GroupPayment, "62") {
		t.Errorf("Capture() error = %v, want Payment 62", err)
	}
}

func TestInitiateNotRetriedAfterReachingVipps(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"server error", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) }},
		{"connection dropped after request", func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t)
			n := f.counted("POST /ecomm/v2/payments", tt.handler)
			_, err := f.client.Initiate(t.Context(), vipps.InitiateRequest{
				MerchantInfo: vipps.MerchantInfo{CallbackPrefix: "https://x.no/cb", FallBack: "https://x.no/back"},
				Transaction:  vipps.InitiateTransaction{Amount: 1000, OrderID: "acme-1", TransactionText: "t"},
			})
			if n.Load() != 1 {
				t.Errorf("initiate attempts = %d, want 1", n.Load())
			}
			if !errors.Is(err, vipps.ErrOutcomeUnknown) {
				t.Errorf("Initiate() error = %v, want ErrOutcomeUnknown", err)
			}
		})
	}
}

func TestInitiateRetriedWhenNeverSent(t *testing.T) {
	f := setup(t)
	n := f.counted("POST /ecomm/v2/payments", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"orderId":"acme-1","url":"https://x/?v=2&token=abc"}`)
	})
	// The first dial of the initiate call is refused: nothing was written,
	// so the client may try again. (The token call dials first.)
	var dials atomic.Int32
	d := &net.Dialer{}
	cfg := testConfig(f.srv.URL)
	cfg.HTTPClient = &http.Client{Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if dials.Add(1) == 2 {
				return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("connection refused")}
			}
			return d.DialContext(ctx, network, addr)
		},
	}}
	c, err := vipps.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Initiate(t.Context(), vipps.InitiateRequest{
		MerchantInfo: vipps.MerchantInfo{CallbackPrefix: "https://x.no/cb", FallBack: "https://x.no/back"},
		Transaction:  vipps.InitiateTransaction{Amount: 1000, OrderID: "acme-1", TransactionText: "t"},
	})
	if err != nil {
		t.Fatalf("Initiate after a refused connection: %v", err)
	}
	if n.Load() != 1 || dials.Load() != 3 {
		t.Errorf("initiate requests served = %d, dials = %d; want 1 and 3", n.Load(), dials.Load())
	}
}

func TestTokenCachedAndRefreshedOn401(t *testing.T) {
	f := setup(t)
	var auths []string
	f.mux.HandleFunc("GET /ecomm/v2/payments/{orderId}/details", func(w http.ResponseWriter, r *http.Request) {
		auths = append(auths, r.Header.Get("Authorization"))
		if r.Header.Get("Authorization") == "Bearer tok-1" && len(auths) > 2 {
			w.WriteHeader(http.StatusUnauthorized) // token revoked
			io.WriteString(w, `{"statusCode":401,"message":"Something went wrong, please try again later"}`)
			return
		}
		io.WriteString(w, `{"orderId":"o-1","transactionLogHistory":[]}`)
	})
	ctx := t.Context()
	for range 3 {
		if _, err := f.client.Details(ctx, "o-1"); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"Bearer tok-1", "Bearer tok-1", "Bearer tok-1", "Bearer tok-2"}
	if diff := cmp.Diff(want, auths); diff != "" {
		t.Errorf("Authorization per request (-want +got):\n%s", diff)
	}
	if f.tokenCalls.Load() != 2 {
		t.Errorf("token fetches = %d, want 2", f.tokenCalls.Load())
	}
}

func TestPersistent401IsReturned(t *testing.T) {
	f := setup(t)
	n := f.counted("GET /ecomm/v2/payments/{orderId}/details", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"statusCode":401,"message":"Access denied"}`)
	})
	_, err := f.client.Details(t.Context(), "o-1")
	if e, ok := errors.AsType[*vipps.Error](err); !ok || !e.Unauthorized() {
		t.Fatalf("Details() error = %v, want 401", err)
	}
	if n.Load() != 2 {
		t.Errorf("attempts = %d, want 2 (one refresh)", n.Load())
	}
}

func TestBadCredentials(t *testing.T) {
	f := setup(t, func(c *vipps.Config) { c.ClientSecret = "wrong" })
	n := f.counted("GET /ecomm/v2/payments/{orderId}/details", func(http.ResponseWriter, *http.Request) {})
	_, err := f.client.Details(t.Context(), "o-1")
	e, ok := errors.AsType[*vipps.Error](err)
	if !ok || !e.Unauthorized() || e.Op != "access token" {
		t.Fatalf("Details() with a wrong secret: error = %v, want an access token 401", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("error reveals the secret: %v", err)
	}
	if n.Load() != 0 || f.tokenCalls.Load() != 1 {
		t.Errorf("details calls = %d, token calls = %d; want 0 and 1", n.Load(), f.tokenCalls.Load())
	}
}

func TestConcurrentCallsFetchOneToken(t *testing.T) {
	f := setup(t)
	f.tokenDelay.Store(int64(50 * time.Millisecond)) // every caller arrives while the fetch runs
	f.mux.HandleFunc("GET /ecomm/v2/payments/{orderId}/details", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"orderId":"o-1","transactionLogHistory":[]}`)
	})
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			_, err := f.client.Details(t.Context(), "o-1")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if f.tokenCalls.Load() != 1 {
		t.Errorf("token fetches = %d, want 1", f.tokenCalls.Load())
	}
}

func TestContextDeadlineStopsRetries(t *testing.T) {
	f := setup(t, func(c *vipps.Config) {
		c.Retry = vipps.RetryPolicy{MaxAttempts: 10, MinBackoff: time.Hour, MaxBackoff: time.Hour}
	})
	n := f.counted("GET /ecomm/v2/payments/{orderId}/details", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	start := time.Now()
	_, err := f.client.Details(ctx, "o-1")
	if err == nil {
		t.Fatal("Details() = nil error")
	}
	if errors.Is(err, vipps.ErrOutcomeUnknown) {
		t.Errorf("a failed read reported an unknown outcome: %v", err)
	}
	if n.Load() != 1 || time.Since(start) > 4*time.Second {
		t.Errorf("attempts = %d after %v; want 1, returned at once since the backoff passes the deadline", n.Load(), time.Since(start))
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	f := setup(t)
	var times []time.Time
	f.mux.HandleFunc("GET /ecomm/v2/payments/{orderId}/details", func(w http.ResponseWriter, r *http.Request) {
		times = append(times, time.Now())
		if len(times) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		io.WriteString(w, `{"orderId":"o-1","transactionLogHistory":[]}`)
	})
	if _, err := f.client.Details(t.Context(), "o-1"); err != nil {
		t.Fatal(err)
	}
	if len(times) != 2 || times[1].Sub(times[0]) < 900*time.Millisecond {
		t.Errorf("retry came %v after the 429 with Retry-After: 1", times[len(times)-1].Sub(times[0]))
	}
}

func TestUserInfoOmitsSubscriptionKey(t *testing.T) {
	f := setup(t)
	f.mux.HandleFunc("GET /vipps-userinfo-api/userinfo/{sub}", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Ocp-Apim-Subscription-Key") != "" {
			t.Error("userinfo sent the subscription key")
		}
		if r.PathValue("sub") != "c06c4afe-d9e1-4c5d-939a-177d752a0944" || r.Header.Get("Authorization") == "" {
			t.Errorf("userinfo request %s auth %q", r.URL.Path, r.Header.Get("Authorization"))
		}
		io.WriteString(w, `{"sub":"c06c4afe-d9e1-4c5d-939a-177d752a0944","email":"a@b.no","email_verified":true,"phone_number":"4712345678","address":{"street_address":"Gate 1","postal_code":"0154"}}`)
	})
	u, err := f.client.UserInfo(t.Context(), "c06c4afe-d9e1-4c5d-939a-177d752a0944")
	if err != nil {
		t.Fatal(err)
	}
	if !u.EmailVerified || u.PhoneNumber != "4712345678" || u.Address.PostalCode != "0154" {
		t.Errorf("UserInfo() = %+v", u)
	}
}

func TestOrderManagement(t *testing.T) {
	f := setup(t)
	var imageBody, categoryBody, receiptBody map[string]any
	f.mux.HandleFunc("POST /order-management/v1/images", func(w http.ResponseWriter, r *http.Request) {
		wantHeaders(t, r)
		imageBody = decodeBody(t, r)
		io.WriteString(w, `{"imageId":"socks-1"}`)
	})
	f.mux.HandleFunc("PUT /order-management/v2/ecom/categories/{orderId}", func(w http.ResponseWriter, r *http.Request) {
		wantHeaders(t, r)
		categoryBody = decodeBody(t, r)
		io.WriteString(w, `"16328cb8-d769-4c53-90ad-e19777823f0a"`)
	})
	var receipts atomic.Int32
	f.mux.HandleFunc("POST /order-management/v2/ecom/receipts/{orderId}", func(w http.ResponseWriter, r *http.Request) {
		wantHeaders(t, r)
		if receipts.Add(1) > 1 {
			w.WriteHeader(http.StatusConflict)
			io.WriteString(w, `{"title":"Conflict","detail":"A receipt already exists for this order","instance":"00-1"}`)
			return
		}
		receiptBody = decodeBody(t, r)
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `"16328cb8-d769-4c53-90ad-e19777823f0b"`)
	})
	f.mux.HandleFunc("GET /order-management/v2/ecom/{orderId}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"category":{"category":"GENERAL","orderDetailsUrl":"https://x.no/o/1","imageId":"socks-1"},"receipt":{"orderLines":[{"name":"Socks","id":"l1","totalAmount":1000,"totalAmountExcludingTax":800,"totalTaxAmount":200,"taxPercentage":25}],"bottomLine":{"currency":"NOK"}}}`)
	})
	ctx := t.Context()
	id, err := f.client.UploadImage(ctx, "socks-1", []byte{0x89, 'P', 'N', 'G'})
	if err != nil || id != "socks-1" {
		t.Fatalf("UploadImage() = %q, %v", id, err)
	}
	if diff := cmp.Diff(map[string]any{"imageId": "socks-1", "src": "iVBORw==", "type": "base64"}, imageBody); diff != "" {
		t.Errorf("image body (-want +got):\n%s", diff)
	}
	cid, err := f.client.PutCategory(ctx, vipps.OMEcom, "acme-1", vipps.OrderCategory{Category: vipps.CategoryGeneral, OrderDetailsURL: "https://x.no/o/1", ImageID: "socks-1"})
	if err != nil || cid != "16328cb8-d769-4c53-90ad-e19777823f0a" {
		t.Fatalf("PutCategory() = %q, %v", cid, err)
	}
	if categoryBody["category"] != "GENERAL" || categoryBody["orderDetailsUrl"] != "https://x.no/o/1" {
		t.Errorf("category body = %v", categoryBody)
	}
	receipt := vipps.Receipt{
		OrderLines: []vipps.OrderLine{{Name: "Socks", ID: "l1", TotalAmount: 1000, TotalAmountExcludingTax: 800, TotalTaxAmount: 200, TaxPercentage: 25,
			UnitInfo: &vipps.UnitInfo{UnitPrice: 400, Quantity: "2.5", QuantityUnit: "KG"}}},
		BottomLine: vipps.BottomLine{Currency: "NOK", ReceiptNumber: "123"},
	}
	if rid, err := f.client.AddReceipt(ctx, vipps.OMEcom, "acme-1", receipt); err != nil || rid == "" {
		t.Fatalf("AddReceipt() = %q, %v", rid, err)
	}
	lines := receiptBody["orderLines"].([]any)
	if lines[0].(map[string]any)["unitInfo"].(map[string]any)["quantity"] != "2.5" {
		t.Errorf("receipt body = %v", receiptBody)
	}
	_, err = f.client.AddReceipt(ctx, vipps.OMEcom, "acme-1", receipt)
	if e, ok := errors.AsType[*vipps.Error](err); !ok || !e.Conflict() {
		t.Errorf("second AddReceipt() error = %v, want Conflict", err)
	}
	o, err := f.client.GetOrder(ctx, vipps.OMEcom, "acme-1")
	if err != nil {
		t.Fatal(err)
	}
	if o.Category.ImageID != "socks-1" || o.Receipt.OrderLines[0].TotalAmount != 1000 {
		t.Errorf("GetOrder() = %+v", o)
	}
	for name, err := range map[string]error{
		"bad payment type": func() error { _, err := f.client.GetOrder(ctx, "card", "acme-1"); return err }(),
		"dot-dot order id": func() error { _, err := f.client.GetOrder(ctx, vipps.OMEcom, ".."); return err }(),
		"empty receipt": func() error {
			_, err := f.client.AddReceipt(ctx, vipps.OMEcom, "acme-1", vipps.Receipt{BottomLine: vipps.BottomLine{Currency: "NOK"}})
			return err
		}(),
		"bad category": func() error {
			_, err := f.client.PutCategory(ctx, vipps.OMEcom, "acme-1", vipps.OrderCategory{Category: "X", OrderDetailsURL: "https://x"})
			return err
		}(),
		"relative url": func() error {
			_, err := f.client.PutCategory(ctx, vipps.OMEcom, "acme-1", vipps.OrderCategory{Category: vipps.CategoryGeneral, OrderDetailsURL: "/o/1"})
			return err
		}(),
		"bad image id": func() error { _, err := f.client.UploadImage(ctx, "a b", []byte{1}); return err }(),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	cfg := testConfig("https://apitest.vipps.no")
	cfg.ClientSecret = "s3cr3t-value"
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprintf("%s %q %v", cfg.ClientSecret, cfg.ClientSecret, cfg.ClientSecret)} {
		if strings.Contains(s, "s3cr3t") {
			t.Errorf("secret printed: %s", s)
		}
	}
	if cfg.ClientSecret.Reveal() != "s3cr3t-value" {
		t.Error("Reveal() lost the value")
	}
}

// TestDefaultTransportReusesConnections: concurrent calls to the one API
// host reuse their connections (a default transport would keep two idle
// and open most of them again each round).
func TestDefaultTransportReusesConnections(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /accesstoken/get", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"access_token":"tok","expires_in":"3600"}`)
	})
	mux.HandleFunc("GET /ecomm/v2/payments/{orderId}/details", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(5 * time.Millisecond) // so that the calls overlap
		io.WriteString(w, `{"orderId":"o-1","transactionLogHistory":[]}`)
	})
	srv := httptest.NewUnstartedServer(mux)
	var opened atomic.Int32
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	cfg := testConfig(srv.URL)
	cfg.HTTPClient = nil
	c, err := vipps.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const calls, rounds = 16, 5
	for range rounds {
		var wg sync.WaitGroup
		for range calls {
			wg.Go(func() {
				if _, err := c.Details(t.Context(), "o-1"); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	if n := opened.Load(); n > 2*calls {
		t.Errorf("%d rounds of %d concurrent calls opened %d connections, want at most %d", rounds, calls, n, 2*calls)
	}
	if got := vipps.NewTransport().MaxIdleConnsPerHost; got != vipps.MaxIdleConnsPerHost {
		t.Errorf("NewTransport().MaxIdleConnsPerHost = %d, want %d", got, vipps.MaxIdleConnsPerHost)
	}
}

// TestOnExchange: every attempt of a call is reported with its bodies,
// status and request id; the access-token call never is.
func TestOnExchange(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []vipps.Exchange
	)
	f := setup(t, func(c *vipps.Config) {
		c.OnExchange = func(x vipps.Exchange) {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, x)
		}
	})
	calls := 0
	f.mux.HandleFunc("POST /ecomm/v2/payments/acme-1/capture", func(w http.ResponseWriter, r *http.Request) {
		if calls++; calls == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `[{"errorGroup":"VippsError","errorCode":"99","errorMessage":"Internal error"}]`)
			return
		}
		io.WriteString(w, `{"orderId":"acme-1","transactionInfo":{"amount":100,"status":"Captured","transactionId":"1"},"transactionSummary":{"capturedAmount":100}}`)
	})
	if _, err := f.client.Capture(t.Context(), "acme-1", vipps.CaptureRequest{Amount: 100, TransactionText: "socks", RequestID: "req-1"}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 {
		t.Fatalf("OnExchange got %d exchanges, want the 2 attempts of the capture (not the token call): %+v", len(seen), seen)
	}
	for i, want := range []int{500, 200} {
		x := seen[i]
		if x.Op != "capture" || x.Method != "POST" || x.Path != "/ecomm/v2/payments/acme-1/capture" || x.OrderID != "acme-1" ||
			x.RequestID != "req-1" || x.StatusCode != want || x.Err != nil || x.Start.IsZero() || x.Duration <= 0 ||
			!strings.Contains(string(x.RequestBody), `"amount":100`) || len(x.ResponseBody) == 0 {
			t.Errorf("exchange %d = %+v, want the capture answered %d with both bodies", i, x, want)
		}
	}
}
