package claim

import (
	"errors"
	"strconv"
)

// Money is an amount in minor units (cents) of some currency. All three plan
// currencies (USD, EUR, GBP) have two decimals, so one int64 holds any amount
// up to ±92 233 720 368 547 758.07 exactly.
type Money int64

// Errors returned by ParseMoney.
var (
	ErrMoneySyntax    = errors.New("claim: not a decimal amount")
	ErrMoneyPrecision = errors.New("claim: more than 2 decimals")
	ErrMoneyRange     = errors.New("claim: amount out of range")
)

// maxMoneyDigits keeps parsed amounts far from int64 overflow even after they
// are multiplied by FX rates or percentages (10^15 cents = 10^13 units).
const maxMoneyDigits = 15

// ParseMoney parses a plain decimal such as "1200", "1200.5" or "-3.25" into
// cents. It accepts at most two decimals (trailing zeros beyond two are
// accepted: "1.500" is 1.50), no exponent, no thousands separators, no spaces.
func ParseMoney(s string) (Money, error) {
	if s == "" {
		return 0, ErrMoneySyntax
	}
	neg := false
	switch s[0] {
	case '-':
		neg = true
		s = s[1:]
	case '+':
		s = s[1:]
	}
	var units int64
	digits := 0
	i := 0
	for ; i < len(s) && s[i] != '.'; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, ErrMoneySyntax
		}
		if digits > 0 || c != '0' {
			digits++
		}
		if digits > maxMoneyDigits {
			return 0, ErrMoneyRange
		}
		units = units*10 + int64(c-'0')
	}
	intDigits := i
	var frac int64
	fracDigits := 0
	if i < len(s) {
		i++ // the dot
		if i == len(s) && intDigits == 0 {
			return 0, ErrMoneySyntax
		}
		for ; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, ErrMoneySyntax
			}
			if fracDigits >= 2 {
				if c != '0' {
					return 0, ErrMoneyPrecision
				}
				continue
			}
			frac = frac*10 + int64(c-'0')
			fracDigits++
		}
	}
	if intDigits == 0 && fracDigits == 0 {
		return 0, ErrMoneySyntax
	}
	for ; fracDigits < 2; fracDigits++ {
		frac *= 10
	}
	m := Money(units*100 + frac)
	if neg {
		m = -m
	}
	return m, nil
}

// String formats m as a plain decimal with exactly two places: "1200.00", "-0.05".
func (m Money) String() string {
	var buf [24]byte
	return string(m.AppendTo(buf[:0]))
}

// AppendTo appends the String form of m to b, for allocation-free writers.
func (m Money) AppendTo(b []byte) []byte {
	v := int64(m)
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	b = strconv.AppendInt(b, v/100, 10)
	cents := v % 100
	return append(b, '.', byte('0'+cents/10), byte('0'+cents%10))
}

// MulRatio returns round(m × num / den) rounded half away from zero.
// den must be positive; num must be non-negative.
func (m Money) MulRatio(num, den int64) Money {
	p := int64(m) * num
	if p >= 0 {
		return Money((2*p + den) / (2 * den))
	}
	return -Money((-2*p + den) / (2 * den))
}

// Percent returns round(m × basisPoints / 10000) half away from zero, the
// rounding the SPEC uses for coinsurance and dental reimbursement. Basis points
// let a plan use percentages with up to two decimals (12.5 % = 1250).
func (m Money) Percent(basisPoints int64) Money {
	return m.MulRatio(basisPoints, 10000)
}

// Min returns the smaller of a and b.
func Min(a, b Money) Money {
	if a < b {
		return a
	}
	return b
}
