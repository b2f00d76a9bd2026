package engine

import (
	"math/rand/v2"
	"slices"
	"testing"

	"claimsbatch/claim"
)

// The four worked examples of the brochure (SPEC section 5), core module, USD.
func TestBrochureExample1_Deductible375(t *testing.T) {
	s := baseSpan(func(s *claim.Span) { s.CoreDeductible = money("375") })
	r := run([]claim.Span{s}, mkLine("HOSPITAL_ACCOMMODATION", "2024-03-01", "1200"))
	check(t, "1,200 with 375 deductible", r[0], want{deductible: "375.00", paid: "825.00", status: "PAID", adjustments: "PR-1:375.00"})
}

func TestBrochureExample2_Coinsurance20(t *testing.T) {
	s := baseSpan(func(s *claim.Span) { s.CoreCoinsurance = 2000; s.CoreOOPMax = money("2000") })
	r := run([]claim.Span{s}, mkLine("HOSPITAL_ACCOMMODATION", "2024-03-01", "5000"))
	check(t, "5,000 at 20%", r[0], want{coinsurance: "1000.00", paid: "4000.00", status: "PAID", adjustments: "PR-2:1000.00"})
}

func TestBrochureExample3_OOPMaxCapsCoinsurance(t *testing.T) {
	s := baseSpan(func(s *claim.Span) { s.CoreCoinsurance = 2000; s.CoreOOPMax = money("2000") })
	r := run([]claim.Span{s}, mkLine("HOSPITAL_ACCOMMODATION", "2024-03-01", "20000"))
	check(t, "20,000 at 20% capped at 2,000", r[0], want{coinsurance: "2000.00", paid: "18000.00", status: "PAID", adjustments: "PR-2:2000.00"})
}

func TestBrochureExample4_DeductibleThenCoinsurance(t *testing.T) {
	s := baseSpan(func(s *claim.Span) {
		s.CoreDeductible = money("375")
		s.CoreCoinsurance = 2000
		s.CoreOOPMax = money("5000")
	})
	r := run([]claim.Span{s}, mkLine("HOSPITAL_ACCOMMODATION", "2024-03-01", "20000"))
	check(t, "20,000 with 375 and 20% (5,000 OOP)", r[0], want{deductible: "375.00", coinsurance: "3925.00", paid: "15700.00", status: "PAID", adjustments: "PR-1:375.00 PR-2:3925.00"})
}

// TestAddDates checks the one-pass merge against inserting date by date.
func TestAddDates(t *testing.T) {
	naive := func(set []claim.Date, from, to claim.Date, n int64) []claim.Date {
		set = slices.Clone(set)
		for d := from; d <= to && n > 0; d++ {
			if _, found := slices.BinarySearch(set, d); found {
				continue
			}
			set = append(set, d)
			slices.Sort(set)
			n--
		}
		return set
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		var set []claim.Date
		for d := claim.Date(0); d < 40; d++ {
			if rng.IntN(3) == 0 {
				set = append(set, d)
			}
		}
		from := claim.Date(rng.IntN(45) - 2)
		to := from + claim.Date(rng.IntN(12))
		n := int64(rng.IntN(15))
		want := naive(set, from, to, n)
		if got := addDates(slices.Clone(set), from, to, n); !slices.Equal(got, want) {
			t.Fatalf("addDates(%v, %d, %d, %d) = %v, want %v", set, from, to, n, got, want)
		}
	}
}
