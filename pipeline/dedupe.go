package pipeline

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"claimsbatch/claim"
	"claimsbatch/spill"

	"golang.org/x/sync/errgroup"
)

// bytesPerLine is the measured memory one loaded line costs in step 3 (the
// Line value, its decoded text, its share of the sort index and results).
const bytesPerLine = 450

// dedupeResult is what step 2 leaves for step 3.
type dedupeResult struct {
	members    []*spill.Partitions // deduplicated lines by member range, one set per worker
	duplicates []*spill.Partitions // DUPLICATE_LINE rows, each in input order
	state      *spill.Partitions   // --state-in member records by member range; nil without --state-in
	rangeEnds  []int32             // end (exclusive member number) of each member range
	accepted   int64               // lines that passed every check
	active     int                 // members with lines or state
}

func (d *dedupeResult) close() {
	if d == nil {
		return
	}
	for _, p := range d.members {
		p.Close()
	}
	for _, p := range d.duplicates {
		p.Close()
	}
	d.state.Close()
}

// rangeOf returns the member range of member number m.
func (d *dedupeResult) rangeOf(m int32) int {
	q, _ := slices.BinarySearch(d.rangeEnds, m+1)
	return q
}

// memberPartitionLimit is how many member partitions the run can hold open:
// one file each per dedupe worker and one for the --state-in records, besides
// the claim partitions, the state's key partitions and a margin.
func (r *run) memberPartitionLimit() int {
	free := spill.OpenFileLimit() - 2*maxPartitions - 64
	return max(1, min(maxMemberPartitions, free/(max(1, r.cfg.Workers)+1)))
}

// memberRanges splits the members (numbered in member_id order) into
// consecutive ranges of about a budget's worth of lines and state records
// each. It returns each range's end (exclusive) and the active members.
func (r *run) memberRanges() (ends []int32, active int) {
	ref := r.ref
	n := int32(ref.book.Len())
	var total int64
	// A member's weight is its lines and its state records: both are
	// loaded with its partition.
	weight := func(i int32) int64 { return int64(ref.lines[i]) + int64(ref.state[i]) }
	for i := range n {
		total += weight(i)
		if ref.active(i) {
			active++
		}
	}
	// A twelfth of the budget per loaded partition (one adjudicated, one
	// loading) keeps the live heap near half of it with the results, the
	// payments and the Parquet writers' row groups, so the garbage collector
	// is not driven by the limit (measured: at an eighth, half the CPU went
	// to the collector on a Parquet run).
	budget := r.cfg.MemoryLimit - ref.bytes()
	budget = max(budget, r.cfg.MemoryLimit/2) / 12 // two partitions may be loaded at once
	parts := clampPartitions(total*bytesPerLine, budget, r.memberPartitionLimit())
	per := (total + int64(parts) - 1) / int64(parts)
	var acc int64
	for i := range n {
		acc += weight(i)
		if acc >= per {
			ends = append(ends, i+1)
			acc = 0
		}
	}
	if len(ends) == 0 || ends[len(ends)-1] != n {
		ends = append(ends, n)
	}
	return ends, active
}

// dedupe is step 2. Claim partitions are independent, so workers take them
// in turn; each worker writes its own member partition files (step 3 reads a
// range from all of them) and its own duplicate files, and keeps its own
// counts, added up at the end.
func (r *run) dedupe(ctx context.Context, read *readResult) (*dedupeResult, error) {
	res := &dedupeResult{}
	res.rangeEnds, res.active = r.memberRanges()
	claims := read.claims
	n := claims.Len()
	r.log.Info("partitioned", "mode", "spill partitions (the input's order is not relied on)",
		"claim_partitions", n, "member_ranges", len(res.rangeEnds), "memory_limit_mib", r.cfg.MemoryLimit>>20)
	var err error
	if res.state, err = r.splitState(res); err != nil {
		return res, err
	}
	var spilled int64
	for p := range n {
		spilled += claims.Count(p)
	}
	ws := make([]*dedupeWorker, min(r.cfg.Workers, n))
	for w := range ws {
		parts, err := spill.New(r.spillDir, fmt.Sprintf("members-w%d", w), max(1, len(res.rangeEnds)))
		if err != nil {
			return res, err
		}
		ws[w] = &dedupeWorker{r: r, res: res, claims: claims, members: parts, exceptions: make([]int64, len(r.perFile))}
		res.members = append(res.members, parts)
	}
	var progressMu sync.Mutex
	var done int64
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
				if err := w.partition(p); err != nil {
					return err
				}
				if r.cfg.Progress != nil {
					progressMu.Lock()
					done += claims.Count(p)
					r.cfg.Progress("deduplicating", done, spilled)
					progressMu.Unlock()
				}
			}
			return w.members.Finish()
		})
	}
	err = g.Wait()
	for _, w := range ws {
		res.duplicates = append(res.duplicates, w.dups...)
		res.accepted += w.accepted
		for src, x := range w.exceptions {
			r.perFile[src].exceptions += x
			for range x {
				r.totals.AddException(claim.DuplicateLine)
			}
		}
	}
	return res, err
}

type lineKey struct {
	claimID string
	lineNo  int32
}

type lineWhere struct {
	source int32 // -1 = an earlier run (state)
	row    int64
}

// dedupeWorker is one goroutine of step 2 and what it produced.
type dedupeWorker struct {
	r          *run
	res        *dedupeResult
	claims     *spill.Partitions
	members    *spill.Partitions   // deduplicated lines by member range
	dups       []*spill.Partitions // one file per claim partition that had duplicates
	accepted   int64
	exceptions []int64 // DUPLICATE_LINE rows per claims file
	seen       map[lineKey]lineWhere
}

// partition deduplicates claim partition p.
func (w *dedupeWorker) partition(p int) error {
	r := w.r
	var stateKeys int64
	if keys := r.state.keys; keys != nil {
		stateKeys = keys.Count(p)
	}
	// One map per worker, cleared between partitions: a cleared map keeps
	// its table, and the partitions are of a size.
	if w.seen == nil {
		w.seen = make(map[lineKey]lineWhere, w.claims.Count(p)+stateKeys)
	}
	seen := w.seen
	clear(seen)
	// The keys adjudicated by earlier runs (--state-in) of this partition.
	if stateKeys > 0 {
		dec, err := r.state.keys.Open(p)
		if err != nil {
			return err
		}
		var rec claim.StateRecord
		for dec.Next() {
			dec.StateRecord(&rec)
			seen[lineKey{strings.Clone(rec.Key), int32(rec.Count)}] = lineWhere{source: -1}
		}
		if err := dec.Err(); err != nil {
			return err
		}
		r.state.keys.Release(p)
	}
	dec, err := w.claims.Open(p)
	if err != nil {
		return err
	}
	// A partition's records are in input order, so its duplicates are too.
	var dups *spill.Partitions
	var l claim.Line
	for dec.Next() {
		// The raw text, then the line's fields; of those only the head is
		// needed here, and an accepted line's fields are copied as bytes.
		raw := dec.Str()
		fields := dec.Rest()
		dec.LineHead(&l)
		if dec.Err() != nil {
			break
		}
		key := lineKey{l.ClaimID, l.LineNo}
		if where, dup := seen[key]; dup {
			msg := "this claim_id and line_no were adjudicated by an earlier run (--state-in)"
			if where.source >= 0 {
				msg = fmt.Sprintf("this claim_id and line_no were already accepted from %s row %d", filepath.Base(r.cfg.Claims[where.source]), where.row)
			}
			x := claim.Exception{Source: filepath.Base(r.cfg.Claims[l.Source]), SourceNo: l.Source, Row: l.Row,
				ClaimID: l.ClaimID, LineNo: fmt.Sprint(l.LineNo), MemberID: l.MemberID, Code: claim.DuplicateLine, Field: "line_no", Message: msg, Raw: raw}
			if dups == nil {
				if dups, err = spill.New(r.spillDir, "duplicates", 1); err != nil {
					return err
				}
				w.dups = append(w.dups, dups)
			}
			if err := dups.WriteException(0, &x); err != nil {
				return fmt.Errorf("pipeline: spill: %w", err)
			}
			w.exceptions[x.SourceNo]++
			continue
		}
		// A clone, so the map does not keep the whole decoded record alive.
		seen[lineKey{strings.Clone(l.ClaimID), l.LineNo}] = lineWhere{source: l.Source, row: l.Row}
		w.accepted++
		if err := w.members.WriteRecord(w.res.rangeOf(r.ref.book.Find(l.MemberID)), fields); err != nil {
			return fmt.Errorf("pipeline: spill: %w", err)
		}
	}
	if err := dec.Err(); err != nil {
		return err
	}
	w.claims.Release(p)
	if dups != nil {
		return dups.Finish()
	}
	return nil
}

// splitState writes the --state-in member records to the partition of their
// member's range; nil without --state-in.
func (r *run) splitState(res *dedupeResult) (*spill.Partitions, error) {
	if r.state.records == nil {
		return nil, nil
	}
	parts, err := spill.New(r.spillDir, "state-members", len(res.rangeEnds))
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
		if err := parts.WriteState(res.rangeOf(r.ref.book.Find(rec.MemberID)), &rec); err != nil {
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
