package readers

import (
	"errors"
	"io"
)

// RowReader reads chosen columns of any CSV, CSV.gz or Parquet file as text,
// a record at a time, like TableReader, for files written by others (the
// extracts `claimsbatch import` maps): there a malformed record (wrong field
// count, bad quoting, invalid UTF-8, an oversized field) is data, not a
// failure. Next returns it with Problem saying what is wrong, so the caller
// can report the row and go on. Only a broken file (ErrCorrupt: a corrupt
// gzip stream or Parquet page, a row over Options.MaxRowBytes, a quote that
// never closes, a decompression bomb) stops the read.
//
//	r, err := readers.OpenRows(path, []readers.TableColumn{{Name: "CLM_ID"}, {Name: "HCPCS_CD_1", Optional: true}}, readers.Options{})
//	...
//	defer r.Close()
//	for r.Next() {
//		if p := r.Problem(); p != "" {
//			// row r.Row() is malformed: p says why, r.Raw() is its text
//			continue
//		}
//		rec := r.Record() // rec[0] is CLM_ID, rec[1] HCPCS_CD_1 ("" when the file has no such column)
//	}
//	if err := r.Err(); err != nil { ... }
type RowReader struct {
	t       *table
	rec     []string
	problem string
	err     error
}

// OpenRows opens path (format by extension) and resolves columns against its
// header: a missing required column is ErrMissingColumn, a column that
// appears twice ErrFormat. The file's other columns are ignored.
func OpenRows(path string, columns []TableColumn, opt Options) (*RowReader, error) {
	spec := make([]column, len(columns))
	for i, c := range columns {
		spec[i] = column{name: c.Name, kind: kindAny, required: !c.Optional}
	}
	t, err := openTable(path, spec, opt)
	if err != nil {
		return nil, err
	}
	return &RowReader{t: t, rec: make([]string, len(columns))}, nil
}

// Next reads the next record, good or malformed; false at the end of the
// file or when the file is broken (see Err).
func (r *RowReader) Next() bool {
	if r.err != nil {
		return false
	}
	rec, p, err := r.t.next()
	if errors.Is(err, io.EOF) {
		return false
	}
	if err != nil {
		r.err = err
		return false
	}
	r.problem = ""
	if p.message != "" {
		r.problem = p.message
		if col := r.t.columnName(p.field); col != "" {
			r.problem = "column " + col + ": " + p.message
		}
		clear(r.rec)
		return true
	}
	for c := range r.rec {
		r.rec[c] = r.t.field(rec, c)
	}
	return true
}

// Problem returns why the current record is malformed, or "" for a good one.
// A malformed record's Record is all empty strings.
func (r *RowReader) Problem() string { return r.problem }

// Record returns the current record's values, trimmed of surrounding spaces,
// one per requested column in the order given to OpenRows; "" for an
// optional column the file does not have. The slice is reused by Next; the
// strings may be kept.
func (r *RowReader) Record() []string { return r.rec }

// Present reports whether requested column i is in the file.
func (r *RowReader) Present(i int) bool { return r.t.idx[i] >= 0 }

// Row returns the number of the current data record, from 1.
func (r *RowReader) Row() int64 { return r.t.rows }

// Header returns the file's column names in file order.
func (r *RowReader) Header() []string { return r.t.header }

// Raw returns the current record as read (for Parquet, its values joined as
// a CSV line), cut to 4 KiB and made valid UTF-8, for an exception.
func (r *RowReader) Raw() string { return r.t.raw() }

// Err returns the error that stopped Next, or nil at a clean end. It names
// the file and the row.
func (r *RowReader) Err() error { return r.err }

// Close releases the file. It may be called more than once.
func (r *RowReader) Close() error { return r.t.close() }
