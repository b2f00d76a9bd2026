package main

// Issue 12, "safe to run unattended": one test (or more) per finding of the
// issue, each through the command line, as a nightly operator would run it.

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"claimsbatch/claim"
	"claimsbatch/writers"
)

// sampleWithLine writes the sample's claims plus extra rows (CSV lines in
// the sample's columns) into dir and returns its path.
func sampleWithLines(t *testing.T, dir string, rows ...string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(sample, "claims.csv"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "claims.csv")
	if err := os.WriteFile(path, append(data, []byte(strings.Join(rows, "\n")+"\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// stateRecords reads a state CSV, trailer included, as records; it checks
// nothing, so a test can edit a state and write it back with rewriteState.
func stateRecords(t *testing.T, path string) [][]string {
	t.Helper()
	return csvRecords(t, path)
}

// rewriteState writes state records (header first) to path with a fresh
// END trailer, as someone who knows the format could: only the range
// checks and the manifest can then tell.
func rewriteState(t *testing.T, path string, recs [][]string) {
	t.Helper()
	d := claim.NewStateDigest()
	var out [][]string
	for _, r := range recs {
		if r[0] == claim.KindEnd {
			continue
		}
		out = append(out, r)
		if r[0] == "kind" {
			continue
		}
		rec := claim.StateRecord{Kind: r[0], MemberID: r[1], Scope: claim.NoDate, Key: r[3], Detail: r[6]}
		if r[2] != "" {
			rec.Scope = mustParseDate(t, r[2])
		}
		var err error
		if rec.Amount, err = claim.ParseMoney(r[4]); err != nil {
			t.Fatal(err)
		}
		if rec.Count, err = strconv.ParseInt(r[5], 10, 64); err != nil {
			t.Fatal(err)
		}
		d.Add(&rec)
	}
	end := d.Trailer()
	out = append(out, []string{end.Kind, "", "", end.Key, "0.00", strconv.FormatInt(end.Count, 10), end.Detail})
	writeCSVFile(t, path, out)
}

func mustParseDate(t *testing.T, s string) claim.Date {
	t.Helper()
	d, err := claim.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// sampleIDs are every member, claim, policy and provider id of the sample's
// inputs.
func sampleIDs(t *testing.T) []string {
	t.Helper()
	var ids []string
	for _, name := range []string{"claims.csv", "members.csv"} {
		f, err := os.Open(filepath.Join(sample, name))
		if err != nil {
			t.Fatal(err)
		}
		r := csv.NewReader(f)
		r.FieldsPerRecord = -1 // the sample has a short row on purpose
		recs, err := r.ReadAll()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range recs[1:] {
			if name == "members.csv" {
				ids = append(ids, rec[0], rec[1]) // member_id, policy_id
			} else if len(rec) > 12 {
				ids = append(ids, rec[0], rec[2], rec[12]) // claim_id, member_id, provider_id
			}
		}
	}
	slices.Sort(ids)
	return slices.Compact(slices.DeleteFunc(ids, func(s string) bool { return s == "" }))
}

// checkNoIDs fails the test if text names one of ids as a word.
func checkNoIDs(t *testing.T, what, text string, ids []string) {
	t.Helper()
	for _, id := range ids {
		if regexp.MustCompile(`(^|[^A-Za-z0-9_-])` + regexp.QuoteMeta(id) + `($|[^A-Za-z0-9_-])`).MatchString(text) {
			t.Errorf("%s names %s:\n%s", what, id, text)
		}
	}
}

// TestAsOfIsAnInput covers finding 1: one line received on 2099-01-01 moved
// the state's as-of date to 2099 and pruned every accumulator. The as-of
// date is now an input: that line is an exception, the state's as-of is the
// run's, and a state of a later as-of date is refused.
func TestAsOfIsAnInput(t *testing.T) {
	dir := t.TempDir()
	claims := sampleWithLines(t, dir, "C9100,1,M101,2024-03-01,,2099-01-01,HOSPITAL_ACCOMMODATION,K35.8,,FR,N,,PR-HOSP1,,USD,100.00,")
	out := filepath.Join(dir, "out")
	runOK(t, "run", "--claims", claims, "--members", sample+"/members.csv", "--fx", sample+"/fx.csv", "--out", out, "--quiet", "--as-of", sampleAsOf)

	var row map[string]string
	for _, r := range readCSV(t, filepath.Join(out, "exceptions.csv")) {
		if r["row"] == "53" {
			row = r
		}
	}
	if row == nil || row["code"] != "INVALID_VALUE" || row["field"] != "received_date" || row["message"] != "received_date 2099-01-01 is after the run's as-of date 2025-05-02" {
		t.Errorf("row 53: %v", row)
	}
	recs := stateRecords(t, filepath.Join(out, "state.csv"))
	acc := 0
	for _, r := range recs {
		if r[0] == "META" && r[3] == "as_of" && r[2] != sampleAsOf {
			t.Errorf("state as_of %s, want %s", r[2], sampleAsOf)
		}
		if r[0] == "ACC" {
			acc++
		}
	}
	if acc != 42 { // the golden state's ACC rows: nothing pruned
		t.Errorf("%d ACC rows in the state, want the golden run's 42", acc)
	}
	m := readManifest(t, out)
	if m.AsOf != sampleAsOf {
		t.Errorf("manifest as_of %q", m.AsOf)
	}

	// The as-of date is part of the run id.
	other := filepath.Join(dir, "other")
	runOK(t, sampleArgs(other, "--as-of", "2025-06-30")...)
	golden := filepath.Join(dir, "golden")
	runOK(t, sampleArgs(golden)...)
	if a, b := readManifest(t, other).RunID, readManifest(t, golden).RunID; a == b {
		t.Errorf("the same run id %s for two as-of dates", a)
	}

	// The as-of date never moves backwards along a chain.
	back := filepath.Join(dir, "back")
	code, msg := runCLI(t, sampleArgs(back, "--as-of", "2025-05-01", "--state-in", filepath.Join(golden, "state.csv"))...)
	if code != 2 || !strings.Contains(msg, "state.csv was written as of 2025-05-02, after this run's as-of date 2025-05-01: the as-of date never moves backwards along a chain (pass --as-of 2025-05-02 or later; if that run's as-of date was a mistake, run its night again with the right --as-of and chain on that)") {
		t.Errorf("a state of a later as-of date: exit %d: %s", code, msg)
	}
	checkNothingPublished(t, back)
}

// TestAsOfDefault: without --as-of the run adjudicates as of the UTC date
// it runs on (the one place the clock enters), and says so in the manifest.
func TestAsOfDefault(t *testing.T) {
	for _, tc := range []struct {
		flag, want string
		now        time.Time
	}{
		{"", "2026-11-30", time.Date(2026, 11, 30, 23, 59, 0, 0, time.UTC)},
		{"", "2026-12-01", time.Date(2026, 11, 30, 23, 30, 0, 0, time.FixedZone("UTC-1", -3600))},
		{"2025-05-02", "2025-05-02", time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)},
	} {
		got, err := parseAsOf(tc.flag, tc.now)
		if err != nil || got.String() != tc.want {
			t.Errorf("parseAsOf(%q, %v) = %v, %v; want %s", tc.flag, tc.now, got, err, tc.want)
		}
	}
	for flag, want := range map[string]string{
		"2025-13-01": `--as-of "2025-13-01" is not a YYYY-MM-DD date`,
		"9999-01-01": "--as-of 9999-01-01 is outside 1900-01-01..2199-12-31",
		"1970-01-01": "--as-of 1970-01-01 is not accepted",
	} {
		if _, err := parseAsOf(flag, time.Now()); err == nil || !strings.Contains(err.Error(), want) || exitCode(err) != exitUsage {
			t.Errorf("parseAsOf(%q) = %v, want a usage error saying %q", flag, err, want)
		}
	}
	before := claim.DateOf(time.Now().UTC()).String()
	out := filepath.Join(t.TempDir(), "out")
	runOK(t, "run", "--claims", sample+"/claims.csv", "--members", sample+"/members.csv", "--fx", sample+"/fx.csv", "--out", out, "--quiet")
	after := claim.DateOf(time.Now().UTC()).String()
	if got := readManifest(t, out).AsOf; got != before && got != after {
		t.Errorf("manifest as_of %s, want today's UTC date %s", got, after)
	}
}

// TestStateCannotLie covers finding 2: a state cut at a row boundary was
// accepted (lines paid twice), accumulators edited to -5000 were accepted.
// Now the run refuses, exit 2, naming the file and the kind, scope and key,
// never a member.
func TestStateCannotLie(t *testing.T) {
	dir := t.TempDir()
	first := filepath.Join(dir, "first")
	runOK(t, sampleArgs(first)...)
	published := filepath.Join(first, "state.csv")
	recs := stateRecords(t, published)
	ids := sampleIDs(t)
	var deductibleRow int
	for i, r := range recs {
		if r[0] == "ACC" && r[1] == "M101" && r[3] == "deductible:core" {
			deductibleRow = i
		}
	}
	if deductibleRow == 0 {
		t.Fatal("no ACC deductible:core row of M101 in the state")
	}
	edit := func(amount string) [][]string {
		c := make([][]string, len(recs))
		for i := range recs {
			c[i] = slices.Clone(recs[i])
		}
		c[deductibleRow][4] = amount
		return c
	}
	for _, tc := range []struct {
		name  string
		write func(path string)
		want  string
	}{
		{"cut at a row boundary", func(path string) {
			writeCSVFile(t, path, recs[:len(recs)-20])
		}, "ends after row 109 without the END row that ends a version 4 state: the file was cut short or edited"},
		{"an accumulator edited", func(path string) {
			writeCSVFile(t, path, edit("5000.00"))
		}, "row 129: the rows before the END row have SHA-256"},
		{"an accumulator edited, the trailer recomputed", func(path string) {
			rewriteState(t, path, edit("-5000.00"))
		}, fmt.Sprintf("row %d: column amount: ACC 2024-01-01 deductible:core: amount -5000.00 is negative", deductibleRow)},
		{"over the plan's largest deductible", func(path string) {
			rewriteState(t, path, edit("20000.00"))
		}, fmt.Sprintf("row %d: ACC 2024-01-01 deductible:core: amount 20000.00 is more than the plan allows (10000.00): the file was edited, or written under another plan", deductibleRow)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.csv")
			tc.write(path)
			out := filepath.Join(t.TempDir(), "out")
			code, msg := runCLI(t, sampleArgs(out, "--state-in", path)...)
			if code != 2 || !strings.Contains(msg, path+": ") || !strings.Contains(msg, tc.want) {
				t.Errorf("exit %d, want 2 and %q:\n%s", code, tc.want, msg)
			}
			checkNoIDs(t, "the message", msg, ids)
			checkNothingPublished(t, out)
		})
	}

	// In its published folder, a state edited consistently (its trailer
	// recomputed, its values in range) still differs from its manifest.
	rewriteState(t, published, edit("300.00"))
	out := filepath.Join(dir, "second")
	code, msg := runCLI(t, sampleArgs(out, "--state-in", published)...)
	if code != 2 || !strings.Contains(msg, "the manifest.json beside it says") || !strings.Contains(msg, "the file was changed after its run published it") {
		t.Errorf("a state edited in its run folder: exit %d:\n%s", code, msg)
	}
	checkNoIDs(t, "the message", msg, ids)
	// verify says so too, from the manifest and the file's own trailer.
	code, msg = runCLI(t, "verify", first)
	if code != 1 || !strings.Contains(msg, "state.csv: sha256") {
		t.Errorf("verify of the edited run: exit %d:\n%s", code, msg)
	}
}

// TestOneRunPerFolder covers finding 3: a Parquet run or a validate into a
// folder of an earlier CSV run left its state.csv beside the new manifest,
// and verify said OK; --state-in inside --out was accepted; two runs into
// one --out were not locked against each other.
func TestOneRunPerFolder(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "2026-11-27")
	runOK(t, sampleArgs(out)...)
	runOK(t, sampleArgs(out, "--format", "parquet")...)
	if got := dirNames(t, out); !slices.Equal(got, []string{"exceptions.parquet", "manifest.json", "payments.parquet", "remittance.parquet", "report.html", "state.parquet"}) {
		t.Errorf("after a Parquet run over a CSV one: %v", got)
	}
	validate := []string{"validate", "--claims", sample + "/claims.csv", "--members", sample + "/members.csv", "--fx", sample + "/fx.csv", "--out", out, "--quiet", "--as-of", sampleAsOf}
	runOK(t, validate...)
	if got := dirNames(t, out); !slices.Equal(got, []string{"exceptions.csv", "manifest.json", "report.html"}) {
		t.Errorf("after a validate over a run: %v", got)
	}
	if code, msg := runCLI(t, "verify", out); code != 0 {
		t.Errorf("verify: exit %d: %s", code, msg)
	}
	if got := dirNames(t, dir); !slices.Equal(got, []string{"2026-11-27"}) {
		t.Errorf("beside --out: %v", got)
	}

	// A file no run published: verify flags it, a run refuses the folder
	// unless --force, which replaces it.
	notes := filepath.Join(out, "notes.txt")
	if err := os.WriteFile(notes, []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, msg := runCLI(t, "verify", out); code != 1 || !strings.Contains(msg, "notes.txt: not listed in manifest.json: not part of this run") {
		t.Errorf("verify with a foreign file: exit %d: %s", code, msg)
	}
	code, msg := runCLI(t, sampleArgs(out)...)
	if code != 2 || !strings.Contains(msg, `holds "notes.txt", which no claimsbatch run published there`) || !strings.Contains(msg, "--force") {
		t.Errorf("a run into a folder with a foreign file: exit %d: %s", code, msg)
	}
	if _, err := os.Stat(notes); err != nil {
		t.Errorf("the refused run touched notes.txt: %v", err)
	}
	runOK(t, sampleArgs(out, "--force")...)
	if got := dirNames(t, out); slices.Contains(got, "notes.txt") || len(got) != 6 {
		t.Errorf("after --force: %v", got)
	}

	// --state-in inside --out would be replaced by the run that reads it.
	code, msg = runCLI(t, sampleArgs(out, "--state-in", filepath.Join(out, "state.csv"))...)
	if code != 2 || !strings.Contains(msg, "--state-in "+out+"/state.csv is inside the output directory") {
		t.Errorf("--state-in inside --out: exit %d: %s", code, msg)
	}

	// Nor may the spill files live there.
	code, msg = runCLI(t, sampleArgs(out, "--tmp-dir", out)...)
	if code != 2 || !strings.Contains(msg, "the temporary directory "+out+" is inside the output directory") {
		t.Errorf("--tmp-dir inside --out: exit %d: %s", code, msg)
	}

	// A second run while one holds the folder fails at once.
	held, err := writers.NewPublisher(out, writers.PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	code, msg = runCLI(t, sampleArgs(out)...)
	held.Abort()
	if code != 2 || !strings.Contains(msg, out+".lock is held by a run still writing to "+out) {
		t.Errorf("a concurrent run: exit %d: %s", code, msg)
	}

	// A killed run's stage beside --out is cleared by the next run.
	stage := filepath.Join(dir, writers.TempPrefix+"2026-11-27-0123456789abcdef")
	if err := os.MkdirAll(stage, 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(stage, "remittance.csv"), []byte("half a run"), 0o640)
	runOK(t, sampleArgs(out)...)
	if got := dirNames(t, dir); !slices.Equal(got, []string{"2026-11-27"}) {
		t.Errorf("after a rerun over a killed run's stage: %v", got)
	}
}

// TestSignedManifest covers finding 4: a run signed with --sign-key checks
// with verify --key; once the manifest is edited it no longer does.
func TestSignedManifest(t *testing.T) {
	dir := t.TempDir()
	key, pub := filepath.Join(dir, "key.pem"), filepath.Join(dir, "key.pub")
	code, stdout, stderr := runCLISplit("keygen", key, pub)
	if code != 0 || !strings.HasPrefix(stdout, "key ") {
		t.Fatalf("keygen: exit %d: %s%s", code, stdout, stderr)
	}
	if st, err := os.Stat(key); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("private key mode %v (%v), want 0600", st.Mode(), err)
	}
	if code, _, stderr := runCLISplit("keygen", key, filepath.Join(dir, "other.pub")); code != 2 || !strings.Contains(stderr, "exists: keygen never overwrites a key") {
		t.Errorf("keygen over a key: exit %d: %s", code, stderr)
	}
	out := filepath.Join(dir, "out")
	runOK(t, sampleArgs(out, "--sign-key", key)...)
	if got := dirNames(t, out); !slices.Contains(got, writers.SignatureName) {
		t.Fatalf("no signature published: %v", got)
	}
	code, stdout, _ = runCLISplit("verify", "--key", pub, out)
	if code != 0 || !strings.Contains(stdout, "; signature checked (key ") {
		t.Errorf("verify --key: exit %d: %s", code, stdout)
	}
	code, stdout, _ = runCLISplit("verify", out)
	if code != 0 || !strings.Contains(stdout, "not checked (pass --key)") {
		t.Errorf("verify without --key: exit %d: %s", code, stdout)
	}
	// The same bytes as an unsigned run, but for the signature.
	unsigned := filepath.Join(dir, "unsigned")
	runOK(t, sampleArgs(unsigned)...)
	sameBytes(t, unsigned, out, "manifest.json")

	// Edit the manifest as someone who knows it would: a consistent change
	// (a note) that verify without a key cannot see.
	path := filepath.Join(out, writers.ManifestName)
	data, _ := os.ReadFile(path)
	edited := bytes.Replace(data, []byte(`"tool_version": "`), []byte(`"notes": ["approved by finance"],`+"\n  \"tool_version\": \""), 1)
	if err := os.WriteFile(path, edited, 0o640); err != nil {
		t.Fatal(err)
	}
	if code, msg := runCLI(t, "verify", out); code != 0 {
		t.Fatalf("the edit is not consistent, verify without a key sees it: exit %d: %s", code, msg)
	}
	code, stdout, _ = runCLISplit("verify", "--key", pub, out)
	if code != 1 || !strings.Contains(stdout, "manifest.json.sig: manifest signature does not verify: manifest.json was changed after it was signed") {
		t.Errorf("verify --key of an edited manifest: exit %d: %s", code, stdout)
	}
	if code, msg := runCLI(t, "verify", "--key", key, out); code != 2 || !strings.Contains(msg, "want a PEM \"PUBLIC KEY\" block") {
		t.Errorf("verify --key with the private key: exit %d: %s", code, msg)
	}
	if code, msg := runCLI(t, sampleArgs(filepath.Join(dir, "x"), "--sign-key", pub)...); code != 2 || !strings.Contains(msg, "--sign-key "+pub) {
		t.Errorf("run --sign-key with the public key: exit %d: %s", code, msg)
	}
}

// TestMembersWithoutValidMember covers finding 6: a members file with only
// a header turned every line into an exception and exited 0.
func TestMembersWithoutValidMember(t *testing.T) {
	dir := t.TempDir()
	recs := csvRecords(t, filepath.Join(sample, "members.csv"))
	headerOnly := filepath.Join(dir, "members.csv")
	writeCSVFile(t, headerOnly, recs[:1])
	allBad := filepath.Join(dir, "members-bad.csv")
	bad := [][]string{recs[0]}
	col := slices.Index(recs[0], "plan_currency")
	for _, r := range recs[1:] {
		r = slices.Clone(r)
		r[col] = "CHF" // not a currency of the plan
		bad = append(bad, r)
	}
	writeCSVFile(t, allBad, bad)
	for _, tc := range []struct{ members, want string }{
		{headerOnly, "members file " + headerOnly + " holds no member row (a header only?): every claim line would be an exception"},
		{allBad, "members file " + allBad + " holds no valid member (13 rows; its exceptions: INVALID_VALUE 13): every claim line would be an exception"},
	} {
		out := filepath.Join(dir, "out")
		code, msg := runCLI(t, "run", "--claims", sample+"/claims.csv", "--members", tc.members, "--fx", sample+"/fx.csv", "--out", out, "--quiet", "--as-of", sampleAsOf)
		if code != 2 || !strings.Contains(msg, tc.want) {
			t.Errorf("exit %d, want 2 and %q:\n%s", code, tc.want, msg)
		}
		checkNothingPublished(t, out)
	}
}

// TestGuardRails covers finding 7: --max-exception-share, the warning when
// most lines are exceptions, every missing column at once with a
// did-you-mean and a delimiter hint, plan --check with every problem.
func TestGuardRails(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	// The sample: 10 of 52 lines are exceptions (0.192).
	code, msg := runCLI(t, sampleArgs(out, "--max-exception-share", "0.1")...)
	want := "10 of the 52 lines read are exceptions, a share of 0.192, over the maximum of 0.1 (--max-exception-share); most are INVALID_MEMBER 2, INVALID_VALUE 2, DUPLICATE_LINE 1 and 5 other codes; nothing was published"
	if code != 1 || !strings.Contains(msg, want) {
		t.Errorf("over the share: exit %d, want 1 and %q:\n%s", code, want, msg)
	}
	checkNothingPublished(t, out)
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a run over the share left %s (%v)", out, err)
	}
	runOK(t, sampleArgs(out, "--max-exception-share", "0.2")...)
	if code, msg := runCLI(t, sampleArgs(out, "--max-exception-share", "1.5")...); code != 2 || !strings.Contains(msg, "is not a share between 0 and 1") {
		t.Errorf("--max-exception-share 1.5: exit %d: %s", code, msg)
	}

	// Most lines exceptions: a warning, also under --quiet.
	recs := csvRecords(t, filepath.Join(sample, "claims.csv"))
	member := slices.Index(recs[0], "member_id")
	for _, r := range recs[1:30] {
		if len(r) > member {
			r[member] = "NOBODY"
		}
	}
	mostlyBad := filepath.Join(dir, "claims.csv")
	writeCSVFile(t, mostlyBad, recs)
	code, msg = runCLI(t, "run", "--claims", mostlyBad, "--members", sample+"/members.csv", "--fx", sample+"/fx.csv", "--out", filepath.Join(dir, "bad"), "--quiet", "--as-of", sampleAsOf)
	if code != 0 || !strings.Contains(msg, `level=WARN msg="more than half of the lines read are exceptions" lines_read=52 exceptions=37 share=0.712 top_codes="UNKNOWN_MEMBER 30, INVALID_MEMBER 2, INVALID_VALUE 2 and 3 other codes"`) {
		t.Errorf("mostly exceptions: exit %d:\n%s", code, msg)
	}

	// An as-of date after today (a mistyped year): a warning, also under
	// --quiet, and the summary names the as-of date.
	code, msg = runCLI(t, "run", "--claims", sample+"/claims.csv", "--members", sample+"/members.csv", "--fx", sample+"/fx.csv", "--out", filepath.Join(dir, "future"), "--as-of", "2199-01-01")
	if code != 0 || !strings.Contains(msg, `level=WARN msg="the as-of date is after today: lines received up to it are accepted, the state is pruned from it, and a run that chains on this one cannot take an earlier as-of date" as_of=2199-01-01`) ||
		!strings.Contains(msg, " as of 2199-01-01 → "+filepath.Join(dir, "future")) {
		t.Errorf("future as-of: exit %d:\n%s", code, msg)
	}
	if _, msg = runCLI(t, sampleArgs(filepath.Join(dir, "today"))...); strings.Contains(msg, "after today") {
		t.Errorf("a past as-of date warned:\n%s", msg)
	}

	// Every missing column at once, with what the header may mean.
	semicolons := filepath.Join(dir, "semicolons.csv")
	os.WriteFile(semicolons, []byte("claim_id;line_no;member_id;service_date;benefit_code;country;currency;billed_amount\nC1;1;M1;2024-01-01;X;FR;EUR;1.00\n"), 0o644)
	typos := filepath.Join(dir, "typos.csv")
	os.WriteFile(typos, []byte("claimid,line_no,member id,service_date,benefit_code,country,currency,billed_amt\n"), 0o644)
	for path, want := range map[string]string{
		semicolons: "missing required columns claim_id, line_no, member_id, service_date, benefit_code, country, currency, billed_amount; the header looks ';'-separated, but claimsbatch reads comma-separated CSV",
		typos:      `missing required columns claim_id (did you mean "claimid"?), member_id (did you mean "member id"?), billed_amount (did you mean "billed_amt"?)`,
	} {
		code, msg := runCLI(t, "run", "--claims", path, "--members", sample+"/members.csv", "--out", filepath.Join(dir, "cols"), "--quiet", "--as-of", sampleAsOf)
		if code != 2 || !strings.Contains(msg, path+": "+want) {
			t.Errorf("exit %d, want 2 and %q:\n%s", code, want, msg)
		}
	}

	// plan --check: every problem with its line.
	text := strings.Replace(string(mustRead(t, "../../plan/closecare.yaml")), "    days: 60", "    dayz: 60", 1)
	text = strings.Replace(text, "    limit: {USD: 5000, EUR: 3700, GBP: 3325}", "    limit: {USD: -5, EUR: 3700, GBP: 3325}", 1)
	planPath := filepath.Join(dir, "plan.yaml")
	os.WriteFile(planPath, []byte(text), 0o644)
	code, msg = runCLI(t, "plan", "--check", planPath)
	if code != 2 || !strings.Contains(msg, "claimsbatch: invalid plan: "+planPath+":\n  line 70: unknown key \"dayz\"") ||
		!strings.Contains(msg, "\n  line 93: benefits[4] (KIDNEY_DIALYSIS).limit.USD: negative amount -5.00") {
		t.Errorf("plan --check: exit %d:\n%s", code, msg)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestNoIDsInMessages covers finding 8 ("a state parse error echoes a
// member id into the log; verify mismatch messages print claim ids"): a run
// at the most verbose level, runs on broken states and verify of a
// tampered run say nothing that names a member or a claim of the inputs.
func TestNoIDsInMessages(t *testing.T) {
	ids := sampleIDs(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	code, msg := runCLI(t, "run", "--claims", sample+"/claims.csv", "--members", sample+"/members.csv", "--fx", sample+"/fx.csv", "--out", good, "--as-of", sampleAsOf, "--debug")
	if code != 0 || !strings.Contains(msg, "level=INFO") {
		t.Fatalf("exit %d:\n%s", code, msg)
	}
	checkNoIDs(t, "the run's log", msg, ids)

	recs := stateRecords(t, filepath.Join(good, "state.csv"))
	broken := map[string][][]string{}
	shifted := make([][]string, len(recs))
	for i, r := range recs {
		shifted[i] = slices.Clone(r)
		if r[0] == "ACC" && r[1] == "M203" {
			shifted[i][2] = "M203" // a member id where a date belongs
		}
	}
	broken["shifted"] = shifted
	unknown := slices.Clone(recs)
	unknown = slices.Insert(unknown, 10, []string{"ACC", "M204", "2024-01-01", "benefit:NOT_IN_PLAN", "1.00", "0", ""})
	broken["unknown accumulator"] = unknown
	lines := slices.Clone(recs)
	lines = slices.Insert(lines, 10, []string{"LINE", "M204", "2024-01-01", "C2301", "-1.00", "1", ""})
	broken["negative line"] = lines
	for name, recs := range broken {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".csv")
		if name == "shifted" {
			writeCSVFile(t, path, recs)
		} else {
			rewriteState(t, path, recs)
		}
		code, msg := runCLI(t, sampleArgs(filepath.Join(dir, "out-"+name), "--state-in", path, "--debug")...)
		if code != 2 {
			t.Errorf("%s state: exit %d:\n%s", name, code, msg)
		}
		checkNoIDs(t, "the run on a "+name+" state", msg, ids)
	}

	// verify of a run whose remittance, payments and exceptions were
	// changed, hashes and all.
	for _, name := range []string{"remittance.csv", "payments.csv", "exceptions.csv"} {
		flipAmountDigit(t, filepath.Join(good, name))
	}
	editManifestTotals := readManifest(t, good)
	editManifestTotals.ControlTotals.PerCurrency[0].PlanPaid++
	var buf bytes.Buffer
	writers.WriteManifest(&buf, editManifestTotals)
	os.WriteFile(filepath.Join(good, "manifest.json"), buf.Bytes(), 0o640)
	code, msg = runCLI(t, "verify", good)
	if code != 1 {
		t.Errorf("verify of a tampered run: exit %d:\n%s", code, msg)
	}
	checkNoIDs(t, "verify's report", msg, ids)
}

// TestMessagesWithoutPackagePrefixes covers finding 9: what a user reads
// says what is wrong, not which Go package noticed.
func TestMessagesWithoutPackagePrefixes(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"run", "--claims", filepath.Join(dir, "nope.csv"), "--members", sample + "/members.csv", "--out", filepath.Join(dir, "o")},
		{"run", "--claims", "../../testdata/bad/claims_corrupt.csv.gz", "--members", sample + "/members.csv", "--out", filepath.Join(dir, "o")},
		{"run", "--claims", "../../testdata/bad/claims_missing_column.csv", "--members", sample + "/members.csv", "--out", filepath.Join(dir, "o")},
		{"verify", dir},
		{"plan", "--check", filepath.Join(dir, "nope.yaml")},
	} {
		_, msg := runCLI(t, args...)
		if packagePrefix.MatchString(msg) {
			t.Errorf("claimsbatch %s: a package prefix in %q", strings.Join(args, " "), msg)
		}
	}
	if got := userMessage(fmt.Errorf("pipeline: configuration error: readers: x.csv: row 2: %w", writers.ErrClosed)); got != "configuration error: x.csv: row 2: already closed" {
		t.Errorf("userMessage = %q", got)
	}
}

// TestProgressRate covers finding 9: the progress line shows no rate (nor a
// time left) until its phase has run for a second.
func TestProgressRate(t *testing.T) {
	for _, tc := range []struct {
		done, total int64
		elapsed     time.Duration
		want        string
	}{
		{5000, 0, 100 * time.Millisecond, "reading"},
		{5000, 100000, 999 * time.Millisecond, "reading"},
		{5000, 0, 2 * time.Second, "reading  2500 rows/s"},
		{5000, 100000, 2 * time.Second, "reading  2500 rows/s  ETA 38s"},
	} {
		if got := describe("reading", tc.done, tc.total, tc.elapsed); got != tc.want {
			t.Errorf("describe(%d, %d, %v) = %q, want %q", tc.done, tc.total, tc.elapsed, got, tc.want)
		}
	}
}

// TestProgressLogTotal checks the log form of the progress (not a
// terminal): a phase that knows its total says it, the reading phase,
// which does not, says no total rather than "total=0".
func TestProgressLogTotal(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, slog.New(slog.NewTextHandler(&out, nil)))
	p.update("reading", 5000, 0)
	p.last = time.Time{}
	p.update("adjudicating", 100, 200)
	logged := out.String()
	if !strings.Contains(logged, "msg=progress phase=reading done=5000\n") || !strings.Contains(logged, "msg=progress phase=adjudicating done=100 total=200") {
		t.Errorf("progress log:\n%s", logged)
	}
}

// TestParseSize covers the SIZE part of the memory bullet:
// --memory-limit accepts 512MiB, 2GiB and 2G, and refuses what int64 cannot
// hold instead of falling back to the default.
func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"512MiB": 512 << 20, "2GiB": 2 << 30, "2G": 2 << 30, "2g": 2 << 30, "1KiB": 1024, "800MB": 800e6,
		"1048576": 1 << 20, "64 MiB": 64 << 20, "3T": 3 << 40, "8191PiB": 0,
	} {
		got, err := parseSize(in)
		if want == 0 {
			if err == nil {
				t.Errorf("parseSize(%q) = %d, want an error", in, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for in, msg := range map[string]string{
		"8388608TiB":           `"8388608TiB" is too large (the most is 9223372036854775807 bytes, 8 EiB)`,
		"99999999999999999999": `"99999999999999999999" is too large`,
		"0":                    `"0" is not a size such as 512MiB, 2GiB or 2G`,
		"-1GiB":                `"-1GiB" is not a size`,
		"lots":                 `"lots" is not a size`,
	} {
		if _, err := parseSize(in); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("parseSize(%q) = %v, want %q", in, err, msg)
		}
	}
}
