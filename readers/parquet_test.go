package readers

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/shopspring/decimal"
	"github.com/xitongsys/parquet-go/types"
	"github.com/xitongsys/parquet-go/writer"

	"claimsbatch/claim"
)

// fixtureColumns is the column order of the Parquet fixtures and of the CSV
// files they are compared with: not the SPEC order, with an unknown column.
var fixtureColumns = []string{
	"note", "claim_id", "line_no", "member_id", "service_date", "service_end_date", "received_date",
	"benefit_code", "diagnosis_code", "item_code", "country", "emergency", "trip_id",
	"provider_id", "payee", "currency", "billed_amount", "units",
}

// fixtureRows returns n claims rows as text ("" = null), good ones and bad
// ones whose bad value every Parquet type can hold.
func fixtureRows(n int) []map[string]string {
	rows := make([]map[string]string, n)
	for i := range rows {
		r := map[string]string{
			"claim_id": fmt.Sprintf("C%d", i/3), "line_no": strconv.Itoa(i%3 + 1), "member_id": fmt.Sprintf("M%d", i%4),
			"service_date": fmt.Sprintf("2024-%02d-%02d", i%12+1, i%28+1), "benefit_code": "HOSPITAL_ACCOMMODATION",
			"country": "FR", "currency": "EUR", "billed_amount": fmt.Sprintf("%d.%02d", 100+i, i%100),
		}
		switch i % 4 {
		case 0:
			r["emergency"], r["diagnosis_code"], r["provider_id"], r["units"] = "Y", "c50.9", "P1", "2"
		case 1:
			r["emergency"], r["country"], r["currency"], r["payee"], r["trip_id"] = "N", "us", "usd", "member", "T1"
			r["service_end_date"], r["received_date"] = r["service_date"], "2025-01-01"
		case 2:
			r["benefit_code"], r["item_code"], r["note"] = "CANCER_DEVICE", "WIG", `a, "quoted" note`
		}
		rows[i] = r
	}
	bad := []map[string]string{
		{"member_id": ""},
		{"service_date": "2024-03-05", "service_end_date": "2024-03-01"},
		{"benefit_code": "NOPE"},
		{"billed_amount": "-5.00"},
		{"units": "0"},
		{"benefit_code": "CANCER_DEVICE", "item_code": ""},
		{"payee": "nobody"},
		{"diagnosis_code": "9X", "note": "line\nbreak"},
		{"line_no": "0"},
	}
	for k, changes := range bad {
		for name, v := range changes {
			rows[3+2*k][name] = v
		}
	}
	return rows
}

// fixtureCSV renders rows as a CSV file with the given column order.
func fixtureCSV(columns []string, rows []map[string]string) []byte {
	var b []byte
	b = append(b, strings.Join(columns, ",")...)
	b = append(b, '\n')
	for _, r := range rows {
		for i, name := range columns {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendCSVField(b, r[name])
		}
		b = append(b, '\r', '\n')
	}
	return b
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func dateDays(t testing.TB, s string) int32 { return int32(mustDate(t, s)) }

func cents(t testing.TB, s string) int64 {
	m, err := claim.ParseMoney(s)
	if err != nil {
		t.Fatal(err)
	}
	return int64(m)
}

// xsClaim is the xitongsys/parquet-go schema of the fixture with the amount
// as DECIMAL(18,2) stored as INT64.
type xsClaim struct {
	Note           *string `parquet:"name=note, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	ClaimID        string  `parquet:"name=claim_id, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY"`
	LineNo         int32   `parquet:"name=line_no, type=INT32"`
	MemberID       *string `parquet:"name=member_id, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	ServiceDate    int32   `parquet:"name=service_date, type=INT32, convertedtype=DATE"`
	ServiceEndDate *int32  `parquet:"name=service_end_date, type=INT32, convertedtype=DATE, repetitiontype=OPTIONAL"`
	ReceivedDate   *string `parquet:"name=received_date, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	BenefitCode    string  `parquet:"name=benefit_code, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY"`
	DiagnosisCode  *string `parquet:"name=diagnosis_code, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	ItemCode       *string `parquet:"name=item_code, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	Country        string  `parquet:"name=country, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY"`
	Emergency      *bool   `parquet:"name=emergency, type=BOOLEAN, repetitiontype=OPTIONAL"`
	TripID         *string `parquet:"name=trip_id, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	ProviderID     *string `parquet:"name=provider_id, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	Payee          *string `parquet:"name=payee, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL, encoding=PLAIN_DICTIONARY"`
	Currency       string  `parquet:"name=currency, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY"`
	BilledAmount   int64   `parquet:"name=billed_amount, type=INT64, convertedtype=DECIMAL, scale=2, precision=18"`
	Units          *int64  `parquet:"name=units, type=INT64, repetitiontype=OPTIONAL"`
}

// xsClaimFLBA is xsClaim with the amount as DECIMAL(18,2) stored as
// FIXED_LEN_BYTE_ARRAY and units as INT32.
type xsClaimFLBA struct {
	Note           *string `parquet:"name=note, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	ClaimID        string  `parquet:"name=claim_id, type=BYTE_ARRAY, convertedtype=UTF8"`
	LineNo         int32   `parquet:"name=line_no, type=INT32"`
	MemberID       *string `parquet:"name=member_id, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL, encoding=PLAIN_DICTIONARY"`
	ServiceDate    int32   `parquet:"name=service_date, type=INT32, convertedtype=DATE"`
	ServiceEndDate *int32  `parquet:"name=service_end_date, type=INT32, convertedtype=DATE, repetitiontype=OPTIONAL"`
	ReceivedDate   *int32  `parquet:"name=received_date, type=INT32, convertedtype=DATE, repetitiontype=OPTIONAL"`
	BenefitCode    string  `parquet:"name=benefit_code, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY"`
	DiagnosisCode  *string `parquet:"name=diagnosis_code, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	ItemCode       *string `parquet:"name=item_code, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	Country        string  `parquet:"name=country, type=BYTE_ARRAY, convertedtype=UTF8"`
	Emergency      *string `parquet:"name=emergency, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	TripID         *string `parquet:"name=trip_id, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	ProviderID     *string `parquet:"name=provider_id, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	Payee          *string `parquet:"name=payee, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	Currency       string  `parquet:"name=currency, type=BYTE_ARRAY, convertedtype=UTF8"`
	BilledAmount   string  `parquet:"name=billed_amount, type=FIXED_LEN_BYTE_ARRAY, convertedtype=DECIMAL, scale=2, precision=18, length=8"`
	Units          *int32  `parquet:"name=units, type=INT32, repetitiontype=OPTIONAL"`
}

// writeXitongsys writes rows with the xitongsys/parquet-go writer, a row
// group every rowGroup rows.
func writeXitongsys(t testing.TB, rows []map[string]string, flba bool, rowGroup int) []byte {
	t.Helper()
	var buf bytes.Buffer
	var schema any = new(xsClaim)
	if flba {
		schema = new(xsClaimFLBA)
	}
	pw, err := writer.NewParquetWriterFromWriter(&buf, schema, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		var obj any
		lineNo, _ := strconv.Atoi(r["line_no"])
		var end *int32
		if s := r["service_end_date"]; s != "" {
			d := dateDays(t, s)
			end = &d
		}
		if !flba {
			var emergency *bool
			if s := r["emergency"]; s != "" {
				e := s == "Y"
				emergency = &e
			}
			var units *int64
			if s := r["units"]; s != "" {
				u, _ := strconv.ParseInt(s, 10, 64)
				units = &u
			}
			obj = xsClaim{
				Note: optString(r["note"]), ClaimID: r["claim_id"], LineNo: int32(lineNo), MemberID: optString(r["member_id"]),
				ServiceDate: dateDays(t, r["service_date"]), ServiceEndDate: end, ReceivedDate: optString(r["received_date"]),
				BenefitCode: r["benefit_code"], DiagnosisCode: optString(r["diagnosis_code"]), ItemCode: optString(r["item_code"]),
				Country: r["country"], Emergency: emergency, TripID: optString(r["trip_id"]), ProviderID: optString(r["provider_id"]),
				Payee: optString(r["payee"]), Currency: r["currency"], BilledAmount: cents(t, r["billed_amount"]), Units: units,
			}
		} else {
			var received *int32
			if s := r["received_date"]; s != "" {
				d := dateDays(t, s)
				received = &d
			}
			var units *int32
			if s := r["units"]; s != "" {
				u, _ := strconv.Atoi(s)
				u32 := int32(u)
				units = &u32
			}
			obj = xsClaimFLBA{
				Note: optString(r["note"]), ClaimID: r["claim_id"], LineNo: int32(lineNo), MemberID: optString(r["member_id"]),
				ServiceDate: dateDays(t, r["service_date"]), ServiceEndDate: end, ReceivedDate: received,
				BenefitCode: r["benefit_code"], DiagnosisCode: optString(r["diagnosis_code"]), ItemCode: optString(r["item_code"]),
				Country: r["country"], Emergency: optString(r["emergency"]), TripID: optString(r["trip_id"]), ProviderID: optString(r["provider_id"]),
				Payee: optString(r["payee"]), Currency: r["currency"],
				BilledAmount: types.StrIntToBinary(strconv.FormatInt(cents(t, r["billed_amount"]), 10), "BigEndian", 8, true),
				Units:        units,
			}
		}
		if err := pw.Write(obj); err != nil {
			t.Fatal(err)
		}
		if (i+1)%rowGroup == 0 {
			if err := pw.Flush(true); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := pw.WriteStop(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// arrowColumn is one column of a fixture written with arrow-go.
type arrowColumn struct {
	name string
	typ  arrow.DataType
}

// writeArrow writes rows with arrow-go's pqarrow writer: text values are
// converted to each column's type ("" = null).
func writeArrow(t testing.TB, cols []arrowColumn, rows []map[string]string, rowGroup int64) []byte {
	t.Helper()
	return writeArrowWith(t, cols, rows, rowGroup, parquet.WithDictionaryDefault(true), parquet.WithCompression(compress.Codecs.Snappy))
}

// writeArrowWith is writeArrow with other writer properties.
func writeArrowWith(t testing.TB, cols []arrowColumn, rows []map[string]string, rowGroup int64, props ...parquet.WriterProperty) []byte {
	t.Helper()
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: c.name, Type: c.typ, Nullable: true}
	}
	schema := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i, c := range cols {
		for _, r := range rows {
			appendText(t, b.Field(i), r[c.name])
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	var buf bytes.Buffer
	wp := parquet.NewWriterProperties(append([]parquet.WriterProperty{parquet.WithMaxRowGroupLength(rowGroup)}, props...)...)
	w, err := pqarrow.NewFileWriter(schema, &buf, wp, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// unscaled returns the decimal text v times 10^scale as an integer.
func unscaled(t testing.TB, v string, scale int32) *big.Int {
	d, err := decimal.NewFromString(v)
	if err != nil {
		t.Fatal(err)
	}
	return d.Shift(scale).BigInt()
}

func appendText(t testing.TB, b array.Builder, v string) {
	t.Helper()
	if v == "" {
		b.AppendNull()
		return
	}
	var err error
	switch b := b.(type) {
	case *array.StringBuilder:
		b.Append(v)
	case *array.LargeStringBuilder:
		b.Append(v)
	case *array.BinaryBuilder:
		b.AppendString(v)
	case *array.BinaryDictionaryBuilder:
		err = b.AppendString(v)
	case *array.Int32Builder:
		n, e := strconv.ParseInt(v, 10, 32)
		b.Append(int32(n))
		err = e
	case *array.Int64Builder:
		n, e := strconv.ParseInt(v, 10, 64)
		b.Append(n)
		err = e
	case *array.Date32Builder:
		b.Append(arrow.Date32(dateDays(t, v)))
	case *array.BooleanBuilder:
		b.Append(v == "Y")
	case *array.Float32Builder:
		f, e := strconv.ParseFloat(v, 32)
		b.Append(float32(f))
		err = e
	case *array.Float64Builder:
		f, e := strconv.ParseFloat(v, 64)
		b.Append(f)
		err = e
	case *array.Decimal128Builder:
		b.Append(decimal128.FromBigInt(unscaled(t, v, b.Type().(*arrow.Decimal128Type).Scale)))
	case *array.Decimal256Builder:
		b.Append(decimal256.FromBigInt(unscaled(t, v, b.Type().(*arrow.Decimal256Type).Scale)))
	default:
		t.Fatalf("no test conversion for %T", b)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// withoutSource blanks the exceptions' Source (the file names differ).
func withoutSource(es []claim.Exception) []claim.Exception {
	out := make([]claim.Exception, len(es))
	for i, e := range es {
		e.Source = ""
		out[i] = e
	}
	return out
}

func sameClaims(t *testing.T, got, want claimsResult) {
	t.Helper()
	if len(want.lines) == 0 || len(want.exceptions) == 0 {
		t.Fatal("the reference read found no lines or no exceptions")
	}
	if !reflect.DeepEqual(got.lines, want.lines) {
		for i := range min(len(got.lines), len(want.lines)) {
			if got.lines[i] != want.lines[i] {
				t.Fatalf("line %d\n got %+v\nwant %+v", i, got.lines[i], want.lines[i])
			}
		}
		t.Fatalf("%d lines, want %d", len(got.lines), len(want.lines))
	}
	g, w := withoutSource(got.exceptions), withoutSource(want.exceptions)
	if !reflect.DeepEqual(g, w) {
		for i := range min(len(g), len(w)) {
			if g[i] != w[i] {
				t.Fatalf("exception %d\n got %+v\nwant %+v", i, g[i], w[i])
			}
		}
		t.Fatalf("%d exceptions, want %d", len(g), len(w))
	}
	if got.rows != want.rows {
		t.Fatalf("%d rows, want %d", got.rows, want.rows)
	}
}

// TestParquetMatchesCSV reads the same claims from CSV and from Parquet files
// written by two independent implementations with different physical types,
// and expects the same lines and exceptions (raw text included).
func TestParquetMatchesCSV(t *testing.T) {
	rows := fixtureRows(23)
	want, err := readClaims(t, writeFile(t, "claims.csv", fixtureCSV(fixtureColumns, rows)), Options{BatchSize: 6})
	if err != nil {
		t.Fatal(err)
	}
	if len(want.exceptions) != 9 {
		t.Fatalf("the CSV reference has %d exceptions, want 9: %+v", len(want.exceptions), want.exceptions)
	}

	t.Run("xitongsys DECIMAL as INT64", func(t *testing.T) {
		data := writeXitongsys(t, rows, false, 5)
		checkLayout(t, data, 5, "claim_id")
		got, err := readClaims(t, writeFile(t, "claims.parquet", data), Options{BatchSize: 4})
		if err != nil {
			t.Fatal(err)
		}
		sameClaims(t, got, want)
	})
	t.Run("xitongsys DECIMAL as FIXED_LEN_BYTE_ARRAY", func(t *testing.T) {
		data := writeXitongsys(t, rows, true, 7)
		checkLayout(t, data, 4, "member_id")
		got, err := readClaims(t, writeFile(t, "claims.parquet", data), Options{BatchSize: 100})
		if err != nil {
			t.Fatal(err)
		}
		sameClaims(t, got, want)
	})

	// arrow-go, columns in another order, dictionary-typed strings.
	dict := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int16, ValueType: arrow.BinaryTypes.String}
	types := map[string]arrow.DataType{
		"note": arrow.BinaryTypes.LargeString, "claim_id": dict, "line_no": arrow.PrimitiveTypes.Int64,
		"member_id": arrow.BinaryTypes.String, "service_date": arrow.FixedWidthTypes.Date32,
		"service_end_date": arrow.FixedWidthTypes.Date32, "received_date": arrow.BinaryTypes.String,
		"benefit_code": dict, "diagnosis_code": arrow.BinaryTypes.String, "item_code": arrow.BinaryTypes.Binary,
		"country": dict, "emergency": arrow.FixedWidthTypes.Boolean, "trip_id": arrow.BinaryTypes.String,
		"provider_id": arrow.BinaryTypes.String, "payee": arrow.BinaryTypes.String, "currency": dict,
		"billed_amount": &arrow.Decimal128Type{Precision: 12, Scale: 2}, "units": arrow.PrimitiveTypes.Int32,
	}
	var reversed []string
	var cols []arrowColumn
	for i := len(fixtureColumns) - 1; i >= 0; i-- {
		name := fixtureColumns[i]
		reversed = append(reversed, name)
		cols = append(cols, arrowColumn{name, types[name]})
	}
	t.Run("arrow-go", func(t *testing.T) {
		want, err := readClaims(t, writeFile(t, "claims.csv", fixtureCSV(reversed, rows)), Options{})
		if err != nil {
			t.Fatal(err)
		}
		data := writeArrow(t, cols, rows, 6)
		checkLayout(t, data, 4, "currency")
		got, err := readClaims(t, writeFile(t, "claims.parquet", data), Options{BatchSize: 5})
		if err != nil {
			t.Fatal(err)
		}
		sameClaims(t, got, want)
	})
}

// checkLayout checks that a fixture really has the row groups and the
// dictionary-encoded column the test means to cover.
func checkLayout(t *testing.T, data []byte, rowGroups int, dictColumn string) {
	t.Helper()
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if n := pf.NumRowGroups(); n != rowGroups {
		t.Errorf("fixture has %d row groups, want %d", n, rowGroups)
	}
	md := pf.MetaData().RowGroup(0)
	col := md.Schema.ColumnIndexByName(dictColumn)
	chunk, err := md.ColumnChunk(col)
	if err != nil {
		t.Fatal(err)
	}
	if !chunk.HasDictionaryPage() {
		t.Errorf("column %s is not dictionary-encoded", dictColumn)
	}
}

// oneRowParquet writes one claims row whose column name has type typ and
// text value; the other required columns are good strings.
func oneRowParquet(t testing.TB, name string, typ arrow.DataType, value string) []byte {
	row := map[string]string{
		"claim_id": "C1", "line_no": "1", "member_id": "M1", "service_date": "2024-01-05",
		"benefit_code": "HOSPITAL_ACCOMMODATION", "country": "FR", "currency": "EUR", "billed_amount": "10.00",
	}
	row[name] = value
	var cols []arrowColumn
	for _, c := range claimColumns {
		if c.required || c.name == name {
			typ2 := arrow.DataType(arrow.BinaryTypes.String)
			if c.name == name {
				typ2 = typ
			}
			cols = append(cols, arrowColumn{c.name, typ2})
		}
	}
	return writeArrow(t, cols, []map[string]string{row}, 10)
}

func TestParquetValueTypes(t *testing.T) {
	dec := func(p, s int32) arrow.DataType { return &arrow.Decimal128Type{Precision: p, Scale: s} }
	tests := []struct {
		name    string
		column  string
		typ     arrow.DataType
		value   string
		check   func(claim.Line) bool // for good rows
		message string                // for bad rows
	}{
		{"decimal scale 3 trailing zero", "billed_amount", dec(10, 3), "1.500", func(l claim.Line) bool { return l.Billed == 150 }, ""},
		{"decimal scale 3", "billed_amount", dec(10, 3), "1.005", nil, "billed_amount 1.005 has more than 2 decimals"},
		{"decimal scale 0", "billed_amount", dec(10, 0), "12", func(l claim.Line) bool { return l.Billed == 1200 }, ""},
		{"decimal small scale 4", "billed_amount", dec(10, 4), "0.05", func(l claim.Line) bool { return l.Billed == 5 }, ""},
		{"decimal beyond int64", "billed_amount", dec(38, 2), "123456789012345678901.25", nil, "billed_amount 123456789012345678901.25 is too large"},
		{"decimal negative", "billed_amount", dec(10, 2), "-0.50", nil, "billed_amount -0.50 is negative"},
		{"decimal256", "billed_amount", &arrow.Decimal256Type{Precision: 40, Scale: 2}, "123.45", func(l claim.Line) bool { return l.Billed == 12345 }, ""},
		{"double exact", "billed_amount", arrow.PrimitiveTypes.Float64, "12.25", func(l claim.Line) bool { return l.Billed == 1225 }, ""},
		{"double one decimal", "billed_amount", arrow.PrimitiveTypes.Float64, "0.1", func(l claim.Line) bool { return l.Billed == 10 }, ""},
		{"double not 2 decimals", "billed_amount", arrow.PrimitiveTypes.Float64, "0.30000000000000004", nil, "billed_amount 0.30000000000000004 has more than 2 decimals"},
		{"double three decimals", "billed_amount", arrow.PrimitiveTypes.Float64, "1.005", nil, "billed_amount 1.005 has more than 2 decimals"},
		{"float", "billed_amount", arrow.PrimitiveTypes.Float32, "0.1", func(l claim.Line) bool { return l.Billed == 10 }, ""},
		{"integer amount", "billed_amount", arrow.PrimitiveTypes.Int64, "12", func(l claim.Line) bool { return l.Billed == 1200 }, ""},
		{"string amount", "billed_amount", arrow.BinaryTypes.String, " 12.5 ", func(l claim.Line) bool { return l.Billed == 1250 }, ""},
		{"int32 line_no", "line_no", arrow.PrimitiveTypes.Int32, "7", func(l claim.Line) bool { return l.LineNo == 7 }, ""},
		{"int64 line_no too big", "line_no", arrow.PrimitiveTypes.Int64, "4294967296", nil, "line_no 4294967296 is not an integer from 1 to 2147483647"},
		{"integer claim_id", "claim_id", arrow.PrimitiveTypes.Int64, "987", func(l claim.Line) bool { return l.ClaimID == "987" }, ""},
		{"string date", "service_date", arrow.BinaryTypes.String, "2024-02-29", func(l claim.Line) bool { return l.ServiceDate.String() == "2024-02-29" }, ""},
		{"bad string date", "service_date", arrow.BinaryTypes.String, "2023-02-29", nil, "service_date 2023-02-29 is not a valid YYYY-MM-DD date"},
		{"DATE", "service_date", arrow.FixedWidthTypes.Date32, "1999-12-31", func(l claim.Line) bool { return l.ServiceDate.String() == "1999-12-31" }, ""},
		{"bool emergency", "emergency", arrow.FixedWidthTypes.Boolean, "Y", func(l claim.Line) bool { return l.Emergency }, ""},
		{"string emergency", "emergency", arrow.BinaryTypes.String, "N", func(l claim.Line) bool { return !l.Emergency }, ""},
		{"string units", "units", arrow.BinaryTypes.String, "x", nil, "units x is not an integer from 1 to 2147483647"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readClaims(t, writeFile(t, "c.parquet", oneRowParquet(t, tt.column, tt.typ, tt.value)), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				if len(got.lines) != 1 || !tt.check(got.lines[0]) {
					t.Errorf("lines %+v, exceptions %+v", got.lines, got.exceptions)
				}
				return
			}
			if len(got.exceptions) != 1 || got.exceptions[0].Message != tt.message || got.exceptions[0].Field != tt.column || got.exceptions[0].Code != claim.InvalidValue {
				t.Errorf("exceptions %+v, want INVALID_VALUE %q", got.exceptions, tt.message)
			}
		})
	}
}

func TestParquetNaN(t *testing.T) {
	var cols []arrowColumn
	for _, c := range claimColumns {
		if c.required {
			typ := arrow.DataType(arrow.BinaryTypes.String)
			if c.name == "billed_amount" {
				typ = arrow.PrimitiveTypes.Float64
			}
			cols = append(cols, arrowColumn{c.name, typ})
		}
	}
	// Build the file by hand: appendText cannot write NaN or infinities.
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: c.name, Type: c.typ}
	}
	schema := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	values := []float64{math.NaN(), math.Inf(1), 1e300}
	for i, c := range cols {
		for range values {
			if c.name != "billed_amount" {
				b.Field(i).(*array.StringBuilder).Append(map[string]string{"claim_id": "C1", "line_no": "1", "member_id": "M1", "service_date": "2024-01-05", "benefit_code": "HOSPITAL_ACCOMMODATION", "country": "FR", "currency": "EUR"}[c.name])
			}
		}
		if c.name == "billed_amount" {
			b.Field(i).(*array.Float64Builder).AppendValues(values, nil)
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	var buf bytes.Buffer
	w, err := pqarrow.NewFileWriter(schema, &buf, nil, pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	w.Write(rec)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := readClaims(t, writeFile(t, "c.parquet", buf.Bytes()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var messages []string
	for _, e := range got.exceptions {
		messages = append(messages, e.Message)
	}
	want := []string{"billed_amount NaN is not a decimal amount", "billed_amount +Inf is not a decimal amount",
		"billed_amount " + shorten(strconv.FormatFloat(1e300, 'f', -1, 64)) + " is too large"}
	if !reflect.DeepEqual(messages, want) {
		t.Errorf("messages %q\nwant %q", messages, want)
	}
}

func TestParquetUnsupported(t *testing.T) {
	tests := []struct {
		name   string
		column string
		typ    arrow.DataType
		value  string
	}{
		{"timestamp date", "service_date", arrow.FixedWidthTypes.Timestamp_ms, ""},
		{"bool amount", "billed_amount", arrow.FixedWidthTypes.Boolean, "Y"},
		{"double line_no", "line_no", arrow.PrimitiveTypes.Float64, "1"},
		{"date as amount", "billed_amount", arrow.FixedWidthTypes.Date32, "2024-01-01"},
		{"int date", "service_date", arrow.PrimitiveTypes.Int32, "20240101"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readClaims(t, writeFile(t, "c.parquet", oneRowParquet(t, tt.column, tt.typ, tt.value)), Options{})
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "c.parquet: column "+tt.column+": Parquet type") {
				t.Errorf("err = %v, want ErrFormat naming the file and column", err)
			}
		})
	}
	t.Run("nested column", func(t *testing.T) {
		st := arrow.StructOf(arrow.Field{Name: "x", Type: arrow.BinaryTypes.String, Nullable: true})
		fields := []arrow.Field{{Name: "claim_id", Type: st, Nullable: true}}
		schema := arrow.NewSchema(fields, nil)
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		b.Field(0).AppendNull()
		rec := b.NewRecordBatch()
		var buf bytes.Buffer
		w, err := pqarrow.NewFileWriter(schema, &buf, nil, pqarrow.DefaultWriterProps())
		if err != nil {
			t.Fatal(err)
		}
		w.Write(rec)
		w.Close()
		_, err = readClaims(t, writeFile(t, "c.parquet", buf.Bytes()), Options{})
		if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "column claim_id: nested") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("missing column", func(t *testing.T) {
		data := writeArrow(t, []arrowColumn{{"claim_id", arrow.BinaryTypes.String}}, []map[string]string{{"claim_id": "C1"}}, 10)
		_, err := readClaims(t, writeFile(t, "c.parquet", data), Options{})
		if !errors.Is(err, ErrMissingColumn) || !strings.Contains(err.Error(), "c.parquet: missing required columns line_no, member_id,") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestParquetBroken(t *testing.T) {
	rows := fixtureRows(2000)
	data := writeArrow(t, []arrowColumn{
		{"claim_id", arrow.BinaryTypes.String}, {"line_no", arrow.PrimitiveTypes.Int64}, {"member_id", arrow.BinaryTypes.String},
		{"service_date", arrow.FixedWidthTypes.Date32}, {"benefit_code", arrow.BinaryTypes.String}, {"country", arrow.BinaryTypes.String},
		{"currency", arrow.BinaryTypes.String}, {"billed_amount", &arrow.Decimal128Type{Precision: 12, Scale: 2}},
	}, rows, 500)
	t.Run("truncated", func(t *testing.T) {
		_, err := readClaims(t, writeFile(t, "c.parquet", data[:len(data)-100]), Options{})
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "c.parquet: ") {
			t.Errorf("err = %v, want ErrCorrupt", err)
		}
	})
	t.Run("corrupt pages", func(t *testing.T) {
		corrupt := bytes.Clone(data)
		// Overwrite the middle of the data pages (the footer stays intact).
		for i := len(corrupt) / 3; i < len(corrupt)/2; i++ {
			corrupt[i] = 0xff
		}
		_, err := readClaims(t, writeFile(t, "c.parquet", corrupt), Options{BatchSize: 100})
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "c.parquet: row ") {
			t.Errorf("err = %v, want ErrCorrupt naming the row", err)
		}
	})
}

func TestParquetNoRows(t *testing.T) {
	var cols []arrowColumn
	for _, c := range claimColumns {
		cols = append(cols, arrowColumn{c.name, arrow.BinaryTypes.String})
	}
	got, err := readClaims(t, writeFile(t, "c.parquet", writeArrow(t, cols, nil, 10)), Options{})
	if err != nil || len(got.lines) != 0 || len(got.exceptions) != 0 || got.rows != 0 || got.batches != 0 {
		t.Errorf("err %v, result %+v", err, got)
	}
}
