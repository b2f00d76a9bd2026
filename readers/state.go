package readers

import (
	"fmt"
	"io"

	"claimsbatch/claim"
)

// The state columns, as the writers package writes them.
const (
	sKind = iota
	sMemberID
	sScope
	sKey
	sAmount
	sCount
	sDetail
	numStateColumns
)

var stateColumns = [numStateColumns]column{
	sKind:     {"kind", kindString, true},
	sMemberID: {"member_id", kindString, true},
	sScope:    {"scope", kindDate, true},
	sKey:      {"key", kindString, true},
	sAmount:   {"amount", kindMoney, true},
	sCount:    {"count", kindInt, true},
	sDetail:   {"detail", kindString, true},
}

// ReadState reads a whole state file (.csv, .csv.gz or .parquet) written by
// an earlier run. The pipeline streams the state with [OpenState]; ReadState
// is for tools and tests that want it in memory.
//
// A state file is machine-written: fields are taken exactly as they are (no
// trimming) and any malformed row fails the read with an error wrapping
// ErrCorrupt that names the file, row and column. kind must not be empty;
// scope is a date or empty (claim.NoDate); amount is a decimal with at most 2
// places and count an integer, each empty meaning 0.
func ReadState(path string) (records []claim.StateRecord, err error) {
	r, err := OpenState(path)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := r.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	for r.Next() {
		records = append(records, r.Record())
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	return records, nil
}

// StateReader streams a state file record by record, with the checks of
// [ReadState]; the first malformed row ends the stream with its error.
//
// Records of older state versions come back in the current version's form:
// once the META version row has been read, the duplicate-service key of a
// version 1 DUP or version 2 LINE record is upgraded (claim.UpgradeDupDetail).
type StateReader struct {
	t       *table
	rec     claim.StateRecord
	err     error
	version string // from the META version row, once read
}

// OpenState opens a state file for streaming.
func OpenState(path string) (*StateReader, error) {
	t, err := openTable(path, stateColumns[:], Options{})
	if err != nil {
		return nil, err
	}
	return &StateReader{t: t}, nil
}

// Next reads the next record; it returns false at the end or on an error.
func (r *StateReader) Next() bool {
	if r.err != nil {
		return false
	}
	rec, p, err := r.t.next()
	if err == io.EOF {
		return false
	}
	if err == nil && p.message != "" {
		err = stateError(r.t, r.t.columnName(p.field), p.message)
	}
	if err == nil {
		r.rec, err = parseState(r.t, rec)
	}
	r.err = err
	if err != nil {
		return false
	}
	switch rec := &r.rec; {
	case rec.Kind == claim.KindMeta && rec.Key == claim.MetaVersion:
		r.version = rec.Detail
	case (rec.Kind == claim.KindLine || rec.Kind == claim.KindDup) && rec.Detail != "" && (r.version == "1" || r.version == "2"):
		rec.Detail = claim.UpgradeDupDetail(rec.Detail)
	}
	return true
}

// Version returns the state version the file declared (its META version
// row), "" until that row has been read.
func (r *StateReader) Version() string { return r.version }

// Record returns the current record. Its strings stay valid after Next.
func (r *StateReader) Record() claim.StateRecord { return r.rec }

// Err returns the error that ended the stream, if any.
func (r *StateReader) Err() error { return r.err }

// Close closes the file.
func (r *StateReader) Close() error { return r.t.close() }

func stateError(t *table, field, message string) error {
	if field != "" {
		return fmt.Errorf("%s: row %d: column %s: %s: %w", t.path, t.rows, field, message, ErrCorrupt)
	}
	return fmt.Errorf("%s: row %d: %s: %w", t.path, t.rows, message, ErrCorrupt)
}

func parseState(t *table, rec []string) (claim.StateRecord, error) {
	value := func(c int) string { return rec[t.idx[c]] }
	r := claim.StateRecord{
		Kind:     value(sKind),
		MemberID: value(sMemberID),
		Scope:    claim.NoDate,
		Key:      value(sKey),
		Detail:   value(sDetail),
	}
	if r.Kind == "" {
		return r, stateError(t, "kind", "kind is empty")
	}
	if s := value(sScope); s != "" {
		d, err := claim.ParseDate(s)
		if err != nil {
			return r, stateError(t, "scope", fmt.Sprintf("%s is not a valid YYYY-MM-DD date", shorten(s)))
		}
		r.Scope = d
	}
	if s := value(sAmount); s != "" {
		m, err := claim.ParseMoney(s)
		if err != nil {
			return r, stateError(t, "amount", moneyProblem("amount", s, err))
		}
		r.Amount = m
	}
	if s := value(sCount); s != "" {
		n, ok := parseInt(s)
		if !ok {
			return r, stateError(t, "count", fmt.Sprintf("count %s is not an integer", shorten(s)))
		}
		r.Count = n
	}
	return r, nil
}
