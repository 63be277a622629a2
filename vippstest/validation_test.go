package vippstest_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/vippstest"
)

// wantAnswer checks a raw answer: the status, and for errors the group and
// code of the first entry of the error array.
func wantAnswer(t *testing.T, what string, status int, body []byte, wantStatus int, group vipps.ErrorGroup, code vipps.ErrorCode) {
	t.Helper()
	if status != wantStatus {
		t.Fatalf("%s = %d %s, want %d %s %s", what, status, body, wantStatus, group, code)
	}
	if group == "" {
		return
	}
	ds := errorArray(t, body)
	if ds[0].Group != group || ds[0].Code != code || ds[0].Message == "" || ds[0].ContextID == "" {
		t.Fatalf("%s = %d %s, want %s %s with a message and contextId", what, status, body, group, code)
	}
}

func TestInitiateValidation(t *testing.T) {
	long := strings.Repeat("x", 101)
	tests := []struct {
		name    string
		edit    func(b map[string]any)
		raw     string // sent instead of the edited body when set
		lenient bool
		status  int
		group   vipps.ErrorGroup
		code    vipps.ErrorCode
		warn    string // a warning the request log must hold
	}{
		{name: "valid", edit: func(map[string]any) {}, status: 200},
		{name: "orderId with underscore", edit: func(b map[string]any) { sub(b, "transaction")["orderId"] = "acme_1" },
			status: 400, group: "InvalidRequest", code: "transaction.orderId"},
		{name: "orderId of 51 characters", edit: func(b map[string]any) { sub(b, "transaction")["orderId"] = strings.Repeat("a", 51) },
			status: 400, group: "InvalidRequest", code: "transaction.orderId"},
		{name: "orderId missing", edit: func(b map[string]any) { delete(sub(b, "transaction"), "orderId") },
			status: 400, group: "InvalidRequest", code: "transaction.orderId"},
		{name: "amount 99", edit: func(b map[string]any) { sub(b, "transaction")["amount"] = 99 },
			status: 400, group: "InvalidRequest", code: "transaction.amount"},
		{name: "amount 100", edit: func(b map[string]any) { sub(b, "transaction")["amount"] = 100 }, status: 200},
		{name: "amount as a string", edit: func(b map[string]any) { sub(b, "transaction")["amount"] = "20000" },
			status: 400, group: "InvalidRequest", code: "transaction.amount"},
		{name: "amount not an integer", edit: func(b map[string]any) { sub(b, "transaction")["amount"] = 200.5 },
			status: 500, group: vipps.GroupVippsError, code: vipps.CodeInternal},
		{name: "amount not an integer, lenient", edit: func(b map[string]any) { sub(b, "transaction")["amount"] = 200.5 }, lenient: true,
			status: 400, group: "InvalidRequest", code: "transaction.amount"},
		{name: "transactionText of 101 characters", edit: func(b map[string]any) { sub(b, "transaction")["transactionText"] = long },
			status: 400, group: "InvalidRequest", code: "transaction.transactionText"},
		{name: "transactionText missing", edit: func(b map[string]any) { delete(sub(b, "transaction"), "transactionText") },
			status: 400, group: "InvalidRequest", code: "transaction.transactionText"},
		{name: "customerInfo missing", edit: func(b map[string]any) { delete(b, "customerInfo") },
			status: 400, group: "InvalidRequest", code: "customerInfo"},
		{name: "merchantInfo missing", edit: func(b map[string]any) { delete(b, "merchantInfo") },
			status: 400, group: "InvalidRequest", code: "merchantInfo"},
		{name: "MSN as a number", edit: func(b map[string]any) { sub(b, "merchantInfo")["merchantSerialNumber"] = 123456 },
			status: 500, group: vipps.GroupVippsError, code: vipps.CodeInternal},
		{name: "MSN as a number, lenient", edit: func(b map[string]any) { sub(b, "merchantInfo")["merchantSerialNumber"] = 123456 }, lenient: true,
			status: 200, warn: "JSON number"},
		{name: "MSN of 7 digits", edit: func(b map[string]any) { sub(b, "merchantInfo")["merchantSerialNumber"] = "1234567" },
			status: 400, group: "InvalidRequest", code: "merchantInfo.merchantSerialNumber"},
		{name: "MSN of another merchant", edit: func(b map[string]any) { sub(b, "merchantInfo")["merchantSerialNumber"] = "654321" },
			status: 403, group: vipps.GroupMerchant, code: vipps.CodeSalesUnitUnavailable},
		{name: "fallback misspelled", edit: func(b map[string]any) {
			mi := sub(b, "merchantInfo")
			mi["fallback"] = mi["fallBack"]
			delete(mi, "fallBack")
		},
			status: 500, group: vipps.GroupVippsError, code: vipps.CodeInternal},
		{name: "fallback misspelled, lenient", edit: func(b map[string]any) {
			mi := sub(b, "merchantInfo")
			mi["fallback"] = mi["fallBack"]
			delete(mi, "fallBack")
		},
			lenient: true, status: 200, warn: "misspelled"},
		{name: "callbackPrefix missing", edit: func(b map[string]any) { delete(sub(b, "merchantInfo"), "callbackPrefix") },
			status: 400, group: "InvalidRequest", code: "merchantInfo.callbackPrefix"},
		{name: "callbackPrefix http", edit: func(b map[string]any) { sub(b, "merchantInfo")["callbackPrefix"] = "http://example.com/vipps" },
			status: 400, group: "InvalidRequest", code: "merchantInfo.callbackPrefix"},
		{name: "callbackPrefix http, lenient", edit: func(b map[string]any) { sub(b, "merchantInfo")["callbackPrefix"] = "http://example.com/vipps" },
			lenient: true, status: 200, warn: "requires https"},
		{name: "callbackPrefix http to 127.0.0.1", edit: func(b map[string]any) { sub(b, "merchantInfo")["callbackPrefix"] = "http://127.0.0.1:8080/vipps" },
			status: 200, warn: "real Vipps requires https"},
		{name: "fallBack http to localhost", edit: func(b map[string]any) { sub(b, "merchantInfo")["fallBack"] = "http://localhost:3000/return" },
			status: 200, warn: "real Vipps requires https"},
		{name: "callbackPrefix ftp", edit: func(b map[string]any) { sub(b, "merchantInfo")["callbackPrefix"] = "ftp://example.com/vipps" },
			status: 400, group: "InvalidRequest", code: "merchantInfo.callbackPrefix"},
		{name: "callbackPrefix not a URL", edit: func(b map[string]any) { sub(b, "merchantInfo")["callbackPrefix"] = "example.com/vipps" },
			status: 400, group: "InvalidRequest", code: "merchantInfo.callbackPrefix"},
		{name: "callbackPrefix of 256 characters", edit: func(b map[string]any) {
			sub(b, "merchantInfo")["callbackPrefix"] = "https://example.com/" + strings.Repeat("v", 236)
		}, status: 400, group: "InvalidRequest", code: "merchantInfo.callbackPrefix"},
		{name: "fallBack app scheme", edit: func(b map[string]any) { sub(b, "merchantInfo")["fallBack"] = "acmeapp://result?order=1" }, status: 200},
		{name: "fallBack INTENT", edit: func(b map[string]any) { sub(b, "merchantInfo")["fallBack"] = "INTENT" }, status: 200},
		{name: "isApp skips fallBack checks", edit: func(b map[string]any) {
			mi := sub(b, "merchantInfo")
			mi["isApp"] = true
			mi["fallBack"] = "not a url at all"
		}, status: 200},
		{name: "paymentType unknown", edit: func(b map[string]any) { sub(b, "merchantInfo")["paymentType"] = "eCom Regular Payment" },
			status: 400, group: "InvalidRequest", code: "merchantInfo.paymentType"},
		{name: "express without consentRemovalPrefix", edit: func(b map[string]any) {
			mi := sub(b, "merchantInfo")
			mi["paymentType"] = "eComm Express Payment"
			mi["shippingDetailsPrefix"] = "https://example.com/vipps"
		}, status: 400, group: "InvalidRequest", code: "merchantInfo.consentRemovalPrefix"},
		{name: "express without shipping", edit: func(b map[string]any) {
			mi := sub(b, "merchantInfo")
			mi["paymentType"] = "eComm Express Payment"
			mi["consentRemovalPrefix"] = "https://example.com/vipps"
		}, status: 400, group: "InvalidRequest", code: "merchantInfo.shippingDetailsPrefix"},
		{name: "express with static shipping", edit: func(b map[string]any) {
			mi := sub(b, "merchantInfo")
			mi["paymentType"] = "eComm Express Payment"
			mi["consentRemovalPrefix"] = "https://example.com/vipps"
			mi["staticShippingDetails"] = []any{map[string]any{"isDefault": "Y", "priority": 0, "shippingCost": 99.5, "shippingMethod": "Posten", "shippingMethodId": "posten"}}
		}, status: 200},
		{name: "static shipping with boolean isDefault", edit: func(b map[string]any) {
			mi := sub(b, "merchantInfo")
			mi["paymentType"] = "eComm Express Payment"
			mi["consentRemovalPrefix"] = "https://example.com/vipps"
			mi["staticShippingDetails"] = []any{map[string]any{"isDefault": true, "shippingCost": 99, "shippingMethod": "Posten", "shippingMethodId": "posten"}}
		}, status: 400, group: "InvalidRequest", code: "merchantInfo.staticShippingDetails[0].isDefault"},
		{name: "express with scope", edit: func(b map[string]any) {
			mi := sub(b, "merchantInfo")
			mi["paymentType"] = "eComm Express Payment"
			mi["consentRemovalPrefix"] = "https://example.com/vipps"
			mi["shippingDetailsPrefix"] = "https://example.com/vipps"
			sub(b, "transaction")["scope"] = "name"
		}, status: 400, group: "InvalidRequest", code: "transaction.scope"},
		{name: "scope unknown", edit: func(b map[string]any) { sub(b, "transaction")["scope"] = "name shoeSize" },
			status: 400, group: "InvalidRequest", code: "transaction.scope"},
		{name: "scope nin not allowed", edit: func(b map[string]any) { sub(b, "transaction")["scope"] = "name nin" },
			status: 403, group: vipps.GroupMerchant, code: vipps.CodeNinNotAllowed},
		{name: "skipLandingPage without mobileNumber", edit: func(b map[string]any) { sub(b, "transaction")["skipLandingPage"] = true },
			status: 400, group: "InvalidRequest", code: "customerInfo.mobileNumber"},
		{name: "skipLandingPage not allowed", edit: func(b map[string]any) {
			sub(b, "transaction")["skipLandingPage"] = true
			b["customerInfo"] = map[string]any{"mobileNumber": "91234567"}
		}, status: 400, group: vipps.GroupMerchant, code: vipps.CodeSkipLandingPageNotAllowed},
		{name: "mobileNumber repaired", edit: func(b map[string]any) { b["customerInfo"] = map[string]any{"mobileNumber": "+47 912 34 567"} },
			status: 200, warn: "repaired"},
		{name: "mobileNumber as a JSON number", edit: func(b map[string]any) { b["customerInfo"] = map[string]any{"mobileNumber": 91234567} },
			status: 200, warn: "JSON number"},
		{name: "mobileNumber as a JSON number with 47", edit: func(b map[string]any) { b["customerInfo"] = map[string]any{"mobileNumber": 4791234567} },
			status: 200, warn: "repaired it to the string \"91234567\""},
		{name: "mobileNumber as a JSON number, too short", edit: func(b map[string]any) { b["customerInfo"] = map[string]any{"mobileNumber": 1234} },
			status: 400, group: vipps.GroupUser, code: vipps.CodeUserCannotPay},
		{name: "mobileNumber as a JSON number, not an integer", edit: func(b map[string]any) { b["customerInfo"] = map[string]any{"mobileNumber": 91234567.5} },
			status: 400, group: vipps.GroupUser, code: vipps.CodeUserCannotPay},
		{name: "mobileNumber unusable", edit: func(b map[string]any) { b["customerInfo"] = map[string]any{"mobileNumber": "1234"} },
			status: 400, group: vipps.GroupUser, code: vipps.CodeUserCannotPay},
		{name: "additionalData incomplete", edit: func(b map[string]any) {
			sub(b, "transaction")["additionalData"] = map[string]any{"passengerName": "FLYER / MARY MS.", "airlineCode": "074", "airlineDesignatorCode": "KL"}
		}, status: 400, group: "InvalidRequest", code: "transaction.additionalData.agencyInvoiceNumber"},
		{name: "unknown fields are ignored", edit: func(b map[string]any) { sub(b, "transaction")["timeStamp"] = "2018-12-12T11:18:38.246Z" }, status: 200},
		{name: "malformed JSON", raw: `{"merchantInfo": {`, status: 500, group: vipps.GroupVippsError, code: vipps.CodeInternal},
		{name: "malformed JSON, lenient", raw: `{"merchantInfo": {`, lenient: true, status: 400, group: "InvalidRequest", code: "body"},
		{name: "empty body", raw: " ", status: 400, group: "InvalidRequest", code: "body"},
		{name: "array body", raw: `[]`, status: 400, group: "InvalidRequest", code: "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(c *vippstest.Config) { c.Lenient = tt.lenient })
			r := newRaw(t, srv)
			body := tt.raw
			if body == "" {
				b := initiateBody("acme-shop-123-order123abc")
				tt.edit(b)
				body = jsonBody(t, b)
			}
			status, resp := r.do("POST", "/ecomm/v2/payments", body)
			wantAnswer(t, "initiate", status, resp, tt.status, tt.group, tt.code)
			reqs := srv.Sim.Requests()
			last := reqs[len(reqs)-1]
			if tt.warn != "" && !slices.ContainsFunc(last.Warnings, func(w string) bool { return strings.Contains(w, tt.warn) }) {
				t.Errorf("request log warnings = %q, want one saying %q", last.Warnings, tt.warn)
			}
			if tt.warn == "" && tt.status == 200 && len(last.Warnings) > 0 {
				t.Errorf("request log warnings = %q, want none", last.Warnings)
			}
		})
	}
}

func TestInitiateRules(t *testing.T) {
	t.Run("every problem is listed", func(t *testing.T) {
		srv := newServer(t)
		b := initiateBody("acme_1")
		sub(b, "transaction")["amount"] = 5
		delete(sub(b, "merchantInfo"), "fallBack")
		status, resp := newRaw(t, srv).do("POST", "/ecomm/v2/payments", jsonBody(t, b))
		ds := errorArray(t, resp)
		var codes []vipps.ErrorCode
		for _, d := range ds {
			codes = append(codes, d.Code)
			if d.ContextID != ds[0].ContextID {
				t.Errorf("contextIds differ: %+v", ds)
			}
		}
		slices.Sort(codes)
		want := []vipps.ErrorCode{"merchantInfo.fallBack", "transaction.amount", "transaction.orderId"}
		if status != 400 || !slices.Equal(codes, want) {
			t.Errorf("initiate = %d %s, want 400 for %v", status, resp, want)
		}
	})

	t.Run("duplicate orderId", func(t *testing.T) {
		srv := newServer(t, merchants(vippstest.DefaultMerchant(), directMerchant))
		initiate(t, srv.Client, regular("dup-1", 20000))
		_, err := srv.Client.Initiate(t.Context(), regular("dup-1", 30000))
		wantVippsError(t, "second Initiate", err, http.StatusBadRequest, vipps.GroupMerchant, vipps.CodeDuplicateOrderID)
		// Unique per MSN only.
		initiate(t, srv.NewClient(directMerchant), regular("dup-1", 20000))
	})

	t.Run("trailing slash", func(t *testing.T) {
		srv := newServer(t)
		status, body := newRaw(t, srv).do("POST", "/ecomm/v2/payments/", jsonBody(t, initiateBody("slash-1")))
		wantAnswer(t, "initiate with a trailing slash", status, body, 200, "", "")
	})

	t.Run("isApp url", func(t *testing.T) {
		srv := newServer(t)
		req := regular("app-1", 20000)
		req.MerchantInfo.IsApp = true
		res := initiate(t, srv.Client, req)
		if !strings.HasPrefix(res.URL, "vippsMT://?token=") || res.Token() == "" {
			t.Errorf("url = %q, want vippsMT://?token=...", res.URL)
		}
	})

	t.Run("skipLandingPage allowed", func(t *testing.T) {
		m := vippstest.DefaultMerchant()
		m.SkipLandingPageAllowed = true
		srv := newServer(t, merchants(m))
		req := regular("pos-1", 20000)
		req.CustomerInfo.MobileNumber = "91234567"
		req.Transaction.SkipLandingPage = true
		res := initiate(t, srv.Client, req)
		err := srv.Client.Approve(t.Context(), "pos-1", vipps.ApproveRequest{CustomerPhoneNumber: "91234567", Token: res.Token()})
		wantVippsError(t, "force approve of skipLandingPage", err, http.StatusBadRequest, vipps.GroupVippsError, vipps.CodeNotAllowed)
		if err := srv.Sim.Approve("pos-1", "97777777"); err == nil {
			t.Errorf("Approve by another phone = nil, want an error")
		}
		approveHook(t, srv, "pos-1")
	})

	t.Run("nin allowed", func(t *testing.T) {
		m := vippstest.DefaultMerchant()
		m.NinAllowed = true
		srv := newServer(t, merchants(m))
		req := regular("nin-1", 20000)
		req.Transaction.Scope = "name nin"
		initiate(t, srv.Client, req)
	})
}

func TestActionValidation(t *testing.T) {
	const okBody = `{"merchantInfo":{"merchantSerialNumber":"123456"},"transaction":{"amount":1000,"transactionText":"shipped"}}`
	tests := []struct {
		name    string
		method  string
		path    string
		body    string
		headers []string
		status  int
		group   vipps.ErrorGroup
		code    vipps.ErrorCode
	}{
		{"capture", "POST", "/ecomm/v2/payments/v-1/capture", okBody, []string{"X-Request-Id", "k1"}, 200, "", ""},
		{"capture, MSN as a number", "POST", "/ecomm/v2/payments/v-1/capture",
			`{"merchantInfo":{"merchantSerialNumber":123456},"transaction":{"amount":1000,"transactionText":"shipped"}}`, []string{"X-Request-Id", "k1"}, 500, vipps.GroupVippsError, vipps.CodeInternal},
		{"capture, no transactionText", "POST", "/ecomm/v2/payments/v-1/capture",
			`{"merchantInfo":{"merchantSerialNumber":"123456"},"transaction":{"amount":1000}}`, []string{"X-Request-Id", "k1"}, 400, "InvalidRequest", "transaction.transactionText"},
		{"capture, negative amount", "POST", "/ecomm/v2/payments/v-1/capture",
			`{"merchantInfo":{"merchantSerialNumber":"123456"},"transaction":{"amount":-5,"transactionText":"x"}}`, []string{"X-Request-Id", "k1"}, 400, "InvalidRequest", "transaction.amount"},
		{"capture, amount not an integer", "POST", "/ecomm/v2/payments/v-1/capture",
			`{"merchantInfo":{"merchantSerialNumber":"123456"},"transaction":{"amount":10.5,"transactionText":"x"}}`, []string{"X-Request-Id", "k1"}, 500, vipps.GroupVippsError, vipps.CodeInternal},
		{"partial capture without X-Request-Id", "POST", "/ecomm/v2/payments/v-1/capture", okBody, nil, 400, "InvalidRequest", "X-Request-Id"},
		{"full capture without X-Request-Id", "POST", "/ecomm/v2/payments/v-1/capture",
			`{"merchantInfo":{"merchantSerialNumber":"123456"},"transaction":{"transactionText":"all"}}`, nil, 200, "", ""},
		{"X-Request-Id of 41 characters", "POST", "/ecomm/v2/payments/v-1/capture", okBody, []string{"X-Request-Id", strings.Repeat("k", 41)}, 400, "InvalidRequest", "X-Request-Id"},
		{"capture, MSN of another merchant", "POST", "/ecomm/v2/payments/v-1/capture",
			`{"merchantInfo":{"merchantSerialNumber":"654321"},"transaction":{"amount":1000,"transactionText":"x"}}`, []string{"X-Request-Id", "k1"}, 404, vipps.GroupMerchant, vipps.CodeOrderNotFound},
		{"capture, Merchant-Serial-Number header of another merchant", "POST", "/ecomm/v2/payments/v-1/capture", okBody,
			[]string{"X-Request-Id", "k1", "Merchant-Serial-Number", "654321"}, 404, vipps.GroupMerchant, vipps.CodeOrderNotFound},
		{"capture, unknown order", "POST", "/ecomm/v2/payments/v-unknown/capture", okBody, []string{"X-Request-Id", "k1"}, 404, vipps.GroupMerchant, vipps.CodeOrderNotFound},
		{"capture, invalid orderId", "POST", "/ecomm/v2/payments/v_1/capture", okBody, []string{"X-Request-Id", "k1"}, 400, "InvalidRequest", "orderId"},
		{"refund, text of 101 characters", "POST", "/ecomm/v2/payments/v-1/refund",
			`{"merchantInfo":{"merchantSerialNumber":"123456"},"transaction":{"amount":1000,"transactionText":"` + strings.Repeat("x", 101) + `"}}`,
			[]string{"X-Request-Id", "k1"}, 400, "InvalidRequest", "transaction.transactionText"},
		{"refund, no merchantInfo", "POST", "/ecomm/v2/payments/v-1/refund", `{"transaction":{"amount":1000,"transactionText":"x"}}`,
			[]string{"X-Request-Id", "k1"}, 400, "InvalidRequest", "merchantInfo"},
		{"cancel, MSN as a number", "PUT", "/ecomm/v2/payments/v-1/cancel",
			`{"merchantInfo":{"merchantSerialNumber":123456},"transaction":{"transactionText":"x"}}`, nil, 500, vipps.GroupVippsError, vipps.CodeInternal},
		{"cancel, shouldReleaseRemainingFunds as a string", "PUT", "/ecomm/v2/payments/v-1/cancel",
			`{"merchantInfo":{"merchantSerialNumber":"123456"},"transaction":{"transactionText":"x"},"shouldReleaseRemainingFunds":"yes"}`, nil, 400, "InvalidRequest", "shouldReleaseRemainingFunds"},
		{"cancel", "PUT", "/ecomm/v2/payments/v-1/cancel", `{"merchantInfo":{"merchantSerialNumber":"123456"},"transaction":{"transactionText":"x"}}`, nil, 200, "", ""},
		{"details, unknown order", "GET", "/ecomm/v2/payments/v-unknown/details", "", nil, 404, vipps.GroupMerchant, vipps.CodeOrderNotFound},
		{"status, invalid orderId", "GET", "/ecomm/v2/payments/v.1/status", "", nil, 400, "InvalidRequest", "orderId"},
		{"approve, wrong token", "POST", "/ecomm/v2/integration-test/payments/v-1/approve", `{"customerPhoneNumber":"91234567","token":"eyJnope"}`, nil, 400, "InvalidRequest", "token"},
		{"approve, no token", "POST", "/ecomm/v2/integration-test/payments/v-1/approve", `{"customerPhoneNumber":"91234567"}`, nil, 400, "InvalidRequest", "token"},
		{"authorize was removed", "PUT", "/ecomm/v2/payments/v-1/authorize", `{}`, nil, 404, "", ""},
		{"wrong method", "GET", "/ecomm/v2/payments/v-1/capture", "", nil, 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			r := newRaw(t, srv)
			reserve(t, srv.Client, "v-1", 20000)
			status, body := r.do(tt.method, tt.path, tt.body, tt.headers...)
			wantAnswer(t, tt.method+" "+tt.path, status, body, tt.status, tt.group, tt.code)
			if tt.status == 404 && tt.group == "" {
				var obj struct {
					StatusCode int    `json:"statusCode"`
					Message    string `json:"message"`
				}
				if json.Unmarshal(body, &obj) != nil || obj.StatusCode != 404 {
					t.Errorf("404 body = %s, want the gateway object", body)
				}
			}
		})
	}
}

func TestForceApproveRules(t *testing.T) {
	tests := []struct {
		name  string
		phone string
		setup func(t *testing.T, srv *vippstest.Server, id vipps.OrderID)
		group vipps.ErrorGroup
		code  vipps.ErrorCode
	}{
		{"bad phone number", "123", func(*testing.T, *vippstest.Server, vipps.OrderID) {}, vipps.GroupUser, vipps.CodeUserCannotPay},
		{"already approved", "91234567", approveHook, vipps.GroupVippsError, vipps.CodeAlreadyProcessed},
		{"cancelled", "91234567", func(t *testing.T, srv *vippstest.Server, id vipps.OrderID) {
			if _, err := srv.Client.Cancel(t.Context(), id, vipps.CancelRequest{TransactionText: "x"}); err != nil {
				t.Fatal(err)
			}
		}, vipps.GroupVippsError, vipps.CodeNotAllowed},
		{"timed out", "91234567", func(t *testing.T, srv *vippstest.Server, id vipps.OrderID) { srv.Sim.Advance(10 * time.Minute) },
			vipps.GroupVippsError, vipps.CodeNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			res := initiate(t, srv.Client, regular("fa-1", 20000))
			tt.setup(t, srv, "fa-1")
			r := newRaw(t, srv)
			status, body := r.do("POST", "/ecomm/v2/integration-test/payments/fa-1/approve",
				`{"customerPhoneNumber":"`+tt.phone+`","token":"`+res.Token()+`"}`)
			wantAnswer(t, "force approve", status, body, 400, tt.group, tt.code)
		})
	}
}

func TestCheckCallbackPrefix(t *testing.T) {
	tests := []struct {
		url     string
		lenient bool
		ok      bool
	}{
		{"https://shop.example/vipps", false, true},
		{"http://127.0.0.1:8080/vipps", false, true},
		{"http://localhost/vipps", false, true},
		{"http://shop.example/vipps", false, false},
		{"http://shop.example/vipps", true, true},
		{"ftp://shop.example/vipps", true, false},
		{"not a url", false, false},
	}
	for _, tt := range tests {
		sim, err := vippstest.New(vippstest.Config{Lenient: tt.lenient})
		if err != nil {
			t.Fatal(err)
		}
		err = sim.CheckCallbackPrefix(tt.url)
		if (err == nil) != tt.ok {
			t.Errorf("CheckCallbackPrefix(%q), lenient %v = %v, want ok %v", tt.url, tt.lenient, err, tt.ok)
		}
		sim.Close()
	}
}
