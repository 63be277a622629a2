package vippstest

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/vippskit/vipps"
)

// expressConsentKey names the consent a user gave a merchant to share
// their details in express checkout.
type expressConsentKey struct {
	userID string
	msn    vipps.MSN
}

// consentLocked records that the user of express payment p consented to
// sharing their details with the merchant.
func (s *Simulator) consentLocked(p *payment, now time.Time) {
	if s.app.consents == nil {
		s.app.consents = map[expressConsentKey]time.Time{}
	}
	s.app.consents[expressConsentKey{p.user.userID, p.msn}] = now
}

// consentedLocked reports whether u has consented to sharing their details
// with merchant msn (and not withdrawn it since).
func (s *Simulator) consentedLocked(u *user, msn vipps.MSN) bool {
	_, ok := s.app.consents[expressConsentKey{u.userID, msn}]
	return ok
}

// ConsentRemoval is one consent removal request the simulator sent to a
// merchant: DELETE {consentRemovalPrefix}/v2/consents/{userId}.
type ConsentRemoval struct {
	// Time is the simulator's clock when the request was sent.
	Time   time.Time `json:"time"`
	MSN    vipps.MSN `json:"merchantSerialNumber"`
	UserID string    `json:"userId"`
	URL    string    `json:"url"`
	// StatusCode is the merchant's answer, 0 when there was none.
	StatusCode int `json:"statusCode"`
	// Err says why the request failed; empty when the merchant answered.
	Err string `json:"error,omitempty"`
	// Duration is how long the request took, in real time.
	Duration time.Duration `json:"duration"`
}

// Delivered reports whether the merchant answered 2xx.
func (c ConsentRemoval) Delivered() bool { return c.StatusCode >= 200 && c.StatusCode < 300 }

// ConsentRemovals returns the consent removal requests sent so far, oldest
// first (at most the latest 10,000).
func (s *Simulator) ConsentRemovals() []ConsentRemoval {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.app.consentRemovals)
}

// RemoveConsent acts as the user withdrawing, in the app, the consent to
// share their details with merchant msn ("" means every merchant). userID
// is the userId of the express callback and /details.
//
// The simulator sends DELETE consentRemovalPrefix + "/v2/consents/" +
// userId (the userId percent-encoded) once for each distinct
// consentRemovalPrefix of the user's approved express payments with that
// merchant, one attempt each with a 3-second timeout, and returns the
// requests once all are done (they are also in [Simulator.ConsentRemovals]).
// From then on the user must consent again in the browser app before that
// merchant's express checkout shares their details; payments already
// approved keep theirs. Userinfo (scope) sharing is not affected.
//
// It fails with [ErrNotFound] when the user has approved no express
// payment with the merchant. Close waits for the requests in flight.
func (s *Simulator) RemoveConsent(ctx context.Context, msn vipps.MSN, userID string) ([]ConsentRemoval, error) {
	type target struct {
		msn    vipps.MSN
		prefix string
	}
	s.mu.Lock()
	var targets []target
	for _, p := range s.payments {
		if !p.order.express() || p.user == nil || p.shipping == nil || p.user.userID != userID || (msn != "" && p.msn != msn) {
			continue
		}
		t := target{p.msn, p.order.consentRemovalPrefix}
		if !slices.Contains(targets, t) {
			targets = append(targets, t)
		}
	}
	for k := range s.app.consents {
		if k.userID == userID && (msn == "" || k.msn == msn) {
			delete(s.app.consents, k)
		}
	}
	if len(targets) == 0 {
		s.mu.Unlock()
		return nil, fmt.Errorf("remove consent of user %s: %w: no approved express payment with that merchant", userID, ErrNotFound)
	}
	slices.SortFunc(targets, func(a, b target) int {
		return strings.Compare(string(a.msn)+" "+a.prefix, string(b.msn)+" "+b.prefix)
	})
	now := s.nowLocked()
	timeout := s.cbTimeout
	if !s.beginCallLocked() {
		var out []ConsentRemoval
		for _, t := range targets {
			c := ConsentRemoval{Time: now, MSN: t.msn, UserID: userID, URL: consentURL(t.prefix, userID), Err: "not sent: the simulator is closed"}
			s.app.consentRemovals = appendBounded(s.app.consentRemovals, c)
			out = append(out, c)
		}
		s.mu.Unlock()
		return out, nil
	}
	s.mu.Unlock()

	out := make([]ConsentRemoval, 0, len(targets))
	for _, t := range targets {
		c := ConsentRemoval{Time: now, MSN: t.msn, UserID: userID, URL: consentURL(t.prefix, userID)}
		s.sendConsentRemoval(ctx, &c, timeout)
		out = append(out, c)
	}

	s.mu.Lock()
	for _, c := range out {
		s.app.consentRemovals = appendBounded(s.app.consentRemovals, c)
	}
	s.endCallLocked()
	s.mu.Unlock()
	return out, nil
}

// consentURL is prefix + "/v2/consents/" + the escaped userId.
func consentURL(prefix, userID string) string {
	return prefix + "/v2/consents/" + escapeSegment(userID)
}

// escapeSegment percent-encodes every byte but the unreserved A-Z a-z 0-9
// - . _ ~, so that a base64 userId's '+', '/' and '=' travel as %2B, %2F and
// %3D, as in the reference's example (url.PathEscape would leave '+' and
// '=').
func escapeSegment(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// sendConsentRemoval makes one DELETE and fills in the outcome.
func (s *Simulator) sendConsentRemoval(ctx context.Context, c *ConsentRemoval, timeout time.Duration) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	status, err := s.notify(ctx, http.MethodDelete, c.URL, nil, http.Header{"User-Agent": {"vippstest-consent"}})
	c.StatusCode = status
	if err != nil {
		c.Err = err.Error()
	}
	c.Duration = time.Since(start)
	level := slog.LevelInfo
	if !c.Delivered() {
		level = slog.LevelWarn
	}
	s.log.LogAttrs(ctx, level, "consent removal",
		slog.String("msn", string(c.MSN)), slog.String("url", c.URL),
		slog.Int("http_status", c.StatusCode), slog.String("error", c.Err),
		slog.Duration("duration", c.Duration))
}

// ctlRemoveConsent serves POST /_sim/consents/{userId}/remove?msn=: the
// requests sent, as JSON.
func (s *Simulator) ctlRemoveConsent(w http.ResponseWriter, r *http.Request) {
	out, err := s.RemoveConsent(r.Context(), vipps.MSN(r.URL.Query().Get("msn")), r.PathValue("userId"))
	if err != nil {
		ctlError(err).write(w)
		return
	}
	jsonReply(http.StatusOK, out).write(w)
}
