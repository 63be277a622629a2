package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vippskit/vipps"
)

// verb is what the API commands share: a flag set whose settings fall back
// to environment variables, the client flags, -timeout, -json and -v.
type verb struct {
	name string // "capture"
	args string // what follows the flags in the usage line, such as "<order-id>"
	doc  string // the command's documentation, shown by -h
	e    *env
	fs   *flag.FlagSet
	envs []envFlag // flags with an environment fallback, in definition order

	client  clientSettings
	timeout time.Duration
	json    bool
	verbose bool
}

type envFlag struct{ flag, env string }

// clientSettings are the flags that configure the vipps.Client.
type clientSettings struct {
	baseURL, clientID, clientSecret, subscriptionKey, msn string
	systemName, systemVersion, pluginName, pluginVersion  string
}

// clientFlags lists the flags of the client group, for usage and require.
var clientFlags = []string{"base-url", "client-id", "client-secret", "subscription-key", "msn",
	"system-name", "system-version", "plugin-name", "plugin-version", "timeout", "json", "v"}

// newVerb returns a verb with the client flags defined. The command defines
// its own flags on v.fs before calling v.parse.
func newVerb(e *env, name, args, doc string) *verb {
	v := &verb{name: name, args: args, doc: doc, e: e, fs: flag.NewFlagSet(name, flag.ContinueOnError)}
	v.fs.SetOutput(io.Discard) // parse errors are returned, usage is printed by v.usage
	c := &v.client
	v.stringEnv(&c.baseURL, "base-url", "VIPPS_BASE_URL", "Vipps environment: `url`, or \"test\" (the default) or \"production\"")
	v.stringEnv(&c.clientID, "client-id", "VIPPS_CLIENT_ID", "client_id of the sales unit, from portal.vipps.no")
	v.stringEnv(&c.clientSecret, "client-secret", "VIPPS_CLIENT_SECRET", "client_secret of the sales unit (prefer the environment: flags show in ps)")
	v.stringEnv(&c.subscriptionKey, "subscription-key", "VIPPS_SUBSCRIPTION_KEY", "Ocp-Apim-Subscription-Key of the sales unit (prefer the environment)")
	v.stringEnv(&c.msn, "msn", "VIPPS_MSN", "merchant serial number of the sales unit, 5 or 6 digits")
	v.stringEnv(&c.systemName, "system-name", "VIPPS_SYSTEM_NAME", "Vipps-System-Name header (default \"vippskit\")")
	v.stringEnv(&c.systemVersion, "system-version", "VIPPS_SYSTEM_VERSION", "Vipps-System-Version header (default the vippskit version)")
	v.stringEnv(&c.pluginName, "plugin-name", "VIPPS_PLUGIN_NAME", "Vipps-System-Plugin-Name header (default the system name)")
	v.stringEnv(&c.pluginVersion, "plugin-version", "VIPPS_PLUGIN_VERSION", "Vipps-System-Plugin-Version header (default the system version)")
	v.fs.DurationVar(&v.timeout, "timeout", time.Minute, "give up after this `duration`, retries included")
	v.env("timeout", "VIPPS_TIMEOUT")
	v.fs.BoolVar(&v.json, "json", false, "print the decoded response as indented JSON")
	v.fs.BoolVar(&v.verbose, "v", false, "log every request to Vipps on stderr")
	return v
}

// stringEnv defines a string flag that falls back to an environment variable.
func (v *verb) stringEnv(p *string, name, envVar, usage string) {
	v.fs.StringVar(p, name, "", usage)
	v.env(name, envVar)
}

// env makes the flag fall back to the environment variable when it is not
// given on the command line.
func (v *verb) env(flagName, envVar string) {
	v.envs = append(v.envs, envFlag{flagName, envVar})
}

func (v *verb) envOf(flagName string) string {
	for _, f := range v.envs {
		if f.flag == flagName {
			return f.env
		}
	}
	return ""
}

// parse parses args, flags and arguments in any order ("--" ends the
// flags), then fills the flags not given from the environment. It returns
// the arguments. With -h it prints the usage to stdout and returns
// flag.ErrHelp.
func (v *verb) parse(args []string) ([]string, error) {
	pos, err := parseInterleaved(v.fs, args)
	if errors.Is(err, flag.ErrHelp) {
		v.usage(v.e.stdout)
		return nil, flag.ErrHelp
	}
	if err != nil {
		return nil, v.usageErr(err)
	}
	given := map[string]bool{}
	v.fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, f := range v.envs {
		if given[f.flag] {
			continue
		}
		if val := v.e.getenv(f.env); val != "" {
			if err := v.fs.Set(f.flag, val); err != nil {
				return nil, v.usageErr(fmt.Errorf("invalid %s for -%s: %v", f.env, f.flag, err))
			}
		}
	}
	return pos, nil
}

// parseInterleaved lets arguments and flags mix, as in
// "vipps capture acme-1 -amount 100"; everything after "--" is an argument.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// usageErr marks err as a command line mistake (exit status 2).
func (v *verb) usageErr(err error) error {
	return &usageError{cmd: v.name, err: err}
}

// usagef is usageErr with a formatted message.
func (v *verb) usagef(format string, args ...any) error {
	return v.usageErr(fmt.Errorf(format, args...))
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

// orderArg returns the order id argument, checked.
func (v *verb) orderArg(args []string) (vipps.OrderID, error) {
	s, err := v.oneArg(args, "order id")
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
	var missing []string
	for _, name := range append([]string{"client-id", "client-secret", "subscription-key", "msn"}, flags...) {
		if v.fs.Lookup(name).Value.String() != "" {
			continue
		}
		if env := v.envOf(name); env != "" {
			missing = append(missing, fmt.Sprintf("-%s (or %s)", name, env))
		} else {
			missing = append(missing, "-"+name)
		}
	}
	if len(missing) > 0 {
		return v.usagef("missing %s", strings.Join(missing, ", "))
	}
	return nil
}

// newClient checks that the credentials and the named flags are set (see
// require), then builds the client from the client flags.
func (v *verb) newClient(required ...string) (*vipps.Client, error) {
	if err := v.require(required...); err != nil {
		return nil, err
	}
	c := v.client
	base := c.baseURL
	switch strings.ToLower(base) {
	case "", "test":
		base = vipps.TestURL
	case "production", "prod":
		base = vipps.ProductionURL
	default:
		if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, v.usagef("-base-url %q must be \"test\", \"production\" or an http(s) URL", base)
		}
	}
	if err := vipps.MSN(c.msn).Validate(); err != nil {
		return nil, v.usagef("-msn: %v", err)
	}
	cfg := vipps.Config{
		BaseURL:              base,
		ClientID:             c.clientID,
		ClientSecret:         vipps.Secret(c.clientSecret),
		SubscriptionKey:      vipps.Secret(c.subscriptionKey),
		MerchantSerialNumber: vipps.MSN(c.msn),
		SystemName:           c.systemName,
		SystemVersion:        c.systemVersion,
		PluginName:           c.pluginName,
		PluginVersion:        c.pluginVersion,
	}
	if v.verbose {
		cfg.Logger = slog.New(slog.NewTextHandler(v.e.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	client, err := vipps.New(cfg)
	if err != nil {
		return nil, v.usageErr(err)
	}
	return client, nil
}

// context bounds ctx by -timeout.
func (v *verb) context(ctx context.Context) (context.Context, context.CancelFunc) {
	if v.timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, v.timeout)
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

// usage writes the command's usage line, documentation and flags, with the
// environment variable each flag falls back to.
func (v *verb) usage(w io.Writer) {
	fmt.Fprintf(w, "usage: vipps %s [flags]", v.name)
	if v.args != "" {
		fmt.Fprintf(w, " %s", v.args)
	}
	fmt.Fprintf(w, "\n\n%s\n", strings.TrimSpace(v.doc))
	var own, shared []*flag.Flag
	v.fs.VisitAll(func(f *flag.Flag) {
		if slices.Contains(clientFlags, f.Name) {
			shared = append(shared, f)
		} else {
			own = append(own, f)
		}
	})
	// VisitAll sorts by name; show the client flags in definition order.
	slices.SortStableFunc(shared, func(a, b *flag.Flag) int {
		return slices.Index(clientFlags, a.Name) - slices.Index(clientFlags, b.Name)
	})
	if len(own) > 0 {
		fmt.Fprintf(w, "\nFlags:\n")
		v.printFlags(w, own)
	}
	fmt.Fprintf(w, "\nClient flags (a flag wins over its environment variable):\n")
	v.printFlags(w, shared)
}

func (v *verb) printFlags(w io.Writer, flags []*flag.Flag) {
	for _, f := range flags {
		name, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(w, "  -%s", f.Name)
		if name != "" {
			fmt.Fprintf(w, " %s", name)
		}
		fmt.Fprintf(w, "\n    \t%s", strings.ReplaceAll(usage, "\n", "\n    \t"))
		if env := v.envOf(f.Name); env != "" {
			fmt.Fprintf(w, " (env %s)", env)
		}
		if d := f.DefValue; d != "" && d != "false" && d != "0" && d != "[]" {
			fmt.Fprintf(w, " (default %s)", d)
		}
		fmt.Fprintln(w)
	}
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
