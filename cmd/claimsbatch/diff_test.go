package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"claimsbatch/plan"
	"claimsbatch/synth"
)

// whatIfPlan writes the built-in plan, as `claimsbatch plan` prints it, with
// each of the edits (old text -> new text) applied, and returns its path.
func whatIfPlan(t *testing.T, dir string, edits ...[2]string) string {
	t.Helper()
	text := string(plan.DefaultYAML())
	for _, e := range edits {
		if strings.Count(text, e[0]) != 1 {
			t.Fatalf("the built-in plan has %d copies of %q, want 1", strings.Count(text, e[0]), e[0])
		}
		text = strings.Replace(text, e[0], e[1], 1)
	}
	path := filepath.Join(dir, "what-if.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// outpatientMax6000 raises the outpatient annual maximum from 5,000 to
// 6,000 (and the EUR and GBP amounts by the same fifth).
var outpatientMax6000 = [2]string{
	"annual_maximum: {USD: 5000, EUR: 3700, GBP: 3325}",
	"annual_maximum: {USD: 6000, EUR: 4440, GBP: 3990}",
}

func TestDiffIdenticalRuns(t *testing.T) {
	dir := t.TempDir()
	csvRun, parquetRun := filepath.Join(dir, "csv"), filepath.Join(dir, "parquet")
	runOK(t, sampleArgs(csvRun)...)
	runOK(t, sampleArgs(parquetRun, "--format", "parquet")...)
	for _, pair := range [][2]string{{csvRun, csvRun}, {csvRun, parquetRun}, {parquetRun, csvRun}} {
		code, out := runCLI(t, "diff", pair[0], pair[1])
		if code != 0 || !strings.Contains(out, "\nthe runs are identical\n") ||
			!strings.Contains(out, "Lines: A 42, B 42; changed 0, only in A 0, only in B 0, unchanged 42") {
			t.Errorf("diff %s %s: exit %d, want 0:\n%s", pair[0], pair[1], code, out)
		}
	}
}

// TestDiffOutOfStep reorders each member's remittance lines (as a changed
// received_date would) and finds the runs identical.
func TestDiffOutOfStep(t *testing.T) {
	dir := t.TempDir()
	base, reordered := filepath.Join(dir, "base"), filepath.Join(dir, "reordered")
	runOK(t, sampleArgs(base)...)
	if err := os.CopyFS(reordered, os.DirFS(base)); err != nil {
		t.Fatal(err)
	}
	header, rows := readCSVTable(t, filepath.Join(base, "remittance.csv"))
	member := slices.Index(header, "member_id")
	// Reverse the lines of every member, keeping the members' order.
	for start := 0; start < len(rows); {
		end := start
		for end < len(rows) && rows[end][member] == rows[start][member] {
			end++
		}
		slices.Reverse(rows[start:end])
		start = end
	}
	f, err := os.Create(filepath.Join(reordered, "remittance.csv"))
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	w.Write(header)
	w.WriteAll(rows)
	if err := f.Close(); err != nil || w.Error() != nil {
		t.Fatal(err, w.Error())
	}
	sameBytesOrFail := func() bool {
		a, _ := os.ReadFile(filepath.Join(base, "remittance.csv"))
		b, _ := os.ReadFile(filepath.Join(reordered, "remittance.csv"))
		return string(a) == string(b)
	}
	if sameBytesOrFail() {
		t.Fatal("reordering changed nothing; the test would prove nothing")
	}
	if code, out := runCLI(t, "diff", base, reordered); code != 0 {
		t.Errorf("exit %d, want 0:\n%s", code, out)
	}
}

func TestDiffTrouble(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	runOK(t, sampleArgs(run)...)
	noManifest := filepath.Join(dir, "empty")
	os.Mkdir(noManifest, 0o755)
	noRemittance := filepath.Join(dir, "noremit")
	if err := os.CopyFS(noRemittance, os.DirFS(run)); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(noRemittance, "remittance.csv"))
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"one run", []string{"diff", run}, "diff takes two run directories"},
		{"missing dir", []string{"diff", run, filepath.Join(dir, "nope")}, "RUN_B: not a published run"},
		{"no manifest", []string{"diff", noManifest, run}, "has no manifest.json"},
		{"remittance missing", []string{"diff", run, noRemittance}, "run B: cannot open file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out := runCLI(t, tc.args...)
			if code != 2 || !strings.Contains(out, tc.msg) {
				t.Errorf("exit %d, want 2 with %q:\n%s", code, tc.msg, out)
			}
		})
	}
}

// TestDiffSampleWhatIf compares the sample with a what-if that raises two
// EUR limits the sample hits, and checks the whole printed summary against
// testdata/diff/sample-whatif.txt (-update rewrites it). The as-of date is
// the sample's (as make run gives it): the run ids hash it, and the default,
// today, would change the summary every day.
func TestDiffSampleWhatIf(t *testing.T) {
	samplePath, err := filepath.Abs(sample)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	golden, err := filepath.Abs(filepath.Join("testdata", "diff", "sample-whatif.txt"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir) // the summary names the runs as given: base and whatif
	planPath := whatIfPlan(t, ".",
		[2]string{"- code: KIDNEY_DIALYSIS\n    module: core\n    description: kidney dialysis\n    limit: {USD: 5000, EUR: 3700, GBP: 3325}",
			"- code: KIDNEY_DIALYSIS\n    module: core\n    description: kidney dialysis\n    limit: {USD: 5000, EUR: 4000, GBP: 3325}"},
		[2]string{"CONSULT_TELEHEALTH:\n    limit: {USD: 650, EUR: 500, GBP: 425}", "CONSULT_TELEHEALTH:\n    limit: {USD: 650, EUR: 600, GBP: 425}"})
	args := func(out string, extra ...string) []string {
		return append([]string{"run", "--claims", samplePath + "/claims.csv", "--members", samplePath + "/members.csv",
			"--fx", samplePath + "/fx.csv", "--out", out, "--quiet", "--as-of", "2025-05-02"}, extra...)
	}
	runOK(t, args("base")...)
	runOK(t, args("whatif", "--plan", planPath)...)
	code, out := runCLI(t, "diff", "base", "whatif", "--out", "diff")
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	if *update {
		if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		t.Errorf("summary differs from %s (go test -run TestDiffSampleWhatIf -update rewrites it):\n%s", golden, out)
	}
	names, _ := filepath.Glob("diff/*")
	if want := []string{"diff/diff.csv", "diff/diff.json"}; !slices.Equal(names, want) {
		t.Errorf("--out holds %q, want %q", names, want)
	}
}

// TestDiffWhatIfGenerated raises the outpatient annual maximum from 5,000 to
// 6,000 on generated data and checks diff's lines and totals against a
// join of the two remittances done here, in memory, with decimals.
func TestDiffWhatIfGenerated(t *testing.T) {
	dir := t.TempDir()
	in := synthInputs(t, synth.Config{Lines: 30000, Seed: 13})
	base, whatif, out := filepath.Join(dir, "base"), filepath.Join(dir, "whatif"), filepath.Join(dir, "diff")
	runOK(t, inputArgs(in.ClaimsPath, in.MembersPath, in.FXPath, base)...)
	runOK(t, inputArgs(in.ClaimsPath, in.MembersPath, in.FXPath, whatif, "--plan", whatIfPlan(t, dir, outpatientMax6000))...)
	code, msg := runCLI(t, "diff", base, whatif, "--out", out)
	if code != 1 {
		t.Fatalf("exit %d, want 1: %s", code, msg)
	}

	// The expected figures, from the two files alone.
	type side struct {
		header []string
		rows   map[string][]string
	}
	read := func(path string) side {
		header, rows := readCSVTable(t, path)
		s := side{header: header, rows: map[string][]string{}}
		for _, r := range rows {
			s.rows[r[slices.Index(header, "claim_id")]+"/"+r[slices.Index(header, "line_no")]] = r
		}
		return s
	}
	a, b := read(filepath.Join(base, "remittance.csv")), read(filepath.Join(whatif, "remittance.csv"))
	if !slices.Equal(a.header, b.header) {
		t.Fatalf("headers differ: %q vs %q", a.header, b.header)
	}
	col := func(name string) int { return slices.Index(a.header, name) }
	measures := []string{"charge", "plan_paid", "deductible", "coinsurance", "not_covered"}
	// per currency, per measure: A, B
	totals := map[string]map[string][2]decimal.Decimal{}
	add := func(r []string, i int) {
		cur := r[col("plan_currency")]
		if totals[cur] == nil {
			totals[cur] = map[string][2]decimal.Decimal{}
		}
		for _, m := range measures {
			v := totals[cur][m]
			v[i] = v[i].Add(decimal.RequireFromString(r[col(m)]))
			totals[cur][m] = v
		}
	}
	wantChanged := map[string]string{} // key -> plan_paid delta
	pr119Gone := 0
	for k, ra := range a.rows {
		add(ra, 0)
		rb, ok := b.rows[k]
		if !ok {
			t.Fatalf("line %s only in A: a plan change cannot drop a line", k)
		}
		for i := range ra {
			if i != col("run_id") && ra[i] != rb[i] {
				d := decimal.RequireFromString(rb[col("plan_paid")]).Sub(decimal.RequireFromString(ra[col("plan_paid")]))
				wantChanged[k] = d.StringFixed(2)
				break
			}
		}
		if strings.Contains(ra[col("adjustments")], "PR-119:") && !strings.Contains(rb[col("adjustments")], "PR-119:") {
			pr119Gone++
		}
	}
	for _, rb := range b.rows {
		add(rb, 1)
	}
	if len(wantChanged) < 20 {
		t.Fatalf("only %d lines changed; the data does not exercise the what-if", len(wantChanged))
	}

	// diff.csv: the same lines with the same deltas.
	header, rows := readCSVTable(t, filepath.Join(out, "diff.csv"))
	gotChanged := map[string]string{}
	for _, r := range rows {
		if r[0] != "changed" {
			t.Errorf("diff.csv row %q: want only changed lines", r[:3])
		}
		gotChanged[r[slices.Index(header, "claim_id")]+"/"+r[slices.Index(header, "line_no")]] = r[slices.Index(header, "plan_paid_delta")]
	}
	if fmt.Sprint(gotChanged) != fmt.Sprint(wantChanged) {
		t.Errorf("diff.csv: %d changed lines, want %d (or their plan_paid deltas differ)", len(gotChanged), len(wantChanged))
	}

	// diff.json: counts and totals.
	var sum struct {
		Identical bool
		Lines     struct{ A, B, Changed, OnlyInA, OnlyInB, Unchanged int64 }
		Totals    []map[string]any
		Reason    []struct {
			Code             string
			LinesDisappeared int64 `json:"lines_disappeared"`
		} `json:"reason_codes"`
	}
	data, err := os.ReadFile(filepath.Join(out, "diff.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &sum); err != nil {
		t.Fatal(err)
	}
	n := int64(len(a.rows))
	if sum.Identical || sum.Lines.A != n || sum.Lines.B != n || sum.Lines.Changed != int64(len(wantChanged)) ||
		sum.Lines.Unchanged != n-int64(len(wantChanged)) {
		t.Errorf("diff.json lines %+v (identical %v), want %d lines, %d changed", sum.Lines, sum.Identical, n, len(wantChanged))
	}
	if len(sum.Totals) != len(totals) {
		t.Errorf("diff.json has %d currencies, want %d", len(sum.Totals), len(totals))
	}
	for _, tot := range sum.Totals {
		cur := tot["plan_currency"].(string)
		for _, m := range measures {
			got := tot[m].(map[string]any)
			w := totals[cur][m]
			want := map[string]any{"a": w[0].StringFixed(2), "b": w[1].StringFixed(2), "delta": w[1].Sub(w[0]).StringFixed(2)}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s %s: %v, want %v", cur, m, got, want)
			}
		}
	}
	for _, rc := range sum.Reason {
		if rc.Code == "PR-119" && rc.LinesDisappeared != int64(pr119Gone) {
			t.Errorf("PR-119 disappeared from %d lines, want %d", rc.LinesDisappeared, pr119Gone)
		}
	}
	// The summary on stdout says the same.
	if !strings.Contains(msg, fmt.Sprintf("changed %d, only in A 0, only in B 0", len(wantChanged))) {
		t.Errorf("summary lacks the changed count %d:\n%s", len(wantChanged), msg)
	}
}
