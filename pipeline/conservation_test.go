package pipeline

import (
	"errors"
	"strings"
	"testing"

	"claimsbatch/claim"
)

// TestConservationFailsTheRun: a row unaccounted for, or a cent, is a bug
// that must fail the run before anything is published.
func TestConservationFailsTheRun(t *testing.T) {
	line := &claim.Line{PlanCurrency: "USD"}
	good := func() *run {
		j := &run{cfg: Config{Claims: []string{"in/claims.csv"}}, perFile: []fileCount{{rows: 3, adjudicated: 2, exceptions: 1}}}
		j.totals.LinesRead = 3
		j.totals.AddException(claim.UnknownMember)
		j.totals.AddResult(&claim.Result{Line: line, Module: claim.Core, Charge: 1000, PlanPaid: 600, Deductible: 400})
		j.totals.AddResult(&claim.Result{Line: line, Module: claim.Core, Charge: 500, NotCovered: 500})
		return j
	}
	if err := good().conservation(); err != nil {
		t.Fatalf("balanced run: %v", err)
	}
	tests := []struct {
		name    string
		breakIt func(*run)
		want    string
	}{
		{"a row lost", func(j *run) { j.perFile[0].adjudicated = 1 }, "claims.csv: 3 rows read, 1 adjudicated + 1 exceptions"},
		{"a cent lost", func(j *run) { j.totals.PerCurrency[0].PlanPaid -= 1 }, "USD: charge 15.00 != plan_paid + deductible + coinsurance + not_covered 14.99"},
		{"lines read", func(j *run) { j.totals.LinesRead = 4 }, "lines_read 4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := good()
			tc.breakIt(j)
			err := j.conservation()
			if !errors.Is(err, ErrConservation) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrConservation containing %q", err, tc.want)
			}
		})
	}
}
