package explain

import (
	"bufio"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"claimsbatch/claim"
	"claimsbatch/pipeline"
	"claimsbatch/readers"
	"claimsbatch/synth"
)

// splitCSV writes the header and rows [from, to) of a CSV file (one record
// per line, as synth writes them) to path.
func splitCSV(t *testing.T, src, path string, from, to int) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(out)
	sc := bufio.NewScanner(in)
	sc.Buffer(nil, 1<<20)
	for i := -1; sc.Scan(); i++ {
		if i < 0 || (i >= from && i < to) {
			w.WriteString(sc.Text() + "\n")
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	out.Close()
}

// TestGeneratedRunsReproduced: on a generated 20,000-line extract with bad
// rows, adjudicated in two nightly runs (the second on the first's state,
// with part of the first night's file fed again), explain reproduces the
// published remittance for a random sample of lines: the re-adjudication
// of a member from the inputs is the run's.
func TestGeneratedRunsReproduced(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and runs 20,000 lines")
	}
	// After every received_date the generator writes.
	genAsOf := claim.FromCivil(2030, 12, 31)
	dir := t.TempDir()
	gen, err := synth.Generate(context.Background(), synth.Config{Dir: filepath.Join(dir, "gen"), Lines: 20000, Members: 600, Seed: 13, BadShare: 0.02})
	if err != nil {
		t.Fatal(err)
	}
	night1, night2 := filepath.Join(dir, "night1.csv"), filepath.Join(dir, "night2.csv")
	splitCSV(t, gen.ClaimsPath, night1, 0, 12000)
	splitCSV(t, gen.ClaimsPath, night2, 11500, 20000) // 500 rows again: DUPLICATE_LINE against the state
	run1, run2 := filepath.Join(dir, "run1"), filepath.Join(dir, "run2")
	ctx := context.Background()
	if _, err := pipeline.Run(ctx, pipeline.Config{Claims: []string{night1}, Members: gen.MembersPath, FX: gen.FXPath, OutDir: run1, AsOf: genAsOf}); err != nil {
		t.Fatal(err)
	}
	if _, err := pipeline.Run(ctx, pipeline.Config{Claims: []string{night2}, Members: gen.MembersPath, FX: gen.FXPath, OutDir: run2,
		StateIn: filepath.Join(run1, "state.csv"), AsOf: genAsOf}); err != nil {
		t.Fatal(err)
	}

	// A claim fed again on the second night: its rows there are
	// DUPLICATE_LINE against the first night's state, and explain says so.
	tr, err := readers.OpenTable(filepath.Join(run2, "exceptions.csv"), []readers.TableColumn{{Name: "claim_id"}, {Name: "code"}, {Name: "message"}}, readers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	againClaim := ""
	for tr.Next() {
		if rec := tr.Record(); rec[1] == "DUPLICATE_LINE" && strings.Contains(rec[2], "earlier run") {
			againClaim = rec[0]
			break
		}
	}
	tr.Close()
	if againClaim == "" {
		t.Fatal("the second night has no DUPLICATE_LINE against the state")
	}
	rep, err := Explain(ctx, Options{RunDir: run2, ClaimID: againClaim})
	if err != nil || len(rep.NotAdjudicated) == 0 || rep.NotAdjudicated[0].Code != "DUPLICATE_LINE" {
		t.Fatalf("explain %s on the second night: %v %+v", againClaim, err, rep)
	}
	if rep, err := Explain(ctx, Options{RunDir: run1, ClaimID: againClaim}); err != nil || len(rep.Lines) == 0 || !rep.Matches {
		t.Fatalf("explain %s on the first night: %v", againClaim, err)
	}

	rng := rand.New(rand.NewPCG(3, 4))
	for _, run := range []string{run1, run2} {
		type key struct {
			claim string
			line  int32
		}
		var rows []key
		tr, err = readers.OpenTable(filepath.Join(run, "remittance.csv"), []readers.TableColumn{{Name: "claim_id"}, {Name: "line_no"}}, readers.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for tr.Next() {
			n, _ := strconv.Atoi(tr.Record()[1])
			rows = append(rows, key{tr.Record()[0], int32(n)})
		}
		tr.Close()
		if len(rows) < 5000 {
			t.Fatalf("%s: only %d remittance rows", run, len(rows))
		}
		lines, statuses := 0, map[string]int{}
		for i := 0; i < 20; i++ {
			k := rows[rng.IntN(len(rows))]
			opt := Options{RunDir: run, ClaimID: k.claim, LineNo: k.line}
			if i%4 == 0 {
				opt.LineNo = 0 // the whole claim
			}
			rep, err := Explain(ctx, opt)
			if err != nil {
				t.Fatalf("%s: explain %s/%d: %v", filepath.Base(run), opt.ClaimID, opt.LineNo, err)
			}
			last := rep.Lines[len(rep.Lines)-1]
			if !rep.Matches || !last.Asked || last.ClaimID != k.claim || (opt.LineNo > 0 && last.LineNo != k.line) {
				t.Fatalf("%s: explain %s/%d: matches %v, last line %s/%d", filepath.Base(run), opt.ClaimID, opt.LineNo, rep.Matches, last.ClaimID, last.LineNo)
			}
			if run == run2 && rep.StateIn == nil {
				t.Fatalf("run2: explain %s: no --state-in", k.claim)
			}
			lines += len(rep.Lines)
			for _, l := range rep.Lines {
				statuses[l.Remittance.Status]++
			}
		}
		// The sample must reach more than the easy case.
		if lines < 100 || statuses["PAID"] == 0 || statuses["DENIED"] == 0 || statuses["PARTIAL"] == 0 {
			t.Errorf("%s: %d lines explained, statuses %v: the sample is too narrow", filepath.Base(run), lines, statuses)
		}
		t.Logf("%s: %d lines re-adjudicated and equal to the published remittance (%v)", filepath.Base(run), lines, statuses)
	}
}
