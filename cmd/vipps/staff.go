package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/internal/staff"
)

const staffDoc = `
Staff manages the accounts that sign in to the admin UI of "vipps serve"
(/admin/), in its database: for the first setup and for scripts. The same
can be done at /admin/staff by an administrator.

  vipps staff add <name> -role viewer|operator|admin
  vipps staff list
  vipps staff set-role <name> <role>
  vipps staff passwd <name>
  vipps staff disable <name>
  vipps staff enable <name>

Roles: a viewer reads payments; an operator also captures, refunds,
cancels, checks with Vipps and sends deliveries again; an admin also
manages staff and sees the go-live checklist. Names are letters, digits
and . _ @ -, the same whatever their case.

A password (add, passwd) is read from the first line of standard input, or
from -password-file; never from a flag's value, which other users can see.
It has 12 characters or more, and at most 72 bytes. A new password, and
disabling, signs the user out everywhere. The last enabled admin cannot be
disabled or lose the role.

-database is the service's database, as for "vipps serve".
`

// staffVerbs are the verbs of "vipps staff", each with the arguments it
// takes.
var staffVerbs = map[string]string{
	"add": "<name>", "list": "", "set-role": "<name> <role>", "passwd": "<name>", "disable": "<name>", "enable": "<name>",
}

func runStaff(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fs := newFlagSet(e, "staff", "add|list|set-role|passwd|disable|enable [arguments]", staffDoc)
		var database string
		defineDatabase(fs, &database)
		if _, err := fs.parse(args); err != nil {
			return err
		}
		return fs.usagef("name what to do: add, list, set-role, passwd, disable or enable")
	}
	verb := args[0]
	want, ok := staffVerbs[verb]
	if !ok {
		return &usageError{cmd: "staff", err: fmt.Errorf("unknown staff command %q: use add, list, set-role, passwd, disable or enable", verb)}
	}
	fs := newFlagSet(e, "staff "+verb, want, staffDoc)
	var database, role, passwordFile string
	defineDatabase(fs, &database)
	if verb == "add" {
		fs.fs.StringVar(&role, "role", "", "the new account's `role`: viewer, operator or admin")
	}
	if verb == "add" || verb == "passwd" {
		fs.fs.StringVar(&passwordFile, "password-file", "", "read the password from the first line of this `file` instead of standard input")
	}
	pos, err := fs.parse(args[1:])
	if err != nil {
		return err
	}
	if n := len(strings.Fields(want)); len(pos) != n {
		return fs.usagef("want %s, got %q", cmpOrNone(want), pos)
	}
	if verb == "add" && role == "" {
		return fs.usagef("-role is required: viewer, operator or admin")
	}
	var password string
	if verb == "add" || verb == "passwd" {
		if password, err = readPassword(e.stdin, passwordFile); err != nil {
			return fs.usageErr(err)
		}
	}
	db, err := parseDatabase(database)
	if err != nil {
		return fs.usageErr(err)
	}
	st, closer, err := openStore(ctx, db)
	if err != nil {
		return fmt.Errorf("staff: database %s: %w", redact(database), err)
	}
	defer closer.Close()
	sv, err := staff.New(staff.Config{Store: st})
	if err != nil {
		return err
	}
	ctx = payment.WithActor(ctx, payment.CommandLine)
	var a *staff.Account
	switch verb {
	case "list":
		return listStaff(ctx, e.stdout, sv)
	case "add":
		if a, err = sv.Add(ctx, pos[0], staff.Role(role), password); err == nil {
			fmt.Fprintf(e.stdout, "added %s (%s)\n", a.Name, a.Role)
		}
	case "set-role":
		if a, err = sv.SetRole(ctx, pos[0], staff.Role(pos[1])); err == nil {
			fmt.Fprintf(e.stdout, "%s is now %s\n", a.Name, a.Role)
		}
	case "passwd":
		if a, err = sv.SetPassword(ctx, pos[0], password); err == nil {
			fmt.Fprintf(e.stdout, "%s has a new password and is signed out everywhere\n", a.Name)
		}
	case "disable", "enable":
		if a, err = sv.SetDisabled(ctx, pos[0], verb == "disable"); err == nil {
			fmt.Fprintf(e.stdout, "%s is %sd\n", a.Name, verb)
		}
	}
	if errors.Is(err, payment.ErrInvalid) {
		return fs.usageErr(err)
	}
	if err != nil {
		return fmt.Errorf("staff %s: %w", verb, err)
	}
	return nil
}

func cmpOrNone(s string) string {
	if s == "" {
		return "no arguments"
	}
	return s
}

// listStaff prints every account, one a line.
func listStaff(ctx context.Context, w io.Writer, sv *staff.Service) error {
	as, err := sv.List(ctx)
	if err != nil {
		return fmt.Errorf("staff list: %w", err)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tSTATUS\tCHANGED\tBY")
	for _, a := range as {
		status := "enabled"
		if a.Disabled {
			status = "disabled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.Name, a.Role, status, a.UpdatedAt.UTC().Format("2006-01-02 15:04Z"), a.UpdatedBy)
	}
	return tw.Flush()
}

// readPassword reads a password from the first line of file, or of stdin
// when file is "".
func readPassword(stdin io.Reader, file string) (string, error) {
	from, r := "standard input", stdin
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return "", fmt.Errorf("-password-file: %w", err)
		}
		defer f.Close()
		from, r = file, f
	}
	if r == nil {
		return "", fmt.Errorf("no password: give it on standard input or in -password-file")
	}
	line, err := bufio.NewReader(io.LimitReader(r, 4<<10)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from %s: %w", from, err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("no password on %s: give it on the first line of standard input or in -password-file", from)
	}
	return line, nil
}
