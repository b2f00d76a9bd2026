package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"claimsbatch/verify"
	"claimsbatch/writers"

	"github.com/spf13/cobra"
)

// errMismatch is returned when verify found mismatches: exit 1.
var errMismatch = errors.New("verify found mismatches")

func newVerifyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "verify DIR",
		Short: "Recheck a published run: file hashes, row counts and control totals",
		Long: `verify rechecks the run published in DIR against its manifest.json:

  - every output the manifest lists is there with the same SHA-256 and row
    count (CSV: records minus the header; Parquet: the footer's row count);
  - the control totals hold: lines read = adjudicated + exceptions, per plan
    currency charge = plan_paid + deductible + coinsurance + not_covered and
    member_responsibility = deductible + coinsurance + not_covered;
  - the remittance file (CSV or Parquet) adds up, line by line and per
    currency, to the manifest's totals (charge, plan_paid, deductible,
    coinsurance, not_covered, member_responsibility, paid per module), and
    every line obeys the money identities;
  - the payments file's plan_paid and line_count per currency add up to the
    remittance's; the exceptions file matches the exception counts; the state
    file names the run and the plan.

It prints one OK line when everything matches, otherwise every mismatch with
the file it concerns (at most 20 row-level ones per file, then their count).

Exit codes: 0 everything matches, 1 a mismatch (the directory does not hold
what the run published, or the numbers do not tie out), 2 usage error (no DIR,
DIR missing, or no manifest.json in it: no run was published there).`,
		Example: `  claimsbatch verify runs/2026-11-27

  # in a nightly job: publish only what verifies
  claimsbatch run ... --out runs/$(date +%F) && claimsbatch verify runs/$(date +%F)`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Errorf("verify takes one DIR, the --out of a run (see 'claimsbatch verify --help')")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			problems, err := verify.Verify(dir)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if len(problems) > 0 {
				for _, p := range problems {
					fmt.Fprintln(out, p)
				}
				return fmt.Errorf("%w: %d in %s", errMismatch, len(problems), dir)
			}
			fmt.Fprintln(out, okSummary(dir))
			return nil
		},
	}
}

// okSummary is verify's one-line report of a run that checks out.
func okSummary(dir string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "verify OK: %s", dir)
	f, err := os.Open(filepath.Join(dir, writers.ManifestName))
	if err != nil {
		return b.String()
	}
	defer f.Close()
	m, err := writers.ReadManifest(f)
	if err != nil {
		return b.String()
	}
	ct := m.ControlTotals
	fmt.Fprintf(&b, " run %s: %d outputs match; lines read %d = adjudicated %d + exceptions %d",
		m.RunID, len(m.Outputs), ct.LinesRead, ct.LinesAdjudicated, ct.Exceptions)
	for _, c := range ct.PerCurrency {
		fmt.Fprintf(&b, "; %s charge %s plan_paid %s", c.PlanCurrency, c.Charge, c.PlanPaid)
	}
	return b.String()
}
