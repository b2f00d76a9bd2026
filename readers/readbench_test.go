package readers

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user plus system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchmarkRead reads path whole b.N times with NextBatch and reports wall lines/s, CPU
// nanoseconds per line (user + system of the whole process: on a shared
// host wall time is inflated by other load, CPU time much less) and
// allocations per line.
func benchmarkRead(b *testing.B, path string, opt Options, lines int) {
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	cpu0 := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		r, err := OpenClaims(path, 0, plan, opt)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		if err := eachBatch(r, func(batch *Batch) {
			n += batch.NumRows
			batch.Release()
		}); err != nil {
			b.Fatal(err)
		}
		if n != lines {
			b.Fatalf("%d rows, want %d", n, lines)
		}
		r.Close()
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	runtime.ReadMemStats(&ms1)
	total := float64(lines) * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds(), "lines/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/total, "cpu-ns/line")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/total, "wall-ns/line")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/total, "allocs/line")
	b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/total, "B/line")
	b.ReportMetric(float64(ms1.NumGC-ms0.NumGC)/float64(b.N), "GCs/op")
	b.ReportMetric(0, "ns/op")
}

func BenchmarkClaimsRead(b *testing.B) {
	data := benchRows(benchN)
	csvPath := writeFile(b, "claims.csv", data)
	gzPath := writeFile(b, "claims.csv.gz", gzipBytes(b, data))
	pqPath := writeFile(b, "claims.parquet", benchParquet(b, data))
	for _, f := range []struct{ name, path string }{{"csv", csvPath}, {"csv.gz", gzPath}, {"parquet", pqPath}} {
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/workers=%d", f.name, workers), func(b *testing.B) {
				benchmarkRead(b, f.path, Options{Workers: workers}, benchN)
			})
		}
	}
}
