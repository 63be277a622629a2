package payment_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vippskit/vipps/internal/payment"
)

// personal are the personal values in the reference's examples
// (testdata/examples, verbatim copies of ecom-v2-examples.md): none may
// survive masking, in any body.
var personal = []string{
	"Ada", "Lovelace", "user@example.com", "Dronning Eufemias gate 42", "Rune Garborg", "0191", "OSLO\"", "Oslo\"",
	`"91234567"`, `"12345678"`, `"48059528"`, `"4712345678"`, "10121550047", "12345678901", "1815-12-10", "12-3-1988",
	"uiJskNQ6qNN1iwN891uuob==", "c06c4afe-d9e1-4c5d-939a-177d752a0944", "7d78a726-af92-499e-b857-de263ef9a969",
	"Suburbia 23", "Fancy Office Street 2", "12064590675", "My savings",
	"eyJ0eXAiOiJKV1Qi", "eyJraWQiOiJqd3RrZXki", "b7c2a1e4-3f7d-4a43-9d0e-6c1f3c2b9a11", "token=",
}

func example(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMaskBody(t *testing.T) {
	tests := []struct {
		file string
		// keep must survive: what staff need to read the exchange.
		keep []string
	}{
		// 6.5: express details after the reservation.
		{"details-express.json", []string{`"shippingMethodId": "123abc"`, `"operation": "RESERVE"`, `"amount": 20000`,
			`"mobileNumber": "****** 67"`, `"shippingCost": 99.0`, `"transactionId": "5001420062"`}},
		// 6.6: userDetails of a scope payment, and sub.
		{"details-scope.json", []string{`"mobileNumber": "****** 67"`, `"bankIdVerified": 0`}},
		// 10.2 and 10.3: express callbacks, with zipCode, ssn, dateOfBirth.
		{"callback-express.json", []string{`"status": "RESERVE"`, `"mobileNumber": "****** 78"`, `"shippingMethod": "By cannon"`}},
		{"callback-express-2022.json", []string{`"mobileNumber": "****** 78"`, `"shippingCost": 109.99`}},
		// 11.1: Vipps' shippingDetails request: only the address id is left.
		{"shippingdetails-request.json", []string{`"addressId": 3960`, `"addressType": "H"`}},
		// 2.3: the callback token and the return page's URL.
		{"initiate-request-express-guide.json", []string{`"fallBack": "https://example.com/vipps/fallback-result-page-for-both-success-and-failure/acme-shop-123-order123abc"`,
			`"mobileNumber": "****** 28"`, `"transactionText": "One pair of Vipps socks"`}},
		{"initiate-request-express-clean.json", []string{`"paymentType": "eComm Express Payment"`}},
		// 2.7: the deeplink's token.
		{"initiate-response.json", []string{`"url": "https://api.vipps.no/dwo-api-application/v1/deeplink/vippsgateway?[query not kept]"`}},
		// Userinfo: a profile's name goes, as does everything else of it.
		{"userinfo-response.json", []string{`"address_type": "work"`}},
		{"token-response.json", []string{`"expires_in": "86398"`}},
		// The simulator's approve: the phone given.
		{"approve-request.json", []string{`"customerPhoneNumber": "****** 67"`}},
		// A receipt's order lines keep their names: they are products.
		{"om-receipt-request.json", []string{`"name": "Socks"`, `"name": "Flip-flops"`}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got := payment.MaskBody(example(t, tt.file), 0)
			for _, p := range personal {
				if strings.Contains(got, p) {
					t.Errorf("MaskBody(%s) keeps %q:\n%s", tt.file, p, got)
				}
			}
			for _, k := range tt.keep {
				if !strings.Contains(got, k) {
					t.Errorf("MaskBody(%s) lacks %s:\n%s", tt.file, k, got)
				}
			}
		})
	}
}

// TestMaskBodyEveryExample masks every body of the reference: what comes
// out is indented JSON without any personal value.
func TestMaskBodyEveryExample(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "examples", "*.json"))
	if err != nil || len(files) < 50 {
		t.Fatalf("found %d examples, %v; want the reference's", len(files), err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got := payment.MaskBody(b, 0)
		if !json.Valid([]byte(got)) {
			t.Errorf("MaskBody(%s) is not JSON:\n%s", filepath.Base(f), got)
		}
		for _, p := range personal {
			if strings.Contains(got, p) {
				t.Errorf("MaskBody(%s) keeps %q:\n%s", filepath.Base(f), p, got)
			}
		}
	}
}

func TestMaskBodyEdges(t *testing.T) {
	tests := []struct {
		name, in string
		max      int
		want     string
	}{
		{"empty", "", 0, ""},
		{"not JSON", "<html>Bad gateway</html>", 0, "[24 bytes that are not JSON; not kept]"},
		{"two values", `{"a":1} {"email":"x@y.no"}`, 0, "[26 bytes that are not JSON; not kept]"},
		{"phone as a number", `{"mobileNumber": 4791234567}`, 0, "{\n  \"mobileNumber\": \"****** 67\"\n}"},
		{"expired phone", `{"mobileNumber": "[Expired]"}`, 0, "{\n  \"mobileNumber\": \"[Expired]\"\n}"},
		{"short phone", `{"phoneNumber": "123"}`, 0, "{\n  \"phoneNumber\": \"******\"\n}"},
		{"keys in any case", `{"EMAIL": "a@b.no", "AuthToken": "s", "Authorization": "Bearer x"}`, 0, "{}"},
		{"secrets by name", `{"client_secret": "s", "accessToken": "t", "refresh_token": "r", "apiKey": "k"}`, 0, "{}"},
		{"URL with user", `{"u": "https://me:pw@shop.example/x"}`, 0, "{\n  \"u\": \"https://shop.example/x\"\n}"},
		{"large numbers exact", `{"amount": 12345678901234567890}`, 0, "{\n  \"amount\": 12345678901234567890\n}"},
		{"cut", `{"transactionText": "` + strings.Repeat("æ", 50) + `"}`, 40, "{\n  \"transactionText\": \"ææææææææ\n… cut: 40 of 127 bytes shown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := payment.MaskBody([]byte(tt.in), tt.max); got != tt.want {
				t.Errorf("MaskBody(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
		})
	}
}
