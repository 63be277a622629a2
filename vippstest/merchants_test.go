package vippstest_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps/vippstest"
)

func TestParseMerchants(t *testing.T) {
	tests := []struct {
		name string
		json string
		want []vippstest.Merchant
	}{
		{"one", `[{"msn": "123456", "clientId": "id", "clientSecret": "secret", "subscriptionKey": "key"}]`,
			[]vippstest.Merchant{{MSN: "123456", ClientID: "id", ClientSecret: "secret", SubscriptionKey: "key"}}},
		{"every field", `[
  {"msn": "123456", "clientId": "a", "clientSecret": "as", "subscriptionKey": "ak", "name": "Shop A"},
  {"msn": 654321, "clientId": "b", "clientSecret": "bs", "subscriptionKey": "bk", "name": "Shop B",
   "directCapture": true, "skipLandingPageAllowed": true, "ninAllowed": true}
]`, []vippstest.Merchant{
			{MSN: "123456", ClientID: "a", ClientSecret: "as", SubscriptionKey: "ak", Name: "Shop A"},
			{MSN: "654321", ClientID: "b", ClientSecret: "bs", SubscriptionKey: "bk", Name: "Shop B",
				DirectCapture: true, SkipLandingPageAllowed: true, NinAllowed: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := vippstest.ParseMerchants([]byte(tt.json))
			if err != nil {
				t.Fatalf("ParseMerchants = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseMerchants (-want +got):\n%s", diff)
			}
			// The result is a valid configuration.
			sim, err := vippstest.New(vippstest.Config{Merchants: got})
			if err != nil {
				t.Fatalf("New(ParseMerchants(...)) = %v", err)
			}
			sim.Close()
		})
	}
}

func TestParseMerchantsErrors(t *testing.T) {
	const a = `{"msn": "123456", "clientId": "a", "clientSecret": "as", "subscriptionKey": "ak"}`
	tests := []struct {
		name string
		json string
		want []string // the lines of the error
	}{
		{"empty file", ``, []string{"empty; want a JSON array of merchants"}},
		{"empty array", `[]`, []string{"no merchants; leave the file out to get the default merchant"}},
		{"object", `{"msn": "123456"}`, []string{"line 1: want a JSON array of merchants, not an object"}},
		{"syntax", "[\n" + a + ",\n  {\"msn\": }\n]", []string{"line 3, column 11: invalid character '}' looking for beginning of value"}},
		{"truncated", "[" + a, []string{"line 1, column 82: unexpected end of JSON input"}},
		{"trailing", "[" + a + "]\n[]", []string{"line 2, column 1: invalid character '[' after top-level value"}},
		{"not an object", "[\n  " + a + ",\n  42\n]", []string{"line 3: [1]: want a JSON object, not number"}},
		{"wrong type", "[\n  " + a + ",\n  {\"msn\": \"654321\", \"clientId\": \"b\", \"clientSecret\": \"bs\", \"subscriptionKey\": \"bk\", \"ninAllowed\": \"yes\"}\n]",
			[]string{"line 3: [1].ninAllowed: want a JSON boolean, not string"}},
		{"unknown field", "[\n  " + a + ",\n  {\"msn\": \"654321\", \"client_id\": \"b\"}\n]",
			[]string{`line 3: [1]: unknown field "client_id"`}},
		{"missing and bad", "[\n  {\"msn\": \"12\", \"clientId\": \"a\"},\n  {\"clientSecret\": \"x\", \"subscriptionKey\": \"k\", \"clientId\": \"b\"}\n]", []string{
			`line 2: [0].msn: merchant serial number "12" must be 5 or 6 digits`,
			"line 2: [0].clientSecret is required",
			"line 2: [0].subscriptionKey is required",
			"line 3: [1].msn is required",
		}},
		{"duplicates", "[\n  " + a + ",\n  " + a + "\n]", []string{
			"line 3: [1].msn: 123456 is the MSN of [0] too",
			"line 3: [1].clientId is the client id of [0] too",
			"line 3: [1].subscriptionKey is the subscription key of [0] too",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := vippstest.ParseMerchants([]byte(tt.json))
			if err == nil {
				t.Fatalf("ParseMerchants = %+v, nil; want an error", ms)
			}
			if diff := cmp.Diff(tt.want, strings.Split(err.Error(), "\n")); diff != "" {
				t.Errorf("ParseMerchants error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadMerchants(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "merchants.json")
	if err := os.WriteFile(good, []byte(`[{"msn": "123456", "clientId": "a", "clientSecret": "as", "subscriptionKey": "ak"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("[\n  {\"msn\": \"123456\"}\n]"), 0o600); err != nil {
		t.Fatal(err)
	}
	if ms, err := vippstest.LoadMerchants(good); err != nil || len(ms) != 1 || ms[0].ClientID != "a" {
		t.Errorf("LoadMerchants(good) = %+v, %v", ms, err)
	}
	_, err := vippstest.LoadMerchants(bad)
	if want := bad + ":2: [0].clientId is required"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("LoadMerchants(bad) = %v, want it to start %q", err, want)
	}
	missing := filepath.Join(dir, "missing.json")
	if _, err := vippstest.LoadMerchants(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("LoadMerchants(missing) = %v, want an error naming the file", err)
	}
}
