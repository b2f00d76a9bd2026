package pipeline

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
	b := newBook(members, map[string]int32{"M00002": 3, "S-only": 1, "A-only": 2})
	if b.len() != 1002 {
		t.Fatalf("book has %d members, want 1002", b.len())
	}
	for i := range int32(b.len()) {
		if i > 0 && b.id(i-1) >= b.id(i) {
			t.Fatalf("members not in id order at %d: %q, %q", i, b.id(i-1), b.id(i))
		}
		if got := b.find(b.id(i)); got != i {
			t.Fatalf("find(%q) = %d, want %d", b.id(i), got, i)
		}
	}
	if b.find("M99999") != -1 || b.find("") != -1 {
		t.Fatal("find of an unknown id did not return -1")
	}
	var spans []claim.Span
	for id, m := range members {
		i := b.find(id)
		if b.absent[i] {
			t.Fatalf("%s marked absent", id)
		}
		if why, bad := b.invalid[i]; bad != (m.invalid != "") || why != m.invalid {
			t.Fatalf("%s: invalid %q %v, want %q", id, why, bad, m.invalid)
		}
		if m.invalid != "" {
			continue
		}
		spans = b.spansOf(i, spans)
		if !reflect.DeepEqual(spans, m.spans) && !(len(spans) == 0 && len(m.spans) == 0) {
			t.Fatalf("%s: spans\n%+v\nwant\n%+v", id, spans, m.spans)
		}
	}
	for _, id := range []string{"S-only", "A-only"} {
		i := b.find(id)
		if i < 0 || !b.absent[i] || b.state[i] == 0 || !b.active(i) {
			t.Fatalf("state-only member %s: number %d absent %v state %v", id, i, b.absent[i], b.state[i])
		}
	}
	if i := b.find("M00002"); b.state[i] != 3 || b.absent[i] {
		t.Fatal("M00002 has state and is in the members file")
	}
	if i := b.find("M00004"); b.state[i] != 0 || b.active(i) {
		t.Fatal("M00004 has no state and no lines: not active")
	}
}
