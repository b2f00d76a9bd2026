package x12_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"claimsbatch/claim"
	"claimsbatch/pipeline"
	"claimsbatch/synth"
	"claimsbatch/writers"
	"claimsbatch/x12"
)

// largeRun is a generated run of 100 000 claim lines, adjudicated once and
// shared by the tests below.
type largeRun struct {
	dir   string // the run's output directory
	runID string
	err   error
	files []x12.File        // Generate's files for the run (as of asOf)
	data  map[string][]byte // their bytes by name
}

var (
	largeOnce sync.Once
	large     largeRun
)

func runLarge(format writers.Format) largeRun {
	dir, err := os.MkdirTemp("", "claimsbatch-x12-large-*")
	if err != nil {
		return largeRun{err: err}
	}
	ctx := context.Background()
	res, err := synth.Generate(ctx, synth.Config{Dir: filepath.Join(dir, "in"), Lines: 100_000, Seed: 16, BadShare: 0.002})
	if err != nil {
		return largeRun{dir: filepath.Join(dir, "out"), err: err}
	}
	sum, err := pipeline.Run(ctx, pipeline.Config{
		Claims: []string{res.ClaimsPath}, Members: res.MembersPath, FX: res.FXPath,
		OutDir: filepath.Join(dir, "out"), Format: format, TmpDir: dir,
		AsOf: claim.FromCivil(2026, 6, 30), // after every date synth writes
	})
	if err != nil {
		return largeRun{dir: filepath.Join(dir, "out"), err: err}
	}
	return largeRun{dir: sum.OutDir, runID: sum.RunID}
}

func sharedLarge(t *testing.T) largeRun {
	t.Helper()
	if testing.Short() {
		t.Skip("100 000-line run skipped in -short mode")
	}
	largeOnce.Do(func() {
		large = runLarge(writers.CSV)
		if large.err == nil {
			large.files, large.data = generate(t, x12.Options{Remittance: filepath.Join(large.dir, "remittance.csv"), Date: asOf, TmpDir: filepath.Dir(large.dir)})
		}
	})
	if large.err != nil {
		t.Fatal(large.err)
	}
	if large.files == nil {
		t.Fatal("Generate failed on the large run")
	}
	return large
}

func TestMain(m *testing.M) {
	code := m.Run()
	if large.dir != "" { // the run's parent directory, made by runLarge
		os.RemoveAll(filepath.Dir(large.dir))
	}
	os.Exit(code)
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// generate runs x12.Generate into memory.
func generate(t *testing.T, opt x12.Options) ([]x12.File, map[string][]byte) {
	t.Helper()
	out := map[string][]byte{}
	bufs := map[string]*bytes.Buffer{}
	opt.Create = func(name string) (io.WriteCloser, error) {
		if bufs[name] != nil {
			return nil, fmt.Errorf("%s twice", name)
		}
		bufs[name] = &bytes.Buffer{}
		return nopCloser{bufs[name]}, nil
	}
	if opt.TmpDir == "" {
		opt.TmpDir = t.TempDir()
	}
	files, err := x12.Generate(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	for n, b := range bufs {
		out[n] = b.Bytes()
	}
	return files, out
}

var asOf = func() claim.Date { d, _ := claim.ParseDate("2025-06-30"); return d }()

// TestLargeRunBalances: every 835 of a 100 000-line run passes Check, its
// counts are the ones Generate reports, and the files tie out to
// payments.csv (Reconcile) and to the remittance, line by line and claim by
// claim.
func TestLargeRunBalances(t *testing.T) {
	run := sharedLarge(t)
	remittance := filepath.Join(run.dir, "remittance.csv")
	files, data := run.files, run.data
	if len(files) < 500 {
		t.Fatalf("only %d files", len(files))
	}

	var totalLines, totalClaims int
	currencies := map[string]int{}
	for _, f := range files {
		rep := x12.Inspect(bytes.NewReader(data[f.Name]), f.Name)
		if len(rep.Problems) > 0 {
			t.Fatalf("%s: %v", f.Name, rep.Problems)
		}
		set := rep.Sets[0]
		if rep.Segments != f.Segments || rep.Claims != f.Claims || rep.ServiceLines != f.Lines ||
			set.Amount != f.Paid || set.PayeeRef != f.PayeeID || set.Currency != f.Currency || len(rep.Sets) != 1 {
			t.Fatalf("%s: Generate says %+v, Inspect reads %+v", f.Name, f, rep)
		}
		totalLines += f.Lines
		totalClaims += f.Claims
		currencies[f.Currency]++
	}
	if len(currencies) != 3 {
		t.Errorf("currencies %v, want USD, EUR and GBP", currencies)
	}

	problems, err := x12.Reconcile(files, filepath.Join(run.dir, "payments.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Fatalf("%d mismatches with payments.csv, first: %s", len(problems), problems[0])
	}

	// The remittance, read with encoding/csv: provider lines and claims per
	// payee and currency, their charge, paid and PR adjustments.
	type sums struct {
		lines            int
		claims           map[string]bool
		charge, paid, pr claim.Money
	}
	want := map[[2]string]*sums{}
	recs := readCSV(t, remittance)
	col := columns(recs[0])
	for _, r := range recs[1:] {
		if r[col["payee_type"]] != "provider" {
			continue
		}
		k := [2]string{r[col["payee_id"]], r[col["plan_currency"]]}
		s := want[k]
		if s == nil {
			s = &sums{claims: map[string]bool{}}
			want[k] = s
		}
		s.lines++
		s.claims[r[col["claim_id"]]+"\x00"+r[col["member_id"]]] = true
		s.charge += money(t, r[col["charge"]])
		s.paid += money(t, r[col["plan_paid"]])
		for _, a := range strings.Fields(r[col["adjustments"]]) {
			if strings.HasPrefix(a, "PR-") {
				s.pr += money(t, a[strings.IndexByte(a, ':')+1:])
			}
		}
	}
	if len(want) != len(files) {
		t.Errorf("%d provider payee/currency pairs in the remittance, %d files", len(want), len(files))
	}
	var wantLines int
	for _, f := range files {
		s := want[[2]string{f.PayeeID, f.Currency}]
		if s == nil {
			t.Fatalf("%s: no remittance lines", f.Name)
		}
		wantLines += s.lines
		if f.Lines != s.lines || f.Claims != len(s.claims) || f.Charge != s.charge || f.Paid != s.paid || f.PatientResponsibility != s.pr {
			t.Errorf("%s: lines %d claims %d charge %s paid %s pr %s; remittance: %d %d %s %s %s",
				f.Name, f.Lines, f.Claims, f.Charge, f.Paid, f.PatientResponsibility, s.lines, len(s.claims), s.charge, s.paid, s.pr)
		}
	}
	if totalLines != wantLines {
		t.Errorf("%d service lines, %d provider lines", totalLines, wantLines)
	}
	t.Logf("%d files, %d claims, %d service lines", len(files), totalClaims, totalLines)
}

// TestLargeRunIndependently: node-x12 reads every 835 of the 100 000-line
// run strictly; balancing recomputed from its parse holds in every claim
// and line, and the sum of BPR02 per provider and currency is payments.csv's
// plan_paid.
func TestLargeRunIndependently(t *testing.T) {
	run := sharedLarge(t)
	files, data := run.files, run.data
	dir := t.TempDir()
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = filepath.Join(dir, f.Name)
		if err := os.WriteFile(paths[i], data[f.Name], 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got := independentRead(t, paths)
	tieToPayments(t, got, readProviderPayments(t, filepath.Join(run.dir, "payments.csv")))
}

// TestLargeRunDeterministic: the partitioning and the number of workers do
// not change a byte (256 small partitions and one worker against the
// default), and the run id given is the file's.
func TestLargeRunDeterministic(t *testing.T) {
	run := sharedLarge(t)
	files, data := run.files, run.data
	files2, data2 := generate(t, x12.Options{Remittance: filepath.Join(run.dir, "remittance.csv"), Date: asOf,
		PartitionBytes: 64 << 10, Workers: 1, RunID: run.runID})
	if len(files) != len(files2) {
		t.Fatalf("%d files, then %d", len(files), len(files2))
	}
	for i := range files {
		if files[i] != files2[i] || !bytes.Equal(data[files[i].Name], data2[files[i].Name]) {
			t.Fatalf("%s differs between partitionings", files[i].Name)
		}
	}
	seen := map[string]string{}
	for _, f := range files {
		if prev, ok := seen[f.TraceNumber]; ok {
			t.Errorf("%s and %s share trace number %s", prev, f.Name, f.TraceNumber)
		}
		seen[f.TraceNumber] = f.Name
	}
}
