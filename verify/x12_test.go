package verify

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"claimsbatch/claim"
	"claimsbatch/pipeline"
	"claimsbatch/writers"
)

// publishSample835 runs the bundled sample with its X12 835s.
func publishSample835(t *testing.T) string {
	t.Helper()
	out := t.TempDir()
	_, err := pipeline.Run(context.Background(), pipeline.Config{
		Claims: []string{verifySample + "/claims.csv"}, Members: verifySample + "/members.csv", FX: verifySample + "/fx.csv",
		OutDir: out, AsOf: claim.FromCivil(2025, 5, 2), X12: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The sample's 835 of PR-SG9 in USD: two claims, paid 3000.00 (its
// payments row 18 says so).
const sg9 = "835/PR-SG9_USD_3de7418d.835"

// TestVerify835s: a run with its 835s and report verifies; each way of
// changing an 835, the report or the turnaround section after the run is
// reported, naming the file.
func TestVerify835s(t *testing.T) {
	if problems, err := Verify(publishSample835(t), Options{}); err != nil || len(problems) > 0 {
		t.Fatalf("Verify of a run with 835s: %v\n%s", err, strings.Join(problems, "\n"))
	}
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, dir string)
		want   []string // each a whole problem (ending in a space: its start)
		only   bool     // want is every problem
	}{
		{
			name: "a claim's payment changed in an 835",
			tamper: func(t *testing.T, dir string) {
				editFile(t, dir, sg9, func(b []byte) []byte {
					return bytes.Replace(b, []byte("CLP*C2307*1*2800*2800**15*C2307~"), []byte("CLP*C2307*1*2800*2900**15*C2307~"), 1)
				})
			},
			want: []string{
				sg9 + ": sha256 ",
				sg9 + ": segment 15 CLP: CLP charge 2800.00 - paid 2900.00 = -100.00, but the claim's CAS amounts (claim and service level) add up to 0.00",
				sg9 + ": segment 4 BPR: BPR02 is 3000.00, but the CLP04 payments add up to 3100.00 less 0.00 of PLB adjustments = 3100.00",
			},
		},
		{
			name: "an 835's payment changed with its claims and hash: it no longer ties out",
			tamper: func(t *testing.T, dir string) {
				editFile(t, dir, sg9, func(b []byte) []byte {
					b = bytes.Replace(b, []byte("BPR*I*3000*"), []byte("BPR*I*2000*"), 1)
					// The claim paid 2800 of 2800 now pays 1800, the other 1000 a
					// contractual adjustment: the file balances.
					b = bytes.Replace(b, []byte("CLP*C2307*1*2800*2800**15*C2307~"), []byte("CLP*C2307*1*2800*1800**15*C2307~"), 1)
					b = bytes.Replace(b, []byte("OUTPATIENT*2800*2800~\nDTM*472*20240410~\n"), []byte("OUTPATIENT*2800*1800~\nDTM*472*20240410~\nCAS*CO*45*1000~\n"), 1)
					return bytes.Replace(b, []byte("\nSE*22*"), []byte("\nSE*23*"), 1) // one segment more
				})
				rehash(t, dir, sg9)
				fixRows(t, dir, sg9)
			},
			want: []string{"payments row 18 (PR-SG9 USD): plan_paid 3000.00, but PR-SG9_USD_3de7418d.835 pays 2000.00 (BPR02)"},
			only: true, // the file itself balances
		},
		{
			name:   "an 835 removed",
			tamper: func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, filepath.FromSlash(sg9))) },
			want: []string{
				sg9 + ": listed in manifest.json but missing from " + "{dir}",
				"payments row 18 (PR-SG9 USD): no 835 for this provider payee",
			},
		},
		{
			name:   "an 835 truncated",
			tamper: func(t *testing.T, dir string) { editFile(t, dir, sg9, func(b []byte) []byte { return b[:len(b)-40] }) },
			want: []string{sg9 + ": sha256 ", sg9 + ": 24 segments, manifest.json says 26",
				sg9 + ": segment 24 SE: the file ends in the middle of segment 24 (no segment terminator): truncated"},
		},
		{
			name: "an 835 added",
			tamper: func(t *testing.T, dir string) {
				data, _ := os.ReadFile(filepath.Join(dir, filepath.FromSlash(sg9)))
				os.WriteFile(filepath.Join(dir, "835", "PR-SG9_USD_copy.835"), data, 0o640)
			},
			want: []string{"835/PR-SG9_USD_copy.835: not listed in manifest.json: not part of this run"},
		},
		{
			name: "report.html edited",
			tamper: func(t *testing.T, dir string) {
				editFile(t, dir, writers.ReportName, func(b []byte) []byte {
					return bytes.Replace(b, []byte(">51,387.50<"), []byte(">61,387.50<"), 1)
				})
			},
			want: []string{writers.ReportName + ": sha256 "},
		},
		{
			name: "the turnaround section edited",
			tamper: func(t *testing.T, dir string) {
				editManifest(t, dir, func(m *writers.Manifest) { m.Turnaround.Within, m.Turnaround.Over = 30, 12 })
			},
			want: []string{
				"manifest.json: writers: turnaround: the histogram has 1 lines within 5 business days, within_target is 30",
			},
		},
		{
			name: "the turnaround section edited consistently",
			tamper: func(t *testing.T, dir string) {
				editManifest(t, dir, func(m *writers.Manifest) {
					ta := m.Turnaround
					ta.Lines, ta.Over, ta.Histogram[15] = 41, 40, 40
				})
			},
			want: []string{"manifest.json: turnaround measured 41 lines, control_totals say 42 adjudicated"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := publishSample835(t)
			tc.tamper(t, dir)
			problems, err := Verify(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				w = strings.ReplaceAll(w, "{dir}", dir)
				found := false
				for _, p := range problems {
					found = found || p == w || strings.HasSuffix(w, " ") && strings.HasPrefix(p, w)
				}
				if !found {
					t.Errorf("no problem %q; got:\n%s", w, strings.Join(problems, "\n"))
				}
			}
			if tc.only && len(problems) != len(tc.want) {
				t.Errorf("%d problems, want only %d:\n%s", len(problems), len(tc.want), strings.Join(problems, "\n"))
			}
			// No member or claim id in a problem.
			all := strings.Join(problems, "\n")
			for _, id := range []string{"C2307", "C1002", "M101", "M102", "M202"} {
				if strings.Contains(all, id) {
					t.Errorf("a problem names %s:\n%s", id, all)
				}
			}
		})
	}
}

// fixRows sets the manifest's rows of the 835 output name to its segments
// (a tamperer's careful edit), counted by its segment terminators.
func fixRows(t *testing.T, dir, name string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	editManifest(t, dir, func(m *writers.Manifest) {
		for i := range m.Outputs {
			if m.Outputs[i].Name == name {
				m.Outputs[i].Rows = int64(bytes.Count(data, []byte("~")))
			}
		}
	})
}
