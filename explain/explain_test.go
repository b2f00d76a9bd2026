package explain

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"claimsbatch/claim"
	"claimsbatch/pipeline"
	"claimsbatch/plan"
	"claimsbatch/writers"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const sample = "../testdata/sample"

// runSample adjudicates the bundled sample into a temporary directory, the
// inputs named as relative paths (as `make run` does), and returns the run
// directory.
// sampleAsOf is the bundled sample's as-of date (its latest received_date,
// as `make run` passes it).
var sampleAsOf = claim.FromCivil(2025, 5, 2)

func runSample(t *testing.T, cfg pipeline.Config) string {
	t.Helper()
	if cfg.Claims == nil {
		cfg.Claims = []string{sample + "/claims.csv"}
	}
	if cfg.Members == "" {
		cfg.Members, cfg.FX = sample+"/members.csv", sample+"/fx.csv"
	}
	cfg.OutDir = filepath.Join(t.TempDir(), "run")
	if cfg.AsOf == 0 {
		cfg.AsOf = sampleAsOf
	}
	if _, err := pipeline.Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	return cfg.OutDir
}

var sampleRun struct {
	dir string
}

// theSample is one run of the sample shared by the tests that only read it.
func theSample(t *testing.T) string {
	if sampleRun.dir == "" {
		dir, err := os.MkdirTemp("", "explain-sample-*")
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "run")
		if _, err := pipeline.Run(context.Background(), pipeline.Config{Claims: []string{sample + "/claims.csv"}, Members: sample + "/members.csv", FX: sample + "/fx.csv", OutDir: out, AsOf: sampleAsOf}); err != nil {
			t.Fatal(err)
		}
		sampleRun.dir = out
	}
	return sampleRun.dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if sampleRun.dir != "" {
		os.RemoveAll(filepath.Dir(sampleRun.dir))
	}
	os.Exit(code)
}

func explainOK(t *testing.T, opt Options) *Report {
	t.Helper()
	rep, err := Explain(context.Background(), opt)
	if err != nil {
		t.Fatalf("explain %s/%d: %v", opt.ClaimID, opt.LineNo, err)
	}
	if !rep.Matches {
		t.Fatalf("explain %s/%d: does not match the published remittance", opt.ClaimID, opt.LineNo)
	}
	return rep
}

func lineOf(t *testing.T, rep *Report, claimID string, lineNo int32) *Line {
	t.Helper()
	for i := range rep.Lines {
		if l := &rep.Lines[i]; l.ClaimID == claimID && l.LineNo == lineNo {
			return l
		}
	}
	t.Fatalf("report has no line %s/%d", claimID, lineNo)
	return nil
}

// steps lists a line's steps that applied as "N name: outcome ..." with the
// step's amounts, skipping those that did not apply.
func steps(l *Line) []string {
	var out []string
	for _, s := range l.Steps {
		if s.Outcome == "not applicable" {
			continue
		}
		text := fmt.Sprintf("%d %s: %s", s.Step, s.Name, s.Outcome)
		for _, kv := range [][2]string{{"amount", s.Amount}, {"deductible", s.Deductible}, {"coinsurance", s.Coinsurance}, {s.Reason, s.Cut}} {
			if kv[1] != "" {
				text += " " + kv[0] + " " + kv[1]
			}
		}
		out = append(out, text)
	}
	return out
}

// accs lists a line's accumulators as "label before -> after of limit (reason cut)".
func accs(l *Line) []string {
	var out []string
	for _, a := range l.Accumulators {
		s := fmt.Sprintf("%s %s -> %s of %s", a.Label, a.Before, a.After, a.Limit)
		if a.Cut != "" {
			s += fmt.Sprintf(" (%s %s)", a.Reason, a.Cut)
		}
		out = append(out, s)
	}
	return out
}

func same(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// The brochure's worked examples (SPEC section 5), which the sample's
// members M101 to M104 are (testdata/sample/README.md): explain shows the
// cost share the brochure states, and the deductible and out-of-pocket
// accumulators moving by it.
func TestBrochureExamples(t *testing.T) {
	run := theSample(t)
	front := []string{"1 eligibility: passed", "2 module: passed", "5 coverage area: passed", "6 duplicate service: passed"}
	tests := []struct {
		claim string
		steps []string
		accs  []string
	}{
		{"C1001", // 1,200 with a 375 deductible: member 375, plan 825
			[]string{"9 cost share: applied amount 825.00 deductible 375.00 coinsurance 0.00", "10 amount limits: applied amount 825.00", "11 accrue: applied amount 825.00"},
			[]string{
				"core deductible 0.00 -> 375.00 of 375.00 (PR-1 375.00)",
				"core coinsurance (out-of-pocket maximum) 0.00 -> 0.00 of 2000.00",
				"condition K35 0.00 -> 825.00 of 250000.00",
				"core annual 0.00 -> 825.00 of 500000.00",
			}},
		{"C1002", // 5,000 at 20 % up to 2,000: member 1,000, plan 4,000
			[]string{"9 cost share: applied amount 4000.00 deductible 0.00 coinsurance 1000.00", "10 amount limits: applied amount 4000.00", "11 accrue: applied amount 4000.00"},
			[]string{
				"core deductible 0.00 -> 0.00 of 0.00",
				"core coinsurance (out-of-pocket maximum) 0.00 -> 1000.00 of 2000.00 (PR-2 1000.00)",
				"condition K35 0.00 -> 4000.00 of 250000.00",
				"core annual 0.00 -> 4000.00 of 500000.00",
			}},
		{"C1003", // 20,000 at 20 % up to 2,000: member 2,000, plan 18,000
			[]string{"9 cost share: applied amount 18000.00 deductible 0.00 coinsurance 2000.00", "10 amount limits: applied amount 18000.00", "11 accrue: applied amount 18000.00"},
			[]string{
				"core deductible 0.00 -> 0.00 of 0.00",
				"core coinsurance (out-of-pocket maximum) 0.00 -> 2000.00 of 2000.00 (PR-2 2000.00)",
				"condition I21 0.00 -> 18000.00 of 250000.00",
				"core annual 0.00 -> 18000.00 of 500000.00",
			}},
		{"C1004", // 20,000 with 375 and 20 % up to 5,000: member 375 + 3,925, plan 15,700
			[]string{"9 cost share: applied amount 15700.00 deductible 375.00 coinsurance 3925.00", "10 amount limits: applied amount 15700.00", "11 accrue: applied amount 15700.00"},
			[]string{
				"core deductible 0.00 -> 375.00 of 375.00 (PR-1 375.00)",
				"core coinsurance (out-of-pocket maximum) 0.00 -> 3925.00 of 5000.00 (PR-2 3925.00)",
				"condition M17 0.00 -> 15700.00 of 250000.00",
				"core annual 0.00 -> 15700.00 of 500000.00",
			}},
	}
	for _, tc := range tests {
		t.Run(tc.claim, func(t *testing.T) {
			rep := explainOK(t, Options{RunDir: run, ClaimID: tc.claim})
			if len(rep.Lines) != 1 {
				t.Fatalf("%d lines, want the member's one", len(rep.Lines))
			}
			l := &rep.Lines[0]
			got := steps(l)
			if len(got) < 6 || !strings.HasPrefix(got[0], "0 charge: applied amount") {
				t.Fatalf("steps: %q", got)
			}
			same(t, "steps", got[1:], append(append(append([]string{}, front...), "8 exhausted limits: passed amount "+l.Remittance.Charge), tc.steps...))
			same(t, "accumulators", accs(l), tc.accs)
			if !l.Published.Matches || l.Published.Row == 0 {
				t.Errorf("published: %+v", l.Published)
			}
		})
	}
}

// Lines that hit a limit show it before and after, with what it cut.
func TestLimits(t *testing.T) {
	run := theSample(t)
	tests := []struct {
		claim  string
		lineNo int32
		want   string // one accumulator line
		step   string // the step that cut
	}{
		{"C2001", 2, "CONSULT_TELEHEALTH combined 80.37 -> 500.00 of 500.00 (PR-119 60.37)", "10 amount limits: applied amount 419.63 PR-119 60.37"},
		{"C2403", 1, "KIDNEY_DIALYSIS 0.00 -> 3700.00 of 3700.00 (PR-119 300.00)", "10 amount limits: applied amount 3700.00 PR-119 300.00"},
		{"C2402", 1, "CANCER_DEVICE WIG lifetime 90.00 -> 100.00 of 100.00 (PR-35 30.00)", "10 amount limits: applied amount 10.00 PR-35 30.00"},
		{"C2205", 2, "condition C50 150000.00 -> 165000.00 of 165000.00 (PR-119 5000.00)", "10 amount limits: applied amount 15000.00 PR-119 5000.00"},
		{"C2005", 1, "OP_SCREEN_BREAST per line 0.00 -> 165.00 of 165.00 (PR-119 75.00)", "10 amount limits: applied amount 165.00 PR-119 75.00"},
		{"C2106", 1, "out-of-area days, trip T-ES1 0 -> 21 of 21 (PR-119 400.00)", "7 day limits: applied amount 2100.00 PR-119 400.00"},
		{"C2305", 1, "PANDEMIC_CASH days 0 -> 30 of 30 (PR-119 200.00)", "7 day limits: applied amount 3000.00 PR-119 200.00"},
		{"C2202", 1, "country-of-origin days 180 -> 180 of 180 (PR-119 1000.00)", "7 day limits: denied PR-119 1000.00"},
		{"C2302", 1, "OP_CHILD_EYE_HEARING lines this policy year 1 -> 1 of 1 (PR-119 120.00)", "8 exhausted limits: denied PR-119 120.00"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/%d", tc.claim, tc.lineNo), func(t *testing.T) {
			rep := explainOK(t, Options{RunDir: run, ClaimID: tc.claim, LineNo: tc.lineNo})
			l := &rep.Lines[len(rep.Lines)-1]
			if l.ClaimID != tc.claim || l.LineNo != tc.lineNo || !l.Asked {
				t.Fatalf("the last line is %s/%d (asked %v), want the asked one", l.ClaimID, l.LineNo, l.Asked)
			}
			if got := accs(l); !contains(got, tc.want) {
				t.Errorf("accumulators:\n  %s\nwant among them: %s", strings.Join(got, "\n  "), tc.want)
			}
			if got := steps(l); !contains(got, tc.step) {
				t.Errorf("steps:\n  %s\nwant among them: %s", strings.Join(got, "\n  "), tc.step)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// The member's earlier lines come first, in SPEC order, and a denial ends
// a line's steps.
func TestMemberHistory(t *testing.T) {
	rep := explainOK(t, Options{RunDir: theSample(t), ClaimID: "C2108"})
	var got []string
	for _, l := range rep.Lines {
		got = append(got, fmt.Sprintf("%s/%d %s %s asked=%v", l.ClaimID, l.LineNo, l.ServiceDate, l.Remittance.Status, l.Asked))
	}
	same(t, "lines", got, []string{
		"C2101/1 2023-12-15 DENIED asked=false",
		"C2103/1 2024-03-10 DENIED asked=false",
		"C2106/1 2024-04-01 PARTIAL asked=false",
		"C2104/1 2024-05-02 PAID asked=false",
		"C2107/1 2024-05-20 DENIED asked=false",
		"C2102/1 2024-07-15 DENIED asked=false",
		"C2108/1 2024-09-01 PAID asked=true",
	})
	same(t, "C2107/1 steps", steps(lineOf(t, rep, "C2107", 1)), []string{
		"0 charge: applied amount 80.00", "1 eligibility: passed", "2 module: passed", "5 coverage area: denied PR-96 80.00",
	})
	same(t, "C2102/1 steps", steps(lineOf(t, rep, "C2102", 1)), []string{"0 charge: applied amount 90.00", "1 eligibility: denied PR-27 90.00"})
	// Row 52 repeats C2108/1: the run made it DUPLICATE_LINE, explain
	// re-adjudicates row 20 and lists row 52 as not adjudicated.
	if l := lineOf(t, rep, "C2108", 1); l.Row != 20 {
		t.Errorf("C2108/1 is row %d, want 20 (the first of the two)", l.Row)
	}
	if len(rep.NotAdjudicated) != 1 || rep.NotAdjudicated[0].Code != "DUPLICATE_LINE" || rep.NotAdjudicated[0].Row != 52 {
		t.Errorf("not adjudicated: %+v", rep.NotAdjudicated)
	}
}

// A claim whose rows were all exceptions is explained by them.
func TestExceptionOnly(t *testing.T) {
	rep, err := Explain(context.Background(), Options{RunDir: theSample(t), ClaimID: "C2004"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Lines) != 0 || len(rep.NotAdjudicated) != 1 || rep.NotAdjudicated[0].Code != "NO_FX_RATE" || rep.MemberID != "" {
		t.Errorf("report: %+v", rep)
	}
}

func TestUnknownClaimOrLine(t *testing.T) {
	run := theSample(t)
	for _, tc := range []struct {
		opt  Options
		want string
	}{
		{Options{RunDir: run, ClaimID: "C404"}, "claim C404 is not in run run-"},
		{Options{RunDir: run, ClaimID: "C2001", LineNo: 7}, "claim C2001 has no line 7 in run run-22f6c7c4d7118c216c81 (its adjudicated lines: 1, 2)"},
		{Options{RunDir: filepath.Dir(run), ClaimID: "C2001"}, "has no manifest.json"},
	} {
		_, err := Explain(context.Background(), tc.opt)
		if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want ErrRefused with %q", tc.opt, err, tc.want)
		}
	}
}

// copySample copies the sample's inputs into dir and returns their paths.
func copySample(t *testing.T, dir string) (claims, members, fx string) {
	t.Helper()
	for _, name := range []string{"claims.csv", "members.csv", "fx.csv"} {
		data, err := os.ReadFile(filepath.Join(sample, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "claims.csv"), filepath.Join(dir, "members.csv"), filepath.Join(dir, "fx.csv")
}

// A claim with lines of two members is explained one line at a time.
func TestClaimOfTwoMembers(t *testing.T) {
	dir := t.TempDir()
	claims, members, fx := copySample(t, dir)
	f, err := os.OpenFile(claims, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("C2001,3,M101,2024-05-01,,2024-05-02,HOSPITAL_ACCOMMODATION,K35.8,,FR,N,,PR-HOSP1,,USD,100.00,\n")
	f.Close()
	run := runSample(t, pipeline.Config{Claims: []string{claims}, Members: members, FX: fx})
	_, err = Explain(context.Background(), Options{RunDir: run, ClaimID: "C2001"})
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "claim C2001 has lines of more than one member (line 3 of this one, 1, 2 of others): ask for one line with --line") {
		t.Errorf("a claim of two members: %v", err)
	}
	rep := explainOK(t, Options{RunDir: run, ClaimID: "C2001", LineNo: 3})
	if rep.MemberID != "M101" || len(rep.Lines) != 2 || rep.Lines[1].Remittance.PlanPaid != "100.00" {
		t.Errorf("C2001/3: member %s, %d lines", rep.MemberID, len(rep.Lines))
	}
	explainOK(t, Options{RunDir: run, ClaimID: "C2001", LineNo: 2})
}

// An input that changed (or went) since the run is refused, naming it.
func TestChangedInputRefused(t *testing.T) {
	dir := t.TempDir()
	claims, members, fx := copySample(t, dir)
	run := runSample(t, pipeline.Config{Claims: []string{claims}, Members: members, FX: fx})
	explainOK(t, Options{RunDir: run, ClaimID: "C2001"})

	data, _ := os.ReadFile(fx)
	if err := os.WriteFile(fx, bytes.Replace(data, []byte("1.0523"), []byte("1.0524"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Explain(context.Background(), Options{RunDir: run, ClaimID: "C2001"})
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "the run's fx file "+fx+" has changed since the run") {
		t.Errorf("changed FX file: %v", err)
	}
	os.Remove(claims)
	_, err = Explain(context.Background(), Options{RunDir: run, ClaimID: "C2001"})
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "the run's claims file "+claims+" is not there") {
		t.Errorf("missing claims file: %v", err)
	}
}

// The re-adjudication is checked against the published remittance: a
// published row that differs is reported column by column (ErrMismatch).
func TestPublishedMismatch(t *testing.T) {
	run := runSample(t, pipeline.Config{})
	rem := filepath.Join(run, "remittance.csv")
	data, _ := os.ReadFile(rem)
	edited := bytes.Replace(data, []byte(",80.37,130.09,PAID,"), []byte(",80.38,130.09,PAID,"), 1)
	if bytes.Equal(edited, data) {
		t.Fatal("the sample's C2001/1 row is not as expected")
	}
	if err := os.WriteFile(rem, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := Explain(context.Background(), Options{RunDir: run, ClaimID: "C2001"})
	if !errors.Is(err, ErrMismatch) || rep == nil || rep.Matches {
		t.Fatalf("explain on an edited remittance: %v", err)
	}
	p := lineOf(t, rep, "C2001", 1).Published
	if p.Matches || len(p.Differences) != 1 || p.Differences[0] != (Difference{Column: "plan_paid", Published: "80.38", Explained: "80.37"}) {
		t.Errorf("C2001/1: %+v", p)
	}
	if !lineOf(t, rep, "C2001", 2).Published.Matches {
		t.Error("C2001/2 should still match")
	}
	var text bytes.Buffer
	rep.WriteText(&text)
	if !strings.Contains(text.String(), "DIFFERS from the published remittance row 5: plan_paid published \"80.38\", explained \"80.37\";") ||
		!strings.Contains(text.String(), "\nMISMATCH: ") {
		t.Errorf("text:\n%s", text.String())
	}
}

// A published row of the member that the inputs do not give is reported
// (the run adjudicated a line explain would not accept).
func TestPublishedRowNotReproduced(t *testing.T) {
	run := runSample(t, pipeline.Config{})
	rem := filepath.Join(run, "remittance.csv")
	lines := strings.SplitAfter(string(mustRead(t, rem)), "\n")
	extra := strings.Replace(lines[6], ",C2001,2,M201,", ",C2001,3,M201,", 1) // after C2001/2, row 6
	if extra == lines[6] {
		t.Fatalf("row 6 is not C2001/2: %s", lines[6])
	}
	edited := strings.Join(lines[:7], "") + extra + strings.Join(lines[7:], "")
	if err := os.WriteFile(rem, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := Explain(context.Background(), Options{RunDir: run, ClaimID: "C2001", LineNo: 1})
	if !errors.Is(err, ErrMismatch) || len(rep.NotReproduced) != 1 || rep.NotReproduced[0] != (PublishedRow{Row: 7, ClaimID: "C2001", LineNo: "3"}) {
		t.Fatalf("explain: %v, not reproduced %+v", err, rep.NotReproduced)
	}
	if !lineOf(t, rep, "C2001", 1).Published.Matches {
		t.Error("C2001/1 itself still matches")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// A run under a plan file: the manifest records its path, explain reloads
// it; gone, it is refused unless given with --plan.
func TestPlanFile(t *testing.T) {
	dir := t.TempDir()
	text := strings.Replace(string(plan.DefaultYAML()), "annual_maximum: {USD: 5000, EUR: 3700, GBP: 3325}", "annual_maximum: {USD: 6000, EUR: 4440, GBP: 3990}", 1)
	planPath := filepath.Join(dir, "what-if.yaml")
	if err := os.WriteFile(planPath, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := plan.Load(planPath)
	if err != nil {
		t.Fatal(err)
	}
	run := runSample(t, pipeline.Config{Plan: p})
	rep := explainOK(t, Options{RunDir: run, ClaimID: "C2001"})
	if rep.Plan.Name != "Close Care (what-if.yaml)" {
		t.Errorf("plan %q", rep.Plan.Name)
	}
	if got := accs(lineOf(t, rep, "C2001", 2)); !contains(got, "outpatient annual 80.37 -> 500.00 of 4440.00") {
		t.Errorf("accumulators under the what-if plan: %q", got)
	}
	moved := filepath.Join(t.TempDir(), "elsewhere.yaml")
	if err := os.Rename(planPath, moved); err != nil {
		t.Fatal(err)
	}
	if _, err := Explain(context.Background(), Options{RunDir: run, ClaimID: "C2001"}); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "what-if.yaml") {
		t.Errorf("plan file gone: %v", err)
	}
	explainOK(t, Options{RunDir: run, ClaimID: "C2001", Plan: moved})
	builtIn := filepath.Join(t.TempDir(), "closecare.yaml")
	if err := os.WriteFile(builtIn, plan.DefaultYAML(), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Explain(context.Background(), Options{RunDir: run, ClaimID: "C2001", Plan: builtIn}); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "has sha256") {
		t.Errorf("another plan given: %v", err)
	}
}

// The JSON form is stable: a golden file (go test -update rewrites it).
func TestGoldenJSON(t *testing.T) {
	run := theSample(t)
	for _, tc := range []struct {
		file   string
		claim  string
		lineNo int32
	}{
		{"C2402.json", "C2402", 0},
		{"C2106-1.json", "C2106", 1},
	} {
		rep := explainOK(t, Options{RunDir: run, ClaimID: tc.claim, LineNo: tc.lineNo})
		var got bytes.Buffer
		if err := rep.WriteJSON(&got); err != nil {
			t.Fatal(err)
		}
		golden(t, tc.file, got.Bytes())
	}
}

// The text form, for a reviewer to read (and to keep stable).
func TestGoldenText(t *testing.T) {
	rep := explainOK(t, Options{RunDir: theSample(t), ClaimID: "C2001"})
	var got bytes.Buffer
	if err := rep.WriteText(&got); err != nil {
		t.Fatal(err)
	}
	golden(t, "C2001.txt", got.Bytes())
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n%s", name, got)
	}
}

// A run in Parquet, from a Parquet claims file, explains the same.
func TestParquetRun(t *testing.T) {
	csvRep := explainOK(t, Options{RunDir: theSample(t), ClaimID: "C2205"})
	run := runSample(t, pipeline.Config{Format: writers.Parquet})
	pqRep := explainOK(t, Options{RunDir: run, ClaimID: "C2205"})
	if csvRep.RunID == pqRep.RunID {
		t.Error("the Parquet run has the CSV run's id")
	}
	pqRep.RunID = csvRep.RunID // the run id derives from the format too
	var a, b bytes.Buffer
	csvRep.WriteJSON(&a)
	pqRep.WriteJSON(&b)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Errorf("a Parquet run explains differently:\n%s\nCSV:\n%s", b.String(), a.String())
	}
}
