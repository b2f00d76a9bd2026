// Command profile runs one claimsbatch job in-process (pipeline.Run, as
// `claimsbatch run` does) under the CPU profiler, so docs/BENCHMARKS.md can
// say where the time goes. The product binary has no profiling flag on
// purpose; this program is the benchmark harness's, not the product's.
//
//	go run ./bench/profile --claims bench/data/2000000-parquet/claims.parquet \
//	    --members bench/data/2000000-parquet/members.parquet \
//	    --fx bench/data/2000000-parquet/fx.parquet --format parquet \
//	    --out /tmp/prof-out --cpuprofile bench/results/cpu.prof
//	go tool pprof -top -cum bench/results/cpu.prof
//
// The pipeline's info log (members loaded, claims read, ... run published)
// goes to stderr with timestamps, which gives the wall time of each phase.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"syscall"
	"time"

	"claimsbatch/claim"
	"claimsbatch/internal/hugepages"
	"claimsbatch/pipeline"
	"claimsbatch/writers"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
		os.Exit(1)
	}
}

func run() error {
	claims := flag.String("claims", "", "claims file")
	members := flag.String("members", "", "members file")
	fx := flag.String("fx", "", "FX file")
	stateIn := flag.String("state-in", "", "state file of an earlier run (as claimsbatch --state-in)")
	out := flag.String("out", "", "output directory")
	format := flag.String("format", "csv", "output format: csv or parquet")
	memoryMiB := flag.Int64("memory-limit-mib", 512, "memory budget in MiB (as claimsbatch --memory-limit)")
	workers := flag.Int("workers", 0, "adjudication workers; 0 = GOMAXPROCS")
	asOf := flag.String("as-of", "2030-01-01", "the run's as-of date (as claimsbatch --as-of; the default is after every date claimsbatch generate writes)")
	cpuProfile := flag.String("cpuprofile", "cpu.prof", "CPU profile output")
	memProfile := flag.String("memprofile", "", "allocation profile output (written at the end); empty = none")
	traceOut := flag.String("trace", "", "execution trace output (go tool trace); empty = none")
	stream := flag.Bool("stream", true, "stream claims ordered by member (as claimsbatch --stream); false always partitions")
	flag.Parse()
	if *claims == "" || *members == "" || *out == "" {
		return fmt.Errorf("--claims, --members and --out are required")
	}
	f, err := writers.ParseFormat(*format)
	if err != nil {
		return err
	}
	day, err := claim.ParseDate(*asOf)
	if err != nil {
		fmt.Fprintln(os.Stderr, "--as-of:", err)
		os.Exit(2)
	}
	cfg := pipeline.Config{
		AsOf:        day,
		Claims:      strings.Split(*claims, ","),
		Members:     *members,
		FX:          *fx,
		StateIn:     *stateIn,
		OutDir:      *out,
		Format:      f,
		Workers:     *workers,
		MemoryLimit: *memoryMiB << 20,
		NoStream:    !*stream,
		Logger:      slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})),
	}
	// As cmd/claimsbatch does: huge pages for the heap, the runtime's soft
	// limit a little under the budget.
	hugepages.ForBudget(cfg.MemoryLimit, false)
	debug.SetMemoryLimit(cfg.MemoryLimit * 9 / 10)

	pf, err := os.Create(*cpuProfile)
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(pf); err != nil {
		return err
	}
	if *traceOut != "" {
		tf, err := os.Create(*traceOut)
		if err != nil {
			return err
		}
		defer tf.Close()
		if err := trace.Start(tf); err != nil {
			return err
		}
	}
	start := time.Now()
	sum, runErr := pipeline.Run(context.Background(), cfg)
	wall := time.Since(start)
	if *traceOut != "" {
		trace.Stop()
	}
	pprof.StopCPUProfile()
	if err := pf.Close(); err != nil {
		return err
	}
	if runErr != nil {
		return runErr
	}
	if *memProfile != "" {
		mf, err := os.Create(*memProfile)
		if err != nil {
			return err
		}
		if err := pprof.Lookup("allocs").WriteTo(mf, 0); err != nil {
			return err
		}
		if err := mf.Close(); err != nil {
			return err
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return err
	}
	t := sum.ControlTotals
	fmt.Printf("lines %d adjudicated %d exceptions %d wall %.2fs (%.0f lines/s) user %.2fs sys %.2fs peak RSS %.0f MiB GC cycles %d GC pause total %s allocated %.1f GiB\n",
		t.LinesRead, t.LinesAdjudicated, t.Exceptions, wall.Seconds(), float64(t.LinesRead)/wall.Seconds(),
		time.Duration(ru.Utime.Nano()).Seconds(), time.Duration(ru.Stime.Nano()).Seconds(),
		float64(ru.Maxrss)/1024, ms.NumGC, time.Duration(ms.PauseTotalNs).Round(time.Millisecond),
		float64(ms.TotalAlloc)/(1<<30))
	return nil
}
