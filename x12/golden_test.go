package x12

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden 835 files under testdata/golden")

// sampleRemittance is the bundled sample's golden remittance: provider
// payees in USD, EUR and GBP. Its run's as-of date is 2025-05-02 (the state
// file's META as_of).
const (
	sampleRemittance = "../testdata/sample/golden/remittance.csv"
	samplePayments   = "../testdata/sample/golden/payments.csv"
	sampleAsOf       = "2025-05-02"
)

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// generateToMemory runs Generate and returns the files' bytes by name.
func generateToMemory(t testing.TB, opt Options) ([]File, map[string][]byte) {
	t.Helper()
	bufs := map[string]*bytes.Buffer{}
	opt.Create = func(name string) (io.WriteCloser, error) {
		if bufs[name] != nil {
			return nil, fmt.Errorf("%s created twice", name)
		}
		bufs[name] = &bytes.Buffer{}
		return nopCloser{bufs[name]}, nil
	}
	if opt.TmpDir == "" {
		opt.TmpDir = t.TempDir()
	}
	files, err := Generate(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for name, b := range bufs {
		out[name] = b.Bytes()
	}
	return files, out
}

// TestGoldenSample: the 835s of the bundled sample, with the built-in
// configuration (every provider payee) and with the example configuration
// (the payees it configures), byte for byte. testdata/golden/README.md
// reviews one of them segment by segment. go test ./x12 -run Golden -update
// rewrites them.
func TestGoldenSample(t *testing.T) {
	example, err := LoadConfig("testdata/config/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dir    string
		config *Config
		keep   func(File) bool
	}{
		{"default", nil, func(File) bool { return true }},
		{"configured", example, func(f File) bool { _, ok := example.Payees[f.PayeeID]; return ok }},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			files, data := generateToMemory(t, Options{Remittance: sampleRemittance, Date: mustDate(t, sampleAsOf), Config: tc.config})
			dir := filepath.Join("testdata", "golden", tc.dir)
			var names []string
			for _, f := range files {
				if tc.keep(f) {
					names = append(names, f.Name)
				}
			}
			if *update {
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				for _, n := range names {
					if err := os.WriteFile(filepath.Join(dir, n), data[n], 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			onDisk, err := filepath.Glob(filepath.Join(dir, "*.835"))
			if err != nil {
				t.Fatal(err)
			}
			for i := range onDisk {
				onDisk[i] = filepath.Base(onDisk[i])
			}
			slices.Sort(onDisk)
			sorted := slices.Sorted(slices.Values(names))
			if !slices.Equal(onDisk, sorted) {
				t.Fatalf("golden files %v, generated %v (run with -update after checking the change)", onDisk, sorted)
			}
			for _, n := range names {
				want, err := os.ReadFile(filepath.Join(dir, n))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(data[n], want) {
					t.Errorf("%s differs from its golden file:\n%s", n, data[n])
				}
				if p := Check(bytes.NewReader(want), n); len(p) > 0 {
					t.Errorf("%s: %v", n, p)
				}
			}
		})
	}
}

// TestSampleTiesToPayments: the sample's 835s, one per provider payee and
// currency, pay exactly the payments file's plan_paid, with its line count;
// their totals and the number of claims are those of the remittance.
func TestSampleTiesToPayments(t *testing.T) {
	files, _ := generateToMemory(t, Options{Remittance: sampleRemittance, Date: mustDate(t, sampleAsOf)})
	problems, err := Reconcile(files, samplePayments)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	var summary []string
	for _, f := range files {
		summary = append(summary, fmt.Sprintf("%s %s claims %d lines %d charge %s paid %s pr %s segments %d", f.PayeeID, f.Currency, f.Claims, f.Lines, f.Charge, f.Paid, f.PatientResponsibility, f.Segments))
	}
	want := []string{
		"PR-DENT2 USD claims 2 lines 2 charge 1120.00 paid 0.00 pr 1120.00 segments 27",
		"PR-ES3 EUR claims 2 lines 2 charge 4200.00 paid 3700.00 pr 500.00 segments 28",
		"PR-ES5 EUR claims 1 lines 1 charge 100.00 paid 100.00 pr 0.00 segments 22",
		"PR-GP22 EUR claims 2 lines 3 charge 862.37 paid 500.00 pr 362.37 segments 31",
		"PR-GP40 USD claims 1 lines 1 charge 90.00 paid 0.00 pr 90.00 segments 22",
		"PR-HOSP-ES USD claims 1 lines 1 charge 2500.00 paid 2100.00 pr 400.00 segments 22",
		"PR-HOSP1 USD claims 6 lines 6 charge 30700.00 paid 24287.50 pr 4412.50 segments 47",
		"PR-IT9 USD claims 1 lines 1 charge 80.00 paid 0.00 pr 80.00 segments 22",
		"PR-KLIN3 EUR claims 1 lines 2 charge 2000.00 paid 1305.00 pr 695.00 segments 26",
		"PR-KLIN3 USD claims 1 lines 1 charge 1000.00 paid 900.00 pr 100.00 segments 22",
		"PR-LON2 GBP claims 1 lines 1 charge 100.00 paid 0.00 pr 100.00 segments 23",
		"PR-LON8 GBP claims 1 lines 2 charge 170000.00 paid 165000.00 pr 5000.00 segments 25",
		"PR-MUMBAI1 GBP claims 2 lines 2 charge 19000.00 paid 18000.00 pr 1000.00 segments 27",
		"PR-NYC4 GBP claims 1 lines 1 charge 500.00 paid 500.00 pr 0.00 segments 22",
		"PR-RAD5 EUR claims 1 lines 2 charge 550.00 paid 300.00 pr 250.00 segments 26",
		"PR-SG1 USD claims 4 lines 4 charge 380.00 paid 200.00 pr 180.00 segments 35",
		"PR-SG7 USD claims 1 lines 2 charge 2250.00 paid 2000.00 pr 250.00 segments 24",
		"PR-SG9 USD claims 2 lines 2 charge 3700.00 paid 3000.00 pr 700.00 segments 26",
		"PR-SURG7 USD claims 1 lines 1 charge 20000.00 paid 15700.00 pr 4300.00 segments 22",
	}
	if strings.Join(summary, "\n") != strings.Join(want, "\n") {
		t.Errorf("files:\n%s\nwant:\n%s", strings.Join(summary, "\n"), strings.Join(want, "\n"))
	}
}

// TestVerifyFiles: the golden files verify against the sample's payments; a
// file changed after publication does not.
func TestVerifyFiles(t *testing.T) {
	paths, err := filepath.Glob("testdata/golden/default/*.835")
	if err != nil {
		t.Fatal(err)
	}
	if problems, err := VerifyFiles(paths, samplePayments); err != nil || len(problems) > 0 {
		t.Fatalf("%v %v", problems, err)
	}
	data, err := os.ReadFile("testdata/golden/default/PR-SG9_USD_3de7418d.835")
	if err != nil {
		t.Fatal(err)
	}
	tampered := filepath.Join(t.TempDir(), "PR-SG9_USD_3de7418d.835")
	data = bytes.Replace(data, []byte("CLP*C2307*1*2800*2800**15*C2307~"), []byte("CLP*C2307*1*2800*2900**15*C2307~"), 1)
	if err := os.WriteFile(tampered, data, 0o600); err != nil {
		t.Fatal(err)
	}
	for i, p := range paths {
		if filepath.Base(p) == filepath.Base(tampered) {
			paths[i] = tampered
		}
	}
	problems, err := VerifyFiles(paths, samplePayments)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		tampered + ": segment 15 CLP (claim C2307): CLP charge 2800.00 - paid 2900.00 = -100.00, but the claim's CAS amounts (claim and service level) add up to 0.00",
		tampered + ": segment 4 BPR: BPR02 is 3000.00, but the CLP04 payments add up to 3100.00 less 0.00 of PLB adjustments = 3100.00",
	}
	if strings.Join(problems, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(problems, "\n"), strings.Join(want, "\n"))
	}
}
