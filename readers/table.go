package readers

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"claimsbatch/claim"
)

// Options tunes the claims reader. The zero value is ready to use.
type Options struct {
	// BatchSize is the most data rows (accepted plus rejected) in one batch
	// of ClaimsReader; 0 means 8192.
	BatchSize int
	// Workers is the number of goroutines that parse and check a claims
	// file's rows, and that read a Parquet members file's row groups; 0
	// means one per core (GOMAXPROCS).
	Workers int
	// MaxFieldBytes bounds one field; a longer field makes its row a
	// PARSE_ERROR. 0 means 1 MiB.
	MaxFieldBytes int
	// MaxRowBytes bounds one CSV record as read; a longer record (typically a
	// quote that is never closed) fails the read with ErrCorrupt, because no
	// later row boundary could be trusted. 0 means 4 MiB.
	MaxRowBytes int
	// MaxExpansion bounds what a compressed file may expand to while it is
	// read: a .csv.gz file may decompress to, and the Parquet decoder may
	// allocate for a .parquet file, at most MaxExpansion times the file's
	// size, or 64 MiB for a smaller file. Past that the read fails with
	// ErrCorrupt (a decompression bomb). 0 means 100.
	MaxExpansion int
	// KeepRaw makes ClaimsReader.Raw and ClaimsReader.Reject (the Next
	// iterator's) give the raw text of accepted lines, for a caller that may
	// turn an accepted line into an exception later (the pipeline's row
	// checks, DUPLICATE_LINE). A Batch always gives it (Batch.Raw,
	// Batch.Reject): for CSV it is a slice of the batch's input, for Parquet
	// it is built when asked.
	KeepRaw bool
	// AsOf is the run's as-of date (SPEC section 2, version 2): a claim line
	// received after it (or, without a received_date, served after it) is
	// INVALID_VALUE. The zero value (1970-01-01, never a run's as-of date)
	// means no bound, for tools that check rows outside a run.
	AsOf claim.Date
}

func (o Options) withDefaults() Options {
	if o.BatchSize <= 0 {
		o.BatchSize = 8192
	}
	if o.MaxFieldBytes <= 0 {
		o.MaxFieldBytes = 1 << 20
	}
	if o.MaxRowBytes <= 0 {
		o.MaxRowBytes = 4 << 20
	}
	if o.MaxExpansion <= 0 {
		o.MaxExpansion = defaultMaxExpansion
	}
	o.Workers = workersOf(o.Workers)
	return o
}

// kind is what a column holds. It decides which Parquet types the column
// accepts and how a typed Parquet value becomes the text the row checks read,
// so that CSV and Parquet rows go through the very same checks.
type kind uint8

const (
	kindString  kind = iota + 1
	kindInt          // an integer
	kindDate         // YYYY-MM-DD
	kindMoney        // a decimal amount (at most 2 places, checked by the row parser)
	kindDecimal      // any decimal (FX rates)
	kindFlag         // Y or N
	kindAny          // any flat type, as its text (the generic TableReader)
)

// column describes one column a reader uses.
type column struct {
	name     string
	kind     kind
	required bool
}

// format is an input file format, chosen by extension.
type format uint8

const (
	formatCSV format = iota + 1
	formatCSVGzip
	formatParquet
)

func formatOf(path string) (format, error) {
	lower := strings.ToLower(path)
	switch {
	case strings.HasSuffix(lower, ".csv"):
		return formatCSV, nil
	case strings.HasSuffix(lower, ".csv.gz"):
		return formatCSVGzip, nil
	case strings.HasSuffix(lower, ".parquet"):
		return formatParquet, nil
	}
	return 0, fmt.Errorf("%s: extension is not .csv, .csv.gz or .parquet: %w", path, ErrFormat)
}

// problem says why a record is malformed (a PARSE_ERROR). The zero value
// means the record is fine.
type problem struct {
	field   int // index of the bad field in the file's columns, or -1
	message string
}

// source yields the records of one file as text, one field per column of the
// file, in file order.
type source interface {
	// next returns the next record, or io.EOF. A malformed record comes back
	// with a problem; its fields are then only those read before the
	// problem. The record slice is reused by the next call; the strings are
	// not (they may be kept). Other errors wrap ErrCorrupt and do not name
	// the file (the table adds file and row).
	next() ([]string, problem, error)
	// raw returns the record last returned by next as read.
	raw() string
	close() error
}

// table is an open input file: its source plus where each column the reader
// uses sits in the file's records.
type table struct {
	path     string
	name     string   // base name, the exception's Source
	header   []string // the file's column names, in file order
	idx      []int    // per used column (the reader's spec order): index in the record, -1 = absent
	src      source
	size     int64 // bytes on disk; -1 when unknown
	format   format
	maxField int
	rows     int64 // data records read so far

	recordBytes int // total length of the fields of the last good record
}

// openTable opens path in the format its extension names and resolves spec
// against its header.
func openTable(path string, spec []column, opt Options) (*table, error) {
	f, err := formatOf(path)
	if err != nil {
		return nil, err
	}
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrOpen, err)
	}
	t, err := newTable(path, file, f, spec, opt)
	if err != nil {
		file.Close()
		return nil, err
	}
	return t, nil
}

// inputFile is what the sources need from an input: os.File and bytes.Reader
// both are one (the tests and fuzzers read from memory).
type inputFile interface {
	io.Reader
	io.ReaderAt
	io.Seeker
	io.Closer
}

func newTable(path string, in inputFile, f format, spec []column, opt Options) (*table, error) {
	opt = opt.withDefaults()
	t := &table{path: path, name: filepath.Base(path), maxField: opt.MaxFieldBytes}
	// The size on disk sets the expansion budget of a compressed file; a
	// stream whose size is unknown (a pipe) is not bounded.
	size, err := in.Seek(0, io.SeekEnd)
	if err == nil {
		_, err = in.Seek(0, io.SeekStart)
	}
	if err != nil {
		size = -1
	}
	t.size, t.format = size, f
	switch f {
	case formatCSV, formatCSVGzip:
		t.src, t.header, err = newCSVSource(in, f == formatCSVGzip, size, opt)
	case formatParquet:
		t.src, t.header, err = newParquetSource(in, size, spec, opt)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if t.idx, err = resolveColumns(t.header, spec); err != nil {
		t.src.close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// resolveColumns finds each column of spec in header. Missing required
// columns are reported all at once (MissingColumnsError).
func resolveColumns(header []string, spec []column) ([]int, error) {
	idx := make([]int, len(spec))
	var missing []string
	for i, c := range spec {
		idx[i] = -1
		for j, name := range header {
			if name != c.name {
				continue
			}
			if idx[i] >= 0 {
				return nil, fmt.Errorf("column %s appears twice: %w", c.name, ErrFormat)
			}
			idx[i] = j
		}
		if idx[i] < 0 && c.required {
			missing = append(missing, c.name)
		}
	}
	if len(missing) > 0 {
		return nil, missingColumns(header, spec, missing)
	}
	return idx, nil
}

// readAhead makes the table's rows be read on o.Workers goroutines
// (pqahead.go, csvahead.go), with each row's raw text unless noRaw.
func (t *table) readAhead(o Options, noRaw bool) {
	o = o.withDefaults()
	switch src := t.src.(type) {
	case *parquetSource:
		src.startAhead(o.Workers, o.BatchSize, noRaw)
	case *csvSource:
		src.startAhead(o.Workers, o.BatchSize, noRaw)
	}
}

// next reads the next record; see source.next. It also makes a record with
// an oversized field malformed.
func (t *table) next() ([]string, problem, error) {
	rec, p, err := t.src.next()
	if err != nil {
		if err == io.EOF {
			return nil, problem{}, io.EOF
		}
		return nil, problem{}, fmt.Errorf("%s: row %d: %w", t.path, t.rows+1, err)
	}
	t.rows++
	if p.message != "" {
		return rec, p, nil
	}
	return rec, t.sizeProblem(rec), nil
}

// sizeProblem returns the problem of a well-formed record with an oversized
// field, and sets recordBytes.
func (t *table) sizeProblem(rec []string) problem {
	t.recordBytes = 0
	for i, s := range rec {
		t.recordBytes += len(s)
		if len(s) > t.maxField {
			return problem{field: i, message: fmt.Sprintf("field is %d bytes long, more than the limit of %d", len(s), t.maxField)}
		}
	}
	return problem{}
}

// invalidUTF8 returns the problem of a record that is not valid UTF-8,
// naming its first bad field.
func invalidUTF8(rec []string) problem {
	for i, s := range rec {
		if !utf8.ValidString(s) {
			return problem{field: i, message: "field is not valid UTF-8"}
		}
	}
	return problem{field: -1, message: "record is not valid UTF-8"}
}

// field returns used column c of rec, trimmed; "" when the column is absent
// or the record ended before it.
func (t *table) field(rec []string, c int) string {
	i := t.idx[c]
	if i < 0 || i >= len(rec) {
		return ""
	}
	return trimSpace(rec[i])
}

// columnName is the name of file column i, or "" for -1.
func (t *table) columnName(i int) string {
	if i < 0 || i >= len(t.header) {
		return ""
	}
	return t.header[i]
}

// raw returns the last record as read, cut and made valid UTF-8 for an
// exception.
func (t *table) raw() string { return exceptionText(t.src.raw()) }

func (t *table) close() error {
	if err := t.src.close(); err != nil {
		return fmt.Errorf("%s: %w", t.path, err)
	}
	return nil
}

// maxRawBytes caps an exception's raw text.
const maxRawBytes = 4 << 10

// exceptionText makes s fit an exception: valid UTF-8, at most maxRawBytes.
func exceptionText(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) <= maxRawBytes {
		return s
	}
	const marker = "…"
	cut := maxRawBytes - len(marker)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + marker
}

// rowsHint guesses the number of rows from the file's size, for sizing a
// whole-file read: about 64 bytes a row of CSV (4× that gzipped), 16 of
// Parquet; at most a million rows guessed, 0 when the size is unknown.
func (t *table) rowsHint() int {
	if t.size <= 0 {
		return 0
	}
	per := int64(64)
	switch t.format {
	case formatCSVGzip:
		per = 16
	case formatParquet:
		per = 16
	}
	return int(min(t.size/per, 1<<20))
}
