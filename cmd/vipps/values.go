package main

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/vippskit/vipps"
)

// oreValue is a flag.Value for an amount in whole øre, as Vipps sends
// amounts: -amount 49900 is 499 kr.
type oreValue struct {
	a   *vipps.Amount
	set bool
}

func (o *oreValue) String() string {
	if o == nil || o.a == nil || !o.set {
		return ""
	}
	return strconv.FormatInt(int64(*o.a), 10)
}

func (o *oreValue) Set(s string) error {
	a, err := parseOre(s)
	if err != nil {
		return err
	}
	*o.a, o.set = a, true
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

// nokValue is a flag.Value for an amount in kroner with at most two
// decimals, "499", "499.50" or "499,50", converted to øre without floating
// point.
type nokValue struct {
	a   *vipps.Amount
	set bool
}

func (k *nokValue) String() string {
	if k == nil || k.a == nil || !k.set {
		return ""
	}
	return strings.TrimSuffix(k.a.String(), " NOK")
}

func (k *nokValue) Set(s string) error {
	a, err := parseNOK(s)
	if err != nil {
		return err
	}
	*k.a, k.set = a, true
	return nil
}

var nokPattern = regexp.MustCompile(`^([0-9]+)(?:[.,]([0-9]{1,2}))?$`)

// maxKroner keeps kroner*100 well inside int64.
const maxKroner = 1_000_000_000_000

// parseNOK parses kroner with at most two decimals into øre. It refuses
// what could be read two ways, such as "1,000" or "1.000" (a thousands
// separator or three decimals?), signs, exponents and spaces.
func parseNOK(s string) (vipps.Amount, error) {
	m := nokPattern.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not kroner: write 499, 499.50 or 499,50 (at most two decimals, no thousands separator, no sign)", s)
	}
	kr, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || kr > maxKroner {
		return 0, fmt.Errorf("%q is too large", s)
	}
	ore := int64(0)
	if m[2] != "" {
		ore, _ = strconv.ParseInt(m[2], 10, 64)
		if len(m[2]) == 1 {
			ore *= 10
		}
	}
	return vipps.Amount(kr*100 + ore), nil
}

// amountFlags are -amount (øre) and -nok (kroner); at most one may be given.
type amountFlags struct {
	ore, nok vipps.Amount
	oreV     *oreValue
	nokV     *nokValue
}

// defineAmount defines -amount and -nok on v with the given usage for
// -amount.
func defineAmount(v *verb, usage string) *amountFlags {
	a := &amountFlags{}
	a.oreV = &oreValue{a: &a.ore}
	a.nokV = &nokValue{a: &a.nok}
	v.fs.Var(a.oreV, "amount", usage+" in `øre` (49900 is 499 kr)")
	v.fs.Var(a.nokV, "nok", "the same amount in `kroner`, such as 499.00 or 499,50 (instead of -amount)")
	return a
}

// get returns the amount and whether one was given.
func (a *amountFlags) get() (vipps.Amount, bool, error) {
	switch {
	case a.oreV.set && a.nokV.set:
		return 0, false, errors.New("give -amount (øre) or -nok (kroner), not both")
	case a.oreV.set:
		return a.ore, true, nil
	case a.nokV.set:
		return a.nok, true, nil
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
	ore, err := parseNOK(cost)
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
