package explain

import (
	"fmt"
	"io"
	"strings"

	"claimsbatch/engine"
)

// WriteText writes the report for a person: per line, the steps that
// applied, the accumulators before and after with their limits, the
// remittance values and whether they equal the published row. Amounts have
// thousands separators ("4,835.00").
func (r *Report) WriteText(w io.Writer) error {
	b := &strings.Builder{}
	fmt.Fprintf(b, "run %s, plan %s", r.RunID, r.Plan.Name)
	if r.AsOf != "" {
		fmt.Fprintf(b, ", as of %s", r.AsOf)
	}
	b.WriteString("\n")
	what := "claim " + r.ClaimID
	if r.LineNo > 0 {
		what += fmt.Sprintf(" line %d", r.LineNo)
	}
	switch {
	case r.MemberID == "":
		fmt.Fprintf(b, "%s: not adjudicated\n", what)
	default:
		n := "1 line"
		if len(r.Lines) != 1 {
			n = fmt.Sprintf("%d lines", len(r.Lines))
		}
		fmt.Fprintf(b, "%s, member %s: the member's lines in adjudication order up to the last asked one, %s\n", what, r.MemberID, n)
	}
	if r.StateIn != nil {
		fmt.Fprintf(b, "the accumulators start from the run's --state-in %s (%d records of the member)\n", r.StateIn.Path, r.StateIn.Records)
	}
	for i := range r.Lines {
		b.WriteString("\n")
		writeLine(b, &r.Lines[i])
	}
	if len(r.NotAdjudicated) > 0 {
		b.WriteString("\nnot adjudicated (exceptions of the run):\n")
		for _, x := range r.NotAdjudicated {
			fmt.Fprintf(b, "  %s/%s  %s row %d: %s", r.ClaimID, x.LineNo, x.Source, x.Row, x.Code)
			if x.Field != "" {
				fmt.Fprintf(b, " (%s)", x.Field)
			}
			fmt.Fprintf(b, " %s\n", x.Message)
		}
	}
	if len(r.NotReproduced) > 0 {
		b.WriteString("\nNOT REPRODUCED: published remittance rows of the member that the inputs do not give:\n")
		for _, p := range r.NotReproduced {
			fmt.Fprintf(b, "  %s/%s  remittance row %d\n", p.ClaimID, p.LineNo, p.Row)
		}
	}
	if len(r.Lines) > 0 {
		b.WriteString("\n")
		if r.Matches {
			fmt.Fprintf(b, "every line above equals its published remittance row\n")
		} else {
			fmt.Fprintf(b, "MISMATCH: the re-adjudication differs from the published remittance (DIFFERS, NOT REPRODUCED above)\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeLine(b *strings.Builder, l *Line) {
	asked := ""
	if l.Asked {
		asked = "  <- asked"
	}
	fmt.Fprintf(b, "%s/%d  %s  %s (%s)  %s row %d%s\n", l.ClaimID, l.LineNo, dates(l), l.BenefitCode, l.Module, l.Source, l.Row, asked)
	for _, s := range l.Steps {
		if s.Outcome == engine.NotApplicable.String() {
			continue
		}
		b.WriteString(strings.TrimRight(fmt.Sprintf("  %2d  %-18s %s", s.Step, s.Name, stepText(l, &s)), " "))
		b.WriteString("\n")
		if s.Step == engine.StepAccrue.Number() || s.Outcome == engine.Denied.String() {
			writeAccs(b, l.Accumulators)
		}
	}
	rm := &l.Remittance
	fmt.Fprintf(b, "  remittance: charge %s = plan paid %s + deductible %s + coinsurance %s + not covered %s; %s",
		money(rm.Charge), money(rm.PlanPaid), money(rm.Deductible), money(rm.Coinsurance), money(rm.NotCovered), rm.Status)
	if rm.Adjustments != "" {
		fmt.Fprintf(b, " %s", rm.Adjustments)
	}
	if rm.Remark != "" {
		fmt.Fprintf(b, " (%s)", rm.Remark)
	}
	b.WriteString("\n")
	p := &l.Published
	switch {
	case p.Matches:
		fmt.Fprintf(b, "  published: remittance row %d, the same values\n", p.Row)
	case p.Row == 0:
		fmt.Fprintf(b, "  DIFFERS: the published remittance has no row for %s/%d\n", l.ClaimID, l.LineNo)
	default:
		fmt.Fprintf(b, "  DIFFERS from the published remittance row %d:", p.Row)
		for _, d := range p.Differences {
			fmt.Fprintf(b, " %s published %q, explained %q;", d.Column, d.Published, d.Explained)
		}
		b.WriteString("\n")
	}
}

func dates(l *Line) string {
	s := "service " + l.ServiceDate
	if l.ServiceEndDate != l.ServiceDate {
		s += " to " + l.ServiceEndDate
	}
	if l.ReceivedDate != l.ServiceDate {
		s += ", received " + l.ReceivedDate
	}
	return s
}

// stepText is what a step did, in one line.
func stepText(l *Line, s *Step) string {
	var parts []string
	t := &s.trace
	switch {
	case s.Outcome == engine.Denied.String():
		parts = append(parts, fmt.Sprintf("DENIED %s %s: %s", s.Reason, money(s.Cut), s.Remark))
	case t.Step == engine.StepCharge:
		c := money(s.Amount) + " " + l.PlanCurrency
		if l.BilledCurrency != l.PlanCurrency || l.FXRate != "1" {
			c += fmt.Sprintf(" (billed %s %s)", money(l.Billed), l.BilledCurrency)
		}
		parts = append(parts, c)
	case t.Step == engine.StepDayLimits:
		parts = append(parts, "eligible "+money(s.Amount))
	case t.Step == engine.StepExhaustedLimits:
		parts = append(parts, "passed, eligible "+money(s.Amount))
	case t.Step == engine.StepCostShare:
		parts = append(parts, fmt.Sprintf("deductible %s, coinsurance %s, plan share %s", money(s.Deductible), money(s.Coinsurance), money(s.Amount)))
	case t.Step == engine.StepAmountLimits:
		parts = append(parts, "plan paid "+money(s.Amount))
	case t.Step == engine.StepAccrue:
	default:
		parts = append(parts, s.Outcome)
	}
	if s.Outcome != engine.Denied.String() && s.Cut != "" {
		parts = append(parts, fmt.Sprintf("%s %s: %s", s.Reason, money(s.Cut), s.Remark))
	}
	if s.Detail != "" {
		parts = append(parts, s.Detail)
	}
	return strings.Join(parts, "; ")
}

func writeAccs(b *strings.Builder, accs []Accumulator) {
	width := 0
	for _, a := range accs {
		width = max(width, len(a.Label))
	}
	for _, a := range accs {
		show := func(v string) string { return v }
		if a.Unit == "amount" {
			show = money
		}
		fmt.Fprintf(b, "        %-*s  %s -> %s of %s", width, a.Label, show(a.Before), show(a.After), show(a.Limit))
		if a.Unit != "amount" {
			fmt.Fprintf(b, " %s", a.Unit)
		}
		if a.Cut != "" {
			fmt.Fprintf(b, " (%s %s)", a.Reason, money(a.Cut))
		}
		b.WriteString("\n")
	}
}

// money puts thousands separators into a plain decimal: "4835.00" →
// "4,835.00".
func money(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	var out []byte
	for i := range len(whole) {
		if i > 0 && (len(whole)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, whole[i])
	}
	r := string(out)
	if frac != "" {
		r += "." + frac
	}
	if neg {
		r = "-" + r
	}
	return r
}
