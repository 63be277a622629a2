package callback

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
)

// Errors the handlers return; statusOf maps them to HTTP status.
var (
	errNotFound     = errors.New("not found")
	errMethod       = errors.New("method not allowed")
	errBadRequest   = errors.New("bad request")
	errUnauthorized = errors.New("unauthorized")
	errTooLarge     = errors.New("request body too large")
	errUnavailable  = errors.New("service unavailable")
)

// statusOf maps an error to the HTTP status of the answer. It is the only
// place that does.
func statusOf(err error) int {
	switch {
	case errors.Is(err, errNotFound):
		return http.StatusNotFound
	case errors.Is(err, errMethod):
		return http.StatusMethodNotAllowed
	case errors.Is(err, errBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, errUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, errTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, errUnavailable):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// fail answers with the status of err and logs it. Client errors are
// answered with their reason in plain text; 401 and 500 say no more than
// their status, so that neither the existence of an orderId nor the
// merchant's internals leak.
func fail(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	status := statusOf(err)
	msg := err.Error()
	switch status {
	case http.StatusUnauthorized:
		msg = "unauthorized"
		w.Header().Set("WWW-Authenticate", `Bearer realm="vipps-callback"`)
	case http.StatusInternalServerError:
		msg = "internal error"
	}
	level := slog.LevelWarn
	switch {
	case status == http.StatusNotFound: // scanners; not worth a warning
		level = slog.LevelDebug
	case status >= 500:
		level = slog.LevelError
	}
	log.Log(r.Context(), level, "vipps request refused", "status", status, "err", err)
	http.Error(w, msg, status)
}

// readBody reads at most limit bytes of the request body.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, fmt.Errorf("%w: the limit is %d bytes", errTooLarge, limit)
		}
		return nil, fmt.Errorf("%w: read body: %v", errBadRequest, err)
	}
	return b, nil
}

// decodeObject unmarshals a JSON object into v, saying what is wrong when it
// cannot.
func decodeObject(b []byte, v any) error {
	trim := bytes.TrimSpace(b)
	switch {
	case len(trim) == 0:
		return errors.New("body is empty; want a JSON object")
	case trim[0] != '{':
		return fmt.Errorf("body is not a JSON object: starts with %.20q", trim)
	}
	err := json.Unmarshal(trim, v)
	if err == nil {
		return nil
	}
	if e, ok := errors.AsType[*json.SyntaxError](err); ok {
		return fmt.Errorf("malformed JSON at byte %d: %v", e.Offset, e)
	}
	if e, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && e.Field != "" {
		return fmt.Errorf("field %s: JSON %s cannot be %s", e.Field, e.Value, e.Type)
	}
	return fmt.Errorf("invalid JSON: %v", err)
}
