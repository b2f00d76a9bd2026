package pipeline

import (
	"bytes"
	"context"
	"encoding/csv"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"claimsbatch/claim"
	"claimsbatch/plan"
	"claimsbatch/synth"
	"claimsbatch/writers"
)

// testAsOf is the as-of date of the tests' runs: after every date the
// generator writes (service dates to 2025-12-31, received up to 60 days
// later).
var testAsOf = claim.FromCivil(2026, 6, 30)

// TestRunIsTheSameWhateverTheWorkersAndBudget runs one generated extract with
// every stage's goroutines busy (several workers, a budget so small that every
// partition is as small as it gets, a second night on the first's state) and
// checks that the outputs are byte-identical to a one-worker run that fits in
// memory. The Parquet runs on the small budget adjudicate every member with
// more than one line in segments, as a member with a huge history is, between
// the others. Under -race it is the pipeline's concurrency test.
func TestRunIsTheSameWhateverTheWorkersAndBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and runs 12,000 lines")
	}
	ctx := context.Background()
	gen := generate(t, synth.Config{Lines: 12000, Seed: 5, BadShare: 0.01})
	night := func(name string, workers int, budget int64, format writers.Format, claims, stateIn string) string {
		out := filepath.Join(t.TempDir(), name)
		segmentFrom, spillBlock := 0, 0
		if budget < 8<<30 {
			// Spill files read into blocks of 4 KiB, recycled from one
			// partition to the next: built with the spillcheck tag (make
			// test-race), a string kept past its partition changes the
			// outputs.
			spillBlock = 4 << 10
			if format == writers.Parquet {
				segmentFrom = 1
			}
		}
		_, err := Run(ctx, Config{
			Claims: []string{claims}, Members: gen.MembersPath, FX: gen.FXPath, StateIn: stateIn,
			OutDir: out, Format: format, Workers: workers, MemoryLimit: budget, BatchSize: 333,
			AsOf: testAsOf, segmentFrom: segmentFrom, spillBlock: spillBlock,
		})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return out
	}
	for _, format := range []writers.Format{writers.CSV, writers.Parquet} {
		want1 := night("want1", 1, 8<<30, format, gen.ClaimsPath, "")
		got1 := night("got1", 4, 1<<10, format, gen.ClaimsPath, "")
		sameFiles(t, want1, got1)
		// The second night feeds the same extract again on top of the
		// first: every line is a DUPLICATE_LINE from the state.
		state := filepath.Join(want1, writers.StateName+format.Ext())
		want2 := night("want2", 1, 8<<30, format, gen.ClaimsPath, state)
		got2 := night("got2", 3, 1<<10, format, gen.ClaimsPath, state)
		sameFiles(t, want2, got2)
	}
}

// sameFiles fails unless dirs a and b hold the same file names and bytes.
func sameFiles(t *testing.T, a, b string) {
	t.Helper()
	entries, err := os.ReadDir(a)
	if err != nil {
		t.Fatal(err)
	}
	other, err := os.ReadDir(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(other) {
		t.Fatalf("%s has %d files, %s has %d", a, len(entries), b, len(other))
	}
	for _, e := range entries {
		x, err := os.ReadFile(filepath.Join(a, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(b, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between %s and %s", e.Name(), a, b)
		}
	}
}

// TestTimelyFilingChain: with a filing limit (timely_filing_days: 60), a
// night's state keeps only the line keys served from its as-of less 60 days
// on (META keys_from); a later night denies PR-29 a line served before
// that, so an old line fed again is never paid twice, while a repeat still
// within the kept keys is a DUPLICATE_LINE.
func TestTimelyFilingChain(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p, err := plan.Parse("closecare+timely", append(plan.DefaultYAML(), "\ntimely_filing_days: 60\n"...))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	members := write("members.csv", "member_id,policy_id,coverage_start,date_of_birth,residence_country,origin_country,plan_currency,modules\n"+
		"M1,P1,2023-01-01,1980-01-01,FR,FR,EUR,core\n")
	const header = "claim_id,line_no,member_id,service_date,received_date,benefit_code,country,currency,billed_amount\n"
	line := func(id, served, received string) string {
		return id + ",1,M1," + served + "," + received + ",HOSPITAL_ACCOMMODATION,FR,EUR,100.00\n"
	}
	night := func(name, claims, stateIn, asOf string) (string, map[string]string) {
		out := filepath.Join(dir, name)
		day, err := claim.ParseDate(asOf)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Run(ctx, Config{Claims: []string{write(name+".csv", header+claims)}, Members: members, StateIn: stateIn, OutDir: out, Plan: p, AsOf: day})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := map[string]string{}
		for _, row := range readTable(t, filepath.Join(out, "remittance.csv")) {
			got[row["claim_id"]] = row["status"] + " " + row["adjustments"]
		}
		for _, row := range readTable(t, filepath.Join(out, "exceptions.csv")) {
			got[row["claim_id"]] = row["code"]
		}
		return out, got
	}
	out1, got := night("night1", line("C1", "2024-01-05", "2024-01-10")+line("C2", "2024-03-01", "2024-03-02")+
		line("C9", "2023-10-01", "2024-01-15"), "", "2024-03-02")
	if want := map[string]string{"C1": "PAID ", "C2": "PAID ", "C9": "DENIED PR-29:100.00"}; !maps.Equal(got, want) {
		t.Fatalf("night 1: %v, want %v", got, want)
	}
	// As of 2024-03-02 the keys served from 2024-01-02 on are kept.
	state1 := filepath.Join(out1, "state.csv")
	if keys := stateLines(t, state1); !slices.Equal(keys, []string{"C1", "C2"}) || metaDate(t, state1, "keys_from") != "2024-01-02" {
		t.Fatalf("night 1 state: keys %v, keys_from %q", keys, metaDate(t, state1, "keys_from"))
	}
	out2, got := night("night2", line("C2", "2024-03-01", "2024-03-02")+line("C3", "2024-05-01", "2024-05-03"), state1, "2024-05-03")
	if want := map[string]string{"C2": "DUPLICATE_LINE", "C3": "PAID "}; !maps.Equal(got, want) {
		t.Fatalf("night 2: %v, want %v", got, want)
	}
	// As of 2024-05-03 only keys served from 2024-03-04 on are kept: C1's
	// and C2's go.
	state2 := filepath.Join(out2, "state.csv")
	if keys := stateLines(t, state2); !slices.Equal(keys, []string{"C3"}) || metaDate(t, state2, "keys_from") != "2024-03-04" {
		t.Fatalf("night 2 state: keys %v, keys_from %q", keys, metaDate(t, state2, "keys_from"))
	}
	_, got = night("night3", line("C1", "2024-01-05", "2024-01-10")+line("C2", "2024-03-01", "2024-03-02")+
		line("C3", "2024-05-01", "2024-05-03")+line("C4", "2024-06-01", "2024-06-02"), state2, "2024-06-02")
	if want := map[string]string{"C1": "DENIED PR-29:100.00", "C2": "DENIED PR-29:100.00", "C3": "DUPLICATE_LINE", "C4": "PAID "}; !maps.Equal(got, want) {
		t.Fatalf("night 3: %v, want %v", got, want)
	}
}

func readTable(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]string
	for _, rec := range records[1:] {
		row := map[string]string{}
		for i, name := range records[0] {
			row[name] = rec[i]
		}
		rows = append(rows, row)
	}
	return rows
}

// stateLines returns the claim ids of a state file's LINE records.
func stateLines(t *testing.T, path string) []string {
	var ids []string
	for _, row := range readTable(t, path) {
		if row["kind"] == claim.KindLine {
			ids = append(ids, row["key"])
		}
	}
	return ids
}

// metaDate returns the scope of a state file's META row named key.
func metaDate(t *testing.T, path, key string) string {
	for _, row := range readTable(t, path) {
		if row["kind"] == claim.KindMeta && row["key"] == key {
			return row["scope"]
		}
	}
	return ""
}

// TestBrokenFileMidway: a claims file that breaks (an unbalanced quote)
// after thousands of good rows fails the run with the file and row, while
// every stage's goroutines are busy with the batches before it: no batch is
// released under a worker that is still pricing it (under -race this was a
// data race, and a crash: index out of range). Several times, since the
// timing varies.
func TestBrokenFileMidway(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and runs 12,000 lines")
	}
	ctx := context.Background()
	gen := generate(t, synth.Config{Lines: 12000, Seed: 6})
	data, err := os.ReadFile(gen.ClaimsPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	const at = 9000 // the data row that breaks
	broken := slices.Concat(lines[:at]...)
	broken = append(broken, []byte(`C9,1,"M9,2024-03-01`+"\n")...)
	broken = append(broken, slices.Concat(lines[at:]...)...)
	path := filepath.Join(filepath.Dir(gen.ClaimsPath), "broken.csv")
	if err := os.WriteFile(path, broken, 0o644); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		out := filepath.Join(t.TempDir(), "out")
		_, err := Run(ctx, Config{
			Claims: []string{path}, Members: gen.MembersPath, FX: gen.FXPath,
			OutDir: out, Workers: 4, MemoryLimit: 1 << 10, BatchSize: 64, AsOf: testAsOf,
		})
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte("broken.csv")) {
			t.Fatalf("try %d: error %v, want one naming broken.csv", i, err)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("try %d: %s exists after a failed run (%v)", i, out, err)
		}
	}
}

// TestPoolSize: the spill read blocks a run keeps stay within a sixteenth
// of its budget (at least two, at most 32 MiB of 1 MiB blocks).
func TestPoolSize(t *testing.T) {
	for _, c := range []struct {
		limit int64
		block int
		want  int
	}{
		{512 << 20, 0, 32}, {2 << 30, 0, 32}, {256 << 20, 0, 16}, {64 << 20, 0, 4}, {24 << 20, 0, 2}, {1 << 10, 4 << 10, 2}, {1 << 20, 4 << 10, 16},
	} {
		if got := poolSize(c.limit, c.block); got != c.want {
			t.Errorf("poolSize(%d, %d) = %d, want %d", c.limit, c.block, got, c.want)
		}
	}
}

// TestHashFile: an input's SHA-256, read in blocks of hashBlock, is the
// SHA-256 of the whole file, for files empty, smaller than a block, a
// block exactly and across blocks with a part-block at the end.
func TestHashFile(t *testing.T) {
	dir := t.TempDir()
	for _, size := range []int{0, 1000, hashBlock, 2*hashBlock + 12345} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i*7 + i>>11)
		}
		path := filepath.Join(dir, "in")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := hashFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if want := fileSHA256(t, path); got != want {
			t.Errorf("size %d: hashFile %s, want %s", size, got, want)
		}
	}
	if _, err := hashFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("hashFile of a missing file: no error")
	}
}

// TestLinesBuffersReused: the few buffers that a partitioned run's loads
// decode lines into are made once, for the largest partition, and go round
// (before, a buffer was made again whenever a partition was larger than
// the one that had freed it: 7 buffers for the 14 partitions of the 8 MiB
// run here, 18 for the 188 of a 10 M-line bench run, 300 MB made and
// cleared). A partition over twice the partition budget (a member with many
// lines, not split) gets a buffer of its own, dropped after it, and the
// next load makes one in its place.
func TestLinesBuffersReused(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and runs 12,000 lines, twice")
	}
	gen := generate(t, synth.Config{Lines: 12000, Seed: 5, BadShare: 0.01})
	re := regexp.MustCompile(`"partition lines buffers" made=(\d+) partitions=(\d+) oversized=(\d+)`)
	for _, limit := range []int64{1 << 20, 8 << 20} {
		var logs bytes.Buffer
		_, err := Run(context.Background(), Config{
			Claims: []string{gen.ClaimsPath}, Members: gen.MembersPath, FX: gen.FXPath,
			OutDir: filepath.Join(t.TempDir(), "out"), MemoryLimit: limit, AsOf: testAsOf, NoStream: true,
			Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		})
		if err != nil {
			t.Fatal(err)
		}
		m := re.FindStringSubmatch(logs.String())
		if m == nil {
			t.Fatalf("budget %d: no lines buffers in the debug log", limit)
		}
		made, _ := strconv.Atoi(m[1])
		parts, _ := strconv.Atoi(m[2])
		oversized, _ := strconv.Atoi(m[3])
		if parts < 10 {
			t.Fatalf("budget %d: %d partitions, want 10 or more for the buffers to go round", limit, parts)
		}
		if most := 3 + 2*oversized; made > most {
			t.Errorf("budget %d: %d lines buffers made for %d partitions (%d oversized), want at most %d", limit, made, parts, oversized, most)
		}
		if limit == 8<<20 && (oversized != 0 || made != 3) {
			t.Errorf("budget 8 MiB: %d buffers made, %d partitions oversized; want 3 and 0", made, oversized)
		}
	}
}
