package main

import (
	"bytes"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"testing"

	"github.com/shopspring/decimal"
	xparquet "github.com/xitongsys/parquet-go/parquet"
	xreader "github.com/xitongsys/parquet-go/reader"
	xsource "github.com/xitongsys/parquet-go/source"
	"github.com/xitongsys/parquet-go/types"
	"github.com/xitongsys/parquet-go/writer"

	"claimsbatch/claim"
)

// Parquet end to end, checked with github.com/xitongsys/parquet-go, an
// implementation independent of the arrow-go library the product uses: the
// outputs read back with it, and inputs written with it.

// memFile is a read-only xitongsys source.ParquetFile over a byte slice.
type memFile struct {
	*bytes.Reader
	data []byte
}

func newMemFile(data []byte) *memFile { return &memFile{bytes.NewReader(data), data} }

func (m *memFile) Open(string) (xsource.ParquetFile, error)   { return newMemFile(m.data), nil }
func (m *memFile) Create(string) (xsource.ParquetFile, error) { return nil, errors.New("read only") }
func (m *memFile) Write([]byte) (int, error)                  { return 0, errors.New("read only") }
func (m *memFile) Close() error                               { return nil }

// parquetFile is a flat Parquet file read with xitongsys: its schema, its
// footer and its values as text (see parquetText).
type parquetFile struct {
	columns []string
	schema  []*xparquet.SchemaElement // per column
	footer  *xparquet.FileMetaData
	rows    [][]string
	nulls   []int // per column
}

func readParquet(t *testing.T, path string) *parquetFile {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := xreader.NewParquetColumnReader(newMemFile(data), 1)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer pr.ReadStop()
	p := &parquetFile{footer: pr.Footer, schema: pr.Footer.GetSchema()[1:]} // [0] is the root
	n := pr.GetNumRows()
	p.rows = make([][]string, n)
	for i := range p.rows {
		p.rows[i] = make([]string, len(p.schema))
	}
	p.nulls = make([]int, len(p.schema))
	for c, el := range p.schema {
		if el.GetNumChildren() > 0 {
			t.Fatalf("%s: column %s is nested", path, el.GetName())
		}
		// The reader renames the footer's columns to Go names; ExName is the file's.
		p.columns = append(p.columns, pr.SchemaHandler.Infos[c+1].ExName)
		values, _, _, err := pr.ReadColumnByIndex(int64(c), n)
		if err != nil {
			t.Fatalf("%s: column %s: %v", path, el.GetName(), err)
		}
		if int64(len(values)) != n {
			t.Fatalf("%s: column %s: %d values, want %d", path, el.GetName(), len(values), n)
		}
		for r, v := range values {
			if v == nil {
				p.nulls[c]++
			}
			p.rows[r][c] = parquetText(t, el, v)
		}
	}
	return p
}

// parquetText is the text form of a value as the CSV files write it: ""
// for null, DATE as YYYY-MM-DD, DECIMAL as a plain decimal with scale
// places, integers in decimal, BOOLEAN as Y or N.
func parquetText(t *testing.T, el *xparquet.SchemaElement, v any) string {
	t.Helper()
	if v == nil {
		return ""
	}
	lt := el.GetLogicalType()
	isDate := (lt != nil && lt.IsSetDATE()) || (el.IsSetConvertedType() && el.GetConvertedType() == xparquet.ConvertedType_DATE)
	isDecimal := (lt != nil && lt.IsSetDECIMAL()) || (el.IsSetConvertedType() && el.GetConvertedType() == xparquet.ConvertedType_DECIMAL)
	switch v := v.(type) {
	case int32:
		switch {
		case isDate:
			return claim.Date(v).String()
		case isDecimal:
			return decimalText(big.NewInt(int64(v)), el.GetScale())
		}
		return strconv.FormatInt(int64(v), 10)
	case int64:
		if isDecimal {
			return decimalText(big.NewInt(v), el.GetScale())
		}
		return strconv.FormatInt(v, 10)
	case string: // BYTE_ARRAY or FIXED_LEN_BYTE_ARRAY
		if isDecimal { // big-endian two's complement
			n := new(big.Int).SetBytes([]byte(v))
			if len(v) > 0 && v[0]&0x80 != 0 {
				n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(v))))
			}
			return decimalText(n, el.GetScale())
		}
		return v
	case bool:
		if v {
			return "Y"
		}
		return "N"
	}
	t.Fatalf("column %s: unexpected value %T", el.GetName(), v)
	return ""
}

// decimalText writes n / 10^scale as a plain decimal with scale places.
func decimalText(n *big.Int, scale int32) string {
	neg := n.Sign() < 0
	digits := new(big.Int).Abs(n).String()
	for len(digits) <= int(scale) {
		digits = "0" + digits
	}
	s := digits
	if scale > 0 {
		s = digits[:len(digits)-int(scale)] + "." + digits[len(digits)-int(scale):]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// parquetAsCSV turns the Parquet remittance, payments and exceptions of a
// run in dir into CSV files, with its manifest, in a new directory, for
// checkConservation.
func parquetAsCSV(t *testing.T, dir string) string {
	t.Helper()
	out := t.TempDir()
	for _, name := range []string{"remittance", "payments", "exceptions"} {
		p := readParquet(t, filepath.Join(dir, name+".parquet"))
		writeCSVFile(t, filepath.Join(out, name+".csv"), append([][]string{p.columns}, p.rows...))
	}
	m, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "manifest.json"), m, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// Column types of the Parquet outputs (SPEC 7): dates are DATE, amounts
// DECIMAL(18,2), counts integers, everything else UTF8.
const (
	colString = "UTF8"
	colDate   = "DATE"
	colAmount = "DECIMAL(18,2)"
	colRate   = "DECIMAL(38,18)" // fx_rate, nullable (issue 12, finding 9)
	colInt    = "integer"
)

func checkColumnType(t *testing.T, el *xparquet.SchemaElement, want string) {
	t.Helper()
	lt := el.GetLogicalType()
	conv := func(c xparquet.ConvertedType) bool { return el.IsSetConvertedType() && el.GetConvertedType() == c }
	var ok bool
	switch want {
	case colString:
		ok = el.GetType() == xparquet.Type_BYTE_ARRAY && conv(xparquet.ConvertedType_UTF8) && lt != nil && lt.IsSetSTRING()
	case colDate:
		ok = el.GetType() == xparquet.Type_INT32 && conv(xparquet.ConvertedType_DATE) && lt != nil && lt.IsSetDATE()
	case colAmount:
		ok = conv(xparquet.ConvertedType_DECIMAL) && el.GetPrecision() == 18 && el.GetScale() == 2 &&
			lt != nil && lt.IsSetDECIMAL() && lt.DECIMAL.Precision == 18 && lt.DECIMAL.Scale == 2
	case colRate:
		ok = el.GetType() == xparquet.Type_FIXED_LEN_BYTE_ARRAY && conv(xparquet.ConvertedType_DECIMAL) && el.GetPrecision() == 38 && el.GetScale() == 18 &&
			lt != nil && lt.IsSetDECIMAL() && el.GetRepetitionType() == xparquet.FieldRepetitionType_OPTIONAL
	case colInt:
		ok = (el.GetType() == xparquet.Type_INT32 || el.GetType() == xparquet.Type_INT64) &&
			!conv(xparquet.ConvertedType_DATE) && !conv(xparquet.ConvertedType_DECIMAL) && (lt == nil || !lt.IsSetDATE() && !lt.IsSetDECIMAL())
	}
	if !ok {
		t.Errorf("column %s: %v %v, converted type %v (set %v), logical type %v, precision %d, scale %d; want %s",
			el.GetName(), el.GetType(), el.GetRepetitionType(), el.GetConvertedType(), el.IsSetConvertedType(), lt, el.GetPrecision(), el.GetScale(), want)
	}
}

// TestParquetOutput runs the sample with --format parquet and reads the
// outputs back with xitongsys: the types are those of SPEC 7 and every value
// equals the CSV run's.
func TestParquetOutput(t *testing.T) {
	csvOut, pqOut := t.TempDir(), t.TempDir()
	runOK(t, sampleArgs(csvOut, "--run-id", "fixed")...)
	runOK(t, sampleArgs(pqOut, "--run-id", "fixed", "--format", "parquet")...)
	if got := dirNames(t, pqOut); !slices.Equal(got, []string{"exceptions.parquet", "manifest.json", "payments.parquet", "remittance.parquet", "report.html", "state.parquet"}) {
		t.Fatalf("published %v", got)
	}

	tables := []struct {
		name  string
		types map[string]string // the columns that are not UTF8
	}{
		{"remittance", map[string]string{
			"line_no": colInt, "policy_year_start": colDate, "service_date": colDate,
			"billed_amount": colAmount, "charge": colAmount, "deductible": colAmount, "coinsurance": colAmount,
			"not_covered": colAmount, "plan_paid": colAmount, "member_responsibility": colAmount,
			"fx_rate": colRate,
		}},
		{"payments", map[string]string{"line_count": colInt, "plan_paid": colAmount}},
		{"exceptions", map[string]string{"row": colInt}},
		{"state", map[string]string{"scope": colDate, "amount": colAmount, "count": colInt}},
	}
	for _, tc := range tables {
		t.Run(tc.name, func(t *testing.T) {
			got := readParquet(t, filepath.Join(pqOut, tc.name+".parquet"))
			want := csvRecords(t, filepath.Join(csvOut, tc.name+".csv"))
			if !slices.Equal(got.columns, want[0]) {
				t.Fatalf("columns %v, the CSV has %v", got.columns, want[0])
			}
			for c, el := range got.schema {
				typ := tc.types[got.columns[c]]
				if typ == "" {
					typ = colString
				}
				checkColumnType(t, el, typ)
			}
			if len(got.rows) != len(want)-1 || len(got.rows) == 0 {
				t.Fatalf("%d rows, the CSV has %d", len(got.rows), len(want)-1)
			}
			// The CSV writes a rate as the FX file does ("1.0523", "1"); the
			// Parquet DECIMAL(38,18) holds the same number.
			if c := slices.Index(got.columns, "fx_rate"); c >= 0 {
				for i, row := range got.rows {
					if a, b := row[c], want[i+1][c]; a != "" && b != "" && decimal.RequireFromString(a).Equal(decimal.RequireFromString(b)) {
						row[c] = b
					}
				}
			}
			for i, row := range got.rows {
				if !slices.Equal(row, want[i+1]) {
					t.Errorf("row %d:\n parquet %q\n csv     %q", i+1, row, want[i+1])
				}
			}
		})
	}

	want, got := readManifest(t, csvOut), readManifest(t, pqOut)
	if !reflect.DeepEqual(got.ControlTotals, want.ControlTotals) {
		t.Errorf("control totals\n parquet %+v\n csv     %+v", got.ControlTotals, want.ControlTotals)
	}
	if got.RunID != "fixed" || len(got.Outputs) != len(want.Outputs) {
		t.Fatalf("manifest run id %q, outputs %+v", got.RunID, got.Outputs)
	}
	for i, o := range got.Outputs {
		w := want.Outputs[i]
		if w.Name == "report.html" {
			// The page lists the outputs, so its bytes differ; the figures
			// are the same (TestReportCommand).
			if o.Name != w.Name || o.Rows != 0 {
				t.Errorf("manifest output %+v, the CSV run has %+v", o, w)
			}
			continue
		}
		if o.Name != w.Name[:len(w.Name)-len(".csv")]+".parquet" || o.Rows != w.Rows {
			t.Errorf("manifest output %+v, the CSV run has %+v", o, w)
		}
	}
	checkConservation(t, csvOut, 52)
	checkConservation(t, parquetAsCSV(t, pqOut), 52)
}

// The interop fixtures, written with the xitongsys writer.

// interopA has REQUIRED columns for the SPEC's required fields (an empty
// value is an empty string), OPTIONAL ones (null when empty) for the others,
// dictionary-encoded strings, dates as DATE and billed_amount as
// DECIMAL(18,2) stored as INT64, in the SPEC's column order.
type interopA struct {
	ClaimID        string  `parquet:"name=claim_id, type=BYTE_ARRAY, convertedtype=UTF8"`
	LineNo         int32   `parquet:"name=line_no, type=INT32"`
	MemberID       string  `parquet:"name=member_id, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY"`
	ServiceDate    int32   `parquet:"name=service_date, type=INT32, convertedtype=DATE"`
	ServiceEndDate *int32  `parquet:"name=service_end_date, type=INT32, convertedtype=DATE, repetitiontype=OPTIONAL"`
	ReceivedDate   *int32  `parquet:"name=received_date, type=INT32, convertedtype=DATE, repetitiontype=OPTIONAL"`
	BenefitCode    string  `parquet:"name=benefit_code, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY"`
	DiagnosisCode  *string `parquet:"name=diagnosis_code, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	ItemCode       *string `parquet:"name=item_code, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL, encoding=PLAIN_DICTIONARY"`
	Country        string  `parquet:"name=country, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY"`
	Emergency      *string `parquet:"name=emergency, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL, encoding=PLAIN_DICTIONARY"`
	TripID         *string `parquet:"name=trip_id, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	ProviderID     *string `parquet:"name=provider_id, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL, encoding=PLAIN_DICTIONARY"`
	Payee          *string `parquet:"name=payee, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL, encoding=PLAIN_DICTIONARY"`
	Currency       string  `parquet:"name=currency, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY"`
	BilledAmount   int64   `parquet:"name=billed_amount, type=INT64, convertedtype=DECIMAL, scale=2, precision=18"`
	Units          *int32  `parquet:"name=units, type=INT32, repetitiontype=OPTIONAL"`
}

// interopB has every column OPTIONAL (null when empty), in reverse SPEC
// order with an unknown column at the end; billed_amount is DECIMAL(18,2)
// stored as FIXED_LEN_BYTE_ARRAY, received_date an ISO string, emergency a
// BOOLEAN, line_no and units INT64.
type interopB struct {
	BilledAmount   *string `parquet:"name=billed_amount, type=FIXED_LEN_BYTE_ARRAY, convertedtype=DECIMAL, scale=2, precision=18, length=8, repetitiontype=OPTIONAL"`
	Currency       *string `parquet:"name=currency, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL, encoding=PLAIN_DICTIONARY"`
	Units          *int64  `parquet:"name=units, type=INT64, repetitiontype=OPTIONAL"`
	Payee          *string `parquet:"name=payee, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	ProviderID     *string `parquet:"name=provider_id, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	TripID         *string `parquet:"name=trip_id, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	Emergency      *bool   `parquet:"name=emergency, type=BOOLEAN, repetitiontype=OPTIONAL"`
	Country        *string `parquet:"name=country, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL, encoding=PLAIN_DICTIONARY"`
	ItemCode       *string `parquet:"name=item_code, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	DiagnosisCode  *string `parquet:"name=diagnosis_code, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL, encoding=PLAIN_DICTIONARY"`
	BenefitCode    *string `parquet:"name=benefit_code, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL, encoding=PLAIN_DICTIONARY"`
	ReceivedDate   *string `parquet:"name=received_date, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	ServiceEndDate *int32  `parquet:"name=service_end_date, type=INT32, convertedtype=DATE, repetitiontype=OPTIONAL"`
	ServiceDate    *int32  `parquet:"name=service_date, type=INT32, convertedtype=DATE, repetitiontype=OPTIONAL"`
	MemberID       *string `parquet:"name=member_id, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL, encoding=PLAIN_DICTIONARY"`
	LineNo         *int64  `parquet:"name=line_no, type=INT64, repetitiontype=OPTIONAL"`
	ClaimID        *string `parquet:"name=claim_id, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	ExtractID      *string `parquet:"name=extract_id, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL, encoding=PLAIN_DICTIONARY"`
}

var interopBColumns = []string{
	"billed_amount", "currency", "units", "payee", "provider_id", "trip_id", "emergency", "country", "item_code",
	"diagnosis_code", "benefit_code", "received_date", "service_end_date", "service_date", "member_id", "line_no",
	"claim_id", "extract_id",
}

// interopRows returns the sample's claim rows that every Parquet type of
// the fixtures can hold (as maps by column name), with the sample's header.
// The three it leaves out are the sample's impossible date, 3-decimal
// amount and short row.
func interopRows(t *testing.T) (header []string, rows []map[string]string) {
	t.Helper()
	recs := csvRecords(t, filepath.Join(sample, "claims.csv"))
	header = recs[0]
	skipped := 0
	for _, rec := range recs[1:] {
		if len(rec) != len(header) {
			skipped++
			continue
		}
		r := map[string]string{}
		for i, h := range header {
			r[h] = rec[i]
		}
		ok := true
		for _, col := range []string{"service_date", "service_end_date", "received_date"} {
			if _, err := claim.ParseDate(r[col]); r[col] != "" && err != nil {
				ok = false
			}
		}
		if _, err := claim.ParseMoney(r["billed_amount"]); err != nil || r["billed_amount"] == "" {
			ok = false
		}
		if !ok {
			skipped++
			continue
		}
		rows = append(rows, r)
	}
	if skipped != 3 || len(rows) != 49 {
		t.Fatalf("kept %d sample rows and skipped %d, want 49 and 3", len(rows), skipped)
	}
	return header, rows
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func isoDays(t *testing.T, s string) int32 {
	t.Helper()
	d, err := claim.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return int32(d)
}

func optISODays(t *testing.T, s string) *int32 {
	if s == "" {
		return nil
	}
	d := isoDays(t, s)
	return &d
}

func moneyCents(t *testing.T, s string) int64 {
	t.Helper()
	m, err := claim.ParseMoney(s)
	if err != nil {
		t.Fatal(err)
	}
	return int64(m)
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func optInt(t *testing.T, s string) *int64 {
	if s == "" {
		return nil
	}
	n := mustInt(t, s)
	return &n
}

func toInteropA(t *testing.T, r map[string]string) any {
	var units *int32
	if r["units"] != "" {
		u := int32(mustInt(t, r["units"]))
		units = &u
	}
	return interopA{
		ClaimID: r["claim_id"], LineNo: int32(mustInt(t, r["line_no"])), MemberID: r["member_id"],
		ServiceDate: isoDays(t, r["service_date"]), ServiceEndDate: optISODays(t, r["service_end_date"]), ReceivedDate: optISODays(t, r["received_date"]),
		BenefitCode: r["benefit_code"], DiagnosisCode: nullIfEmpty(r["diagnosis_code"]), ItemCode: nullIfEmpty(r["item_code"]),
		Country: r["country"], Emergency: nullIfEmpty(r["emergency"]), TripID: nullIfEmpty(r["trip_id"]), ProviderID: nullIfEmpty(r["provider_id"]),
		Payee: nullIfEmpty(r["payee"]), Currency: r["currency"], BilledAmount: moneyCents(t, r["billed_amount"]), Units: units,
	}
}

func toInteropB(t *testing.T, r map[string]string) any {
	var emergency *bool
	switch r["emergency"] {
	case "Y", "N":
		e := r["emergency"] == "Y"
		emergency = &e
	case "":
	default:
		t.Fatalf("emergency %q has no BOOLEAN form", r["emergency"])
	}
	amount := types.StrIntToBinary(strconv.FormatInt(moneyCents(t, r["billed_amount"]), 10), "BigEndian", 8, true)
	return interopB{
		BilledAmount: &amount, Currency: nullIfEmpty(r["currency"]), Units: optInt(t, r["units"]), Payee: nullIfEmpty(r["payee"]),
		ProviderID: nullIfEmpty(r["provider_id"]), TripID: nullIfEmpty(r["trip_id"]), Emergency: emergency, Country: nullIfEmpty(r["country"]),
		ItemCode: nullIfEmpty(r["item_code"]), DiagnosisCode: nullIfEmpty(r["diagnosis_code"]), BenefitCode: nullIfEmpty(r["benefit_code"]),
		ReceivedDate: nullIfEmpty(r["received_date"]), ServiceEndDate: optISODays(t, r["service_end_date"]), ServiceDate: optISODays(t, r["service_date"]),
		MemberID: nullIfEmpty(r["member_id"]), LineNo: optInt(t, r["line_no"]), ClaimID: nullIfEmpty(r["claim_id"]), ExtractID: nullIfEmpty(r["extract_id"]),
	}
}

// writeInterop writes rows with the xitongsys writer, a row group every
// groupRows rows.
func writeInterop(t *testing.T, path string, schema any, rows []map[string]string, convert func(*testing.T, map[string]string) any, groupRows int) {
	t.Helper()
	var buf bytes.Buffer
	pw, err := writer.NewParquetWriterFromWriter(&buf, schema, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		if err := pw.Write(convert(t, r)); err != nil {
			t.Fatal(err)
		}
		if (i+1)%groupRows == 0 {
			if err := pw.Flush(true); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := pw.WriteStop(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestParquetInterop runs claims written by another Parquet implementation
// (xitongsys/parquet-go) and the same rows as CSV, with the sample's
// members and fx: the outputs must be the same.
func TestParquetInterop(t *testing.T) {
	sampleHeader, rows := interopRows(t)
	for _, r := range rows {
		r["extract_id"] = "X-2024-11"
	}
	fixtures := []struct {
		name      string
		schema    any
		convert   func(*testing.T, map[string]string) any
		columns   []string
		groupRows int
		decimal   xparquet.Type // physical type of billed_amount
		dict      []string      // columns that must be dictionary-encoded
		nulls     []string      // columns that must hold nulls
	}{
		{"int64 decimal, required and optional", new(interopA), toInteropA, sampleHeader, 10, xparquet.Type_INT64,
			[]string{"member_id", "benefit_code", "country", "currency"}, []string{"service_end_date", "diagnosis_code", "payee", "units"}},
		{"fixed_len_byte_array decimal, all optional", new(interopB), toInteropB, interopBColumns, 7, xparquet.Type_FIXED_LEN_BYTE_ARRAY,
			[]string{"member_id", "benefit_code", "currency", "extract_id"}, []string{"country", "service_end_date", "payee", "units"}},
	}
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			pqDir, csvDir := t.TempDir(), t.TempDir()
			pqPath, csvPath := filepath.Join(pqDir, "claims.parquet"), filepath.Join(csvDir, "claims.csv")
			writeInterop(t, pqPath, fx.schema, rows, fx.convert, fx.groupRows)
			recs := [][]string{fx.columns}
			for _, r := range rows {
				rec := make([]string, len(fx.columns))
				for i, c := range fx.columns {
					rec[i] = r[c]
				}
				recs = append(recs, rec)
			}
			writeCSVFile(t, csvPath, recs)

			// The fixture is what it claims to be, and holds the CSV's rows.
			p := readParquet(t, pqPath)
			if !slices.Equal(p.columns, fx.columns) {
				t.Fatalf("fixture columns %v, want %v", p.columns, fx.columns)
			}
			for i, row := range p.rows {
				if !slices.Equal(row, recs[i+1]) {
					t.Fatalf("fixture row %d: %q, want %q", i+1, row, recs[i+1])
				}
			}
			if got, want := len(p.footer.GetRowGroups()), (len(rows)+fx.groupRows-1)/fx.groupRows; got != want {
				t.Errorf("fixture has %d row groups, want %d", got, want)
			}
			col := func(name string) int { return slices.Index(p.columns, name) }
			if typ := p.schema[col("billed_amount")].GetType(); typ != fx.decimal {
				t.Errorf("billed_amount stored as %v, want %v", typ, fx.decimal)
			}
			if el := p.schema[col("service_date")]; el.GetType() != xparquet.Type_INT32 || el.GetConvertedType() != xparquet.ConvertedType_DATE {
				t.Errorf("service_date is %v, want DATE (INT32)", el)
			}
			for _, name := range fx.dict {
				for g, rg := range p.footer.GetRowGroups() {
					md := rg.GetColumns()[col(name)].GetMetaData()
					if !slices.Contains(md.GetEncodings(), xparquet.Encoding_PLAIN_DICTIONARY) && !slices.Contains(md.GetEncodings(), xparquet.Encoding_RLE_DICTIONARY) {
						t.Errorf("row group %d: column %s is not dictionary-encoded: %v", g, name, md.GetEncodings())
					}
				}
			}
			for _, name := range fx.nulls {
				if el := p.schema[col(name)]; el.GetRepetitionType() != xparquet.FieldRepetitionType_OPTIONAL || p.nulls[col(name)] == 0 {
					t.Errorf("column %s: %v with %d nulls, want OPTIONAL with nulls", name, el.GetRepetitionType(), p.nulls[col(name)])
				}
			}

			pqOut, csvOut := t.TempDir(), t.TempDir()
			common := []string{"--members", sample + "/members.csv", "--fx", sample + "/fx.csv", "--run-id", "fixed", "--quiet"}
			runOK(t, append([]string{"run", "--claims", pqPath, "--out", pqOut}, common...)...)
			runOK(t, append([]string{"run", "--claims", csvPath, "--out", csvOut}, common...)...)
			for _, name := range []string{"remittance.csv", "payments.csv", "state.csv"} {
				sameBytes(t, csvOut, pqOut, name)
			}
			compareExceptions(t, filepath.Join(csvOut, "exceptions.csv"), "claims.csv", filepath.Join(pqOut, "exceptions.csv"), "claims.parquet")
			if n := len(readCSV(t, filepath.Join(pqOut, "remittance.csv"))); n != 42 {
				t.Errorf("%d remittance lines, want the sample's 42", n)
			}
			checkConservation(t, pqOut, 49)
			checkConservation(t, csvOut, 49)
		})
	}
}
