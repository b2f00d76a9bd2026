package diff

import (
	"context"
	"fmt"

	"claimsbatch/claim"
	"claimsbatch/internal/rundir"
	"claimsbatch/readers"
)

// batchRows is how many rows a reader hands over at a time: enough to make
// the hand-over cheap, few enough to keep memory small (two batches in
// flight per side, about 1 KiB a row).
const batchRows = 512

// side is one run's remittance: a goroutine reads, parses and adds up its
// rows (read), the join takes them a row at a time (advance).
type side struct {
	name string // "A" or "B"
	path string
	r    *readers.TableReader
	rows chan []*Row // batches from read; closed at the end or on an error
	err  error       // why read stopped early; read by advance once rows is closed

	// Owned by read until rows is closed.
	lastMember string
	sums       *sideTotals

	// Owned by the join.
	batch []*Row
	pos   int
	cur   *Row // the next row to join; nil at the end
}

// read runs in the side's goroutine: it reads the whole table, checks its
// order, parses the amounts and adjustments, adds every row to the side's
// totals, and sends the rows in batches.
func (s *side) read(ctx context.Context) (err error) {
	defer func() {
		s.err = err
		close(s.rows)
		s.r.Close()
	}()
	batch := make([]*Row, 0, batchRows)
	send := func() error {
		select {
		case s.rows <- batch:
			batch = make([]*Row, 0, batchRows)
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for s.r.Next() {
		row, err := s.parse()
		if err != nil {
			return err
		}
		s.sums.add(row)
		if batch = append(batch, row); len(batch) == batchRows {
			if err := send(); err != nil {
				return err
			}
		}
	}
	if err := s.r.Err(); err != nil {
		return fmt.Errorf("diff: run %s: %w", s.name, err)
	}
	if len(batch) > 0 {
		return send()
	}
	return nil
}

// parse turns the reader's current record into a Row.
func (s *side) parse() (*Row, error) {
	row := &Row{RowNo: s.r.Row()}
	copy(row.Fields[:], s.r.Record())
	member := row.Fields[ColMemberID]
	if member < s.lastMember {
		return nil, fmt.Errorf("%w: run %s: %s row %d: member_id goes down (a remittance is sorted by member_id)", ErrOrder, s.name, s.path, row.RowNo)
	}
	s.lastMember = member
	for m := range NumMeasures {
		col := measureColumn[m]
		v, err := claim.ParseMoney(row.Fields[col])
		if err != nil {
			return nil, fmt.Errorf("%w: run %s: %s row %d column %s: %q: %w", ErrValue, s.name, s.path, row.RowNo, Columns[col], row.Fields[col], err)
		}
		row.Amounts[m] = v
	}
	adj, err := rundir.ParseAdjustments(nil, row.Fields[ColAdjustments])
	if err != nil {
		return nil, fmt.Errorf("%w: run %s: %s row %d column adjustments: %w", ErrValue, s.name, s.path, row.RowNo, err)
	}
	row.Adjust = adj
	return row, nil
}

// advance moves s.cur to the next row, nil at the end of the table.
func (s *side) advance() error {
	s.cur = nil
	if s.rows == nil {
		return nil // no table
	}
	if s.pos == len(s.batch) {
		batch, ok := <-s.rows
		if !ok {
			s.rows = nil
			return s.err
		}
		s.batch, s.pos = batch, 0
	}
	s.cur = s.batch[s.pos]
	s.batch[s.pos] = nil // the join owns the row now
	s.pos++
	return nil
}
