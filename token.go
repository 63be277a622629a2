package vipps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"
)

// AccessToken is the answer of POST /accesstoken/get. Vipps sends every field
// as a JSON string, numbers included; decoding accepts strings or numbers.
type AccessToken struct {
	TokenType    string
	ExpiresIn    time.Duration // lifetime: 1 h in test, 24 h in production
	ExtExpiresIn time.Duration
	ExpiresOn    time.Time
	NotBefore    time.Time
	Resource     string
	AccessToken  Secret
}

type accessTokenWire struct {
	TokenType    string          `json:"token_type"`
	ExpiresIn    json.RawMessage `json:"expires_in"`
	ExtExpiresIn json.RawMessage `json:"ext_expires_in"`
	ExpiresOn    json.RawMessage `json:"expires_on"`
	NotBefore    json.RawMessage `json:"not_before"`
	Resource     string          `json:"resource"`
	AccessToken  string          `json:"access_token"`
}

// UnmarshalJSON decodes the wire shape, with numbers as strings or numbers.
func (t *AccessToken) UnmarshalJSON(b []byte) error {
	var w accessTokenWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	num := func(name string, raw json.RawMessage) (int64, error) {
		s, err := stringOrNumber(raw)
		if err != nil || s == "" {
			return 0, err
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s %q is not a whole number", name, s)
		}
		return n, nil
	}
	// secs converts seconds to a Duration, refusing what would overflow
	// (more than 292 years) instead of wrapping around.
	secs := func(name string, raw json.RawMessage) (time.Duration, error) {
		n, err := num(name, raw)
		if err != nil {
			return 0, err
		}
		if n > math.MaxInt64/int64(time.Second) || n < math.MinInt64/int64(time.Second) {
			return 0, fmt.Errorf("%s %d is out of range", name, n)
		}
		return time.Duration(n) * time.Second, nil
	}
	var errs []error
	in, err := secs("expires_in", w.ExpiresIn)
	errs = append(errs, err)
	ext, err := secs("ext_expires_in", w.ExtExpiresIn)
	errs = append(errs, err)
	on, err := num("expires_on", w.ExpiresOn)
	errs = append(errs, err)
	nbf, err := num("not_before", w.NotBefore)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return err
	}
	*t = AccessToken{
		TokenType:    w.TokenType,
		ExpiresIn:    in,
		ExtExpiresIn: ext,
		Resource:     w.Resource,
		AccessToken:  Secret(w.AccessToken),
	}
	if on > 0 {
		t.ExpiresOn = time.Unix(on, 0).UTC()
	}
	if nbf > 0 {
		t.NotBefore = time.Unix(nbf, 0).UTC()
	}
	return nil
}

// MarshalJSON encodes the wire shape, numbers as strings, like Vipps.
func (t AccessToken) MarshalJSON() ([]byte, error) {
	unix := func(tm time.Time) string {
		if tm.IsZero() {
			return "0"
		}
		return strconv.FormatInt(tm.Unix(), 10)
	}
	return json.Marshal(map[string]string{
		"token_type":     t.TokenType,
		"expires_in":     strconv.FormatInt(int64(t.ExpiresIn/time.Second), 10),
		"ext_expires_in": strconv.FormatInt(int64(t.ExtExpiresIn/time.Second), 10),
		"expires_on":     unix(t.ExpiresOn),
		"not_before":     unix(t.NotBefore),
		"resource":       t.Resource,
		"access_token":   t.AccessToken.Reveal(),
	})
}

// lifetime is how long the token is valid from when it was received:
// expires_in, else expires_on − not_before, else one hour.
func (t *AccessToken) lifetime() time.Duration {
	switch {
	case t.ExpiresIn > 0:
		return t.ExpiresIn
	case !t.ExpiresOn.IsZero() && t.ExpiresOn.After(t.NotBefore) && !t.NotBefore.IsZero():
		return t.ExpiresOn.Sub(t.NotBefore)
	}
	return time.Hour
}

// tokenCache holds the current access token. One refresh runs at a time;
// while it runs, callers keep using the old token if it is still valid.
type tokenCache struct {
	mu        sync.Mutex
	token     string
	expires   time.Time     // no longer usable after this
	refreshAt time.Time     // fetch a new one after this
	inflight  chan struct{} // closed when the running refresh ends
	lastErr   error         // result of the last refresh
}

func (tc *tokenCache) invalidate(token string) {
	tc.mu.Lock()
	if tc.token == token {
		tc.token = ""
	}
	tc.mu.Unlock()
}

// storeLocked makes at the current token, received at now.
func (tc *tokenCache) storeLocked(at *AccessToken, now time.Time) {
	life := at.lifetime()
	tc.token = at.AccessToken.Reveal()
	tc.expires = now.Add(life)
	tc.refreshAt = now.Add(life - refreshMargin(life))
}

// refreshMargin is how long before expiry a token is replaced: a tenth of
// its lifetime, at most five minutes.
func refreshMargin(lifetime time.Duration) time.Duration {
	return min(lifetime/10, 5*time.Minute)
}

// accessToken returns a valid access token, fetching one when needed.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	tc := &c.tokens
	for {
		tc.mu.Lock()
		now := c.now()
		valid := tc.token != "" && now.Before(tc.expires)
		if valid && now.Before(tc.refreshAt) {
			tok := tc.token
			tc.mu.Unlock()
			return tok, nil
		}
		if ch := tc.inflight; ch != nil {
			if valid {
				tok := tc.token
				tc.mu.Unlock()
				return tok, nil
			}
			tc.mu.Unlock()
			select {
			case <-ch:
			case <-ctx.Done():
				return "", context.Cause(ctx)
			}
			tc.mu.Lock()
			err := tc.lastErr
			tc.mu.Unlock()
			if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				return "", err
			}
			continue
		}
		ch := make(chan struct{})
		tc.inflight = ch
		tc.mu.Unlock()

		at, err := c.fetchToken(ctx)

		tc.mu.Lock()
		tc.lastErr = err
		tc.inflight = nil
		close(ch)
		if err == nil {
			tc.storeLocked(at, c.now())
		}
		tok, stillValid := tc.token, tc.token != "" && c.now().Before(tc.expires)
		tc.mu.Unlock()
		if err != nil && !stillValid {
			return "", err
		}
		return tok, nil // on a failed early refresh the old token still works
	}
}

// fetchToken calls POST /accesstoken/get.
func (c *Client) fetchToken(ctx context.Context) (*AccessToken, error) {
	var at AccessToken
	err := c.do(ctx, &call{op: "access token", method: "POST", path: "/accesstoken/get", token: true}, &at)
	if err != nil {
		return nil, err
	}
	if at.AccessToken == "" {
		return nil, errors.New("access token: Vipps answered without an access_token")
	}
	return &at, nil
}

// AccessToken fetches a new access token (POST /accesstoken/get) and makes
// the client use it. Other calls fetch and refresh tokens on their own; this
// is for checking credentials and for tools. Safe to retry.
func (c *Client) AccessToken(ctx context.Context) (*AccessToken, error) {
	at, err := c.fetchToken(ctx)
	if err != nil {
		return nil, err
	}
	c.tokens.mu.Lock()
	c.tokens.storeLocked(at, c.now())
	c.tokens.mu.Unlock()
	return at, nil
}
