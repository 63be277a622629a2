package vipps_test

// The contract test: every request the client sends must validate against
// the OpenAPI files Vipps publishes (shared/reference/ecom-v2-openapi.yaml
// with its merchant companion, and order-management-openapi.yaml). A
// recording httptest server runs openapi3filter.ValidateRequest on each
// incoming request and answers with the reference examples; the tests drive
// every client method and fail on any validation error.
//
// The spec files are not in this repository: they sit in shared/reference
// beside the checkout (../shared/reference from the module root, the same in
// CI). Without them the test skips, unless CI is set, when it fails.
//
// The files are used as Vipps publishes them, with the known defects
// (ecom-v2.md §0 and §14) worked around in memory by internal/openapitest,
// which the simulator's contract test (vippstest/contract_test.go) shares;
// each workaround is described where it is made.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/openapitest"
)

// contractSpecs holds the loaded and patched specs and their routers.
type contractSpecs struct {
	ecom, om     *openapi3.T
	ecomRouter   routers.Router
	omRouter     routers.Router
	ecomOpIDs    map[string]bool // operations of the eCom spec
	omOpIDs      map[string]bool // operations of the Order Management spec
	accessInSpec bool            // the eCom spec has /accesstoken/get
	accessOpID   string          // its operationId there
}

// contractTokenOpID is the access token endpoint's operationId in the access
// token API spec. The copied eCom spec (2.0.3) no longer has the path (it
// moved to the access token spec in 2022, ecom-v2.md §5.8): loadContractSpecs
// looks for it and, when it is there, the server validates the token request
// against it; otherwise checkTokenRequest applies ecom-v2.md §4 by hand.
const contractTokenOpID = "fetchAuthorizationTokenUsingPost"

// loadContractSpecs loads the specs with openapitest.Load, which works
// around their known defects (see there), and tightens them for checking
// requests: a bearer token on every eCom call, closed request objects.
func loadContractSpecs(t *testing.T) *contractSpecs {
	t.Helper()
	specs := openapitest.Load(t)
	s := &contractSpecs{ecom: specs.Ecom, om: specs.OM}
	addBearerSecurity(s.ecom)
	if item := s.ecom.Paths.Value("/accesstoken/get"); item != nil && item.Post != nil {
		// The token request carries credentials, not a bearer token.
		s.accessInSpec, s.accessOpID = true, item.Post.OperationID
		item.Post.Security = &openapi3.SecurityRequirements{}
	}
	if err := s.ecom.Validate(context.Background(), openapi3.EnableMultiError()); err != nil {
		t.Fatalf("eCom spec is invalid with the bearer scheme: %v", err)
	}
	// After the document check, which validates the examples against the
	// schemas as published.
	closeRequestObjects(s.ecom)
	closeRequestObjects(s.om)

	var err error
	if s.ecomRouter, err = gorillamux.NewRouter(s.ecom); err != nil {
		t.Fatal(err)
	}
	if s.omRouter, err = gorillamux.NewRouter(s.om); err != nil {
		t.Fatal(err)
	}
	s.ecomOpIDs, s.omOpIDs = operationIDs(s.ecom), operationIDs(s.om)
	return s
}

// operationIDs lists the operations of doc that Vipps serves, leaving out
// the merchant endpoints, which Vipps calls.
func operationIDs(doc *openapi3.T) map[string]bool {
	ids := map[string]bool{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if !slices.Contains(op.Tags, openapitest.MerchantTag) {
				ids[op.OperationID] = true
			}
		}
	}
	return ids
}

// addBearerSecurity gives the eCom spec what the Order Management spec
// already has: a bearer security scheme required on every operation. The
// eCom spec declares Authorization only as a header parameter, and OpenAPI
// says a header parameter named Authorization "SHALL be ignored" (kin-openapi
// still checks it is present). With the scheme, contractAuthenticate checks
// the header is "Bearer " and the token the fake /accesstoken/get issued.
func addBearerSecurity(doc *openapi3.T) {
	if doc.Components == nil {
		doc.Components = &openapi3.Components{}
	}
	if doc.Components.SecuritySchemes == nil {
		doc.Components.SecuritySchemes = openapi3.SecuritySchemes{}
	}
	doc.Components.SecuritySchemes["BearerToken"] = &openapi3.SecuritySchemeRef{
		Value: &openapi3.SecurityScheme{Type: "http", Scheme: "bearer"},
	}
	doc.Security = openapi3.SecurityRequirements{{"BearerToken": {}}}
}

// closeRequestObjects tightens the specs (this is no defect): every object
// schema of a request body gets additionalProperties: false, so that a
// misspelt or invented field (such as "fallback" for "fallBack", which
// Vipps answers with HTTP 500, §2.8) fails the contract instead of passing
// unnoticed. Only requests are validated, so response schemas sharing these
// objects are unaffected.
func closeRequestObjects(doc *openapi3.T) {
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.RequestBody == nil || op.RequestBody.Value == nil {
				continue
			}
			for _, mt := range op.RequestBody.Value.Content {
				openapitest.Close(mt.Schema)
			}
		}
	}
}

// contractToken is the access token the contract server issues.
const contractToken = "contract-test-access-token"

// contractAuthenticate is the AuthenticationFunc: the bearer token must be
// present, spelled "Bearer <token>" (case-sensitive, §3), and be the one
// /accesstoken/get returned.
func contractAuthenticate(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	h := in.RequestValidationInput.Request.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	switch {
	case h == "":
		return in.NewError(errors.New("no Authorization header"))
	case !ok:
		return in.NewError(fmt.Errorf("Authorization %q does not start with \"Bearer \"", h))
	case tok != contractToken:
		return in.NewError(fmt.Errorf("bearer token %q is not the one /accesstoken/get issued", tok))
	}
	return nil
}

var tokenMSNPattern = regexp.MustCompile(`^[0-9]{4,6}$`)

// checkTokenRequest applies the access token API's contract (ecom-v2.md §4)
// by hand, because the copied specs do not have the path: POST, no body,
// client_id, client_secret and Ocp-Apim-Subscription-Key set, no bearer, an
// optional Merchant-Serial-Number of 4 to 6 digits and Vipps-System-*
// headers of at most 30 characters.
func checkTokenRequest(r *http.Request, body []byte) error {
	var errs []error
	if r.Method != http.MethodPost {
		errs = append(errs, fmt.Errorf("method %s, want POST", r.Method))
	}
	if r.URL.Path != "/accesstoken/get" {
		errs = append(errs, fmt.Errorf("path %s, want /accesstoken/get as the spec spells it", r.URL.Path))
	}
	if len(body) > 0 {
		errs = append(errs, fmt.Errorf("body %q, want none", body))
	}
	for _, h := range []string{"client_id", "client_secret", "Ocp-Apim-Subscription-Key"} {
		if r.Header.Get(h) == "" {
			errs = append(errs, fmt.Errorf("required header %s is missing", h))
		}
	}
	if r.Header.Get("Authorization") != "" {
		errs = append(errs, errors.New("Authorization is set on the token request"))
	}
	if v := r.Header.Values("Merchant-Serial-Number"); len(v) > 0 && !tokenMSNPattern.MatchString(v[0]) {
		errs = append(errs, fmt.Errorf("Merchant-Serial-Number %q does not match %s", v[0], tokenMSNPattern))
	}
	for _, h := range []string{"Vipps-System-Name", "Vipps-System-Version", "Vipps-System-Plugin-Name", "Vipps-System-Plugin-Version"} {
		if v := r.Header.Get(h); len(v) > 30 {
			errs = append(errs, fmt.Errorf("%s %q is longer than 30", h, v))
		}
	}
	return errors.Join(errs...)
}

// contractHit is one request the contract server received.
type contractHit struct {
	Method, Path string
	OperationID  string
	Err          error
}

// contractServer validates every request against the specs and answers
// with a canned response for the operation.
type contractServer struct {
	specs *contractSpecs
	mu    sync.Mutex
	hits  []contractHit
}

// contractResponses are the canned answers, by operationId: a status and a
// file of testdata/examples ("" for no body).
var contractResponses = map[string]struct {
	status int
	file   string
}{
	contractTokenOpID:               {200, ""}, // built by the server: it must carry contractToken
	"initiatePaymentV3UsingPOST":    {200, "initiate-response.json"},
	"capturePaymentUsingPOST":       {200, "capture-response.json"},
	"cancelPaymentRequestUsingPUT":  {200, "cancel-response.json"},
	"refundPaymentUsingPOST":        {200, "refund-response.json"},
	"getPaymentDetailsUsingGET":     {200, "details-regular.json"},
	"getOrderStatusUsingGET":        {200, "status-response.json"},
	"integrationTestApprovePayment": {200, ""},
	"postImage":                     {200, "om-image-response.json"},
	"putCategoryV2":                 {200, "om-category-response.json"},
	"postReceiptV2":                 {201, "om-receipt-response.json"},
	"getOrderV2":                    {200, "om-order-response.json"},
}

func (s *contractServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	hit := contractHit{Method: r.Method, Path: r.URL.Path}
	switch {
	case r.URL.Path == "/accesstoken/get" && !s.specs.accessInSpec:
		hit.OperationID = contractTokenOpID
		hit.Err = checkTokenRequest(r, body)
	default:
		router := s.specs.ecomRouter
		if strings.HasPrefix(r.URL.Path, "/order-management/") {
			router = s.specs.omRouter
		}
		route, params, err := router.FindRoute(r)
		if err != nil {
			hit.Err = fmt.Errorf("no operation in the specs: %w", err)
			break
		}
		hit.OperationID = route.Operation.OperationID
		if route.Path == "/accesstoken/get" {
			hit.OperationID = contractTokenOpID // whatever the spec calls it
		}
		hit.Err = openapi3filter.ValidateRequest(r.Context(), &openapi3filter.RequestValidationInput{
			Request:    r,
			PathParams: params,
			Route:      route,
			Options: &openapi3filter.Options{
				MultiError:          true,
				AuthenticationFunc:  contractAuthenticate,
				SkipSettingDefaults: true,
			},
		})
	}
	s.mu.Lock()
	s.hits = append(s.hits, hit)
	s.mu.Unlock()

	resp, ok := contractResponses[hit.OperationID]
	switch {
	case hit.Err != nil || !ok:
		// A client error without retries, so that the failure shows at once.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `[{"errorGroup":"InvalidRequest","errorCode":"contract","errorMessage":%q}]`, fmt.Sprint(hit.Err))
	case hit.OperationID == contractTokenOpID:
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":"3600","ext_expires_in":"3600","expires_on":"1547823408","not_before":"1547819508","resource":"00000002-0000-0000-c000-000000000000","access_token":%q}`, contractToken)
	default:
		var b []byte
		if resp.file != "" {
			if b, err = os.ReadFile(filepath.Join("testdata", "examples", resp.file)); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
		if len(b) > 0 {
			w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		}
		w.WriteHeader(resp.status)
		w.Write(b)
	}
}

// take returns the hits so far and forgets them.
func (s *contractServer) take() []contractHit {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.hits
	s.hits = nil
	return h
}

// newContractClient starts a contract server and returns it with a client
// that talks to it and does not retry.
func newContractClient(t *testing.T, specs *contractSpecs) (*vipps.Client, *contractServer) {
	t.Helper()
	cs := &contractServer{specs: specs}
	return newOneShotClient(t, cs), cs
}

// contractCases drives every client method the specs cover. want is the
// operationId the call must reach (after the access token request).
func contractCases() []struct {
	name string
	want string
	call func(ctx context.Context, c *vipps.Client) error
} {
	express := func(r *vipps.InitiateRequest) {
		r.MerchantInfo.PaymentType = vipps.PaymentTypeExpress
		r.MerchantInfo.ConsentRemovalPrefix = "https://example.com/vipps/consents"
		r.MerchantInfo.AuthToken = "b7c2a1e4-3f7d-4a43-9d0e-6c1f3c2b9a11"
	}
	receipt := vipps.Receipt{
		OrderLines: []vipps.OrderLine{
			{
				Name: "Socks", ID: "line_item_1", TotalAmount: 1000, TotalAmountExcludingTax: 800, TotalTaxAmount: 200, TaxPercentage: 25,
				UnitInfo:   &vipps.UnitInfo{UnitPrice: 400, Quantity: "2.5", QuantityUnit: "KG"},
				Discount:   100,
				ProductURL: "https://example.com/store/socks",
			},
			{Name: "Returned flip-flops", ID: "line_item_2", TotalAmount: 5000, TotalAmountExcludingTax: 4000, TotalTaxAmount: 1000, TaxPercentage: 25, IsReturn: true},
			{Name: "Free gift", ID: "line_item_3", UnitInfo: &vipps.UnitInfo{UnitPrice: 0, Quantity: "1"}},
			{Name: "Home delivery", ID: "shipping_1", TotalAmount: 1000, TotalAmountExcludingTax: 1000, IsShipping: true},
		},
		BottomLine: vipps.BottomLine{
			Currency:       "NOK",
			TipAmount:      2000,
			PosID:          "vipps_pos_122",
			ReceiptNumber:  "0527013501",
			PaymentSources: &vipps.PaymentSources{GiftCard: 1000, Card: 6000},
			Barcode:        &vipps.Barcode{Format: "CODE 39", Data: "SC0527013501 "},
		},
	}
	return []struct {
		name string
		want string
		call func(ctx context.Context, c *vipps.Client) error
	}{
		{"Initiate/regular", "initiatePaymentV3UsingPOST", initiateCall(func(r *vipps.InitiateRequest) {})},
		{"Initiate/phone_and_authToken", "initiatePaymentV3UsingPOST", initiateCall(func(r *vipps.InitiateRequest) {
			r.CustomerInfo.MobileNumber = "91234567"
			r.MerchantInfo.AuthToken = "b7c2a1e4-3f7d-4a43-9d0e-6c1f3c2b9a11"
		})},
		{"Initiate/skipLandingPage", "initiatePaymentV3UsingPOST", initiateCall(func(r *vipps.InitiateRequest) {
			r.CustomerInfo.MobileNumber = "91234567"
			r.Transaction.SkipLandingPage = true
		})},
		{"Initiate/express_static_shipping", "initiatePaymentV3UsingPOST", initiateCall(func(r *vipps.InitiateRequest) {
			express(r)
			r.MerchantInfo.StaticShippingDetails = []vipps.ShippingOption{
				{IsDefault: false, Priority: 1, ShippingCost: 99, ShippingMethod: "Walking", ShippingMethodID: "123abc"},
				{IsDefault: true, Priority: 2, ShippingCost: 109.99, ShippingMethod: "Running", ShippingMethodID: "321abc"},
				{IsDefault: false, ShippingCost: 0, ShippingMethod: "Pick up in store", ShippingMethodID: "pickup"},
			}
		})},
		{"Initiate/express_shippingDetailsPrefix", "initiatePaymentV3UsingPOST", initiateCall(func(r *vipps.InitiateRequest) {
			express(r)
			r.MerchantInfo.ShippingDetailsPrefix = "https://example.com/vipps/shipping"
			r.Transaction.UseExplicitCheckoutFlow = true
		})},
		{"Initiate/isApp", "initiatePaymentV3UsingPOST", initiateCall(func(r *vipps.InitiateRequest) {
			r.MerchantInfo.IsApp = true
			r.MerchantInfo.FallBack = "myapp://vipps/result"
		})},
		{"Initiate/regular_payment_type", "initiatePaymentV3UsingPOST", initiateCall(func(r *vipps.InitiateRequest) {
			r.MerchantInfo.PaymentType = vipps.PaymentTypeRegular
		})},
		{"Initiate/scope", "initiatePaymentV3UsingPOST", initiateCall(func(r *vipps.InitiateRequest) {
			r.Transaction.Scope = "address name email birthDate phoneNumber"
		})},
		{"Initiate/additionalData", "initiatePaymentV3UsingPOST", initiateCall(func(r *vipps.InitiateRequest) {
			r.Transaction.AdditionalData = vipps.AdditionalData{
				PassengerName: "FLYER / MARY MS.", AirlineCode: "074", AirlineDesignatorCode: "KL",
				TicketNumber: "074-5799804843", AgencyInvoiceNumber: "123456",
			}
		})},
		{"Capture/full", "capturePaymentUsingPOST", captureCall(vipps.CaptureRequest{TransactionText: "Socks on the way! Tracking code: abc-tracking-123"})},
		{"Capture/partial", "capturePaymentUsingPOST", captureCall(vipps.CaptureRequest{Amount: 10000, TransactionText: "First parcel shipped", RequestID: "49ca711a-acee-4d01-993b-9487112e1def"})},
		{"Cancel/plain", "cancelPaymentRequestUsingPUT", cancelCall(vipps.CancelRequest{TransactionText: "No socks for you!"})},
		{"Cancel/shouldReleaseRemainingFunds", "cancelPaymentRequestUsingPUT", cancelCall(vipps.CancelRequest{TransactionText: "No socks for you!", ShouldReleaseRemainingFunds: true})},
		{"Refund/full", "refundPaymentUsingPOST", refundCall(vipps.CaptureRequest{TransactionText: "This payment was refunded."})},
		{"Refund/partial", "refundPaymentUsingPOST", refundCall(vipps.CaptureRequest{Amount: 5000, TransactionText: "Refund of one sock"})},
		{"Details", "getPaymentDetailsUsingGET", func(ctx context.Context, c *vipps.Client) error {
			_, err := c.Details(ctx, exampleOrderID)
			return err
		}},
		{"Status", "getOrderStatusUsingGET", func(ctx context.Context, c *vipps.Client) error {
			_, err := c.Status(ctx, exampleOrderID) //nolint:staticcheck // the deprecated endpoint is still part of the contract
			return err
		}},
		{"Approve", "integrationTestApprovePayment", func(ctx context.Context, c *vipps.Client) error {
			return c.Approve(ctx, exampleOrderID, vipps.ApproveRequest{CustomerPhoneNumber: "91234567", Token: "eyJraWQiOiJqd3RrZXkiLCJhbGciOiJSUzI1NiJ9"})
		}},
		{"UploadImage", "postImage", func(ctx context.Context, c *vipps.Client) error {
			_, err := c.UploadImage(ctx, "socks-orange-123", []byte("\x89PNG\r\n\x1a\n fake image data"))
			return err
		}},
		{"PutCategory/with_image", "putCategoryV2", func(ctx context.Context, c *vipps.Client) error {
			_, err := c.PutCategory(ctx, vipps.OMEcom, string(exampleOrderID), vipps.OrderCategory{Category: vipps.CategoryGeneral, OrderDetailsURL: "https://www.example.com/2486791691483852025", ImageID: "socks-orange-123"})
			return err
		}},
		{"PutCategory/recurring_without_image", "putCategoryV2", func(ctx context.Context, c *vipps.Client) error {
			_, err := c.PutCategory(ctx, vipps.OMRecurring, "agr_5kSeqz.charge_1", vipps.OrderCategory{Category: vipps.CategoryOrderConfirmation, OrderDetailsURL: "https://www.example.com/orders/42"})
			return err
		}},
		{"AddReceipt", "postReceiptV2", func(ctx context.Context, c *vipps.Client) error {
			_, err := c.AddReceipt(ctx, vipps.OMEcom, string(exampleOrderID), receipt)
			return err
		}},
		{"GetOrder", "getOrderV2", func(ctx context.Context, c *vipps.Client) error {
			_, err := c.GetOrder(ctx, vipps.OMEcom, string(exampleOrderID))
			return err
		}},
		{"AccessToken", contractTokenOpID, func(ctx context.Context, c *vipps.Client) error {
			_, err := c.AccessToken(ctx)
			return err
		}},
	}
}

func TestContract(t *testing.T) {
	specs := loadContractSpecs(t)
	covered := map[string]bool{}
	for _, tc := range contractCases() {
		t.Run(tc.name, func(t *testing.T) {
			c, cs := newContractClient(t, specs)
			err := tc.call(t.Context(), c)
			hits := cs.take()
			for _, h := range hits {
				if h.Err != nil {
					t.Errorf("%s %s (%s) breaks the contract:\n%v", h.Method, h.Path, h.OperationID, h.Err)
				}
				covered[h.OperationID] = true
			}
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			var ops []string
			for _, h := range hits {
				ops = append(ops, h.OperationID)
			}
			want := []string{contractTokenOpID, tc.want}
			if tc.want == contractTokenOpID {
				want = want[:1]
			}
			if diff := cmp.Diff(want, ops); diff != "" {
				t.Errorf("%s: operations called (-want +got):\n%s", tc.name, diff)
			}
		})
	}
	// Every operation of the specs that the client implements must be
	// covered; the deprecated Order Management v1 endpoints are not.
	if t.Failed() {
		return
	}
	for id := range specs.ecomOpIDs {
		if id == specs.accessOpID {
			id = contractTokenOpID // counted under this name
		}
		if !covered[id] {
			t.Errorf("eCom operation %s is not exercised by the contract test", id)
		}
	}
	for id := range specs.omOpIDs {
		switch id {
		case "putOrder", "getOrder", "getReceipt", "postReceipt": // deprecated v1, not implemented
			continue
		}
		if !covered[id] {
			t.Errorf("Order Management operation %s is not exercised by the contract test", id)
		}
	}
}

// TestContractServerRejects shows that the validator is not vacuous: after
// the workarounds it still refuses requests that break the specs, headers
// included.
func TestContractServerRejects(t *testing.T) {
	specs := loadContractSpecs(t)
	cs := &contractServer{specs: specs}
	srv := httptest.NewServer(cs)
	t.Cleanup(srv.Close)

	const okInitiate = `{"customerInfo":{},"merchantInfo":{"merchantSerialNumber":"123456","callbackPrefix":"https://example.com/cb","fallBack":"https://example.com/fb"},"transaction":{"amount":20000,"orderId":"acme-shop-123-order123abc","transactionText":"Socks"}}`
	const okCapture = `{"merchantInfo":{"merchantSerialNumber":"123456"},"transaction":{"amount":20000,"transactionText":"Socks"}}`
	full := func(h http.Header) {
		h.Set("Authorization", "Bearer "+contractToken)
		h.Set("Ocp-Apim-Subscription-Key", "0f14ebcab0ec4b29ae0cb90d91b4a84a")
		h.Set("Merchant-Serial-Number", "123456")
		h.Set("Content-Type", "application/json")
		h.Set("X-Request-Id", "49ca711a-acee-4d01-993b-9487112e1def")
	}
	tests := []struct {
		name, method, path, body string
		edit                     func(h http.Header)
		wantErr                  bool
	}{
		{"valid initiate", "POST", "/ecomm/v2/payments", okInitiate, nil, false},
		{"valid capture", "POST", "/ecomm/v2/payments/acme-shop-123-order123abc/capture", okCapture, nil, false},
		{"no subscription key", "POST", "/ecomm/v2/payments", okInitiate, func(h http.Header) { h.Del("Ocp-Apim-Subscription-Key") }, true},
		{"no Authorization", "GET", "/ecomm/v2/payments/acme-shop-123-order123abc/details", "", func(h http.Header) { h.Del("Authorization") }, true},
		{"Authorization without Bearer", "GET", "/ecomm/v2/payments/acme-shop-123-order123abc/details", "", func(h http.Header) { h.Set("Authorization", contractToken) }, true},
		{"capture without X-Request-Id", "POST", "/ecomm/v2/payments/acme-shop-123-order123abc/capture", okCapture, func(h http.Header) { h.Del("X-Request-Id") }, true},
		{"refund without X-Request-Id", "POST", "/ecomm/v2/payments/acme-shop-123-order123abc/refund", okCapture, func(h http.Header) { h.Del("X-Request-Id") }, true},
		{"Vipps-System-Name too long", "GET", "/ecomm/v2/payments/acme-shop-123-order123abc/details", "", func(h http.Header) { h.Set("Vipps-System-Name", strings.Repeat("x", 31)) }, true},
		{"Order Management without MSN", "GET", "/order-management/v2/ecom/acme-shop-123-order123abc", "", func(h http.Header) { h.Del("Merchant-Serial-Number") }, true},
		{"Order Management bad paymentType", "GET", "/order-management/v2/epayment/acme-shop-123-order123abc", "", nil, true},
		{"MSN as a number", "POST", "/ecomm/v2/payments", strings.Replace(okInitiate, `"123456"`, `123456`, 1), nil, true},
		{"fallback misspelt", "POST", "/ecomm/v2/payments", strings.Replace(okInitiate, `fallBack`, `fallback`, 1), nil, true},
		{"amount below 1 NOK", "POST", "/ecomm/v2/payments", strings.Replace(okInitiate, `20000`, `99`, 1), nil, true},
		{"bad orderId", "POST", "/ecomm/v2/payments", strings.Replace(okInitiate, `acme-shop-123-order123abc`, `acme_shop`, 1), nil, true},
		{"unknown field", "POST", "/ecomm/v2/payments/acme-shop-123-order123abc/capture", strings.Replace(okCapture, `"amount"`, `"amountt"`, 1), nil, true},
		{"text/plain body", "POST", "/ecomm/v2/payments/acme-shop-123-order123abc/capture", okCapture, func(h http.Header) { h.Set("Content-Type", "text/plain") }, true},
		{"unknown path", "GET", "/ecomm/v2/payments/acme-shop-123-order123abc/history", "", nil, true},
		{"token request without secret", "POST", "/accesstoken/get", "", func(h http.Header) {
			h.Del("Authorization")
			h.Set("client_id", "fb492b5e-7907-4d83-ba20-c7fb60ca35de")
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			full(req.Header)
			if tt.edit != nil {
				tt.edit(req.Header)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			hits := cs.take()
			if len(hits) != 1 {
				t.Fatalf("server saw %d requests, want 1", len(hits))
			}
			t.Logf("validator: %v", hits[0].Err)
			if gotErr := hits[0].Err != nil; gotErr != tt.wantErr {
				t.Errorf("validate %s %s = %v, want error: %v", tt.method, tt.path, hits[0].Err, tt.wantErr)
			}
		})
	}
}
