package writers

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"claimsbatch/claim"
)

// csvBufferSize is the bufio size between the encoder and its io.Writer; the
// remittance file has millions of rows, so writes to the file are few and big.
const csvBufferSize = 256 << 10

// csvEncoder formats each row into a reused byte slice with append-style
// formatting and writes it to a bufio.Writer: no allocation per row once the
// slice has grown to the longest row. The output is byte-for-byte what
// encoding/csv.Writer writes with its defaults (Comma ',', UseCRLF false).
type csvEncoder struct {
	bw  *bufio.Writer
	row []byte
	col int
}

func newCSVEncoder(w io.Writer, schema []colSpec) *csvEncoder {
	e := &csvEncoder{bw: bufio.NewWriterSize(w, csvBufferSize), row: make([]byte, 0, 512)}
	for _, f := range schema {
		e.str(f.name)
	}
	// An error here is kept by the bufio.Writer and returned by the next
	// write or flush.
	_ = e.endRow()
	return e
}

func (e *csvEncoder) sep() {
	if e.col > 0 {
		e.row = append(e.row, ',')
	}
	e.col++
}

func (e *csvEncoder) str(s string) {
	e.sep()
	e.row = appendCSVField(e.row, s)
}

func (e *csvEncoder) strBytes(b []byte) {
	e.sep()
	if csvNeedsQuotesBytes(b) {
		e.row = appendCSVField(e.row, string(b))
		return
	}
	e.row = append(e.row, b...)
}

func (e *csvEncoder) date(d claim.Date) {
	e.sep()
	e.row = d.AppendTo(e.row)
}

func (e *csvEncoder) money(m claim.Money) {
	e.sep()
	e.row = m.AppendTo(e.row)
}

func (e *csvEncoder) integer(n int64) {
	e.sep()
	e.row = strconv.AppendInt(e.row, n, 10)
}

func (e *csvEncoder) endRow() error {
	e.row = append(e.row, '\n')
	_, err := e.bw.Write(e.row)
	e.row = e.row[:0]
	e.col = 0
	return err
}

func (e *csvEncoder) close(failed bool) error {
	if failed {
		return nil
	}
	return e.bw.Flush()
}

// appendCSVField appends s as encoding/csv.Writer writes a field: verbatim
// unless csvNeedsQuotes, else in double quotes with each quote doubled. Like
// encoding/csv without UseCRLF, \r and \n inside quotes are kept as they are.
func appendCSVField(b []byte, s string) []byte {
	if !csvNeedsQuotes(s) {
		return append(b, s...)
	}
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

// csvNeedsQuotes reports whether encoding/csv.Writer (Comma ',') would quote
// field s: it holds a comma, a quote, \r or \n, starts with a Unicode space,
// or is `\.` (which some databases read as end of data).
func csvNeedsQuotes(s string) bool {
	if s == "" {
		return false
	}
	if s == `\.` {
		return true
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ',', '"', '\r', '\n':
			return true
		}
	}
	if s[0] < utf8.RuneSelf {
		return asciiSpace(s[0])
	}
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsSpace(r)
}

// csvNeedsQuotesBytes is csvNeedsQuotes for a []byte, without converting it.
func csvNeedsQuotesBytes(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	if len(b) == 2 && b[0] == '\\' && b[1] == '.' {
		return true
	}
	for _, c := range b {
		switch c {
		case ',', '"', '\r', '\n':
			return true
		}
	}
	if b[0] < utf8.RuneSelf {
		return asciiSpace(b[0])
	}
	r, _ := utf8.DecodeRune(b)
	return unicode.IsSpace(r)
}

func asciiSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return false
}
