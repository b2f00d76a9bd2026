package pipeline

import (
	"strings"

	"claimsbatch/book"
	"claimsbatch/claim"
	"claimsbatch/internal/strhash"
	"claimsbatch/writers"
)

// payments sums the plan's payments per payee and plan currency for the
// payments table. It runs on the tally's goroutine, once per adjudicated
// line, so it avoids the one map keyed by (payee type, id, currency) it
// replaces (measured: 7 % of a CSV run's CPU, on the busiest goroutine). A
// member payee is paid only for its own member's lines, which are
// adjudicated together: its totals are complete when the member is done
// and go to a flat list. Provider payees are found in a hash table of
// their own (providerTable), a chunk of lines at a time.
type payments struct {
	book       *book.Book
	members    []memberPay
	currency   map[string]int32 // plan currency → number, for the keys
	currencies []string
	providers  providerTable

	cur     []memberPay // the member being summed, one per currency number
	lastCur int32       // the currency number of the last line, -1 at first
	refs    []providerRef
}

type memberPay struct {
	member int32
	cur    int32
	lines  int64
	paid   claim.Money
}

func newPayments(b *book.Book) *payments {
	return &payments{book: b, currency: map[string]int32{}, lastCur: -1, providers: newProviderTable()}
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
	p.lastCur = k
	return k
}

// addLines adds the results of some of a member's lines: a member with a
// huge history comes in several calls, then endMember.
func (p *payments) addLines(results []claim.Result) {
	p.addProviders(results)
	p.addMemberPayees(results)
}

// addMemberPayees adds the results of some of a member's lines that pay
// the member.
func (p *payments) addMemberPayees(results []claim.Result) {
	for i := range results {
		r := &results[i]
		if r.Line.Payee != claim.PayeeMember {
			continue
		}
		c := &p.cur[p.currencyOf(r.Line.PlanCurrency)]
		c.lines++
		c.paid += r.PlanPaid
	}
}

// providerRef is a provider line of a batch on its way through
// addProviders.
type providerRef struct {
	hash uint64
	line int32 // in the batch
	cur  int32
}

// addProviders adds the results that pay a provider, of any members. The
// providers' totals can be far larger than the caches (a row per provider
// and currency: 370,000 in the bench's 10 M lines) and each line's is then
// a miss to memory: the lines are taken in passes so that the misses overlap — the
// keys hashed and their slots loaded, then the rows the slots point at
// loaded, then each line's row found (its id checked) and added to.
func (p *payments) addProviders(results []claim.Result) {
	t := &p.providers
	refs := p.refs[:0]
	var x uint32
	for i := range results {
		r := &results[i]
		if r.Line.Payee == claim.PayeeMember {
			continue
		}
		k := p.currencyOf(r.Line.PlanCurrency)
		h := providerHash(r.Line.ProviderID, k)
		refs = append(refs, providerRef{hash: h, line: int32(i), cur: k})
		x ^= t.slots[h&t.mask]
	}
	var y int64
	for j := range refs {
		if s := t.slots[refs[j].hash&t.mask]; s != 0 {
			y ^= t.rows[s-1].lines
		}
	}
	keepLoads(uint64(x) ^ uint64(y))
	for j := range refs {
		ref := &refs[j]
		r := &results[ref.line]
		pr := &t.rows[t.find(ref.hash, ref.cur, r.Line.ProviderID, r.Line.Payee)]
		pr.lines++
		pr.paid += r.PlanPaid
	}
	p.refs = refs[:0]
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
	t := &p.providers
	rows := make([]writers.PaymentRow, 0, len(t.rows)+len(p.members))
	for at := range t.rows {
		pr := &t.rows[at]
		rows = append(rows, writers.PaymentRow{PayeeType: pr.payee, PayeeID: t.id(int32(at)),
			PlanCurrency: p.currencies[pr.cur], LineCount: pr.lines, PlanPaid: pr.paid})
	}
	for _, m := range p.members {
		rows = append(rows, writers.PaymentRow{PayeeType: claim.PayeeMember, PayeeID: p.book.ID(m.member),
			PlanCurrency: p.currencies[m.cur], LineCount: m.lines, PlanPaid: m.paid})
	}
	SortPayments(rows)
	return rows
}

// providerTable holds the provider payees' totals, one row per provider id
// and plan currency, found by an open-addressing hash table of row
// numbers. A row is a cache line: the key's hash, the totals, and the id
// itself when it is short (most ids: NPIs, local codes), so that finding a
// provider and adding to it reads one line of memory besides the slot.
type providerTable struct {
	slots []uint32 // row number + 1; 0 is empty. A power of two, at most half full.
	mask  uint64
	rows  []providerRow
	long  map[int32]string // the ids longer than providerInline, by row
}

// providerInline is the longest id a row holds itself: what is left of a
// 64-byte row.
const providerInline = 31

type providerRow struct {
	hash  uint64
	lines int64
	paid  claim.Money
	cur   int32
	n     int32 // the id's length
	payee claim.PayeeType
	short [providerInline]byte // the id, when n <= providerInline
}

func newProviderTable() providerTable {
	const slots = 1 << 10
	return providerTable{slots: make([]uint32, slots), mask: slots - 1, long: map[int32]string{}}
}

// providerHash hashes a provider id and a plan currency number as keyHash
// does a line key.
func providerHash(id string, cur int32) uint64 {
	return strhash.Mix(strhash.String(strhash.Uint(strhash.Seed, uint64(uint32(cur))), id))
}

// find returns the row of (id, cur), which has hash h, adding one (for a
// payee of that type) if there is none.
func (t *providerTable) find(h uint64, cur int32, id string, payee claim.PayeeType) int32 {
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := t.slots[i]
		if s == 0 {
			return t.add(i, h, cur, id, payee)
		}
		at := int32(s - 1)
		if pr := &t.rows[at]; pr.hash == h && pr.cur == cur && t.idIs(at, id) {
			return at
		}
	}
}

// idIs reports whether row at is the provider id.
func (t *providerTable) idIs(at int32, id string) bool {
	pr := &t.rows[at]
	if int(pr.n) != len(id) {
		return false
	}
	if len(id) <= providerInline {
		return string(pr.short[:len(id)]) == id
	}
	return t.long[at] == id
}

// id returns row at's provider id.
func (t *providerTable) id(at int32) string {
	pr := &t.rows[at]
	if int(pr.n) <= providerInline {
		return string(pr.short[:pr.n])
	}
	return t.long[at]
}

// add makes a row for (id, cur) in empty slot i.
func (t *providerTable) add(i, h uint64, cur int32, id string, payee claim.PayeeType) int32 {
	at := int32(len(t.rows))
	pr := providerRow{hash: h, cur: cur, n: int32(len(id)), payee: payee}
	if len(id) <= providerInline {
		copy(pr.short[:], id)
	} else {
		t.long[at] = strings.Clone(id) // not the line's decoded record
	}
	t.rows = append(t.rows, pr)
	t.slots[i] = uint32(at) + 1
	if 2*len(t.rows) > len(t.slots) {
		t.grow()
	}
	return at
}

// grow doubles the slots and places every row again.
func (t *providerTable) grow() {
	n := 2 * len(t.slots)
	t.slots, t.mask = make([]uint32, n), uint64(n-1)
	for at := range t.rows {
		i := t.rows[at].hash & t.mask
		for t.slots[i] != 0 {
			i = (i + 1) & t.mask
		}
		t.slots[i] = uint32(at) + 1
	}
}
