package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"claimsbatch/pipeline"
	"claimsbatch/readers"
	"claimsbatch/writers"
)

// TestRunMetrics writes the metrics of the sample's run (its golden
// manifest's totals) and of a failed run after it, and reads them back with
// the Prometheus text parser.
func TestRunMetrics(t *testing.T) {
	f, err := os.Open(filepath.Join(sample, "golden", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := writers.ReadManifest(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "claimsbatch.prom")
	start := time.Now()
	if err := writeRunMetrics(path, start, &pipeline.Summary{ControlTotals: m.ControlTotals}, nil); err != nil {
		t.Fatal(err)
	}
	samples := readMetrics(t, path)
	want := map[string]string{
		"claimsbatch_last_run_lines_read":                        "52",
		"claimsbatch_last_run_lines_adjudicated":                 "42",
		"claimsbatch_last_run_exit_code":                         "0",
		`claimsbatch_last_run_exceptions{code="DUPLICATE_LINE"}`: "1",
		`claimsbatch_last_run_exceptions{code="INVALID_MEMBER"}`: "2",
		`claimsbatch_last_run_plan_paid{currency="EUR"}`:         "6065",
		`claimsbatch_last_run_plan_paid{currency="GBP"}`:         "183500",
		`claimsbatch_last_run_plan_paid{currency="USD"}`:         "51387.5",
		`claimsbatch_runs_total{result="success"}`:               "1",
		`claimsbatch_runs_total{result="failure"}`:               "0",
	}
	for name, v := range want {
		if samples[name] != v {
			t.Errorf("%s = %q, want %q", name, samples[name], v)
		}
	}
	success := samples["claimsbatch_last_success_timestamp_seconds"]
	if success == "" || success != samples["claimsbatch_last_run_timestamp_seconds"] {
		t.Errorf("last success %q, last run %q: want the same time", success, samples["claimsbatch_last_run_timestamp_seconds"])
	}
	if samples["claimsbatch_last_run_peak_rss_bytes"] == "0" {
		t.Error("peak RSS 0")
	}

	// A run that failed on a missing input: exit 2, no figures, the last
	// success carried over.
	runErr := fmt.Errorf("members: %w", readers.ErrOpen)
	if err := writeRunMetrics(path, time.Now(), nil, runErr); err != nil {
		t.Fatal(err)
	}
	samples = readMetrics(t, path)
	for name, v := range map[string]string{
		"claimsbatch_last_run_exit_code":             "2",
		"claimsbatch_last_run_lines_read":            "0",
		"claimsbatch_last_success_timestamp_seconds": success,
		`claimsbatch_runs_total{result="failure"}`:   "1",
	} {
		if samples[name] != v {
			t.Errorf("after the failure %s = %q, want %q", name, samples[name], v)
		}
	}
	if r := runMetrics(start, start, nil, errors.New("disk full")); r.ExitCode != 1 {
		t.Errorf("a run error's exit code %d, want 1", r.ExitCode)
	}
}

// readMetrics parses a metrics file: sample name with labels -> value.
func readMetrics(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := map[string]string{}
	for name, fam := range families {
		for _, m := range fam.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			key := name
			if len(labels) > 0 {
				slices.Sort(labels)
				key += "{" + strings.Join(labels, ",") + "}"
			}
			v := m.GetGauge().GetValue()
			if m.Counter != nil {
				v = m.GetCounter().GetValue()
			}
			out[key] = fmt.Sprint(v)
		}
	}
	return out
}
