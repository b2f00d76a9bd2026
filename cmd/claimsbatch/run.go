package main

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"claimsbatch/claim"
	"claimsbatch/internal/hugepages"
	"claimsbatch/pipeline"
	"claimsbatch/plan"
	"claimsbatch/writers"
	"claimsbatch/x12"

	"github.com/spf13/cobra"
)

type runFlags struct {
	claims          []string
	members         string
	fx              string
	planPath        string
	stateIn         string
	out             string
	workers         int
	format          string
	runID           string
	allowPlanChange bool
	stateKeepYears  int
	batchSize       int
	memoryLimit     string
	tmpDir          string
	asOf            string
	force           bool
	signKey         string
	maxExceptions   float64
	x12835          bool
	x12Config       string
	metricsFile     string
	hugePages       hugePagesMode
	stream          bool
	quiet           bool
	debug           bool
}

func newRunCmd(stderr io.Writer, validate bool) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run --claims FILE [--claims FILE ...] --members FILE --out DIR [flags]",
		Short: "Adjudicate claims and publish remittance, payments, exceptions, state, report and manifest",
		Example: `  # the bundled sample, as of the date it implies
  claimsbatch run --claims testdata/sample/claims.csv --members testdata/sample/members.csv \
      --fx testdata/sample/fx.csv --out out --as-of 2025-05-02

  # a nightly run on top of yesterday's accumulators, Parquet in and out, signed,
  # with the providers' 835s and the figures for node_exporter
  claimsbatch run --claims 'extracts/2026-11-27/*.parquet' --members members.parquet \
      --fx fx.csv --state-in runs/2026-11-26/state.parquet --format parquet \
      --as-of 2026-11-27 --sign-key /etc/claimsbatch/manifest-key.pem \
      --x12-835 --x12-config /etc/claimsbatch/x12.yaml \
      --metrics-file /var/lib/node_exporter/textfile/claimsbatch.prom --out runs/2026-11-27`,
		Long: `run adjudicates every claim line of the --claims files as of --as-of, on top
of --state-in when given, and publishes remittance, payments, exceptions, state,
report.html and manifest into --out. The manifest measures turnaround: per line,
the business days from received_date to --as-of, against the 5-day promise.
With --x12-835 it also publishes 835/, one X12 835 per provider payee and plan
currency, which must balance and tie out to payments before anything is
published (--x12-config names the trading partners; docs/X12.md).

--metrics-file PATH writes the run's figures for node_exporter's textfile
collector at the end of every run, a failed one too.

--out is replaced as a whole when the run completes (a stage beside it is
swapped in), locked against a second run meanwhile (<out>.lock), and refused
when it holds files no claimsbatch run published (unless --force). A failed
run publishes nothing and leaves --out as it was.

Exit codes: 0 published (exceptions may exist), 1 failed for a reason a retry
could fix, 2 a usage, configuration or input error a person must fix.`,
		Args: noStrayArgs,
	}
	if validate {
		cmd.Use = "validate --claims FILE [--claims FILE ...] --members FILE --out DIR [flags]"
		cmd.Short = "Check every input row without adjudicating; publish exceptions, report and manifest"
		cmd.Long = `validate reads and checks every input row as run does (as of --as-of), without
adjudicating, and publishes the exceptions, report.html (exceptions by code and
file, the inputs) and a manifest into --out, which it replaces as a whole as
run does. --metrics-file PATH writes its figures as run does. With --state-in,
the lines that state already holds are DUPLICATE_LINE, as the run would make
them: an extract checked against the state it would chain on.`
		cmd.Example = `  claimsbatch validate --claims claims.csv --members members.csv --fx fx.csv --out checked --as-of 2026-11-27`
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.claims, "claims", nil, "claims file (.csv, .csv.gz or .parquet); repeat the flag or use a quoted glob such as 'in/*.csv'")
	fl.StringVar(&f.members, "members", "", "members (coverage spans) file")
	fl.StringVar(&f.fx, "fx", "", "FX rates file (needed only when a claim's currency differs from its member's plan currency)")
	fl.StringVar(&f.planPath, "plan", "", "plan file (YAML); default: the built-in Close Care plan (see 'claimsbatch plan')")
	fl.StringVar(&f.out, "out", "", "output directory (created if missing), replaced as a whole when the run completes")
	fl.StringVar(&f.format, "format", "csv", "output format: csv or parquet")
	fl.StringVar(&f.runID, "run-id", "", "run id written in every output; default: derived from the inputs' and the plan's content hashes, the as-of date and the output format")
	fl.IntVar(&f.batchSize, "batch-size", 0, "rows per reader batch (0 = default 8192)")
	fl.StringVar(&f.memoryLimit, "memory-limit", "512MiB", "memory budget (e.g. 512MiB, 2GiB, 2G = 2GiB, 800MB): partition sizes are chosen from it and the Go runtime's soft limit is set to it")
	fl.StringVar(&f.tmpDir, "tmp-dir", "", "directory for spill files (default: the system temp directory); they are removed at the end, also on failure or interrupt")
	fl.StringVar(&f.asOf, "as-of", "", "the date the run adjudicates on, YYYY-MM-DD: a claim received after it is an exception, the state is pruned from it; recorded in the manifest and part of the run id (default: today's UTC date; pass it for reruns that give the same bytes)")
	fl.BoolVar(&f.force, "force", false, "replace --out even if it holds files that no claimsbatch run published there (they are deleted)")
	fl.StringVar(&f.signKey, "sign-key", "", "Ed25519 private key (PEM, PKCS#8) to sign the manifest with: writes manifest.json.sig (make one with 'claimsbatch keygen')")
	fl.Float64Var(&f.maxExceptions, "max-exception-share", 0, "fail the run, publishing nothing (exit 1), when more than this share of the claim lines read are exceptions, e.g. 0.2 (default: no limit)")
	fl.StringVar(&f.metricsFile, "metrics-file", "", "write the run's figures (Prometheus text format, for node_exporter's textfile collector) to this file at the end of every run, a failed one too; written to a temporary file and renamed")
	f.hugePages = hugePagesAuto
	fl.Var(&f.hugePages, "huge-pages", "on Linux, transparent huge pages for the heap the run grows into: auto (fewer page faults; not on a VM whose memory balloon reports free memory to its host, where each huge page is faulted in from the host), on, or off (false); nothing is changed where the system's setting is always or never")
	fl.Lookup("huge-pages").NoOptDefVal = "on"
	fl.BoolVar(&f.quiet, "quiet", false, "log warnings and errors only")
	fl.BoolVar(&f.debug, "debug", false, "debug logging")
	if validate {
		fl.StringVar(&f.stateIn, "state-in", "", "state file of the run this extract would chain on: its adjudicated lines make repeats DUPLICATE_LINE, as in run")
		fl.BoolVar(&f.allowPlanChange, "allow-plan-change", false, "accept a --state-in written under another plan")
	} else {
		fl.StringVar(&f.stateIn, "state-in", "", "state file of an earlier run, to continue its accumulators (nightly chaining)")
		fl.IntVar(&f.workers, "workers", runtime.NumCPU(), "goroutines of each parallel stage (reading the claims, members and --state-in, adjudicating); outputs are byte-identical for any value")
		fl.BoolVar(&f.allowPlanChange, "allow-plan-change", false, "accept a --state-in written under another plan (intended re-plan); recorded in the manifest")
		fl.BoolVar(&f.x12835, "x12-835", false, "also publish 835/: one X12 835 remittance advice per provider payee and plan currency, balanced and tied out to payments before publishing")
		fl.StringVar(&f.x12Config, "x12-config", "", "with --x12-835: YAML file with the trading partners' ids, names and payment details (default: built-in placeholders, marked test data); see docs/X12.md")
		fl.BoolVar(&f.stream, "stream", true, "when the claims come ordered by member (across the --claims files, in their order), adjudicate each member as soon as its lines are read instead of through spilled member partitions; false always partitions (outputs are byte-identical either way)")
		fl.IntVar(&f.stateKeepYears, "state-keep-years", 2, "drop from the state output the accumulators of policy years that ended more than this many years before the run's --as-of date (negative: keep all); adjudicated line keys are kept whatever it is (a plan's timely_filing_days prunes them)")
	}
	cmd.RunE = func(cmd *cobra.Command, _ []string) (err error) {
		start := time.Now()
		var sum *pipeline.Summary
		if f.metricsFile != "" {
			// Every end of the run, a failed one too, leaves the file.
			defer func() {
				if merr := writeRunMetrics(f.metricsFile, start, sum, err); merr != nil {
					fmt.Fprintln(stderr, "claimsbatch: warning: --metrics-file:", userMessage(merr))
				}
			}()
		}
		cfg, err := f.config(validate)
		if err != nil {
			return err
		}
		cfg.Logger = newLogger(stderr, f.quiet, f.debug)
		if today := claim.DateOf(time.Now().UTC()); cfg.AsOf > today+1 {
			// Not an error (a what-if run or a test may adjudicate as of a
			// later date), but in a chain a mistyped year would prune the
			// state and hold every later night to that date.
			cfg.Logger.Warn("the as-of date is after today: lines received up to it are accepted, the state is pruned from it, and a run that chains on this one cannot take an earlier as-of date",
				"as_of", cfg.AsOf.String(), "today_utc", today.String())
		}
		if f.hugePages != hugePagesOff {
			res := hugepages.ForBudget(cfg.MemoryLimit, f.hugePages == hugePagesOn)
			cfg.Logger.Debug("huge pages", "thp", res.Mode, "advised_mib", res.Advised>>20, "skipped", res.Skipped)
		}
		// The runtime's soft limit sits a little under the budget: the rest
		// is stacks, buffers and memory not yet returned to the system.
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(cfg.MemoryLimit * 9 / 10))
		var prog *progress
		if !f.quiet {
			prog = newProgress(stderr, cfg.Logger)
			cfg.Progress = prog.update
			if prog.tty && !f.debug {
				// On a terminal the live line and the final summary say what
				// the info logs would; they would only break the line.
				cfg.Logger = newLogger(stderr, true, false)
			}
		}
		if validate {
			sum, err = pipeline.Validate(cmd.Context(), cfg)
		} else {
			sum, err = pipeline.Run(cmd.Context(), cfg)
		}
		if prog != nil {
			prog.finish()
		}
		if err != nil {
			return err
		}
		if !f.quiet {
			printSummary(stderr, sum, time.Since(start), validate)
		}
		return nil
	}
	return cmd
}

func (f *runFlags) config(validate bool) (pipeline.Config, error) {
	var cfg pipeline.Config
	var missing []string
	for _, m := range []struct {
		name string
		set  bool
	}{{"--claims", len(f.claims) > 0}, {"--members", f.members != ""}, {"--out", f.out != ""}} {
		if !m.set {
			missing = append(missing, m.name)
		}
	}
	if len(missing) > 0 {
		return cfg, usageError{fmt.Errorf("%s required: %s (see 'claimsbatch run --help')",
			map[bool]string{true: "a flag is", false: "flags are"}[len(missing) == 1], strings.Join(missing, ", "))}
	}
	format, err := writers.ParseFormat(f.format)
	if err != nil {
		return cfg, usageError{err}
	}
	claims, err := expandClaims(f.claims)
	if err != nil {
		return cfg, err
	}
	var p *plan.Plan
	if f.planPath != "" {
		if p, err = plan.Load(f.planPath); err != nil {
			return cfg, err
		}
	}
	limit, err := parseSize(f.memoryLimit)
	if err != nil {
		return cfg, usageError{fmt.Errorf("--memory-limit: %w", err)}
	}
	if f.workers < 0 {
		return cfg, usageError{fmt.Errorf("--workers must be at least 1")}
	}
	asOf, err := parseAsOf(f.asOf, time.Now())
	if err != nil {
		return cfg, err
	}
	if f.maxExceptions < 0 || f.maxExceptions > 1 {
		return cfg, usageError{fmt.Errorf("--max-exception-share %g is not a share between 0 and 1 (e.g. 0.2 for 20 %%)", f.maxExceptions)}
	}
	var key ed25519.PrivateKey
	if f.signKey != "" {
		if key, err = loadPrivateKey(f.signKey); err != nil {
			return cfg, err
		}
	}
	var x12Config *x12.Config
	if f.x12Config != "" {
		if !f.x12835 {
			return cfg, usageError{fmt.Errorf("--x12-config is for the 835s: pass --x12-835 with it")}
		}
		if x12Config, err = x12.LoadConfig(f.x12Config); err != nil {
			return cfg, err
		}
	}
	return pipeline.Config{
		Claims: claims, Members: f.members, FX: f.fx, StateIn: f.stateIn, AsOf: asOf,
		AllowPlanChange: f.allowPlanChange, StateKeepYears: f.stateKeepYears,
		Force: f.force, SignKey: key, MaxExceptionShare: f.maxExceptions,
		X12: f.x12835, X12Config: x12Config,
		Plan: p, OutDir: f.out, Format: format, Workers: f.workers, BatchSize: f.batchSize,
		RunID: f.runID, Version: version, MemoryLimit: limit, TmpDir: f.tmpDir,
		NoStream: !f.stream,
	}, nil
}

// parseAsOf is --as-of, or the UTC date of now when it is empty: the one
// place the clock enters a run.
func parseAsOf(flag string, now time.Time) (claim.Date, error) {
	if flag == "" {
		return claim.DateOf(now.UTC()), nil
	}
	d, err := claim.ParseDate(flag)
	if err != nil {
		return claim.NoDate, usageError{fmt.Errorf("--as-of %q is not a YYYY-MM-DD date", flag)}
	}
	if !d.InRange() {
		return claim.NoDate, usageError{fmt.Errorf("--as-of %s is outside %s..%s", flag, claim.FirstDate, claim.LastDate)}
	}
	if d == 0 {
		return claim.NoDate, usageError{fmt.Errorf("--as-of %s is not accepted: it is the zero date, which means \"not set\"", flag)}
	}
	return d, nil
}

// expandClaims expands glob patterns (sorted, as filepath.Glob returns them);
// a pattern that matches nothing is a usage error.
func expandClaims(patterns []string) ([]string, error) {
	var out []string
	for _, p := range patterns {
		if !strings.ContainsAny(p, "*?[") {
			out = append(out, p)
			continue
		}
		matches, err := filepath.Glob(p)
		if err != nil {
			return nil, usageError{fmt.Errorf("--claims %q: %w", p, err)}
		}
		if len(matches) == 0 {
			return nil, usageError{fmt.Errorf("--claims %q matches no file", p)}
		}
		out = append(out, matches...)
	}
	return out, nil
}

func printSummary(w io.Writer, s *pipeline.Summary, wall time.Duration, validate bool) {
	t := s.ControlTotals
	fmt.Fprintf(w, "\nclaimsbatch %s  run %s as of %s → %s\n", map[bool]string{true: "validate", false: "run"}[validate], s.RunID, s.AsOf, s.OutDir)
	if validate {
		fmt.Fprintf(w, "  rows read          %d\n  rows accepted      %d\n  exceptions         %d\n", t.LinesRead, t.LinesAdjudicated, t.Exceptions)
	} else {
		fmt.Fprintf(w, "  lines read         %d\n  adjudicated        %d\n  exceptions         %d\n", t.LinesRead, t.LinesAdjudicated, t.Exceptions)
	}
	for _, code := range sortedCodes(t.ExceptionsByCode) {
		fmt.Fprintf(w, "    %-16s %d\n", code, t.ExceptionsByCode[code])
	}
	for _, c := range t.PerCurrency {
		fmt.Fprintf(w, "  %s  lines %d  charge %s  plan paid %s  member %s (deductible %s, coinsurance %s, not covered %s)\n",
			c.PlanCurrency, c.Lines, c.Charge, c.PlanPaid, c.MemberResponsibility, c.Deductible, c.Coinsurance, c.NotCovered)
	}
	speed := ""
	if perSecond, ok := rate(t.LinesRead, wall); ok {
		speed = fmt.Sprintf("  %d lines/s", perSecond)
	}
	fmt.Fprintf(w, "  wall %s%s  peak RSS %s\n  files: %s\n", wall.Round(time.Millisecond), speed, peakRSS(), strings.Join(summaryFiles(s.Files), ", "))
}

// summaryFiles is the published files for the summary, the X12 835 files
// (one per provider payee and currency: thousands in a large run) as one
// entry, "835/ (19 files)", where the first of them was.
func summaryFiles(files []string) []string {
	var out []string
	n, at := 0, -1
	for _, f := range files {
		if strings.HasPrefix(f, writers.X12Dir+"/") {
			if n == 0 {
				at = len(out)
				out = append(out, "")
			}
			n++
			continue
		}
		out = append(out, f)
	}
	if n > 0 {
		out[at] = fmt.Sprintf("%s/ (%s)", writers.X12Dir, plural(n, "file", "files"))
	}
	return out
}

func sortedCodes(m map[claim.ExceptionCode]int64) []claim.ExceptionCode {
	codes := make([]claim.ExceptionCode, 0, len(m))
	for c := range m {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	return codes
}

// peakRSS is the process's peak resident set size, from getrusage.
func peakRSS() string {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return "unknown"
	}
	return fmt.Sprintf("%.1f MiB", float64(ru.Maxrss)/1024) // Linux reports KiB
}

// noStrayArgs refuses arguments after the flags. The usual one is a second
// file of an unquoted --claims glob that the shell expanded: say so.
func noStrayArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unexpected argument %q for %q", args[0], cmd.CommandPath())
	if cmd.Flags().Changed("claims") {
		msg += ": to pass several claims files, quote the pattern so that the shell does not expand it (--claims 'inbox/*.csv') or repeat --claims for each file"
	}
	return usageError{errors.New(msg)}
}

// hugePagesMode is --huge-pages: auto, on or off.
type hugePagesMode string

const (
	hugePagesAuto hugePagesMode = "auto"
	hugePagesOn   hugePagesMode = "on"
	hugePagesOff  hugePagesMode = "off"
)

func (m *hugePagesMode) String() string { return string(*m) }
func (m *hugePagesMode) Type() string   { return "auto|on|off" }

// Set takes auto, on or off, and true and false (the flag was a boolean
// before auto) for on and off.
func (m *hugePagesMode) Set(v string) error {
	switch strings.ToLower(v) {
	case "auto":
		*m = hugePagesAuto
	case "on", "true":
		*m = hugePagesOn
	case "off", "false":
		*m = hugePagesOff
	default:
		return fmt.Errorf("%q is not auto, on or off", v)
	}
	return nil
}
