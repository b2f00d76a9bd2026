package readers

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
)

// FirstValue and LastValue read one column at the edges of a CSV or
// Parquet file without reading the file through: hints for a caller that
// only guesses from them (the pipeline's check of whether --claims files
// follow each other in member order). A value is the field's text trimmed
// of spaces; accept picks the values that count. A file they cannot read
// gives an error the caller may ignore: the real read reports it.

// edgeRows is how many records FirstValue looks at, at most.
const edgeRows = 1000

// tailBytes is how much of a CSV file's end LastValue reads.
const tailBytes = 256 << 10

// FirstValue returns the text of column name in the first record of the
// file at path, among its first edgeRows, for which accept reports true:
// read from a CSV file's start (gzip-compressed too), or a page at a time
// from a Parquet file's first row group, that column only. "" when there
// is none, or when the column is absent or not text.
func FirstValue(path, name string, accept func(string) bool) (string, error) {
	f, err := formatOf(path)
	if err != nil {
		return "", err
	}
	switch f {
	case formatCSV, formatCSVGzip:
		return firstCSVValue(path, f, name, accept)
	case formatParquet:
		return parquetEdge(path, name, accept, true)
	}
	return "", nil
}

// LastValue returns the text of column name in the last record, near the
// end of the file at path, for which accept reports true: a CSV file's
// last tailBytes (each line there parsed on its own, so a record broken
// over lines by a quoted newline is skipped, not misread), a Parquet
// file's last row group, that column only, a page at a time. "" when there
// is none there, when the column is absent or not text, and for a
// gzip-compressed CSV file, which cannot be read from its end.
func LastValue(path, name string, accept func(string) bool) (string, error) {
	f, err := formatOf(path)
	if err != nil {
		return "", err
	}
	switch f {
	case formatCSV:
		return lastCSVValue(path, name, accept)
	case formatParquet:
		return parquetEdge(path, name, accept, false)
	}
	return "", nil
}

// csvColumn reads a CSV header from cr and returns the index of column
// name in it, or -1.
func csvColumn(cr *csv.Reader, name string) (int, error) {
	header, err := cr.Read()
	if err != nil {
		return -1, err
	}
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, utf8BOM)
		}
		if h == name {
			return i, nil
		}
	}
	return -1, nil
}

func firstCSVValue(path string, f format, name string, accept func(string) bool) (string, error) {
	in, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrOpen, err)
	}
	defer in.Close()
	var r io.Reader = bufio.NewReaderSize(in, 64<<10)
	if f == formatCSVGzip {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return "", err
		}
		defer zr.Close()
		r = zr
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord, cr.LazyQuotes, cr.ReuseRecord = -1, true, true
	col, err := csvColumn(cr, name)
	if err != nil || col < 0 {
		return "", err
	}
	for range edgeRows {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
		if col < len(rec) {
			if v := strings.TrimSpace(rec[col]); accept(v) {
				return v, nil
			}
		}
	}
	return "", nil
}

func lastCSVValue(path, name string, accept func(string) bool) (string, error) {
	in, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrOpen, err)
	}
	defer in.Close()
	cr := csv.NewReader(in)
	cr.FieldsPerRecord, cr.LazyQuotes = -1, true
	col, err := csvColumn(cr, name)
	if err != nil || col < 0 {
		return "", err
	}
	size, err := in.Seek(0, io.SeekEnd)
	if err != nil {
		return "", err
	}
	from := max(0, size-tailBytes)
	tail := make([]byte, size-from)
	if _, err := in.ReadAt(tail, from); err != nil && err != io.EOF {
		return "", err
	}
	if from > 0 {
		// The window begins inside a line: that part is not a record.
		if i := bytes.IndexByte(tail, '\n'); i >= 0 {
			tail = tail[i+1:]
		} else {
			return "", nil
		}
	}
	lines := bytes.Split(bytes.TrimSuffix(tail, []byte("\n")), []byte("\n"))
	for i := len(lines) - 1; i >= 0; i-- {
		// Strict quoting: half a record split by a quoted newline is
		// refused rather than read.
		r := csv.NewReader(bytes.NewReader(lines[i]))
		r.FieldsPerRecord = -1
		rec, err := r.Read()
		if err != nil || col >= len(rec) {
			continue
		}
		if v := strings.TrimSpace(rec[col]); accept(v) {
			return v, nil
		}
	}
	return "", nil
}

// parquetEdge returns the first accepted value of column name in the
// first row group of the Parquet file at path (first), among its first
// edgeRows, or the last accepted one of its last row group.
func parquetEdge(path, name string, accept func(string) bool, first bool) (v string, err error) {
	defer func() {
		// As newParquetSource: the decoder may panic on a malformed file.
		if p := recover(); p != nil {
			v, err = "", decoderPanic("not a readable Parquet file", p)
		}
	}()
	// Pages read as they are decoded, not the column chunk at once: a
	// file written as one row group has one chunk of the whole column.
	props := parquet.NewReaderProperties(nil)
	props.BufferedStreamEnabled, props.BufferSize = true, 1<<20
	pf, err := file.OpenParquetFile(path, false, file.WithReadProps(props))
	if err != nil {
		return "", err
	}
	defer pf.Close()
	md := pf.MetaData()
	col := md.Schema.ColumnIndexByName(name)
	if col < 0 || md.Schema.Column(col).PhysicalType() != parquet.Types.ByteArray || pf.NumRowGroups() == 0 {
		return "", nil
	}
	group := pf.NumRowGroups() - 1
	if first {
		group = 0
	}
	cc, err := pf.RowGroup(group).Column(col)
	if err != nil {
		return "", err
	}
	cr, ok := cc.(*file.ByteArrayColumnChunkReader)
	if !ok {
		return "", nil
	}
	// The values in batches of a fixed size: memory does not grow with
	// the row group.
	const batch = 4096
	vals := make([]parquet.ByteArray, batch)
	defs := make([]int16, batch)
	rows := 0
	for cr.HasNext() && (!first || rows < edgeRows) {
		size := int64(batch)
		if first {
			size = int64(min(batch, edgeRows-rows))
		}
		levels, read, err := cr.ReadBatch(size, vals, defs, nil)
		if err != nil {
			return "", err
		}
		if levels == 0 {
			break
		}
		rows += int(levels)
		// Values come packed (a null has a level and no value).
		if first {
			for i := range read {
				if s := strings.TrimSpace(string(vals[i])); accept(s) {
					return s, nil
				}
			}
			continue
		}
		for i := read - 1; i >= 0; i-- {
			if s := strings.TrimSpace(string(vals[i])); accept(s) {
				v = s
				break
			}
		}
	}
	return v, nil
}
