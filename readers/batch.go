package readers

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"claimsbatch/claim"
)

// Batch is a run of consecutive data rows of a claims file, checked: the
// accepted rows in Lines, the rejected ones in Exceptions, each in row
// order. NextBatch returns batches in file order; the caller owns a batch
// until it calls Release, and may process several at once on any
// goroutines.
type Batch struct {
	// Seq numbers the batches of a reader from 0, in file order.
	Seq int64
	// FirstRow is the row number (from 1) of the batch's first data row.
	// The batch holds rows FirstRow to FirstRow+NumRows-1, each either in
	// Lines or in Exceptions, and the next batch starts at the row after.
	FirstRow int64
	NumRows  int
	// Offset is, for a CSV file, the byte offset in the file (decompressed,
	// after a byte order mark) where the batch's first row starts; -1 for
	// Parquet.
	Offset int64
	// RowGroup is, for a Parquet file, the row group the batch's rows come
	// from; -1 for CSV.
	RowGroup int

	// Lines are the accepted rows. Their strings point into the batch's
	// buffers and are valid until Release (strings.Clone what must live
	// longer).
	Lines []claim.Line
	// Exceptions are the rows the reader rejected, with their raw text.
	// They own their memory and may be kept.
	Exceptions []claim.Exception

	r        *ClaimsReader
	origins  []origin // per line
	chunk    *chunk   // CSV: the input the strings point into
	pq       *pqRows  // Parquet: the batch's values, for raw text
	text     []string // the text path: each line's raw text
	released bool
}

// origin is what a batch keeps of an accepted line's row for an exception
// raised on it later.
type origin struct {
	lineNo string // line_no as written; "" when read typed (then it is Line.LineNo)
	// CSV: the raw text is chunk data[start:end]. Parquet: start is the
	// row's index in the batch's values.
	start, end int32
}

// Raw returns the row of accepted line i as read, as an exception would
// hold it (see Exception.Raw). For CSV it is a piece of the batch's input;
// for Parquet it is built from the row's values when asked, or beforehand
// by the parsing goroutines with Options.KeepRaw. Either way it is valid
// until Release. A batch's methods are for one goroutine at a time.
func (b *Batch) Raw(i int) string {
	o := &b.origins[i]
	switch {
	case b.chunk != nil:
		return exceptionText(b.chunk.text(o.start, o.end))
	case b.pq != nil:
		return exceptionText(b.pq.raw(int(o.start)))
	}
	return exceptionText(b.text[i])
}

// Reject returns the exception a caller raises on accepted line i (a
// run-level check the line failed), filled in as the reader fills in its
// own: source, row, the row's identifiers as written and its raw text. The
// exception owns its memory. The caller decides where it goes in the
// exceptions' order (by Row).
func (b *Batch) Reject(i int, code claim.ExceptionCode, field, message string) claim.Exception {
	return b.reject(i, code, field, message, true)
}

func (b *Batch) reject(i int, code claim.ExceptionCode, field, message string, withRaw bool) claim.Exception {
	l := &b.Lines[i]
	lineNo := b.origins[i].lineNo
	if lineNo == "" {
		lineNo = strconv.Itoa(int(l.LineNo))
	}
	e := claim.Exception{
		Source:   b.r.t.name,
		SourceNo: b.r.source,
		Row:      l.Row,
		ClaimID:  ownText(l.ClaimID),
		LineNo:   ownText(lineNo),
		MemberID: ownText(l.MemberID),
		Code:     code,
		Field:    field,
		Message:  message,
	}
	if withRaw {
		e.Raw = ownText(b.Raw(i))
	}
	return e
}

// Release gives the batch's buffers back to the reader; the batch and the
// strings of its Lines must not be used after. Release may be called from
// any goroutine, also after the reader is closed, and more than once.
func (b *Batch) Release() {
	if b == nil || b.released {
		return
	}
	b.released = true
	r := b.r
	if b.chunk != nil {
		b.chunk.release()
		b.chunk = nil
	}
	if b.pq != nil {
		b.pq.release(r)
		b.pq = nil
	}
	clear(b.Exceptions)
	clear(b.text)
	b.text = b.text[:0]
	b.Exceptions = b.Exceptions[:0]
	b.Lines = b.Lines[:0]
	b.origins = b.origins[:0]
	b.r = nil
	batchPool.Put(b)
}

// The buffers of released batches are shared by all readers: a run reads
// many files one after the other, and a test or tool many small ones.
var (
	batchPool  sync.Pool // *Batch
	blockPool  sync.Pool // *[]byte, CSV blocks
	pqRowsPool sync.Pool // *pqRows
)

// add checks a row (its problem p first, if it has one) and adds it to the
// batch: its line, or its exception with raw text raw. It reports whether
// the row became a line, whose origin the caller then adds.
func (b *Batch) add(rp *rowParser, rec []string, p problem, raw string) bool {
	b.NumRows++
	b.Lines = append(b.Lines, claim.Line{})
	if check := rp.checkRecord(rec, p, &b.Lines[len(b.Lines)-1]); check.code != "" {
		b.Lines = b.Lines[:len(b.Lines)-1]
		b.Exceptions = append(b.Exceptions, rp.reject(rec, p, check, raw))
		return false
	}
	return true
}

// newBatch returns an empty batch, a released one when there is one.
func (r *ClaimsReader) newBatch(firstRow int64) *Batch {
	b, _ := batchPool.Get().(*Batch)
	if b == nil {
		n := min(r.opt.BatchSize, 8192)
		b = &Batch{Lines: make([]claim.Line, 0, n), origins: make([]origin, 0, n)}
	}
	b.r, b.released = r, false
	b.FirstRow, b.NumRows, b.Offset, b.RowGroup = firstRow, 0, -1, -1
	return b
}

// The work of a reader is cut into units in file order (a CSV chunk, a
// Parquet row group). Units run on up to Options.Workers goroutines; each
// sends its batches, in order, to a channel of its own, and NextBatch
// drains the units' channels in file order. So batches leave in file order
// however the units finish, and a unit ahead of the reader waits (its
// channel full) rather than piling up batches. Row numbers are counted
// from a unit's start by the goroutine that parses it (it cannot know how
// many rows the units before it hold) and made absolute by NextBatch.
//
// What is in flight is bounded: Workers units run and up to Workers more
// wait in file order for NextBatch. The units ahead of the one NextBatch is
// on share lookaheadRows rows of batches (slots, taken before a batch is
// queued and given back when NextBatch returns it); the unit NextBatch is
// on needs none (it could wait for nothing but itself), so the slots never
// hold it up. Beyond the batches the caller holds: about lookaheadRows
// rows plus two batches, and for CSV Workers+2 blocks of 512 KiB.
//
// A unit's failure (a broken file) travels the same way, after the
// unit's good batches: the run must see every row before the failure and
// none after, whichever goroutine failed first. That is why failures do
// not go through the errgroup, whose first error would win.
type unit struct {
	out     chan unitItem
	current chan struct{} // closed when NextBatch starts on the unit
}

type unitItem struct {
	b    *Batch
	slot bool  // the batch holds a look-ahead slot
	row  int64 // of a failure: the row, counted from the unit's start
	err  error // a failure of the read
}

func (r *ClaimsReader) newUnit() *unit {
	return &unit{out: make(chan unitItem, cap(r.slots)+1), current: make(chan struct{})}
}

// lookaheadRows is about how many rows the units ahead of NextBatch may
// hold in batches, all together: a Parquet row group of the usual size
// (64 Ki rows: claimsbatch generate, arrow-go's default is larger). With
// less, a goroutine on the next row group would wait for the current one
// to be read to the end and the two would hardly overlap; the cost is
// memory, about 0.8 KB a row for Parquet (the lines and the row's values,
// kept for raw text) and 0.3 KB for CSV.
const lookaheadRows = 64 << 10

// worker is the state of one parsing goroutine, reused across units.
type worker struct {
	p   rowParser
	csv csvParser
	pq  *pqWorker
}

func (r *ClaimsReader) newWorker() *worker {
	t := *r.t // the column map shared, the counters per worker
	return &worker{p: rowParser{t: &t, source: r.source, benefits: r.benefits, intern: newInterner(), asOf: r.opt.AsOf}}
}

// start starts the producer, which cuts the file into units and hands each
// to a parsing goroutine.
func (r *ClaimsReader) start() {
	r.started = true
	for range r.workers {
		w := <-r.states
		w.p.detachWide = r.legacy
		r.states <- w
	}
	ctx, cancel := context.WithCancel(context.Background())
	g, ctx := errgroup.WithContext(ctx)
	r.cancel, r.group = cancel, g
	r.order = make(chan *unit, r.workers)
	r.slots = make(chan struct{}, max(2, lookaheadRows/r.opt.BatchSize))
	g.Go(func() error {
		work, ctx := errgroup.WithContext(ctx)
		work.SetLimit(r.workers)
		var err error
		switch {
		case r.csv != nil:
			err = r.produceCSV(ctx, work)
		case r.pq != nil:
			err = r.producePQ(ctx, work)
		default:
			err = r.dispatch(ctx, work, r.parseTable)
		}
		close(r.order)
		if werr := work.Wait(); err == nil {
			err = werr
		}
		return err
	})
}

// dispatch queues a unit: in file order for NextBatch, and to a parsing
// goroutine (waiting for one to be free). run sends the unit's batches with
// send.
func (r *ClaimsReader) dispatch(ctx context.Context, work *errgroup.Group, run func(ctx context.Context, w *worker, u *unit)) error {
	u := r.newUnit()
	select {
	case r.order <- u:
	case <-ctx.Done():
		return ctx.Err()
	}
	work.Go(func() error {
		defer close(u.out)
		w := <-r.states
		defer func() { r.states <- w }()
		run(ctx, w, u)
		return ctx.Err()
	})
	return nil
}

// fail queues a unit that only reports a failure at its first row: the
// producer's own (an I/O error, a record that never ends).
func (r *ClaimsReader) fail(ctx context.Context, err error) error {
	u := r.newUnit()
	u.out <- unitItem{row: 1, err: err}
	close(u.out)
	select {
	case r.order <- u:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// send hands a unit's item to NextBatch; false when the reader is stopping.
// A batch of a unit ahead of NextBatch's first takes a look-ahead slot.
func (r *ClaimsReader) send(ctx context.Context, u *unit, it unitItem) bool {
	if it.b != nil {
		select {
		case <-u.current:
		default:
			select {
			case r.slots <- struct{}{}:
				it.slot = true
			case <-u.current:
			case <-ctx.Done():
				return false
			}
		}
	}
	select {
	case u.out <- it:
		return true
	case <-ctx.Done():
		return false
	}
}

// NextBatch returns the next batch of rows (at most Options.BatchSize, at
// least one), or io.EOF after the last. An error wraps ErrCorrupt and names
// the file and the row; after it, and after io.EOF, NextBatch returns the
// same again. The first call starts the reader's goroutines.
func (r *ClaimsReader) NextBatch() (*Batch, error) {
	if r.err != nil {
		return nil, r.err
	}
	if !r.started {
		r.start()
	}
	for {
		if r.cur == nil {
			u, ok := <-r.order
			if !ok {
				r.finish(io.EOF)
				return nil, io.EOF
			}
			r.cur, r.curBase = u, r.rows
			close(u.current)
		}
		it, ok := <-r.cur.out
		if !ok {
			r.cur = nil
			continue
		}
		if it.slot {
			<-r.slots
		}
		if it.err != nil {
			err := fmt.Errorf("%s: row %d: %w", r.t.path, r.curBase+it.row, it.err)
			r.finish(err)
			return nil, err
		}
		b := it.b
		base := r.curBase
		b.FirstRow += base
		for i := range b.Lines {
			b.Lines[i].Row += base
		}
		for i := range b.Exceptions {
			b.Exceptions[i].Row += base
		}
		r.rows = b.FirstRow + int64(b.NumRows) - 1
		b.Seq = r.seq
		r.seq++
		return b, nil
	}
}

// finish records the end of the read and stops the goroutines.
func (r *ClaimsReader) finish(err error) {
	r.err = err
	r.stop()
}

// stop stops the goroutines and waits for them.
func (r *ClaimsReader) stop() {
	if !r.started || r.stopped {
		return
	}
	r.stopped = true
	r.cancel()
	r.group.Wait()
	r.cur = nil
}

// workersOf is Options.Workers' meaning: 0 is one per core.
func workersOf(n int) int {
	if n <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return n
}

// chunk is a CSV block whose rows a unit parses; the batches' strings
// point into it. It goes back to the reader's pool when the parsing
// goroutine and every batch of it are done with it (not for Next's
// batches, whose lines may be kept).
type chunk struct {
	r        *ClaimsReader
	buf      []byte // the block; data is buf[:len(data)]
	data     []byte
	lineBase int   // encoding/csv's line count before data
	offset   int64 // of data in the file
	final    bool  // data ends the file
	refs     atomic.Int32
}

func (c *chunk) text(start, end int32) string { return bytesString(c.data[start:end]) }

func (c *chunk) release() {
	if c.refs.Add(-1) != 0 || c.r.legacy {
		return
	}
	buf := c.buf[:0]
	blockPool.Put(&buf)
}
