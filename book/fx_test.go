package book

import (
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
