package web

import (
	"context"
	"net/http"
	"time"
)

// readyTimeout bounds Config.Ready.
const readyTimeout = 2 * time.Second

// healthz answers 200 "ok" while the process serves HTTP: the liveness
// probe. It checks nothing else, so that a slow database never gets the
// process restarted.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeText(w, http.StatusOK, "ok")
}

// readyz answers 200 "ok" when Config.Ready (if any) reports within
// readyTimeout that the service can take payments, and 503 with the reason
// when it does not: the readiness probe.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := s.cfg.Ready(ctx); err != nil {
			s.log.Warn("not ready", "err", err)
			writeText(w, http.StatusServiceUnavailable, "not ready: "+err.Error())
			return
		}
	}
	writeText(w, http.StatusOK, "ok")
}

func writeText(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write([]byte(msg + "\n"))
}
