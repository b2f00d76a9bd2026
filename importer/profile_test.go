package importer

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"claimsbatch/plan"
)

// A profile with many mistakes reports every one, with its line and key.
func TestBadProfileListsEveryProblem(t *testing.T) {
	yaml := `name: bad
sources:
  lines: {files: lines, optinal: true}
  unused: unused
  people: people
tables:
  cat: cat.csv
  gone: missing.csv
defaults:
  residense_country: US
claims:
  - from: line
    where:
      charges: TYPE = CHARGE
    join:
      person: {source: peeple, key: Id}
    let:
      later: {from: sooner}
      sooner: {from: X, date: YYMMDD}
    columns:
      claim_id: {from: A, value: B}
      line_no: {generate: line_number}
      servce_date: DT
      benefit_code: {from: CODE, table: cat, column: nope}
      billed_amount: {from: AMT, date: ISO, amount: true}
      trip_id: {template: "{A"}
      item_code: {from: "ITEM_#"}
      member_id: {}
  - from: people
    unpivot: {slots: 3..1}
    columns:
      claim_id: {from: A, icd: 11}
`
	tables := fstest.MapFS{"cat.csv": {Data: []byte("code,category\nA..BB,x\n,y\nC,z,extra\n")}}
	_, err := Parse("bad.yaml", []byte(yaml), tables)
	if !errors.Is(err, ErrProfile) {
		t.Fatalf("Parse: %v, want ErrProfile", err)
	}
	want := []string{
		`bad.yaml: 36 problems`,
		`line 3: sources.lines: unknown key "optinal" (did you mean "optional"?)`,
		`line 3: sources.lines: is not used (no block reads it and no join looks into it)`,
		`line 4: sources.unused: is not used (no block reads it and no join looks into it)`,
		`line 7: tables.cat: cat.csv: line 2: "A..BB": a range is LOW..HIGH with LOW <= HIGH, both the same length (e.g. 99201..99499)`,
		`line 7: tables.cat: cat.csv: line 3: the code is empty`,
		`line 7: tables.cat: cat.csv: line 4: 3 fields, the header has 2`,
		`line 8: tables.gone: cannot read missing.csv next to the profile: file does not exist`,
		`line 10: defaults.residense_country: "residense_country" is not a column of what the profile makes (residence_country is a members column, and the profile makes no members)`,
		`line 12: claims[0].from: no source "line" under sources (did you mean "lines"?)`,
		`line 12: claims[0].columns: required column service_date is neither mapped here nor given under defaults`,
		`line 12: claims[0].columns: required column country is neither mapped here nor given under defaults`,
		`line 12: claims[0].columns: required column currency is neither mapped here nor given under defaults`,
		`line 14: claims[0].where.charges: condition syntax: "=" at character 6 (compare with == or !=)`,
		`line 16: claims[0].join.person.on: is missing`,
		`line 16: claims[0].join.person.source: no source "peeple" under sources (did you mean "people"?)`,
		`line 18: claims[0].let.later.from: let sooner is used before it is defined (a let sees the lets above it)`,
		`line 19: claims[0].let.sooner.date: date format "YYMMDD": years are written YYYY (four digits)`,
		`line 21: claims[0].columns.claim_id: has from and value: give only one of them`,
		`line 22: claims[0].columns.line_no.generate: unknown value "line_number" (the one value to generate is line_no)`,
		`line 23: claims[0].columns: claims has no column "servce_date" (did you mean "service_date"?)`,
		`line 24: claims[0].columns.benefit_code.table: table cat has no column "nope" (its value columns: category)`,
		`line 25: claims[0].columns.billed_amount: give at most one of date, amount and integer`,
		`line 26: claims[0].columns.trip_id.template: template "{A": a { is never closed (write {{ for a brace)`,
		`line 27: claims[0].columns.item_code.from: ITEM_#: # stands for the slot number of an unpivoted row, and this block has no unpivot`,
		`line 28: claims[0].columns.member_id: says nowhere the value comes from (give one of: from, template, value, generate, first_of, age, days_between, sum)`,
		`line 29: claims[1].unpivot: no column, let or join of the block reads a slot (a name with # or $slot)`,
		`line 29: claims[1].columns: required column line_no is neither mapped here nor given under defaults`,
		`line 29: claims[1].columns: required column member_id is neither mapped here nor given under defaults`,
		`line 29: claims[1].columns: required column service_date is neither mapped here nor given under defaults`,
		`line 29: claims[1].columns: required column benefit_code is neither mapped here nor given under defaults`,
		`line 29: claims[1].columns: required column country is neither mapped here nor given under defaults`,
		`line 29: claims[1].columns: required column currency is neither mapped here nor given under defaults`,
		`line 29: claims[1].columns: required column billed_amount is neither mapped here nor given under defaults`,
		`line 30: claims[1].unpivot.slots: want a range of numbers FIRST..LAST such as 1..13, got "3..1"`,
		`line 30: claims[1].unpivot.filled: is missing (the condition that says a slot holds a line, e.g. "HCPCS_CD_# is not empty")`,
		`line 32: claims[1].columns.claim_id.icd: want 9 or 10 (the ICD revision), got "11"`,
	}
	got := strings.Split(strings.TrimPrefix(err.Error(), "importer: invalid profile: "), "\n")
	for i := range got {
		got[i] = strings.TrimSpace(got[i])
	}
	equalLines(t, "problems", got, want)
}

func TestProfileStructureProblems(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"empty", "", "bad.yaml: the file is empty"},
		{"not yaml", "name: [", "bad.yaml: yaml: line 1: did not find expected node content"},
		{"nothing made", "name: x\nsources: {a: a}\n", `line 1: makes nothing: give claims, members or fx`},
		{"no name", "sources: {a: a}\nclaims: []\n", "line 1: name: is missing"},
		{"empty name", "name: ''\nsources: {a: a}\nclaims: []\n", "line 1: name: is empty"},
		{"blocks not a list", "name: x\nsources: {a: a}\nclaims: {from: a}\n", "line 3: claims: want a list of blocks (- from: SOURCE ...)"},
		{"unknown top key", "name: x\nsources: {a: a}\nclams: []\n", `line 3: unknown key "clams" (did you mean "claims"?)`},
		{"coverage outside members", "name: x\nsources: {a: a}\ndefaults: {country: US, currency: USD}\nclaims:\n  - from: a\n    coverage: {end_exclusive: true}\n    columns: {claim_id: A, line_no: B, member_id: C, service_date: D, benefit_code: E, billed_amount: F}\n",
			"line 6: claims[0].coverage: only a members block has coverage"},
		{"months makes the coverage dates", "name: x\nsources: {a: a}\ndefaults: {residence_country: US, origin_country: US, plan_currency: USD, modules: core}\nmembers:\n  - from: a\n    coverage: {months_per_year: {year: Y, months: M}}\n    columns: {member_id: A, policy_id: A, date_of_birth: B, coverage_start: C}\n",
			"line 7: members[0].columns.coverage_start: coverage.months_per_year makes this column; do not map it"},
		{"generate elsewhere", "name: x\nsources: {a: a}\ndefaults: {residence_country: US, origin_country: US, plan_currency: USD, modules: core}\nmembers:\n  - from: a\n    columns: {member_id: A, policy_id: {generate: line_no}, date_of_birth: B, coverage_start: C}\n",
			"line 6: members[0].columns.policy_id: generate: line_no is for the claims' line_no column only"},
		{"slot in a filter", "name: x\nsources: {a: a}\ndefaults: {country: US, currency: USD}\nclaims:\n  - from: a\n    where: {f: 'C_# == 1'}\n    unpivot: {slots: 1..2, filled: C_# is not empty}\n    columns: {claim_id: A, line_no: B, member_id: C_#, service_date: D, benefit_code: E, billed_amount: F}\n",
			"line 6: claims[0].where.f: C_# reads a slot; a where filter decides on the whole row (unpivot.filled decides on a slot)"},
		{"same source twice", "name: x\nsources: {a: a}\ndefaults: {country: US, currency: USD}\nclaims:\n  - from: a\n    columns: {claim_id: A, line_no: B, member_id: C, service_date: D, benefit_code: E, billed_amount: F}\n  - from: a\n    columns: {claim_id: A, line_no: B, member_id: C, service_date: D, benefit_code: E, billed_amount: F}\n",
			"line 7: claims[1].from: source a is already the from of another block"},
		{"join used before defined", "name: x\nsources: {a: a, b: b}\ndefaults: {country: US, currency: USD}\nclaims:\n  - from: a\n    join:\n      one: {source: b, key: K, on: two.X}\n      two: {source: b, key: K, on: A}\n    columns: {claim_id: A, line_no: B, member_id: C, service_date: D, benefit_code: E, billed_amount: F}\n",
			"line 7: claims[0].join.one.on: join two is used before it is defined"},
		{"unknown virtual", "name: x\nsources: {a: a}\ndefaults: {country: US, currency: USD}\nclaims:\n  - from: a\n    columns: {claim_id: $line, line_no: $slot, member_id: C, service_date: D, benefit_code: E, billed_amount: F}\n",
			"unknown name $line (the built-in names are $file, $row and $slot)"},
		{"table in tables unused", "name: x\nsources: {a: a}\ntables: {t: t.csv}\ndefaults: {country: US, currency: USD}\nclaims:\n  - from: a\n    columns: {claim_id: A, line_no: B, member_id: C, service_date: D, benefit_code: E, billed_amount: F}\n",
			"tables.t: is not used by any mapping"},
		{"table outside the profile's directory", "name: x\nsources: {a: a}\ntables: {t: ../t.csv}\n", `line 3: tables.t: "../t.csv": a table is a CSV file next to the profile`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("bad.yaml", []byte(tc.yaml), fstest.MapFS{"t.csv": {Data: []byte("code,v\nA,B\n")}})
			if !errors.Is(err, ErrProfile) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse: %v\nwant ErrProfile containing %q", err, tc.want)
			}
		})
	}
}

func TestBuiltinProfiles(t *testing.T) {
	if got := strings.Join(BuiltinNames(), ","); got != "cms-desynpuf,synthea" {
		t.Errorf("BuiltinNames %s", got)
	}
	for _, name := range BuiltinNames() {
		p, err := Open(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p.Name != name || !p.Builtin || len(p.Tables()) != 3 {
			t.Errorf("%s: name %q builtin %v tables %d", name, p.Name, p.Builtin, len(p.Tables()))
		}
		cv, err := p.settle(nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.checkPlan(plan.Default(), cv); err != nil {
			t.Errorf("%s against the built-in plan: %v", name, err)
		}
	}
	_, err := Open("synthia")
	if !errors.Is(err, ErrProfile) || !strings.Contains(err.Error(), `no built-in profile "synthia" (did you mean "synthea"?`) {
		t.Errorf("unknown name: %v", err)
	}
	if _, err := Open("no/such/profile.yaml"); !errors.Is(err, ErrProfile) {
		t.Errorf("missing file: %v, want ErrProfile", err)
	}
}

// Every (setting, category) the built-in category tables can produce has its
// own row in the benefits table: nothing falls to the inpatient:* and
// outpatient:* defaults by accident.
func TestBenefitTableCoversEveryCategory(t *testing.T) {
	p, err := Builtin("synthea")
	if err != nil {
		t.Fatal(err)
	}
	q, err := Builtin("cms-desynpuf")
	if err != nil {
		t.Fatal(err)
	}
	tables := map[string]*codeTable{}
	for _, t := range append(p.tables, q.tables...) {
		tables[t.file] = t
	}
	benefits := tables["closecare-benefits.csv"]
	categories := func(file, column string) []string {
		tb := tables[file]
		col := tb.column(column)
		var out []string
		for _, r := range tb.rows {
			out = append(out, r.values[col])
		}
		return out
	}
	check := func(settings []string, cats []string) {
		for _, s := range settings {
			for _, c := range cats {
				if _, ok := benefits.exact[strings.ToUpper(s+":"+c)]; !ok {
					t.Errorf("closecare-benefits.csv has no row %s:%s", s, c)
				}
			}
		}
	}
	both := []string{"inpatient", "outpatient"}
	var all []string
	for _, c := range [][]string{
		categories("synthea-codes.csv", "category"), categories("synthea-encounter-classes.csv", "category"),
		categories("cms-hcpcs-categories.csv", "category"), categories("cms-drg-categories.csv", "category"),
		{"drug", "consultation", "accommodation"},
	} {
		all = append(all, c...)
	}
	check(both, all)
}

func TestProfileAliasLoops(t *testing.T) {
	yaml := "name: x\nsources: {a: a}\ndefaults: {country: US, currency: USD}\nclaims:\n  - from: a\n    columns:\n      claim_id: &m {first_of: [*m]}\n"
	_, err := Parse("loop.yaml", []byte(yaml), fstest.MapFS{})
	if !errors.Is(err, ErrProfile) || !strings.Contains(err.Error(), "more than 10000 mappings, or first_of nested more than 16 deep") {
		t.Errorf("Parse: %v, want the mapping budget", err)
	}
	// Ten aliases of ten aliases of ...: a few lines that stand for 10^6 mappings.
	yaml = "name: x\nsources: {a: a}\ndefaults: {country: US, currency: USD}\nlets: &l0 {value: x}\n"
	for i := 1; i <= 6; i++ {
		yaml += fmt.Sprintf("l%d: &l%d {first_of: [*l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d]}\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	yaml += "claims:\n  - from: a\n    columns:\n      claim_id: *l6\n"
	_, err = Parse("wide.yaml", []byte(yaml), fstest.MapFS{})
	if !errors.Is(err, ErrProfile) || !strings.Contains(err.Error(), "more than 10000 mappings, or first_of nested more than 16 deep") {
		t.Errorf("Parse: %v, want the mapping budget", err)
	}
}
