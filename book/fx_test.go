package book

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"claimsbatch/claim"

	"github.com/shopspring/decimal"
)

func TestFXConvert(t *testing.T) {
	tests := []struct {
		rate   string
		billed claim.Money
		want   claim.Money
		ok     bool
	}{
		{"1.0523", 20000, 21046, true},             // 200.00 × 1.0523 = 210.46
		{"1.0381", 5000, 5191, true},               // 50.00 × 1.0381 = 51.905 → 51.91 (half up)
		{"0.5", 1, 1, true},                        // 0.01 × 0.5 = 0.005 → 0.01
		{"0.4999", 1, 0, true},                     // 0.004999 → 0.00
		{"1.23456789012345678901", 100, 123, true}, // beyond int64 mantissa: decimal path
		{"123456789012345678901234567890.5", 20000, 0, false},
		{"1e30", 20000, 0, false},
	}
	for _, tc := range tests {
		d := decimal.RequireFromString(tc.rate)
		table, ex := NewFX("fx.csv", []claim.FXRate{{Date: 0, Currency: "CHF", PlanCurrency: "EUR", Rate: d, Text: tc.rate}}, nil)
		if len(ex) != 0 {
			t.Fatal(ex)
		}
		r, _ := table.Lookup("CHF", "EUR", 10)
		got, ok := r.Convert(tc.billed)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s × %s = %s, %v; want %s, %v", tc.billed, tc.rate, got, ok, tc.want, tc.ok)
		}
	}
}

// TestFXLookupByDay: a pair's rate on a date, through its index by day or,
// for a pair whose dates span more than maxFXDays, its binary search, is
// the latest rate on or before the date, every day from before the first
// rate to after the last; the pairs are kept apart.
func TestFXLookupByDay(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		name  string
		span  int // days the rates are drawn from
		rates int
	}{
		{"one rate", 1, 1},
		{"daily", 400, 400},
		{"sparse", 3000, 40},
		{"wide, searched", maxFXDays + 5000, 60},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := claim.Date(19000)
			seen := map[claim.Date]bool{}
			var rows []claim.FXRate
			add := func(cur string, d claim.Date) {
				text := fmt.Sprintf("%s.%d", cur, d)
				rows = append(rows, claim.FXRate{Date: d, Currency: cur, PlanCurrency: "EUR", Rate: decimal.New(int64(d), -4), Text: text, Row: int64(len(rows) + 1)})
			}
			// The first and last days always have a rate, so the span is the
			// one intended; the other pair's rates are on other days.
			for _, d := range []claim.Date{start, start + claim.Date(tc.span-1)} {
				if !seen[d] {
					seen[d] = true
					add("USD", d)
				}
			}
			for len(seen) < tc.rates {
				if d := start + claim.Date(rng.IntN(tc.span)); !seen[d] {
					seen[d] = true
					add("USD", d)
				}
			}
			for i := range 30 {
				add("GBP", start+claim.Date(i*7+3))
			}
			rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
			fx, ex := NewFX("fx.csv", rows, nil)
			if len(ex) != 0 {
				t.Fatal(ex)
			}
			if indexed := fx.pair("USD", "EUR").days != nil; indexed != (tc.span <= maxFXDays) {
				t.Fatalf("index by day: %v for a span of %d days", indexed, tc.span)
			}
			for _, cur := range []string{"USD", "GBP"} {
				latest := claim.Date(-1)
				for d := start - 3; d <= start+claim.Date(tc.span)+3; d++ {
					if cur == "USD" && seen[d] || cur == "GBP" && d >= start+3 && d < start+30*7 && (d-start-3)%7 == 0 {
						latest = d
					}
					r, ok := fx.Lookup(cur, "EUR", d)
					if latest < 0 {
						if ok {
							t.Fatalf("%s on %s: rate %s before the first", cur, d, r.Text())
						}
						continue
					}
					if want := fmt.Sprintf("%s.%d", cur, latest); !ok || r.Text() != want {
						t.Fatalf("%s on %s: %v %v, want %s", cur, d, r, ok, want)
					}
				}
			}
			if _, ok := fx.Lookup("CHF", "EUR", start); ok {
				t.Fatal("a rate for a pair with none")
			}
		})
	}
}
