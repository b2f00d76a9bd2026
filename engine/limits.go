package engine

import (
	"fmt"
	"strings"

	"claimsbatch/claim"
	"claimsbatch/plan"
)

// CheckBounds reports, for a state record read from a --state-in file,
// whether its amount or count exceeds the most the plan ever lets that
// accumulator hold: a limit in any of the plan's currencies, a deductible
// or out-of-pocket maximum of any option. The engine never accrues past a
// limit, so a value above it was not written by a run under this plan: the
// file was edited, or written under another plan (the caller skips the
// check for an intended plan change). It returns "" when the record is
// within bounds or has none, else the problem in words, naming the value
// and the bound but never the member.
//
// The bound is the plan's, not the member's: a member's currency and
// options can change between two runs (a renewal), and a state that
// chains correctly must never be refused for it. Negative values are the
// state reader's to refuse.
func (e *Engine) CheckBounds(r *claim.StateRecord) string {
	amount, count, ok := e.bound(r)
	switch {
	case !ok:
		return ""
	case amount >= 0 && r.Amount > amount:
		return fmt.Sprintf("amount %s is more than the plan allows (%s)", r.Amount, amount)
	case count >= 0 && r.Count > count:
		return fmt.Sprintf("count %d is more than the plan allows (%d)", r.Count, count)
	}
	return ""
}

// bound returns the largest amount and count a record may hold, -1 for
// either when it is not bounded; ok is false when neither is.
func (e *Engine) bound(r *claim.StateRecord) (amount claim.Money, count int64, ok bool) {
	p := e.plan
	amount, count = -1, -1
	days := func(n int32) int64 {
		if n > 0 {
			return int64(n)
		}
		return -1
	}
	kind, name, _ := strings.Cut(r.Key, ":")
	switch r.Kind {
	case claim.KindAcc:
		switch kind {
		case "deductible", "coinsurance", "annual":
			m, ok := claim.ParseModule(name)
			if !ok || int(m) >= len(p.Modules) {
				return -1, -1, false
			}
			mod := &p.Modules[m]
			switch kind {
			case "deductible":
				amount = maxOption(mod.Deductibles)
				if amount < 0 {
					amount = 0 // no options: every member's deductible is 0
				}
			case "coinsurance":
				amount = maxOption(mod.OOPMaximums)
			case "annual":
				amount = maxAmount(mod.AnnualMaximum)
			}
		case "out_of_area":
			amount = maxAmount(p.OutOfAreaLimit)
		case "group":
			if g := e.group(name); g != nil {
				amount = maxAmount(g.Limit)
			}
		case "group_days":
			if g := e.group(name); g != nil {
				count = days(g.Days)
			}
		case "benefit":
			if b := e.benefit(name); b != nil {
				amount = maxAmount(b.Limit)
			}
		case "days":
			if b := e.benefit(name); b != nil {
				count = days(b.Days)
			}
		case "lines":
			if b := e.benefit(name); b != nil {
				count = days(b.LinesPerYear)
			}
		}
	case claim.KindLife:
		if b := e.benefit(name); kind == "benefit" && b != nil {
			amount = maxAmount(b.Limit)
		}
	case claim.KindItem:
		if b := e.benefit(r.Key); b != nil && b.LimitPerItem {
			amount = maxAmount(b.Limit)
		}
	case claim.KindCond:
		amount = maxAmount(p.ConditionCap)
	case claim.KindDates:
		switch r.Key {
		case "out_of_area":
			count = days(p.OutOfAreaDaysPerYear)
		case "origin":
			count = days(p.OriginDaysPerYear)
		}
	case claim.KindTrip:
		count = days(p.OutOfAreaDaysPerTrip)
	}
	return amount, count, amount >= 0 || count >= 0
}

func (e *Engine) group(name string) *plan.Group {
	for i := range e.plan.Groups {
		if e.plan.Groups[i].Name == name {
			return &e.plan.Groups[i]
		}
	}
	return nil
}

func (e *Engine) benefit(code string) *plan.Benefit {
	id, _, ok := e.plan.Lookup(code)
	if !ok {
		return nil
	}
	return e.plan.Benefit(id)
}

// maxAmount is the largest of a limit's amounts, -1 for no limit.
func maxAmount(a plan.Amounts) claim.Money {
	if a == nil {
		return -1
	}
	m := claim.Money(-1)
	for _, v := range a {
		m = max(m, v)
	}
	return m
}

// maxOption is the largest option of any currency, -1 for none.
func maxOption(options [][]claim.Money) claim.Money {
	m := claim.Money(-1)
	for _, list := range options {
		for _, v := range list {
			m = max(m, v)
		}
	}
	return m
}
