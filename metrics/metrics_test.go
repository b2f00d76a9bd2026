package metrics

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"claimsbatch/claim"
)

// parse reads path with the Prometheus text parser and returns every
// sample as "name{label=value,...} value", sorted.
func parse(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("%s does not parse: %v", path, err)
	}
	var out []string
	for name, fam := range families {
		if fam.GetHelp() == "" {
			t.Errorf("%s has no HELP", name)
		}
		for _, m := range fam.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			var v float64
			switch fam.GetType() {
			case dto.MetricType_GAUGE:
				v = m.GetGauge().GetValue()
			case dto.MetricType_COUNTER:
				v = m.GetCounter().GetValue()
			default:
				t.Errorf("%s is a %v", name, fam.GetType())
			}
			out = append(out, fmt.Sprintf("%s{%s} %v", name, strings.Join(labels, ","), v))
		}
	}
	slices.Sort(out)
	return out
}

func lint(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	problems, err := promlint.New(f).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "claimsbatch.prom")
	end := time.Date(2026, 11, 27, 2, 15, 30, 250e6, time.UTC)
	ok := Run{
		LinesRead: 52, LinesAdjudicated: 42,
		ExceptionsByCode: map[claim.ExceptionCode]int64{claim.DuplicateLine: 1, claim.InvalidMember: 2, "SOMETHING_NEW": 3},
		PlanPaid:         map[string]claim.Money{"USD": 5138750, "EUR": 606500, "GBP": 18350000, "CHF": 1},
		Duration:         1500 * time.Millisecond, PeakRSSBytes: 123456789, End: end,
	}
	if err := WriteFile(path, ok); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"claimsbatch_last_run_duration_seconds{} 1.5",
		"claimsbatch_last_run_exceptions{code=DUPLICATE_LINE} 1",
		"claimsbatch_last_run_exceptions{code=INVALID_MEMBER} 2",
		"claimsbatch_last_run_exceptions{code=INVALID_VALUE} 0",
		"claimsbatch_last_run_exceptions{code=MISSING_FIELD} 0",
		"claimsbatch_last_run_exceptions{code=NO_FX_RATE} 0",
		"claimsbatch_last_run_exceptions{code=PARSE_ERROR} 0",
		"claimsbatch_last_run_exceptions{code=SOMETHING_NEW} 3",
		"claimsbatch_last_run_exceptions{code=UNKNOWN_BENEFIT} 0",
		"claimsbatch_last_run_exceptions{code=UNKNOWN_MEMBER} 0",
		"claimsbatch_last_run_exit_code{} 0",
		"claimsbatch_last_run_lines_adjudicated{} 42",
		"claimsbatch_last_run_lines_read{} 52",
		"claimsbatch_last_run_peak_rss_bytes{} 1.23456789e+08",
		"claimsbatch_last_run_plan_paid{currency=CHF} 0.01",
		"claimsbatch_last_run_plan_paid{currency=EUR} 6065",
		"claimsbatch_last_run_plan_paid{currency=GBP} 183500",
		"claimsbatch_last_run_plan_paid{currency=USD} 51387.5",
		"claimsbatch_last_run_timestamp_seconds{} 1.79574573025e+09",
		"claimsbatch_last_success_timestamp_seconds{} 1.79574573025e+09",
		"claimsbatch_runs_total{result=failure} 0",
		"claimsbatch_runs_total{result=success} 1",
	}
	if got := parse(t, path); !slices.Equal(got, want) {
		t.Errorf("after a success:\n got %q\nwant %q", got, want)
	}
	lint(t, path)
	text, _ := os.ReadFile(path)
	for _, s := range []string{
		"# HELP claimsbatch_last_run_plan_paid What the plan pays for the last run's lines, in units of the plan currency.\n# TYPE claimsbatch_last_run_plan_paid gauge\n",
		`claimsbatch_last_run_plan_paid{currency="USD"} 51387.5` + "\n",
		"# TYPE claimsbatch_runs_total counter\n",
	} {
		if !strings.Contains(string(text), s) {
			t.Errorf("file lacks %q:\n%s", s, text)
		}
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, %v; want 0644", st.Mode(), err)
	}

	// A failed run a day later keeps the last success time and counts.
	failed := Run{Duration: 250 * time.Millisecond, PeakRSSBytes: 1 << 20, ExitCode: 1, End: end.Add(24 * time.Hour)}
	if err := WriteFile(path, failed); err != nil {
		t.Fatal(err)
	}
	got := parse(t, path)
	for _, s := range []string{
		"claimsbatch_last_run_exit_code{} 1",
		"claimsbatch_last_run_lines_read{} 0",
		"claimsbatch_last_run_exceptions{code=DUPLICATE_LINE} 0",
		"claimsbatch_last_run_duration_seconds{} 0.25",
		"claimsbatch_last_run_timestamp_seconds{} 1.79583213025e+09",
		"claimsbatch_last_success_timestamp_seconds{} 1.79574573025e+09",
		"claimsbatch_runs_total{result=failure} 1",
		"claimsbatch_runs_total{result=success} 1",
	} {
		if !slices.Contains(got, s) {
			t.Errorf("after a failure, no %q in\n%q", s, got)
		}
	}
	if slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "claimsbatch_last_run_plan_paid") }) {
		t.Errorf("a run without payments has plan_paid series: %q", got)
	}

	// Another success moves the time on.
	if err := WriteFile(path, Run{End: end.Add(48 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	got = parse(t, path)
	for _, s := range []string{
		"claimsbatch_last_success_timestamp_seconds{} 1.79591853025e+09",
		"claimsbatch_runs_total{result=failure} 1",
		"claimsbatch_runs_total{result=success} 2",
	} {
		if !slices.Contains(got, s) {
			t.Errorf("after a second success, no %q in\n%q", s, got)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the directory holds %d files, want only the metrics file (no temporary left)", len(entries))
	}
}

// TestFirstRunFails: no success yet, no last-success series.
func TestFirstRunFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "claimsbatch.prom")
	if err := WriteFile(path, Run{ExitCode: 2, End: time.Unix(1e9, 0)}); err != nil {
		t.Fatal(err)
	}
	got := parse(t, path)
	if slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "claimsbatch_last_success") }) {
		t.Errorf("a last success after only a failure: %q", got)
	}
	if !slices.Contains(got, "claimsbatch_last_run_exit_code{} 2") || !slices.Contains(got, "claimsbatch_runs_total{result=failure} 1") {
		t.Errorf("%q", got)
	}
}

// TestGarbagePrevious: a previous file that does not parse is replaced.
func TestGarbagePrevious(t *testing.T) {
	path := filepath.Join(t.TempDir(), "claimsbatch.prom")
	os.WriteFile(path, []byte("this is { not metrics\n"), 0o644)
	if err := WriteFile(path, Run{ExitCode: 1, End: time.Unix(1e9, 0)}); err != nil {
		t.Fatal(err)
	}
	if got := parse(t, path); !slices.Contains(got, "claimsbatch_runs_total{result=failure} 1") {
		t.Errorf("%q", got)
	}
}

func TestWriteFileNoDirectory(t *testing.T) {
	err := WriteFile(filepath.Join(t.TempDir(), "missing", "claimsbatch.prom"), Run{})
	if !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "metrics: ") {
		t.Errorf("error %v, want a metrics: error wrapping fs.ErrNotExist", err)
	}
}
