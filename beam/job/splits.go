package job

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
)

// Split is the part of one claims file that one worker reads. Splits are
// planned by reading the file's structure, not guessed from its size, so
// that every row keeps the number `claimsbatch run` gives it (exceptions
// name it, and DUPLICATE_LINE keeps the first occurrence in (file, row)
// order):
//
//   - CSV: a byte range [Start, End) of whole records, cut at record
//     boundaries found by the CSV parser itself (a quoted field may hold a
//     newline, so a boundary cannot be found by looking for one), with the
//     header's byte length in Header and the number of the split's first
//     data record in FirstRow;
//   - Parquet: the row groups [Start, End), FirstRow the number of the
//     first row of group Start;
//   - gzip-compressed CSV cannot be entered in the middle: one split,
//     Start 0 and End -1.
type Split struct {
	File     int32 // index of the file in the run's --claims list
	Path     string
	Format   string // "csv", "csv.gz" or "parquet"
	Start    int64
	End      int64
	Header   int64 // CSV: bytes of the header record (BOM included)
	FirstRow int64 // data records numbered from 1 in each file
}

// FileRef names one input file and its index in the --claims list.
type FileRef struct {
	Index int32
	Path  string
}

// FormatOf returns the format of a claims file from its name, as the main
// module's readers decide it.
func FormatOf(path string) string {
	switch {
	case strings.HasSuffix(path, ".parquet"):
		return "parquet"
	case strings.HasSuffix(path, ".csv.gz"):
		return "csv.gz"
	}
	return "csv"
}

func init() {
	register.DoFn3x1[context.Context, FileRef, func(Split), error](&planSplitsFn{})
	register.Emitter1[Split]()
	beam.RegisterType(reflect.TypeFor[Split]())
	beam.RegisterType(reflect.TypeFor[FileRef]())
}

// SplitFiles returns the PCollection<Split> of the files, planned by the
// workers (one file each: planning reads a CSV file once, at the speed of
// its parser's framing, which is several times the speed of checking the
// rows) and redistributed, so that the splits of one file are read by many
// workers: without the Reshuffle a runner fuses planning and reading into
// one stage and reads a file's splits where it planned them.
func SplitFiles(s beam.Scope, paths []string, targetBytes int64) beam.PCollection {
	s = s.Scope("SplitFiles")
	refs := make([]FileRef, len(paths))
	for i, p := range paths {
		refs[i] = FileRef{Index: int32(i), Path: p}
	}
	files := beam.Reshuffle(s, beam.CreateList(s, refs))
	return beam.Reshuffle(s, beam.ParDo(s, &planSplitsFn{TargetBytes: targetBytes}, files))
}

type planSplitsFn struct {
	TargetBytes int64 // CSV bytes per split, roughly
}

func (fn *planSplitsFn) ProcessElement(ctx context.Context, f FileRef, emit func(Split)) error {
	var splits []Split
	var err error
	switch FormatOf(f.Path) {
	case "parquet":
		splits, err = PlanParquetSplits(f.Path)
	case "csv.gz":
		splits = []Split{{Format: "csv.gz", Start: 0, End: -1, FirstRow: 1}}
	default:
		var in *os.File
		if in, err = os.Open(f.Path); err == nil {
			splits, err = PlanCSVSplits(in, fn.TargetBytes)
			in.Close()
		}
	}
	if err != nil {
		return fmt.Errorf("job: planning the splits of %s: %w", f.Path, err)
	}
	for _, sp := range splits {
		sp.File, sp.Path = f.Index, f.Path
		emit(sp)
	}
	return nil
}

// PlanCSVSplits reads a CSV file once with encoding/csv's framing and
// returns splits of about targetBytes that start and end on record
// boundaries. A record the parser rejects still counts as a row (it becomes
// an exception), as it does in the main module's reader.
//
// TODO(phase 2): the main module's readers decide the boundaries of bad
// records (bare quotes, unclosed quotes, blank lines, a byte order mark) in
// their own way; this planning must move there (readers.PlanCSVSplits) so
// that the two can never disagree about a row's number.
func PlanCSVSplits(in io.Reader, targetBytes int64) ([]Split, error) {
	br := bufio.NewReaderSize(in, 1<<20)
	bom := int64(0)
	if b, _ := br.Peek(3); string(b) == "\xef\xbb\xbf" {
		br.Discard(3)
		bom = 3
	}
	r := csv.NewReader(br)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	// offset is where the parser stands in the file: InputOffset counts
	// from after the byte order mark.
	offset := func() int64 { return bom + r.InputOffset() }
	if _, err := r.Read(); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("no header row")
		}
		return nil, fmt.Errorf("header: %w", err)
	}
	header := offset()
	var splits []Split
	cur := Split{Format: "csv", Start: header, Header: header, FirstRow: 1}
	row := int64(0)
	for {
		_, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if err != nil && !errors.As(err, &pe) {
			return nil, err
		}
		row++
		if end := offset(); end-cur.Start >= targetBytes {
			cur.End = end
			splits = append(splits, cur)
			cur = Split{Format: "csv", Start: end, Header: header, FirstRow: row + 1}
		}
	}
	if end := offset(); end > cur.Start || len(splits) == 0 {
		cur.End = end
		splits = append(splits, cur)
	}
	return splits, nil
}

// PlanParquetSplits returns one split per row group of a Parquet file.
func PlanParquetSplits(path string) ([]Split, error) {
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		return nil, err
	}
	defer pf.Close()
	var splits []Split
	first := int64(1)
	for i := range pf.NumRowGroups() {
		rows := pf.MetaData().RowGroup(i).NumRows()
		splits = append(splits, Split{Format: "parquet", Start: int64(i), End: int64(i + 1), FirstRow: first})
		first += rows
	}
	return splits, nil
}
