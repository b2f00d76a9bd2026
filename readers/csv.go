package readers

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// csvSource reads RFC 4180 records with encoding/csv. A tracker under the
// CSV reader keeps the bytes of the current record, so that a bad row's raw
// text is exactly what the file holds, quotes, CRLF and all.
type csvSource struct {
	in     io.Closer
	gz     *gzip.Reader // nil for plain CSV
	track  *tracker
	r      *csv.Reader
	header []string
	start  int64 // input offset where the last record (or the blank lines before it) starts
	// ahead, when set, parses the data rows in parallel (startAhead) and
	// next and raw take its records.
	ahead *csvAhead
	rec   []string
}

func newCSVSource(in io.ReadCloser, gz bool, size int64, opt Options) (*csvSource, []string, error) {
	s := &csvSource{in: in}
	var src io.Reader = in
	if gz {
		zr, err := gzip.NewReader(bufio.NewReaderSize(in, 64<<10))
		if err != nil {
			in.Close()
			return nil, nil, fmt.Errorf("not a gzip stream: %w: %w", ErrCorrupt, err)
		}
		s.gz = zr
		limit := newErrExpansion("decompressed", size, opt.MaxExpansion)
		src = &expansionLimit{r: zr, left: limit.budget, err: limit}
	}
	// A UTF-8 byte order mark is dropped before the CSV parser sees it, so
	// that a quoted first column name still parses.
	br := bufio.NewReaderSize(src, trackChunk)
	if b, _ := br.Peek(len(utf8BOM)); string(b) == utf8BOM {
		br.Discard(len(utf8BOM))
	}
	if b, _ := br.Peek(2); len(b) == 2 && (b[0] == 0xFF && b[1] == 0xFE || b[0] == 0xFE && b[1] == 0xFF) {
		s.close()
		return nil, nil, fmt.Errorf("the file starts with a UTF-16 byte order mark (%X): claimsbatch reads UTF-8 CSV; convert it first (e.g. iconv -f UTF-16 -t UTF-8): %w", b, ErrFormat)
	}
	s.track = &tracker{src: br, maxHeld: int64(opt.MaxRowBytes)}
	s.r = csv.NewReader(s.track)
	s.r.FieldsPerRecord = -1 // a wrong field count is a bad row, not a failure
	s.r.ReuseRecord = true
	s.r.LazyQuotes = false

	rec, err := s.r.Read()
	if err == nil && len(skipBlankLines(s.track.text(0, s.r.InputOffset()))) > opt.MaxRowBytes {
		err = errRowTooLong
	}
	var header []string
	switch {
	case err == io.EOF:
		err = fmt.Errorf("no header row: %w", ErrMissingColumn)
	case err != nil:
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			err = fmt.Errorf("header: %w: %w", ErrCorrupt, err)
		} else {
			err = s.failure(err)
		}
	default:
		header = make([]string, len(rec))
		for i, name := range rec {
			if !utf8.ValidString(name) {
				err = fmt.Errorf("header: column %d is not valid UTF-8: claimsbatch reads UTF-8 CSV; convert the file first (e.g. iconv -f LATIN1 -t UTF-8): %w", i+1, ErrFormat)
				break
			}
			if strings.IndexByte(name, 0) >= 0 {
				err = fmt.Errorf("header: column %d holds NUL bytes: the file looks UTF-16 encoded; claimsbatch reads UTF-8 CSV; convert it first (e.g. iconv -f UTF-16LE -t UTF-8): %w", i+1, ErrFormat)
				break
			}
			header[i] = trimSpace(name)
		}
	}
	if err != nil {
		s.close()
		return nil, nil, err
	}
	s.header = header
	return s, header, nil
}

const utf8BOM = "\uFEFF"

// failure classifies an error from below the CSV parser: an oversized row or a
// broken input (corrupt gzip stream, I/O error).
func (s *csvSource) failure(err error) error { return inputFailure(err, int(s.track.maxHeld)) }

// inputFailure classifies an error from below a CSV parser: an oversized row
// (longer than maxRow bytes) or a broken input (corrupt gzip stream, I/O
// error).
func inputFailure(err error, maxRow int) error {
	if errors.Is(err, errRowTooLong) {
		return fmt.Errorf("record longer than %d bytes, the limit of one row (a quote that never closes?): %w", maxRow, ErrCorrupt)
	}
	if e, ok := asExpansion(err); ok {
		return fmt.Errorf("%w: %w", e, ErrCorrupt)
	}
	return fmt.Errorf("%w: %w", ErrCorrupt, err)
}

func (s *csvSource) next() ([]string, problem, error) {
	if s.ahead != nil {
		rec, p, err := s.ahead.next(s.rec)
		if rec != nil {
			s.rec = rec // its memory, for the next record
		}
		return rec, p, err
	}
	s.start = s.r.InputOffset()
	s.track.keepFrom = s.start
	rec, err := s.r.Read()
	var pe *csv.ParseError
	if err == nil || errors.As(err, &pe) {
		// The tracker stops a record that outgrows the limit while it is
		// read; one that was already buffered whole is caught here.
		if len(skipBlankLines(s.track.text(s.start, s.r.InputOffset()))) > int(s.track.maxHeld) {
			return nil, problem{}, s.failure(errRowTooLong)
		}
	}
	if err == nil {
		if len(rec) != len(s.header) {
			return rec, problem{field: -1, message: fmt.Sprintf("record has %d fields, the header has %d", len(rec), len(s.header))}, nil
		}
		// One check over the record as read is much cheaper than one per
		// field; quotes, commas and line ends are ASCII, so the record is
		// valid UTF-8 exactly when its fields are.
		if !utf8.Valid(s.track.text(s.start, s.r.InputOffset())) {
			return rec, invalidUTF8(rec), nil
		}
		return rec, problem{}, nil
	}
	if err == io.EOF {
		return nil, problem{}, io.EOF
	}
	if pe != nil {
		if pe.Err == csv.ErrQuote && s.track.exhausted() {
			if err := s.unclosedQuote(pe); err != nil {
				return nil, problem{}, err
			}
		}
		return rec, problem{field: len(rec), message: pe.Error()}, nil
	}
	return nil, problem{}, s.failure(err)
}

// unclosedQuote returns the error of a record whose quoted field is still
// open at the end of the input and has swallowed the lines after its own,
// or nil. A quote left open on the last line is a truncated last row, a bad
// row like any other. One that runs over later lines has turned them into
// one record: reporting that as a single bad row would drop those rows from
// the counts (and, past 4 KiB, from the exceptions' raw text), and the same
// mistake earlier in a longer file fails the read anyway
// (Options.MaxRowBytes). So it fails the read wherever it is, as a row that
// never ends.
func (s *csvSource) unclosedQuote(pe *csv.ParseError) error {
	return unclosedQuote(skipBlankLines(s.track.text(s.start, s.r.InputOffset())), pe, s.header)
}

// unclosedQuote is csvSource.unclosedQuote for record text (blank lines
// before it dropped) that ended in pe, in a file with header.
func unclosedQuote(text []byte, pe *csv.ParseError, header []string) error {
	field, at, open := openQuote(text)
	if !open {
		return nil
	}
	swallowed := bytes.Count(trimLineEnd(text[at:]), []byte{'\n'})
	if swallowed == 0 {
		return nil
	}
	line, col := pe.StartLine, at+1
	for i := 0; i < at; i++ {
		if text[i] == '\n' {
			line++
			col = at - i
		}
	}
	where := fmt.Sprintf("field %d", field+1)
	if field < len(header) {
		where = "column " + header[field]
	}
	return fmt.Errorf("%s: the quoted field opened on line %d, column %d never closes: the file ends inside it on line %d (an unbalanced quote made the lines after it part of one row that never ends): %w",
		where, line, col, pe.StartLine+bytes.Count(trimLineEnd(text), []byte{'\n'}), ErrCorrupt)
}

// trimLineEnd drops one final \n or \r\n.
func trimLineEnd(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte{'\n'})
	return bytes.TrimSuffix(b, []byte{'\r'})
}

// openQuote scans one CSV record as written, with the rules of
// encoding/csv, and reports whether it ends inside a quoted field; if so,
// which field (from 0) and the byte offset of its opening quote. A quoting
// error before the end means it does not.
func openQuote(b []byte) (field, at int, open bool) {
	inQuotes, fieldStart := false, true
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case inQuotes:
			if c != '"' {
				continue
			}
			if i+1 < len(b) && b[i+1] == '"' {
				i++ // an escaped quote
				continue
			}
			inQuotes = false
			if i+1 < len(b) && b[i+1] != ',' && b[i+1] != '\n' && b[i+1] != '\r' {
				return 0, 0, false // text after the closing quote
			}
		case c == '"' && fieldStart:
			inQuotes, fieldStart, at = true, false, i
		case c == ',':
			field++
			fieldStart = true
		default:
			fieldStart = false
		}
	}
	return field, at, inQuotes
}

// skipBlankLines drops the blank lines encoding/csv skips before a record.
func skipBlankLines(b []byte) []byte {
	for {
		if len(b) > 0 && b[0] == '\n' {
			b = b[1:]
		} else if len(b) > 1 && b[0] == '\r' && b[1] == '\n' {
			b = b[2:]
		} else {
			return b
		}
	}
}

func (s *csvSource) raw() string {
	if s.ahead != nil {
		return s.ahead.raw()
	}
	// encoding/csv skips blank lines before a record; they are not part of it.
	return string(recordRaw(skipBlankLines(s.track.text(s.start, s.r.InputOffset()))))
}

// recordRaw returns a record's text without its line end.
func recordRaw(b []byte) []byte {
	switch {
	case len(b) > 1 && b[len(b)-2] == '\r' && b[len(b)-1] == '\n':
		b = b[:len(b)-2]
	case len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r'):
		b = b[:len(b)-1]
	}
	return b
}

func (s *csvSource) close() error {
	if s.in == nil {
		return nil
	}
	if s.ahead != nil {
		s.ahead.close()
		s.ahead = nil
	}
	err := s.in.Close()
	s.in = nil
	if s.gz != nil {
		// Close reports nothing new for a reader (it does not check the
		// trailer; Read does), but release it all the same.
		if gzErr := s.gz.Close(); err == nil {
			err = gzErr
		}
	}
	return err
}

// errRowTooLong stops the CSV parser when one record outgrows
// Options.MaxRowBytes; csvSource.failure turns it into ErrCorrupt.
var errRowTooLong = errors.New("readers: record too long")

// tracker is the reader under csv.Reader. It keeps the input from keepFrom
// (the start of the record being parsed) on, so the record's original bytes
// can be recovered from csv.Reader.InputOffset positions. It reads the input
// in large chunks and drops what lies before keepFrom when it refills, so it
// holds about one record plus one chunk.
type tracker struct {
	src      io.Reader
	buf      []byte // input bytes from offset base on
	base     int64
	served   int   // buf[:served] has been handed to the CSV parser
	keepFrom int64 // bytes before this offset are no longer needed
	maxHeld  int64 // bound on the bytes of one record
	err      error // sticky error of src
}

const trackChunk = 64 << 10

func (t *tracker) Read(p []byte) (int, error) {
	for empty := 0; t.served == len(t.buf); empty++ {
		if t.err != nil {
			return 0, t.err
		}
		if empty == 100 {
			return 0, io.ErrNoProgress
		}
		t.fill()
	}
	n := copy(p, t.buf[t.served:])
	t.served += n
	return n, nil
}

// fill reads the next chunk of the input; it is called only when everything
// held has been served.
func (t *tracker) fill() {
	if t.base+int64(len(t.buf))-t.keepFrom > t.maxHeld {
		t.err = errRowTooLong
		return
	}
	if drop := int(t.keepFrom - t.base); drop > 0 {
		n := copy(t.buf, t.buf[drop:])
		t.buf = t.buf[:n]
		t.served -= drop
		t.base = t.keepFrom
	}
	if cap(t.buf)-len(t.buf) < trackChunk {
		grown := make([]byte, len(t.buf), 2*cap(t.buf)+trackChunk)
		copy(grown, t.buf)
		t.buf = grown
	}
	n, err := t.src.Read(t.buf[len(t.buf):cap(t.buf)])
	t.buf = t.buf[:len(t.buf)+n]
	t.err = err
}

// exhausted reports whether the whole input has been read and handed to
// the CSV parser.
func (t *tracker) exhausted() bool {
	return t.err == io.EOF && t.served == len(t.buf)
}

// text returns the input between offsets from and to; from must not be
// before keepFrom.
func (t *tracker) text(from, to int64) []byte {
	return t.buf[from-t.base : to-t.base]
}
