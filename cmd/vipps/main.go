// Command vipps is the vippskit tool: the Vipps eCom API v2 from the command
// line, and a simulator of the Vipps test environment.
//
// Usage:
//
//	vipps <command> [flags] [arguments]
//
// The commands are:
//
//	token      fetch an access token to check the credentials
//	initiate   start a payment and print the URL to send the user to
//	approve    approve a payment as the test user would (test environment only)
//	details    show a payment: amounts, shipping, user and its log
//	status     show a payment's last status (deprecated endpoint; use details)
//	capture    capture reserved money, all or part of it
//	cancel     cancel a payment or release its reservation
//	refund     refund captured money, all or part of it
//	receipt    add a receipt and a link to a payment (Order Management), or show them
//	userinfo   show the profile a user shared (Userinfo API)
//	migrate    bring the payment service's database schema up to date
//	staff      manage the staff accounts of the admin UI
//	serve      run the payment service
//	sim        run the Vipps simulator
//	checklist  grade Vipps' go-live checklist from what a shop did against vipps sim -audit
//	load       measure the service and the simulator under load, next to bare bounds
//
// Every API command takes the client flags -base-url, -client-id,
// -client-secret, -subscription-key, -msn, -system-name, -system-version,
// -plugin-name and -plugin-version, each falling back to an environment
// variable (VIPPS_BASE_URL, VIPPS_CLIENT_ID, ...), and -timeout, -json and
// -v. A flag wins over its environment variable. Amounts are øre, as Vipps
// sends them (-amount 49900 is 499 kr), or kroner with -nok 499.00.
//
// Run "vipps <command> -h" for a command's documentation and flags.
//
// The exit status is 0 on success, 2 for a mistake on the command line (an
// unknown command or flag, a missing argument or setting) and 1 for every
// other failure, such as an error answer from Vipps. Errors from Vipps are
// printed with their group, code, message and context id and what to do.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		printError(os.Stderr, err)
		os.Exit(exitCode(err))
	}
}

// env is what a command may touch of the outside world.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// command is one subcommand. Each lives in a file of its own.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

func commands() []command {
	return []command{
		{"token", "fetch an access token to check the credentials", runToken},
		{"initiate", "start a payment and print the URL to send the user to", runInitiate},
		{"approve", "approve a payment as the test user would (test environment only)", runApprove},
		{"details", "show a payment: amounts, shipping, user and its log", runDetails},
		{"status", "show a payment's last status (deprecated endpoint; use details)", runStatus},
		{"capture", "capture reserved money, all or part of it", runCapture},
		{"cancel", "cancel a payment or release its reservation", runCancel},
		{"refund", "refund captured money, all or part of it", runRefund},
		{"receipt", "add a receipt and a link to a payment (Order Management), or show them", runReceipt},
		{"userinfo", "show the profile a user shared (Userinfo API)", runUserInfo},
		{"migrate", "bring the payment service's database schema up to date", runMigrate},
		{"staff", "manage the staff accounts of the admin UI (add, list, set-role, passwd, disable, enable)", runStaff},
		{"serve", "run the payment service (with a simulator and demo shop when no Vipps is configured)", runServe},
		{"sim", "run the Vipps simulator", runSim},
		{"checklist", "grade Vipps' go-live checklist from what a shop did against vipps sim -audit", runChecklist},
		{"load", "measure the service and the simulator under load, next to bare bounds (issue 14)", runLoad},
	}
}

// run is main without the process: tests call it directly.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := &env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		usage(stderr)
		return &usageError{err: fmt.Errorf("no command given")}
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) == 1 {
			usage(stdout)
			return nil
		}
		// "vipps help capture" is "vipps capture -h".
		name, args = args[1], []string{name, "-h"}
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, e, args[1:])
		}
	}
	return &usageError{err: fmt.Errorf("unknown command %q", name)}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: vipps <command> [flags] [arguments]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun \"vipps <command> -h\" for a command's documentation and flags.")
}
