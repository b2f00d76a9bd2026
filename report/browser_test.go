package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"claimsbatch/claim"
	"claimsbatch/writers"
)

var screenshot = flag.Bool("screenshot", false,
	"write ../docs/report-sample.png (the sample's report at 1366 px), and into $TMPDIR report-sample.pdf (its print) and report-extremes-{screen,print}.png")

// chromium finds the browser. In CI (CI=true) a missing browser fails the
// test: .ci/install-chromium installs it. Elsewhere the test is skipped.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium on PATH; CI must install it: .ci/install-chromium")
	}
	t.Skip("no chromium on PATH: the browser test is skipped (apt-get install -y chromium, or .ci/install-chromium)")
	return ""
}

// browser starts a headless Chromium with no network and a fresh profile.
func browser(t *testing.T) context.Context {
	t.Helper()
	exe := chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("font-render-hinting", "none"),
		chromedp.WindowSize(1366, 900),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(ctx)
	t.Cleanup(cancelTab)
	return ctx
}

// pageEvents records what the page did: console messages, browser log
// entries, exceptions and network requests.
type pageEvents struct {
	mu       sync.Mutex
	console  []string
	requests []string
}

func (e *pageEvents) listen(ctx context.Context) error {
	return chromedp.Listen(ctx, func(ev any) {
		e.mu.Lock()
		defer e.mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			e.console = append(e.console, fmt.Sprintf("console.%s", ev.Type))
		case *runtime.EventExceptionThrown:
			e.console = append(e.console, "exception: "+ev.ExceptionDetails.Text)
		case *cdplog.EventEntryAdded:
			e.console = append(e.console, fmt.Sprintf("log %s %s: %s", ev.Entry.Level, ev.Entry.Source, ev.Entry.Text))
		case *network.EventRequestWillBeSent:
			e.requests = append(e.requests, ev.Request.URL)
		}
	})
}

// display sets the window width and the CSS media type ("screen" or
// "print"; print at 703 px is A4 between the page margins).
func display(width int64, media string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.EmulateViewport(width, 1000),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: media})
			return err
		}),
	)
}

// layoutProblems lists text that does not fit: a page wider than its
// window, and SVG text outside its chart.
const layoutProblems = `(() => {
  const out = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > doc.clientWidth + 1) {
    out.push("page is " + doc.scrollWidth + " px wide in a " + doc.clientWidth + " px window");
    // Name the innermost elements that stick out.
    for (const el of document.body.querySelectorAll("*")) {
      const sticks = e => e.getBoundingClientRect().right > doc.clientWidth + 1;
      if (sticks(el) && ![...el.children].some(sticks))
        out.push("  " + el.tagName.toLowerCase() + (el.getAttribute("class") ? "." + el.getAttribute("class") : "") + " " + JSON.stringify((el.textContent || "").trim().slice(0, 40)) + " ends at " + Math.round(el.getBoundingClientRect().right));
    }
  }
  for (const svg of document.querySelectorAll("svg")) {
    const box = svg.getBoundingClientRect();
    for (const text of svg.querySelectorAll("text")) {
      const r = text.getBoundingClientRect();
      if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1)
        out.push("svg text " + JSON.stringify(text.textContent) + " sticks out of its chart");
    }
    if (box.width > svg.parentElement.getBoundingClientRect().width + 1) out.push("a chart is wider than its box");
  }
  for (const td of document.querySelectorAll("td, th")) {
    if (td.scrollWidth > td.clientWidth + 1) out.push("cell " + JSON.stringify(td.textContent.slice(0, 40)) + " is cut off");
  }
  return out;
})()`

// TestReportInBrowser renders the sample's report in headless Chromium:
// no console message, no request but the page itself, the totals shown
// equal the manifest's control totals (and the payments file's split by
// payee), the exceptions shown equal the exceptions file's, and nothing is
// cut off on a laptop screen or on A4.
func TestReportInBrowser(t *testing.T) {
	ctx := browser(t)
	in := sampleInput(t)
	in.Turnaround = sampleTurnaround(t)
	var page bytes.Buffer
	if err := Build(&page, in); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(path, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	pageURL := (&url.URL{Scheme: "file", Path: path}).String()

	var events pageEvents
	if err := events.listen(ctx); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, display(1366, "screen"), chromedp.Navigate(pageURL)); err != nil {
		t.Fatal(err)
	}
	totals, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](
		`Object.fromEntries([...document.querySelectorAll("[data-total]")].map(e => [e.dataset.total, e.textContent]))`))
	if err != nil {
		t.Fatal(err)
	}
	exceptions, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](
		`Object.fromEntries([...document.querySelectorAll("[data-exception]")].map(e => [e.dataset.exception, e.textContent]))`))
	if err != nil {
		t.Fatal(err)
	}
	screen, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](layoutProblems))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range screen {
		t.Errorf("at 1366 px: %s", p)
	}

	// The shown totals, commas removed, are the manifest's strings.
	want := map[string]string{}
	for _, c := range in.Manifest.ControlTotals.PerCurrency {
		cur := c.PlanCurrency
		want[cur+"/lines"] = fmt.Sprint(c.Lines)
		want[cur+"/charge"] = c.Charge.String()
		want[cur+"/plan_paid"] = c.PlanPaid.String()
		want[cur+"/deductible"] = c.Deductible.String()
		want[cur+"/coinsurance"] = c.Coinsurance.String()
		want[cur+"/not_covered"] = c.NotCovered.String()
		want[cur+"/member_responsibility"] = c.MemberResponsibility.String()
		want[cur+"/paid_core"] = c.PaidByModule.Core.String()
		want[cur+"/paid_outpatient"] = c.PaidByModule.Outpatient.String()
		want[cur+"/paid_dental"] = c.PaidByModule.Dental.String()
	}
	// The split by payee comes from the payments file.
	for k, v := range paymentsByPayeeType(t) {
		want[k] = v
	}
	if len(want) != 3*12 {
		t.Fatalf("%d expected figures; the sample has three currencies, twelve figures each", len(want))
	}
	for k, v := range want {
		if got, ok := totals[k]; !ok {
			t.Errorf("the page shows no %s", k)
		} else if strings.ReplaceAll(got, ",", "") != v {
			t.Errorf("%s: the page shows %q, want %s", k, got, v)
		}
	}
	if len(totals) != len(want) {
		t.Errorf("the page has %d totals, want %d: %v", len(totals), len(want), totals)
	}
	if fmt.Sprint(exceptions) != fmt.Sprint(exceptionsFileCounts(t)) {
		t.Errorf("exceptions on the page %v, in the file %v", exceptions, exceptionsFileCounts(t))
	}

	// Printed on A4: the print stylesheet, at the width of the paper
	// between the margins (210 - 24 mm at 96 px per inch).
	if err := chromedp.Do(ctx, display(703, "print")); err != nil {
		t.Fatal(err)
	}
	printed, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](layoutProblems))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range printed {
		t.Errorf("printed: %s", p)
	}
	pdf, err := chromedp.Run(ctx, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4), chromedp.PDFPrintBackground()))
	if err != nil {
		t.Fatal(err)
	}
	pages := len(regexp.MustCompile(`/Type\s*/Page[^s]`).FindAll(pdf, -1))
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) || pages < 2 || pages > 8 {
		t.Errorf("the print is %d bytes, %d A4 pages; want a PDF of 2 to 8 pages", len(pdf), pages)
	}

	if *screenshot {
		if err := chromedp.Do(ctx, display(1366, "screen")); err != nil {
			t.Fatal(err)
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("..", "docs", "report-sample.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(os.TempDir(), "report-sample.pdf"), pdf, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	events.mu.Lock()
	defer events.mu.Unlock()
	for _, c := range events.console {
		t.Errorf("the page wrote to the console: %s", c)
	}
	if !slices.Equal(events.requests, []string{pageURL}) {
		t.Errorf("requests %q, want only the page %s", events.requests, pageURL)
	}
}

// TestReportLayoutExtremes renders a page with the largest figures and the
// longest names to expect (a 32-character benefit code, totals near 100
// billion per currency, 45 benefits, 12 exception codes from 12 source
// files, a long input path, a 30-day histogram) and checks that nothing is
// cut off, on screen and printed.
func TestReportLayoutExtremes(t *testing.T) {
	ctx := browser(t)
	dir := t.TempDir()
	remit := [][]string{{"plan_currency", "module", "benefit_code", "payee_type", "status", "charge", "plan_paid",
		"deductible", "coinsurance", "not_covered", "member_responsibility", "adjustments"}}
	codes := []string{"PR-6", "OA-18", "PR-26", "PR-27", "PR-35", "PR-96", "PR-119", "PR-179", "PR-204"}
	for i := range 45 {
		benefit := fmt.Sprintf("BENEFIT_%02d", i)
		if i == 0 {
			benefit = "A_VERY_LONG_BENEFIT_CODE_OF_32CH"
		}
		for _, cur := range []string{"EUR", "GBP", "USD"} {
			remit = append(remit, []string{cur, []string{"core", "outpatient", "dental"}[i%3], benefit, "provider", "PARTIAL",
				"2199999999.99", "1999999999.99", "0.00", "0.00", "200000000.00", "200000000.00",
				codes[i%len(codes)] + ":200000000.00"})
		}
	}
	ex := [][]string{{"source", "code"}}
	for i := range 12 {
		ex = append(ex, []string{fmt.Sprintf("claims-extract-2026-11-%02d-night-batch.csv.gz", i), fmt.Sprintf("SOME_EXCEPTION_CODE_%d", i)})
	}
	in := sampleInput(t)
	in.Remittance, in.Exceptions = filepath.Join(dir, "remittance.csv"), filepath.Join(dir, "exceptions.csv")
	writeTestCSV(t, in.Remittance, remit)
	writeTestCSV(t, in.Exceptions, ex)
	m := *in.Manifest
	m.ControlTotals.LinesRead = 123456789012
	m.Inputs = append(slices.Clone(m.Inputs), writersInput("claims", "/srv/claims/inbox/2026-11-27/very/deep/directory/structure/claims-extract-2026-11-27.parquet"))
	in.Manifest = &m
	in.Turnaround = Turnaround{AsOf: "2026-11-27", Lines: 180, Within: 100, Histogram: []int64{1e4, 2e4, 3e4, 4e4, 5e4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29}}
	in.Turnaround.Lines = 0
	for _, n := range in.Turnaround.Histogram {
		in.Turnaround.Lines += n
	}
	var page bytes.Buffer
	if err := Build(&page, in); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "report.html")
	if err := os.WriteFile(path, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 900), chromedp.Navigate((&url.URL{Scheme: "file", Path: path}).String())); err != nil {
		t.Fatal(err)
	}
	for _, media := range []struct {
		name  string
		width int64
	}{{"screen", 1366}, {"print", 703}} {
		if err := chromedp.Do(ctx, display(media.width, media.name)); err != nil {
			t.Fatal(err)
		}
		problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](layoutProblems))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Errorf("%s at %d px: %s", media.name, media.width, p)
		}
		if *screenshot {
			png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(os.TempDir(), "report-extremes-"+media.name+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func writeTestCSV(t *testing.T, path string, rows [][]string) {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.WriteAll(rows)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func writersInput(role, path string) writers.Input {
	return writers.Input{Role: role, Path: path, SHA256: strings.Repeat("ab", 32), Rows: 98765432101, Adjudicated: 98765432100, Exceptions: 1}
}

// paymentsByPayeeType sums the sample's payments file by currency and payee
// type: "USD/plan_paid_provider" -> "50987.50".
func paymentsByPayeeType(t *testing.T) map[string]string {
	t.Helper()
	header, rows := readCSV(t, filepath.Join(sampleDir, "payments.csv"))
	sums := map[string]claim.Money{}
	for _, r := range rows {
		m, err := claim.ParseMoney(r[slices.Index(header, "plan_paid")])
		if err != nil {
			t.Fatal(err)
		}
		sums[r[slices.Index(header, "plan_currency")]+"/plan_paid_"+r[slices.Index(header, "payee_type")]] += m
	}
	out := map[string]string{}
	for _, cur := range []string{"EUR", "GBP", "USD"} {
		for _, typ := range []string{"provider", "member"} {
			k := cur + "/plan_paid_" + typ
			out[k] = sums[k].String()
		}
	}
	return out
}

// exceptionsFileCounts counts the sample's exceptions file rows by code.
func exceptionsFileCounts(t *testing.T) map[string]string {
	t.Helper()
	header, rows := readCSV(t, filepath.Join(sampleDir, "exceptions.csv"))
	counts := map[string]int{}
	for _, r := range rows {
		counts[r[slices.Index(header, "code")]]++
	}
	out := map[string]string{}
	for k, n := range counts {
		out[k] = fmt.Sprint(n)
	}
	return out
}
