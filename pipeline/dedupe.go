package pipeline

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"

	"claimsbatch/claim"
	"claimsbatch/spill"

	"golang.org/x/sync/errgroup"
)

// bytesPerLine is the memory one loaded line costs in step 3 (the Line
// value, its decoded text, its share of the sort index and results: 450
// bytes measured; and its claim.SortKey while its partition loads, 24).
const bytesPerLine = 450 + 24

// dedupeResult is what step 2 leaves for step 3.
type dedupeResult struct {
	drops      *spill.Partitions   // per member range, the (source, row) of its lines that are DUPLICATE_LINE
	duplicates []*spill.Partitions // DUPLICATE_LINE exceptions, each in input order
	state      *spill.Partitions   // --state-in member records by member range; nil without --state-in
	accepted   int64               // lines that passed every check
	active     int                 // members with lines or state
	repeats    int64               // DUPLICATE_LINE lines
}

func (d *dedupeResult) close() {
	if d == nil {
		return
	}
	d.drops.Close()
	for _, p := range d.duplicates {
		p.Close()
	}
	d.state.Close()
}

// memberPartitionLimit is how many member ranges the run can hold open: a
// file each for the lines, the drops, the --state-in records and the
// members' spans, besides the key partitions, their candidates and a
// margin.
func (r *run) memberPartitionLimit() int {
	free := spill.OpenFileLimit() - 2*maxKeyPartitions - 64
	return max(1, min(maxMemberPartitions, free/4))
}

// planMemberRanges splits the members into ranges of about a partition
// budget's worth of lines, state records and spans each. A member's lines
// are not known before the read, so they are estimated as the same for
// every member (estLines in all), and so are its spans (a loaded span costs
// about what a line does); the state records are known. A range the guess
// made too big is split when it is loaded (step 3), so a wrong guess costs
// time, never memory or results.
func (r *run) planMemberRanges(estLines int64) *memberRanges {
	ref := r.ref
	n := int32(ref.book.Len())
	perMember := float64(estLines+ref.spanRows) / float64(max(n, 1))
	var total float64
	for i := range n {
		total += perMember + float64(ref.state[i])
	}
	parts := clampPartitions(int64(total)*bytesPerLine, r.partitionBudget(), r.memberPartitionLimit())
	per := int64(total/float64(parts)) + 1
	weight := func(i int32) int64 { return int64(perMember+0.5) + int64(ref.state[i]) }
	return &memberRanges{ends: splitWeights(0, n, per, weight)}
}

// partitionBudget is the memory one loaded member partition may take: a
// twelfth of what the book leaves (one partition adjudicated, one loading,
// with the results, the payments and the Parquet writers' row groups beside
// them, the live heap stays near half the budget; measured: at an eighth,
// half the CPU of a Parquet run went to the garbage collector).
func (r *run) partitionBudget() int64 {
	budget := r.cfg.MemoryLimit - r.ref.bytes()
	return max(budget, r.cfg.MemoryLimit/2) / 12
}

// dedupe is step 2: the key partitions are independent, so workers take
// them in turn. In a partition the --state-in keys come first, then this
// run's in input order: the first copy of a (claim_id, line_no) is kept, a
// later one becomes DUPLICATE_LINE (its raw text is in its key record: the
// Bloom filter of step 1 flagged it) and its (source, row) joins the drops
// of its member's range.
//
// Only the keys the filter flagged can be a later copy (it has no false
// negatives), and step 1 wrote them to a candidates set besides: a
// partition's candidates (about 1 % of its keys, and every duplicate) are
// the only keys put in a table, and the partition's keys are streamed
// past it, the first copy of each candidate found on the way. A table of
// every key, as before, was two thirds of this step's CPU (its misses in a
// table of half a million keys).
func (r *run) dedupe(ctx context.Context, read *readResult, ranges *memberRanges, budget *spill.Budget) (*dedupeResult, error) {
	res := &dedupeResult{}
	keys := read.keys
	n := keys.Len()
	var err error
	if res.drops, err = spill.NewBuffered(r.spillDir, "drops", len(ranges.ends), budget); err != nil {
		return res, err
	}
	if !r.stream.on() { // a stream took the state's records in member order
		if res.state, err = r.splitState(ranges, budget); err != nil {
			return res, err
		}
	}
	var dropsMu sync.Mutex
	ws := make([]*dedupeWorker, min(r.cfg.Workers, n))
	for w := range ws {
		ws[w] = &dedupeWorker{r: r, keys: keys, cands: read.cands, ranges: ranges, drops: res.drops, dropsMu: &dropsMu, budget: budget, pool: r.blocks,
			exceptions: make([]int64, len(r.perFile))}
	}
	var progressMu sync.Mutex
	var done, total int64
	for p := range n {
		total += keys.Count(p)
	}
	next := make(chan int)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(next)
		for p := range n {
			select {
			case next <- p:
			case <-gctx.Done():
				return fmt.Errorf("pipeline: run interrupted: %w", gctx.Err())
			}
		}
		return nil
	})
	for _, w := range ws {
		g.Go(func() error {
			for p := range next {
				t0 := r.clock.start()
				if err := w.partition(p); err != nil {
					return err
				}
				r.clock.done(stageDedupe, t0)
				if r.cfg.Progress != nil {
					progressMu.Lock()
					done += keys.Count(p)
					r.cfg.Progress("deduplicating", done, total)
					progressMu.Unlock()
				}
			}
			return nil
		})
	}
	err = g.Wait()
	res.accepted = read.accepted
	for _, w := range ws {
		res.duplicates = append(res.duplicates, w.dups...)
		for src, x := range w.exceptions {
			res.accepted -= x
			res.repeats += x
			r.perFile[src].exceptions += x
			for range x {
				r.totals.AddException(claim.DuplicateLine)
			}
		}
	}
	if err != nil {
		return res, err
	}
	if err := res.drops.Finish(); err != nil {
		return res, err
	}
	for i := range int32(r.ref.book.Len()) {
		if r.ref.active(i) {
			res.active++
		}
	}
	return res, nil
}

// keyTable is the set of candidate keys of one key partition, by open
// addressing on the keys' hashes: a slot holds an index into keys (plus
// one), a hit compares the key itself. It replaces a Go map keyed by
// (claim_id, line_no), whose string hashing and probing were half of step
// 2's CPU; the keys' text stays in the decoder's blocks.
type keyTable struct {
	slots  []int32
	hashes []uint64
	keys   []keyEntry
	mask   uint64
}

type keyEntry struct {
	claimID string
	lineNo  int32
	found   bool  // the first copy of the key is found: source and row
	source  int32 // -1 = an earlier run (state)
	row     int64
}

// reset empties the table for about n keys, keeping its memory.
func (t *keyTable) reset(n int) {
	size := uint64(16)
	for size < uint64(2*n) {
		size *= 2
	}
	if uint64(cap(t.slots)) >= size {
		t.slots = t.slots[:size]
		clear(t.slots)
	} else {
		t.slots = make([]int32, size)
	}
	t.mask = size - 1
	clear(t.keys)
	t.keys, t.hashes = t.keys[:0], t.hashes[:0]
}

// firstOrAdd returns the entry already holding (claimID, lineNo), or adds
// e (whose hash is h) and returns nil. The table must have been reset for
// at least as many keys as are added.
func (t *keyTable) firstOrAdd(h uint64, e keyEntry) *keyEntry {
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		k := t.slots[i]
		if k == 0 {
			t.keys = append(t.keys, e)
			t.hashes = append(t.hashes, h)
			t.slots[i] = int32(len(t.keys))
			return nil
		}
		if t.hashes[k-1] == h {
			if x := &t.keys[k-1]; x.lineNo == e.lineNo && x.claimID == e.claimID {
				return x
			}
		}
	}
}

// find returns the entry holding (claimID, lineNo), or nil.
func (t *keyTable) find(h uint64, claimID string, lineNo int32) *keyEntry {
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		k := t.slots[i]
		if k == 0 {
			return nil
		}
		if t.hashes[k-1] == h {
			if x := &t.keys[k-1]; x.lineNo == lineNo && x.claimID == claimID {
				return x
			}
		}
	}
}

// dedupeWorker is one goroutine of step 2 and what it produced.
type dedupeWorker struct {
	r          *run
	keys       *spill.Partitions
	cands      *spill.Partitions // the keys step 1's Bloom filter flagged
	ranges     *memberRanges
	drops      *spill.Partitions
	dropsMu    *sync.Mutex
	budget     *spill.Budget
	dups       []*spill.Partitions // one set per key partition that had duplicates
	exceptions []int64             // DUPLICATE_LINE rows per claims file
	seen       keyTable
	pool       *spill.BlockPool // the blocks partition files are read into
}

// partition deduplicates key partition p.
func (w *dedupeWorker) partition(p int) error {
	r := w.r
	// One table per worker, reset between partitions: it keeps its memory,
	// and the partitions are of a size.
	seen := &w.seen
	seen.reset(int(w.cands.Count(p)))
	var k spill.Key
	cdec, err := w.cands.OpenPooled(p, w.pool)
	if err != nil {
		return err
	}
	for cdec.Next() {
		cdec.Key(&k)
		// The key's text stays in the decoder's blocks, which live as long
		// as this partition's table (reset for the next one).
		seen.firstOrAdd(keyHash(k.ClaimID, k.LineNo), keyEntry{claimID: k.ClaimID, lineNo: k.LineNo})
	}
	if err := cdec.Err(); err != nil {
		return err
	}
	w.cands.Release(p)
	dec, err := w.keys.OpenPooled(p, w.pool)
	if err != nil {
		return err
	}
	// The keys' and the candidates' blocks are read again for the next
	// partition: what outlives this one (the exceptions, the drops) is
	// copied into spill sets as it is found.
	defer func() {
		w.pool.Put(cdec.TakeBlocks())
		w.pool.Put(dec.TakeBlocks())
	}()
	// A partition's records are the state's keys, then this run's in input
	// order, so its duplicates are in input order too.
	var dups *spill.Partitions
	for dec.Next() {
		dec.Key(&k)
		if dec.Err() != nil {
			break
		}
		where := seen.find(keyHash(k.ClaimID, k.LineNo), k.ClaimID, k.LineNo)
		if where == nil {
			continue // not a candidate: the first copy of its key
		}
		if !where.found {
			where.found, where.source, where.row = true, k.Source, k.Row
			continue
		}
		if k.Source < 0 {
			continue // a key the state holds twice: the state is its own authority
		}
		if !k.HasRaw {
			return fmt.Errorf("pipeline: a duplicate line of %s row %d has no raw text (the Bloom filter missed it)", filepath.Base(r.cfg.Claims[k.Source]), k.Row)
		}
		x := DuplicateLine(r.cfg.Claims, k.Source, k.Row, k.ClaimID, k.LineNo, r.ref.book.ID(k.Member), k.Raw, where.source, where.row)
		if dups == nil {
			if dups, err = spill.NewBuffered(r.spillDir, "duplicates", 1, w.budget); err != nil {
				return err
			}
			w.dups = append(w.dups, dups)
		}
		if err := dups.WriteException(0, &x); err != nil {
			return fmt.Errorf("pipeline: spill: %w", err)
		}
		w.exceptions[k.Source]++
		atomic.AddInt32(&r.ref.lines[k.Member], -1)
		w.dropsMu.Lock()
		err := w.drops.WriteKey(w.ranges.of(k.Member), &spill.Key{Source: k.Source, Row: k.Row})
		w.dropsMu.Unlock()
		if err != nil {
			return fmt.Errorf("pipeline: spill: %w", err)
		}
	}
	if err := dec.Err(); err != nil {
		return err
	}
	w.keys.Release(p)
	if dups != nil {
		return dups.Finish()
	}
	return nil
}

// splitState writes the --state-in member records to the partition of their
// member's range; nil without --state-in.
func (r *run) splitState(ranges *memberRanges, budget *spill.Budget) (*spill.Partitions, error) {
	if r.state.records == nil {
		return nil, nil
	}
	parts, err := spill.NewBuffered(r.spillDir, "state-members", len(ranges.ends), budget)
	if err != nil {
		return nil, err
	}
	dec, err := r.state.records.Open(0)
	if err != nil {
		return parts, err
	}
	var rec claim.StateRecord
	for dec.Next() {
		dec.StateRecord(&rec)
		if err := parts.WriteState(ranges.of(r.ref.book.Find(rec.MemberID)), &rec); err != nil {
			return parts, fmt.Errorf("pipeline: spill: %w", err)
		}
	}
	if err := dec.Err(); err != nil {
		return parts, err
	}
	r.state.records.Release(0)
	return parts, parts.Finish()
}

// mergeExceptions writes the claims rows' exceptions of steps 1 and 2 in
// input order (file, row).
func mergeExceptions(read *readResult, dd *dedupeResult, emit func([]claim.Exception) error) error {
	return spill.MergeExceptions(append([]*spill.Partitions{read.exceptions}, dd.duplicates...), emit)
}
