package importer

import (
	"slices"
	"strconv"

	"claimsbatch/claim"
)

// Coverage from months covered per year (the DE-SynPUF beneficiary
// summaries: one row per beneficiary and year, with the number of months
// of Part A, Part B, HMO and Part D cover).
//
// The files say how many months of a year were covered, not which. The
// import takes the months as one unbroken run within the year:
//
//   - in the year of death (death_date in that year): the first N months,
//     ending at the end of month N or on the date of death, whichever is
//     earlier (cover ends when the beneficiary dies);
//   - in every other year: the last N months, from the first day of month
//     13-N to 31 December (a beneficiary who joined during the year; a
//     partial year in the middle of a covered history is rare).
//
// A year after the year of death is no cover, whatever its months say
// (filtered out as after_death).
//
// With several months columns, a month counts as covered when any of them
// counts it: N is the largest. A year of 0 months is no cover (the row is
// filtered out as no_months_covered). Years whose cover touches (31
// December, then 1 January) merge into one span when the member's other
// columns (policy_id, date_of_birth, options ...) are the same, so three
// full years make one span of three policy years.
//
// Memory: the rows of the block are held until its last file is read, one
// entry per beneficiary and year (its member columns and three numbers).

type yearCover struct {
	cols   []string // the member row; coverage columns filled at the end
	year   int
	months int
	death  claim.Date
}

// monthsCollector gathers a months-per-year block's rows by member.
type monthsCollector struct {
	order                   []string // member ids, first seen first
	byID                    map[string][]yearCover
	startCol, endCol, idCol int
}

func newMonthsCollector() *monthsCollector {
	t := membersTarget
	return &monthsCollector{byID: map[string][]yearCover{}, startCol: t.column("coverage_start"), endCol: t.column("coverage_end"), idCol: t.column("member_id")}
}

func (m *monthsCollector) add(y yearCover) {
	id := y.cols[m.idCol]
	if _, ok := m.byID[id]; !ok {
		m.order = append(m.order, id)
	}
	m.byID[id] = append(m.byID[id], y)
}

// interval returns the covered days of one year.
func (y *yearCover) interval() (start, end claim.Date) {
	if y.death != claim.NoDate {
		if dy, _, _ := y.death.Civil(); dy == y.year {
			start = claim.FromCivil(y.year, 1, 1)
			end = claim.FromCivil(y.year, 1, 1).AddMonths(y.months) - 1
			return start, min(end, y.death)
		}
	}
	start = claim.FromCivil(y.year, 13-y.months, 1)
	end = claim.FromCivil(y.year, 12, 31)
	return start, end
}

// spans returns the members rows: per member in first-seen order, its
// merged spans by start date.
func (m *monthsCollector) spans() [][]string {
	var out [][]string
	for _, id := range m.order {
		years := m.byID[id]
		slices.SortStableFunc(years, func(a, b yearCover) int { return a.year - b.year })
		var cur []string
		var curEnd claim.Date
		flush := func() {
			if cur != nil {
				cur[m.endCol] = curEnd.String()
				out = append(out, cur)
			}
		}
		for i := range years {
			y := &years[i]
			start, end := y.interval()
			if end < start {
				continue // died before the covered months began
			}
			if cur != nil && start <= curEnd+1 && sameMember(cur, y.cols, m.startCol, m.endCol) {
				curEnd = max(curEnd, end)
				continue
			}
			flush()
			cur = slices.Clone(y.cols)
			cur[m.startCol] = start.String()
			curEnd = end
		}
		flush()
	}
	return out
}

func sameMember(a, b []string, skip ...int) bool {
	for i := range a {
		if slices.Contains(skip, i) {
			continue
		}
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// parseMonths reads a months count, 0..12; "" is 0.
func parseMonths(s string) (int, bool) {
	if s == "" {
		return 0, true
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0 && n <= 12
}
