package readers

import (
	"fmt"
	"io"
	"strings"

	"claimsbatch/claim"
)

// The members columns (SPEC 3.2), in the order the checks run.
const (
	mMemberID = iota
	mPolicyID
	mCoverageStart
	mCoverageEnd
	mDateOfBirth
	mResidence
	mOrigin
	mUSCover
	mPlanCurrency
	mModules
	mCoreDeductible
	mCoreCoinsurance
	mCoreOOPMax
	mOutpatientDeductible
	mOutpatientCoinsurance
	mOutpatientOOPMax
	numMemberColumns
)

var memberColumns = [numMemberColumns]column{
	mMemberID:              {"member_id", kindString, true},
	mPolicyID:              {"policy_id", kindString, true},
	mCoverageStart:         {"coverage_start", kindDate, true},
	mCoverageEnd:           {"coverage_end", kindDate, false},
	mDateOfBirth:           {"date_of_birth", kindDate, true},
	mResidence:             {"residence_country", kindString, true},
	mOrigin:                {"origin_country", kindString, true},
	mUSCover:               {"us_cover", kindFlag, false},
	mPlanCurrency:          {"plan_currency", kindString, true},
	mModules:               {"modules", kindString, true},
	mCoreDeductible:        {"core_deductible", kindMoney, false},
	mCoreCoinsurance:       {"core_coinsurance", kindInt, false},
	mCoreOOPMax:            {"core_oop_max", kindMoney, false},
	mOutpatientDeductible:  {"outpatient_deductible", kindMoney, false},
	mOutpatientCoinsurance: {"outpatient_coinsurance", kindInt, false},
	mOutpatientOOPMax:      {"outpatient_oop_max", kindMoney, false},
}

// MembersReader streams a members file (.csv, .csv.gz or .parquet) in
// batches, so that a members file of any size is read in bounded memory:
//
//	mr, err := readers.OpenMembers(path, readers.Options{})
//	...
//	defer mr.Close()
//	for mr.Next() {
//		spans, exceptions := mr.Spans(), mr.Exceptions() // each in row order
//	}
//	if err := mr.Err(); err != nil { ... }
//
// Each good row becomes a RawSpan: coverage_end empty is claim.OpenEnd, the
// cost-share options hold -1 when their column is empty (the caller applies
// the plan's defaults and checks the values against the plan's option lists,
// and whether plan_currency is one of the plan's), coinsurance is in basis
// points (20 → 2000), Raw is the row as read (for the exceptions the caller
// raises on the span). A bad row becomes an exception (PARSE_ERROR,
// MISSING_FIELD or INVALID_VALUE, first failure in column order) with
// MemberID where readable and SourceNo 0. Errors wrap ErrOpen, ErrFormat,
// ErrMissingColumn or ErrCorrupt.
type MembersReader struct {
	t          *table
	in         *interner
	batchSize  int
	spans      []claim.RawSpan
	exceptions []claim.Exception
	err        error
	done       bool
}

// OpenMembers opens a members file; Options.BatchSize sets the rows of a
// batch (accepted plus rejected). A Parquet file's row groups are read on
// Options.Workers goroutines (pqahead.go); the rows, their checks and their
// order are those of a read on one.
func OpenMembers(path string, opt Options) (*MembersReader, error) {
	t, err := openTable(path, memberColumns[:], opt)
	if err != nil {
		return nil, err
	}
	t.readAhead(opt, false)
	return newMembersReader(t, opt), nil
}

func newMembersReader(t *table, opt Options) *MembersReader {
	opt = opt.withDefaults()
	return &MembersReader{t: t, in: newInterner(), batchSize: opt.BatchSize}
}

// Next reads the next batch of up to Options.BatchSize rows. It returns false
// at the end of the file or on an error (see Err). The slices of the previous
// batch are reused; the strings in them are not (they may be kept).
func (r *MembersReader) Next() bool {
	clear(r.spans)
	r.spans = r.spans[:0]
	r.exceptions = r.exceptions[:0]
	if r.done || r.err != nil {
		return false
	}
	t := r.t
	for n := 0; n < r.batchSize; n++ {
		rec, p, err := t.next()
		if err == io.EOF {
			r.done = true
			break
		}
		if err != nil {
			r.err = err
			r.spans, r.exceptions = r.spans[:0], r.exceptions[:0]
			return false
		}
		r.spans = append(r.spans, claim.RawSpan{})
		span := &r.spans[len(r.spans)-1]
		check := rowCheck{code: claim.ParseError, field: t.columnName(p.field), message: p.message}
		if p.message == "" {
			check = parseMember(t, r.in, rec, span)
		}
		if check.code == "" {
			span.Raw = t.raw()
			continue
		}
		r.spans = r.spans[:len(r.spans)-1]
		e := claim.Exception{Source: t.name, Row: t.rows, Code: check.code, Field: check.field, Message: check.message, Raw: t.raw()}
		// The id of a record whose fields may be shifted (a wrong field
		// count, a quoting error) is not trusted.
		if p.message == "" || p.field >= 0 {
			e.MemberID = exceptionText(t.field(rec, mMemberID))
		}
		r.exceptions = append(r.exceptions, e)
	}
	return len(r.spans)+len(r.exceptions) > 0
}

// Spans returns the good rows of the current batch, in row order.
func (r *MembersReader) Spans() []claim.RawSpan { return r.spans }

// Exceptions returns the bad rows of the current batch, in row order.
func (r *MembersReader) Exceptions() []claim.Exception { return r.exceptions }

// Rows returns the number of data records read so far, good and bad.
func (r *MembersReader) Rows() int64 { return r.t.rows }

// Err returns the error that stopped Next, or nil at a clean end of file.
func (r *MembersReader) Err() error { return r.err }

// Close releases the file. It may be called more than once.
func (r *MembersReader) Close() error { return r.t.close() }

// ReadMembers reads a whole members file with a MembersReader: every good
// row as a RawSpan and every bad row as an exception, in row order, and
// rows counts every data record. It holds the whole file, for tools and
// tests; the pipeline streams the file with a MembersReader.
func ReadMembers(path string) (spans []claim.RawSpan, exceptions []claim.Exception, rows int64, err error) {
	t, err := openTable(path, memberColumns[:], Options{})
	if err != nil {
		return nil, nil, 0, err
	}
	return readMembers(t)
}

func readMembers(t *table) (spans []claim.RawSpan, exceptions []claim.Exception, rows int64, err error) {
	r := newMembersReader(t, Options{})
	defer func() {
		if cerr := r.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	spans = make([]claim.RawSpan, 0, t.rowsHint())
	for r.Next() {
		spans = append(spans, r.Spans()...)
		exceptions = append(exceptions, r.Exceptions()...)
	}
	if err := r.Err(); err != nil {
		return nil, nil, r.Rows(), err
	}
	return spans, exceptions, r.Rows(), nil
}

// RawRows reads the text of chosen rows of a members file, as a
// MembersReader gives it (RawSpan.Raw, Exception.Raw), in increasing row
// order: a caller that raises an exception on a row long after reading it
// (an overlap found once all of a member's rows are known) gets its text
// back without having kept the text of every row.
type RawRows struct {
	t   *table
	row string // the text of row t.rows
}

// OpenRawRows opens a members file for RawRows.Row.
func OpenRawRows(path string) (*RawRows, error) {
	t, err := openTable(path, memberColumns[:], Options{})
	if err != nil {
		return nil, err
	}
	return &RawRows{t: t}, nil
}

// Row returns the text of data record row (from 1); rows must be asked for
// in increasing order (asking for the same row again is fine). A row past
// the end of the file is an error.
func (r *RawRows) Row(row int64) (string, error) {
	if row < r.t.rows || row < 1 {
		return "", fmt.Errorf("%s: row %d asked for after row %d", r.t.path, row, r.t.rows)
	}
	for r.t.rows < row {
		_, _, err := r.t.next()
		if err == io.EOF {
			return "", fmt.Errorf("%s: row %d is past the end of the file (%d rows): %w", r.t.path, row, r.t.rows, ErrCorrupt)
		}
		if err != nil {
			return "", err
		}
		if r.t.rows == row {
			r.row = r.t.raw()
		}
	}
	return r.row, nil
}

// Close releases the file. It may be called more than once.
func (r *RawRows) Close() error { return r.t.close() }

// readWhole reads every row of a dimension table (FX rates) and
// closes it: parse turns a row into a T or the check it failed, and a failed
// row becomes an exception (SourceNo 0) naming, when idColumn ≥ 0 and the
// row could be split into fields, that column's value as its MemberID.
// capHint sizes the result.
func readWhole[T any](t *table, capHint, idColumn int, parse func(in *interner, rec []string, v *T) rowCheck) (vals []T, exceptions []claim.Exception, rows int64, err error) {
	defer func() {
		if cerr := t.close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	in := newInterner()
	vals = make([]T, 0, capHint)
	for {
		rec, p, err := t.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, t.rows, err
		}
		var v T
		var check rowCheck
		if p.message != "" {
			check = rowCheck{code: claim.ParseError, field: t.columnName(p.field), message: p.message}
		} else {
			check = parse(in, rec, &v)
		}
		if check.code != "" {
			e := claim.Exception{Source: t.name, Row: t.rows, Code: check.code, Field: check.field, Message: check.message, Raw: t.raw()}
			if idColumn >= 0 && (p.message == "" || p.field >= 0) {
				e.MemberID = exceptionText(t.field(rec, idColumn))
			}
			exceptions = append(exceptions, e)
			continue
		}
		vals = append(vals, v)
	}
	return vals, exceptions, t.rows, nil
}

func parseMember(t *table, in *interner, rec []string, span *claim.RawSpan) rowCheck {
	var f [numMemberColumns]string
	for c := range f {
		f[c] = t.field(rec, c)
	}
	for c := range f {
		if memberColumns[c].required && f[c] == "" {
			return missing(memberColumns[c].name)
		}
	}

	start, check := dateCheck("coverage_start", f[mCoverageStart])
	if check.code != "" {
		return check
	}
	end, check := dateCheck("coverage_end", f[mCoverageEnd])
	if check.code != "" {
		if d, err := claim.ParseDate(f[mCoverageEnd]); err == nil && d > claim.LastDate {
			check.message += " (leave coverage_end empty for a span with no end)"
		}
		return check
	}
	if end == claim.NoDate {
		end = claim.OpenEnd
	} else if end < start {
		return invalid("coverage_end", "coverage_end %s is before coverage_start %s", f[mCoverageEnd], f[mCoverageStart])
	}
	birth, check := dateCheck("date_of_birth", f[mDateOfBirth])
	if check.code != "" {
		return check
	}
	residence, check := in.codeCheck("residence_country", f[mResidence], 2)
	if check.code != "" {
		return check
	}
	origin, check := in.codeCheck("origin_country", f[mOrigin], 2)
	if check.code != "" {
		return check
	}
	usCover, check := flagCheck("us_cover", f[mUSCover])
	if check.code != "" {
		return check
	}
	currency, check := in.codeCheck("plan_currency", f[mPlanCurrency], 3)
	if check.code != "" {
		return check
	}
	modules, check := modulesCheck(f[mModules])
	if check.code != "" {
		return check
	}
	coreDeductible, check := amountCheck("core_deductible", f[mCoreDeductible])
	if check.code != "" {
		return check
	}
	coreCoins, check := percentCheck("core_coinsurance", f[mCoreCoinsurance])
	if check.code != "" {
		return check
	}
	coreOOP, check := amountCheck("core_oop_max", f[mCoreOOPMax])
	if check.code != "" {
		return check
	}
	opDeductible, check := amountCheck("outpatient_deductible", f[mOutpatientDeductible])
	if check.code != "" {
		return check
	}
	opCoins, check := percentCheck("outpatient_coinsurance", f[mOutpatientCoinsurance])
	if check.code != "" {
		return check
	}
	opOOP, check := amountCheck("outpatient_oop_max", f[mOutpatientOOPMax])
	if check.code != "" {
		return check
	}

	*span = claim.RawSpan{
		Span: claim.Span{
			MemberID:     f[mMemberID],
			PolicyID:     f[mPolicyID],
			Start:        start,
			End:          end,
			DateOfBirth:  birth,
			Residence:    residence,
			Origin:       origin,
			USCover:      usCover,
			PlanCurrency: currency,
			Modules:      modules,
			Row:          t.rows,
		},
		CoreDeductibleGiven:   coreDeductible,
		CoreCoinsGiven:        coreCoins,
		CoreOOPMaxGiven:       coreOOP,
		OutpatientDeductGiven: opDeductible,
		OutpatientCoinsGiven:  opCoins,
		OutpatientOOPMaxGiven: opOOP,
	}
	return rowCheck{}
}

// modulesCheck parses "core;outpatient;dental": a ';'-separated set of
// module names (spaces around a name are ignored) that includes core.
func modulesCheck(s string) (claim.ModuleSet, rowCheck) {
	var set claim.ModuleSet
	for name := range strings.SplitSeq(s, ";") {
		m, ok := claim.ParseModule(trimSpace(name))
		if !ok {
			return 0, invalid("modules", "modules %s: %q is not core, outpatient or dental", shorten(s), shorten(trimSpace(name)))
		}
		set = set.With(m)
	}
	if !set.Has(claim.Core) {
		return 0, invalid("modules", "modules %s does not include core", shorten(s))
	}
	return set, rowCheck{}
}

// percentCheck parses an integer percent from 0 to 100 into basis points;
// empty gives -1.
func percentCheck(name, s string) (int64, rowCheck) {
	if s == "" {
		return -1, rowCheck{}
	}
	pct, ok := parseInt(s)
	if !ok || pct < 0 || pct > 100 {
		return 0, invalid(name, "%s %s is not an integer percent from 0 to 100", name, shorten(s))
	}
	return pct * 100, rowCheck{}
}
