package job

// End to end: claimsbatch-beam's Run against the main module's
// pipeline.Run (what `claimsbatch run` runs) on the same inputs, flags, run
// id and as-of date. Every published file must be byte-identical: the
// tables, state.csv, report.html and manifest.json.

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"claimsbatch/claim"
	"claimsbatch/pipeline"
	"claimsbatch/synth"
	"claimsbatch/writers"
)

// sampleDir is the bundled sample, as an absolute path: workers in other
// processes (the PROCESS environment) do not share the test's directory.
func sampleDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../../testdata/sample")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func sampleConfig(t *testing.T) Config {
	dir := sampleDir(t)
	return Config{
		Claims: []string{filepath.Join(dir, "claims.csv")}, Members: filepath.Join(dir, "members.csv"), FX: filepath.Join(dir, "fx.csv"),
		AsOf: mustDate(t, "2025-05-02"), StateKeepYears: 2, Version: "test", Workers: 2, Shards: 3,
	}
}

func mustDate(t *testing.T, s string) claim.Date {
	t.Helper()
	d, err := claim.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// reference publishes cfg with the main module's pipeline (`claimsbatch
// run`) into a new directory.
func reference(t *testing.T, cfg Config) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "ref")
	_, err := pipeline.Run(context.Background(), pipeline.Config{
		Claims: cfg.Claims, Members: cfg.Members, FX: cfg.FX, StateIn: cfg.StateIn, AsOf: cfg.AsOf,
		AllowPlanChange: cfg.AllowPlanChange, StateKeepYears: cfg.StateKeepYears,
		OutDir: out, Format: cfg.Format, RunID: cfg.RunID, Version: cfg.Version, Workers: 2,
	})
	if err != nil {
		t.Fatalf("claimsbatch run: %v", err)
	}
	return out
}

// viaBeam publishes cfg with claimsbatch-beam's Run into a new directory.
func viaBeam(t *testing.T, cfg Config) string {
	t.Helper()
	cfg.OutDir = filepath.Join(t.TempDir(), "beam")
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatalf("claimsbatch-beam run: %v", err)
	}
	return cfg.OutDir
}

// sameFiles fails unless dirs a and b hold the same files with the same
// bytes. It returns the number of files.
func sameFiles(t *testing.T, a, b string) int {
	t.Helper()
	list := func(dir string) []string {
		var names []string
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				t.Fatal(err)
			}
			if !d.IsDir() {
				rel, _ := filepath.Rel(dir, p)
				names = append(names, rel)
			}
			return nil
		})
		slices.Sort(names)
		return names
	}
	na, nb := list(a), list(b)
	if !slices.Equal(na, nb) {
		t.Fatalf("published files differ:\n  claimsbatch run:  %v\n  claimsbatch-beam: %v", na, nb)
	}
	for _, n := range na {
		x, err := os.ReadFile(filepath.Join(a, n))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(b, n))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs (%d bytes vs %d); first difference at byte %d", n, len(x), len(y), firstDiff(x, y))
		}
	}
	return len(na)
}

func firstDiff(x, y []byte) int {
	for i := range min(len(x), len(y)) {
		if x[i] != y[i] {
			return i
		}
	}
	return min(len(x), len(y))
}

// checkNonTrivial guards against a comparison of two empty runs: the
// reference must have adjudicated lines and raised exceptions, with
// DUPLICATE_LINE among them when wantDup.
func checkNonTrivial(t *testing.T, ref string, wantDup bool) {
	t.Helper()
	f, err := os.Open(filepath.Join(ref, writers.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	man, err := writers.ReadManifest(f)
	if err != nil {
		t.Fatal(err)
	}
	ct := man.ControlTotals
	if ct.LinesAdjudicated == 0 || ct.Exceptions == 0 {
		t.Fatalf("reference run adjudicated %d lines with %d exceptions: the comparison proves little", ct.LinesAdjudicated, ct.Exceptions)
	}
	if wantDup && ct.ExceptionsByCode[claim.DuplicateLine] == 0 {
		t.Fatalf("reference run has no DUPLICATE_LINE: %v", ct.ExceptionsByCode)
	}
	t.Logf("%d lines read, %d adjudicated, exceptions %v", ct.LinesRead, ct.LinesAdjudicated, ct.ExceptionsByCode)
}

// TestSampleIdentical: the bundled sample on in-process Prism, CSV and
// Parquet outputs.
func TestSampleIdentical(t *testing.T) {
	for _, f := range []writers.Format{writers.CSV, writers.Parquet} {
		t.Run(f.String(), func(t *testing.T) {
			cfg := sampleConfig(t)
			cfg.Format = f
			ref := reference(t, cfg)
			checkNonTrivial(t, ref, false)
			if n := sameFiles(t, ref, viaBeam(t, cfg)); n != 6 {
				t.Errorf("%d files published, want 6", n)
			}
		})
	}
}

// TestSampleStateIn: the sample again on its own state (every line is then
// a DUPLICATE_LINE of the earlier run), with an explicit run id.
func TestSampleStateIn(t *testing.T) {
	cfg := sampleConfig(t)
	first := reference(t, cfg)
	cfg.StateIn = filepath.Join(first, "state.csv")
	cfg.RunID = "night-2"
	cfg.AsOf = mustDate(t, "2025-06-01")
	ref := reference(t, cfg)
	sameFiles(t, ref, viaBeam(t, cfg))
}

// TestSampleFailure: a worker fails halfway through a shard. Prism does
// not retry a bundle: the job fails, nothing is published (the output
// directory is not even created) and the rerun, with the fault spent,
// publishes the reference bytes.
func TestSampleFailure(t *testing.T) {
	cfg := sampleConfig(t)
	ref := reference(t, cfg)
	cfg.OutDir = filepath.Join(t.TempDir(), "out")
	cfg.Fault = Fault{Kind: kindRemittance, Shard: ShardOf("M0001", cfg.Shards), Marker: filepath.Join(t.TempDir(), "fault")}
	_, err := Run(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), ErrInjected.Error()) {
		t.Fatalf("Run with a failing worker: %v, want the injected failure", err)
	}
	if errors.Is(err, ErrConfig) {
		t.Errorf("a worker failure is not a configuration error: %v", err)
	}
	if _, err := os.Stat(cfg.OutDir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("after the failed job the output directory exists (%v): something was published or left behind", err)
	}
	if _, err := os.Stat(cfg.Fault.Marker); err != nil {
		t.Fatalf("the fault did not fire: %v", err)
	}
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatalf("rerun: %v", err)
	}
	sameFiles(t, ref, cfg.OutDir)
}

// TestSampleConfigErrors: what `claimsbatch run` refuses with exit code 2,
// claimsbatch-beam refuses before the job, as ErrConfig.
func TestSampleConfigErrors(t *testing.T) {
	for name, edit := range map[string]func(*Config){
		"missing claims":  func(c *Config) { c.Claims = []string{filepath.Join(t.TempDir(), "none.csv")} },
		"members no rows": func(c *Config) { c.Members = writeFile(t, "members.csv", "member_id,policy_id,coverage_start\n") },
		"claims no column": func(c *Config) {
			c.Claims = []string{writeFile(t, "claims.csv", "claim_id,line_no\nC1,1\n")}
		},
		"state of a later as-of": func(c *Config) {
			first := reference(t, *c)
			c.StateIn = filepath.Join(first, "state.csv")
			c.AsOf--
		},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := sampleConfig(t)
			edit(&cfg)
			cfg.OutDir = filepath.Join(t.TempDir(), "out")
			if _, err := Run(context.Background(), cfg); !errors.Is(err, ErrConfig) {
				t.Errorf("Run: %v, want a configuration error", err)
			}
			if _, err := os.Stat(cfg.OutDir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the output directory exists after a refused run (%v)", err)
			}
		})
	}
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// generated is a synthetic data set made once per test binary: 100 000
// claim lines (CSV and Parquet, the same rows) of 5 000 members, and the
// first half of the CSV rows as an earlier night's file.
type generated struct {
	dir                    string
	csv, parquet, firstCSV string
	members, fx            string
	asOf                   string
}

var (
	genOnce sync.Once
	gen     generated
	genErr  error
)

// generatedLines is the size of the generated set (the 100 k).
const generatedLines = 100_000

func generatedSet(t *testing.T) *generated {
	t.Helper()
	if testing.Short() {
		t.Skip("the 100 k-line comparisons run without -short (make test-beam)")
	}
	genOnce.Do(func() {
		gen.dir, genErr = os.MkdirTemp("", "claimsbatch-beam-gen-")
		if genErr != nil {
			return
		}
		cleanups = append(cleanups, func() { os.RemoveAll(gen.dir) })
		ctx := context.Background()
		var res synth.Result
		if res, genErr = synth.Generate(ctx, synth.Config{Dir: filepath.Join(gen.dir, "csv"), Lines: generatedLines, Members: 5000, Seed: 15, BadShare: 0.002}); genErr != nil {
			return
		}
		gen.csv, gen.members, gen.fx = res.ClaimsPath, res.MembersPath, res.FXPath
		if res, genErr = synth.Generate(ctx, synth.Config{Dir: filepath.Join(gen.dir, "parquet"), Lines: generatedLines, Members: 5000, Seed: 15, BadShare: 0.002, Format: "parquet"}); genErr != nil {
			return
		}
		gen.parquet = res.ClaimsPath
		gen.firstCSV = filepath.Join(gen.dir, "first-half.csv")
		genErr = firstHalf(gen.csv, gen.firstCSV)
		// The latest received_date of the set: every line can be
		// adjudicated, the older ones meet the filing limit.
		gen.asOf = "2026-02-26"
	})
	if genErr != nil {
		t.Fatal(genErr)
	}
	return &gen
}

// firstHalf writes the header and the first half of the data records of
// a CSV file (cut at a line end outside quotes).
func firstHalf(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	quotes := 0
	for i := len(b) / 2; i < len(b); i++ {
		if b[i] == '\n' && (bytes.Count(b[:i], []byte{'"'})+quotes)%2 == 0 {
			return os.WriteFile(to, b[:i+1], 0o600)
		}
	}
	return errors.New("no record end in the second half")
}

// cleanups run after every test (TestMain).
var cleanups []func()

// TestGeneratedIdentical: 100 000 generated lines, CSV and Parquet inputs,
// with and without --state-in (the state of a night that read the first
// half of the CSV rows: on the second night those are DUPLICATE_LINE of the
// earlier run and the others continue its accumulators).
func TestGeneratedIdentical(t *testing.T) {
	g := generatedSet(t)
	base := Config{Members: g.members, FX: g.fx, AsOf: mustDate(t, g.asOf), StateKeepYears: 2, Version: "test", Workers: 2, Shards: 8}
	night1 := base
	night1.Claims = []string{g.firstCSV}
	var firstState string
	for _, tc := range []struct {
		name   string
		claims string
		format writers.Format
		state  bool
	}{
		{"csv", g.csv, writers.CSV, false},
		{"csv-state-in", g.csv, writers.CSV, true},
		{"parquet", g.parquet, writers.Parquet, false},
		{"parquet-state-in", g.parquet, writers.CSV, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			cfg.Claims, cfg.Format = []string{tc.claims}, tc.format
			if tc.state {
				if firstState == "" {
					firstState = filepath.Join(reference(t, night1), "state.csv")
					// reference's directory belongs to this subtest: keep
					// a copy for the next one.
					keep := filepath.Join(g.dir, "night1-state.csv")
					b, err := os.ReadFile(firstState)
					if err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(keep, b, 0o600); err != nil {
						t.Fatal(err)
					}
					firstState = keep
				}
				cfg.StateIn = firstState
			}
			ref := reference(t, cfg)
			checkNonTrivial(t, ref, tc.state)
			sameFiles(t, ref, viaBeam(t, cfg))
		})
	}
}

// TestCheckTallies: the launcher's comparison of the job's counts with the
// publish's names every difference.
func TestCheckTallies(t *testing.T) {
	totals := writers.ControlTotals{PerCurrency: []writers.CurrencyTotals{{PlanCurrency: "EUR", Lines: 3, PlanPaid: 150_00}}}
	good := map[string]int64{"adjudicated/0": 2, "adjudicated/1": 1, "exceptions/1": 4, "lines/EUR": 3, "paid/EUR": 150_00}
	if err := checkTallies(good, totals, []int64{2, 1}, []int64{0, 4}); err != nil {
		t.Fatalf("matching counts: %v", err)
	}
	bad := map[string]int64{"adjudicated/0": 2, "adjudicated/1": 2, "exceptions/1": 4, "lines/EUR": 3, "paid/EUR": 150_00, "paid/USD": 1}
	err := checkTallies(bad, totals, []int64{2, 1}, []int64{0, 4})
	want := "job: the published rows do not add up to the job's own counts: adjudicated/1: the job counted 2, the publish 1; paid/USD: the job counted 1, the publish none"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}
