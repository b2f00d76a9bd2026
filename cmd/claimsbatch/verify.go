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
	var keyPath string
	cmd := &cobra.Command{
		Use:   "verify DIR [--key PUBLIC_KEY]",
		Short: "Recheck a published run: file hashes, row counts, control totals, signature",
		Long: `verify rechecks the run published in DIR against its manifest.json:

  - with --key, manifest.json.sig is a valid signature of manifest.json by
    that key (see 'claimsbatch keygen'): the manifest is the one the run
    wrote, so every hash in it is too;
  - every output the manifest lists is there with the same SHA-256 and row
    count (CSV: records minus the header; Parquet: the footer's row count),
    and DIR holds nothing else;
  - the control totals hold: lines read = adjudicated + exceptions, per plan
    currency charge = plan_paid + deductible + coinsurance + not_covered and
    member_responsibility = deductible + coinsurance + not_covered;
  - the remittance file (CSV or Parquet) adds up, line by line and per
    currency, to the manifest's totals (charge, plan_paid, deductible,
    coinsurance, not_covered, member_responsibility, paid per module and
    payee type, billed per billed currency, service dates), every line obeys
    the money identities, and the lines are in member_id, service_date order;
  - the payments file is sorted, and each payee's line_count and plan_paid
    are those of its lines in the remittance;
  - the exceptions file is in input order and matches the exception counts;
  - the state file names the run and the plan, and its END row's counts and
    SHA-256 are those of its rows;
  - the turnaround section adds up and measured every adjudicated line;
  - the X12 835 files (835/, with run --x12-835) pass 'x12 check' with one
    transaction set each, have the manifest's segment counts, and tie out to
    the payments file: one per provider payee and currency, paying its
    plan_paid for its line_count;
  - report.html is the page the run wrote (its SHA-256).

Without --key, verify proves that the files are consistent with the
manifest and with each other: an accident, a truncated copy or a careless
edit shows. It cannot tell a manifest rewritten together with the files;
a signature checked with --key can.

It prints one OK line when everything matches, otherwise every mismatch with
the file and row it concerns (at most 20 row-level ones per file, then their
count); never a member or claim id, nor a member's payee id (an 835's file
name carries its provider's id).

Exit codes: 0 everything matches, 1 a mismatch (the directory does not hold
what the run published, the numbers do not tie out, or the signature does
not verify), 2 usage error (no DIR, DIR missing, no manifest.json in it: no
run was published there, or --key is not a public key).`,
		Example: `  claimsbatch verify runs/2026-11-27
  claimsbatch verify --key /etc/claimsbatch/manifest-key.pub runs/2026-11-27

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
			var opt verify.Options
			if keyPath != "" {
				key, err := loadPublicKey(keyPath)
				if err != nil {
					return err
				}
				opt.Key = key
			}
			problems, err := verify.Verify(dir, opt)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if len(problems) > 0 {
				for _, p := range problems {
					fmt.Fprintln(out, withoutPackagePrefixes(p))
				}
				return fmt.Errorf("%w: %d in %s", errMismatch, len(problems), dir)
			}
			fmt.Fprintln(out, okSummary(dir, opt.Key != nil))
			return nil
		},
	}
	cmd.Flags().StringVar(&keyPath, "key", "", "Ed25519 public key (PEM) the manifest must be signed with (manifest.json.sig)")
	return cmd
}

// okSummary is verify's one-line report of a run that checks out.
func okSummary(dir string, keyChecked bool) string {
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
	// A validate run publishes no remittance: its lines were accepted, not
	// adjudicated.
	verb := "accepted"
	for _, o := range m.Outputs {
		if strings.HasPrefix(o.Name, writers.RemittanceName+".") {
			verb = "adjudicated"
		}
	}
	fmt.Fprintf(&b, " run %s: %d outputs match; lines read %d = %s %d + exceptions %d",
		m.RunID, len(m.Outputs), ct.LinesRead, verb, ct.LinesAdjudicated, ct.Exceptions)
	for _, c := range ct.PerCurrency {
		fmt.Fprintf(&b, "; %s charge %s plan_paid %s", c.PlanCurrency, c.Charge, c.PlanPaid)
	}
	switch sig, err := os.ReadFile(filepath.Join(dir, writers.SignatureName)); {
	case keyChecked:
		fmt.Fprintf(&b, "; signature checked (key %s)", strings.Fields(string(sig))[1])
	case err == nil && len(strings.Fields(string(sig))) == 3:
		fmt.Fprintf(&b, "; signed by key %.16s, not checked (pass --key)", strings.Fields(string(sig))[1])
	default:
		b.WriteString("; not signed")
	}
	return b.String()
}
