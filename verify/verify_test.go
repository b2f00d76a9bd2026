package verify

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"claimsbatch/claim"
	"claimsbatch/pipeline"
	"claimsbatch/writers"
)

const verifySample = "../testdata/sample"

// publishSample runs the bundled sample into a new directory.
func publishSample(t *testing.T, format writers.Format, validate bool) string {
	t.Helper()
	out := t.TempDir()
	cfg := pipeline.Config{
		Claims:  []string{verifySample + "/claims.csv"},
		Members: verifySample + "/members.csv",
		FX:      verifySample + "/fx.csv",
		OutDir:  out,
		Format:  format,
		AsOf:    claim.FromCivil(2025, 5, 2),
	}
	var err error
	if validate {
		_, err = pipeline.Validate(context.Background(), cfg)
	} else {
		_, err = pipeline.Run(context.Background(), cfg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// editFile applies edit to dir/name's bytes.
func editFile(t *testing.T, dir, name string, edit func([]byte) []byte) {
	t.Helper()
	path := filepath.Join(dir, name)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, edit(data), 0o640); err != nil {
		t.Fatal(err)
	}
}

// editManifest applies edit to dir's manifest and writes it back.
func editManifest(t *testing.T, dir string, edit func(*writers.Manifest)) {
	t.Helper()
	path := filepath.Join(dir, writers.ManifestName)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := writers.ReadManifest(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	edit(m)
	var buf bytes.Buffer
	if err := writers.WriteManifest(&buf, m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o640); err != nil {
		t.Fatal(err)
	}
}

// rehash makes the manifest's SHA-256 of output name match the file, as a
// tamperer who knows the format would: then only the content checks can
// tell.
func rehash(t *testing.T, dir, name string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	editManifest(t, dir, func(m *writers.Manifest) {
		for i := range m.Outputs {
			if m.Outputs[i].Name == name {
				m.Outputs[i].SHA256 = hex.EncodeToString(sum[:])
			}
		}
	})
}

// replaceInRow replaces, in the first data row of a CSV that contains
// marker, the fields old by new.
func replaceInRow(marker, old, new string) func([]byte) []byte {
	return func(data []byte) []byte {
		lines := strings.Split(string(data), "\n")
		for i, l := range lines[1:] {
			if strings.Contains(l, marker) {
				lines[i+1] = strings.Replace(l, ","+old+",", ","+new+",", 1)
				break
			}
		}
		return []byte(strings.Join(lines, "\n"))
	}
}

func TestVerifyPublishedRuns(t *testing.T) {
	for _, tc := range []struct {
		name     string
		format   writers.Format
		validate bool
	}{
		{"run csv", writers.CSV, false},
		{"run parquet", writers.Parquet, false},
		{"validate", writers.CSV, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := publishSample(t, tc.format, tc.validate)
			problems, err := Verify(dir, Options{})
			if err != nil || len(problems) > 0 {
				t.Fatalf("Verify of a published run: %v\n%s", err, strings.Join(problems, "\n"))
			}
		})
	}
}

// TestVerifyFindsTampering changes a published run in ways a person or a
// broken copy could, and expects each to be reported with the file it
// concerns.
func TestVerifyFindsTampering(t *testing.T) {
	// Sample line C1002/1 (USD): charge 5000.00 = plan_paid 4000.00 +
	// coinsurance 1000.00.
	const line = "C1002,1,"
	for _, tc := range []struct {
		name   string
		format writers.Format
		tamper func(t *testing.T, dir string)
		want   []string // substrings, each in some problem
	}{
		{
			name: "a remittance amount changed",
			tamper: func(t *testing.T, dir string) {
				editFile(t, dir, "remittance.csv", replaceInRow(line, "4000.00", "4100.00"))
			},
			want: []string{
				"remittance.csv: sha256",
				"remittance.csv row 2: charge 5000.00 != plan_paid + deductible + coinsurance + not_covered = 5100.00",
				"remittance.csv: USD plan_paid adds up to",
				"payments.csv: USD plan_paid adds up to",
			},
		},
		{
			name: "a remittance amount changed and the manifest's hash with it",
			tamper: func(t *testing.T, dir string) {
				editFile(t, dir, "remittance.csv", replaceInRow(line, "4000.00", "4100.00"))
				rehash(t, dir, "remittance.csv")
			},
			want: []string{"remittance.csv row", "charge 5000.00 != plan_paid", "remittance.csv: USD plan_paid core adds up to"},
		},
		{
			name: "member_responsibility changed consistently in file and hash",
			tamper: func(t *testing.T, dir string) {
				editFile(t, dir, "remittance.csv", replaceInRow(line, "1000.00,PAID", "999.00,PAID"))
				rehash(t, dir, "remittance.csv")
			},
			want: []string{"member_responsibility 999.00 != deductible + coinsurance + not_covered = 1000.00"},
		},
		{
			name: "a payments row removed",
			tamper: func(t *testing.T, dir string) {
				editFile(t, dir, "payments.csv", func(b []byte) []byte {
					i := bytes.IndexByte(b, '\n') + 1
					j := i + bytes.IndexByte(b[i:], '\n') + 1
					return append(b[:i:i], b[j:]...)
				})
			},
			want: []string{"payments.csv: sha256", "payments.csv: 21 rows, manifest.json says 22", "line_count adds up to"},
		},
		{
			name:   "an output missing",
			tamper: func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "exceptions.csv")) },
			want:   []string{"exceptions.csv: listed in manifest.json but missing"},
		},
		{
			name: "an exception row's code changed",
			tamper: func(t *testing.T, dir string) {
				editFile(t, dir, "exceptions.csv", replaceInRow("UNKNOWN_BENEFIT", "UNKNOWN_BENEFIT", "UNKNOWN_MEMBER"))
			},
			want: []string{"exceptions.csv: sha256", "exceptions.csv: 0 claims rows with code UNKNOWN_BENEFIT, manifest.json exceptions_by_code says 1",
				"exceptions.csv: 0 rows of claims.csv with code UNKNOWN_BENEFIT, manifest.json says 1 for that input",
				"exceptions.csv: 2 rows of claims.csv with code UNKNOWN_MEMBER, manifest.json says 1 for that input"},
		},
		{
			name: "the manifest's control totals changed",
			tamper: func(t *testing.T, dir string) {
				editManifest(t, dir, func(m *writers.Manifest) { m.ControlTotals.LinesRead++ })
			},
			want: []string{"manifest.json: writers: control totals: lines_read 53", "manifest.json: the claims inputs add up to 52 rows"},
		},
		{
			name: "the manifest's per-currency charge changed",
			tamper: func(t *testing.T, dir string) {
				editManifest(t, dir, func(m *writers.Manifest) { m.ControlTotals.PerCurrency[0].Charge += 100 })
			},
			want: []string{"manifest.json: writers: control totals EUR: charge", "remittance.csv: EUR charge adds up to 7902.37, manifest.json per_currency says 7903.37"},
		},
		{
			name: "the state of another run",
			tamper: func(t *testing.T, dir string) {
				editFile(t, dir, "state.csv", func(b []byte) []byte { return bytes.Replace(b, []byte(",run-"), []byte(",run-0"), 1) })
				rehash(t, dir, "state.csv")
			},
			want: []string{`state.csv row 4: META run_id "run-0`},
		},
		// Issue 12, finding 2: a state edited and rehashed in the manifest
		// still fails its own trailer.
		{
			name: "a state accumulator edited, the manifest's hash with it",
			tamper: func(t *testing.T, dir string) {
				editFile(t, dir, "state.csv", func(b []byte) []byte {
					return bytes.Replace(b, []byte("deductible:core,375.00"), []byte("deductible:core,300.00"), 1)
				})
				rehash(t, dir, "state.csv")
			},
			want: []string{"state.csv: row 129: the rows before the END row have SHA-256"},
		},
		// Issue 12, finding 3: files no manifest lists, rows out of order,
		// payments that add up per currency but not per payee.
		{
			name:   "a file of another run beside the outputs",
			format: writers.Parquet,
			tamper: func(t *testing.T, dir string) {
				os.WriteFile(filepath.Join(dir, "state.csv"), []byte("kind\n"), 0o640)
				os.MkdirAll(filepath.Join(dir, "old", "x"), 0o750)
			},
			want: []string{"state.csv: not listed in manifest.json: not part of this run", "old/: not listed in manifest.json: not part of this run"},
		},
		{
			name: "remittance rows swapped",
			tamper: func(t *testing.T, dir string) {
				editFile(t, dir, "remittance.csv", func(b []byte) []byte {
					lines := strings.SplitAfter(string(b), "\n")
					lines[1], lines[2] = lines[2], lines[1]
					return []byte(strings.Join(lines, ""))
				})
				rehash(t, dir, "remittance.csv")
			},
			want: []string{"remittance.csv row 2: out of order: its (member_id, service_date) sorts before row 1's"},
		},
		{
			name: "payments moved between two payees",
			tamper: func(t *testing.T, dir string) {
				editFile(t, dir, "payments.csv", func(b []byte) []byte {
					b = bytes.Replace(b, []byte("PR-SG7,USD,2,2000.00"), []byte("PR-SG7,USD,2,2100.00"), 1)
					return bytes.Replace(b, []byte("PR-SG9,USD,2,3000.00"), []byte("PR-SG9,USD,2,2900.00"), 1)
				})
				rehash(t, dir, "payments.csv")
			},
			want: []string{"payments.csv row 17: line_count 2, plan_paid 2100.00; the payee's lines in remittance.csv (from row ",
				"payments.csv row 18: line_count 2, plan_paid 2900.00; the payee's lines"},
		},
		{
			name: "payments rows swapped",
			tamper: func(t *testing.T, dir string) {
				editFile(t, dir, "payments.csv", func(b []byte) []byte {
					lines := strings.SplitAfter(string(b), "\n")
					lines[1], lines[2] = lines[2], lines[1]
					return []byte(strings.Join(lines, ""))
				})
				rehash(t, dir, "payments.csv")
			},
			want: []string{"payments.csv row 2: out of order"},
		},
		{
			name: "exceptions rows swapped",
			tamper: func(t *testing.T, dir string) {
				editFile(t, dir, "exceptions.csv", func(b []byte) []byte {
					lines := strings.SplitAfter(string(b), "\n")
					lines[1], lines[2] = lines[2], lines[1]
					return []byte(strings.Join(lines, ""))
				})
				rehash(t, dir, "exceptions.csv")
			},
			want: []string{"exceptions.csv row 2: out of order: row 10 of claims.csv comes after its row 44"},
		},
		{
			name: "the manifest garbled",
			tamper: func(t *testing.T, dir string) {
				editFile(t, dir, writers.ManifestName, func(b []byte) []byte { return b[:len(b)/2] })
			},
			want: []string{"manifest.json: not a valid manifest"},
		},
		{
			name:   "a Parquet output truncated",
			format: writers.Parquet,
			tamper: func(t *testing.T, dir string) {
				editFile(t, dir, "remittance.parquet", func(b []byte) []byte { return b[:len(b)-100] })
			},
			want: []string{"remittance.parquet: not a readable Parquet file", "remittance.parquet: sha256"},
		},
		{
			name:   "a Parquet output's middle byte flipped",
			format: writers.Parquet,
			tamper: func(t *testing.T, dir string) {
				editFile(t, dir, "payments.parquet", func(b []byte) []byte { b[len(b)/2] ^= 0xff; return b })
			},
			want: []string{"payments.parquet: sha256"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := publishSample(t, tc.format, false)
			tc.tamper(t, dir)
			problems, err := Verify(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			all := strings.Join(problems, "\n")
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("no problem says %q; got:\n%s", w, all)
				}
			}
			// Issue 12, finding 8: no member, claim or payee id in a problem.
			for _, id := range []string{"C1002", "M101", "M102", "M202", "PR-SG7", "PR-SG9"} {
				if strings.Contains(all, id) {
					t.Errorf("a problem names %s:\n%s", id, all)
				}
			}
		})
	}
}

func TestVerifyErrors(t *testing.T) {
	empty := t.TempDir()
	file := filepath.Join(empty, "file")
	if err := os.WriteFile(file, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{filepath.Join(empty, "missing"), file, empty} {
		problems, err := Verify(dir, Options{})
		if !errors.Is(err, ErrNoRun) || problems != nil {
			t.Errorf("Verify(%s) = %q, %v; want an error wrapping ErrNoRun", dir, problems, err)
		}
	}
}

// TestVerifySignature covers issue 12, finding 4: with --key, verify
// checks the manifest's signature; an edited manifest no longer passes,
// nor a run signed with another key or not signed at all.
func TestVerifySignature(t *testing.T) {
	privPEM, pubPEM, err := writers.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	priv, _ := writers.ParsePrivateKey(privPEM)
	pub, _ := writers.ParsePublicKey(pubPEM)
	_, otherPEM, _ := writers.GenerateKeys()
	other, _ := writers.ParsePublicKey(otherPEM)
	signed := func(t *testing.T) string {
		out := t.TempDir()
		_, err := pipeline.Run(context.Background(), pipeline.Config{
			Claims: []string{verifySample + "/claims.csv"}, Members: verifySample + "/members.csv", FX: verifySample + "/fx.csv",
			OutDir: out, AsOf: claim.FromCivil(2025, 5, 2), SignKey: priv,
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	dir := signed(t)
	for _, key := range []ed25519.PublicKey{nil, pub} {
		if problems, err := Verify(dir, Options{Key: key}); err != nil || len(problems) > 0 {
			t.Fatalf("a signed run: %v %q", err, problems)
		}
	}
	for _, tc := range []struct {
		name   string
		key    ed25519.PublicKey
		tamper func(dir string)
		want   string
	}{
		{"the manifest edited", pub, func(dir string) {
			editManifest(t, dir, func(m *writers.Manifest) { m.Notes = append(m.Notes, "approved") })
		}, "manifest.json.sig: writers: manifest signature does not verify: manifest.json was changed after it was signed"},
		{"another key", other, func(string) {}, "manifest.json.sig: writers: manifest signature does not verify: signed with key " + writers.KeyID(pub)},
		{"no signature", pub, func(dir string) { os.Remove(filepath.Join(dir, writers.SignatureName)) }, "manifest.json.sig: missing: the run is not signed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := signed(t)
			tc.tamper(dir)
			problems, err := Verify(dir, Options{Key: tc.key})
			if err != nil || !slices.ContainsFunc(problems, func(p string) bool { return strings.HasPrefix(p, tc.want) }) {
				t.Errorf("problems %q, %v; want one starting %q", problems, err, tc.want)
			}
		})
	}
}
