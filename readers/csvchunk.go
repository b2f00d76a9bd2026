package readers

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/csv"
	"fmt"
	"math/bits"
	"unicode/utf8"
	"unsafe"
)

// csvParser reads the records of a chunk of a CSV file exactly as
// encoding/csv's Reader reads them (Comma ',', LazyQuotes off,
// FieldsPerRecord -1, no comments): the same fields, the same blank lines
// skipped, \r\n read as \n, and the same *csv.ParseError, its lines counted
// from the start of the file. A record on one line without quotes (nearly
// all of them) is split at its commas; any other goes through a port of
// encoding/csv's readRecord. Fields are slices of the chunk, except quoted
// ones with "" or line breaks in them, which are copied.
type csvParser struct {
	data    []byte
	pos     int // start of the next line
	numLine int // lines read, as encoding/csv counts them
	fields  []string
	buf     []byte // a quoted field being unescaped
}

func (p *csvParser) reset(data []byte, lineBase int) {
	p.data, p.pos, p.numLine = data, 0, lineBase
}

// bytesString returns b as a string sharing b's memory.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// readLine returns the next line's content without its line end (\n, \r\n,
// or a \r at the end of the input, which encoding/csv drops), whether a \n
// ended it, and false at the end of the data. Like encoding/csv, it counts a
// line even at the end of the data.
func (p *csvParser) readLine() (start, end int, nl, ok bool) {
	p.numLine++
	if p.pos >= len(p.data) {
		return p.pos, p.pos, false, false
	}
	start = p.pos
	i := bytes.IndexByte(p.data[start:], '\n')
	if i < 0 {
		end = len(p.data)
		p.pos = end
	} else {
		end = start + i
		p.pos = end + 1
		nl = true
	}
	if end > start && p.data[end-1] == '\r' {
		end--
	}
	return start, end, nl, true
}

// next reads the next record. ok is false at the end of the data.
func (p *csvParser) next() (fields []string, perr *csv.ParseError, ok bool) {
	for {
		start, end, nl, ok := p.readLine()
		if !ok {
			return nil, nil, false
		}
		if end == start {
			continue // a blank line
		}
		line := p.data[start:end]
		if bytes.IndexByte(line, '"') >= 0 {
			fields, perr = p.quoted(start, end, nl)
			return fields, perr, true
		}
		p.fields = splitCommas(p.fields[:0], line)
		return p.fields, nil, true
	}
}

// quoted reads a record whose first line, data[i:end], holds a quote:
// encoding/csv's readRecord, on positions in the chunk.
func (p *csvParser) quoted(i, end int, nl bool) ([]string, *csv.ParseError) {
	d := p.data
	recLine := p.numLine
	line, col := p.numLine, 1 // position of the next byte, for errors
	fields := p.fields[:0]
	defer func() { p.fields = fields }()
	for {
		if i == end || d[i] != '"' {
			// An unquoted field: up to the next comma or the line end.
			stop := end
			if c := bytes.IndexByte(d[i:end], ','); c >= 0 {
				stop = i + c
			}
			if q := bytes.IndexByte(d[i:stop], '"'); q >= 0 {
				return fields, &csv.ParseError{StartLine: recLine, Line: p.numLine, Column: col + q, Err: csv.ErrBareQuote}
			}
			fields = append(fields, bytesString(d[i:stop]))
			if stop == end {
				return fields, nil
			}
			col += stop + 1 - i
			i = stop + 1
			continue
		}
		// A quoted field. While it is one piece of the line it stays a
		// slice of the chunk; "" or a line break make it a copy.
		i++
		col++
		from, copied := i, false
		p.buf = p.buf[:0]
		field := func(upTo int) string {
			if copied {
				return string(p.buf)
			}
			return bytesString(d[from:upTo])
		}
		for {
			q := bytes.IndexByte(d[i:end], '"')
			switch {
			case q >= 0:
				if copied {
					p.buf = append(p.buf, d[i:i+q]...)
				}
				closing := i + q
				i = closing + 1
				col += q + 1
				switch {
				case i < end && d[i] == '"': // "" is a quote
					if !copied {
						p.buf = append(p.buf, d[from:closing]...)
						copied = true
					}
					p.buf = append(p.buf, '"')
					i++
					col++
					continue
				case i < end && d[i] == ',': // the field ends
					fields = append(fields, field(closing))
					i++
					col++
				case i == end: // the field and the record end
					fields = append(fields, field(closing))
					return fields, nil
				default:
					return fields, &csv.ParseError{StartLine: recLine, Line: p.numLine, Column: col - 1, Err: csv.ErrQuote}
				}
			case i < end || nl:
				// The line ends inside the quotes: the line end is part of
				// the field, which goes on on the next line.
				if !copied {
					p.buf = append(p.buf, d[from:i]...)
					copied = true
				}
				p.buf = append(p.buf, d[i:end]...)
				col += end - i
				if nl {
					p.buf = append(p.buf, '\n')
					col++
				}
				var more bool
				i, end, nl, more = p.readLine()
				if more && (end > i || nl) {
					line++
					col = 1
				}
				continue
			default:
				// The input ends inside the quotes.
				return fields, &csv.ParseError{StartLine: recLine, Line: line, Column: col, Err: csv.ErrQuote}
			}
			break
		}
	}
}

// parseChunk parses, checks and sends the rows of chunk c, in batches of
// at most Options.BatchSize rows, numbered from the chunk's start.
func (r *ClaimsReader) parseChunk(ctx context.Context, w *worker, c *chunk, u *unit) {
	c.refs.Add(1)
	defer c.release()
	in := r.csv
	p := &w.csv
	p.reset(c.data, c.lineBase)
	rp := &w.p
	// Most chunks are ASCII: then no record needs its own UTF-8 check.
	ascii := isASCII(c.data)
	var rel int64 // rows of the chunk so far
	b := r.newChunkBatch(c, 1, 0)
	for {
		start := p.pos
		fields, perr, ok := p.next()
		if !ok {
			break
		}
		rel++
		text := c.data[start:p.pos]
		body := skipBlankLines(text)
		prob, err := chunkRecord(text, body, fields, perr, in.header, in.maxRow, ascii)
		if err != nil {
			if b.NumRows > 0 {
				r.send(ctx, u, unitItem{b: b})
			}
			r.send(ctx, u, unitItem{row: rel, err: err})
			return
		}
		if prob == (problem{}) {
			prob = rp.t.sizeProblem(fields)
		}
		rp.t.rows = rel
		raw := recordRaw(body)
		if b.add(rp, fields, prob, bytesString(raw)) {
			s := int32(start + (len(text) - len(body)))
			b.origins = append(b.origins, origin{lineNo: rp.t.field(fields, cLineNo), start: s, end: s + int32(len(raw))})
		}
		if b.NumRows == r.opt.BatchSize {
			if !r.send(ctx, u, unitItem{b: b}) {
				return
			}
			b = r.newChunkBatch(c, rel+1, p.pos)
		}
	}
	if b.NumRows > 0 {
		r.send(ctx, u, unitItem{b: b})
	} else {
		b.Release()
	}
}

// newChunkBatch returns a batch of chunk c's rows from row rel (counted
// from the chunk's start) on, which starts at byte at of the chunk.
func (r *ClaimsReader) newChunkBatch(c *chunk, rel int64, at int) *Batch {
	b := r.newBatch(rel)
	c.refs.Add(1)
	b.chunk = c
	b.Offset = c.offset + int64(at)
	return b
}

// splitCommas appends the comma-separated fields of line to fields, as
// slices of line. It looks at 8 bytes at a time: fields are short, and one
// bytes.IndexByte call per field cost more than the scan.
func splitCommas(fields []string, line []byte) []string {
	const low7, commas = 0x7f7f7f7f7f7f7f7f, ',' * 0x0101010101010101
	start, i := 0, 0
	for ; i+8 <= len(line); i += 8 {
		w := binary.LittleEndian.Uint64(line[i:]) ^ commas // a comma is a zero byte
		// The high bit of exactly each zero byte: (w&low7)+low7 sets it
		// where the low seven bits are not all zero, without a carry into
		// the next byte.
		m := ^((w&low7 + low7) | w | low7)
		for m != 0 {
			at := i + bits.TrailingZeros64(m)>>3
			fields = append(fields, bytesString(line[start:at]))
			start = at + 1
			m &= m - 1
		}
	}
	for ; i < len(line); i++ {
		if line[i] == ',' {
			fields = append(fields, bytesString(line[start:i]))
			start = i + 1
		}
	}
	return append(fields, bytesString(line[start:]))
}

// isASCII reports whether b is all ASCII, 8 bytes at a time.
func isASCII(b []byte) bool {
	for len(b) >= 8 {
		v := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
		if v&0x8080808080808080 != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// chunkRecord checks a record a chunk parser (csvParser) read, as
// csvSource.next checks one: text is the record as read, body the same
// without the blank lines before it, perr the parse's error, ascii whether
// the whole chunk is ASCII. It returns the failure that ends the read (a
// row past maxRow bytes, a quote left open over later lines) or the
// record's problem (none: the zero problem).
func chunkRecord(text, body []byte, fields []string, perr *csv.ParseError, header []string, maxRow int, ascii bool) (problem, error) {
	if len(body) > maxRow {
		return problem{}, inputFailure(errRowTooLong, maxRow)
	}
	switch {
	case perr != nil:
		if perr.Err == csv.ErrQuote {
			if err := unclosedQuote(body, perr, header); err != nil {
				return problem{}, err
			}
		}
		return problem{field: len(fields), message: perr.Error()}, nil
	case len(fields) != len(header):
		return problem{field: -1, message: fmt.Sprintf("record has %d fields, the header has %d", len(fields), len(header))}, nil
	case !ascii && !utf8.Valid(text):
		return invalidUTF8(fields), nil
	}
	return problem{}, nil
}
