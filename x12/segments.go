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

// segmentWriter builds the bytes of an interchange one segment at a time:
// begin, then its elements in order (str, amt, date8, comp, delim), then end,
// which drops trailing empty elements as X12 requires. Every value is
// checked with checkValue, so a delimiter in the data can never shift an
// element; the first invalid one stops the writer and err says which
// segment and element.
type segmentWriter struct {
	buf        []byte
	count      int  // segments written
	lineBreaks bool // a newline after every segment terminator
	err        error

	id      string
	element int // elements of the open segment so far
	lastEnd int // len(buf) after its last non-empty element
}

func (w *segmentWriter) begin(id string) {
	w.id = id
	w.element = 0
	w.buf = append(w.buf, id...)
	w.lastEnd = len(w.buf)
}

func (w *segmentWriter) next() {
	w.element++
	w.buf = append(w.buf, elementSep)
}

func (w *segmentWriter) check(v string) bool {
	if w.err != nil {
		return false
	}
	if err := checkValue(v); err != nil {
		w.err = fmt.Errorf("%s%02d: %w", w.id, w.element, err)
		return false
	}
	return true
}

// str appends a simple element.
func (w *segmentWriter) str(v string) {
	w.next()
	if v != "" && w.check(v) {
		w.buf = append(w.buf, v...)
		w.lastEnd = len(w.buf)
	}
}

// strs appends simple elements.
func (w *segmentWriter) strs(vs ...string) {
	for _, v := range vs {
		w.str(v)
	}
}

// amt appends an amount as an X12 decimal (see amount).
func (w *segmentWriter) amt(m claim.Money) {
	w.next()
	w.buf = appendAmount(w.buf, m)
	w.lastEnd = len(w.buf)
}

// date8 appends a date as CCYYMMDD.
func (w *segmentWriter) date8(d claim.Date) {
	w.next()
	y, m, day := d.Civil()
	w.buf = append(w.buf, byte('0'+y/1000%10), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10),
		byte('0'+m/10), byte('0'+m%10), byte('0'+day/10), byte('0'+day%10))
	w.lastEnd = len(w.buf)
}

// comp appends a composite of two components (the second may be empty).
func (w *segmentWriter) comp(a, b string) {
	w.next()
	if !w.check(a) || !w.check(b) {
		return
	}
	w.buf = append(w.buf, a...)
	if b != "" {
		w.buf = append(w.buf, componentSep)
		w.buf = append(w.buf, b...)
	}
	w.lastEnd = len(w.buf)
}

// delim appends an element that is a delimiter itself (ISA11, ISA16).
func (w *segmentWriter) delim(c byte) {
	w.next()
	w.buf = append(w.buf, c)
	w.lastEnd = len(w.buf)
}

func (w *segmentWriter) end() {
	w.buf = append(w.buf[:w.lastEnd], segmentTerm)
	if w.lineBreaks {
		w.buf = append(w.buf, '\n')
	}
	w.count++
}

// segment writes a whole segment of simple elements.
func (w *segmentWriter) segment(id string, elements ...string) {
	w.begin(id)
	w.strs(elements...)
	w.end()
}

// appendAmount appends m as an X12 decimal (type R): no trailing zeros
// after the point, no point for a whole amount: 375.00 is "375", 20.10 is
// "20.1".
func appendAmount(b []byte, m claim.Money) []byte {
	b = m.AppendTo(b)
	n := len(b)
	if b[n-1] == '0' {
		n--
		if b[n-1] == '0' {
			n -= 2 // and the point
		}
	}
	return b[:n]
}

// amount is appendAmount as a string.
func amount(m claim.Money) string { return string(appendAmount(nil, m)) }

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
