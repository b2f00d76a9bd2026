package book

import (
	"fmt"
	"reflect"
	"testing"

	"claimsbatch/claim"
)

func TestBookKeepsEveryMemberAndSpan(t *testing.T) {
	span := func(id, policy string, start claim.Date, row int64) claim.Span {
		return claim.Span{MemberID: id, PolicyID: policy, Start: start, End: start + 364, DateOfBirth: 7000,
			Residence: "FR", Origin: "GB", USCover: row%2 == 0, PlanCurrency: "EUR", Modules: 5,
			CoreDeductible: 100_00, CoreCoinsurance: 2000, CoreOOPMax: 2000_00,
			OutpatientDeduct: 50_00, OutpatientCoins: 1000, OutpatientOOPMax: 1000_00, Row: row}
	}
	members := map[string]*member{}
	for i := range 1000 {
		id := fmt.Sprintf("M%05d", i)
		m := &member{}
		for k := range i % 3 {
			m.spans = append(m.spans, span(id, fmt.Sprintf("P%d-%d", i, k), claim.Date(18000+400*k), int64(10*i+k)))
		}
		if i%3 == 0 {
			m.invalid = "no valid coverage span"
		}
		members[id] = m
	}
	b := New(&Members{byID: members}, []string{"M00002", "S-only", "A-only", "S-only"})
	if b.Len() != 1002 {
		t.Fatalf("book has %d members, want 1002", b.Len())
	}
	for i := range int32(b.Len()) {
		if i > 0 && b.ID(i-1) >= b.ID(i) {
			t.Fatalf("members not in id order at %d: %q, %q", i, b.ID(i-1), b.ID(i))
		}
		if got := b.Find(b.ID(i)); got != i {
			t.Fatalf("find(%q) = %d, want %d", b.ID(i), got, i)
		}
	}
	if b.Find("M99999") != -1 || b.Find("") != -1 {
		t.Fatal("find of an unknown id did not return -1")
	}
	var spans []claim.Span
	for id, m := range members {
		i := b.Find(id)
		if b.Absent(i) {
			t.Fatalf("%s marked absent", id)
		}
		if why, bad := b.Invalid(i); bad != (m.invalid != "") || why != m.invalid {
			t.Fatalf("%s: invalid %q %v, want %q", id, why, bad, m.invalid)
		}
		if m.invalid != "" {
			continue
		}
		spans = b.Spans(i, spans)
		if !reflect.DeepEqual(spans, m.spans) && !(len(spans) == 0 && len(m.spans) == 0) {
			t.Fatalf("%s: spans\n%+v\nwant\n%+v", id, spans, m.spans)
		}
	}
	for _, id := range []string{"S-only", "A-only"} {
		i := b.Find(id)
		if i < 0 || !b.Absent(i) {
			t.Fatalf("state-only member %s: number %d", id, i)
		}
	}
	if i := b.Find("M00002"); b.Absent(i) {
		t.Fatal("M00002 is in the members file")
	}
}
