package pipeline

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"claimsbatch/claim"
	"claimsbatch/synth"
	"claimsbatch/writers"
)

// testAsOf is the as-of date of the tests' runs: after every date the
// generator writes (service dates to 2025-12-31, received up to 60 days
// later).
var testAsOf = claim.FromCivil(2026, 6, 30)

// TestRunIsTheSameWhateverTheWorkersAndBudget runs one generated extract with
// every stage's goroutines busy (several workers, a budget so small that every
// partition is as small as it gets, a second night on the first's state) and
// checks that the outputs are byte-identical to a one-worker run that fits in
// memory. Under -race it is the pipeline's concurrency test.
func TestRunIsTheSameWhateverTheWorkersAndBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and runs 12,000 lines")
	}
	ctx := context.Background()
	in := t.TempDir()
	gen, err := synth.Generate(ctx, synth.Config{Dir: in, Lines: 12000, Seed: 5, BadShare: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	night := func(name string, workers int, budget int64, format writers.Format, claims, stateIn string) string {
		out := filepath.Join(t.TempDir(), name)
		_, err := Run(ctx, Config{
			Claims: []string{claims}, Members: gen.MembersPath, FX: gen.FXPath, StateIn: stateIn,
			OutDir: out, Format: format, Workers: workers, MemoryLimit: budget, BatchSize: 333,
			AsOf: testAsOf,
		})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return out
	}
	for _, format := range []writers.Format{writers.CSV, writers.Parquet} {
		want1 := night("want1", 1, 8<<30, format, gen.ClaimsPath, "")
		got1 := night("got1", 4, 1<<10, format, gen.ClaimsPath, "")
		sameFiles(t, want1, got1)
		// The second night feeds the same extract again on top of the
		// first: every line is a DUPLICATE_LINE from the state.
		state := filepath.Join(want1, writers.StateName+format.Ext())
		want2 := night("want2", 1, 8<<30, format, gen.ClaimsPath, state)
		got2 := night("got2", 3, 1<<10, format, gen.ClaimsPath, state)
		sameFiles(t, want2, got2)
	}
}

// sameFiles fails unless dirs a and b hold the same file names and bytes.
func sameFiles(t *testing.T, a, b string) {
	t.Helper()
	entries, err := os.ReadDir(a)
	if err != nil {
		t.Fatal(err)
	}
	other, err := os.ReadDir(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(other) {
		t.Fatalf("%s has %d files, %s has %d", a, len(entries), b, len(other))
	}
	for _, e := range entries {
		x, err := os.ReadFile(filepath.Join(a, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(b, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between %s and %s", e.Name(), a, b)
		}
	}
}
