package engine

import (
	"claimsbatch/claim"
	"claimsbatch/plan"
)

// coveringSpan returns the index of the span containing d, or -1.
func coveringSpan(spans []claim.Span, d claim.Date) int {
	for i := range spans {
		if spans[i].Start <= d && d <= spans[i].End {
			return i
		}
	}
	return -1
}

// PolicyYear returns the policy year of span s that contains d: it starts at
// s.Start or an anniversary of it (29 February → 28 February) and ends the day
// before the next anniversary or at the span's end.
func PolicyYear(s *claim.Span, d claim.Date) (start, end claim.Date) {
	sy, _, _ := s.Start.Civil()
	dy, _, _ := d.Civil()
	k := dy - sy
	if k < 0 {
		k = 0
	}
	start = s.Start.AddYears(k)
	for k > 0 && start > d {
		k--
		start = s.Start.AddYears(k)
	}
	end = s.Start.AddYears(k+1) - 1
	if s.End < end {
		end = s.End
	}
	return start, end
}

// ratio is a covered fraction num/den with 0 ≤ num ≤ den, den > 0.
type ratio struct{ num, den int64 }

func (a ratio) less(b ratio) bool { return a.num*b.den < b.num*a.den }

// amountLimit is one amount limit that applies to a line (SPEC step 10).
type amountLimit struct {
	left     claim.Money
	lifetime bool
	remark   string
}

// Adjudicate adjudicates one member's lines, in the order given (which must be
// the SPEC order: service_date, received_date, claim_id, line_no), on top of
// the Member's state, and appends one Result per line to out. spans are the
// member's valid coverage spans sorted by start (non-overlapping, non-empty);
// each line's Charge must hold its billed amount in the plan currency of
// CurrencySpan. Results point at the lines.
func (e *Engine) Adjudicate(m *Member, spans []claim.Span, lines []claim.Line, out []claim.Result) []claim.Result {
	m.yearCache.span = -1
	m.ccStart = m.ccStart[:0]
	for i := range spans {
		cc := spans[i].Start
		if i > 0 && spans[i].Start == spans[i-1].End+1 {
			cc = m.ccStart[i-1]
		}
		m.ccStart = append(m.ccStart, cc)
	}
	for i := range lines {
		out = append(out, claim.Result{})
		e.line(m, spans, &lines[i], &out[len(out)-1])
	}
	return out
}

// lineWork is one line's adjudication in progress: what the steps of SPEC
// section 5 read and decide, in the order they decide it. It lives on the
// stack of line; the steps are methods that read and fill it.
type lineWork struct {
	ln   *claim.Line
	r    *claim.Result
	b    *plan.Benefit
	bs   *benefitSlots
	span *claim.Span // the covering span, or the span that labels the line
	si   int         // index of the covering span, -1 when none
	ci   int         // the plan currency's index

	charge       claim.Money
	yStart, yEnd claim.Date
	y            *yearState // the policy year's accumulators (from step 7 on)

	outOfArea, inOrigin bool
	trip                *tripAcc

	units, nDates int64
	fraction      ratio  // step 7: the covered fraction
	dayRemark     string // step 7: the day limit that decided the fraction
	eligible      claim.Money

	gs    *groupSlots // the benefit's combined group, if any
	group *plan.Group

	binding        amountLimit // step 8: of the amount limits that apply, the one with the least left
	hasBinding     bool        // false when no amount limit applies
	countExhausted bool
	item           *itemAcc
	cond           *condAcc

	deductible, coinsurance, planShare, paid claim.Money
	limitRemark                              string

	denial       claim.Reason // the reason of the step that denied the line
	denialRemark string       // its remark; "" = the reason's own
}

// deny records that the current step denies the line; line applies it. It
// returns true, so a step can end with `return w.deny(...)`. (Which step it
// was, the tracer reads from the reason: deniedBy.)
func (w *lineWork) deny(code claim.Reason, remark string) bool {
	w.denial, w.denialRemark = code, remark
	return true
}

// line adjudicates one line: SPEC section 5, steps 1 to 11, each a method
// below. The first step that denies the line decides it: steps 1 to 7 record
// their denial (lineWork.deny) and line applies it (Engine.deny); step 8
// settles its own. With a tracer (Member.SetTracer), line reports each
// step and every accumulator the line touched (trace.go); without one, that
// costs one nil check per line.
func (e *Engine) line(m *Member, spans []claim.Span, ln *claim.Line, r *claim.Result) {
	// Field by field: a composite literal of this size is built in a
	// temporary and copied (measured: a tenth of the engine's instructions).
	var w lineWork
	w.ln, w.r = ln, r
	w.b, w.bs = &e.plan.Benefits[ln.Benefit], &e.benefits[ln.Benefit]
	e.charge(&w, spans)
	// Every adjudicated line, whatever its status, is an "earlier line" for the
	// duplicate-service rule of later lines.
	defer m.recordService(dupEntry{date: ln.ServiceDate, billed: ln.Billed, claimID: ln.ClaimID,
		key: claim.DupKey{Benefit: ln.BenefitCode, Provider: ln.ProviderID, Procedure: ln.ProcedureCode, Item: ln.ItemCode}})

	if e.timelyFiling(m, &w) || e.eligibility(m, &w, spans) || e.module(&w) || e.age(&w) || e.waitingPeriod(m, &w) ||
		e.coverageArea(&w) || e.duplicateService(m, &w) || e.dayLimits(m, &w) {
		e.deny(r, w.denial, w.denialRemark)
		if m.tracer != nil {
			e.traceDenied(m, &w, deniedBy[w.denial])
		}
		return
	}
	if e.exhaustedLimits(m, &w) {
		if m.tracer != nil {
			e.traceDenied(m, &w, StepExhaustedLimits)
		}
		return
	}
	e.costShare(&w)
	e.amountLimits(&w)
	if m.tracer != nil {
		e.accrueTraced(m, &w) // accrue and settle, reported
		return
	}
	e.accrue(m, &w)
	e.settle(&w)
}

// charge (SPEC section 5, first paragraph) labels the line with its span's
// policy and prices it in the plan currency: the pipeline's converted
// charge, or for a cash benefit the per-unit amount × units.
func (e *Engine) charge(w *lineWork, spans []claim.Span) {
	ln, r := w.ln, w.r
	r.Line = ln
	r.Module = w.b.Module
	r.PolicyYearStart = claim.NoDate
	w.si = coveringSpan(spans, ln.ServiceDate)
	label := w.si
	if label < 0 {
		label = claim.CurrencySpan(spans, ln.ServiceDate)
	}
	w.span = &spans[label]
	r.PolicyID = w.span.PolicyID
	w.ci = e.plan.CurrencyIndex(w.span.PlanCurrency)
	w.charge = ln.Charge
	if w.b.IsCash() {
		w.charge = w.b.CashPerUnit[w.ci] * claim.Money(ln.Units)
	}
	r.Charge = w.charge
}

// timelyFiling comes before step 1 (SPEC version 2 has no step for it; the
// plan's timely_filing_days, issue 14): a line received more than the
// plan's filing limit after its service date is denied PR-29. So is a line
// served before the run's late-before date: the earlier runs' state no
// longer holds the keys of lines that old (see MemberRun.LateBefore), so
// such a line could be a repeat the run cannot recognise.
func (e *Engine) timelyFiling(m *Member, w *lineWork) bool {
	ln := w.ln
	if limit := e.plan.TimelyFilingDays; limit > 0 && ln.ReceivedDate-ln.ServiceDate > claim.Date(limit) {
		return w.deny(claim.PR29, "")
	}
	if ln.ServiceDate < m.lateBefore {
		return w.deny(claim.PR29, e.remarks.lateHorizon)
	}
	return false
}

// eligibility is step 1: the service date must lie in a span (PR-26 before
// the first span, PR-27 after cover ended or in a gap). It also finds the
// policy year.
func (e *Engine) eligibility(m *Member, w *lineWork, spans []claim.Span) bool {
	ln := w.ln
	if w.si < 0 {
		if ln.ServiceDate < spans[0].Start {
			return w.deny(claim.PR26, "")
		}
		return w.deny(claim.PR27, "")
	}
	// Lines come in date order, so the previous line's policy year nearly always
	// holds this one too; computing anniversaries is the costliest step otherwise.
	if m.yearCache.span != w.si || ln.ServiceDate < m.yearCache.start || ln.ServiceDate > m.yearCache.end {
		m.yearCache.start, m.yearCache.end = PolicyYear(w.span, ln.ServiceDate)
		m.yearCache.span = w.si
	}
	w.yStart, w.yEnd = m.yearCache.start, m.yearCache.end
	w.r.PolicyYearStart = w.yStart
	return false
}

// module is step 2: the benefit's module must be among the span's (PR-204).
func (e *Engine) module(w *lineWork) bool {
	if !w.span.Modules.Has(w.b.Module) {
		return w.deny(claim.PR204, "")
	}
	return false
}

// age is step 3: the benefit's age rule, on the age in whole years on the
// service date (PR-6).
func (e *Engine) age(w *lineWork) bool {
	b := w.b
	if b.MinAge < 0 && b.MaxAge < 0 {
		return false
	}
	age := w.span.DateOfBirth.AgeOn(w.ln.ServiceDate)
	if (b.MinAge >= 0 && age < b.MinAge) || (b.MaxAge >= 0 && age > b.MaxAge) {
		return w.deny(claim.PR6, "")
	}
	return false
}

// waitingPeriod is step 4: the waiting period counts from the continuous-cover
// start (SPEC section 4) and is served N months after it (PR-179).
func (e *Engine) waitingPeriod(m *Member, w *lineWork) bool {
	if w.b.WaitingMonths > 0 && w.ln.ServiceDate < m.ccStart[w.si].AddMonths(w.b.WaitingMonths) {
		return w.deny(claim.PR179, "")
	}
	return false
}

// coverageArea is step 5: in area is the residence or origin country, or the
// US with US residence or US cover. Out of area needs an emergency (PR-96);
// an out-of-area emergency is covered under the out-of-area limits.
func (e *Engine) coverageArea(w *lineWork) bool {
	c, span := w.ln.Country, w.span
	inArea := c == span.Residence || c == span.Origin || (c == "US" && (span.Residence == "US" || span.USCover))
	w.outOfArea = !inArea
	if w.outOfArea && !w.ln.Emergency {
		return w.deny(claim.PR96, "")
	}
	w.inOrigin = inArea && c == span.Origin && span.Origin != span.Residence && e.plan.OriginDaysPerYear > 0
	return false
}

// duplicateService is step 6: an earlier adjudicated line of the member with
// the same service date, benefit, provider, billed amount, procedure code and
// item code under another claim id (OA-18).
func (e *Engine) duplicateService(m *Member, w *lineWork) bool {
	// Which earlier line it repeats does not matter here (the tracer's
	// duplicateOf finds it): this run's keys, the most lines have, first.
	if duplicateIn(m.runDups, w.ln) != nil || len(m.dups) > 0 && duplicateIn(m.dups, w.ln) != nil {
		return w.deny(claim.OA18, "")
	}
	return false
}

// dayLimits is step 7: every day limit that applies gives a covered
// fraction (units for a benefit or group limit; distinct calendar dates for
// the out-of-area trip and year limits and the country-of-origin limit); the
// smallest decides. Fraction 0 denies (PR-119); otherwise the eligible
// amount is the charge × the fraction and the rest is PR-119.
func (e *Engine) dayLimits(m *Member, w *lineWork) bool {
	w.y = m.year(w.yStart, w.yEnd)
	p, ln, b, bs, y := e.plan, w.ln, w.b, w.bs, w.y
	if w.outOfArea {
		w.trip = m.trip(m.tripFor(ln, p.TripGapDays))
	}
	w.units = int64(ln.Units)
	w.nDates = int64(ln.ServiceEndDate-ln.ServiceDate) + 1
	w.fraction = ratio{1, 1}
	if bs.daysSlot >= 0 {
		w.unitLimit(y.units[bs.daysSlot], b.Days, bs.daysRemark)
	}
	if b.Group >= 0 {
		w.gs, w.group = &e.groups[b.Group], &p.Groups[b.Group]
		if w.gs.daysSlot >= 0 {
			w.unitLimit(y.units[w.gs.daysSlot], w.group.Days, w.gs.daysRemark)
		}
	}
	if w.outOfArea {
		if p.OutOfAreaDaysPerTrip > 0 {
			w.dateLimit(w.trip.dates, p.OutOfAreaDaysPerTrip, e.remarks.trip)
		}
		if p.OutOfAreaDaysPerYear > 0 {
			w.dateLimit(y.oaDates, p.OutOfAreaDaysPerYear, e.remarks.ooaYear)
		}
	}
	if w.inOrigin {
		w.dateLimit(y.originDates, p.OriginDaysPerYear, e.remarks.origin)
	}
	f := w.fraction
	if f.num == 0 {
		return w.deny(claim.PR119, w.dayRemark)
	}
	w.eligible = w.charge
	if f.num != f.den {
		if b.IsCash() {
			w.eligible = b.CashPerUnit[w.ci] * claim.Money(w.units*f.num/f.den)
		} else {
			w.eligible = w.charge.MulRatio(f.num, f.den)
		}
	}
	w.r.Adjustments[claim.PR119] = w.charge - w.eligible
	return false
}

// unitLimit applies a unit-counted day limit with used of limit units used.
func (w *lineWork) unitLimit(used, limit int32, remark string) {
	left := max(int64(limit)-int64(used), 0)
	if fr := (ratio{min(w.units, left), w.units}); fr.less(w.fraction) {
		w.fraction, w.dayRemark = fr, remark
	}
}

// dateLimit applies a date-counted day limit whose counted dates are set: a
// date already counted costs nothing again.
func (w *lineWork) dateLimit(set []claim.Date, limit int32, remark string) {
	already := countIn(set, w.ln.ServiceDate, w.ln.ServiceEndDate)
	left := max(int64(limit)-int64(len(set)), 0)
	if fr := (ratio{already + min(w.nDates-already, left), w.nDates}); fr.less(w.fraction) {
		w.fraction, w.dayRemark = fr, remark
	}
}

// exhaustedLimits is step 8: it gathers the amount limits that apply and
// keeps the binding one (the least left; a lifetime one wins a tie) for step
// 10. When that one has nothing left (or the benefit's lines per year are
// used up), the whole eligible amount is PR-119 (PR-35 for a lifetime limit)
// and nothing accrues.
func (e *Engine) exhaustedLimits(m *Member, w *lineWork) bool {
	p, ln, b, bs, y, ci := e.plan, w.ln, w.b, w.bs, w.y, w.ci
	var limits [8]amountLimit
	n := 0
	add := func(limit, used claim.Money, lifetime bool, remark string) {
		limits[n] = amountLimit{left: max(limit-used, 0), lifetime: lifetime, remark: remark}
		n++
	}
	if b.Limit != nil {
		switch {
		case b.LimitPerItem:
			w.item = m.item(b.Code, ln.ItemCode)
			add(b.Limit[ci], w.item.paid, b.Period == plan.Lifetime, bs.limitRemark)
		case b.Period == plan.Lifetime:
			add(b.Limit[ci], m.lifetime[bs.amountSlot], true, bs.limitRemark)
		default:
			add(b.Limit[ci], y.amounts[bs.amountSlot], false, bs.limitRemark)
		}
	}
	if w.gs != nil && w.gs.amountSlot >= 0 {
		add(w.group.Limit[ci], y.amounts[w.gs.amountSlot], false, w.gs.limitRemark)
	}
	if b.PerLineLimit != nil {
		add(b.PerLineLimit[ci], 0, false, bs.perLineRmk)
	}
	if p.ConditionCap != nil && ln.Condition != "" && p.ConditionCapModules.Has(b.Module) {
		w.cond = y.condition(ln.Condition)
		add(p.ConditionCap[ci], w.cond.paid, false, e.remarks.cond)
	}
	if w.outOfArea && e.outOfAreaSlot >= 0 {
		add(p.OutOfAreaLimit[ci], y.amounts[e.outOfAreaSlot], false, e.remarks.ooaLimit)
	}
	if slot := e.annualSlot[b.Module]; slot >= 0 {
		add(p.Modules[b.Module].AnnualMaximum[ci], y.amounts[slot], false, e.remarks.annual[b.Module])
	}
	binding := -1
	for i := 0; i < n; i++ {
		if binding < 0 || limits[i].left < limits[binding].left || (limits[i].left == limits[binding].left && limits[i].lifetime && !limits[binding].lifetime) {
			binding = i
		}
	}
	if binding >= 0 {
		w.binding, w.hasBinding = limits[binding], true
	}
	w.countExhausted = bs.countSlot >= 0 && y.units[bs.countSlot] >= b.LinesPerYear
	exhausted := w.hasBinding && w.binding.left == 0
	if !w.countExhausted && !exhausted {
		return false
	}
	code, remark := claim.PR119, bs.countRemark
	if !w.countExhausted || exhausted && w.binding.lifetime {
		remark = w.binding.remark
		if w.binding.lifetime {
			code = claim.PR35
		}
	}
	w.denial, w.denialRemark = code, remark // for the tracer
	w.r.Adjustments[code] += w.eligible
	w.r.NotCovered = w.charge
	e.remark(w.r, w.dayRemark, remark)
	finish(w.r)
	return true
}

// costShare is step 9, per module: core and outpatient take the deductible
// left this policy year, then coinsurance on the rest (capped by the
// out-of-pocket maximum left); dental pays its reimbursement rate (the rest
// is PR-2); a cash benefit pays the eligible amount.
func (e *Engine) costShare(w *lineWork) {
	b, span, y, eligible := w.b, w.span, w.y, w.eligible
	switch {
	case b.IsCash():
		w.planShare = eligible
	case b.Module == claim.Dental:
		w.planShare = eligible.Percent(b.Reimbursement)
		w.coinsurance = eligible - w.planShare
	default:
		dedOption, pct, oopMax := span.CoreDeductible, span.CoreCoinsurance, span.CoreOOPMax
		if b.Module == claim.Outpatient {
			dedOption, pct, oopMax = span.OutpatientDeduct, span.OutpatientCoins, span.OutpatientOOPMax
		}
		if slot := e.deductibleSlot[b.Module]; slot >= 0 {
			w.deductible = min(eligible, max(dedOption-y.amounts[slot], 0))
		}
		w.coinsurance = (eligible - w.deductible).Percent(pct)
		if slot := e.coinsuranceSlot[b.Module]; slot >= 0 {
			w.coinsurance = min(w.coinsurance, max(oopMax-y.amounts[slot], 0))
		}
		w.planShare = eligible - w.deductible - w.coinsurance
	}
}

// amountLimits is step 10: the plan pays its share up to what is left of the
// binding limit; the rest is PR-119 (PR-35 for a lifetime limit).
func (e *Engine) amountLimits(w *lineWork) {
	w.paid = w.planShare
	if w.hasBinding && w.binding.left < w.planShare {
		l := &w.binding
		w.paid = l.left
		code := claim.PR119
		if l.lifetime {
			code = claim.PR35
		}
		w.r.Adjustments[code] += w.planShare - w.paid
		w.limitRemark = l.remark
	}
}

// accrue is step 11: deductible, coinsurance, paid amounts to every limit
// that applied, the benefit's line count, covered days and dates.
func (e *Engine) accrue(m *Member, w *lineWork) {
	b, bs, y, paid := w.b, w.bs, w.y, w.paid
	if slot := e.deductibleSlot[b.Module]; slot >= 0 {
		y.amounts[slot] += w.deductible
	}
	if slot := e.coinsuranceSlot[b.Module]; slot >= 0 && b.Module != claim.Dental && !b.IsCash() {
		y.amounts[slot] += w.coinsurance
	}
	if b.Limit != nil {
		switch {
		case w.item != nil:
			w.item.paid += paid
		case b.Period == plan.Lifetime:
			m.lifetime[bs.amountSlot] += paid
		default:
			y.amounts[bs.amountSlot] += paid
		}
	}
	if w.gs != nil && w.gs.amountSlot >= 0 {
		y.amounts[w.gs.amountSlot] += paid
	}
	if w.cond != nil {
		w.cond.paid += paid
	}
	if w.outOfArea && e.outOfAreaSlot >= 0 {
		y.amounts[e.outOfAreaSlot] += paid
	}
	if slot := e.annualSlot[b.Module]; slot >= 0 {
		y.amounts[slot] += paid
	}
	if bs.countSlot >= 0 {
		y.units[bs.countSlot]++
	}
	f := w.fraction
	coveredUnits := int32(w.units * f.num / f.den)
	if bs.daysSlot >= 0 {
		y.units[bs.daysSlot] += coveredUnits
	}
	if w.gs != nil && w.gs.daysSlot >= 0 {
		y.units[w.gs.daysSlot] += coveredUnits
	}
	coveredDates := w.nDates * f.num / f.den
	if w.outOfArea {
		w.trip.dates = w.accrueDates(w.trip.dates, coveredDates)
		y.oaDates = w.accrueDates(y.oaDates, coveredDates)
	}
	if w.inOrigin {
		y.originDates = w.accrueDates(y.originDates, coveredDates)
	}
}

// accrueDates adds the line's covered dates to a date-counted limit's set:
// the dates already counted first, then the earliest new ones.
func (w *lineWork) accrueDates(set []claim.Date, covered int64) []claim.Date {
	already := countIn(set, w.ln.ServiceDate, w.ln.ServiceEndDate)
	if covered > already {
		set = addDates(set, w.ln.ServiceDate, w.ln.ServiceEndDate, covered-already)
	}
	return set
}

// settle writes the amounts of a line that reached step 11 into its result:
// charge = plan_paid + deductible + coinsurance + not_covered.
func (e *Engine) settle(w *lineWork) {
	r := w.r
	r.Deductible = w.deductible
	r.Coinsurance = w.coinsurance
	r.PlanPaid = w.paid
	r.NotCovered = w.charge - w.paid - w.deductible - w.coinsurance
	r.Adjustments[claim.PR1] = w.deductible
	r.Adjustments[claim.PR2] = w.coinsurance
	e.remark(r, w.dayRemark, w.limitRemark)
	finish(r)
}

// tripFor returns the trip of an out-of-area line: its trip_id, or the trip
// inferred from the member's previous trip-less out-of-area line.
func (m *Member) tripFor(ln *claim.Line, gapDays int32) tripKey {
	if ln.TripID != "" {
		return tripKey{id: ln.TripID}
	}
	if !m.tripless.set || ln.ServiceDate-m.tripless.end >= claim.Date(gapDays) {
		m.tripSeq++
		m.tripless.key = tripKey{seq: m.tripSeq}
	}
	m.tripless.set = true
	m.tripless.end = ln.ServiceEndDate
	return m.tripless.key
}

// deny makes the whole charge not covered under one reason.
func (e *Engine) deny(r *claim.Result, code claim.Reason, remark string) {
	r.NotCovered = r.Charge
	r.Adjustments[code] = r.Charge
	if remark == "" {
		remark = e.remarks.byReason[code]
	}
	r.Remark = remark
	finish(r)
}

func (e *Engine) remark(r *claim.Result, days, limit string) {
	switch {
	case days == "":
		r.Remark = limit
	case limit == "" || limit == days:
		r.Remark = days
	default:
		r.Remark = days + "; " + limit
	}
}

// finish sets the status from the amounts (SPEC section 5).
func finish(r *claim.Result) {
	switch {
	case r.PlanPaid == 0 && r.NotCovered > 0:
		r.Status = claim.StatusDenied
	case r.PlanPaid > 0 && r.NotCovered > 0:
		r.Status = claim.StatusPartial
	case r.PlanPaid == 0 && r.NotCovered == 0 && r.Charge > 0:
		r.Status = claim.StatusMemberPaid
	default:
		r.Status = claim.StatusPaid
	}
}
