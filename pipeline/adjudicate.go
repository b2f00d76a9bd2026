package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"claimsbatch/book"
	"claimsbatch/claim"
	"claimsbatch/engine"
	"claimsbatch/spill"
	"claimsbatch/writers"

	"golang.org/x/sync/errgroup"
)

// chunkLines is roughly how many lines one unit of parallel work holds: big
// enough to amortise the hand-off, small enough to keep workers busy and the
// results in flight few.
const chunkLines = 4096

// maxKeptChunk is the most results a chunk's kept buffers hold: a chunk of
// whole members passes chunkLines by at most a member, and one that passes
// this (a member with a huge history) gets buffers of its own, dropped once
// written, rather than growing the kept ones for the rest of the run.
const maxKeptChunk = 2 * chunkLines

// chunk is a run of consecutive members (in member_id order) and, once a
// worker has done it, their results and state records.
type chunk struct {
	members      []memberLines
	lines        int // lines and members: the size of the results
	results      []claim.Result
	state        []claim.StateRecord
	arena        engine.Arena             // the text of the state records' Detail
	rem          *writers.RemittanceBlock // the results encoded by the worker (CSV), or nil
	encoded      bool                     // rem holds the results
	done         chan struct{}            // closed by the worker
	stateWritten chan struct{}            // closed by the state writer
	tallied      chan struct{}            // closed by the tally
	// A marker chunk has no members: it passes through the pipeline in
	// order, and once every chunk before it is written the remittance
	// writer calls its release and closes its flushed (either may be nil).
	release func()
	flushed chan struct{}

	// staleResults and staleState are how many entries a reused buffer
	// held for its last chunk (see clearStale).
	staleResults, staleState int
}

// clearStale clears the entries of c's reused buffers past its own results
// and records: the last chunk's, which point into its partition's lines.
func (c *chunk) clearStale() {
	if n := len(c.results); n < c.staleResults && c.staleResults <= cap(c.results) {
		clear(c.results[n:c.staleResults])
	}
	if n := len(c.state); n < c.staleState && c.staleState <= cap(c.state) {
		clear(c.state[n:c.staleState])
	}
	c.staleResults, c.staleState = 0, 0
}

// chunkBuf is a chunk's result buffers, kept for the next chunk.
type chunkBuf struct {
	results []claim.Result
	state   []claim.StateRecord
	rem     *writers.RemittanceBlock
}

// memberLines is one member's lines of a partition, in SPEC order.
type memberLines struct {
	member int32 // number in the book
	lines  []claim.Line
	huge   *hugeLines          // instead of lines, for a member with a huge history
	state  []claim.StateRecord // its --state-in records, in file order
	spans  []claim.Span        // its spans, sorted by start; only with lines
	// unsorted: lines are in input order (a streamed member, stream.go),
	// sorted by the worker that adjudicates them.
	unsorted bool
}

// loadedPartition is one member range, loaded, grouped and sorted.
type loadedPartition struct {
	groups []memberLines
	lines  []claim.Line // the whole partition, which groups slice
	blocks [][]byte     // the run's pooled blocks its lines' strings point into
}

// adjudicator is step 3: it owns the output writers and the buffers that
// chunks and partitions reuse.
type adjudicator struct {
	r         *run
	read      *readResult
	dd        *dedupeResult
	ranges    *memberRanges
	budget    *spill.Budget
	keepFrom  claim.Date
	keysFrom  claim.Date
	rem       *writers.RemittanceWriter
	st        *writers.StateWriter
	remHash   *writers.HashingWriter
	stHash    *writers.HashingWriter
	pay       *payments
	lines     int64           // lines adjudicated and written
	segmented int             // members adjudicated in segments (huge.go)
	chunkBufs chan chunkBuf   // result buffers of written chunks, for reuse
	lineCap   int64           // the capacity a load makes its lines buffer with, at least
	lineBufs  int             // lines buffers made by loads (the rest reused)
	oversized int             // partitions loaded with more lines than lineCap
	keys      []claim.SortKey // the sort keys of the partition being loaded (one loader)
}

// newAdjudicator creates the remittance and state writers (the state's
// META rows written) and the payments table of step 3. dd may be nil
// until step 2 is done (a streamed run, stream.go).
func (r *run) newAdjudicator(pub *writers.Publisher, runID string, asOf claim.Date,
	read *readResult, dd *dedupeResult, ranges *memberRanges, budget *spill.Budget) (*adjudicator, error) {
	f := r.cfg.Format
	remFile, remHash, err := r.createRemittance(pub)
	if err != nil {
		return nil, err
	}
	rem, err := writers.NewRemittanceWriter(remFile, f, runID)
	if err != nil {
		return nil, err
	}
	stFile, stHash, err := createOutput(pub, writers.StateName+f.Ext())
	if err != nil {
		return nil, err
	}
	st, err := writers.NewStateWriter(stFile, f)
	if err != nil {
		return nil, err
	}
	timer := func(t0, t1 time.Time) { r.clock.doneAt(stageRowGroups, t0, t1) }
	rem.SetGroupTimer(timer)
	st.SetGroupTimer(timer)
	keepFrom, keysFrom := r.stateWindow(asOf)
	if err := st.Write(r.metaRecords(runID, asOf, keysFrom)); err != nil {
		return nil, err
	}
	return &adjudicator{r: r, read: read, dd: dd, ranges: ranges, budget: budget, keepFrom: keepFrom, keysFrom: keysFrom,
		rem: rem, st: st, remHash: remHash, stHash: stHash, pay: newPayments(r.ref.book),
		chunkBufs: make(chan chunkBuf, 2*r.cfg.Workers+1)}, nil
}

// adjudicateAndWrite adjudicates every member in parallel and writes
// remittance, payments and state in member order. It returns the outputs
// (remittance first) with their hashers.
func (r *run) adjudicateAndWrite(ctx context.Context, pub *writers.Publisher, runID string, asOf claim.Date,
	read *readResult, dd *dedupeResult, ranges *memberRanges, budget *spill.Budget) ([]writers.Output, []*writers.HashingWriter, error) {
	a, err := r.newAdjudicator(pub, runID, asOf, read, dd, ranges, budget)
	if err != nil {
		return nil, nil, err
	}

	// One goroutine loads (reads, groups, sorts) the next member partition
	// while the ones before it are adjudicated and written. At most three
	// partitions' lines are in memory (one loading, one adjudicated, one
	// whose last chunks are being written): a partition takes a token
	// before it is loaded and gives it back, with its lines buffer, once
	// its last chunk is written.
	// lineBufs holds as many buffers as there are tokens: when the loads
	// fall behind, all three partitions' buffers come back before the next
	// load, and a smaller channel dropped the last.
	lineBufs := make(chan []claim.Line, 3)
	tokens := make(chan struct{}, cap(lineBufs))
	// The few lines buffers that go round are made for the largest
	// partition (within what a release keeps), not for the partition that
	// first needs one: a buffer made for the one it is loading was made
	// again whenever the next partition was larger than the one that freed
	// it (18 times, 300 MB made and cleared, in a 10 M-line run).
	for q := range ranges.ends {
		a.lineCap = max(a.lineCap, a.read.members.Count(q))
	}
	a.lineCap = min(a.lineCap, 2*r.partitionBudget()/bytesPerLine)
	loaded := make(chan loadedPartition, 1)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(loaded)
		for q := range ranges.ends {
			t0 := r.clock.start()
			spans, err := a.loadSpans(q)
			if err != nil {
				return err
			}
			srcs, cleanup, err := a.partitionSources(q)
			if err != nil {
				return err
			}
			r.clock.done(stageLoad, t0)
			for _, src := range srcs {
				src.spans = spans
				select {
				case tokens <- struct{}{}:
				case <-gctx.Done():
					cleanup()
					return context.Cause(gctx)
				}
				var buf []claim.Line
				select {
				case buf = <-lineBufs:
				default:
				}
				t0 := r.clock.start()
				lp, err := a.loadPartition(src, buf)
				if err != nil {
					cleanup()
					return err
				}
				r.clock.done(stageLoad, t0)
				select {
				case loaded <- lp:
				case <-gctx.Done():
					cleanup()
					return context.Cause(gctx)
				}
			}
			cleanup()
		}
		return nil
	})
	pipe := a.startPipe(gctx, g)
	g.Go(func() error {
		defer pipe.close()
		for lp := range loaded {
			if err := a.adjudicateGroups(gctx, pipe, lp.groups); err != nil {
				return err
			}
			lines, blocks := lp.lines, lp.blocks
			release := func() {
				// Every chunk of the partition is written, counted and its
				// state written: nothing reads its lines' strings again
				// (the payments and totals keep copies).
				r.blocks.Put(blocks)
				// A buffer a member with a huge history grew past twice a
				// partition's budget is dropped, not kept for the rest of
				// the run.
				if int64(cap(lines))*bytesPerLine <= 2*r.partitionBudget() {
					// Kept with its lines, which point into the partition's
					// decoded records: the next load overwrites them and
					// clears what it leaves over (loadPartition), rather
					// than a clear here of every line (0.4 s of CPU in a
					// 10 M-line run).
					select {
					case lineBufs <- lines:
					default:
					}
				}
				<-tokens
			}
			if err := pipe.mark(release, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("pipeline: run interrupted: %w", err)
	}
	return a.finish(pub)
}

// finish closes the remittance and state writers, once every member is
// written, and writes the payments. It returns the outputs (remittance
// first) with their hashers.
func (a *adjudicator) finish(pub *writers.Publisher) ([]writers.Output, []*writers.HashingWriter, error) {
	r, rem, st, f := a.r, a.rem, a.st, a.r.cfg.Format
	if err := rem.Close(); err != nil {
		return nil, nil, err
	}
	if err := st.Close(); err != nil {
		return nil, nil, err
	}

	payFile, payHash, err := createOutput(pub, writers.PaymentsName+f.Ext())
	if err != nil {
		return nil, nil, err
	}
	pw, err := writers.NewPaymentsWriter(payFile, f)
	if err != nil {
		return nil, nil, err
	}
	rows := a.pay.table()
	if err := pw.Write(rows); err != nil {
		return nil, nil, err
	}
	if err := pw.Close(); err != nil {
		return nil, nil, err
	}
	r.log.Info("adjudicated", "lines", r.totals.LinesAdjudicated, "members", a.dd.active, "payees", len(rows), "segmented_members", a.segmented)
	if made, reused := r.blocks.Stats(); made > 0 {
		r.log.Debug("spill read blocks", "made", made, "reused", reused)
	}
	if a.lineBufs > 0 {
		r.log.Debug("partition lines buffers", "made", a.lineBufs, "partitions", a.read.members.Len(), "oversized", a.oversized)
	}
	outs := []writers.Output{
		{Name: writers.RemittanceName + f.Ext(), Rows: rem.Rows()},
		{Name: writers.PaymentsName + f.Ext(), Rows: pw.Rows()},
		{Name: writers.StateName + f.Ext(), Rows: st.Rows()},
	}
	return outs, []*writers.HashingWriter{a.remHash, payHash, a.stHash}, nil
}

// partSource is where a loaded partition's data is: its member records
// (lines) and --state-in records, for members lo to hi-1, and the (source,
// row) of the lines to skip (DUPLICATE_LINE), sorted.
type partSource struct {
	lines  *spill.Partitions
	li     int
	state  *spill.Partitions // nil without --state-in
	si     int
	drops  []pos
	lo, hi int32
	spans  *rangeSpans // of the whole member range
}

type pos struct {
	source int32
	row    int64
}

func (p pos) less(o pos) bool { return p.source < o.source || p.source == o.source && p.row < o.row }

// partitionSources returns the sources of member range q: itself, or when
// its lines and state records turned out bigger than a partition's budget
// (the ranges were planned before the lines were counted), sub-ranges that
// fit, routed through a spill set of their own. cleanup frees that set.
func (a *adjudicator) partitionSources(q int) ([]partSource, func(), error) {
	r := a.r
	lo, hi := a.ranges.bounds(q)
	drops, err := a.loadDrops(q)
	if err != nil {
		return nil, nil, err
	}
	whole := partSource{lines: a.read.members, li: q, state: a.dd.state, si: q, drops: drops, lo: lo, hi: hi}
	weight := func(i int32) int64 { return int64(r.ref.lines[i]) + int64(r.ref.state[i]) }
	var total int64
	for i := lo; i < hi; i++ {
		total += weight(i)
	}
	// Split only a range well over its budget, into at most maxSplit
	// sub-ranges: with a tiny budget every range is over it, and splitting
	// further than the open-file limit allows would only cost time.
	const maxSplit = 64
	budget := r.partitionBudget()
	if total*bytesPerLine <= 2*budget || hi-lo == 1 {
		return []partSource{whole}, func() {}, nil
	}
	parts := clampPartitions(total*bytesPerLine, budget, maxSplit)
	ends := splitWeights(lo, hi, (total+int64(parts)-1)/int64(parts), weight)
	sub := &memberRanges{ends: ends}
	offset := func(m int32) int { // sub-range of member m
		return sub.of(m)
	}
	lines, err := spill.NewBuffered(r.spillDir, fmt.Sprintf("split-%d", q), len(ends), a.budget)
	if err != nil {
		return nil, nil, err
	}
	var state *spill.Partitions
	cleanup := func() {
		lines.Close()
		state.Close()
	}
	fail := func(err error) ([]partSource, func(), error) {
		cleanup()
		return nil, nil, err
	}
	dec, err := a.read.members.Open(q)
	if err != nil {
		return fail(err)
	}
	var l claim.Line
	d := drops
	for dec.Next() {
		rec := dec.Rest()
		m := dec.LineHead(&l)
		if dec.Err() != nil {
			break
		}
		at := pos{l.Source, l.Row}
		for len(d) > 0 && d[0].less(at) {
			d = d[1:]
		}
		if len(d) > 0 && d[0] == at {
			continue
		}
		if m < lo || m >= hi {
			return fail(fmt.Errorf("pipeline: member partition %d: holds a member outside its range", q))
		}
		if err := lines.WriteRecord(offset(m), rec); err != nil {
			return fail(fmt.Errorf("pipeline: spill: %w", err))
		}
	}
	if err := dec.Err(); err != nil {
		return fail(err)
	}
	a.read.members.Release(q)
	if err := lines.Finish(); err != nil {
		return fail(err)
	}
	if a.dd.state != nil {
		if state, err = spill.NewBuffered(r.spillDir, fmt.Sprintf("split-state-%d", q), len(ends), a.budget); err != nil {
			return fail(err)
		}
		dec, err := a.dd.state.Open(q)
		if err != nil {
			return fail(err)
		}
		var rec claim.StateRecord
		for dec.Next() {
			dec.StateRecord(&rec)
			if err := state.WriteState(offset(r.ref.book.Find(rec.MemberID)), &rec); err != nil {
				return fail(fmt.Errorf("pipeline: spill: %w", err))
			}
		}
		if err := dec.Err(); err != nil {
			return fail(err)
		}
		a.dd.state.Release(q)
		if err := state.Finish(); err != nil {
			return fail(err)
		}
	}
	r.log.Debug("member range split", "range", q, "sub_ranges", len(ends), "weight", total)
	srcs := make([]partSource, len(ends))
	for s := range ends {
		slo, shi := sub.bounds(s)
		if s == 0 {
			slo = lo // sub has the range's ends only: its first starts at 0
		}
		srcs[s] = partSource{lines: lines, li: s, state: state, si: s, lo: slo, hi: shi}
	}
	return srcs, cleanup, nil
}

// loadSpans reads member range q's spans, of the members that have lines
// to adjudicate (the others, invalid ones among them, need none), each
// member's sorted by start as the book resolved them.
func (a *adjudicator) loadSpans(q int) (*rangeSpans, error) {
	r := a.r
	lo, hi := a.ranges.bounds(q)
	rs, err := r.loadSpans(q, lo, hi, func(m int32) bool { return r.ref.lines[m] > 0 })
	if err != nil {
		return nil, err
	}
	r.ref.spans.Release(q)
	for m := lo; m < hi; m++ {
		book.SortSpans(rs.of(m))
	}
	return rs, nil
}

// loadDrops reads the (source, row) of member range q's DUPLICATE_LINE
// lines, sorted.
func (a *adjudicator) loadDrops(q int) ([]pos, error) {
	drops := a.dd.drops
	if drops.Count(q) == 0 {
		return nil, nil
	}
	dec, err := drops.Open(q)
	if err != nil {
		return nil, err
	}
	out := make([]pos, 0, drops.Count(q))
	var k spill.Key
	for dec.Next() {
		dec.Key(&k)
		out = append(out, pos{k.Source, k.Row})
	}
	if err := dec.Err(); err != nil {
		return nil, err
	}
	drops.Release(q)
	slices.SortFunc(out, func(x, y pos) int {
		switch {
		case x.less(y):
			return -1
		case y.less(x):
			return 1
		}
		return 0
	})
	return out, nil
}

// loadPartition reads a partition's lines (skipping its drops) and groups
// them by member, in member_id order, with the members that have state but
// no lines. It decodes into buf (its capacity; nil makes one). The lines of
// a member with a huge history stay encoded (hugeLines).
func (a *adjudicator) loadPartition(src partSource, buf []claim.Line) (loadedPartition, error) {
	count := src.lines.Count(src.li)
	if count > a.lineCap {
		a.oversized++ // its buffer is made for it, and dropped after
	}
	lo, hi := src.lo, src.hi
	var hugeOf map[int32]*hugeLines // by member number
	for m := lo; m < hi; m++ {
		if n := a.r.ref.lines[m]; n > a.r.hugeLimit() {
			if hugeOf == nil {
				hugeOf = make(map[int32]*hugeLines)
			}
			hugeOf[m] = newHugeLines(n)
			count -= int64(n)
		}
	}
	// buf's lines are a loaded partition's (see the release in
	// adjudicateAndWrite): those not overwritten are cleared at the end.
	stale := buf
	loaded := buf[:0]
	if int64(cap(loaded)) < count {
		loaded, stale = make([]claim.Line, 0, max(count, a.lineCap)), nil
		a.lineBufs++
	}
	dec, err := src.lines.OpenPooled(src.li, a.r.blocks)
	if err != nil {
		return loadedPartition{}, err
	}
	// owner[i] is line i's member, less lo: the number its record carries.
	n := int(hi - lo)
	owner := make([]int32, 0, max(count, 0))
	// keys[i] is line i's sort key, taken while the line is in cache.
	keys := a.keys[:0]
	d := src.drops
	for dec.Next() {
		loaded = append(loaded, claim.Line{})
		l := &loaded[len(loaded)-1]
		m := dec.LineHead(l)
		if dec.Err() != nil {
			break // reported below
		}
		if len(d) > 0 {
			at := pos{l.Source, l.Row}
			for len(d) > 0 && d[0].less(at) {
				d = d[1:]
			}
			if len(d) > 0 && d[0] == at {
				loaded = loaded[:len(loaded)-1]
				continue
			}
		}
		if m < lo || m >= hi {
			return loadedPartition{}, fmt.Errorf("pipeline: member partition %d: holds a member outside its range", src.li)
		}
		dec.LineTail(l)
		if hugeOf != nil {
			if h := hugeOf[m]; h != nil {
				h.add(dec.Record(), l.ServiceDate, l.ReceivedDate)
				loaded = loaded[:len(loaded)-1]
				continue
			}
		}
		owner = append(owner, m-lo)
		keys = append(keys, claim.KeyOf(l))
	}
	a.keys = keys
	if err := dec.Err(); err != nil {
		return loadedPartition{}, err
	}
	if len(stale) > len(loaded) {
		clear(stale[len(loaded):])
	}
	src.lines.Release(src.li)
	for _, h := range hugeOf {
		if err := h.sort(); err != nil {
			return loadedPartition{}, err
		}
	}
	// Group by member with a counting sort on the member's position in the
	// range, then sort each member's few lines: far cheaper than comparing
	// member ids across the whole partition. Only 4-byte indices move; the
	// lines are permuted once at the end.
	start := make([]int32, n+1)
	for _, k := range owner {
		start[k+1]++
	}
	for k := 1; k <= n; k++ {
		start[k] += start[k-1]
	}
	order := make([]int32, len(loaded)) // order[target] = source
	next := slices.Clone(start[:n])
	for i, k := range owner {
		order[next[k]] = int32(i)
		next[k]++
	}
	owner, next = nil, nil
	for k := range n {
		seg := order[start[k]:start[k+1]]
		if len(seg) > 1 {
			slices.SortFunc(seg, func(a, b int32) int { return claim.CompareKeyed(&keys[a], &keys[b], &loaded[a], &loaded[b]) })
		}
	}
	// Apply the permutation in place, cycle by cycle, so the partition is
	// never held twice.
	lines := loaded
	for i := range order {
		if order[i] < 0 {
			continue
		}
		tmp := lines[i]
		cur := i
		for {
			next := int(order[cur])
			order[cur] = -1
			if next == i {
				lines[cur] = tmp
				break
			}
			lines[cur] = lines[next]
			cur = next
		}
	}
	order = nil
	state, stateStart, err := a.loadStatePartition(src)
	if err != nil {
		return loadedPartition{}, err
	}
	var groups []memberLines
	for k := range n {
		if m := lo + int32(k); a.r.ref.active(m) {
			g := memberLines{member: m, lines: lines[start[k]:start[k+1]], huge: hugeOf[m]}
			if len(g.lines) > 0 || g.huge != nil {
				g.spans = src.spans.of(m)
			}
			if state != nil {
				g.state = state[stateStart[k]:stateStart[k+1]]
			}
			groups = append(groups, g)
		}
	}
	return loadedPartition{groups: groups, lines: lines, blocks: dec.TakeBlocks()}, nil
}

// loadStatePartition reads the --state-in records of a partition and
// orders them by member, each member's in file order; member k's are
// records[start[k]:start[k+1]]. Without --state-in it returns nils.
func (a *adjudicator) loadStatePartition(src partSource) (records []claim.StateRecord, start []int32, err error) {
	parts, q, lo, hi := src.state, src.si, src.lo, src.hi
	if parts == nil {
		return nil, nil, nil
	}
	dec, err := parts.Open(q)
	if err != nil {
		return nil, nil, err
	}
	loaded := make([]claim.StateRecord, 0, parts.Count(q))
	for dec.Next() {
		loaded = append(loaded, claim.StateRecord{})
		dec.StateRecord(&loaded[len(loaded)-1])
	}
	if err := dec.Err(); err != nil {
		return nil, nil, err
	}
	parts.Release(q)
	n := int(hi - lo)
	start, owner, err := a.memberBuckets(lo, n, len(loaded), func(i int) string { return loaded[i].MemberID })
	if err != nil {
		return nil, nil, fmt.Errorf("pipeline: state partition %d: %w", q, err)
	}
	records = make([]claim.StateRecord, len(loaded))
	next := slices.Clone(start[:n])
	for i, k := range owner {
		records[next[k]] = loaded[i]
		next[k]++
	}
	return records, start, nil
}

// memberBuckets prepares a counting sort by member of count items whose
// members are numbers lo to lo+n-1: owner[i] is item i's member (less lo),
// and member k's items take positions start[k] to start[k+1]-1.
func (a *adjudicator) memberBuckets(lo int32, n, count int, memberID func(i int) string) (start, owner []int32, err error) {
	start = make([]int32, n+1)
	owner = make([]int32, count)
	for i := range count {
		k := a.r.ref.book.Find(memberID(i)) - lo
		if k < 0 || int(k) >= n {
			return nil, nil, errors.New("holds a member outside its range")
		}
		owner[i] = k
		start[k+1]++
	}
	for k := 1; k < len(start); k++ {
		start[k] += start[k-1]
	}
	return start, owner, nil
}

// adjudicateGroups hands the members of one partition to the pipeline,
// which writes their results and state in member order: those with a huge
// history are adjudicated here one by one in segments, once the pipeline
// has written every member before them, the others in parallel between
// them.
func (a *adjudicator) adjudicateGroups(ctx context.Context, pipe *chunkPipe, groups []memberLines) error {
	for len(groups) > 0 {
		k := slices.IndexFunc(groups, func(ml memberLines) bool { return ml.huge != nil })
		if k < 0 {
			return pipe.submit(groups)
		}
		if k > 0 {
			if err := pipe.submit(groups[:k]); err != nil {
				return err
			}
		}
		if err := pipe.flush(); err != nil {
			return err
		}
		if err := a.adjudicateHuge(ctx, groups[k]); err != nil {
			return err
		}
		groups[k].huge = nil // its records go to the collector
		groups = groups[k+1:]
	}
	return nil
}

// chunkPipe adjudicates chunks of members on Workers goroutines and writes
// them in order: the state, the tally and the remittance each on a
// goroutine of its own that takes every chunk in turn. It lives for the
// whole step, fed one partition after another, so that the workers start
// on the next partition while the writers finish the last chunks of the
// one before (when each partition had its own pipeline, the cores waited
// for the remittance writer at every partition's end).
type chunkPipe struct {
	a        *adjudicator
	ctx      context.Context
	work     chan *chunk
	follow   [3]chan *chunk // state, tally, remittance: every chunk, in order
	inFlight chan struct{}
}

// startPipe starts the pipeline's goroutines in g.
func (a *adjudicator) startPipe(ctx context.Context, g *errgroup.Group) *chunkPipe {
	r := a.r
	// At most 2 × workers chunks are adjudicated ahead of the writer, so the
	// results in memory stay bounded.
	p := &chunkPipe{a: a, ctx: ctx, work: make(chan *chunk), inFlight: make(chan struct{}, 2*r.cfg.Workers)}
	for i := range p.follow {
		p.follow[i] = make(chan *chunk, 2*r.cfg.Workers)
	}
	for range r.cfg.Workers {
		g.Go(func() error {
			m := r.engine.NewMember()
			var cur currencyInterner
			for c := range p.work {
				if len(c.members) == 0 {
					close(c.done)
					continue
				}
				t0 := r.clock.start()
				if err := a.adjudicateChunk(m, c); err != nil {
					return err
				}
				c.clearStale()
				// A CSV remittance is encoded here, on all workers; the
				// writer only writes the bytes. Not a huge member's chunk:
				// its bytes would come on top of its results.
				if c.rem != nil {
					c.encoded = a.rem.Encode(c.rem, c.results)
				}
				cur.intern(c.members)
				r.clock.done(stageAdjudicate, t0)
				close(c.done)
			}
			return nil
		})
	}
	// follow does work on every chunk, in chunk order, once its worker is
	// done with it, on a goroutine of its own.
	follow := func(in <-chan *chunk, work func(*chunk) error) {
		g.Go(func() error {
			for c := range in {
				select {
				case <-c.done:
				case <-ctx.Done():
					return ctx.Err()
				}
				if err := work(c); err != nil {
					return err
				}
			}
			return nil
		})
	}
	// The state is written beside the remittance: on a Parquet run each
	// writer is a core's work. The results are counted and their payments
	// summed beside both: on a Parquet run the remittance writer alone kept
	// a core busy, and the tally was a quarter of it.
	follow(p.follow[0], func(c *chunk) error {
		if len(c.members) > 0 {
			t0 := r.clock.start()
			if err := a.st.Write(c.state); err != nil {
				return err
			}
			r.clock.done(stageState, t0)
		}
		close(c.stateWritten)
		return nil
	})
	follow(p.follow[1], func(c *chunk) error {
		if len(c.members) > 0 {
			t0 := r.clock.start()
			if err := a.tally(c); err != nil {
				return err
			}
			r.clock.done(stageTally, t0)
		}
		close(c.tallied)
		return nil
	})
	follow(p.follow[2], func(c *chunk) error {
		if err := a.writeChunk(ctx, c); err != nil {
			return err
		}
		<-p.inFlight
		return nil
	})
	return p
}

// submit cuts a partition's members (none with a huge history) into chunks
// and hands them to the pipeline.
func (p *chunkPipe) submit(groups []memberLines) error {
	for start := 0; start < len(groups); {
		end, n := start, 0
		for end < len(groups) && (n < chunkLines || end == start) {
			n += len(groups[end].lines) + 1
			end++
		}
		if err := p.send(&chunk{members: groups[start:end], lines: n}); err != nil {
			return err
		}
		start = end
	}
	return nil
}

// mark sends a marker chunk: release is called and flushed closed (either
// may be nil) once every chunk sent before it is written.
func (p *chunkPipe) mark(release func(), flushed chan struct{}) error {
	return p.send(&chunk{release: release, flushed: flushed})
}

// flush waits until every chunk sent so far is written.
func (p *chunkPipe) flush() error {
	flushed := make(chan struct{})
	if err := p.mark(nil, flushed); err != nil {
		return err
	}
	select {
	case <-flushed:
		return nil
	case <-p.ctx.Done():
		return p.ctx.Err()
	}
}

// close ends the pipeline's input: its goroutines end once they have done
// every chunk.
func (p *chunkPipe) close() {
	close(p.work)
	for _, f := range p.follow {
		close(f)
	}
}

// send hands one chunk to the workers and the followers.
func (p *chunkPipe) send(c *chunk) error {
	a, ctx := p.a, p.ctx
	c.done, c.stateWritten, c.tallied = make(chan struct{}), make(chan struct{}), make(chan struct{})
	select {
	case p.inFlight <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	// The chunk's buffers are taken only now, so at most the chunks in
	// flight hold any; they go back when written. A chunk past
	// maxKeptChunk (one member with a huge history) gets buffers of its
	// own size, not kept afterwards: about a result and a state record
	// (its LINE key) a line.
	switch {
	case len(c.members) == 0:
	case c.lines > maxKeptChunk:
		records := c.lines + chunkLines
		for _, ml := range c.members {
			records += len(ml.state)
		}
		c.results = make([]claim.Result, 0, c.lines)
		c.state = make([]claim.StateRecord, 0, records)
	default:
		select {
		case b := <-a.chunkBufs:
			c.results, c.state, c.rem = b.results[:0], b.state[:0], b.rem
			c.staleResults, c.staleState = len(b.results), len(b.state)
		default:
			c.results = make([]claim.Result, 0, maxKeptChunk)
			c.state = make([]claim.StateRecord, 0, 3*chunkLines)
			c.rem = new(writers.RemittanceBlock)
		}
	}
	for _, f := range p.follow {
		select {
		case f <- c:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	select {
	case p.work <- c:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// tally counts an adjudicated chunk's results and sums their payments.
func (a *adjudicator) tally(c *chunk) error {
	a.r.countResults(c.results)
	// The providers' lines of the whole chunk at once (payments.addProviders
	// overlaps their misses), then the members' own, member by member.
	a.pay.addProviders(c.results)
	// The results are the chunk's members' lines, in member order.
	at := 0
	for _, ml := range c.members {
		n := len(ml.lines)
		if at+n > len(c.results) {
			return fmt.Errorf("pipeline: a chunk has %d results for more lines", len(c.results))
		}
		a.pay.addMemberPayees(c.results[at : at+n])
		a.pay.endMember(ml.member)
		at += n
	}
	return nil
}

// writeChunk writes an adjudicated chunk's results, then (once the state
// writer and the tally are done with it too) recycles its buffers.
func (a *adjudicator) writeChunk(ctx context.Context, c *chunk) error {
	r := a.r
	if len(c.members) == 0 {
		for _, ch := range [...]chan struct{}{c.stateWritten, c.tallied} {
			select {
			case <-ch:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if c.release != nil {
			c.release()
		}
		if c.flushed != nil {
			close(c.flushed)
		}
		return nil
	}
	t0 := r.clock.start()
	write := func() error { return a.rem.Write(c.results) }
	if c.encoded {
		write = func() error { return a.rem.WriteBlock(c.rem) }
	}
	if err := write(); err != nil {
		return err
	}
	a.lines += int64(len(c.results))
	r.clock.done(stageRemittance, t0)
	for _, ch := range [...]chan struct{}{c.stateWritten, c.tallied} {
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	// The buffers go back as they are, results and records still pointing
	// into the partition's lines: the next chunk overwrites them and clears
	// what it leaves over (clearStale), so a kept buffer keeps an old
	// partition alive only until it is taken again, a few chunks on.
	// Clearing them here cost 0.8 s of CPU in a 10 M-line run (2.9 GB
	// written, most of it overwritten right after).
	if cap(c.results) <= maxKeptChunk && cap(c.state) <= 4*maxKeptChunk {
		select {
		case a.chunkBufs <- chunkBuf{c.results, c.state, c.rem}:
		default:
		}
	}
	c.results, c.state, c.members, c.rem = nil, nil, nil, nil
	a.progress()
	return nil
}

// progress reports the lines written. While a stream adjudicates (dd not
// known yet) the read reports its own instead: Progress is called from one
// goroutine at a time.
func (a *adjudicator) progress() {
	if p := a.r.cfg.Progress; p != nil && a.dd != nil {
		p("adjudicating", a.lines, a.dd.accepted)
	}
}

// adjudicateChunk adjudicates the members of c with the worker's Member and
// collects their results and state records.
func (a *adjudicator) adjudicateChunk(m *engine.Member, c *chunk) error {
	r := a.r
	sortStreamed(c.members)
	touchRecords(c.members)
	for _, ml := range c.members {
		in := engine.MemberRun{ID: r.ref.book.ID(ml.member), Lines: ml.lines, State: ml.state, Spans: ml.spans,
			KeepFrom: a.keepFrom, KeysFrom: a.keysFrom, LateBefore: r.state.keysFrom, Arena: &c.arena}
		var err error
		if c.results, c.state, err = r.engine.AdjudicateMember(m, &in, c.results, c.state); err != nil {
			return fmt.Errorf("%w: state file %s: %w", ErrConfig, r.cfg.StateIn, err)
		}
	}
	return nil
}

// loadSink receives the result of the loops that only load memory ahead
// of the work that needs it (touchRecords, the Bloom filter's and the
// payments' first passes), so that the compiler keeps their loads. An
// atomic store: the workers load ahead at the same time.
var loadSink atomic.Uint64

// keepLoads stores x, made from loads ahead, in loadSink.
func keepLoads(x uint64) { loadSink.Store(x) }

// touchRecords reads, before a chunk is adjudicated, one byte at the start
// of each of its lines' records (the claim id), one at the start of its
// texts, one at its country (the engine's first comparison) and one at the
// end of its texts. A line's strings point into the spill block
// its record was read into, long enough before to have left the caches,
// and the engine reads them in member and date order, not the block's: its
// first read of each record was a miss to memory, one after another. Here
// the loads do not depend on each other, so the processor has many misses
// in flight at once, and the engine and the remittance encoder then find
// the records in the caches. Measured on the 10 M sets in alternating
// single runs, CPU: CSV 0.891, Parquet 0.964 of the run without it (median
// of four rounds; CSV without huge pages 0.934). A loop that read every
// record whole, tried in the fifth session on the layout of then, only
// moved the cost; why this one does not was not measured further.
func touchRecords(members []memberLines) {
	var x byte
	for i := range members {
		lines := members[i].lines
		for j := range lines {
			l := &lines[j]
			if n := len(l.ClaimID); n > 0 {
				x ^= *unsafe.StringData(l.ClaimID)
			}
			if n := len(l.BenefitCode); n > 0 {
				x ^= *unsafe.StringData(l.BenefitCode)
			}
			if n := len(l.Country); n > 0 {
				x ^= *unsafe.StringData(l.Country)
			}
			if n := len(l.PlanCurrency); n > 0 {
				x ^= l.PlanCurrency[n-1]
			}
		}
	}
	keepLoads(uint64(x))
}

// currencyInterner makes the currency fields of lines share one copy of
// each currency code's text.
type currencyInterner struct {
	codes []string          // the three-letter codes seen (most runs have a few)
	at    claim.CodeIndex   // where each of codes is in it
	more  map[string]string // the others, up to maxInterned
}

// maxInterned bounds the codes an interner keeps (ISO 4217 has about 180).
const maxInterned = 256

// intern points the billed and plan currencies of the members' lines at
// the interner's copies of their codes. The worker does it once the engine
// and the remittance encoder have read the lines, while their records are
// in its caches; the tally, the payments and the Parquet writer then
// compare and copy currencies that stay in the caches, rather than read
// each line's record once more from memory.
func (ci *currencyInterner) intern(members []memberLines) {
	for i := range members {
		lines := members[i].lines
		for j := range lines {
			l := &lines[j]
			l.Currency = ci.of(l.Currency)
			l.PlanCurrency = ci.of(l.PlanCurrency)
		}
	}
}

// of returns the interner's copy of s (s itself past maxInterned codes).
func (ci *currencyInterner) of(s string) string {
	if k, ok := ci.at.Find(s); ok {
		return ci.codes[k]
	}
	if c, ok := ci.more[s]; ok {
		return c
	}
	if len(ci.codes)+len(ci.more) >= maxInterned {
		return s
	}
	c := strings.Clone(s) // not the line's decoded record
	if ci.at.Put(c, int32(len(ci.codes))) {
		ci.codes = append(ci.codes, c)
	} else {
		if ci.more == nil {
			ci.more = map[string]string{}
		}
		ci.more[c] = c
	}
	return c
}
