package book

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"claimsbatch/claim"
	"claimsbatch/plan"
)

// The members file's rules, one implementation each: a row against the plan
// (resolveRow), a member's spans against each other (SortSpans,
// checkOverlaps), and why a member is invalid (rowReason, noValidSpan).
// The pipeline applies them while it streams the file (Builder); a caller
// that has one member's rows at hand (explain, the Beam runner, which
// groups rows by member) applies them with ResolveMember.

// noValidSpan is why a member with no span and no rejected row is invalid.
// A members file's rows cannot make one (every row is a span or rejected),
// but the rule holds for every caller.
const noValidSpan = "no valid coverage span"

// rowReason is why a member is invalid because of one of its rows.
func rowReason(row int64, msg string) string {
	return fmt.Sprintf("members file row %d: %s", row, msg)
}

// resolveRow applies the plan to one members-file row: the defaults of the
// empty cost-share columns, the option lists, the plan currency and the
// modules. It returns the span and true, or appends the row's exceptions
// (INVALID_VALUE, in the order of the checks, with the row's Raw) to ex and
// returns false: the first of them is why the member is invalid. The span's
// strings are the row's.
func resolveRow(p *plan.Plan, source string, r *claim.RawSpan, ex []claim.Exception) (claim.Span, []claim.Exception, bool) {
	s := r.Span
	bad := func(field, format string, args ...any) {
		ex = append(ex, claim.Exception{Source: source, Row: r.Row, MemberID: s.MemberID, Code: claim.InvalidValue, Field: field,
			Message: fmt.Sprintf(format, args...), Raw: r.Raw})
	}
	ci := p.CurrencyIndex(s.PlanCurrency)
	if ci < 0 {
		bad("plan_currency", "plan currency %s is not one of the plan's currencies %s", s.PlanCurrency, strings.Join(p.Currencies, ", "))
		return s, ex, false
	}
	ok := true
	option := func(field string, given claim.Money, options [][]claim.Money, def claim.Money) claim.Money {
		if given < 0 {
			return def
		}
		var list []claim.Money
		if options != nil {
			list = options[ci]
		}
		if !slices.Contains(list, given) {
			bad(field, "%s %s is not one of the plan's options (%s)", field, given, moneyList(list))
			ok = false
		}
		return given
	}
	pct := func(field string, given int64, options []int64) int64 {
		if given < 0 {
			return 0
		}
		if !slices.Contains(options, given) {
			bad(field, "%s %s%% is not one of the plan's options (%s)", field, percent(given), percentList(options))
			ok = false
		}
		return given
	}
	lowest := func(options [][]claim.Money) claim.Money {
		if options == nil || len(options[ci]) == 0 {
			return 0
		}
		return options[ci][0]
	}
	core, op := &p.Modules[claim.Core], &p.Modules[claim.Outpatient]
	s.CoreDeductible = option("core_deductible", r.CoreDeductibleGiven, core.Deductibles, 0)
	s.CoreCoinsurance = pct("core_coinsurance", r.CoreCoinsGiven, core.Coinsurance)
	s.CoreOOPMax = option("core_oop_max", r.CoreOOPMaxGiven, core.OOPMaximums, lowest(core.OOPMaximums))
	s.OutpatientDeduct = option("outpatient_deductible", r.OutpatientDeductGiven, op.Deductibles, 0)
	s.OutpatientCoins = pct("outpatient_coinsurance", r.OutpatientCoinsGiven, op.Coinsurance)
	s.OutpatientOOPMax = option("outpatient_oop_max", r.OutpatientOOPMaxGiven, op.OOPMaximums, lowest(op.OOPMaximums))
	for mod := claim.Core; mod <= claim.Dental; mod++ {
		if s.Modules.Has(mod) && !p.Modules[mod].Present {
			bad("modules", "module %s is not in the plan", mod)
			ok = false
		}
	}
	return s, ex, ok
}

// SortSpans sorts a member's valid spans by start, as the book resolves
// them; spans that start on the same day (which overlap) stay in row order.
func SortSpans(spans []claim.Span) {
	slices.SortStableFunc(spans, func(a, b claim.Span) int { return cmp.Compare(a.Start, b.Start) })
}

// checkOverlaps appends an INVALID_MEMBER exception (Raw left empty: the
// caller has the rows' text) for every span of a member that starts before
// the previous one ends; spans must be sorted (SortSpans). The first, if
// any, is why the member is invalid (rowReason of its row and message).
func checkOverlaps(source string, spans []claim.Span, ex []claim.Exception) []claim.Exception {
	for i := 1; i < len(spans); i++ {
		prev, cur := &spans[i-1], &spans[i]
		if cur.Start <= prev.End {
			msg := fmt.Sprintf("span %s..%s overlaps the span %s..%s of row %d", cur.Start, endText(cur.End), prev.Start, endText(prev.End), prev.Row)
			ex = append(ex, claim.Exception{Source: source, Row: cur.Row, MemberID: cur.MemberID, Code: claim.InvalidMember, Field: "coverage_start", Message: msg})
		}
	}
	return ex
}

// ResolveMember applies the members file's rules to one member: rows are
// its rows as a readers.MembersReader returns them (in row order, Raw
// set), readerEx the reader's exceptions that name it (its rejected rows,
// in row order). It returns the member's spans sorted by start (nil when
// the member is invalid), why it is invalid ("" when it is valid: the
// reason of its first rejected row, else of its first row the plan
// rejects, else of its first overlap, else "no valid coverage span"), and
// the exceptions, the reader's and the rules', in row order. source is the
// members file's base name. A run resolves every member the same way
// (Builder).
func ResolveMember(p *plan.Plan, source string, rows []claim.RawSpan, readerEx []claim.Exception) (spans []claim.Span, invalid string, ex []claim.Exception) {
	if len(readerEx) > 0 {
		invalid = rowReason(readerEx[0].Row, readerEx[0].Message)
	}
	ex = slices.Clone(readerEx)
	for i := range rows {
		n := len(ex)
		s, more, ok := resolveRow(p, source, &rows[i], ex)
		ex = more
		if !ok {
			if invalid == "" {
				invalid = rowReason(rows[i].Row, ex[n].Message)
			}
			continue
		}
		spans = append(spans, s)
	}
	SortSpans(spans)
	n := len(ex)
	ex = checkOverlaps(source, spans, ex)
	for i := n; i < len(ex); i++ {
		if j, found := slices.BinarySearchFunc(rows, ex[i].Row, func(r claim.RawSpan, row int64) int { return cmp.Compare(r.Row, row) }); found {
			ex[i].Raw = rows[j].Raw
		}
	}
	if invalid == "" && len(ex) > n {
		invalid = rowReason(ex[n].Row, ex[n].Message)
	}
	if invalid == "" && len(spans) == 0 {
		invalid = noValidSpan
	}
	slices.SortStableFunc(ex, func(a, b claim.Exception) int { return cmp.Compare(a.Row, b.Row) })
	if invalid != "" {
		spans = nil
	}
	return spans, invalid, ex
}

func endText(d claim.Date) string {
	if d == claim.OpenEnd {
		return "open"
	}
	return d.String()
}

func moneyList(list []claim.Money) string {
	parts := make([]string, len(list))
	for i, m := range list {
		parts[i] = m.String()
	}
	return strings.Join(parts, ", ")
}

func percent(bp int64) string {
	if bp%100 == 0 {
		return fmt.Sprint(bp / 100)
	}
	return fmt.Sprintf("%d.%02d", bp/100, bp%100)
}

func percentList(list []int64) string {
	parts := make([]string, len(list))
	for i, p := range list {
		parts[i] = percent(p)
	}
	return strings.Join(parts, ", ")
}
