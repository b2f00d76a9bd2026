package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"claimsbatch/claim"
	"claimsbatch/internal/rundir"
	"claimsbatch/readers"
	"claimsbatch/writers"
	"claimsbatch/x12"

	"github.com/spf13/cobra"
)

// errX12Problems is returned when x12 check found problems: exit 1.
var errX12Problems = errors.New("x12 check found problems")

func newX12Cmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "x12",
		Short: "X12 835 remittance advice: write a run's 835s, check any 835 file",
		Long: `x12 works with ASC X12 835 Health Care Claim Payment/Advice files
(005010X221A1), the remittance advice providers' practice-management systems
load: one interchange per provider payee and plan currency of a run. See
docs/X12.md for the mapping from the remittance columns and the configuration
file.`,
	}
	cmd.AddCommand(newX12CheckCmd(), newX12GenerateCmd())
	return cmd
}

func newX12CheckCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "check FILE...",
		Short: "Check 835 files: envelopes, counts, control numbers, balancing",
		Long: `check reads each 835 file (ours or anyone's: the delimiters come from its ISA
segment, line breaks after segment terminators are skipped) and reports:

  - structure: ISA/IEA, GS/GE and ST/SE pair up; IEA01, GE01 and SE01 count
    what they close; IEA02, GE02 and SE02 repeat ISA13, GS06 and ST02; the
    file does not end in the middle of a segment or an envelope (truncated);
  - required 835 segments: BPR right after ST, TRN, the payer (N1*PR) and
    payee (N1*PE) loops, LX before the claims, NM1*QC in every claim;
  - balancing: per SVC, charge - paid = its CAS amounts; per CLP, charge -
    paid = its CAS amounts (claim and lines) and CLP05 = its PR adjustments;
    per transaction set, BPR02 = the CLP04 payments - the PLB adjustments.

Each problem is printed as FILE: segment N ID (claim C): message, where N
counts the file's segments from the ISA (1). A file without problems prints
FILE: OK with its counts and payments.

Exit codes: 0 every file is valid, 1 problems found, 2 a file is missing or
unreadable (the others are still checked) or no FILE was given.`,
		Example: `  claimsbatch x12 check out/835/*.835
  claimsbatch x12 check remittance-from-payer.txt`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{fmt.Errorf("x12 check takes one or more FILEs (see 'claimsbatch x12 check --help')")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
			var unreadable, withProblems int
			for _, path := range args {
				rep, err := x12.InspectFile(path)
				if err != nil {
					unreadable++
					fmt.Fprintf(errOut, "%s: cannot read: %v\n", path, errors.Unwrap(err))
					continue
				}
				if len(rep.Problems) > 0 {
					withProblems++
					for _, p := range rep.Problems {
						fmt.Fprintln(out, p)
					}
					continue
				}
				fmt.Fprintln(out, okLine(rep))
			}
			switch {
			case unreadable > 0:
				return usageError{fmt.Errorf("%d of %d files could not be read", unreadable, len(args))}
			case withProblems > 0:
				return fmt.Errorf("%w in %d of %d files", errX12Problems, withProblems, len(args))
			}
			return nil
		},
	}
}

// okLine is "FILE: OK (1 interchange, 1 transaction set, 6 claims, 6 service
// lines; paid USD 24287.50 to PR-HOSP1)".
func okLine(rep *x12.Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: OK (%s, %s, %s, %s", rep.File,
		plural(rep.Interchanges, "interchange", "interchanges"),
		plural(rep.Transactions, "transaction set", "transaction sets"),
		plural(rep.Claims, "claim", "claims"),
		plural(rep.ServiceLines, "service line", "service lines"))
	for i, s := range rep.Sets {
		sep := "; "
		if i > 0 {
			sep = ", "
		}
		payee := s.PayeeRef
		if payee == "" {
			payee = s.Payee
		}
		fmt.Fprintf(&b, "%spaid %s %s to %s", sep, s.Currency, s.Amount, payee)
	}
	b.WriteString(")")
	return b.String()
}

// plural is "1 claim" or "2 claims".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// checksumsName is the file x12 generate publishes last, listing the 835s
// with their SHA-256 in the format of sha256sum (check with sha256sum -c).
const checksumsName = "SHA256SUMS"

func newX12GenerateCmd() *cobra.Command {
	var outDir, configPath, asOf string
	cmd := &cobra.Command{
		Use:   "generate RUN_DIR --out DIR [--x12-config FILE] [--as-of DATE]",
		Short: "Write the 835s of an already published run",
		Long: `generate writes one 835 interchange per provider payee and plan currency of
the run published in RUN_DIR (its remittance.csv or remittance.parquet) into
DIR, with a SHA256SUMS file listing them (sha256sum -c checks it). Member
reimbursements are not 835s.

The ISA and GS dates, BPR16 and DTM*405 are the run's as-of date: --as-of, or
the as_of of the run's manifest (for runs of older releases, of its state). The control and trace numbers
derive from the run id, the payee and the currency, so the same run gives the
same bytes.

Before anything is published, every line must balance, every file passes
'x12 check', and when RUN_DIR has a payments file the files tie out to it:
per provider payee and currency, BPR02 is its plan_paid and the service lines
number its line_count. The files are written under temporary names and
renamed at the end, SHA256SUMS last.

--x12-config names the YAML file with the trading partners' identifiers,
names, addresses and payment details (docs/X12.md); without it the built-in
placeholders are used and the interchanges are marked test data (ISA15 T).

Exit codes: 0 written, 1 the 835s cannot be made or do not tie out (nothing
published), 2 usage error, missing or unreadable RUN_DIR or configuration.`,
		Example: `  claimsbatch x12 generate out --out out-835
  claimsbatch x12 generate runs/2026-11-27 --out 835 --x12-config x12.yaml
  sha256sum -c --quiet 835/SHA256SUMS`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 || outDir == "" {
				return usageError{fmt.Errorf("x12 generate takes one RUN_DIR and --out DIR (see 'claimsbatch x12 generate --help')")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			runDir := args[0]
			remittance, err := findOutput(runDir, "remittance")
			if err != nil {
				return err
			}
			cfg := x12.DefaultConfig()
			if configPath != "" {
				if cfg, err = x12.LoadConfig(configPath); err != nil {
					return usageError{err}
				}
			}
			date, err := runAsOf(runDir, asOf)
			if err != nil {
				return err
			}
			stage, err := newStagedOutput(outDir)
			if err != nil {
				return usageError{err}
			}
			defer stage.abort()
			files, err := x12.Generate(cmd.Context(), x12.Options{
				Remittance: remittance, Date: date, Config: cfg, Create: stage.create,
			})
			if errors.Is(err, x12.ErrConfig) {
				return usageError{err}
			}
			if err != nil {
				return err
			}
			if payments, err := findOutput(runDir, "payments"); err == nil {
				problems, err := x12.Reconcile(files, payments)
				if err != nil {
					return err
				}
				if len(problems) > 0 {
					for _, p := range problems {
						fmt.Fprintln(cmd.ErrOrStderr(), p)
					}
					return fmt.Errorf("the 835s do not tie out to %s: %s; nothing published", payments, plural(len(problems), "mismatch", "mismatches"))
				}
			}
			var sums strings.Builder
			for _, f := range files {
				fmt.Fprintf(&sums, "%s  %s\n", f.SHA256, f.Name)
			}
			if err := stage.commit(checksumsName, sums.String()); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			paid := map[string]claim.Money{}
			var currencies []string
			for _, f := range files {
				fmt.Fprintf(out, "%s  %s %s: %s, %s, paid %s\n", f.Name, f.PayeeID, f.Currency,
					plural(f.Claims, "claim", "claims"), plural(f.Lines, "service line", "service lines"), f.Paid)
				if _, ok := paid[f.Currency]; !ok {
					currencies = append(currencies, f.Currency)
				}
				paid[f.Currency] += f.Paid
			}
			var totals []string
			for _, c := range currencies {
				totals = append(totals, fmt.Sprintf("%s %s", c, paid[c]))
			}
			fmt.Fprintf(out, "wrote %s to %s (as of %s); paid %s\n", plural(len(files), "835 file", "835 files"), outDir, date, strings.Join(totals, ", "))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&outDir, "out", "", "directory to write the 835 files to (created if missing)")
	fl.StringVar(&configPath, "x12-config", "", "YAML file with the trading partners' ids, names and payment details (default: built-in test placeholders)")
	fl.StringVar(&asOf, "as-of", "", "the run's as-of date YYYY-MM-DD (default: the as_of of the run's manifest, else of its state file)")
	return cmd
}

// stagedOutput writes files into a hidden directory inside the output
// directory, each synced and closed as soon as it is written (a run may have
// tens of thousands of payees), and publishes them by rename at commit, the
// list file last: a failed or interrupted generate leaves no file that looks
// published, only the stage, whose name starts with writers.TempPrefix.
type stagedOutput struct {
	dir, stage string
	names      []string
}

func newStagedOutput(dir string) (*stagedOutput, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	stage, err := os.MkdirTemp(dir, writers.TempPrefix+"835-*")
	if err != nil {
		return nil, fmt.Errorf("output directory %s is not writable: %w", dir, err)
	}
	return &stagedOutput{dir: dir, stage: stage}, nil
}

// syncCloser syncs the file before it closes it.
type syncCloser struct{ *os.File }

func (f syncCloser) Close() error { return errors.Join(f.Sync(), f.File.Close()) }

func (s *stagedOutput) create(name string) (io.WriteCloser, error) {
	f, err := os.OpenFile(filepath.Join(s.stage, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return nil, err
	}
	s.names = append(s.names, name)
	return syncCloser{f}, nil
}

// commit writes the list file, renames every file into the output
// directory, the list last, and removes the stage.
func (s *stagedOutput) commit(listName, list string) error {
	w, err := s.create(listName)
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, list)
	if err = errors.Join(err, w.Close()); err != nil {
		return err
	}
	for _, n := range s.names {
		if err := os.Rename(filepath.Join(s.stage, n), filepath.Join(s.dir, n)); err != nil {
			return err
		}
	}
	if d, err := os.Open(s.dir); err == nil {
		err = errors.Join(d.Sync(), d.Close())
		if err != nil {
			return err
		}
	}
	return os.Remove(s.stage)
}

func (s *stagedOutput) abort() { os.RemoveAll(s.stage) }

// findOutput returns the path of a run output (remittance, payments, state)
// in whichever format the run wrote it.
func findOutput(runDir, base string) (string, error) {
	if fi, err := os.Stat(runDir); err != nil || !fi.IsDir() {
		return "", usageError{fmt.Errorf("%s is not a run directory", runDir)}
	}
	for _, ext := range []string{".csv", ".parquet"} {
		p := filepath.Join(runDir, base+ext)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", usageError{fmt.Errorf("%s has no %s.csv or %s.parquet: not a published run", runDir, base, base)}
}

// runAsOf is the --as-of date, else the as_of of the run's manifest, else
// (a run of a release that did not record it there) the as_of META record
// of its state file.
func runAsOf(runDir, flag string) (claim.Date, error) {
	if flag != "" {
		d, err := claim.ParseDate(flag)
		if err != nil {
			return claim.NoDate, usageError{fmt.Errorf("--as-of %q is not a YYYY-MM-DD date", flag)}
		}
		return d, nil
	}
	if run, err := rundir.Open(runDir); err == nil && run.Manifest.AsOf != "" {
		d, err := claim.ParseDate(run.Manifest.AsOf)
		if err != nil {
			return claim.NoDate, fmt.Errorf("%s: as_of %q is not a date", filepath.Join(runDir, writers.ManifestName), run.Manifest.AsOf)
		}
		return d, nil
	}
	state, err := findOutput(runDir, "state")
	if err != nil {
		return claim.NoDate, usageError{fmt.Errorf("no --as-of and %w", err)}
	}
	t, err := readers.OpenTable(state, []readers.TableColumn{{Name: "kind"}, {Name: "scope"}, {Name: "key"}}, readers.Options{})
	if err != nil {
		return claim.NoDate, err
	}
	defer t.Close()
	for t.Next() {
		if v := t.Record(); v[0] == "META" && v[2] == "as_of" && v[1] != "" {
			d, err := claim.ParseDate(v[1])
			if err != nil {
				return claim.NoDate, fmt.Errorf("%s: as_of %q is not a date", state, v[1])
			}
			return d, nil
		}
	}
	if err := t.Err(); err != nil {
		return claim.NoDate, err
	}
	return claim.NoDate, usageError{fmt.Errorf("%s records no as_of date: pass --as-of", state)}
}
