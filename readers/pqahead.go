package readers

import (
	"context"
	"fmt"
	"io"
	"math"
	"sync"
	"unicode/utf8"
)

// A Parquet members file is read on every core: its row groups are handed
// out to goroutines, each of which reads its groups' rows with a
// parquetSource of its own over the shared file, text and raw text exactly
// as the sequential read makes them, in blocks; next then takes the blocks
// in file order. The file's row groups are read at once where the
// sequential read left one core idle (a 575 k-row members file took 1.1 s
// on one core, half of it in the Parquet decoder).
//
// Memory stays bounded whatever the row groups' sizes: a goroutine holds
// one block being filled and ready ones up to about lookaheadRows rows
// (batch.go), enough for a row group of the usual size to be read whole
// while the one before it is taken: with less the goroutines would take
// turns instead of overlapping. It costs about 0.6 KB a row ahead.

// aheadBlock is up to a batch of consecutive rows of one row group.
type aheadBlock struct {
	fields []string  // the rows' fields, row after row, width each
	width  int       // fields per row
	probs  []problem // per row
	raws   []string  // per row, as raw returns it
	err    error     // the read failed after the rows above
	last   bool      // the group's last block
}

// pqAhead is the parallel read of a parquetSource's row groups.
type pqAhead struct {
	groups int
	lanes  []chan *aheadBlock // worker w reads groups w, w+len(lanes), ...
	done   chan struct{}
	wg     sync.WaitGroup

	g   int // the group next reads
	cur *aheadBlock
	row int // next row of cur
}

// startAhead makes s read its row groups on workers goroutines from now on;
// it does nothing for a file of one row group or one worker.
func (s *parquetSource) startAhead(workers, batchSize int) {
	groups := s.pf.NumRowGroups()
	workers = min(workers, groups)
	if workers < 2 || s.rr != nil {
		return
	}
	a := &pqAhead{groups: groups, lanes: make([]chan *aheadBlock, workers), done: make(chan struct{})}
	in := pqInputOf(s, math.MaxInt32)
	for w := range a.lanes {
		a.lanes[w] = make(chan *aheadBlock, max(1, lookaheadRows/batchSize))
		if !arrowAhead {
			a.wg.Add(1)
			go func() {
				defer a.wg.Done()
				a.readTyped(in, w, batchSize)
			}()
			continue
		}
		// The worker's own source: the file, its columns and kinds shared,
		// the buffers and the record reader its own.
		ws := &parquetSource{pf: s.pf, fr: s.fr, leaves: s.leaves, fields: s.fields, types: s.types,
			kinds: s.kinds, names: s.names, rec: make([]string, len(s.rec)), ends: make([]int, len(s.ends))}
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			a.read(ws, w, batchSize)
		}()
	}
	s.ahead = a
}

// read reads groups w, w+len(lanes), ... with ws into lane w, until the
// last group, an error or close.
func (a *pqAhead) read(ws *parquetSource, w, batchSize int) {
	lane := a.lanes[w]
	defer close(lane)
	send := func(b *aheadBlock) bool {
		select {
		case lane <- b:
			return true
		case <-a.done:
			return false
		}
	}
	width := len(ws.rec) // a Parquet row always has every column
	newBlock := func() *aheadBlock {
		return &aheadBlock{width: width, fields: make([]string, 0, batchSize*width),
			probs: make([]problem, 0, batchSize), raws: make([]string, 0, batchSize)}
	}
	for g := w; g < a.groups; g += len(a.lanes) {
		b := newBlock()
		err := ws.openGroup(g)
		for err == nil {
			var rec []string
			var p problem
			rec, p, err = ws.next()
			if err == io.EOF {
				err = nil
				break
			}
			if err != nil {
				break
			}
			b.fields = append(b.fields, rec...)
			b.probs = append(b.probs, p)
			b.raws = append(b.raws, ws.raw())
			if len(b.probs) == batchSize {
				if !send(b) {
					return
				}
				b = newBlock()
			}
		}
		if ws.rr != nil {
			ws.rr.Release()
			ws.rr = nil
		}
		b.err, b.last = err, true
		if !send(b) || err != nil {
			return
		}
	}
}

// arrowAhead makes the workers read through arrow-go's record reader rather
// than its typed column readers (the tests compare the two).
var arrowAhead = false

// readTyped reads groups w, w+len(lanes), ... into lane w as read does, with
// the typed column readers of the claims reader (pqtyped.go): each column
// of a batch of rows at once into the rows' cells, then each row's text
// made from them as parquetSource.next makes it from Arrow arrays (the
// claims reader's text path checks the same equality). The raw text of a
// row is made only when asked for (an exception), from the block's rows.
func (a *pqAhead) readTyped(in *pqInput, w, batchSize int) {
	lane := a.lanes[w]
	defer close(lane)
	send := func(b *aheadBlock) bool {
		select {
		case lane <- b:
			return true
		case <-a.done:
			return false
		}
	}
	pw := new(pqWorker)
	for g := w; g < a.groups; g += len(a.lanes) {
		if !a.readTypedGroup(in, pw, g, batchSize, send) {
			return
		}
	}
}

// readTypedGroup sends the rows of group g in blocks of at most batchSize
// rows; false when it sent an error or the read was closed.
func (a *pqAhead) readTypedGroup(in *pqInput, pw *pqWorker, g, batchSize int, send func(*aheadBlock) bool) (ok bool) {
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
	// The errors as the Arrow read words them (parquetSource.next and
	// openGroup): the same file fails the same way on one goroutine.
	fail := func(err error) bool {
		if e, isExp := asExpansion(err); isExp {
			err = e
		}
		send(&aheadBlock{err: fmt.Errorf("%w: %w", ErrCorrupt, err), last: true})
		return false
	}
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
				return fail(err)
			}
		}
		// The rows' text in one buffer, then in one string that the
		// fields slice (ends: where each field ends in the buffer).
		b := &aheadBlock{width: width, fields: make([]string, n*width), probs: make([]problem, n), raws: make([]string, n)}
		text := pw.text[:0]
		ends := resize(pw.ends, n*width)
		var bad []int // rows whose text is not valid UTF-8
		for i := range n {
			start := len(text)
			for j := range in.cols {
				if in.cols[j].kind != 0 {
					text = rows.appendText(text, j, i)
				}
				ends[i*width+j] = len(text)
			}
			if !utf8.Valid(text[start:]) {
				bad = append(bad, i)
			}
		}
		all := string(text)
		start := 0
		for i := range n {
			rec := b.fields[i*width : (i+1)*width]
			for j, end := range ends[i*width : (i+1)*width] {
				rec[j] = all[start:end]
				start = end
			}
		}
		for _, i := range bad {
			b.probs[i] = invalidUTF8(b.fields[i*width : (i+1)*width])
		}
		// The raw texts here too, as the Arrow read makes them on its
		// goroutines (the members reader asks for every row's), in one
		// string: the used columns from the fields, the others from Arrow.
		raw := pw.scratch[:0]
		for i := range n {
			ends[i] = len(raw)
			rec := b.fields[i*width : (i+1)*width]
			for j, c := range in.cols {
				if j > 0 {
					raw = append(raw, ',')
				}
				if c.kind != 0 {
					raw = appendCSVField(raw, rec[j])
				} else if a, k := rows.cols[j].array(i); a != nil && !a.IsNull(k) {
					raw = appendCSVField(raw, a.ValueStr(k))
				}
			}
		}
		raws := string(raw)
		for i := range n {
			end := len(raws)
			if i+1 < n {
				end = ends[i+1]
			}
			b.raws[i] = raws[ends[i]:end]
		}
		rows.free(false) // nothing made from the rows is in their memory
		pw.text, pw.ends, pw.scratch = text, ends, raw
		done += n
		b.last = done == total
		rows = nil
		if !send(b) {
			return false
		}
	}
	return true
}

// openGroup points ws at row group g alone.
func (ws *parquetSource) openGroup(g int) (err error) {
	defer func() {
		if r := recover(); r != nil { // see newParquetSource
			err = decoderPanic("Parquet decoder", r)
		}
	}()
	ws.batch, ws.row = nil, 0
	ws.rr, err = ws.fr.GetRecordReader(context.Background(), ws.leaves, []int{g})
	if err != nil {
		ws.rr = nil
		return fmt.Errorf("opening the Parquet columns: %w: %w", ErrCorrupt, err)
	}
	return nil
}

// next returns the next row in file order, as parquetSource.next does.
func (a *pqAhead) next(s *parquetSource) ([]string, problem, error) {
	for a.cur == nil || a.row >= len(a.cur.probs) {
		if a.cur != nil {
			if a.cur.err != nil {
				return nil, problem{}, a.cur.err
			}
			if a.cur.last {
				a.g++
			}
		}
		if a.g >= a.groups {
			a.cur = nil
			return nil, problem{}, io.EOF
		}
		b, ok := <-a.lanes[a.g%len(a.lanes)]
		if !ok { // a worker stops only at an error it sent, or on close
			return nil, problem{}, fmt.Errorf("row group %d: %w: the reader stopped", a.g, ErrCorrupt)
		}
		a.cur, a.row = b, 0
	}
	i := a.row
	a.row++
	w := a.cur.width
	s.rec = append(s.rec[:0], a.cur.fields[i*w:(i+1)*w]...)
	return s.rec, a.cur.probs[i], nil
}

// raw returns the raw text of the row next returned last.
func (a *pqAhead) raw() string {
	if a.cur == nil || a.row == 0 {
		return ""
	}
	return a.cur.raws[a.row-1]
}

// close stops the workers and waits for them.
func (a *pqAhead) close() {
	close(a.done)
	for _, lane := range a.lanes {
		for range lane { // unblock a worker waiting to send
		}
	}
	a.wg.Wait()
}
