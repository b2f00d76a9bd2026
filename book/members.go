package book

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"claimsbatch/claim"
	"claimsbatch/plan"
)

// member is one member of the members file, with its spans resolved against
// the plan.
type member struct {
	spans   []claim.Span // sorted by start
	invalid string       // why the member is invalid ("" = valid)
}

// Members is the members file resolved against the plan, until New numbers
// it into a Book.
type Members struct {
	byID    map[string]*member
	invalid int
}

// Len returns the number of distinct members of the file.
func (m *Members) Len() int { return len(m.byID) }

// Invalid returns the number of members whose coverage is invalid.
func (m *Members) Invalid() int { return m.invalid }

// Resolve applies the plan's defaults and option lists to the members file's
// rows (as readers.ReadMembers returns them, with the reader's exceptions),
// sorts each member's spans and checks they do not overlap. Rows that break
// a rule become exceptions and make their member invalid; the exceptions
// returned are the reader's and Resolve's, in row order.
func Resolve(p *plan.Plan, path string, raw []claim.RawSpan, readerEx []claim.Exception) (*Members, []claim.Exception) {
	source := filepath.Base(path)
	members := make(map[string]*member, len(raw))
	// The book stays in memory for the whole run, so its strings are copied
	// out of the rows they were read from (which would stay alive with them)
	// and the country and currency codes are shared.
	codes := map[string]string{}
	code := func(c string) string {
		if v, ok := codes[c]; ok {
			return v
		}
		c = strings.Clone(c)
		codes[c] = c
		return c
	}
	get := func(id string) *member {
		m := members[id]
		if m == nil {
			m = &member{}
			members[id] = m
		}
		return m
	}
	var ex []claim.Exception
	// A row the reader rejected makes its member invalid, if it names one.
	for _, e := range readerEx {
		if e.MemberID != "" {
			m := get(e.MemberID)
			if m.invalid == "" {
				m.invalid = fmt.Sprintf("members file row %d: %s", e.Row, e.Message)
			}
		}
	}
	for i := range raw {
		r := &raw[i]
		s := r.Span
		s.MemberID = strings.Clone(s.MemberID)
		s.PolicyID = strings.Clone(s.PolicyID)
		s.Residence, s.Origin, s.PlanCurrency = code(s.Residence), code(s.Origin), code(s.PlanCurrency)
		m := get(s.MemberID)
		bad := func(field, format string, args ...any) {
			msg := fmt.Sprintf(format, args...)
			ex = append(ex, claim.Exception{Source: source, Row: r.Row, MemberID: s.MemberID, Code: claim.InvalidValue, Field: field, Message: msg, Raw: r.Raw})
			if m.invalid == "" {
				m.invalid = fmt.Sprintf("members file row %d: %s", r.Row, msg)
			}
		}
		ci := p.CurrencyIndex(s.PlanCurrency)
		if ci < 0 {
			bad("plan_currency", "plan currency %s is not one of the plan's currencies %s", s.PlanCurrency, strings.Join(p.Currencies, ", "))
			continue
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
		if ok {
			m.spans = append(m.spans, s)
		}
	}
	ids := make([]string, 0, len(members))
	for id := range members {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		m := members[id]
		slices.SortFunc(m.spans, func(a, b claim.Span) int { return int(a.Start - b.Start) })
		for i := 1; i < len(m.spans); i++ {
			prev, cur := &m.spans[i-1], &m.spans[i]
			if cur.Start <= prev.End {
				msg := fmt.Sprintf("span %s..%s overlaps the span %s..%s of row %d", cur.Start, endText(cur.End), prev.Start, endText(prev.End), prev.Row)
				ex = append(ex, claim.Exception{Source: source, Row: cur.Row, MemberID: id, Code: claim.InvalidMember, Field: "coverage_start", Message: msg, Raw: rawOf(raw, cur.Row)})
				if m.invalid == "" {
					m.invalid = "members file row " + fmt.Sprint(cur.Row) + ": " + msg
				}
			}
		}
		if m.invalid == "" && len(m.spans) == 0 {
			m.invalid = "no valid coverage span"
		}
	}
	invalid := 0
	for _, m := range members {
		if m.invalid != "" {
			invalid++
		}
	}
	all := append(slices.Clip(readerEx), ex...)
	slices.SortStableFunc(all, func(a, b claim.Exception) int { return cmp.Compare(a.Row, b.Row) })
	return &Members{byID: members, invalid: invalid}, all
}

// rawOf returns the text of the members-file row; raw is in row order.
func rawOf(raw []claim.RawSpan, row int64) string {
	i, found := slices.BinarySearchFunc(raw, row, func(r claim.RawSpan, row int64) int { return cmp.Compare(r.Row, row) })
	if !found {
		return ""
	}
	return raw[i].Raw
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
