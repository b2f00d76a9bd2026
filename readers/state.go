package readers

import (
	"fmt"
	"io"

	"claimsbatch/pipeline/claim"
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
// an earlier run, for --state-in. The pipeline looks state up by member for
// the whole run, so it is loaded in full.
//
// A state file is machine-written: fields are taken exactly as they are (no
// trimming) and any malformed row fails the read with an error wrapping
// ErrCorrupt that names the file, row and column. kind must not be empty;
// scope is a date or empty (claim.NoDate); amount is a decimal with at most 2
// places and count an integer, each empty meaning 0.
func ReadState(path string) (records []claim.StateRecord, err error) {
	t, err := openTable(path, stateColumns[:], Options{})
	if err != nil {
		return nil, err
	}
	return readState(t)
}

func readState(t *table) (records []claim.StateRecord, err error) {
	defer func() {
		if cerr := t.close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	for {
		rec, p, err := t.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if p.message != "" {
			return nil, stateError(t, t.columnName(p.field), p.message)
		}
		r, err := parseState(t, rec)
		if err != nil {
			return nil, err
		}
		records = append(records, r)
	}
	return records, nil
}

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
