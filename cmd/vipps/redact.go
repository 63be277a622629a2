package main

import (
	"net/url"
	"regexp"
	"strings"
)

// redacted stands for a secret in what is printed or logged. It is what
// url.URL.Redacted writes for a password.
const redacted = "xxxxx"

// safeQuery are the URL query parameters whose values are shown; every
// other value may be a token and is redacted.
var safeQuery = map[string]bool{
	"sslmode": true, "sslrootcert": true, "connect_timeout": true, "application_name": true,
	"search_path": true, "target_session_attrs": true, "pool_max_conns": true, "pool_min_conns": true,
	"timezone": true,
}

// kvPasswordRE matches the password of a PostgreSQL key=value DSN, quoted
// or not.
var kvPasswordRE = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S*)`)

// redact returns s, a URL or a PostgreSQL DSN from the configuration, fit
// to print or log: a password in the user info, a user name standing
// alone in an http(s) URL (it is a token there), every query value but
// the few known to be harmless, and a key=value DSN's password= are
// replaced by xxxxx. Anything else, such as a file path, is returned as
// it is. It is the one redaction of URLs and DSNs: use it wherever one is
// printed, logged or put in an error.
func redact(s string) string {
	if s == "" {
		return s
	}
	if keyValueRE.MatchString(s) {
		return kvPasswordRE.ReplaceAllString(s, "${1}"+redacted)
	}
	if !schemeRE.MatchString(s) {
		return s // a file path
	}
	u, err := url.Parse(s)
	if err != nil {
		scheme, _, _ := strings.Cut(s, ":")
		return scheme + ":[unparsable URL, redacted]"
	}
	if u.User != nil {
		_, hasPassword := u.User.Password()
		switch {
		case hasPassword:
			u.User = url.UserPassword(u.User.Username(), redacted)
		case u.Scheme == "http" || u.Scheme == "https":
			u.User = url.User(redacted)
		}
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k, vs := range q {
			if safeQuery[strings.ToLower(k)] {
				continue
			}
			for i := range vs {
				vs[i] = redacted
			}
		}
		u.RawQuery = q.Encode()
	}
	if u.Fragment != "" {
		u.Fragment = redacted
	}
	return u.String()
}
