package readers

import (
	"fmt"
	"io"
	"slices"
	"strings"

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
	r, err := OpenState(path, Options{})
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
// [ReadState]; the first malformed row ends the stream with its error. A
// META version row of a version this build does not read (claim.StateVersionsRead)
// ends it too, with ErrFormat.
//
// Records of older state versions come back in the current version's form:
// once the META version row has been read, the duplicate-service key of a
// version 1 DUP or version 2 LINE record is upgraded (claim.UpgradeDupDetail).
//
// A state file cannot lie about itself: the reader recomputes the trailer
// (claim.StateDigest) of the rows it reads and checks it against the END row
// that ends a version 4 file, which it does not return. A version 4 file
// without an END row (cut short), with rows after it, or whose counts or
// hash differ (a row removed or edited) fails the stream with ErrCorrupt.
// An amount or a count below zero fails it too: no accumulator, line or
// trip count of a state is negative. These errors name the file, the row,
// the kind and, for kinds whose key is a plan's name, the scope and the key;
// never a member id or a claim id, nor any value read from the row that
// could be one.
type StateReader struct {
	t       *table
	rec     claim.StateRecord
	err     error
	version string // from the META version row, once read
	digest  *claim.StateDigest
	ended   bool // the END row has been read
}

// OpenState opens a state file for streaming. Its rows are decoded on
// opt.Workers goroutines (a Parquet file's row groups, pqahead.go; a CSV
// file's chunks, csvahead.go; one per core when 0), the records, their
// checks and their order those of a read on one. The claims' options
// (KeepRaw, AsOf) do not apply.
func OpenState(path string, opt Options) (*StateReader, error) {
	t, err := openTable(path, stateColumns[:], opt)
	if err != nil {
		return nil, err
	}
	t.readAhead(opt, true) // its errors quote no raw text
	return newStateReader(t), nil
}

func newStateReader(t *table) *StateReader {
	return &StateReader{t: t, digest: claim.NewStateDigest()}
}

// Next reads the next record; it returns false at the end or on an error.
func (r *StateReader) Next() bool {
	if r.err != nil {
		return false
	}
	for {
		rec, p, err := r.t.next()
		if err == io.EOF {
			if !r.ended && r.version != "" && claim.StateNeedsTrailer(r.version) {
				r.err = fmt.Errorf("%s: ends after row %d without the END row that ends a version %s state: the file was cut short or edited: %w",
					r.t.path, r.t.rows, r.version, ErrCorrupt)
			}
			return false
		}
		if err == nil && p.message != "" {
			err = stateError(r.t, r.t.columnName(p.field), p.message)
		}
		if err == nil {
			r.rec, err = parseState(r.t, rec)
		}
		if err == nil && r.ended {
			err = stateError(r.t, "", "a row follows the END row, which must be the last")
		}
		if err == nil && r.rec.Kind == claim.KindEnd {
			if cerr := r.digest.Check(&r.rec); cerr != nil {
				err = stateError(r.t, "", cerr.Error()+": the file was edited or cut")
			}
			r.ended = true
			if err == nil {
				continue
			}
		}
		if err == nil {
			r.digest.Add(&r.rec)
			err = checkSigns(r.t, &r.rec)
		}
		r.err = err
		if err != nil {
			return false
		}
		break
	}
	switch rec := &r.rec; {
	case rec.Kind == claim.KindMeta && rec.Key == claim.MetaVersion:
		r.version = rec.Detail
		if !slices.Contains(claim.StateVersionsRead, r.version) {
			r.err = fmt.Errorf("%s: row %d: state version %q: this build reads versions %s: %w",
				r.t.path, r.t.rows, exceptionText(shorten(r.version)), strings.Join(claim.StateVersionsRead, ", "), ErrFormat)
			return false
		}
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

// DescribeStateRecord names a state record for a message: its kind and, for
// kinds whose key is a name of the plan or of the run (ACC, COND, DATES,
// LIFE, ITEM, YEAR, META), its scope and key. The key of a LINE record is a
// claim id and a TRIP key a trip id: those are left out, and the member id
// always is.
func DescribeStateRecord(r *claim.StateRecord) string {
	s := r.Kind
	switch r.Kind {
	case claim.KindAcc, claim.KindCond, claim.KindDates, claim.KindLife, claim.KindItem, claim.KindYear, claim.KindMeta:
		if r.Scope != claim.NoDate {
			s += " " + r.Scope.String()
		}
		if r.Key != "" {
			s += " " + exceptionText(shorten(r.Key))
		}
	}
	return s
}

// checkSigns refuses a negative amount or count: no state record holds one.
func checkSigns(t *table, r *claim.StateRecord) error {
	switch {
	case r.Amount < 0:
		return stateError(t, "amount", fmt.Sprintf("%s: amount %s is negative", DescribeStateRecord(r), r.Amount))
	case r.Count < 0:
		return stateError(t, "count", fmt.Sprintf("%s: count %d is negative", DescribeStateRecord(r), r.Count))
	}
	return nil
}

// parseState reads one row. Its messages quote no value of the row: a
// shifted or edited row could hold a member id in any column.
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
			return r, stateError(t, "scope", "not a valid YYYY-MM-DD date")
		}
		r.Scope = d
	}
	if s := value(sAmount); s != "" {
		m, err := claim.ParseMoney(s)
		if err != nil {
			return r, stateError(t, "amount", "not a decimal amount with at most 2 decimals")
		}
		r.Amount = m
	}
	if s := value(sCount); s != "" {
		n, ok := parseInt(s)
		if !ok {
			return r, stateError(t, "count", "not an integer")
		}
		r.Count = n
	}
	return r, nil
}
