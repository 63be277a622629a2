package web

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/vippstest"
)

// eventTypes lists the types of a payment's events, oldest first.
func eventTypes(p *paymentJSON) []payment.EventType {
	var out []payment.EventType
	for _, e := range p.Events {
		out = append(out, e.Type)
	}
	return out
}

func TestAPICreateAndGet(t *testing.T) {
	e := newTestEnv(t)
	body := map[string]any{
		"amount": 25000, "text": "Two mugs", "shopRef": "A-1001",
		"returnUrl": "https://shop.example/orders/A-1001", "orderUrl": "https://shop.example/orders/A-1001/details",
		"receipt": map[string]any{
			"orderLines": []map[string]any{{"name": "Mug", "id": "mug", "totalAmount": 25000,
				"totalAmountExcludingTax": 20000, "totalTaxAmount": 5000, "taxPercentage": 25}},
			"bottomLine": map[string]any{"currency": "NOK"},
		},
	}
	resp, raw := e.do(e.apiRequest("POST", "/api/payments", body))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/payments = %d, want 201\n%s", resp.StatusCode, raw)
	}
	var created createAnswer
	if err := json.Unmarshal(raw, &created); err != nil {
		t.Fatal(err)
	}
	id := created.OrderID
	if want := vipps.OrderID("test-A-1001"); id != want {
		t.Errorf("POST /api/payments: orderId = %q, want %q", id, want)
	}
	if got, want := resp.Header.Get("Location"), "/api/payments/"+string(id); got != want {
		t.Errorf("POST /api/payments: Location = %q, want %q", got, want)
	}
	if !strings.HasPrefix(created.URL, e.sim.URL+"/") {
		t.Errorf("POST /api/payments: url = %q, want the simulator's landing page under %s", created.URL, e.sim.URL)
	}
	if want := e.svc.ReturnURL(id); created.ReturnURL != want {
		t.Errorf("POST /api/payments: returnUrl = %q, want %q", created.ReturnURL, want)
	}
	if got, want := created.Payment.State, payment.Initiated; got != want {
		t.Errorf("POST /api/payments: payment.state = %q, want %q", got, want)
	}

	var got paymentJSON
	e.apiInto("GET", "/api/payments/"+string(id), nil, http.StatusOK, &got)
	want := paymentJSON{
		OrderID: id, ShopRef: "A-1001", Kind: payment.Regular, Text: "Two mugs", State: payment.Initiated,
		Amounts:   payment.Amounts{Authorized: 25000},
		ReturnURL: "https://shop.example/orders/A-1001", OrderURL: "https://shop.example/orders/A-1001/details",
		VippsURL: created.URL,
		Receipt: &vipps.Receipt{
			OrderLines: []vipps.OrderLine{{Name: "Mug", ID: "mug", TotalAmount: 25000, TotalAmountExcludingTax: 20000, TotalTaxAmount: 5000, TaxPercentage: 25}},
			BottomLine: vipps.BottomLine{Currency: "NOK"},
		},
	}
	ignore := cmp.FilterPath(func(p cmp.Path) bool {
		switch p.Last().String() {
		case ".CreatedAt", ".UpdatedAt", ".NextCheckAt", ".Events", ".Operations":
			return true
		}
		return false
	}, cmp.Ignore())
	if diff := cmp.Diff(want, got, ignore); diff != "" {
		t.Errorf("GET /api/payments/%s mismatch (-want +got):\n%s", id, diff)
	}
	if got, want := eventTypes(&got), []payment.EventType{payment.EventCreated, payment.EventInitiated}; !slices.Equal(got, want) {
		t.Errorf("GET /api/payments/%s: event types = %v, want %v", id, got, want)
	}

	e.approve(id)
	e.apiInto("GET", "/api/payments/"+string(id), nil, http.StatusOK, &got)
	if got, want := got.State, payment.Reserved; got != want {
		t.Errorf("after approve: state = %q, want %q", got, want)
	}
	if diff := cmp.Diff(payment.Amounts{Authorized: 25000, RemainingToCapture: 25000}, got.Amounts); diff != "" {
		t.Errorf("after approve: amounts mismatch (-want +got):\n%s", diff)
	}
	wantEvents := []payment.EventType{payment.EventCreated, payment.EventInitiated, payment.EventCallback, payment.EventReserved}
	if diff := cmp.Diff(wantEvents, eventTypes(&got)); diff != "" {
		t.Errorf("after approve: event types mismatch (-want +got):\n%s", diff)
	}
	for i, ev := range got.Events {
		if ev.Seq == 0 || ev.At.IsZero() || (i > 0 && ev.Seq <= got.Events[i-1].Seq) {
			t.Errorf("after approve: event %d = %+v, want increasing seq and a time", i, ev)
		}
	}
}

// TestAPIPaymentShape pins the JSON names of a payment, so that a renamed
// Go field cannot change the API unnoticed.
func TestAPIPaymentShape(t *testing.T) {
	e := newTestEnv(t)
	id := e.reserved(10000)
	e.apiInto("POST", "/api/payments/"+string(id)+"/capture", map[string]any{"amount": 1000}, http.StatusOK, nil)

	_, m := e.api("GET", "/api/payments/"+string(id), nil)
	keys := func(v any) []string { return slices.Sorted(maps.Keys(v.(map[string]any))) }
	tests := []struct {
		name string
		v    any
		want []string
	}{
		{"payment", m, []string{"amounts", "attempt", "createdAt", "events", "kind", "operations", "orderId", "state", "text", "updatedAt", "vippsUrl"}},
		{"amounts", m["amounts"], []string{"authorized", "captured", "refunded", "remainingToCapture", "remainingToRefund"}},
		{"event", m["events"].([]any)[0], []string{"amount", "at", "seq", "state", "type"}},
		{"operation", m["operations"].([]any)[0], []string{"amount", "createdAt", "id", "idempotencyKey", "kind", "releaseRemaining", "requestId", "sends", "sentAt", "status", "text", "updatedAt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, keys(tt.v)); diff != "" {
				t.Errorf("GET /api/payments/%s: %s keys mismatch (-want +got):\n%s", id, tt.name, diff)
			}
		})
	}
	if s := fmt.Sprint(m); strings.Contains(strings.ToLower(s), "authtoken") {
		t.Errorf("GET /api/payments/%s shows the callback token's hash: %s", id, s)
	}
}

// TestAPIExpressShape pins an approved express payment's JSON: Vipps' own
// express details as Vipps sent them (shippingCost in NOK), and the
// service's shipping in øre with whether it was charged on top.
func TestAPIExpressShape(t *testing.T) {
	e := newTestEnv(t)
	var created createAnswer
	e.apiInto("POST", "/api/payments", map[string]any{"amount": 10000, "text": "Socks", "express": true}, http.StatusCreated, &created)
	e.approve(created.OrderID)
	_, m := e.api("GET", "/api/payments/"+string(created.OrderID), nil)
	keys := func(v any) []string { return slices.Sorted(maps.Keys(v.(map[string]any))) }
	for _, tt := range []struct {
		name string
		v    any
		want []string
	}{
		{"payment", m, []string{"amounts", "attempt", "createdAt", "events", "express", "kind", "operations", "orderId", "shipping", "state", "text", "updatedAt", "vippsUrl"}},
		{"express", m["express"], []string{"shippingDetails", "userDetails"}},
		{"shipping", m["shipping"], []string{"charged", "cost", "method", "methodId"}},
	} {
		if diff := cmp.Diff(tt.want, keys(tt.v)); diff != "" {
			t.Errorf("%s keys mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
	sd := m["express"].(map[string]any)["shippingDetails"].(map[string]any)
	if sd["shippingCost"] != 49.0 || m["shipping"].(map[string]any)["cost"] != 4900.0 {
		t.Errorf("express.shippingDetails.shippingCost = %v and shipping.cost = %v, want 49 (NOK, Vipps') and 4900 (øre, the service's)",
			sd["shippingCost"], m["shipping"].(map[string]any)["cost"])
	}
}

// TestAPIOperations runs captures, refunds and a release on one payment,
// step by step, and checks each answer and what the simulator got.
func TestAPIOperations(t *testing.T) {
	e := newTestEnv(t)
	id := e.reserved(30000)
	path := "/api/payments/" + string(id)

	steps := []struct {
		name        string
		op          string
		body        any
		wantStatus  int
		wantOp      payment.OpStatus
		wantAmount  vipps.Amount // of the operation
		wantState   payment.State
		wantAmounts payment.Amounts
	}{
		{"partial capture", "capture", map[string]any{"amount": 10000, "text": "First parcel"}, 200, payment.OpSucceeded, 10000,
			payment.Reserved, payment.Amounts{Authorized: 30000, Captured: 10000, RemainingToCapture: 20000, RemainingToRefund: 10000}},
		{"capture the rest", "capture", nil, 200, payment.OpSucceeded, 0,
			payment.Captured, payment.Amounts{Authorized: 30000, Captured: 30000, RemainingToRefund: 30000}},
		{"nothing left to capture", "capture", map[string]any{"amount": 100}, 409, "", 0, "", payment.Amounts{}},
		{"partial refund", "refund", map[string]any{"amount": 5000}, 200, payment.OpSucceeded, 5000,
			payment.Captured, payment.Amounts{Authorized: 30000, Captured: 30000, Refunded: 5000, RemainingToRefund: 25000}},
		{"refund more than remains", "refund", map[string]any{"amount": 25001}, 400, "", 0, "", payment.Amounts{}},
		{"refund the rest", "refund", map[string]any{}, 200, payment.OpSucceeded, 0,
			payment.Refunded, payment.Amounts{Authorized: 30000, Captured: 30000, Refunded: 30000}},
		{"cancel a refunded payment", "cancel", nil, 409, "", 0, "", payment.Amounts{}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			e := e.in(t)
			resp, raw := e.do(e.apiRequest("POST", path+"/"+st.op, st.body))
			if resp.StatusCode != st.wantStatus {
				t.Fatalf("POST %s/%s = %d, want %d\n%s", path, st.op, resp.StatusCode, st.wantStatus, raw)
			}
			if st.wantOp == "" {
				var eb errorBody
				if err := json.Unmarshal(raw, &eb); err != nil || eb.Error.Status != st.wantStatus || eb.Error.Message == "" {
					t.Errorf("POST %s/%s = %s, want an error object with status %d and a message", path, st.op, raw, st.wantStatus)
				}
				return
			}
			var a opAnswer
			if err := json.Unmarshal(raw, &a); err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(a.Operation.Kind, " ", a.Operation.Status, " ", int64(a.Operation.Amount)); got != fmt.Sprint(st.op, " ", st.wantOp, " ", int64(st.wantAmount)) {
				t.Errorf("POST %s/%s: operation = %s, want %s %s %d", path, st.op, got, st.op, st.wantOp, st.wantAmount)
			}
			if a.Operation.RequestID == "" || a.Operation.IdempotencyKey == "" || a.Operation.ID == 0 {
				t.Errorf("POST %s/%s: operation = %+v, want an id, a request id and an idempotency key", path, st.op, a.Operation)
			}
			if a.Payment == nil {
				t.Fatalf("POST %s/%s: no payment in %s", path, st.op, raw)
			}
			if a.Payment.State != st.wantState {
				t.Errorf("POST %s/%s: payment state = %q, want %q", path, st.op, a.Payment.State, st.wantState)
			}
			if diff := cmp.Diff(st.wantAmounts, a.Payment.Amounts); diff != "" {
				t.Errorf("POST %s/%s: amounts mismatch (-want +got):\n%s", path, st.op, diff)
			}
		})
	}

	var got paymentJSON
	e.apiInto("GET", path, nil, http.StatusOK, &got)
	var ops []string
	for _, op := range got.Operations {
		ops = append(ops, fmt.Sprintf("%s %s %d", op.Kind, op.Status, op.Amount))
	}
	wantOps := []string{"capture succeeded 10000", "capture succeeded 0", "refund succeeded 5000", "refund succeeded 0"}
	if diff := cmp.Diff(wantOps, ops); diff != "" {
		t.Errorf("GET %s: operations mismatch (-want +got):\n%s", path, diff)
	}
	if got, want := len(e.simRequests(id, "capture")), 2; got != want {
		t.Errorf("captures the simulator got = %d, want %d", got, want)
	}
	if got, want := len(e.simRequests(id, "refund")), 2; got != want {
		t.Errorf("refunds the simulator got = %d, want %d", got, want)
	}
}

func TestAPICancel(t *testing.T) {
	tests := []struct {
		name       string
		approve    bool
		capture    vipps.Amount // before the cancel, when > 0
		body       any
		wantStatus int
		wantState  payment.State
	}{
		{"before approval", false, 0, nil, 200, payment.Cancelled},
		{"void a reservation", true, 0, map[string]any{"text": "Out of stock"}, 200, payment.Voided},
		{"after a partial capture", true, 5000, map[string]any{}, 409, payment.Reserved},
		{"release the rest", true, 5000, map[string]any{"releaseRemaining": true}, 200, payment.Captured},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			id := e.createPayment(20000, "Test purchase")
			path := "/api/payments/" + string(id)
			if tt.approve {
				e.approve(id)
			}
			if tt.capture > 0 {
				e.apiInto("POST", path+"/capture", map[string]any{"amount": tt.capture}, http.StatusOK, nil)
			}
			resp, raw := e.do(e.apiRequest("POST", path+"/cancel", tt.body))
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("POST %s/cancel = %d, want %d\n%s", path, resp.StatusCode, tt.wantStatus, raw)
			}
			var got paymentJSON
			e.apiInto("GET", path, nil, http.StatusOK, &got)
			if got.State != tt.wantState {
				t.Errorf("after cancel: state = %q, want %q", got.State, tt.wantState)
			}
		})
	}
}

func TestAPIIdempotency(t *testing.T) {
	e := newTestEnv(t)
	id := e.reserved(20000)
	capture := "/api/payments/" + string(id) + "/capture"

	send := func(e *testEnv, body any, header string) (*http.Response, []byte) {
		req := e.apiRequest("POST", capture, body)
		if header != "" {
			req.Header.Set("Idempotency-Key", header)
		}
		return e.do(req)
	}
	var first opAnswer
	resp, raw := send(e, map[string]any{"amount": 5000, "idempotencyKey": "k1"}, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s = %d, want 200\n%s", capture, resp.StatusCode, raw)
	}
	json.Unmarshal(raw, &first)

	tests := []struct {
		name       string
		body       any
		header     string
		wantStatus int
		wantSame   bool // the first operation comes back
		wantText   string
	}{
		{"same key, same body", map[string]any{"amount": 5000, "idempotencyKey": "k1"}, "", 200, true, ""},
		{"same key in the header", map[string]any{"amount": 5000}, "k1", 200, true, ""},
		{"same key in both", map[string]any{"amount": 5000, "idempotencyKey": "k1"}, "k1", 200, true, ""},
		{"same key, another amount", map[string]any{"amount": 6000, "idempotencyKey": "k1"}, "", 409, false, "idempotency key"},
		{"header and body differ", map[string]any{"amount": 5000, "idempotencyKey": "k1"}, "k2", 400, false, "Idempotency-Key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := e.in(t)
			resp, raw := send(e, tt.body, tt.header)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("POST %s = %d, want %d\n%s", capture, resp.StatusCode, tt.wantStatus, raw)
			}
			if tt.wantSame {
				var a opAnswer
				json.Unmarshal(raw, &a)
				if diff := cmp.Diff(first.Operation, a.Operation); diff != "" {
					t.Errorf("POST %s again: operation mismatch (-first +again):\n%s", capture, diff)
				}
			}
			if tt.wantText != "" && !strings.Contains(string(raw), tt.wantText) {
				t.Errorf("POST %s = %s, want a message about %q", capture, raw, tt.wantText)
			}
		})
	}
	if got, want := len(e.simRequests(id, "capture")), 1; got != want {
		t.Errorf("captures the simulator got = %d, want %d", got, want)
	}
	var p paymentJSON
	e.apiInto("GET", "/api/payments/"+string(id), nil, http.StatusOK, &p)
	if got, want := p.Amounts.Captured, vipps.Amount(5000); got != want {
		t.Errorf("captured = %d, want %d", got, want)
	}
}

// TestAPIOutcomeUnknown: when Vipps does not answer, the capture is 202
// and pending; the shop's retry with the same key sends it again with the
// same X-Request-Id, and it is captured once.
func TestAPIOutcomeUnknown(t *testing.T) {
	e := newTestEnv(t)
	id := e.reserved(20000)
	capture := "/api/payments/" + string(id) + "/capture"
	fid, err := e.sim.Sim.InjectFault(vippstest.Fault{Kind: vippstest.FaultDropAfterApply, Op: "capture", OrderID: id})
	if err != nil {
		t.Fatal(err)
	}
	body := map[string]any{"amount": 7000, "idempotencyKey": "parcel-1"}
	var a opAnswer
	e.apiInto("POST", capture, body, http.StatusAccepted, &a)
	if a.Operation.Status != payment.OpPending || a.Error != nil {
		t.Errorf("POST %s with Vipps not answering: operation = %+v, error = %+v; want pending, no error", capture, a.Operation, a.Error)
	}
	e.sim.Sim.RemoveFault(fid)

	var b opAnswer
	e.apiInto("POST", capture, body, http.StatusOK, &b)
	if b.Operation.Status != payment.OpSucceeded || b.Operation.RequestID != a.Operation.RequestID || b.Operation.ID != a.Operation.ID {
		t.Errorf("POST %s again = %+v, want the operation %d succeeded with X-Request-Id %s", capture, b.Operation, a.Operation.ID, a.Operation.RequestID)
	}
	if b.Payment == nil || b.Payment.Amounts.Captured != 7000 {
		t.Errorf("POST %s again: payment = %+v, want 7000 captured", capture, b.Payment)
	}
	sp, err := e.sim.Sim.Payment(id)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sp.Summary.CapturedAmount, vipps.Amount(7000); got != want {
		t.Errorf("the simulator's captured amount = %d, want %d (captured once)", got, want)
	}
}

// TestAPIVippsRefused: an operation Vipps refuses is 422 with Vipps'
// error and the operation marked failed.
func TestAPIVippsRefused(t *testing.T) {
	e := newTestEnv(t)
	id := e.reserved(20000)
	// Capture behind the service's back: it still thinks 20000 remain.
	if _, err := e.sim.Client.Capture(t.Context(), id, vipps.CaptureRequest{TransactionText: "elsewhere", RequestID: "outside-1"}); err != nil {
		t.Fatal(err)
	}
	capture := "/api/payments/" + string(id) + "/capture"
	var a opAnswer
	raw := e.apiInto("POST", capture, map[string]any{"amount": 1000}, http.StatusUnprocessableEntity, &a)
	if a.Operation.Status != payment.OpFailed || a.Operation.Error == nil {
		t.Fatalf("POST %s = %s, want a failed operation with its error", capture, raw)
	}
	if a.Error == nil || a.Error.Status != 422 || a.Error.Group == "" || a.Error.Code == "" || a.Error.Message == "" || a.Error.ContextID == "" {
		t.Errorf("POST %s: error = %+v, want status 422, Vipps' group, code, contextId and a message", capture, a.Error)
	}
	if a.Payment == nil || a.Payment.LastError == nil {
		t.Errorf("POST %s: payment = %+v, want its lastError set", capture, a.Payment)
	}
}

func TestAPICreateFails(t *testing.T) {
	t.Run("Vipps refuses", func(t *testing.T) {
		e := newTestEnv(t)
		// The orderId the service derives from the shopRef is taken at Vipps.
		taken, err := vipps.OrderIDFor("test", "B-7")
		if err != nil {
			t.Fatal(err)
		}
		req := vipps.InitiateRequest{
			MerchantInfo: vipps.MerchantInfo{CallbackPrefix: "https://shop.example/vipps", FallBack: "https://shop.example/back", PaymentType: vipps.PaymentTypeRegular},
			Transaction:  vipps.InitiateTransaction{Amount: 1000, OrderID: taken, TransactionText: "elsewhere"},
		}
		if _, err := e.sim.Client.Initiate(t.Context(), req); err != nil {
			t.Fatal(err)
		}
		var eb errorBody
		e.apiInto("POST", "/api/payments", map[string]any{"amount": 1000, "text": "Socks", "shopRef": "B-7"}, http.StatusUnprocessableEntity, &eb)
		if eb.Error.Group != "Merchant" || eb.Error.Code != "34" || eb.Error.Message == "" {
			t.Errorf("POST /api/payments with a taken orderId: error = %+v, want Merchant 34 with a message", eb.Error)
		}
		if eb.Payment == nil || eb.Payment.State != payment.Failed || eb.Payment.OrderID != taken {
			t.Errorf("POST /api/payments with a taken orderId: payment = %+v, want %s failed", eb.Payment, taken)
		}
	})
	t.Run("Vipps does not answer", func(t *testing.T) {
		e := newTestEnv(t)
		if _, err := e.sim.Sim.InjectFault(vippstest.Fault{Kind: vippstest.FaultServerError, Op: "initiate"}); err != nil {
			t.Fatal(err)
		}
		var eb errorBody
		raw := e.apiInto("POST", "/api/payments", map[string]any{"amount": 1000, "text": "Socks"}, http.StatusGatewayTimeout, &eb)
		if eb.Payment == nil || eb.Payment.State != payment.Created {
			t.Errorf("POST /api/payments with Vipps failing = %s, want the payment, still created", raw)
		}
		if strings.Contains(eb.Error.Message, "127.0.0.1") {
			t.Errorf("POST /api/payments with Vipps failing: message %q shows internals", eb.Error.Message)
		}
	})
}

func TestAPIAuth(t *testing.T) {
	e := newTestEnv(t)
	tests := []struct {
		name          string
		authorization string
		wantStatus    int
	}{
		{"no header", "", 401},
		{"wrong key", "Bearer not-the-key-0123456789", 401},
		{"a prefix of the key", "Bearer " + testAPIKey[:10], 401},
		{"the key and more", "Bearer " + testAPIKey + "x", 401},
		{"basic auth", "Basic " + testAPIKey, 401},
		{"key without scheme", testAPIKey, 401},
		{"empty bearer", "Bearer ", 401},
		{"right key", "Bearer " + testAPIKey, 404},
		{"scheme in lower case", "bearer " + testAPIKey, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := e.in(t)
			req := e.newRequest("GET", "/api/payments/test-unknown", nil)
			if tt.authorization != "" {
				req.Header.Set("Authorization", tt.authorization)
			}
			resp, raw := e.do(req)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("GET with Authorization %q = %d, want %d\n%s", tt.authorization, resp.StatusCode, tt.wantStatus, raw)
			}
			if tt.wantStatus != 401 {
				return
			}
			if got := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer ") {
				t.Errorf("GET with Authorization %q: WWW-Authenticate = %q, want a Bearer challenge", tt.authorization, got)
			}
			var eb errorBody
			if err := json.Unmarshal(raw, &eb); err != nil || eb.Error.Status != 401 || !strings.Contains(eb.Error.Message, "Bearer") {
				t.Errorf("GET with Authorization %q = %s, want a JSON error saying how to send the key", tt.authorization, raw)
			}
		})
	}
	if strings.Contains(e.logs.String(), testAPIKey) {
		t.Errorf("the log shows the API key:\n%s", e.logs)
	}
}

func TestAPIValidation(t *testing.T) {
	e := newTestEnv(t)
	id := e.reserved(20000)
	big := `{"text": "` + strings.Repeat("x", 70<<10) + `", "amount": 1000}`
	tests := []struct {
		name       string
		method     string
		path       string
		body       any
		wantStatus int
		wantText   []string // in the message
	}{
		{"unknown field", "POST", "/api/payments", `{"amount": 1000, "text": "Socks", "amout": 1}`, 400, []string{`unknown field "amout"`}},
		{"amount as a string", "POST", "/api/payments", `{"amount": "1000", "text": "Socks"}`, 400, []string{`"amount"`, "integer amount in øre"}},
		{"amount in kroner", "POST", "/api/payments", `{"amount": 10.5, "text": "Socks"}`, 400, []string{`"amount"`, "10.5"}},
		{"express as a string", "POST", "/api/payments", `{"amount": 1000, "text": "Socks", "express": "yes"}`, 400, []string{`"express"`, "true or false"}},
		{"nested wrong type", "POST", "/api/payments", `{"amount": 1000, "text": "Socks", "receipt": {"orderLines": [{"name": 5}]}}`, 400, []string{`"receipt.orderLines.name"`, "a string"}},
		{"nested unknown field", "POST", "/api/payments", `{"amount": 1000, "text": "Socks", "receipt": {"lines": []}}`, 400, []string{`unknown field "lines"`}},
		{"trailing data", "POST", "/api/payments", `{"amount": 1000, "text": "Socks"} {}`, 400, []string{"after the JSON object"}},
		{"not an object", "POST", "/api/payments", `[1000]`, 400, []string{"JSON object"}},
		{"empty body", "POST", "/api/payments", nil, 400, []string{"empty"}},
		{"broken JSON", "POST", "/api/payments", `{"amount": 1000,`, 400, []string{"JSON"}},
		{"too small", "POST", "/api/payments", map[string]any{"amount": 99, "text": "Socks"}, 400, []string{"amount must be at least 100"}},
		{"no text", "POST", "/api/payments", map[string]any{"amount": 1000}, 400, []string{"text is required"}},
		{"bad phone", "POST", "/api/payments", map[string]any{"amount": 1000, "text": "Socks", "phone": "+4712345678"}, 400, []string{"phone"}},
		{"relative returnUrl", "POST", "/api/payments", map[string]any{"amount": 1000, "text": "Socks", "returnUrl": "/back"}, 400, []string{"returnUrl"}},
		{"body too large", "POST", "/api/payments", big, 413, []string{"64 KiB"}},
		{"negative capture", "POST", "/api/payments/" + string(id) + "/capture", map[string]any{"amount": -1}, 400, []string{"negative"}},
		{"capture too much", "POST", "/api/payments/" + string(id) + "/capture", map[string]any{"amount": 20001}, 400, []string{"20000"}},
		{"capture amount as text", "POST", "/api/payments/" + string(id) + "/capture", `{"amount": "all"}`, 400, []string{`"amount"`}},
		{"cancel with an amount", "POST", "/api/payments/" + string(id) + "/cancel", map[string]any{"amount": 100}, 400, []string{`unknown field "amount"`}},
		{"refund with releaseRemaining", "POST", "/api/payments/" + string(id) + "/refund", map[string]any{"releaseRemaining": true}, 400, []string{`unknown field "releaseRemaining"`}},
		{"capture body too large", "POST", "/api/payments/" + string(id) + "/capture", big, 413, []string{"64 KiB"}},
		{"capture text too long", "POST", "/api/payments/" + string(id) + "/capture", map[string]any{"text": strings.Repeat("ø", 101)}, 400, []string{"101 characters", "100"}},
		{"refund text too long", "POST", "/api/payments/" + string(id) + "/refund", map[string]any{"text": strings.Repeat("x", 101)}, 400, []string{"101 characters"}},
		{"cancel text too long", "POST", "/api/payments/" + string(id) + "/cancel", map[string]any{"text": strings.Repeat("x", 101)}, 400, []string{"101 characters"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := e.in(t)
			var eb errorBody
			raw := e.apiInto(tt.method, tt.path, tt.body, tt.wantStatus, &eb)
			if eb.Error.Status != tt.wantStatus {
				t.Errorf("%s %s: error.status = %d, want %d", tt.method, tt.path, eb.Error.Status, tt.wantStatus)
			}
			for _, s := range tt.wantText {
				if !strings.Contains(eb.Error.Message, s) {
					t.Errorf("%s %s = %s, want a message containing %q", tt.method, tt.path, raw, s)
				}
			}
		})
	}
	var p paymentJSON
	e.apiInto("GET", "/api/payments/"+string(id), nil, http.StatusOK, &p)
	if len(p.Operations) != 0 || len(e.simRequests(id, "capture")) != 0 {
		t.Errorf("after refused requests: operations = %v, want none stored or sent", p.Operations)
	}
}

func TestAPINotFound(t *testing.T) {
	e := newTestEnv(t)
	tests := []struct {
		name       string
		method     string
		path       string
		wantStatus int
		wantAllow  string
		wantRoutes bool
	}{
		{"unknown payment", "GET", "/api/payments/test-nope", 404, "", false},
		{"capture of an unknown payment", "POST", "/api/payments/test-nope/capture", 404, "", false},
		{"check of an unknown payment", "POST", "/api/payments/test-nope/check", 404, "", false},
		{"not an orderId", "GET", "/api/payments/a_b", 404, "", false},
		{"unknown route", "GET", "/api/orders", 404, "", true},
		{"unknown sub-route", "POST", "/api/payments/test-x/approve", 404, "", true},
		{"wrong method", "DELETE", "/api/payments/test-x", 405, "GET, HEAD", false},
		{"wrong method on a list", "GET", "/api/payments", 405, "POST", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := e.in(t)
			resp, raw := e.do(e.apiRequest(tt.method, tt.path, nil))
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("%s %s = %d, want %d\n%s", tt.method, tt.path, resp.StatusCode, tt.wantStatus, raw)
			}
			if got := resp.Header.Get("Allow"); got != tt.wantAllow {
				t.Errorf("%s %s: Allow = %q, want %q", tt.method, tt.path, got, tt.wantAllow)
			}
			var eb errorBody
			if err := json.Unmarshal(raw, &eb); err != nil || eb.Error.Status != tt.wantStatus || eb.Error.Message == "" {
				t.Errorf("%s %s = %s, want a JSON error with status %d", tt.method, tt.path, raw, tt.wantStatus)
			}
			if tt.wantRoutes {
				if diff := cmp.Diff(apiPatterns(), eb.Routes); diff != "" {
					t.Errorf("%s %s: routes mismatch (-want +got):\n%s", tt.method, tt.path, diff)
				}
			}
		})
	}
}

// TestAPIRoutesListed checks that every route apiNotFound lists is served
// by a handler of its own.
func TestAPIRoutesListed(t *testing.T) {
	e := newTestEnv(t)
	for _, rt := range apiPatterns() {
		method, path, _ := strings.Cut(rt, " ")
		path = strings.ReplaceAll(path, "{orderId}", "test-nope")
		t.Run(rt, func(t *testing.T) {
			e := e.in(t)
			_, m := e.api(method, path, map[string]any{})
			if _, ok := m["routes"]; ok {
				t.Errorf("%s %s = %v, want a route's own answer, not apiNotFound's", method, path, m)
			}
		})
	}
}

// TestAPIReceipt sets a receipt step by step: refused ones change
// nothing; a good one is stored and queued with the first capture; after
// that Vipps' one receipt is taken.
func TestAPIReceipt(t *testing.T) {
	e := newTestEnv(t)
	id := e.reserved(20000)
	path := "/api/payments/" + string(id)
	line := map[string]any{"name": "Mug", "id": "mug", "totalAmount": 20000, "totalAmountExcludingTax": 16000, "totalTaxAmount": 4000, "taxPercentage": 25}
	receipt := map[string]any{"orderLines": []any{line}, "bottomLine": map[string]any{"currency": "NOK"}}

	steps := []struct {
		name       string
		path       string
		body       any
		capture    bool // capture everything after the step
		wantStatus int
		wantText   string
	}{
		{"no order lines", path, map[string]any{"orderLines": []any{}, "bottomLine": map[string]any{}}, false, 400, "at least one order line"},
		{"unknown field", path, map[string]any{"orderLines": []any{line}, "total": 1}, false, 400, `unknown field "total"`},
		{"empty body", path, nil, false, 400, "empty"},
		{"unknown payment", "/api/payments/test-nope", receipt, false, 404, "no payment with orderId test-nope"},
		{"set", path, receipt, false, 200, ""},
		{"set again before capture", path, receipt, true, 200, ""},
		{"after it was queued", path, receipt, false, 409, "one receipt"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			e := e.in(t)
			resp, raw := e.do(e.apiRequest("PUT", st.path+"/receipt", st.body))
			if resp.StatusCode != st.wantStatus {
				t.Fatalf("PUT %s/receipt = %d, want %d\n%s", st.path, resp.StatusCode, st.wantStatus, raw)
			}
			var eb errorBody
			json.Unmarshal(raw, &eb)
			if st.wantText != "" && !strings.Contains(eb.Error.Message, st.wantText) {
				t.Errorf("PUT %s/receipt = %s, want a message containing %q", st.path, raw, st.wantText)
			}
			if st.wantStatus == 200 {
				var p paymentJSON
				json.Unmarshal(raw, &p)
				want := &vipps.Receipt{
					OrderLines: []vipps.OrderLine{{Name: "Mug", ID: "mug", TotalAmount: 20000, TotalAmountExcludingTax: 16000, TotalTaxAmount: 4000, TaxPercentage: 25}},
					BottomLine: vipps.BottomLine{Currency: "NOK"},
				}
				if diff := cmp.Diff(want, p.Receipt); diff != "" {
					t.Errorf("PUT %s/receipt: receipt mismatch (-want +got):\n%s", st.path, diff)
				}
				if !slices.Contains(eventTypes(&p), payment.EventReceiptAdded) {
					t.Errorf("PUT %s/receipt: events = %v, want %s", st.path, eventTypes(&p), payment.EventReceiptAdded)
				}
			}
			if st.capture {
				e.apiInto("POST", path+"/capture", nil, http.StatusOK, nil)
			}
		})
	}
	tasks, err := e.store.Tasks(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []payment.TaskKind
	for _, task := range tasks {
		kinds = append(kinds, task.Kind)
	}
	if diff := cmp.Diff([]payment.TaskKind{payment.TaskReceipt}, kinds); diff != "" {
		t.Errorf("tasks after the capture mismatch (-want +got):\n%s", diff)
	}
}

// TestAPIVippsLog: ?vipps=1 adds Vipps' own log, newest first.
func TestAPIVippsLog(t *testing.T) {
	e := newTestEnv(t)
	id := e.reserved(20000)
	path := "/api/payments/" + string(id)
	tests := []struct {
		query      string
		wantStatus int
		wantLog    []vipps.Operation
	}{
		{"", 200, nil},
		{"?vipps=0", 200, nil},
		{"?vipps=1", 200, []vipps.Operation{vipps.OperationReserve, vipps.OperationInitiate}},
		{"?vipps=true", 200, []vipps.Operation{vipps.OperationReserve, vipps.OperationInitiate}},
		{"?vipps=yes", 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			e := e.in(t)
			resp, m := e.api("GET", path+tt.query, nil)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("GET %s%s = %d, want %d\n%v", path, tt.query, resp.StatusCode, tt.wantStatus, m)
			}
			var got []vipps.Operation
			if l, ok := m["vippsLog"].([]any); ok {
				for _, x := range l {
					got = append(got, vipps.Operation(x.(map[string]any)["operation"].(string)))
				}
			} else if _, ok := m["vippsLog"]; ok {
				t.Errorf("GET %s%s: vippsLog = %v, want a list", path, tt.query, m["vippsLog"])
			}
			if diff := cmp.Diff(tt.wantLog, got); diff != "" {
				t.Errorf("GET %s%s: vippsLog operations mismatch (-want +got):\n%s", path, tt.query, diff)
			}
		})
	}
}

// TestAPICheck: a callback the service never got is found by check.
func TestAPICheck(t *testing.T) {
	e := newTestEnv(t)
	id := e.createPayment(1000, "Socks")
	if _, err := e.sim.Sim.InjectCallbackFault(vippstest.CallbackFault{Kind: vippstest.CallbackDrop, OrderID: id}); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.Sim.Approve(id, ""); err != nil {
		t.Fatal(err)
	}
	e.sim.Sim.WaitCallbacks()
	var before paymentJSON
	e.apiInto("GET", "/api/payments/"+string(id), nil, http.StatusOK, &before)
	if before.State != payment.Initiated {
		t.Fatalf("GET without the callback: state = %q, want %q", before.State, payment.Initiated)
	}
	var got paymentJSON
	e.apiInto("POST", "/api/payments/"+string(id)+"/check", nil, http.StatusOK, &got)
	if got.State != payment.Reserved {
		t.Errorf("POST check: state = %q, want %q", got.State, payment.Reserved)
	}
	if n := len(e.simRequests(id, "details")); n == 0 {
		t.Errorf("POST check: the simulator got no details request")
	}

	// Vipps fails, twice (the same error is stored once): each check says
	// so, with Vipps' status, instead of answering with the stored state.
	fid, err := e.sim.Sim.InjectFault(vippstest.Fault{Kind: vippstest.FaultServerError, Op: "details"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.sim.Sim.RemoveFault(fid)
	for i := range 2 {
		resp, body := e.api("POST", "/api/payments/"+string(id)+"/check", nil)
		apiErr, _ := body["error"].(map[string]any)
		if resp.StatusCode != http.StatusBadGateway || apiErr == nil || apiErr["message"] == "" {
			t.Errorf("POST check #%d while Vipps fails = %d %v, want 502 with an error", i+1, resp.StatusCode, body)
		}
	}
}

// TestAPIInternalError: a failure inside the service is 500 with a request
// id and no details; the log has them.
func TestAPIInternalError(t *testing.T) {
	e := newTestEnv(t)
	id := e.createPayment(1000, "Socks")
	e.store.Close() // every query fails from now on

	resp, raw := e.do(e.apiRequest("GET", "/api/payments/"+string(id), nil))
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("GET with a closed database = %d, want 500\n%s", resp.StatusCode, raw)
	}
	var eb errorBody
	if err := json.Unmarshal(raw, &eb); err != nil {
		t.Fatal(err)
	}
	rid := resp.Header.Get("X-Request-Id")
	if rid == "" || eb.Error.RequestID != rid {
		t.Errorf("GET with a closed database: requestId = %q, X-Request-Id = %q, want the same, not empty", eb.Error.RequestID, rid)
	}
	if want := "internal error; see the service log (request id " + rid + ")"; eb.Error.Message != want {
		t.Errorf("GET with a closed database: message = %q, want %q", eb.Error.Message, want)
	}
	logs := e.logs.String()
	var line string
	for l := range strings.Lines(logs) {
		if strings.Contains(l, "api request failed") {
			line = l
		}
	}
	for _, want := range []string{"level=ERROR", "order_id=" + string(id), "request_id=" + rid, "err="} {
		if !strings.Contains(line, want) {
			t.Errorf("log line of the failure = %q, want it to contain %q", line, want)
		}
	}
}

// TestREADMEListsAPIRoutes holds the README's table of the shop's API to
// apiRoutes, the one list the server serves: a route added or renamed in
// code must be documented, and the README may not promise a route that
// does not exist.
func TestREADMEListsAPIRoutes(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "### The shop's API\n")
	if !ok {
		t.Fatal(`README.md has no "### The shop's API" section`)
	}
	section, _, _ = strings.Cut(section, "\n### ")
	var documented []string
	for line := range strings.Lines(section) {
		if pattern, ok := strings.CutPrefix(line, "| `"); ok {
			pattern, _, _ = strings.Cut(pattern, "`")
			documented = append(documented, pattern)
		}
	}
	if diff := cmp.Diff(apiPatterns(), documented); diff != "" {
		t.Errorf("README.md's API table differs from apiRoutes (-code +README):\n%s", diff)
	}
}
