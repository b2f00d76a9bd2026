package main

import (
	"context"
	"errors"
	"fmt"

	"claimsbatch/diff"
	"claimsbatch/internal/rundir"
	"claimsbatch/writers"

	"github.com/spf13/cobra"
)

// errRunsDiffer is diff's "the runs differ": exit 1, as diff(1).
var errRunsDiffer = errors.New("the runs differ")

func newDiffCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "diff RUN_A RUN_B [--out DIR]",
		Short: "Compare two published runs line by line and in totals (a what-if against its base)",
		Long: `diff joins the remittances of two published runs on (claim_id, line_no) and
prints what changed from A to B: lines changed, only in A, only in B; the totals
of charge, plan_paid, deductible, coinsurance and not_covered per plan currency
(A, B and delta), and those that differ per module and per benefit; the reason
codes that appeared on or disappeared from lines; the exceptions by code; the
payments per payee. Every column but run_id is compared.

With --out DIR it also writes DIR/diff.csv (one row per line that differs, with
both values and the deltas) and DIR/diff.json (the whole summary), published
together when complete.

It reads both runs' files once, streaming (CSV or Parquet, as the manifests
say); memory does not grow with the runs' size.

Exit codes, as diff(1): 0 the runs are identical, 1 they differ, 2 trouble
(a directory or manifest missing, a file unreadable or out of order).`,
		Example: `  # what moved when the outpatient annual maximum went from 5,000 to 6,000
  claimsbatch plan > what-if.yaml && $EDITOR what-if.yaml
  claimsbatch run --plan what-if.yaml --claims claims.csv --members members.csv --fx fx.csv --out whatif
  claimsbatch diff base whatif --out base-vs-whatif`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageError{fmt.Errorf("diff takes two run directories, RUN_A and RUN_B (see 'claimsbatch diff --help')")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			sum, err := runDiff(cmd.Context(), args[0], args[1], out)
			if err != nil {
				// Anything that stops a diff is trouble, exit 2.
				return usageError{err}
			}
			if err := sum.WriteText(cmd.OutOrStdout()); err != nil {
				return usageError{err}
			}
			if !sum.Identical {
				l := sum.Lines
				return fmt.Errorf("%w: %d lines changed, %d only in A, %d only in B", errRunsDiffer, l.Changed, l.OnlyInA, l.OnlyInB)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "directory to write diff.csv and diff.json into (created if missing)")
	return cmd
}

// runDiff compares the runs in dirA and dirB; with outDir set it publishes
// diff.csv and diff.json there.
func runDiff(ctx context.Context, dirA, dirB, outDir string) (*diff.Summary, error) {
	a, err := rundir.Open(dirA)
	if err != nil {
		return nil, fmt.Errorf("RUN_A: %w", err)
	}
	b, err := rundir.Open(dirB)
	if err != nil {
		return nil, fmt.Errorf("RUN_B: %w", err)
	}
	var (
		pub *writers.FilePublisher
		csv *diff.CSVWriter
	)
	if outDir != "" {
		if pub, err = writers.NewFilePublisher(outDir); err != nil {
			return nil, err
		}
		defer pub.Abort()
		f, err := pub.Create("diff.csv")
		if err != nil {
			return nil, err
		}
		csv = diff.NewCSVWriter(f)
	}
	d, err := diff.New(ctx, a, b, diff.Options{})
	if err != nil {
		return nil, err
	}
	defer d.Close()
	for d.Next() {
		if csv != nil {
			if err := csv.Write(d.Line()); err != nil {
				return nil, err
			}
		}
	}
	if err := d.Err(); err != nil {
		return nil, err
	}
	sum := d.Summary()
	if pub == nil {
		return sum, nil
	}
	if err := csv.Flush(); err != nil {
		return nil, err
	}
	f, err := pub.Create("diff.json")
	if err != nil {
		return nil, err
	}
	if err := sum.WriteJSON(f); err != nil {
		return nil, err
	}
	return sum, pub.Commit("diff.json")
}
