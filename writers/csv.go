package writers

import (
	"encoding/binary"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"claimsbatch/claim"
)

// csvBlockSize is how much the encoder collects before it writes to its
// io.Writer: rows are formatted straight into one block buffer, so the file
// gets few, large writes and each row is copied once.
const csvBlockSize = 256 << 10

// csvEncoder formats each row into a reused block buffer with append-style
// formatting (strconv.Append*, claim's AppendTo) and writes the block to
// its io.Writer when it holds csvBlockSize bytes: no allocation per row
// once the buffer has its size. The output is byte-for-byte what
// encoding/csv.Writer writes with its defaults (Comma ',', UseCRLF false).
type csvEncoder struct {
	w     io.Writer
	buf   []byte
	dates dateCache
	err   error // first write error; every later write returns it
}

func newCSVEncoder(w io.Writer, schema []colSpec) *csvEncoder {
	e := &csvEncoder{w: w, buf: make([]byte, 0, csvBlockSize+csvBlockSize/4)}
	for _, f := range schema {
		e.str(f.name)
	}
	// Nothing is written yet: the header goes out with the first block.
	_ = e.endRow()
	return e
}

// Every value is followed by a comma; endRow turns the row's last one
// into the line end.

func (e *csvEncoder) str(s string) {
	e.buf = append(appendCSVField(e.buf, s), ',')
}

func (e *csvEncoder) strBytes(b []byte) {
	if csvNeedsQuotesBytes(b) {
		e.buf = append(appendCSVField(e.buf, string(b)), ',')
		return
	}
	e.buf = append(append(e.buf, b...), ',')
}

func (e *csvEncoder) code(s string) {
	e.buf = append(append(e.buf, s...), ',')
}

// adjustments never needs quoting: reason codes, colons, amounts and
// spaces between them, beginning with a reason code.
func (e *csvEncoder) adjustments(a *claim.Adjustments) {
	e.buf = append(appendAdjustments(e.buf, a), ',')
}

func (e *csvEncoder) date(d claim.Date) {
	e.buf = append(e.dates.appendDate(e.buf, d), ',')
}

func (e *csvEncoder) money(m claim.Money) {
	e.buf = append(appendMoney(e.buf, m), ',')
}

// rate writes a decimal as its text, as written in the input.
func (e *csvEncoder) rate(s string) { e.str(s) }

func (e *csvEncoder) integer(n int64) {
	e.buf = append(strconv.AppendInt(e.buf, n, 10), ',')
}

func (e *csvEncoder) endRow() error {
	if n := len(e.buf); n > 0 && e.buf[n-1] == ',' {
		e.buf[n-1] = '\n'
	} else {
		e.buf = append(e.buf, '\n') // a row of no columns
	}
	if len(e.buf) >= csvBlockSize && e.w != nil {
		return e.flush()
	}
	return e.err
}

// writeEncoded writes rows another csvEncoder (one without a writer)
// encoded: the buffered rows first, so the order holds.
func (e *csvEncoder) writeEncoded(rows []byte) error {
	if err := e.flush(); err != nil {
		return err
	}
	_, e.err = e.w.Write(rows)
	return e.err
}

// flush writes the block buffer.
func (e *csvEncoder) flush() error {
	if e.err != nil {
		return e.err
	}
	if len(e.buf) > 0 {
		_, e.err = e.w.Write(e.buf)
	}
	e.buf = e.buf[:0]
	return e.err
}

func (e *csvEncoder) close(failed bool) error {
	if failed {
		return nil
	}
	return e.flush()
}

// appendAdjustments appends a as claim.Adjustments.AppendTo does, its
// amounts formatted by appendMoney.
func appendAdjustments(b []byte, a *claim.Adjustments) []byte { return a.AppendWith(b, appendMoney) }

// appendMoney appends m as claim.Money.AppendTo does ("1200.00", "-0.05"),
// two digits at a time, without the general integer formatting, straight
// into b's room (a remittance row has seven amounts: a copy of each from a
// scratch buffer was a runtime call each).
func appendMoney(b []byte, m claim.Money) []byte {
	v := int64(m)
	sign := 0
	if v < 0 {
		if v == math.MinInt64 {
			return m.AppendTo(b)
		}
		sign, v = 1, -v
	}
	units, cents := uint64(v/100), uint64(v%100)
	digits := 1
	for digits < len(pow10) && units >= pow10[digits] {
		digits++
	}
	at := len(b)
	b = slices.Grow(b, sign+digits+3)[:at+sign+digits+3]
	d := b[at+sign:]
	if sign == 1 {
		b[at] = '-'
	}
	d[digits], d[digits+1], d[digits+2] = '.', digitPairs[2*cents], digitPairs[2*cents+1]
	i := digits
	for units >= 100 {
		q := units / 100
		r := units - q*100
		i -= 2
		d[i], d[i+1] = digitPairs[2*r], digitPairs[2*r+1]
		units = q
	}
	if units >= 10 {
		d[i-2], d[i-1] = digitPairs[2*units], digitPairs[2*units+1]
	} else {
		d[i-1] = byte('0' + units)
	}
	return b
}

// pow10[k] is 10^k: a number below pow10[k] has at most k digits.
var pow10 = [...]uint64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// dateCache remembers the text of recently formatted dates: a table's dates
// cluster on a few hundred days (service dates of a run, policy years), and
// a cached date is a 10-byte copy instead of a calendar computation.
type dateCache struct {
	slot [1024]struct {
		d    claim.Date
		ok   bool
		text [10]byte
	}
}

// appendDate appends d as claim.Date.AppendTo does (YYYY-MM-DD, nothing for
// NoDate and OpenEnd).
func (c *dateCache) appendDate(b []byte, d claim.Date) []byte {
	if d == claim.NoDate || d == claim.OpenEnd {
		return b
	}
	s := &c.slot[uint32(d)%uint32(len(c.slot))]
	if !s.ok || s.d != d {
		t := d.AppendTo(s.text[:0])
		if len(t) != len(s.text) { // a year beyond 9999: not cached
			return append(b, t...)
		}
		s.d, s.ok = d, true
	}
	return append(b, s.text[:]...)
}

// appendCSVField appends s as encoding/csv.Writer writes a field: verbatim
// unless csvNeedsQuotes, else in double quotes with each quote doubled. Like
// encoding/csv without UseCRLF, \r and \n inside quotes are kept as they are.
//
// The common field (no leading space, no special byte) is checked and
// copied in one pass, eight bytes at a time, straight into b's room: the
// check and then a copy read it twice and made a runtime call a field.
func appendCSVField(b []byte, s string) []byte {
	n := len(s)
	if n == 0 {
		return b
	}
	if c := s[0]; c >= utf8.RuneSelf || asciiSpace(c) || c == '\\' {
		if csvNeedsQuotes(s) {
			return appendQuoted(b, s)
		}
		return append(b, s...)
	}
	le := binary.LittleEndian
	at := len(b)
	b = slices.Grow(b, n+8) // room for a last 8-byte store past the field
	dst := b[at : at+n+8]
	src := unsafe.Slice(unsafe.StringData(s), n)
	i := 0
	for ; i+8 <= n; i += 8 {
		w := le.Uint64(src[i:])
		if mayHoldCSVSpecial(w) && anyCSVSpecial(src[i:i+8]) {
			return appendQuoted(b[:at], s)
		}
		le.PutUint64(dst[i:], w)
	}
	for ; i < n; i++ {
		c := src[i]
		if csvSpecial[c] {
			return appendQuoted(b[:at], s)
		}
		dst[i] = c
	}
	return b[:at+n]
}

// appendQuoted appends s in double quotes with each quote doubled.
func appendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			break
		}
		b = append(b, s[:i+1]...) // through the quote, then one more
		b = append(b, '"')
		s = s[i+1:]
	}
	b = append(b, s...)
	return append(b, '"')
}

// csvSpecial marks the bytes that make encoding/csv quote a field.
var csvSpecial = [256]bool{',': true, '"': true, '\r': true, '\n': true}

// csvNeedsQuotes reports whether encoding/csv.Writer (Comma ',') would quote
// field s: it holds a comma, a quote, \r or \n, starts with a Unicode space,
// or is `\.` (which some databases read as end of data).
func csvNeedsQuotes(s string) bool {
	if s == "" {
		return false
	}
	if s[0] < utf8.RuneSelf {
		if asciiSpace(s[0]) || s == `\.` {
			return true
		}
	} else if r, _ := utf8.DecodeRuneInString(s); unicode.IsSpace(r) {
		return true
	}
	return hasCSVSpecial(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// csvNeedsQuotesBytes is csvNeedsQuotes for a []byte, without converting it.
func csvNeedsQuotesBytes(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	if b[0] < utf8.RuneSelf {
		if asciiSpace(b[0]) || (len(b) == 2 && b[0] == '\\' && b[1] == '.') {
			return true
		}
	} else if r, _ := utf8.DecodeRune(b); unicode.IsSpace(r) {
		return true
	}
	return hasCSVSpecial(b)
}

// hasCSVSpecial reports whether b holds a byte of csvSpecial. It tests
// eight bytes at a time (mayHoldCSVSpecial), and looks byte by byte only
// at a word that may hold one: most fields of a remittance are decided in
// one or two steps instead of one a byte (measured: the byte loop was 4 %
// of a CSV run's CPU).
func hasCSVSpecial(b []byte) bool {
	for len(b) >= 8 {
		if mayHoldCSVSpecial(binary.LittleEndian.Uint64(b)) && anyCSVSpecial(b[:8]) {
			return true
		}
		b = b[8:]
	}
	return anyCSVSpecial(b)
}

// mayHoldCSVSpecial reports whether a word of eight bytes has a byte below
// ',' + 1 (bytes of 0x80 and up excluded by &^ w): all four special bytes
// are; identifiers, codes, amounts and rates have none.
func mayHoldCSVSpecial(w uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	return (w-ones*(','+1))&^w&highs != 0
}

// anyCSVSpecial is hasCSVSpecial a byte at a time, for a word that may hold
// one and for the bytes after the last whole word.
func anyCSVSpecial(b []byte) bool {
	for _, c := range b {
		if csvSpecial[c] {
			return true
		}
	}
	return false
}

func asciiSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return false
}
