package readers

import "fmt"

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
	rows *RowReader
	err  error
}

// OpenTable opens path (format by extension) and resolves columns against
// its header. A missing required column is ErrMissingColumn; the file's other
// columns are ignored.
func OpenTable(path string, columns []TableColumn, opt Options) (*TableReader, error) {
	rows, err := OpenRows(path, columns, opt)
	if err != nil {
		return nil, err
	}
	return &TableReader{rows: rows}, nil
}

// Next reads the next record; false at the end of the file or on an error.
func (r *TableReader) Next() bool {
	if r.err != nil || !r.rows.Next() {
		return false
	}
	if p := r.rows.Problem(); p != "" {
		r.err = fmt.Errorf("%s: row %d: %s: %w", r.rows.t.path, r.rows.Row(), p, ErrCorrupt)
		return false
	}
	return true
}

// Record returns the current record's values, one per requested column in
// the order given to OpenTable. The slice is reused by Next; the strings may
// be kept.
func (r *TableReader) Record() []string { return r.rows.Record() }

// Row returns the number of the current data record, from 1.
func (r *TableReader) Row() int64 { return r.rows.Row() }

// Header returns the file's column names in file order.
func (r *TableReader) Header() []string { return r.rows.Header() }

// Raw returns the current record as read (for Parquet, its values joined as
// a CSV line), cut to an exception's size.
func (r *TableReader) Raw() string { return r.rows.Raw() }

// Err returns the error that stopped Next, or nil at a clean end.
func (r *TableReader) Err() error {
	if r.err != nil {
		return r.err
	}
	return r.rows.Err()
}

// Close releases the file. It may be called more than once.
func (r *TableReader) Close() error { return r.rows.Close() }
