package claim

import (
	"errors"
	"time"
)

// Date is a calendar date as days since 1970-01-01 (the encoding of Arrow's and
// Parquet's DATE type). The zero value is 1970-01-01; NoDate marks "not given"
// and OpenEnd an open-ended coverage span.
type Date int32

const (
	// NoDate marks an absent date (an empty optional column).
	NoDate Date = -1 << 31
	// OpenEnd is the coverage_end of a span that has no end.
	OpenEnd Date = 1<<31 - 1

	// FirstDate and LastDate bound every date an input may hold (SPEC
	// section 7, version 2): 1900-01-01 and 2199-12-31. A date outside is
	// INVALID_VALUE: year 0001 or 9999 is a typo or a placeholder, never a
	// service, a birth or a rate.
	FirstDate Date = -25567
	LastDate  Date = 84005
)

// InRange reports whether d lies within FirstDate..LastDate.
func (d Date) InRange() bool { return FirstDate <= d && d <= LastDate }

// ErrDate is returned by ParseDate for anything that is not a valid YYYY-MM-DD.
var ErrDate = errors.New("claim: not a valid YYYY-MM-DD date")

// ParseDate parses a strict ISO date, YYYY-MM-DD, with a real day of the month.
func ParseDate(s string) (Date, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, ErrDate
	}
	y, ok1 := atoiFixed(s[0:4])
	m, ok2 := atoiFixed(s[5:7])
	d, ok3 := atoiFixed(s[8:10])
	if !ok1 || !ok2 || !ok3 || y < 1 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, ErrDate
	}
	return FromCivil(y, m, d), nil
}

func atoiFixed(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(y, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// FromCivil returns the Date of year y, month m (1-12), day d. It does not
// normalise out-of-range days; callers pass valid dates.
func FromCivil(y, m, d int) Date {
	// Howard Hinnant's days_from_civil.
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return Date(era*146097 + doe - 719468)
}

// Civil returns the year, month (1-12) and day of d.
func (d Date) Civil() (year, month, day int) {
	z := int(d) + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	day = doy - (153*mp+2)/5 + 1
	month = mp + 3
	if month > 12 {
		month -= 12
	}
	if month <= 2 {
		y++
	}
	return y, month, day
}

// AddMonths returns the date n months after d, clamped to the last day of the
// target month (31 Jan + 1 month = 28 or 29 Feb; 29 Feb + 12 months = 28 Feb).
func (d Date) AddMonths(n int) Date {
	y, m, day := d.Civil()
	total := y*12 + (m - 1) + n
	ty, tm := total/12, total%12+1
	if dim := daysIn(ty, tm); day > dim {
		day = dim
	}
	return FromCivil(ty, tm, day)
}

// AddYears is AddMonths(12 × n): a 29 February moves to 28 February in a
// year that has none.
func (d Date) AddYears(n int) Date { return d.AddMonths(12 * n) }

// AgeOn returns the age in whole years on day `on` of someone born on d. A
// birthday on 29 February is reached on 1 March in common years.
func (d Date) AgeOn(on Date) int {
	by, bm, bd := d.Civil()
	y, m, day := on.Civil()
	age := y - by
	if m < bm || (m == bm && day < bd) {
		age--
	}
	return age
}

// String formats d as YYYY-MM-DD; NoDate and OpenEnd format as "".
func (d Date) String() string {
	if d == NoDate || d == OpenEnd {
		return ""
	}
	var buf [10]byte
	return string(d.AppendTo(buf[:0]))
}

// AppendTo appends the YYYY-MM-DD form of d to b (nothing for NoDate and OpenEnd).
func (d Date) AppendTo(b []byte) []byte {
	if d == NoDate || d == OpenEnd {
		return b
	}
	y, m, day := d.Civil()
	return append(b,
		byte('0'+y/1000%10), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-',
		byte('0'+day/10), byte('0'+day%10))
}

// Time returns midnight UTC of d, for interop with libraries that want time.Time.
func (d Date) Time() time.Time {
	return time.Unix(int64(d)*86400, 0).UTC()
}

// DateOf returns the Date of t's calendar day in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return FromCivil(y, int(m), d)
}
