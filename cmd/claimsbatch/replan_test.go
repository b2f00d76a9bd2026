package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"claimsbatch/pipeline/plan"
	"claimsbatch/writers"
)

// TestStateFromAnotherPlanOrVersion: a --state-in written under another plan
// is refused (exit 2) unless --allow-plan-change says the change is intended,
// which the manifest then records; a state of another version is refused.
func TestStateFromAnotherPlanOrVersion(t *testing.T) {
	first := filepath.Join(t.TempDir(), "first")
	if code, msg := runCLI(t, sampleArgs(first)...); code != 0 {
		t.Fatalf("first run: exit %d: %s", code, msg)
	}
	state := filepath.Join(first, "state.csv")

	altered := filepath.Join(t.TempDir(), "what-if.yaml")
	text := strings.Replace(string(plan.DefaultYAML()), "limit: {USD: 5000, EUR: 3700, GBP: 3325}", "limit: {USD: 6000, EUR: 4400, GBP: 4000}", 1)
	if err := os.WriteFile(altered, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}

	refused := filepath.Join(t.TempDir(), "refused")
	code, msg := runCLI(t, sampleArgs(refused, "--plan", altered, "--state-in", state)...)
	if code != 2 || !strings.Contains(msg, "another plan") || !strings.Contains(msg, "--allow-plan-change") {
		t.Fatalf("another plan: exit %d, %q; want exit 2 naming --allow-plan-change", code, msg)
	}
	if entries, _ := os.ReadDir(refused); len(entries) != 0 {
		t.Fatalf("a refused run left %d files in --out", len(entries))
	}

	allowed := filepath.Join(t.TempDir(), "allowed")
	if code, msg := runCLI(t, sampleArgs(allowed, "--plan", altered, "--state-in", state, "--allow-plan-change")...); code != 0 {
		t.Fatalf("--allow-plan-change: exit %d: %s", code, msg)
	}
	f, err := os.Open(filepath.Join(allowed, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	man, err := writers.ReadManifest(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(man.Notes) == 0 || !strings.Contains(man.Notes[0], "plan changed") || man.StateIn == nil {
		t.Fatalf("manifest notes %q, state_in %v: want the plan change recorded", man.Notes, man.StateIn)
	}
	// Every line of the sample was in the state: all are DUPLICATE_LINE now.
	if man.ControlTotals.LinesAdjudicated != 0 {
		t.Errorf("re-plan over the same claims adjudicated %d lines again", man.ControlTotals.LinesAdjudicated)
	}

	raw, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(t.TempDir(), "state-v9.csv")
	if err := os.WriteFile(old, []byte(strings.Replace(string(raw), "META,,,version,0.00,0,1", "META,,,version,0.00,0,9", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, msg = runCLI(t, sampleArgs(filepath.Join(t.TempDir(), "v9"), "--state-in", old)...)
	if code != 2 || !strings.Contains(msg, `version "9"`) {
		t.Fatalf("state of version 9: exit %d, %q; want exit 2 naming the version", code, msg)
	}
}
