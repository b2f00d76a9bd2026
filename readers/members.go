package readers

import (
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

// ReadMembers reads a whole members file (.csv, .csv.gz or .parquet). The
// members file is a dimension table: the pipeline needs every span before
// it can adjudicate the first claim, so it is loaded in full rather than
// streamed.
//
// Each good row becomes a RawSpan: coverage_end empty is claim.OpenEnd, the
// cost-share options hold -1 when their column is empty (the pipeline applies
// the plan's defaults and checks the values against the plan's option lists,
// and whether plan_currency is one of the plan's), coinsurance is in basis
// points (20 → 2000), Raw is the row as read (for the exceptions the
// pipeline raises on the span). A bad row becomes an exception (PARSE_ERROR,
// MISSING_FIELD or INVALID_VALUE, first failure in column order) with
// MemberID where readable and SourceNo 0; rows counts every data record.
// err wraps ErrOpen, ErrFormat, ErrMissingColumn or ErrCorrupt.
func ReadMembers(path string) (spans []claim.RawSpan, exceptions []claim.Exception, rows int64, err error) {
	t, err := openTable(path, memberColumns[:], Options{})
	if err != nil {
		return nil, nil, 0, err
	}
	return readMembers(t)
}

func readMembers(t *table) (spans []claim.RawSpan, exceptions []claim.Exception, rows int64, err error) {
	return readWhole(t, t.rowsHint(), mMemberID, func(in *interner, rec []string, span *claim.RawSpan) rowCheck {
		check := parseMember(t, in, rec, span)
		if check.code == "" {
			span.Raw = t.raw()
		}
		return check
	})
}

// readWhole reads every row of a dimension table (members, FX rates) and
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
