package callback

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// summary is what a merchant acts on in a callback.
type summary struct {
	MSN       vipps.MSN
	Status    vipps.CallbackStatus
	Amount    vipps.Amount
	Time      string
	Express   bool
	Approved  bool
	Failed    bool
	PostCode  string
	Country   string
	UserID    string
	ErrorCode string
}

func summarize(cb *vipps.TransactionCallback) summary {
	s := summary{
		MSN:      cb.MerchantSerialNumber,
		Status:   cb.TransactionInfo.Status,
		Amount:   cb.TransactionInfo.Amount,
		Time:     cb.TransactionInfo.TimeStamp.UTC().Format(time.RFC3339Nano),
		Express:  cb.Express(),
		Approved: cb.TransactionInfo.Status.Approved(),
		Failed:   cb.TransactionInfo.Status.Failed(),
	}
	if cb.ShippingDetails != nil {
		s.PostCode, s.Country = cb.ShippingDetails.Address.PostCode, cb.ShippingDetails.Address.Country
	}
	if cb.UserDetails != nil {
		s.UserID = cb.UserDetails.UserID
	}
	if cb.ErrorInfo != nil {
		s.ErrorCode = string(cb.ErrorInfo.Group) + " " + string(cb.ErrorInfo.Code)
	}
	return s
}

// TestTransactionCallbackGolden sends every example callback of testdata (both
// shapes, every status) through a real HTTP round trip and checks what
// OnTransaction gets.
func TestTransactionCallbackGolden(t *testing.T) {
	const at = "2018-12-12T11:18:38.246Z"
	regular := func(status vipps.CallbackStatus, time string, approved bool) summary {
		return summary{MSN: "123456", Status: status, Amount: 20000, Time: time, Approved: approved, Failed: !approved}
	}
	express := func(status vipps.CallbackStatus, approved bool) summary {
		return summary{MSN: "123456", Status: status, Amount: 20000, Time: at, Express: true, Approved: approved, Failed: !approved,
			PostCode: "0191", Country: "NO", UserID: "1234567"}
	}
	withError := func(s summary) summary { s.ErrorCode = "Payment 44"; return s }
	wants := map[string]summary{
		"transaction-regular-reserved.json":       regular(vipps.CallbackReserved, at, true),
		"transaction-regular-sale.json":           regular(vipps.CallbackSale, at, true),
		"transaction-regular-cancelled.json":      regular(vipps.CallbackCancelled, "2018-12-12T11:19:02.114Z", false),
		"transaction-regular-rejected.json":       regular(vipps.CallbackRejected, "2018-12-12T11:28:38.246Z", false),
		"transaction-regular-reserve-failed.json": withError(regular(vipps.CallbackReserveFailed, at, false)),
		"transaction-regular-sale-failed.json":    withError(regular(vipps.CallbackSaleFailed, at, false)),
		"transaction-regular-lenient.json":        {MSN: "12345", Status: vipps.CallbackReserved, Amount: 20000, Time: at, Approved: true},
		"transaction-express-reserve.json":        express(vipps.CallbackReserve, true),
		"transaction-express-reserve-2022.json": {MSN: "123456", Status: vipps.CallbackReserve, Amount: 20000, Time: at, Express: true, Approved: true,
			PostCode: "0191", Country: "Norway", UserID: "1234567"},
		"transaction-express-sale.json":           express(vipps.CallbackSale, true),
		"transaction-express-cancelled.json":      express(vipps.CallbackCancelled, false),
		"transaction-express-rejected.json":       express(vipps.CallbackRejected, false),
		"transaction-express-reserve-failed.json": withError(express(vipps.CallbackReserveFailed, false)),
		"transaction-express-sale-failed.json":    withError(express(vipps.CallbackSaleFailed, false)),
	}
	files, err := filepath.Glob("testdata/transaction-*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(wants) {
		t.Errorf("%d transaction examples in testdata, %d in the table", len(files), len(wants))
	}

	m := newMerchant(t)
	_, srv := start(t, m.config())
	url := srv.URL + "/vipps/v2/payments/" + string(testOrder)
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			want, ok := wants[name]
			if !ok {
				t.Fatalf("no want for %s", name)
			}
			got := send(t, "POST", url, m.token(testOrder), testdata(t, name))
			if got.status != 200 || got.body != "" {
				t.Fatalf("POST %s = %d %q, want 200 and no body", name, got.status, got.body)
			}
			cb := receive(t, m.got)
			if diff := cmp.Diff(want, summarize(cb)); diff != "" {
				t.Errorf("callback mismatch (-want +got):\n%s", diff)
			}
			checkGolden(t, name, cb)
		})
	}
}

// checkGolden compares v, encoded, with testdata/golden/name.
func checkGolden(t *testing.T, name string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	b = append(b, '\n')
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(b)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// TestTransactionCallbackShapes pins the full decoded value of the guide's
// examples in both shapes and the failed one with errorInfo.
func TestTransactionCallbackShapes(t *testing.T) {
	at := func(s string) vipps.Time {
		tm, err := vipps.ParseTime(s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	info := vipps.CallbackTransactionInfo{Amount: 20000, Status: vipps.CallbackReserve, TimeStamp: at("2018-12-12T11:18:38.246Z"), TransactionID: "5001420062"}
	tests := []struct {
		file string
		want vipps.TransactionCallback
	}{
		{"transaction-regular-reserved.json", vipps.TransactionCallback{
			MerchantSerialNumber: "123456", OrderID: testOrder,
			TransactionInfo: vipps.CallbackTransactionInfo{Amount: 20000, Status: vipps.CallbackReserved, TimeStamp: at("2018-12-12T11:18:38.246Z"), TransactionID: "5001420062"},
		}},
		{"transaction-express-reserve.json", vipps.TransactionCallback{
			MerchantSerialNumber: "123456", OrderID: testOrder, TransactionInfo: info,
			ShippingDetails: &vipps.ShippingDetails{
				Address:      vipps.Address{AddressLine1: "Dronning Eufemias gate 42", AddressLine2: "Att: Rune Garborg", City: "OSLO", Country: "NO", PostCode: "0191"},
				ShippingCost: 99, ShippingMethod: "By cannon", ShippingMethodID: "53DBB6BA-89DB-4997-B444-5E9F1681E3D3",
			},
			UserDetails: &vipps.UserDetails{UserID: "1234567", FirstName: "Ada", LastName: "Lovelace", Email: "user@example.com", MobileNumber: "12345678"},
		}},
		{"transaction-express-reserve-2022.json", vipps.TransactionCallback{
			MerchantSerialNumber: "123456", OrderID: testOrder, TransactionInfo: info,
			ShippingDetails: &vipps.ShippingDetails{
				Address:      vipps.Address{AddressLine1: "Dronning Eufemias gate 42", AddressLine2: "Att: Rune Garborg", City: "Oslo", Country: "Norway", PostCode: "0191"},
				ShippingCost: 109.99, ShippingMethod: "By cannon",
			},
			UserDetails: &vipps.UserDetails{UserID: "1234567", FirstName: "Ada", LastName: "Lovelace", Email: "user@example.com", MobileNumber: "12345678",
				BankIDVerified: "Y", DateOfBirth: "12-3-1988", SSN: "12345678901"},
		}},
		{"transaction-regular-reserve-failed.json", vipps.TransactionCallback{
			MerchantSerialNumber: "123456", OrderID: testOrder,
			TransactionInfo: vipps.CallbackTransactionInfo{Amount: 20000, Status: vipps.CallbackReserveFailed, TimeStamp: at("2018-12-12T11:18:38.246Z"), TransactionID: "5001420062"},
			ErrorInfo:       &vipps.ErrorDetail{Group: vipps.GroupPayment, Code: "44", Message: "Refused by issuer because of expired card", ContextID: "f70b8bf7-c843-4bea-95d9-94725b19895f"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := decodeTransactionCallback([]byte(testdata(t, tt.file)))
			if err != nil {
				t.Fatalf("decodeTransactionCallback() = %v", err)
			}
			if diff := cmp.Diff(&tt.want, got); diff != "" {
				t.Errorf("decodeTransactionCallback() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTransactionAuth(t *testing.T) {
	const other vipps.OrderID = "acme-shop-123-order456def"
	m := newMerchant(t, other)
	_, srv := start(t, m.config())
	tok := m.token(testOrder)
	tests := []struct {
		name    string
		order   vipps.OrderID
		auth    string
		want    int
		lookups int32
	}{
		{"raw token", testOrder, tok, 200, 1},
		{"Bearer token", testOrder, "Bearer " + tok, 200, 1},
		{"bearer token", testOrder, "bearer " + tok, 200, 1},
		{"BEARER token, extra spaces", testOrder, "BEARER   " + tok, 200, 1},
		{"missing", testOrder, "", 401, 0},
		{"wrong token", testOrder, "ae0cb90d91b4a84a", 401, 1},
		{"Bearer wrong token", testOrder, "Bearer ae0cb90d91b4a84a", 401, 1},
		{"token of another payment", testOrder, m.token(other), 401, 1},
		{"token with a character more", testOrder, tok + "A", 401, 1},
		{"token with a character less", testOrder, tok[:len(tok)-1], 401, 1},
		{"token in other case", testOrder, strings.ToUpper(tok), 401, 1},
		{"Basic scheme", testOrder, "Basic " + tok, 401, 1},
		{"Bearer alone", testOrder, "Bearer", 401, 1},
		{"unknown orderId", "acme-shop-123-unknown", tok, 401, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, calls := m.lookups.Load(), m.calls.Load()
			body := strings.Replace(testdata(t, "transaction-regular-reserved.json"), string(testOrder), string(tt.order), 1)
			got := send(t, "POST", srv.URL+"/vipps/v2/payments/"+string(tt.order), tt.auth, body)
			if got.status != tt.want {
				t.Fatalf("POST with %s = %d %q, want %d", tt.name, got.status, got.body, tt.want)
			}
			if n := m.lookups.Load() - before; n != tt.lookups {
				t.Errorf("Lookup called %d times, want %d", n, tt.lookups)
			}
			if tt.want == 200 {
				if cb := receive(t, m.got); cb.OrderID != tt.order {
					t.Errorf("OnTransaction got %q, want %q", cb.OrderID, tt.order)
				}
				return
			}
			// Every refusal looks the same, whether the orderId exists or not.
			if got.body != "unauthorized\n" || got.header.Get("WWW-Authenticate") == "" {
				t.Errorf("refusal = %q, WWW-Authenticate %q; want \"unauthorized\\n\" and a challenge", got.body, got.header.Get("WWW-Authenticate"))
			}
			if n := m.calls.Load() - calls; n != 0 {
				t.Errorf("merchant funcs called %d times after a 401, want 0", n)
			}
		})
	}
}

func TestTransactionLookupFailures(t *testing.T) {
	tok, hash, err := NewAuthToken()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		lookup func(context.Context, vipps.OrderID) (string, error)
		want   response
	}{
		{"database down", func(context.Context, vipps.OrderID) (string, error) { return "", errors.New("database down") }, response{status: 500, body: "internal error\n"}},
		{"no hash stored", func(context.Context, vipps.OrderID) (string, error) { return "", nil }, response{status: 401, body: "unauthorized\n"}},
		{"wrapped ErrUnknownOrder", func(_ context.Context, id vipps.OrderID) (string, error) {
			return "", errors.Join(errors.New("no row"), ErrUnknownOrder)
		}, response{status: 401, body: "unauthorized\n"}},
		{"hash not hex", func(context.Context, vipps.OrderID) (string, error) { return "not-a-hash", nil }, response{status: 500, body: "internal error\n"}},
		{"hash is the token", func(context.Context, vipps.OrderID) (string, error) { return tok.Reveal(), nil }, response{status: 500, body: "internal error\n"}},
		{"hash in upper case", func(context.Context, vipps.OrderID) (string, error) { return strings.ToUpper(hash), nil }, response{status: 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMerchant(t)
			cfg := m.config()
			cfg.Lookup = tt.lookup
			_, srv := start(t, cfg)
			got := send(t, "POST", srv.URL+"/vipps/v2/payments/"+string(testOrder), tok.Reveal(), testdata(t, "transaction-regular-reserved.json"))
			if got.status != tt.want.status || got.body != tt.want.body {
				t.Errorf("POST = %d %q, want %d %q", got.status, got.body, tt.want.status, tt.want.body)
			}
			if strings.Contains(m.logs.String(), tok.Reveal()) {
				t.Errorf("the token is in the log:\n%s", m.logs)
			}
		})
	}
}

func TestTransactionUndocumentedStatus(t *testing.T) {
	m := newMerchant(t)
	_, srv := start(t, m.config())
	body := strings.Replace(testdata(t, "transaction-regular-reserved.json"), `"RESERVED"`, `"AUTHORIZED"`, 1)
	if got := send(t, "POST", srv.URL+"/vipps/v2/payments/"+string(testOrder), m.token(testOrder), body); got.status != 200 {
		t.Fatalf("POST = %d %q, want 200", got.status, got.body)
	}
	if cb := receive(t, m.got); cb.TransactionInfo.Status != "AUTHORIZED" || cb.TransactionInfo.Status.Known() {
		t.Errorf("status = %q (known %v), want AUTHORIZED, not known", cb.TransactionInfo.Status, cb.TransactionInfo.Status.Known())
	}
	if !strings.Contains(m.logs.String(), "undocumented status") {
		t.Errorf("no warning about the status in the log:\n%s", m.logs)
	}
}

// TestTransactionAsync checks that Vipps is answered before OnTransaction
// runs, that the context of OnTransaction outlives the request, and that a
// full queue is answered 503.
func TestTransactionAsync(t *testing.T) {
	m := newMerchant(t, "order-2", "order-3")
	started := make(chan context.Context, 8)
	release := make(chan struct{})
	cfg := m.config()
	cfg.Workers, cfg.QueueSize, cfg.QueueWait = 1, 1, time.Millisecond
	cfg.TransactionTimeout = time.Hour
	cfg.OnTransaction = func(ctx context.Context, cb *vipps.TransactionCallback) error {
		started <- ctx
		<-release
		m.got <- cb
		return nil
	}
	_, srv := start(t, cfg)
	post := func(id vipps.OrderID) response {
		body := strings.Replace(testdata(t, "transaction-regular-reserved.json"), string(testOrder), string(id), 1)
		return send(t, "POST", srv.URL+"/vipps/v2/payments/"+string(id), m.token(id), body)
	}

	if got := post(testOrder); got.status != 200 {
		t.Fatalf("first POST = %d %q, want 200", got.status, got.body)
	}
	ctx := receive(t, started) // answered, and the merchant is still busy
	if err := ctx.Err(); err != nil {
		t.Errorf("OnTransaction context ended with the request: %v", err)
	}
	if d, ok := ctx.Deadline(); !ok || time.Until(d) < 59*time.Minute {
		t.Errorf("OnTransaction deadline = %v, %v; want about TransactionTimeout from now", d, ok)
	}
	if got := post("order-2"); got.status != 200 {
		t.Fatalf("second POST = %d %q, want 200 (queued)", got.status, got.body)
	}
	if got := post("order-3"); got.status != 503 || !strings.Contains(got.body, "queue full") {
		t.Fatalf("third POST = %d %q, want 503 queue full", got.status, got.body)
	}
	close(release)
	var ids []vipps.OrderID
	for range 2 {
		ids = append(ids, receive(t, m.got).OrderID)
	}
	if diff := cmp.Diff([]vipps.OrderID{testOrder, "order-2"}, ids); diff != "" {
		t.Errorf("handled callbacks mismatch (-want +got):\n%s", diff)
	}
}

func TestShutdownDrains(t *testing.T) {
	ids := []vipps.OrderID{testOrder, "order-2", "order-3", "order-4"}
	m := newMerchant(t, ids[1:]...)
	release := make(chan struct{})
	cfg := m.config()
	cfg.Workers = 2
	cfg.OnTransaction = func(_ context.Context, cb *vipps.TransactionCallback) error {
		<-release
		m.got <- cb
		return nil
	}
	h, srv := start(t, cfg)
	url := func(id vipps.OrderID) string { return srv.URL + "/vipps/v2/payments/" + string(id) }
	body := func(id vipps.OrderID) string {
		return strings.Replace(testdata(t, "transaction-regular-reserved.json"), string(testOrder), string(id), 1)
	}
	for _, id := range ids {
		if got := send(t, "POST", url(id), m.token(id), body(id)); got.status != 200 {
			t.Fatalf("POST %s = %d %q, want 200", id, got.status, got.body)
		}
	}
	done := make(chan error, 1)
	go func() { done <- h.Shutdown(context.Background()) }()
	close(release)
	if err := receive(t, done); err != nil {
		t.Fatalf("Shutdown() = %v, want nil", err)
	}
	if n := len(m.got); n != len(ids) {
		t.Fatalf("%d callbacks handled before Shutdown returned, want %d", n, len(ids))
	}
	if got := send(t, "POST", url(testOrder), m.token(testOrder), body(testOrder)); got.status != 503 || !strings.Contains(got.body, "shutting down") {
		t.Errorf("POST after Shutdown = %d %q, want 503 shutting down", got.status, got.body)
	}
	if err := h.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown() = %v, want nil", err)
	}
}

func TestShutdownDeadline(t *testing.T) {
	m := newMerchant(t, "order-2")
	started := make(chan struct{}, 1)
	cfg := m.config()
	cfg.Workers = 1
	cfg.OnTransaction = func(ctx context.Context, cb *vipps.TransactionCallback) error {
		m.calls.Add(1)
		started <- struct{}{}
		<-ctx.Done() // a slow merchant that honours its context
		return ctx.Err()
	}
	h, srv := start(t, cfg)
	for _, id := range []vipps.OrderID{testOrder, "order-2"} {
		body := strings.Replace(testdata(t, "transaction-regular-reserved.json"), string(testOrder), string(id), 1)
		if got := send(t, "POST", srv.URL+"/vipps/v2/payments/"+string(id), m.token(id), body); got.status != 200 {
			t.Fatalf("POST %s = %d %q, want 200", id, got.status, got.body)
		}
		if id == testOrder {
			receive(t, started)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the deadline has passed
	if err := h.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown(ended ctx) = %v, want context.Canceled", err)
	}
	// The in-flight call sees its context end; the queued one is dropped.
	if err := h.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown() after abort = %v, want nil once the workers stop", err)
	}
	if n := m.calls.Load(); n != 1 {
		t.Errorf("OnTransaction called %d times, want 1", n)
	}
	logs := m.logs.String()
	if !strings.Contains(logs, `"msg":"transaction callback dropped at shutdown; reconcile the payment through /details","order_id":"order-2"`) {
		t.Errorf("no log line about the dropped callback:\n%s", logs)
	}
	if !strings.Contains(logs, `"order_id":"acme-shop-123-order123abc","status":"RESERVED","err":"context canceled"`) {
		t.Errorf("no log line about the cancelled callback:\n%s", logs)
	}
}

func TestTransactionPanicIsContained(t *testing.T) {
	m := newMerchant(t, "order-2")
	cfg := m.config()
	cfg.Workers = 1
	cfg.OnTransaction = func(_ context.Context, cb *vipps.TransactionCallback) error {
		if cb.OrderID == testOrder {
			panic("merchant bug")
		}
		m.got <- cb
		return nil
	}
	_, srv := start(t, cfg)
	for _, id := range []vipps.OrderID{testOrder, "order-2"} {
		body := strings.Replace(testdata(t, "transaction-regular-reserved.json"), string(testOrder), string(id), 1)
		if got := send(t, "POST", srv.URL+"/vipps/v2/payments/"+string(id), m.token(id), body); got.status != 200 {
			t.Fatalf("POST %s = %d %q, want 200", id, got.status, got.body)
		}
	}
	if cb := receive(t, m.got); cb.OrderID != "order-2" {
		t.Errorf("after the panic OnTransaction got %q, want order-2", cb.OrderID)
	}
	if !strings.Contains(m.logs.String(), "OnTransaction panicked: merchant bug") {
		t.Errorf("no log line about the panic:\n%s", m.logs)
	}
}

// TestLogging checks that every log line names the orderId in snake_case
// keys and that no line holds the auth token.
func TestLogging(t *testing.T) {
	m := newMerchant(t)
	cfg := m.config()
	cfg.OnTransaction = func(context.Context, *vipps.TransactionCallback) error {
		return errors.New("order table locked")
	}
	h, srv := start(t, cfg)
	tok := m.token(testOrder)
	url := srv.URL + "/vipps/v2/payments/" + string(testOrder)
	body := testdata(t, "transaction-regular-reserved.json")
	for _, auth := range []string{tok, "Bearer " + tok, tok + "x", ""} {
		send(t, "POST", url, auth, body)
	}
	send(t, "POST", url, tok, `{"orderId": `)
	send(t, "POST", url+"/shippingDetails", tok, testdata(t, "shipping-request.json"))
	if err := h.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	logs := m.logs.String()
	if strings.Contains(logs, tok) || strings.Contains(logs, tok[:20]) {
		t.Errorf("the auth token is in the log:\n%s", logs)
	}
	snake := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	lines := 0
	sc := bufio.NewScanner(strings.NewReader(logs))
	for sc.Scan() {
		lines++
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if rec["order_id"] != string(testOrder) {
			t.Errorf("log line without order_id: %s", sc.Text())
		}
		for k := range rec {
			if !snake.MatchString(k) {
				t.Errorf("log key %q is not snake_case: %s", k, sc.Text())
			}
		}
	}
	// accepted ×2, merchant error ×2, refused ×3, shipping answered silently
	if lines != 7 {
		t.Errorf("%d log lines, want 7:\n%s", lines, logs)
	}
}
