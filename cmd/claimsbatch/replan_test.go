package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"claimsbatch/claim"
	"claimsbatch/plan"
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
	if err := os.WriteFile(old, []byte(strings.Replace(string(raw), "META,,,version,0.00,0,"+claim.StateVersion, "META,,,version,0.00,0,9", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, msg = runCLI(t, sampleArgs(filepath.Join(t.TempDir(), "v9"), "--state-in", old)...)
	if code != 2 || !strings.Contains(msg, `version "9"`) {
		t.Fatalf("state of version 9: exit %d, %q; want exit 2 naming the version", code, msg)
	}
}

// TestOlderStateVersionsAreRead: version 1 wrote each line's
// duplicate-service key (benefit, provider) as a DUP row of its own beside a
// bare LINE row, version 2 in the LINE row; neither kept a procedure or item
// code. The same state in either layout must give the same night as the
// current version's state with those two codes left empty.
func TestOlderStateVersionsAreRead(t *testing.T) {
	in := generateInputs(t, 4000, 41)
	days := splitClaims(t, in.claims, t.TempDir(), 2, "received_date")
	night1 := filepath.Join(t.TempDir(), "night1")
	runExit0(t, "run", "--claims", days[0], "--members", in.members, "--fx", in.fx, "--out", night1, "--quiet", "--as-of", latestReceived(t, days[0]))
	header, rows := readCSVTable(t, filepath.Join(night1, "state.csv"))
	var v1, v2, v3 [][]string
	dups, items := 0, 0
	for _, r := range rows {
		switch {
		case r[0] == "END":
			continue // versions 1 to 3 have no trailer
		case r[0] == "META" && r[3] == "version":
			for version, state := range map[string]*[][]string{"1": &v1, "2": &v2, "3": &v3} {
				m := slices.Clone(r)
				m[6] = version
				*state = append(*state, m)
			}
			continue
		case r[0] == "LINE" && r[6] != "":
			k, ok := claim.ParseDupDetail(r[6])
			if !ok {
				t.Fatalf("LINE detail %q does not parse", r[6])
			}
			if k.Item != "" {
				items++
			}
			old := k.Benefit + " " + k.Provider
			v1 = append(v1, []string{"DUP", r[1], r[2], r[3], r[4], "0", old}, []string{"LINE", r[1], r[2], r[3], "0.00", r[5], ""})
			v2 = append(v2, []string{"LINE", r[1], r[2], r[3], r[4], r[5], old})
			v3 = append(v3, []string{"LINE", r[1], r[2], r[3], r[4], r[5], claim.DupKey{Benefit: k.Benefit, Provider: k.Provider}.Detail()})
			dups++
			continue
		}
		v1, v2, v3 = append(v1, r), append(v2, r), append(v3, r)
	}
	if dups == 0 || items == 0 {
		t.Fatalf("night 1's state has %d duplicate-service keys, %d with an item code: nothing to convert", dups, items)
	}
	outs := map[string]string{}
	for name, state := range map[string][][]string{"v1": v1, "v2": v2, "v3": v3} {
		path := filepath.Join(t.TempDir(), "state-"+name+".csv")
		writeCSVFile(t, path, append([][]string{header}, state...))
		outs[name] = filepath.Join(t.TempDir(), name)
		runExit0(t, "run", "--claims", days[1], "--members", in.members, "--fx", in.fx, "--out", outs[name], "--quiet", "--state-in", path, "--as-of", latestReceived(t, days...))
	}
	// The run ids differ (they hash the state file); the rest may not.
	for _, old := range []string{"v1", "v2"} {
		compareLines(t, "remittance from a "+old+" state", remittanceRows(t, filepath.Join(outs[old], "remittance.csv")),
			remittanceRows(t, filepath.Join(outs["v3"], "remittance.csv")))
		for _, name := range []string{"payments.csv", "exceptions.csv"} {
			sameBytes(t, outs["v3"], outs[old], name)
		}
		compareSequences(t, "state from a "+old+" state", stateRows(t, filepath.Join(outs[old], "state.csv"), true),
			stateRows(t, filepath.Join(outs["v3"], "state.csv"), true))
	}
}
