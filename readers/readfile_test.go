package readers

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"claimsbatch/internal/arrowmem"
	benefitplan "claimsbatch/plan"
)

// TestReadFileFigures measures whole-file reads of the claims file named by
// CLAIMSBATCH_READ_FILE with the built-in plan, and is skipped without it:
//
//	CLAIMSBATCH_READ_FILE=bench/data/10000000-parquet/claims.parquet \
//	CLAIMSBATCH_READ_WORKERS=1,2 CLAIMSBATCH_READ_REPEAT=3 \
//	go test -run TestReadFileFigures -v -timeout 1h ./readers
//
// Each read goes through NextBatch (batches released as read) and is
// reported with wall time, CPU time (user + system of the process, so the
// garbage collector's share is in it), lines per second, CPU per line, CPU
// over wall (cores kept busy), GC cycles and bytes allocated. Arrow's
// default allocator is internal/arrowmem's pool, as in a run.
func TestReadFileFigures(t *testing.T) {
	path := os.Getenv("CLAIMSBATCH_READ_FILE")
	if path == "" {
		t.Skip("CLAIMSBATCH_READ_FILE is not set")
	}
	arrowmem.Install()
	workers := []int{1, 2}
	if s := os.Getenv("CLAIMSBATCH_READ_WORKERS"); s != "" {
		workers = nil
		for _, w := range strings.Split(s, ",") {
			n, err := strconv.Atoi(w)
			if err != nil {
				t.Fatal(err)
			}
			workers = append(workers, n)
		}
	}
	repeat, _ := strconv.Atoi(os.Getenv("CLAIMSBATCH_READ_REPEAT"))
	repeat = max(repeat, 1)
	p := benefitplan.Default()
	for _, w := range workers {
		for range repeat {
			var ms0, ms1 runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms0)
			cpu0, t0 := cpuTime(), time.Now()
			r, err := OpenClaims(path, 0, p, Options{Workers: w})
			if err != nil {
				t.Fatal(err)
			}
			var rows, lines int64
			if err := eachBatch(r, func(b *Batch) {
				rows += int64(b.NumRows)
				lines += int64(len(b.Lines))
				b.Release()
			}); err != nil {
				t.Fatal(err)
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			wall, cpu := time.Since(t0), cpuTime()-cpu0
			runtime.ReadMemStats(&ms1)
			load, _ := os.ReadFile("/proc/loadavg")
			t.Logf("workers %d: %d rows (%d lines) in %.2f s wall, %.2f s CPU: %.0f lines/s, %.0f ns CPU/line, CPU/wall %.2f, %d GCs, %.0f B/line; load %s",
				w, rows, lines, wall.Seconds(), cpu.Seconds(), float64(rows)/wall.Seconds(), float64(cpu.Nanoseconds())/float64(rows),
				cpu.Seconds()/wall.Seconds(), ms1.NumGC-ms0.NumGC, float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(rows), strings.TrimSpace(string(load)))
		}
	}
}
