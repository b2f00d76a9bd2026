package writers

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"

	"claimsbatch/claim"
)

// textTable is a table's rows held column by column as typed values,
// loaded from a CSV file in one of the writers' schemas: what the tests
// and the codec measurement feed to an encoder without rebuilding the
// claim types. Text columns are kept as bytes and end offsets, dates in i32
// (claim.NoDate when the field is empty), amounts and integers in i64.
type textTable struct {
	specs []colSpec
	rows  int
	cols  []pqColumn
}

// loadTextTable reads a CSV file with the header of specs.
func loadTextTable(path string, specs []colSpec) (*textTable, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.ReuseRecord = true
	r.FieldsPerRecord = len(specs)
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i, s := range specs {
		if header[i] != s.name {
			return nil, fmt.Errorf("%s: column %d is %q, want %q", path, i+1, header[i], s.name)
		}
	}
	t := &textTable{specs: specs, cols: make([]pqColumn, len(specs))}
	for i := range specs {
		t.cols[i].spec = &t.specs[i]
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return t, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if err := t.add(rec); err != nil {
			return nil, fmt.Errorf("%s: row %d: %w", path, t.rows+1, err)
		}
	}
}

// add appends one record, parsed by the columns' kinds.
func (t *textTable) add(rec []string) error {
	for i, s := range rec {
		c := &t.cols[i]
		switch c.spec.kind {
		case kindText, kindRate:
			c.data = append(c.data, s...)
			c.ends = append(c.ends, int32(len(c.data)))
		case kindDate:
			d := claim.NoDate
			if s != "" {
				var err error
				if d, err = claim.ParseDate(s); err != nil {
					return fmt.Errorf("column %s: %w", c.spec.name, err)
				}
			}
			c.i32 = append(c.i32, int32(d))
		case kindAmount:
			m, err := claim.ParseMoney(s)
			if err != nil {
				return fmt.Errorf("column %s: %w", c.spec.name, err)
			}
			c.i64 = append(c.i64, int64(m))
		case kindInt32, kindInt64:
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return fmt.Errorf("column %s: %w", c.spec.name, err)
			}
			c.i64 = append(c.i64, n)
		}
	}
	t.rows++
	return nil
}

// emit hands row r to e, column by column, as a table's emit function does.
func (t *textTable) emit(e encoder, r int) {
	for i := range t.cols {
		c := &t.cols[i]
		switch c.spec.kind {
		case kindText, kindRate:
			start := int32(0)
			if r > 0 {
				start = c.ends[r-1]
			}
			if c.spec.kind == kindRate {
				e.rate(string(c.data[start:c.ends[r]]))
				break
			}
			e.strBytes(c.data[start:c.ends[r]])
		case kindDate:
			e.date(claim.Date(c.i32[r]))
		case kindAmount:
			e.money(claim.Money(c.i64[r]))
		case kindInt32, kindInt64:
			e.integer(c.i64[r])
		}
	}
}

// writeTo writes every row with enc, in batches of batch rows (which only
// matters to the table's Write, whose batching this mimics), and closes it.
func (t *textTable) writeTo(enc encoder) error {
	for r := range t.rows {
		t.emit(enc, r)
		if err := enc.endRow(); err != nil {
			enc.close(true)
			return fmt.Errorf("row %d: %w", r+1, err)
		}
	}
	return enc.close(false)
}

// withDict returns the table's specs with dictionary encoding set by dict
// (which gets each text column's spec).
func (t *textTable) withDict(dict func(colSpec) bool) []colSpec {
	specs := slices.Clone(t.specs)
	for i := range specs {
		specs[i].dict = specs[i].kind == kindText && dict(specs[i])
	}
	return specs
}
