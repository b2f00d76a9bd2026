package readers

import (
	"bytes"
	"context"
	"io"

	"golang.org/x/sync/errgroup"
)

// A CSV claims file is parsed in parallel: one goroutine (the producer)
// reads the file, decompressing a .csv.gz, in blocks of about csvBlock bytes
// and cuts each at the end of its last complete record; parsing goroutines
// parse the chunks. Where a record ends depends on the quotes before it (a
// quoted field may hold line breaks), so the producer follows the quoting
// through each block with lastRecordEnd: quick over the stretches without
// quotes, exact where there are some, under the same rules as the parser.
// A block without any record end (one record longer than a block) grows
// until the record ends or passes Options.MaxRowBytes.

// csvBlock is the size of the blocks read. Two to four blocks per goroutine
// are in flight; 512 KiB (about 3,500 claims rows) keeps that a few MiB and
// the producer's per-block work negligible. (A variable for the tests.)
var csvBlock = 512 << 10

// csvInput is where a CSV file's data rows start: the header has been read
// by csvSource (encoding/csv), which has read ahead.
type csvInput struct {
	ahead    []byte    // input read after the header
	src      io.Reader // the rest of the input
	lineBase int       // encoding/csv's line count at the start of ahead
	offset   int64     // offset of ahead in the (decompressed) input
	header   []string
	maxRow   int
}

// rest hands the input after the header over to the parallel parser. The
// tracker still holds everything read since the header's start; the
// decompressor and the file go on from where the tracker stopped, read the
// same way (at least trackChunk bytes at a time) so that a compressed
// file's expansion limit trips at the same place.
func (s *csvSource) rest() *csvInput {
	off := s.r.InputOffset()
	t := s.track
	in := &csvInput{
		ahead:    t.buf[off-t.base:],
		src:      t.src,
		lineBase: bytes.Count(t.text(t.keepFrom, off), []byte{'\n'}),
		offset:   off,
		header:   s.header,
		maxRow:   int(t.maxHeld),
	}
	if t.err != nil {
		in.src = errReader{t.err}
	}
	return in
}

// errReader is an input that has ended with err (io.EOF or a failure).
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// produceCSV reads the data rows in blocks and queues a unit per chunk of
// complete records.
func (r *ClaimsReader) produceCSV(ctx context.Context, work *errgroup.Group) error {
	in := r.csv
	lineBase, offset := in.lineBase, in.offset
	emit := func(buf, data []byte, final bool) error {
		c := &chunk{r: r, buf: buf, data: data, lineBase: lineBase, offset: offset, final: final}
		lineBase += bytes.Count(data, []byte{'\n'})
		offset += int64(len(data))
		return r.dispatch(ctx, work, func(ctx context.Context, w *worker, u *unit) {
			r.parseChunk(ctx, w, c, u)
		})
	}
	err := cutRecords(in, r.getBlock, emit)
	if f, ok := err.(inputFailed); ok {
		return r.fail(ctx, f.err)
	}
	return err
}

// inputFailed is cutRecords' own failure (a read, a row too long), told
// from its emit's.
type inputFailed struct{ err error }

func (f inputFailed) Error() string { return f.err.Error() }
func (f inputFailed) Unwrap() error { return f.err }

// cutRecords reads in's data rows in blocks (newBlock(n): an empty buffer
// for at least n bytes) and hands each chunk of complete records to emit,
// with the block it lies in and whether it ends the input, in order. It
// returns nil at the end of the input, emit's error, or the input's
// failure (an oversized row or a broken input, inputFailure) as an
// inputFailed, after the chunks before it.
func cutRecords(in *csvInput, newBlock func(n int) []byte, emit func(buf, data []byte, final bool) error) error {
	buf := append(newBlock(len(in.ahead)), in.ahead...)
	target := csvBlock
	var readErr error
	for {
		if readErr == nil {
			buf, readErr = readTo(in.src, buf, target)
		}
		if readErr == io.EOF {
			if len(buf) == 0 {
				return nil
			}
			return emit(buf, buf, true)
		}
		end := lastRecordEnd(buf)
		if readErr != nil {
			if end > 0 {
				if err := emit(buf, buf[:end], false); err != nil {
					return err
				}
			}
			return inputFailed{inputFailure(readErr, in.maxRow)}
		}
		if end == 0 {
			// One record fills the block: read on, or give up on it.
			if len(buf) > in.maxRow {
				return inputFailed{inputFailure(errRowTooLong, in.maxRow)}
			}
			target = len(buf) + csvBlock
			continue
		}
		next := append(newBlock(len(buf)-end), buf[end:]...)
		if err := emit(buf, buf[:end], false); err != nil {
			return err
		}
		buf, target = next, max(csvBlock, len(next)+trackChunk)
	}
}

// readTo appends reads of src to buf, at least trackChunk bytes at a time
// (as the tracker reads, so that a compressed file's expansion limit trips
// at the same place), until buf holds target bytes or a read fails (io.EOF
// at the end).
func readTo(src io.Reader, buf []byte, target int) ([]byte, error) {
	for len(buf) < target {
		if cap(buf)-len(buf) < trackChunk {
			grown := make([]byte, len(buf), 2*cap(buf)+trackChunk)
			copy(grown, buf)
			buf = grown
		}
		n, err := src.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// getBlock returns an empty buffer for at least n bytes and a block.
func (r *ClaimsReader) getBlock(n int) []byte {
	size := max(csvBlock, n) + trackChunk
	if b, ok := blockPool.Get().(*[]byte); ok && cap(*b) >= size {
		return (*b)[:0]
	}
	return make([]byte, 0, size)
}

// lastRecordEnd returns the offset just after the last complete record of
// b (after its line end), 0 when b holds none; b starts at the start of a
// record. A record ends at the first line end outside quotes, as
// encoding/csv reads it (LazyQuotes off): a quote opens a quoted field only
// at the start of a field, and a quoting error ends the record with its
// line. Where the answer depends on a byte after b (a quote at its very
// end), it stops at the record end before.
func lastRecordEnd(b []byte) int {
	last, p := 0, 0 // p: outside quotes, in a field or at its start
	for {
		q := bytes.IndexByte(b[p:], '"')
		if q < 0 {
			if nl := bytes.LastIndexByte(b[p:], '\n'); nl >= 0 {
				last = p + nl + 1
			}
			return last
		}
		q += p
		if nl := bytes.LastIndexByte(b[p:q], '\n'); nl >= 0 {
			last = p + nl + 1
		}
		if q > 0 && b[q-1] != '\n' && b[q-1] != ',' {
			// A quote inside an unquoted field: a bare-quote error, the
			// record ends with the line.
			nl := bytes.IndexByte(b[q:], '\n')
			if nl < 0 {
				return last
			}
			p = q + nl + 1
			last = p
			continue
		}
		// A quoted field: find its closing quote ("" is a quote inside).
		e := q + 1
		for {
			k := bytes.IndexByte(b[e:], '"')
			if k < 0 || e+k+1 >= len(b) {
				return last
			}
			e += k
			if b[e+1] != '"' {
				break
			}
			e += 2
		}
		switch c := b[e+1]; {
		case c == ',':
			p = e + 2
		case c == '\n':
			p = e + 2
			last = p
		case c == '\r' && e+2 >= len(b):
			return last
		default:
			// "\r\n" ends the record; anything else is a quoting error,
			// which ends it with the line too.
			nl := bytes.IndexByte(b[e+1:], '\n')
			if nl < 0 {
				return last
			}
			p = e + 1 + nl + 1
			last = p
		}
	}
}
