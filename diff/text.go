package diff

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"claimsbatch/claim"
)

// WriteJSON writes s as indented JSON (two spaces) ending in a newline: the
// content of diff.json. Keys come in struct order and lists are sorted, so
// the bytes depend on the runs only.
func (s *Summary) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("diff: summary: %w", err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("diff: summary: %w", err)
	}
	return nil
}

// WriteText prints s for people: the runs, the line counts, the totals per
// currency, then the per-module, per-benefit and reason-code totals that
// differ (diff.json has them all), the exceptions by code and the payments.
func (s *Summary) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	verdict := "the runs differ"
	if s.Identical {
		verdict = "the runs are identical"
	}
	runs := textTable{right: []bool{false, false, false, false}}
	for _, r := range []struct {
		name string
		ref  RunRef
	}{{"A", s.A}, {"B", s.B}} {
		runs.add(r.name, r.ref.Dir, "run "+r.ref.RunID, fmt.Sprintf("plan %s (%s)", r.ref.Plan, short(r.ref.PlanSHA256)))
	}
	runs.write(bw, "")
	fmt.Fprintf(bw, "%s\n", verdict)

	l := s.Lines
	fmt.Fprintf(bw, "\nLines: A %d, B %d; changed %d, only in A %d, only in B %d, unchanged %d\n",
		l.A, l.B, l.Changed, l.OnlyInA, l.OnlyInB, l.Unchanged)

	fmt.Fprintf(bw, "\nTotals per plan currency\n")
	t := measuresHeader("")
	for _, c := range s.Totals {
		t.measures(c.PlanCurrency, &c.Measures, true)
	}
	t.writeOr(bw, "  (no lines)\n")

	fmt.Fprintf(bw, "\nPer module (amounts that differ; all are in diff.json)\n")
	t = measuresHeader("")
	for _, c := range s.ByModule {
		t.measures(c.PlanCurrency+" "+c.Module, &c.Measures, false)
	}
	t.writeOr(bw, "  no differences\n")

	fmt.Fprintf(bw, "\nPer benefit (amounts that differ)\n")
	t = measuresHeader("")
	for _, c := range s.ByBenefit {
		t.measures(c.PlanCurrency+" "+c.BenefitCode, &c.Measures, false)
	}
	t.writeOr(bw, "  no differences\n")

	fmt.Fprintf(bw, "\nReason codes on the lines in both runs\n")
	t = textTable{right: []bool{false, true, true, true}}
	t.add("code", "appeared on", "disappeared from", "amount changed on")
	for _, rc := range s.ReasonCodes {
		if rc.LinesAppeared+rc.LinesDisappeared+rc.LinesAmountChanged > 0 {
			t.add(rc.Code, lines(rc.LinesAppeared), lines(rc.LinesDisappeared), lines(rc.LinesAmountChanged))
		}
	}
	t.writeOr(bw, "  no changes\n")
	fmt.Fprintf(bw, "\nReason code totals (amounts that differ)\n")
	t = textTable{right: []bool{false, false, true, true, true}}
	t.add("", "", "A", "B", "delta")
	for _, rc := range s.ReasonCodes {
		for _, pc := range rc.PerCurrency {
			if pc.Amount.Delta() != 0 {
				t.add(pc.PlanCurrency, rc.Code, pc.Amount.A.String(), pc.Amount.B.String(), signed(pc.Amount.Delta()))
			}
		}
	}
	t.writeOr(bw, "  no differences\n")

	fmt.Fprintf(bw, "\nExceptions by code\n")
	t = textTable{right: []bool{false, true, true, true}}
	t.add("", "A", "B", "delta")
	for _, e := range s.Exceptions.ByCode {
		t.add(e.Code, count(e.Count.A), count(e.Count.B), signedCount(e.Count.Delta()))
	}
	r := s.Exceptions.Rows
	t.add("total", count(r.A), count(r.B), signedCount(r.Delta()))
	t.write(bw, "  ")

	p := s.Payments
	fmt.Fprintf(bw, "\nPayments: payees A %d, B %d; changed %d, only in A %d, only in B %d\n",
		p.Payees.A, p.Payees.B, p.Changed, p.OnlyInA, p.OnlyInB)
	t = textTable{right: []bool{false, true, true, true, true, true}}
	t.add("", "lines A", "lines B", "plan_paid A", "plan_paid B", "delta")
	for _, pc := range p.PerCurrency {
		t.add(pc.PlanCurrency, count(pc.LineCount.A), count(pc.LineCount.B),
			pc.PlanPaid.A.String(), pc.PlanPaid.B.String(), signed(pc.PlanPaid.Delta()))
	}
	t.writeOr(bw, "")
	if len(p.Largest) > 0 {
		fmt.Fprintf(bw, "\nLargest payee changes\n")
		t = textTable{right: []bool{false, false, false, false, true, true, true, true, true}}
		t.add("", "payee", "", "", "lines A", "lines B", "plan_paid A", "plan_paid B", "delta")
		for _, c := range p.Largest {
			t.add(c.PlanCurrency, c.PayeeType, c.PayeeID, strings.ReplaceAll(c.Kind, "_", " "),
				count(c.LineCount.A), count(c.LineCount.B), c.PlanPaid.A.String(), c.PlanPaid.B.String(), signed(c.PlanPaid.Delta()))
		}
		t.write(bw, "  ")
	}
	return bw.Flush()
}

// measuresHeader starts a table of Measures rows.
func measuresHeader(first string) textTable {
	t := textTable{right: []bool{false, false, true, true, true}}
	t.add(first, "", "A", "B", "delta")
	return t
}

// measures adds the rows of one set of totals: every measure when all is
// set, else only those that differ.
func (t *textTable) measures(label string, x *Measures, all bool) {
	if all || x.Lines.Delta() != 0 {
		t.add(label, "lines", count(x.Lines.A), count(x.Lines.B), signedCount(x.Lines.Delta()))
		label = ""
	}
	for m := range NumMeasures {
		a := x.Amount(m)
		if all || a.Delta() != 0 {
			t.add(label, m.String(), a.A.String(), a.B.String(), signed(a.Delta()))
			label = ""
		}
	}
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

func lines(n int64) string {
	if n == 1 {
		return "1 line"
	}
	return strconv.FormatInt(n, 10) + " lines"
}

func count(n int64) string { return strconv.FormatInt(n, 10) }

// signed writes a delta with its sign: "+100.00", "-3.25", "0.00".
func signed(m claim.Money) string {
	if m > 0 {
		return "+" + m.String()
	}
	return m.String()
}

func signedCount(n int64) string {
	if n > 0 {
		return "+" + count(n)
	}
	return count(n)
}

// textTable lays out rows in columns two spaces apart, each column left or
// right aligned. The first row added is a header when the caller says so
// by adding it first; rows beyond the header decide whether anything is
// written by writeOr.
type textTable struct {
	right []bool
	rows  [][]string
}

func (t *textTable) add(cells ...string) { t.rows = append(t.rows, cells) }

// writeOr writes the table, or empty when it has only its header row.
func (t *textTable) writeOr(w io.Writer, empty string) {
	if len(t.rows) <= 1 {
		io.WriteString(w, empty)
		return
	}
	t.write(w, "  ")
}

func (t *textTable) write(w io.Writer, indent string) {
	width := make([]int, len(t.right))
	for _, r := range t.rows {
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	for _, r := range t.rows {
		b.Reset()
		b.WriteString(indent)
		for i, c := range r {
			if i > 0 {
				b.WriteString("  ")
			}
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if t.right[i] {
				b.WriteString(pad + c)
			} else {
				b.WriteString(c + pad)
			}
		}
		io.WriteString(w, strings.TrimRight(b.String(), " ")+"\n")
	}
}
