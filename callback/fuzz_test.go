package callback

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps"
)

// seed adds every testdata file matching pattern to the corpus, plus a few
// bodies that exercise the lenient paths.
func seed(f *testing.F, pattern string, extra ...string) {
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds for %s: %v", pattern, err)
	}
	for _, file := range files {
		f.Add([]byte(testdata(f, filepath.Base(file))))
	}
	for _, e := range extra {
		f.Add([]byte(e))
	}
}

// roundTrip checks that a decoded value survives encoding: the value decoded
// from its encoding encodes the same way and decodes to the same value again.
// (The first decode may normalise, for example zipCode to postCode or a
// timestamp to milliseconds, so equality is checked from the second on.)
func roundTrip[T any](t *testing.T, v *T, decode func([]byte) (*T, error)) {
	b1, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode %+v: %v", v, err)
	}
	v2, err := decode(b1)
	if err != nil {
		t.Fatalf("decode own encoding %s: %v", b1, err)
	}
	b2, err := json.Marshal(v2)
	if err != nil {
		t.Fatalf("encode %+v: %v", v2, err)
	}
	if string(b1) != string(b2) {
		t.Fatalf("encoding not stable:\n%s\n%s", b1, b2)
	}
	v3, err := decode(b2)
	if err != nil {
		t.Fatalf("decode own encoding %s: %v", b2, err)
	}
	if diff := cmp.Diff(v2, v3); diff != "" {
		t.Fatalf("decoding not stable (-first +second):\n%s", diff)
	}
}

func FuzzTransactionCallback(f *testing.F) {
	seed(f, "transaction-*.json",
		`{"merchantSerialNumber":123456,"orderId":"o-1","transactionInfo":{"amount":1,"status":"SALE","timeStamp":1544613518.246}}`,
		`{"orderId":"o-1","transactionInfo":{"status":"RESERVED","timeStamp":"2018-12-12 11:18:38+01:00"},"userDetails":{"bankIdVerified":0,"mobileNumber":12345678}}`,
		`{"orderId":"o-1","transactionInfo":{"status":"X","timeStamp":null},"errorInfo":{"errorGroup":"payment","errorCode":44}}`,
	)
	f.Fuzz(func(t *testing.T, body []byte) {
		cb, err := decodeTransactionCallback(body)
		if err != nil {
			return
		}
		roundTrip(t, cb, decodeTransactionCallback)
	})
}

func FuzzShippingDetailsRequest(f *testing.F) {
	seed(f, "shipping-request*.json",
		`{"addressId":"0012","addressLine2":null,"zipCode":"0191","country":"NO"}`,
		`{"addressId":1e3}`,
		`{"addressId":-5,"postCode":"0154","zipCode":"9999"}`,
	)
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := decodeShippingDetailsRequest(body)
		if err != nil {
			return
		}
		roundTrip(t, req, decodeShippingDetailsRequest)
		// The answer built from it must encode too.
		if _, err := json.Marshal(vipps.ShippingDetailsResponse{AddressID: req.AddressID, OrderID: "o-1", ShippingDetails: guideOptions}); err != nil {
			t.Fatalf("encode answer: %v", err)
		}
	})
}
