package engine

import (
	"math/rand/v2"
	"testing"

	"claimsbatch/claim"
)

// TestDuplicateInFindsTheFirstMatch checks duplicateIn against a scan of
// every key: keys sorted by date in runs of one date up to 20 long, lines
// before, within and after the keys' dates (the last date takes the
// search, a later one skips it), and matches that differ only in the
// claim id (not a duplicate) or in one of the key's values.
func TestDuplicateInFindsTheFirstMatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 300 {
		var dups []dupEntry
		date := claim.Date(100)
		for range rng.IntN(40) {
			date += claim.Date(rng.IntN(2)) // runs of one date, up to 20 long
			if rng.IntN(20) == 0 {
				date += 5
			}
			dups = append(dups, dupEntry{date: date, billed: claim.Money(rng.IntN(2)),
				key: claim.DupKey{Benefit: "B", Provider: []string{"P1", "P2"}[rng.IntN(2)]}, claimID: []string{"C1", "C2", "C3"}[rng.IntN(3)]})
		}
		for range 50 {
			ln := &claim.Line{ServiceDate: claim.Date(95 + rng.IntN(int(date)-90)), Billed: claim.Money(rng.IntN(2)),
				BenefitCode: "B", ProviderID: []string{"P1", "P2"}[rng.IntN(2)], ClaimID: []string{"C1", "C2", "C3"}[rng.IntN(3)]}
			var want *dupEntry
			for i := range dups {
				d := &dups[i]
				if d.date == ln.ServiceDate && d.billed == ln.Billed && d.key.Provider == ln.ProviderID && d.claimID != ln.ClaimID {
					want = d
					break
				}
			}
			if got := duplicateIn(dups, ln); got != want {
				t.Fatalf("round %d: date %d in %v: got entry %d, want %d", round, ln.ServiceDate, dateList(dups), index(dups, got), index(dups, want))
			}
		}
	}
}

func dateList(dups []dupEntry) []claim.Date {
	var ds []claim.Date
	for _, d := range dups {
		ds = append(ds, d.date)
	}
	return ds
}

func index(dups []dupEntry, d *dupEntry) int {
	if d == nil {
		return -1
	}
	for i := range dups {
		if &dups[i] == d {
			return i
		}
	}
	return -2
}
