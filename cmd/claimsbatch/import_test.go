package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"claimsbatch/importer"
)

const importSamples = "../../testdata/import"

// Each shared real sample, imported with its built-in profile, runs through
// `claimsbatch run` to exit 0 with every imported line adjudicated or an
// exception, the money identities holding, and every member's spans valid.
//
// Exception counts are left unchecked on purpose: until the claims reader
// knows diagnosis_system, Synthea's SNOMED and DE-SynPUF's ICD-9 diagnoses
// are INVALID_VALUE; the schema change moves those lines to the remittance.
func TestImportThenRun(t *testing.T) {
	for _, tc := range []struct {
		profile string
		format  string
		lines   int64
		members int
	}{
		{"synthea", "csv", 1579, 123},
		{"cms-desynpuf", "csv", 10, 2},
		{"synthea", "parquet", 1579, 123},
	} {
		t.Run(tc.profile+"/"+tc.format, func(t *testing.T) {
			dir := t.TempDir()
			in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
			code, msg := runCLI(t, "import", "--profile", tc.profile, "--in", filepath.Join(importSamples, tc.profile, "in"), "--out", in, "--format", tc.format, "--quiet")
			if code != 0 {
				t.Fatalf("import: exit %d: %s", code, msg)
			}
			ext := "." + tc.format
			code, msg = runCLI(t, "run", "--claims", filepath.Join(in, "claims"+ext), "--members", filepath.Join(in, "members"+ext), "--out", out, "--format", "csv", "--quiet")
			if code != 0 {
				t.Fatalf("run: exit %d: %s", code, msg)
			}
			checkConservation(t, out, tc.lines)
			// SNOMED and ICD-9 diagnoses (SPEC version 2's diagnosis_system) and
			// every mapped value pass the row checks: no claim exception at all.
			for _, x := range readCSV(t, filepath.Join(out, "exceptions.csv")) {
				t.Errorf("an exception in %s row %s: %s %s %s", x["source"], x["row"], x["code"], x["field"], x["message"])
			}
			// Synthea dispenses albuterol and budesonide the same day at the same
			// flat price: with procedure_code in the duplicate-service key
			// (SPEC version 2) none of them is OA-18 any more (47 were).
			oa18 := 0
			for _, row := range readCSV(t, filepath.Join(out, "remittance.csv")) {
				if strings.Contains(row["adjustments"], "OA-18") {
					oa18++
				}
			}
			if oa18 != 0 {
				t.Errorf("%d lines denied OA-18, want 0", oa18)
			}
			f, err := os.Open(filepath.Join(in, importer.ManifestName))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			m, err := importer.ReadManifest(f)
			if err != nil {
				t.Fatal(err)
			}
			if m.Outputs[0].Rows != tc.lines || m.Outputs[1].Rows != int64(tc.members) {
				t.Errorf("import manifest outputs %+v, want %d claims and %d members", m.Outputs, tc.lines, tc.members)
			}
		})
	}
}

func TestImportExitCodes(t *testing.T) {
	dir := t.TempDir()
	synthea := filepath.Join(importSamples, "synthea", "in")
	badProfile := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badProfile, []byte("name: bad\nsources: {a: a}\n"), 0o644)
	partial := filepath.Join(dir, "partial")
	os.MkdirAll(partial, 0o755)
	os.WriteFile(filepath.Join(partial, "claims_transaction.csv"), []byte("ID\n"), 0o644)
	corrupt := filepath.Join(dir, "corrupt")
	os.MkdirAll(corrupt, 0o755)
	for _, f := range []string{"patients.csv", "payers.csv", "payer_transitions.csv", "claims.csv.gz", "encounters.csv.gz"} {
		data, _ := os.ReadFile(filepath.Join(synthea, f))
		os.WriteFile(filepath.Join(corrupt, f), data, 0o644)
	}
	gz, _ := os.ReadFile(filepath.Join(synthea, "claims_transactions.csv.gz"))
	os.WriteFile(filepath.Join(corrupt, "claims_transactions.csv.gz"), gz[:len(gz)/2], 0o644)
	notDir := filepath.Join(dir, "file")
	os.WriteFile(notDir, nil, 0o644)

	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no profile", []string{"import", "--in", synthea, "--out", dir + "/o1"}, 2, "--profile is required"},
		{"unknown profile", []string{"import", "--profile", "synthia", "--in", synthea, "--out", dir + "/o2"}, 2, `no built-in profile "synthia" (did you mean "synthea"?`},
		{"bad profile", []string{"import", "--profile", badProfile, "--in", synthea, "--out", dir + "/o3"}, 2, "makes nothing: give claims, members or fx"},
		{"no --in", []string{"import", "--profile", "synthea", "--out", dir + "/o4"}, 2, "--in required"},
		{"missing file", []string{"import", "--profile", "synthea", "--in", partial, "--out", dir + "/o5"}, 2, `source transactions: no file in ` + partial + ` matches "claims_transactions" (did you mean claims_transaction.csv?)`},
		{"bad --set", []string{"import", "--profile", "synthea", "--in", synthea, "--out", dir + "/o6", "--set", "residence=AU"}, 2, `--set residence: "residence" is not a column`},
		{"--set without =", []string{"import", "--profile", "synthea", "--in", synthea, "--out", dir + "/o7", "--set", "residence_country"}, 2, "want KEY=VALUE"},
		{"bad format", []string{"import", "--profile", "synthea", "--in", synthea, "--out", dir + "/o8", "--format", "xlsx"}, 2, "unknown format"},
		{"bad plan", []string{"import", "--profile", "synthea", "--in", synthea, "--out", dir + "/o9", "--plan", badProfile}, 2, "invalid plan"},
		{"corrupt gzip", []string{"import", "--profile", "synthea", "--in", corrupt, "--out", dir + "/o10"}, 2, "claims_transactions.csv.gz"},
		{"out is a file", []string{"import", "--profile", "synthea", "--in", synthea, "--out", notDir}, 2, "output directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, msg := runCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(msg, tc.msg) {
				t.Errorf("exit %d, %q; want exit %d containing %q", code, msg, tc.code, tc.msg)
			}
		})
	}
	for _, o := range []string{"o3", "o5", "o6", "o10"} {
		if entries, _ := os.ReadDir(filepath.Join(dir, o)); len(entries) > 0 {
			t.Errorf("%s: a failed import left %d files", o, len(entries))
		}
	}
}

// --print shows a built-in profile; --print --out writes it with its tables,
// and the copy imports exactly as the built-in one does.
func TestImportPrint(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := execute(t.Context(), []string{"import", "--profile", "cms-desynpuf", "--print"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	p, _ := importer.Builtin("cms-desynpuf")
	if !bytes.Equal(stdout.Bytes(), p.YAML()) {
		t.Error("--print differs from the built-in profile")
	}

	dir := t.TempDir()
	copyDir := filepath.Join(dir, "mine")
	code, msg := runCLI(t, "import", "--profile", "cms-desynpuf", "--print", "--out", copyDir)
	if code != 0 || !strings.Contains(msg, "wrote cms-desynpuf.yaml and 3 code tables") {
		t.Fatalf("--print --out: exit %d: %s", code, msg)
	}
	if code, msg := runCLI(t, "import", "--profile", "cms-desynpuf", "--print", "--out", copyDir); code != 2 || !strings.Contains(msg, "exists") {
		t.Errorf("a second --print --out: exit %d %s, want 2 (no overwrite)", code, msg)
	}
	in := filepath.Join(importSamples, "cms-desynpuf", "in")
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if code, msg := runCLI(t, "import", "--profile", "cms-desynpuf", "--in", in, "--out", a, "--quiet"); code != 0 {
		t.Fatal(msg)
	}
	if code, msg := runCLI(t, "import", "--profile", filepath.Join(copyDir, "cms-desynpuf.yaml"), "--in", in, "--out", b, "--quiet"); code != 0 {
		t.Fatal(msg)
	}
	for _, f := range []string{"claims.csv", "members.csv", "exceptions.csv"} {
		x, _ := os.ReadFile(filepath.Join(a, f))
		y, _ := os.ReadFile(filepath.Join(b, f))
		if len(x) == 0 || !bytes.Equal(x, y) {
			t.Errorf("%s: the printed copy imports differently", f)
		}
	}
}

// The summary says where every source row went.
func TestImportSummary(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := execute(t.Context(), []string{"import", "--profile", "synthea", "--in", filepath.Join(importSamples, "synthea", "in"), "--out", t.TempDir()}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout %q, want nothing (the summary goes to stderr, as run's)", stdout.String())
	}
	for _, want := range []string{
		"claims_transactions.csv.gz",
		"read 5567 = mapped 1579 + charges 3988 + exceptions 0",
		"payer_transitions.csv",
		"read 128 = mapped 123 + insured 5 + exceptions 0",
		"wrote claims.csv: 1579 rows",
		"wrote members.csv: 123 rows",
		"wrote exceptions.csv: 0 rows",
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, stderr.String())
		}
	}
}

// The variant extracts (testdata/import/*-variants) through import, run and
// verify: the only run exceptions are the claims of people who are no
// member (never insured, in no beneficiary summary), and claims outside
// cover (uninsured periods, gaps, after death) are denied PR-27, not paid.
func TestImportVariantsThenRun(t *testing.T) {
	for _, tc := range []struct {
		profile, dir, asOf string
		lines              int64
		exceptions, denied []string
	}{
		{"synthea", "synthea-variants", "2022-01-01", 19,
			[]string{"c10/1 UNKNOWN_MEMBER", "c11/1 UNKNOWN_MEMBER"},
			[]string{"c2/1 PR-27:85.55", "c3/1 PR-27:45.00", "c14/1 PR-27:136.80"}},
		{"cms-desynpuf", "desynpuf-variants", "2011-01-01", 22,
			[]string{"K3/1 UNKNOWN_MEMBER", "D2/1 UNKNOWN_MEMBER"},
			[]string{"K6/1 PR-27:60.00", "K4/1 PR-27:55.00", "K7/1 PR-27:60.00", "K10/1 PR-27:60.00"}},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			dir := t.TempDir()
			in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
			if code, msg := runCLI(t, "import", "--profile", tc.profile, "--in", filepath.Join(importSamples, tc.dir, "in"), "--out", in, "--quiet"); code != 0 {
				t.Fatalf("import: exit %d: %s", code, msg)
			}
			if code, msg := runCLI(t, "run", "--claims", filepath.Join(in, "claims.csv"), "--members", filepath.Join(in, "members.csv"), "--out", out, "--as-of", tc.asOf, "--quiet"); code != 0 {
				t.Fatalf("run: exit %d: %s", code, msg)
			}
			if code, msg := runCLI(t, "verify", out); code != 0 {
				t.Fatalf("verify: exit %d: %s", code, msg)
			}
			checkConservation(t, out, tc.lines)
			var exc, denied []string
			for _, x := range readCSV(t, filepath.Join(out, "exceptions.csv")) {
				exc = append(exc, x["claim_id"]+"/"+x["line_no"]+" "+x["code"])
			}
			for _, row := range readCSV(t, filepath.Join(out, "remittance.csv")) {
				if row["status"] == "DENIED" {
					denied = append(denied, row["claim_id"]+"/"+row["line_no"]+" "+row["adjustments"])
				}
			}
			if strings.Join(exc, ", ") != strings.Join(tc.exceptions, ", ") {
				t.Errorf("run exceptions %v, want %v", exc, tc.exceptions)
			}
			if strings.Join(denied, ", ") != strings.Join(tc.denied, ", ") {
				t.Errorf("denied %v, want %v", denied, tc.denied)
			}
		})
	}
}
