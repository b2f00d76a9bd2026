package report

import (
	"slices"
	"strings"

	"claimsbatch/claim"
)

// Lines adds up a run's adjudicated lines for the page as the run writes
// them, so that Build need not read the remittance back (measured: reading
// it again cost a sixth of a Parquet run's CPU). It indexes by number —
// currency, status, module, benefit, reason — so a line costs a few array
// additions; a Lines is used by one goroutine at a time.
type Lines struct {
	benefits   []string // benefit codes by claim.BenefitID
	currencies []string // plan currencies by number, first seen first
	per        []*linesOf
	last       int // the currency number of the last line
}

type linesOf struct {
	money   money
	status  [4]int64 // by claim.Status
	module  [4]group // by claim.Module
	benefit []group  // by claim.BenefitID
	reason  [claim.NumReasons]reason
}

// NewLines returns an empty Lines for a plan whose benefit codes, by
// claim.BenefitID, are benefits.
func NewLines(benefits []string) *Lines {
	return &Lines{benefits: benefits, last: -1}
}

// Add adds one adjudicated line.
func (l *Lines) Add(r *claim.Result) {
	cur := r.Line.PlanCurrency
	k := l.last
	if k < 0 || l.currencies[k] != cur {
		k = -1
		for i, c := range l.currencies {
			if c == cur {
				k = i
				break
			}
		}
		if k < 0 {
			k = len(l.currencies)
			l.currencies = append(l.currencies, strings.Clone(cur))
			l.per = append(l.per, &linesOf{benefit: make([]group, len(l.benefits))})
		}
		l.last = k
	}
	p := l.per[k]
	m := &p.money
	m.lines++
	m.charge += r.Charge
	m.planPaid += r.PlanPaid
	if r.Line.Payee == claim.PayeeMember {
		m.paidMember += r.PlanPaid
	} else {
		m.paidProvider += r.PlanPaid
	}
	m.deductible += r.Deductible
	m.coinsurance += r.Coinsurance
	m.notCovered += r.NotCovered
	m.memberResponsibility += r.MemberResponsibility()
	if int(r.Status) < len(p.status) {
		p.status[r.Status]++
	}
	if int(r.Module) < len(p.module) {
		g := &p.module[r.Module]
		g.lines++
		g.paid += r.PlanPaid
	}
	if b := int(r.Line.Benefit); b >= 0 && b < len(p.benefit) {
		g := &p.benefit[b]
		g.lines++
		g.paid += r.PlanPaid
	}
	for code := claim.Reason(0); code < claim.NumReasons; code++ {
		if amt := r.Adjustments[code]; amt != 0 && code != claim.PR1 && code != claim.PR2 {
			rs := &p.reason[code]
			rs.lines++
			rs.amount += amt
		}
	}
}

// into adds the lines to t, keyed as the remittance's text would key them.
func (l *Lines) into(t *totals) {
	for k, cur := range l.currencies {
		p := l.per[k]
		m := t.byCurrency[cur]
		if m == nil {
			m = &money{}
			t.byCurrency[cur] = m
			t.currencies = append(t.currencies, cur)
		}
		add := p.money
		m.lines += add.lines
		m.charge += add.charge
		m.planPaid += add.planPaid
		m.paidProvider += add.paidProvider
		m.paidMember += add.paidMember
		m.deductible += add.deductible
		m.coinsurance += add.coinsurance
		m.notCovered += add.notCovered
		m.memberResponsibility += add.memberResponsibility
		for st, n := range p.status {
			if n > 0 {
				t.byStatus[key{cur, claim.Status(st).String()}] += n
			}
		}
		for mod, g := range p.module {
			if g.lines > 0 {
				addGroupN(t.byModule, key{cur, claim.Module(mod).String()}, g)
			}
		}
		for b, g := range p.benefit {
			if g.lines > 0 {
				addGroupN(t.byBenefit, key{cur, l.benefits[b]}, g)
			}
		}
		for code, rs := range p.reason {
			if rs.lines > 0 {
				kk := key{cur, claim.Reason(code).String()}
				to := t.byReason[kk]
				if to == nil {
					to = &reason{}
					t.byReason[kk] = to
				}
				to.lines += rs.lines
				to.amount += rs.amount
			}
		}
	}
	slices.Sort(t.currencies)
}

func addGroupN(m map[key]*group, k key, g group) {
	to := m[k]
	if to == nil {
		to = &group{}
		m[k] = to
	}
	to.lines += g.lines
	to.paid += g.paid
}
