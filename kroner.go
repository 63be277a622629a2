package vipps

import (
	"fmt"
	"strconv"
	"strings"
)

// nbsp is the non-breaking space that groups thousands and joins "kr" to
// the number, so that an amount never breaks over two lines.
const nbsp = "\u00a0"

// Kroner formats a the way Norwegians write an amount and the Vipps app
// shows it: "1 299,00 kr", thousands grouped and "kr" joined with
// non-breaking spaces. It is the one human-readable form of an amount in
// this module: the web pages, the simulator's app and the command line
// all use it. [Amount.String] is the plain form for logs and errors.
func (a Amount) Kroner() string {
	sign, v := "", int64(a)
	if v < 0 {
		sign = "-"
		v = -v // MinInt64 øre is not money; it formats oddly but safely.
	}
	whole := strconv.FormatInt(v/100, 10)
	var b strings.Builder
	b.WriteString(sign)
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteString(nbsp)
		}
		b.WriteRune(c)
	}
	fmt.Fprintf(&b, ",%02d%skr", v%100, nbsp)
	return b.String()
}

// maxKroner keeps kroner*100 well inside an int64.
const maxKroner = 1_000_000_000_000

// ParseKroner reads an amount in kroner as people type it and returns it in
// øre: "149", "149,50", "149.5", "1 299,50" (thousands grouped by spaces,
// ordinary or non-breaking), "149,-", with "kr" or "NOK" before or after.
// The decimal mark is a comma or a point, with one or two decimals.
//
// It refuses what could be read two ways, such as "1,000" or "1.000" (a
// thousands separator, or three decimals?), and signs, exponents and empty
// input. Each error starts with the input quoted and says what to write
// instead. Zero is valid; callers that need more say so themselves.
func ParseKroner(s string) (Amount, error) {
	in := s
	bad := func(why string) (Amount, error) {
		return 0, fmt.Errorf("%q is not kroner: %s", in, why)
	}
	const example = "write it like 149, 149,50 or 1 299,50"
	s = strings.NewReplacer(nbsp, " ", "\u202f", " ", "\t", " ").Replace(s)
	s = strings.TrimSpace(s)
	lower := strings.ToLower(s)
	switch {
	case strings.HasPrefix(lower, "kr"):
		s = strings.TrimSpace(strings.TrimPrefix(s[2:], "."))
	case strings.HasPrefix(lower, "nok"):
		s = strings.TrimSpace(s[3:])
	case strings.HasSuffix(lower, "kr"):
		s = strings.TrimSpace(s[:len(s)-2])
	case strings.HasSuffix(lower, "nok"):
		s = strings.TrimSpace(s[:len(s)-3])
	}
	s = strings.TrimSuffix(s, ",-") // "149,-" is whole kroner
	switch {
	case s == "":
		return bad("there is no number; " + example)
	case strings.HasPrefix(s, "-"), strings.HasPrefix(s, "\u2212"):
		return bad("it is negative; write the amount without a minus sign")
	}
	whole, frac, hasFrac := strings.Cut(s, ",")
	if !hasFrac {
		whole, frac, hasFrac = strings.Cut(s, ".")
	}
	if strings.ContainsAny(whole, ".,") || strings.ContainsAny(frac, ".,") {
		return bad("it has more than one decimal mark; group thousands with spaces or not at all, like 1 234,50")
	}
	// Spaces group thousands ("1 234"); nothing else may.
	groups := strings.Split(whole, " ")
	for i, g := range groups {
		if !digits(g) || (i > 0 && len(g) != 3) || (i == 0 && len(groups) > 1 && len(g) > 3) {
			return bad(example)
		}
	}
	whole = strings.Join(groups, "")
	switch {
	case hasFrac && !digits(frac):
		return bad(example)
	case len(frac) > 2:
		return bad("it has more than two decimals; " + example + " (thousands grouped with spaces or not at all)")
	}
	kr, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || kr >= maxKroner {
		return bad("it is too large")
	}
	ore := int64(0)
	if frac != "" {
		ore, _ = strconv.ParseInt((frac + "0")[:2], 10, 64) // digits, at most two
	}
	return Amount(kr*100 + ore), nil
}

// digits reports whether s is one or more ASCII digits.
func digits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
