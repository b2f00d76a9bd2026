package job

import (
	"compress/gzip"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"claimsbatch/claim"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
)

var toyColumns = []string{"claim_id", "line_no", "member_id", "provider_id", "currency", "billed", "service_date", "received_date", "note"}

func toyFields(l claim.Line) []string {
	note := ""
	if l.Row%7 == 0 {
		note = "two lines,\nand \"quotes\""
	}
	return []string{l.ClaimID, strconv.Itoa(int(l.LineNo)), l.MemberID, l.ProviderID, l.Currency,
		strconv.FormatInt(int64(l.Billed), 10), strconv.Itoa(int(l.ServiceDate)), strconv.Itoa(int(l.ReceivedDate)), note}
}

func toyLine(header map[string]int, rec []string, src int32, row int64) (claim.Line, error) {
	get := func(c string) string { return rec[header[c]] }
	num := func(c string) (int64, error) { return strconv.ParseInt(get(c), 10, 64) }
	l := claim.Line{ClaimID: get("claim_id"), MemberID: get("member_id"), ProviderID: get("provider_id"), Currency: get("currency"), Source: src, Row: row}
	var vals [4]int64
	for i, c := range []string{"line_no", "billed", "service_date", "received_date"} {
		v, err := num(c)
		if err != nil {
			return l, fmt.Errorf("row %d: %s: %w", row, c, err)
		}
		vals[i] = v
	}
	l.LineNo, l.Billed, l.ServiceDate, l.ReceivedDate = int32(vals[0]), claim.Money(vals[1]), claim.Date(vals[2]), claim.Date(vals[3])
	return l, nil
}

// splitsRead and the concurrency figures are observations of this process
// (in-process Prism: the workers are goroutines here).
var splitsRead, readersNow, readersMax atomic.Int64

// readDelay makes each split read take a while, as a real one does. On
// in-process Prism (v2.77.0) a batch stage is one bundle of all its
// elements; Prism splits a bundle in two (the rest going to a new bundle
// that can run beside it) only when a progress report (every 100 ms or
// more) shows no element consumed and no element produced since the last
// one. With 300 ms per split that happens (at most 2 reads at a time were
// seen); with 20 ms it never does (1 at a time).
var readDelay = 20 * time.Millisecond

func init() {
	register.DoFn3x1[context.Context, Split, func(claim.Line), error](&readToySplitFn{})
}

// readToySplitFn reads the toy rows of one split, numbered as the whole
// file numbers them. Phase 2 replaces it with the main module's readers.
type readToySplitFn struct{}

func (*readToySplitFn) ProcessElement(ctx context.Context, sp Split, emit func(claim.Line)) error {
	n := readersNow.Add(1)
	defer readersNow.Add(-1)
	for m := readersMax.Load(); n > m && !readersMax.CompareAndSwap(m, n); m = readersMax.Load() {
	}
	splitsRead.Add(1)
	time.Sleep(readDelay) // long enough for overlapping reads to show
	f, err := os.Open(sp.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	var header []string
	var records *csv.Reader
	switch sp.Format {
	case "parquet":
		return readToyParquet(ctx, f, sp, emit)
	case "csv.gz":
		zr, err := gzip.NewReader(f)
		if err != nil {
			return err
		}
		records = csv.NewReader(zr)
		if header, err = records.Read(); err != nil {
			return err
		}
	default:
		if header, err = csv.NewReader(io.NewSectionReader(f, 0, sp.Header)).Read(); err != nil {
			return err
		}
		records = csv.NewReader(io.NewSectionReader(f, sp.Start, sp.End-sp.Start))
	}
	cols := map[string]int{}
	for i, h := range header {
		cols[strings.TrimPrefix(h, "\ufeff")] = i
	}
	for row := sp.FirstRow; ; row++ {
		rec, err := records.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s row %d: %w", sp.Path, row, err)
		}
		l, err := toyLine(cols, rec, sp.File, row)
		if err != nil {
			return fmt.Errorf("%s: %w", sp.Path, err)
		}
		emit(l)
	}
}

func readToyParquet(ctx context.Context, f *os.File, sp Split, emit func(claim.Line)) error {
	pf, err := file.NewParquetReader(f)
	if err != nil {
		return err
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 100}, memory.DefaultAllocator)
	if err != nil {
		return err
	}
	groups := make([]int, 0, sp.End-sp.Start)
	for g := sp.Start; g < sp.End; g++ {
		groups = append(groups, int(g))
	}
	rr, err := fr.GetRecordReader(ctx, nil, groups)
	if err != nil {
		return err
	}
	defer rr.Release()
	cols := map[string]int{}
	for i, fd := range rr.Schema().Fields() {
		cols[fd.Name] = i
	}
	row := sp.FirstRow
	rec := make([]string, len(cols))
	for rr.Next() {
		b := rr.RecordBatch()
		for i := range int(b.NumRows()) {
			for j := range rec {
				rec[j] = b.Column(j).(*array.String).Value(i)
			}
			l, err := toyLine(cols, rec, sp.File, row)
			if err != nil {
				return err
			}
			emit(l)
			row++
		}
	}
	return rr.Err()
}

// writeToyFiles writes in.lines of source i into files[i] (CSV, CSV with a
// byte order mark and CRLF, gzip CSV or Parquet with small row groups).
func writeToyFiles(t *testing.T, in toyInput, files []string) {
	t.Helper()
	for i, path := range files {
		var rows [][]string
		for _, l := range in.lines {
			if l.Source == int32(i) {
				rows = append(rows, toyFields(l))
			}
		}
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		switch FormatOf(path) {
		case "parquet":
			writeToyParquet(t, f, rows) // closes f
			continue
		case "csv.gz":
			zw := gzip.NewWriter(f)
			w := csv.NewWriter(zw)
			w.WriteAll(append([][]string{toyColumns}, rows...))
			if err := zw.Close(); err != nil {
				t.Fatal(err)
			}
		default:
			if i == 1 {
				f.WriteString("\ufeff")
			}
			w := csv.NewWriter(f)
			w.UseCRLF = i == 1
			if err := w.WriteAll(append([][]string{toyColumns}, rows...)); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func writeToyParquet(t *testing.T, w io.Writer, rows [][]string) {
	t.Helper()
	var fields []arrow.Field
	for _, c := range toyColumns {
		fields = append(fields, arrow.Field{Name: c, Type: arrow.BinaryTypes.String})
	}
	schema := arrow.NewSchema(fields, nil)
	fw, err := pqarrow.NewFileWriter(schema, w, parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(250)), pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	rb := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer rb.Release()
	for _, r := range rows {
		for j, v := range r {
			rb.Field(j).(*array.StringBuilder).Append(v)
		}
	}
	rec := rb.NewRecordBatch()
	defer rec.Release()
	if err := fw.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestPlanCSVSplits(t *testing.T) {
	// Records: header (10 bytes), then rows of 6, 12 (a quoted newline),
	// 6 and 6 bytes.
	data := "a,b,c,note\n1,2,3\n4,5,6,\"x\ny\"\n7,8,9\n0,1,2\n"
	splits, err := PlanCSVSplits(strings.NewReader(data), 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []Split{
		{Format: "csv", Start: 11, End: 29, Header: 11, FirstRow: 1},
		{Format: "csv", Start: 29, End: 41, Header: 11, FirstRow: 3},
	}
	if !reflect.DeepEqual(splits, want) {
		t.Errorf("splits\n%+v\nwant\n%+v", splits, want)
	}
	var parts []string
	for _, sp := range splits {
		parts = append(parts, data[sp.Start:sp.End])
	}
	if want := []string{"1,2,3\n4,5,6,\"x\ny\"\n", "7,8,9\n0,1,2\n"}; !reflect.DeepEqual(parts, want) {
		t.Errorf("split texts %q, want %q", parts, want)
	}
}

// TestToySplitsParallel reads four files (CSV, CSV with BOM and CRLF,
// gzip CSV, Parquet) in splits: CSV byte ranges of about 4 KiB cut at
// record boundaries, Parquet row groups, gzip whole; rows keep their
// numbers, so the outputs equal the reference's.
func TestToySplitsParallel(t *testing.T) {
	in := toyGenerated(8000)
	for i := range in.lines {
		in.lines[i].Source = int32(i % 4)
		in.lines[i].Row = int64(i/4 + 1)
	}
	dir := t.TempDir()
	files := []string{filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.csv"), filepath.Join(dir, "c.csv.gz"), filepath.Join(dir, "d.parquet")}
	writeToyFiles(t, in, files)
	splitsRead.Store(0)
	readersMax.Store(0)
	p, s := beam.NewPipelineWithRoot()
	lines := beam.ParDo(s, &readToySplitFn{}, SplitFiles(s, files, 4<<10))
	out := t.TempDir()
	if err := runToyWith(t, p, lines, in, out, 4, Fault{}); err != nil {
		t.Fatal(err)
	}
	if got, want := readOutputs(t, out), toyReference(in); !equalOutputs(got, want) {
		t.Error("outputs read from split files differ from the reference")
	}
	want := int64(1) // the gzip file
	for _, f := range []string{files[0], files[1]} {
		in, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		splits, err := PlanCSVSplits(in, 4<<10)
		in.Close()
		if err != nil {
			t.Fatal(err)
		}
		want += int64(len(splits))
	}
	groups, err := PlanParquetSplits(files[3])
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 8 {
		t.Errorf("%d row groups, want 8 (2000 rows in groups of 250)", len(groups))
	}
	want += int64(len(groups))
	if n := splitsRead.Load(); n != want || n < 50 {
		t.Errorf("%d splits read, want %d (and many)", n, want)
	}
	t.Logf("in-process Prism read %d splits, at most %d at a time", splitsRead.Load(), readersMax.Load())
}
