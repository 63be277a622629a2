package vippstest_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/vippstest"
)

// inProcess calls a simulator without a network.
type inProcess struct {
	t     *testing.T
	sim   *vippstest.Simulator
	token string
}

func newInProcess(t *testing.T) *inProcess {
	t.Helper()
	sim, err := vippstest.New(vippstest.Config{Now: fixedNow, HTTPClient: vippstest.LoopbackClient()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	p := &inProcess{t: t, sim: sim}
	m := vippstest.DefaultMerchant()
	code, body := p.do("POST", "/accesstoken/get", "", "client_id", m.ClientID, "client_secret", m.ClientSecret)
	var at vipps.AccessToken
	if code != 200 || json.Unmarshal(body, &at) != nil {
		t.Fatalf("token = %d %s", code, body)
	}
	p.token = at.AccessToken.Reveal()
	return p
}

func fixedNow() time.Time { return start }

func (p *inProcess) do(method, path, body string, headers ...string) (int, []byte) {
	req := httptest.NewRequestWithContext(p.t.Context(), method, path, strings.NewReader(body))
	req.Header.Set("Ocp-Apim-Subscription-Key", vippstest.DefaultMerchant().SubscriptionKey)
	req.Header.Set("Content-Type", "application/json")
	if p.token != "" {
		req.Header.Set("Authorization", "Bearer "+p.token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	p.sim.ServeHTTP(w, req)
	return w.Code, w.Body.Bytes()
}

// checkAnswer checks what every eCom answer must look like.
func checkAnswer(t *testing.T, status int, body []byte) {
	t.Helper()
	switch status {
	case http.StatusOK:
		if !json.Valid(body) {
			t.Fatalf("200 with a body that is not JSON: %q", body)
		}
	case http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusInternalServerError:
		var ds []vipps.ErrorDetail
		if err := json.Unmarshal(body, &ds); err != nil || len(ds) == 0 {
			t.Fatalf("%d with a body that is not an error array: %q", status, body)
		}
		for _, d := range ds {
			if d.Group == "" || d.Code == "" || d.Message == "" || d.ContextID == "" {
				t.Fatalf("%d with an incomplete error: %q", status, body)
			}
		}
	default:
		t.Fatalf("unexpected status %d: %q", status, body)
	}
}

// Seeds are the reference's initiate examples, and broken variants.
var initiateSeeds = []string{
	`{"customerInfo":{},"merchantInfo":{"merchantSerialNumber":"123456","callbackPrefix":"https://example.com/vipps/callbacks-for-payment-update-from-vipps","fallBack":"https://example.com/vipps/fallback-result-page-for-both-success-and-failure/acme-shop-123-order123abc"},"transaction":{"orderId":"acme-shop-123-order123abc","amount":20000,"transactionText":"One pair of Vipps socks"}}`,
	`{"customerInfo":{"mobileNumber":"91234567"},"merchantInfo":{"authToken":"ae0cb90d91b4a84a","callbackPrefix":"https://example.com/vipps/callbacks","fallBack":"https://example.com/vipps/fallback","isApp":false,"merchantSerialNumber":"123456","paymentType":"eComm Regular Payment"},"transaction":{"amount":49900,"orderId":"acme-shop-123-order123abd","transactionText":"One pair of Vipps socks","skipLandingPage":false}}`,
	`{"customerInfo":{"mobileNumber":"91234567"},"merchantInfo":{"merchantSerialNumber":"123456","callbackPrefix":"https://example.com/vipps/callbacks","fallBack":"https://example.com/vipps/fallback","consentRemovalPrefix":"https://example.com/vipps/consents/","paymentType":"eComm Express Payment","staticShippingDetails":[{"isDefault":"N","priority":0,"shippingCost":99.99,"shippingMethod":"Posten Servicepakke","shippingMethodId":"posten-servicepakke"},{"isDefault":"Y","priority":1,"shippingCost":0,"shippingMethod":"Hentes i butikk","shippingMethodId":"pick-up-in-store"}]},"transaction":{"amount":20000,"orderId":"acme-shop-123-order123abe","transactionText":"One pair of Vipps socks","timeStamp":"2018-12-12T11:18:38.246Z"}}`,
	`{"customerInfo":{},"merchantInfo":{"merchantSerialNumber":"123456","callbackPrefix":"https://example.com/vipps","fallBack":"https://example.com/return"},"transaction":{"orderId":"acme-profile-1","amount":20000,"transactionText":"Socks","scope":"name address email phoneNumber birthDate"}}`,
	`{"customerInfo":{},"merchantInfo":{"merchantSerialNumber":"123456","callbackPrefix":"https://example.com/vipps","fallBack":"https://example.com/return"},"transaction":{"orderId":"acme-air-1","amount":20000,"transactionText":"Flight","additionalData":{"passengerName":"FLYER / MARY MS.","airlineCode":"074","airlineDesignatorCode":"KL","ticketNumber":"123-1234-151555","agencyInvoiceNumber":"12345"}}}`,
	`{"customerInfo":{},"merchantInfo":{"merchantSerialNumber":123456,"callbackPrefix":"https://example.com/vipps","fallback":"https://example.com/return"},"transaction":{"orderId":"x","amount":1.5,"transactionText":""}}`,
	`{"merchantInfo":null,"transaction":[]}`,
	`[{}]`,
	`{"customerInfo":{"mobileNumber":12345678}`,
	``,
}

func FuzzInitiate(f *testing.F) {
	for _, s := range initiateSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		p := newInProcess(t)
		status, resp := p.do("POST", "/ecomm/v2/payments", body)
		checkAnswer(t, status, resp)
		if status != http.StatusOK {
			return
		}
		var res vipps.InitiateResponse
		if err := json.Unmarshal(resp, &res); err != nil || res.Token() == "" {
			t.Fatalf("initiate answer %s: %v", resp, err)
		}
		if _, err := p.sim.Payment(res.OrderID); err != nil {
			t.Fatalf("Payment(%s) after initiate = %v", res.OrderID, err)
		}
		// The same body again is a duplicate.
		status, resp = p.do("POST", "/ecomm/v2/payments", body)
		if ds := errorArray(t, resp); status != http.StatusBadRequest || ds[0].Code != vipps.CodeDuplicateOrderID {
			t.Fatalf("initiate again = %d %s, want Merchant 34", status, resp)
		}
	})
}

func FuzzCapture(f *testing.F) {
	for _, s := range []string{
		`{"merchantInfo":{"merchantSerialNumber":"123456"},"transaction":{"transactionText":"This transaction was captured."}}`,
		`{"merchantInfo":{"merchantSerialNumber":"123456"},"transaction":{"amount":0,"transactionText":"Socks on the way! Tracking code: abc-tracking-123"}}`,
		`{"merchantInfo":{"merchantSerialNumber":"123456"},"transaction":{"amount":20000,"transactionText":"Socks on the way! Tracking code: abc-tracking-123"}}`,
		`{"merchantInfo":{"merchantSerialNumber":"123456"},"transaction":{"amount":20001,"transactionText":"too much"}}`,
		`{"merchantInfo":{"merchantSerialNumber":123456},"transaction":{"amount":1e3,"transactionText":"x"}}`,
		`{"transaction":{"amount":-1}}`,
		`null`,
	} {
		f.Add(s, "key-1")
	}
	f.Fuzz(func(t *testing.T, body, requestID string) {
		if strings.ContainsAny(requestID, "\r\n\x00") {
			return // not a header value
		}
		p := newInProcess(t)
		status, resp := p.do("POST", "/ecomm/v2/payments", initiateSeeds[0])
		if status != 200 {
			t.Fatalf("initiate = %d %s", status, resp)
		}
		if err := p.sim.Approve("acme-shop-123-order123abc", ""); err != nil {
			t.Fatal(err)
		}
		path := "/ecomm/v2/payments/acme-shop-123-order123abc/capture"
		status, resp = p.do("POST", path, body, "X-Request-Id", requestID)
		checkAnswer(t, status, resp)
		pay, err := p.sim.Payment("acme-shop-123-order123abc")
		if err != nil {
			t.Fatal(err)
		}
		s := pay.Summary
		if s.CapturedAmount+s.RemainingAmountToCapture != 20000 || s.CapturedAmount < 0 {
			t.Fatalf("summary %+v does not add up to the 20000 reserved", s)
		}
		if status == 200 && requestID != "" {
			again, resp2 := p.do("POST", path, body, "X-Request-Id", requestID)
			if again != 200 || string(resp2) != string(resp) {
				t.Fatalf("replay = %d %s, want %s", again, resp2, resp)
			}
		}
	})
}
