package main

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
)

// checkAddr checks that addr, the value of -flag, is host:port, and says
// what to write instead when it is not: "18002" becomes 127.0.0.1:18002,
// "localhost" becomes localhost:defaultPort.
func checkAddr(flag, addr, defaultPort string) error {
	_, _, err := net.SplitHostPort(addr)
	if err == nil {
		return nil
	}
	var suggest string
	switch {
	case addr == "":
		suggest = "127.0.0.1:" + defaultPort
	case isPort(addr):
		suggest = "127.0.0.1:" + addr
	case strings.HasPrefix(addr, ":") && isPort(addr[1:]):
		suggest = "127.0.0.1" + addr
	case net.ParseIP(addr) != nil && strings.Contains(addr, ":"):
		suggest = "[" + addr + "]:" + defaultPort
	case !strings.Contains(addr, ":"):
		suggest = addr + ":" + defaultPort
	default:
		return fmt.Errorf("-%s %q is not host:port (%v): write it such as 127.0.0.1:%s", flag, addr, err, defaultPort)
	}
	if strings.Contains(err.Error(), "missing port") {
		return fmt.Errorf("-%s %q has no port: write host:port, such as -%s %s", flag, addr, flag, suggest)
	}
	return fmt.Errorf("-%s %q is not host:port (%v): write it such as -%s %s", flag, addr, err, flag, suggest)
}

// isPort reports whether s is a port number.
func isPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 0 && n <= 65535 && s != "" && s[0] != '+' && s[0] != '-'
}

// listen listens on addr, the value of -flag, and says what to do when it
// cannot: for an address in use, which address and another to try.
func listen(flag, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		return ln, nil
	}
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return nil, fmt.Errorf("-%s %s: the address is already in use, by another program or another vipps: stop it, or choose another address, such as -%s %s",
			flag, addr, flag, nextPort(addr))
	case errors.Is(err, syscall.EACCES):
		return nil, fmt.Errorf("-%s %s: permission denied (ports below 1024 need privileges): choose a port above 1023, such as -%s %s",
			flag, addr, flag, withPort(addr, "8080"))
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return nil, fmt.Errorf("-%s %s: no network interface of this machine has that address: use one of its addresses, 127.0.0.1, or 0.0.0.0 for all", flag, addr)
	}
	if dns, ok := errors.AsType[*net.DNSError](err); ok && dns.IsNotFound {
		return nil, fmt.Errorf("-%s %s: no such host %q: use an address of this machine, such as %s", flag, addr, dns.Name, withPort(addr, "8080"))
	}
	return nil, fmt.Errorf("-%s %s: %w", flag, addr, err)
}

// nextPort is addr with the port after its own, a suggestion when addr is
// in use.
func nextPort(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	n, perr := strconv.Atoi(port)
	if err != nil || perr != nil || n == 0 || n >= 65535 {
		return withPort(addr, "0")
	}
	return withPort(addr, strconv.Itoa(n+1))
}

// withPort is addr with its port replaced.
func withPort(addr, port string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
