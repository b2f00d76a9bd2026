package synth

import (
	"claimsbatch/claim"
)

// notGiven marks an empty optional numeric column of a members row.
const notGiven = -1

// options are a span's cost-share columns as written; notGiven = empty.
type options struct {
	coreDed, coreOOP, opDed, opOOP claim.Money
	coreCoins, opCoins             int64 // basis points
}

type span struct {
	start, end claim.Date // end = claim.OpenEnd when open
	options
}

// member is one generated member with one or two coverage spans.
type member struct {
	num        int64 // 1-based; the id is M + num zero-padded
	spans      [2]span
	nSpans     int
	dob        claim.Date
	residence  uint8 // index in countries
	origin     uint8
	usCover    byte  // 'Y', 'N' or 0 (empty)
	planCur    int   // index in plan.Currencies
	curIdx     uint8 // index in gen.currencies
	modules    claim.ModuleSet
	moduleText string
	chronic    int16 // index in diagnoses, -1 for none
	invalid    bool  // made invalid on purpose (bad option or overlapping spans)
	lines      int64 // claim lines allocated to this member

	// window is the range service dates are drawn from: the cover plus a few
	// weeks before and after, so that some claims fall outside it.
	winFrom, winTo claim.Date
}

var (
	coverFirst = claim.FromCivil(2021, 1, 1)
	coverLast  = claim.FromCivil(2024, 12, 31)
	leapStart  = claim.FromCivil(2024, 2, 29)
)

// newMember draws member number num.
func (g *gen) newMember(r *rng, num int64, m *member) {
	*m = member{num: num, chronic: -1}
	m.planCur = g.planCurTable.pickIndex(r)
	m.curIdx = g.planCurIdx[m.planCur]
	m.residence = uint8(g.residenceTable.pickIndex(r))
	m.origin = m.residence
	if r.permille(400) {
		for m.origin == m.residence {
			m.origin = uint8(g.residenceTable.pickIndex(r))
		}
	}
	switch {
	case r.permille(100):
		m.usCover = 'Y'
	case r.permille(700):
		m.usCover = 'N'
	}

	// Modules: core always; the text lists them in a few equivalent spellings.
	m.modules = claim.ModuleSet(0).With(claim.Core)
	if g.plan.Modules[claim.Outpatient].Present && r.permille(600) {
		m.modules = m.modules.With(claim.Outpatient)
	}
	if g.plan.Modules[claim.Dental].Present && r.permille(300) {
		m.modules = m.modules.With(claim.Dental)
	}
	m.moduleText = moduleTexts[m.modules>>1&7]

	// Coverage start: 2021-2024, often the first of a month, some 29 February.
	var start claim.Date
	switch {
	case r.permille(10):
		start = leapStart
	default:
		start = coverFirst + claim.Date(r.n(int(coverLast-coverFirst)+1))
		if r.permille(500) {
			y, mo, _ := start.Civil()
			start = claim.FromCivil(y, mo, 1)
		}
	}

	// Age at the start of cover 0-90, children included.
	var age int
	switch x := r.n(100); {
	case x < 18:
		age = r.n(18)
	case x < 88:
		age = 18 + r.n(47)
	default:
		age = 65 + r.n(26)
	}
	m.dob = start.AddYears(-age) - claim.Date(r.n(365))
	if r.permille(5) { // born on 29 February
		y, _, _ := m.dob.Civil()
		y -= y % 4
		if y%100 == 0 && y%400 != 0 {
			y -= 4
		}
		m.dob = claim.FromCivil(y, 2, 29)
		if m.dob > start {
			m.dob = claim.FromCivil(y-4, 2, 29)
		}
	}
	if r.permille(250) { // a long-running condition, so the per-condition cap fills
		m.chronic = chronicConditions[r.n(len(chronicConditions))]
	}

	invalidKind := 0
	if g.badMemberPer100k > 0 && r.n(100000) < g.badMemberPer100k {
		m.invalid = true
		invalidKind = 1 + r.n(2) // 1: option not in the plan's list, 2: overlapping spans
	}

	s0 := &m.spans[0]
	s0.start = start
	s0.options = g.drawOptions(r, m)
	m.nSpans = 1
	s0.end = claim.OpenEnd
	if invalidKind == 2 || r.permille(150) {
		// A renewal: the first span ends at an anniversary; the second follows
		// it directly, or after a gap, sometimes with other options.
		m.nSpans = 2
		s0.end = start.AddYears(1+r.n(2)) - 1
		s1 := &m.spans[1]
		switch {
		case invalidKind == 2:
			s1.start = s0.end - claim.Date(r.n(60))
		case r.permille(600):
			s1.start = s0.end + 1
		default:
			s1.start = s0.end + 2 + claim.Date(r.n(180))
		}
		s1.end = claim.OpenEnd
		if r.permille(300) {
			s1.end = s1.start.AddYears(1) - 1
		}
		s1.options = s0.options
		if r.permille(500) {
			s1.options = g.drawOptions(r, m)
		}
	} else if r.permille(250) {
		if r.permille(700) {
			s0.end = start.AddYears(1+r.n(3)) - 1
		} else {
			s0.end = start + 60 + claim.Date(r.n(900))
		}
	}
	if invalidKind == 1 {
		g.spoilOption(r, m, &m.spans[r.n(m.nSpans)].options)
	}

	m.winFrom = start - 20
	last := m.spans[m.nSpans-1].end
	m.winTo = horizon
	if last != claim.OpenEnd && last+30 < horizon {
		m.winTo = last + 30
	}
}

var moduleTexts = [8]string{
	1: "core", 3: "core;outpatient", 5: "core;dental", 7: "core;outpatient;dental",
}

func (g *gen) drawOptions(r *rng, m *member) options {
	o := options{coreDed: notGiven, coreOOP: notGiven, opDed: notGiven, opOOP: notGiven, coreCoins: notGiven, opCoins: notGiven}
	core := &g.plan.Modules[claim.Core]
	o.coreDed = drawMoney(r, core.Deductibles, m.planCur, 200)
	o.coreCoins = drawPercent(r, core.Coinsurance, 200)
	o.coreOOP = drawMoney(r, core.OOPMaximums, m.planCur, 300)
	if m.modules.Has(claim.Outpatient) {
		op := &g.plan.Modules[claim.Outpatient]
		o.opDed = drawMoney(r, op.Deductibles, m.planCur, 200)
		o.opCoins = drawPercent(r, op.Coinsurance, 200)
		o.opOOP = drawMoney(r, op.OOPMaximums, m.planCur, 400)
	}
	return o
}

// drawMoney picks one of the plan's options, or notGiven (the plan default)
// with probability emptyPermille.
func drawMoney(r *rng, lists [][]claim.Money, cur int, emptyPermille int) claim.Money {
	if cur >= len(lists) || len(lists[cur]) == 0 || r.permille(emptyPermille) {
		return notGiven
	}
	return lists[cur][r.n(len(lists[cur]))]
}

func drawPercent(r *rng, list []int64, emptyPermille int) int64 {
	if len(list) == 0 || r.permille(emptyPermille) {
		return notGiven
	}
	return list[r.n(len(list))]
}

// spoilOption sets one core option to a value that is not in the plan's list.
func (g *gen) spoilOption(r *rng, m *member, o *options) {
	core := &g.plan.Modules[claim.Core]
	switch r.n(3) {
	case 0:
		o.coreDed = outsideMoney(core.Deductibles, m.planCur, 2500)
	case 1:
		v := int64(1500)
		for containsInt(core.Coinsurance, v) {
			v += 100
		}
		o.coreCoins = v
	default:
		o.coreOOP = outsideMoney(core.OOPMaximums, m.planCur, 50000)
	}
}

func outsideMoney(lists [][]claim.Money, cur int, step claim.Money) claim.Money {
	var list []claim.Money
	if cur < len(lists) {
		list = lists[cur]
	}
	v := step
	if len(list) > 0 {
		v = list[0] + step
	}
	for containsMoney(list, v) {
		v += step
	}
	return v
}

func containsMoney(list []claim.Money, v claim.Money) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func containsInt(list []int64, v int64) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// lineWeight draws how many lines a member claims relative to others: some
// claim nothing, most a few, one in 512 about 60 times the usual.
func lineWeight(r *rng) int64 {
	if r.permille(150) {
		return 0
	}
	w := int64(1 + r.n(4))
	switch x := r.n(512); {
	case x < 1:
		w *= 64
	case x < 8:
		w *= 16
	case x < 64:
		w *= 4
	}
	return w
}
