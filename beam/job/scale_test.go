package job

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

// TestToyScale measures the toy on in-process Prism at a size given by
// CLAIMSBATCH_BEAM_TOY_LINES (skipped when unset): lines read from two CSV
// files in 4 MiB splits, three shuffles, four outputs. It prints wall time
// and the process's peak RSS; the outputs must still equal the reference.
func TestToyScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("CLAIMSBATCH_BEAM_TOY_LINES"))
	if n <= 0 {
		t.Skip("set CLAIMSBATCH_BEAM_TOY_LINES to run")
	}
	readDelay = 0
	defer func() { readDelay = 20 * time.Millisecond }()
	in := toyGenerated(n)
	for i := range in.lines {
		in.lines[i].Source = int32(i % 2)
		in.lines[i].Row = int64(i/2 + 1)
	}
	dir := t.TempDir()
	files := []string{filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.csv")}
	writeToyFiles(t, in, files)
	start := time.Now()
	p, s := beam.NewPipelineWithRoot()
	lines := beam.ParDo(s, &readToySplitFn{}, SplitFiles(s, files, 4<<20))
	out := t.TempDir()
	if err := runToyWith(t, p, lines, in, out, 8, Fault{}); err != nil {
		t.Fatal(err)
	}
	wall := time.Since(start)
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	t.Logf("%d lines: wall %s (%.0f lines/s), peak RSS %.0f MiB, user CPU %.1fs", n, wall.Round(time.Millisecond),
		float64(n)/wall.Seconds(), float64(ru.Maxrss)/1024, time.Duration(ru.Utime.Nano()).Seconds())
	if got, want := readOutputs(t, out), toyReference(in); !equalOutputs(got, want) {
		t.Error("outputs differ from the reference")
	}
}
