package vippstest

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vippskit/vipps"
)

// issuedToken is an access token the simulator handed out.
type issuedToken struct {
	msn     vipps.MSN
	expires time.Time
}

// Texts of the API gateway's 401 answers.
const (
	msgMissingKey = "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API."
	msgInvalidKey = "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription."
)

func secretEqual(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// merchantByKeyLocked finds the merchant of a subscription key.
func (s *Simulator) merchantByKey(key string) *Merchant {
	var found *Merchant
	for _, m := range s.merchants {
		if secretEqual(key, m.SubscriptionKey) {
			found = m
		}
	}
	return found
}

// accessToken serves POST /accesstoken/get (and /accessToken/get).
func (s *Simulator) accessToken(x *exchange) reply {
	if x.r.Method != http.MethodPost {
		return gatewayReply(http.StatusNotFound, "Resource not found")
	}
	key := x.r.Header.Get("Ocp-Apim-Subscription-Key")
	if key == "" {
		return gatewayReply(http.StatusUnauthorized, msgMissingKey)
	}
	m := s.merchantByKey(key)
	if m == nil {
		return gatewayReply(http.StatusUnauthorized, msgInvalidKey)
	}
	x.rec.MSN = m.MSN
	id, secret := x.r.Header.Get("client_id"), x.r.Header.Get("client_secret")
	if id == "" || secret == "" {
		return unauthorizedReply("The client_id and client_secret headers are required.")
	}
	// Compare both, always, so that timing says nothing about which one
	// was wrong.
	okID, okSecret := secretEqual(id, m.ClientID), secretEqual(secret, m.ClientSecret)
	if !okID || !okSecret {
		return unauthorizedReply("Invalid client_id or client_secret for this subscription key.")
	}
	if h := x.r.Header.Get("Merchant-Serial-Number"); h != "" && h != string(m.MSN) {
		x.warn("Merchant-Serial-Number %q is not the MSN of these keys (%s)", h, m.MSN)
	}
	if len(x.body) > 0 {
		x.warn("the access token request has a body; Vipps expects none")
	}

	s.pruneTokensLocked(x.now)
	life := s.cfg.TokenLifetime
	exp := x.now.Add(life)
	tok := newJWT(m, x.now, exp)
	s.tokens[tok] = issuedToken{msn: m.MSN, expires: exp}
	s.metrics.tokenIssued(m.MSN)
	at := vipps.AccessToken{
		TokenType:    "Bearer",
		ExpiresIn:    life,
		ExtExpiresIn: life,
		ExpiresOn:    exp,
		NotBefore:    x.now,
		Resource:     "00000002-0000-0000-c000-000000000000",
		AccessToken:  vipps.Secret(tok),
	}
	return jsonReply(http.StatusOK, at)
}

func (s *Simulator) pruneTokensLocked(now time.Time) {
	for t, it := range s.tokens {
		if !now.Before(it.expires) {
			delete(s.tokens, t)
		}
	}
}

// jwtHeader is the header of the simulator's access tokens.
const jwtHeader = `{"alg":"RS256","kid":"vippstest","typ":"JWT"}`

// newJWT makes a token that looks like Vipps' (a JWT) but is only a key
// into the simulator's table: the signature is random.
func newJWT(m *Merchant, now, exp time.Time) string {
	enc := base64.RawURLEncoding
	claims, err := json.Marshal(map[string]any{
		"aud":   "00000002-0000-0000-c000-000000000000",
		"iss":   "https://vippstest.invalid/",
		"iat":   now.Unix(),
		"nbf":   now.Unix(),
		"exp":   exp.Unix(),
		"appid": m.ClientID,
		"msn":   string(m.MSN),
		"ver":   "1.0",
	})
	if err != nil { // strings and numbers only
		panic("vippstest: encode JWT claims: " + err.Error())
	}
	return enc.EncodeToString([]byte(jwtHeader)) + "." + enc.EncodeToString(claims) + "." + enc.EncodeToString(randomBytes(32))
}

// authorize checks the subscription key and the bearer token of an API
// call. withKey is false for Userinfo, which must be called without a
// subscription key. It returns the merchant, or the 401 to answer.
func (s *Simulator) authorize(x *exchange, withKey bool) (*Merchant, *reply) {
	var keyMerchant *Merchant
	key := x.r.Header.Get("Ocp-Apim-Subscription-Key")
	switch {
	case withKey && key == "":
		rep := gatewayReply(http.StatusUnauthorized, msgMissingKey)
		return nil, &rep
	case withKey:
		if keyMerchant = s.merchantByKey(key); keyMerchant == nil {
			rep := gatewayReply(http.StatusUnauthorized, msgInvalidKey)
			return nil, &rep
		}
	case key != "" && !s.cfg.Lenient:
		rep := unauthorizedReply("Userinfo must be called without Ocp-Apim-Subscription-Key.")
		return nil, &rep
	case key != "":
		x.warn("Userinfo was called with Ocp-Apim-Subscription-Key; real Vipps answers 401")
	}
	auth := x.r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || tok == "" {
		rep := unauthorizedReply("The Authorization header must be \"Bearer <access token>\".")
		return nil, &rep
	}
	it, known := s.tokens[tok]
	switch {
	case !known:
		rep := unauthorizedReply("The access token is not valid.")
		return nil, &rep
	case !x.now.Before(it.expires):
		rep := unauthorizedReply("The access token expired at " + it.expires.Format(time.RFC3339) + ".")
		return nil, &rep
	case keyMerchant != nil && keyMerchant.MSN != it.msn:
		rep := unauthorizedReply("The access token was issued for another subscription key.")
		return nil, &rep
	}
	m := s.byMSN[it.msn]
	x.rec.MSN = m.MSN
	for _, h := range []string{"Vipps-System-Name", "Vipps-System-Version", "Vipps-System-Plugin-Name", "Vipps-System-Plugin-Version"} {
		if v := x.r.Header.Get(h); len(v) > 30 && !strings.HasPrefix(x.r.URL.Path, "/order-management/") {
			x.warn("%s is %d characters; the eCom API allows 30", h, len(v))
		}
	}
	return m, nil
}

// headerMSNOK checks the Merchant-Serial-Number header against the
// merchant the keys belong to. A mismatch is refused in strict mode.
func (s *Simulator) headerMSNOK(x *exchange, m *Merchant) bool {
	h := x.r.Header.Get("Merchant-Serial-Number")
	if h == "" || h == string(m.MSN) {
		return true
	}
	if s.cfg.Lenient {
		x.warn("Merchant-Serial-Number %q is not the MSN of the keys (%s)", h, m.MSN)
		return true
	}
	return false
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
