package importer

import (
	"fmt"
	"strings"
	"time"

	"claimsbatch/claim"
)

// dateFormat reads dates written one way. The forms a profile may name:
//
//   - ISO: YYYY-MM-DD, optionally followed by a time ("2014-10-01T12:33:09Z",
//     "2014-10-01 12:33"); the date is taken as written, in the timestamp's
//     own zone, never converted.
//   - a pattern of YYYY, MM, DD (two digits each), M, D (one or two digits)
//     and literal characters: YYYYMMDD, DD/MM/YYYY, M/D/YYYY, YYYY (a year
//     alone reads as 1 January) ...
//   - a Go reference layout (it holds "2006"): 20060102, 02.01.2006,
//     2006-01-02T15:04:05Z07:00 ...
type dateFormat struct {
	name   string
	iso    bool
	layout string   // Go layout, when set
	tokens []string // pattern: "YYYY", "MM", "DD", "M", "D" or a literal
}

func parseDateFormat(s string) (*dateFormat, error) {
	f := &dateFormat{name: s}
	switch {
	case strings.EqualFold(s, "ISO"):
		f.iso = true
		return f, nil
	case strings.Contains(s, "2006"):
		f.layout = s
		return f, nil
	}
	hasY := false
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "YYYY"):
			f.tokens = append(f.tokens, "YYYY")
			hasY = true
			i += 4
		case strings.HasPrefix(s[i:], "MM"), strings.HasPrefix(s[i:], "DD"):
			f.tokens = append(f.tokens, s[i:i+2])
			i += 2
		case s[i] == 'M' || s[i] == 'D':
			f.tokens = append(f.tokens, s[i:i+1])
			i++
		case s[i] == 'Y':
			return nil, fmt.Errorf("date format %q: years are written YYYY (four digits)", s)
		default:
			f.tokens = append(f.tokens, s[i:i+1])
			i++
		}
	}
	if !hasY {
		return nil, fmt.Errorf("date format %q has no YYYY (want e.g. ISO, YYYYMMDD, DD/MM/YYYY or a Go layout such as 20060102)", s)
	}
	return f, nil
}

// parse reads s; false when s is not a date in the format.
func (f *dateFormat) parse(s string) (claim.Date, bool) {
	switch {
	case f.iso:
		if len(s) > 10 && (s[10] == 'T' || s[10] == 't' || s[10] == ' ') {
			s = s[:10]
		}
		d, err := claim.ParseDate(s)
		return d, err == nil
	case f.layout != "":
		t, err := time.Parse(f.layout, s)
		if err != nil {
			return 0, false
		}
		return claim.DateOf(t), true
	}
	y, m, d := 0, 1, 1
	i := 0
	for _, tok := range f.tokens {
		var n, width int
		var ok bool
		switch tok {
		case "YYYY":
			n, width, ok = digits(s[i:], 4, 4)
			y = n
		case "MM", "DD":
			n, width, ok = digits(s[i:], 2, 2)
		case "M", "D":
			n, width, ok = digits(s[i:], 1, 2)
		default:
			ok = strings.HasPrefix(s[i:], tok)
			width = len(tok)
		}
		if !ok {
			return 0, false
		}
		switch tok[0] {
		case 'M':
			m = n
		case 'D':
			d = n
		}
		i += width
	}
	if i != len(s) || y < 1 || m < 1 || m > 12 || d < 1 {
		return 0, false
	}
	// FromCivil would roll 31 April over to 1 May; a real day is required.
	date := claim.FromCivil(y, m, d)
	if yy, mm, dd := date.Civil(); yy != y || mm != m || dd != d {
		return 0, false
	}
	return date, true
}

// digits reads between lo and hi decimal digits at the start of s.
func digits(s string, lo, hi int) (n, width int, ok bool) {
	for width < hi && width < len(s) && s[width] >= '0' && s[width] <= '9' {
		n = n*10 + int(s[width]-'0')
		width++
	}
	return n, width, width >= lo
}
