package readers

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"claimsbatch/claim"
)

// BenefitLookup resolves a benefit_code against the plan: its id, and
// whether a line of it needs an item_code.
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

// ClaimsReader streams the claim lines of one claims file in batches:
//
//	r, err := readers.OpenClaims(path, source, plan, readers.Options{})
//	...
//	defer r.Close()
//	for r.Next() {
//		use(r.Lines(), r.Exceptions())
//	}
//	if err := r.Err(); err != nil { ... }
//
// Every data row of the file ends up exactly once either in Lines or in
// Exceptions, in file order within each.
type ClaimsReader struct {
	t          *table
	source     int32
	benefits   BenefitLookup
	keepRaw    bool
	asOf       claim.Date // 0: no bound
	batchSize  int
	intern     *interner
	lines      []claim.Line
	origins    []origin // per accepted line: what an exception about it needs
	exceptions []claim.Exception
	err        error
	done       bool
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
	// A claims row's strings live until its line is spilled or its
	// exception written, a batch later at most: they may share arena blocks.
	if ps, ok := t.src.(*parquetSource); ok {
		ps.useArena()
	}
	return newClaimsReader(t, source, benefits, opt), nil
}

func newClaimsReader(t *table, source int32, benefits BenefitLookup, opt Options) *ClaimsReader {
	opt = opt.withDefaults()
	return &ClaimsReader{
		t:          t,
		source:     source,
		benefits:   benefits,
		keepRaw:    opt.KeepRaw,
		asOf:       opt.AsOf,
		batchSize:  opt.BatchSize,
		intern:     newInterner(),
		lines:      make([]claim.Line, 0, opt.BatchSize),
		origins:    make([]origin, 0, opt.BatchSize),
		exceptions: make([]claim.Exception, 0, 64),
	}
}

// Next reads the next batch of up to Options.BatchSize rows. It returns false
// at the end of the file or on an error (see Err). The slices of the previous
// batch are reused.
func (r *ClaimsReader) Next() bool {
	r.lines = r.lines[:0]
	clear(r.origins)
	r.origins = r.origins[:0]
	r.exceptions = r.exceptions[:0]
	if r.done || r.err != nil {
		return false
	}
	for n := 0; n < r.batchSize; n++ {
		rec, p, err := r.t.next()
		if err == io.EOF {
			r.done = true
			break
		}
		if err != nil {
			r.err = err
			r.lines = r.lines[:0]
			r.exceptions = r.exceptions[:0]
			return false
		}
		r.lines = append(r.lines, claim.Line{})
		line := &r.lines[len(r.lines)-1]
		var check rowCheck
		if p.message != "" {
			check = rowCheck{code: claim.ParseError, field: r.t.columnName(p.field), message: p.message}
		} else {
			check = r.parse(rec, line)
		}
		if check.code != "" {
			r.lines = r.lines[:len(r.lines)-1]
			r.reject(rec, p, check)
			continue
		}
		o := origin{lineNo: r.t.field(rec, cLineNo)}
		if r.keepRaw {
			o.raw = r.t.raw()
		}
		r.origins = append(r.origins, o)
	}
	return len(r.lines)+len(r.exceptions) > 0
}

// Lines returns the accepted rows of the current batch, in row order. The
// slice is reused by Next; the Line values, strings included, may be kept.
func (r *ClaimsReader) Lines() []claim.Line { return r.lines }

// origin is what the reader keeps of an accepted line's row for an exception
// raised on it later.
type origin struct {
	raw    string // the row as read (Options.KeepRaw)
	lineNo string // line_no as written
}

// Raw returns the row of accepted line i of the current batch as read (see
// Exception.Raw), when Options.KeepRaw is set; "" otherwise. The string may
// be kept.
func (r *ClaimsReader) Raw(i int) string { return r.origins[i].raw }

// Reject returns the exception a caller raises on accepted line i of the
// current batch (a run-level check the line failed), filled in as the reader
// fills in its own: source, row, the row's identifiers as written, and its
// raw text (with Options.KeepRaw). The caller decides where it goes in the
// exceptions' order (by Row).
func (r *ClaimsReader) Reject(i int, code claim.ExceptionCode, field, message string) claim.Exception {
	l := &r.lines[i]
	return claim.Exception{
		Source:   r.t.name,
		SourceNo: r.source,
		Row:      l.Row,
		ClaimID:  exceptionText(l.ClaimID),
		LineNo:   exceptionText(r.origins[i].lineNo),
		MemberID: exceptionText(l.MemberID),
		Code:     code,
		Field:    field,
		Message:  message,
		Raw:      r.origins[i].raw,
	}
}

// Exceptions returns the rejected rows of the current batch, with the same
// ownership as Lines.
func (r *ClaimsReader) Exceptions() []claim.Exception { return r.exceptions }

// Err returns the error that stopped Next, or nil at a clean end of file.
func (r *ClaimsReader) Err() error { return r.err }

// Rows returns the number of data records read so far, good and bad.
func (r *ClaimsReader) Rows() int64 { return r.t.rows }

// Close releases the file. It may be called more than once.
func (r *ClaimsReader) Close() error { return r.t.close() }

// reject records the current row as an exception. The identifiers come from
// the row where they could be read: not from a record whose field count is
// wrong (they may be shifted), nor from fields after a quoting error.
func (r *ClaimsReader) reject(rec []string, p problem, check rowCheck) {
	e := claim.Exception{
		Source:   r.t.name,
		SourceNo: r.source,
		Row:      r.t.rows,
		Code:     check.code,
		Field:    check.field,
		Message:  check.message,
		Raw:      r.t.raw(),
	}
	if p.message == "" || p.field >= 0 {
		e.ClaimID = exceptionText(r.t.field(rec, cClaimID))
		e.LineNo = exceptionText(r.t.field(rec, cLineNo))
		e.MemberID = exceptionText(r.t.field(rec, cMemberID))
	}
	r.exceptions = append(r.exceptions, e)
}

// parse checks one well-formed record and fills line. It returns the first
// failed check in SPEC section 7 order, or the zero rowCheck.
func (r *ClaimsReader) parse(rec []string, line *claim.Line) rowCheck {
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
func (r *ClaimsReader) detach(line *claim.Line) {
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
