package writers

import (
	"math"
	"math/rand/v2"
	"testing"

	"claimsbatch/claim"
)

// The CSV encoder's own formatting must give exactly claim's forms.

func TestAppendMoney(t *testing.T) {
	values := []int64{0, 1, -1, 5, 9, 10, 99, 100, 101, -100, 999, 1000, 12345, -12345, 120000, 999999,
		1_000_000, 123456789012, 999_999_999_999_999_999, -999_999_999_999_999_999,
		math.MaxInt64, math.MinInt64, math.MinInt64 + 1, math.MaxInt64 - 1}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 100_000 {
		values = append(values, rng.Int64N(2_000_000_00)-1_000_000_00, rng.Int64()>>uint(rng.IntN(63)))
	}
	for _, v := range values {
		m := claim.Money(v)
		if got, want := string(appendMoney([]byte("x"), m)), "x"+string(m.AppendTo(nil)); got != want {
			t.Fatalf("appendMoney(%d) = %q, want %q", v, got, want)
		}
	}
}

func FuzzAppendMoney(f *testing.F) {
	for _, v := range []int64{0, -1, 100, math.MinInt64, math.MaxInt64} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v int64) {
		m := claim.Money(v)
		if got, want := string(appendMoney(nil, m)), string(m.AppendTo(nil)); got != want {
			t.Errorf("appendMoney(%d) = %q, want %q", v, got, want)
		}
	})
}

func TestDateCache(t *testing.T) {
	var c dateCache
	dates := []claim.Date{claim.NoDate, claim.OpenEnd, 0, -1, 1, claim.FromCivil(2024, 2, 29), claim.FromCivil(9999, 12, 31),
		claim.FromCivil(1, 1, 1), claim.FromCivil(2024, 1, 1) + 1024, claim.FromCivil(2024, 1, 1) + 2048}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 50_000 {
		// Dates that share cache slots (1024 days apart) alternate.
		base := claim.FromCivil(2023, 1, 1) + claim.Date(rng.IntN(1500))
		dates = append(dates, base, base+1024, base+claim.Date(rng.IntN(5)*1024))
	}
	for _, d := range dates {
		if got, want := string(c.appendDate([]byte("x"), d)), "x"+string(d.AppendTo(nil)); got != want {
			t.Fatalf("appendDate(%d) = %q, want %q", d, got, want)
		}
	}
}
