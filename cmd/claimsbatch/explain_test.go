package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExplainCLI runs claimsbatch explain on the sample: its exit codes
// (0 explained, 1 differs from the published remittance, 2 usage), the text
// and the JSON forms.
func TestExplainCLI(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	runOK(t, sampleArgs(out)...)

	code, stdout, stderr := runCLISplit("explain", out, "--claim", "C2403", "--line", "1")
	if code != 0 || stderr != "" ||
		!strings.Contains(stdout, "        KIDNEY_DIALYSIS                           0.00 -> 3,700.00 of 3,700.00 (PR-119 300.00)\n") ||
		!strings.Contains(stdout, "  published: remittance row 39, the same values\n") ||
		!strings.HasSuffix(stdout, "\nevery line above equals its published remittance row\n") {
		t.Errorf("explain C2403/1: exit %d\n%s%s", code, stderr, stdout)
	}

	code, stdout, _ = runCLISplit("explain", out, "--claim", "C1004", "--json")
	var rep struct {
		MemberID string `json:"member_id"`
		Lines    []struct {
			Remittance struct {
				Deductible, Coinsurance, PlanPaid string
			} `json:"remittance"`
		} `json:"lines"`
		Matches bool `json:"matches_published"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != 0 {
		t.Fatalf("explain --json: exit %d, %v\n%s", code, err, stdout)
	}
	if rep.MemberID != "M104" || len(rep.Lines) != 1 || !rep.Matches {
		t.Errorf("explain --json: %+v", rep)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"explain", out}, "explain needs --claim ID"},
		{[]string{"explain", "--claim", "C1"}, "explain takes one RUN_DIR"},
		{[]string{"explain", out, "--claim", "C2001", "--line", "0"}, "--line must be a line number of at least 1"},
		{[]string{"explain", out, "--claim", "NOPE"}, "claim NOPE is not in run "},
		{[]string{"explain", filepath.Join(out, "missing"), "--claim", "C2001"}, "not a published run"},
	} {
		if code, msg := runCLI(t, tc.args...); code != 2 || !strings.Contains(msg, tc.want) {
			t.Errorf("%v: exit %d, want 2 with %q:\n%s", tc.args, code, tc.want, msg)
		}
	}

	// A published row that no longer equals what the inputs give: exit 1,
	// and the report says where.
	rem := filepath.Join(out, "remittance.csv")
	data, err := os.ReadFile(rem)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rem, []byte(strings.Replace(string(data), ",3700.00,300.00,PARTIAL,", ",3700.00,300.01,PARTIAL,", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runCLISplit("explain", out, "--claim", "C2403")
	if code != 1 || !strings.Contains(stdout, `DIFFERS from the published remittance row 39: member_responsibility published "300.01", explained "300.00";`) ||
		!strings.Contains(stderr, "differs from the published remittance") {
		t.Errorf("explain on an edited remittance: exit %d\n%s%s", code, stderr, stdout)
	}
}

// TestExplainChangedInput: an input that changed since the run is refused,
// exit 2, naming the file.
func TestExplainChangedInput(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for _, name := range []string{"claims.csv", "members.csv", "fx.csv"} {
		data, err := os.ReadFile(filepath.Join(sample, name))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	out := filepath.Join(dir, "run")
	runOK(t, inputArgs(paths[0], paths[1], paths[2], out)...)
	runOK(t, "explain", out, "--claim", "C2201")
	f, err := os.OpenFile(paths[1], os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("M999,P-999,2024-01-01,,1990-01-01,FR,FR,N,EUR,core,,,,,,\n")
	f.Close()
	code, msg := runCLI(t, "explain", out, "--claim", "C2201")
	if code != 2 || !strings.Contains(msg, "the run's members file "+paths[1]+" has changed since the run") {
		t.Errorf("explain after the members file changed: exit %d, want 2:\n%s", code, msg)
	}
}
