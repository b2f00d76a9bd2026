package readers

import (
	"errors"
	"fmt"
	"io"
)

// TableColumn names one column a TableReader returns.
type TableColumn struct {
	Name     string
	Optional bool // an absent optional column reads as "" in every record
}

// TableReader reads chosen columns of any CSV, CSV.gz or Parquet file as
// text, a record at a time: the form verify, diff and the other tools that
// read claimsbatch's own outputs (or any table) need. Typed Parquet values
// come back in the text the claims reader would see (DATE as YYYY-MM-DD,
// DECIMAL as a plain decimal, BOOLEAN as Y or N); nulls as "".
//
//	r, err := readers.OpenTable(path, []readers.TableColumn{{Name: "claim_id"}, {Name: "plan_paid"}}, readers.Options{})
//	...
//	defer r.Close()
//	for r.Next() {
//		rec := r.Record() // rec[0] is claim_id, rec[1] plan_paid
//	}
//	if err := r.Err(); err != nil { ... }
//
// Unlike the claims reader, a malformed record (wrong field count, bad
// quoting, invalid UTF-8) is not data here: it stops the read with an error
// wrapping ErrCorrupt that names the file and row, because the files read
// this way are expected to be well formed.
type TableReader struct {
	t   *table
	rec []string
	err error
}

// OpenTable opens path (format by extension) and resolves columns against
// its header. A missing required column is ErrMissingColumn; the file's other
// columns are ignored.
func OpenTable(path string, columns []TableColumn, opt Options) (*TableReader, error) {
	spec := make([]column, len(columns))
	for i, c := range columns {
		spec[i] = column{name: c.Name, kind: kindAny, required: !c.Optional}
	}
	t, err := openTable(path, spec, opt)
	if err != nil {
		return nil, err
	}
	return &TableReader{t: t, rec: make([]string, len(columns))}, nil
}

// Next reads the next record; false at the end of the file or on an error.
func (r *TableReader) Next() bool {
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
	if p.message != "" {
		col := r.t.columnName(p.field)
		if col != "" {
			col = " column " + col + ":"
		}
		r.err = fmt.Errorf("%s: row %d:%s %s: %w", r.t.path, r.t.rows, col, p.message, ErrCorrupt)
		return false
	}
	for c := range r.rec {
		r.rec[c] = r.t.field(rec, c)
	}
	return true
}

// Record returns the current record's values, one per requested column in
// the order given to OpenTable. The slice is reused by Next; the strings may
// be kept.
func (r *TableReader) Record() []string { return r.rec }

// Row returns the number of the current data record, from 1.
func (r *TableReader) Row() int64 { return r.t.rows }

// Header returns the file's column names in file order.
func (r *TableReader) Header() []string { return r.t.header }

// Raw returns the current record as read (for Parquet, its values joined as
// a CSV line), cut to an exception's size.
func (r *TableReader) Raw() string { return r.t.raw() }

// Err returns the error that stopped Next, or nil at a clean end.
func (r *TableReader) Err() error { return r.err }

// Close releases the file. It may be called more than once.
func (r *TableReader) Close() error { return r.t.close() }
