package callback

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"unicode"
	"unicode/utf8"
)

// maxUserIDLen bounds the userId of a consent removal. Vipps' userIds are
// short base64 strings or UUIDs.
const maxUserIDLen = 256

// serveConsent handles DELETE {prefix}/v2/consents/{userId}. Vipps sends no
// auth token on it (see the package doc), so it is served to anyone; the
// merchant's func must ignore userIds it does not know. It answers 200 once
// OnConsentRemoved has returned nil.
func (h *Handler) serveConsent(w http.ResponseWriter, r *http.Request, userID string, log *slog.Logger) error {
	if err := h.onConsent(r.Context(), userID); err != nil {
		return fmt.Errorf("remove consent: %w", err)
	}
	log.Info("consent removed")
	w.WriteHeader(http.StatusOK)
	return nil
}

// pathUserID unescapes the userId of a consent removal path. Everything
// after "/v2/consents/" is the userId, so an unescaped "/" in it survives
// too. "+" stays "+" (path, not form, encoding).
func pathUserID(escaped string) (string, error) {
	s, err := url.PathUnescape(escaped)
	if err != nil {
		return "", fmt.Errorf("%w: userId in path: %v", errBadRequest, err)
	}
	switch {
	case len(s) > maxUserIDLen:
		return "", fmt.Errorf("%w: userId is longer than %d bytes", errBadRequest, maxUserIDLen)
	case !utf8.ValidString(s):
		return "", fmt.Errorf("%w: userId is not UTF-8", errBadRequest)
	}
	for _, c := range s {
		if unicode.IsSpace(c) || unicode.IsControl(c) {
			return "", fmt.Errorf("%w: userId %q contains a space or control character", errBadRequest, s)
		}
	}
	return s, nil
}
