package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// connectError is a failed first connection: one line that says where,
// what failed and what to do, never the password. It wraps pgx's error.
type connectError struct {
	msg string
	err error
}

func (e *connectError) Error() string { return e.msg }
func (e *connectError) Unwrap() error { return e.err }

// explainConnect turns err, from the first connection with cfg, into a
// connectError.
func explainConnect(cfg *pgxpool.Config, err error) error {
	cc := cfg.ConnConfig
	where := fmt.Sprintf("postgres: connect to %s, database %q, as %q",
		net.JoinHostPort(cc.Host, strconv.Itoa(int(cc.Port))), cc.Database, cc.User)
	return &connectError{msg: where + ": " + connectCause(cc.Host, cc.Port, cc.Database, cc.User, err), err: err}
}

// connectCause says what failed and what to do.
func connectCause(host string, port uint16, database, user string, err error) string {
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		switch pe.Code {
		case "3D000": // invalid_catalog_name
			return fmt.Sprintf("the database %q does not exist: create it (createdb %s) or name another in the URL", database, database)
		case "28P01": // invalid_password
			return fmt.Sprintf("password authentication failed for %q: check the password in the URL", user)
		case "28000": // invalid_authorization_specification
			return pe.Message + ": check the user in the URL and the server's pg_hba.conf"
		case "57P03": // cannot_connect_now
			return pe.Message + ": the server is starting or stopping; try again"
		}
		return fmt.Sprintf("%s (SQLSTATE %s)", pe.Message, pe.Code)
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("connection refused: check that PostgreSQL runs on %s and listens on port %d", host, port)
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return "timed out: check the host, the port and any firewall between"
	}
	if dns, ok := errors.AsType[*net.DNSError](err); ok && dns.IsNotFound {
		return fmt.Sprintf("no such host %q: check the host in the URL", dns.Name)
	}
	// The innermost cause, on one line.
	for {
		next := errors.Unwrap(err)
		if next == nil {
			break
		}
		err = next
	}
	return strings.Join(strings.Fields(err.Error()), " ")
}

func isTimeout(err error) bool {
	ne, ok := errors.AsType[net.Error](err)
	return ok && ne.Timeout()
}
