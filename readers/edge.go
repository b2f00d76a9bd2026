package readers

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
)

// tailBytes is how much of a CSV file's end LastValue reads.
const tailBytes = 256 << 10

// LastValue returns the text of column name in the last record, near the
// end of the CSV or Parquet file at path, for which accept reports true
// (its value trimmed of spaces), without reading the file through: a CSV
// file's last tailBytes (each line there parsed on its own, so a record
// broken over lines by a quoted newline is skipped, not misread), a
// Parquet file's last row group, that column only, a page at a time. It returns "" when
// there is no such record there, when the column is not a text column, and
// for a gzip-compressed CSV file, which cannot be read from its end. It is
// a hint, for a caller that only guesses from it (the pipeline's check of
// whether --claims files follow each other in member order): a file it
// cannot read gives an error the caller may ignore, the real read will
// report it.
func LastValue(path, name string, accept func(string) bool) (string, error) {
	f, err := formatOf(path)
	if err != nil {
		return "", err
	}
	switch f {
	case formatCSV:
		return lastCSVValue(path, name, accept)
	case formatParquet:
		return lastParquetValue(path, name, accept)
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
	header, err := cr.Read()
	if err != nil {
		return "", err
	}
	col := -1
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, utf8BOM)
		}
		if h == name {
			col = i
		}
	}
	if col < 0 {
		return "", nil
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

func lastParquetValue(path, name string, accept func(string) bool) (v string, err error) {
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
	rg := pf.RowGroup(pf.NumRowGroups() - 1)
	cc, err := rg.Column(col)
	if err != nil {
		return "", err
	}
	cr, ok := cc.(*file.ByteArrayColumnChunkReader)
	if !ok {
		return "", nil
	}
	// The values in batches of a fixed size, the last accepted one kept:
	// memory does not grow with the row group.
	const batch = 4096
	vals := make([]parquet.ByteArray, batch)
	defs := make([]int16, batch)
	for cr.HasNext() {
		levels, read, err := cr.ReadBatch(batch, vals, defs, nil)
		if err != nil {
			return "", err
		}
		if levels == 0 {
			break
		}
		// Values come packed (a null has a level and no value).
		for i := read - 1; i >= 0; i-- {
			if s := strings.TrimSpace(string(vals[i])); accept(s) {
				v = s
				break
			}
		}
	}
	return v, nil
}
