package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/vippskit/vipps"
)

// amountValue is a flag.Value for an amount: in whole øre, as Vipps sends
// amounts (-amount 49900 is 499 kr), or with kroner set in kroner as people
// write them (-nok 499,50; see vipps.ParseKroner).
type amountValue struct {
	a      vipps.Amount
	set    bool
	kroner bool
}

func (v *amountValue) String() string {
	switch {
	case v == nil || !v.set:
		return ""
	case v.kroner:
		return v.a.Kroner()
	}
	return strconv.FormatInt(int64(v.a), 10)
}

func (v *amountValue) Set(s string) error {
	parse := parseOre
	if v.kroner {
		parse = vipps.ParseKroner
	}
	a, err := parse(s)
	if err != nil {
		return err
	}
	v.a, v.set = a, true
	return nil
}

// parseOre parses a whole, non-negative number of øre.
func parseOre(s string) (vipps.Amount, error) {
	if strings.ContainsAny(s, ".,") {
		return 0, fmt.Errorf("%q is not whole øre; the amount is in øre (49900 is 499 kr): for kroner use -nok", s)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a whole number of øre (49900 is 499 kr)", s)
	}
	if n < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return vipps.Amount(n), nil
}

// amountFlags are -amount (øre) and -nok (kroner); at most one may be given.
type amountFlags struct{ ore, nok amountValue }

// defineAmount defines -amount and -nok on v with the given usage for
// -amount.
func defineAmount(v *verb, usage string) *amountFlags {
	a := &amountFlags{nok: amountValue{kroner: true}}
	v.fs.Var(&a.ore, "amount", usage+" in `øre` (49900 is 499 kr)")
	v.fs.Var(&a.nok, "nok", "the same amount in `kroner`, such as 499, 499,50 or 1 299,50 (instead of -amount)")
	return a
}

// get returns the amount and whether one was given.
func (a *amountFlags) get() (vipps.Amount, bool, error) {
	switch {
	case a.ore.set && a.nok.set:
		return 0, false, errors.New("give -amount (øre) or -nok (kroner), not both")
	case a.ore.set:
		return a.ore.a, true, nil
	case a.nok.set:
		return a.nok.a, true, nil
	}
	return 0, false, nil
}

// shippingValue collects -shipping 'id:name:cost' options for static express
// shipping. The cost is kroner, as Vipps sends shipping costs. The first
// option is the default; the order is the priority.
type shippingValue struct{ opts []vipps.ShippingOption }

func (s *shippingValue) String() string {
	if s == nil {
		return ""
	}
	var parts []string
	for _, o := range s.opts {
		parts = append(parts, fmt.Sprintf("%s:%s:%.2f", o.ShippingMethodID, o.ShippingMethod, float64(o.ShippingCost)))
	}
	return strings.Join(parts, ",")
}

func (s *shippingValue) Set(v string) error {
	id, rest, ok1 := strings.Cut(v, ":")
	i := strings.LastIndex(rest, ":")
	if !ok1 || i < 0 || id == "" || rest[:i] == "" {
		return fmt.Errorf("%q is not id:name:cost, such as 'posten:Posten Servicepakke:49.00'", v)
	}
	name, cost := rest[:i], rest[i+1:]
	ore, err := vipps.ParseKroner(cost)
	if err != nil {
		return fmt.Errorf("cost of %q: %w", v, err)
	}
	s.opts = append(s.opts, vipps.ShippingOption{
		IsDefault:        len(s.opts) == 0,
		Priority:         len(s.opts),
		ShippingCost:     vipps.NOKFromAmount(ore),
		ShippingMethod:   name,
		ShippingMethodID: id,
	})
	return nil
}

// lineValue collects -line 'id:name:total:tax' receipt lines: total is øre
// including tax, tax a whole percentage.
type lineValue struct{ lines []vipps.OrderLine }

func (l *lineValue) String() string {
	if l == nil {
		return ""
	}
	var parts []string
	for _, o := range l.lines {
		parts = append(parts, fmt.Sprintf("%s:%s:%d:%d", o.ID, o.Name, o.TotalAmount, o.TaxPercentage))
	}
	return strings.Join(parts, ",")
}

func (l *lineValue) Set(v string) error {
	bad := fmt.Errorf("%q is not id:name:total:tax, such as 'sku-1:Socks:24900:25' (total in øre including tax, tax in percent)", v)
	id, rest, ok := strings.Cut(v, ":")
	if !ok || id == "" {
		return bad
	}
	i := strings.LastIndex(rest, ":")
	if i < 0 {
		return bad
	}
	rest, taxText := rest[:i], rest[i+1:]
	j := strings.LastIndex(rest, ":")
	if j <= 0 {
		return bad
	}
	name, totalText := rest[:j], rest[j+1:]
	total, err := parseOre(totalText)
	if err != nil {
		return fmt.Errorf("total of %q: %w", v, err)
	}
	tax, err := strconv.Atoi(taxText)
	if err != nil || tax < 0 || tax > 100 {
		return fmt.Errorf("tax of %q must be a whole percentage from 0 to 100", v)
	}
	excl := splitTax(total, tax)
	l.lines = append(l.lines, vipps.OrderLine{
		Name:                    name,
		ID:                      id,
		TotalAmount:             total,
		TotalAmountExcludingTax: excl,
		TotalTaxAmount:          total - excl,
		TaxPercentage:           tax,
	})
	return nil
}

// splitTax returns the part of total (including tax at pct percent) without
// tax, rounded half up to the øre.
func splitTax(total vipps.Amount, pct int) vipps.Amount {
	d := int64(100 + pct)
	return vipps.Amount((int64(total)*100*2 + d) / (2 * d))
}
