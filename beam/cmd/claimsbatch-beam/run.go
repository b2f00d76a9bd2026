package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"claimsbatch/beam/job"
	"claimsbatch/claim"
	"claimsbatch/writers"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

// runFlags are the flags of `claimsbatch run` that apply to a Beam run,
// under the same names, plus the few a distributed run adds. `claimsbatch
// run`'s --batch-size, --memory-limit and --tmp-dir do not apply: the
// runner owns memory and spilling.
type runFlags struct {
	claims          stringList
	members         string
	fx              string
	planPath        string
	stateIn         string
	out             string
	format          string
	runID           string
	asOf            string
	workers         int
	allowPlanChange bool
	stateKeepYears  int
	shards          int
	splitSize       string
	jobTimeout      time.Duration
}

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func (f *runFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.claims, "claims", "claims `FILE` (.csv, .csv.gz or .parquet); repeat the flag or use a quoted glob such as 'in/*.csv'")
	fs.StringVar(&f.members, "members", "", "members (coverage spans) `FILE`")
	fs.StringVar(&f.fx, "fx", "", "FX rates `FILE` (needed only when a claim's currency differs from its member's plan currency)")
	fs.StringVar(&f.planPath, "plan", "", "plan `FILE` (YAML); default: the built-in Close Care plan")
	fs.StringVar(&f.stateIn, "state-in", "", "state `FILE` of an earlier run (of claimsbatch or claimsbatch-beam), to continue its accumulators")
	fs.StringVar(&f.out, "out", "", "output `DIR`; outputs appear there only when the run completes")
	fs.StringVar(&f.format, "format", "csv", "output format: csv or parquet")
	fs.StringVar(&f.runID, "run-id", "", "run `ID` written in every output; default: derived from the inputs' content hashes")
	fs.StringVar(&f.asOf, "as-of", "", "the `DATE` (YYYY-MM-DD) the run adjudicates on; default: today (UTC), fixed by this launcher for every worker")
	fs.IntVar(&f.workers, "workers", runtime.NumCPU(), "parallelism to plan for: sets the default of --shards; the runner decides the workers (Flink: --parallelism, Dataflow: --num_workers)")
	fs.BoolVar(&f.allowPlanChange, "allow-plan-change", false, "accept a --state-in written under another plan (intended re-plan); recorded in the manifest")
	fs.IntVar(&f.stateKeepYears, "state-keep-years", 2, "drop from the state output the accumulators of policy years that ended more than `N` years before the as-of date (negative: keep all)")
	fs.IntVar(&f.shards, "shards", 0, "shard files per output written by the workers and merged at the end (0: 4 per --workers)")
	fs.StringVar(&f.splitSize, "split-size", "64MiB", "CSV bytes per read split (Parquet splits by row group, .csv.gz not at all); not used yet: each claims file is read whole, as one split (docs/DISTRIBUTED.md §4)")
	fs.DurationVar(&f.jobTimeout, "job-timeout", 0, "give up (exit 1, nothing published) when the job has not finished after this `DURATION`, e.g. 6h; 0: wait as long as it takes (Prism waits forever for a worker that cannot start)")
}

// beamFlagsShown are the runner flags the help lists; Beam defines more,
// and every one of them is accepted.
var beamFlagsShown = []string{
	"runner", "endpoint", "environment_type", "environment_config", "worker_binary", "job_name", "parallelism",
	"project", "region", "temp_location", "staging_location", "num_workers", "max_num_workers", "worker_machine_type",
	"sdk_container_image", "service_account_email", "subnetwork",
}

// workerOnly are Beam's flags for a worker process, not for a launcher.
var workerOnly = map[string]bool{"worker": true, "id": true, "logging_endpoint": true, "control_endpoint": true, "semi_persist_dir": true, "options": true}

// forwardBeamFlags defines each of Beam's flags (the standard flag package's
// CommandLine, where Beam's Go SDK keeps its options) on fs too, so that
// `run` takes them after its own; setting one sets Beam's.
func forwardBeamFlags(fs *flag.FlagSet) {
	flag.CommandLine.VisitAll(func(f *flag.Flag) {
		if !workerOnly[f.Name] && fs.Lookup(f.Name) == nil {
			fs.Var(beamFlag{f}, f.Name, f.Usage)
		}
	})
}

// beamFlag sets a flag of flag.CommandLine through CommandLine.Set, which
// also records it as set (Beam passes the set flags to the workers as
// pipeline options).
type beamFlag struct{ f *flag.Flag }

func (b beamFlag) String() string {
	if b.f == nil {
		return ""
	}
	return b.f.Value.String()
}
func (b beamFlag) Set(v string) error { return flag.CommandLine.Set(b.f.Name, v) }
func (b beamFlag) IsBoolFlag() bool {
	bf, ok := b.f.Value.(interface{ IsBoolFlag() bool })
	return ok && bf.IsBoolFlag()
}

func runUsage(fs *flag.FlagSet, own *flag.FlagSet, w io.Writer) func() {
	return func() {
		fmt.Fprint(w, `Usage: claimsbatch-beam run --claims FILE [--claims FILE ...] --members FILE --out DIR [flags] [runner flags]

Adjudicates like 'claimsbatch run' and publishes the same files, as an Apache
Beam pipeline: on Prism inside this process by default (no setup), or on a
portable job server or Dataflow (see docs/DISTRIBUTED.md).

Examples:
  claimsbatch-beam run --claims testdata/sample/claims.csv --members testdata/sample/members.csv \
      --fx testdata/sample/fx.csv --out out
  claimsbatch-beam run --claims 'in/*.parquet' --members members.parquet --out out \
      --runner universal --endpoint localhost:8073 --environment_type LOOPBACK

Flags:
`)
		own.SetOutput(w)
		own.PrintDefaults()
		fmt.Fprint(w, "\nRunner flags (Apache Beam's, with underscores; these and every other flag of Beam's Go SDK):\n")
		for _, name := range beamFlagsShown {
			if f := fs.Lookup(name); f != nil {
				usage, _, _ := strings.Cut(f.Usage, "\n")
				fmt.Fprintf(w, "  -%s\n    \t%s\n", name, usage)
			}
		}
		fmt.Fprintf(w, "  (default runner: %s, in this process)\n", job.DefaultRunner)
	}
}

// runCommand parses `run`'s flags into a Config and runs it.
func runCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f runFlags
	own := flag.NewFlagSet("run", flag.ContinueOnError)
	f.register(own)
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	f.register(fs)
	forwardBeamFlags(fs)
	fs.SetOutput(stderr)
	fs.Usage = runUsage(fs, own, stderr)
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return usageError{fmt.Errorf("%w (see 'claimsbatch-beam run --help')", err)}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q (see 'claimsbatch-beam run --help')", fs.Arg(0))}
	}
	cfg, err := f.config()
	if err != nil {
		return err
	}
	for _, name := range []string{"async", "execute_async"} {
		if flag.CommandLine.Lookup(name).Value.String() == "true" {
			return usageError{fmt.Errorf("--%s: claimsbatch-beam publishes the outputs once the job has finished, so it waits for it", name)}
		}
	}
	if f.jobTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.jobTimeout)
		defer cancel()
	}
	beam.Init()
	restore, err := job.PrivateTempDir()
	if err != nil {
		return err
	}
	defer restore()
	sum, err := job.Run(ctx, cfg)
	if err != nil {
		return err
	}
	t := sum.ControlTotals
	fmt.Fprintf(stdout, "published %s in %s: %d lines read, %d adjudicated, %d exceptions\n",
		sum.RunID, sum.OutDir, t.LinesRead, t.LinesAdjudicated, t.Exceptions)
	return nil
}

func (f *runFlags) config() (job.Config, error) {
	var cfg job.Config
	if len(f.claims) == 0 || f.members == "" || f.out == "" {
		return cfg, usageError{fmt.Errorf("--claims, --members and --out are required (see 'claimsbatch-beam run --help')")}
	}
	format, err := writers.ParseFormat(f.format)
	if err != nil {
		return cfg, usageError{err}
	}
	claims, err := job.ExpandClaims(f.claims)
	if err != nil {
		return cfg, err
	}
	y, m, d := time.Now().UTC().Date()
	asOf := claim.FromCivil(y, int(m), d)
	if f.asOf != "" {
		if asOf, err = claim.ParseDate(f.asOf); err != nil {
			return cfg, usageError{fmt.Errorf("--as-of: %w", err)}
		}
	}
	if f.workers < 1 {
		return cfg, usageError{fmt.Errorf("--workers must be at least 1")}
	}
	if f.jobTimeout < 0 {
		return cfg, usageError{fmt.Errorf("--job-timeout must not be negative")}
	}
	if f.shards < 0 {
		return cfg, usageError{fmt.Errorf("--shards must be at least 1 (or 0 for the default)")}
	}
	split, err := parseSize(f.splitSize)
	if err != nil {
		return cfg, usageError{fmt.Errorf("--split-size: %w", err)}
	}
	return job.Config{
		Claims: claims, Members: f.members, FX: f.fx, PlanPath: f.planPath, StateIn: f.stateIn,
		AllowPlanChange: f.allowPlanChange, StateKeepYears: f.stateKeepYears, AsOf: asOf,
		OutDir: f.out, Format: format, RunID: f.runID, Version: version,
		Shards: f.shards, Workers: f.workers, SplitBytes: split,
		TempLocation: flag.CommandLine.Lookup("temp_location").Value.String(),
	}, nil
}

// parseSize parses a byte size such as 64MiB, 1GiB or 1048576.
func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		factor int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"B", 1}}
	factor := int64(1)
	num := strings.TrimSpace(s)
	for _, u := range units {
		if strings.HasSuffix(num, u.suffix) {
			num, factor = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.factor
			break
		}
	}
	var n int64
	if _, err := fmt.Sscan(num, &n); err != nil || n <= 0 || fmt.Sprint(n) != num {
		return 0, fmt.Errorf("%q is not a size such as 64MiB", s)
	}
	return n * factor, nil
}
