package pipeline

import (
	"claimsbatch/claim"
	"claimsbatch/writers"
)

// turnaround measures the run's adjudicated lines against the plan's
// promise to handle a request within writers.TurnaroundTarget business
// days: per line, the business days from its received_date to the run's
// as-of date (businessDays). The adjudication's writer adds each line as it
// writes it, from one goroutine, in output order; the zero value is ready.
type turnaround struct {
	lines, within int64
	histogram     [writers.TurnaroundBuckets]int64
}

// add counts one adjudicated line received on received, handled in a run as
// of asOf.
func (t *turnaround) add(received, asOf claim.Date) {
	days := businessDays(received, asOf)
	t.lines++
	if days <= writers.TurnaroundTarget {
		t.within++
	}
	t.histogram[min(days, writers.TurnaroundBuckets-1)]++
}

// section is the manifest's turnaround section.
func (t *turnaround) section() *writers.Turnaround {
	return &writers.Turnaround{
		TargetDays: writers.TurnaroundTarget,
		Lines:      t.lines,
		Within:     t.within,
		Over:       t.lines - t.within,
		Histogram:  append([]int64(nil), t.histogram[:]...),
	}
}

// businessDays is the number of business days (Monday to Friday; no public
// holidays) after from, up to and including to: 0 for the same day, 1 from
// a Friday to the Monday after it, 1 from a Saturday or a Sunday to the
// Monday, 0 from a Friday to the Saturday after it, 5 from a Monday to the
// Monday after it. It is 0 when to is before from (which an adjudicated
// line never is: a line received after the as-of date is INVALID_VALUE).
// Exact integer arithmetic: no time package, no loop over days.
func businessDays(from, to claim.Date) int {
	if to <= from {
		return 0
	}
	return int(weekdaysThrough(to) - weekdaysThrough(from))
}

// mondayOffset shifts a claim.Date (days since Thursday 1970-01-01) so that
// every date from claim.FirstDate on is positive and the shifted day 0 is a
// Monday: 1970-01-01 becomes 3 (mod 7), a Thursday in a week from Monday 0.
const mondayOffset = 7*4000 + 3

// weekdaysThrough counts the weekdays from a fixed Monday before
// claim.FirstDate up to and including d.
func weekdaysThrough(d claim.Date) int64 {
	x := int64(d) + mondayOffset // >= 0 from 1893 on
	weeks, day := x/7, x%7       // day: 0 Monday .. 6 Sunday
	return 5*weeks + min(day+1, 5)
}
