package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/vippskit/vipps"
)

// flagSet is the flag set of one command, the same for every command:
// flags and arguments in any order, a flag not given falls back to its
// environment variable (VIPPS_...), and one usage printer ("-h" prints to
// stdout and exits 0; a mistake is a usage error, exit 2).
type flagSet struct {
	fs   *flag.FlagSet
	name string // "capture"
	args string // what follows the flags in the usage line, such as "<order-id>"
	doc  string // the command's documentation, shown by -h
	e    *env
	envs []envFlag // flags with an environment fallback, in definition order
	// shared are the flags many commands share (the client flags),
	// shown apart from the command's own in the usage, in this order.
	shared []string
}

type envFlag struct{ flag, env string }

// newFlagSet returns the flag set of the command name. The command defines
// its settings with f.stringEnv, f.boolEnv and f.durationEnv (a flag and
// its environment variable), its other flags on f.fs, then calls f.parse.
func newFlagSet(e *env, name, args, doc string) *flagSet {
	f := &flagSet{fs: flag.NewFlagSet(name, flag.ContinueOnError), name: name, args: args, doc: doc, e: e}
	f.fs.SetOutput(io.Discard) // parse errors are returned, the usage is printed by f.usage
	return f
}

// env makes the flag fall back to the environment variable when it is not
// given on the command line.
func (f *flagSet) env(flagName, envVar string) {
	f.envs = append(f.envs, envFlag{flagName, envVar})
}

// stringEnv defines a string flag that falls back to an environment variable.
func (f *flagSet) stringEnv(p *string, name, value, envVar, usage string) {
	f.fs.StringVar(p, name, value, usage)
	f.env(name, envVar)
}

// boolEnv defines a bool flag that falls back to an environment variable.
func (f *flagSet) boolEnv(p *bool, name string, value bool, envVar, usage string) {
	f.fs.BoolVar(p, name, value, usage)
	f.env(name, envVar)
}

// intEnv defines an int flag that falls back to an environment variable.
func (f *flagSet) intEnv(p *int, name string, value int, envVar, usage string) {
	f.fs.IntVar(p, name, value, usage)
	f.env(name, envVar)
}

// durationEnv defines a duration flag that falls back to an environment
// variable.
func (f *flagSet) durationEnv(p *time.Duration, name string, value time.Duration, envVar, usage string) {
	f.fs.DurationVar(p, name, value, usage)
	f.env(name, envVar)
}

// envOf returns the environment variable of a flag, "" for none.
func (f *flagSet) envOf(flagName string) string {
	for _, e := range f.envs {
		if e.flag == flagName {
			return e.env
		}
	}
	return ""
}

// parse parses args, flags and arguments in any order ("--" ends the
// flags), then fills the flags not given from the environment. It returns
// the arguments. With -h it prints the usage to stdout and returns
// flag.ErrHelp.
func (f *flagSet) parse(args []string) ([]string, error) {
	pos, err := parseInterleaved(f.fs, args)
	if errors.Is(err, flag.ErrHelp) {
		f.usage(f.e.stdout)
		return nil, flag.ErrHelp
	}
	if err != nil {
		return nil, f.usageErr(err)
	}
	given := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	var bad []string
	for _, e := range f.envs {
		if given[e.flag] {
			continue
		}
		if val := f.e.getenv(e.env); val != "" {
			if err := f.fs.Set(e.flag, val); err != nil {
				bad = append(bad, fmt.Sprintf("invalid %s for -%s: %v", e.env, e.flag, err))
			}
		}
	}
	if len(bad) > 0 { // a failed Set may have left a flag at zero
		return nil, f.usagef("%s", strings.Join(bad, "; "))
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

// parseFlags is parse for a command that takes flags only.
func (f *flagSet) parseFlags(args []string) error {
	rest, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return f.usagef("unexpected arguments %q", rest)
	}
	return nil
}

// usageErr marks err as a command line mistake (exit status 2).
func (f *flagSet) usageErr(err error) error {
	return &usageError{cmd: f.name, err: err}
}

// usagef is usageErr with a formatted message.
func (f *flagSet) usagef(format string, args ...any) error {
	return f.usageErr(fmt.Errorf(format, args...))
}

// missing names each of the flags that is empty, with its environment
// variable: "-msn (or VIPPS_MSN)".
func (f *flagSet) missing(flags ...string) []string {
	var missing []string
	for _, name := range flags {
		if f.fs.Lookup(name).Value.String() != "" {
			continue
		}
		if env := f.envOf(name); env != "" {
			missing = append(missing, fmt.Sprintf("-%s (or %s)", name, env))
		} else {
			missing = append(missing, "-"+name)
		}
	}
	return missing
}

// usage writes the command's usage line, documentation and flags, with the
// environment variable each flag falls back to.
func (f *flagSet) usage(w io.Writer) {
	fmt.Fprintf(w, "usage: vipps %s [flags]", f.name)
	if f.args != "" {
		fmt.Fprintf(w, " %s", f.args)
	}
	fmt.Fprintf(w, "\n\n%s\n", strings.TrimSpace(f.doc))
	var own, shared []*flag.Flag
	f.fs.VisitAll(func(fl *flag.Flag) {
		if slices.Contains(f.shared, fl.Name) {
			shared = append(shared, fl)
		} else {
			own = append(own, fl)
		}
	})
	// VisitAll sorts by name; show the shared flags in definition order.
	slices.SortStableFunc(shared, func(a, b *flag.Flag) int {
		return slices.Index(f.shared, a.Name) - slices.Index(f.shared, b.Name)
	})
	if len(own) > 0 {
		fmt.Fprintf(w, "\nFlags:\n")
		f.printFlags(w, own)
	}
	if len(shared) > 0 {
		fmt.Fprintf(w, "\nClient flags:\n")
		f.printFlags(w, shared)
	}
	if len(f.envs) > 0 {
		fmt.Fprintf(w, "\nA flag given on the command line wins over its environment variable.\n")
	}
}

func (f *flagSet) printFlags(w io.Writer, flags []*flag.Flag) {
	for _, fl := range flags {
		name, usage := flag.UnquoteUsage(fl)
		fmt.Fprintf(w, "  -%s", fl.Name)
		if name != "" {
			fmt.Fprintf(w, " %s", name)
		}
		fmt.Fprintf(w, "\n    \t%s", strings.ReplaceAll(usage, "\n", "\n    \t"))
		if env := f.envOf(fl.Name); env != "" {
			fmt.Fprintf(w, " (env %s)", env)
		}
		if d := fl.DefValue; d != "" && d != "false" && d != "0" && d != "[]" {
			fmt.Fprintf(w, " (default %s)", d)
		}
		fmt.Fprintln(w)
	}
}

// clientSettings are the flags that configure the vipps.Client, the same
// in every command that talks to Vipps.
type clientSettings struct {
	baseURL, clientID, clientSecret, subscriptionKey, msn string
	systemName, systemVersion, pluginName, pluginVersion  string
}

// define defines the client flags on f, each with its environment
// variable; baseURL is the default of -base-url, which the command's
// documentation explains when it is empty.
func (c *clientSettings) define(f *flagSet, baseURL string) {
	f.stringEnv(&c.baseURL, "base-url", baseURL, "VIPPS_BASE_URL", "Vipps environment: \"test\", \"production\" or a `url`")
	f.stringEnv(&c.clientID, "client-id", "", "VIPPS_CLIENT_ID", "client_id of the sales unit, from portal.vipps.no")
	f.stringEnv(&c.clientSecret, "client-secret", "", "VIPPS_CLIENT_SECRET", "client_secret of the sales unit (prefer the environment: flags show in ps)")
	f.stringEnv(&c.subscriptionKey, "subscription-key", "", "VIPPS_SUBSCRIPTION_KEY", "Ocp-Apim-Subscription-Key of the sales unit (prefer the environment)")
	f.stringEnv(&c.msn, "msn", "", "VIPPS_MSN", "merchant serial number of the sales unit, 5 or 6 digits")
	f.stringEnv(&c.systemName, "system-name", "", "VIPPS_SYSTEM_NAME", "Vipps-System-Name header (default \"vippskit\")")
	f.stringEnv(&c.systemVersion, "system-version", "", "VIPPS_SYSTEM_VERSION", "Vipps-System-Version header (default the vippskit version)")
	f.stringEnv(&c.pluginName, "plugin-name", "", "VIPPS_PLUGIN_NAME", "Vipps-System-Plugin-Name header (default the system name)")
	f.stringEnv(&c.pluginVersion, "plugin-version", "", "VIPPS_PLUGIN_VERSION", "Vipps-System-Plugin-Version header (default the system version)")
	f.shared = append(f.shared, "base-url", "client-id", "client-secret", "subscription-key", "msn",
		"system-name", "system-version", "plugin-name", "plugin-version")
}

// checkBaseURL checks -base-url: empty, "test", "production" or an
// absolute http(s) URL.
func (c *clientSettings) checkBaseURL() error {
	switch base := c.baseURL; strings.ToLower(base) {
	case "", "test", "production", "prod":
		return nil
	default:
		if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("-base-url %q is neither \"test\", \"production\" nor an http(s) URL: use one of those", redact(base))
		}
	}
	return nil
}

// config returns the client's configuration: -base-url "test" (or
// empty) and "production" stand for Vipps' own URLs.
func (c *clientSettings) config() vipps.Config {
	base := c.baseURL
	switch strings.ToLower(base) {
	case "", "test":
		base = vipps.TestURL
	case "production", "prod":
		base = vipps.ProductionURL
	}
	return vipps.Config{
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
}
