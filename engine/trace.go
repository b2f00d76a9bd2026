package engine

import (
	"fmt"
	"strings"

	"claimsbatch/claim"
	"claimsbatch/plan"
)

// Tracer receives, line by line, what the engine decided and why: each step
// of SPEC section 5 the line went through, then every accumulator it
// touched. Events of one line arrive together, in step order, before the
// next line's; ln is the line they are about (a pointer into the lines given
// to Adjudicate, as the Result's Line is). A Tracer is called on the
// adjudicating goroutine.
//
// Tracing is for explaining one member (claimsbatch explain), not for runs:
// with no tracer set, the engine pays one nil check per branch of a line.
type Tracer interface {
	Step(ln *claim.Line, s StepTrace)
	Accumulator(ln *claim.Line, a AccTrace)
}

// SetTracer makes the Member report every line it adjudicates to t (nil
// stops tracing). Reset keeps the tracer.
func (m *Member) SetTracer(t Tracer) { m.tracer = t }

// Step is a step of SPEC section 5. Number and String give the SPEC's number
// and a name; a step added to the SPEC gets a constant here and a row in
// stepInfo.
type Step uint8

// The steps, in the order line runs them.
const (
	StepCharge           Step = iota // the paragraph before step 1: the charge in the plan currency
	StepTimelyFiling                 // before step 1, not in the SPEC: the plan's filing limit (PR-29)
	StepEligibility                  // 1: a span covers the service date (PR-26, PR-27)
	StepModule                       // 2: the benefit's module is held (PR-204)
	StepAge                          // 3: the benefit's age rule (PR-6)
	StepWaitingPeriod                // 4: the waiting period is served (PR-179)
	StepCoverageArea                 // 5: in the area of cover, or an out-of-area emergency (PR-96)
	StepDuplicateService             // 6: not a duplicate service (OA-18)
	StepDayLimits                    // 7: day limits give the covered fraction (PR-119)
	StepExhaustedLimits              // 8: no amount limit that applies is used up (PR-119, PR-35)
	StepCostShare                    // 9: deductible and coinsurance, or the dental rate
	StepAmountLimits                 // 10: plan_paid within every amount limit (PR-119, PR-35)
	StepAccrue                       // 11: the accumulators take the line
	numSteps
)

var stepInfo = [numSteps]struct {
	no   int
	name string
}{
	{0, "charge"},
	{0, "timely filing"},
	{1, "eligibility"},
	{2, "module"},
	{3, "age rule"},
	{4, "waiting period"},
	{5, "coverage area"},
	{6, "duplicate service"},
	{7, "day limits"},
	{8, "exhausted limits"},
	{9, "cost share"},
	{10, "amount limits"},
	{11, "accrue"},
}

// Number is the step's number in SPEC section 5 (0 for the charge).
func (s Step) Number() int {
	if s < numSteps {
		return stepInfo[s].no
	}
	return -1
}

// String is the step's name: "eligibility", "day limits".
func (s Step) String() string {
	if s < numSteps {
		return stepInfo[s].name
	}
	return fmt.Sprintf("step(%d)", uint8(s))
}

// Outcome is what a step made of a line.
type Outcome uint8

// Outcomes.
const (
	// NotApplicable: the step has no rule for this line (no age rule, no
	// waiting period, no day limit, no amount limit).
	NotApplicable Outcome = iota
	// Passed: the step's rule held; the line goes on.
	Passed
	// Denied: the step denied the line (Reason, Remark); nothing accrued.
	Denied
	// Applied: the step computed amounts (charge, day limits, cost share,
	// amount limits, accrue).
	Applied
)

var outcomeNames = [...]string{"not applicable", "passed", "denied", "applied"}

// String is the outcome in words: "passed", "not applicable".
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("outcome(%d)", uint8(o))
}

// StepTrace is one step's outcome for one line. Amounts are in the plan
// currency.
type StepTrace struct {
	Step    Step
	Outcome Outcome
	// Reason is the denial's reason code when Denied, else the reason of
	// Cut (PR-119 or PR-35) when Cut > 0.
	Reason claim.Reason
	// Remark is the remittance remark of a denial or of a Cut: which rule,
	// which limit.
	Remark string
	// Detail says what the step checked, in words, with dates, countries,
	// ages, rates, percentages and counts but no amounts (those are the
	// fields below and the accumulators').
	Detail string
	// Amount is the step's result: the charge (StepCharge), the eligible
	// amount (StepDayLimits, StepExhaustedLimits), the plan's share
	// (StepCostShare), plan_paid (StepAmountLimits, StepAccrue).
	Amount claim.Money
	// Cut is what the step left not covered: the whole charge when a step up
	// to 7 denies (the eligible amount at step 8), the PR-119 of a day limit
	// (7), the PR-119 or PR-35 of the binding amount limit (10).
	Cut claim.Money
	// Deductible and Coinsurance are step 9's cost share (for dental,
	// Coinsurance is the part above the reimbursement rate).
	Deductible, Coinsurance claim.Money
	// Covered and Of are step 7's covered fraction (units or dates); 1 of 1
	// when no day limit applies.
	Covered, Of int64
}

// AccKind is the kind of an accumulator (or, for AccPerLine, a limit with
// nothing to accumulate).
type AccKind uint8

// Accumulator kinds. Money kinds count claim.Money (cents); the others count
// units, distinct dates or lines.
const (
	AccDeductible      AccKind = iota // per module and policy year; limit: the span's deductible option
	AccCoinsurance                    // per module and policy year; limit: the span's out-of-pocket maximum
	AccAnnual                         // module annual maximum, per policy year
	AccBenefit                        // benefit limit per policy year (Subject: benefit code)
	AccBenefitLifetime                // benefit limit per lifetime (Subject: benefit code)
	AccItem                           // benefit limit per item code (Subject: benefit code, Key: item code)
	AccGroup                          // combined limit of a group (Subject: group name)
	AccPerLine                        // per line (per exam) limit: Before is 0 (Subject: benefit code)
	AccCondition                      // per-condition cap per policy year (Key: the condition)
	AccOutOfArea                      // out-of-area emergency amount per policy year
	AccBenefitDays                    // a benefit's units per policy year (Subject: benefit code)
	AccGroupDays                      // a group's units per policy year (Subject: group name)
	AccLines                          // a benefit's lines per policy year (Subject: benefit code)
	AccTripDays                       // distinct out-of-area dates per trip (Key: the trip_id, or "~N" for the N-th inferred trip, as in the state's TRIP rows)
	AccOutOfAreaDays                  // distinct out-of-area dates per policy year
	AccOriginDays                     // distinct country-of-origin dates per policy year
	numAccKinds
)

var accKindNames = [numAccKinds]string{
	"deductible", "coinsurance", "annual", "benefit", "benefit_lifetime", "item", "group", "per_line",
	"condition", "out_of_area", "benefit_days", "group_days", "lines", "trip_days", "out_of_area_days", "origin_days",
}

// String is the kind's stable name: "deductible", "trip_days".
func (k AccKind) String() string {
	if k < numAccKinds {
		return accKindNames[k]
	}
	return fmt.Sprintf("acc(%d)", uint8(k))
}

// Money reports whether the kind counts money (else units, dates or lines).
func (k AccKind) Money() bool { return k <= AccOutOfArea }

// Lifetime reports whether the kind runs for the member's lifetime rather
// than a policy year (or a trip, or a line).
func (k AccKind) Lifetime() bool { return k == AccBenefitLifetime || k == AccItem }

// AccTrace is one accumulator a line touched: its value before and after the
// line and its limit. A line that reached step 11 reports, with Step
// StepAccrue, every accumulator that applied to it, also those it added
// nothing to; a line that step 7 or 8 denied reports, with that Step, the
// limits the step checked (nothing accrued: After = Before).
type AccTrace struct {
	Step    Step
	Kind    AccKind
	Subject string // the module, benefit code or group name, per Kind
	Key     string // the condition, item code or trip, per Kind
	// Before, After and Limit are cents for a money kind, else counts.
	Before, After, Limit int64
	// Reason and Cut: what this accumulator cost the line: PR-1 (the
	// deductible), PR-2 (the coinsurance), or PR-119 / PR-35 when this is
	// the limit that cut or denied the line. Cut 0: none.
	Reason claim.Reason
	Cut    claim.Money
}

// traceState is a Member's tracing scratch.
type traceState struct {
	refs   []accRef
	before []int64
}

// accRef points at one accumulator a line touches.
type accRef struct {
	kind         AccKind
	subject, key string
	limit        int64
	remark       string // the remark when this limit decides (to attribute a cut)
	money        *claim.Money
	units        *int32
	dates        *[]claim.Date
	perLine      bool // no storage: before 0, after the line's plan_paid
}

func (a *accRef) value(w *lineWork, after bool) int64 {
	switch {
	case a.money != nil:
		return int64(*a.money)
	case a.units != nil:
		return int64(*a.units)
	case a.dates != nil:
		return int64(len(*a.dates))
	case a.perLine && after:
		return int64(w.paid)
	}
	return 0
}

// accRefs lists the accumulators the line touches, up to step upto: the day
// limits (from step 7), the amount limits and the lines per year (from step
// 8), the cost share (from step 9). It reads what the steps left in w and
// creates nothing (the steps did).
func (e *Engine) accRefs(m *Member, w *lineWork, upto Step, dst []accRef) []accRef {
	p, ln, b, bs, y, ci := e.plan, w.ln, w.b, w.bs, w.y, w.ci
	mod := b.Module.String()
	if upto >= StepCostShare && !b.IsCash() && b.Module != claim.Dental {
		dedOption, oopMax := w.span.CoreDeductible, w.span.CoreOOPMax
		if b.Module == claim.Outpatient {
			dedOption, oopMax = w.span.OutpatientDeduct, w.span.OutpatientOOPMax
		}
		if slot := e.deductibleSlot[b.Module]; slot >= 0 {
			dst = append(dst, accRef{kind: AccDeductible, subject: mod, limit: int64(dedOption), money: &y.amounts[slot]})
		}
		if slot := e.coinsuranceSlot[b.Module]; slot >= 0 {
			dst = append(dst, accRef{kind: AccCoinsurance, subject: mod, limit: int64(oopMax), money: &y.amounts[slot]})
		}
	}
	if upto >= StepExhaustedLimits {
		if b.Limit != nil {
			r := accRef{subject: b.Code, limit: int64(b.Limit[ci]), remark: bs.limitRemark}
			switch {
			case w.item != nil:
				r.kind, r.key, r.money = AccItem, ln.ItemCode, &w.item.paid
			case b.Period == plan.Lifetime:
				r.kind, r.money = AccBenefitLifetime, &m.lifetime[bs.amountSlot]
			default:
				r.kind, r.money = AccBenefit, &y.amounts[bs.amountSlot]
			}
			dst = append(dst, r)
		}
		if w.gs != nil && w.gs.amountSlot >= 0 {
			dst = append(dst, accRef{kind: AccGroup, subject: w.group.Name, limit: int64(w.group.Limit[ci]), remark: w.gs.limitRemark, money: &y.amounts[w.gs.amountSlot]})
		}
		if b.PerLineLimit != nil {
			dst = append(dst, accRef{kind: AccPerLine, subject: b.Code, limit: int64(b.PerLineLimit[ci]), remark: bs.perLineRmk, perLine: true})
		}
		if w.cond != nil {
			dst = append(dst, accRef{kind: AccCondition, key: w.cond.category, limit: int64(p.ConditionCap[ci]), remark: e.remarks.cond, money: &w.cond.paid})
		}
		if w.outOfArea && e.outOfAreaSlot >= 0 {
			dst = append(dst, accRef{kind: AccOutOfArea, limit: int64(p.OutOfAreaLimit[ci]), remark: e.remarks.ooaLimit, money: &y.amounts[e.outOfAreaSlot]})
		}
		if slot := e.annualSlot[b.Module]; slot >= 0 {
			dst = append(dst, accRef{kind: AccAnnual, subject: mod, limit: int64(p.Modules[b.Module].AnnualMaximum[ci]), remark: e.remarks.annual[b.Module], money: &y.amounts[slot]})
		}
		if bs.countSlot >= 0 {
			dst = append(dst, accRef{kind: AccLines, subject: b.Code, limit: int64(b.LinesPerYear), remark: bs.countRemark, units: &y.units[bs.countSlot]})
		}
	}
	if bs.daysSlot >= 0 {
		dst = append(dst, accRef{kind: AccBenefitDays, subject: b.Code, limit: int64(b.Days), remark: bs.daysRemark, units: &y.units[bs.daysSlot]})
	}
	if w.gs != nil && w.gs.daysSlot >= 0 {
		dst = append(dst, accRef{kind: AccGroupDays, subject: w.group.Name, limit: int64(w.group.Days), remark: w.gs.daysRemark, units: &y.units[w.gs.daysSlot]})
	}
	if w.outOfArea {
		if p.OutOfAreaDaysPerTrip > 0 {
			dst = append(dst, accRef{kind: AccTripDays, key: tripName(w.trip.key), limit: int64(p.OutOfAreaDaysPerTrip), remark: e.remarks.trip, dates: &w.trip.dates})
		}
		if p.OutOfAreaDaysPerYear > 0 {
			dst = append(dst, accRef{kind: AccOutOfAreaDays, limit: int64(p.OutOfAreaDaysPerYear), remark: e.remarks.ooaYear, dates: &w.y.oaDates})
		}
	}
	if w.inOrigin {
		dst = append(dst, accRef{kind: AccOriginDays, limit: int64(p.OriginDaysPerYear), remark: e.remarks.origin, dates: &w.y.originDates})
	}
	return dst
}

// cutOf returns what accumulator a cost the line, and why.
func (e *Engine) cutOf(w *lineWork, a *accRef, upto Step) (claim.Reason, claim.Money) {
	switch a.kind {
	case AccDeductible:
		return claim.PR1, w.deductible
	case AccCoinsurance:
		return claim.PR2, w.coinsurance
	}
	switch {
	case upto == StepDayLimits:
		if a.remark == w.dayRemark {
			return claim.PR119, w.charge
		}
	case upto == StepExhaustedLimits:
		if a.remark == w.denialRemark {
			return w.denial, w.eligible
		}
		if a.remark == w.dayRemark && w.charge > w.eligible {
			return claim.PR119, w.charge - w.eligible
		}
	default:
		if w.limitRemark != "" && a.remark == w.limitRemark {
			if w.binding.lifetime {
				return claim.PR35, w.planShare - w.paid
			}
			return claim.PR119, w.planShare - w.paid
		}
		if w.dayRemark != "" && a.remark == w.dayRemark {
			return claim.PR119, w.charge - w.eligible
		}
	}
	return 0, 0
}

// emitAccs reports the accumulators of refs, with before values (nil: the
// current values, nothing accrued).
func (e *Engine) emitAccs(m *Member, w *lineWork, at Step, refs []accRef, before []int64) {
	for i := range refs {
		a := &refs[i]
		after := a.value(w, at == StepAccrue)
		b := after
		if before != nil {
			b = before[i]
		}
		reason, cut := e.cutOf(w, a, at)
		m.tracer.Accumulator(w.ln, AccTrace{Step: at, Kind: a.kind, Subject: a.subject, Key: a.key,
			Before: b, After: after, Limit: a.limit, Reason: reason, Cut: cut})
	}
}

// deniedBy is the step of steps 1 to 7 that denies a line with each reason
// (steps 1 to 7 record only their reason, to keep them small enough to
// inline; step 8 is traced where it denies). A step added to the SPEC with
// a reason of its own gets a row here.
var deniedBy = [claim.NumReasons]Step{
	claim.PR29:  StepTimelyFiling,
	claim.PR26:  StepEligibility,
	claim.PR27:  StepEligibility,
	claim.PR204: StepModule,
	claim.PR6:   StepAge,
	claim.PR179: StepWaitingPeriod,
	claim.PR96:  StepCoverageArea,
	claim.OA18:  StepDuplicateService,
	claim.PR119: StepDayLimits,
}

// traceDenied reports the steps of a line that step at denied: those it
// passed, the denial, and the limits a step 7 or 8 denial checked.
func (e *Engine) traceDenied(m *Member, w *lineWork, at Step) {
	e.traceSteps(m, w, at)
	if at == StepDayLimits || at == StepExhaustedLimits {
		m.trace.refs = e.accRefs(m, w, at, m.trace.refs[:0])
		e.emitAccs(m, w, at, m.trace.refs, nil)
	}
}

// accrueTraced is the end of line for a line that reaches step 11, with
// a tracer: it reports steps 0 to 10, keeps the values of the line's
// accumulators, accrues and settles the line as line does, then reports
// step 11 and every accumulator before and after.
func (e *Engine) accrueTraced(m *Member, w *lineWork) {
	e.traceSteps(m, w, numSteps)
	t := &m.trace
	t.refs = e.accRefs(m, w, StepAccrue, t.refs[:0])
	t.before = t.before[:0]
	for i := range t.refs {
		t.before = append(t.before, t.refs[i].value(w, false))
	}
	e.accrue(m, w)
	e.settle(w)
	m.tracer.Step(w.ln, StepTrace{Step: StepAccrue, Outcome: Applied, Amount: w.paid})
	e.emitAccs(m, w, StepAccrue, t.refs, t.before)
}

// traceSteps reports the steps from the charge up to denied (numSteps: up to
// step 10, none denied), from what the steps left in w.
func (e *Engine) traceSteps(m *Member, w *lineWork, denied Step) {
	t, ln, b, span := m.tracer, w.ln, w.b, w.span
	emit := func(s StepTrace) {
		if s.Step == denied {
			s.Outcome, s.Reason, s.Remark = Denied, w.denial, w.denialRemark
			if s.Remark == "" {
				s.Remark = e.remarks.byReason[w.denial]
			}
			s.Cut = w.charge
			if denied == StepExhaustedLimits {
				s.Cut = w.eligible
			}
		}
		t.Step(ln, s)
	}
	emit(StepTrace{Step: StepCharge, Outcome: Applied, Amount: w.charge, Detail: e.chargeDetail(w)})
	for s := StepTimelyFiling; s <= denied && s <= StepAmountLimits; s++ {
		tr := StepTrace{Step: s, Outcome: Passed}
		switch s {
		case StepTimelyFiling:
			limit := e.plan.TimelyFilingDays
			if limit == 0 && m.lateBefore == claim.NoDate {
				continue // not a SPEC step: without a filing limit it does not exist
			}
			tr.Detail = fmt.Sprintf("received %d days after service", ln.ReceivedDate-ln.ServiceDate)
			if limit > 0 {
				tr.Detail += fmt.Sprintf("; the plan's filing limit is %d days", limit)
			}
			if m.lateBefore != claim.NoDate {
				tr.Detail += fmt.Sprintf("; lines served before %s are late (the state's key horizon)", m.lateBefore)
			}
		case StepEligibility:
			tr.Detail = eligibilityDetail(w, ln, s == denied)
		case StepModule:
			tr.Detail = fmt.Sprintf("%s module; the span holds %s", b.Module, modulesText(span.Modules))
		case StepAge:
			if b.MinAge < 0 && b.MaxAge < 0 {
				tr.Outcome = NotApplicable
				break
			}
			tr.Detail = fmt.Sprintf("age %d on the service date; the benefit needs %s", span.DateOfBirth.AgeOn(ln.ServiceDate), ageRule(b))
		case StepWaitingPeriod:
			if b.WaitingMonths == 0 {
				tr.Outcome = NotApplicable
				break
			}
			cc := m.ccStart[w.si]
			tr.Detail = fmt.Sprintf("%d months from the continuous-cover start %s: served on %s", b.WaitingMonths, cc, cc.AddMonths(b.WaitingMonths))
		case StepCoverageArea:
			tr.Detail = e.areaDetail(w, s == denied)
		case StepDuplicateService:
			if s == denied {
				tr.Detail = "the same service as claim " + m.duplicateOf(ln).claimID
			}
		case StepDayLimits:
			tr.Outcome, tr.Covered, tr.Of, tr.Amount = NotApplicable, 1, 1, w.eligible
			if w.dayLimitsApply(e) {
				tr.Outcome = Applied
				// The limit that decided counts units or dates; with none
				// deciding, units when a unit-counted limit applies.
				unitLimit := w.bs.daysSlot >= 0 || (w.gs != nil && w.gs.daysSlot >= 0)
				if w.dayRemark != "" {
					unitLimit = w.dayRemark == w.bs.daysRemark || (w.gs != nil && w.dayRemark == w.gs.daysRemark)
				}
				tr.Covered, tr.Of = w.units*w.fraction.num/w.fraction.den, w.units
				unit := "units"
				if !unitLimit {
					tr.Covered, tr.Of, unit = w.nDates*w.fraction.num/w.fraction.den, w.nDates, "dates"
				}
				tr.Detail = fmt.Sprintf("%d of %d %s covered", tr.Covered, tr.Of, unit)
				if cut := w.charge - w.eligible; cut > 0 {
					tr.Reason, tr.Cut, tr.Remark = claim.PR119, cut, w.dayRemark
				}
			}
		case StepExhaustedLimits:
			tr.Amount = w.eligible
			if !w.hasBinding && w.bs.countSlot < 0 {
				tr.Outcome = NotApplicable
				break
			}
			var words []string
			if w.hasBinding {
				words = append(words, "the least left: "+strings.TrimSuffix(w.binding.remark, " reached"))
			}
			if w.bs.countSlot >= 0 {
				words = append(words, fmt.Sprintf("%d of %d lines this policy year", w.y.units[w.bs.countSlot], w.b.LinesPerYear))
			}
			tr.Detail = strings.Join(words, "; ")
		case StepCostShare:
			tr.Outcome, tr.Amount = Applied, w.planShare
			tr.Deductible, tr.Coinsurance = w.deductible, w.coinsurance
			tr.Detail = costShareDetail(w)
		case StepAmountLimits:
			tr.Outcome, tr.Amount = Applied, w.paid
			if w.paid < w.planShare {
				tr.Cut, tr.Remark, tr.Reason = w.planShare-w.paid, w.limitRemark, claim.PR119
				if w.binding.lifetime {
					tr.Reason = claim.PR35
				}
			}
		}
		emit(tr)
	}
}

// dayLimitsApply reports whether any day limit applied to the line at step 7.
func (w *lineWork) dayLimitsApply(e *Engine) bool {
	p := e.plan
	return w.bs.daysSlot >= 0 || (w.gs != nil && w.gs.daysSlot >= 0) ||
		(w.outOfArea && (p.OutOfAreaDaysPerTrip > 0 || p.OutOfAreaDaysPerYear > 0)) || w.inOrigin
}

func (e *Engine) chargeDetail(w *lineWork) string {
	ln := w.ln
	switch {
	case w.b.IsCash():
		return fmt.Sprintf("cash benefit: %d units at the plan's amount per unit (the billed amount is ignored)", ln.Units)
	case ln.Currency != w.span.PlanCurrency:
		return fmt.Sprintf("billed in %s, converted at the %s→%s rate %s", ln.Currency, ln.Currency, w.span.PlanCurrency, ln.FXRate)
	}
	return "billed in the plan currency"
}

func eligibilityDetail(w *lineWork, ln *claim.Line, denied bool) string {
	if !denied {
		return fmt.Sprintf("policy %s, policy year %s to %s", w.span.PolicyID, w.yStart, w.yEnd)
	}
	if w.denial == claim.PR26 {
		return fmt.Sprintf("service on %s, before the coverage start %s", ln.ServiceDate, w.span.Start)
	}
	if w.span.End < ln.ServiceDate && w.span.End != claim.OpenEnd {
		return fmt.Sprintf("service on %s, after the span of policy %s ended on %s", ln.ServiceDate, w.span.PolicyID, w.span.End)
	}
	return fmt.Sprintf("service on %s, not covered by any span", ln.ServiceDate)
}

func (e *Engine) areaDetail(w *lineWork, denied bool) string {
	ln, span := w.ln, w.span
	switch {
	case denied:
		return fmt.Sprintf("treatment in %s, outside the area of cover (residence %s, origin %s, US cover %s) and not an emergency", ln.Country, span.Residence, span.Origin, yn(span.USCover))
	case w.outOfArea && w.trip != nil: // step 7 finds the trip
		return fmt.Sprintf("treatment in %s, outside the area of cover: an emergency, covered under the out-of-area limits (%s)", ln.Country, tripText(w.trip.key))
	case w.outOfArea:
		return fmt.Sprintf("treatment in %s, outside the area of cover: an emergency, covered under the out-of-area limits", ln.Country)
	case ln.Country == span.Residence:
		return fmt.Sprintf("treatment in %s, the residence country", ln.Country)
	case ln.Country == span.Origin:
		return fmt.Sprintf("treatment in %s, the country of origin", ln.Country)
	case span.Residence == "US":
		return "treatment in the US, the residence country"
	}
	return "treatment in the US, with the US cover"
}

func costShareDetail(w *lineWork) string {
	b, span := w.b, w.span
	switch {
	case b.IsCash():
		return "cash benefit: no cost share"
	case b.Module == claim.Dental:
		return "dental: reimbursed at " + percentText(b.Reimbursement)
	case b.Module == claim.Outpatient:
		return "outpatient: coinsurance " + percentText(span.OutpatientCoins)
	}
	return "core: coinsurance " + percentText(span.CoreCoinsurance)
}

func ageRule(b *plan.Benefit) string {
	switch {
	case b.MinAge >= 0 && b.MaxAge >= 0:
		return fmt.Sprintf("%d to %d", b.MinAge, b.MaxAge)
	case b.MinAge >= 0:
		return fmt.Sprintf("at least %d", b.MinAge)
	}
	return fmt.Sprintf("at most %d", b.MaxAge)
}

func modulesText(s claim.ModuleSet) string {
	var names []string
	for m := claim.Core; m <= claim.Dental; m++ {
		if s.Has(m) {
			names = append(names, m.String())
		}
	}
	return strings.Join(names, ";")
}

func percentText(bp int64) string {
	if bp%100 == 0 {
		return fmt.Sprintf("%d %%", bp/100)
	}
	return fmt.Sprintf("%d.%02d %%", bp/100, bp%100)
}

func yn(b bool) string {
	if b {
		return "Y"
	}
	return "N"
}

// tripText names a trip in words: "trip T-ES1", "inferred trip 2".
func tripText(k tripKey) string {
	if k.id != "" {
		return "trip " + k.id
	}
	return fmt.Sprintf("inferred trip %d", k.seq)
}
