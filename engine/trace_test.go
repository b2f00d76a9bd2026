package engine

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"claimsbatch/claim"
)

// recorder is a Tracer that writes every event as one line of text.
type recorder struct {
	lines []string
	steps []StepTrace
	accs  []tracedAcc
}

type tracedAcc struct {
	ln *claim.Line
	AccTrace
}

func (r *recorder) Step(ln *claim.Line, s StepTrace) {
	r.steps = append(r.steps, s)
	var b strings.Builder
	fmt.Fprintf(&b, "%s/%d %d %s: %s", ln.ClaimID, ln.LineNo, s.Step.Number(), s.Step, s.Outcome)
	if s.Outcome == Denied || s.Cut > 0 {
		fmt.Fprintf(&b, " %s %s %q", s.Reason, s.Cut, s.Remark)
	}
	switch s.Step {
	case StepCharge, StepDayLimits, StepExhaustedLimits, StepAmountLimits, StepAccrue:
		fmt.Fprintf(&b, " amount %s", s.Amount)
	case StepCostShare:
		fmt.Fprintf(&b, " deductible %s coinsurance %s plan share %s", s.Deductible, s.Coinsurance, s.Amount)
	}
	if s.Detail != "" {
		fmt.Fprintf(&b, " (%s)", s.Detail)
	}
	r.lines = append(r.lines, b.String())
}

func (r *recorder) Accumulator(ln *claim.Line, a AccTrace) {
	r.accs = append(r.accs, tracedAcc{ln, a})
	show := func(v int64) string {
		if a.Kind.Money() {
			return claim.Money(v).String()
		}
		return fmt.Sprint(v)
	}
	s := fmt.Sprintf("%s/%d   %s %s %s %s -> %s of %s", ln.ClaimID, ln.LineNo, a.Kind, a.Subject, a.Key, show(a.Before), show(a.After), show(a.Limit))
	if a.Cut > 0 {
		s += fmt.Sprintf(" (%s %s)", a.Reason, a.Cut)
	}
	r.lines = append(r.lines, strings.Join(strings.Fields(s), " "))
}

func traced(spans []claim.Span, lines ...claim.Line) ([]claim.Result, []string) {
	m := testEngine.NewMember()
	rec := &recorder{}
	m.SetTracer(rec)
	return testEngine.Adjudicate(m, spans, lines, nil), rec.lines
}

func checkTrace(t *testing.T, got, want []string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("trace:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The brochure's worked examples (SPEC section 5): the cost share step and
// the deductible and out-of-pocket accumulators say what the brochure says.
func TestTraceBrochureExamples(t *testing.T) {
	coreOptions := func(ded string, pct int64, oop string) func(*claim.Span) {
		return func(s *claim.Span) {
			s.CoreDeductible, s.CoreCoinsurance, s.CoreOOPMax = money(ded), pct, money(oop)
		}
	}
	tests := []struct {
		name   string
		span   claim.Span
		amount string
		want   []string
	}{
		{"1,200 with a 375 deductible", baseSpan(coreOptions("375", 0, "2000")), "1200", []string{
			"X/1 9 cost share: applied deductible 375.00 coinsurance 0.00 plan share 825.00 (core: coinsurance 0 %)",
			"X/1 10 amount limits: applied amount 825.00",
			"X/1 11 accrue: applied amount 825.00",
			"X/1 deductible core 0.00 -> 375.00 of 375.00 (PR-1 375.00)",
			"X/1 coinsurance core 0.00 -> 0.00 of 2000.00",
			"X/1 annual core 0.00 -> 825.00 of 500000.00",
		}},
		{"5,000 at 20 % up to 2,000", baseSpan(coreOptions("0", 2000, "2000")), "5000", []string{
			"X/1 9 cost share: applied deductible 0.00 coinsurance 1000.00 plan share 4000.00 (core: coinsurance 20 %)",
			"X/1 10 amount limits: applied amount 4000.00",
			"X/1 11 accrue: applied amount 4000.00",
			"X/1 deductible core 0.00 -> 0.00 of 0.00",
			"X/1 coinsurance core 0.00 -> 1000.00 of 2000.00 (PR-2 1000.00)",
			"X/1 annual core 0.00 -> 4000.00 of 500000.00",
		}},
		{"20,000 at 20 % up to 2,000", baseSpan(coreOptions("0", 2000, "2000")), "20000", []string{
			"X/1 9 cost share: applied deductible 0.00 coinsurance 2000.00 plan share 18000.00 (core: coinsurance 20 %)",
			"X/1 10 amount limits: applied amount 18000.00",
			"X/1 11 accrue: applied amount 18000.00",
			"X/1 deductible core 0.00 -> 0.00 of 0.00",
			"X/1 coinsurance core 0.00 -> 2000.00 of 2000.00 (PR-2 2000.00)",
			"X/1 annual core 0.00 -> 18000.00 of 500000.00",
		}},
		{"20,000 with 375 and 20 % up to 5,000", baseSpan(coreOptions("375", 2000, "5000")), "20000", []string{
			"X/1 9 cost share: applied deductible 375.00 coinsurance 3925.00 plan share 15700.00 (core: coinsurance 20 %)",
			"X/1 10 amount limits: applied amount 15700.00",
			"X/1 11 accrue: applied amount 15700.00",
			"X/1 deductible core 0.00 -> 375.00 of 375.00 (PR-1 375.00)",
			"X/1 coinsurance core 0.00 -> 3925.00 of 5000.00 (PR-2 3925.00)",
			"X/1 annual core 0.00 -> 15700.00 of 500000.00",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ln := mkLine("HOSPITAL_ACCOMMODATION", "2024-03-01", tc.amount, sameClaim("X", 1))
			_, got := traced(spans(tc.span), ln)
			head := []string{
				"X/1 0 charge: applied amount " + money(tc.amount).String() + " (billed in the plan currency)",
				"X/1 1 eligibility: passed (policy P1, policy year 2024-01-01 to 2024-12-31)",
				"X/1 2 module: passed (core module; the span holds core;outpatient;dental)",
				"X/1 3 age rule: not applicable",
				"X/1 4 waiting period: not applicable",
				"X/1 5 coverage area: passed (treatment in FR, the residence country)",
				"X/1 6 duplicate service: passed",
				"X/1 7 day limits: not applicable amount " + money(tc.amount).String(),
				"X/1 8 exhausted limits: passed amount " + money(tc.amount).String() + " (the least left: core annual maximum)",
			}
			checkTrace(t, got, append(head, tc.want...))
		})
	}
}

// A line that reaches a limit shows the limit before and after, and what it
// cut: the brief's "outpatient annual 4,835.00 -> 5,000.00 of 5,000.00
// (PR-119 10.00)".
func TestTraceAnnualMaximumCut(t *testing.T) {
	s := baseSpan()
	lines := []claim.Line{
		mkLine("OP_DME_RENTAL", "2024-02-01", "1500"),
		mkLine("OP_PATHOLOGY_RADIOLOGY", "2024-02-02", "1000"),
		mkLine("OP_PHYSIOTHERAPY", "2024-02-03", "1000"),
		mkLine("OP_OSTEOPATHY_CHIROPRACTIC", "2024-02-04", "650"),
		mkLine("OP_ACUPUNCTURE_TCM", "2024-02-05", "650"),
		mkLine("OP_PRESCRIPTION_DRUGS", "2024-02-06", "35"),
		mkLine("OP_PRESCRIPTION_DRUGS", "2024-02-07", "175", sameClaim("LAST", 1)),
	}
	res, got := traced(spans(s), lines...)
	check(t, "last line", res[6], want{notCovered: "10.00", paid: "165.00", status: "PARTIAL", adjustments: "PR-119:10.00"})
	var last []string
	for _, l := range got {
		if strings.HasPrefix(l, "LAST/1 ") && !strings.Contains(l, ": passed") && !strings.Contains(l, ": not applicable") {
			last = append(last, l)
		}
	}
	checkTrace(t, last, []string{
		"LAST/1 0 charge: applied amount 175.00 (billed in the plan currency)",
		"LAST/1 9 cost share: applied deductible 0.00 coinsurance 0.00 plan share 175.00 (outpatient: coinsurance 0 %)",
		"LAST/1 10 amount limits: applied PR-119 10.00 \"outpatient annual maximum reached\" amount 165.00",
		"LAST/1 11 accrue: applied amount 165.00",
		"LAST/1 deductible outpatient 0.00 -> 0.00 of 0.00",
		"LAST/1 coinsurance outpatient 0.00 -> 0.00 of 3000.00",
		"LAST/1 benefit OP_PRESCRIPTION_DRUGS 35.00 -> 200.00 of 500.00",
		"LAST/1 annual outpatient 4835.00 -> 5000.00 of 5000.00 (PR-119 10.00)",
	})
}

// Denials: an early step ends the trace there, with no accumulator; steps 7
// and 8 report the limit that denied, unchanged.
func TestTraceDenials(t *testing.T) {
	s := baseSpan()
	t.Run("outside the area", func(t *testing.T) {
		_, got := traced(spans(s), mkLine("OP_CONSULTATION", "2024-03-01", "80", sameClaim("A", 1), withLine(func(l *claim.Line) { l.Country = "IT" })))
		checkTrace(t, got[len(got)-2:], []string{
			"A/1 4 waiting period: not applicable",
			"A/1 5 coverage area: denied PR-96 80.00 \"outside area of cover\" (treatment in IT, outside the area of cover (residence FR, origin FR, US cover N) and not an emergency)",
		})
	})
	t.Run("day limit used up", func(t *testing.T) {
		_, got := traced(spans(s),
			mkLine("REHABILITATION", "2024-03-01", "900", units(30)),
			mkLine("REHABILITATION", "2024-03-05", "100", units(2), sameClaim("B", 1)))
		checkTrace(t, got[len(got)-2:], []string{
			"B/1 7 day limits: denied PR-119 100.00 \"REHABILITATION day limit reached\" amount 0.00 (0 of 2 units covered)",
			"B/1 benefit_days REHABILITATION 30 -> 30 of 30 (PR-119 100.00)",
		})
	})
	t.Run("second eye test", func(t *testing.T) {
		child := baseSpan(func(s *claim.Span) { s.DateOfBirth = d("2014-01-01") })
		_, got := traced(spans(child),
			mkLine("OP_CHILD_EYE_HEARING", "2024-03-01", "120"),
			mkLine("OP_CHILD_EYE_HEARING", "2024-09-01", "90", sameClaim("E", 1)))
		checkTrace(t, got[len(got)-3:], []string{
			"E/1 8 exhausted limits: denied PR-119 90.00 \"OP_CHILD_EYE_HEARING lines per policy year reached\" amount 90.00 (the least left: outpatient annual maximum; 1 of 1 lines this policy year)",
			"E/1 annual outpatient 120.00 -> 120.00 of 5000.00",
			"E/1 lines OP_CHILD_EYE_HEARING 1 -> 1 of 1 (PR-119 90.00)",
		})
	})
	t.Run("duplicate service", func(t *testing.T) {
		_, got := traced(spans(s),
			mkLine("OP_CONSULTATION", "2024-03-01", "80", sameClaim("D1", 1), provider("P9")),
			mkLine("OP_CONSULTATION", "2024-03-01", "80", sameClaim("D2", 1), provider("P9")))
		checkTrace(t, got[len(got)-1:], []string{
			"D2/1 6 duplicate service: denied OA-18 80.00 \"duplicate of a service already adjudicated\" (the same service as claim D1)",
		})
	})
	t.Run("trip days", func(t *testing.T) {
		_, got := traced(spans(s), mkLine("HOSPITAL_ACCOMMODATION", "2024-05-01", "2500", abroad("ES"), trip("T-ES1"), until("2024-05-25"), units(25), sameClaim("T", 1)))
		want := []string{
			"T/1 5 coverage area: passed (treatment in ES, outside the area of cover: an emergency, covered under the out-of-area limits (trip T-ES1))",
			"T/1 6 duplicate service: passed",
			"T/1 7 day limits: applied PR-119 400.00 \"out-of-area days per trip reached\" amount 2100.00 (21 of 25 dates covered)",
		}
		checkTrace(t, got[5:8], want)
		checkTrace(t, got[len(got)-3:], []string{
			"T/1 annual core 0.00 -> 2100.00 of 500000.00",
			"T/1 trip_days T-ES1 0 -> 21 of 21 (PR-119 400.00)",
			"T/1 out_of_area_days 0 -> 21 of 45",
		})
	})
}

// With a tracer the engine decides exactly as without one; the accumulators
// it reports chain from line to line (a line's before is the previous
// after) and move by the line's own amounts.
func TestTraceProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	plain, tracedM := testEngine.NewMember(), testEngine.NewMember()
	rec := &recorder{}
	tracedM.SetTracer(rec)
	for member := 0; member < 500; member++ {
		spans, lines := randomMember(rng, "M"+itoa(member), 5+rng.IntN(60))
		in := &MemberRun{ID: "M" + itoa(member), Spans: spans, Lines: lines, KeepFrom: claim.NoDate, KeysFrom: claim.NoDate, LateBefore: claim.NoDate}
		r1, s1, err1 := testEngine.AdjudicateMember(plain, in, nil, nil)
		rec.steps, rec.accs, rec.lines = rec.steps[:0], rec.accs[:0], rec.lines[:0]
		r2, s2, err2 := testEngine.AdjudicateMember(tracedM, in, nil, nil)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if !reflect.DeepEqual(r1, r2) || !reflect.DeepEqual(s1, s2) {
			t.Fatalf("member %d: traced results or state differ from untraced", member)
		}
		// Every line starts with its charge; the steps come in order.
		charges := 0
		for i, s := range rec.steps {
			if s.Step == StepCharge {
				charges++
			} else if i == 0 || s.Step <= rec.steps[i-1].Step {
				t.Fatalf("member %d: step %s after %s", member, s.Step, rec.steps[i-1].Step)
			}
		}
		if charges != len(lines) {
			t.Fatalf("member %d: %d lines traced, want %d", member, charges, len(lines))
		}
		byLine := map[*claim.Line]*claim.Result{}
		for i := range r2 {
			byLine[r2[i].Line] = &r2[i]
		}
		type accKey struct {
			kind         AccKind
			subject, key string
			year         claim.Date
		}
		last := map[accKey]int64{}
		for _, a := range rec.accs {
			r := byLine[a.ln]
			k := accKey{a.Kind, a.Subject, a.Key, r.PolicyYearStart}
			if a.Kind.Lifetime() || a.Kind == AccTripDays {
				k.year = claim.NoDate
			}
			if prev, ok := last[k]; ok && a.Kind != AccPerLine && prev != a.Before {
				t.Fatalf("member %d line %s/%d: %s %s %s before %d, the previous line left %d", member, a.ln.ClaimID, a.ln.LineNo, a.Kind, a.Subject, a.Key, a.Before, prev)
			}
			last[k] = a.After
			delta := a.After - a.Before
			var want int64 = -1
			switch {
			case a.Step != StepAccrue:
				want = 0
			case a.Kind == AccDeductible:
				want = int64(r.Deductible)
			case a.Kind == AccCoinsurance:
				want = int64(r.Coinsurance)
			case a.Kind.Money():
				want = int64(r.PlanPaid)
			case a.Kind == AccLines:
				want = 1
			}
			if want >= 0 && delta != want {
				t.Fatalf("member %d line %s/%d: %s %s moved %d, want %d", member, a.ln.ClaimID, a.ln.LineNo, a.Kind, a.Subject, delta, want)
			}
			if a.Kind != AccDeductible && a.Kind != AccCoinsurance && a.After > a.Limit && a.After != a.Before {
				t.Fatalf("member %d: %s %s accrued past its limit: %d > %d", member, a.Kind, a.Subject, a.After, a.Limit)
			}
		}
	}
}
