package callback

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// merchantSpec is Vipps' OpenAPI description of the merchant endpoints, kept
// beside the repository in shared/reference (it is data for tests, not part
// of the module).
var merchantSpec = filepath.Join("..", "..", "shared", "reference", "ecom-v2-merchant-openapi.yaml")

var loadSpec = sync.OnceValues(func() (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromFile(merchantSpec)
	if err != nil {
		return nil, err
	}
	schemas := doc.Components.Schemas
	// Known defects of the spec (shared/reference/ecom-v2.md sections 0 and
	// 14 items 10 and 21), worked around here rather than in the handler:
	//   - ShippingCostAndMethod.addressType has the pattern ^\[A-Z]$, which
	//     matches only the literal text "[A-Z]" and so rejects the
	//     documented values H, W and O: drop the pattern, keep the enum.
	//   - ShippingCost has minimum 1.00 in this file but 0.00 in the eCom
	//     spec (swagger.yaml), and free shipping is a real option: use 0.
	schemas["ShippingCostAndMethod"].Value.Properties["addressType"].Value.Pattern = ""
	zero := 0.0
	schemas["ShippingCost"].Value.Min = &zero
	if err := doc.Validate(context.Background(), openapi3.AllowExtraSiblingFields("pattern", "description", "example")); err != nil {
		return nil, err
	}
	return doc, nil
})

// schema returns a component schema of the merchant spec. Without the spec
// the test is skipped, unless CI runs it.
func schema(t *testing.T, name string) *openapi3.Schema {
	t.Helper()
	doc, err := loadSpec()
	if errors.Is(err, fs.ErrNotExist) && os.Getenv("CI") == "" {
		t.Skipf("no merchant spec at %s", merchantSpec)
	}
	if err != nil {
		t.Fatalf("load %s: %v", merchantSpec, err)
	}
	ref, ok := doc.Components.Schemas[name]
	if !ok {
		t.Fatalf("no schema %s in %s", name, merchantSpec)
	}
	return ref.Value
}

// validateShippingResponse checks an answer of the handler against the
// spec's FetchShippingCostResponse.
func validateShippingResponse(t *testing.T, body []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("answer %s: %v", body, err)
	}
	if err := schema(t, "FetchShippingCostResponse").VisitJSON(v); err != nil {
		t.Errorf("answer %s does not match FetchShippingCostResponse: %v", body, err)
	}
}

// TestExamplesMatchSpec checks that the shipping examples in testdata are
// valid by the spec (with the defects above worked around), so that the
// tests feed the handler what Vipps sends.
func TestExamplesMatchSpec(t *testing.T) {
	tests := []struct{ file, schema string }{
		{"shipping-request.json", "ShippingCostAndMethod"},
		{"shipping-request-spec.json", "ShippingCostAndMethod"},
		{"shipping-response.json", "FetchShippingCostResponse"},
		{"shipping-response-free.json", "FetchShippingCostResponse"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var v any
			if err := json.Unmarshal([]byte(testdata(t, tt.file)), &v); err != nil {
				t.Fatal(err)
			}
			if m, ok := v.(map[string]any); ok && m["addressLine2"] == nil {
				delete(m, "addressLine2") // the guide sends null; the spec says string
			}
			if err := schema(t, tt.schema).VisitJSON(v); err != nil {
				t.Errorf("%s does not match %s: %v", tt.file, tt.schema, err)
			}
		})
	}
}

// TestSpecValidatorRejects makes sure the schema check above can fail.
func TestSpecValidatorRejects(t *testing.T) {
	for _, body := range []string{
		`{"orderId":"o-1","shippingDetails":[]}`,
		`{"addressId":1,"orderId":"o-1","shippingDetails":[{"isDefault":"maybe","shippingCost":1,"shippingMethod":"a","shippingMethodId":"a"}]}`,
		`{"addressId":1,"orderId":"o-1","shippingDetails":[{"isDefault":"Y","shippingCost":-1,"shippingMethod":"a","shippingMethodId":"a"}]}`,
		`{"addressId":1,"orderId":"o_1","shippingDetails":[]}`,
	} {
		var v any
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatal(err)
		}
		if err := schema(t, "FetchShippingCostResponse").VisitJSON(v); err == nil {
			t.Errorf("FetchShippingCostResponse accepts %s, want an error", body)
		}
	}
}
