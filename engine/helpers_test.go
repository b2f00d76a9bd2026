package engine

import (
	"testing"

	"claimsbatch/claim"
	"claimsbatch/plan"
)

var (
	testPlan   = plan.Default()
	testEngine = New(testPlan)
)

func d(s string) claim.Date {
	v, err := claim.ParseDate(s)
	if err != nil {
		panic(s)
	}
	return v
}

func money(s string) claim.Money {
	v, err := claim.ParseMoney(s)
	if err != nil {
		panic(s)
	}
	return v
}

// baseSpan is a USD member resident and born in France (origin FR), covered
// from 2024-01-01 with every module and no cost share.
func baseSpan(mods ...func(*claim.Span)) claim.Span {
	s := claim.Span{
		MemberID: "M1", PolicyID: "P1", Start: d("2024-01-01"), End: claim.OpenEnd,
		DateOfBirth: d("1980-06-15"), Residence: "FR", Origin: "FR", PlanCurrency: "USD",
		Modules:          claim.ModuleSet(0).With(claim.Core).With(claim.Outpatient).With(claim.Dental),
		CoreOOPMax:       money("2000"),
		OutpatientOOPMax: money("3000"),
	}
	for _, m := range mods {
		m(&s)
	}
	return s
}

var lineSeq int32

// mkLine returns a line of benefit code on date for amount (in USD), each on
// its own claim.
func mkLine(code, date, amount string, mods ...func(*claim.Line)) claim.Line {
	id, _, ok := testPlan.Lookup(code)
	if !ok {
		panic(code)
	}
	lineSeq++
	l := claim.Line{
		ClaimID: "C" + string(rune('A'+lineSeq%26)) + itoa(int(lineSeq)), LineNo: 1, MemberID: "M1",
		ServiceDate: d(date), ServiceEndDate: d(date), ReceivedDate: d(date),
		BenefitCode: code, Benefit: id, Country: "FR", Currency: "USD",
		Billed: money(amount), Charge: money(amount), Units: 1, Payee: claim.PayeeMember,
		PlanCurrency: "USD", FXRate: "1",
	}
	for _, m := range mods {
		m(&l)
	}
	return l
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func run(spans []claim.Span, lines ...claim.Line) []claim.Result {
	m := testEngine.NewMember()
	return testEngine.Adjudicate(m, spans, lines, nil)
}

// want is the expected outcome of one line.
type want struct {
	deductible, coinsurance, notCovered, paid string
	status                                    string
	adjustments                               string
}

func check(t *testing.T, label string, r claim.Result, w want) {
	t.Helper()
	got := want{r.Deductible.String(), r.Coinsurance.String(), r.NotCovered.String(), r.PlanPaid.String(), r.Status.String(), r.Adjustments.String()}
	if w.deductible == "" {
		w.deductible = "0.00"
	}
	if w.coinsurance == "" {
		w.coinsurance = "0.00"
	}
	if w.notCovered == "" {
		w.notCovered = "0.00"
	}
	if got != w {
		t.Errorf("%s:\n got  %+v\n want %+v (remark %q)", label, got, w, r.Remark)
	}
	if r.Charge != r.PlanPaid+r.Deductible+r.Coinsurance+r.NotCovered {
		t.Errorf("%s: money identity broken: %+v", label, r)
	}
}

func withLine(f func(*claim.Line)) func(*claim.Line) { return f }
