package checklist

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/vippstest"
)

// FallBackCheck is what a fresh browser without cookies got from a
// payment's fallBack URL.
type FallBackCheck struct {
	OrderID vipps.OrderID `json:"orderId"`
	URL     string        `json:"url"`
	// Status is the HTTP status of the last answer (after at most
	// maxRedirects redirects), 0 when there was none.
	Status int `json:"status"`
	// Final is the URL of the last answer, when a redirect was followed.
	Final string `json:"final,omitempty"`
	// Login reports that the redirects ended on what looks like a login
	// page: the page needs a session.
	Login bool   `json:"login,omitempty"`
	Err   string `json:"error,omitempty"`
	// Skipped reports a fallBack that is not checked (an app's own
	// scheme, or an isApp payment).
	Skipped bool `json:"skipped,omitempty"`
}

// OK reports whether the fallBack answered 2xx or 3xx, not on a login page.
func (c FallBackCheck) OK() bool {
	return !c.Skipped && c.Err == "" && !c.Login && c.Status >= 200 && c.Status < 400
}

// Note describes the check in words.
func (c FallBackCheck) Note() string {
	switch {
	case c.Skipped:
		return "fallBack " + c.URL + " not checked (an app's URL)"
	case c.Err != "":
		return "fallBack " + c.URL + ": " + c.Err
	case c.Login:
		return fmt.Sprintf("fallBack %s redirected to a login page %s", c.URL, c.Final)
	}
	return fmt.Sprintf("fallBack %s answered %d without a cookie", c.URL, c.Status)
}

const maxRedirects = 3

// loginPath matches the paths of login pages that a fallBack must not
// need.
var loginPath = regexp.MustCompile(`(?i)log-?in|sign-?in|auth|session`)

// CheckFallBacks GETs the fallBack URL of every payment (each URL once)
// with a new client that has no cookie jar, following at most 3
// redirects, each with a timeout of 10 s. hc supplies the transport; nil
// means http.DefaultTransport.
func CheckFallBacks(ctx context.Context, hc *http.Client, payments []vippstest.Payment) []FallBackCheck {
	var transport http.RoundTripper
	if hc != nil {
		transport = hc.Transport
	}
	client := &http.Client{
		Transport: transport,
		Timeout:   10 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > maxRedirects {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	var out []FallBackCheck
	seen := map[string]bool{}
	for _, p := range payments {
		if p.FallBack == "" || seen[p.FallBack] {
			continue
		}
		seen[p.FallBack] = true
		c := FallBackCheck{OrderID: p.OrderID, URL: p.FallBack}
		u, err := url.Parse(p.FallBack)
		if p.IsApp || err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			c.Skipped = true
			out = append(out, c)
			continue
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.FallBack, nil)
		if err != nil {
			c.Err = err.Error()
			out = append(out, c)
			continue
		}
		req.Header.Set("User-Agent", "vipps-checklist (a fresh browser without cookies)")
		resp, err := client.Do(req)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			c.Err = "no answer: " + err.Error()
			out = append(out, c)
			continue
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		c.Status = resp.StatusCode
		if final := resp.Request.URL; final.String() != p.FallBack {
			c.Final = final.String()
			c.Login = loginPath.MatchString(final.Path) && !loginPath.MatchString(u.Path)
		}
		out = append(out, c)
	}
	return out
}
