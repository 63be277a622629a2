package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// csrfLifetime is how long a form stays valid.
const csrfLifetime = 12 * time.Hour

// csrfToken returns a form token for scope (the admin user, or "shop"): the
// issue time and an HMAC over scope and time. Forms are also guarded by
// http.CrossOriginProtection; the token is the second, browser-independent
// line of defence.
func (s *Server) csrfToken(scope string) string {
	t := strconv.FormatInt(s.now().Unix(), 10)
	return t + "." + s.csrfMAC(scope, t)
}

func (s *Server) csrfMAC(scope, t string) string {
	m := hmac.New(sha256.New, s.cfg.CSRFKey)
	m.Write([]byte("csrf\x00" + scope + "\x00" + t))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// csrfValid checks the form field "csrf" of r for scope.
func (s *Server) csrfValid(r *http.Request, scope string) bool {
	t, mac, ok := strings.Cut(r.PostFormValue("csrf"), ".")
	if !ok {
		return false
	}
	issued, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return false
	}
	age := s.now().Sub(time.Unix(issued, 0))
	if age < -time.Minute || age > csrfLifetime {
		return false
	}
	return hmac.Equal([]byte(mac), []byte(s.csrfMAC(scope, t)))
}
