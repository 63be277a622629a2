package vipps

// Fuzz tests for every decoder of outside input in this package, seeded from
// the reference examples in testdata/examples. go test runs each on its seeds;
// go test -run=^$ -fuzz=FuzzDetails explores further.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// exampleFiles returns the contents of testdata/examples/*.json by file name.
func exampleFiles(f *testing.F) map[string][]byte {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "examples", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in testdata/examples: %v", err)
	}
	m := make(map[string][]byte, len(files))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		m[filepath.Base(file)] = b
	}
	return m
}

// addExampleSeeds adds the bytes of every example file whose name starts
// with one of prefixes.
func addExampleSeeds(f *testing.F, prefixes ...string) {
	f.Helper()
	n := 0
	for name, b := range exampleFiles(f) {
		if hasAnyPrefix(name, prefixes) {
			f.Add(b)
			n++
		}
	}
	if n == 0 {
		f.Fatalf("no example file starts with %q", prefixes)
	}
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// toMillis compares Times at the precision they are encoded with.
var toMillis = cmp.Transformer("toMillis", func(t Time) time.Time { return t.Truncate(time.Millisecond).UTC() })

// checkRoundTrip decodes b into a new T and, when that works, checks that
// encoding is stable: what the value encodes to decodes to the same value
// (up to the millisecond precision of Time) and encodes to the same bytes.
func checkRoundTrip[T any](t *testing.T, b []byte) {
	t.Helper()
	var v1 T
	if err := json.Unmarshal(b, &v1); err != nil {
		return
	}
	b1, err := json.Marshal(v1)
	if err != nil {
		t.Fatalf("json.Marshal(%#v) after decoding %q: %v", v1, b, err)
	}
	var v2 T
	if err := json.Unmarshal(b1, &v2); err != nil {
		t.Fatalf("json.Unmarshal(%s), the encoding of a decoded %q: %v", b1, b, err)
	}
	if diff := cmp.Diff(v1, v2, toMillis); diff != "" {
		t.Fatalf("decode(encode(decode(%q))) differs from decode(%q) (-first +second):\n%s", b, b, diff)
	}
	b2, err := json.Marshal(v2)
	if err != nil {
		t.Fatal(err)
	}
	if string(b1) != string(b2) {
		t.Fatalf("encoding is not stable for %q:\nfirst  %s\nsecond %s", b, b1, b2)
	}
}

func FuzzParseError(f *testing.F) {
	for _, b := range exampleFiles(f) {
		for _, status := range []int{200, 201, 400, 401, 404, 409, 429, 500} {
			f.Add(status, b)
		}
	}
	f.Add(500, []byte(""))
	f.Add(502, []byte("<html>Bad gateway</html>"))
	f.Add(200, []byte(`[]`))
	f.Add(400, []byte(`[{"errorGroup":"user","errorCode":81}]`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := parseError(status, body)
		if status >= 300 && e == nil {
			t.Fatalf("parseError(%d, %q) = nil, want an error", status, body)
		}
		if e == nil {
			return
		}
		if e.StatusCode != status {
			t.Errorf("parseError(%d, %q).StatusCode = %d, want %d", status, body, e.StatusCode, status)
		}
		if len(e.Body) > maxErrorBody {
			t.Errorf("parseError(%d, %q) keeps %d bytes of body, want at most %d", status, body, len(e.Body), maxErrorBody)
		}
		_ = e.Error()
		_ = e.CustomerMessage()
		_ = e.MerchantMessage()
		_ = e.Retryable()
		// errorIn2xx looks at the same bodies in success answers.
		_ = errorIn2xx(status, body)
	})
}

func FuzzDetails(f *testing.F) {
	addExampleSeeds(f, "details-")
	f.Add([]byte(`{"transactionLogHistory":[{"timeStamp":1542208972.5,"operation":"CAPTURE","amount":1}],"userDetails":{"bankIdVerified":true,"mobileNumber":91234567}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkRoundTrip[PaymentDetails](t, b)
		var d PaymentDetails
		if json.Unmarshal(b, &d) == nil {
			d.Last()
			d.Last(OperationCapture, OperationReserve)
		}
	})
}

func FuzzTransactionResponse(f *testing.F) {
	addExampleSeeds(f, "capture-response", "cancel-response", "refund-response")
	f.Fuzz(func(t *testing.T, b []byte) {
		checkRoundTrip[TransactionResponse](t, b)
	})
}

func FuzzAccessToken(f *testing.F) {
	addExampleSeeds(f, "token-")
	f.Add([]byte(`{"token_type":"Bearer","expires_in":3600,"expires_on":1547823408,"not_before":"1547819508","access_token":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkRoundTrip[AccessToken](t, b)
		var at AccessToken
		if json.Unmarshal(b, &at) == nil {
			if l := at.lifetime(); l <= 0 {
				t.Fatalf("lifetime of %q = %v, want > 0", b, l)
			}
		}
	})
}

func FuzzTransactionCallback(f *testing.F) {
	addExampleSeeds(f, "callback-")
	f.Fuzz(func(t *testing.T, b []byte) {
		checkRoundTrip[TransactionCallback](t, b)
		var cb TransactionCallback
		if json.Unmarshal(b, &cb) == nil {
			_ = cb.Express()
			_ = cb.TransactionInfo.Status.Known()
		}
	})
}

func FuzzShippingDetailsRequest(f *testing.F) {
	addExampleSeeds(f, "shippingdetails-request")
	f.Add([]byte(`{"addressId":"100","addressLine1":"Robert Levins gate 5","addressLine2":"c/o Rune Garborg","city":"Oslo","country":"NO","zipCode":"0154","addressType":"H"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkRoundTrip[ShippingDetailsRequest](t, b)
	})
}

func FuzzTime(f *testing.F) {
	for _, s := range []string{
		"2018-11-14T15:22:46.736Z", "2018-11-14T15:23:02.286", "2018-11-14T15:23:02.286+01:00",
		"2018-11-14 15:23:02", "2018-11-14", "", "2018-11-14T15:23:02.286+0100",
	} {
		f.Add(s)
	}
	// Edges of what the JSON form can carry (years 0000 to 9999 in UTC).
	for _, s := range []string{"1542208972", "1542208972.123", "700000000000", "-62167219201", "1e300", "0000-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00Z"} {
		f.Add(s)
	}
	// Every timeStamp in the examples.
	tsIn := regexp.MustCompile(`"timeStamp":\s*"([^"]*)"`)
	for _, b := range exampleFiles(f) {
		for _, m := range tsIn.FindAllSubmatch(b, -1) {
			f.Add(string(m[1]))
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		if tm, err := ParseTime(s); err == nil {
			checkTimeRoundTrip(t, s, tm)
		}
		// The same text as a JSON string, and as it stands (a number or
		// anything else).
		for _, b := range [][]byte{mustJSON(t, s), []byte(s)} {
			var tm Time
			if err := tm.UnmarshalJSON(b); err == nil {
				checkTimeRoundTrip(t, string(b), tm)
			}
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkTimeRoundTrip checks that tm, decoded from in, encodes to JSON that
// decodes to the same instant (to the millisecond).
func checkTimeRoundTrip(t *testing.T, in string, tm Time) {
	t.Helper()
	b, err := tm.MarshalJSON()
	if err != nil {
		t.Fatalf("Time(%q).MarshalJSON: %v", in, err)
	}
	var back Time
	if err := back.UnmarshalJSON(b); err != nil {
		t.Fatalf("UnmarshalJSON(%s), the encoding of %q: %v", b, in, err)
	}
	if want := tm.Truncate(time.Millisecond); !back.Equal(want) {
		t.Fatalf("%q → %s → %v, want %v", in, b, back, want)
	}
}

func FuzzMSN(f *testing.F) {
	for _, s := range []string{`"123456"`, `123456`, `"12345"`, `null`, `""`, `1.5e3`, `"abc"`, `true`} {
		f.Add([]byte(s))
	}
	// Every merchantSerialNumber in the examples, as it stands there.
	msnIn := regexp.MustCompile(`"merchantSerialNumber":\s*("[^"]*"|[0-9]+)`)
	for _, b := range exampleFiles(f) {
		for _, m := range msnIn.FindAllSubmatch(b, -1) {
			f.Add(m[1])
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m MSN
		if err := m.UnmarshalJSON(b); err != nil {
			return
		}
		valid := m.Validate() == nil
		enc, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var back MSN
		if err := json.Unmarshal(enc, &back); err != nil {
			t.Fatalf("json.Unmarshal(%s), the encoding of MSN %q: %v", enc, m, err)
		}
		if back != m {
			t.Fatalf("MSN %q → %s → %q", m, enc, back)
		}
		if valid && !msnPattern.MatchString(string(m)) {
			t.Fatalf("MSN %q from %q validates but is not 5 or 6 digits", m, b)
		}
		// Inside a callback body, as Vipps sends it.
		checkRoundTrip[TransactionCallback](t, []byte(`{"merchantSerialNumber":`+string(b)+`}`))
	})
}
