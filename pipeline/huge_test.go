package pipeline

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"claimsbatch/synth"
	"claimsbatch/writers"
)

// TestHugeMemberInSegments: two members with every line of an extract
// between them (9,000 lines, then 7,000 more and 2,000 repeats on their
// state) are adjudicated in segments with three workers, and the outputs
// are byte for byte those of adjudicating them whole with room to spare,
// night 1 and night 2 (--state-in): CSV under a 1 KiB budget (a member
// range a member), Parquet under 2 MiB (ranges of several members, the
// second huge member's split as it is loaded). The run's log says which
// path it took.
func TestHugeMemberInSegments(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and runs 18,000 lines of two members, four times")
	}
	ctx := context.Background()
	gen := generate(t, synth.Config{Lines: 16000, Seed: 7})
	_, members := readCSVFile(t, gen.MembersPath)
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m[0]
	}
	slices.Sort(ids)
	header, rows := readCSVFile(t, gen.ClaimsPath)
	col := slices.Index(header, "member_id")
	for i, r := range rows {
		r[col] = ids[(i%2)*len(ids)/2] // the first member and one in the middle
	}
	writeClaims := func(name string, rows [][]string) string {
		path := filepath.Join(filepath.Dir(gen.ClaimsPath), name)
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		w := csv.NewWriter(f)
		w.Write(header)
		w.WriteAll(rows)
		w.Flush()
		if err := errors.Join(w.Error(), f.Close()); err != nil {
			t.Fatal(err)
		}
		return path
	}
	night1 := writeClaims("night1.csv", rows[:9000])
	night2 := writeClaims("night2.csv", rows[7000:])

	// run returns the run's folder and how many members its log says were
	// adjudicated in segments.
	run := func(name string, segmentFrom, workers int, budget int64, format writers.Format, claims, stateIn string) (string, string) {
		out := filepath.Join(t.TempDir(), name)
		var log bytes.Buffer
		_, err := Run(ctx, Config{
			Claims: []string{claims}, Members: gen.MembersPath, FX: gen.FXPath, StateIn: stateIn,
			OutDir: out, Format: format, Workers: workers, MemoryLimit: budget, AsOf: testAsOf,
			Logger: slog.New(slog.NewTextHandler(&log, nil)), segmentFrom: segmentFrom,
		})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		_, after, _ := strings.Cut(log.String(), "segmented_members=")
		segmented, _, _ := strings.Cut(after, "\n")
		return out, segmented
	}
	for _, format := range []writers.Format{writers.CSV, writers.Parquet} {
		budget := int64(1 << 10)
		if format == writers.Parquet {
			budget = 2 << 20
		}
		whole1, n := run("whole1", math.MaxInt32, 1, 8<<30, format, night1, "")
		if n != "0" {
			t.Fatalf("%s: the whole run adjudicated %s members in segments", format.Ext(), n)
		}
		seg1, n := run("seg1", 2000, 3, budget, format, night1, "")
		if n != "2" {
			t.Fatalf("%s: %s members adjudicated in segments, want the 2 with 4,500 lines each", format.Ext(), n)
		}
		sameFiles(t, whole1, seg1)
		state := filepath.Join(whole1, writers.StateName+format.Ext())
		whole2, _ := run("whole2", math.MaxInt32, 1, 8<<30, format, night2, state)
		seg2, n := run("seg2", 2000, 3, budget, format, night2, state)
		if n != "2" {
			t.Fatalf("%s: night 2: %s members adjudicated in segments, want 2", format.Ext(), n)
		}
		sameFiles(t, whole2, seg2)
		if format == writers.CSV {
			m := readManifestFile(t, seg2).ControlTotals
			if m.LinesRead != 9000 || m.ExceptionsByCode["DUPLICATE_LINE"] != 2000 {
				t.Fatalf("night 2 read %d lines with %d DUPLICATE_LINE, want 9,000 with the 2,000 of night 1", m.LinesRead, m.ExceptionsByCode["DUPLICATE_LINE"])
			}
		}
	}
}

// generate writes a synthetic extract (synth.Generate) into a fresh
// temporary directory.
func generate(t *testing.T, cfg synth.Config) synth.Result {
	t.Helper()
	cfg.Dir = t.TempDir()
	gen, err := synth.Generate(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return gen
}
