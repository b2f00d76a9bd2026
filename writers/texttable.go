package writers

import (
	"fmt"
	"io"
	"strconv"

	"claimsbatch/claim"
)

// ColumnKind says how a TextTableWriter column's text is typed in Parquet.
// In CSV every column is written as the text given.
type ColumnKind uint8

// Column kinds.
const (
	Text         ColumnKind = iota // UTF8
	Date                           // YYYY-MM-DD, required: DATE
	OptionalDate                   // YYYY-MM-DD or "": DATE, null for ""
	Amount                         // a decimal with at most 2 places, required: DECIMAL(18,2)
	Integer                        // a required integer: INT32
)

// TextColumn is one column of a TextTableWriter.
type TextColumn struct {
	Name string
	Kind ColumnKind
}

// TextTableWriter writes a table whose rows come as text, one string per
// column, in CSV or Parquet: the form of claimsbatch's own input files
// (claims, members, FX), which `claimsbatch import` writes. CSV gets the text
// as given; Parquet gets typed columns (DATE, DECIMAL(18,2), INT32, UTF8) for
// the kinds declared, which the claims, members and FX readers accept.
type TextTableWriter struct {
	t    *table[textRow]
	cols []TextColumn
}

type textRow struct {
	vals   []string
	parsed []int64 // per column: the Date, Money or integer of a typed column
}

// NewTextTableWriter returns a writer of the table name with columns cols to
// w in format f.
func NewTextTableWriter(w io.Writer, f Format, name string, cols []TextColumn) (*TextTableWriter, error) {
	tw := &TextTableWriter{cols: cols}
	csv := f == CSV
	t, err := newTable(w, f, name, textSchema(cols), func(e encoder, r *textRow) {
		for i, c := range tw.cols {
			switch {
			case csv || c.Kind == Text:
				e.str(r.vals[i])
			case c.Kind == Date, c.Kind == OptionalDate:
				e.date(claim.Date(r.parsed[i]))
			case c.Kind == Amount:
				e.money(claim.Money(r.parsed[i]))
			case c.Kind == Integer:
				e.integer(r.parsed[i])
			}
		}
	})
	if err != nil {
		return nil, err
	}
	tw.t = t
	return tw, nil
}

// textSchema is the schema of a text table's Parquet form.
func textSchema(cols []TextColumn) []colSpec {
	fields := make([]colSpec, len(cols))
	for i, c := range cols {
		switch c.Kind {
		case Date:
			fields[i] = dateColumn(c.Name)
		case OptionalDate:
			fields[i] = optionalDateColumn(c.Name)
		case Amount:
			fields[i] = amountColumn(c.Name)
		case Integer:
			fields[i] = int32Column(c.Name)
		default:
			fields[i] = textColumn(c.Name)
		}
	}
	return fields
}

// Write writes one row: one value per column, in column order. A value that
// is not of its column's kind is an error and nothing of the row is written.
// The writer keeps no reference to row.
func (w *TextTableWriter) Write(row []string) error {
	if len(row) != len(w.cols) {
		return fmt.Errorf("writers: %s: row has %d values, the table %d columns", w.t.name, len(row), len(w.cols))
	}
	r := textRow{vals: row, parsed: make([]int64, len(row))}
	for i, c := range w.cols {
		v := row[i]
		switch c.Kind {
		case Date, OptionalDate:
			if v == "" && c.Kind == OptionalDate {
				r.parsed[i] = int64(claim.NoDate)
				continue
			}
			d, err := claim.ParseDate(v)
			if err != nil {
				return fmt.Errorf("writers: %s row %d: column %s: %q is not a YYYY-MM-DD date", w.t.name, w.t.rows+1, c.Name, v)
			}
			r.parsed[i] = int64(d)
		case Amount:
			m, err := claim.ParseMoney(v)
			if err != nil {
				return fmt.Errorf("writers: %s row %d: column %s: %q: %w", w.t.name, w.t.rows+1, c.Name, v, err)
			}
			r.parsed[i] = int64(m)
		case Integer:
			n, err := strconv.ParseInt(v, 10, 32)
			if err != nil {
				return fmt.Errorf("writers: %s row %d: column %s: %q is not an integer", w.t.name, w.t.rows+1, c.Name, v)
			}
			r.parsed[i] = n
		}
	}
	return w.t.write([]textRow{r})
}

// Close flushes the table and returns the first error of the stream. It
// does not close the underlying io.Writer.
func (w *TextTableWriter) Close() error { return w.t.close() }

// Rows returns the number of rows written so far, for the manifest.
func (w *TextTableWriter) Rows() int64 { return w.t.rows }
