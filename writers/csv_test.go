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

func TestAppendAdjustments(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	cases := []claim.Adjustments{{}, {1}, {claim.PR204: -5}}
	var all claim.Adjustments
	for r := range all {
		all[r] = claim.Money(r*1000 + 1)
	}
	cases = append(cases, all)
	for range 20_000 {
		var a claim.Adjustments
		for range 1 + rng.IntN(4) {
			a[rng.IntN(len(a))] = claim.Money(rng.Int64N(10_000_000) - 100)
		}
		cases = append(cases, a)
	}
	for _, a := range cases {
		got, want := string(appendAdjustments([]byte("x"), &a)), "x"+string(a.AppendTo(nil))
		if got != want {
			t.Fatalf("appendAdjustments(%v) = %q, want %q", a, got, want)
		}
		// Written without the field check: it must never need one.
		if csvNeedsQuotes(want[1:]) {
			t.Fatalf("adjustments %q need CSV quoting", want[1:])
		}
	}
}

// The enumerations emitRemittance writes as codes never need quoting.
func TestRemittanceCodesNeedNoQuotes(t *testing.T) {
	var names []string
	for m := range claim.Module(8) {
		names = append(names, m.String())
	}
	for p := range claim.PayeeType(8) {
		names = append(names, p.String())
	}
	for s := range claim.Status(16) {
		names = append(names, s.String())
	}
	for _, n := range names {
		if csvNeedsQuotes(n) {
			t.Errorf("%q needs CSV quoting, yet is written as a code", n)
		}
	}
	for _, id := range []string{"run-1", "a,b", ` lead`, `q"`} {
		w, err := NewRemittanceWriter(nil, CSV, id)
		if err != nil {
			t.Fatal(err)
		}
		if w.runIDCode == csvNeedsQuotes(id) {
			t.Errorf("run id %q: written as a code = %v", id, w.runIDCode)
		}
	}
}
