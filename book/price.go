package book

import (
	"fmt"

	"claimsbatch/claim"
	"claimsbatch/plan"
)

// Rejection is why a line failed a run-level row check: an exception code of
// SPEC section 7 with the field and a message. The zero value means the line
// passed.
type Rejection struct {
	Code    claim.ExceptionCode
	Field   string
	Message string
}

// Pricer applies the row checks that need the book to lines that passed the
// reader's own (UNKNOWN_MEMBER, INVALID_MEMBER, NO_FX_RATE, in that order) and
// prices them in their member's plan currency. A Pricer keeps scratch memory:
// one per goroutine.
type Pricer struct {
	plan *plan.Plan
	book *Book
	fx   *FX
	last int32 // the member of the line priced last, -1 for none

	// The rates of the last line priced in a foreign currency (a member's
	// lines are mostly in one): most lines find theirs without hashing the
	// pair.
	lastPair *fxPair
}

// Clone returns a Pricer over the same book and FX table with scratch of
// its own, for another goroutine.
func (p *Pricer) Clone() *Pricer { return &Pricer{plan: p.plan, book: p.book, fx: p.fx, last: -1} }

// NewPricer returns a Pricer over a book and an FX table (nil: no rates).
func NewPricer(p *plan.Plan, b *Book, fx *FX) *Pricer {
	return &Pricer{plan: p, book: b, fx: fx, last: -1}
}

// Price checks line l and, when it passes, sets its PlanCurrency, Charge and
// FXRate: a cash benefit is charged in the plan currency (its billed amount
// is ignored, so it needs no rate), a line in the plan currency at rate "1",
// any other at the latest rate on or before its service date, rounded half
// up to the cent. It returns the member's number in the book (-1 when
// unknown) and the rejection, zero when the line passed.
func (p *Pricer) Price(l *claim.Line) (member int32, why Rejection) {
	b := p.book
	// A claim's lines come together, and an extract sorted by member keeps
	// a member's: the member of the line before is compared (with the
	// book's own id, so nothing of an earlier batch is kept) before the
	// book is searched (in the bench's extract, 40 % of the lines follow a
	// line of the same member).
	m := p.last
	if m < 0 || b.ID(m) != l.MemberID {
		m = b.Find(l.MemberID)
		p.last = m
	}
	if m < 0 || b.status[m] == memberAbsent {
		return -1, Rejection{claim.UnknownMember, "member_id", "member_id is not in the members file"}
	}
	if why, bad := b.Invalid(m); bad {
		return m, Rejection{claim.InvalidMember, "member_id", "the member's coverage is invalid: " + why}
	}
	planCurrency := b.currencyOn(m, l.ServiceDate)
	l.PlanCurrency = planCurrency
	switch {
	case p.plan.Benefit(l.Benefit).IsCash():
		l.Charge, l.FXRate = 0, ""
	case l.Currency == planCurrency:
		l.Charge, l.FXRate = l.Billed, "1"
	default:
		fp := p.lastPair
		if fp == nil || l.Currency != fp.from || planCurrency != fp.to {
			if fp = p.fx.pair(l.Currency, planCurrency); fp != nil {
				p.lastPair = fp
			}
		}
		var (
			rate *Rate
			ok   bool
		)
		if fp != nil {
			rate, ok = fp.on(l.ServiceDate)
		}
		if !ok {
			return m, Rejection{claim.NoFXRate, "currency", fmt.Sprintf("no %s→%s rate on or before %s", l.Currency, planCurrency, l.ServiceDate)}
		}
		charge, ok := rate.Convert(l.Billed)
		if !ok {
			return m, Rejection{claim.NoFXRate, "currency", fmt.Sprintf("the %s→%s rate %s of %s makes the charge out of range", l.Currency, planCurrency, rate.text, rate.date)}
		}
		l.Charge, l.FXRate = charge, rate.text
	}
	return m, Rejection{}
}
