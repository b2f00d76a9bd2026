package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"claimsbatch/claim"
	"claimsbatch/writers"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/sample/golden")

const sample = "../../testdata/sample"

// runCLI runs the command line in-process and returns its exit code and stderr.
func runCLI(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := execute(context.Background(), args, &stdout, &stderr)
	return code, stderr.String() + stdout.String()
}

// sampleAsOf is the as-of date the sample implies: its latest
// received_date. The golden outputs are made with it.
const sampleAsOf = "2025-05-02"

func sampleArgs(out string, extra ...string) []string {
	return append([]string{"run", "--claims", sample + "/claims.csv", "--members", sample + "/members.csv",
		"--fx", sample + "/fx.csv", "--out", out, "--quiet", "--as-of", sampleAsOf}, extra...)
}

// TestGoldenSample runs the bundled sample end to end, from the repository's
// root as 'make run' does (the manifest and the report name the inputs as
// given), and compares every output byte for byte with
// testdata/sample/golden (go test -update rewrites).
func TestGoldenSample(t *testing.T) {
	out := t.TempDir()
	t.Chdir("../..")
	args := sampleArgs(out)
	for i, a := range args {
		args[i] = strings.Replace(a, sample, "testdata/sample", 1)
	}
	if code, msg := runCLI(t, args...); code != 0 {
		t.Fatalf("exit %d: %s", code, msg)
	}
	golden := filepath.Join("testdata", "sample", "golden")
	for _, name := range []string{"remittance.csv", "payments.csv", "exceptions.csv", "state.csv", "report.html", "manifest.json"} {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(golden, name)
		if *update {
			if err := os.MkdirAll(golden, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the golden file; diff %s %s (go test -update after review)", name, filepath.Join(out, name), path)
		}
	}
	checkConservation(t, out, 52)
}

// checkConservation asserts that rows read = remittance lines + exceptions
// and that the manifest's control totals equal the sums of the files.
func checkConservation(t *testing.T, dir string, claimRows int64) {
	t.Helper()
	rem := readCSV(t, filepath.Join(dir, "remittance.csv"))
	ex := readCSV(t, filepath.Join(dir, "exceptions.csv"))
	pay := readCSV(t, filepath.Join(dir, "payments.csv"))
	f, err := os.Open(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	man, err := writers.ReadManifest(f)
	if err != nil {
		t.Fatal(err)
	}
	claimEx := int64(0)
	for _, row := range ex {
		if strings.HasPrefix(row["source"], "claims") {
			claimEx++
		}
	}
	ct := man.ControlTotals
	if ct.LinesRead != claimRows || int64(len(rem))+claimEx != claimRows {
		t.Errorf("rows read %d (manifest %d) != remittance %d + claim exceptions %d", claimRows, ct.LinesRead, len(rem), claimEx)
	}
	if ct.LinesAdjudicated != int64(len(rem)) || ct.Exceptions != claimEx {
		t.Errorf("manifest says %d adjudicated, %d exceptions; files have %d and %d", ct.LinesAdjudicated, ct.Exceptions, len(rem), claimEx)
	}
	sums := map[string]*[5]claim.Money{}
	for _, r := range rem {
		s := sums[r["plan_currency"]]
		if s == nil {
			s = &[5]claim.Money{}
			sums[r["plan_currency"]] = s
		}
		for i, col := range []string{"charge", "plan_paid", "deductible", "coinsurance", "not_covered"} {
			m, err := claim.ParseMoney(r[col])
			if err != nil {
				t.Fatal(err)
			}
			s[i] += m
		}
		if s[0] != s[1]+s[2]+s[3]+s[4] {
			t.Fatalf("line %s/%s breaks charge = paid + deductible + coinsurance + not_covered", r["claim_id"], r["line_no"])
		}
	}
	paid := map[string]claim.Money{}
	for _, p := range pay {
		m, _ := claim.ParseMoney(p["plan_paid"])
		paid[p["plan_currency"]] += m
	}
	for _, c := range ct.PerCurrency {
		s := sums[c.PlanCurrency]
		if s == nil || s[0] != c.Charge || s[1] != c.PlanPaid || s[2] != c.Deductible || s[3] != c.Coinsurance || s[4] != c.NotCovered {
			t.Errorf("%s: manifest totals %+v differ from the remittance sums %v", c.PlanCurrency, c, s)
		}
		if paid[c.PlanCurrency] != c.PlanPaid {
			t.Errorf("%s: payments total %s, manifest plan_paid %s", c.PlanCurrency, paid[c.PlanCurrency], c.PlanPaid)
		}
	}
}

func readCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, rec := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = rec[i]
		}
		out = append(out, m)
	}
	return out
}
