package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/vippskit/vipps/internal/payment"
)

// maxAPIBody is the largest request body the shop's API reads.
const maxAPIBody = 64 << 10

// requireAPIKey serves h to requests that carry the API key as a bearer
// token ("Authorization: Bearer <key>"), compared in constant time, and
// answers every other request 401 with a WWW-Authenticate challenge. The
// shop (payment.ShopAPI) is the actor of the changes h makes. It
// limits request bodies to maxAPIBody (a larger one is 413) and marks
// answers as not cacheable.
func (s *Server) requireAPIKey(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		scheme, key, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		// secretEqual runs whatever the key; only its answer is used.
		ok := secretEqual(strings.TrimSpace(key), s.cfg.APIKey)
		if !strings.EqualFold(scheme, "Bearer") || !ok {
			challenge := `Bearer realm="vipps-api"`
			const how = `send the API key as "Authorization: Bearer <key>"`
			msg := how
			switch auth := r.Header.Get("Authorization"); {
			case auth == "" && (r.Header.Get("X-Api-Key") != "" || r.Header.Get("Api-Key") != ""):
				msg = "the API key goes in the Authorization header, not in an API key header: " + how
			case auth == "":
			case !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(key) == "":
				challenge += `, error="invalid_request"`
				msg = `the Authorization header must be "Bearer " and the API key: ` + how
			default:
				challenge += `, error="invalid_token"`
				msg = "the API key is wrong; " + how + " with the key the service is configured with"
			}
			w.Header().Set("WWW-Authenticate", challenge)
			s.writeJSON(w, http.StatusUnauthorized, errorBody{Error: apiError{
				Status: http.StatusUnauthorized, Message: msg, RequestID: requestID(r.Context()),
			}})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxAPIBody)
		h(w, r.WithContext(payment.WithActor(r.Context(), payment.ShopAPI)))
	})
}

// requestIDKey is the context key of the request id logRequests assigns.
type requestIDKey struct{}

// requestID returns the id logRequests gave the request, or "" outside it.
func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

func newRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// logRequests gives every request an id (sent back as X-Request-Id, and
// quoted in the error answers of the API so that staff can find the log
// line) and logs one line per request: at error level when the answer is
// 5xx, at debug level otherwise. The line has the method, the path (never
// the query, which may hold a return page token), the status, the
// duration and the orderId when the path names one; never a header or a
// body. A panic in h is logged with its stack and answered 500.
func (s *Server) logRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := newRequestID()
		w.Header().Set("X-Request-Id", id)
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("handler panicked", "method", r.Method, "path", r.URL.Path,
					"request_id", id, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if rec.status == 0 {
					http.Error(rec, "internal error; see the service log (request id "+id+")", http.StatusInternalServerError)
				}
			}
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			level := slog.LevelDebug
			if status >= 500 {
				level = slog.LevelError
			}
			if !s.log.Enabled(r.Context(), level) {
				return
			}
			attrs := []slog.Attr{
				slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", status), slog.Duration("duration", time.Since(start)),
				slog.String("request_id", id),
			}
			if oid := orderIDOfPath(r.URL.Path); oid != "" {
				attrs = append(attrs, slog.String("order_id", oid))
			}
			s.log.LogAttrs(r.Context(), level, "request", attrs...)
		}()
		h.ServeHTTP(rec, r)
	})
}

// orderIDOfPath returns the orderId a path names: /api/payments/{orderId},
// /admin/payments/{orderId} and /return/{orderId}, each with anything
// after it. It parses the path itself, since logRequests runs outside the
// mux and r.PathValue is empty there.
func orderIDOfPath(path string) string {
	seg := strings.Split(strings.Trim(path, "/"), "/")
	var id string
	switch {
	case len(seg) >= 3 && (seg[0] == "api" || seg[0] == "admin") && seg[1] == "payments":
		id = seg[2]
	case len(seg) >= 2 && seg[0] == "return":
		id = seg[1]
	}
	if len(id) > 50 { // not an orderId; keep the log line short
		id = id[:50]
	}
	return id
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 && code >= 200 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
