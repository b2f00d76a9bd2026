package engine

import (
	"slices"

	"claimsbatch/claim"
)

// Member holds one member's accumulators between lines (and, through
// AppendState/LoadState, between runs). The zero value is not ready: use
// Engine.NewMember. Reset makes it ready for another member and keeps its
// memory, so a worker reuses one Member for all the members it adjudicates.
type Member struct {
	e        *Engine
	years    []yearState // sorted by start; entries beyond len are reusable
	lifetime []claim.Money
	items    []itemAcc
	trips    []tripAcc
	tripless tripless
	tripSeq  int32
	// lateBefore: lines served before it are denied PR-29 (MemberRun.LateBefore).
	lateBefore claim.Date
	// The duplicate-service keys of the earlier lines: those of the state
	// (LoadState) and those of this run's lines (recordService), each
	// sorted by date. Two lists, because this run's lines, in date order,
	// are appended, where insertions among a huge state's keys would cost
	// a copy of them each. Of one date, the state's come first.
	dups, runDups []dupEntry

	ccStart []claim.Date // continuous-cover start per span, scratch
	scratch struct {     // AdjudicateMember's, reused across members
		engineRecs, lineRecs, v1Dups []claim.StateRecord
		sorted                       []claim.StateRecord // LineRecords' output
		keys                         []lineKey           // LineRecords' sort keys
	}
	yearCache struct { // the policy year of the previous line
		span       int
		start, end claim.Date
	}
	tracer Tracer     // nil: no tracing (SetTracer)
	trace  traceState // the tracer's scratch
}

type yearState struct {
	start, end  claim.Date
	amounts     []claim.Money
	units       []int32
	conds       []condAcc
	oaDates     []claim.Date // sorted
	originDates []claim.Date // sorted
}

type condAcc struct {
	category string
	paid     claim.Money
}

type itemAcc struct {
	benefit string
	item    string
	paid    claim.Money
}

// tripKey names a trip: an explicit trip_id, or (id "") the seq-th inferred trip.
type tripKey struct {
	id  string
	seq int32
}

type tripAcc struct {
	key   tripKey
	dates []claim.Date // sorted
}

type tripless struct {
	set bool
	end claim.Date
	key tripKey
}

// dupEntry is an adjudicated line's duplicate-service key (SPEC step 6)
// and its claim id.
type dupEntry struct {
	date    claim.Date
	billed  claim.Money
	key     claim.DupKey
	claimID string
}

// NewMember returns an empty Member for this engine.
func (e *Engine) NewMember() *Member {
	return &Member{e: e, lifetime: make([]claim.Money, e.nLifetime), lateBefore: claim.NoDate}
}

// Reserve makes room in m for the duplicate-service keys of n more lines,
// for a caller that adjudicates a member with a huge history in segments:
// the keys then do not grow by copying (for a while twice their size).
func (m *Member) Reserve(n int) { m.runDups = slices.Grow(m.runDups, n) }

// Reset empties the Member's state, keeping its memory.
func (m *Member) Reset() {
	m.years = m.years[:0]
	clear(m.lifetime)
	m.items = m.items[:0]
	m.trips = m.trips[:0]
	m.tripless = tripless{}
	m.tripSeq = 0
	m.dups = m.dups[:0]
	m.runDups = m.runDups[:0]
}

// year returns the state of the policy year [start, end], creating it.
func (m *Member) year(start, end claim.Date) *yearState {
	for i := len(m.years) - 1; i >= 0; i-- {
		y := &m.years[i]
		if y.start == start {
			return y
		}
		if y.start < start {
			return m.insertYear(i+1, start, end)
		}
	}
	return m.insertYear(0, start, end)
}

func (m *Member) insertYear(at int, start, end claim.Date) *yearState {
	if len(m.years) < cap(m.years) {
		m.years = m.years[:len(m.years)+1]
	} else {
		m.years = append(m.years, yearState{})
	}
	// Rotate the reusable slot at the end into position `at`.
	spare := m.years[len(m.years)-1]
	copy(m.years[at+1:], m.years[at:len(m.years)-1])
	y := &m.years[at]
	*y = spare
	y.start, y.end = start, end
	if cap(y.amounts) >= m.e.nYearAmounts {
		y.amounts = y.amounts[:m.e.nYearAmounts]
		clear(y.amounts)
	} else {
		y.amounts = make([]claim.Money, m.e.nYearAmounts)
	}
	if cap(y.units) >= m.e.nYearUnits {
		y.units = y.units[:m.e.nYearUnits]
		clear(y.units)
	} else {
		y.units = make([]int32, m.e.nYearUnits)
	}
	y.conds = y.conds[:0]
	y.oaDates = y.oaDates[:0]
	y.originDates = y.originDates[:0]
	return y
}

func (y *yearState) condition(category string) *condAcc {
	for i := range y.conds {
		if y.conds[i].category == category {
			return &y.conds[i]
		}
	}
	y.conds = append(y.conds, condAcc{category: category})
	return &y.conds[len(y.conds)-1]
}

func (m *Member) item(benefit, item string) *itemAcc {
	for i := range m.items {
		if m.items[i].benefit == benefit && m.items[i].item == item {
			return &m.items[i]
		}
	}
	m.items = append(m.items, itemAcc{benefit: benefit, item: item})
	return &m.items[len(m.items)-1]
}

func (m *Member) trip(k tripKey) *tripAcc {
	for i := range m.trips {
		if m.trips[i].key == k {
			return &m.trips[i]
		}
	}
	if len(m.trips) < cap(m.trips) {
		m.trips = m.trips[:len(m.trips)+1]
		t := &m.trips[len(m.trips)-1]
		t.key, t.dates = k, t.dates[:0]
		return t
	}
	m.trips = append(m.trips, tripAcc{key: k})
	return &m.trips[len(m.trips)-1]
}

// duplicateOf returns an earlier line with the same service date,
// benefit, provider, billed amount, procedure code and item code under
// another claim id (an empty value matches only an empty value), the first
// in date order (the state's before this run's), or nil.
func (m *Member) duplicateOf(ln *claim.Line) *dupEntry {
	if len(m.dups) > 0 {
		if d := duplicateIn(m.dups, ln); d != nil {
			return d
		}
	}
	return duplicateIn(m.runDups, ln)
}

func duplicateIn(dups []dupEntry, ln *claim.Line) *dupEntry {
	// Lines come in date order, so a line's date is most often later than
	// every key's: no search then (it was 1.8 % of a run's samples).
	if n := len(dups); n == 0 || dups[n-1].date < ln.ServiceDate {
		return nil
	}
	i, _ := slices.BinarySearchFunc(dups, ln.ServiceDate, func(d dupEntry, t claim.Date) int { return int(d.date - t) })
	for ; i < len(dups) && dups[i].date == ln.ServiceDate; i++ {
		d := &dups[i]
		if d.billed == ln.Billed && d.key.Benefit == ln.BenefitCode && d.key.Provider == ln.ProviderID &&
			d.key.Procedure == ln.ProcedureCode && d.key.Item == ln.ItemCode && d.claimID != ln.ClaimID {
			return d
		}
	}
	return nil
}

// recordService adds the key of a line of this run after every key of its
// date or before.
func (m *Member) recordService(d dupEntry) {
	if n := len(m.runDups); n == 0 || m.runDups[n-1].date <= d.date {
		m.runDups = append(m.runDups, d) // lines come in date order
		return
	}
	i, _ := slices.BinarySearchFunc(m.runDups, d.date+1, func(e dupEntry, t claim.Date) int { return int(e.date - t) })
	m.runDups = slices.Insert(m.runDups, i, d)
}

// allDups calls yield with every duplicate-service key in date order, the
// state's before this run's of the same date.
func (m *Member) allDups(yield func(*dupEntry)) {
	a, b := m.dups, m.runDups
	for len(a) > 0 || len(b) > 0 {
		if len(b) == 0 || len(a) > 0 && a[0].date <= b[0].date {
			yield(&a[0])
			a = a[1:]
		} else {
			yield(&b[0])
			b = b[1:]
		}
	}
}

// countIn returns how many dates of the sorted set lie in [from, to].
func countIn(set []claim.Date, from, to claim.Date) int64 {
	lo, _ := slices.BinarySearch(set, from)
	hi, found := slices.BinarySearch(set, to)
	if found {
		hi++
	}
	return int64(hi - lo)
}

// addDates adds to the sorted set the first n dates of [from, to] that it
// does not hold yet. It shifts the set's tail once and merges from the back,
// instead of one insertion per date (measured: a tenth of the engine's
// instructions on long out-of-area stays).
func addDates(set []claim.Date, from, to claim.Date, n int64) []claim.Date {
	lo, _ := slices.BinarySearch(set, from)
	hi := lo
	for hi < len(set) && set[hi] <= to {
		hi++
	}
	// Count the new dates, and the last of them.
	var k int64
	last := from - 1
	j := lo
	for d := from; d <= to && k < n; d++ {
		for j < hi && set[j] < d {
			j++
		}
		if j < hi && set[j] == d {
			continue
		}
		k++
		last = d
	}
	if k == 0 {
		return set
	}
	old := len(set)
	set = slices.Grow(set, int(k))[:old+int(k)]
	copy(set[hi+int(k):], set[hi:old])
	// Merge from the back: the set's dates after last keep their order at
	// the end; every date from last down to from is either in the set
	// already or new.
	w, i := hi+int(k)-1, hi-1
	for i >= lo && set[i] > last {
		set[w] = set[i]
		w--
		i--
	}
	for d := last; d >= from; d-- {
		set[w] = d
		w--
		if i >= lo && set[i] == d {
			i--
		}
	}
	return set
}
