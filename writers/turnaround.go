package writers

import (
	"fmt"
)

// TurnaroundTarget is the business days within which the plan promises to
// handle a request (the brochure's 5 business days).
const TurnaroundTarget = 5

// TurnaroundBuckets is the length of Turnaround.Histogram: business days 0
// to 14, then one bucket for 15 or more.
const TurnaroundBuckets = 16

// Turnaround is the manifest's turnaround section: how long the run's
// adjudicated lines waited. A line's turnaround is the number of business
// days (Monday to Friday) after its received_date up to and including the
// run's as-of date: 0 when received on the as-of date, 1 for a line
// received on Friday and handled on Monday, 1 too for one received on
// Saturday. A line is within the target when its turnaround is at most
// TargetDays, the day the target falls on included.
type Turnaround struct {
	TargetDays int   `json:"target_business_days"`
	Lines      int64 `json:"lines"`         // lines measured: every adjudicated line
	Within     int64 `json:"within_target"` // turnaround <= TargetDays
	Over       int64 `json:"over_target"`   // turnaround > TargetDays
	// Histogram[i] counts the lines of turnaround i business days for i
	// below TurnaroundBuckets-1; the last entry counts those of
	// TurnaroundBuckets-1 days or more.
	Histogram []int64 `json:"histogram"`
}

// Check verifies the section's arithmetic: Within + Over = Lines, the
// histogram has TurnaroundBuckets entries, adds up to Lines, and its
// entries up to TargetDays add up to Within.
func (t *Turnaround) Check() error {
	if t.TargetDays < 0 || t.TargetDays >= TurnaroundBuckets-1 {
		return fmt.Errorf("writers: turnaround: target_business_days %d is not between 0 and %d", t.TargetDays, TurnaroundBuckets-2)
	}
	if t.Within < 0 || t.Over < 0 || t.Within+t.Over != t.Lines {
		return fmt.Errorf("writers: turnaround: within_target %d + over_target %d != lines %d", t.Within, t.Over, t.Lines)
	}
	if len(t.Histogram) != TurnaroundBuckets {
		return fmt.Errorf("writers: turnaround: the histogram has %d entries, want %d", len(t.Histogram), TurnaroundBuckets)
	}
	var sum, within int64
	for i, n := range t.Histogram {
		if n < 0 {
			return fmt.Errorf("writers: turnaround: histogram entry %d is negative", i)
		}
		sum += n
		if i <= t.TargetDays {
			within += n
		}
	}
	if sum != t.Lines {
		return fmt.Errorf("writers: turnaround: the histogram adds up to %d lines, lines is %d", sum, t.Lines)
	}
	if within != t.Within {
		return fmt.Errorf("writers: turnaround: the histogram has %d lines within %d business days, within_target is %d", within, t.TargetDays, t.Within)
	}
	return nil
}
