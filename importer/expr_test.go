package importer

import (
	"strings"
	"testing"
	"testing/fstest"
)

// testCtx is a row of named columns for evaluating conditions and
// templates outside an import.
func testCtx(t *testing.T, sc *scope, row map[string]string) *rowCtx {
	t.Helper()
	c := newRowCtx(nil)
	c.file, c.row = "f.csv", 7
	for i, name := range sc.columns {
		c.pos = append(c.pos, []int{i})
		c.rec = append(c.rec, row[name])
	}
	return c
}

func TestConditions(t *testing.T) {
	row := map[string]string{"TYPE": "CHARGE", "AMT": "0.00", "N": "12", "CODE": "99213", "OTHER": "99213", "EMPTY": "", "D": "2024-01-31", "Q": "it's"}
	for _, tc := range []struct {
		cond string
		want bool
	}{
		{"TYPE == CHARGE", true},
		{"TYPE != CHARGE", false},
		{"TYPE == 'CHARGE'", true},
		{`TYPE == "charge"`, false}, // text compares exactly
		{"AMT == 0", false},         // == compares text, "0.00" is not "0"
		{"AMT > 0", false},          // < > compare numbers
		{"AMT >= 0", true},
		{"N > 9", true}, // as numbers, not as text
		{"N < 100", true},
		{"D < 2024-02-01", true}, // as text when not numbers
		{"D >= 2024-02-01", false},
		{"EMPTY > 0", false},
		{"EMPTY < 0", false},
		{"EMPTY is empty", true},
		{"TYPE is not empty", true},
		{"TYPE in [PAYMENT, CHARGE]", true},
		{"TYPE not in [PAYMENT, CHARGE]", false},
		{"TYPE in ['a b', x]", false},
		{"CODE == {OTHER}", true},
		{"CODE == '{OTHER}x'", false},
		{"CODE == 9921{N}", false},
		{"Q == 'it''s'", true},
		{"not TYPE == CHARGE", false},
		{"TYPE == CHARGE and (N > 20 or AMT >= 0)", true},
		{"TYPE == X or N > 20 or CODE == 99213", true},
		{"TYPE == CHARGE and N > 20", false},
		{"not (TYPE == X or N > 20)", true},
		{"$file == f.csv and $row == 7", true},
	} {
		sc := newScope()
		c, err := parseCond(tc.cond, sc.resolve)
		if err != nil {
			t.Errorf("%s: %v", tc.cond, err)
			continue
		}
		got, err := c.eval(testCtx(t, sc, row))
		if err != nil || got != tc.want {
			t.Errorf("%s = %v, %v; want %v", tc.cond, got, err, tc.want)
		}
	}
}

func TestConditionSyntaxErrors(t *testing.T) {
	for _, tc := range []struct{ cond, want string }{
		{"", "the condition is empty"},
		{"TYPE = CHARGE", `"=" at character 6 (compare with == or !=)`},
		{"TYPE == ", "the condition ends where a value should follow"},
		{"TYPE CHARGE", `"CHARGE" at character 6, want ==, !=, <, <=, >, >=, in, not in, is empty or is not empty`},
		{"TYPE == A B", `unexpected "B" at character 11 (join conditions with and / or)`},
		{"(TYPE == A", "the condition ends where a closing ) should follow"},
		{"TYPE in [A, B", "the condition ends where a comma or ] should follow"},
		{"TYPE in A", `"A" at character 9, want a list in [ ]`},
		{"TYPE is full", `"full" at character 9, want "empty"`},
		{"TYPE == 'open", "the quote at character 9 is never closed"},
		{"and == 1", `"and" at character 1, want a column or value name`},
		{"{A} == 1", `"{A}" at character 1, want a column or value name`},
		{"TYPE == {", `template "{": a { is never closed`},
		{"$nope == 1", "unknown name $nope"},
	} {
		_, err := parseCond(tc.cond, newScope().resolve)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseCond(%q) = %v, want an error containing %q", tc.cond, err, tc.want)
		}
	}
}

func TestTemplates(t *testing.T) {
	row := map[string]string{"A": "x", "B": "y"}
	for _, tc := range []struct{ tmpl, want string }{
		{"{A}-{B}", "x-y"},
		{"plain", "plain"},
		{"", ""},
		{"{{literal}} {A}", "{literal} x"},
		{"{ A }", "x"},
		{"{A}{B}{$row}", "xy7"},
	} {
		sc := newScope()
		tm, err := parseTemplate(tc.tmpl, sc.resolve)
		if err != nil {
			t.Errorf("%q: %v", tc.tmpl, err)
			continue
		}
		if got, err := tm.eval(testCtx(t, sc, row)); err != nil || got != tc.want {
			t.Errorf("%q = %q, %v; want %q", tc.tmpl, got, err, tc.want)
		}
	}
	for _, bad := range []string{"{A", "A}", "{}", "{a b}"} {
		if _, err := parseTemplate(bad, newScope().resolve); err == nil {
			t.Errorf("parseTemplate(%q) accepted", bad)
		}
	}
}

func TestDateFormats(t *testing.T) {
	for _, tc := range []struct {
		format, in, want string // want "" = not a date
	}{
		{"ISO", "2014-10-01", "2014-10-01"},
		{"ISO", "2014-10-01T12:33:09Z", "2014-10-01"},
		{"ISO", "2014-10-01T23:33:09-05:00", "2014-10-01"}, // as written, not converted
		{"ISO", "2014-10-01 12:33", "2014-10-01"},
		{"ISO", "2014-10-1", ""},
		{"ISO", "2014-02-30", ""},
		{"YYYYMMDD", "20080229", "2008-02-29"},
		{"YYYYMMDD", "20070229", ""},
		{"YYYYMMDD", "2008022", ""},
		{"YYYYMMDD", "200802291", ""},
		{"DD/MM/YYYY", "31/12/1999", "1999-12-31"},
		{"DD/MM/YYYY", "31-12-1999", ""},
		{"M/D/YYYY", "3/7/2019", "2019-03-07"},
		{"M/D/YYYY", "12/31/2019", "2019-12-31"},
		{"M/D/YYYY", "13/1/2019", ""},
		{"YYYY", "2010", "2010-01-01"},
		{"20060102", "20100115", "2010-01-15"},
		{"02.01.2006", "15.01.2010", "2010-01-15"},
		{"2006-01-02T15:04:05Z07:00", "2014-10-01T12:33:09Z", "2014-10-01"},
		{"20060102", "2010011", ""},
	} {
		f, err := parseDateFormat(tc.format)
		if err != nil {
			t.Fatalf("%s: %v", tc.format, err)
		}
		d, ok := f.parse(tc.in)
		got := ""
		if ok {
			got = d.String()
		}
		if got != tc.want {
			t.Errorf("%s %q = %q, want %q", tc.format, tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{"YYMMDD", "DD/MM", ""} {
		if _, err := parseDateFormat(bad); err == nil {
			t.Errorf("parseDateFormat(%q) accepted", bad)
		}
	}
}

func TestCodeTableLookup(t *testing.T) {
	tb, probs := parseTable("t", "t.csv", []byte("\uFEFFcode,when,category,note\n# a comment\n99213,,visit,exact\n99201..99215,,office,range\nJ*,,drug,prefix\n90715,age < 18,child,\n90715,,adult,\n9*,,nine,\n"))
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	sc := newScope()
	sc.lets = []*let{{name: "age"}}
	sc.nLets = 1
	c := &compiler{}
	u := &tableUse{t: tb, when: make([]*cond, len(tb.rows))}
	for i, r := range tb.rows {
		if r.when != "" {
			cd, err := parseCond(r.when, sc.resolve)
			if err != nil {
				t.Fatal(err)
			}
			u.when[i] = cd
		}
	}
	_ = c
	for _, tc := range []struct {
		code, age, want string
	}{
		{"99213", "", "visit"},
		{"99214", "", "office"},
		{"99216", "", "nine"},  // outside the range: the prefix 9*
		{"992130", "", "nine"}, // a range matches codes of its length only
		{"j1100", "", "drug"},  // case does not matter
		{"90715", "10", "child"},
		{"90715", "40", "adult"},
		{"90715", "", "adult"}, // an unknown age is not < 18
		{"A0425", "", "-"},
	} {
		ctx := newRowCtx(&block{lets: sc.lets})
		ctx.letDone[0], ctx.letVals[0] = true, tc.age
		got, found, err := u.lookup(tc.code, ctx)
		if !found {
			got = "-"
		}
		if err != nil || got != tc.want {
			t.Errorf("lookup(%s, age %s) = %q, %v; want %q", tc.code, tc.age, got, err, tc.want)
		}
	}
	if tb.column("note") != 1 || tb.column("when") != -1 || tb.column("category") != 0 {
		t.Errorf("columns: %v", tb.header)
	}
}

func TestCodeTableProblems(t *testing.T) {
	_, probs := parseTable("t", "t.csv", []byte("code,v,v,\nA..B,1,2,3\nB..A,1,2,3\n*,1,2,3\nA,1\n\"x,1,2,3\n"))
	want := []string{
		"header: column v appears twice",
		"header: column 4 has no name",
		`line 3: "B..A": a range is LOW..HIGH with LOW <= HIGH, both the same length (e.g. 99201..99499)`,
		`line 4: "*": a prefix is text followed by one * (e.g. J*)`,
		"line 5: 2 fields, the header has 4",
		`parse error on line 6, column 10: extraneous or missing " in quoted-field`,
	}
	equalLines(t, "problems", probs, want)
	if _, probs := parseTable("t", "t.csv", nil); len(probs) != 1 || !strings.Contains(probs[0], "the file is empty") {
		t.Errorf("empty table: %v", probs)
	}
	if _, probs := parseTable("t", "t.csv", []byte("code\nA\n")); len(probs) != 1 || !strings.Contains(probs[0], "no value column") {
		t.Errorf("no value column: %v", probs)
	}
}

func TestDotICD(t *testing.T) {
	for _, tc := range []struct {
		code    string
		version int
		want    string
	}{
		{"25000", 9, "250.00"},
		{"4011", 9, "401.1"},
		{"401", 9, "401"},
		{"V0481", 9, "V04.81"},
		{"e8889", 9, "E888.9"},
		{"E888", 9, "E888"},
		{"250.00", 9, "250.00"},
		{"C509", 10, "C50.9"},
		{"S72001A", 10, "S72.001A"},
		{"I10", 10, "I10"},
	} {
		if got := dotICD(tc.code, tc.version); got != tc.want {
			t.Errorf("dotICD(%s, %d) = %s, want %s", tc.code, tc.version, got, tc.want)
		}
	}
}

func TestExpandNames(t *testing.T) {
	got, err := expandNames([]string{"A", "HCPCS_CD_[1..3]", "X_[2..2]_Y"})
	if err != nil || strings.Join(got, ",") != "A,HCPCS_CD_1,HCPCS_CD_2,HCPCS_CD_3,X_2_Y" {
		t.Errorf("expandNames = %v, %v", got, err)
	}
	for _, bad := range []string{"A_[1..", "A_[3..1]", "A_[x..2]", "A_[0..2]"} {
		if _, err := expandNames([]string{bad}); err == nil {
			t.Errorf("expandNames(%q) accepted", bad)
		}
	}
}

// FuzzParseProfile: any bytes give a profile or an ErrProfile, never a
// panic; a profile that parses prints back what it read.
func FuzzParseProfile(f *testing.F) {
	// Small seeds: the fuzzer minimizes every new input it finds, and a
	// built-in profile's 8 KiB takes it a minute each time.
	f.Add([]byte("name: x\nsources: {a: a, b: {files: 'b_*', optional: true, optional_columns: [N_[1..2]]}}\ntables: {t: t}\ndefaults: {residence_country: US, origin_country: US, plan_currency: USD, modules: core}\nmembers:\n  - from: a\n    join: {j: {source: b, key: '{K}|{L}', on: '{A}|x', where: K != 1, required: false}}\n    coverage: {end_exclusive: true}\n    columns: {member_id: A, policy_id: j.P, coverage_start: {from: S, date: ISO}, coverage_end: {from: E, date: YYYYMMDD, empty_if: [1970-01-01]}, date_of_birth: {from: B, date: 02.01.2006}}\n"))
	f.Add([]byte("name: x\nsources: {a: a}\ndefaults: {country: US, currency: USD}\nclaims:\n  - from: a\n    where: {f: \"A == 1 and (B in [x, 'y'] or not C is empty)\"}\n    unpivot: {slots: 1..3, filled: C_# > 0}\n    let: {l: {first_of: [{from: C_#, table: t, when: A != 2}, {value: z}]}}\n    columns: {claim_id: A, line_no: {generate: line_no}, member_id: '{B}-{$slot}', service_date: {from: D, date: YYYYMMDD}, benefit_code: l, billed_amount: {sum: [E, F]}}\n"))
	f.Add([]byte("name: x\nsources: &s {a: a}\nclaims: *s\n"))
	tables := fstest.MapFS{}
	for _, name := range []string{"closecare-benefits.csv", "synthea-codes.csv", "synthea-encounter-classes.csv", "cms-hcpcs-categories.csv", "cms-drg-categories.csv"} {
		data, _ := builtinFS.ReadFile("profiles/" + name)
		tables[name] = &fstest.MapFile{Data: data}
	}
	tables["t"] = &fstest.MapFile{Data: []byte("code,v,when\nA,B,A == 1\n")}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data, tables)
		if err != nil {
			if p != nil {
				t.Fatal("a profile and an error")
			}
			return
		}
		if string(p.YAML()) != string(data) {
			t.Fatal("YAML() differs from the input")
		}
	})
}

// FuzzCondition: any text parses to a condition or an error, and a
// condition evaluates without panicking.
func FuzzCondition(f *testing.F) {
	for _, s := range []string{"TYPE == CHARGE", "A > 0 and not (B in [x, 'y']) or C is not empty", "A == {B}-1", "A == 'it''s'", "((A == 1)", "A in [", "$row >= 2"} {
		f.Add(s, "1", "x")
	}
	f.Fuzz(func(t *testing.T, cond, a, b string) {
		sc := newScope()
		c, err := parseCond(cond, sc.resolve)
		if err != nil {
			return
		}
		row := map[string]string{}
		for i, name := range sc.columns {
			row[name] = []string{a, b}[i%2]
		}
		if _, err := c.eval(testCtx(t, sc, row)); err != nil {
			t.Fatalf("%q: %v", cond, err)
		}
	})
}
