package readers

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"claimsbatch/claim"
)

var membersHeader = []string{
	"member_id", "policy_id", "coverage_start", "coverage_end", "date_of_birth", "residence_country",
	"origin_country", "us_cover", "plan_currency", "modules", "core_deductible", "core_coinsurance",
	"core_oop_max", "outpatient_deductible", "outpatient_coinsurance", "outpatient_oop_max",
}

var baseMember = map[string]string{
	"member_id": "M1", "policy_id": "P1", "coverage_start": "2023-03-01", "date_of_birth": "1980-06-15",
	"residence_country": "FR", "origin_country": "GB", "plan_currency": "EUR", "modules": "core",
}

func memberRow(changes map[string]string) string {
	var b []byte
	for i, name := range membersHeader {
		if i > 0 {
			b = append(b, ',')
		}
		v, ok := changes[name]
		if !ok {
			v = baseMember[name]
		}
		b = appendCSVField(b, v)
	}
	return string(b)
}

func TestMembersGood(t *testing.T) {
	start, birth := mustDate(t, "2023-03-01"), mustDate(t, "1980-06-15")
	defaults := claim.RawSpan{
		Span: claim.Span{MemberID: "M1", PolicyID: "P1", Start: start, End: claim.OpenEnd, DateOfBirth: birth,
			Residence: "FR", Origin: "GB", PlanCurrency: "EUR", Modules: claim.ModuleSet(0).With(claim.Core), Row: 1},
		CoreDeductibleGiven: -1, CoreCoinsGiven: -1, CoreOOPMaxGiven: -1,
		OutpatientDeductGiven: -1, OutpatientCoinsGiven: -1, OutpatientOOPMaxGiven: -1,
	}
	full := claim.RawSpan{
		Span: claim.Span{MemberID: "M2", PolicyID: "P2", Start: start, End: mustDate(t, "2024-02-29"), DateOfBirth: birth,
			Residence: "US", Origin: "FR", USCover: true, PlanCurrency: "USD",
			Modules: claim.ModuleSet(0).With(claim.Core).With(claim.Outpatient).With(claim.Dental), Row: 1},
		CoreDeductibleGiven: 37500, CoreCoinsGiven: 2000, CoreOOPMaxGiven: 200000,
		OutpatientDeductGiven: 0, OutpatientCoinsGiven: 0, OutpatientOOPMaxGiven: 300000,
	}
	tests := []struct {
		name    string
		changes map[string]string
		want    claim.RawSpan
	}{
		{"defaults", nil, defaults},
		{"every column", map[string]string{
			"member_id": "M2", "policy_id": " P2 ", "coverage_end": "2024-02-29", "residence_country": "us", "origin_country": "fr",
			"us_cover": "Y", "plan_currency": "usd", "modules": "dental; outpatient;core", "core_deductible": "375",
			"core_coinsurance": "20", "core_oop_max": "2000.00", "outpatient_deductible": "0", "outpatient_coinsurance": "0",
			"outpatient_oop_max": "3000",
		}, full},
		{"one-day span", map[string]string{"coverage_end": "2023-03-01", "us_cover": "N"}, func() claim.RawSpan {
			s := defaults
			s.End = start
			return s
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := strings.Join(membersHeader, ",") + "\n" + memberRow(tt.changes) + "\n"
			spans, exceptions, rows, err := ReadMembers(writeFile(t, "members.csv", []byte(data)))
			if err != nil || len(exceptions) != 0 || rows != 1 || len(spans) != 1 {
				t.Fatalf("err %v, exceptions %+v, rows %d, spans %d", err, exceptions, rows, len(spans))
			}
			tt.want.Raw = memberRow(tt.changes)
			if spans[0] != tt.want {
				t.Errorf("span\n got %+v\nwant %+v", spans[0], tt.want)
			}
		})
	}
}

func TestMembersExceptions(t *testing.T) {
	tests := []struct {
		name    string
		changes map[string]string
		code    claim.ExceptionCode
		field   string
		message string
	}{
		{"member_id empty", map[string]string{"member_id": ""}, claim.MissingField, "member_id", "member_id is empty"},
		{"policy_id empty", map[string]string{"policy_id": ""}, claim.MissingField, "policy_id", "policy_id is empty"},
		{"coverage_start empty", map[string]string{"coverage_start": ""}, claim.MissingField, "coverage_start", "coverage_start is empty"},
		{"date_of_birth empty", map[string]string{"date_of_birth": ""}, claim.MissingField, "date_of_birth", "date_of_birth is empty"},
		{"residence empty", map[string]string{"residence_country": ""}, claim.MissingField, "residence_country", "residence_country is empty"},
		{"origin empty", map[string]string{"origin_country": ""}, claim.MissingField, "origin_country", "origin_country is empty"},
		{"plan_currency empty", map[string]string{"plan_currency": ""}, claim.MissingField, "plan_currency", "plan_currency is empty"},
		{"modules empty", map[string]string{"modules": ""}, claim.MissingField, "modules", "modules is empty"},
		{"missing before invalid", map[string]string{"modules": "", "coverage_start": "x"}, claim.MissingField, "modules", "modules is empty"},
		{"coverage_start bad", map[string]string{"coverage_start": "2023-02-29"}, claim.InvalidValue, "coverage_start", "coverage_start 2023-02-29 is not a valid YYYY-MM-DD date"},
		{"coverage_end bad", map[string]string{"coverage_end": "open"}, claim.InvalidValue, "coverage_end", "coverage_end open is not a valid YYYY-MM-DD date"},
		{"coverage_end before start", map[string]string{"coverage_end": "2023-02-28"}, claim.InvalidValue, "coverage_end", "coverage_end 2023-02-28 is before coverage_start 2023-03-01"},
		// Issue 12, finding 7: dates outside 1900-01-01..2199-12-31.
		{"coverage_start in year 1", map[string]string{"coverage_start": "0001-01-01"}, claim.InvalidValue, "coverage_start", "coverage_start 0001-01-01 is outside 1900-01-01..2199-12-31"},
		{"coverage_end 9999", map[string]string{"coverage_end": "9999-12-31"}, claim.InvalidValue, "coverage_end", "coverage_end 9999-12-31 is outside 1900-01-01..2199-12-31 (leave coverage_end empty for a span with no end)"},
		{"date_of_birth in 1800", map[string]string{"date_of_birth": "1850-06-15"}, claim.InvalidValue, "date_of_birth", "date_of_birth 1850-06-15 is outside 1900-01-01..2199-12-31"},
		{"date_of_birth bad", map[string]string{"date_of_birth": "15/06/1980"}, claim.InvalidValue, "date_of_birth", "date_of_birth 15/06/1980 is not a valid YYYY-MM-DD date"},
		{"residence bad", map[string]string{"residence_country": "FRA"}, claim.InvalidValue, "residence_country", "residence_country FRA is not 2 ASCII letters"},
		{"origin bad", map[string]string{"origin_country": "G"}, claim.InvalidValue, "origin_country", "origin_country G is not 2 ASCII letters"},
		{"us_cover bad", map[string]string{"us_cover": "yes"}, claim.InvalidValue, "us_cover", "us_cover yes is not Y or N"},
		{"plan_currency bad", map[string]string{"plan_currency": "EURO"}, claim.InvalidValue, "plan_currency", "plan_currency EURO is not 3 ASCII letters"},
		{"modules without core", map[string]string{"modules": "outpatient;dental"}, claim.InvalidValue, "modules", "modules outpatient;dental does not include core"},
		{"modules unknown", map[string]string{"modules": "core;vision"}, claim.InvalidValue, "modules", `modules core;vision: "vision" is not core, outpatient or dental`},
		{"modules empty item", map[string]string{"modules": "core;"}, claim.InvalidValue, "modules", `modules core;: "" is not core, outpatient or dental`},
		{"modules case", map[string]string{"modules": "Core"}, claim.InvalidValue, "modules", `modules Core: "Core" is not core, outpatient or dental`},
		{"core_deductible decimals", map[string]string{"core_deductible": "375.001"}, claim.InvalidValue, "core_deductible", "core_deductible 375.001 has more than 2 decimals"},
		{"core_deductible negative", map[string]string{"core_deductible": "-375"}, claim.InvalidValue, "core_deductible", "core_deductible -375 is negative"},
		{"core_coinsurance decimal", map[string]string{"core_coinsurance": "12.5"}, claim.InvalidValue, "core_coinsurance", "core_coinsurance 12.5 is not an integer percent from 0 to 100"},
		{"core_coinsurance over 100", map[string]string{"core_coinsurance": "101"}, claim.InvalidValue, "core_coinsurance", "core_coinsurance 101 is not an integer percent from 0 to 100"},
		{"core_oop_max text", map[string]string{"core_oop_max": "lowest"}, claim.InvalidValue, "core_oop_max", "core_oop_max lowest is not a decimal amount"},
		{"outpatient_deductible bad", map[string]string{"outpatient_deductible": "1e3"}, claim.InvalidValue, "outpatient_deductible", "outpatient_deductible 1e3 is not a decimal amount"},
		{"outpatient_coinsurance bad", map[string]string{"outpatient_coinsurance": "20%"}, claim.InvalidValue, "outpatient_coinsurance", "outpatient_coinsurance 20% is not an integer percent from 0 to 100"},
		{"outpatient_oop_max bad", map[string]string{"outpatient_oop_max": "-1"}, claim.InvalidValue, "outpatient_oop_max", "outpatient_oop_max -1 is negative"},
		{"first invalid in column order", map[string]string{"outpatient_oop_max": "-1", "us_cover": "x"}, claim.InvalidValue, "us_cover", "us_cover x is not Y or N"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := memberRow(tt.changes)
			data := strings.Join(membersHeader, ",") + "\n" + memberRow(nil) + "\n" + line + "\n"
			spans, exceptions, rows, err := ReadMembers(writeFile(t, "members.csv", []byte(data)))
			if err != nil || rows != 2 || len(spans) != 1 || len(exceptions) != 1 {
				t.Fatalf("err %v, rows %d, spans %d, exceptions %+v", err, rows, len(spans), exceptions)
			}
			memberID := baseMember["member_id"]
			if v, ok := tt.changes["member_id"]; ok {
				memberID = v
			}
			want := claim.Exception{Source: "members.csv", Row: 2, MemberID: memberID, Code: tt.code, Field: tt.field, Message: tt.message, Raw: line}
			if exceptions[0] != want {
				t.Errorf("exception\n got %+v\nwant %+v", exceptions[0], want)
			}
		})
	}
}

func TestMembersFileErrors(t *testing.T) {
	_, _, _, err := ReadMembers(writeFile(t, "members.csv", []byte("member_id,policy_id\n")))
	if !errors.Is(err, ErrMissingColumn) || !strings.Contains(err.Error(), "members.csv: missing required columns coverage_start, date_of_birth, residence_country, origin_country, plan_currency, modules") {
		t.Errorf("err = %v", err)
	}
	_, _, _, err = ReadMembers(t.TempDir() + "/nope.parquet")
	if !errors.Is(err, ErrOpen) {
		t.Errorf("err = %v", err)
	}
	data := strings.Join(membersHeader, ",") + "\n" + memberRow(nil) + "\n\"M2,P2\n"
	spans, exceptions, rows, err := ReadMembers(writeFile(t, "members.csv", []byte(data)))
	if err != nil || len(spans) != 1 || rows != 2 || len(exceptions) != 1 || exceptions[0].Code != claim.ParseError || exceptions[0].Raw != `"M2,P2` {
		t.Errorf("err %v, spans %d, rows %d, exceptions %+v", err, len(spans), rows, exceptions)
	}
}

func TestMembersParquet(t *testing.T) {
	rows := []map[string]string{
		{"member_id": "M1", "policy_id": "P1", "coverage_start": "2023-03-01", "date_of_birth": "1980-06-15",
			"residence_country": "FR", "origin_country": "GB", "plan_currency": "EUR", "modules": "core;dental",
			"us_cover": "Y", "core_deductible": "275.00", "core_coinsurance": "10", "core_oop_max": "1480"},
		{"member_id": "M2", "policy_id": "P1", "coverage_start": "2023-03-01", "coverage_end": "2024-02-29", "date_of_birth": "2010-01-01",
			"residence_country": "us", "origin_country": "us", "plan_currency": "usd", "modules": "core",
			"outpatient_deductible": "150", "outpatient_coinsurance": "30", "outpatient_oop_max": "3000.5"},
		{"member_id": "M3", "policy_id": "P1", "coverage_start": "2023-03-01", "date_of_birth": "2010-01-01",
			"residence_country": "US", "origin_country": "US", "plan_currency": "USD", "modules": "core", "core_coinsurance": "120"},
	}
	cols := []arrowColumn{
		{"member_id", arrow.BinaryTypes.String}, {"policy_id", &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}},
		{"coverage_start", arrow.FixedWidthTypes.Date32}, {"coverage_end", arrow.FixedWidthTypes.Date32},
		{"date_of_birth", arrow.BinaryTypes.String}, {"residence_country", arrow.BinaryTypes.String}, {"origin_country", arrow.BinaryTypes.String},
		{"us_cover", arrow.FixedWidthTypes.Boolean}, {"plan_currency", arrow.BinaryTypes.String}, {"modules", arrow.BinaryTypes.String},
		{"core_deductible", &arrow.Decimal128Type{Precision: 10, Scale: 2}}, {"core_coinsurance", arrow.PrimitiveTypes.Int32},
		{"core_oop_max", arrow.PrimitiveTypes.Int64}, {"outpatient_deductible", arrow.PrimitiveTypes.Float64},
		{"outpatient_coinsurance", arrow.BinaryTypes.String}, {"outpatient_oop_max", &arrow.Decimal128Type{Precision: 10, Scale: 1}},
	}
	spansP, excP, rowsP, err := ReadMembers(writeFile(t, "members.parquet", writeArrow(t, cols, rows, 2)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cols {
		names = append(names, c.name)
	}
	// The CSV twin holds each typed value as the Parquet reader reads it.
	spansC, excC, rowsC, err := ReadMembers(writeFile(t, "members.csv", fixtureCSV(names, rows)))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(spansP, spansC) || rowsP != rowsC || len(spansP) != 2 {
		t.Errorf("parquet spans %+v\ncsv spans %+v", spansP, spansC)
	}
	if len(excP) != 1 || excP[0].Message != "core_coinsurance 120 is not an integer percent from 0 to 100" || excP[0].MemberID != "M3" {
		t.Errorf("parquet exceptions %+v", excP)
	}
	if !reflect.DeepEqual(withoutSource(excP), withoutSource(excC)) {
		t.Errorf("parquet exceptions %+v\ncsv exceptions %+v", excP, excC)
	}
	if spansP[1].OutpatientOOPMaxGiven != 300050 || spansP[0].CoreDeductibleGiven != 27500 || spansP[0].CoreOOPMaxGiven != 148000 {
		t.Errorf("amounts %+v", spansP)
	}
}

// TestMembersReaderBatches: the streaming reader gives the rows of
// ReadMembers, whatever the batch size, each batch in row order; RawRows
// gives back the text of chosen rows, past a malformed one, in CSV and
// Parquet.
func TestMembersReaderBatches(t *testing.T) {
	var b strings.Builder
	b.WriteString(strings.Join(membersHeader, ",") + "\n")
	for i := range 50 {
		switch {
		case i%7 == 3:
			b.WriteString(memberRow(map[string]string{"member_id": fmt.Sprintf("M%d", i), "coverage_start": "2023-02-30"}) + "\n")
		case i == 20:
			b.WriteString("M20,P1,2023-01-01\n") // a wrong field count
		default:
			b.WriteString(memberRow(map[string]string{"member_id": fmt.Sprintf("M%d", i), "policy_id": fmt.Sprintf("P%d", i)}) + "\n")
		}
	}
	path := writeFile(t, "members.csv", []byte(b.String()))
	wantSpans, wantEx, wantRows, err := ReadMembers(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(wantSpans) != 42 || len(wantEx) != 8 || wantRows != 50 {
		t.Fatalf("ReadMembers: %d spans, %d exceptions, %d rows", len(wantSpans), len(wantEx), wantRows)
	}
	for _, size := range []int{1, 3, 64} {
		mr, err := OpenMembers(path, Options{BatchSize: size})
		if err != nil {
			t.Fatal(err)
		}
		var spans []claim.RawSpan
		var ex []claim.Exception
		for mr.Next() {
			got := len(mr.Spans()) + len(mr.Exceptions())
			if got == 0 || got > size {
				t.Fatalf("batch size %d: a batch of %d rows", size, got)
			}
			spans = append(spans, mr.Spans()...)
			ex = append(ex, mr.Exceptions()...)
		}
		if err := mr.Err(); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(spans, wantSpans) || !reflect.DeepEqual(ex, wantEx) || mr.Rows() != 50 {
			t.Fatalf("batch size %d: %d spans, %d exceptions, %d rows differ from ReadMembers'", size, len(spans), len(ex), mr.Rows())
		}
		mr.Close()
	}
	raw := map[int64]string{}
	for _, s := range wantSpans {
		raw[s.Row] = s.Raw
	}
	for _, x := range wantEx {
		raw[x.Row] = x.Raw
	}
	if raw[22] != memberRow(map[string]string{"member_id": "M21", "policy_id": "P21"}) {
		t.Fatalf("row 22 is %q", raw[22])
	}
	rr, err := OpenRawRows(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	for _, row := range []int64{2, 2, 21, 22, 49, 50} {
		got, err := rr.Row(row)
		if err != nil || got != raw[row] {
			t.Fatalf("RawRows.Row(%d) = %q, %v; want %q", row, got, err, raw[row])
		}
	}
	if _, err := rr.Row(49); err == nil || !strings.Contains(err.Error(), "row 49 asked for after row 50") {
		t.Fatalf("a row asked for again after a later one: %v", err)
	}
	rr2, _ := OpenRawRows(path)
	defer rr2.Close()
	if _, err := rr2.Row(51); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "row 51 is past the end of the file (50 rows)") {
		t.Fatalf("a row past the end: %v", err)
	}
}

// TestRawRowsParquet: a Parquet row's text is its values joined as a CSV
// line, the same as the reader's.
func TestRawRowsParquet(t *testing.T) {
	rows := []map[string]string{
		{"member_id": "M1", "policy_id": "P1", "coverage_start": "2023-03-01", "date_of_birth": "1980-06-15",
			"residence_country": "FR", "origin_country": "GB", "plan_currency": "EUR", "modules": "core"},
		{"member_id": "M2", "policy_id": "P, 2", "coverage_start": "2023-03-01", "date_of_birth": "1980-06-15",
			"residence_country": "FR", "origin_country": "GB", "plan_currency": "EUR", "modules": "core;dental", "core_deductible": "275.00"},
	}
	var cols []arrowColumn
	for _, name := range membersHeader {
		typ := arrow.DataType(arrow.BinaryTypes.String)
		if name == "coverage_start" || name == "coverage_end" {
			typ = arrow.FixedWidthTypes.Date32
		}
		cols = append(cols, arrowColumn{name, typ})
	}
	path := writeFile(t, "members.parquet", writeArrow(t, cols, rows, 1))
	spans, _, _, err := ReadMembers(path)
	if err != nil || len(spans) != 2 {
		t.Fatal(err, len(spans))
	}
	rr, err := OpenRawRows(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	for _, s := range spans {
		if got, err := rr.Row(s.Row); err != nil || got != s.Raw || !strings.HasPrefix(got, s.MemberID+",") {
			t.Fatalf("row %d: %q, %v; the reader gave %q", s.Row, got, err, s.Raw)
		}
	}
}
