package main

import (
	"cmp"
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
	id := vipps.OrderID(order)
	return v.call(ctx, nil, func(ctx context.Context, client *vipps.Client) error {
		if id != "" {
			d, err := client.Details(ctx, id)
			if err != nil {
				return v.failed(err, id, "")
			}
			if d.Sub == "" {
				return v.failed(fmt.Errorf("payment %s has no sub: it was not initiated with -scope, the user has not approved it, or Vipps has not set it yet", order), id, "")
			}
			sub = d.Sub
		}
		u, err := client.UserInfo(ctx, sub)
		if err != nil {
			return v.failed(err, id, "")
		}
		return v.print(u, func(w io.Writer) { writeUserInfo(w, u) })
	})
}

// writeUserInfo writes the profile a user shared.
func writeUserInfo(w io.Writer, u *vipps.UserInfo) {
	kv := []string{
		"sub", u.Sub,
		"name", u.Name,
		"email", u.Email,
		"phone", u.PhoneNumber,
		"birth date", u.BirthDate,
		"nin", u.NIN,
	}
	if a := u.Address; a != nil {
		addr := cmp.Or(strings.ReplaceAll(strings.TrimSpace(a.Formatted), "\n", ", "),
			joinNonEmpty(", ", a.StreetAddress, joinNonEmpty(" ", a.PostalCode, a.Region), a.Country))
		kv = append(kv, "address", addr)
	}
	fields(w, "", kv...)
}
