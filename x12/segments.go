package x12

import (
	"fmt"
	"strings"

	"claimsbatch/claim"
)

// The delimiters of the 835s this package writes. Check detects whatever a
// file's ISA segment declares.
const (
	elementSep    = '*'
	componentSep  = ':'
	repetitionSep = '^'
	segmentTerm   = '~'
)

// checkValue reports why s cannot be an element value of an 835 we write:
// X12 carries printable ASCII only, and a delimiter inside a value would
// split it.
func checkValue(s string) error {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == elementSep, c == componentSep, c == repetitionSep, c == segmentTerm:
			return fmt.Errorf("%q contains %q, an X12 delimiter", s, c)
		case c < 0x20 || c > 0x7e:
			return fmt.Errorf("%q contains a character X12 cannot carry (printable ASCII only)", s)
		}
	}
	return nil
}

// segmentWriter builds the bytes of an interchange one segment at a time.
// The first invalid value stops it: err says which segment and element.
type segmentWriter struct {
	buf        []byte
	count      int  // segments written
	lineBreaks bool // a newline after every segment terminator
	err        error
}

// comp is a composite element: its components are joined with the
// component separator.
type comp []string

// delimiter is an element that holds a delimiter itself (ISA11, ISA16),
// written as is.
type delimiter byte

// segment appends id and its elements, dropping trailing empty ones as X12
// requires. An element is a string, a comp or a delimiter; every value is checked with
// checkValue, so a delimiter in the data can never shift an element.
func (w *segmentWriter) segment(id string, elements ...any) {
	if w.err != nil {
		return
	}
	vals := make([]string, len(elements))
	for i, e := range elements {
		var parts []string
		switch e := e.(type) {
		case delimiter:
			vals[i] = string(rune(e))
			continue
		case string:
			parts = []string{e}
		case comp:
			parts = e
			for len(parts) > 1 && parts[len(parts)-1] == "" {
				parts = parts[:len(parts)-1]
			}
		default:
			panic(fmt.Sprintf("x12: element of type %T", e)) // a programming error
		}
		for _, p := range parts {
			if err := checkValue(p); err != nil {
				w.err = fmt.Errorf("%s%02d: %w", id, i+1, err)
				return
			}
		}
		vals[i] = strings.Join(parts, string(componentSep))
	}
	last := len(vals)
	for last > 0 && vals[last-1] == "" {
		last--
	}
	w.buf = append(w.buf, id...)
	for _, v := range vals[:last] {
		w.buf = append(w.buf, elementSep)
		w.buf = append(w.buf, v...)
	}
	w.buf = append(w.buf, segmentTerm)
	if w.lineBreaks {
		w.buf = append(w.buf, '\n')
	}
	w.count++
}

// amount formats m as an X12 decimal (type R): no trailing zeros after the
// point, no point for a whole amount: 375.00 is "375", 20.10 is "20.1".
func amount(m claim.Money) string {
	s := m.String()
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// date8 is CCYYMMDD.
func date8(d claim.Date) string {
	y, m, day := d.Civil()
	return fmt.Sprintf("%04d%02d%02d", y, m, day)
}

// date6 is YYMMDD (ISA09).
func date6(d claim.Date) string { return date8(d)[2:] }

// pad right-pads s with spaces to n characters (the fixed-width ISA fields).
func pad(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return s + strings.Repeat(" ", n-len(s))
}
