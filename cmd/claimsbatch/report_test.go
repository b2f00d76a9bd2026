package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// figures returns the data-total figures of a report page.
func figures(page string) map[string]string {
	out := map[string]string{}
	for _, m := range regexp.MustCompile(`data-total="([^"]+)">([^<]*)<`).FindAllStringSubmatch(page, -1) {
		out[m[1]] = m[2]
	}
	return out
}

func TestReportCommand(t *testing.T) {
	dir := t.TempDir()
	csvRun, parquetRun := filepath.Join(dir, "csv"), filepath.Join(dir, "parquet")
	runOK(t, sampleArgs(csvRun)...)
	runOK(t, sampleArgs(parquetRun, "--format", "parquet")...)

	out := filepath.Join(dir, "pages", "csv.html")
	runOK(t, "report", csvRun, "--out", out)
	page, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got := figures(string(page))
	if got["USD/plan_paid"] != "51,387.50" || got["GBP/charge"] != "189,600.00" || got["EUR/paid_outpatient"] != "800.00" {
		t.Errorf("figures %v", got)
	}
	if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 1 {
		t.Errorf("%d files beside the page, want none (no temporary left)", len(entries)-1)
	}
	if entries, _ := os.ReadDir(csvRun); len(entries) != 6 {
		t.Errorf("the run directory holds %d files, want its 6: report must not write into it", len(entries))
	}
	// The page the run published is the page report builds again from it.
	published, err := os.ReadFile(filepath.Join(csvRun, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if string(published) != string(page) {
		t.Errorf("report %s differs from the run's own report.html", csvRun)
	}

	// Without --out the page goes to stdout; a Parquet run shows the same
	// figures.
	code, stdout := runCLI(t, "report", parquetRun)
	if code != 0 || !strings.HasPrefix(stdout, "<!DOCTYPE html>") {
		t.Fatalf("exit %d: %.200s", code, stdout)
	}
	if p := figures(stdout); len(p) != len(got) || len(got) < 30 {
		t.Errorf("Parquet run: %d figures, CSV run %d", len(p), len(got))
	} else {
		for k, v := range got {
			if p[k] != v {
				t.Errorf("%s: Parquet run shows %q, CSV run %q", k, p[k], v)
			}
		}
	}

	for _, args := range [][]string{{"report"}, {"report", filepath.Join(dir, "nope")}, {"report", dir}} {
		if code, msg := runCLI(t, args...); code != 2 {
			t.Errorf("claimsbatch %s: exit %d, want 2: %s", strings.Join(args, " "), code, msg)
		}
	}
}
