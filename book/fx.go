package book

import (
	"cmp"
	"fmt"
	"math/bits"
	"path/filepath"
	"slices"
	"strings"

	"claimsbatch/claim"

	"github.com/shopspring/decimal"
)

// FX answers "the latest rate on or before a date" for a currency pair. The
// zero value (or nil) has no rates.
type FX struct {
	pairs map[[2]string]*fxPair
}

// fxPair holds one currency pair's rates, sorted by date, and an index by
// day: days[d] is the number of the latest rate on or before first + d, for
// every day from the first rate's to the last's. A line's rate is then one
// load rather than a binary search through the rates (a few hundred for a
// pair with daily rates over a year or two). A pair whose dates span more
// than maxFXDays has no index and is searched.
type fxPair struct {
	from, to string
	rates    []Rate
	first    claim.Date
	days     []int32
}

// maxFXDays bounds the index by day of one pair (256 KiB of it): about 180
// years, more than any real FX file spans.
const maxFXDays = 1 << 16

// Rate is one FX rate: one unit of a currency is worth it in the plan
// currency from its date on.
type Rate struct {
	date claim.Date
	text string
	// rate = mantissa × 10^exp, kept as integers so conversion is exact
	// integer arithmetic in the common case.
	mantissa int64
	exp      int32
	big      decimal.Decimal // when the mantissa does not fit an int64
	fits     bool
}

// NewFX indexes the FX file's rows (as readers.ReadFX returns them). A second
// rate for the same pair and date is an exception (the first one is kept): a
// rate must never depend on row order. The exceptions returned are the
// reader's (readerEx) and NewFX's, in row order.
func NewFX(path string, rates []claim.FXRate, readerEx []claim.Exception) (*FX, []claim.Exception) {
	t := &FX{pairs: map[[2]string]*fxPair{}}
	var ex []claim.Exception
	seen := map[fxKey]int64{}
	for _, r := range rates {
		k := fxKey{r.Currency, r.PlanCurrency, r.Date}
		if first, dup := seen[k]; dup {
			ex = append(ex, claim.Exception{Source: filepath.Base(path), Row: r.Row, Code: claim.InvalidValue, Field: "date",
				Message: fmt.Sprintf("a second rate for %s→%s on %s (row %d has one)", r.Currency, r.PlanCurrency, r.Date, first),
				Raw:     strings.Join([]string{r.Date.String(), r.Currency, r.PlanCurrency, r.Text}, ",")})
			continue
		}
		seen[k] = r.Row
		fr := Rate{date: r.Date, text: r.Text, big: r.Rate}
		coef := r.Rate.Coefficient()
		if coef.IsInt64() && r.Rate.Exponent() <= 0 && r.Rate.Exponent() > -18 {
			fr.mantissa, fr.exp, fr.fits = coef.Int64(), r.Rate.Exponent(), true
		}
		pair := [2]string{r.Currency, r.PlanCurrency}
		fp := t.pairs[pair]
		if fp == nil {
			fp = &fxPair{from: strings.Clone(r.Currency), to: strings.Clone(r.PlanCurrency)}
			t.pairs[pair] = fp
		}
		fp.rates = append(fp.rates, fr)
	}
	for _, fp := range t.pairs {
		fp.index()
	}
	all := append(slices.Clip(readerEx), ex...)
	slices.SortStableFunc(all, func(a, b claim.Exception) int { return cmp.Compare(a.Row, b.Row) })
	return t, all
}

// Pairs returns the number of currency pairs with rates.
func (t *FX) Pairs() int {
	if t == nil {
		return 0
	}
	return len(t.pairs)
}

type fxKey struct {
	from, to string
	date     claim.Date
}

// index sorts the pair's rates by date and builds its index by day.
func (fp *fxPair) index() {
	list := fp.rates
	slices.SortFunc(list, func(a, b Rate) int { return int(a.date - b.date) })
	fp.first = list[0].date
	span := int64(list[len(list)-1].date) - int64(fp.first) + 1
	if span > maxFXDays {
		return
	}
	fp.days = make([]int32, span)
	i := 0
	for d := range fp.days {
		day := fp.first + claim.Date(d)
		for i+1 < len(list) && list[i+1].date <= day {
			i++
		}
		fp.days[d] = int32(i)
	}
}

// on returns the latest rate of the pair on or before date.
func (fp *fxPair) on(date claim.Date) (*Rate, bool) {
	list := fp.rates
	if fp.days != nil {
		d := int64(date) - int64(fp.first)
		switch {
		case d < 0:
			return nil, false
		case d >= int64(len(fp.days)):
			return &list[len(list)-1], true
		}
		return &list[fp.days[d]], true
	}
	i, found := slices.BinarySearchFunc(list, date, func(r Rate, d claim.Date) int { return int(r.date - d) })
	if found {
		return &list[i], true
	}
	if i == 0 {
		return nil, false
	}
	return &list[i-1], true
}

// pair returns the rates of from→to, nil when there are none.
func (t *FX) pair(from, to string) *fxPair {
	if t == nil {
		return nil
	}
	return t.pairs[[2]string{from, to}]
}

// Lookup returns the latest rate for from→to on or before date.
func (t *FX) Lookup(from, to string, date claim.Date) (*Rate, bool) {
	fp := t.pair(from, to)
	if fp == nil {
		return nil, false
	}
	return fp.on(date)
}

var pow10 = [...]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17}

// maxCharge bounds a converted amount (10^16 units) so that sums over
// millions of lines stay far from int64 overflow.
var maxCharge = decimal.New(1, 18)

// Text returns the rate as written in the FX file (echoed in the
// remittance's fx_rate column).
func (r *Rate) Text() string { return r.text }

// Date returns the first day the rate applies.
func (r *Rate) Date() claim.Date { return r.date }

// Convert returns round(billed × rate, 2), half away from zero, and false
// when the result is too large to be a real charge.
func (r *Rate) Convert(billed claim.Money) (claim.Money, bool) {
	if r.fits {
		// billed (cents) × mantissa × 10^exp, rounded to cents.
		den := pow10[-r.exp]
		hi, lo := bits.Mul64(uint64(billed), uint64(r.mantissa))
		if hi == 0 && lo < 1<<62 {
			return claim.Money(int64(lo)).MulRatio(1, den), true
		}
	}
	cents := decimal.New(int64(billed), -2).Mul(r.big).Round(2).Shift(2)
	if cents.Abs().GreaterThanOrEqual(maxCharge) {
		return 0, false
	}
	return claim.Money(cents.IntPart()), true
}
