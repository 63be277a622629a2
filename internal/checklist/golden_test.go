package checklist

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenResults is a fixed set of results with every status, singular and
// plural counts, an insecure callbackPrefix and text that must be escaped.
func goldenResults() []Result {
	in := goodAudit()
	in.FallBacks[0].Status = 401
	in.FallBacks[0].URL = "https://shop.example/return/<b>|1"
	in.Audit.Payments[1].CallbackPrefix = "http://localhost:8080/vipps"
	in.Audit.Payments[1].Log = nil // no order ends in VOID
	in.Audit.OrderManagement[1].Receipt = false
	return Grade(in)
}

// TestGolden pins the four renderers' output of goldenResults; run with
// -update to rewrite testdata/report.*.
func TestGolden(t *testing.T) {
	rs := goldenResults()
	const header = "Audit of MSN 123456 at http://127.0.0.1:8080, 2025-03-01 12:00:00Z"
	for _, tc := range []struct {
		file  string
		write func(*bytes.Buffer) error
	}{
		{"report.txt", func(b *bytes.Buffer) error { return WriteText(b, rs) }},
		{"report.json", func(b *bytes.Buffer) error { return WriteJSON(b, rs) }},
		{"report.md", func(b *bytes.Buffer) error { return WriteMarkdown(b, header, rs) }},
		{"report.html", func(b *bytes.Buffer) error { return WriteHTML(b, header, rs) }},
	} {
		t.Run(tc.file, func(t *testing.T) {
			var got bytes.Buffer
			if err := tc.write(&got); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tc.file)
			if *update {
				if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got.String()); diff != "" {
				t.Errorf("%s differs from %s (-want +got; go test -update rewrites it):\n%s", tc.file, path, diff)
			}
		})
	}
}

// TestSummariesAgreeInNumber checks that the summaries say "1 thing is"
// and "2 things are", never "thing(s)".
func TestSummariesAgreeInNumber(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Input)
		id   string
		want string
	}{
		{"one receipt", func(in *Input) { in.Audit.OrderManagement[1].Receipt = false }, "receipts",
			"of 2 captured payments, 1 has a receipt and 2 a category"},
		{"two receipts", func(in *Input) {}, "receipts",
			"of 2 captured payments, 2 have a receipt and 2 a category"},
		{"one captured payment", func(in *Input) { in.Audit.Payments = in.Audit.Payments[:2] }, "receipts",
			"of 1 captured payment, 1 has a receipt and 1 a category"},
		{"one callbackPrefix", func(in *Input) { in.Audit.Payments[0].CallbackPrefix = "http://shop.example/a" }, "callbacks",
			"callbacks for successful and failed payments answered 2xx; 1 callbackPrefix real Vipps would refuse"},
		{"two callbackPrefixes", func(in *Input) {
			in.Audit.Payments[0].CallbackPrefix = "http://shop.example/a"
			in.Audit.Payments[1].CallbackPrefix = "http://shop.example/b"
		}, "callbacks", "callbacks for successful and failed payments answered 2xx; 2 callbackPrefixes real Vipps would refuse"},
		{"one callback not answered", func(in *Input) { in.Audit.Callbacks[1].StatusCode = 500 }, "callbacks",
			"1 callback was not answered 2xx"},
		{"two callbacks not answered", func(in *Input) { in.Audit.Callbacks[1].StatusCode, in.Audit.Callbacks[2].StatusCode = 500, 503 }, "callbacks",
			"2 callbacks were not answered 2xx"},
		{"one retry with a new id", func(in *Input) { in.Audit.Requests[5].RequestID = "c1-new" }, "errors",
			"1 retry with a new X-Request-Id"},
		{"one capture without id", func(in *Input) { in.Audit.Requests[6].RequestID = "" }, "errors",
			"1 capture or refund without X-Request-Id"},
		{"one bad orderId", func(in *Input) { in.Audit.Payments[2].OrderID = "00042" }, "orderid",
			"1 of 3 orderIds does not follow the recommendations"},
		{"one request lacks headers", func(in *Input) { in.Audit.Requests[0].Header = nil }, "headers",
			"1 of 13 requests lacks well-formed Vipps-System-* headers"},
		{"two fallBacks answered", func(in *Input) {
			in.FallBacks = append(in.FallBacks, FallBackCheck{OrderID: "acme-order-2", URL: "https://shop.example/return/acme-order-2", Status: 200})
		}, "redirects", "2 fallBack URLs answered a fresh browser without a cookie"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := goodAudit()
			tc.edit(&in)
			for _, r := range Grade(in) {
				if r.ID == tc.id && r.Summary != tc.want {
					t.Errorf("Grade(...)[%s].Summary = %q, want %q", tc.id, r.Summary, tc.want)
				}
			}
		})
	}
}
