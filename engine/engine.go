// Package engine adjudicates one member's claim lines against a plan, following
// SPEC sections 4 and 5 step by step.
//
// The engine does no I/O and starts no goroutines. An Engine is built once from
// a plan and is safe to share; a Member holds one member's accumulators and is
// owned by one goroutine at a time. Adjudicate is a deterministic function of
// (plan, spans, the Member's prior state, the ordered lines): the pipeline runs
// many members in parallel by giving each worker its own Member.
//
// Money is int64 minor units throughout; every rounding is half away from zero
// and happens once per computed amount. A Member reuses its memory across
// members (Reset), so the steady state allocates nothing per line.
//
// # Readings of the SPEC
//
// Where SPEC section 5 leaves room, the engine takes these readings (the README
// lists them too):
//   - Trip inference (section 6) is part of the out-of-area day limits: it runs
//     for out-of-area emergency lines that reach step 7, whatever their outcome,
//     because a trip is a fact about where the member was, not money.
//   - When several day limits apply and the smallest fraction comes from another
//     limit, a unit-counted limit accrues floor(units × fraction) units and a
//     date-counted limit accrues the line's already-counted dates first, then the
//     earliest new dates, up to floor(dates × fraction).
//   - In steps 8 and 10, when a lifetime limit and a policy-year limit bind
//     equally, the reason is the lifetime one (PR-35).
//   - A line outside every span is charged in the currency of the span before it
//     (or the first span) and carries that span's policy_id.
//
// # Steps
//
// Engine.line runs SPEC section 5 as one method per step, in adjudicate.go,
// in the SPEC's order: charge, eligibility (1), module (2), age (3),
// waitingPeriod (4), coverageArea (5), duplicateService (6), dayLimits (7),
// exhaustedLimits (8), costShare (9), amountLimits (10), accrue (11), settle.
// A step that denies the line ends it.
//
// # Tracing
//
// Member.SetTracer makes a Member report every line (trace.go): each step
// with its outcome (passed, denied with its reason and remark, or the
// amounts it computed) and every accumulator the line touched with its value
// before and after and its limit. claimsbatch explain uses it. The steps
// compute nothing for the tracer: line calls it once, after the step that
// decided the line, and the tracer reads what the steps left; without a
// tracer that costs one nil check per line and no allocation.
//
// # State
//
// AppendState and LoadState turn a Member into claim.StateRecord rows and back
// (the kinds are documented in package claim: YEAR, ACC, COND, DATES, LIFE,
// ITEM, TRIP, TRIPLESS, and DUP from version 1 states). AdjudicateMember is
// one member's whole turn in a run — its earlier state in, its lines
// adjudicated, its state and LINE records out — the same for every runner.
//
// It may import only claim and plan.
package engine

import (
	"claimsbatch/claim"
	"claimsbatch/plan"
)

// Engine adjudicates lines under one plan. It is immutable after New.
type Engine struct {
	plan *plan.Plan

	nYearAmounts int
	nYearUnits   int
	nLifetime    int

	// slot numbers
	deductibleSlot  [4]int // per module; -1 when the module has no cost share
	coinsuranceSlot [4]int
	annualSlot      [4]int
	outOfAreaSlot   int
	benefits        []benefitSlots
	groups          []groupSlots

	yearAmountNames []string
	yearUnitNames   []string
	lifetimeNames   []string

	remarks remarks
}

type benefitSlots struct {
	amountSlot  int // year amount slot, or lifetime slot (Period == Lifetime && !LimitPerItem), -1 none
	daysSlot    int // year unit slot, -1 none
	countSlot   int // year unit slot for LinesPerYear, -1 none
	limitRemark string
	daysRemark  string
	countRemark string
	perLineRmk  string
}

type groupSlots struct {
	amountSlot  int
	daysSlot    int
	limitRemark string
	daysRemark  string
}

type remarks struct {
	byReason [claim.NumReasons]string
	annual   [4]string
	cond     string
	ooaLimit string
	trip     string
	ooaYear  string
	origin   string

	lateHorizon string
}

// New compiles the plan's limits into accumulator slots.
func New(p *plan.Plan) *Engine {
	e := &Engine{plan: p, outOfAreaSlot: -1}
	yearAmount := func(name string) int {
		e.yearAmountNames = append(e.yearAmountNames, name)
		e.nYearAmounts++
		return e.nYearAmounts - 1
	}
	yearUnit := func(name string) int {
		e.yearUnitNames = append(e.yearUnitNames, name)
		e.nYearUnits++
		return e.nYearUnits - 1
	}
	for m := claim.Core; m <= claim.Dental; m++ {
		e.deductibleSlot[m], e.coinsuranceSlot[m], e.annualSlot[m] = -1, -1, -1
		if !p.Modules[m].Present {
			continue
		}
		if m != claim.Dental {
			e.deductibleSlot[m] = yearAmount("deductible:" + m.String())
			e.coinsuranceSlot[m] = yearAmount("coinsurance:" + m.String())
		}
		if p.Modules[m].AnnualMaximum != nil {
			e.annualSlot[m] = yearAmount("annual:" + m.String())
			e.remarks.annual[m] = m.String() + " annual maximum reached"
		}
	}
	if p.OutOfAreaLimit != nil {
		e.outOfAreaSlot = yearAmount("out_of_area")
	}
	for _, g := range p.Groups {
		gs := groupSlots{amountSlot: -1, daysSlot: -1}
		if g.Limit != nil {
			gs.amountSlot = yearAmount("group:" + g.Name)
			gs.limitRemark = g.Name + " combined limit reached"
		}
		if g.Days > 0 {
			gs.daysSlot = yearUnit("group_days:" + g.Name)
			gs.daysRemark = g.Name + " combined day limit reached"
		}
		e.groups = append(e.groups, gs)
	}
	for _, b := range p.Benefits {
		bs := benefitSlots{amountSlot: -1, daysSlot: -1, countSlot: -1}
		switch {
		case b.Limit == nil || b.LimitPerItem:
		case b.Period == plan.Lifetime:
			e.lifetimeNames = append(e.lifetimeNames, "benefit:"+b.Code)
			bs.amountSlot = e.nLifetime
			e.nLifetime++
		default:
			bs.amountSlot = yearAmount("benefit:" + b.Code)
		}
		switch {
		case b.Limit == nil:
		case b.Period == plan.Lifetime && b.LimitPerItem:
			bs.limitRemark = b.Code + " lifetime limit per item reached"
		case b.Period == plan.Lifetime:
			bs.limitRemark = b.Code + " lifetime limit reached"
		default:
			bs.limitRemark = b.Code + " limit reached"
		}
		if b.Days > 0 {
			bs.daysSlot = yearUnit("days:" + b.Code)
			bs.daysRemark = b.Code + " day limit reached"
		}
		if b.LinesPerYear > 0 {
			bs.countSlot = yearUnit("lines:" + b.Code)
			bs.countRemark = b.Code + " lines per policy year reached"
		}
		if b.PerLineLimit != nil {
			bs.perLineRmk = b.Code + " limit per line"
		}
		e.benefits = append(e.benefits, bs)
	}
	r := &e.remarks
	r.byReason[claim.PR6] = "age rule of the benefit not met"
	r.byReason[claim.OA18] = "duplicate of a service already adjudicated"
	r.byReason[claim.PR26] = "service before coverage start"
	r.byReason[claim.PR27] = "service after coverage ended or in a coverage gap"
	r.byReason[claim.PR29] = "the time limit for filing has expired"
	r.lateHorizon = "served before the duplicate-check horizon of the earlier runs' state: the time limit for filing has expired"
	r.byReason[claim.PR96] = "outside area of cover"
	r.byReason[claim.PR179] = "waiting period not served"
	r.byReason[claim.PR204] = "benefit module not held"
	r.cond = "per-condition cap reached"
	r.ooaLimit = "out-of-area emergency limit reached"
	r.trip = "out-of-area days per trip reached"
	r.ooaYear = "out-of-area days per policy year reached"
	r.origin = "country-of-origin days per policy year reached"
	return e
}

// Plan returns the engine's plan.
func (e *Engine) Plan() *plan.Plan { return e.plan }
