package main

import (
	"maps"
	"path/filepath"
	"slices"
	"strings"
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
// The sorted variants are streamed (pipeline/stream.go: claims ordered by
// member skip the member partitions), the others partitioned; the
// pipeline's TestStreamedRunIsThePartitioned has the cases with repeats.
func TestInputOrderDoesNotChangeResults(t *testing.T) {
	const lines = 12_000
	in := synthInputs(t, synth.Config{Lines: lines, Seed: 23})
	header, rows := readCSVTable(t, in.ClaimsPath)
	member := slices.Index(header, "member_id")
	if member < 0 {
		t.Fatalf("no member_id column in %v", header)
	}
	sorted := slices.Clone(rows)
	slices.SortStableFunc(sorted, func(a, b []string) int { return strings.Compare(a[member], b[member]) })
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
	file := func(name string, rows [][]string) string {
		path := filepath.Join(dir, name)
		writeCSVFile(t, path, append([][]string{header}, rows...))
		return path
	}
	variants := map[string][]string{
		"sorted":           {file("sorted.csv", sorted)},
		"reversed":         {file("reversed.csv", reversed)},
		"two sorted files": {file("first.csv", sorted[:cut]), file("second.csv", sorted[cut:])},
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
	_, wantEx := readCSVTable(t, filepath.Join(want, "exceptions.csv"))
	for _, name := range slices.Sorted(maps.Keys(variants)) {
		for _, limit := range []string{"512MiB", "1KiB"} {
			t.Run(name+"/"+limit, func(t *testing.T) {
				got := run(variants[name], limit)
				for _, out := range []string{"remittance.csv", "payments.csv", "state.csv"} {
					sameBytes(t, want, got, out)
				}
				if _, ex := readCSVTable(t, filepath.Join(got, "exceptions.csv")); len(ex) != len(wantEx) {
					t.Errorf("%d exceptions, want %d", len(ex), len(wantEx))
				}
			})
		}
	}
}

// TestStreamFlag: claims ordered by member are streamed by default, and
// --stream=false sends them through the partitions; the log says which,
// and the outputs are the same bytes.
func TestStreamFlag(t *testing.T) {
	in := synthInputs(t, synth.Config{Lines: 2000, Seed: 24, Sorted: true, BadShare: 0.01})
	run := func(extra ...string) (string, string) {
		t.Helper()
		out := t.TempDir()
		args := append([]string{"run", "--claims", in.ClaimsPath, "--members", in.MembersPath, "--fx", in.FXPath,
			"--out", out, "--as-of", synthAsOf}, extra...)
		code, msg := runCLI(t, args...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, msg)
		}
		return out, msg
	}
	streamed, log := run()
	if !strings.Contains(log, "claims ordered by member") || !strings.Contains(log, "msg=streamed") {
		t.Errorf("the default run did not stream:\n%s", log)
	}
	partitioned, log := run("--stream=false")
	if strings.Contains(log, "claims ordered by member") || !strings.Contains(log, "msg=partitioned") {
		t.Errorf("--stream=false streamed:\n%s", log)
	}
	for _, f := range []string{"remittance.csv", "payments.csv", "state.csv", "exceptions.csv", "manifest.json", "report.html"} {
		sameBytes(t, partitioned, streamed, f)
	}
}
