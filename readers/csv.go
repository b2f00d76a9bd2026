package readers

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
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
	fields int   // number of header fields
	start  int64 // input offset where the last record (or the blank lines before it) starts
}

func newCSVSource(in io.ReadCloser, gz bool, opt Options) (*csvSource, []string, error) {
	s := &csvSource{in: in}
	var src io.Reader = in
	if gz {
		zr, err := gzip.NewReader(bufio.NewReaderSize(in, 64<<10))
		if err != nil {
			in.Close()
			return nil, nil, fmt.Errorf("not a gzip stream: %w: %w", ErrCorrupt, err)
		}
		s.gz = zr
		src = zr
	}
	// A UTF-8 byte order mark is dropped before the CSV parser sees it, so
	// that a quoted first column name still parses.
	br := bufio.NewReaderSize(src, trackChunk)
	if b, _ := br.Peek(len(utf8BOM)); string(b) == utf8BOM {
		br.Discard(len(utf8BOM))
	}
	s.track = &tracker{src: br, maxHeld: int64(opt.MaxRowBytes)}
	s.r = csv.NewReader(s.track)
	s.r.FieldsPerRecord = -1 // a wrong field count is a bad row, not a failure
	s.r.ReuseRecord = true
	s.r.LazyQuotes = false

	rec, err := s.r.Read()
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
				err = fmt.Errorf("header: column %d is not valid UTF-8: %w", i+1, ErrCorrupt)
				break
			}
			header[i] = trimSpace(name)
		}
	}
	if err != nil {
		s.close()
		return nil, nil, err
	}
	s.fields = len(header)
	return s, header, nil
}

const utf8BOM = "\uFEFF"

// failure classifies an error from below the CSV parser: an oversized row or a
// broken input (corrupt gzip stream, I/O error).
func (s *csvSource) failure(err error) error {
	if errors.Is(err, errRowTooLong) {
		return fmt.Errorf("record longer than %d bytes (a quote never closed?): %w", s.track.maxHeld, ErrCorrupt)
	}
	return fmt.Errorf("%w: %w", ErrCorrupt, err)
}

func (s *csvSource) next() ([]string, problem, error) {
	s.start = s.r.InputOffset()
	s.track.keepFrom = s.start
	rec, err := s.r.Read()
	if err == nil {
		if len(rec) != s.fields {
			return rec, problem{field: -1, message: fmt.Sprintf("record has %d fields, the header has %d", len(rec), s.fields)}, nil
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
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return rec, problem{field: len(rec), message: pe.Error()}, nil
	}
	return nil, problem{}, s.failure(err)
}

func (s *csvSource) raw() string {
	b := s.track.text(s.start, s.r.InputOffset())
	// encoding/csv skips blank lines before a record; they are not part of it.
	for {
		if len(b) > 0 && b[0] == '\n' {
			b = b[1:]
		} else if len(b) > 1 && b[0] == '\r' && b[1] == '\n' {
			b = b[2:]
		} else {
			break
		}
	}
	switch {
	case len(b) > 1 && b[len(b)-2] == '\r' && b[len(b)-1] == '\n':
		b = b[:len(b)-2]
	case len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r'):
		b = b[:len(b)-1]
	}
	return string(b)
}

func (s *csvSource) close() error {
	if s.in == nil {
		return nil
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

// text returns the input between offsets from and to; from must not be
// before keepFrom.
func (t *tracker) text(from, to int64) []byte {
	return t.buf[from-t.base : to-t.base]
}
