package importer

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"claimsbatch/readers"
	"claimsbatch/writers"
)

// One test per profile feature, each on a small extract whose outputs are
// checked exactly.

func TestUnpivotFiltersTemplatesAndLineNumbers(t *testing.T) {
	x := extract{
		profile: `name: t
sources:
  carrier: carrier
` + claimDefaults + `
claims:
  - from: carrier
    where:
      not_void: STATUS != VOID
    unpivot:
      slots: 1..3
      filled: CODE_# is not empty or AMT_# > 0
    columns:
      claim_id: CLM
      line_no: {generate: line_no}
      member_id: MEM
      service_date: {from: DT, date: YYYYMMDD}
      procedure_code: CODE_#
      billed_amount: AMT_#
      trip_id: {template: "{CLM}-{$slot}/{$row}"}
`,
		files: map[string]string{"carrier.csv": `CLM,MEM,DT,STATUS,CODE_1,AMT_1,CODE_2,AMT_2,CODE_3,AMT_3
C1,M1,20240105,OK,99213,80,,0,J1100,12.5
C2,M1,20240106,VOID,99213,80,,,,
C1,M1,20240105,OK,,0,,0.00,,0
C3,M2,20240107,OK,,0,A0425,7,,0
C1,M1,20240105,OK,90715,25,,,,
`},
	}
	r := x.mustRun(t)
	equalLines(t, "claims", r.table(t, "claims.csv", "claim_id", "line_no", "member_id", "service_date", "procedure_code", "billed_amount", "trip_id"), []string{
		"C1|1|M1|2024-01-05|99213|80.00|C1-1/1",
		"C1|2|M1|2024-01-05|J1100|12.50|C1-3/1",
		"C3|1|M2|2024-01-07|A0425|7.00|C3-2/4",
		"C1|3|M1|2024-01-05|90715|25.00|C1-1/5",
	})
	if got, want := r.stats("carrier.csv", "claims[0]"), "read=5 mapped=3 not_void=1 no_filled_slot=1 exceptions=0 lines=4"; got != want {
		t.Errorf("stats %s, want %s", got, want)
	}
}

// A row whose one slot fails is one exception, and none of its lines is
// written (a claim is not paid in part because one line is bad).
func TestUnpivotBadSlotRejectsTheRow(t *testing.T) {
	x := extract{
		profile: `name: t
sources:
  carrier: carrier
` + claimDefaults + `
claims:
  - from: carrier
    unpivot: {slots: 1..2, filled: CODE_# is not empty}
    columns:
      claim_id: CLM
      line_no: {generate: line_no}
      member_id: MEM
      service_date: {from: DT, date: YYYYMMDD}
      billed_amount: AMT_#
`,
		files: map[string]string{"carrier.csv": "CLM,MEM,DT,CODE_1,AMT_1,CODE_2,AMT_2\nC1,M1,20240105,A,1,B,1.234\nC2,M1,20240105,A,1,,\n"},
	}
	r := x.mustRun(t)
	equalLines(t, "claims", r.table(t, "claims.csv", "claim_id", "line_no", "billed_amount"), []string{"C2|1|1.00"})
	equalLines(t, "exceptions", r.table(t, "exceptions.csv", "source", "row", "claim_id", "member_id", "code", "field", "message", "raw"), []string{
		`carrier.csv|1|C1|M1|INVALID_VALUE|billed_amount|slot 2: billed_amount "1.234" is not an amount (a plain decimal with at most 2 places)|C1,M1,20240105,A,1,B,1.234`,
	})
}

func TestEndExclusiveSpansPlaceholdersJoinsAndSet(t *testing.T) {
	x := extract{
		profile: `name: t
sources:
  periods: periods
  people: people
defaults:
  residence_country: US
  origin_country: US
  plan_currency: USD
  modules: core
members:
  - from: periods
    join:
      person: {source: people, key: Id, on: PERSON}
    coverage: {end_exclusive: true}
    columns:
      member_id: PERSON
      policy_id: POLICY
      coverage_start: {from: START, date: ISO}
      coverage_end: {from: END, date: ISO, empty_if: [1970-01-01]}
      date_of_birth: {from: person.BIRTH, date: DD/MM/YYYY}
`,
		files: map[string]string{
			"people.csv": "Id,BIRTH\nP1,29/02/1980\nP2,01/12/1990\nP1,01/01/1900\n",
			"periods.csv": `PERSON,POLICY,START,END
P1,A,2020-01-01T10:00:00Z,2021-01-01T10:00:00Z
P1,B,2021-01-01T10:00:00Z,1970-01-01T00:00:00Z
P2,C,2022-05-01,2022-05-01
P3,D,2022-01-01,
P2,E,2022-13-01,
P2,F,2022-06-01,
`,
		},
		set: []Setting{{Key: "residence_country", Value: "AU"}, {Key: "members.core_deductible", Value: "375"}},
	}
	r := x.mustRun(t)
	equalLines(t, "members", r.table(t, "members.csv", "member_id", "policy_id", "coverage_start", "coverage_end", "date_of_birth", "residence_country", "origin_country", "core_deductible"), []string{
		"P1|A|2020-01-01|2020-12-31|1980-02-29|AU|US|375",
		"P1|B|2021-01-01||1980-02-29|AU|US|375",
		"P2|F|2022-06-01||1990-12-01|AU|US|375",
	})
	equalLines(t, "exceptions", r.table(t, "exceptions.csv", "row", "member_id", "code", "field", "message"), []string{
		`4|P3|NO_MATCH|person|no people row with Id = "P3" (join person)`,
		`5|P2|INVALID_VALUE|coverage_start|START "2022-13-01" is not a date in format ISO`,
	})
	if got, want := r.stats("periods.csv", "members[0]"), "read=6 mapped=3 empty_period=1 exceptions=2"; got != want {
		t.Errorf("stats %s, want %s", got, want)
	}
	// The second P1 row of people.csv is a duplicate key: the first wins.
	if got, want := r.stats("people.csv", "join person"), "read=3 mapped=2 duplicate_key=1 exceptions=0"; got != want {
		t.Errorf("people stats %s, want %s", got, want)
	}
	if got := r.manifest.Settings; len(got) != 2 || got[0].Key != "residence_country" || got[0].Value != "AU" {
		t.Errorf("manifest settings %+v", got)
	}
}

func TestMonthsPerYearSpans(t *testing.T) {
	header := "ID,BIRTH,DEATH,A,B\n"
	x := extract{
		profile: `name: t
sources:
  bene: "bene_*"
defaults:
  residence_country: US
  origin_country: US
  plan_currency: USD
  modules: core
members:
  - from: bene
    coverage:
      months_per_year:
        year: {from: $file, extract: "_([0-9]{4})"}
        months: [A, B]
        death_date: {from: DEATH, date: YYYYMMDD}
    columns:
      member_id: ID
      policy_id: {template: "POL-{ID}"}
      date_of_birth: {from: BIRTH, date: YYYYMMDD}
`,
		files: map[string]string{
			"bene_2008.csv": header + "B1,19400101,,12,12\nB2,19400101,,6,0\nB3,19400101,,12,12\n",
			"bene_2009.csv": header + "B1,19400101,,12,0\nB2,19400101,,12,12\nB3,19400101,,0,\nB4,19400101,,x,1\n",
			"bene_2010.csv": header + "B1,19400101,,12,12\nB2,19400101,20100215,0,3\nB3,19400101,,0,12\nB5,19400101,20100420,4,4\n",
		},
	}
	r := x.mustRun(t)
	equalLines(t, "members", r.table(t, "members.csv", "member_id", "policy_id", "coverage_start", "coverage_end", "date_of_birth"), []string{
		// three full years: one span
		"B1|POL-B1|2008-01-01|2010-12-31|1940-01-01",
		// the last 6 months of 2008, 2009, then the first 3 months of the
		// year of death, ending on the date of death
		"B2|POL-B2|2008-07-01|2010-02-15|1940-01-01",
		// a year without cover breaks the span
		"B3|POL-B3|2008-01-01|2008-12-31|1940-01-01",
		"B3|POL-B3|2010-01-01|2010-12-31|1940-01-01",
		// died in April after 4 covered months: January to 20 April
		"B5|POL-B5|2010-01-01|2010-04-20|1940-01-01",
	})
	equalLines(t, "exceptions", r.table(t, "exceptions.csv", "source", "row", "member_id", "code", "field", "message"), []string{
		`bene_2009.csv|4|B4|INVALID_VALUE|A|A "x" is not a number of months (0-12)`,
	})
	if got, want := r.stats("bene_2009.csv", "members[0]"), "read=4 mapped=2 no_months_covered=1 exceptions=1"; got != want {
		t.Errorf("stats %s, want %s", got, want)
	}
}

func TestCodeTablesFirstOfAndAge(t *testing.T) {
	x := extract{
		profile: `name: t
sources:
  lines: lines
  people: people
tables:
  cat: cat.csv
  ben: ben.csv
defaults: {country: US, currency: USD}
claims:
  - from: lines
    join:
      person: {source: people, key: Id, on: MEM}
    let:
      age: {age: [person.BIRTH, DATE]}
      category:
        first_of:
          - {value: vaccine, when: KIND == VAX}
          - {from: CODE, table: cat}
    columns:
      claim_id: CLM
      line_no: {generate: line_no}
      member_id: MEM
      service_date: {from: DATE, date: ISO}
      benefit_code: {template: "{category}", table: ben}
      procedure_code: CODE
      billed_amount: AMT
`,
		tables: map[string]string{
			"cat.csv": "code,category,note\n# exact codes win over ranges and prefixes\n99213,visit,\n99201..99215,visit2,\nJ*,drug,\nX1,weird,no benefit for it\n",
			"ben.csv": "code,benefit_code,when\nvisit,OP_CONSULTATION,\nvisit2,OP_TELEHEALTH,\ndrug,OP_PRESCRIPTION_DRUGS,\nvaccine,OP_CHILD_VACCINES,age < 18\nvaccine,OP_ADULT_VACCINES,\n",
		},
		files: map[string]string{
			"people.csv": "Id,BIRTH\nKID,2015-06-30\nADULT,1980-01-01\n",
			"lines.csv": `CLM,MEM,DATE,KIND,CODE,AMT
L1,ADULT,2024-01-01,,99213,10
L2,ADULT,2024-01-01,,99214,10
L3,ADULT,2024-01-01,,j1100,10
L4,KID,2024-01-01,VAX,90715,10
L5,KID,2033-06-30,VAX,90715,10
L6,ADULT,2024-01-01,,ZZZ,10
L7,ADULT,2024-01-01,,X1,10
L8,NOBODY,2024-01-01,,99213,10
`,
		},
	}
	r := x.mustRun(t)
	equalLines(t, "claims", r.table(t, "claims.csv", "claim_id", "benefit_code", "procedure_code"), []string{
		"L1|OP_CONSULTATION|99213",
		"L2|OP_TELEHEALTH|99214",
		"L3|OP_PRESCRIPTION_DRUGS|j1100",
		"L4|OP_CHILD_VACCINES|90715",
		"L5|OP_ADULT_VACCINES|90715", // 18 on the day
	})
	equalLines(t, "exceptions", r.table(t, "exceptions.csv", "row", "claim_id", "code", "field", "message"), []string{
		"6|L6|MISSING_FIELD|benefit_code|benefit_code is empty",
		`7|L7|NOT_IN_TABLE|benefit_code|value "weird" is not in table ben`,
		`8|L8|NO_MATCH|person|no people row with Id = "NOBODY" (join person)`,
	})
}

func TestValueMappers(t *testing.T) {
	x := extract{
		profile: `name: t
sources:
  stays: "stays_*"
defaults: {country: US, currency: USD, benefit_code: HOSPITAL_ACCOMMODATION}
claims:
  - from: stays
    columns:
      claim_id: {template: "{ID}-{$file}"}
      line_no: {value: "1"}
      member_id: {from: MEMBER, extract: "^M-(.*)$"}
      service_date: {from: FROM, date: "02.01.2006"}
      service_end_date: {from: TO, date: "M/D/YYYY", empty_if: ["-"]}
      received_date: {from: RCVD, date: "2006-01-02T15:04:05Z07:00"}
      units: {days_between: [FROM, TO2], date: "02.01.2006"}
      diagnosis_code: {from: [DX1, DX2], icd: 9}
      item_code: {from: DX10, icd: 10}
      emergency: {value: Y, when: "(TYPE == ER or TYPE == TRAUMA) and not FROM is empty"}
      billed_amount: {sum: [PAID, DED, COINS]}
`,
		files: map[string]string{"stays_2019.csv": `ID,MEMBER,FROM,TO,TO2,RCVD,DX1,DX2,DX10,TYPE,PAID,DED,COINS
S1,M-1,05.03.2019,3/7/2019,07.03.2019,2019-03-20T23:30:00-05:00,25000,,C509,ER,1000,100.5,
S2,M-2,05.03.2019,-,05.03.2019,2019-03-21T00:00:00Z,,E8889,S72.001A,ward,0,0,0
S3,M-3,05.03.2019,3/1/2019,07.03.2019,2019-03-20T00:00:00Z,V0481,,,,1,,
`},
	}
	r := x.mustRun(t)
	equalLines(t, "claims", r.table(t, "claims.csv", "claim_id", "line_no", "member_id", "service_date", "service_end_date", "received_date", "units", "diagnosis_code", "item_code", "emergency", "billed_amount"), []string{
		"S1-stays_2019.csv|1|1|2019-03-05|2019-03-07|2019-03-20|2|250.00|C50.9|Y|1100.50",
		"S2-stays_2019.csv|1|2|2019-03-05||2019-03-21|1|E888.9|S72.001A||0.00",
		"S3-stays_2019.csv|1|3|2019-03-05|2019-03-01|2019-03-20|2|V04.81|||1.00",
	})
}

func TestSourceFilesAndColumns(t *testing.T) {
	profile := `name: t
sources:
  lines: lines
  extra:
    files: "extra_*"
    optional: true
  opt:
    files: opt
    optional: true
    optional_columns: [NOTE]
` + claimDefaults + `
claims:
  - from: lines
    join:
      o: {source: opt, key: K, on: CLM, required: false}
    columns:
      claim_id: CLM
      line_no: {generate: line_no}
      member_id: MEM
      service_date: {from: DT, date: ISO}
      billed_amount: AMT
      trip_id: o.NOTE
  - from: extra
    columns:
      claim_id: CLM
      line_no: {generate: line_no}
      member_id: MEM
      service_date: {from: DT, date: ISO}
      billed_amount: AMT
`
	t.Run("column order, case and extra columns do not matter; optional sources may be absent", func(t *testing.T) {
		r := extract{profile: profile, files: map[string]string{
			"lines.csv.gz.txt": "ignored: not a claims format",
			"lines.csv":        "Amt,EXTRA,dt,mem,clm\n5,x,2024-01-01,M,C\n6,y,2024-01-02,M,C\n",
		}}.mustRun(t)
		equalLines(t, "claims", r.table(t, "claims.csv", "claim_id", "line_no", "billed_amount", "trip_id"), []string{"C|1|5.00|", "C|2|6.00|"})
		if got := strings.Join(r.manifest.Absent, ","); got != "extra,opt" {
			t.Errorf("absent sources %q, want extra,opt", got)
		}
	})
	t.Run("a missing column names the file, the column and a near name", func(t *testing.T) {
		_, err := extract{profile: profile, files: map[string]string{"lines.csv": "CLM,MEMBER,DT,AMOUNT\nC,M,2024-01-01,5\n"}}.run(t)
		want := "lines.csv (source lines) has no column MEM (did you mean MEMBER?), no column AMT (did you mean AMOUNT?)"
		if !errors.Is(err, ErrConfig) || err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want ErrConfig containing %q", err, want)
		}
	})
	t.Run("a required source without a file", func(t *testing.T) {
		_, err := extract{profile: profile, files: map[string]string{"line.csv": "CLM\n"}}.run(t)
		want := `source lines: no file in`
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "(did you mean line.csv?)") {
			t.Errorf("error %v, want ErrConfig with %q and a did-you-mean", err, want)
		}
	})
	t.Run("an optional column may be missing; present optional source joins", func(t *testing.T) {
		r := extract{profile: profile, files: map[string]string{
			"lines.csv":     "CLM,MEM,DT,AMT\nC,M,2024-01-01,5\n",
			"opt.csv":       "K\nC\n",
			"extra_1.csv":   "CLM,MEM,DT,AMT\nC,M,2024-01-03,7\n",
			"extra_2.csv":   "CLM,MEM,DT,AMT\nD,M,2024-01-03,8\n",
			"unrelated.csv": "whatever\n",
		}}.mustRun(t)
		equalLines(t, "claims", r.table(t, "claims.csv", "claim_id", "line_no", "billed_amount"), []string{"C|1|5.00", "C|2|7.00", "D|1|8.00"})
	})
	t.Run("a file with a bad extension or no header", func(t *testing.T) {
		_, err := extract{profile: profile, files: map[string]string{"lines.csv": ""}}.run(t)
		if !errors.Is(err, readers.ErrMissingColumn) {
			t.Errorf("empty file: %v, want ErrMissingColumn", err)
		}
	})
}

func TestMalformedRowsAreExceptionsAndConserved(t *testing.T) {
	x := extract{
		profile: `name: t
sources:
  lines: lines
` + claimDefaults + `
claims:
  - from: lines
    columns:
      claim_id: CLM
      line_no: LN
      member_id: MEM
      service_date: {from: DT, date: ISO}
      billed_amount: AMT
`,
		files: map[string]string{"lines.csv": "CLM,LN,MEM,DT,AMT\nC,1,M,2024-01-01,5\nC,2,M\nC,0,M,2024-01-01,5\n,3,M,2024-01-01,5\nC,4,M,2024-01-01,-\"5\"\nC,5,M,2024-01-01,5\n"},
	}
	r := x.mustRun(t)
	equalLines(t, "claims", r.table(t, "claims.csv", "claim_id", "line_no"), []string{"C|1", "C|5"})
	equalLines(t, "exceptions", r.table(t, "exceptions.csv", "row", "code", "field", "message", "raw"), []string{
		"2|PARSE_ERROR||record has 3 fields, the header has 5|C,2,M",
		`3|INVALID_VALUE|line_no|line_no "0" is not an integer >= 1|C,0,M,2024-01-01,5`,
		"4|MISSING_FIELD|claim_id|claim_id is empty|,3,M,2024-01-01,5",
		`5|PARSE_ERROR||column AMT: parse error on line 6, column 19: bare " in non-quoted-field|C,4,M,2024-01-01,-"5"`,
	})
	if got, want := r.stats("lines.csv", "claims[0]"), "read=6 mapped=2 exceptions=4 lines=2"; got != want {
		t.Errorf("stats %s, want %s", got, want)
	}
}

func TestSetErrors(t *testing.T) {
	profile := `name: t
sources:
  periods: periods
defaults:
  residence_country: US
  origin_country: US
  plan_currency: USD
  modules: core
members:
  - from: periods
    columns:
      member_id: ID
      policy_id: ID
      coverage_start: {from: START, date: ISO}
      date_of_birth: {from: BIRTH, date: ISO}
`
	files := map[string]string{"periods.csv": "ID,START,BIRTH\nA,2020-01-01,1980-01-01\n"}
	for _, tc := range []struct {
		set  Setting
		want string
	}{
		{Setting{"residense_country", "AU"}, `--set residense_country: "residense_country" is not a column of what the profile makes (did you mean "residence_country"?)`},
		{Setting{"policy_id", "X"}, "--set policy_id: every block maps this column from the source"},
		{Setting{"plan_currency", "CHF"}, "plan_currency CHF is not a currency of plan Close Care (USD, EUR, GBP)"},
		{Setting{"modules", "outpatient"}, `modules "outpatient": core is mandatory`},
		{Setting{"core_deductible", "42"}, "core_deductible 42 is not one of the plan's options in USD (0.00, 375.00, 750.00, 1500.00, 3000.00, 7500.00, 10000.00)"},
		{Setting{"core_coinsurance", "15"}, "core_coinsurance 15 is not one of the plan's options (percent)"},
		{Setting{"claims.country", "FR"}, `--set claims.country: "claims.country" is not a column of what the profile makes`},
	} {
		_, err := extract{profile: profile, files: files, set: []Setting{tc.set}}.run(t)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("--set %s=%s: %v, want ErrConfig containing %q", tc.set.Key, tc.set.Value, err, tc.want)
		}
	}
	r := extract{profile: profile, files: files, set: []Setting{{"core_coinsurance", "20"}, {"outpatient_deductible", "150"}, {"us_cover", "Y"}}}.mustRun(t)
	equalLines(t, "members", r.table(t, "members.csv", "member_id", "us_cover", "core_coinsurance", "outpatient_deductible"), []string{"A|Y|20|150"})
}

func TestParseSetting(t *testing.T) {
	s, err := ParseSetting(" residence_country = AU ")
	if err != nil || s.Key != "residence_country" || s.Value != "AU" {
		t.Errorf("ParseSetting: %+v, %v", s, err)
	}
	for _, bad := range []string{"residence_country", "=AU", ""} {
		if _, err := ParseSetting(bad); !errors.Is(err, ErrConfig) {
			t.Errorf("ParseSetting(%q): %v, want ErrConfig", bad, err)
		}
	}
}

// A profile can make an fx file too, and read Parquet sources.
func TestFXBlockAndParquetSource(t *testing.T) {
	root := t.TempDir()
	pq := filepath.Join(root, "rates.parquet")
	f, err := os.Create(pq)
	if err != nil {
		t.Fatal(err)
	}
	w, err := writers.NewTextTableWriter(f, writers.Parquet, "rates", []writers.TextColumn{{Name: "DAY", Kind: writers.Date}, {Name: "CCY"}, {Name: "PER_USD"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range [][]string{{"2024-01-02", "EUR", "1.0954"}, {"2024-01-03", "GBP", "1.2702"}, {"2024-01-04", "XXX", ""}} {
		if err := w.Write(row); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	data, _ := os.ReadFile(pq)
	x := extract{
		profile: `name: t
sources:
  rates: rates
fx:
  - from: rates
    columns:
      date: DAY
      currency: CCY
      plan_currency: {value: USD}
      rate: PER_USD
`,
		files: map[string]string{"rates.parquet": string(data)},
	}
	r := x.mustRun(t)
	equalLines(t, "fx", r.table(t, "fx.csv", "date", "currency", "plan_currency", "rate"), []string{"2024-01-02|EUR|USD|1.0954", "2024-01-03|GBP|USD|1.2702"})
	equalLines(t, "exceptions", r.table(t, "exceptions.csv", "source", "row", "code", "field", "raw"), []string{"rates.parquet|3|MISSING_FIELD|rate|2024-01-04,XXX,"})
	if len(r.manifest.Outputs) != 2 || r.manifest.Outputs[0].Name != "fx.csv" {
		t.Errorf("outputs %+v, want fx.csv and exceptions.csv", r.manifest.Outputs)
	}
}

// Conservation is checked, not assumed: a count that does not add up is
// ErrConservation.
func TestConservationCheck(t *testing.T) {
	s := SourceStats{File: "f.csv", Use: "claims[0]", RowsRead: 10, Mapped: 6, Exceptions: 1, Filtered: []FilterCount{{"charges", 2}}}
	if err := s.check(); !errors.Is(err, ErrConservation) || !strings.Contains(err.Error(), "f.csv (claims[0]): rows read 10, but mapped 6 + filtered + exceptions 1 = 9") {
		t.Errorf("check: %v", err)
	}
	s.Filtered[0].Rows = 3
	if err := s.check(); err != nil {
		t.Errorf("check: %v", err)
	}
}
