package main

import (
	"syscall"
	"time"

	"claimsbatch/claim"
	"claimsbatch/metrics"
	"claimsbatch/pipeline"
)

// writeRunMetrics writes --metrics-file for a run (or validate) that began
// at start and ended with runErr; sum is the run's summary, nil when it
// failed. It is meant for a defer at the top of the command's RunE, so that
// every end of a run, a failed one too, leaves the file:
//
//	start := time.Now()
//	var sum *pipeline.Summary
//	if f.metricsFile != "" {
//		defer func() {
//			if merr := writeRunMetrics(f.metricsFile, start, sum, err); merr != nil {
//				fmt.Fprintln(stderr, "claimsbatch: warning: --metrics-file:", merr)
//			}
//		}()
//	}
func writeRunMetrics(path string, start time.Time, sum *pipeline.Summary, runErr error) error {
	return metrics.WriteFile(path, runMetrics(start, time.Now(), sum, runErr))
}

// runMetrics gathers the figures of a run that ran from start to end.
func runMetrics(start, end time.Time, sum *pipeline.Summary, runErr error) metrics.Run {
	r := metrics.Run{
		Duration:     end.Sub(start),
		PeakRSSBytes: peakRSSBytes(),
		ExitCode:     exitCode(runErr),
		End:          end,
	}
	if sum == nil {
		return r
	}
	t := sum.ControlTotals
	r.LinesRead, r.LinesAdjudicated = t.LinesRead, t.LinesAdjudicated
	r.ExceptionsByCode = t.ExceptionsByCode
	r.PlanPaid = make(map[string]claim.Money, len(t.PerCurrency))
	for _, c := range t.PerCurrency {
		r.PlanPaid[c.PlanCurrency] = c.PlanPaid
	}
	return r
}

// peakRSSBytes is the process's peak resident set size, from getrusage
// (Linux reports KiB); 0 when unknown.
func peakRSSBytes() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss * 1024
}
