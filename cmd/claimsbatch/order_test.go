package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"claimsbatch/synth"
)

// TestInputOrderDoesNotChangeResults: the same claim rows, with no
// (claim_id, line_no) twice, give the same remittance, payments and state,
// byte for byte, whether they come as generated, sorted by member (as
// warehouse extracts often are), in reverse, or sorted and cut into two
// files; under a budget that holds them all and under one that spills
// everything. The engine orders each member's lines itself (SPEC 4); only
// DUPLICATE_LINE, which this data does not have, depends on input order.
// It is also the check a path for ordered input (docs/BENCHMARKS.md,
// "What would close the gap") would have to pass.
func TestInputOrderDoesNotChangeResults(t *testing.T) {
	const lines = 12_000
	in := synthInputs(t, synth.Config{Lines: lines, Seed: 23})
	header, rows := readCSVRows(t, in.ClaimsPath)
	member := slices.Index(header, "member_id")
	if member < 0 {
		t.Fatalf("no member_id column in %v", header)
	}
	sorted := slices.Clone(rows)
	slices.SortStableFunc(sorted, func(a, b []string) int {
		if a[member] < b[member] {
			return -1
		}
		if a[member] > b[member] {
			return 1
		}
		return 0
	})
	if slices.EqualFunc(sorted, rows, slices.Equal[[]string]) {
		t.Fatal("the generated rows are already sorted by member: the test would compare a file with itself")
	}
	reversed := slices.Clone(rows)
	slices.Reverse(reversed)
	// Two files cut between two members, so that each member's rows stay
	// together.
	cut := len(sorted) / 2
	for cut < len(sorted) && sorted[cut][member] == sorted[cut-1][member] {
		cut++
	}

	dir := t.TempDir()
	variants := map[string][]string{
		"sorted":   {writeCSVRows(t, filepath.Join(dir, "sorted.csv"), header, sorted)},
		"reversed": {writeCSVRows(t, filepath.Join(dir, "reversed.csv"), header, reversed)},
		"two sorted files": {
			writeCSVRows(t, filepath.Join(dir, "first.csv"), header, sorted[:cut]),
			writeCSVRows(t, filepath.Join(dir, "second.csv"), header, sorted[cut:]),
		},
	}
	run := func(claims []string, limit string) string {
		t.Helper()
		out := t.TempDir()
		args := []string{"run", "--members", in.MembersPath, "--fx", in.FXPath, "--out", out, "--quiet",
			"--as-of", synthAsOf, "--run-id", "fixed", "--memory-limit", limit}
		for _, c := range claims {
			args = append(args, "--claims", c)
		}
		runOK(t, args...)
		return out
	}
	want := run([]string{in.ClaimsPath}, "512MiB")
	checkConservation(t, want, lines)
	wantEx := csvRowCount(t, filepath.Join(want, "exceptions.csv"))
	for _, name := range slices.Sorted(mapsKeys(variants)) {
		for _, limit := range []string{"512MiB", "1KiB"} {
			t.Run(name+"/"+limit, func(t *testing.T) {
				got := run(variants[name], limit)
				for _, out := range []string{"remittance.csv", "payments.csv", "state.csv"} {
					sameBytes(t, want, got, out)
				}
				if n := csvRowCount(t, filepath.Join(got, "exceptions.csv")); n != wantEx {
					t.Errorf("%d exceptions, want %d", n, wantEx)
				}
			})
		}
	}
}

func readCSVRows(t *testing.T, path string) (header []string, rows [][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	all, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 {
		t.Fatalf("%s is empty", path)
	}
	return all[0], all[1:]
}

func writeCSVRows(t *testing.T, path string, header []string, rows [][]string) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	if err := w.Write(header); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func csvRowCount(t *testing.T, path string) int {
	t.Helper()
	_, rows := readCSVRows(t, path)
	return len(rows)
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
