package synth

import (
	"claimsbatch/claim"
)

// line is one generated claim row before rendering. Text fields are indexes
// into the generator's tables, so a line is a fixed-size value with no
// pointers and a block of them costs the garbage collector nothing.
type line struct {
	claimSeq  int64 // generation order of the claim; claim ids are assigned at write time
	member    int64 // member number
	claimRand uint32
	service   claim.Date
	end       claim.Date // claim.NoDate when the column is empty
	received  claim.Date // claim.NoDate when the column is empty
	billed    claim.Money
	units     int32 // 0 = empty column
	trip      int32 // 0 = none, else bucket+1
	provider  int32 // 0 = none
	benefit   int16
	diag      int16 // -1 = none
	lineNo    uint8
	country   uint8
	currency  uint8
	emergency byte  // 'Y', 'N' or 0 (empty)
	payee     uint8 // 0 empty, payeeProvider, payeeMember
	item      uint8 // 0 none, else index+1 in the benefit's item list
	bad       badKind
	badArg    uint8 // variant of the bad kind
}

const (
	payeeProvider = 1
	payeeMember   = 2
)

// badKind is the way a row is made bad on purpose.
type badKind uint8

const (
	badNone           badKind = iota
	badEmptyField             // a required field is empty
	badDate                   // a date that does not parse
	badThreeDecimals          // billed_amount with 3 decimals
	badNegative               // billed_amount below 0
	badEndBeforeStart         // service_end_date before service_date
	badEmergency              // emergency "X"
	badBenefit                // unknown benefit code
	badMember                 // unknown member id
	badCurrency               // a currency the FX file has no rate for
	badFieldCount             // CSV only: one field too few or too many
	badRepeat                 // the (claim_id, line_no) of the row before, repeated
)

// requiredClaimFields are the columns badEmptyField may empty (one, drawn per row).
var requiredClaimFields = []int{colClaimID, colLineNo, colMemberID, colServiceDate, colBenefitCode, colCountry, colCurrency, colBilledAmount}

var unknownBenefits = []string{"COSMETIC_SURGERY", "op_consultation", "MATERNITY", "OP_CONSULT"}

// memberLines generates the claim lines of member m whose service dates fall
// in [from, to], exactly n of them, appending to g.buf. first says whether
// this is the member's first slice (the only one that may hold an
// unknown-member row, to keep sorted output in member order).
func (g *gen) memberLines(r *rng, m *member, from, to claim.Date, n int64, first bool) {
	startIdx := len(g.buf)
	days := int(to-from) + 1
	for n > 0 {
		k := int64(claimSizes[r.n(len(claimSizes))])
		if k > n {
			k = n
		}
		date := from + claim.Date(r.n(days))
		g.claimLines(r, m, date, int(k))
		n -= k
		if n > 0 && r.permille(5) {
			g.duplicateService(r, len(g.buf)-int(k))
			n--
		}
	}
	if g.badThreshold > 0 {
		g.spoil(r, startIdx, first)
	}
}

// claimSizes: 1-4 lines per claim, most claims have one.
var claimSizes = [20]uint8{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 4}

// claimLines appends one claim of k lines, all on service date date.
func (g *gen) claimLines(r *rng, m *member, date claim.Date, k int) {
	g.claimSeq++
	base := line{
		claimSeq:  g.claimSeq,
		member:    m.num,
		claimRand: r.u32(),
		service:   date,
		end:       claim.NoDate,
		diag:      -1,
		country:   m.residence,
	}

	// Where: the residence mostly, the country of origin for some members,
	// the USA for some with US cover, and about 8 % out of area.
	inArea := true
	switch x := r.n(1000); {
	case x < 80:
		base.country = g.outOfArea(r, m)
		inArea = false
	case m.origin != m.residence && x < 180:
		base.country = m.origin
	case m.usCover == 'Y' && x < 230:
		base.country = countryUS
	}
	switch {
	case !inArea && r.permille(800):
		base.emergency = 'Y'
		if r.permille(500) {
			base.trip = int32(date-m.winFrom)/45 + 1
		}
	case !inArea:
		base.emergency = 'N'
	case r.permille(40):
		base.emergency = 'Y'
	case r.permille(700):
		base.emergency = 'N'
	}

	// Who is paid.
	if r.permille(850) {
		// Providers come from a pool the size of a real network for this
		// book (one provider per ~20 members, 50 to 50,000), so payee counts
		// follow the book, not the number of lines.
		base.provider = int32(1 + r.n(min(max(g.cfg.Members/20, 50), 50000)))
		base.payee = payeeProvider
		if r.permille(100) {
			base.payee = 0 // default: provider, because provider_id is set
		}
	} else {
		base.payee = payeeMember
		if r.permille(200) {
			base.payee = 0 // default: member, because provider_id is empty
		}
	}

	// Currency: the plan currency mostly, else the local one or another.
	base.currency = m.curIdx
	if r.permille(100) {
		local := g.countryCur[base.country]
		if local != m.curIdx {
			base.currency = local
		} else {
			for base.currency == m.curIdx {
				base.currency = uint8(r.n(len(g.currencies)))
			}
		}
	}

	// The first claims of the run cycle through every benefit, so that even
	// a small file has each code at least once.
	var primary int16
	if g.forced < len(g.plan.Benefits) {
		primary = int16(g.forced)
		g.forced++
	} else {
		primary = g.pickBenefit(r, m, date, 0)
	}
	pp := &g.profiles[primary]
	if g.modules[primary] != claim.Dental && r.permille(850) {
		if m.chronic >= 0 && r.permille(400) {
			base.diag = m.chronic
		} else {
			base.diag = int16(pp.pool.from + r.n(pp.pool.to-pp.pool.from))
		}
	}

	receivedLag := claim.Date(r.skewed(61))
	maxNights := claim.Date(0)
	start := len(g.buf)
	for i := 0; i < k; i++ {
		l := base
		l.lineNo = uint8(i + 1)
		l.benefit = primary
		if i > 0 {
			l.benefit = g.pickBenefit(r, m, date, g.modules[primary])
		}
		pr := &g.profiles[l.benefit]
		nights := 1
		if pr.stay {
			nights = 1 + r.skewed(20)
			l.end = date + claim.Date(nights)
			if claim.Date(nights) > maxNights {
				maxNights = claim.Date(nights)
			}
			if g.dayLimited[l.benefit] {
				l.units = int32(nights)
			}
		} else if r.permille(30) {
			l.end = date // given but equal to the service date
		}
		if l.units == 0 {
			switch {
			case pr.units > 1:
				l.units = int32(1 + r.n(int(pr.units)))
			case r.permille(600):
				l.units = 1
			}
		}
		if len(pr.items) > 0 {
			l.item = uint8(1 + r.n(len(pr.items)))
		}
		if g.cash[l.benefit] && r.permille(500) {
			l.billed = 0 // cash benefits ignore billed_amount
		} else {
			l.billed = g.amount(r, pr, nights, l.currency)
		}
		if l.diag < 0 && g.modules[l.benefit] == claim.Dental && r.permille(100) {
			l.diag = int16(poolDental.from + r.n(poolDental.to-poolDental.from))
		}
		g.buf = append(g.buf, l)
	}
	// Received 0-60 days after the service date, after discharge for stays;
	// about 1 % leave the column empty (it defaults to the service date).
	received := date + receivedLag
	if receivedLag < maxNights {
		received = date + maxNights
	}
	if r.permille(10) {
		received = claim.NoDate
	}
	for i := start; i < len(g.buf); i++ {
		g.buf[i].received = received
	}
}

// duplicateService appends a one-line claim that repeats line i's service
// (same date, benefit, provider and amount) under a new claim id, received
// later (at most 60 days after the service, like every claim).
func (g *gen) duplicateService(r *rng, i int) {
	g.claimSeq++
	l := g.buf[i]
	l.claimSeq = g.claimSeq
	l.claimRand = r.u32()
	l.lineNo = 1
	rec := l.received
	if rec == claim.NoDate {
		rec = l.service
	}
	l.received = min(rec+1+claim.Date(r.n(30)), l.service+60)
	g.buf = append(g.buf, l)
}

// outOfArea returns a country that is neither the residence nor the origin,
// nor the USA when the member is covered there.
func (g *gen) outOfArea(r *rng, m *member) uint8 {
	for {
		c := uint8(r.n(len(countries)))
		if c == m.residence || c == m.origin {
			continue
		}
		if c == countryUS && (m.usCover == 'Y' || m.residence == countryUS) {
			continue
		}
		return c
	}
}

// pickBenefit draws a benefit for member m on date. With module > 0 it draws a
// companion line of that module. About 3 % of draws ignore the member's
// modules and age, so that PR-204 and PR-6 denials occur.
func (g *gen) pickBenefit(r *rng, m *member, date claim.Date, module claim.Module) int16 {
	if r.permille(30) {
		return g.anyBenefit.pick(r.u32())
	}
	age := m.dob.AgeOn(date)
	if age < 0 {
		age = 0
	}
	if age >= len(g.ageBucket) {
		age = len(g.ageBucket) - 1
	}
	bucket := int(g.ageBucket[age])
	var t *pickTable
	if module > 0 {
		t = &g.moduleTables[module][bucket]
	}
	if t == nil || t.empty() {
		t = &g.memberTables[m.modules>>1&7][bucket]
	}
	if t.empty() {
		return g.anyBenefit.pick(r.u32())
	}
	return t.pick(r.u32())
}

// amount draws a billed amount for a line of profile pr in currency cur.
func (g *gen) amount(r *rng, pr *profile, nights int, cur uint8) claim.Money {
	spread := pr.hi - pr.lo + 1
	a, b := r.n64(spread), r.n64(spread)
	if b < a {
		a = b
	}
	usdCents := pr.lo + a
	if pr.perNight {
		usdCents *= int64(nights)
	}
	ci := &g.currencies[cur]
	local := usdCents * 1_000_000 / ci.usdMicro
	if ci.whole || r.permille(400) {
		local -= local % 100
	}
	if local <= 0 {
		local = 100
	}
	return claim.Money(local)
}

// spoil makes lines g.buf[from:] bad with probability BadShare each, rotating
// through the bad kinds available for the output format.
func (g *gen) spoil(r *rng, from int, firstSlice bool) {
	for i := from; i < len(g.buf); i++ {
		if r.u64() >= g.badThreshold {
			continue
		}
		for tries := 0; tries < len(g.badKinds); tries++ {
			kind := g.badKinds[g.badRotation%len(g.badKinds)]
			g.badRotation++
			switch kind {
			case badRepeat:
				if i == from || g.buf[i-1].bad != badNone {
					continue
				}
				g.buf[i] = g.buf[i-1]
			case badMember:
				if !firstSlice {
					continue
				}
			}
			g.buf[i].bad = kind
			g.buf[i].badArg = uint8(r.n(256))
			g.badRows++
			break
		}
	}
}
