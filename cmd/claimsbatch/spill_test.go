package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"claimsbatch/claim"
	"claimsbatch/synth"
)

// TestTinyMemoryLimitGivesSameBytes forces the most claim and member
// partitions (a 1 KiB budget) and checks every output equals a run whose
// budget holds everything in one partition, and that the spill directory is
// gone afterwards.
func TestTinyMemoryLimitGivesSameBytes(t *testing.T) {
	in := synthInputs(t, synth.Config{Lines: 15000, Seed: 11, BadShare: 0.01})
	tmp := t.TempDir()
	outs := map[string]string{}
	for _, limit := range []string{"1KiB", "8GiB"} {
		out := filepath.Join(t.TempDir(), limit)
		runOK(t, "run", "--claims", in.ClaimsPath, "--members", in.MembersPath, "--fx", in.FXPath,
			"--out", out, "--quiet", "--memory-limit", limit, "--tmp-dir", tmp)
		outs[limit] = out
		left, err := os.ReadDir(tmp)
		if err != nil {
			t.Fatal(err)
		}
		if len(left) != 0 {
			t.Fatalf("--memory-limit %s left %d entries in --tmp-dir, e.g. %s", limit, len(left), left[0].Name())
		}
	}
	sameOutputsAcrossBudgets(t, outs)
	checkConservation(t, outs["1KiB"], 15000)
}

// TestTinyMemoryLimitWithStateGivesSameBytes is the same check for a run
// chained to an earlier one: the --state-in records and line keys go through
// their own spill partitions (by claim hash and by member range), which a
// 1 KiB budget multiplies. The second night's claims repeat some of the
// first's lines (DUPLICATE_LINE from the state) and add new ones.
func TestTinyMemoryLimitWithStateGivesSameBytes(t *testing.T) {
	in := generateInputs(t, 6000, 23)
	days := splitClaims(t, in.claims, t.TempDir(), 2, "received_date")
	night1 := filepath.Join(t.TempDir(), "night1")
	runExit0(t, "run", "--claims", days[0], "--members", in.members, "--fx", in.fx, "--out", night1, "--quiet")
	// Night 2: its own lines, then night 1's again.
	header, rows2 := readCSVTable(t, days[1])
	_, rows1 := readCSVTable(t, days[0])
	claims2 := filepath.Join(t.TempDir(), "night2.csv")
	writeCSVFile(t, claims2, append([][]string{header}, append(rows2, rows1[:500]...)...))
	tmp := t.TempDir()
	outs := map[string]string{}
	for _, limit := range []string{"1KiB", "8GiB"} {
		out := filepath.Join(t.TempDir(), limit)
		runExit0(t, "run", "--claims", claims2, "--members", in.members, "--fx", in.fx, "--out", out, "--quiet",
			"--state-in", filepath.Join(night1, "state.csv"), "--memory-limit", limit, "--tmp-dir", tmp)
		outs[limit] = out
		if left, _ := os.ReadDir(tmp); len(left) != 0 {
			t.Fatalf("--memory-limit %s left %d entries in --tmp-dir", limit, len(left))
		}
	}
	sameOutputsAcrossBudgets(t, outs)
	m := readManifest(t, outs["1KiB"])
	if got := m.ControlTotals.ExceptionsByCode[claim.DuplicateLine]; got != 500 {
		t.Errorf("DUPLICATE_LINE = %d, want the 500 lines night 1 adjudicated", got)
	}
	if got, want := m.ControlTotals.LinesAdjudicated, int64(len(rows2)); got != want {
		t.Errorf("lines adjudicated = %d, want night 2's own %d", got, want)
	}
}

// sameOutputsAcrossBudgets checks every CSV output and the manifest are the
// same bytes in outs["1KiB"] and outs["8GiB"].
func sameOutputsAcrossBudgets(t *testing.T, outs map[string]string) {
	t.Helper()
	for _, name := range []string{"remittance.csv", "payments.csv", "exceptions.csv", "state.csv", "manifest.json"} {
		a, err := os.ReadFile(filepath.Join(outs["1KiB"], name))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(outs["8GiB"], name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between a 1 KiB and an 8 GiB memory budget", name)
		}
	}
}

// TestMemberWithHugeHistory: one member with every line of an extract
// (40,000, over several policy years) cannot be split across partitions: its
// partition is past a 1 KiB budget, and its lines are adjudicated in segments
// (a member of more than 8,192 lines). The run must still finish and give
// the bytes of a run with room to spare.
func TestMemberWithHugeHistory(t *testing.T) {
	const lines = 40000
	in := generateInputs(t, lines, 7)
	header, rows := readCSVTable(t, in.claims)
	col := slices.Index(header, "member_id")
	one := rows[0][col]
	for _, r := range rows {
		r[col] = one
	}
	claims := filepath.Join(t.TempDir(), "one-member.csv")
	writeCSVFile(t, claims, append([][]string{header}, rows...))
	outs := map[string]string{}
	for _, limit := range []string{"1KiB", "8GiB"} {
		outs[limit] = filepath.Join(t.TempDir(), limit)
		runExit0(t, "run", "--claims", claims, "--members", in.members, "--fx", in.fx, "--out", outs[limit], "--quiet", "--memory-limit", limit)
	}
	sameOutputsAcrossBudgets(t, outs)
	ct := readManifest(t, outs["1KiB"]).ControlTotals
	if ct.LinesRead != lines || ct.LinesAdjudicated+ct.Exceptions != lines {
		t.Fatalf("read %d, adjudicated %d, exceptions %d: want %d read, all accounted for", ct.LinesRead, ct.LinesAdjudicated, ct.Exceptions, lines)
	}
	if ct.LinesAdjudicated < lines*9/10 {
		t.Fatalf("only %d of %d lines adjudicated (exceptions by code %v)", ct.LinesAdjudicated, lines, ct.ExceptionsByCode)
	}
	if got := len(remittanceRows(t, filepath.Join(outs["1KiB"], "remittance.csv"))); int64(got) != ct.LinesAdjudicated {
		t.Fatalf("%d remittance rows for %d adjudicated lines", got, ct.LinesAdjudicated)
	}
}
