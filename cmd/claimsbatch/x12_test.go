package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const x12Golden = "../../x12/testdata/golden"

// runCLISplit runs the command line in-process; stdout and stderr apart.
func runCLISplit(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = execute(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestX12Check(t *testing.T) {
	good := filepath.Join(x12Golden, "default", "PR-HOSP1_USD_cda93960.835")
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "bad.835")
	if err := os.WriteFile(bad, bytes.Replace(data, []byte("\nSE*43*"), []byte("\nSE*42*"), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.835")
	tests := []struct {
		name           string
		args           []string
		code           int
		stdout, stderr string
	}{
		{"valid", []string{good}, 0,
			good + ": OK (1 interchange, 1 transaction set, 6 claims, 6 service lines; paid USD 24287.50 to PR-HOSP1)\n", ""},
		{"problems", []string{bad, good}, 1,
			bad + ": segment 45 SE: SE01 says 42 segments, but the transaction set (ST to SE) has 43\n" +
				good + ": OK (1 interchange, 1 transaction set, 6 claims, 6 service lines; paid USD 24287.50 to PR-HOSP1)\n",
			"claimsbatch: x12 check found problems in 1 of 2 files\n"},
		{"missing file", []string{missing, bad}, 2,
			bad + ": segment 45 SE: SE01 says 42 segments, but the transaction set (ST to SE) has 43\n",
			missing + ": cannot read: no such file or directory\nclaimsbatch: 1 of 2 files could not be read\n"},
		{"no file", nil, 2, "", "claimsbatch: x12 check takes one or more FILEs (see 'claimsbatch x12 check --help')\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLISplit(append([]string{"x12", "check"}, tc.args...)...)
			if code != tc.code || stdout != tc.stdout || stderr != tc.stderr {
				t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s\nwant exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr, tc.code, tc.stdout, tc.stderr)
			}
		})
	}
}

// TestX12Generate: the 835s of the published sample run are the golden
// files of package x12, byte for byte, with and without the example
// configuration, listed in SHA256SUMS.
func TestX12Generate(t *testing.T) {
	run := filepath.Join(sample, "golden")
	for _, tc := range []struct {
		dir  string
		args []string
	}{
		{"default", nil},
		{"configured", []string{"--x12-config", "../../x12/testdata/config/example.yaml"}},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "835")
			code, stdout, stderr := runCLISplit(append([]string{"x12", "generate", run, "--out", out}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s%s", code, stderr, stdout)
			}
			if !strings.HasSuffix(stdout, "wrote 19 835 files to "+out+" (as of 2025-05-02); paid USD 48187.50, EUR 5905.00, GBP 183500.00\n") {
				t.Errorf("stdout:\n%s", stdout)
			}
			golden, _ := filepath.Glob(filepath.Join(x12Golden, tc.dir, "*.835"))
			if len(golden) == 0 {
				t.Fatal("no golden files")
			}
			for _, g := range golden {
				want, _ := os.ReadFile(g)
				got, err := os.ReadFile(filepath.Join(out, filepath.Base(g)))
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("%s differs from %s (%v)", filepath.Base(g), g, err)
				}
			}
			sums, err := os.ReadFile(filepath.Join(out, "SHA256SUMS"))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(string(sums), "\n"), "\n")
			if len(lines) != 19 || !strings.HasSuffix(lines[6], "  PR-HOSP1_USD_cda93960.835") {
				t.Errorf("SHA256SUMS:\n%s", sums)
			}
			entries, _ := os.ReadDir(out)
			if len(entries) != 20 {
				t.Errorf("%d files in the output directory, want 19 and SHA256SUMS", len(entries))
			}
		})
	}
}

func TestX12GenerateFailures(t *testing.T) {
	// A run whose payments do not match its remittance: nothing published.
	run := t.TempDir()
	for _, name := range []string{"remittance.csv", "payments.csv", "state.csv"} {
		data, err := os.ReadFile(filepath.Join(sample, "golden", name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "payments.csv" {
			data = bytes.Replace(data, []byte("provider,PR-HOSP1,USD,6,24287.50"), []byte("provider,PR-HOSP1,USD,6,24287.05"), 1)
		}
		if err := os.WriteFile(filepath.Join(run, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	badConfig := filepath.Join(t.TempDir(), "x12.yaml")
	os.WriteFile(badConfig, []byte("interchange: {sender_id: A, usage: Q}\n"), 0o600)

	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"payments do not tie out", []string{run}, 1,
			"payments row 7 (PR-HOSP1 USD): plan_paid 24287.05, but PR-HOSP1_USD_cda93960.835 pays 24287.50 (BPR02)\n" +
				"claimsbatch: the 835s do not tie out to " + filepath.Join(run, "payments.csv") + ": 1 mismatch; nothing published\n"},
		{"not a run", []string{t.TempDir()}, 2, "has no remittance.csv or remittance.parquet: not a published run\n"},
		{"bad configuration", []string{filepath.Join(sample, "golden"), "--x12-config", badConfig}, 2,
			"claimsbatch: invalid configuration: " + badConfig + ":\n  interchange.usage: \"Q\" is not one of P, T\n  payer.name: is missing\n"},
		{"bad date", []string{filepath.Join(sample, "golden"), "--as-of", "2025-13-01"}, 2, "claimsbatch: --as-of \"2025-13-01\" is not a YYYY-MM-DD date\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "835")
			code, _, stderr := runCLISplit(append([]string{"x12", "generate", "--out", out}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and\n%s", code, stderr, tc.code, tc.stderr)
			}
			entries, _ := os.ReadDir(out)
			if len(entries) != 0 {
				t.Errorf("%d files left in %s", len(entries), out)
			}
		})
	}
}
