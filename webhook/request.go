package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/vippskit/vipps"
)

// NewRequest returns the POST that delivers ev to url, as the service sends
// it: ev encoded as JSON, signed at t with every one of secrets (see
// [SignAll]), with the [SignatureHeader], [EventIDHeader],
// [EventTypeHeader] and Content-Type headers. It fails without a secret or
// with an empty one.
func NewRequest(ctx context.Context, url string, ev Event, t time.Time, secrets ...vipps.Secret) (*http.Request, error) {
	if len(secrets) == 0 || slices.Contains(secrets, "") {
		return nil, errors.New("webhook: no secret to sign with, or an empty one")
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("webhook: encode event %d: %w", ev.ID, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(EventIDHeader, strconv.FormatInt(ev.ID, 10))
	req.Header.Set(EventTypeHeader, string(ev.Type))
	req.Header.Set(SignatureHeader, SignAll(secrets, t, body))
	return req, nil
}

// TestPayload returns ev encoded as the service encodes it and the
// [SignatureHeader] value that signs it with secret at t (time.Now when t
// is zero): for a shop's tests of its own webhook handling. It panics if ev
// cannot be encoded (a time outside the years 0 to 9999).
func TestPayload(ev Event, secret vipps.Secret, t time.Time) (body []byte, header string) {
	if t.IsZero() {
		t = time.Now()
	}
	body, err := json.Marshal(ev)
	if err != nil {
		panic(fmt.Sprintf("webhook.TestPayload: %v", err))
	}
	return body, Sign(secret, t, body)
}
