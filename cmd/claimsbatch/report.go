package main

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"

	"claimsbatch/internal/rundir"
	"claimsbatch/report"
	"claimsbatch/writers"

	"github.com/spf13/cobra"
)

func newReportCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "report RUN_DIR [--out FILE]",
		Short: "Write the HTML report of a published run again (totals, charts, exceptions, turnaround, inputs)",
		Long: `report reads a published run (its manifest, remittance and exceptions) and writes
one self-contained HTML page for finance and claims managers: totals per plan
currency, status mix, plan paid per module and per benefit, why amounts were not
covered, exceptions by code and by source file, turnaround, and the inputs with
their SHA-256. The page needs no network (inline CSS and SVG, no script) and
prints on A4.

Every run (and validate) publishes this page as report.html, listed in its
manifest; report builds it again from the published run, byte for byte the
same page (a run of an older release gets its first). The turnaround comes from
the manifest's turnaround section.

Without --out the page goes to stdout. --out FILE is written under a temporary
name and renamed when complete. The run directory itself is not changed.

Exit codes: 0 written, 2 RUN_DIR is not a published run or a file in it cannot
be read, 1 the page could not be written.`,
		Example: `  claimsbatch report runs/2026-11-27 --out runs-2026-11-27.html
  claimsbatch report out > report.html`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Errorf("report takes one RUN_DIR, the --out of a run (see 'claimsbatch report --help')")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			var page bytes.Buffer
			if err := buildReport(&page, args[0]); err != nil {
				return usageError{err}
			}
			if out == "" {
				_, err := io.Copy(cmd.OutOrStdout(), &page)
				return err
			}
			return publishFile(out, page.Bytes())
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "file to write the page to (default: stdout)")
	return cmd
}

// buildReport writes the report page of the run published in dir.
func buildReport(w io.Writer, dir string) error {
	run, err := rundir.Open(dir)
	if err != nil {
		return err
	}
	in := report.Input{Manifest: run.Manifest}
	in.Remittance, _ = run.Table(rundir.Remittance)
	in.Exceptions, _ = run.Table(rundir.Exceptions)
	return report.Build(w, in)
}

// publishFile writes data to path through a temporary file in its directory.
func publishFile(path string, data []byte) error {
	pub, err := writers.NewFilePublisher(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer pub.Abort()
	name := filepath.Base(path)
	f, err := pub.Create(name)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return pub.Commit(name)
}
