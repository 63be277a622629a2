package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/webhook"
)

// readmeBody is the example of the README's "Webhooks" section, compact,
// as the service sends it.
const readmeBody = `{"id":42,"type":"captured","orderId":"shop-10042","shopRef":"10042","state":"captured",` +
	`"amount":49900,"amounts":{"authorized":49900,"captured":49900,"refunded":0,` +
	`"remainingToCapture":0,"remainingToRefund":49900},"at":"2026-11-24T12:00:00Z"}`

var readmeEvent = webhook.Event{
	ID: 42, Type: webhook.EventCaptured, OrderID: "shop-10042", ShopRef: "10042", State: webhook.StateCaptured,
	Amount: 49900,
	Amounts: webhook.Amounts{Authorized: 49900, Captured: 49900, Refunded: 0,
		RemainingToCapture: 0, RemainingToRefund: 49900},
	At: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC),
}

func TestEventJSON(t *testing.T) {
	for _, tt := range []struct {
		name string
		ev   webhook.Event
		want string
	}{
		{"README example", readmeEvent, readmeBody},
		{"no shopRef, nothing moved", webhook.Event{ID: 7, Type: webhook.EventConsentRemoved, OrderID: "shop-1", State: webhook.StateReserved,
			Amounts: webhook.Amounts{Authorized: 1000, RemainingToCapture: 1000}, At: time.Date(2026, 1, 1, 0, 0, 0, 500, time.UTC)},
			`{"id":7,"type":"consent_removed","orderId":"shop-1","state":"reserved","amount":0,"amounts":{"authorized":1000,` +
				`"captured":0,"refunded":0,"remainingToCapture":1000,"remainingToRefund":0},"at":"2026-01-01T00:00:00.0000005Z"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.ev)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("json.Marshal(...) =\n%s\nwant\n%s", b, tt.want)
			}
			var got webhook.Event
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.ev, got); diff != "" {
				t.Errorf("decoded event (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseEvent(t *testing.T) {
	now := time.Now()
	for _, tt := range []struct {
		name    string
		body    string
		want    webhook.Event
		wantErr error // a sentinel; nil for none
		decode  bool  // the error is a decoding error
	}{
		{name: "README example", body: readmeBody, want: readmeEvent},
		{name: "indented, fields added later ignored", body: "{\n  \"id\": 42, \"type\": \"captured\", \"orderId\": \"shop-10042\",\n  \"fact\": {\"key\": \"capture-1\"}}",
			want: webhook.Event{ID: 42, Type: webhook.EventCaptured, OrderID: "shop-10042"}},
		{name: "an unknown type decodes", body: `{"id":43,"type":"disputed","orderId":"shop-10042"}`,
			want: webhook.Event{ID: 43, Type: "disputed", OrderID: "shop-10042"}},
		{name: "genuine but not JSON", body: `id=42`, decode: true},
		{name: "genuine but the wrong shape", body: `{"id":"42"}`, decode: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			header := webhook.Sign(secret, now, []byte(tt.body))
			got, err := webhook.ParseEvent([]byte(tt.body), header, secret)
			switch {
			case tt.decode:
				for _, s := range []error{webhook.ErrNoSignature, webhook.ErrInvalidHeader, webhook.ErrMismatch, webhook.ErrTooOld} {
					if errors.Is(err, s) {
						t.Errorf("ParseEvent(%s) = %v, want a decoding error", tt.body, err)
					}
				}
				if err == nil || !strings.HasPrefix(err.Error(), "webhook: decode event: ") {
					t.Errorf("ParseEvent(%s) = %v, want a decoding error", tt.body, err)
				}
			case err != nil:
				t.Fatalf("ParseEvent(%s) = %v, want nil", tt.body, err)
			default:
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("ParseEvent(%s) (-want +got):\n%s", tt.body, diff)
				}
			}
		})
	}

	// Nothing is decoded from a body that fails its check.
	for _, tt := range []struct {
		name   string
		header string
		want   error
	}{
		{"tampered", webhook.Sign(secret, now, []byte(`{"id":1}`)), webhook.ErrMismatch},
		{"old", webhook.Sign(secret, now.Add(-time.Hour), []byte(readmeBody)), webhook.ErrTooOld},
		{"unsigned", "", webhook.ErrNoSignature},
		{"malformed", "v1=00", webhook.ErrInvalidHeader},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := webhook.ParseEvent([]byte(readmeBody), tt.header, secret)
			if !errors.Is(err, tt.want) || got != (webhook.Event{}) {
				t.Errorf("ParseEvent(%q) = %+v, %v; want no event and %v", tt.header, got, err, tt.want)
			}
		})
	}
}

func TestVerifierParseEvent(t *testing.T) {
	// A shop in the middle of a rotation accepts both secrets, on its own
	// clock and tolerance.
	v := webhook.Verifier{
		Secrets:   []vipps.Secret{secret, oldSecret},
		Tolerance: time.Minute,
		Now:       func() time.Time { return signedAt.Add(30 * time.Second) },
	}
	for _, s := range []vipps.Secret{secret, oldSecret} {
		body, header := webhook.TestPayload(readmeEvent, s, signedAt)
		got, err := v.ParseEvent(body, header)
		if err != nil {
			t.Fatalf("ParseEvent(signed with %s) = %v", s, err)
		}
		if diff := cmp.Diff(readmeEvent, got); diff != "" {
			t.Errorf("ParseEvent(...) (-want +got):\n%s", diff)
		}
	}
}

func TestTestPayload(t *testing.T) {
	body, header := webhook.TestPayload(readmeEvent, "whsec-0123456789abcdef", signedAt)
	if string(body) != readmeBody {
		t.Errorf("TestPayload(...) body =\n%s\nwant\n%s", body, readmeBody)
	}
	const want = "t=1767225600,v1=5c6b91d7bf44b8d8a979ad74df05e9bc8f62d0b18c111689417293f3efc52dab"
	if header != want {
		t.Errorf("TestPayload(...) header = %q, want %q", header, want)
	}

	// Without a time it signs now, so that a shop's handler accepts it.
	body, header = webhook.TestPayload(readmeEvent, secret, time.Time{})
	got, err := webhook.ParseEvent(body, header, secret)
	if err != nil {
		t.Fatalf("ParseEvent(TestPayload(...)) = %v", err)
	}
	if diff := cmp.Diff(readmeEvent, got); diff != "" {
		t.Errorf("ParseEvent(TestPayload(...)) (-want +got):\n%s", diff)
	}
}

func TestNewRequest(t *testing.T) {
	req, err := webhook.NewRequest(context.Background(), "http://127.0.0.1:1/hooks", readmeEvent, signedAt, secret, oldSecret)
	if err != nil {
		t.Fatalf("NewRequest(...) = %v", err)
	}
	if req.Method != http.MethodPost || req.URL.String() != "http://127.0.0.1:1/hooks" {
		t.Errorf("request = %s %s, want POST http://127.0.0.1:1/hooks", req.Method, req.URL)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	if string(body) != readmeBody {
		t.Errorf("body =\n%s\nwant\n%s", body, readmeBody)
	}
	want := http.Header{
		"Content-Type":          {"application/json"},
		webhook.EventIDHeader:   {"42"},
		webhook.EventTypeHeader: {"captured"},
		webhook.SignatureHeader: {webhook.SignAll([]vipps.Secret{secret, oldSecret}, signedAt, body)},
	}
	if diff := cmp.Diff(want, req.Header); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
	// The body can be sent again (a redirect or a retry by the transport).
	if req.GetBody == nil {
		t.Fatal("GetBody is nil")
	}
	again, _ := req.GetBody()
	if b, _ := io.ReadAll(again); !bytes.Equal(b, body) {
		t.Errorf("GetBody() = %s, want the body", b)
	}
	for _, s := range []vipps.Secret{secret, oldSecret} {
		v := webhook.Verifier{Secrets: []vipps.Secret{s}, Now: func() time.Time { return signedAt }}
		if err := v.Verify(body, req.Header.Get(webhook.SignatureHeader)); err != nil {
			t.Errorf("Verify(with one of the secrets) = %v", err)
		}
	}

	for _, tt := range []struct {
		name    string
		url     string
		secrets []vipps.Secret
	}{
		{"no secret", "http://127.0.0.1:1/hooks", nil},
		{"an empty secret", "http://127.0.0.1:1/hooks", []vipps.Secret{secret, ""}},
		{"bad URL", "http://[::1", []vipps.Secret{secret}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if req, err := webhook.NewRequest(context.Background(), tt.url, readmeEvent, signedAt, tt.secrets...); err == nil {
				t.Errorf("NewRequest(%q, %d secrets) = %v, nil; want an error", tt.url, len(tt.secrets), req)
			}
		})
	}
}
