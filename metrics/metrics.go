// Package metrics writes the figures of a claimsbatch run as a Prometheus
// text exposition file for node_exporter's textfile collector
// (--collector.textfile.directory), so a nightly job is watched like any
// other service: did last night's run succeed, how long did it take, how
// many lines, how many exceptions, how much did the plan pay.
//
// The file is written at the end of every run, a failed one too, to a
// temporary name in the same directory and renamed, so the collector never
// reads half a file. Two figures outlive a run: the time of the last
// successful run, which a failed run carries over from the previous file,
// and the count of runs by result. The file is read back with the
// Prometheus text parser for that.
//
// Metrics (all gauges of the last run unless said otherwise):
//
//	claimsbatch_last_run_lines_read
//	claimsbatch_last_run_lines_adjudicated
//	claimsbatch_last_run_exceptions{code}            every SPEC exception code, 0 when none
//	claimsbatch_last_run_plan_paid{currency}          in units of the plan currency
//	claimsbatch_last_run_duration_seconds
//	claimsbatch_last_run_peak_rss_bytes
//	claimsbatch_last_run_exit_code                   0 ok, 1 failed, 2 usage or configuration
//	claimsbatch_last_run_timestamp_seconds           when the last run ended (Unix time)
//	claimsbatch_last_success_timestamp_seconds       when the last successful run ended; absent until one has
//	claimsbatch_runs_total{result}                    counter: runs by result, success or failure
//
// An alert such as time() - claimsbatch_last_success_timestamp_seconds >
// 26*3600 catches both a failing job and one that stopped running.
//
// The package uses the official Go client: a registry gathers the metrics
// and expfmt encodes and parses the text format. It imports claim only.
package metrics

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"claimsbatch/claim"
)

// Run holds the figures of one run. The zero value is a run that did
// nothing and succeeded at the Unix epoch; fill in what is known (a run that
// failed early knows little more than its duration and exit code).
type Run struct {
	LinesRead        int64
	LinesAdjudicated int64
	ExceptionsByCode map[claim.ExceptionCode]int64
	PlanPaid         map[string]claim.Money // per plan currency
	Duration         time.Duration
	PeakRSSBytes     int64
	// ExitCode is the process's exit code; 0 is a success.
	ExitCode int
	// End is when the run ended: the sample of ..._last_run_timestamp and,
	// for a success, of ..._last_success_timestamp.
	End time.Time
}

// ExceptionCodes are the codes that always have a series (SPEC section 7,
// in the order a claim row is checked).
var ExceptionCodes = []claim.ExceptionCode{
	claim.ParseError, claim.MissingField, claim.InvalidValue, claim.UnknownBenefit,
	claim.UnknownMember, claim.InvalidMember, claim.NoFXRate, claim.DuplicateLine,
}

// Metric names read back from the previous file.
const (
	lastSuccessName = "claimsbatch_last_success_timestamp_seconds"
	runsTotalName   = "claimsbatch_runs_total"
)

// previous is what a run carries over from the file before it.
type previous struct {
	lastSuccess    float64 // Unix seconds; 0 = none recorded
	success, fails float64
}

// WriteFile writes r's metrics to path (conventionally a *.prom file in the
// textfile collector's directory), replacing it atomically: the text goes to
// a hidden temporary file in the same directory (not matching *.prom),
// which is synced and renamed over path. The file is mode 0644: the
// collector runs as another user, and the file holds no personal data.
//
// A previous file at path that does not parse is replaced as if it were
// absent (its figures are lost, the run's are not).
func WriteFile(path string, r Run) error {
	prev, _ := readPrevious(path) // an unreadable previous file is no reason to lose this run's figures
	text, err := encode(r, prev)
	if err != nil {
		return err
	}
	return writeAtomic(path, text)
}

// readPrevious reads the figures a run carries over; a missing file is the
// zero value.
func readPrevious(path string) (previous, error) {
	var p previous
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return p, fmt.Errorf("metrics: %w", err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(data))
	if err != nil {
		return p, fmt.Errorf("metrics: %s: %w", path, err)
	}
	if f := families[lastSuccessName]; f != nil && len(f.GetMetric()) == 1 {
		p.lastSuccess = f.GetMetric()[0].GetGauge().GetValue()
	}
	if f := families[runsTotalName]; f != nil {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() != "result" {
					continue
				}
				switch l.GetValue() {
				case "success":
					p.success = m.GetCounter().GetValue()
				case "failure":
					p.fails = m.GetCounter().GetValue()
				}
			}
		}
	}
	return p, nil
}

// encode returns the text exposition of r, with the figures carried over
// from prev.
func encode(r Run, prev previous) ([]byte, error) {
	reg := prometheus.NewPedanticRegistry()
	gauge := func(name, help string, v float64) {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
		g.Set(v)
		reg.MustRegister(g)
	}
	gauge("claimsbatch_last_run_lines_read", "Claim lines (data rows of the claims files) the last run read.", float64(r.LinesRead))
	gauge("claimsbatch_last_run_lines_adjudicated", "Claim lines the last run adjudicated.", float64(r.LinesAdjudicated))

	exceptions := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "claimsbatch_last_run_exceptions",
		Help: "Claim rows the last run did not adjudicate, by exception code (SPEC section 7).",
	}, []string{"code"})
	codes := slices.Clone(ExceptionCodes)
	for _, c := range slices.Sorted(maps.Keys(r.ExceptionsByCode)) {
		if !slices.Contains(codes, c) {
			codes = append(codes, c)
		}
	}
	for _, c := range codes {
		exceptions.WithLabelValues(string(c)).Set(float64(r.ExceptionsByCode[c]))
	}
	reg.MustRegister(exceptions)

	paid := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "claimsbatch_last_run_plan_paid",
		Help: "What the plan pays for the last run's lines, in units of the plan currency.",
	}, []string{"currency"})
	for _, cur := range slices.Sorted(maps.Keys(r.PlanPaid)) {
		// float64(cents)/100 is the double nearest the decimal, which the
		// text format writes back as that decimal.
		paid.WithLabelValues(cur).Set(float64(r.PlanPaid[cur]) / 100)
	}
	reg.MustRegister(paid)

	gauge("claimsbatch_last_run_duration_seconds", "Wall time of the last run.", r.Duration.Seconds())
	gauge("claimsbatch_last_run_peak_rss_bytes", "Peak resident set size of the last run.", float64(r.PeakRSSBytes))
	gauge("claimsbatch_last_run_exit_code", "Exit code of the last run: 0 ok, 1 run failed, 2 usage or configuration error.", float64(r.ExitCode))
	end := float64(r.End.UnixMilli()) / 1000
	gauge("claimsbatch_last_run_timestamp_seconds", "When the last run ended, in seconds since the Unix epoch.", end)

	lastSuccess := prev.lastSuccess
	success, fails := prev.success, prev.fails
	if r.ExitCode == 0 {
		lastSuccess = end
		success++
	} else {
		fails++
	}
	if lastSuccess != 0 {
		gauge(lastSuccessName, "When the last successful run ended, in seconds since the Unix epoch.", lastSuccess)
	}
	runs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: runsTotalName,
		Help: "Runs that wrote this file, by result (success: exit code 0).",
	}, []string{"result"})
	runs.WithLabelValues("success").Add(success)
	runs.WithLabelValues("failure").Add(fails)
	reg.MustRegister(runs)

	families, err := reg.Gather()
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range families {
		if err := enc.Encode(f); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	return b.Bytes(), nil
}

// fileMode lets the collector, running as another user, read the file.
const fileMode fs.FileMode = 0o644

// writeAtomic writes data to a temporary file in path's directory and
// renames it over path.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(fileMode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("metrics: write %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // best effort: the file is complete either way
		d.Close()
	}
	return nil
}
