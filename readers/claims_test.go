package readers

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"claimsbatch/claim"
)

// claimsHeader lists every claims column in SPEC order.
var claimsHeader = []string{
	"claim_id", "line_no", "member_id", "service_date", "service_end_date", "received_date",
	"benefit_code", "diagnosis_code", "item_code", "country", "emergency", "trip_id",
	"provider_id", "payee", "currency", "billed_amount", "units",
}

// baseRow is a good claims row; the table tests change a few fields of it.
var baseRow = map[string]string{
	"claim_id": "C1", "line_no": "1", "member_id": "M1", "service_date": "2024-01-05",
	"benefit_code": "HOSPITAL_ACCOMMODATION", "diagnosis_code": "C50.9", "country": "FR",
	"provider_id": "P1", "currency": "EUR", "billed_amount": "100.00",
}

// csvRow renders baseRow with changes as one CSV line in claimsHeader order.
func csvRow(changes map[string]string) string {
	var b []byte
	for i, name := range claimsHeader {
		if i > 0 {
			b = append(b, ',')
		}
		v, ok := changes[name]
		if !ok {
			v = baseRow[name]
		}
		b = appendCSVField(b, v)
	}
	return string(b)
}

func csvFile(lines ...string) []byte {
	return []byte(strings.Join(claimsHeader, ",") + "\n" + strings.Join(lines, "\n") + "\n")
}

func TestClaimsExceptions(t *testing.T) {
	tests := []struct {
		name    string
		changes map[string]string
		code    claim.ExceptionCode
		field   string
		message string
	}{
		{"claim_id empty", map[string]string{"claim_id": ""}, claim.MissingField, "claim_id", "claim_id is empty"},
		{"line_no empty", map[string]string{"line_no": ""}, claim.MissingField, "line_no", "line_no is empty"},
		{"member_id blank", map[string]string{"member_id": "   "}, claim.MissingField, "member_id", "member_id is empty"},
		{"service_date empty", map[string]string{"service_date": ""}, claim.MissingField, "service_date", "service_date is empty"},
		{"benefit_code empty", map[string]string{"benefit_code": ""}, claim.MissingField, "benefit_code", "benefit_code is empty"},
		{"country empty", map[string]string{"country": ""}, claim.MissingField, "country", "country is empty"},
		{"currency empty", map[string]string{"currency": ""}, claim.MissingField, "currency", "currency is empty"},
		{"billed_amount empty", map[string]string{"billed_amount": ""}, claim.MissingField, "billed_amount", "billed_amount is empty"},
		{"item_code needed", map[string]string{"benefit_code": "CANCER_DEVICE"}, claim.MissingField, "item_code", "item_code is empty; benefit CANCER_DEVICE needs one"},
		{"missing before invalid", map[string]string{"member_id": "", "service_date": "2024-13-01"}, claim.MissingField, "member_id", "member_id is empty"},
		{"missing item before invalid", map[string]string{"benefit_code": "CANCER_DEVICE", "line_no": "x"}, claim.MissingField, "item_code", "item_code is empty; benefit CANCER_DEVICE needs one"},

		{"line_no zero", map[string]string{"line_no": "0"}, claim.InvalidValue, "line_no", "line_no 0 is not an integer from 1 to 2147483647"},
		{"line_no decimal", map[string]string{"line_no": "1.0"}, claim.InvalidValue, "line_no", "line_no 1.0 is not an integer from 1 to 2147483647"},
		{"line_no too big", map[string]string{"line_no": "2147483648"}, claim.InvalidValue, "line_no", "line_no 2147483648 is not an integer from 1 to 2147483647"},
		{"line_no before date", map[string]string{"line_no": "-1", "service_date": "x"}, claim.InvalidValue, "line_no", "line_no -1 is not an integer from 1 to 2147483647"},
		{"service_date no such day", map[string]string{"service_date": "2024-02-30"}, claim.InvalidValue, "service_date", "service_date 2024-02-30 is not a valid YYYY-MM-DD date"},
		{"service_date not padded", map[string]string{"service_date": "2024-1-5"}, claim.InvalidValue, "service_date", "service_date 2024-1-5 is not a valid YYYY-MM-DD date"},
		{"service_end_date bad", map[string]string{"service_end_date": "05/01/2024"}, claim.InvalidValue, "service_end_date", "service_end_date 05/01/2024 is not a valid YYYY-MM-DD date"},
		{"service_end_date before", map[string]string{"service_date": "2024-01-05", "service_end_date": "2024-01-01"}, claim.InvalidValue, "service_end_date", "service_end_date 2024-01-01 is before service_date 2024-01-05"},
		{"received_date bad", map[string]string{"received_date": "2024-01-32"}, claim.InvalidValue, "received_date", "received_date 2024-01-32 is not a valid YYYY-MM-DD date"},
		{"diagnosis starts with digit", map[string]string{"diagnosis_code": "5C0"}, claim.InvalidValue, "diagnosis_code", "diagnosis_code 5C0 is not an ICD-10 code (a letter, then letters or digits, at least 3 without dots)"},
		{"diagnosis too short", map[string]string{"diagnosis_code": "C.5"}, claim.InvalidValue, "diagnosis_code", "diagnosis_code C.5 is not an ICD-10 code (a letter, then letters or digits, at least 3 without dots)"},
		{"diagnosis dash", map[string]string{"diagnosis_code": "C50-9"}, claim.InvalidValue, "diagnosis_code", "diagnosis_code C50-9 is not an ICD-10 code (a letter, then letters or digits, at least 3 without dots)"},
		{"country three letters", map[string]string{"country": "FRA"}, claim.InvalidValue, "country", "country FRA is not 2 ASCII letters"},
		{"country digit", map[string]string{"country": "F1"}, claim.InvalidValue, "country", "country F1 is not 2 ASCII letters"},
		{"emergency lower case", map[string]string{"emergency": "y"}, claim.InvalidValue, "emergency", "emergency y is not Y or N"},
		{"emergency word", map[string]string{"emergency": "Yes"}, claim.InvalidValue, "emergency", "emergency Yes is not Y or N"},
		{"payee provider without id", map[string]string{"payee": "provider", "provider_id": ""}, claim.InvalidValue, "payee", "payee is provider but provider_id is empty"},
		{"payee unknown", map[string]string{"payee": "Provider"}, claim.InvalidValue, "payee", "payee Provider is not provider or member"},
		{"currency two letters", map[string]string{"currency": "EU"}, claim.InvalidValue, "currency", "currency EU is not 3 ASCII letters"},
		{"billed three decimals", map[string]string{"billed_amount": "12.345"}, claim.InvalidValue, "billed_amount", "billed_amount 12.345 has more than 2 decimals"},
		{"billed negative", map[string]string{"billed_amount": "-1.00"}, claim.InvalidValue, "billed_amount", "billed_amount -1.00 is negative"},
		{"billed thousands separator", map[string]string{"billed_amount": "1,000.00"}, claim.InvalidValue, "billed_amount", "billed_amount 1,000.00 is not a decimal amount"},
		{"billed huge", map[string]string{"billed_amount": "12345678901234567"}, claim.InvalidValue, "billed_amount", "billed_amount 12345678901234567 is too large"},
		{"units zero", map[string]string{"units": "0"}, claim.InvalidValue, "units", "units 0 is not an integer from 1 to 2147483647"},
		{"units decimal", map[string]string{"units": "1.5"}, claim.InvalidValue, "units", "units 1.5 is not an integer from 1 to 2147483647"},
		{"invalid before unknown benefit", map[string]string{"units": "0", "benefit_code": "NOPE"}, claim.InvalidValue, "units", "units 0 is not an integer from 1 to 2147483647"},

		{"unknown benefit", map[string]string{"benefit_code": "NOPE"}, claim.UnknownBenefit, "benefit_code", "benefit_code NOPE is not a benefit of the plan"},
		{"benefit case-sensitive", map[string]string{"benefit_code": "hospital_accommodation"}, claim.UnknownBenefit, "benefit_code", "benefit_code hospital_accommodation is not a benefit of the plan"},
		{"unknown benefit needs no item", map[string]string{"benefit_code": "NOPE", "item_code": ""}, claim.UnknownBenefit, "benefit_code", "benefit_code NOPE is not a benefit of the plan"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := csvRow(tt.changes)
			res, err := readClaims(t, writeFile(t, "claims.csv", csvFile(csvRow(nil), line)), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.lines) != 1 || len(res.exceptions) != 1 || res.rows != 2 {
				t.Fatalf("got %d lines, %d exceptions, %d rows; want 1, 1, 2", len(res.lines), len(res.exceptions), res.rows)
			}
			want := claim.Exception{
				Source: "claims.csv", SourceNo: 3, Row: 2,
				ClaimID: trimSpace(rowValue(tt.changes, "claim_id")), LineNo: trimSpace(rowValue(tt.changes, "line_no")), MemberID: trimSpace(rowValue(tt.changes, "member_id")),
				Code: tt.code, Field: tt.field, Message: tt.message, Raw: line,
			}
			if got := res.exceptions[0]; got != want {
				t.Errorf("exception\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func rowValue(changes map[string]string, name string) string {
	if v, ok := changes[name]; ok {
		return v
	}
	return baseRow[name]
}

func TestClaimsParseErrors(t *testing.T) {
	header := "claim_id,line_no,member_id,service_date,benefit_code,country,currency,billed_amount,note"
	good := "C1,1,M1,2024-01-05,HOSPITAL_ACCOMMODATION,FR,EUR,10.00,x"
	tests := []struct {
		name    string
		row     string // as written, without line end
		raw     string
		ids     [3]string // claim_id, line_no, member_id in the exception
		field   string
		message string
	}{
		{"too few fields", "C2,1,M1,2024-01-05,HOSPITAL_ACCOMMODATION,FR,EUR,10.00", "", [3]string{}, "", "record has 8 fields, the header has 9"},
		{"too many fields", "C2,1,M1,2024-01-05,HOSPITAL_ACCOMMODATION,FR,EUR,10,00,x", "", [3]string{}, "", "record has 10 fields, the header has 9"},
		{"bare quote", `C2,1,M"1,2024-01-05,HOSPITAL_ACCOMMODATION,FR,EUR,10.00,x`, "", [3]string{"C2", "1", ""}, "member_id", `parse error on line 3, column 7: bare " in non-quoted-field`},
		{"text after closing quote", `C2,"1"x,M1,2024-01-05,HOSPITAL_ACCOMMODATION,FR,EUR,10.00,x`, "", [3]string{"C2", "", ""}, "line_no", `parse error on line 3, column 6: extraneous or missing " in quoted-field`},
		{"invalid UTF-8 in an unused column", "C2,1,M1,2024-01-05,HOSPITAL_ACCOMMODATION,FR,EUR,10.00,\xff", "C2,1,M1,2024-01-05,HOSPITAL_ACCOMMODATION,FR,EUR,10.00,\uFFFD", [3]string{"C2", "1", "M1"}, "note", "field is not valid UTF-8"},
		{"invalid UTF-8 in member_id", "C2,1,M\xc3,2024-01-05,HOSPITAL_ACCOMMODATION,FR,EUR,10.00,x", "C2,1,M\uFFFD,2024-01-05,HOSPITAL_ACCOMMODATION,FR,EUR,10.00,x", [3]string{"C2", "1", "M\uFFFD"}, "member_id", "field is not valid UTF-8"},
		{"field too long", "C2,1,M1,2024-01-05,HOSPITAL_ACCOMMODATION,FR,EUR,10.00," + strings.Repeat("n", 101), "", [3]string{"C2", "1", "M1"}, "note", "field is 101 bytes long, more than the limit of 100"},
		{"parse error before missing", `,1,,2024-01-05,HOSPITAL_ACCOMMODATION,FR,EUR,10.00,x"`, "", [3]string{"", "1", ""}, "note", `parse error on line 3, column 53: bare " in non-quoted-field`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := header + "\n" + good + "\n" + tt.row + "\n" + good + "\n"
			res, err := readClaims(t, writeFile(t, "c.csv", []byte(data)), Options{MaxFieldBytes: 100})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.lines) != 2 || len(res.exceptions) != 1 || res.rows != 3 {
				t.Fatalf("got %d lines, %d exceptions, %d rows; want 2, 1, 3", len(res.lines), len(res.exceptions), res.rows)
			}
			raw := tt.raw
			if raw == "" {
				raw = tt.row
			}
			want := claim.Exception{
				Source: "c.csv", SourceNo: 3, Row: 2, ClaimID: tt.ids[0], LineNo: tt.ids[1], MemberID: tt.ids[2],
				Code: claim.ParseError, Field: tt.field, Message: tt.message, Raw: raw,
			}
			if got := res.exceptions[0]; got != want {
				t.Errorf("exception\n got %+v\nwant %+v", got, want)
			}
			if res.lines[1].Row != 3 {
				t.Errorf("the row after the bad one is row %d, want 3", res.lines[1].Row)
			}
		})
	}
}

// TestClaimsUnclosedQuote: a quote still open at the end of the file is a
// bad last row when it opened on the last line (a truncated file), and fails
// the read when it swallowed the lines after it.
func TestClaimsUnclosedQuote(t *testing.T) {
	header := "claim_id,line_no,member_id,service_date,benefit_code,country,currency,billed_amount,note"
	good := "C1,1,M1,2024-01-05,HOSPITAL_ACCOMMODATION,FR,EUR,10.00,x"
	for _, end := range []string{"", "\n", "\r\n"} {
		t.Run(fmt.Sprintf("last line %q", end), func(t *testing.T) {
			row := `C2,1,M1,2024-01-05,HOSPITAL_ACCOMMODATION,FR,EUR,10.00,"trunc`
			res, err := readClaims(t, writeFile(t, "c.csv", []byte(header+"\n"+good+"\n"+row+end)), Options{})
			if err != nil {
				t.Fatal(err)
			}
			want := claim.Exception{Source: "c.csv", SourceNo: 3, Row: 2, ClaimID: "C2", LineNo: "1", MemberID: "M1",
				Code: claim.ParseError, Field: "note", Message: `parse error on line 3, column 62: extraneous or missing " in quoted-field`, Raw: row}
			if end != "" { // the line end is inside the quotes
				want.Message = `parse error on line 3, column 63: extraneous or missing " in quoted-field`
			}
			if len(res.lines) != 1 || len(res.exceptions) != 1 || res.exceptions[0] != want {
				t.Errorf("lines %d, exceptions\n got %+v\nwant %+v", len(res.lines), res.exceptions, want)
			}
		})
	}
	t.Run("swallows later lines", func(t *testing.T) {
		data := header + "\n" + good + "\n\n" + `C2,1,M1,2024-01-05,"HOSPITAL_ACCOMMODATION,FR,EUR,10.00,x` + "\n" + good + "\n" + good + "\n"
		_, err := readClaims(t, writeFile(t, "c.csv", []byte(data)), Options{})
		want := "c.csv: row 2: column benefit_code: the quoted field opened on line 4, column 20 never closes: the file ends inside it on line 6"
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want ErrCorrupt containing %q", err, want)
		}
	})
	t.Run("closed on a later line", func(t *testing.T) {
		data := header + "\n" + `C2,1,M1,2024-01-05,HOSPITAL_ACCOMMODATION,FR,EUR,10.00,"two` + "\nlines\"\n" + good + "\n"
		res, err := readClaims(t, writeFile(t, "c.csv", []byte(data)), Options{})
		if err != nil || len(res.lines) != 2 || res.lines[0].Row != 1 || res.lines[1].Row != 2 {
			t.Errorf("err %v, lines %+v", err, res.lines)
		}
	})
}

func TestClaimsGoodRows(t *testing.T) {
	service := mustDate(t, "2024-01-05")
	tests := []struct {
		name    string
		changes map[string]string
		want    claim.Line
	}{
		{"defaults with provider", nil, claim.Line{
			ClaimID: "C1", LineNo: 1, MemberID: "M1", ServiceDate: service, ServiceEndDate: service, ReceivedDate: service,
			BenefitCode: "HOSPITAL_ACCOMMODATION", Benefit: 1, Diagnosis: "C50.9", Condition: "C50", Country: "FR",
			ProviderID: "P1", Payee: claim.PayeeProvider, Currency: "EUR", Billed: 10000, Units: 1, Source: 3, Row: 1,
		}},
		{"defaults without provider", map[string]string{"provider_id": "", "diagnosis_code": ""}, claim.Line{
			ClaimID: "C1", LineNo: 1, MemberID: "M1", ServiceDate: service, ServiceEndDate: service, ReceivedDate: service,
			BenefitCode: "HOSPITAL_ACCOMMODATION", Benefit: 1, Country: "FR",
			Payee: claim.PayeeMember, Currency: "EUR", Billed: 10000, Units: 1, Source: 3, Row: 1,
		}},
		{"every column, trimmed and upper-cased", map[string]string{
			"claim_id": " C9 ", "line_no": "12", "member_id": "\tM7", "service_date": "2024-02-28", "service_end_date": "2024-03-01",
			"received_date": "2024-03-10", "benefit_code": "CANCER_DEVICE", "diagnosis_code": "c50.912", "item_code": "WIG",
			"country": "us", "emergency": "Y", "trip_id": "T1", "provider_id": "P9", "payee": "member", "currency": "usd",
			"billed_amount": "1200.5", "units": "3",
		}, claim.Line{
			ClaimID: "C9", LineNo: 12, MemberID: "M7", ServiceDate: mustDate(t, "2024-02-28"), ServiceEndDate: mustDate(t, "2024-03-01"),
			ReceivedDate: mustDate(t, "2024-03-10"), BenefitCode: "CANCER_DEVICE", Benefit: 14, Diagnosis: "c50.912", Condition: "C50",
			ItemCode: "WIG", Country: "US", Emergency: true, TripID: "T1", ProviderID: "P9", Payee: claim.PayeeMember,
			Currency: "USD", Billed: 120050, Units: 3, Source: 3, Row: 1,
		}},
		{"dot inside the category, payee provider, emergency N, zero amount", map[string]string{
			"diagnosis_code": "C5.0", "payee": "provider", "emergency": "N", "billed_amount": "0", "service_end_date": "2024-01-05",
		}, claim.Line{
			ClaimID: "C1", LineNo: 1, MemberID: "M1", ServiceDate: service, ServiceEndDate: service, ReceivedDate: service,
			BenefitCode: "HOSPITAL_ACCOMMODATION", Benefit: 1, Diagnosis: "C5.0", Condition: "C50", Country: "FR",
			ProviderID: "P1", Payee: claim.PayeeProvider, Currency: "EUR", Billed: 0, Units: 1, Source: 3, Row: 1,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := readClaims(t, writeFile(t, "claims.csv", csvFile(csvRow(tt.changes))), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.exceptions) != 0 || len(res.lines) != 1 {
				t.Fatalf("got %d lines, exceptions %+v", len(res.lines), res.exceptions)
			}
			if got := res.lines[0]; got != tt.want {
				t.Errorf("line\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestClaimsCSVLayout covers what a CSV file may look like around its rows.
func TestClaimsCSVLayout(t *testing.T) {
	const bad = "C3,x,M1,2024-01-05,HOSPITAL_ACCOMMODATION,FR,EUR,1"
	tests := []struct {
		name string
		data string
		ids  []string // claim ids of the lines read
		raw  string   // raw of the one exception, "" for none
	}{
		{"BOM and CRLF",
			"\uFEFFclaim_id,line_no,member_id,service_date,benefit_code,country,currency,billed_amount\r\n" +
				"C1,1,M1,2024-01-05,HOSPITAL_ACCOMMODATION,FR,EUR,1\r\n" + bad + "\r\nC2,1,M1,2024-01-05,HOSPITAL_ACCOMMODATION,FR,EUR,1\r\n",
			[]string{"C1", "C2"}, bad},
		{"blank lines and no final line end",
			"claim_id,line_no,member_id,service_date,benefit_code,country,currency,billed_amount\n\n" +
				"C1,1,M1,2024-01-05,HOSPITAL_ACCOMMODATION,FR,EUR,1\n\r\n\n" + bad + "\n\nC2,1,M1,2024-01-05,HOSPITAL_ACCOMMODATION,FR,EUR,1",
			[]string{"C1", "C2"}, bad},
		{"quoted fields with commas, quotes and newlines",
			"claim_id,line_no,member_id,service_date,benefit_code,country,currency,billed_amount\n" +
				"\"C,1\",1,\"M\"\"1\",2024-01-05,HOSPITAL_ACCOMMODATION,FR,EUR,1\n" +
				"\"C\r\n3\",x,\"M\n1\",2024-01-05,HOSPITAL_ACCOMMODATION,FR,EUR,1\r\n",
			[]string{"C,1"}, "\"C\r\n3\",x,\"M\n1\",2024-01-05,HOSPITAL_ACCOMMODATION,FR,EUR,1"},
		{"free column order and unknown columns",
			"note,billed_amount,currency,country,benefit_code,service_date,member_id,line_no,claim_id,extra\n" +
				"hello,1,EUR,FR,HOSPITAL_ACCOMMODATION,2024-01-05,M1,1,C1,\n" +
				"\"a, b\",1,EUR,FR,HOSPITAL_ACCOMMODATION,2024-01-05,M1,x,C3,\n",
			[]string{"C1"}, "\"a, b\",1,EUR,FR,HOSPITAL_ACCOMMODATION,2024-01-05,M1,x,C3,"},
		{"BOM before a quoted header name",
			"\uFEFF\"claim_id\",line_no,member_id,service_date,benefit_code,country,currency,billed_amount\n" +
				bad + "\nC1,1,M1,2024-01-05,HOSPITAL_ACCOMMODATION,FR,EUR,1\n",
			[]string{"C1"}, bad},
		{"header names with spaces",
			" claim_id ,line_no,member_id,service_date,benefit_code,country,currency,billed_amount\n" +
				"C1,1,M1,2024-01-05,HOSPITAL_ACCOMMODATION,FR,EUR,1\n",
			[]string{"C1"}, ""},
		{"header only", "claim_id,line_no,member_id,service_date,benefit_code,country,currency,billed_amount\n", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := readClaims(t, writeFile(t, "claims.csv", []byte(tt.data)), Options{})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, l := range res.lines {
				ids = append(ids, l.ClaimID)
			}
			if !reflect.DeepEqual(ids, tt.ids) {
				t.Errorf("lines %q, want %q", ids, tt.ids)
			}
			var raws []string
			for _, e := range res.exceptions {
				raws = append(raws, e.Raw)
			}
			var want []string
			if tt.raw != "" {
				want = []string{tt.raw}
			}
			if !reflect.DeepEqual(raws, want) {
				t.Errorf("exception raws %q, want %q", raws, want)
			}
			if n := int64(len(res.lines) + len(res.exceptions)); res.rows != n {
				t.Errorf("Rows() = %d, want %d", res.rows, n)
			}
		})
	}
}

func TestClaimsRawCut(t *testing.T) {
	long := strings.Repeat("é", 3000) // 6000 bytes
	data := "claim_id,line_no,member_id,service_date,benefit_code,country,currency,billed_amount,note\n" +
		"C1,0,M1,2024-01-05,HOSPITAL_ACCOMMODATION,FR,EUR,1," + long + "\n"
	res, err := readClaims(t, writeFile(t, "claims.csv", []byte(data)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	raw := res.exceptions[0].Raw
	if len(raw) > maxRawBytes || !strings.HasSuffix(raw, "é…") || !strings.HasPrefix(raw, "C1,0,M1,") {
		t.Errorf("raw is %d bytes, ends %q", len(raw), raw[len(raw)-10:])
	}
}

func TestClaimsOpenErrors(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("claim_id,line_no,member_id\n"))
	zw.Close()

	tests := []struct {
		name     string
		file     string
		data     string
		sentinel error
		text     string // the error must contain this
	}{
		{"missing column", "c.csv", "claim_id,line_no,member_id,service_date,benefit_code,country,currency\n", ErrMissingColumn, "c.csv: missing required column billed_amount"},
		{"column name case", "c.csv", "claim_id,line_no,Member_ID,service_date,benefit_code,country,currency,billed_amount\n", ErrMissingColumn, `missing required column member_id (did you mean "Member_ID"?)`},
		{"missing column gz", "c.csv.gz", gz.String(), ErrMissingColumn, "missing required columns service_date, benefit_code"},
		{"empty file", "c.csv", "", ErrMissingColumn, "no header row"},
		{"duplicate column", "c.csv", "claim_id,line_no,member_id,service_date,benefit_code,country,currency,billed_amount,claim_id\n", ErrFormat, "column claim_id appears twice"},
		{"bad extension", "c.txt", "claim_id\n", ErrFormat, "extension"},
		{"not gzip", "c.csv.gz", "claim_id\n", ErrCorrupt, "not a gzip stream"},
		{"not parquet", "c.parquet", "claim_id\n", ErrCorrupt, "c.parquet: not a readable Parquet file"},
		{"bad header quoting", "c.csv", "claim_id,\"line_no\"x\n", ErrCorrupt, "header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readClaims(t, writeFile(t, tt.file, []byte(tt.data)), Options{})
			if !errors.Is(err, tt.sentinel) || !strings.Contains(err.Error(), tt.text) {
				t.Errorf("err = %v; want %v containing %q", err, tt.sentinel, tt.text)
			}
		})
	}
	t.Run("no such file", func(t *testing.T) {
		_, err := OpenClaims(t.TempDir()+"/none.csv", 0, plan, Options{})
		if !errors.Is(err, ErrOpen) || !strings.Contains(err.Error(), "none.csv") {
			t.Errorf("err = %v, want ErrOpen naming the file", err)
		}
	})
}

func gzipBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// manyRows returns a claims CSV file of n good rows, claim ids C1..Cn.
func manyRows(n int) []byte {
	var b bytes.Buffer
	b.WriteString(strings.Join(claimsHeader, ",") + "\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "C%d,1,M%d,2024-01-05,,,HOSPITAL_ACCOMMODATION,C50.9,,FR,N,,P1,,EUR,%d.25,1\n", i, i%100, i)
	}
	return b.Bytes()
}

func TestClaimsGzip(t *testing.T) {
	data := manyRows(5000)
	compressed := gzipBytes(t, data)
	res, err := readClaims(t, writeFile(t, "claims.csv.gz", compressed), Options{})
	if err != nil || len(res.lines) != 5000 {
		t.Fatalf("good gzip: %d lines, err %v", len(res.lines), err)
	}

	corrupt := bytes.Clone(compressed)
	for i := len(corrupt) / 2; i < len(corrupt)/2+16; i++ {
		corrupt[i] ^= 0x55
	}
	truncated := compressed[:len(compressed)*2/3]
	for name, data := range map[string][]byte{"corrupt": corrupt, "truncated": truncated} {
		t.Run(name, func(t *testing.T) {
			_, err := readClaims(t, writeFile(t, "claims.csv.gz", data), Options{BatchSize: 100})
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "claims.csv.gz: row ") {
				t.Errorf("err = %v, want ErrCorrupt naming file and row", err)
			}
		})
	}
}

func TestClaimsRowTooLong(t *testing.T) {
	data := "claim_id,line_no,member_id,service_date,benefit_code,country,currency,billed_amount\n" +
		"C1,1,M1,2024-01-05,HOSPITAL_ACCOMMODATION,FR,EUR,1\n" +
		"C2,\"1,M1,2024-01-05,HOSPITAL_ACCOMMODATION,FR,EUR,1\n" + strings.Repeat("C3,1,M1,2024-01-05,HOSPITAL_ACCOMMODATION,FR,EUR,1\n", 20000)
	_, err := readClaims(t, writeFile(t, "claims.csv", []byte(data)), Options{MaxRowBytes: 100 << 10})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "claims.csv: row 2: record longer than 102400 bytes") {
		t.Errorf("err = %v", err)
	}
}

func TestClaimsBatches(t *testing.T) {
	const batch = 100
	n := batch*2 + 3
	res, err := readClaims(t, writeFile(t, "claims.csv", manyRows(n)), Options{BatchSize: batch})
	if err != nil {
		t.Fatal(err)
	}
	if res.batches != 3 || len(res.lines) != n || res.rows != int64(n) {
		t.Fatalf("%d batches, %d lines, %d rows; want 3, %d, %d", res.batches, len(res.lines), res.rows, n, n)
	}
	for i, l := range res.lines {
		if want := fmt.Sprintf("C%d", i+1); l.ClaimID != want || l.Row != int64(i+1) {
			t.Fatalf("line %d is %s row %d", i, l.ClaimID, l.Row)
		}
	}
}

// TestClaimsLinesOutliveBatch checks that lines kept from a batch are not
// changed by later batches.
func TestClaimsLinesOutliveBatch(t *testing.T) {
	r, err := OpenClaims(writeFile(t, "claims.csv", manyRows(50)), 0, plan, Options{BatchSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var kept []claim.Line
	for r.Next() {
		kept = append(kept, r.Lines()...)
	}
	for i, l := range kept {
		if want := fmt.Sprintf("C%d", i+1); l.ClaimID != want || l.MemberID != fmt.Sprintf("M%d", (i+1)%100) {
			t.Fatalf("kept line %d is %+v", i, l)
		}
	}
	if r.Next() || r.Err() != nil {
		t.Errorf("Next after the end = true or Err = %v", r.Err())
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestClaimsWideRowsDetached checks that a line from a row with a lot of
// unused text does not keep that text alive: its strings are copied out of
// the record (ClaimID and MemberID then sit side by side in one new string).
func TestClaimsWideRowsDetached(t *testing.T) {
	header := "claim_id,line_no,member_id,service_date,benefit_code,country,currency,billed_amount,diagnosis_code,note\n"
	narrow := "C1,1,M1,2024-01-05,HOSPITAL_ACCOMMODATION,FR,EUR,1,c50.1,short\n"
	wide := "C2,1,M2,2024-01-05,HOSPITAL_ACCOMMODATION,fr,EUR,1,c50.1," + strings.Repeat("x", 1000) + "\n"
	res, err := readClaims(t, writeFile(t, "claims.csv", []byte(header+narrow+wide)), Options{})
	if err != nil || len(res.lines) != 2 {
		t.Fatalf("err %v, %d lines", err, len(res.lines))
	}
	adjacent := func(l claim.Line) bool {
		return unsafe.StringData(l.MemberID) == (*byte)(unsafe.Add(unsafe.Pointer(unsafe.StringData(l.ClaimID)), len(l.ClaimID)))
	}
	if n := res.lines[0]; adjacent(n) {
		t.Errorf("narrow line was copied out of its record")
	}
	w := res.lines[1]
	if !adjacent(w) {
		t.Errorf("wide line still points into its record")
	}
	if w.ClaimID != "C2" || w.MemberID != "M2" || w.Diagnosis != "c50.1" || w.Condition != "C50" || w.Country != "FR" || w.BenefitCode != "HOSPITAL_ACCOMMODATION" {
		t.Errorf("wide line %+v", w)
	}
}

// TestClaimsRejectAccepted checks Reject and Raw: a caller's run-level check
// turns an accepted line into an exception carrying the row's identifiers as
// written and its raw text (Options.KeepRaw), like the reader's own.
func TestClaimsRejectAccepted(t *testing.T) {
	rows := []string{
		csvRow(map[string]string{"member_id": "M1"}),
		csvRow(map[string]string{"member_id": "GHOST", "claim_id": "C2", "line_no": "+02"}),
		csvRow(map[string]string{"member_id": "GHOST", "units": "0"}),
	}
	path := writeFile(t, "claims.csv", csvFile(rows...))
	for _, keepRaw := range []bool{true, false} {
		r, err := OpenClaims(path, 3, plan, Options{KeepRaw: keepRaw})
		if err != nil {
			t.Fatal(err)
		}
		if !r.Next() {
			t.Fatal(r.Err())
		}
		if len(r.Lines()) != 2 || len(r.Exceptions()) != 1 {
			t.Fatalf("%d lines, %d exceptions", len(r.Lines()), len(r.Exceptions()))
		}
		wantRaw := ""
		if keepRaw {
			wantRaw = rows[1]
		}
		if got := r.Raw(1); got != wantRaw {
			t.Errorf("KeepRaw %v: Raw(1) = %q, want %q", keepRaw, got, wantRaw)
		}
		got := r.Reject(1, claim.UnknownMember, "member_id", "member_id is not in the members file")
		want := claim.Exception{Source: "claims.csv", SourceNo: 3, Row: 2, ClaimID: "C2", LineNo: "+02", MemberID: "GHOST",
			Code: claim.UnknownMember, Field: "member_id", Message: "member_id is not in the members file", Raw: wantRaw}
		if got != want {
			t.Errorf("KeepRaw %v: Reject\n got %+v\nwant %+v", keepRaw, got, want)
		}
		if x := r.Exceptions()[0]; x.Row != 3 || x.Code != claim.InvalidValue || x.Field != "units" {
			t.Errorf("reader's own exception %+v", x)
		}
		r.Close()
	}
}

// TestDiagnosisSystems: the condition of SPEC 6 per declared system, and a
// code malformed for its system is INVALID_VALUE. Before SPEC version 2 every
// code was read as ICD-10: all-digit ICD-9 codes were rejected, and V0481
// (ICD-9) became the ICD-10 category V04.
func TestDiagnosisSystems(t *testing.T) {
	tests := []struct {
		system, code, condition, invalidField string
	}{
		{"", "C50.9", "C50", ""},
		{"ICD10", "c509", "C50", ""},
		{"ICD10", "250.01", "", "diagnosis_code"},
		{"ICD9", "250.01", "ICD9:250", ""},
		{"ICD9", "25001", "ICD9:250", ""},
		{"ICD9", "4019", "ICD9:401", ""},
		{"ICD9", "V0481", "ICD9:V04", ""},
		{"ICD9", "v04.81", "ICD9:V04", ""},
		{"ICD9", "E8809", "ICD9:E880", ""},
		{"ICD9", "E880.9", "ICD9:E880", ""},
		{"ICD9", "E880.91", "", "diagnosis_code"},
		{"ICD9", "25", "", "diagnosis_code"},
		{"ICD9", "250.", "", "diagnosis_code"},
		{"ICD9", "C50.9", "", "diagnosis_code"},
		{"SNOMED", "195967001", "SNOMED:195967001", ""},
		{"SNOMED", "12345", "", "diagnosis_code"},
		{"SNOMED", "0195967001", "", "diagnosis_code"},
		{"OTHER", "LOCAL-7", "OTHER:LOCAL-7", ""},
		{"OTHER", "a b", "", "diagnosis_code"},
		{"icd10", "C50.9", "", "diagnosis_system"},
		{"ICD11", "", "", "diagnosis_system"},
	}
	for _, tc := range tests {
		row := csvRow(map[string]string{"diagnosis_code": tc.code})
		data := strings.Join(claimsHeader, ",") + ",diagnosis_system\n" + row + "," + tc.system + "\n"
		res, err := readClaims(t, writeFile(t, "claims.csv", []byte(data)), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if tc.invalidField != "" {
			if len(res.exceptions) != 1 || res.exceptions[0].Code != claim.InvalidValue || res.exceptions[0].Field != tc.invalidField {
				t.Errorf("%s %q: exceptions %+v, want INVALID_VALUE on %s", tc.system, tc.code, res.exceptions, tc.invalidField)
			}
			continue
		}
		if len(res.lines) != 1 || res.lines[0].Condition != tc.condition {
			t.Errorf("%s %q: lines %+v exceptions %+v, want condition %q", tc.system, tc.code, res.lines, res.exceptions, tc.condition)
		}
	}
}

// TestClaimsDates covers issue 12, finding 7 ("service dates in 9999,
// received before service, year 0001: all accepted") and the as-of date of
// finding 1 (a line received on 2099-01-01 moved the state's as-of date):
// every date within 1900-01-01..2199-12-31, received_date on or after
// service_date and on or before the run's as-of date (Options.AsOf).
func TestClaimsDates(t *testing.T) {
	asOf := mustDate(t, "2025-05-02")
	tests := []struct {
		name    string
		changes map[string]string
		field   string
		message string // "" = accepted
	}{
		{"service in 9999", map[string]string{"service_date": "9999-01-01", "received_date": "2025-01-01"}, "service_date", "service_date 9999-01-01 is outside 1900-01-01..2199-12-31"},
		{"service in year 1", map[string]string{"service_date": "0001-01-01"}, "service_date", "service_date 0001-01-01 is outside 1900-01-01..2199-12-31"},
		{"end in 9999", map[string]string{"service_end_date": "9999-12-31"}, "service_end_date", "service_end_date 9999-12-31 is outside 1900-01-01..2199-12-31"},
		{"received in 1899", map[string]string{"received_date": "1899-12-31"}, "received_date", "received_date 1899-12-31 is outside 1900-01-01..2199-12-31"},
		{"received before service", map[string]string{"service_date": "2024-01-05", "received_date": "2024-01-04"}, "received_date", "received_date 2024-01-04 is before service_date 2024-01-05"},
		{"received after as-of", map[string]string{"received_date": "2099-01-01"}, "received_date", "received_date 2099-01-01 is after the run's as-of date 2025-05-02"},
		{"served after as-of, not received", map[string]string{"service_date": "2025-05-03"}, "service_date", "service_date 2025-05-03 is after the run's as-of date 2025-05-02 (received_date is empty, so it is the service date)"},
		{"received on the as-of date", map[string]string{"received_date": "2025-05-02"}, "", ""},
		{"received on the service date", map[string]string{"received_date": "2024-01-05"}, "", ""},
		{"first and last dates", map[string]string{"service_date": "1900-01-01", "service_end_date": "2199-12-31", "received_date": "2025-05-02"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := csvRow(tt.changes)
			res, err := readClaims(t, writeFile(t, "claims.csv", csvFile(line)), Options{AsOf: asOf})
			if err != nil {
				t.Fatal(err)
			}
			if tt.message == "" {
				if len(res.lines) != 1 {
					t.Fatalf("rejected: %+v", res.exceptions)
				}
				return
			}
			if len(res.exceptions) != 1 {
				t.Fatalf("got %d lines, %d exceptions; want 1 exception", len(res.lines), len(res.exceptions))
			}
			if x := res.exceptions[0]; x.Code != claim.InvalidValue || x.Field != tt.field || x.Message != tt.message {
				t.Errorf("got %s %s %q; want INVALID_VALUE %s %q", x.Code, x.Field, x.Message, tt.field, tt.message)
			}
		})
	}
	// Without an as-of date (the zero Options), only the range and the
	// order of the dates are checked.
	res, err := readClaims(t, writeFile(t, "claims.csv", csvFile(csvRow(map[string]string{"received_date": "2099-01-01"}))), Options{})
	if err != nil || len(res.lines) != 1 {
		t.Errorf("no as-of date: %d lines, %v", len(res.lines), err)
	}
}
