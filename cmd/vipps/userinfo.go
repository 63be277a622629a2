package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/vippskit/vipps"
)

const userinfoDoc = `
Userinfo shows the profile a user agreed to share for a payment initiated
with -scope (GET /vipps-userinfo-api/userinfo/{sub}). The argument is the
sub of the payment, or with -order the sub is read from the payment's
details. Vipps keeps the data for a week after the payment.
`

func runUserInfo(ctx context.Context, e *env, args []string) error {
	v := newVerb(e, "userinfo", "[<sub>]", userinfoDoc)
	var order string
	v.fs.StringVar(&order, "order", "", "read the sub from the details of the payment with this order `id`")
	rest, err := v.parse(args)
	if err != nil {
		return err
	}
	var sub string
	switch {
	case order != "" && len(rest) > 0:
		return v.usagef("give a sub or -order, not both")
	case order == "":
		if sub, err = v.oneArg(rest, "sub (or -order <order-id>)"); err != nil {
			return err
		}
	default:
		if err := vipps.OrderID(order).Validate(); err != nil {
			return v.usagef("-order: %v", err)
		}
	}
	client, err := v.newClient()
	if err != nil {
		return err
	}
	ctx, cancel := v.context(ctx)
	defer cancel()
	if order != "" {
		d, err := client.Details(ctx, vipps.OrderID(order))
		if err != nil {
			return failed(err, "userinfo", vipps.OrderID(order), "")
		}
		if d.Sub == "" {
			return failed(fmt.Errorf("payment %s has no sub: it was not initiated with -scope, the user has not approved it, or Vipps has not set it yet", order), "userinfo", vipps.OrderID(order), "")
		}
		sub = d.Sub
	}
	u, err := client.UserInfo(ctx, sub)
	if err != nil {
		return failed(err, "userinfo", vipps.OrderID(order), "")
	}
	return v.print(u, func(w io.Writer) {
		kv := []string{
			"sub", u.Sub,
			"name", u.Name,
			"email", u.Email,
			"phone", u.PhoneNumber,
			"birth date", u.BirthDate,
			"nin", u.NIN,
		}
		if a := u.Address; a != nil {
			addr := strings.ReplaceAll(strings.TrimSpace(a.Formatted), "\n", ", ")
			if addr == "" {
				addr = joinNonEmpty(", ", a.StreetAddress, joinNonEmpty(" ", a.PostalCode, a.Region), a.Country)
			}
			kv = append(kv, "address", addr)
		}
		fields(w, "", kv...)
	})
}
