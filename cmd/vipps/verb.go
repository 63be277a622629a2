package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/vippskit/vipps"
)

// verb is what the API commands share: a flag set (see flagSet) with the
// client flags, -timeout, -json and -v.
type verb struct {
	*flagSet
	client  clientSettings
	timeout time.Duration
	json    bool
	verbose bool
}

// newVerb returns a verb with the client flags defined. The command defines
// its own flags on v.fs before calling v.parse.
func newVerb(e *env, name, args, doc string) *verb {
	v := &verb{flagSet: newFlagSet(e, name, args, doc)}
	v.client.define(v.flagSet, "test")
	v.durationEnv(&v.timeout, "timeout", time.Minute, "VIPPS_TIMEOUT", "give up after this `duration`, retries included")
	v.fs.BoolVar(&v.json, "json", false, "print the decoded response as indented JSON")
	v.fs.BoolVar(&v.verbose, "v", false, "log every request to Vipps on stderr")
	v.shared = append(v.shared, "timeout", "json", "v")
	return v
}

// oneArg returns the only argument, named what in the error when it is
// missing or there are more.
func (v *verb) oneArg(args []string, what string) (string, error) {
	switch len(args) {
	case 0:
		return "", v.usagef("missing %s", what)
	case 1:
		return args[0], nil
	}
	return "", v.usagef("want one %s, got %d arguments: %s", what, len(args), strings.Join(args, " "))
}

// parseOrder parses args (see flagSet.parse) of a command whose one
// argument is an order id, and returns the order id, checked.
func (v *verb) parseOrder(args []string) (vipps.OrderID, error) {
	rest, err := v.parse(args)
	if err != nil {
		return "", err
	}
	s, err := v.oneArg(rest, "order id")
	if err != nil {
		return "", err
	}
	id := vipps.OrderID(s)
	if err := id.Validate(); err != nil {
		return "", v.usageErr(err)
	}
	return id, nil
}

// require fails with one usage error that names every missing setting: the
// client's credentials and MSN, and the command's own required flags.
func (v *verb) require(flags ...string) error {
	if missing := v.missing(append([]string{"client-id", "client-secret", "subscription-key", "msn"}, flags...)...); len(missing) > 0 {
		return v.usagef("missing %s", strings.Join(missing, ", "))
	}
	return nil
}

// call checks that the credentials and the named flags are set (see
// require), builds the client from the client flags, and calls do with it
// within -timeout.
func (v *verb) call(ctx context.Context, required []string, do func(context.Context, *vipps.Client) error) error {
	if err := v.require(required...); err != nil {
		return err
	}
	if err := v.client.checkBaseURL(); err != nil {
		return v.usageErr(err)
	}
	if err := vipps.MSN(v.client.msn).Validate(); err != nil {
		return v.usagef("-msn: %v", err)
	}
	cfg := v.client.config()
	if v.verbose {
		cfg.Logger = slog.New(slog.NewTextHandler(v.e.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	client, err := vipps.New(cfg)
	if err != nil {
		return v.usageErr(err)
	}
	if v.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, v.timeout)
		defer cancel()
	}
	return unreachable(do(ctx, client), cfg.BaseURL)
}

// unreachable adds to err, when it is a connection refused or an unknown
// host at base, what to do: start the simulator or fix the base URL.
func unreachable(err error, base string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("%w (nothing listens at %s: start \"vipps sim\", or check -base-url or VIPPS_BASE_URL)", err, redact(base))
	}
	if dns, ok := errors.AsType[*net.DNSError](err); ok && dns.IsNotFound {
		return fmt.Errorf("%w (no host %s: check -base-url or VIPPS_BASE_URL, or start \"vipps sim\" and use its URL)", err, dns.Name)
	}
	return err
}

// failed wraps err from the command's call for order with the X-Request-Id
// sent, if any.
func (v *verb) failed(err error, order vipps.OrderID, requestID string) error {
	return failed(err, v.name, order, requestID)
}

// print writes the result: resp as indented JSON with -json, else what text
// writes.
func (v *verb) print(resp any, text func(w io.Writer)) error {
	if v.json {
		enc := json.NewEncoder(v.e.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false) // URLs keep their '&'
		return enc.Encode(resp)
	}
	text(v.e.stdout)
	return nil
}

// table writes rows aligned in columns.
func table(w io.Writer, rows [][]string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
}

// fields writes "name:  value" lines aligned, leaving out empty values.
func fields(w io.Writer, indent string, kv ...string) {
	var rows [][]string
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			rows = append(rows, []string{indent + kv[i] + ":", kv[i+1]})
		}
	}
	table(w, rows)
}

// formatTime writes a Vipps timestamp in UTC, or "" for none.
func formatTime(t vipps.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}
