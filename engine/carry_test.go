package engine

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"claimsbatch/claim"
)

// TestLineRecordsOrder: LineRecords sorts by (claim id, line no) whatever
// the ids' lengths and shared prefixes (the sort compares 8-byte prefixes
// first), twice in a row from the same Member.
func TestLineRecordsOrder(t *testing.T) {
	ids := []string{"C2", "C10", "C1", "", "ABCDEFGH", "ABCDEFGHI", "ABCDEFGH\x00", "ABCDEFG", "ABCDEFGHA", "C1", "Z", "ABCDEFGH"}
	m := testEngine.NewMember()
	for round := range 2 {
		m.scratch.lineRecs = m.scratch.lineRecs[:0]
		for i, id := range ids {
			m.scratch.lineRecs = append(m.scratch.lineRecs, claim.StateRecord{Kind: claim.KindLine, Key: id, Count: int64(len(ids) - i)})
		}
		got := m.LineRecords()
		if len(got) != len(ids) {
			t.Fatalf("round %d: %d records, want %d", round, len(got), len(ids))
		}
		if !slices.IsSortedFunc(got, func(a, b claim.StateRecord) int { return CompareLineRecords(&a, &b) }) {
			t.Errorf("round %d: not sorted: %v", round, got)
		}
		want := slices.Clone(got)
		slices.SortFunc(want, func(a, b claim.StateRecord) int {
			return cmp.Or(strings.Compare(a.Key, b.Key), cmp.Compare(a.Count, b.Count))
		})
		if !slices.Equal(got, want) {
			t.Errorf("round %d: %v, want %v", round, got, want)
		}
	}
}

// BenchmarkLineRecords sorts a member's LINE records as LineRecords does:
// 20 records of random 10-character claim ids, the bench data's shape.
func BenchmarkLineRecords(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	recs := make([]claim.StateRecord, 20)
	for i := range recs {
		recs[i] = claim.StateRecord{Kind: claim.KindLine, MemberID: "M0000001", Key: fmt.Sprintf("C%09d", rng.IntN(1e9)), Count: int64(1 + rng.IntN(3))}
	}
	m := testEngine.NewMember()
	for b.Loop() {
		m.scratch.lineRecs = append(m.scratch.lineRecs[:0], recs...)
		m.LineRecords()
	}
}
