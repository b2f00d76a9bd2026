package report

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"claimsbatch/claim"
	"claimsbatch/internal/rundir"
	"claimsbatch/writers"
)

// sampleDir is the published run of the bundled sample (the golden files of
// the end-to-end test).
const sampleDir = "../testdata/sample/golden"

func sampleInput(t *testing.T) Input {
	t.Helper()
	run, err := rundir.Open(sampleDir)
	if err != nil {
		t.Fatal(err)
	}
	in := Input{Manifest: run.Manifest}
	in.Remittance, _ = run.Table(rundir.Remittance)
	in.Exceptions, _ = run.Table(rundir.Exceptions)
	return in
}

func readCSV(t *testing.T, path string) ([]string, [][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1 // the sample's claims have a malformed row on purpose
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return recs[0], recs[1:]
}

// sampleTurnaround measures the sample's adjudicated lines as the run will:
// business days (Monday to Friday) after the received date up to the as-of
// date, here the latest received date (what the state records as as-of).
func sampleTurnaround(t *testing.T) Turnaround {
	t.Helper()
	rh, remit := readCSV(t, filepath.Join(sampleDir, "remittance.csv"))
	adjudicated := map[string]bool{}
	for _, r := range remit {
		adjudicated[r[slices.Index(rh, "claim_id")]+"/"+r[slices.Index(rh, "line_no")]] = true
	}
	ch, claims := readCSV(t, "../testdata/sample/claims.csv")
	var received []time.Time
	for _, r := range claims {
		key := ""
		if len(r) == len(ch) {
			key = r[slices.Index(ch, "claim_id")] + "/" + r[slices.Index(ch, "line_no")]
		}
		if !adjudicated[key] {
			continue
		}
		delete(adjudicated, key) // a second row of the key is a DUPLICATE_LINE
		d := r[slices.Index(ch, "received_date")]
		if d == "" {
			d = r[slices.Index(ch, "service_date")]
		}
		day, err := time.Parse(time.DateOnly, d)
		if err != nil {
			t.Fatal(err)
		}
		received = append(received, day)
	}
	if len(received) != len(remit) {
		t.Fatalf("found the received dates of %d lines, want %d", len(received), len(remit))
	}
	asOf := slices.MaxFunc(received, func(a, b time.Time) int { return a.Compare(b) })
	ta := Turnaround{AsOf: asOf.Format(time.DateOnly), Lines: int64(len(received)), Histogram: make([]int64, 16)}
	for _, day := range received {
		n := 0
		for d := day.AddDate(0, 0, 1); !d.After(asOf); d = d.AddDate(0, 0, 1) {
			if d.Weekday() != time.Saturday && d.Weekday() != time.Sunday {
				n++
			}
		}
		if n <= 5 {
			ta.Within++
		}
		ta.Histogram[min(n, len(ta.Histogram)-1)]++
	}
	return ta
}

func build(t *testing.T, in Input) string {
	t.Helper()
	var b bytes.Buffer
	if err := Build(&b, in); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// shown returns the data-total figures of a page, as shown.
func shown(page string) map[string]string {
	out := map[string]string{}
	for _, m := range regexp.MustCompile(`data-total="([^"]+)">([^<]*)<`).FindAllStringSubmatch(page, -1) {
		out[m[1]] = m[2]
	}
	return out
}

// TestSampleFigures checks the figures of the sample's page that no other
// file states: the split by payee, the status mix, the not-covered reasons.
func TestSampleFigures(t *testing.T) {
	page := build(t, sampleInput(t))
	got := shown(page)
	for k, v := range map[string]string{
		"USD/charge":             "65,270.00",
		"USD/plan_paid":          "51,387.50",
		"USD/plan_paid_provider": "48,187.50",
		"USD/plan_paid_member":   "3,200.00",
		"GBP/plan_paid":          "183,500.00",
		"GBP/paid_core":          "183,500.00",
		"EUR/coinsurance":        "395.09",
		"EUR/paid_dental":        "100.00",
		"EUR/lines":              "13",
	} {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	for _, s := range []string{
		`<td class="num" data-status="PAID">20</td><td class="num">47.6 %</td>`,
		`<td class="num" data-status="PARTIAL">10</td>`,
		`<td class="num" data-status="DENIED">12</td>`,
		// PR-119 on 12 lines: EUR 552.28, GBP 6,000.00, USD 1,670.00.
		`<td class="mono">PR-119</td><td>benefit maximum reached (amount, days or count)</td><td class="num">12</td><td class="num">552.28</td><td class="num">6,000.00</td><td class="num">1,670.00</td>`,
		`<td class="mono">PR-204</td><td>benefit module not held</td><td class="num">2</td><td class="num">200.00</td><td class="num">100.00</td><td class="num"></td>`,
		`<td class="mono">claims.csv</td><td class="num">10</td>`,
		`<td class="mono">members.csv</td><td class="num">2</td><td class="codes"><span>INVALID_MEMBER 1</span><span>INVALID_VALUE 1</span></td>`,
		`id="turnaround-share">2.4 %</div>`, // from the manifest: 1 line of 42 within 5 business days
		`<title>Claims run run-22f6c7c4d7118c216c81</title>`,
	} {
		if !strings.Contains(page, s) {
			t.Errorf("page lacks %s", s)
		}
	}
	if strings.Contains(page, `id="problems"`) {
		t.Error("the sample's page reports a mismatch with its manifest")
	}
}

func TestDeterministic(t *testing.T) {
	in := sampleInput(t)
	in.Turnaround = sampleTurnaround(t)
	a, b := build(t, in), build(t, in)
	if a != b {
		t.Fatal("two builds of the same input differ")
	}
	for _, s := range []string{"http://", "https://", "<script", "<link", "@import", "url("} {
		if strings.Contains(a, s) {
			t.Errorf("the page contains %q: it must need no network and run no script", s)
		}
	}
}

func TestTurnaround(t *testing.T) {
	in := sampleInput(t)
	in.Turnaround = Turnaround{AsOf: "2026-11-27", Lines: 40, Within: 37, Histogram: []int64{10, 12, 5, 4, 3, 3, 1, 0, 2}}
	page := build(t, in)
	for _, s := range []string{
		`<div class="big" id="turnaround-share">92.5 %</div>`,
		`<strong id="turnaround-over">3</strong> over`,
		`as-of date, 2026-11-27`,
		`>8&#43;</text>`, // html/template writes + as &#43;
		`>5 business days</text>`,
	} {
		if !strings.Contains(page, s) {
			t.Errorf("page lacks %s", s)
		}
	}
	if n := strings.Count(page, `<rect class="over"`); n != 3 {
		t.Errorf("%d columns over the target, want 3 (6, 7 and 8+ days)", n)
	}
	in.Turnaround.Within = 41
	if err := Build(&bytes.Buffer{}, in); !errors.Is(err, ErrInput) {
		t.Errorf("41 of 40 lines within: error %v, want ErrInput", err)
	}
	in.Turnaround.Within, in.Turnaround.Histogram = 37, []int64{1}
	if err := Build(&bytes.Buffer{}, in); !errors.Is(err, ErrInput) {
		t.Errorf("a histogram of 1 line for 40: error %v, want ErrInput", err)
	}
}

// TestEscaping: values from the data are text, never markup.
func TestEscaping(t *testing.T) {
	in := sampleInput(t)
	m := *in.Manifest
	m.RunID = `<script>alert("x")</script>`
	m.Notes = []string{`<img src=x onerror=alert(1)>`}
	m.Inputs = append(slices.Clone(m.Inputs), writers.Input{Role: "claims", Path: `a"b<c>.csv`, SHA256: "00"})
	in.Manifest = &m
	page := build(t, in)
	for _, bad := range []string{`<script>`, `<img src=x`, `a"b<c>.csv`} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %s unescaped", bad)
		}
	}
	if !strings.Contains(page, `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;`) {
		t.Error("the run id is not shown escaped")
	}
}

// TestMismatch: a remittance that does not add up to the manifest is
// flagged at the top of the page.
func TestMismatch(t *testing.T) {
	in := sampleInput(t)
	m := *in.Manifest
	m.ControlTotals.PerCurrency = slices.Clone(m.ControlTotals.PerCurrency)
	m.ControlTotals.PerCurrency[2].PlanPaid += 1 // USD
	in.Manifest = &m
	page := build(t, in)
	if !strings.Contains(page, `id="problems"`) || !strings.Contains(page, "USD plan_paid: the remittance adds up to 51,387.50, the manifest says 51,387.51") {
		t.Error("the mismatch is not reported")
	}
}

// TestManyMismatches: the page lists the first ones and counts the rest.
func TestManyMismatches(t *testing.T) {
	in := sampleInput(t)
	m := *in.Manifest
	m.ControlTotals.LinesAdjudicated = 1
	// EUR and USD with zero totals, GBP missing.
	m.ControlTotals.PerCurrency = []writers.CurrencyTotals{{PlanCurrency: "EUR"}, {PlanCurrency: "USD"}}
	in.Manifest = &m
	page := build(t, in)
	// 1 line count + EUR 9 amounts + EUR lines + USD 9 + USD lines + GBP missing = 22: 9 shown, "and 13 more".
	if !strings.Contains(page, "<div>and 13 more</div>") || strings.Count(page, "the manifest says") != 9 {
		t.Errorf("mismatches not capped at 10 lines:\n%s", page[strings.Index(page, `id="problems"`):][:2000])
	}
}

// TestBenefitNote: past 12 benefits a chart notes the rest instead of
// drawing them.
func TestBenefitNote(t *testing.T) {
	in := sampleInput(t)
	rows := [][]string{{"plan_currency", "module", "benefit_code", "payee_type", "status", "charge", "plan_paid",
		"deductible", "coinsurance", "not_covered", "member_responsibility", "adjustments"}}
	for i := range 15 {
		paid := fmt.Sprintf("%d.00", 100*(i+1))
		rows = append(rows, []string{"USD", "core", fmt.Sprintf("B%02d", i), "provider", "PAID", paid, paid, "0.00", "0.00", "0.00", "0.00", ""})
	}
	in.Remittance = filepath.Join(t.TempDir(), "remittance.csv")
	writeTestCSV(t, in.Remittance, rows)
	page := build(t, in)
	// B14..B03 are drawn (1,500.00 down to 400.00); B00..B02 (600.00 on 3 lines) noted.
	if !strings.Contains(page, `<p class="note">3 other benefits: 600.00 paid on 3 lines (see the table)</p>`) ||
		!strings.Contains(page, `>B03</text>`) || strings.Contains(page, `>B02</text>`) {
		t.Error("the benefit chart does not draw the top 12 and note the other 3")
	}
}

// TestValidateRun: a run without a remittance.
func TestValidateRun(t *testing.T) {
	in := sampleInput(t)
	in.Remittance = ""
	page := build(t, in)
	if !strings.Contains(page, "No lines were adjudicated in this run.") || strings.Contains(page, `id="status"`) {
		t.Error("a page without lines shows line sections")
	}
}

func TestBadRemittance(t *testing.T) {
	in := sampleInput(t)
	data, err := os.ReadFile(in.Remittance)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "remittance.csv")
	os.WriteFile(bad, bytes.Replace(data, []byte(",825.00,"), []byte(",8.255,"), 1), 0o644)
	in.Remittance = bad
	err = Build(&bytes.Buffer{}, in)
	if err == nil || !strings.Contains(err.Error(), "row 1 column plan_paid: \"8.255\"") || !errors.Is(err, claim.ErrMoneyPrecision) {
		t.Errorf("error %v, want row 1 column plan_paid wrapping ErrMoneyPrecision", err)
	}
}

func TestFormat(t *testing.T) {
	for m, want := range map[claim.Money]string{0: "0.00", 5: "0.05", 99999: "999.99", 100000: "1,000.00",
		6043966504: "60,439,665.04", -123456789: "-1,234,567.89"} {
		if got := formatMoney(m); got != want {
			t.Errorf("formatMoney(%d) = %q, want %q", m, got, want)
		}
	}
	if got := formatCount(1234567); got != "1,234,567" {
		t.Errorf("formatCount = %q", got)
	}
}

// TestManifestTurnaround: the run's turnaround section (the golden
// manifest's) is what the calendar says of the sample's lines, the page
// shows it when the input gives none, and a manifest without one (a
// validate run, an older release) gives a page that says it was not
// measured.
func TestManifestTurnaround(t *testing.T) {
	in := sampleInput(t)
	mt := in.Manifest.Turnaround
	want := sampleTurnaround(t)
	if mt == nil || mt.TargetDays != 5 || mt.Lines != want.Lines || mt.Within != want.Within || mt.Over != want.Lines-want.Within ||
		!slices.Equal(mt.Histogram, want.Histogram) || in.Manifest.AsOf != want.AsOf {
		t.Fatalf("manifest turnaround %+v (as of %s), the calendar says %+v", mt, in.Manifest.AsOf, want)
	}
	fromManifest := build(t, in)
	in.Turnaround = want
	if given := build(t, in); given != fromManifest {
		t.Error("the page from the manifest's turnaround differs from the page given the same figures")
	}
	in = sampleInput(t)
	in.Manifest.Turnaround = nil
	if page := build(t, in); !strings.Contains(page, `id="turnaround-not-measured"`) || strings.Contains(page, `id="turnaround-share"`) {
		t.Error("a manifest without turnaround: the page does not say it was not measured")
	}
}

// TestPublishedPage: the page built from a published run is the
// report.html the run published, byte for byte: the page leaves out its
// own entry of the manifest's outputs, which the run added after building
// it.
func TestPublishedPage(t *testing.T) {
	in := sampleInput(t)
	if !slices.ContainsFunc(in.Manifest.Outputs, func(o writers.Output) bool { return o.Name == writers.ReportName }) {
		t.Fatal("the golden manifest does not list report.html")
	}
	published, err := os.ReadFile(filepath.Join(sampleDir, writers.ReportName))
	if err != nil {
		t.Fatal(err)
	}
	if page := build(t, in); page != string(published) {
		t.Error("the page built from the golden run differs from its report.html")
	}
}

// TestX12Outputs: a run's 835 files take one row of the outputs table,
// with their count and segments, wherever the manifest lists them.
func TestX12Outputs(t *testing.T) {
	in := sampleInput(t)
	outs := in.Manifest.Outputs[:4:4]
	outs = append(outs,
		writers.Output{Name: "835/PR-A_USD_00000001.835", SHA256: "hash-of-835-a", Rows: 22},
		writers.Output{Name: "835/PR-B_EUR_00000002.835", SHA256: "hash-of-835-b", Rows: 1027},
		writers.Output{Name: "835/PR-C_GBP_00000003.835", SHA256: "hash-of-835-c", Rows: 25},
		writers.Output{Name: writers.ReportName, SHA256: "hash-of-the-page"})
	in.Manifest.Outputs = outs
	page := build(t, in)
	row := `<tr><td class="mono">835/ (3 X12 835 files)</td><td class="num">1,074 segments</td><td class="hash">each file&#39;s in manifest.json</td></tr>`
	if !strings.Contains(page, row) {
		t.Errorf("page lacks %s", row)
	}
	for _, s := range []string{"PR-A_USD", "hash-of-835", "hash-of-the-page", `<td class="mono">report.html</td>`} {
		if strings.Contains(page, s) {
			t.Errorf("page shows %q", s)
		}
	}
	if !strings.Contains(page, `<td class="mono">state.csv</td><td class="num">129</td>`) {
		t.Error("page lacks the state output")
	}
}
