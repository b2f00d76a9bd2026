package synth

import "claimsbatch/claim"

// Append helpers for the text forms of generated values; none allocates.

// appendPadded appends n in decimal, zero-padded to width digits.
func appendPadded(b []byte, n int64, width int) []byte {
	var tmp [20]byte
	i := len(tmp)
	for n > 0 || i == len(tmp) {
		i--
		tmp[i] = byte('0' + n%10)
		n /= 10
	}
	for pad := width - (len(tmp) - i); pad > 0; pad-- {
		b = append(b, '0')
	}
	return append(b, tmp[i:]...)
}

func (g *gen) appendMemberID(b []byte, num int64) []byte {
	return appendPadded(append(b, 'M'), num, g.memberWidth)
}

// appendUnknownMemberID appends an id no member has: the previous member's id
// with one digit too many. It sorts between the two members' ids, so sorted
// output stays sorted.
func (g *gen) appendUnknownMemberID(b []byte, num int64) []byte {
	return append(g.appendMemberID(b, num-1), '9')
}

func (g *gen) appendClaimID(b []byte, n int64) []byte {
	return appendPadded(append(b, 'C'), n, g.claimWidth)
}

func (g *gen) appendPolicyID(b []byte, num int64, spanNo int) []byte {
	b = appendPadded(append(b, "POL"...), num, g.memberWidth)
	return append(b, '-', byte('0'+spanNo))
}

func appendProviderID(b []byte, p int32) []byte {
	return appendPadded(append(b, 'P'), int64(p), 6)
}

func (g *gen) appendTripID(b []byte, l *line) []byte {
	b = appendPadded(append(b, 'T'), l.member, g.memberWidth)
	return appendPadded(b, int64(l.trip-1), 3)
}

// appendPercent appends basis points as a percentage: 2000 -> "20", 1250 -> "12.5".
func appendPercent(b []byte, bp int64) []byte {
	b = appendPadded(b, bp/100, 1)
	if frac := bp % 100; frac != 0 {
		b = append(b, '.', byte('0'+frac/10))
		if frac%10 != 0 {
			b = append(b, byte('0'+frac%10))
		}
	}
	return b
}

// appendRate appends a rate held in millionths with up to 6 decimals,
// trailing zeros dropped: 1084500 -> "1.0845".
func appendRate(b []byte, micro int64) []byte {
	b = appendPadded(b, micro/1_000_000, 1)
	frac := micro % 1_000_000
	if frac == 0 {
		return b
	}
	var d [6]byte
	for i := 5; i >= 0; i-- {
		d[i] = byte('0' + frac%10)
		frac /= 10
	}
	n := 6
	for d[n-1] == '0' {
		n--
	}
	b = append(b, '.')
	return append(b, d[:n]...)
}

// appendBadDate appends a date that does not parse as YYYY-MM-DD, in one of
// four forms people and systems really produce.
func appendBadDate(b []byte, d claim.Date, variant uint8) []byte {
	y, m, day := d.Civil()
	two := func(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }
	switch variant % 4 {
	case 0: // day 32 of the month
		b = appendPadded(b, int64(y), 4)
		b = two(append(b, '-'), m)
		return append(b, "-32"...)
	case 1:
		b = appendPadded(b, int64(y), 4)
		b = two(append(b, '/'), m)
		return two(append(b, '/'), day)
	case 2:
		b = two(b, day)
		b = two(append(b, '.'), m)
		return appendPadded(append(b, '.'), int64(y), 4)
	default:
		b = appendPadded(b, int64(y), 4)
		return two(two(b, m), day)
	}
}

// Every date the generator writes on a valid row lies in this range; their
// text is computed once, because formatting three dates a line through
// Date.Civil was a tenth of the CSV writer's time.
var (
	dateTableFirst = claim.FromCivil(1930, 1, 1)
	dateTableLast  = claim.FromCivil(2029, 12, 31)
	dateTable      = func() []byte {
		t := make([]byte, 0, 10*int(dateTableLast-dateTableFirst+1))
		for d := dateTableFirst; d <= dateTableLast; d++ {
			t = d.AppendTo(t)
		}
		return t
	}()
)

// appendDate appends d as YYYY-MM-DD, nothing for claim.NoDate.
func appendDate(b []byte, d claim.Date) []byte {
	if d >= dateTableFirst && d <= dateTableLast {
		i := 10 * int(d-dateTableFirst)
		return append(b, dateTable[i:i+10]...)
	}
	return d.AppendTo(b)
}
