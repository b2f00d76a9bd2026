package main

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"claimsbatch/claim"
	"claimsbatch/synth"
)

// Tests of what a run publishes beside its tables (report.html, 835/) and
// of --metrics-file, through the command line.

// TestRunX12 runs the sample with --x12-835: the golden 835s of package x12
// are published in 835/ (and with --x12-config, the configured ones), the
// run verifies, 'x12 generate' on the published run writes the same bytes,
// and an 835 edited after the run fails verify.
func TestRunX12(t *testing.T) {
	for _, tc := range []struct {
		dir  string
		args []string
	}{
		{"default", []string{"--x12-835"}},
		{"configured", []string{"--x12-835", "--x12-config", "../../x12/testdata/config/example.yaml"}},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			runOK(t, sampleArgs(out, tc.args...)...)
			published, err := filepath.Glob(filepath.Join(out, "835", "*.835"))
			if err != nil || len(published) != 19 {
				t.Fatalf("%d 835s published, want 19 (%v)", len(published), err)
			}
			golden, _ := filepath.Glob(filepath.Join(x12Golden, tc.dir, "*.835"))
			if len(golden) == 0 {
				t.Fatal("no golden files")
			}
			for _, g := range golden {
				want, _ := os.ReadFile(g)
				got, err := os.ReadFile(filepath.Join(out, "835", filepath.Base(g)))
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("835/%s differs from %s (%v)", filepath.Base(g), g, err)
				}
			}
			m := readManifest(t, out)
			listed := 0
			for _, o := range m.Outputs {
				if strings.HasPrefix(o.Name, "835/") {
					listed++
				}
			}
			if listed != 19 || m.Outputs[len(m.Outputs)-1].Name != "report.html" {
				t.Errorf("the manifest lists %d 835s, want 19 (report.html last): %+v", listed, m.Outputs)
			}
			if code, msg := runCLI(t, "verify", out); code != 0 || !strings.Contains(msg, "verify OK: ") || !strings.Contains(msg, ": 24 outputs match;") {
				t.Fatalf("verify: exit %d: %s", code, msg)
			}
			// The 835s of the published run, written again by x12 generate.
			again := filepath.Join(t.TempDir(), "835")
			args := append([]string{"x12", "generate", out, "--out", again}, tc.args[1:]...)
			runOK(t, args...)
			for _, p := range published {
				want, _ := os.ReadFile(p)
				got, err := os.ReadFile(filepath.Join(again, filepath.Base(p)))
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("x12 generate: %s differs from the run's (%v)", filepath.Base(p), err)
				}
			}

			edited := filepath.Join(out, "835", "PR-SG9_USD_3de7418d.835")
			data, err := os.ReadFile(edited)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(edited, bytes.Replace(data, []byte("BPR*I*3000*"), []byte("BPR*I*3001*"), 1), 0o640); err != nil {
				t.Fatal(err)
			}
			code, msg := runCLI(t, "verify", out)
			for _, want := range []string{
				"835/PR-SG9_USD_3de7418d.835: sha256 ",
				"835/PR-SG9_USD_3de7418d.835: segment 4 BPR: BPR02 is 3001.00, but the CLP04 payments add up to 3000.00",
				"payments row 18 (PR-SG9 USD): plan_paid 3000.00, but PR-SG9_USD_3de7418d.835 pays 3001.00 (BPR02)",
				"claimsbatch: verify found mismatches",
			} {
				if code != 1 || !strings.Contains(msg, want) {
					t.Errorf("verify of an edited 835: exit %d, want 1 and %q:\n%s", code, want, msg)
				}
			}
		})
	}
}

// TestRunX12Refused: a bad --x12-config, --x12-config without --x12-835,
// and a configuration that leaves a paid payee without bank details are
// exit 2, and nothing is published.
func TestRunX12Refused(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("interchange: {sender_id: A, usage: Q}\n"), 0o600)
	example, err := os.ReadFile("../../x12/testdata/config/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ach := filepath.Join(dir, "ach.yaml")
	yaml := bytes.Replace(example, []byte("method: CHK"), []byte("method: ACH"), 1)
	yaml = bytes.Replace(yaml, []byte(`    tin: "444555666"`), []byte("    tin: \"444555666\"\n    payment_method: CHK"), 1)
	os.WriteFile(ach, yaml, 0o600)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"bad configuration", []string{"--x12-835", "--x12-config", bad},
			"claimsbatch: invalid configuration: " + bad + ":\n  interchange.usage: \"Q\" is not one of P, T\n  payer.name: is missing\n"},
		{"missing configuration", []string{"--x12-835", "--x12-config", filepath.Join(dir, "none.yaml")}, "none.yaml"},
		{"configuration without --x12-835", []string{"--x12-config", ach}, "claimsbatch: --x12-config is for the 835s: pass --x12-835 with it\n"},
		{"payees without bank details", []string{"--x12-835", "--x12-config", ach},
			"claimsbatch: configuration error: X12 835: invalid configuration: payee PR-ES3 is paid by ACH but payees.PR-ES3.bank is not configured\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			code, msg := runCLI(t, sampleArgs(out, tc.args...)...)
			if code != 2 || !strings.Contains(msg, tc.want) {
				t.Errorf("exit %d, want 2 and %q:\n%s", code, tc.want, msg)
			}
			if entries := dirNames(t, filepath.Dir(out)); len(entries) != 0 {
				t.Errorf("left beside --out: %v", entries)
			}
		})
	}
}

// TestRunX12Generated: a generated run of 20,000 lines with --x12-835
// balances and ties out: verify passes, x12 check passes every file, and,
// read as plain text here, the files' BPR02 payments add up per currency to
// the payments file's provider rows, their SVC segments number the
// remittance's provider lines, and their claims are the remittance's
// (claim, member) pairs of provider lines.
func TestRunX12Generated(t *testing.T) {
	res := synthInputs(t, synth.Config{Lines: 20_000, Seed: 16, BadShare: 0.01})
	out := filepath.Join(t.TempDir(), "out")
	runOK(t, inputArgs(res.ClaimsPath, res.MembersPath, res.FXPath, out, "--x12-835")...)
	if code, msg := runCLI(t, "verify", out); code != 0 {
		t.Fatalf("verify: exit %d: %s", code, msg)
	}
	files, _ := filepath.Glob(filepath.Join(out, "835", "*.835"))
	code, stdout, stderr := runCLISplit(append([]string{"x12", "check"}, files...)...)
	if code != 0 || strings.Count(stdout, ": OK (") != len(files) {
		t.Fatalf("x12 check: exit %d\n%.2000s%s", code, stdout, stderr)
	}

	paid := map[string]claim.Money{}
	var svc, clp int
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		currency := "USD"
		var bpr claim.Money
		for _, seg := range strings.Split(string(data), "~") {
			el := strings.Split(strings.TrimSpace(seg), "*")
			switch el[0] {
			case "BPR":
				if bpr, err = claim.ParseMoney(el[2]); err != nil {
					t.Fatalf("%s: BPR02 %q", f, el[2])
				}
			case "CUR":
				currency = el[2]
			case "SVC":
				svc++
			case "CLP":
				clp++
			}
		}
		paid[currency] += bpr
	}
	want := map[string]claim.Money{}
	for _, p := range readCSV(t, filepath.Join(out, "payments.csv")) {
		if p["payee_type"] == "provider" {
			m, _ := claim.ParseMoney(p["plan_paid"])
			want[p["plan_currency"]] += m
		}
	}
	providerLines := 0
	claims := map[[2]string]bool{}
	for _, r := range readCSV(t, filepath.Join(out, "remittance.csv")) {
		if r["payee_type"] == "provider" {
			providerLines++
			claims[[2]string{r["claim_id"], r["member_id"]}] = true
		}
	}
	for _, c := range slices.Sorted(maps.Keys(want)) {
		if paid[c] != want[c] {
			t.Errorf("%s: the 835s pay %s, the payments file's provider rows %s", c, paid[c], want[c])
		}
	}
	if len(paid) != len(want) || svc != providerLines || clp != len(claims) || len(files) < 100 {
		t.Errorf("%d files in %d currencies, %d SVC, %d CLP; the remittance has %d provider lines in %d claims, payments %d currencies",
			len(files), len(paid), svc, clp, providerLines, len(claims), len(want))
	}
	t.Logf("%d 835s, %d claims, %d service lines; paid %v", len(files), clp, svc, paid)
}

// TestMetricsFile: --metrics-file after a successful run, a failed one
// (too many exceptions: exit 1, nothing published), a validate and a run
// that cannot start (a missing input: exit 2), read back with the
// Prometheus text parser.
func TestMetricsFile(t *testing.T) {
	dir := t.TempDir()
	prom := filepath.Join(dir, "textfile", "claimsbatch.prom")
	if err := os.MkdirAll(filepath.Dir(prom), 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	runOK(t, sampleArgs(out, "--metrics-file", prom)...)
	first := readMetrics(t, prom)
	wantMetrics(t, "after the run", first, map[string]string{
		"claimsbatch_last_run_lines_read":                         "52",
		"claimsbatch_last_run_lines_adjudicated":                  "42",
		"claimsbatch_last_run_exit_code":                          "0",
		`claimsbatch_last_run_exceptions{code="DUPLICATE_LINE"}`:  "1",
		`claimsbatch_last_run_exceptions{code="INVALID_MEMBER"}`:  "2",
		`claimsbatch_last_run_exceptions{code="INVALID_VALUE"}`:   "2",
		`claimsbatch_last_run_exceptions{code="MISSING_FIELD"}`:   "1",
		`claimsbatch_last_run_exceptions{code="NO_FX_RATE"}`:      "1",
		`claimsbatch_last_run_exceptions{code="PARSE_ERROR"}`:     "1",
		`claimsbatch_last_run_exceptions{code="UNKNOWN_BENEFIT"}`: "1",
		`claimsbatch_last_run_exceptions{code="UNKNOWN_MEMBER"}`:  "1",
		`claimsbatch_last_run_plan_paid{currency="EUR"}`:          "6065",
		`claimsbatch_last_run_plan_paid{currency="GBP"}`:          "183500",
		`claimsbatch_last_run_plan_paid{currency="USD"}`:          "51387.5",
		`claimsbatch_runs_total{result="success"}`:                "1",
		`claimsbatch_runs_total{result="failure"}`:                "0",
	})
	success := first["claimsbatch_last_success_timestamp_seconds"]
	if success == "" || success != first["claimsbatch_last_run_timestamp_seconds"] || first["claimsbatch_last_run_duration_seconds"] == "0" || first["claimsbatch_last_run_peak_rss_bytes"] == "0" {
		t.Errorf("after the run: %v", first)
	}

	// 10 of 52 lines are exceptions: more than 10 %.
	code, msg := runCLI(t, sampleArgs(out, "--metrics-file", prom, "--max-exception-share", "0.1", "--as-of", "2025-05-03")...)
	if code != 1 || !strings.Contains(msg, "too many exceptions") {
		t.Fatalf("exit %d: %s", code, msg)
	}
	if m := readManifest(t, out); m.AsOf != sampleAsOf {
		t.Errorf("the failed run published: as_of %s", m.AsOf)
	}
	failed := readMetrics(t, prom)
	wantMetrics(t, "after the failed run", failed, map[string]string{
		"claimsbatch_last_run_exit_code":                 "1",
		"claimsbatch_last_run_lines_read":                "0",
		`claimsbatch_last_run_plan_paid{currency="USD"}`: "",
		"claimsbatch_last_success_timestamp_seconds":     success,
		`claimsbatch_runs_total{result="success"}`:       "1",
		`claimsbatch_runs_total{result="failure"}`:       "1",
	})
	if failed["claimsbatch_last_run_timestamp_seconds"] == success {
		t.Error("the failed run did not record when it ended")
	}

	val := sampleArgs(filepath.Join(dir, "checked"), "--metrics-file", prom)
	val[0] = "validate"
	runOK(t, val...)
	checked := readMetrics(t, prom)
	wantMetrics(t, "after validate", checked, map[string]string{
		"claimsbatch_last_run_exit_code":                     "0",
		"claimsbatch_last_run_lines_read":                    "52",
		"claimsbatch_last_run_lines_adjudicated":             "42",
		`claimsbatch_last_run_exceptions{code="NO_FX_RATE"}`: "1",
		`claimsbatch_runs_total{result="success"}`:           "2",
		`claimsbatch_runs_total{result="failure"}`:           "1",
	})

	args := sampleArgs(filepath.Join(dir, "never"), "--metrics-file", prom)
	args[4] = filepath.Join(dir, "missing-members.csv") // --members
	if code, msg := runCLI(t, args...); code != 2 {
		t.Fatalf("a missing members file: exit %d: %s", code, msg)
	}
	last := readMetrics(t, prom)
	if last["claimsbatch_last_run_exit_code"] != "2" || last[`claimsbatch_runs_total{result="failure"}`] != "2" ||
		last["claimsbatch_last_success_timestamp_seconds"] != checked["claimsbatch_last_success_timestamp_seconds"] {
		t.Errorf("after a run that could not start: %v", last)
	}
	if entries := dirNames(t, filepath.Dir(prom)); !slices.Equal(entries, []string{"claimsbatch.prom"}) {
		t.Errorf("the collector's directory holds %v", entries)
	}
}

// wantMetrics checks samples (readMetrics) against want; "" wants a sample
// absent.
func wantMetrics(t *testing.T, when string, samples, want map[string]string) {
	t.Helper()
	for _, name := range slices.Sorted(maps.Keys(want)) {
		if samples[name] != want[name] {
			t.Errorf("%s %s = %q, want %q", when, name, samples[name], want[name])
		}
	}
}
