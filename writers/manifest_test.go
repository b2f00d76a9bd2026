package writers

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"claimsbatch/claim"
)

func sampleManifest() *Manifest {
	m := &Manifest{
		RunID:       sampleRunID,
		ToolVersion: "claimsbatch 0.1.0",
		AsOf:        "2024-06-30",
		Plan:        PlanRef{Name: "Close Care", SHA256: strings.Repeat("ab", 32)},
		StateIn:     &StateRef{Path: "prev/state.csv", SHA256: strings.Repeat("cd", 32)},
		Inputs: []Input{
			{Role: RoleClaims, Path: "in/claims.csv", SHA256: strings.Repeat("01", 32), Rows: 6, Adjudicated: 4, Exceptions: 2,
				ExceptionsByCode: map[claim.ExceptionCode]int64{claim.InvalidValue: 1, claim.DuplicateLine: 1}},
			{Role: RoleMembers, Path: "in/members.csv", SHA256: strings.Repeat("02", 32), Rows: 5, Exceptions: 1},
			{Role: RoleFX, Path: "in/fx.csv", SHA256: strings.Repeat("03", 32), Rows: 2},
		},
		Outputs: []Output{
			{Name: "remittance.csv", SHA256: strings.Repeat("04", 32), Rows: 4},
			{Name: "payments.csv", SHA256: strings.Repeat("05", 32), Rows: 3},
		},
		Notes: []string{"sample"},
	}
	results := sampleResults()
	for i := range results {
		m.ControlTotals.AddResult(&results[i])
	}
	m.ControlTotals.AddException(claim.InvalidValue)
	m.ControlTotals.AddException(claim.DuplicateLine)
	m.ControlTotals.LinesRead = 6
	return m
}

func TestManifestGolden(t *testing.T) {
	m := sampleManifest()
	if err := m.ControlTotals.Check(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteManifest(&buf, m); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "manifest.json", buf.Bytes())

	back, err := ReadManifest(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, m) {
		t.Errorf("read back:\n%+v\nwant\n%+v", back, m)
	}
}

func TestControlTotals(t *testing.T) {
	var c ControlTotals
	results := sampleResults()
	for i := range results {
		c.AddResult(&results[i])
	}
	c.AddException(claim.ParseError)
	c.LinesRead = 5
	want := []CurrencyTotals{
		{PlanCurrency: "EUR", Lines: 2, Charge: money("600.05"), PlanPaid: money("50.05"), Deductible: money("375.00"),
			Coinsurance: money("165.00"), NotCovered: money("10.00"), MemberResponsibility: money("550.00"),
			PaidByModule: ModuleTotals{Outpatient: money("50.05")}, PaidByPayee: PayeeTotals{Provider: money("50.00"), Member: money("0.05")}},
		{PlanCurrency: "GBP", Lines: 2, Charge: money("1234646.89"), PlanPaid: money("1234530.39"),
			Coinsurance: money("37.50"), NotCovered: money("79.00"), MemberResponsibility: money("116.50"),
			PaidByModule: ModuleTotals{Dental: money("1234530.39")}, PaidByPayee: PayeeTotals{Provider: money("1234530.39")}},
	}
	if !reflect.DeepEqual(c.PerCurrency, want) {
		t.Errorf("per currency:\ngot  %+v\nwant %+v", c.PerCurrency, want)
	}
	// Issue 12, finding 9: the service dates and what was billed per
	// billed currency.
	if want := (&DateRange{date("2023-12-31"), date("2024-05-01")}); !reflect.DeepEqual(c.ServiceDates, want) {
		t.Errorf("service dates %+v, want %+v", c.ServiceDates, want)
	}
	wantBilled := []BilledTotals{{"EUR", 2, money("600.05")}, {"GBP", 1, money("1234567.89")}, {"USD", 1, money("100.00")}}
	if !reflect.DeepEqual(c.BilledPerCurrency, wantBilled) {
		t.Errorf("billed %+v, want %+v", c.BilledPerCurrency, wantBilled)
	}
	if c.LinesAdjudicated != 4 || c.Exceptions != 1 || c.ExceptionsByCode[claim.ParseError] != 1 {
		t.Errorf("counts %+v", c)
	}
	if err := c.Check(); err != nil {
		t.Errorf("Check() = %v", err)
	}

	broken := []struct {
		name   string
		break_ func(c *ControlTotals)
		want   string
	}{
		{"lines", func(c *ControlTotals) { c.LinesRead++ }, "lines_read 6 != lines_adjudicated 4 + exceptions 1"},
		{"by code", func(c *ControlTotals) { c.ExceptionsByCode[claim.NoFXRate] = 1 }, "exceptions_by_code add up to 2, exceptions is 1"},
		{"charge", func(c *ControlTotals) { c.PerCurrency[1].Charge++ }, "GBP: charge 1234646.90 != plan_paid + deductible + coinsurance + not_covered 1234646.89"},
		{"member", func(c *ControlTotals) { c.PerCurrency[0].MemberResponsibility-- }, "EUR: member_responsibility 549.99 != deductible + coinsurance + not_covered 550.00"},
		{"module", func(c *ControlTotals) { c.PerCurrency[0].PaidByModule.Core++ }, "EUR: plan_paid 50.05 != paid by module 50.06"},
		{"payee", func(c *ControlTotals) { c.PerCurrency[0].PaidByPayee.Member++ }, "EUR: plan_paid 50.05 != paid to providers 50.00 + members 0.06"},
	}
	for _, tt := range broken {
		t.Run(tt.name, func(t *testing.T) {
			c := ControlTotals{LinesRead: 5}
			for i := range results {
				c.AddResult(&results[i])
			}
			c.AddException(claim.ParseError)
			tt.break_(&c)
			if err := c.Check(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Check() = %v, want it to say %q", err, tt.want)
			}
		})
	}
}

// TestAddResultAt: totals added with the currencies' places remembered
// are the totals AddResult gives, one line at a time, with currencies
// arriving in no order, more of them than CurrencyPlaces holds, and codes
// that are not three letters long.
func TestAddResultAt(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var codes []string
	for i := range 60 {
		codes = append(codes, fmt.Sprintf("%c%cX", 'A'+i%26, 'A'+i/26))
	}
	codes = append(codes, "EU", "EURO", "")
	var want, got ControlTotals
	var at CurrencyPlaces
	billed, plan := map[string]claim.Money{}, map[string]claim.Money{} // counted here, independently
	for i := range 5000 {
		r := claim.Result{
			Line: &claim.Line{ServiceDate: date("2024-01-01") + claim.Date(i%300), Currency: codes[rng.IntN(len(codes))],
				PlanCurrency: codes[rng.IntN(len(codes))], Billed: claim.Money(rng.IntN(100000)), Payee: claim.PayeeProvider},
			Module: claim.Core, Charge: claim.Money(rng.IntN(100000)), PlanPaid: claim.Money(rng.IntN(100000)),
		}
		billed[r.Line.Currency] += r.Line.Billed
		plan[r.Line.PlanCurrency] += r.Charge
		want.AddResult(&r)
		got.AddResultAt(&r, &at)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("AddResultAt's totals differ from AddResult's:\n got  %+v\n want %+v", got, want)
	}
	if len(got.PerCurrency) != len(codes) || len(got.BilledPerCurrency) != len(codes) ||
		!slices.IsSortedFunc(got.PerCurrency, func(a, b CurrencyTotals) int { return strings.Compare(a.PlanCurrency, b.PlanCurrency) }) ||
		!slices.IsSortedFunc(got.BilledPerCurrency, func(a, b BilledTotals) int { return strings.Compare(a.Currency, b.Currency) }) {
		t.Errorf("%d plan and %d billed currencies, want %d of each, sorted", len(got.PerCurrency), len(got.BilledPerCurrency), len(codes))
	}
	for _, b := range got.BilledPerCurrency {
		if b.Billed != billed[b.Currency] {
			t.Errorf("billed in %q: %v, want %v", b.Currency, b.Billed, billed[b.Currency])
		}
	}
	for _, c := range got.PerCurrency {
		if c.Charge != plan[c.PlanCurrency] {
			t.Errorf("charge in %q: %v, want %v", c.PlanCurrency, c.Charge, plan[c.PlanCurrency])
		}
	}
	if got.LinesAdjudicated != 5000 {
		t.Errorf("%d lines adjudicated, want 5000", got.LinesAdjudicated)
	}
}

func TestWriteManifestEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteManifest(&buf, &Manifest{RunID: "r"}); err != nil {
		t.Fatal(err)
	}
	want := `{
  "run_id": "r",
  "tool_version": "",
  "plan": {
    "name": "",
    "sha256": ""
  },
  "inputs": [],
  "outputs": [],
  "control_totals": {
    "lines_read": 0,
    "lines_adjudicated": 0,
    "exceptions": 0,
    "exceptions_by_code": {},
    "per_currency": []
  }
}
`
	if got := buf.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestReadManifestBadAmount(t *testing.T) {
	in := `{"control_totals": {"per_currency": [{"plan_currency": "EUR", "charge": 1.5}]}}`
	if _, err := ReadManifest(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), "want a JSON string") {
		t.Errorf("ReadManifest = %v, want an error about a JSON string", err)
	}
}

func TestHashingWriter(t *testing.T) {
	var buf bytes.Buffer
	h := NewHashingWriter(&buf)
	for _, s := range []string{"a", "", "bc"} {
		if _, err := h.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := h.SHA256(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Errorf("SHA256() = %s, want %s", got, want)
	}
	if h.N() != 3 || buf.String() != "abc" {
		t.Errorf("N() = %d, passed %q; want 3, %q", h.N(), buf.String(), "abc")
	}

	// Only what the underlying writer accepted is hashed.
	h = NewHashingWriter(&failingWriter{limit: 2})
	if _, err := h.Write([]byte("abc")); err == nil {
		t.Fatal("no error from a failing writer")
	}
	if got, want := h.SHA256(), "fb8e20fc2e4c3f248c60c39bd652f3c1347298bb977b8b4d5903b85055620603"; got != want || h.N() != 2 {
		t.Errorf("after a short write: %s, %d bytes; want %s (sha256 of \"ab\"), 2", got, h.N(), want)
	}
}
