package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"claimsbatch/pipeline/synth"
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
	checkConservation(t, outs["1KiB"], 15000)
}
