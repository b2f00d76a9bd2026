package plan

import (
	"errors"
	"strings"
	"testing"

	"claimsbatch/claim"
)

func TestDefaultPlan(t *testing.T) {
	p := Default()
	if p.Name != "Close Care" {
		t.Fatalf("name = %q", p.Name)
	}
	if got := len(p.Benefits); got != 46 {
		t.Errorf("benefits = %d, want 46 (22 core, 21 outpatient, 3 dental)", got)
	}
	usd := p.CurrencyIndex("USD")
	gbp := p.CurrencyIndex("GBP")
	if got := p.Modules[claim.Core].AnnualMaximum[usd]; got != 50000000 {
		t.Errorf("core annual max USD = %s", got)
	}
	if got := p.Modules[claim.Outpatient].Deductibles[gbp]; len(got) != 5 || got[2] != 33500 {
		t.Errorf("outpatient GBP deductibles = %v", got)
	}
	id, needsItem, ok := p.Lookup("CANCER_DEVICE")
	if !ok || !needsItem {
		t.Fatalf("CANCER_DEVICE lookup = %v %v", needsItem, ok)
	}
	b := p.Benefit(id)
	if b.Period != Lifetime || b.Limit[gbp] != 8500 {
		t.Errorf("CANCER_DEVICE = %+v", b)
	}
	id, _, _ = p.Lookup("DENTAL_MAJOR")
	if b := p.Benefit(id); b.Reimbursement != 7000 || b.WaitingMonths != 12 {
		t.Errorf("DENTAL_MAJOR = %+v", b)
	}
	id, _, _ = p.Lookup("MENTAL_HEALTH_OUTPATIENT")
	if g := p.Groups[p.Benefit(id).Group]; g.Name != "MENTAL_HEALTH" || g.Days != 60 || g.Limit[usd] != 300000 {
		t.Errorf("MENTAL_HEALTH group = %+v", g)
	}
	if p.OutOfAreaDaysPerTrip != 21 || p.OutOfAreaDaysPerYear != 45 || p.TripGapDays != 30 || p.OriginDaysPerYear != 180 {
		t.Errorf("out of area / origin = %d %d %d %d", p.OutOfAreaDaysPerTrip, p.OutOfAreaDaysPerYear, p.TripGapDays, p.OriginDaysPerYear)
	}
	if _, _, ok := p.Lookup("NOPE"); ok {
		t.Error("unknown code resolved")
	}
}

func TestParseErrors(t *testing.T) {
	base := string(DefaultYAML())
	tests := []struct {
		name, from, to, want string
	}{
		{"unknown module", "  - code: KIDNEY_DIALYSIS\n    module: core", "  - code: KIDNEY_DIALYSIS\n    module: vision", `benefits[4] (KIDNEY_DIALYSIS).module: unknown module "vision"`},
		{"missing currency", "    limit: {USD: 5000, EUR: 3700, GBP: 3325}", "    limit: {USD: 5000, EUR: 3700}", "benefits[4] (KIDNEY_DIALYSIS).limit: missing currency GBP"},
		{"negative limit", "    limit: {USD: 5000, EUR: 3700, GBP: 3325}", "    limit: {USD: -5, EUR: 3700, GBP: 3325}", "benefits[4] (KIDNEY_DIALYSIS).limit.USD: negative amount -5.00"},
		{"undefined group", "    group: SCREENING\n    min_age: 18\n  - code: OP_SCREEN_PROSTATE", "    group: SCREENS\n    min_age: 18\n  - code: OP_SCREEN_PROSTATE", `.group: group "SCREENS" is not defined under groups`},
		{"unknown key", "    days: 60", "    dayz: 60", "field dayz not found"},
		{"three decimals", "annual_maximum: {USD: 750,", "annual_maximum: {USD: 750.001,", "more than 2 decimals"},
		{"duplicate code", "  - code: INTENSIVE_CARE", "  - code: HOSPITAL_ACCOMMODATION", "HOSPITAL_ACCOMMODATION is defined twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(base, tc.from) {
				t.Fatalf("fixture text %q not in plan", tc.from)
			}
			_, err := Parse("altered.yaml", []byte(strings.Replace(base, tc.from, tc.to, 1)))
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "altered.yaml") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to name the file and contain %q", err, tc.want)
			}
		})
	}
}
