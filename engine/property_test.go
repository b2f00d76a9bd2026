package engine

import (
	"math/rand/v2"
	"slices"
	"testing"

	"claimsbatch/claim"
	"claimsbatch/plan"
)

// randomMember builds a member with one to three spans and n random lines in
// SPEC order, exercising every benefit, out-of-area trips, origin days,
// duplicates and stays.
func randomMember(rng *rand.Rand, id string, n int) ([]claim.Span, []claim.Line) {
	cur := []string{"USD", "EUR", "GBP"}[rng.IntN(3)]
	ci := testPlan.CurrencyIndex(cur)
	start := claim.FromCivil(2021+rng.IntN(3), 1+rng.IntN(12), 1+rng.IntN(28))
	if rng.IntN(10) == 0 {
		start = d("2024-02-29")
	}
	pick := func(opts []claim.Money) claim.Money { return opts[rng.IntN(len(opts))] }
	pickPct := func(opts []int64) int64 { return opts[rng.IntN(len(opts))] }
	core, op := &testPlan.Modules[claim.Core], &testPlan.Modules[claim.Outpatient]
	var spans []claim.Span
	nSpans := 1 + rng.IntN(3)
	for i := 0; i < nSpans; i++ {
		s := claim.Span{
			MemberID: id, PolicyID: id + "-P" + itoa(i), Start: start, End: claim.OpenEnd,
			DateOfBirth: claim.FromCivil(1940+rng.IntN(84), 1+rng.IntN(12), 1+rng.IntN(28)),
			Residence:   "FR", Origin: []string{"FR", "PT"}[rng.IntN(2)], USCover: rng.IntN(4) == 0,
			PlanCurrency: cur, Modules: claim.ModuleSet(0).With(claim.Core),
			CoreDeductible: pick(core.Deductibles[ci]), CoreCoinsurance: pickPct(core.Coinsurance), CoreOOPMax: pick(core.OOPMaximums[ci]),
			OutpatientDeduct: pick(op.Deductibles[ci]), OutpatientCoins: pickPct(op.Coinsurance), OutpatientOOPMax: pick(op.OOPMaximums[ci]),
		}
		if rng.IntN(3) > 0 {
			s.Modules = s.Modules.With(claim.Outpatient)
		}
		if rng.IntN(2) == 0 {
			s.Modules = s.Modules.With(claim.Dental)
		}
		if i < nSpans-1 {
			s.End = start + claim.Date(200+rng.IntN(700))
			start = s.End + 1 + claim.Date(rng.IntN(2)*rng.IntN(60))
		}
		spans = append(spans, s)
	}
	first, last := spans[0].Start-30, spans[len(spans)-1].Start+900
	countries := []string{"FR", "FR", "FR", "PT", "DE", "US", "ES"}
	lines := make([]claim.Line, 0, n)
	for i := 0; i < n; i++ {
		b := claim.BenefitID(rng.IntN(len(testPlan.Benefits)))
		if rng.IntN(3) == 0 { // favour the limited ones
			b = claim.BenefitID([]int{4, 8, 9, 10, 12, 21, 22, 23}[rng.IntN(8)])
		}
		code := testPlan.Benefits[b].Code
		sd := first + claim.Date(rng.IntN(int(last-first)))
		amount := claim.Money(rng.IntN(5)) * claim.Money(rng.IntN(300000)+1)
		if rng.IntN(5) == 0 {
			amount = claim.Money(rng.IntN(5000000))
		}
		l := claim.Line{
			ClaimID: "C" + itoa(rng.IntN(n*2)), LineNo: int32(1 + rng.IntN(3)), MemberID: id,
			ServiceDate: sd, ServiceEndDate: sd, ReceivedDate: sd + claim.Date(rng.IntN(40)),
			BenefitCode: code, Benefit: b, Country: countries[rng.IntN(len(countries))], Emergency: rng.IntN(3) > 0,
			Currency: cur, Billed: amount, Charge: amount, Units: int32(1 + rng.IntN(3)), Payee: claim.PayeeMember,
			PlanCurrency: cur, ProviderID: []string{"", "P1", "P2"}[rng.IntN(3)],
		}
		if rng.IntN(4) == 0 {
			l.ServiceEndDate = sd + claim.Date(rng.IntN(25))
			l.Units = int32(l.ServiceEndDate-sd) + 1
		}
		if rng.IntN(3) == 0 {
			l.TripID = []string{"T1", "T2"}[rng.IntN(2)]
		}
		if rng.IntN(2) == 0 {
			l.Condition = []string{"C50", "J18", "F32"}[rng.IntN(3)]
			l.Diagnosis = l.Condition + ".1"
		}
		if testPlan.Benefits[b].LimitPerItem {
			l.ItemCode = []string{"WIG", "BRA"}[rng.IntN(2)]
		}
		if i > 0 && rng.IntN(15) == 0 { // a copy of an earlier service under another claim
			l = lines[rng.IntN(i)]
			l.ClaimID += "X"
		}
		lines = append(lines, l)
	}
	slices.SortFunc(lines, func(a, b claim.Line) int {
		if claim.Less(&a, &b) {
			return -1
		}
		if claim.Less(&b, &a) {
			return 1
		}
		return 0
	})
	lines = slices.CompactFunc(lines, func(a, b claim.Line) bool { return a.ClaimID == b.ClaimID && a.LineNo == b.LineNo })
	return spans, lines
}

// TestPropertiesRandom checks, over thousands of random members, that every
// line ties out to the cent, no accumulator exceeds its limit, and cost share
// never exceeds the member's options.
//
// Its plan is the built-in one with a 35-day filing limit, so that PR-29
// (received late) is reached too: the random received dates are up to 40
// days after service.
func TestPropertiesRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	timely, err := plan.Parse("closecare+timely", append(plan.DefaultYAML(), "\ntimely_filing_days: 35\n"...))
	if err != nil {
		t.Fatal(err)
	}
	testEngine := New(timely)
	m := testEngine.NewMember()
	var out []claim.Result
	var seenCode [claim.NumReasons]int
	var seenStatus [4]int
	defer func() {
		// The random data must reach every rule, or the properties prove little.
		for code, n := range seenCode {
			if n == 0 {
				t.Errorf("random data never produced %s", claim.Reason(code))
			}
		}
		for st, n := range seenStatus {
			if n == 0 {
				t.Errorf("random data never produced status %s", claim.Status(st))
			}
		}
	}()
	for member := 0; member < 2000; member++ {
		spans, lines := randomMember(rng, "M"+itoa(member), 5+rng.IntN(80))
		m.Reset()
		out = testEngine.Adjudicate(m, spans, lines, out[:0])
		ci := testPlan.CurrencyIndex(spans[0].PlanCurrency)
		for i := range out {
			r := &out[i]
			if r.Charge != r.PlanPaid+r.Deductible+r.Coinsurance+r.NotCovered {
				t.Fatalf("member %d line %d: identity broken %+v", member, i, r)
			}
			var sum claim.Money
			for code, a := range r.Adjustments {
				if a < 0 {
					t.Fatalf("negative adjustment %s", claim.Reason(code))
				}
				sum += a
			}
			if sum != r.Deductible+r.Coinsurance+r.NotCovered || r.Adjustments[claim.PR1] != r.Deductible || r.Adjustments[claim.PR2] != r.Coinsurance {
				t.Fatalf("member %d line %d: adjustments %s do not split member responsibility %+v", member, i, r.Adjustments.String(), r)
			}
			seenStatus[r.Status]++
			for code, a := range r.Adjustments {
				if a > 0 {
					seenCode[code]++
				}
			}
			if r.PlanPaid < 0 || r.Deductible < 0 || r.Coinsurance < 0 || r.NotCovered < 0 {
				t.Fatalf("negative amount %+v", r)
			}
		}
		for _, y := range m.years {
			var sp *claim.Span
			for k := range spans {
				if spans[k].Start <= y.start && y.start <= spans[k].End {
					sp = &spans[k]
				}
			}
			checkYear(t, &y, sp, ci)
		}
		for _, it := range m.items {
			id, _, _ := testPlan.Lookup(it.benefit)
			if it.paid > testPlan.Benefits[id].Limit[ci] {
				t.Fatalf("item %s/%s paid %s over its limit", it.benefit, it.item, it.paid)
			}
		}
		for _, tr := range m.trips {
			if len(tr.dates) > int(testPlan.OutOfAreaDaysPerTrip) {
				t.Fatalf("trip %v counted %d dates", tr.key, len(tr.dates))
			}
		}
	}
}

func checkYear(t *testing.T, y *yearState, sp *claim.Span, ci int) {
	t.Helper()
	p := testPlan
	e := testEngine
	over := func(name string, used, limit claim.Money) {
		if used > limit {
			t.Fatalf("year %s: %s accrued %s over its limit %s", y.start, name, used, limit)
		}
	}
	over("core deductible", y.amounts[e.deductibleSlot[claim.Core]], sp.CoreDeductible)
	over("core coinsurance", y.amounts[e.coinsuranceSlot[claim.Core]], sp.CoreOOPMax)
	over("outpatient deductible", y.amounts[e.deductibleSlot[claim.Outpatient]], sp.OutpatientDeduct)
	over("outpatient coinsurance", y.amounts[e.coinsuranceSlot[claim.Outpatient]], sp.OutpatientOOPMax)
	for mod := claim.Core; mod <= claim.Dental; mod++ {
		over(mod.String()+" annual", y.amounts[e.annualSlot[mod]], p.Modules[mod].AnnualMaximum[ci])
	}
	over("out of area", y.amounts[e.outOfAreaSlot], p.OutOfAreaLimit[ci])
	for i, b := range p.Benefits {
		bs := e.benefits[i]
		if bs.amountSlot >= 0 && b.Period == 0 {
			over(b.Code, y.amounts[bs.amountSlot], b.Limit[ci])
		}
		if bs.daysSlot >= 0 && y.units[bs.daysSlot] > b.Days {
			t.Fatalf("%s days %d", b.Code, y.units[bs.daysSlot])
		}
		if bs.countSlot >= 0 && y.units[bs.countSlot] > b.LinesPerYear {
			t.Fatalf("%s lines %d", b.Code, y.units[bs.countSlot])
		}
	}
	for i, g := range p.Groups {
		gs := e.groups[i]
		if gs.amountSlot >= 0 {
			over(g.Name, y.amounts[gs.amountSlot], g.Limit[ci])
		}
		if gs.daysSlot >= 0 && y.units[gs.daysSlot] > g.Days {
			t.Fatalf("%s days %d", g.Name, y.units[gs.daysSlot])
		}
	}
	for _, c := range y.conds {
		over("condition "+c.category, c.paid, p.ConditionCap[ci])
	}
	if len(y.oaDates) > int(p.OutOfAreaDaysPerYear) || len(y.originDates) > int(p.OriginDaysPerYear) {
		t.Fatalf("dates: %d out of area, %d origin", len(y.oaDates), len(y.originDates))
	}
}

// TestMemberIndependence: a member's results do not depend on which members
// the same Member value adjudicated before, nor on their order.
func TestMemberIndependence(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	type member struct {
		spans []claim.Span
		lines []claim.Line
	}
	var ms []member
	for i := 0; i < 200; i++ {
		s, l := randomMember(rng, "M"+itoa(i), 40)
		ms = append(ms, member{s, l})
	}
	results := func(order []int) map[int][]claim.Result {
		m := testEngine.NewMember()
		got := map[int][]claim.Result{}
		for _, i := range order {
			m.Reset()
			got[i] = testEngine.Adjudicate(m, ms[i].spans, ms[i].lines, nil)
		}
		return got
	}
	forward := make([]int, len(ms))
	for i := range forward {
		forward[i] = i
	}
	shuffled := slices.Clone(forward)
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	a, b := results(forward), results(shuffled)
	for i := range ms {
		if !slices.Equal(a[i], b[i]) {
			t.Fatalf("member %d differs when members are reordered", i)
		}
	}
}

// TestStateChaining: adjudicating a member's lines in two sessions joined by
// AppendState/LoadState gives the same results as one session.
func TestStateChaining(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 500; i++ {
		spans, lines := randomMember(rng, "M"+itoa(i), 60)
		whole := testEngine.Adjudicate(testEngine.NewMember(), spans, lines, nil)
		cut := rng.IntN(len(lines) + 1)
		m := testEngine.NewMember()
		first := testEngine.Adjudicate(m, spans, lines[:cut], nil)
		recs := testEngine.AppendState(m, "M", claim.NoDate, nil)
		m2 := testEngine.NewMember()
		if err := testEngine.LoadState(m2, recs); err != nil {
			t.Fatal(err)
		}
		second := testEngine.Adjudicate(m2, spans, lines[cut:], nil)
		if !slices.Equal(whole, append(first, second...)) {
			t.Fatalf("member %d: chained results differ from one session (cut at %d of %d)", i, cut, len(lines))
		}
		again := testEngine.AppendState(m2, "M", claim.NoDate, nil)
		full := testEngine.NewMember()
		testEngine.Adjudicate(full, spans, lines, nil)
		if want := testEngine.AppendState(full, "M", claim.NoDate, nil); !slices.Equal(again, want) {
			t.Fatalf("member %d: state after chaining differs from state after one session", i)
		}
	}
}

// TestSegmentsAreTheWholeMember: a member adjudicated as a runner does for
// a huge history (BeginMember, Adjudicate on consecutive segments, the
// LINE records of this run merged with the earlier ones) gives the results
// and state records of AdjudicateMember, on top of a state of earlier
// lines.
func TestSegmentsAreTheWholeMember(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for i := 0; i < 300; i++ {
		id := "M" + itoa(i)
		spans, lines := randomMember(rng, id, 80)
		// One line a key, as the pipeline's dedupe leaves them.
		seen := map[[2]string]bool{}
		lines = slices.DeleteFunc(lines, func(l claim.Line) bool {
			k := [2]string{l.ClaimID, itoa(int(l.LineNo))}
			dup := seen[k]
			seen[k] = true
			return dup
		})
		cut := rng.IntN(len(lines) + 1)
		keepFrom, keysFrom := claim.NoDate, claim.NoDate
		if rng.IntN(2) == 0 {
			keepFrom = spans[0].Start + claim.Date(rng.IntN(400))
			keysFrom = keepFrom - claim.Date(rng.IntN(100))
		}
		// The earlier night's state, and this night's lines (sorted apart:
		// the earlier lines are not this run's).
		_, state, err := testEngine.AdjudicateMember(testEngine.NewMember(), &MemberRun{ID: id, Spans: spans, Lines: lines[:cut],
			KeepFrom: claim.NoDate, KeysFrom: claim.NoDate, LateBefore: claim.NoDate}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		in := MemberRun{ID: id, Spans: spans, Lines: lines[cut:], State: state, KeepFrom: keepFrom, KeysFrom: keysFrom, LateBefore: claim.NoDate}
		wantResults, wantState, err := testEngine.AdjudicateMember(testEngine.NewMember(), &in, nil, nil)
		if err != nil {
			t.Fatal(err)
		}

		m := testEngine.NewMember()
		if err := testEngine.BeginMember(m, &in); err != nil {
			t.Fatal(err)
		}
		m.Reserve(len(in.Lines))
		var results []claim.Result
		for rest := in.Lines; len(rest) > 0; {
			n := min(len(rest), 1+rng.IntN(20))
			results = testEngine.Adjudicate(m, spans, rest[:n], results)
			rest = rest[n:]
		}
		got := testEngine.AppendAccumulators(m, id, keepFrom, nil)
		earlier := m.LineRecords()
		var own []claim.StateRecord
		for i := range in.Lines {
			own = in.AppendLineRecord(own, &in.Lines[i])
		}
		slices.SortFunc(own, func(a, b claim.StateRecord) int { return CompareLineRecords(&a, &b) })
		for len(earlier) > 0 || len(own) > 0 {
			if len(own) == 0 || len(earlier) > 0 && CompareLineRecords(&earlier[0], &own[0]) <= 0 {
				got, earlier = append(got, earlier[0]), earlier[1:]
			} else {
				got, own = append(got, own[0]), own[1:]
			}
		}
		if !slices.Equal(results, wantResults) {
			t.Fatalf("member %d: results in segments differ from the whole member's", i)
		}
		if !slices.Equal(got, wantState) {
			t.Fatalf("member %d: state in segments differs from the whole member's:\n got %v\nwant %v", i, got, wantState)
		}
	}
}
