package plan

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
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
		{"unknown key", "    days: 60", "    dayz: 60", `line 70: unknown key "dayz"`},
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

// TestParseListsEveryProblem covers issue 12, finding 7 ("plan --check lists
// every problem at once with its YAML line, never a Go type name"): type
// errors, unknown keys, bad amounts and validation problems of one file,
// all at once, in line order.
func TestParseListsEveryProblem(t *testing.T) {
	text := string(DefaultYAML())
	for _, edit := range [][2]string{
		{"    limit: {USD: 5000, EUR: 3700, GBP: 3325}", "    limit: {USD: -5, EUR: 3700, GBP: 3325}"},
		{"    days: 60", "    dayz: 60"},
		{"  - code: KIDNEY_DIALYSIS\n    module: core", "  - code: KIDNEY_DIALYSIS\n    module: vision"},
		{"annual_maximum: {USD: 750,", "annual_maximum: {USD: 750.001,"},
		{"days_per_trip: 21", "days_per_trip: three weeks"},
		{"coinsurance_options: [0, 10, 20, 30]", "coinsurance_options: {a: 1}"},
	} {
		if !strings.Contains(text, edit[0]) {
			t.Fatalf("fixture text %q not in plan", edit[0])
		}
		text = strings.Replace(text, edit[0], edit[1], 1)
	}
	_, err := Parse("altered.yaml", []byte(text))
	var ve *ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v, want a ValidationError", err)
	}
	lines := func(needle string) int {
		for i, l := range strings.Split(text, "\n") {
			if strings.Contains(l, needle) {
				return i + 1
			}
		}
		t.Fatalf("%q not in the file", needle)
		return 0
	}
	want := []Problem{
		{Line: lines("coinsurance_options: {a: 1}"), Message: "expected a list, found a mapping (key: value lines)"},
		{Line: lines("days_per_trip: three weeks"), Message: `expected a whole number, found "three weeks"`},
		{Line: lines("dayz: 60"), Message: `unknown key "dayz" (a typo? 'claimsbatch plan' prints every key)`},
		{Line: lines("module: vision"), Key: "benefits[4] (KIDNEY_DIALYSIS).module", Message: `unknown module "vision"`},
		{Line: lines("limit: {USD: -5,"), Key: "benefits[4] (KIDNEY_DIALYSIS).limit.USD", Message: "negative amount -5.00"},
		{Line: lines("annual_maximum: {USD: 750.001,"), Message: `amount "750.001" has more than 2 decimals`},
	}
	slices.SortStableFunc(want, func(a, b Problem) int { return a.Line - b.Line })
	if !reflect.DeepEqual(ve.Problems, want) {
		t.Errorf("problems\n got %+v\nwant %+v", ve.Problems, want)
	}
	for _, goName := range []string{"plan.", "int32", "yamlMoney", "map[", "[]"} {
		if strings.Contains(err.Error(), goName) {
			t.Errorf("the message names a Go type (%s):\n%v", goName, err)
		}
	}
	// Not YAML at all: the first syntax error, with its line.
	_, err = Parse("broken.yaml", []byte("name: x\ncurrencies: [USD\n"))
	if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Line == 0 || !strings.HasPrefix(ve.Problems[0].Message, "not valid YAML: ") {
		t.Errorf("syntax error: %v", err)
	}
}

// TestLookupCodes: Lookup finds every code of the built-in plan and of a
// table crowded with codes that share their first and last eight bytes,
// and nothing else: no prefix, extension, case change or empty code.
func TestLookupCodes(t *testing.T) {
	p := Default()
	for i, b := range p.Benefits {
		id, item, ok := p.Lookup(b.Code)
		if !ok || id != claim.BenefitID(i) || item != b.LimitPerItem {
			t.Errorf("Lookup(%q) = %d, %v, %v; want %d, %v, true", b.Code, id, item, ok, i, b.LimitPerItem)
		}
		for _, miss := range []string{b.Code[:len(b.Code)-1], b.Code + "_", strings.ToLower(b.Code), " " + b.Code} {
			if _, _, ok := p.Lookup(miss); ok {
				t.Errorf("Lookup(%q) found a benefit", miss)
			}
		}
	}
	if _, _, ok := p.Lookup(""); ok {
		t.Error(`Lookup("") found a benefit`)
	}
	codes := map[string]claim.BenefitID{}
	for i := range 300 {
		codes[fmt.Sprintf("PREFIX_%03d_SUFFIX_X", i)] = claim.BenefitID(i) // same first and last 8 bytes
		codes[fmt.Sprintf("B%d", i)] = claim.BenefitID(1000 + i)           // shorter than 8 bytes
	}
	tab := newCodeTable(codes)
	for code, want := range codes {
		if got, ok := tab.find(code); !ok || got != want {
			t.Errorf("find(%q) = %d, %v; want %d", code, got, ok, want)
		}
		if _, ok := tab.find(code + "Z"); ok {
			t.Errorf("find(%q) found a code", code+"Z")
		}
	}
	var empty codeTable
	if _, ok := empty.find("B1"); ok {
		t.Error("an empty table found a code")
	}
}

func BenchmarkLookup(b *testing.B) {
	p := Default()
	codes := make([]string, 0, len(p.Benefits))
	for _, bn := range p.Benefits {
		codes = append(codes, strings.Clone(bn.Code))
	}
	b.ResetTimer()
	for i := range b.N {
		if _, _, ok := p.Lookup(codes[i%len(codes)]); !ok {
			b.Fatal("not found")
		}
	}
}
