package readers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"claimsbatch/claim"
	"claimsbatch/synth"
)

// typedModes opens a Parquet claims file and returns the typed reader's
// mode of every column ("" when the file takes the text path).
func typedModes(t testing.TB, data []byte, opt Options) map[string]pqMode {
	t.Helper()
	tbl, err := openMem("claims.parquet", data, claimColumns[:], opt)
	if err != nil {
		t.Fatal(err)
	}
	r := newClaimsReader(tbl, 0, plan, opt)
	defer r.Close()
	if r.pq == nil {
		return nil
	}
	modes := map[string]pqMode{}
	for _, c := range r.pq.cols {
		modes[c.name] = c.mode
	}
	return modes
}

// compareTyped reads data with the typed reader under several batch sizes
// and worker counts and expects what the text path reads.
func compareTyped(t *testing.T, data []byte, opt Options) claimsResult {
	t.Helper()
	want, wantErr := readClaimsSeq("claims.parquet", data, opt)
	// (BatchSize 1<<20 leaves two look-ahead slots.)
	for _, o := range []Options{opt, {BatchSize: 1, Workers: 2}, {BatchSize: 7, Workers: 3}, {BatchSize: 1000, Workers: 1}, {BatchSize: 1 << 20, Workers: 3}} {
		if o.MaxFieldBytes == 0 {
			o.MaxFieldBytes = opt.MaxFieldBytes
		}
		got, gotErr := readClaimsPar(t, "claims.parquet", data, o, 0, 0)
		sameRead(t, got, gotErr, want, wantErr)
	}
	return want
}

// TestParquetTypedMatchesText: the typed reader reads the fixtures exactly
// as the text path does, and reads their common types typed.
func TestParquetTypedMatchesText(t *testing.T) {
	rows := fixtureRows(23)
	dict := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int16, ValueType: arrow.BinaryTypes.String}
	arrowCols := []arrowColumn{
		{"note", arrow.BinaryTypes.LargeString}, {"claim_id", dict}, {"line_no", arrow.PrimitiveTypes.Int64},
		{"member_id", arrow.BinaryTypes.String}, {"service_date", arrow.FixedWidthTypes.Date32},
		{"service_end_date", arrow.FixedWidthTypes.Date32}, {"received_date", arrow.BinaryTypes.String},
		{"benefit_code", dict}, {"diagnosis_code", arrow.BinaryTypes.String}, {"item_code", arrow.BinaryTypes.Binary},
		{"country", dict}, {"emergency", arrow.FixedWidthTypes.Boolean}, {"trip_id", arrow.BinaryTypes.String},
		{"provider_id", arrow.BinaryTypes.String}, {"payee", arrow.BinaryTypes.String}, {"currency", dict},
		{"billed_amount", &arrow.Decimal128Type{Precision: 12, Scale: 2}}, {"units", arrow.PrimitiveTypes.Int32},
	}
	files := []struct {
		name  string
		data  []byte
		typed map[string]pqMode // modes the file must get
	}{
		{"xitongsys DECIMAL as INT64", writeXitongsys(t, rows, false, 5),
			map[string]pqMode{"billed_amount": pqDec64, "line_no": pqInt32, "units": pqInt64, "service_date": pqDate, "emergency": pqBool, "claim_id": pqBytes, "note": pqUnused}},
		{"xitongsys DECIMAL as FIXED_LEN_BYTE_ARRAY", writeXitongsys(t, rows, true, 7),
			map[string]pqMode{"billed_amount": pqDecFLBA, "received_date": pqDate, "emergency": pqBytes}},
		{"arrow-go", writeArrow(t, arrowCols, rows, 6),
			map[string]pqMode{"billed_amount": pqDecFLBA, "claim_id": pqBytes, "line_no": pqInt64, "emergency": pqBool}},
		{"arrow-go, decimals as integers, v2 pages, small pages", writeArrowWith(t, arrowCols, rows, 9,
			parquet.WithStoreDecimalAsInteger(true), parquet.WithDataPageVersion(parquet.DataPageV2), parquet.WithDataPageSize(64),
			parquet.WithBatchSize(3), parquet.WithCompression(compress.Codecs.Zstd)),
			map[string]pqMode{"billed_amount": pqDec64}},
	}
	for _, f := range files {
		t.Run(f.name, func(t *testing.T) {
			modes := typedModes(t, f.data, Options{})
			for name, m := range f.typed {
				if modes[name] != m {
					t.Errorf("column %s read as mode %d, want %d", name, modes[name], m)
				}
			}
			want := compareTyped(t, f.data, Options{})
			if len(want.lines) != 14 || len(want.exceptions) != 9 {
				t.Errorf("%d lines, %d exceptions; want 14 and 9", len(want.lines), len(want.exceptions))
			}
		})
	}
	t.Run("tiny MaxFieldBytes takes the text path", func(t *testing.T) {
		if modes := typedModes(t, files[0].data, Options{MaxFieldBytes: 64}); modes != nil {
			t.Errorf("modes %v, want the text path", modes)
		}
		compareTyped(t, files[0].data, Options{MaxFieldBytes: 64})
	})
}

// TestParquetTypedValueTypes runs the value-type table of
// TestParquetValueTypes through both paths.
func TestParquetTypedValueTypes(t *testing.T) {
	dec := func(p, s int32) arrow.DataType { return &arrow.Decimal128Type{Precision: p, Scale: s} }
	for _, tt := range []struct {
		column string
		typ    arrow.DataType
		value  string
	}{
		{"billed_amount", dec(10, 3), "1.500"}, {"billed_amount", dec(10, 3), "1.005"}, {"billed_amount", dec(10, 0), "12"},
		{"billed_amount", dec(10, 4), "0.05"}, {"billed_amount", dec(38, 2), "123456789012345678901.25"},
		{"billed_amount", dec(18, 2), "9999999999999999.99"}, {"billed_amount", dec(18, 2), "999999999999999.99"},
		{"billed_amount", dec(18, 2), "1000000000000000.00"}, {"billed_amount", dec(38, 20), "1.5"},
		{"billed_amount", dec(10, 2), "-0.50"}, {"billed_amount", &arrow.Decimal256Type{Precision: 40, Scale: 2}, "123.45"},
		{"billed_amount", arrow.PrimitiveTypes.Float64, "12.25"}, {"billed_amount", arrow.PrimitiveTypes.Int64, "12"},
		{"billed_amount", arrow.PrimitiveTypes.Int64, "1000000000000000"}, {"billed_amount", arrow.PrimitiveTypes.Int32, "-7"},
		{"line_no", arrow.PrimitiveTypes.Int32, "7"}, {"line_no", arrow.PrimitiveTypes.Int64, "4294967296"},
		{"line_no", arrow.PrimitiveTypes.Int64, "1000000000000000000"},
		{"claim_id", arrow.PrimitiveTypes.Int64, "987"}, {"claim_id", arrow.PrimitiveTypes.Int32, "-987"},
		{"service_date", arrow.FixedWidthTypes.Date32, "1999-12-31"}, {"service_date", arrow.FixedWidthTypes.Date32, "0001-01-01"},
		{"service_date", arrow.FixedWidthTypes.Date32, "9999-12-31"}, {"service_date", arrow.FixedWidthTypes.Date32, "1899-12-31"},
		{"service_date", arrow.FixedWidthTypes.Date32, "2200-01-01"}, {"service_date", arrow.BinaryTypes.String, "2024-02-29"},
		{"emergency", arrow.FixedWidthTypes.Boolean, "Y"}, {"emergency", arrow.FixedWidthTypes.Boolean, "N"},
		{"units", arrow.PrimitiveTypes.Int64, "0"},
	} {
		t.Run(fmt.Sprintf("%s %s %s", tt.column, tt.typ, tt.value), func(t *testing.T) {
			data := oneRowParquet(t, tt.column, tt.typ, tt.value)
			want, wantErr := readClaimsSeq("claims.parquet", data, Options{})
			got, gotErr := readClaimsPar(t, "claims.parquet", data, Options{}, 0, 0)
			sameRead(t, got, gotErr, want, wantErr)
		})
	}
}

// TestParquetMatchesCSVSynth reads claimsbatch generate's Parquet output,
// bad rows included, and the same values written as CSV (each row the CSV
// line of its values, which is what a Parquet row's raw text is): the lines
// and exceptions, raw text included, must be the same.
func TestParquetMatchesCSVSynth(t *testing.T) {
	dir := t.TempDir()
	if _, err := synth.Generate(context.Background(), synth.Config{Dir: dir, Lines: 5000, Members: 300, Seed: 7, Format: "parquet", BadShare: 0.05}); err != nil {
		t.Fatal(err)
	}
	pq := readFileBytes(t, dir+"/claims.parquet")
	modes := typedModes(t, pq, Options{})
	for name, m := range modes {
		if m == pqArrow || m == pqUnused {
			t.Errorf("column %s of the generated file is not read typed (mode %d)", name, m)
		}
	}
	// The text path's values, as CSV.
	tbl, err := openMem("claims.parquet", pq, claimColumns[:], Options{})
	if err != nil {
		t.Fatal(err)
	}
	var csv []byte
	for i, name := range tbl.header {
		if i > 0 {
			csv = append(csv, ',')
		}
		csv = appendCSVField(csv, name)
	}
	csv = append(csv, '\n')
	for {
		if _, _, err := tbl.src.next(); err != nil {
			break
		}
		csv = append(csv, tbl.src.raw()...)
		csv = append(csv, '\n')
	}
	tbl.close()

	fromCSV, err := readClaimsPar(t, "claims.csv", csv, Options{Workers: 2}, 4096, 0)
	if err != nil {
		t.Fatal(err)
	}
	fromPQ, err := readClaimsPar(t, "claims.parquet", pq, Options{Workers: 2}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	fromCSV.exceptions, fromPQ.exceptions = withoutSource(fromCSV.exceptions), withoutSource(fromPQ.exceptions)
	sameRead(t, fromPQ, nil, fromCSV, nil)
	// (Most rows are UNKNOWN_BENEFIT: the test plan has four benefits.)
	if len(fromPQ.lines) < 1000 || len(fromPQ.exceptions) < 1000 {
		t.Errorf("%d lines, %d exceptions: the generated file should have both", len(fromPQ.lines), len(fromPQ.exceptions))
	}
	compareTyped(t, pq, Options{})
}

func readFileBytes(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// randomParquet builds a claims Parquet file from a fuzzer's bytes: each
// column of a type the reader takes, typed or as strings (also types
// without a typed path), an unused column, values good and hostile (nulls,
// invalid UTF-8, long strings, out-of-range dates, integers and amounts,
// amounts of any scale), written with random row groups, pages, encodings
// and codecs.
func randomParquet(t testing.TB, seed []byte) []byte {
	// Good values make a valid row together (hostile ones include values
	// good in another column).
	good := map[string][]string{
		"claim_id": {"C1", "C2", "C3"}, "member_id": {"M1", "M2"}, "benefit_code": {"HOSPITAL_ACCOMMODATION", "OP_CONSULTATION"},
		"diagnosis_code": {"C50.9", "c509"}, "diagnosis_system": {"ICD10", ""},
		"country": {"FR", "us"}, "currency": {"EUR", "usd"}, "payee": {"member", ""}, "item_code": {"WIG", ""},
		"provider_id": {"P1"}, "emergency": {"Y", "N"}, "line_no": {"1", "2", "+3"}, "units": {"1", "2"},
		"service_date": {"2024-01-05"}, "service_end_date": {"2024-01-07"}, "received_date": {"2024-02-01"},
		"billed_amount": {"100.00", "12.5", "0"},
	}
	goodDates := map[string]int32{"service_date": int32(mustDate(t, "2024-01-05")), "service_end_date": int32(mustDate(t, "2024-01-07")), "received_date": int32(mustDate(t, "2024-03-01"))}
	return randomTable(t, seed, claimColumns[:], good, goodDates)
}

// randomMembersParquet is randomParquet for a members file.
func randomMembersParquet(t testing.TB, seed []byte) []byte {
	good := map[string][]string{
		"member_id": {"M1", "M2", "m3"}, "policy_id": {"P1", "P2"}, "coverage_start": {"2023-03-01"}, "coverage_end": {"2025-01-01", ""},
		"date_of_birth": {"1980-06-15"}, "residence_country": {"FR", "us"}, "origin_country": {"GB"}, "us_cover": {"Y", "N", ""},
		"plan_currency": {"EUR", "USD"}, "modules": {"core", "core;outpatient"}, "core_deductible": {"150.00", "0", ""},
		"core_coinsurance": {"10", "20", ""}, "core_oop_max": {"3000.00", ""}, "outpatient_deductible": {"75.00", ""},
		"outpatient_coinsurance": {"30", ""}, "outpatient_oop_max": {"1000", ""},
	}
	goodDates := map[string]int32{"coverage_start": int32(mustDate(t, "2023-03-01")), "coverage_end": int32(mustDate(t, "2025-01-01")),
		"date_of_birth": int32(mustDate(t, "1980-06-15"))}
	return randomTable(t, seed, memberColumns[:], good, goodDates)
}

// randomTable builds a Parquet file of the columns of spec from a fuzzer's
// bytes (see randomParquet); good holds each column's good values as text,
// goodDates those of the date columns.
func randomTable(t testing.TB, seed []byte, spec []column, good map[string][]string, goodDates map[string]int32) []byte {
	c := &choices{seed}
	str := arrow.BinaryTypes.String
	var fields []arrow.Field
	var kinds []kind
	for _, col := range spec {
		if !col.required && c.next(3) == 0 {
			continue
		}
		var typ arrow.DataType = str
		switch col.kind {
		case kindString:
			typ = []arrow.DataType{str, str, arrow.BinaryTypes.Binary}[c.next(3)]
			if strings.HasSuffix(col.name, "_id") && c.next(4) == 0 {
				typ = arrow.PrimitiveTypes.Int64 // identifiers may be integers
			}
		case kindInt:
			typ = []arrow.DataType{arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Int64, str, arrow.PrimitiveTypes.Int16, arrow.PrimitiveTypes.Uint32}[c.next(5)]
		case kindDate:
			typ = []arrow.DataType{arrow.FixedWidthTypes.Date32, arrow.FixedWidthTypes.Date32, str}[c.next(3)]
		case kindMoney:
			typ = []arrow.DataType{
				&arrow.Decimal128Type{Precision: 18, Scale: 2}, &arrow.Decimal128Type{Precision: 9, Scale: int32(c.next(5))},
				&arrow.Decimal128Type{Precision: 38, Scale: int32(c.next(6))}, arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Float64,
				&arrow.Decimal256Type{Precision: 40, Scale: 2}, str,
			}[c.next(7)]
		case kindFlag:
			typ = []arrow.DataType{arrow.FixedWidthTypes.Boolean, str}[c.next(2)]
		}
		fields = append(fields, arrow.Field{Name: col.name, Type: typ, Nullable: true})
		kinds = append(kinds, col.kind)
	}
	if c.next(2) == 0 {
		typ := []arrow.DataType{str, arrow.PrimitiveTypes.Float64, arrow.FixedWidthTypes.Timestamp_ms, arrow.PrimitiveTypes.Int8}[c.next(4)]
		at := c.next(len(fields) + 1)
		fields = append(fields[:at], append([]arrow.Field{{Name: "note", Type: typ, Nullable: true}}, fields[at:]...)...)
		kinds = append(kinds[:at], append([]kind{0}, kinds[at:]...)...)
	}
	schema := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	rows := 1 + c.next(60)
	hostile := []string{"", " x ", "x\xff", "\xc3", "\xa9", strings.Repeat("z", 300), "a,\"b\"\nc", "NOPE", "2024-13-01", "1.005", "-1", "y",
		"\xff\x01\x00\x00\x00\x00\x00\x00\x00\xff"} // the last: a string with a typed value's marks (typed.go)
	hostile = append(hostile, "CANCER_DEVICE", "provider", "250.01", "ICD9", "SNOMED", "2024-01-01", "2024-01-05")
	badDates := []int32{int32(mustDate(t, "2024-01-04")), int32(minDate) - 1, int32(maxDate) + 1, int32(minDate), int32(maxDate),
		int32(claim.FromCivil(1899, 12, 31)), int32(claim.FromCivil(2200, 1, 1)), 0}
	goodInts := []int64{1, 2, 3, 12}
	badInts := []int64{0, -1, 1<<31 - 1, 1 << 31, 1e15, 1e16, 999_999_999_999_999_999, -1e18, math.MaxInt64, math.MinInt64}
	goodUnscaled := []int64{10000, 1250, 0, 1005, 1500, 7, 99_999_999_999_999_999, 1e17}
	badUnscaled := []int64{-50, -1e17, math.MaxInt64, math.MinInt64, 1}
	// Each row is good but for at most two cells: so that a typed value the
	// typed reader gets wrong shows, not hidden behind another bad value.
	bad := make([][]bool, rows)
	for r := range bad {
		bad[r] = make([]bool, len(fields))
		for n := c.next(3); n > 0; n-- {
			bad[r][c.next(len(fields))] = true
		}
	}
	for i, f := range fields {
		fb := b.Field(i)
		for r := range rows {
			hostileCell := bad[r][i]
			if hostileCell && c.next(3) == 0 {
				fb.AppendNull()
				continue
			}
			pickInt := func(good, bad []int64) int64 {
				if hostileCell {
					return bad[c.next(len(bad))]
				}
				return good[c.next(len(good))]
			}
			text := func() string {
				if v := good[f.Name]; len(v) > 0 && !hostileCell {
					return v[c.next(len(v))]
				}
				return hostile[c.next(len(hostile))]
			}
			switch fb := fb.(type) {
			case *array.StringBuilder:
				fb.Append(text())
			case *array.BinaryBuilder:
				fb.AppendString(text())
			case *array.Int8Builder:
				fb.Append(int8(pickInt(goodInts, badInts)))
			case *array.Int16Builder:
				fb.Append(int16(pickInt(goodInts, badInts)))
			case *array.Int32Builder:
				fb.Append(int32(pickInt(goodInts, badInts)))
			case *array.Int64Builder:
				fb.Append(pickInt(goodInts, badInts))
			case *array.Uint32Builder:
				fb.Append(uint32(pickInt(goodInts, badInts)))
			case *array.Date32Builder:
				if hostileCell {
					fb.Append(arrow.Date32(badDates[c.next(len(badDates))]))
				} else {
					fb.Append(arrow.Date32(goodDates[f.Name]))
				}
			case *array.BooleanBuilder:
				fb.Append(c.next(2) == 0)
			case *array.Float64Builder:
				if hostileCell {
					fb.Append([]float64{1.005, math.NaN(), 1e300, -2}[c.next(4)])
				} else {
					fb.Append([]float64{12.25, 0.1, 7}[c.next(3)])
				}
			case *array.TimestampBuilder:
				fb.Append(arrow.Timestamp(pickInt(goodInts, badInts)))
			case *array.Decimal128Builder:
				u := pickInt(goodUnscaled, badUnscaled)
				switch p := fb.Type().(*arrow.Decimal128Type).Precision; {
				case p <= 9:
					u %= 1e9
				case p <= 18:
					u %= 1e18
				case hostileCell && c.next(2) == 0:
					fb.Append(decimal128.New(1<<40, 12345)) // beyond int64
					continue
				}
				fb.Append(decimal128.FromI64(u))
			case *array.Decimal256Builder:
				fb.Append(decimal256.FromI64(pickInt(goodUnscaled, badUnscaled)))
			default:
				t.Fatalf("no value for %T", fb)
			}
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	props := []parquet.WriterProperty{
		parquet.WithMaxRowGroupLength(int64(1 + c.next(20))),
		parquet.WithDictionaryDefault(c.next(2) == 0),
		parquet.WithStoreDecimalAsInteger(c.next(2) == 0),
		parquet.WithCompression([]compress.Compression{compress.Codecs.Snappy, compress.Codecs.Zstd, compress.Codecs.Uncompressed}[c.next(3)]),
	}
	if c.next(2) == 0 {
		props = append(props, parquet.WithDataPageVersion(parquet.DataPageV2))
	}
	if c.next(2) == 0 { // several pages per column chunk
		props = append(props, parquet.WithDataPageSize(int64(16+c.next(200))), parquet.WithBatchSize(int64(1+c.next(5))))
	}
	var buf bytes.Buffer
	w, err := pqarrow.NewFileWriter(schema, &buf, parquet.NewWriterProperties(props...), pqarrow.DefaultWriterProps())
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

// FuzzParquetTyped: the typed reader reads any file of random column types
// and hostile values exactly as the text path does, with any batch size and
// number of goroutines.
func FuzzParquetTyped(f *testing.F) {
	for i := range 20 {
		f.Add([]byte(fmt.Sprintf("%d%s", i, strings.Repeat("\x07\x02\x0b\x01", i))))
	}
	f.Fuzz(compareRandomParquet)
}

// compareRandomParquet reads randomParquet(seed) with both paths.
func compareRandomParquet(t *testing.T, seed []byte) {
	data := randomParquet(t, seed)
	opt, _, _ := parallelOptions(seed)
	want, wantErr := readClaimsSeq("claims.parquet", data, opt)
	got, gotErr := readClaimsPar(t, "claims.parquet", data, opt, 0, 0)
	sameRead(t, got, gotErr, want, wantErr)
}

// TestParquetTypedRandom runs FuzzParquetTyped's comparison on 200 random
// files in the default test run.
func TestParquetTypedRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	n := 200
	if raceEnabled {
		n = 40
	}
	for range n {
		seed := make([]byte, 40+rng.IntN(400))
		for i := range seed {
			seed[i] = byte(rng.UintN(256))
		}
		compareRandomParquet(t, seed)
	}
}

// TestParquetTypedCorrupted flips bytes of a valid file: whenever both
// paths read the result, they read the same; a typed read that fails names
// the row and wraps ErrCorrupt, and never crashes. (The typed reader may
// refuse a page the text path reads: a page whose decoded values do not
// match its definition levels.)
func TestParquetTypedCorrupted(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	base := writeXitongsys(t, fixtureRows(200), true, 50)
	n := 400
	if raceEnabled {
		n = 60
	}
	for range n {
		data := bytes.Clone(base)
		for range 1 + rng.IntN(4) {
			data[rng.IntN(len(data)-8)] ^= byte(1 + rng.IntN(255))
		}
		want, wantErr := readClaimsSeq("claims.parquet", data, Options{})
		got, gotErr := readClaimsPar(t, "claims.parquet", data, Options{BatchSize: 7}, 0, 0)
		if gotErr != nil {
			if !errors.Is(gotErr, ErrCorrupt) && !errors.Is(gotErr, ErrFormat) && !errors.Is(gotErr, ErrMissingColumn) || !strings.HasPrefix(gotErr.Error(), "claims.parquet: ") {
				t.Fatalf("error %v", gotErr)
			}
			continue
		}
		if wantErr == nil {
			sameRead(t, got, nil, want, nil)
		}
	}
}
