package writers

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/shopspring/decimal"
	xparquet "github.com/xitongsys/parquet-go/parquet"
	xreader "github.com/xitongsys/parquet-go/reader"
	xsource "github.com/xitongsys/parquet-go/source"

	"claimsbatch/claim"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// rowWriter is what every table writer has.
type rowWriter[T any] interface {
	Write([]T) error
	Close() error
}

// writeChunks writes rows in batches of at most chunk rows, then closes.
func writeChunks[T any](w rowWriter[T], rows []T, chunk int) error {
	for len(rows) > 0 {
		n := min(chunk, len(rows))
		if err := w.Write(rows[:n]); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return w.Close()
}

// setGroupRows makes a Parquet writer cut row groups of n rows, so small
// tests cover several row groups.
func setGroupRows[T any](t *table[T], n int) {
	if pq, ok := t.enc.(*parquetEncoder); ok && n > 0 {
		pq.groupRows = n
	}
}

// A tableCase is one of the four tables with its sample rows.
type tableCase struct {
	name    string
	schema  []colSpec
	records [][]string // header, then the rows as CSV must hold them
	// write writes the sample rows in batches of chunk, with row groups of
	// groupRows (0: the default), and closes the writer.
	write func(w io.Writer, f Format, chunk, groupRows int) (rows int64, err error)
}

var tableCases = []tableCase{
	{"remittance", remittanceSchema, remittanceRecords, func(w io.Writer, f Format, chunk, group int) (int64, error) {
		tw, err := NewRemittanceWriter(w, f, sampleRunID)
		if err != nil {
			return 0, err
		}
		setGroupRows(tw.t, group)
		err = writeChunks(tw, sampleResults(), chunk)
		return tw.Rows(), err
	}},
	{"payments", paymentsSchema, paymentsRecords, func(w io.Writer, f Format, chunk, group int) (int64, error) {
		tw, err := NewPaymentsWriter(w, f)
		if err != nil {
			return 0, err
		}
		setGroupRows(tw.t, group)
		err = writeChunks(tw, samplePayments(), chunk)
		return tw.Rows(), err
	}},
	{"exceptions", exceptionsSchema, exceptionsRecords, func(w io.Writer, f Format, chunk, group int) (int64, error) {
		tw, err := NewExceptionsWriter(w, f)
		if err != nil {
			return 0, err
		}
		setGroupRows(tw.t, group)
		err = writeChunks(tw, sampleExceptions(), chunk)
		return tw.Rows(), err
	}},
	{"state", stateSchema, stateRecords, func(w io.Writer, f Format, chunk, group int) (int64, error) {
		tw, err := NewStateWriter(w, f)
		if err != nil {
			return 0, err
		}
		setGroupRows(tw.t, group)
		err = writeChunks(tw, sampleState(), chunk)
		return tw.Rows(), err
	}},
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestCSVGolden(t *testing.T) {
	for _, tc := range tableCases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			rows, err := tc.write(&buf, CSV, 2, 0)
			if err != nil {
				t.Fatal(err)
			}
			if want := int64(len(tc.records) - 1); rows != want {
				t.Errorf("Rows() = %d, want %d", rows, want)
			}
			got := buf.Bytes()
			checkGolden(t, tc.name+".csv", got)

			// The records read back are exactly the expected ones ...
			r := csv.NewReader(bytes.NewReader(got))
			r.FieldsPerRecord = len(tc.records[0])
			records, err := r.ReadAll()
			if err != nil {
				t.Fatalf("encoding/csv cannot read the output: %v", err)
			}
			if !reflect.DeepEqual(records, tc.records) {
				t.Errorf("records:\ngot  %q\nwant %q", records, tc.records)
			}
			// ... and the bytes are what encoding/csv writes for them.
			var std bytes.Buffer
			cw := csv.NewWriter(&std)
			if err := cw.WriteAll(tc.records); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, std.Bytes()) {
				t.Errorf("output differs from encoding/csv's\ngot:\n%s\nencoding/csv:\n%s", got, std.Bytes())
			}
		})
	}
}

func TestCSVHeaderOnly(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewPaymentsWriter(&buf, CSV)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := buf.String(), "payee_type,payee_id,plan_currency,line_count,plan_paid\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestCSVQuoting(t *testing.T) {
	for _, field := range []string{
		"", "plain", "a,b", `say "hi"`, "\"", "line\nbreak", "cr\rhere", " leading", "trailing ",
		"\tTab", "\u00a0nbsp", "\u2003em space", "inner space", `\.`, `\.x`, `x\.`, "\xff", "é,", "PR-1:375.00 PR-2:165.00",
		// A special byte in each place of the eight-byte steps and the tail.
		"1234567,", "12345678,", "1234567\"x", "abcdefgh\nij", "abcdefghijklmno\r", "abcdefghijklmnop,q", ",abcdefghijklmnop",
		"abcdefgh", "abcdefghijklmnopq", "C000000550-\xe9\xff,",
	} {
		want := stdCSV(field)
		if got := string(appendCSVField(nil, field)); got != want {
			t.Errorf("appendCSVField(%q) = %q, encoding/csv writes %q", field, got, want)
		}
		if got, want := csvNeedsQuotesBytes([]byte(field)), csvNeedsQuotes(field); got != want {
			t.Errorf("csvNeedsQuotesBytes(%q) = %v, csvNeedsQuotes %v", field, got, want)
		}
	}
}

// stdCSV is how encoding/csv writes field in the middle of a record.
func stdCSV(field string) string {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"a", field, "b"})
	w.Flush()
	s := buf.String()
	return s[2 : len(s)-3]
}

func FuzzCSVField(f *testing.F) {
	for _, s := range []string{"", "a,b", `"`, " x", "\r\n", `\.`, "\u0085x", "abcdefgh,ijk", "abcdefghijklmnopq"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, field string) {
		want := stdCSV(field)
		if got := string(appendCSVField(nil, field)); got != want {
			t.Errorf("appendCSVField(%q) = %q, encoding/csv writes %q", field, got, want)
		}
		if got := string(appendCSVField([]byte("x,"), field)); got != "x,"+want {
			t.Errorf("appendCSVField(%q) after x, = %q, want %q", field, got, "x,"+want)
		}
		if got, want := csvNeedsQuotesBytes([]byte(field)), csvNeedsQuotes(field); got != want {
			t.Errorf("csvNeedsQuotesBytes(%q) = %v, csvNeedsQuotes %v", field, got, want)
		}
	})
}

// parquetSchemas are the expected Parquet columns: name, physical type,
// logical type, repetition, as arrow-go's metadata prints them.
var parquetSchemas = map[string][]string{
	"remittance": {
		"run_id BYTE_ARRAY String required",
		"claim_id BYTE_ARRAY String required",
		"line_no INT32 Int(bitWidth=32, isSigned=true) required",
		"member_id BYTE_ARRAY String required",
		"policy_id BYTE_ARRAY String required",
		"policy_year_start INT32 Date optional",
		"service_date INT32 Date required",
		"benefit_code BYTE_ARRAY String required",
		"module BYTE_ARRAY String required",
		"payee_type BYTE_ARRAY String required",
		"payee_id BYTE_ARRAY String required",
		"billed_currency BYTE_ARRAY String required",
		"billed_amount INT64 Decimal(precision=18, scale=2) required",
		"plan_currency BYTE_ARRAY String required",
		"fx_rate FIXED_LEN_BYTE_ARRAY Decimal(precision=38, scale=18) optional",
		"charge INT64 Decimal(precision=18, scale=2) required",
		"deductible INT64 Decimal(precision=18, scale=2) required",
		"coinsurance INT64 Decimal(precision=18, scale=2) required",
		"not_covered INT64 Decimal(precision=18, scale=2) required",
		"plan_paid INT64 Decimal(precision=18, scale=2) required",
		"member_responsibility INT64 Decimal(precision=18, scale=2) required",
		"status BYTE_ARRAY String required",
		"adjustments BYTE_ARRAY String required",
		"remark BYTE_ARRAY String required",
		"procedure_code BYTE_ARRAY String required",
	},
	"payments": {
		"payee_type BYTE_ARRAY String required",
		"payee_id BYTE_ARRAY String required",
		"plan_currency BYTE_ARRAY String required",
		"line_count INT64 Int(bitWidth=64, isSigned=true) required",
		"plan_paid INT64 Decimal(precision=18, scale=2) required",
	},
	"exceptions": {
		"source BYTE_ARRAY String required",
		"row INT64 Int(bitWidth=64, isSigned=true) required",
		"claim_id BYTE_ARRAY String required",
		"line_no BYTE_ARRAY String required",
		"member_id BYTE_ARRAY String required",
		"code BYTE_ARRAY String required",
		"field BYTE_ARRAY String required",
		"message BYTE_ARRAY String required",
		"raw BYTE_ARRAY String required",
	},
	"state": {
		"kind BYTE_ARRAY String required",
		"member_id BYTE_ARRAY String required",
		"scope INT32 Date optional",
		"key BYTE_ARRAY String required",
		"amount INT64 Decimal(precision=18, scale=2) required",
		"count INT64 Int(bitWidth=64, isSigned=true) required",
		"detail BYTE_ARRAY String required",
	},
}

// expectedParquet turns the expected CSV records into the values a Parquet
// reader must return: strings (invalid UTF-8 replaced), dates as int32 days
// or nil, amounts as int64 cents, integers as int32 or int64.
func expectedParquet(t *testing.T, schema []colSpec, records [][]string) [][]any {
	t.Helper()
	var rows [][]any
	for _, rec := range records[1:] {
		row := make([]any, len(rec))
		for i, s := range rec {
			f := schema[i]
			switch f.kind {
			case kindText:
				row[i] = strings.ToValidUTF8(s, "\uFFFD")
			case kindDate:
				if s == "" {
					row[i] = nil
				} else {
					d, err := claim.ParseDate(s)
					if err != nil {
						t.Fatal(err)
					}
					row[i] = int32(d)
				}
			case kindAmount:
				m, err := claim.ParseMoney(s)
				if err != nil {
					t.Fatal(err)
				}
				row[i] = int64(m)
			case kindInt32:
				n, err := strconv.ParseInt(s, 10, 32)
				if err != nil {
					t.Fatal(err)
				}
				row[i] = int32(n)
			case kindInt64:
				n, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					t.Fatal(err)
				}
				row[i] = n
			case kindRate:
				// An FX rate: compared as its normalised decimal text.
				if s == "" {
					row[i] = nil
				} else {
					row[i] = decimal.RequireFromString(s).String()
				}
			default:
				t.Fatalf("column %s: unexpected kind %d", f.name, f.kind)
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// readWithArrow reads a Parquet file with arrow-go's pqarrow and checks the
// file's schema against want.
func readWithArrow(t *testing.T, data []byte, wantSchema []string) (rows [][]any, rowGroups int) {
	t.Helper()
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	var got []string
	sc := pf.MetaData().Schema
	for i := 0; i < sc.NumColumns(); i++ {
		c := sc.Column(i)
		rep := "required"
		if c.MaxDefinitionLevel() > 0 {
			rep = "optional"
		}
		got = append(got, fmt.Sprintf("%s %s %s %s", c.Name(), c.PhysicalType(), c.LogicalType(), rep))
	}
	if !reflect.DeepEqual(got, wantSchema) {
		t.Errorf("parquet schema:\ngot  %q\nwant %q", got, wantSchema)
	}

	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	rows = make([][]any, tbl.NumRows())
	for i := range rows {
		rows[i] = make([]any, tbl.NumCols())
	}
	for c := 0; c < int(tbl.NumCols()); c++ {
		col := tbl.Column(c)
		r := 0
		for _, chunk := range col.Data().Chunks() {
			for i := 0; i < chunk.Len(); i++ {
				rows[r][c] = arrowValue(t, chunk, i)
				r++
			}
		}
	}
	return rows, pf.NumRowGroups()
}

func arrowValue(t *testing.T, a arrow.Array, i int) any {
	if a.IsNull(i) {
		return nil
	}
	switch a := a.(type) {
	case *array.String:
		return a.Value(i)
	case *array.Date32:
		return int32(a.Value(i))
	case *array.Decimal128:
		if dt := a.DataType().(*arrow.Decimal128Type); dt.Precision == 38 && dt.Scale == 18 {
			return decimal.NewFromBigInt(a.Value(i).BigInt(), -18).String()
		}
		if dt := a.DataType().(*arrow.Decimal128Type); dt.Precision != 18 || dt.Scale != 2 {
			t.Fatalf("arrow type %s, want decimal(18, 2)", dt)
		}
		v := a.Value(i)
		if !v.FitsInPrecision(18) {
			t.Fatalf("decimal %v does not fit 18 digits", v)
		}
		return int64(v.LowBits())
	case *array.Int32:
		return a.Value(i)
	case *array.Int64:
		return a.Value(i)
	}
	t.Fatalf("unexpected arrow array %T", a)
	return nil
}

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

// readWithXitongsys reads a Parquet file with github.com/xitongsys/parquet-go,
// an implementation independent of arrow-go, and checks the logical types it
// sees in the footer.
func readWithXitongsys(t *testing.T, data []byte, schema []colSpec) [][]any {
	t.Helper()
	pr, err := xreader.NewParquetColumnReader(newMemFile(data), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer pr.ReadStop()
	elems := pr.Footer.GetSchema()[1:] // [0] is the root
	if len(elems) != len(schema) {
		t.Fatalf("xitongsys sees %d columns, want %d", len(elems), len(schema))
	}
	for i, el := range elems {
		f := schema[i]
		// The reader renames columns to Go names; ExName is the file's.
		if name := pr.SchemaHandler.Infos[i+1].ExName; name != f.name {
			t.Errorf("column %d: name %q, want %q", i, name, f.name)
		}
		wantRep := xparquet.FieldRepetitionType_REQUIRED
		if f.optional {
			wantRep = xparquet.FieldRepetitionType_OPTIONAL
		}
		if el.GetRepetitionType() != wantRep {
			t.Errorf("column %s: repetition %v, want %v", f.name, el.GetRepetitionType(), wantRep)
		}
		lt := el.GetLogicalType()
		switch f.kind {
		case kindText:
			if el.GetType() != xparquet.Type_BYTE_ARRAY || lt == nil || !lt.IsSetSTRING() || el.GetConvertedType() != xparquet.ConvertedType_UTF8 {
				t.Errorf("column %s: %v, want UTF8 BYTE_ARRAY", f.name, el)
			}
		case kindDate:
			if el.GetType() != xparquet.Type_INT32 || lt == nil || !lt.IsSetDATE() || el.GetConvertedType() != xparquet.ConvertedType_DATE {
				t.Errorf("column %s: %v, want DATE INT32", f.name, el)
			}
		case kindAmount:
			if el.GetType() != xparquet.Type_INT64 || lt == nil || !lt.IsSetDECIMAL() ||
				lt.DECIMAL.Precision != 18 || lt.DECIMAL.Scale != 2 ||
				el.GetConvertedType() != xparquet.ConvertedType_DECIMAL || el.GetPrecision() != 18 || el.GetScale() != 2 {
				t.Errorf("column %s: %v, want DECIMAL(18,2) INT64", f.name, el)
			}
		case kindInt32:
			if el.GetType() != xparquet.Type_INT32 {
				t.Errorf("column %s: %v, want INT32", f.name, el)
			}
		case kindInt64:
			if el.GetType() != xparquet.Type_INT64 {
				t.Errorf("column %s: %v, want INT64", f.name, el)
			}
		}
	}

	n := pr.GetNumRows()
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = make([]any, len(elems))
	}
	for c := range elems {
		values, _, _, err := pr.ReadColumnByIndex(int64(c), n)
		if err != nil {
			t.Fatalf("column %d: %v", c, err)
		}
		if int64(len(values)) != n {
			t.Fatalf("column %d: %d values, want %d", c, len(values), n)
		}
		for r, v := range values {
			if b, ok := v.(string); ok && elems[c].GetType() == xparquet.Type_FIXED_LEN_BYTE_ARRAY {
				// A big-endian two's complement DECIMAL(38,18).
				n := new(big.Int).SetBytes([]byte(b))
				if len(b) > 0 && b[0]&0x80 != 0 {
					n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
				}
				v = decimal.NewFromBigInt(n, -18).String()
			}
			rows[r][c] = v
		}
	}
	return rows
}

func TestParquetRoundTrip(t *testing.T) {
	for _, tc := range tableCases {
		for _, groupRows := range []int{0, 1, 3} {
			t.Run(fmt.Sprintf("%s/rowgroups_of_%d", tc.name, groupRows), func(t *testing.T) {
				var buf bytes.Buffer
				rows, err := tc.write(&buf, Parquet, 2, groupRows)
				if err != nil {
					t.Fatal(err)
				}
				want := expectedParquet(t, tc.schema, tc.records)
				if rows != int64(len(want)) {
					t.Errorf("Rows() = %d, want %d", rows, len(want))
				}

				got, rowGroups := readWithArrow(t, buf.Bytes(), parquetSchemas[tc.name])
				if !reflect.DeepEqual(got, want) {
					t.Errorf("pqarrow read:\ngot  %#v\nwant %#v", got, want)
				}
				wantGroups := 1
				if groupRows > 0 {
					wantGroups = (len(want) + groupRows - 1) / groupRows
				}
				if rowGroups != wantGroups {
					t.Errorf("%d row groups, want %d", rowGroups, wantGroups)
				}

				got = readWithXitongsys(t, buf.Bytes(), tc.schema)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("xitongsys read:\ngot  %#v\nwant %#v", got, want)
				}
			})
		}
	}
}

func TestParquetEmpty(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewRemittanceWriter(&buf, Parquet, sampleRunID)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rows, groups := readWithArrow(t, buf.Bytes(), parquetSchemas["remittance"])
	if len(rows) != 0 || groups != 0 {
		t.Errorf("%d rows in %d row groups, want none", len(rows), groups)
	}
}

func TestParquetMetadataIsFixed(t *testing.T) {
	var buf bytes.Buffer
	if _, err := tableCases[0].write(&buf, Parquet, 10, 0); err != nil {
		t.Fatal(err)
	}
	pf, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	md := pf.MetaData()
	if got, want := md.GetCreatedBy(), parquet.DefaultCreatedBy; got != want {
		t.Errorf("created_by = %q, want %q", got, want)
	}
	if kv := md.KeyValueMetadata(); kv.Len() != 0 {
		t.Errorf("key-value metadata %v, want none", kv)
	}
}

func TestDeterministic(t *testing.T) {
	for _, tc := range tableCases {
		for _, f := range []Format{CSV, Parquet} {
			t.Run(tc.name+f.Ext(), func(t *testing.T) {
				// Different batch sizes must not change a byte.
				var a, b bytes.Buffer
				if _, err := tc.write(&a, f, 1, 0); err != nil {
					t.Fatal(err)
				}
				if _, err := tc.write(&b, f, 100, 0); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(a.Bytes(), b.Bytes()) {
					t.Errorf("two writes of the same rows differ (%d and %d bytes)", a.Len(), b.Len())
				}
			})
		}
	}
}

// TestDeterministicManyRowGroups writes generated rows over several row
// groups (dictionary and plain pages, the fallback from one to the other)
// in batches of very different sizes, each time with a new writer: the
// bytes must not change.
func TestDeterministicManyRowGroups(t *testing.T) {
	n := 2*rowGroupRows + 1234
	results, state, ex := benchResults(n), benchState(n), benchExceptions(n/4)
	for _, f := range []Format{CSV, Parquet} {
		t.Run(f.String(), func(t *testing.T) {
			var first [3][]byte
			for i, chunk := range []int{1, 1000, 7777, n} {
				var rem, st, exc bytes.Buffer
				rw, err := NewRemittanceWriter(&rem, f, sampleRunID)
				if err != nil {
					t.Fatal(err)
				}
				if err := writeChunks(rw, results, chunk); err != nil {
					t.Fatal(err)
				}
				sw, err := NewStateWriter(&st, f)
				if err != nil {
					t.Fatal(err)
				}
				if err := writeChunks(sw, state, chunk); err != nil {
					t.Fatal(err)
				}
				ew, err := NewExceptionsWriter(&exc, f)
				if err != nil {
					t.Fatal(err)
				}
				if err := writeChunks(ew, ex, chunk); err != nil {
					t.Fatal(err)
				}
				got := [3][]byte{rem.Bytes(), st.Bytes(), exc.Bytes()}
				if i == 0 {
					first = got
					continue
				}
				for k, name := range []string{"remittance", "state", "exceptions"} {
					if !bytes.Equal(got[k], first[k]) {
						t.Errorf("%s in batches of %d: %d bytes, differ from those in batches of 1 (%d bytes)", name, chunk, len(got[k]), len(first[k]))
					}
				}
			}
		})
	}
}

// failingWriter accepts limit bytes, passing them to w if it is set, then
// fails.
type failingWriter struct {
	w     io.Writer
	limit int
	n     int
}

var errDiskFull = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	var err error
	if w.n+len(p) > w.limit {
		p = p[:w.limit-w.n]
		err = errDiskFull
	}
	if w.w != nil {
		if _, werr := w.w.Write(p); werr != nil {
			return 0, werr
		}
	}
	w.n += len(p)
	return len(p), err
}

// TestWriterErrorSurfaces: a write error of the underlying writer is the
// error of Write or Close, and of every call after. With 3 Parquet row
// groups' worth of rows, a row group written in the background fails while
// the next one's rows are being collected: its error comes back through the
// next flush.
func TestWriterErrorSurfaces(t *testing.T) {
	for _, f := range []Format{CSV, Parquet} {
		for _, limit := range []int{0, 3, 1000, 100_000, 3_000_000} {
			many := benchResults(20_000)
			if f == Parquet && limit >= 100_000 {
				many = benchResults(3*rowGroupRows + 5)
			}
			t.Run(fmt.Sprintf("%v/after_%d_bytes", f, limit), func(t *testing.T) {
				fw := &failingWriter{limit: limit}
				w, err := NewRemittanceWriter(fw, f, sampleRunID)
				if err != nil {
					if errors.Is(err, errDiskFull) {
						return // pqarrow writes the magic number at once
					}
					t.Fatal(err)
				}
				werr := w.Write(many)
				cerr := w.Close()
				if !errors.Is(cerr, errDiskFull) {
					t.Fatalf("Close() = %v, want an error wrapping %v", cerr, errDiskFull)
				}
				if werr != nil && !errors.Is(werr, errDiskFull) {
					t.Errorf("Write() = %v, want nil or an error wrapping %v", werr, errDiskFull)
				}
				if f == Parquet && limit == 100_000 && werr == nil {
					t.Errorf("Write() = nil: the first row group's failure should come back at the second's flush")
				}
				if err := w.Write(many[:1]); !errors.Is(err, errDiskFull) {
					t.Errorf("Write after failure = %v, want the same error", err)
				}
				if err := w.Close(); !errors.Is(err, errDiskFull) {
					t.Errorf("second Close = %v, want the same error", err)
				}
			})
		}
	}
}

func TestWriteAfterClose(t *testing.T) {
	w, err := NewStateWriter(io.Discard, CSV)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(sampleState()); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close = %v, want ErrClosed", err)
	}
}

func TestParquetBadValues(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(r *claim.Result)
		wantErr string
	}{
		{"amount beyond DECIMAL(18,2)", func(r *claim.Result) { r.PlanPaid = 1_000_000_000_000_000_000 },
			"writers: remittance row 2: column plan_paid: amount 10000000000000000.00 does not fit DECIMAL(18,2)"},
		{"absent service date", func(r *claim.Result) { r.Line.ServiceDate = claim.NoDate },
			"writers: remittance row 2: column service_date: date is absent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			results := sampleResults()
			tt.mutate(&results[1])
			w, err := NewRemittanceWriter(io.Discard, Parquet, sampleRunID)
			if err != nil {
				t.Fatal(err)
			}
			err = w.Write(results)
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("Write() = %v, want %q", err, tt.wantErr)
			}
			if cerr := w.Close(); cerr != err {
				t.Errorf("Close() = %v, want the Write error", cerr)
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in   string
		want Format
		ext  string
		err  bool
	}{
		{"csv", CSV, ".csv", false},
		{"parquet", Parquet, ".parquet", false},
		{"Parquet", Parquet, ".parquet", false},
		{"json", 0, "", true},
		{"", 0, "", true},
	}
	for _, tt := range tests {
		got, err := ParseFormat(tt.in)
		if tt.err {
			if !errors.Is(err, ErrUnknownFormat) {
				t.Errorf("ParseFormat(%q) error = %v, want ErrUnknownFormat", tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want || got.Ext() != tt.ext {
			t.Errorf("ParseFormat(%q) = %v, %v (ext %q), want %v (ext %q)", tt.in, got, err, got.Ext(), tt.want, tt.ext)
		}
	}
	if _, err := NewPaymentsWriter(io.Discard, Format(7)); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("NewPaymentsWriter(Format(7)) error = %v, want ErrUnknownFormat", err)
	}
}

// TestParquetRowGroupCutAtTextLimit: a row group is cut early when a text
// column holds maxGroupText bytes, so rows with long raw text do not pile
// up 64 Ki at a time; the cut depends on the rows only.
func TestParquetRowGroupCutAtTextLimit(t *testing.T) {
	ex := benchExceptions(40)
	for i := range ex {
		ex[i].Raw = strings.Repeat(string(rune('a'+i%26)), 1<<20) // 1 MiB each
	}
	var first []byte
	for _, chunk := range []int{1, 7, 40} {
		var buf bytes.Buffer
		w, err := NewExceptionsWriter(&buf, Parquet)
		if err != nil {
			t.Fatal(err)
		}
		if err := writeChunks(w, ex, chunk); err != nil {
			t.Fatal(err)
		}
		pf, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		var rows []int64
		for g := 0; g < pf.NumRowGroups(); g++ {
			rows = append(rows, pf.MetaData().RowGroup(g).NumRows())
		}
		pf.Close()
		if want := []int64{16, 16, 8}; !reflect.DeepEqual(rows, want) {
			t.Errorf("batches of %d: row groups of %v rows, want %v", chunk, rows, want)
		}
		if first == nil {
			first = buf.Bytes()
		} else if !bytes.Equal(first, buf.Bytes()) {
			t.Errorf("batches of %d: the bytes differ from those in batches of 1", chunk)
		}
	}
	got := readWithXitongsys(t, first, exceptionsSchema)
	for i, row := range got {
		if row[8] != ex[i].Raw {
			t.Fatalf("row %d: raw of %d bytes, want %d", i+1, len(row[8].(string)), len(ex[i].Raw))
		}
	}
}

// TestParquetStatistics: every column of every table has min and max in
// the Parquet metadata but the opaque ones (ids in no order within a row
// group, free text), which have none.
func TestParquetStatistics(t *testing.T) {
	opaque := 0
	for _, tc := range tableCases {
		var buf bytes.Buffer
		if _, err := tc.write(&buf, Parquet, 2, 0); err != nil {
			t.Fatal(err)
		}
		pf, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		rg := pf.MetaData().RowGroup(0)
		for i, spec := range tc.schema {
			cc, err := rg.ColumnChunk(i)
			if err != nil {
				t.Fatal(err)
			}
			set, err := cc.StatsSet()
			if err != nil {
				t.Fatal(err)
			}
			if set == spec.noStats {
				t.Errorf("%s.%s: statistics set %v, want %v", tc.name, spec.name, set, !spec.noStats)
			}
			if spec.noStats {
				opaque++
			}
		}
		pf.Close()
	}
	if opaque == 0 {
		t.Error("no table has an opaque column")
	}
}
