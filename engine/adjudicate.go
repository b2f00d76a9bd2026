package engine

import (
	"claimsbatch/claim"
	"claimsbatch/plan"
)

// CurrencySpan returns the index of the span whose plan currency and policy
// apply to a line served on date d: the span that contains d, else the last
// span that starts before d, else the first span. spans must be sorted by
// start and non-empty. The pipeline uses it to convert billed amounts; the
// engine, to label lines that no span covers.
func CurrencySpan(spans []claim.Span, d claim.Date) int {
	best := 0
	for i := range spans {
		if spans[i].Start > d {
			break
		}
		best = i
	}
	return best
}

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

func (e *Engine) line(m *Member, spans []claim.Span, ln *claim.Line, r *claim.Result) {
	p := e.plan
	b := &p.Benefits[ln.Benefit]
	bs := &e.benefits[ln.Benefit]
	r.Line = ln
	r.Module = b.Module
	r.PolicyYearStart = claim.NoDate

	si := coveringSpan(spans, ln.ServiceDate)
	label := si
	if label < 0 {
		label = CurrencySpan(spans, ln.ServiceDate)
	}
	span := &spans[label]
	r.PolicyID = span.PolicyID
	ci := p.CurrencyIndex(span.PlanCurrency)
	charge := ln.Charge
	if b.IsCash() {
		charge = b.CashPerUnit[ci] * claim.Money(ln.Units)
	}
	r.Charge = charge

	// Every adjudicated line, whatever its status, is an "earlier line" for the
	// duplicate-service rule of later lines.
	defer m.recordService(dupEntry{date: ln.ServiceDate, benefit: ln.BenefitCode, billed: ln.Billed, provider: ln.ProviderID, claimID: ln.ClaimID})

	// Step 1: eligibility.
	if si < 0 {
		if ln.ServiceDate < spans[0].Start {
			e.deny(r, claim.PR26, "")
		} else {
			e.deny(r, claim.PR27, "")
		}
		return
	}
	// Lines come in date order, so the previous line's policy year nearly always
	// holds this one too; computing anniversaries is the costliest step otherwise.
	if m.yearCache.span != si || ln.ServiceDate < m.yearCache.start || ln.ServiceDate > m.yearCache.end {
		m.yearCache.start, m.yearCache.end = PolicyYear(span, ln.ServiceDate)
		m.yearCache.span = si
	}
	yStart, yEnd := m.yearCache.start, m.yearCache.end
	r.PolicyYearStart = yStart
	// Step 2: module.
	if !span.Modules.Has(b.Module) {
		e.deny(r, claim.PR204, "")
		return
	}
	// Step 3: age.
	if b.MinAge >= 0 || b.MaxAge >= 0 {
		age := span.DateOfBirth.AgeOn(ln.ServiceDate)
		if (b.MinAge >= 0 && age < b.MinAge) || (b.MaxAge >= 0 && age > b.MaxAge) {
			e.deny(r, claim.PR6, "")
			return
		}
	}
	// Step 4: waiting period, from the continuous-cover start.
	if b.WaitingMonths > 0 && ln.ServiceDate < m.ccStart[si].AddMonths(b.WaitingMonths) {
		e.deny(r, claim.PR179, "")
		return
	}
	// Step 5: coverage area.
	c := ln.Country
	inArea := c == span.Residence || c == span.Origin || (c == "US" && (span.Residence == "US" || span.USCover))
	outOfArea := !inArea
	if outOfArea && !ln.Emergency {
		e.deny(r, claim.PR96, "")
		return
	}
	inOrigin := inArea && c == span.Origin && span.Origin != span.Residence && p.OriginDaysPerYear > 0
	// Step 6: duplicate service.
	if m.isDuplicate(ln) {
		e.deny(r, claim.OA18, "")
		return
	}
	y := m.year(yStart, yEnd)

	// Step 7: day limits.
	var trip *tripAcc
	if outOfArea {
		trip = m.trip(m.tripFor(ln, p.TripGapDays))
	}
	units := int64(ln.Units)
	nDates := int64(ln.ServiceEndDate-ln.ServiceDate) + 1
	f := ratio{1, 1}
	dayRemark := ""
	unitLimit := func(used int32, limit int32, remark string) {
		left := int64(limit) - int64(used)
		if left < 0 {
			left = 0
		}
		fr := ratio{min(units, left), units}
		if fr.less(f) {
			f, dayRemark = fr, remark
		}
	}
	dateLimit := func(set []claim.Date, limit int32, remark string) {
		already := countIn(set, ln.ServiceDate, ln.ServiceEndDate)
		left := int64(limit) - int64(len(set))
		if left < 0 {
			left = 0
		}
		fr := ratio{already + min(nDates-already, left), nDates}
		if fr.less(f) {
			f, dayRemark = fr, remark
		}
	}
	if bs.daysSlot >= 0 {
		unitLimit(y.units[bs.daysSlot], b.Days, bs.daysRemark)
	}
	var gs *groupSlots
	var group *plan.Group
	if b.Group >= 0 {
		gs, group = &e.groups[b.Group], &p.Groups[b.Group]
		if gs.daysSlot >= 0 {
			unitLimit(y.units[gs.daysSlot], group.Days, gs.daysRemark)
		}
	}
	if outOfArea {
		if p.OutOfAreaDaysPerTrip > 0 {
			dateLimit(trip.dates, p.OutOfAreaDaysPerTrip, e.remarks.trip)
		}
		if p.OutOfAreaDaysPerYear > 0 {
			dateLimit(y.oaDates, p.OutOfAreaDaysPerYear, e.remarks.ooaYear)
		}
	}
	if inOrigin {
		dateLimit(y.originDates, p.OriginDaysPerYear, e.remarks.origin)
	}
	if f.num == 0 {
		e.deny(r, claim.PR119, dayRemark)
		return
	}
	eligible := charge
	if f.num != f.den {
		if b.IsCash() {
			eligible = b.CashPerUnit[ci] * claim.Money(units*f.num/f.den)
		} else {
			eligible = charge.MulRatio(f.num, f.den)
		}
	}
	r.Adjustments[claim.PR119] = charge - eligible

	// Steps 8 and 10: the amount limits that apply.
	var limits [8]amountLimit
	n := 0
	add := func(limit, used claim.Money, lifetime bool, remark string) {
		limits[n] = amountLimit{left: max(limit-used, 0), lifetime: lifetime, remark: remark}
		n++
	}
	var item *itemAcc
	var cond *condAcc
	if b.Limit != nil {
		switch {
		case b.LimitPerItem:
			item = m.item(b.Code, ln.ItemCode)
			add(b.Limit[ci], item.paid, b.Period == plan.Lifetime, bs.limitRemark)
		case b.Period == plan.Lifetime:
			add(b.Limit[ci], m.lifetime[bs.amountSlot], true, bs.limitRemark)
		default:
			add(b.Limit[ci], y.amounts[bs.amountSlot], false, bs.limitRemark)
		}
	}
	if gs != nil && gs.amountSlot >= 0 {
		add(group.Limit[ci], y.amounts[gs.amountSlot], false, gs.limitRemark)
	}
	if b.PerLineLimit != nil {
		add(b.PerLineLimit[ci], 0, false, bs.perLineRmk)
	}
	if p.ConditionCap != nil && ln.Condition != "" && p.ConditionCapModules.Has(b.Module) {
		cond = y.condition(ln.Condition)
		add(p.ConditionCap[ci], cond.paid, false, e.remarks.cond)
	}
	if outOfArea && e.outOfAreaSlot >= 0 {
		add(p.OutOfAreaLimit[ci], y.amounts[e.outOfAreaSlot], false, e.remarks.ooaLimit)
	}
	if slot := e.annualSlot[b.Module]; slot >= 0 {
		add(p.Modules[b.Module].AnnualMaximum[ci], y.amounts[slot], false, e.remarks.annual[b.Module])
	}
	// Step 8: a limit with nothing left takes the whole eligible amount.
	countExhausted := bs.countSlot >= 0 && y.units[bs.countSlot] >= b.LinesPerYear
	binding := -1
	for i := 0; i < n; i++ {
		if binding < 0 || limits[i].left < limits[binding].left || (limits[i].left == limits[binding].left && limits[i].lifetime && !limits[binding].lifetime) {
			binding = i
		}
	}
	if countExhausted || (binding >= 0 && limits[binding].left == 0) {
		code, remark := claim.PR119, bs.countRemark
		if !countExhausted || (binding >= 0 && limits[binding].left == 0 && limits[binding].lifetime) {
			remark = limits[binding].remark
			if limits[binding].lifetime {
				code = claim.PR35
			}
		}
		r.Adjustments[code] += eligible
		r.NotCovered = charge
		e.remark(r, dayRemark, remark)
		finish(r)
		return
	}

	// Step 9: cost share.
	var deductible, coinsurance, planShare claim.Money
	switch {
	case b.IsCash():
		planShare = eligible
	case b.Module == claim.Dental:
		planShare = eligible.Percent(b.Reimbursement)
		coinsurance = eligible - planShare
	default:
		dedOption, pct, oopMax := span.CoreDeductible, span.CoreCoinsurance, span.CoreOOPMax
		if b.Module == claim.Outpatient {
			dedOption, pct, oopMax = span.OutpatientDeduct, span.OutpatientCoins, span.OutpatientOOPMax
		}
		if slot := e.deductibleSlot[b.Module]; slot >= 0 {
			deductible = min(eligible, max(dedOption-y.amounts[slot], 0))
		}
		coinsurance = (eligible - deductible).Percent(pct)
		if slot := e.coinsuranceSlot[b.Module]; slot >= 0 {
			coinsurance = min(coinsurance, max(oopMax-y.amounts[slot], 0))
		}
		planShare = eligible - deductible - coinsurance
	}

	// Step 10: amount limits.
	paid := planShare
	limitRemark := ""
	if binding >= 0 && limits[binding].left < planShare {
		paid = limits[binding].left
		code := claim.PR119
		if limits[binding].lifetime {
			code = claim.PR35
		}
		r.Adjustments[code] += planShare - paid
		limitRemark = limits[binding].remark
	}

	// Step 11: accrue.
	if slot := e.deductibleSlot[b.Module]; slot >= 0 {
		y.amounts[slot] += deductible
	}
	if slot := e.coinsuranceSlot[b.Module]; slot >= 0 && b.Module != claim.Dental && !b.IsCash() {
		y.amounts[slot] += coinsurance
	}
	if b.Limit != nil {
		switch {
		case item != nil:
			item.paid += paid
		case b.Period == plan.Lifetime:
			m.lifetime[bs.amountSlot] += paid
		default:
			y.amounts[bs.amountSlot] += paid
		}
	}
	if gs != nil && gs.amountSlot >= 0 {
		y.amounts[gs.amountSlot] += paid
	}
	if cond != nil {
		cond.paid += paid
	}
	if outOfArea && e.outOfAreaSlot >= 0 {
		y.amounts[e.outOfAreaSlot] += paid
	}
	if slot := e.annualSlot[b.Module]; slot >= 0 {
		y.amounts[slot] += paid
	}
	if bs.countSlot >= 0 {
		y.units[bs.countSlot]++
	}
	coveredUnits := int32(units * f.num / f.den)
	if bs.daysSlot >= 0 {
		y.units[bs.daysSlot] += coveredUnits
	}
	if gs != nil && gs.daysSlot >= 0 {
		y.units[gs.daysSlot] += coveredUnits
	}
	coveredDates := nDates * f.num / f.den
	accrueDates := func(set []claim.Date) []claim.Date {
		already := countIn(set, ln.ServiceDate, ln.ServiceEndDate)
		if coveredDates > already {
			set = addDates(set, ln.ServiceDate, ln.ServiceEndDate, coveredDates-already)
		}
		return set
	}
	if outOfArea {
		trip.dates = accrueDates(trip.dates)
		y.oaDates = accrueDates(y.oaDates)
	}
	if inOrigin {
		y.originDates = accrueDates(y.originDates)
	}

	r.Deductible = deductible
	r.Coinsurance = coinsurance
	r.PlanPaid = paid
	r.NotCovered = charge - paid - deductible - coinsurance
	r.Adjustments[claim.PR1] = deductible
	r.Adjustments[claim.PR2] = coinsurance
	e.remark(r, dayRemark, limitRemark)
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
