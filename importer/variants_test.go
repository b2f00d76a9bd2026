package importer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Variant extracts (testdata/import/*-variants, README there): what real
// Synthea and DE-SynPUF exports hold and the bundled samples do not. Every
// outcome is checked exactly: members, lines, exceptions and the manifest's
// accounting of each file.

func importVariant(t *testing.T, profile, dir string) *result {
	t.Helper()
	p, err := Builtin(profile)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	m, err := Import(context.Background(), p, Options{In: filepath.Join("..", "testdata", "import", dir, "in"), Out: out, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return &result{dir: out, manifest: m}
}

func TestSyntheaVariants(t *testing.T) {
	r := importVariant(t, "synthea", "synthea-variants")
	// p1: Medicaid, then NO_INSURANCE (left out), a gap, then an open period
	// (END_DATE 1970-01-01); p2: Medicare with Medicaid as SECONDARY_PAYER,
	// periods running past DEATHDATE (cut at it; the next one is after_death);
	// p3 has no payer_transitions row, p5 only NO_INSURANCE ones (no member);
	// p4: a date-only START_DATE, an empty END_DATE, an inverted period.
	equalLines(t, "members", r.table(t, "members.csv", "member_id", "policy_id", "coverage_start", "coverage_end", "date_of_birth"), []string{
		"p1-child|m1a|2015-01-01|2016-12-31|2012-04-02",
		"p1-child|m1c|2019-01-01||2012-04-02",
		"p2-dual|m2a|2015-01-01|2021-06-15|1945-02-10",
		"p4-open|m4a|2016-03-01||1980-01-31",
	})
	equalLines(t, "claims", r.table(t, "claims.csv", "claim_id", "line_no", "member_id", "service_date", "service_end_date", "benefit_code", "diagnosis_code", "diagnosis_system", "procedure_code", "emergency", "billed_amount", "units"), []string{
		"c1|1|p1-child|2016-05-02||OP_CHILD_WELLNESS|||410620009||136.80|",
		"c1|2|p1-child|2016-05-02||OP_CHILD_VACCINES|||10||140.52|",
		"c2|1|p1-child|2017-08-10||OP_CONSULTATION|65363002|SNOMED|185345009||85.55|",               // UNITS empty
		"c3|1|p1-child|2018-09-03||OP_TELEHEALTH|||185317003||45.00|",                               // virtual
		"c4|1|p1-child|2020-02-11||OP_CONSULTATION|||185345009||99.99|",                             // home, fractional seconds
		"c4|2|p1-child|2020-02-11||OP_CONSULTATION|||430193006||0.00|",                              // a 0.00 charge
		"c13|1|p1-child|2020-02-11||OP_PRESCRIPTION_DRUGS|||313782||12.34|",                         // UNITS 1.5
		"c5|1|p2-dual|2019-03-01|2019-03-08|HOSPITAL_ACCOMMODATION|||449411000124106||5000.00|7",    // snf
		"c6|1|p2-dual|2021-05-01|2021-06-15|PALLIATIVE_CARE|254637007|SNOMED|385763009||8000.00|45", // hospice
		"c7|1|p2-dual|2020-07-04|2020-07-05|HOSPITAL_ACCOMMODATION|||50849002|Y|1200.00|1",
		"c7|2|p2-dual|2020-07-04||HOSPITAL_ACCOMMODATION||||Y|300.00|",                     // PROCEDURECODE empty
		"c8|1|p4-open|2018-05-02||OP_CONSULTATION|||185349003||120.00|",                    // timestamps without Z
		"c9|1|p4-open|2019-11-20|2019-11-23|HOSPITAL_ACCOMMODATION|||32485007||15000.00|3", // date-only
		"c9|2|p4-open|2019-11-21||HOSPITAL_ACCOMMODATION|||76601001||250.00|",
		"c10|1|p3-nopayer|2020-01-15||OP_CONSULTATION|||185345009||85.55|",
		"c11|1|p5-uninsured|2020-03-03||OP_CONSULTATION|||702927004|Y|150.00|",
		"c12|1|p4-open|2020-04-04||OP_CONSULTATION|||185345009||85.55|",         // a class no table lists
		"c14|1|p2-dual|2021-09-01||OP_ADULT_PHYSICAL|||162673000||136.80|",      // after death
		"c15|1|p4-open|2021-12-20||HOSPITAL_ACCOMMODATION|||32485007||9000.00|", // a stay without STOP
	})
	equalLines(t, "exceptions", r.table(t, "exceptions.csv", "source", "row", "claim_id", "member_id", "code", "field", "message"), []string{
		"claims_transactions.csv|13|c5|p2-dual|INVALID_VALUE|billed_amount|billed_amount -25.00 is negative: a claim line bills 0 or more (a refund or reversal is not a line to adjudicate)",
		"claims_transactions.csv|26|c15|p4-open|MISSING_FIELD|billed_amount|billed_amount is empty",
		"payer_transitions.csv|7||p4-open|INVALID_VALUE|coverage_end|coverage_end 2014-01-01 is before coverage_start 2015-01-01",
	})
	for _, tc := range []struct{ file, use, want string }{
		// PAYMENT, ADJUSTMENT, TRANSFERIN, TRANSFEROUT and a second PAYMENT
		{"claims_transactions.csv", "claims[0]", "read=26 mapped=19 charges=5 exceptions=2 lines=19"},
		{"payer_transitions.csv", "members[0]", "read=9 mapped=4 insured=3 after_death=1 exceptions=1"},
		{"encounters.csv", "join", "read=14 mapped=14 exceptions=0"},
	} {
		if got := r.stats(tc.file, tc.use); got != tc.want {
			t.Errorf("%s %s: %s, want %s", tc.file, tc.use, got, tc.want)
		}
	}
}

func TestDESynPUFVariants(t *testing.T) {
	r := importVariant(t, "cms-desynpuf", "desynpuf-variants")
	// B1 dies 15 April 2010; B2 is in the 2008 and 2010 summaries, not 2009;
	// B3 has 0 months in 2009; B4 HMO months only; B5 died 10 June 2009 and
	// the 2010 summary still counts 12 months (after_death).
	equalLines(t, "members", r.table(t, "members.csv", "member_id", "coverage_start", "coverage_end", "date_of_birth"), []string{
		"B1|2008-01-01|2010-04-15|1930-01-05",
		"B2|2008-01-01|2008-12-31|1941-02-20",
		"B2|2010-01-01|2010-12-31|1941-02-20",
		"B3|2008-01-01|2008-12-31|1935-11-11",
		"B3|2010-01-01|2010-12-31|1935-11-11",
		"B4|2008-01-01|2010-12-31|1942-07-07",
		"B5|2008-01-01|2009-06-10|1928-03-03",
	})
	equalLines(t, "claims", r.table(t, "claims.csv", "claim_id", "line_no", "member_id", "service_date", "service_end_date", "benefit_code", "diagnosis_code", "procedure_code", "provider_id", "billed_amount", "units"), []string{
		"K1|1|B1|2008-03-10||OP_CONSULTATION|V58.69|99213|N1|60.50|",
		"K1|2|B1|2008-03-10||OP_CONSULTATION|486||TAX2|25.00|", // an amount, no HCPCS, no NPI
		"K1|3|B1|2008-03-10||OP_ADULT_VACCINES|E880.9|G0008|N1|0.00|",
		"K1|4|B1|2008-03-10||OP_PATHOLOGY_RADIOLOGY|250.00|82947|N1|7.25|",
		"K3|1|B9|2009-01-01||OP_CONSULTATION|V70.0|99214|N2|80.00|", // in no summary
		"K4|1|B2|2009-06-15||OP_CONSULTATION|401.1|99213|N3|55.00|",
		"K5|1|B3|2010-01-02||OP_PHYSIOTHERAPY|724.2|97110|N4|30.00|", // CLM_THRU_DT empty
		"K5|2|B3|2010-01-02||OP_PHYSIOTHERAPY|724.2|97110|N4|30.00|",
		"K6|1|B1|2010-06-01||OP_CONSULTATION|401.9|99213|N1|60.00|", // from the .csv.gz
		"K7|1|B3|2009-09-09||OP_CONSULTATION|401.9|99213|N1|60.00|",
		"K8|1|B4|2009-03-03||OP_ADULT_VACCINES|V04.81|90658|N5|25.00|",
		"K9|1|B5|2009-06-01||OP_CONSULTATION|401.9|99213|N1|60.00|",
		"K10|1|B5|2010-03-01||OP_CONSULTATION|401.9|99213|N1|60.00|",
		"I1|1|B1|2008-05-01|2008-05-05|HOSPITAL_ACCOMMODATION|486|9904|23009X|9024.50|4",
		"I1|2|B1|2008-05-05|2008-05-08|HOSPITAL_ACCOMMODATION|428.0||23009X|2000.00|3", // SEGMENT 2
		"I2|1|B3|2010-07-01||HOSPITAL_ACCOMMODATION|E888.9||23009X|6100.00|",           // no THRU, no DRG
		"I3|1|B2|2008-09-01|2008-09-15|MENTAL_HEALTH_INPATIENT|295.90|9426|23009X|13024.00|14",
		"O1|1|B1|2008-06-01||OP_PATHOLOGY_RADIOLOGY|V76.12|71020|2300XX|60.00|", // HCPCS in slot 3
		"O1|2|B1|2008-06-01||OP_PATHOLOGY_RADIOLOGY|V76.12|36415|2300XX|30.00|", // venipuncture: lab
		"O2|1|B4|2009-07-07||OP_CONSULTATION|||2300XX|10.00|",
		"D1|1|B1|2009-02-10||OP_PRESCRIPTION_DRUGS||00093089305||12.34|",
		"D2|1|B9|2009-02-11||OP_PRESCRIPTION_DRUGS||00093089305||10.00|",
	})
	if got := r.table(t, "exceptions.csv", "code"); len(got) != 0 {
		t.Errorf("exceptions %v, want none", got)
	}
	for _, tc := range []struct{ file, use, want string }{
		{"DE1_0_2008_to_2010_Carrier_Claims_Sample_7A.csv", "claims[0]", "read=5 mapped=4 no_filled_slot=1 exceptions=0 lines=8"},
		{"DE1_0_2008_to_2010_Carrier_Claims_Sample_7B.csv.gz", "claims[0]", "read=5 mapped=5 exceptions=0 lines=5"},
		{"DE1_0_2008_to_2010_Inpatient_Claims_Sample_7.csv", "claims[1]", "read=4 mapped=4 exceptions=0 lines=4"},
		{"DE1_0_2009_Beneficiary_Summary_File_Sample_7.csv", "members[0]", "read=4 mapped=3 no_months_covered=1 exceptions=0"},
		{"DE1_0_2010_Beneficiary_Summary_File_Sample_7.csv", "members[0]", "read=5 mapped=4 after_death=1 exceptions=0"},
	} {
		if got := r.stats(tc.file, tc.use); got != tc.want {
			t.Errorf("%s %s: %s, want %s", tc.file, tc.use, got, tc.want)
		}
	}
}

// Exports the built-in profiles cannot read fail at once (exit 2), saying
// what is missing and which version the profile expects.
func TestBuiltinVersionErrors(t *testing.T) {
	for _, tc := range []struct {
		name, profile string
		files         map[string]string
		want          []string
	}{
		{"synthea 2.x: no claims_transactions", "synthea", map[string]string{
			"patients.csv":          "Id,BIRTHDATE\nP1,2010-06-01\n",
			"payer_transitions.csv": "PATIENT,START_YEAR,END_YEAR,PAYER,OWNERSHIP\nP1,2015,2019,X,Self\n",
			"encounters.csv":        "Id,START,STOP,PATIENT,ENCOUNTERCLASS,CODE\n",
		}, []string{`source transactions: no file in `, `matches "claims_transactions". The synthea profile reads exports of Synthea 3.0 or later; older ones have no claims_transactions.csv`}},
		{"payer_transitions without START_DATE or START_YEAR", "synthea", map[string]string{
			"patients.csv":            "Id,BIRTHDATE\nP1,2010-06-01\n",
			"payer_transitions.csv":   "PATIENT,START,STOP,PAYER\nP1,2015-01-01,2016-01-01,X\n",
			"claims_transactions.csv": syntheaTransactions,
		}, []string{"payer_transitions.csv (source payer_transitions) has none of the columns START_DATE, START_YEAR: the profile needs one of them (the file has START). The synthea profile reads payer_transitions with START_DATE and END_DATE (Synthea 3.1 and later) or START_YEAR and END_YEAR (Synthea 3.0)"}},
		{"CMS zip downloads not unzipped", "cms-desynpuf", map[string]string{
			"DE1_0_2008_Beneficiary_Summary_File_Sample_1.zip": "PK",
		}, []string{`source beneficiaries: no file in `, `matches "*Beneficiary_Summary_File*". The cms-desynpuf profile reads the CSV files inside CMS's zip downloads`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := filepath.Join(t.TempDir(), "in")
			os.MkdirAll(in, 0o755)
			for f, content := range tc.files {
				os.WriteFile(filepath.Join(in, f), []byte(content), 0o644)
			}
			p, _ := Builtin(tc.profile)
			out := filepath.Join(t.TempDir(), "out")
			_, err := Import(context.Background(), p, Options{In: in, Out: out, Version: "test"})
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("err %v, want ErrConfig", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if entries, _ := os.ReadDir(out); len(entries) > 0 {
				t.Errorf("a failed import published %d files", len(entries))
			}
		})
	}
}

// one_of_columns names two or more columns; death_date goes under
// months_per_year when a block has it.
func TestCoverageAndSourceKeyErrors(t *testing.T) {
	yaml := `name: x
sources:
  a: {files: a, one_of_columns: [S]}
defaults: {residence_country: US, origin_country: US, plan_currency: USD, modules: core}
members:
  - from: a
    coverage:
      death_date: {from: D, date: ISO}
      months_per_year: {year: Y, months: [M]}
    columns: {member_id: A, policy_id: A, date_of_birth: {from: B, date: ISO}}
`
	_, err := Parse("x.yaml", []byte(yaml), nil)
	if !errors.Is(err, ErrProfile) {
		t.Fatalf("Parse: %v, want ErrProfile", err)
	}
	for _, want := range []string{
		`line 3: sources.a.one_of_columns: name two or more columns, of which a file must have at least one`,
		`members[0].coverage.death_date: with months_per_year, give death_date under months_per_year`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// A span's end is cut at the date of death (end-exclusive or not); a period
// that starts after the death is left out as after_death.
func TestSpansEndAtDeath(t *testing.T) {
	x := extract{
		profile: `name: t
sources:
  periods: periods
defaults: {residence_country: US, origin_country: US, plan_currency: USD, modules: core}
members:
  - from: periods
    coverage:
      death_date: {from: DIED, date: YYYYMMDD}
    columns:
      member_id: ID
      policy_id: POL
      coverage_start: {from: FROM, date: YYYYMMDD}
      coverage_end: {from: TO, date: YYYYMMDD}
      date_of_birth: {from: BORN, date: YYYYMMDD}
`,
		files: map[string]string{"periods.csv": "ID,POL,FROM,TO,BORN,DIED\n" +
			"A,A1,20200101,20201231,19400101,20200615\n" + // cut at death
			"A,A2,20210101,,19400101,20200615\n" + // after death
			"B,B1,20200101,,19500101,20220301\n" + // open: ends at death
			"C,C1,20200101,,19600101,\n" + // alive
			"D,D1,20200101,20191231,19600101,\n"}, // inverted
	}
	r := x.mustRun(t)
	equalLines(t, "members", r.table(t, "members.csv", "member_id", "policy_id", "coverage_start", "coverage_end"), []string{
		"A|A1|2020-01-01|2020-06-15",
		"B|B1|2020-01-01|2022-03-01",
		"C|C1|2020-01-01|",
	})
	if got, want := r.stats("periods.csv", "members[0]"), "read=5 mapped=3 after_death=1 exceptions=1"; got != want {
		t.Errorf("stats %s, want %s", got, want)
	}
	equalLines(t, "exceptions", r.table(t, "exceptions.csv", "row", "code", "field", "message"), []string{
		"5|INVALID_VALUE|coverage_end|coverage_end 2019-12-31 is before coverage_start 2020-01-01",
	})
}
