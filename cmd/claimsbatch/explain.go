package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"claimsbatch/explain"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func newExplainCmd() *cobra.Command {
	var (
		opt     explain.Options
		lineNo  int
		asJSON  bool
		claimID string
	)
	cmd := &cobra.Command{
		Use:   "explain RUN_DIR --claim ID [--line N] [--json]",
		Short: "Say why a line was paid what it was: every SPEC step and accumulator, re-adjudicated from the run's inputs",
		Long: `explain re-adjudicates the member of a claim (or of one line of it) from the
inputs recorded in RUN_DIR's manifest, with the engine's tracer on, and prints
for each of the member's lines up to and including the asked one, in
adjudication order (service_date, received_date, claim_id, line_no):

  - the SPEC steps that applied and their outcome (passed, denied with the
    reason code, or the amounts they computed);
  - every accumulator the line touched, before and after, with its limit,
    e.g. "outpatient annual 4,835.00 -> 5,000.00 of 5,000.00 (PR-119 10.00)";
  - the line's remittance values, checked against the published remittance
    row (they must be equal; a difference is reported loudly, exit 1).

Without --line, every line of the claim is asked. The claim's rows that the
run turned into exceptions are listed with their code.

The inputs are found where the manifest says (relative paths from
--input-dir, default the current directory: where the run was started); a
missing input, or one whose SHA-256 no longer matches the manifest, is
refused (exit 2), as is a plan file that cannot be found (give it with
--plan). Finding the member reads the published remittance, and its lines a
read of the claims files (progress on stderr when it is a terminal).

The output names the member: it is for the person who asked about the claim,
not for logs.

Exit codes: 0 explained (and equal to the published remittance), 1 the
re-adjudication differs from the published remittance, 2 usage: no such run,
claim or line, an input changed or missing, the plan not found.`,
		Example: `  claimsbatch explain out --claim C2001
  claimsbatch explain runs/2026-11-27 --claim C88123 --line 2 --json > why.json
  cd /srv/claims && claimsbatch explain runs/2026-11-27 --claim C88123   # where the run was started`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Errorf("explain takes one RUN_DIR, the --out of a run (see 'claimsbatch explain --help')")}
			}
			if claimID == "" {
				return usageError{fmt.Errorf("explain needs --claim ID (see 'claimsbatch explain --help')")}
			}
			if cmd.Flags().Changed("line") && lineNo < 1 {
				return usageError{fmt.Errorf("--line must be a line number of at least 1, not %d", lineNo)}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opt.RunDir, opt.ClaimID, opt.LineNo = args[0], claimID, int32(lineNo)
			prog := newScanProgress(cmd.ErrOrStderr())
			opt.Progress = prog.update
			rep, err := explain.Explain(cmd.Context(), opt)
			prog.done()
			if rep != nil {
				out := cmd.OutOrStdout()
				var werr error
				if asJSON {
					werr = rep.WriteJSON(out)
				} else {
					werr = rep.WriteText(out)
				}
				if werr != nil && err == nil {
					err = werr
				}
			}
			if errors.Is(err, explain.ErrRefused) {
				return usageError{err}
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&claimID, "claim", "", "the claim_id to explain (required)")
	f.IntVar(&lineNo, "line", 0, "the line_no of the claim to explain (default: every line of the claim)")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON (stable field order; amounts as strings)")
	f.StringVar(&opt.Plan, "plan", "", "the run's plan file, when the manifest's is not findable (its SHA-256 must be the run's)")
	f.StringVar(&opt.InputDir, "input-dir", "", "directory the manifest's relative input paths start from: where the run was started (default: the current directory)")
	return cmd
}

// scanProgress shows, on a terminal only, one line on stderr while explain
// reads a big file: the file's name and the rows read. File names and
// counts only.
type scanProgress struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	last  time.Time
	shown bool
}

func newScanProgress(w io.Writer) *scanProgress {
	f, ok := w.(*os.File)
	return &scanProgress{w: w, tty: ok && term.IsTerminal(int(f.Fd()))}
}

func (p *scanProgress) update(file string, rows int64) {
	if !p.tty {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if now := time.Now(); now.Sub(p.last) >= 200*time.Millisecond {
		p.last = now
		fmt.Fprintf(p.w, "\rexplain: reading %s: %d rows\033[K", filepath.Base(file), rows)
		p.shown = true
	}
}

func (p *scanProgress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
