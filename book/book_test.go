package book

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"claimsbatch/claim"
	"claimsbatch/plan"
)

// build runs the pipeline's flow in memory: the rows and the reader's
// rejected rows streamed in row order through a Builder, the state's
// member records counted, the members numbered, each member's valid spans
// handed to Resolve in member order. It returns the book, every member's
// spans (sorted, valid members only) and the members file's exceptions in
// row order, overlaps with their raw text, as the pipeline writes them.
func build(t *testing.T, p *plan.Plan, rows []claim.RawSpan, rejected []claim.Exception, state []string) (*Book, *Builder, map[string][]claim.Span, []claim.Exception) {
	t.Helper()
	b := NewBuilder(p, "members.csv")
	type kept struct {
		ref  int32
		span claim.Span
	}
	var spans []kept
	var ex []claim.Exception
	g, r := rows, rejected
	for len(g) > 0 || len(r) > 0 {
		if len(g) == 0 || (len(r) > 0 && r[0].Row < g[0].Row) {
			b.Rejected(&r[0])
			ex = append(ex, r[0])
			r = r[1:]
			continue
		}
		s, ref, ok, more := b.Row(&g[0], ex)
		ex = more
		if ok {
			spans = append(spans, kept{ref, s})
		}
		g = g[1:]
	}
	for _, id := range state {
		b.StateRecord(id)
	}
	if err := b.Number(); err != nil {
		t.Fatal(err)
	}
	byMember := map[int32][]claim.Span{}
	for _, k := range spans {
		m := b.Member(k.ref)
		byMember[m] = append(byMember[m], k.span)
	}
	members := make([]int32, 0, len(byMember))
	for m := range byMember {
		members = append(members, m)
	}
	slices.Sort(members)
	var overlaps []claim.Exception
	for _, m := range members {
		var err error
		if overlaps, err = b.Resolve(m, byMember[m], overlaps); err != nil {
			t.Fatal(err)
		}
	}
	bk := b.Finish()
	for i := range overlaps {
		j := slices.IndexFunc(rows, func(r claim.RawSpan) bool { return r.Row == overlaps[i].Row })
		overlaps[i].Raw = rows[j].Raw
	}
	ex = append(ex, overlaps...)
	slices.SortStableFunc(ex, func(a, b claim.Exception) int { return cmp.Compare(a.Row, b.Row) })
	valid := map[string][]claim.Span{}
	for _, m := range members {
		if _, bad := bk.Invalid(m); !bad {
			valid[bk.ID(m)] = byMember[m]
		}
	}
	return bk, b, valid, ex
}

func date(s string) claim.Date {
	d, err := claim.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// row is a members-file row of the built-in plan, every option empty.
func row(n int64, id, start, end, currency string) claim.RawSpan {
	e := claim.OpenEnd
	if end != "" {
		e = date(end)
	}
	return claim.RawSpan{Span: claim.Span{MemberID: id, PolicyID: "P-" + id, Start: date(start), End: e, DateOfBirth: date("1980-05-05"),
		Residence: "FR", Origin: "GB", PlanCurrency: currency, Modules: claim.ModuleSet(0).With(claim.Core), Row: n},
		CoreDeductibleGiven: -1, CoreCoinsGiven: -1, CoreOOPMaxGiven: -1, OutpatientDeductGiven: -1, OutpatientCoinsGiven: -1, OutpatientOOPMaxGiven: -1,
		Raw: fmt.Sprintf("raw %d", n)}
}

// TestResolveMember: each rule of the members file on one member, with the
// exact reason and exceptions, and the pipeline's Builder giving the same.
func TestResolveMember(t *testing.T) {
	p := plan.Default()
	badDeductible := row(3, "M1", "2025-01-01", "", "EUR")
	badDeductible.CoreDeductibleGiven = 12345
	badDeductible.CoreCoinsGiven = 1500
	dental := row(4, "M1", "2026-01-01", "", "EUR")
	dental.Modules = dental.Modules.With(claim.Dental)
	tests := []struct {
		name     string
		rows     []claim.RawSpan
		rejected []claim.Exception
		spans    []int64 // rows of the valid spans, in start order
		invalid  string
		ex       []string // "row code field: message"
	}{
		{name: "valid, sorted by start", rows: []claim.RawSpan{row(1, "M1", "2024-01-01", "2024-12-31", "EUR"), row(2, "M1", "2023-01-01", "2023-12-31", "GBP")},
			spans: []int64{2, 1}},
		{name: "overlap", rows: []claim.RawSpan{row(1, "M1", "2024-01-01", "", "EUR"), row(2, "M1", "2023-01-01", "2024-01-01", "EUR")},
			invalid: "members file row 1: span 2024-01-01..open overlaps the span 2023-01-01..2024-01-01 of row 2",
			ex:      []string{"1 INVALID_MEMBER coverage_start: span 2024-01-01..open overlaps the span 2023-01-01..2024-01-01 of row 2 [raw 1]"}},
		{name: "same start: row order", rows: []claim.RawSpan{row(5, "M1", "2024-01-01", "2024-03-01", "EUR"), row(7, "M1", "2024-01-01", "2024-02-01", "EUR")},
			invalid: "members file row 7: span 2024-01-01..2024-02-01 overlaps the span 2024-01-01..2024-03-01 of row 5",
			ex:      []string{"7 INVALID_MEMBER coverage_start: span 2024-01-01..2024-02-01 overlaps the span 2024-01-01..2024-03-01 of row 5 [raw 7]"}},
		{name: "options and modules", rows: []claim.RawSpan{row(1, "M1", "2024-01-01", "2024-12-31", "EUR"), badDeductible, dental},
			invalid: "members file row 3: core_deductible 123.45 is not one of the plan's options (0.00, 275.00, 550.00, 1100.00, 2200.00, 5500.00, 7400.00)",
			ex: []string{
				"3 INVALID_VALUE core_deductible: core_deductible 123.45 is not one of the plan's options (0.00, 275.00, 550.00, 1100.00, 2200.00, 5500.00, 7400.00) [raw 3]",
				"3 INVALID_VALUE core_coinsurance: core_coinsurance 15% is not one of the plan's options (0, 10, 20, 30) [raw 3]",
			}},
		{name: "currency", rows: []claim.RawSpan{row(1, "M1", "2024-01-01", "", "JPY")},
			invalid: "members file row 1: plan currency JPY is not one of the plan's currencies USD, EUR, GBP",
			ex:      []string{"1 INVALID_VALUE plan_currency: plan currency JPY is not one of the plan's currencies USD, EUR, GBP [raw 1]"}},
		{name: "a rejected row wins over an earlier bad row", rows: []claim.RawSpan{row(1, "M1", "2024-01-01", "", "JPY"), row(3, "M1", "2025-01-01", "2024-12-31", "EUR")},
			rejected: []claim.Exception{{Source: "members.csv", Row: 2, MemberID: "M1", Code: claim.InvalidValue, Field: "date_of_birth", Message: "date_of_birth 1980-13-01 is not a date", Raw: "raw 2"}},
			invalid:  "members file row 2: date_of_birth 1980-13-01 is not a date",
			ex: []string{
				"1 INVALID_VALUE plan_currency: plan currency JPY is not one of the plan's currencies USD, EUR, GBP [raw 1]",
				"2 INVALID_VALUE date_of_birth: date_of_birth 1980-13-01 is not a date [raw 2]",
			}},
		{name: "rejected rows only", rejected: []claim.Exception{{Source: "members.csv", Row: 9, MemberID: "M1", Code: claim.MissingField, Field: "policy_id", Message: "policy_id is missing", Raw: "raw 9"}},
			invalid: "members file row 9: policy_id is missing",
			ex:      []string{"9 MISSING_FIELD policy_id: policy_id is missing [raw 9]"}},
	}
	text := func(ex []claim.Exception) []string {
		var out []string
		for _, x := range ex {
			if x.Source != "members.csv" || x.MemberID != "M1" {
				t.Errorf("exception %+v: source or member", x)
			}
			out = append(out, fmt.Sprintf("%d %s %s: %s [%s]", x.Row, x.Code, x.Field, x.Message, x.Raw))
		}
		return out
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spans, invalid, ex := ResolveMember(p, "members.csv", slices.Clone(tc.rows), tc.rejected)
			var got []int64
			for _, s := range spans {
				got = append(got, s.Row)
			}
			if invalid != tc.invalid || !slices.Equal(got, tc.spans) || !slices.Equal(text(ex), tc.ex) {
				t.Fatalf("ResolveMember: invalid %q, spans of rows %v, exceptions\n%s\nwant %q, %v,\n%s",
					invalid, got, strings.Join(text(ex), "\n"), tc.invalid, tc.spans, strings.Join(tc.ex, "\n"))
			}
			bk, _, valid, bex := build(t, p, slices.Clone(tc.rows), tc.rejected, nil)
			why, bad := bk.Invalid(bk.Find("M1"))
			if why != tc.invalid || bad != (tc.invalid != "") || !reflect.DeepEqual(valid["M1"], spans) || !slices.Equal(text(bex), tc.ex) {
				t.Fatalf("Builder: invalid %q %v, exceptions %q; ResolveMember: %q, %q", why, bad, text(bex), tc.invalid, tc.ex)
			}
		})
	}
}

// TestBuilderNumbersEveryMember: members of the file (in no order, some on
// several rows apart) and of the state (runs of records, in no order) are
// numbered in member_id order, once each, with the state's records per
// member counted and the members only the state names absent.
func TestBuilderNumbersEveryMember(t *testing.T) {
	p := plan.Default()
	rng := rand.New(rand.NewPCG(1, 2))
	var rows []claim.RawSpan
	for i := range 3000 {
		id := fmt.Sprintf("M%05d", rng.IntN(1000))
		start := fmt.Sprintf("%d-01-01", 2000+i) // every span its own year: no overlap
		rows = append(rows, row(int64(i+1), id, start, fmt.Sprintf("%d-12-31", 2000+i), p.Currencies[i%len(p.Currencies)]))
	}
	var state []string
	want := map[string]int32{}
	for range 500 {
		id := fmt.Sprintf("M%05d", rng.IntN(1200)) // some past the file's
		for range rng.IntN(4) + 1 {
			state = append(state, id)
			want[id]++
		}
	}
	bk, b, valid, ex := build(t, p, rows, nil, state)
	if len(ex) != 0 {
		t.Fatalf("exceptions: %+v", ex[0])
	}
	inFile := map[string]bool{}
	for _, r := range rows {
		inFile[r.MemberID] = true
	}
	ids := map[string]bool{}
	for id := range inFile {
		ids[id] = true
	}
	for id := range want {
		ids[id] = true
	}
	if bk.Len() != len(ids) {
		t.Fatalf("%d members, want %d", bk.Len(), len(ids))
	}
	counts := b.StateCounts()
	for i := range int32(bk.Len()) {
		id := bk.ID(i)
		if i > 0 && bk.ID(i-1) >= id {
			t.Fatalf("not in member_id order at %d: %q, %q", i, bk.ID(i-1), id)
		}
		if bk.Find(id) != i || !ids[id] {
			t.Fatalf("member %d %q: Find %d", i, id, bk.Find(id))
		}
		if bk.Absent(i) == inFile[id] {
			t.Fatalf("%s: absent %v, in the file %v", id, bk.Absent(i), inFile[id])
		}
		if counts[i] != want[id] {
			t.Fatalf("%s: %d state records, want %d", id, counts[i], want[id])
		}
		if _, bad := bk.Invalid(i); bad {
			t.Fatalf("%s invalid", id)
		}
		if inFile[id] {
			// The book keeps each span's start and currency: pricing on
			// any date gives claim.CurrencySpan's choice.
			spans := valid[id]
			for _, d := range []claim.Date{spans[0].Start - 1, spans[0].Start, spans[len(spans)-1].End + 400} {
				if got, want := bk.currencyOn(i, d), spans[claim.CurrencySpan(spans, d)].PlanCurrency; got != want {
					t.Fatalf("%s on %s: currency %s, want %s", id, d, got, want)
				}
			}
		}
	}
	if n, invalid := b.Members(); n != len(inFile) || invalid != 0 {
		t.Fatalf("Members() = %d, %d; want %d, 0", n, invalid, len(inFile))
	}
	for _, id := range []string{"", "M99999", "N00001"} {
		if bk.Find(id) != -1 {
			t.Fatalf("Find(%q) = %d", id, bk.Find(id))
		}
	}
}

// TestBuilderMatchesResolveMember: a file of members in no order with bad
// options, rejected rows and overlaps; each member's reason, spans and
// exceptions from the streaming Builder are ResolveMember's of its rows.
func TestBuilderMatchesResolveMember(t *testing.T) {
	p := plan.Default()
	rng := rand.New(rand.NewPCG(5, 6))
	var rows []claim.RawSpan
	var rejected []claim.Exception
	for n := int64(1); n <= 4000; n++ {
		id := fmt.Sprintf("M%04d", rng.IntN(900))
		if rng.IntN(40) == 0 {
			rejected = append(rejected, claim.Exception{Source: "members.csv", Row: n, MemberID: id, Code: claim.InvalidValue, Field: "modules", Message: "bad modules", Raw: fmt.Sprintf("raw %d", n)})
			continue
		}
		y := 2000 + rng.IntN(30)
		r := row(n, id, fmt.Sprintf("%d-0%d-01", y, 1+rng.IntN(9)), fmt.Sprintf("%d-12-31", y), p.Currencies[rng.IntN(3)])
		switch rng.IntN(30) {
		case 0:
			r.CoreDeductibleGiven = 999
		case 1:
			r.PlanCurrency = "XXX"
		case 2:
			r.End = claim.OpenEnd
		}
		rows = append(rows, r)
	}
	bk, b, valid, ex := build(t, p, rows, rejected, nil)
	byID := map[string][]claim.RawSpan{}
	rejByID := map[string][]claim.Exception{}
	for _, r := range rows {
		byID[r.MemberID] = append(byID[r.MemberID], r)
	}
	for _, x := range rejected {
		rejByID[x.MemberID] = append(rejByID[x.MemberID], x)
	}
	var all []claim.Exception
	invalid := 0
	for i := range int32(bk.Len()) {
		id := bk.ID(i)
		spans, why, mex := ResolveMember(p, "members.csv", slices.Clone(byID[id]), rejByID[id])
		got, bad := bk.Invalid(i)
		if got != why || bad != (why != "") || !reflect.DeepEqual(valid[id], spans) {
			t.Fatalf("%s: book %q %v with %d spans; ResolveMember %q with %d", id, got, bad, len(valid[id]), why, len(spans))
		}
		if bad {
			invalid++
		}
		all = append(all, mex...)
	}
	slices.SortStableFunc(all, func(a, b claim.Exception) int { return cmp.Compare(a.Row, b.Row) })
	if !reflect.DeepEqual(all, ex) {
		t.Fatalf("%d exceptions from the Builder, %d from ResolveMember member by member", len(ex), len(all))
	}
	if _, n := b.Members(); n != invalid || invalid < 100 || invalid > 800 {
		t.Fatalf("%d invalid members, the book counts %d", invalid, n)
	}
}

// TestBookBytes: what the book holds for a member is its id, its number in
// three arrays and the hash index, and 6 bytes a span; an invalid member's
// reason. The figure is exact.
func TestBookBytes(t *testing.T) {
	p := plan.Default()
	var rows []claim.RawSpan
	for i := range 1000 {
		rows = append(rows, row(int64(2*i+1), fmt.Sprintf("M%05d", i), "2023-01-01", "2023-12-31", "EUR"),
			row(int64(2*i+2), fmt.Sprintf("M%05d", i), "2024-01-01", "", "USD"))
	}
	rows[1].PlanCurrency = "JPY" // member 0 invalid
	bk, _, _, _ := build(t, p, rows, nil, []string{"S1"})
	why := "members file row 2: plan currency JPY is not one of the plan's currencies USD, EUR, GBP"
	// ids 6 bytes, ends 4, status 1, span ends 4; 2048 slots of 4; 999
	// valid members' 2 spans of 6; one reason.
	want := int64(1000*6+2) + 1001*(4+1+4) + 2048*4 + 999*2*6 + 4 + 4 + int64(len(why))
	if got := bk.Bytes(); got != want {
		t.Fatalf("Bytes() = %d, want %d", got, want)
	}
	if got, _ := bk.Invalid(0); got != why {
		t.Fatalf("member 0: %q", got)
	}
}

// TestForMembers: the book explain builds of a few members resolved one by
// one.
func TestForMembers(t *testing.T) {
	p := plan.Default()
	spans, _, _ := ResolveMember(p, "members.csv", []claim.RawSpan{row(1, "B", "2024-01-01", "", "GBP")}, nil)
	bk := ForMembers(p, []Resolved{{ID: "C", Invalid: "members file row 2: bad"}, {ID: "B", Spans: spans}, {ID: "C", Invalid: "other"}})
	if bk.Len() != 2 || bk.ID(0) != "B" || bk.ID(1) != "C" || bk.Find("A") != -1 {
		t.Fatalf("book of %d: %q %q", bk.Len(), bk.ID(0), bk.ID(1))
	}
	if why, bad := bk.Invalid(1); !bad || why != "members file row 2: bad" {
		t.Fatalf("C: %q %v", why, bad)
	}
	if _, bad := bk.Invalid(0); bad || bk.currencyOn(0, date("2025-01-01")) != "GBP" {
		t.Fatal("B is valid, in GBP")
	}
}

// TestSpanCodec: a span comes back as it was encoded, strings included;
// a cut record is an error.
func TestSpanCodec(t *testing.T) {
	p := plan.Default()
	c := NewSpanCodec(p)
	s := claim.Span{MemberID: "kept", PolicyID: "POL-1", Start: date("2024-02-29"), End: claim.OpenEnd, DateOfBirth: claim.NoDate,
		Residence: "AE", Origin: "", USCover: true, PlanCurrency: "USD", Modules: claim.ModuleSet(0).With(claim.Core).With(claim.Dental),
		CoreDeductible: 110000, CoreCoinsurance: 2000, CoreOOPMax: -1, OutpatientDeduct: 0, OutpatientCoins: 10000, OutpatientOOPMax: 1 << 40,
		Source: 3, Row: 1 << 33}
	b := c.Append([]byte{7}, &s)
	got := claim.Span{MemberID: "kept", Source: 3}
	if err := c.Decode(b[1:], &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Fatalf("decoded\n%+v\nwant\n%+v", got, s)
	}
	for n := 1; n < len(b)-1; n++ {
		if err := c.Decode(b[1:n], &got); err == nil {
			t.Fatalf("a record cut to %d bytes decoded", n-1)
		}
	}
}
