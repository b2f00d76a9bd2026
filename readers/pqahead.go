package readers

import (
	"context"
	"fmt"
	"io"
	"math"
	"sync"
	"unicode/utf8"
)

// A Parquet members or state file is read on every core: its row groups
// are handed out to goroutines, each of which reads its groups' columns
// with the typed column readers of the claims reader (pqtyped.go), a batch
// of rows at a time, and makes each row's text, and raw text, exactly as
// the sequential read makes them from Arrow arrays (parquetSource.next and
// raw; the claims reader's text path relies on the same equality), in
// blocks; next then takes the blocks in file order. The file's row groups
// are read at once where the sequential read left one core idle (a 575
// k-row members file took 1.1 s on one core, half of it in the Parquet
// decoder; a 10 M-row state file 8.3 s).
//
// A block holds its rows' text as one string and the ends of the fields as
// offsets, with no pointer per field: the goroutines write none for the
// collector's write barrier, and next slices the string for the row it
// returns.
//
// Memory stays bounded whatever the row groups' sizes: a goroutine holds
// one block being filled and ready ones up to about lookaheadRows rows
// (batch.go), enough for a row group of the usual size to be read whole
// while the one before it is taken: with less the goroutines would take
// turns instead of overlapping. It costs about 0.6 KB a row ahead.

// aheadBlock is up to a batch of consecutive rows of one row group (or of
// one chunk of a CSV file, csvahead.go).
type aheadBlock struct {
	text    string    // the rows' fields, one after another
	ends    []uint32  // per row, per field: where the field ends in text
	width   int       // fields per row
	counts  []int     // per row, its fields when they are not width each (a CSV record's); nil: width each
	probs   []problem // per row
	raw     string    // the rows' raw texts, one after another
	rawEnds []uint32  // per row: where its raw text ends in raw (none without raw texts)
	err     error     // the read failed after the rows above
	last    bool      // the group's (chunk's) last block
	end     bool      // no rows follow (csvAhead)

	at, field int // record: the row it returns next, and that row's first field
}

// rows is the number of rows in the block.
func (b *aheadBlock) rows() int { return len(b.probs) }

// aheadLanes is the taking side of a parallel read (pqAhead, csvAhead):
// unit u's blocks (a row group's, a chunk's) come in order in lane u mod
// len(lanes), its last block marked last; the units end after units of
// them, or (units < 0) at a block marked end.
type aheadLanes struct {
	lanes []chan *aheadBlock
	done  chan struct{}
	wg    sync.WaitGroup
	noRaw bool   // no raw texts: raw returns ""
	units int    // the units, or -1: until a block marked end
	name  string // a unit's name, for errors

	u   int // the unit next reads
	cur *aheadBlock
	row int // next row of cur
}

// pqAhead is the parallel read of a parquetSource's row groups.
type pqAhead struct {
	aheadLanes
	groups int
}

// startAhead makes s read its row groups on workers goroutines from now on,
// with each row's raw text unless noRaw (a reader that never asks for it);
// it does nothing for a file of one row group or one worker.
func (s *parquetSource) startAhead(workers, batchSize int, noRaw bool) {
	groups := s.pf.NumRowGroups()
	workers = min(workers, groups)
	if workers < 2 || s.rr != nil {
		return
	}
	a := &pqAhead{groups: groups, aheadLanes: aheadLanes{lanes: make([]chan *aheadBlock, workers),
		done: make(chan struct{}), noRaw: noRaw, units: groups, name: "row group"}}
	in := pqInputOf(s, math.MaxInt32)
	for w := range a.lanes {
		a.lanes[w] = make(chan *aheadBlock, max(1, lookaheadRows/batchSize))
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			a.read(in, w, batchSize)
		}()
	}
	s.ahead = a
}

// read reads groups w, w+len(lanes), ... into lane w, until the last
// group, an error or close.
func (a *pqAhead) read(in *pqInput, w, batchSize int) {
	defer close(a.lanes[w])
	send := a.sender(w)
	pw := new(pqWorker)
	for g := w; g < a.groups; g += len(a.lanes) {
		if !a.readGroup(in, pw, g, batchSize, send) {
			return
		}
	}
}

// readGroup sends the rows of group g in blocks of at most batchSize rows;
// false when it sent an error or the read was closed.
func (a *pqAhead) readGroup(in *pqInput, pw *pqWorker, g, batchSize int, send func(*aheadBlock) bool) (ok bool) {
	var grp *pqGroup
	var rows *pqRows
	defer func() {
		if p := recover(); p != nil { // see newParquetSource
			if rows != nil {
				rows.free(true)
			}
			ok = false
			send(&aheadBlock{err: decoderPanic("Parquet decoder", p), last: true})
		}
		if grp != nil {
			grp.close()
		}
	}()
	// The errors as the sequential read words them (parquetSource.next and
	// its record reader's opening): a file fails the same way on one
	// goroutine or several.
	var err error
	if grp, _, err = in.openGroup(context.Background(), g); err != nil {
		send(&aheadBlock{err: fmt.Errorf("opening the Parquet columns: %w: %w", ErrCorrupt, err), last: true})
		return false
	}
	width := len(in.cols)
	total := int(in.groupRows[g])
	if total == 0 {
		return send(&aheadBlock{width: width, last: true})
	}
	for done := 0; done < total; {
		n := min(batchSize, total-done)
		rows = in.newRows(g, done, n)
		for j := range in.cols {
			if err := pw.read(grp, j, rows); err != nil {
				rows.free(true)
				rows = nil
				if e, isExp := asExpansion(err); isExp {
					err = e
				}
				send(&aheadBlock{err: fmt.Errorf("%w: %w", ErrCorrupt, err), last: true})
				return false
			}
		}
		b, err := a.block(pw, rows)
		rows.free(false) // nothing the block holds is in the rows' memory
		rows = nil
		if err != nil {
			send(&aheadBlock{err: fmt.Errorf("%w: %w", ErrCorrupt, err), last: true})
			return false
		}
		done += n
		b.last = done == total
		if !send(b) {
			return false
		}
	}
	return true
}

// block makes the block of rows: each row's fields as parquetSource.next
// makes them (the used columns' text, "" for the others and for null), its
// problem (invalid UTF-8) and, unless noRaw, its raw text as
// parquetSource.raw makes it.
func (a *pqAhead) block(pw *pqWorker, rows *pqRows) (*aheadBlock, error) {
	in, n := rows.in, rows.n
	width := len(in.cols)
	b := &aheadBlock{width: width, ends: make([]uint32, n*width), probs: make([]problem, n)}
	text := pw.text[:0]
	var bad []int // rows whose text is not valid UTF-8
	for i := range n {
		start := len(text)
		for j := range in.cols {
			if in.cols[j].kind != 0 {
				text = rows.appendText(text, j, i)
			}
			b.ends[i*width+j] = uint32(len(text))
		}
		if !utf8.Valid(text[start:]) {
			bad = append(bad, i)
		}
		if len(text) > math.MaxUint32 {
			return nil, fmt.Errorf("a batch of %d rows holds more than 4 GiB of text", n)
		}
	}
	b.text = string(text)
	pw.text = text
	rec := resize(pw.rec, width)
	pw.rec = rec
	for _, i := range bad {
		b.fields(i, rec)
		b.probs[i] = invalidUTF8(rec)
	}
	if !a.noRaw {
		// The used columns from the fields, the others from Arrow.
		raw := pw.scratch[:0]
		b.rawEnds = make([]uint32, n)
		for i := range n {
			b.fields(i, rec)
			for j, c := range in.cols {
				if j > 0 {
					raw = append(raw, ',')
				}
				if c.kind != 0 {
					raw = appendCSVField(raw, rec[j])
				} else if arr, k := rows.cols[j].array(i); arr != nil && !arr.IsNull(k) {
					raw = appendCSVField(raw, arr.ValueStr(k))
				}
			}
			if len(raw) > math.MaxUint32 {
				return nil, fmt.Errorf("a batch of %d rows holds more than 4 GiB of raw text", n)
			}
			b.rawEnds[i] = uint32(len(raw))
		}
		b.raw = string(raw)
		pw.scratch = raw
	}
	clear(rec)
	return b, nil
}

// fields sets rec (width long) to row i's fields; the block's rows have
// width fields each.
func (b *aheadBlock) fields(i int, rec []string) {
	w := b.width
	start := uint32(0)
	if i > 0 {
		start = b.ends[i*w-1]
	}
	for j, end := range b.ends[i*w : (i+1)*w] {
		rec[j] = b.text[start:end]
		start = end
	}
}

// record returns row i's fields in rec's memory; the rows are asked for in
// order (each row's first field follows the row before's).
func (b *aheadBlock) record(i int, rec []string) []string {
	if b.counts == nil {
		rec = resize(rec, b.width)
		b.fields(i, rec)
		return rec
	}
	if i != b.at {
		panic("readers: ahead rows out of order")
	}
	n := b.counts[i]
	start := uint32(0)
	if b.field > 0 {
		start = b.ends[b.field-1]
	}
	rec = rec[:0]
	for _, end := range b.ends[b.field : b.field+n] {
		rec = append(rec, b.text[start:end])
		start = end
	}
	b.at, b.field = i+1, b.field+n
	return rec
}

// next returns the next row in file order, as the sequential read does,
// in rec's memory.
func (a *aheadLanes) next(rec []string) ([]string, problem, error) {
	for a.cur == nil || a.row >= a.cur.rows() {
		if a.cur != nil {
			if a.cur.err != nil {
				return nil, problem{}, a.cur.err
			}
			if a.cur.end {
				return nil, problem{}, io.EOF
			}
			if a.cur.last {
				a.u++
			}
		}
		if a.units >= 0 && a.u >= a.units {
			a.cur = nil
			return nil, problem{}, io.EOF
		}
		b, ok := <-a.lanes[a.u%len(a.lanes)]
		if !ok { // a worker stops only after an error or end it sent, or on close
			return nil, problem{}, fmt.Errorf("%s %d: %w: the reader stopped", a.name, a.u, ErrCorrupt)
		}
		a.cur, a.row = b, 0
	}
	i := a.row
	a.row++
	return a.cur.record(i, rec), a.cur.probs[i], nil
}

// raw returns the raw text of the row next returned last.
func (a *aheadLanes) raw() string {
	if a.cur == nil || a.row == 0 || a.noRaw {
		return ""
	}
	start := uint32(0)
	if a.row > 1 {
		start = a.cur.rawEnds[a.row-2]
	}
	return a.cur.raw[start:a.cur.rawEnds[a.row-1]]
}

// sender returns worker w's send: a block to its lane, false once the read
// is closed.
func (a *aheadLanes) sender(w int) func(*aheadBlock) bool {
	lane := a.lanes[w]
	return func(b *aheadBlock) bool {
		select {
		case lane <- b:
			return true
		case <-a.done:
			return false
		}
	}
}

// close stops the workers and waits for them.
func (a *aheadLanes) close() {
	close(a.done)
	for _, lane := range a.lanes {
		for range lane { // unblock a worker waiting to send
		}
	}
	a.wg.Wait()
}
