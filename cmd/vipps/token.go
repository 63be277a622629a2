package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/vippskit/vipps"
)

const tokenDoc = `
Token fetches an access token (POST /accesstoken/get) with the client id,
client secret and subscription key, to check that they work together. It
prints the token's type and lifetime, not the token: it is a credential.
With -reveal it prints only the token, for use in another tool, as in

	curl -H "Authorization: Bearer $(vipps token -reveal)" ...

With -json the token is "[redacted]" unless -reveal is given too.
`

func runToken(ctx context.Context, e *env, args []string) error {
	v := newVerb(e, "token", "", tokenDoc)
	reveal := v.fs.Bool("reveal", false, "print the access token itself")
	rest, err := v.parse(args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return v.usagef("token takes no arguments")
	}
	return v.call(ctx, nil, func(ctx context.Context, client *vipps.Client) error {
		at, err := client.AccessToken(ctx)
		if err != nil {
			return v.failed(err, "", "")
		}
		if *reveal && !v.json {
			fmt.Fprintln(e.stdout, at.AccessToken.Reveal())
			return nil
		}
		out, err := tokenJSON(at, *reveal)
		if err != nil {
			return fmt.Errorf("token: %w", err)
		}
		return v.print(out, func(w io.Writer) {
			expires := ""
			if !at.ExpiresOn.IsZero() {
				expires = at.ExpiresOn.UTC().Format("2006-01-02 15:04:05Z")
			}
			fields(w, "",
				"access token", "OK (run with -reveal to print it)",
				"base url", client.BaseURL(),
				"msn", string(client.MerchantSerialNumber()),
				"type", at.TokenType,
				"expires in", at.ExpiresIn.String(),
				"expires on", expires,
				"resource", at.Resource,
			)
		})
	})
}

// tokenJSON is the wire shape of at, with the token redacted unless
// reveal.
func tokenJSON(at *vipps.AccessToken, reveal bool) (map[string]any, error) {
	b, err := json.Marshal(at)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	if !reveal {
		out["access_token"] = at.AccessToken.String()
	}
	return out, nil
}
