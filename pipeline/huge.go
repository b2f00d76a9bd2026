package pipeline

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"claimsbatch/claim"
	"claimsbatch/engine"
	"claimsbatch/spill"
)

// A member with a huge history (hundreds of thousands of lines) is not
// decoded and adjudicated at once: decoded, a line with its text, result,
// LINE state record and the engine's copies of them costs about 1 KB. Its
// lines stay encoded as loaded (about 120 bytes), sorted through an index,
// and go to the engine in segments of segmentLines decoded lines with one
// engine.Member: each segment's results are written before the next is
// decoded into the same buffers. Its LINE records are made at the end, from
// the encoded lines in (claim_id, line_no) order, merged with the earlier
// runs' and written in batches. The outputs are those of adjudicating the
// member whole (engine.AdjudicateMember makes the same calls).

// hugeMemberLines is the most lines a member may have and still be
// decoded and adjudicated whole (Config.segmentFrom overrides it): past
// that, a member's lines are a chunk of their own anyway (maxKeptChunk).
const hugeMemberLines = maxKeptChunk

// segmentLines is how many lines of a huge member are decoded at a time.
const segmentLines = chunkLines

// hugeBlock is the size of the blocks hugeLines keeps its records in.
const hugeBlock = 1 << 20

// hugeLines is the lines of one member with a huge history, as loaded: the
// member-partition records (spill.Decoder.Record), each framed by its
// length, in blocks that are only appended to (the decoded lines' strings
// share them), and an index of the records.
type hugeLines struct {
	blocks [][]byte
	index  []hugeRef // SPEC order once sorted
}

// hugeRef is a record of hugeLines and its two leading sort keys.
type hugeRef struct {
	service, received claim.Date
	at                uint64 // block<<32 | offset in the block
}

// hugeLimit is the most lines a member of this run is adjudicated whole with.
func (r *run) hugeLimit() int32 {
	if r.cfg.segmentFrom > 0 {
		return int32(r.cfg.segmentFrom)
	}
	return hugeMemberLines
}

func newHugeLines(lines int32) *hugeLines {
	return &hugeLines{index: make([]hugeRef, 0, lines)}
}

// add keeps record rec of a line served on service and received on
// received.
func (h *hugeLines) add(rec []byte, service, received claim.Date) {
	need := binary.MaxVarintLen64 + len(rec)
	n := len(h.blocks)
	if n == 0 || cap(h.blocks[n-1])-len(h.blocks[n-1]) < need {
		h.blocks = append(h.blocks, make([]byte, 0, max(hugeBlock, need)))
		n++
	}
	b := h.blocks[n-1]
	h.index = append(h.index, hugeRef{service: service, received: received, at: uint64(n-1)<<32 | uint64(len(b))})
	b = binary.AppendUvarint(b, uint64(len(rec)))
	h.blocks[n-1] = append(b, rec...)
}

// record returns the record at at.
func (h *hugeLines) record(at uint64) []byte {
	b := h.blocks[at>>32][uint32(at):]
	n, k := binary.Uvarint(b)
	return b[k : k+int(n)]
}

// heads decodes the heads (spill.Decoder.LineHead) of the two records a
// sort compares; err reports a malformed one.
type heads struct {
	da, db spill.Decoder
	la, lb claim.Line
}

func (p *heads) of(h *hugeLines, a, b hugeRef) (*claim.Line, *claim.Line) {
	p.da.Load(h.record(a.at))
	p.da.LineHead(&p.la)
	p.db.Load(h.record(b.at))
	p.db.LineHead(&p.lb)
	return &p.la, &p.lb
}

func (p *heads) err() error {
	if err := cmp.Or(p.da.Err(), p.db.Err()); err != nil {
		return fmt.Errorf("pipeline: a huge member's lines: %w", err)
	}
	return nil
}

// sort puts the index in SPEC order (claim.Compare): the dates from the
// index, the rest of the key from the records when the dates tie.
func (h *hugeLines) sort() error {
	var p heads
	slices.SortFunc(h.index, func(a, b hugeRef) int {
		if c := cmp.Compare(a.service, b.service); c != 0 {
			return c
		}
		if c := cmp.Compare(a.received, b.received); c != 0 {
			return c
		}
		return claim.Compare(p.of(h, a, b))
	})
	return p.err()
}

// adjudicateHuge adjudicates a member with a huge history (ml.huge) in
// segments and writes its results and state, after every member before it
// was written.
func (a *adjudicator) adjudicateHuge(ctx context.Context, ml memberLines) error {
	r, e, h := a.r, a.r.engine, ml.huge
	// A Member of its own, dropped at the end with what it holds of the
	// member's lines (its duplicate-service keys share the records).
	m := e.NewMember()
	var arena engine.Arena
	in := engine.MemberRun{ID: r.ref.book.ID(ml.member), State: ml.state, Spans: ml.spans,
		KeepFrom: a.keepFrom, KeysFrom: a.keysFrom, LateBefore: r.state.keysFrom, Arena: &arena}
	if err := e.BeginMember(m, &in); err != nil {
		return fmt.Errorf("%w: state file %s: %w", ErrConfig, r.cfg.StateIn, err)
	}
	m.Reserve(len(h.index))
	n := min(len(h.index), segmentLines)
	lines := make([]claim.Line, n)
	results := make([]claim.Result, 0, n)
	var dec spill.Decoder
	for at := 0; at < len(h.index); at += segmentLines {
		if err := ctx.Err(); err != nil {
			return err
		}
		t0 := r.clock.start()
		seg := h.index[at:min(at+segmentLines, len(h.index))]
		lines = lines[:len(seg)]
		for i, ref := range seg {
			lines[i] = claim.Line{}
			dec.Load(h.record(ref.at))
			dec.Line(&lines[i])
		}
		if err := dec.Err(); err != nil {
			return fmt.Errorf("pipeline: a huge member's lines: %w", err)
		}
		results = e.Adjudicate(m, ml.spans, lines, results[:0])
		r.clock.done(stageAdjudicate, t0)
		// Written before the next segment reuses the lines they point at.
		t0 = r.clock.start()
		if err := a.rem.Write(results); err != nil {
			return err
		}
		r.countResults(results)
		a.pay.addLines(results)
		a.lines += int64(len(results))
		r.clock.done(stageRemittance, t0)
		a.progress()
	}
	a.pay.endMember(ml.member)
	clear(results)
	clear(lines)
	r.log.Debug("member adjudicated in segments", "lines", len(h.index), "segments", (len(h.index)+segmentLines-1)/segmentLines)
	a.segmented++

	// The state: the accumulators, then the LINE records of the earlier
	// runs and of this one, merged in (claim_id, line_no) order, written a
	// batch at a time.
	t0 := r.clock.start()
	defer func() { r.clock.done(stageState, t0) }()
	batch := e.AppendAccumulators(m, in.ID, in.KeepFrom, make([]claim.StateRecord, 0, segmentLines))
	earlier := m.LineRecords()
	keys := slices.DeleteFunc(h.index, func(ref hugeRef) bool { return ref.service < in.KeysFrom })
	var p heads
	slices.SortFunc(keys, func(a, b hugeRef) int {
		la, lb := p.of(h, a, b)
		return cmp.Or(strings.Compare(la.ClaimID, lb.ClaimID), cmp.Compare(la.LineNo, lb.LineNo))
	})
	if err := p.err(); err != nil {
		return err
	}
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := a.st.Write(batch); err != nil {
			return err
		}
		clear(batch)
		batch = batch[:0]
		arena.Reset()
		return nil
	}
	var l claim.Line
	cur := make([]claim.StateRecord, 0, 1) // this run's next LINE record, keys[0]'s
	next := func() error {
		for len(keys) > 0 {
			dec.Load(h.record(keys[0].at))
			dec.Line(&l)
			if err := dec.Err(); err != nil {
				return fmt.Errorf("pipeline: a huge member's lines: %w", err)
			}
			if cur = in.AppendLineRecord(cur[:0], &l); len(cur) > 0 {
				return nil
			}
			keys = keys[1:]
		}
		return nil
	}
	if err := next(); err != nil {
		return err
	}
	for len(earlier) > 0 || len(keys) > 0 {
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return err
			}
		}
		if len(keys) == 0 || len(earlier) > 0 && engine.CompareLineRecords(&earlier[0], &cur[0]) <= 0 {
			batch = append(batch, earlier[0])
			earlier = earlier[1:]
			continue
		}
		batch = append(batch, cur[0])
		keys = keys[1:]
		if err := next(); err != nil {
			return err
		}
	}
	return flush()
}
