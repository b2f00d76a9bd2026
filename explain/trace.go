package explain

import (
	"path/filepath"
	"strconv"
	"strings"

	"claimsbatch/claim"
	"claimsbatch/engine"
	"claimsbatch/plan"
)

// collector is the engine.Tracer of an explain: it keeps each line's
// events, by the line's position among the member's lines.
type collector struct {
	index map[*claim.Line]int
	steps [][]engine.StepTrace
	accs  [][]engine.AccTrace
}

func newCollector(lines []claim.Line) *collector {
	c := &collector{index: make(map[*claim.Line]int, len(lines)), steps: make([][]engine.StepTrace, len(lines)), accs: make([][]engine.AccTrace, len(lines))}
	for i := range lines {
		c.index[&lines[i]] = i
	}
	return c
}

func (c *collector) Step(ln *claim.Line, s engine.StepTrace) {
	if i, ok := c.index[ln]; ok {
		c.steps[i] = append(c.steps[i], s)
	}
}

func (c *collector) Accumulator(ln *claim.Line, a engine.AccTrace) {
	if i, ok := c.index[ln]; ok {
		c.accs[i] = append(c.accs[i], a)
	}
}

// line builds the report of line i from its events and its result.
func (c *collector) line(i int, p *plan.Plan, r *claim.Result, ln *claim.Line, files []input) Line {
	l := Line{
		ClaimID: ln.ClaimID, LineNo: ln.LineNo, Row: ln.Row,
		ServiceDate: ln.ServiceDate.String(), ServiceEndDate: ln.ServiceEndDate.String(), ReceivedDate: ln.ReceivedDate.String(),
		BenefitCode: ln.BenefitCode, Module: r.Module.String(), Country: ln.Country, Emergency: ln.Emergency,
		TripID: ln.TripID, Condition: ln.Condition, ItemCode: ln.ItemCode, ProviderID: ln.ProviderID, ProcedureCode: ln.ProcedureCode,
		Units: ln.Units, Billed: ln.Billed.String(), BilledCurrency: ln.Currency, PlanCurrency: ln.PlanCurrency, FXRate: ln.FXRate,
		Steps: []Step{}, Accumulators: []Accumulator{},
		Remittance: Remittance{
			PolicyID: r.PolicyID, Charge: r.Charge.String(), Deductible: r.Deductible.String(), Coinsurance: r.Coinsurance.String(),
			NotCovered: r.NotCovered.String(), PlanPaid: r.PlanPaid.String(), MemberResponsibility: r.MemberResponsibility().String(),
			Status: r.Status.String(), Adjustments: r.Adjustments.String(), Remark: r.Remark,
		},
	}
	if int(ln.Source) < len(files) {
		l.Source = filepath.Base(files[ln.Source].path)
	}
	if r.PolicyYearStart != claim.NoDate {
		l.Remittance.PolicyYearStart = r.PolicyYearStart.String()
	}
	for _, s := range c.steps[i] {
		l.Steps = append(l.Steps, stepOf(s))
	}
	for _, a := range c.accs[i] {
		l.Accumulators = append(l.Accumulators, accOf(a))
	}
	return l
}

func stepOf(s engine.StepTrace) Step {
	st := Step{Step: s.Step.Number(), Name: s.Step.String(), Outcome: s.Outcome.String(), Detail: s.Detail, trace: s}
	if s.Outcome == engine.Denied || s.Cut > 0 {
		st.Reason, st.Remark, st.Cut = s.Reason.String(), s.Remark, s.Cut.String()
	}
	if s.Outcome == engine.Denied || s.Outcome == engine.NotApplicable && s.Step != engine.StepDayLimits {
		return st
	}
	switch s.Step {
	case engine.StepCharge, engine.StepExhaustedLimits, engine.StepAmountLimits, engine.StepAccrue:
		st.Amount = s.Amount.String()
	case engine.StepDayLimits:
		st.Amount = s.Amount.String()
		if s.Outcome != engine.NotApplicable {
			st.Covered, st.Of = s.Covered, s.Of
		}
	case engine.StepCostShare:
		st.Amount, st.Deductible, st.Coinsurance = s.Amount.String(), s.Deductible.String(), s.Coinsurance.String()
	}
	return st
}

func accOf(a engine.AccTrace) Accumulator {
	acc := Accumulator{Step: a.Step.Number(), Kind: a.Kind.String(), Label: accLabel(a), Subject: a.Subject, Key: a.Key, trace: a}
	show := func(v int64) string { return strconv.FormatInt(v, 10) }
	switch a.Kind {
	case engine.AccBenefitDays, engine.AccGroupDays:
		acc.Unit = "units"
	case engine.AccLines:
		acc.Unit = "lines"
	case engine.AccTripDays, engine.AccOutOfAreaDays, engine.AccOriginDays:
		acc.Unit = "dates"
	default:
		acc.Unit = "amount"
		show = func(v int64) string { return claim.Money(v).String() }
	}
	acc.Before, acc.After, acc.Limit = show(a.Before), show(a.After), show(a.Limit)
	if a.Cut > 0 {
		acc.Reason, acc.Cut = a.Reason.String(), a.Cut.String()
	}
	return acc
}

// accLabel names an accumulator as a claims handler says it: "outpatient
// annual", "CONSULT_TELEHEALTH combined", "out-of-area days, trip T-ES1".
func accLabel(a engine.AccTrace) string {
	switch a.Kind {
	case engine.AccDeductible:
		return a.Subject + " deductible"
	case engine.AccCoinsurance:
		return a.Subject + " coinsurance (out-of-pocket maximum)"
	case engine.AccAnnual:
		return a.Subject + " annual"
	case engine.AccBenefit:
		return a.Subject
	case engine.AccBenefitLifetime:
		return a.Subject + " lifetime"
	case engine.AccItem:
		return a.Subject + " " + a.Key + " lifetime"
	case engine.AccGroup:
		return a.Subject + " combined"
	case engine.AccPerLine:
		return a.Subject + " per line"
	case engine.AccCondition:
		return "condition " + a.Key
	case engine.AccOutOfArea:
		return "out-of-area emergency"
	case engine.AccBenefitDays:
		return a.Subject + " days"
	case engine.AccGroupDays:
		return a.Subject + " combined days"
	case engine.AccLines:
		return a.Subject + " lines this policy year"
	case engine.AccTripDays:
		if n, ok := strings.CutPrefix(a.Key, "~"); ok {
			return "out-of-area days, inferred trip " + n
		}
		return "out-of-area days, trip " + a.Key
	case engine.AccOutOfAreaDays:
		return "out-of-area days this policy year"
	case engine.AccOriginDays:
		return "country-of-origin days"
	}
	return a.Kind.String()
}
