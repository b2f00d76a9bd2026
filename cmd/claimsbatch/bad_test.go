package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"claimsbatch/claim"
	"claimsbatch/writers"
)

// Hostile and broken input through the command line: every file of
// testdata/bad (its README lists them with their outcome), the files too big
// to commit (built here into a temporary directory), the limits that protect
// the machine, and outputs that cannot be written. Each case asserts the
// exact outcome: the exit code; for exit 0 every exception row (source, row,
// code, field) and the counts; for exit 1 and 2 a message naming the file
// (and the row and column where one applies) and an output directory with
// nothing published in it.

var regenBad = flag.Bool("regen-bad", false, "rewrite the generated files of testdata/bad (Parquet, .csv.gz) instead of running TestBadCorpus")

const badDir = "../../testdata/bad"

// The sample members file's own exceptions, which every run with it reports
// after the claims files' ones.
var badSampleMembersEx = []string{
	"members.csv 11 INVALID_VALUE core_deductible",
	"members.csv 13 INVALID_MEMBER coverage_start",
}

// badSampleClaimsEx are the sample claims' exceptions that do not depend on the
// members file (rows 46 to 52), after the rows each case lists itself.
var badSampleClaimsEx = []string{
	"claims.csv 46 UNKNOWN_MEMBER member_id",
	"claims.csv 47 UNKNOWN_BENEFIT benefit_code",
	"claims.csv 48 MISSING_FIELD country",
	"claims.csv 49 INVALID_VALUE service_date",
	"claims.csv 50 INVALID_VALUE billed_amount",
	"claims.csv 51 PARSE_ERROR ",
	"claims.csv 52 DUPLICATE_LINE line_no",
}

// badExRows expands "source code field" over rows: one "source row code field"
// per row.
func badExRows(source, code, field string, rows ...int) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = fmt.Sprintf("%s %d %s %s", source, r, code, field)
	}
	return out
}

func badConcat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// badCase is one hostile input and its exact outcome.
type badCase struct {
	name string
	file string                                // in testdata/bad; "" when gen builds it
	gen  func(t *testing.T, dir string) string // builds a file too big to commit in dir and returns its path
	role string                                // the file's flag: "claims" (default), "members" or "fx"
	exit int

	// exit 0
	exceptions []string // every exception row, "source row code field", in file order
	rows       int64    // claim rows read
	lines      int64    // claim lines adjudicated

	// exit 1 and 2: stderr holds the file's name and each of these; exit
	// 0: the exceptions' messages hold each of these
	messages []string
}

// badCases is the table of TestBadCorpus: one case per file of testdata/bad
// (its README.md says the same in words).
func badCases() []badCase {
	claimsOnly := func(ex ...string) []string { return badConcat(ex, badSampleMembersEx) }
	return []badCase{
		// CSV claims, row level: the run completes.
		{name: "truncated last row", file: "claims_truncated.csv", rows: 3, lines: 2,
			exceptions: claimsOnly("claims_truncated.csv 3 PARSE_ERROR "), messages: []string{"record has 7 fields, the header has 17"}},
		{name: "truncated inside quotes", file: "claims_truncated_quoted.csv", rows: 2, lines: 1,
			exceptions: claimsOnly("claims_truncated_quoted.csv 2 PARSE_ERROR provider_id"),
			messages:   []string{`parse error on line 3, column 77: extraneous or missing " in quoted-field`}},
		{name: "bad quotes", file: "claims_bad_quotes.csv", rows: 4, lines: 2,
			exceptions: claimsOnly("claims_bad_quotes.csv 2 PARSE_ERROR provider_id", "claims_bad_quotes.csv 3 PARSE_ERROR service_date")},
		{name: "UTF-8 BOM", file: "claims_bom.csv", rows: 2, lines: 2, exceptions: claimsOnly()},
		{name: "CRLF", file: "claims_crlf.csv", rows: 4, lines: 3,
			exceptions: claimsOnly("claims_crlf.csv 4 INVALID_VALUE service_date")},
		{name: "Latin-1 bytes", file: "claims_latin1.csv", rows: 3, lines: 1,
			exceptions: claimsOnly("claims_latin1.csv 1 PARSE_ERROR provider_id", "claims_latin1.csv 2 PARSE_ERROR claim_id"),
			messages:   []string{"field is not valid UTF-8"}},
		{name: "header only", file: "claims_header_only.csv", rows: 0, lines: 0, exceptions: claimsOnly()},
		{name: "duplicate unknown columns", file: "claims_duplicate_unknown_header.csv", rows: 2, lines: 2, exceptions: claimsOnly()},
		{name: "blank lines", file: "claims_blank_lines.csv", rows: 3, lines: 2,
			exceptions: claimsOnly("claims_blank_lines.csv 2 INVALID_VALUE service_date")},
		{name: "trailing delimiters everywhere", file: "claims_trailing_delimiters.csv", rows: 2, lines: 2, exceptions: claimsOnly()},
		{name: "trailing delimiters on some rows", file: "claims_trailing_delimiter_rows.csv", rows: 3, lines: 1,
			exceptions: claimsOnly("claims_trailing_delimiter_rows.csv 1 PARSE_ERROR ", "claims_trailing_delimiter_rows.csv 3 PARSE_ERROR ")},

		// CSV claims, file level.
		{name: "unbalanced quote", file: "claims_unbalanced_quote.csv", exit: 2,
			messages: []string{"row 2: column benefit_code: the quoted field opened on line 3, column 37 never closes: the file ends inside it on line 5"}},
		{name: "Latin-1 header", file: "claims_latin1_header.csv", exit: 2, messages: []string{"header: column 18 is not valid UTF-8: claimsbatch reads UTF-8 CSV; convert the file first"}},
		{name: "empty file", file: "claims_empty.csv", exit: 2, messages: []string{"no header row"}},
		{name: "duplicate header", file: "claims_duplicate_header.csv", exit: 2, messages: []string{"column member_id appears twice"}},
		{name: "missing column", file: "claims_missing_column.csv", exit: 2, messages: []string{"missing required column billed_amount"}},
		{name: "wrong extension", file: "claims_wrong_extension.txt", exit: 2, messages: []string{"extension is not .csv, .csv.gz or .parquet"}},

		// .csv.gz
		{name: "corrupt gzip", file: "claims_corrupt.csv.gz", exit: 2, messages: []string{"row 43: corrupt file: flate: corrupt input"}},
		{name: "truncated gzip", file: "claims_truncated.csv.gz", exit: 2, messages: []string{"row 85: corrupt file: unexpected EOF"}},
		{name: "not gzip", file: "claims_not_gzip.csv.gz", exit: 2, messages: []string{"not a gzip stream"}},

		// Parquet
		{name: "Parquet nulls in required columns", file: "claims_nulls.parquet", rows: 5, lines: 1,
			exceptions: claimsOnly(
				"claims_nulls.parquet 2 MISSING_FIELD member_id",
				"claims_nulls.parquet 3 MISSING_FIELD service_date",
				"claims_nulls.parquet 4 MISSING_FIELD billed_amount",
				"claims_nulls.parquet 5 MISSING_FIELD line_no")},
		{name: "Parquet BOOLEAN amount", file: "claims_bool_amount.parquet", exit: 2,
			messages: []string{"column billed_amount: Parquet type bool is not accepted for an amount"}},
		{name: "Parquet truncated", file: "claims_truncated.parquet", exit: 2, messages: []string{"not a readable Parquet file"}},
		{name: "Parquet wrong magic", file: "claims_bad_magic.parquet", exit: 2, messages: []string{"not a readable Parquet file"}},
		{name: "Parquet corrupt page", file: "claims_corrupt_page.parquet", exit: 2, messages: []string{"row 1: ", "corrupt file"}},

		// members (with the sample claims and FX rates)
		{name: "members overlapping spans", file: "members_overlap.csv", role: "members", rows: 52, lines: 40,
			exceptions: badConcat(
				badExRows("claims.csv", "INVALID_MEMBER", "member_id", 1, 4),
				[]string{"claims.csv 10 NO_FX_RATE currency"},
				badExRows("claims.csv", "INVALID_MEMBER", "member_id", 44, 45),
				badSampleClaimsEx,
				badExRows("members_overlap.csv", "INVALID_MEMBER", "coverage_start", 2, 5),
				[]string{"members_overlap.csv 13 INVALID_VALUE core_deductible", "members_overlap.csv 15 INVALID_MEMBER coverage_start"}),
			messages: []string{"span 2024-06-01..2025-05-31 overlaps the span 2024-01-01..open of row 1",
				"span 2024-01-01..open overlaps the span 2023-06-01..2024-01-01 of row 6"}},
		{name: "members invalid options and values", file: "members_invalid.csv", role: "members", rows: 52, lines: 11,
			exceptions: badConcat(
				badExRows("claims.csv", "INVALID_MEMBER", "member_id", 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12),
				badExRows("claims.csv", "INVALID_MEMBER", "member_id", 23, 24, 25, 26, 27, 28),
				badExRows("claims.csv", "INVALID_MEMBER", "member_id", 29, 30, 31, 32, 33, 34, 35, 36, 37),
				badExRows("claims.csv", "INVALID_MEMBER", "member_id", 38, 39, 40, 41, 42, 43, 44, 45),
				badSampleClaimsEx,
				[]string{
					"members_invalid.csv 2 INVALID_VALUE core_coinsurance",
					"members_invalid.csv 3 INVALID_VALUE core_oop_max",
					"members_invalid.csv 4 INVALID_VALUE plan_currency",
					"members_invalid.csv 5 INVALID_VALUE modules",
					"members_invalid.csv 8 INVALID_VALUE coverage_start",
					"members_invalid.csv 9 INVALID_VALUE us_cover",
					"members_invalid.csv 10 INVALID_VALUE outpatient_oop_max",
					"members_invalid.csv 11 INVALID_VALUE core_deductible",
					"members_invalid.csv 13 INVALID_MEMBER coverage_start",
				})},
		{name: "members missing column", file: "members_missing_column.csv", role: "members", exit: 2,
			messages: []string{"missing required column plan_currency"}},

		// FX (with the sample claims and members)
		{name: "FX zero, negative and non-numeric rates", file: "fx_bad_rates.csv", role: "fx", rows: 52, lines: 42,
			exceptions: badConcat(
				[]string{"claims.csv 10 NO_FX_RATE currency"},
				badExRows("claims.csv", "INVALID_MEMBER", "member_id", 44, 45),
				badSampleClaimsEx,
				badSampleMembersEx,
				[]string{
					"fx_bad_rates.csv 2 INVALID_VALUE rate",
					"fx_bad_rates.csv 4 INVALID_VALUE rate",
					"fx_bad_rates.csv 5 INVALID_VALUE rate",
					"fx_bad_rates.csv 6 MISSING_FIELD rate",
					"fx_bad_rates.csv 7 INVALID_VALUE date",
					"fx_bad_rates.csv 9 PARSE_ERROR ",
				}),
			messages: []string{"rate 0 is not greater than 0", "rate -0.92 is not greater than 0", "rate abc is not a decimal number",
				"rate is empty", "a second rate for CHF→EUR on 2024-01-01 (row 1 has one)", "record has 5 fields, the header has 4"}},
	}
}

// limitCases are the inputs too big to commit, generated into a temporary
// directory: the field, row and decompression limits that protect the
// machine, through the command line with their default values.
func limitCases() []badCase {
	claimsOnly := func(ex ...string) []string { return badConcat(ex, badSampleMembersEx) }
	return []badCase{
		{name: "field of 2 MiB", gen: genField2MiB, rows: 3, lines: 2,
			exceptions: claimsOnly("claims_field_2mib.csv 2 PARSE_ERROR provider_id"),
			messages:   []string{"field is 2097152 bytes long, more than the limit of 1048576"}},
		{name: "field of 10 MB", gen: genField10MB, exit: 2,
			messages: []string{"row 2: record longer than 4194304 bytes"}},
		{name: "row of 5 MiB", gen: genRow5MiB, exit: 2,
			messages: []string{"row 2: record longer than 4194304 bytes"}},
		{name: "10000 columns", gen: gen10000Columns, rows: 3, lines: 2,
			exceptions: claimsOnly("claims_10000_columns.csv 3 PARSE_ERROR "), messages: []string{"record has 17 fields, the header has 10000"}},
		{name: "gzip bomb", gen: genGzipBomb, exit: 2,
			messages: []string{"decompressed more than 67108864 bytes from a file of", "a decompression bomb?"}},
		{name: "Parquet bomb, dictionary", gen: genParquetBombDict, exit: 2,
			messages: []string{"row 1: decoded more than 67108864 bytes from a file of", "a decompression bomb?"}},
		{name: "Parquet bomb, plain pages", gen: genParquetBombPlain, exit: 2,
			messages: []string{"row 1: decoded more than 67108864 bytes from a file of", "a decompression bomb?"}},
	}
}

// TestBadCorpus runs every case of badCases through the command line, and
// checks that every file of testdata/bad has a case.
func TestBadCorpus(t *testing.T) {
	if *regenBad {
		regenerateBadFiles(t)
		return
	}
	cases := badCases()
	covered := map[string]bool{"README.md": true}
	for _, c := range cases {
		covered[c.file] = true
	}
	entries, err := os.ReadDir(badDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !covered[e.Name()] {
			t.Errorf("testdata/bad/%s has no case in badCases", e.Name())
		}
	}
	runBadCases(t, cases)
}

// TestLimits runs limitCases through the command line.
func TestLimits(t *testing.T) {
	runBadCases(t, limitCases())
}

// runBadCases runs each case and checks its exact outcome.
func runBadCases(t *testing.T, cases []badCase) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(badDir, c.file)
			if c.gen != nil {
				path = c.gen(t, t.TempDir())
			}
			args := map[string]string{"claims": sample + "/claims.csv", "members": sample + "/members.csv", "fx": sample + "/fx.csv"}
			role := c.role
			if role == "" {
				role = "claims"
			}
			args[role] = path
			out := filepath.Join(t.TempDir(), "out")
			code, stderr := runCLI(t, "run", "--claims", args["claims"], "--members", args["members"], "--fx", args["fx"], "--out", out, "--quiet", "--as-of", sampleAsOf)
			if code != c.exit {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, c.exit, stderr)
			}
			if c.exit != 0 {
				for _, want := range append([]string{filepath.Base(path) + ": "}, c.messages...) {
					if !strings.Contains(stderr, want) {
						t.Errorf("stderr does not say %q:\n%s", want, stderr)
					}
				}
				badNothingPublished(t, out)
				return
			}
			exceptions := filepath.Join(out, "exceptions.csv")
			if got := badExceptionKeys(t, exceptions); !reflect.DeepEqual(got, c.exceptions) {
				t.Errorf("exceptions\n got %q\nwant %q", got, c.exceptions)
			}
			var messages []string
			for _, r := range readCSV(t, exceptions) {
				messages = append(messages, r["message"])
			}
			for _, want := range c.messages {
				if !slices.Contains(messages, want) {
					t.Errorf("no exception says %q; messages:\n%s", want, strings.Join(messages, "\n"))
				}
			}
			if got := int64(len(readCSV(t, filepath.Join(out, "remittance.csv")))); got != c.lines {
				t.Errorf("%d lines adjudicated, want %d", got, c.lines)
			}
			checkConservation(t, out, c.rows) // the manifest's counts and totals agree with the files
		})
	}
}

// badExceptionKeys returns "source row code field" per row of an exceptions file.
func badExceptionKeys(t *testing.T, path string) []string {
	t.Helper()
	var keys []string
	for _, r := range readCSV(t, path) {
		keys = append(keys, strings.Join([]string{r["source"], r["row"], r["code"], r["field"]}, " "))
	}
	return keys
}

// badNothingPublished asserts that a failed run left nothing in its output
// directory: no output, no manifest, no temporary file (the directory itself
// may exist: the run creates it before it reads).
func badNothingPublished(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("%s left in the output directory of a failed run", e.Name())
	}
	// Nor beside it: no stage, no previous run aside, no lock.
	base := filepath.Base(dir)
	siblings, err := os.ReadDir(filepath.Dir(dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range siblings {
		if n := e.Name(); strings.HasPrefix(n, writers.TempPrefix+base+"-") || strings.HasPrefix(n, ".claimsbatch-old-"+base+"-") || n == base+writers.LockSuffix {
			t.Errorf("%s left beside the output directory of a failed run", n)
		}
	}
}

// badClaimRow returns a claims row from the sample's columns with some fields
// changed.
func badClaimRow(changes map[string]string) []string {
	row := map[string]string{
		"claim_id": "C1001", "line_no": "1", "member_id": "M101", "service_date": "2024-03-01", "received_date": "2024-03-08",
		"benefit_code": "HOSPITAL_ACCOMMODATION", "diagnosis_code": "K35.8", "country": "FR", "emergency": "N",
		"provider_id": "PR-HOSP1", "currency": "USD", "billed_amount": "1200.00",
	}
	for k, v := range changes {
		row[k] = v
	}
	rec := make([]string, len(badClaimsColumns))
	for i, name := range badClaimsColumns {
		rec[i] = row[name]
	}
	return rec
}

var badClaimsColumns = []string{"claim_id", "line_no", "member_id", "service_date", "service_end_date", "received_date",
	"benefit_code", "diagnosis_code", "item_code", "country", "emergency", "trip_id", "provider_id", "payee",
	"currency", "billed_amount", "units"}

// badWriteClaimsCSV writes a claims file: the header, then rows.
func badWriteClaimsCSV(t *testing.T, path string, header []string, rows ...[]string) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	w.Write(header)
	w.WriteAll(rows)
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// genField2MiB: a field over the 1 MiB field limit makes its row a
// PARSE_ERROR; the rows around it are adjudicated.
func genField2MiB(t *testing.T, dir string) string {
	return badWriteClaimsCSV(t, filepath.Join(dir, "claims_field_2mib.csv"), badClaimsColumns,
		badClaimRow(nil),
		badClaimRow(map[string]string{"claim_id": "C1002", "member_id": "M102", "provider_id": strings.Repeat("P", 2<<20)}),
		badClaimRow(map[string]string{"claim_id": "C1003", "member_id": "M103"}))
}

// genField10MB: a field of 10 MB makes a row over the 4 MiB row limit: no
// later row boundary can be trusted, the run fails.
func genField10MB(t *testing.T, dir string) string {
	return badWriteClaimsCSV(t, filepath.Join(dir, "claims_field_10mb.csv"), badClaimsColumns,
		badClaimRow(nil),
		badClaimRow(map[string]string{"claim_id": "C1002", "member_id": "M102", "provider_id": strings.Repeat("P", 10_000_000)}),
		badClaimRow(map[string]string{"claim_id": "C1003", "member_id": "M103"}))
}

// genRow5MiB: every field under the field limit, the row over the row limit.
func genRow5MiB(t *testing.T, dir string) string {
	header := append(append([]string{}, badClaimsColumns...), "note1", "note2", "note3", "note4", "note5", "note6")
	big := strings.Repeat("n", 900<<10)
	return badWriteClaimsCSV(t, filepath.Join(dir, "claims_row_5mib.csv"), header,
		append(badClaimRow(nil), "", "", "", "", "", ""),
		append(badClaimRow(map[string]string{"claim_id": "C1002", "member_id": "M102"}), big, big, big, big, big, big))
}

// gen10000Columns: a header of 10,000 columns (17 known, the rest ignored),
// two good rows and one of 17 fields.
func gen10000Columns(t *testing.T, dir string) string {
	header := append([]string{}, badClaimsColumns...)
	for i := len(header); i < 10_000; i++ {
		header = append(header, fmt.Sprintf("extra_%05d", i))
	}
	wide := func(rec []string) []string {
		for i := len(rec); i < 10_000; i++ {
			rec = append(rec, strconv.Itoa(i))
		}
		return rec
	}
	return badWriteClaimsCSV(t, filepath.Join(dir, "claims_10000_columns.csv"), header,
		wide(badClaimRow(nil)),
		wide(badClaimRow(map[string]string{"claim_id": "C1002", "member_id": "M102"})),
		badClaimRow(map[string]string{"claim_id": "C1003", "member_id": "M103"}))
}

// genGzipBomb: 100 MiB of 1 MB lines in a file of about 100 KB. The reader
// stops at 64 MiB (the floor of the decompression budget) and the run fails.
func genGzipBomb(t *testing.T, dir string) string {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write([]byte(strings.Join(badClaimsColumns, ",") + "\n"))
	line := []byte(strings.Repeat("x", 1<<20-1) + "\n")
	for range 100 {
		zw.Write(line)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "claims_bomb.csv.gz")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// badParquetColumn is a column of a Parquet file built by badWriteParquet.
type badParquetColumn struct {
	name string
	typ  arrow.DataType
}

// badWriteParquet writes rows (one value per column: nil = null, a string for
// strings, dates as YYYY-MM-DD and decimals as text, int for integers, bool)
// with arrow-go's pqarrow writer.
func badWriteParquet(t *testing.T, cols []badParquetColumn, rows [][]any, props ...parquet.WriterProperty) []byte {
	t.Helper()
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: c.name, Type: c.typ, Nullable: true}
	}
	schema := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for _, row := range rows {
		for i, v := range row {
			fb := b.Field(i)
			if v == nil {
				fb.AppendNull()
				continue
			}
			switch fb := fb.(type) {
			case *array.StringBuilder:
				fb.Append(v.(string))
			case *array.BooleanBuilder:
				fb.Append(v.(bool))
			case *array.Int32Builder:
				fb.Append(int32(v.(int)))
			case *array.Date32Builder:
				d, err := claim.ParseDate(v.(string))
				if err != nil {
					t.Fatal(err)
				}
				fb.Append(arrow.Date32(d))
			case *array.Decimal128Builder:
				n, err := decimal128.FromString(v.(string), 12, 2)
				if err != nil {
					t.Fatal(err)
				}
				fb.Append(n)
			default:
				t.Fatalf("badWriteParquet: no value for %T", fb)
			}
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
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

// badParquetClaims is a small typed claims file: DATE, DECIMAL(12,2), INT32.
func badParquetClaims(t *testing.T, amount arrow.DataType, rows [][]any, props ...parquet.WriterProperty) []byte {
	cols := []badParquetColumn{
		{"claim_id", arrow.BinaryTypes.String}, {"line_no", arrow.PrimitiveTypes.Int32}, {"member_id", arrow.BinaryTypes.String},
		{"service_date", arrow.FixedWidthTypes.Date32}, {"benefit_code", arrow.BinaryTypes.String}, {"country", arrow.BinaryTypes.String},
		{"currency", arrow.BinaryTypes.String}, {"billed_amount", amount}, {"provider_id", arrow.BinaryTypes.String},
	}
	return badWriteParquet(t, cols, rows, props...)
}

func badGoodParquetRows() [][]any {
	return [][]any{
		{"C1001", 1, "M101", "2024-03-01", "HOSPITAL_ACCOMMODATION", "FR", "USD", "1200.00", "PR-HOSP1"},
		{"C1002", 1, "M102", "2024-03-01", "HOSPITAL_ACCOMMODATION", "FR", "USD", "5000.00", "PR-HOSP1"},
		{"C1003", 1, "M103", "2024-03-01", "HOSPITAL_ACCOMMODATION", "FR", "USD", "20000.00", "PR-HOSP1"},
		{"C1004", 1, "M104", "2024-03-01", "SURGEON_ANAESTHETIST", "FR", "USD", "20000.00", "PR-SURG7"},
	}
}

// badParquetFiles builds the committed Parquet files of testdata/bad.
func badParquetFiles(t *testing.T) map[string][]byte {
	decimal := &arrow.Decimal128Type{Precision: 12, Scale: 2}
	snappy := parquet.WithCompression(compress.Codecs.Snappy)
	files := map[string][]byte{}
	files["claims_nulls.parquet"] = badParquetClaims(t, decimal, [][]any{
		{"C1001", 1, "M101", "2024-03-01", "HOSPITAL_ACCOMMODATION", "FR", "USD", "1200.00", "PR-HOSP1"},
		{"C1002", 1, nil, "2024-03-01", "HOSPITAL_ACCOMMODATION", "FR", "USD", "5000.00", "PR-HOSP1"},
		{"C1003", 1, "M103", nil, "HOSPITAL_ACCOMMODATION", "FR", "USD", "20000.00", "PR-HOSP1"},
		{"C1004", 1, "M104", "2024-03-01", "SURGEON_ANAESTHETIST", "FR", "USD", nil, "PR-SURG7"},
		{"C1005", nil, "M101", "2024-03-02", "HOSPITAL_ACCOMMODATION", "FR", "USD", "10.00", "PR-HOSP1"},
	}, snappy)
	boolRows := badGoodParquetRows()
	for i := range boolRows {
		boolRows[i][7] = true
	}
	files["claims_bool_amount.parquet"] = badParquetClaims(t, arrow.FixedWidthTypes.Boolean, boolRows, snappy)

	good := badParquetClaims(t, decimal, badGoodParquetRows(), snappy, parquet.WithDictionaryDefault(false))
	files["claims_truncated.parquet"] = good[:len(good)-100]
	magic := bytes.Clone(good)
	copy(magic[len(magic)-4:], "PARX")
	files["claims_bad_magic.parquet"] = magic

	// Overwrite the body of the first data page of claim_id (its page
	// header, which says how long the body is, stays intact).
	pf, err := file.NewParquetReader(bytes.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	chunk, err := pf.MetaData().RowGroup(0).ColumnChunk(0)
	if err != nil {
		t.Fatal(err)
	}
	corrupt := bytes.Clone(good)
	start, size := chunk.DataPageOffset(), chunk.TotalCompressedSize()
	for i := start + size/2; i < start+size; i++ {
		corrupt[i] = 0xff
	}
	files["claims_corrupt_page.parquet"] = corrupt
	return files
}

// badGzipFiles builds the committed .csv.gz files of testdata/bad.
func badGzipFiles(t *testing.T) map[string][]byte {
	var rows bytes.Buffer
	rows.WriteString(strings.Join(badClaimsColumns, ",") + "\n")
	for i := range 160 {
		rec := badClaimRow(map[string]string{"claim_id": fmt.Sprintf("C%d", 5000+i)})
		rows.WriteString(strings.Join(rec, ",") + "\n")
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(rows.Bytes())
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	data := gz.Bytes()
	corrupt := bytes.Clone(data)
	for i := len(data) / 2; i < len(data)/2+16; i++ {
		corrupt[i] ^= 0x55
	}
	return map[string][]byte{
		"claims_truncated.csv.gz": data[:len(data)*2/3],
		"claims_corrupt.csv.gz":   corrupt,
	}
}

// regenerateBadFiles rewrites the generated files of testdata/bad
// (go test ./cmd/claimsbatch -run TestBadCorpus -regen-bad).
func regenerateBadFiles(t *testing.T) {
	for _, set := range []map[string][]byte{badParquetFiles(t), badGzipFiles(t)} {
		for name, data := range set {
			if err := os.WriteFile(filepath.Join(badDir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote testdata/bad/%s (%d bytes)", name, len(data))
		}
	}
}

// badBombSchema is the claims columns of the Parquet bombs, plus note, the
// column that explodes.
func badBombSchema(note arrow.DataType) *arrow.Schema {
	var fields []arrow.Field
	for _, name := range []string{"claim_id", "line_no", "member_id", "service_date", "benefit_code", "country", "currency", "billed_amount"} {
		fields = append(fields, arrow.Field{Name: name, Type: arrow.BinaryTypes.String, Nullable: true})
	}
	return arrow.NewSchema(append(fields, arrow.Field{Name: "note", Type: note, Nullable: true}), nil)
}

// badWriteBomb writes n rows of one good claim, with note as the note column.
func badWriteBomb(t *testing.T, path string, schema *arrow.Schema, n int, note arrow.Array, props ...parquet.WriterProperty) string {
	t.Helper()
	values := []string{"C1001", "1", "M101", "2024-03-01", "HOSPITAL_ACCOMMODATION", "FR", "USD", "1.00"}
	cols := make([]arrow.Array, 0, len(values)+1)
	for _, v := range values {
		b := array.NewStringBuilder(memory.DefaultAllocator)
		for range n {
			b.Append(v)
		}
		cols = append(cols, b.NewArray())
	}
	cols = append(cols, note)
	rec := array.NewRecordBatch(schema, cols, int64(n))
	defer rec.Release()
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
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// genParquetBombDict: 20,000 rows whose note is the same 1 MiB string, one
// dictionary entry compressed with zstd: a file of a few KB that decodes to
// 20 GiB.
func genParquetBombDict(t *testing.T, dir string) string {
	const n = 20_000
	dictType := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	db := array.NewStringBuilder(memory.DefaultAllocator)
	db.Append(strings.Repeat("x", 1<<20))
	dict := db.NewArray()
	ib := array.NewInt32Builder(memory.DefaultAllocator)
	for range n {
		ib.Append(0)
	}
	note := array.NewDictionaryArray(dictType, ib.NewArray(), dict)
	return badWriteBomb(t, filepath.Join(dir, "claims_bomb_dict.parquet"), badBombSchema(dictType), n, note,
		parquet.WithCompression(compress.Codecs.Zstd), parquet.WithDictionaryDefault(true))
}

// genParquetBombPlain: 100 rows of a 1 MiB note, plain encoded (no
// dictionary) and zstd compressed: pages of 1 MiB each in a file of ~10 KB.
func genParquetBombPlain(t *testing.T, dir string) string {
	const n = 100
	b := array.NewStringBuilder(memory.DefaultAllocator)
	long := strings.Repeat("x", 1<<20)
	for range n {
		b.Append(long)
	}
	return badWriteBomb(t, filepath.Join(dir, "claims_bomb_plain.parquet"), badBombSchema(arrow.BinaryTypes.String), n, b.NewArray(),
		parquet.WithCompression(compress.Codecs.Zstd), parquet.WithDictionaryDefault(false))
}

// TestModeOutputFiles: the published files are mode 0640 and the output
// directory 0750 whatever the umask (claims data is personal data).
func TestModeOutputFiles(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	for _, format := range []string{"csv", "parquet"} {
		t.Run(format, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			if code, msg := runCLI(t, sampleArgs(out, "--format", format)...); code != 0 {
				t.Fatalf("exit %d: %s", code, msg)
			}
			entries, err := os.ReadDir(out)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 6 {
				t.Errorf("%d files published, want 6", len(entries))
			}
			for _, e := range entries {
				info, err := e.Info()
				if err != nil {
					t.Fatal(err)
				}
				if mode := info.Mode(); mode != 0o640 {
					t.Errorf("%s: mode %v, want -rw-r-----", e.Name(), mode)
				}
			}
			info, err := os.Stat(out)
			if err != nil {
				t.Fatal(err)
			}
			if mode := info.Mode().Perm(); mode != 0o750 {
				t.Errorf("output directory mode %v, want 0750", mode)
			}
		})
	}
}

// TestLogCarriesNoIDs: at the default log level the logs and the summary
// carry counts and codes, never a member id, a claim id or a row.
func TestLogCarriesNoIDs(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	args := []string{"run", "--claims", sample + "/claims.csv", "--members", sample + "/members.csv", "--fx", sample + "/fx.csv", "--out", out}
	var stdout, stderr bytes.Buffer
	if code := execute(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	logs := stderr.String() + stdout.String()
	if !strings.Contains(logs, "level=INFO") || !strings.Contains(logs, "exceptions") {
		t.Fatalf("no logs at the default level:\n%s", logs)
	}
	ids := sampleIDs(t)
	for _, id := range ids {
		if id != "" && strings.Contains(logs, id) {
			t.Errorf("the logs name %s:\n%s", id, logs)
		}
	}
	// A raw row would show its dates and amounts next to each other.
	if strings.Contains(logs, "2024-03-01,") || strings.Contains(logs, "HOSPITAL_ACCOMMODATION") {
		t.Errorf("the logs hold row text:\n%s", logs)
	}
}

// TestBadOutputUnwritable: an output directory the run cannot write to (a
// run writes beside --out, in its parent, and replaces it there) fails the
// run before any work, naming the directory: exit 2, a person must fix it.
func TestBadOutputUnwritable(t *testing.T) {
	parent := filepath.Join(t.TempDir(), "runs")
	if err := os.Mkdir(parent, 0o750); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(parent, "out")
	if os.Geteuid() == 0 {
		// Permissions do not stop root: mount a read-only file system there.
		badMountTmpfs(t, parent, "ro,size=64k")
	} else {
		if err := os.Chmod(parent, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(parent, 0o750) })
	}
	code, stderr := runCLI(t, sampleArgs(out)...)
	if code != 2 {
		t.Fatalf("exit %d, want 2: %s", code, stderr)
	}
	for _, want := range []string{"output directory " + out + " is not writable"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, stderr)
		}
	}
	badNothingPublished(t, out)
}

// TestBadOutputDiskFull: a disk that fills up while the outputs are written
// fails the run (exit 1), removes the temporary files and publishes nothing.
// It needs a small file system: a 16 KiB tmpfs, which needs root.
func TestBadOutputDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a 16 KiB tmpfs as a full disk")
	}
	parent := filepath.Join(t.TempDir(), "runs")
	if err := os.Mkdir(parent, 0o750); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(parent, "out")
	badMountTmpfs(t, parent, "size=16k") // the sample's outputs are about 25 KB
	code, stderr := runCLI(t, sampleArgs(out)...)
	if code != 1 {
		t.Fatalf("exit %d, want 1: %s", code, stderr)
	}
	if !strings.Contains(stderr, "no space left on device") {
		t.Errorf("stderr does not say the disk is full:\n%s", stderr)
	}
	badNothingPublished(t, out)
	// The space is free again: a run with room publishes.
	var st syscall.Statfs_t
	if err := syscall.Statfs(parent, &st); err != nil {
		t.Fatal(err)
	}
	if used := (st.Blocks - st.Bfree) * uint64(st.Bsize); used != 0 {
		t.Errorf("%d bytes still used on the full disk after the failed run", used)
	}
}

// badMountTmpfs mounts a tmpfs with options at dir for the test, or skips the
// test when mounting is not possible (no privilege, no tmpfs).
func badMountTmpfs(t *testing.T, dir, options string) {
	t.Helper()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", options, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (%v: %s); skipped", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
}
