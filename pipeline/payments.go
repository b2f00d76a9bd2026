package pipeline

import (
	"slices"
	"strings"

	"claimsbatch/book"
	"claimsbatch/claim"
	"claimsbatch/writers"
)

// payments sums the plan's payments per payee and plan currency for the
// payments table. It runs on the remittance writer's goroutine, once per
// adjudicated line, so it avoids the one map keyed by (payee type, id,
// currency) it replaces (measured: 7 % of a CSV run's CPU, on the busiest
// goroutine). A member payee is paid only for its own member's lines, which
// are adjudicated together: its totals are complete when the member is
// done and go to a flat list. Provider payees share a map keyed by the
// provider id and a currency number.
type payments struct {
	book       *book.Book
	members    []memberPay
	providers  []map[string]int32   // per currency number: provider id → index in rows
	rows       []writers.PaymentRow // provider payees
	currency   map[string]int32     // plan currency → number, for the keys
	currencies []string

	cur     []memberPay // the member being summed, one per currency number
	lastCur int32       // the currency number of the last line, -1 at first
}

type memberPay struct {
	member int32
	cur    int32
	lines  int64
	paid   claim.Money
}

func newPayments(b *book.Book) *payments {
	return &payments{book: b, currency: map[string]int32{}, lastCur: -1}
}

func (p *payments) currencyOf(c string) int32 {
	// Most lines are in the currency of the line before.
	if p.lastCur >= 0 && p.currencies[p.lastCur] == c {
		return p.lastCur
	}
	if k, ok := p.currency[c]; ok {
		p.lastCur = k
		return k
	}
	k := int32(len(p.currencies))
	c = strings.Clone(c) // not the line's decoded record
	p.currency[c] = k
	p.currencies = append(p.currencies, c)
	p.cur = append(p.cur, memberPay{})
	p.providers = append(p.providers, map[string]int32{})
	p.lastCur = k
	return k
}

// addMember adds the results of member m's lines.
func (p *payments) addMember(m int32, results []claim.Result) {
	p.addLines(results)
	p.endMember(m)
}

// addLines adds the results of some of a member's lines: a member with a
// huge history comes in several calls, then endMember.
func (p *payments) addLines(results []claim.Result) {
	for i := range results {
		r := &results[i]
		k := p.currencyOf(r.Line.PlanCurrency)
		if r.Line.Payee == claim.PayeeMember {
			c := &p.cur[k]
			c.lines++
			c.paid += r.PlanPaid
			continue
		}
		// A map per currency keyed by the id alone: a string key hashes and
		// compares faster than a struct (measured: the struct key's equality
		// was half of this loop).
		at, ok := p.providers[k][r.Line.ProviderID]
		if !ok {
			id := strings.Clone(r.Line.ProviderID) // not the line's decoded record
			at = int32(len(p.rows))
			p.providers[k][id] = at
			p.rows = append(p.rows, writers.PaymentRow{PayeeType: r.Line.Payee, PayeeID: id, PlanCurrency: p.currencies[k]})
		}
		row := &p.rows[at]
		row.LineCount++
		row.PlanPaid += r.PlanPaid
	}
}

// endMember closes the totals of member m, whose lines addLines added.
func (p *payments) endMember(m int32) {
	for k := range p.cur {
		if c := &p.cur[k]; c.lines > 0 {
			p.members = append(p.members, memberPay{member: m, cur: int32(k), lines: c.lines, paid: c.paid})
			*c = memberPay{}
		}
	}
}

// table returns the payments rows in the table's order: payee type, payee
// id, plan currency.
func (p *payments) table() []writers.PaymentRow {
	rows := slices.Grow(slices.Clone(p.rows), len(p.members))
	for _, m := range p.members {
		rows = append(rows, writers.PaymentRow{PayeeType: claim.PayeeMember, PayeeID: p.book.ID(m.member),
			PlanCurrency: p.currencies[m.cur], LineCount: m.lines, PlanPaid: m.paid})
	}
	SortPayments(rows)
	return rows
}
