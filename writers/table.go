package writers

import (
	"fmt"
	"io"

	"claimsbatch/claim"
)

// colKind is what a column holds, which fixes its CSV form and its Parquet
// physical and logical types.
type colKind uint8

const (
	// kindText is text: UTF8 BYTE_ARRAY, required (absent is "").
	kindText colKind = iota
	// kindDate is a claim.Date: DATE (INT32 days since 1970-01-01).
	kindDate
	// kindAmount is a claim.Money: DECIMAL(18,2) stored as INT64 (the
	// unscaled cents).
	kindAmount
	// kindInt32 is an integer: INT32 (signed).
	kindInt32
	// kindInt64 is an integer: INT64 (signed).
	kindInt64
	kindRate // an FX rate: DECIMAL(38,18) in Parquet, null when absent; text as written in CSV
)

// colSpec is one column of a table's schema.
type colSpec struct {
	name string
	kind colKind
	// optional: a date that may be absent (claim.NoDate), null in Parquet
	// and an empty field in CSV. Every other column is required.
	optional bool
	// dict: Parquet dictionary encoding, for text with few distinct values
	// per row group (codes, currencies, the run id); the Parquet writer
	// falls back to plain encoding on its own if the dictionary grows
	// beyond its page size limit.
	dict bool
	// noStats: no min and max in the Parquet metadata, for text in no
	// useful order within a row group (claim and provider ids of a
	// member-ordered table, free text): a reader's range filter could
	// not skip a row group by them, and computing them compared every
	// value twice (2.3 % of a 10 M-line Parquet run's samples over all
	// text columns).
	noStats bool
}

// Column constructors, for the schemas in tables.go.
func textColumn(name string) colSpec   { return colSpec{name: name, kind: kindText} }
func codeColumn(name string) colSpec   { return colSpec{name: name, kind: kindText, dict: true} }
func opaqueColumn(name string) colSpec { return colSpec{name: name, kind: kindText, noStats: true} }
func dateColumn(name string) colSpec   { return colSpec{name: name, kind: kindDate} }
func amountColumn(name string) colSpec { return colSpec{name: name, kind: kindAmount} }
func int64Column(name string) colSpec  { return colSpec{name: name, kind: kindInt64} }
func int32Column(name string) colSpec  { return colSpec{name: name, kind: kindInt32} }
func rateColumn(name string) colSpec   { return colSpec{name: name, kind: kindRate, optional: true} }

// optionalDateColumn is a date that may be absent (claim.NoDate), null in
// Parquet.
func optionalDateColumn(name string) colSpec {
	return colSpec{name: name, kind: kindDate, optional: true}
}

// encoder encodes rows in one file format. A table hands it one row at a time
// as a sequence of typed values in the table's column order, then calls
// endRow. Keeping the column sequence in one place per table (the emit
// functions in tables.go) is what keeps the CSV and Parquet forms identical.
type encoder interface {
	str(s string)
	strBytes(b []byte) // text the table built in a scratch buffer
	// code is text that never needs CSV quoting (an enumeration's name):
	// written without the check str makes.
	code(s string)
	// adjustments is the remittance's adjustments column, in
	// claim.Adjustments.AppendTo's form.
	adjustments(a *claim.Adjustments)
	date(d claim.Date)
	money(m claim.Money)
	// rate is an FX rate as written (claim.FXRate.Text), "" for none: the
	// text in CSV, DECIMAL(38,18) in Parquet.
	rate(s string)
	integer(n int64)
	// endRow finishes the row; its error is the first bad value of the row
	// or a failure to write.
	endRow() error
	// close writes whatever is buffered and the format's trailer, unless
	// failed, in which case it only releases resources.
	close(failed bool) error
}

// table is the format-independent part of every table writer: the sticky
// error, the row count and the Close contract.
type table[T any] struct {
	name   string
	schema []colSpec
	enc    encoder
	emit   func(e encoder, row *T)
	rows   int64
	err    error
	closed bool
}

func newTable[T any](w io.Writer, f Format, name string, schema []colSpec, emit func(encoder, *T)) (*table[T], error) {
	var enc encoder
	switch f {
	case CSV:
		enc = newCSVEncoder(w, schema)
	case Parquet:
		pq, err := newParquetEncoder(w, schema)
		if err != nil {
			return nil, fmt.Errorf("writers: %s: %w", name, err)
		}
		enc = pq
	default:
		return nil, fmt.Errorf("%w: %v", ErrUnknownFormat, f)
	}
	return &table[T]{name: name, schema: schema, enc: enc, emit: emit}, nil
}

func (t *table[T]) write(rows []T) error {
	if t.err != nil {
		return t.err
	}
	if t.closed {
		return fmt.Errorf("writers: %s: write: %w", t.name, ErrClosed)
	}
	for i := range rows {
		t.emit(t.enc, &rows[i])
		if err := t.enc.endRow(); err != nil {
			t.err = fmt.Errorf("writers: %s row %d: %w", t.name, t.rows+1, err)
			return t.err
		}
		t.rows++
	}
	return nil
}

// setGroupTimer times the table's Parquet row groups with f; a CSV table
// has none.
func (t *table[T]) setGroupTimer(f GroupTimer) {
	if pq, ok := t.enc.(*parquetEncoder); ok {
		pq.timer = f
	}
}

func (t *table[T]) close() error {
	if t.closed {
		return t.err
	}
	t.closed = true
	if err := t.enc.close(t.err != nil); err != nil && t.err == nil {
		t.err = fmt.Errorf("writers: %s: close: %w", t.name, err)
	}
	return t.err
}
