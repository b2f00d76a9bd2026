package book

import (
	"testing"

	"claimsbatch/claim"
	"claimsbatch/plan"

	"github.com/shopspring/decimal"
)

// TestPricer: the row checks that need the book, in SPEC order, and the
// charge in plan currency, with exact messages.
func TestPricer(t *testing.T) {
	p := plan.Default()
	d := func(s string) claim.Date { v, _ := claim.ParseDate(s); return v }
	raw := []claim.RawSpan{
		{Span: claim.Span{MemberID: "M1", PolicyID: "P1", Start: d("2024-01-01"), End: claim.OpenEnd, DateOfBirth: d("1980-05-05"),
			Residence: "FR", Origin: "FR", PlanCurrency: "EUR", Modules: claim.ModuleSet(0).With(claim.Core), Row: 1},
			CoreDeductibleGiven: -1, CoreCoinsGiven: -1, CoreOOPMaxGiven: -1, OutpatientDeductGiven: -1, OutpatientCoinsGiven: -1, OutpatientOOPMaxGiven: -1},
		{Span: claim.Span{MemberID: "M2", PolicyID: "P2", Start: d("2024-01-01"), End: claim.OpenEnd, DateOfBirth: d("1980-05-05"),
			Residence: "FR", Origin: "FR", PlanCurrency: "EUR", Modules: claim.ModuleSet(0).With(claim.Core), Row: 2},
			CoreDeductibleGiven: 12345, CoreCoinsGiven: -1, CoreOOPMaxGiven: -1, OutpatientDeductGiven: -1, OutpatientCoinsGiven: -1, OutpatientOOPMaxGiven: -1},
	}
	b, _, _, ex := build(t, p, raw, nil, []string{"OLD"})
	if len(ex) != 1 || ex[0].Code != claim.InvalidValue || ex[0].Field != "core_deductible" {
		t.Fatalf("member exceptions %+v", ex)
	}
	fx, fxEx := NewFX("fx.csv", []claim.FXRate{
		{Date: d("2024-01-01"), Currency: "USD", PlanCurrency: "EUR", Rate: decimal.RequireFromString("0.9"), Text: "0.9", Row: 1},
		{Date: d("2024-06-01"), Currency: "USD", PlanCurrency: "EUR", Rate: decimal.RequireFromString("0.95"), Text: "0.95", Row: 2},
	}, nil)
	if len(fxEx) != 0 {
		t.Fatal(fxEx)
	}
	hospital, _, _ := p.Lookup("HOSPITAL_ACCOMMODATION")
	cash, _, _ := p.Lookup("PANDEMIC_CASH")
	pr := NewPricer(p, b, fx)
	tests := []struct {
		name           string
		line           claim.Line
		code           claim.ExceptionCode
		msg            string
		charge         claim.Money
		rate, currency string
	}{
		{"unknown", claim.Line{MemberID: "NOPE"}, claim.UnknownMember, "member_id is not in the members file", 0, "", ""},
		{"state only", claim.Line{MemberID: "OLD"}, claim.UnknownMember, "member_id is not in the members file", 0, "", ""},
		{"invalid", claim.Line{MemberID: "M2"}, claim.InvalidMember, "the member's coverage is invalid: members file row 2: core_deductible 123.45 is not one of the plan's options (0.00, 275.00, 550.00, 1100.00, 2200.00, 5500.00, 7400.00)", 0, "", ""},
		{"same currency", claim.Line{MemberID: "M1", Benefit: hospital, Currency: "EUR", Billed: 10000, ServiceDate: d("2024-03-01")}, "", "", 10000, "1", "EUR"},
		{"converted", claim.Line{MemberID: "M1", Benefit: hospital, Currency: "USD", Billed: 10001, ServiceDate: d("2024-07-01")}, "", "", 9501, "0.95", "EUR"},
		{"rate before", claim.Line{MemberID: "M1", Benefit: hospital, Currency: "USD", Billed: 10000, ServiceDate: d("2024-05-31")}, "", "", 9000, "0.9", "EUR"},
		{"no rate", claim.Line{MemberID: "M1", Benefit: hospital, Currency: "GBP", Billed: 10000, ServiceDate: d("2024-03-01")}, claim.NoFXRate, "no GBP→EUR rate on or before 2024-03-01", 0, "", "EUR"},
		{"cash", claim.Line{MemberID: "M1", Benefit: cash, Currency: "GBP", Billed: 10000, ServiceDate: d("2024-03-01")}, "", "", 0, "", "EUR"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := tc.line
			_, why := pr.Price(&l)
			if why.Code != tc.code || why.Message != tc.msg {
				t.Fatalf("Price = %s %q, want %s %q", why.Code, why.Message, tc.code, tc.msg)
			}
			if l.Charge != tc.charge || l.FXRate != tc.rate || l.PlanCurrency != tc.currency {
				t.Errorf("charge %s rate %q currency %q, want %s %q %q", l.Charge, l.FXRate, l.PlanCurrency, tc.charge, tc.rate, tc.currency)
			}
		})
	}
	// The member of the line before is tried first: whatever the sequence,
	// each line gets its own member (or none).
	want := map[string]int32{"M1": b.Find("M1"), "M2": b.Find("M2"), "NOPE": -1, "OLD": -1}
	if want["M1"] < 0 || want["M2"] < 0 || want["M1"] == want["M2"] {
		t.Fatalf("book numbers %v", want)
	}
	pr = NewPricer(p, b, fx)
	for i, id := range []string{"M1", "M1", "NOPE", "M1", "M2", "M2", "OLD", "OLD", "M2", "M1", "NOPE", "NOPE", "M2"} {
		l := claim.Line{MemberID: string([]byte(id)), Benefit: hospital, Currency: "EUR", Billed: 100, ServiceDate: d("2024-03-01")}
		m, why := pr.Price(&l)
		if m != want[id] || (want[id] < 0) != (why.Code == claim.UnknownMember) {
			t.Errorf("line %d (%s): member %d, %s; want %d", i, id, m, why.Code, want[id])
		}
	}
}
