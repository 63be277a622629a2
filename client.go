package vipps

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Base URLs of the two Vipps environments.
const (
	ProductionURL = "https://api.vipps.no"
	TestURL       = "https://apitest.vipps.no"
)

// Version is the version of this library, sent as Vipps-System-Version and
// Vipps-System-Plugin-Version unless the Config says otherwise.
const Version = "0.1.0"

// maxSystemHeaderLen is the eCom limit for each Vipps-System-* header.
const maxSystemHeaderLen = 30

// Config configures a [Client]. The zero value of every optional field is a
// documented default; ClientID, ClientSecret, SubscriptionKey and
// MerchantSerialNumber are required.
type Config struct {
	// BaseURL is the Vipps environment: TestURL (the default) or
	// ProductionURL, or a simulator's URL. It may carry a path prefix.
	BaseURL string

	// ClientID, ClientSecret and SubscriptionKey are the sales unit's API
	// keys from portal.vipps.no.
	ClientID        string
	ClientSecret    Secret
	SubscriptionKey Secret

	// MerchantSerialNumber is the sales unit, sent as the
	// Merchant-Serial-Number header and in every body.
	MerchantSerialNumber MSN

	// SystemName and SystemVersion identify the merchant's system (for
	// example "acme-shop", "3.1.2"); PluginName and PluginVersion identify
	// the plugin or integration. They default to "vippskit" and Version for
	// the system, and to the system's values for the plugin, as Vipps
	// recommends. Each is at most 30 characters.
	SystemName    string
	SystemVersion string
	PluginName    string
	PluginVersion string

	// HTTPClient sends the requests. nil means a client with a 30 s timeout
	// per attempt on a [NewTransport].
	HTTPClient *http.Client

	// Retry bounds the retries of one call. The zero value is
	// DefaultRetryPolicy.
	Retry RetryPolicy

	// Logger receives debug lines per request and warnings per retry.
	// nil discards them. Secrets are never logged.
	Logger *slog.Logger

	// OnExchange, when set, is told of every HTTP request the client sends
	// to Vipps and what came back (see [Exchange]), once per attempt, on
	// the goroutine of the call and before the call returns: it must
	// return quickly, and must not change the bodies. Access-token requests
	// are not reported. The bodies are as sent and received, with whatever
	// personal data they hold: mask them before keeping them. Headers,
	// and so the keys and tokens they carry, are never given.
	OnExchange func(Exchange)
}

// Exchange is one HTTP request the client sent to Vipps and its answer, as
// given to Config.OnExchange.
type Exchange struct {
	// Op names the call, such as "capture" or "details".
	Op     string
	Method string
	// Path is the request's path after the base URL, such as
	// "/ecomm/v2/payments/acme-1/details".
	Path string
	// OrderID is the order the call is about; empty for calls about none.
	OrderID OrderID
	// RequestID is the X-Request-Id sent, if any.
	RequestID string
	// Start is when the request was sent; Duration how long the answer
	// took (or the failure).
	Start    time.Time
	Duration time.Duration
	// StatusCode is the HTTP status answered; 0 when no answer came.
	StatusCode int
	// RequestBody and ResponseBody are the bodies as sent and as read
	// (nil for none). They may hold personal data.
	RequestBody, ResponseBody []byte
	// Err is why no answer could be read; nil when one was.
	Err error
}

// RetryPolicy bounds retries: MaxAttempts tries in all, with a jittered
// exponential backoff between MinBackoff and MaxBackoff. A longer Retry-After
// from Vipps (429, 503) is honoured, up to one minute. No retry waits past the
// call's context deadline: when the wait would, the call returns the last error.
type RetryPolicy struct {
	// MaxAttempts is the number of tries including the first; 0 means 4,
	// 1 disables retries.
	MaxAttempts int
	// MinBackoff is the first wait; 0 means 200 ms.
	MinBackoff time.Duration
	// MaxBackoff caps each wait; 0 means 5 s.
	MaxBackoff time.Duration
}

// DefaultRetryPolicy is used when Config.Retry is the zero value.
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 4, MinBackoff: 200 * time.Millisecond, MaxBackoff: 5 * time.Second}

func (p RetryPolicy) withDefaults() RetryPolicy {
	p.MaxAttempts = cmp.Or(p.MaxAttempts, DefaultRetryPolicy.MaxAttempts)
	p.MinBackoff = cmp.Or(p.MinBackoff, DefaultRetryPolicy.MinBackoff)
	p.MaxBackoff = cmp.Or(p.MaxBackoff, DefaultRetryPolicy.MaxBackoff)
	return p
}

// Client calls the Vipps eCom v2, access token, Userinfo and Order Management
// APIs for one sales unit. It is safe for concurrent use; make one per MSN
// and reuse it, so that its access token is reused.
type Client struct {
	baseURL string // without a trailing slash
	cfg     Config
	hc      *http.Client
	retry   RetryPolicy
	log     *slog.Logger
	headers http.Header // sent on every request
	tokens  tokenCache
	now     func() time.Time
}

// New validates cfg and returns a client. The error names the field to fix.
func New(cfg Config) (*Client, error) {
	cfg.BaseURL = cmp.Or(cfg.BaseURL, TestURL)
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, fmt.Errorf("vipps: Config.BaseURL %q must be an absolute http(s) URL such as %s", cfg.BaseURL, TestURL)
	}
	var problems []string
	if cfg.ClientID == "" {
		problems = append(problems, "Config.ClientID is empty (the client_id from portal.vipps.no)")
	}
	if cfg.ClientSecret == "" {
		problems = append(problems, "Config.ClientSecret is empty (the client_secret from portal.vipps.no)")
	}
	if cfg.SubscriptionKey == "" {
		problems = append(problems, "Config.SubscriptionKey is empty (the Ocp-Apim-Subscription-Key from portal.vipps.no)")
	}
	if cfg.MerchantSerialNumber == "" {
		problems = append(problems, "Config.MerchantSerialNumber is empty (the sales unit's 5 or 6 digit MSN)")
	} else if err := cfg.MerchantSerialNumber.Validate(); err != nil {
		problems = append(problems, "Config.MerchantSerialNumber: "+err.Error())
	}
	cfg.SystemName = cmp.Or(cfg.SystemName, "vippskit")
	cfg.SystemVersion = cmp.Or(cfg.SystemVersion, Version)
	cfg.PluginName = cmp.Or(cfg.PluginName, cfg.SystemName)
	cfg.PluginVersion = cmp.Or(cfg.PluginVersion, cfg.SystemVersion)
	for _, f := range []struct{ name, v string }{
		{"SystemName", cfg.SystemName}, {"SystemVersion", cfg.SystemVersion},
		{"PluginName", cfg.PluginName}, {"PluginVersion", cfg.PluginVersion},
	} {
		if len(f.v) > maxSystemHeaderLen {
			problems = append(problems, fmt.Sprintf("Config.%s %q is %d characters; Vipps allows %d", f.name, f.v, len(f.v), maxSystemHeaderLen))
		}
		if strings.ContainsAny(f.v, "\r\n") {
			problems = append(problems, fmt.Sprintf("Config.%s must be one line", f.name))
		}
	}
	if cfg.Retry.MaxAttempts < 0 || cfg.Retry.MinBackoff < 0 || cfg.Retry.MaxBackoff < 0 {
		problems = append(problems, "Config.Retry fields must not be negative")
	}
	if len(problems) > 0 {
		return nil, errors.New("vipps: invalid config: " + strings.Join(problems, "; "))
	}
	c := &Client{
		baseURL: base.String(),
		cfg:     cfg,
		hc:      cfg.HTTPClient,
		retry:   cfg.Retry.withDefaults(),
		log:     cfg.Logger,
		now:     time.Now,
	}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: 30 * time.Second, Transport: NewTransport()}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.headers = http.Header{
		"Ocp-Apim-Subscription-Key":   {cfg.SubscriptionKey.Reveal()},
		"Merchant-Serial-Number":      {string(cfg.MerchantSerialNumber)},
		"Vipps-System-Name":           {cfg.SystemName},
		"Vipps-System-Version":        {cfg.SystemVersion},
		"Vipps-System-Plugin-Name":    {cfg.PluginName},
		"Vipps-System-Plugin-Version": {cfg.PluginVersion},
	}
	return c, nil
}

// MerchantSerialNumber returns the MSN the client acts for.
func (c *Client) MerchantSerialNumber() MSN { return c.cfg.MerchantSerialNumber }

// BaseURL returns the Vipps environment the client talks to.
func (c *Client) BaseURL() string { return c.baseURL }

// System returns what the client sends as Vipps-System-Name and
// Vipps-System-Version, defaults applied.
func (c *Client) System() (name, version string) { return c.cfg.SystemName, c.cfg.SystemVersion }

// MaxIdleConnsPerHost is how many idle connections to the API a
// [NewTransport] keeps.
const MaxIdleConnsPerHost = 64

// NewTransport returns a transport for a client of the API: a clone of
// [http.DefaultTransport] that keeps up to [MaxIdleConnsPerHost] idle
// connections to a host instead of two, so that concurrent payments, all
// to one host, reuse connections instead of opening and closing one per
// call.
func NewTransport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = MaxIdleConnsPerHost
	return tr
}
