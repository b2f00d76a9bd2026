package report

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"

	"claimsbatch/claim"
	"claimsbatch/readers"
	"claimsbatch/writers"
)

// Input is what a report is built from.
type Input struct {
	// Manifest is the run's manifest: run id, plan, inputs with their
	// SHA-256, control totals. Required.
	Manifest *writers.Manifest
	// Remittance and Exceptions are the paths of the run's remittance and
	// exceptions tables (CSV or Parquet, by extension); "" when the run has
	// none (a validate run has no remittance).
	Remittance string
	Exceptions string
	// Lines, when set, holds the remittance's lines added up as the run
	// wrote them (NewLines, Lines.Add); Remittance is then not read.
	Lines *Lines
	// Turnaround is the run's turnaround; the zero value takes the
	// manifest's turnaround section, and when there is none (a validate
	// run, a run of an older release) the page says it was not measured.
	Turnaround Turnaround
	// Reader tunes the table reads; the zero value is fine.
	Reader readers.Options
}

// Turnaround is how long the run's lines waited: per line, the business
// days (Monday to Friday) from its received_date to the run's as-of date.
// The zero value (Lines == 0) means not measured.
type Turnaround struct {
	AsOf   string // the run's as-of date, YYYY-MM-DD
	Target int    // the promised business days; 0 means 5
	Lines  int64  // lines measured
	Within int64  // lines handled within Target business days; Lines - Within are over
	// Histogram[i] counts the lines that took i business days; the last
	// entry also counts every line that took longer (so 16 entries are
	// 0..14 and "15 or more"). Its entries add up to Lines. Empty: no
	// histogram is drawn.
	Histogram []int64
}

// ErrInput is wrapped by Build when in is not usable (no manifest, a
// turnaround that does not add up).
var ErrInput = errors.New("report: invalid input")

//go:embed report.html.tmpl
var pageTemplate string

var tmpl = template.Must(template.New("report").Parse(pageTemplate))

// Build streams in's tables and writes the report page to w. The page is
// one self-contained HTML file (inline CSS and SVG, no script, nothing
// fetched) whose bytes depend on in only.
func Build(w io.Writer, in Input) error {
	if in.Manifest == nil {
		return fmt.Errorf("%w: no manifest", ErrInput)
	}
	if in.Turnaround.Lines == 0 {
		in.Turnaround = manifestTurnaround(in.Manifest)
	}
	if err := in.Turnaround.check(); err != nil {
		return err
	}
	t := newTotals()
	if in.Lines != nil {
		in.Lines.into(t)
	} else if in.Remittance != "" {
		if err := t.addRemittance(in.Remittance, in.Reader); err != nil {
			return err
		}
	}
	if in.Exceptions != "" {
		if err := t.addExceptions(in.Exceptions, in.Reader); err != nil {
			return err
		}
	}
	p := buildPage(in, t)
	var b bytes.Buffer
	if err := tmpl.Execute(&b, p); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// manifestTurnaround is the manifest's turnaround section as the page
// shows it; the zero value when the manifest has none or it measured no
// line.
func manifestTurnaround(m *writers.Manifest) Turnaround {
	mt := m.Turnaround
	if mt == nil || mt.Lines == 0 {
		return Turnaround{}
	}
	return Turnaround{AsOf: m.AsOf, Target: mt.TargetDays, Lines: mt.Lines, Within: mt.Within, Histogram: mt.Histogram}
}

func (t Turnaround) check() error {
	if t.Lines == 0 {
		return nil
	}
	if t.Within < 0 || t.Within > t.Lines || t.Target < 0 {
		return fmt.Errorf("%w: turnaround: %d of %d lines within %d days", ErrInput, t.Within, t.Lines, t.Target)
	}
	var sum int64
	for _, n := range t.Histogram {
		sum += n
	}
	if len(t.Histogram) > 0 && sum != t.Lines {
		return fmt.Errorf("%w: turnaround: the histogram adds up to %d lines, not %d", ErrInput, sum, t.Lines)
	}
	return nil
}

// formatMoney writes an amount with thousands separators: "65,270.00".
func formatMoney(m claim.Money) string {
	s := m.String()
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, cents, _ := strings.Cut(s, ".")
	out := group3(whole) + "." + cents
	if neg {
		return "-" + out
	}
	return out
}

func formatCount(n int64) string {
	if n < 0 {
		return "-" + group3(strconv.FormatInt(-n, 10))
	}
	return group3(strconv.FormatInt(n, 10))
}

func group3(digits string) string {
	var b strings.Builder
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// percent is 100 * part / whole, 0 when whole is 0.
func percent(part, whole int64) float64 {
	if whole == 0 {
		return 0
	}
	return 100 * float64(part) / float64(whole)
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
