package readers

import (
	"bytes"
	"errors"
	"fmt"
	"math"
)

// A CSV members or state file is parsed on every core, as the claims file
// is (csvsplit.go): a producer goroutine reads the data rows in blocks cut
// at record ends (lastRecordEnd) and hands chunk k to worker k mod n, which
// parses it with the claims reader's csvParser (encoding/csv's records,
// errors and line numbers) and makes each row's fields, problem and raw
// text exactly as csvSource.next and raw make them, in blocks (pqahead.go's
// aheadBlock); next takes the blocks in chunk order. A 10 M-row CSV state
// took 8.3 s on one goroutine, 3.6 s of it in encoding/csv.
//
// Memory stays bounded as the Parquet read's: each worker holds its chunk
// and blocks up to about lookaheadRows rows ahead, the producer one block
// being read and one chunk waiting per worker.

// csvJob is a chunk of complete records for a worker, or the end of the
// data rows (with the read's error, if it failed).
type csvJob struct {
	data     []byte
	lineBase int // encoding/csv's line count at the chunk's start
	end      bool
	err      error
}

// csvAhead is the parallel parse of a csvSource's data rows.
type csvAhead struct {
	aheadLanes
	jobs []chan csvJob // worker w's chunks: w, w+len(jobs), ...
}

// startAhead makes s parse its data rows on workers goroutines from now on,
// with each row's raw text unless noRaw (a reader that never asks for it);
// it does nothing for one worker.
func (s *csvSource) startAhead(workers, batchSize int, noRaw bool) {
	if workers < 2 || s.ahead != nil {
		return
	}
	in := s.rest()
	a := &csvAhead{jobs: make([]chan csvJob, workers), aheadLanes: aheadLanes{lanes: make([]chan *aheadBlock, workers),
		done: make(chan struct{}), noRaw: noRaw, units: -1, name: "chunk"}}
	for w := range workers {
		a.jobs[w] = make(chan csvJob, 1)
		a.lanes[w] = make(chan *aheadBlock, max(1, lookaheadRows/batchSize))
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			a.parse(w, in.header, batchSize, in.maxRow)
		}()
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.produce(in)
	}()
	s.ahead = a
}

// produce reads the data rows in blocks and hands out the chunks of
// complete records, then the end (csvsplit.go's produceCSV, whose reads,
// cuts and failures it repeats).
func (a *csvAhead) produce(in *csvInput) {
	k := 0
	defer func() {
		for _, j := range a.jobs {
			close(j)
		}
	}()
	give := func(j csvJob) bool {
		select {
		case a.jobs[k%len(a.jobs)] <- j:
			k++
			return true
		case <-a.done:
			return false
		}
	}
	lineBase := in.lineBase
	stopped := errors.New("stopped")
	emit := func(_, data []byte, _ bool) error {
		j := csvJob{data: data, lineBase: lineBase}
		lineBase += bytes.Count(data, []byte{'\n'})
		if !give(j) {
			return stopped
		}
		return nil
	}
	newBlock := func(n int) []byte { return make([]byte, 0, max(csvBlock, n)+trackChunk) }
	switch err := cutRecords(in, newBlock, emit); err {
	case nil:
		give(csvJob{end: true})
	case stopped:
	default:
		var f inputFailed
		if errors.As(err, &f) {
			err = f.err
		}
		give(csvJob{end: true, err: err})
	}
}

// parse parses worker w's chunks into its lane.
func (a *csvAhead) parse(w int, header []string, batchSize, maxRow int) {
	defer close(a.lanes[w])
	send := a.sender(w)
	width := len(header)
	var p csvParser
	var text, raw []byte
	var ends, rawEnds []uint32
	for j := range a.jobs[w] {
		if j.end {
			send(&aheadBlock{width: width, err: j.err, last: true, end: true})
			return
		}
		p.reset(j.data, j.lineBase)
		ascii := isASCII(j.data)
		// A block's rows; its fields and raw texts are copied into one
		// string each when it is sent.
		var probs []problem
		var counts []int // per row: its field count (a bad row's may differ from width)
		flush := func(last bool, err error) bool {
			b := &aheadBlock{width: width, text: string(text), ends: ends, probs: probs, counts: counts, err: err, last: last}
			if !a.noRaw {
				b.raw, b.rawEnds = string(raw), rawEnds
			}
			text, raw, ends, rawEnds, probs, counts = text[:0], raw[:0], nil, nil, nil, nil
			return send(b)
		}
		for {
			start := p.pos
			fields, perr, ok := p.next()
			if !ok {
				break
			}
			body := skipBlankLines(j.data[start:p.pos])
			prob, err := chunkRecord(j.data[start:p.pos], body, fields, perr, header, maxRow, ascii)
			if err != nil {
				flush(true, err)
				return
			}
			for _, f := range fields {
				text = append(text, f...)
				ends = append(ends, uint32(len(text)))
			}
			probs = append(probs, prob)
			counts = append(counts, len(fields))
			if !a.noRaw {
				raw = append(raw, recordRaw(body)...)
				rawEnds = append(rawEnds, uint32(len(raw)))
			}
			if len(text) > math.MaxUint32/2 || len(raw) > math.MaxUint32/2 {
				flush(true, fmt.Errorf("readers: a block of %d rows holds more than 2 GiB of text", len(probs)))
				return
			}
			if len(probs) == batchSize && !flush(false, nil) {
				return
			}
		}
		if !flush(true, nil) {
			return
		}
	}
}
