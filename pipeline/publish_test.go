package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"claimsbatch/claim"
	"claimsbatch/report"
	"claimsbatch/writers"
	"claimsbatch/x12"
)

// The bundled sample, and the as-of date its golden run was made with.
const sampleDir = "../testdata/sample"

var sampleAsOf = claim.FromCivil(2025, 5, 2)

func sampleConfig(out string, format writers.Format) Config {
	return Config{
		Claims: []string{sampleDir + "/claims.csv"}, Members: sampleDir + "/members.csv", FX: sampleDir + "/fx.csv",
		OutDir: out, Format: format, AsOf: sampleAsOf,
	}
}

func readManifestFile(t *testing.T, dir string) *writers.Manifest {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, writers.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := writers.ReadManifest(f)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// TestPublishedReport: every published run, CSV, Parquet and validate,
// holds report.html, listed last in its manifest with its SHA-256, and the
// page is the one report.Build makes from the published run.
func TestPublishedReport(t *testing.T) {
	for _, tc := range []struct {
		name     string
		format   writers.Format
		validate bool
	}{
		{"csv", writers.CSV, false},
		{"parquet", writers.Parquet, false},
		{"validate", writers.CSV, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			var sum *Summary
			var err error
			if tc.validate {
				sum, err = Validate(context.Background(), sampleConfig(out, tc.format))
			} else {
				sum, err = Run(context.Background(), sampleConfig(out, tc.format))
			}
			if err != nil {
				t.Fatal(err)
			}
			m := readManifestFile(t, out)
			last := m.Outputs[len(m.Outputs)-1]
			if last.Name != writers.ReportName || last.Rows != 0 || last.SHA256 != fileSHA256(t, filepath.Join(out, writers.ReportName)) {
				t.Errorf("last output %+v: want report.html with its SHA-256", last)
			}
			if n := len(sum.Files); n < 2 || sum.Files[n-2] != writers.ReportName || sum.Files[n-1] != writers.ManifestName {
				t.Errorf("summary files %v", sum.Files)
			}
			in := report.Input{Manifest: m, Exceptions: filepath.Join(out, writers.ExceptionsName+tc.format.Ext())}
			if !tc.validate {
				in.Remittance = filepath.Join(out, writers.RemittanceName+tc.format.Ext())
			}
			var page bytes.Buffer
			if err := report.Build(&page, in); err != nil {
				t.Fatal(err)
			}
			published, err := os.ReadFile(filepath.Join(out, writers.ReportName))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(page.Bytes(), published) {
				t.Error("report.html differs from the page built from the published run")
			}
			for _, s := range []string{
				`<title>Claims run ` + m.RunID + `</title>`,
				`<td class="mono">claims.csv</td><td class="num">10</td>`, // the claims file's exceptions
			} {
				if !bytes.Contains(published, []byte(s)) {
					t.Errorf("report.html lacks %s", s)
				}
			}
			measured := bytes.Contains(published, []byte(`id="turnaround-share">2.4 %</div>`))
			if measured == tc.validate || (m.Turnaround == nil) != tc.validate {
				t.Errorf("turnaround in the page %v, in the manifest %+v; a validate run measures none", measured, m.Turnaround)
			}
		})
	}
}

// TestPublished835s: a run with X12 publishes the golden 835s of package
// x12 (made from the golden sample's remittance, whose run id a CSV run and
// a Parquet run of the sample share), lists each in the manifest with its
// SHA-256 and its segments as rows, after the tables and before the report.
func TestPublished835s(t *testing.T) {
	golden, err := filepath.Glob("../x12/testdata/golden/default/*.835")
	if err != nil || len(golden) != 19 {
		t.Fatalf("golden 835s: %v %v", golden, err)
	}
	for _, format := range []writers.Format{writers.CSV, writers.Parquet} {
		t.Run(format.String(), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			cfg := sampleConfig(out, format)
			cfg.X12 = true
			if format == writers.Parquet {
				cfg.RunID = "run-22f6c7c4d7118c216c81" // the golden CSV run's id: a Parquet run's differs
			}
			sum, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			m := readManifestFile(t, out)
			var listed []writers.Output
			for i, o := range m.Outputs {
				if strings.HasPrefix(o.Name, "835/") {
					listed = append(listed, o)
					if i < 4 || i == len(m.Outputs)-1 {
						t.Errorf("%s is output %d of %d: want it after the tables and before the report", o.Name, i, len(m.Outputs))
					}
				}
			}
			if len(listed) != len(golden) {
				t.Fatalf("%d 835s listed, want %d", len(listed), len(golden))
			}
			var segments int64
			for i, g := range golden {
				o := listed[i]
				if o.Name != "835/"+filepath.Base(g) {
					t.Errorf("output %s, want 835/%s", o.Name, filepath.Base(g))
					continue
				}
				path := filepath.Join(out, filepath.FromSlash(o.Name))
				want, _ := os.ReadFile(g)
				got, err := os.ReadFile(path)
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("%s differs from %s (%v)", o.Name, g, err)
				}
				rep, err := x12.InspectFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if o.SHA256 != fileSHA256(t, path) || o.Rows != int64(rep.Segments) || len(rep.Problems) > 0 {
					t.Errorf("%s: listed %+v; the file has %d segments, problems %v", o.Name, o, rep.Segments, rep.Problems)
				}
				segments += o.Rows
			}
			if segments != 499 {
				t.Errorf("%d segments in all, want 499", segments)
			}
			if !slices.Contains(sum.Files, "835/PR-HOSP1_USD_cda93960.835") {
				t.Errorf("summary files %v", sum.Files)
			}
			page, _ := os.ReadFile(filepath.Join(out, writers.ReportName))
			if !bytes.Contains(page, []byte(`<td class="mono">835/ (19 X12 835 files)</td><td class="num">499 segments</td>`)) {
				t.Error("report.html does not list the 835s")
			}
		})
	}
}

// TestX12NothingPublished: 835s that do not tie out to the payments file
// (ErrConservation), and a configuration that cannot pay a payee
// (ErrConfig), fail the run; nothing is published and no stage is left.
func TestX12NothingPublished(t *testing.T) {
	example, err := os.ReadFile("../x12/testdata/config/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Every payee paid by ACH but PR-KLIN3 (by check): those the file does
	// not list have no bank details.
	yaml := bytes.Replace(example, []byte("method: CHK"), []byte("method: ACH"), 1)
	yaml = bytes.Replace(yaml, []byte(`    tin: "444555666"`), []byte("    tin: \"444555666\"\n    payment_method: CHK"), 1)
	ach, err := x12.ParseConfig("ach.yaml", yaml)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		config    *x12.Config
		reconcile func([]x12.File, string) ([]string, error)
		is        error
		want      string
	}{
		{"do not tie out", nil, func(files []x12.File, payments string) ([]string, error) {
			if _, err := os.Stat(payments); err != nil || len(files) != 19 {
				t.Errorf("reconcile called with %d files and %s (%v)", len(files), payments, err)
			}
			return []string{"payments row 7 (PR-HOSP1 USD): plan_paid 24287.05, but PR-HOSP1_USD_cda93960.835 pays 24287.50 (BPR02)"}, nil
		}, ErrConservation, "the 835s do not tie out to the payments file (1 problems):\n  payments row 7 (PR-HOSP1 USD): plan_paid 24287.05, but PR-HOSP1_USD_cda93960.835 pays 24287.50 (BPR02)"},
		{"payee without a bank", ach, x12.Reconcile, ErrConfig, "X12 835: x12: invalid configuration: payee PR-ES3 is paid by ACH but payees.PR-ES3.bank is not configured\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func(r func([]x12.File, string) ([]string, error)) { reconcile835 = r }(reconcile835)
			reconcile835 = tc.reconcile
			parent := t.TempDir()
			out := filepath.Join(parent, "out")
			cfg := sampleConfig(out, writers.CSV)
			cfg.X12, cfg.X12Config = true, tc.config
			_, err := Run(context.Background(), cfg)
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %v with %q", err, tc.is, tc.want)
			}
			if tc.is == ErrConfig && strings.Count(err.Error(), "is paid by ACH") != 12 {
				t.Errorf("want each of the 12 paid payees without a bank named: %v", err)
			}
			if entries, _ := os.ReadDir(parent); len(entries) != 0 {
				t.Errorf("%d entries left beside --out, e.g. %s", len(entries), entries[0].Name())
			}
		})
	}
}
