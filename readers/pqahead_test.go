package readers

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet/file"

	"claimsbatch/claim"
)

// aheadMembers writes a Parquet members file of n rows in row groups of
// group rows; every seventh row is bad (coinsurance 120) and every
// eleventh has a null policy_id (MISSING_FIELD).
func aheadMembers(t *testing.T, n int, group int64) string {
	t.Helper()
	var rows []map[string]string
	for i := range n {
		r := map[string]string{"member_id": fmt.Sprintf("M%03d", i), "policy_id": fmt.Sprintf("P%d", i/3),
			"coverage_start": "2023-03-01", "date_of_birth": "1980-06-15", "residence_country": "FR",
			"origin_country": "GB", "plan_currency": "EUR", "modules": "core;outpatient", "core_coinsurance": "10"}
		if i%7 == 3 {
			r["core_coinsurance"] = "120"
		}
		if i%11 == 5 {
			delete(r, "policy_id")
		}
		rows = append(rows, r)
	}
	cols := []arrowColumn{
		{"member_id", arrow.BinaryTypes.String}, {"policy_id", arrow.BinaryTypes.String},
		{"coverage_start", arrow.FixedWidthTypes.Date32}, {"date_of_birth", arrow.BinaryTypes.String},
		{"residence_country", arrow.BinaryTypes.String}, {"origin_country", arrow.BinaryTypes.String},
		{"plan_currency", arrow.BinaryTypes.String}, {"modules", arrow.BinaryTypes.String},
		{"core_coinsurance", arrow.PrimitiveTypes.Int32},
	}
	return writeFile(t, "members.parquet", writeArrow(t, cols, rows, group))
}

// readAllMembers reads path with a MembersReader of the given options.
func readAllMembers(t *testing.T, path string, opt Options) (spans []claim.RawSpan, ex []claim.Exception, rows int64, err error) {
	t.Helper()
	mr, err := OpenMembers(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer mr.Close()
	for mr.Next() {
		spans = append(spans, mr.Spans()...)
		ex = append(ex, mr.Exceptions()...)
	}
	return spans, ex, mr.Rows(), mr.Err()
}

// TestMembersParquetAhead: a Parquet members file read on several
// goroutines (pqahead.go) gives the rows, exceptions and raw texts of the
// read on one, whatever the batch size against the row groups.
func TestMembersParquetAhead(t *testing.T) {
	path := aheadMembers(t, 100, 7) // 15 row groups, the last of 2 rows
	wantSpans, wantEx, wantRows, err := readAllMembers(t, path, Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	// 14 rows with coinsurance 120, 9 with no policy_id, index 38 both.
	if wantRows != 100 || len(wantEx) != 22 || len(wantSpans) != 78 {
		t.Fatalf("one goroutine: %d rows, %d exceptions, %d spans", wantRows, len(wantEx), len(wantSpans))
	}
	if wantEx[0].Row != 4 || wantEx[0].Code != claim.InvalidValue || !strings.HasPrefix(wantEx[0].Raw, "M003,P1,2023-03-01,") {
		t.Fatalf("first exception %+v", wantEx[0])
	}
	for _, workers := range []int{2, 3, 8} {
		for _, batch := range []int{1, 4, 7, 64} {
			spans, ex, rows, err := readAllMembers(t, path, Options{Workers: workers, BatchSize: batch})
			if err != nil {
				t.Fatalf("%d workers, batch %d: %v", workers, batch, err)
			}
			if rows != wantRows || !reflect.DeepEqual(spans, wantSpans) || !reflect.DeepEqual(ex, wantEx) {
				t.Fatalf("%d workers, batch %d: %d rows, %d spans, %d exceptions differ from one goroutine's", workers, batch, rows, len(spans), len(ex))
			}
		}
	}
}

// TestMembersParquetAheadCorrupt: a row group that cannot be decoded fails
// the parallel read after the rows before it, with the error of the read on
// one goroutine; and a reader closed half-way stops its goroutines.
func TestMembersParquetAheadCorrupt(t *testing.T) {
	path := aheadMembers(t, 100, 10)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := pf.MetaData().RowGroup(6).ColumnChunk(0)
	if err != nil {
		t.Fatal(err)
	}
	start, size := cc.DataPageOffset(), cc.TotalCompressedSize()
	pf.Close()
	for i := start; i < start+size; i++ {
		data[i] = 0xff
	}
	bad := writeFile(t, "members.parquet", data)
	wantSpans, _, wantRows, wantErr := readAllMembers(t, bad, Options{Workers: 1, BatchSize: 4})
	if !errors.Is(wantErr, ErrCorrupt) || wantRows != 60 {
		t.Fatalf("one goroutine: error %v after %d rows, want ErrCorrupt after the 60 rows of groups 0-5", wantErr, wantRows)
	}
	spans, _, rows, err := readAllMembers(t, bad, Options{Workers: 3, BatchSize: 4})
	if err == nil || err.Error() != wantErr.Error() || rows != wantRows || !reflect.DeepEqual(spans, wantSpans) {
		t.Fatalf("three goroutines: error %v after %d rows (%d spans); one goroutine: %v after %d rows (%d spans)",
			err, rows, len(spans), wantErr, wantRows, len(wantSpans))
	}

	before := runtime.NumGoroutine()
	mr, err := OpenMembers(path, Options{Workers: 4, BatchSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !mr.Next() {
		t.Fatal(mr.Err())
	}
	mr.Close()
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before; {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after Close, %d before the open", runtime.NumGoroutine(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestMembersParquetTypedRandom: members files of random column types and
// hostile values (randomMembersParquet) read on several goroutines, with
// the typed column readers, give the spans, exceptions, raw texts, row
// count and error of the Arrow read on one.
func TestMembersParquetTypedRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	n := 60
	if raceEnabled {
		n = 15
	}
	spans, exceptions := 0, 0
	for k := range n {
		seed := make([]byte, 40+rng.IntN(400))
		for i := range seed {
			seed[i] = byte(rng.UintN(256))
		}
		path := writeFile(t, fmt.Sprintf("members%d.parquet", k), randomMembersParquet(t, seed))
		want := readMembersResult(t, path, Options{Workers: 1})
		if want.rows == 0 {
			t.Fatalf("seed %d: no rows", k)
		}
		spans += len(want.spans)
		exceptions += len(want.ex)
		opt := Options{Workers: 2 + rng.IntN(3), BatchSize: 1 + rng.IntN(9)}
		if got := readMembersResult(t, path, opt); !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d, %+v: typed read on several goroutines\n got %+v\nwant %+v", k, opt, got, want)
		}
	}
	if spans < n || exceptions < n {
		t.Fatalf("%d spans, %d exceptions in %d files: the files should have many of both", spans, exceptions, n)
	}
	t.Logf("%d spans, %d exceptions", spans, exceptions)
}

type membersResult struct {
	spans []claim.RawSpan
	ex    []claim.Exception
	rows  int64
	err   string
}

func readMembersResult(t *testing.T, path string, opt Options) membersResult {
	t.Helper()
	spans, ex, rows, err := readAllMembers(t, path, opt)
	r := membersResult{spans: spans, ex: ex, rows: rows}
	if err != nil {
		r.err = err.Error()
	}
	return r
}

// TestMembersCSVAhead: random members CSV files of good and hostile rows
// (randomCSVOf: quoting, line breaks in fields, CRLF, blank lines, wrong
// widths, invalid UTF-8, quotes left open), parsed on several goroutines
// in chunks of any size (csvahead.go), give the spans, exceptions, raw
// texts, row count and error of encoding/csv on one.
func TestMembersCSVAhead(t *testing.T) {
	header := make([]string, len(memberColumns))
	for i, c := range memberColumns {
		header[i] = c.name
	}
	good := func(row int) string {
		return fmt.Sprintf("M%d,P%d,2023-03-01,,1980-06-15,FR,GB,,EUR,core;outpatient,150.00,10,3000.00,,,", row, row/2)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	n := 300
	if raceEnabled {
		n = 60
	}
	spans, exceptions, failures := 0, 0, 0
	defaultBlock := csvBlock
	for k := range n {
		seed := make([]byte, rng.IntN(200))
		for i := range seed {
			seed[i] = byte(rng.UintN(256))
		}
		path := writeFile(t, fmt.Sprintf("members%d.csv", k), randomCSVOf(seed, header, good))
		batch := 1 + rng.IntN(9) // the same for both: a failed batch's rows are not returned
		want := readMembersResult(t, path, Options{Workers: 1, BatchSize: batch})
		spans += len(want.spans)
		exceptions += len(want.ex)
		if want.err != "" {
			failures++
		}
		for _, block := range []int{1, 17, 150, defaultBlock} {
			useCSVBlock(t, block)
			opt := Options{Workers: 2 + rng.IntN(3), BatchSize: batch}
			if got := readMembersResult(t, path, opt); !reflect.DeepEqual(got, want) {
				t.Fatalf("file %d, block %d, %+v: on several goroutines\n got %+v\nwant %+v", k, block, opt, got, want)
			}
		}
	}
	if spans < n/2 || exceptions < n || failures == 0 {
		t.Fatalf("%d spans, %d exceptions, %d failed reads in %d files: the files should have many of each", spans, exceptions, failures, n)
	}
	t.Logf("%d spans, %d exceptions, %d failed reads", spans, exceptions, failures)
}
