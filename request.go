package vipps

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"sync/atomic"
	"time"
)

// retryMode says when a call may be sent again.
type retryMode int

const (
	// retrySafe: sending again cannot change anything twice (reads, and
	// writes with an X-Request-Id that Vipps deduplicates).
	retrySafe retryMode = iota
	// retryRepeatable: sending again is harmless, but after an unanswered
	// attempt a later refusal may only mean the first attempt worked
	// (cancel; Order Management objects that can be stored once).
	retryRepeatable
	// retryUnsent: only resend when the request provably never reached
	// Vipps (initiate).
	retryUnsent
)

// maxResponseBody bounds what the client reads of any response.
const maxResponseBody = 4 << 20

// maxRetryAfter caps how long a Retry-After may make the client wait.
const maxRetryAfter = time.Minute

type call struct {
	op        string // "capture", "details", ...
	method    string
	path      string // after the base URL, escaped
	orderID   OrderID
	body      any // JSON-encoded once; nil for no body
	requestID string
	mode      retryMode
	// token is the access-token request: no bearer, credentials instead.
	token bool
	// noSubscriptionKey leaves out Ocp-Apim-Subscription-Key (Userinfo).
	noSubscriptionKey bool
}

// do sends cl, retrying as its mode allows, and decodes a 2xx body into out
// (when out is not nil).
func (c *Client) do(ctx context.Context, cl *call, out any) error {
	var body []byte
	if cl.body != nil {
		var err error
		if body, err = json.Marshal(cl.body); err != nil {
			return c.wrap(cl, fmt.Errorf("encode request: %w", err))
		}
	}
	var (
		reauthorized bool // a 401 made us fetch a new token once
		ambiguous    bool // some attempt may have reached Vipps unanswered
	)
	for attempt := 1; ; attempt++ {
		var auth string
		if !cl.token {
			// The token call retries on its own; its failure ends this call.
			tok, err := c.accessToken(ctx)
			if err != nil {
				return c.final(cl, fmt.Errorf("get access token: %w", err), ambiguous, false)
			}
			auth = "Bearer " + tok
		}
		status, respBody, header, sent, err := c.attempt(ctx, cl, auth, body)
		var (
			retry      bool
			retryAfter time.Duration
			unanswered bool // this attempt may have been applied
		)
		switch {
		case err != nil && ctx.Err() != nil:
			if sent {
				ambiguous = true
			}
			return c.final(cl, err, ambiguous, sent)
		case err != nil:
			unanswered = sent
			retry = !sent || cl.mode != retryUnsent
		case status == http.StatusUnauthorized && !cl.token && !reauthorized:
			// The token may have expired early or been revoked: fetch a
			// new one once and try again.
			reauthorized = true
			c.tokens.invalidate(auth[len("Bearer "):])
			attempt--
			continue
		case status >= 200 && status < 300:
			if e := errorIn2xx(status, respBody); e != nil {
				err = c.annotate(cl, e, header)
				break
			}
			if out != nil {
				if err := json.Unmarshal(respBody, out); err != nil {
					return c.wrap(cl, fmt.Errorf("decode %d response: %w", status, err))
				}
			}
			return nil
		default:
			e := c.annotate(cl, parseError(status, respBody), header)
			err = e
			retryAfter = e.RetryAfter
			switch {
			case status == http.StatusTooManyRequests, e.Locked(), e.Has(GroupVippsError, CodeTooManyRequests):
				retry = true // refused before processing
			case status >= 500:
				unanswered = true
				retry = cl.mode != retryUnsent
			}
		}
		if unanswered {
			ambiguous = true
		}
		if !retry || attempt >= c.retry.MaxAttempts {
			return c.final(cl, err, ambiguous, unanswered)
		}
		wait := c.backoff(attempt, retryAfter)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return c.final(cl, err, ambiguous, unanswered)
		}
		c.log.LogAttrs(ctx, slog.LevelWarn, "vipps call failed, retrying",
			slog.String("op", cl.op), slog.String("order_id", string(cl.orderID)),
			slog.Int("attempt", attempt), slog.Duration("wait", wait),
			slog.String("request_id", cl.requestID), slog.String("error", err.Error()))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return c.final(cl, fmt.Errorf("%w; stopped retrying: %w", err, context.Cause(ctx)), ambiguous, unanswered)
		case <-t.C:
		}
	}
}

// final shapes the error a call returns after its last attempt.
func (c *Client) final(cl *call, err error, ambiguous, lastUnanswered bool) error {
	if _, ok := errors.AsType[*Error](err); !ok {
		err = c.wrap(cl, err)
	}
	// A keyed call answered after an unanswered attempt is a real answer;
	// anything else after an unanswered attempt is not. Reads change nothing.
	if ambiguous && (lastUnanswered || cl.mode != retrySafe) && cl.method != http.MethodGet && !cl.token {
		return fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
	}
	return err
}

// invalid is the error of a request refused before it was sent: what is
// wrong with it, wrapping ErrInvalidRequest.
func (c *Client) invalid(cl *call, problems string) error {
	return c.wrap(cl, fmt.Errorf("%w: %s", ErrInvalidRequest, problems))
}

// wrap prefixes a non-Vipps error with the operation and order.
func (c *Client) wrap(cl *call, err error) error {
	if cl.orderID != "" {
		return fmt.Errorf("%s order %s: %w", cl.op, cl.orderID, err)
	}
	return fmt.Errorf("%s: %w", cl.op, err)
}

func (c *Client) annotate(cl *call, e *Error, h http.Header) *Error {
	e.Op, e.OrderID, e.RequestID = cl.op, cl.orderID, cl.requestID
	if ra := h.Get("Retry-After"); ra != "" {
		if s, err := strconv.Atoi(ra); err == nil && s >= 0 {
			e.RetryAfter = time.Duration(s) * time.Second
		} else if t, err := http.ParseTime(ra); err == nil {
			e.RetryAfter = max(time.Until(t), 0)
		}
	}
	return e
}

// errorIn2xx finds an error body in a successful answer: Vipps sometimes
// answers 200 with an error array.
func errorIn2xx(status int, body []byte) *Error {
	t := bytes.TrimSpace(body)
	if len(t) == 0 || (t[0] != '[' && !bytes.Contains(t, []byte(`"errorGroup"`))) {
		return nil
	}
	return parseError(status, t)
}

// backoff returns the wait before attempt+1: exponential with jitter, or the
// server's Retry-After if longer.
func (c *Client) backoff(attempt int, retryAfter time.Duration) time.Duration {
	d := c.retry.MinBackoff << min(attempt-1, 30)
	if d > c.retry.MaxBackoff || d <= 0 {
		d = c.retry.MaxBackoff
	}
	d = d/2 + rand.N(d/2+1) // "equal jitter": between d/2 and d
	if retryAfter > d {
		d = min(retryAfter, maxRetryAfter)
	}
	return d
}

// attempt sends one request. sent reports whether any of it may have reached
// the server; it is false only when the request was provably never written.
func (c *Client) attempt(ctx context.Context, cl *call, auth string, body []byte) (status int, respBody []byte, header http.Header, sent bool, err error) {
	var wrote atomic.Bool
	if cl.mode == retryUnsent {
		ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
			WroteHeaders: func() { wrote.Store(true) },
		})
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, c.baseURL+cl.path, rd)
	if err != nil {
		return 0, nil, nil, false, err
	}
	h := req.Header
	for k, v := range c.headers {
		h[k] = v
	}
	if cl.noSubscriptionKey {
		delete(h, "Ocp-Apim-Subscription-Key")
	}
	if cl.token {
		h["Client_id"] = []string{c.cfg.ClientID}
		h["Client_secret"] = []string{c.cfg.ClientSecret.Reveal()}
	} else {
		h["Authorization"] = []string{auth}
	}
	if body != nil {
		h["Content-Type"] = []string{"application/json"}
	}
	h["Accept"] = []string{"application/json"}
	if cl.requestID != "" {
		h["X-Request-Id"] = []string{cl.requestID}
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		// Only the trace proves that nothing was written; without it (keyed
		// or read-only calls) assume it may have been.
		sent = cl.mode != retryUnsent || wrote.Load()
		c.logAttempt(ctx, cl, 0, start, err)
		c.report(cl, start, body, 0, nil, err)
		return 0, nil, nil, sent, err
	}
	defer resp.Body.Close()
	respBody, err = io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	c.logAttempt(ctx, cl, resp.StatusCode, start, err)
	c.report(cl, start, body, resp.StatusCode, respBody, err)
	if err != nil {
		return 0, nil, nil, true, fmt.Errorf("read response: %w", err)
	}
	return resp.StatusCode, respBody, resp.Header, true, nil
}

// report tells Config.OnExchange of an attempt, unless it is the
// access-token request (whose answer is the token).
func (c *Client) report(cl *call, start time.Time, reqBody []byte, status int, respBody []byte, err error) {
	if c.cfg.OnExchange == nil || cl.token {
		return
	}
	c.cfg.OnExchange(Exchange{
		Op: cl.op, Method: cl.method, Path: cl.path, OrderID: cl.orderID, RequestID: cl.requestID,
		Start: start, Duration: time.Since(start), StatusCode: status,
		RequestBody: reqBody, ResponseBody: respBody, Err: err,
	})
}

func (c *Client) logAttempt(ctx context.Context, cl *call, status int, start time.Time, err error) {
	if !c.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("op", cl.op), slog.String("method", cl.method), slog.String("path", cl.path),
		slog.Int("status", status), slog.Duration("duration", time.Since(start)),
	}
	if cl.orderID != "" {
		attrs = append(attrs, slog.String("order_id", string(cl.orderID)))
	}
	if cl.requestID != "" {
		attrs = append(attrs, slog.String("request_id", cl.requestID))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "vipps request", attrs...)
}

// NewRequestID returns a random X-Request-Id (a UUID version 4, 36
// characters; Vipps allows 40).
func NewRequestID() string {
	var b [16]byte
	crand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}
