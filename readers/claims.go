package readers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"unsafe"

	"golang.org/x/sync/errgroup"

	"claimsbatch/claim"
)

// BenefitLookup resolves a benefit_code against the plan: its id, and
// whether a line of it needs an item_code. ClaimsReader calls it from its
// parsing goroutines at once: it must be safe for concurrent use (a
// *plan.Plan, which only reads a map, is).
type BenefitLookup interface {
	Lookup(code string) (id claim.BenefitID, needsItemCode bool, ok bool)
}

// The claims columns (SPEC 3.1), in the order MISSING_FIELD and
// INVALID_VALUE check them.
const (
	cClaimID = iota
	cLineNo
	cMemberID
	cServiceDate
	cServiceEndDate
	cReceivedDate
	cBenefitCode
	cDiagnosisCode
	cDiagnosisSystem
	cProcedureCode
	cItemCode
	cCountry
	cEmergency
	cTripID
	cProviderID
	cPayee
	cCurrency
	cBilledAmount
	cUnits
	numClaimColumns
)

var claimColumns = [numClaimColumns]column{
	cClaimID:         {"claim_id", kindString, true},
	cLineNo:          {"line_no", kindInt, true},
	cMemberID:        {"member_id", kindString, true},
	cServiceDate:     {"service_date", kindDate, true},
	cServiceEndDate:  {"service_end_date", kindDate, false},
	cReceivedDate:    {"received_date", kindDate, false},
	cBenefitCode:     {"benefit_code", kindString, true},
	cDiagnosisCode:   {"diagnosis_code", kindString, false},
	cDiagnosisSystem: {"diagnosis_system", kindString, false},
	cProcedureCode:   {"procedure_code", kindString, false},
	cItemCode:        {"item_code", kindString, false},
	cCountry:         {"country", kindString, true},
	cEmergency:       {"emergency", kindFlag, false},
	cTripID:          {"trip_id", kindString, false},
	cProviderID:      {"provider_id", kindString, false},
	cPayee:           {"payee", kindString, false},
	cCurrency:        {"currency", kindString, true},
	cBilledAmount:    {"billed_amount", kindMoney, true},
	cUnits:           {"units", kindInt, false},
}

// diagnosisForm says what a diagnosis code of each system looks like, for
// the INVALID_VALUE message.
var diagnosisForm = [...]string{
	claim.ICD10:       "an ICD-10 code (a letter, then letters or digits, at least 3 without dots)",
	claim.ICD9:        "an ICD-9 code (3 digits, V and 2 digits, or E and 3 digits; then an optional dot and up to 2 digits, 1 for E codes)",
	claim.SNOMED:      "a SNOMED CT identifier (6 to 18 digits)",
	claim.OtherSystem: "a code of at most 64 printable characters without spaces",
}

// ClaimsReader streams the claim lines of one claims file in batches. The
// rows are parsed and checked on Options.Workers goroutines and delivered in
// file order:
//
//	r, err := readers.OpenClaims(path, source, plan, readers.Options{})
//	...
//	defer r.Close()
//	for {
//		b, err := r.NextBatch()
//		if err == io.EOF {
//			break
//		}
//		if err != nil { ... }
//		use(b.Lines, b.Exceptions)
//		b.Release()
//	}
//
// The batches may be processed concurrently and released in any order. The
// older iterator, one batch at a time whose lines may be kept, works too:
//
//	for r.Next() {
//		use(r.Lines(), r.Exceptions())
//	}
//	if err := r.Err(); err != nil { ... }
//
// Every data row of the file ends up exactly once either in Lines or in
// Exceptions, in file order within each. A reader is used from one
// goroutine at a time (its batches from any).
type ClaimsReader struct {
	t        *table
	source   int32
	benefits BenefitLookup
	opt      Options // with defaults
	workers  int
	csv      *csvInput // the data rows of a CSV file
	pq       *pqInput  // the typed columns of a Parquet file

	started bool
	legacy  bool // used through Next: lines may be kept, buffers are not reused
	cancel  context.CancelFunc
	group   *errgroup.Group
	order   chan *unit    // the units of work in file order
	slots   chan struct{} // look-ahead slots of the batches of units ahead
	cur     *unit         // the unit whose batches are being delivered
	curBase int64         // rows delivered before cur
	rows    int64         // rows delivered
	seq     int64
	err     error // sticky: the failure, io.EOF at the end, errClosed
	stopped bool

	states chan *worker // one per goroutine that parses

	batch *Batch // Next's current batch
}

// OpenClaims opens a claims file (.csv, .csv.gz or .parquet) and reads its
// header. source is the file's index in the run's --claims list; it goes
// into every Line and Exception. The error wraps ErrOpen, ErrFormat,
// ErrMissingColumn or ErrCorrupt.
func OpenClaims(path string, source int32, benefits BenefitLookup, opt Options) (*ClaimsReader, error) {
	if benefits == nil {
		return nil, errors.New("readers: OpenClaims needs a BenefitLookup")
	}
	t, err := openTable(path, claimColumns[:], opt)
	if err != nil {
		return nil, err
	}
	return newClaimsReader(t, source, benefits, opt), nil
}

// newClaimsReader reads the rows of t, whose header the table has read: a
// CSV file's rows go to the parallel CSV parser, a Parquet file's columns
// to the typed column readers.
func newClaimsReader(t *table, source int32, benefits BenefitLookup, opt Options) *ClaimsReader {
	opt = opt.withDefaults()
	r := &ClaimsReader{
		t:        t,
		source:   source,
		benefits: benefits,
		opt:      opt,
		workers:  opt.Workers,
	}
	switch src := t.src.(type) {
	case *csvSource:
		r.csv = src.rest()
	case *parquetSource:
		if r.pq = newPQInput(src, t, opt); r.pq == nil {
			// The text path (parseTable): a row's strings live as long as
			// its batch or its line, so they may share arena blocks.
			src.useArena()
		}
	}
	r.states = make(chan *worker, r.workers)
	for range r.workers {
		r.states <- r.newWorker()
	}
	return r
}

// errClosed is what a closed reader returns.
var errClosed = errors.New("readers: ClaimsReader is closed")

// Next reads the next batch of up to Options.BatchSize rows, for
// Lines, Exceptions, Raw and Reject. It returns false at the end of the file
// or on an error (see Err). The previous batch is released: its slices are
// reused, but the Line values, strings included, may be kept.
func (r *ClaimsReader) Next() bool {
	if !r.started {
		r.legacy = true
	}
	if r.batch != nil {
		r.batch.Release()
		r.batch = nil
	}
	b, err := r.NextBatch()
	if err != nil {
		return false
	}
	r.batch = b
	return true
}

// Lines returns the accepted rows of the current batch, in row order. The
// slice is reused by Next; the Line values, strings included, may be kept.
func (r *ClaimsReader) Lines() []claim.Line {
	if r.batch == nil {
		return nil
	}
	return r.batch.Lines
}

// Raw returns the row of accepted line i of the current batch as read (see
// Exception.Raw), when Options.KeepRaw is set; "" otherwise. The string may
// be kept.
func (r *ClaimsReader) Raw(i int) string {
	if !r.opt.KeepRaw {
		return ""
	}
	return r.batch.Raw(i)
}

// Reject returns the exception a caller raises on accepted line i of the
// current batch (a run-level check the line failed), filled in as the reader
// fills in its own: source, row, the row's identifiers as written, and its
// raw text (with Options.KeepRaw). The caller decides where it goes in the
// exceptions' order (by Row).
func (r *ClaimsReader) Reject(i int, code claim.ExceptionCode, field, message string) claim.Exception {
	e := r.batch.reject(i, code, field, message, r.opt.KeepRaw)
	return e
}

// Exceptions returns the rejected rows of the current batch, with the same
// ownership as Lines.
func (r *ClaimsReader) Exceptions() []claim.Exception {
	if r.batch == nil {
		return nil
	}
	return r.batch.Exceptions
}

// Err returns the error that stopped Next or NextBatch, or nil at a clean
// end of file.
func (r *ClaimsReader) Err() error {
	if r.err == io.EOF || r.err == errClosed {
		return nil
	}
	return r.err
}

// Rows returns the number of data records delivered so far, good and bad.
func (r *ClaimsReader) Rows() int64 { return r.rows }

// Close stops the reader's goroutines and releases the file. Batches already
// returned stay valid until released. Close may be called more than once.
func (r *ClaimsReader) Close() error {
	if r.batch != nil {
		r.batch.Release()
		r.batch = nil
	}
	r.stop()
	if r.err == nil {
		r.err = errClosed
	}
	return r.t.close()
}

// rowParser checks claims rows. Each goroutine that parses has its own: t is
// its copy of the file's table (the column map shared, the row counters its
// own) and the interner is not safe for concurrent use.
type rowParser struct {
	t        *table
	source   int32
	benefits BenefitLookup
	intern   *interner
	asOf     claim.Date // Options.AsOf; 0: no bound
	// detachWide makes parse copy a line's strings out of a wide record (see
	// detach): for Next, whose lines may be kept. NextBatch's lines live
	// until Release and point into the batch's buffers.
	detachWide bool
}

// reject returns the exception of the row the parser is on. The identifiers
// come from the row where they could be read: not from a record whose field
// count is wrong (they may be shifted), nor from fields after a quoting
// error. Its strings are its own (rec may point into a reused buffer).
func (r *rowParser) reject(rec []string, p problem, check rowCheck, raw string) claim.Exception {
	e := claim.Exception{
		Source:   r.t.name,
		SourceNo: r.source,
		Row:      r.t.rows,
		Code:     check.code,
		Field:    check.field,
		Message:  check.message,
		Raw:      ownText(raw),
	}
	if p.message == "" || p.field >= 0 {
		e.ClaimID = ownText(r.t.field(rec, cClaimID))
		e.LineNo = ownText(r.t.field(rec, cLineNo))
		e.MemberID = ownText(r.t.field(rec, cMemberID))
	}
	return e
}

// ownText is exceptionText(s) in memory of its own.
func ownText(s string) string {
	t := exceptionText(s)
	if len(t) > 0 && unsafe.StringData(t) == unsafe.StringData(s) {
		return strings.Clone(t)
	}
	return t
}

// checkRecord checks a well-formed record (problem p is zero) and fills
// line, or returns the problem's PARSE_ERROR.
func (r *rowParser) checkRecord(rec []string, p problem, line *claim.Line) rowCheck {
	if p.message != "" {
		return rowCheck{code: claim.ParseError, field: r.t.columnName(p.field), message: p.message}
	}
	return r.parse(rec, line)
}

// parse checks one well-formed record and fills line. It returns the first
// failed check in SPEC section 7 order, or the zero rowCheck.
func (r *rowParser) parse(rec []string, line *claim.Line) rowCheck {
	t := r.t
	var f [numClaimColumns]string
	for c := range f {
		f[c] = t.field(rec, c)
	}

	// MISSING_FIELD
	for c := range f {
		if claimColumns[c].required && f[c] == "" {
			return missing(claimColumns[c].name)
		}
	}
	benefit, needsItem, known := r.benefits.Lookup(f[cBenefitCode])
	if known && needsItem && f[cItemCode] == "" {
		return rowCheck{code: claim.MissingField, field: "item_code",
			message: fmt.Sprintf("item_code is empty; benefit %s needs one", f[cBenefitCode])}
	}

	// INVALID_VALUE, in column order.
	lineNo, ok := parseInt(f[cLineNo])
	if !ok || lineNo < 1 || lineNo > 1<<31-1 {
		return invalid("line_no", "line_no %s is not an integer from 1 to 2147483647", shorten(f[cLineNo]))
	}
	service, check := dateCheck("service_date", f[cServiceDate])
	if check.code != "" {
		return check
	}
	end, check := dateCheck("service_end_date", f[cServiceEndDate])
	if check.code != "" {
		return check
	}
	if end == claim.NoDate {
		end = service
	} else if end < service {
		return invalid("service_end_date", "service_end_date %s is before service_date %s", f[cServiceEndDate], f[cServiceDate])
	}
	received, check := dateCheck("received_date", f[cReceivedDate])
	if check.code != "" {
		return check
	}
	if received == claim.NoDate {
		received = service
		if r.asOf != 0 && service > r.asOf {
			return invalid("service_date", "service_date %s is after the run's as-of date %s (received_date is empty, so it is the service date)", service, r.asOf)
		}
	} else if received < service {
		return invalid("received_date", "received_date %s is before service_date %s", received, service)
	} else if r.asOf != 0 && received > r.asOf {
		return invalid("received_date", "received_date %s is after the run's as-of date %s", received, r.asOf)
	}
	system, ok := claim.ParseDiagnosisSystem(f[cDiagnosisSystem])
	if !ok {
		return invalid("diagnosis_system", "diagnosis_system %s is not ICD10, ICD9, SNOMED or OTHER", shorten(f[cDiagnosisSystem]))
	}
	var condition string
	if diag := f[cDiagnosisCode]; diag != "" {
		if condition, ok = r.intern.diagnosis(system, diag); !ok {
			return invalid("diagnosis_code", "diagnosis_code %s is not %s", shorten(diag), diagnosisForm[system])
		}
	}
	country, check := r.intern.codeCheck("country", f[cCountry], 2)
	if check.code != "" {
		return check
	}
	emergency, check := flagCheck("emergency", f[cEmergency])
	if check.code != "" {
		return check
	}
	var payee claim.PayeeType
	switch f[cPayee] {
	case "":
		payee = claim.PayeeMember
		if f[cProviderID] != "" {
			payee = claim.PayeeProvider
		}
	case "provider":
		if f[cProviderID] == "" {
			return invalid("payee", "payee is provider but provider_id is empty")
		}
		payee = claim.PayeeProvider
	case "member":
		payee = claim.PayeeMember
	default:
		return invalid("payee", "payee %s is not provider or member", shorten(f[cPayee]))
	}
	currency, check := r.intern.codeCheck("currency", f[cCurrency], 3)
	if check.code != "" {
		return check
	}
	billed, check := amountCheck("billed_amount", f[cBilledAmount])
	if check.code != "" {
		return check
	}
	units := int64(1)
	if s := f[cUnits]; s != "" {
		if units, ok = parseInt(s); !ok || units < 1 || units > 1<<31-1 {
			return invalid("units", "units %s is not an integer from 1 to 2147483647", shorten(s))
		}
	}

	// UNKNOWN_BENEFIT
	if !known {
		return rowCheck{code: claim.UnknownBenefit, field: "benefit_code",
			message: fmt.Sprintf("benefit_code %s is not a benefit of the plan", shorten(f[cBenefitCode]))}
	}

	*line = claim.Line{
		ClaimID:         f[cClaimID],
		LineNo:          int32(lineNo),
		MemberID:        f[cMemberID],
		ServiceDate:     service,
		ServiceEndDate:  end,
		ReceivedDate:    received,
		BenefitCode:     f[cBenefitCode],
		Benefit:         benefit,
		Diagnosis:       f[cDiagnosisCode],
		DiagnosisSystem: system,
		Condition:       condition,
		ProcedureCode:   f[cProcedureCode],
		ItemCode:        f[cItemCode],
		Country:         country,
		Emergency:       emergency,
		TripID:          f[cTripID],
		ProviderID:      f[cProviderID],
		Payee:           payee,
		Currency:        currency,
		Billed:          billed,
		Units:           int32(units),
		Source:          r.source,
		Row:             t.rows,
	}
	r.detach(line)
	return rowCheck{}
}

// detach copies the strings a line keeps out of its record when the record is
// much larger than they are. The line's strings are substrings of the record
// (one allocation per row); in a wide extract with many columns the reader
// does not use, that would make every kept line hold the whole row.
func (r *rowParser) detach(line *claim.Line) {
	if !r.detachWide {
		return
	}
	kept := len(line.ClaimID) + len(line.MemberID) + len(line.Diagnosis) + len(line.ProcedureCode) + len(line.ItemCode) + len(line.TripID) + len(line.ProviderID)
	if r.t.recordBytes <= 2*kept+128 {
		return
	}
	var b strings.Builder
	b.Grow(kept)
	for _, s := range [...]string{line.ClaimID, line.MemberID, line.Diagnosis, line.ProcedureCode, line.ItemCode, line.TripID, line.ProviderID} {
		b.WriteString(s)
	}
	text := b.String()
	next := func(n int) string {
		s := text[:n]
		text = text[n:]
		return s
	}
	line.ClaimID = next(len(line.ClaimID))
	line.MemberID = next(len(line.MemberID))
	line.Diagnosis = next(len(line.Diagnosis))
	line.ProcedureCode = next(len(line.ProcedureCode))
	line.ItemCode = next(len(line.ItemCode))
	line.TripID = next(len(line.TripID))
	line.ProviderID = next(len(line.ProviderID))
	line.BenefitCode = r.intern.share(line.BenefitCode)
	line.Condition = r.intern.share(line.Condition)
	line.Country = r.intern.share(line.Country)
	line.Currency = r.intern.share(line.Currency)
}
