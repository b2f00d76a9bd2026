package pipeline

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"claimsbatch/claim"
	"claimsbatch/synth"
	"claimsbatch/writers"
)

// TestStreamedRunIsThePartitioned runs claims ordered by member, which the
// run streams (stream.go), and checks every output, byte for byte, against
// the same run through the member partitions (Config.NoStream): with
// repeats within members (the generator's bad rows, a second night on the
// first's state), members with --state-in records and no lines, several
// workers, small batches and a budget that spills the keys, CSV and
// Parquet. The cases that must leave the stream (a repeat across members,
// in the input or against another member's state, a row out of order late
// in a file or in a second file) check the
// reason the log gives and that the outputs are still the partitioned
// path's; --claims files that cannot be in member order one after the
// other (given in the wrong order, or each over all the members) take the
// partitioned path before the read. Members past the size adjudicated whole go in segments, as on
// the partitioned path (huge.go). Under -race it is the stream's
// concurrency test.
func TestStreamedRunIsThePartitioned(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and runs 6,000 lines many times")
	}
	ctx := context.Background()
	sorted := generate(t, synth.Config{Lines: 6000, Seed: 31, BadShare: 0.01, Sorted: true})
	other := generate(t, synth.Config{Lines: 6000, Seed: 31, BadShare: 0.01})
	dir := t.TempDir()
	// The rows as written (the generator's bad rows are not all CSV a
	// strict reader takes): one a line, the header first.
	raw, err := os.ReadFile(sorted.ClaimsPath)
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	header := rows[0]
	rows = rows[1:]
	fields := func(row string) []string {
		r := csv.NewReader(strings.NewReader(row))
		r.LazyQuotes, r.FieldsPerRecord = true, -1
		f, _ := r.Read()
		return f
	}
	member := slices.Index(fields(header), "member_id")
	if member < 0 {
		t.Fatalf("columns %v", header)
	}
	memberOf := func(i int) string {
		if f := fields(rows[i]); member < len(f) {
			return f[member]
		}
		return ""
	}
	file := func(name string, rows []string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(header+"\n"+strings.Join(rows, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	// Two files cut between two members.
	cut := len(rows) / 2
	for memberOf(cut) == memberOf(cut-1) {
		cut++
	}
	first, second := file("first.csv", rows[:cut]), file("second.csv", rows[cut:])
	// Every other row, in two files: each member's lines over two nights.
	var odd, even []string
	for i, row := range rows {
		if i%2 == 0 {
			odd = append(odd, row)
		} else {
			even = append(even, row)
		}
	}
	oddFile, evenFile := file("odd.csv", odd), file("even.csv", even)
	// A row out of order at the end.
	late := file("late.csv", append(slices.Clone(rows[1:]), rows[0]))
	// Two files cut between two members, a row of the first file's
	// second member moved into the second file after its first rows: the
	// second file begins after the first file's first member, so only the
	// read finds the order broken.
	moveFrom := 1
	for memberOf(moveFrom) == memberOf(0) {
		moveFrom++
	}
	overlapA := slices.Delete(slices.Clone(rows[:cut]), moveFrom, moveFrom+1)
	overlapB := slices.Insert(slices.Clone(rows[cut:]), 3, rows[moveFrom])
	overlapFirst, overlapSecond := file("overlap-a.csv", overlapA), file("overlap-b.csv", overlapB)
	// A line of the first member sent again under the next member: a
	// repeat across members, in member order.
	at := 1
	for memberOf(at) == memberOf(0) {
		at++
	}
	moved := fields(rows[0])
	moved[member] = memberOf(at)
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write(moved)
	w.Flush()
	across := file("across.csv", slices.Insert(slices.Clone(rows), at+1, strings.TrimSuffix(b.String(), "\n")))

	type want struct {
		streamed  bool   // the stream went to the end
		restart   string // else: the reason the log gives
		upfront   string // or: why the files were taken as not ordered before the read
		segmented bool   // members adjudicated in segments (huge.go)
	}
	night := func(name string, claims []string, stateIn string, format writers.Format, noStream bool, workers int, budget int64, batch, segmentFrom int) (string, string) {
		t.Helper()
		out := filepath.Join(t.TempDir(), name)
		var logs bytes.Buffer
		// Progress is called from one goroutine at a time: under -race,
		// calls from two at once would show on calls.
		calls := 0
		_, err := Run(ctx, Config{
			Progress: func(string, int64, int64) { calls++ },
			Claims:   claims, Members: sorted.MembersPath, FX: sorted.FXPath, StateIn: stateIn,
			OutDir: out, Format: format, Workers: workers, MemoryLimit: budget, BatchSize: batch,
			AsOf: testAsOf, NoStream: noStream, segmentFrom: segmentFrom, spillBlock: 4 << 10,
			Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return out, logs.String()
	}
	for _, format := range []writers.Format{writers.CSV, writers.Parquet} {
		ownState, _ := night("own", []string{sorted.ClaimsPath}, "", format, true, 1, 512<<20, 0, 0)
		ownState = filepath.Join(ownState, writers.StateName+format.Ext())
		otherState, _ := night("other", []string{other.ClaimsPath}, "", format, true, 1, 512<<20, 0, 0)
		otherState = filepath.Join(otherState, writers.StateName+format.Ext())
		oddState, _ := night("odd", []string{oddFile}, "", format, true, 1, 512<<20, 0, 0)
		oddState = filepath.Join(oddState, writers.StateName+format.Ext())
		cases := []struct {
			name        string
			claims      []string
			stateIn     string
			segmentFrom int
			want        want
		}{
			{"sorted", []string{sorted.ClaimsPath}, "", 0, want{streamed: true}},
			{"two files in order", []string{first, second}, "", 0, want{streamed: true}},
			{"second night on its state", []string{sorted.ClaimsPath}, ownState, 0, want{streamed: true}},
			{"state-only members", []string{second}, ownState, 0, want{streamed: true}},
			{"state of another extract", []string{sorted.ClaimsPath}, otherState, 0, want{restart: "repeat a key of another member"}},
			{"repeat across members", []string{across}, "", 0, want{restart: "1 lines repeat a key of another member"}},
			{"late row", []string{late}, "", 0, want{restart: fmt.Sprintf("late.csv row %d belongs to a member before", len(rows))}},
			{"files in the wrong order", []string{second, first}, "", 0, want{upfront: "first.csv (--claims file 2 of 2) begins with a member before the last of second.csv (file 1)"}},
			{"files each over all members", []string{oddFile, evenFile}, "", 0, want{upfront: "even.csv (--claims file 2 of 2) begins with a member before the last of odd.csv (file 1)"}},
			{"files that overlap", []string{overlapFirst, overlapSecond}, "", 0, want{restart: "overlap-b.csv (--claims file 2 of 2) row 4 belongs to a member before"}},
			{"members in segments", []string{sorted.ClaimsPath}, "", 20, want{streamed: true, segmented: true}},
			{"members in segments, on their state", []string{evenFile}, oddState, 20, want{streamed: true, segmented: true}},
		}
		for _, c := range cases {
			t.Run(format.String()+"/"+c.name, func(t *testing.T) {
				ref, refLog := night("partitioned", c.claims, c.stateIn, format, true, 1, 512<<20, 0, c.segmentFrom)
				if strings.Contains(refLog, "ordered by member") {
					t.Fatalf("NoStream streamed:\n%s", refLog)
				}
				for _, v := range []struct {
					workers, batch int
					budget         int64
				}{{4, 333, 512 << 20}, {3, 7, 256 << 10}} {
					got, log := night("streamed", c.claims, c.stateIn, format, false, v.workers, v.budget, v.batch, c.segmentFrom)
					sameFiles(t, ref, got)
					if c.want.upfront != "" {
						// Partitioned from the start: nothing streamed,
						// no restart.
						if !strings.Contains(log, "not in member order from one to the next") || !strings.Contains(log, c.want.upfront) ||
							strings.Contains(log, "claims ordered by member") || strings.Contains(log, "starts again") {
							t.Errorf("workers %d batch %d: want the partitioned path from the start, saying %q:\n%s", v.workers, v.batch, c.want.upfront, log)
						}
						continue
					}
					if !strings.Contains(log, "claims ordered by member") {
						t.Fatalf("workers %d batch %d: the run did not stream:\n%s", v.workers, v.batch, log)
					}
					streamed := strings.Contains(log, "msg=streamed")
					restarted := strings.Contains(log, "starts again on the partitioned path")
					switch {
					case c.want.streamed && (!streamed || restarted):
						t.Errorf("workers %d batch %d: want the stream to the end:\n%s", v.workers, v.batch, log)
					case !c.want.streamed && (!restarted || !strings.Contains(log, c.want.restart)):
						t.Errorf("workers %d batch %d: want a restart saying %q:\n%s", v.workers, v.batch, c.want.restart, log)
					case c.want.streamed && v.budget < 1<<20 && !strings.Contains(log, "spilled_to_disk=true"):
						t.Errorf("budget %d: want the keys spilled:\n%s", v.budget, log)
					case c.want.segmented == strings.Contains(log, "segmented_members=0"):
						t.Errorf("want members in segments %v:\n%s", c.want.segmented, log)
					}
					// The batches' text goes back as members are written,
					// also when every line is a repeat (nothing is held):
					// no member here spans more than two batches of 333.
					if c.want.streamed && v.batch == 333 {
						m := regexp.MustCompile(`most_batches=(\d+)`).FindStringSubmatch(log)
						if m == nil {
							t.Fatalf("no most_batches in the log:\n%s", log)
						}
						if n, _ := strconv.Atoi(m[1]); n > streamHolds+2 {
							t.Errorf("%d batches held at once, want at most %d", n, streamHolds+2)
						}
					}
				}
			})
		}
	}
}

// TestUnorderedClaimsDoNotStream: claims not ordered by member go through
// the partitions from their first batch, with nothing streamed and no
// restart.
func TestUnorderedClaimsDoNotStream(t *testing.T) {
	gen := generate(t, synth.Config{Lines: 3000, Seed: 32})
	var logs bytes.Buffer
	_, err := Run(context.Background(), Config{
		Claims: []string{gen.ClaimsPath}, Members: gen.MembersPath, FX: gen.FXPath,
		OutDir: filepath.Join(t.TempDir(), "out"), AsOf: testAsOf,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	log := logs.String()
	if strings.Contains(log, "ordered by member") || !strings.Contains(log, "msg=partitioned") {
		t.Errorf("want the partitioned path from the start:\n%s", log)
	}
}

// TestStreamInterrupted: a streamed run cancelled half-way through the
// read stops its adjudication, publishes nothing and leaves no goroutine
// behind.
func TestStreamInterrupted(t *testing.T) {
	gen := generate(t, synth.Config{Lines: 6000, Seed: 33, Sorted: true})
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := filepath.Join(t.TempDir(), "out")
	var logs bytes.Buffer
	_, err := Run(ctx, Config{
		Claims: []string{gen.ClaimsPath}, Members: gen.MembersPath, FX: gen.FXPath,
		OutDir: out, AsOf: testAsOf, BatchSize: 100, Workers: 2,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Progress: func(phase string, done, _ int64) {
			if phase == "reading" && done >= 3000 {
				cancel()
			}
		},
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want the cancellation", err)
	}
	if !strings.Contains(logs.String(), "claims ordered by member") {
		t.Fatalf("the run did not stream:\n%s", logs.String())
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("--out exists after an interrupted run: %v", err)
	}
	// The readers' and writers' goroutines end shortly after Run returns.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after the run, %d before", n, before)
	}
}

// TestStreamRepeats: a repeat is found among its member's kept lines and
// --state-in LINE records, one by one for a few keys and through a map for
// many, also once the member's lines are records of a huge member; keys of
// other kinds of state records, or with another line number, are not
// repeats.
func TestStreamRepeats(t *testing.T) {
	line := func(claimID string, lineNo int32) claim.Line {
		return claim.Line{ClaimID: claimID, LineNo: lineNo, MemberID: "M1", ServiceDate: 100, ReceivedDate: 101}
	}
	for _, n := range []int{3, manyKeys + 10} {
		for _, huge := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d keys, huge %v", 2*n, huge), func(t *testing.T) {
				s := &stream{cur: 0}
				for i := range n {
					s.curState = append(s.curState,
						claim.StateRecord{Kind: claim.KindLine, MemberID: "M1", Key: fmt.Sprintf("S%d", i), Count: 1},
						claim.StateRecord{Kind: "DED", MemberID: "M1", Key: fmt.Sprintf("X%d", i), Count: 1})
					s.held = append(s.held, line(fmt.Sprintf("L%d", i), 2))
				}
				if huge {
					s.toHuge(0)
					if len(s.held) != 0 || len(s.curHuge.index) != n {
						t.Fatalf("toHuge: %d held, %d records", len(s.held), len(s.curHuge.index))
					}
				}
				for _, c := range []struct {
					l    claim.Line
					want bool
				}{
					{line("S0", 1), true},
					{line(fmt.Sprintf("S%d", n-1), 1), true},
					{line("L0", 2), true},
					{line(fmt.Sprintf("L%d", n-1), 2), true},
					{line("S0", 2), false},  // another line of the claim
					{line("L0", 1), false},  // the same
					{line("X0", 1), false},  // an accumulator's key, not a line's
					{line("L", 2), false},   // a prefix
					{line("NEW", 1), false}, // nothing like it
				} {
					if got := s.repeats(&c.l); got != c.want {
						t.Errorf("repeats(%s, %d) = %v, want %v", c.l.ClaimID, c.l.LineNo, got, c.want)
					}
				}
				if many := huge || 3*n > manyKeys; many != (s.curKeys != nil) {
					t.Errorf("map made %v, want %v", s.curKeys != nil, many)
				}
			})
		}
	}
}

// TestDetachLineCoversEveryString: after detachLine, no string field of a
// claim.Line points into the text it was read from (a field added to
// claim.Line and left out of detachLine would, and a streamed run would
// read it after its batch was reused).
func TestDetachLineCoversEveryString(t *testing.T) {
	src := []byte(strings.Repeat("x", 64))
	var l claim.Line
	v := reflect.ValueOf(&l).Elem()
	n := 0
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.String {
			f.SetString(unsafe.String(&src[i], 3))
			n++
		}
	}
	if n < 13 {
		t.Fatalf("only %d string fields in claim.Line", n)
	}
	arena := detachLine(nil, &l)
	for i := range src {
		src[i] = '!'
	}
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.String && f.String() != "xxx" {
			t.Errorf("claim.Line.%s = %q after its source changed: not detached", v.Type().Field(i).Name, f.String())
		}
	}
	if len(arena) != 3*n {
		t.Errorf("arena holds %d bytes, want %d", len(arena), 3*n)
	}
}
