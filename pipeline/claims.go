package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"claimsbatch/claim"
	"claimsbatch/engine"
	"claimsbatch/readers"

	"golang.org/x/sync/errgroup"
)

// Memory model. Accepted lines never stay in memory as a whole: the run
// streams them into spill files in two steps, so peak memory depends on the
// memory budget, not on the number of lines.
//
//  1. read: every claims file goes through the readers and the run-level checks
//     (member, FX); an accepted line is written with its raw text to one of
//     the "claim" partitions, chosen by a hash of (claim_id, line_no), and a
//     rejected row to the exceptions spill, in input order.
//  2. dedupe: each claim partition is read back in input order, after the
//     --state-in line keys of the same partition; the first copy of a
//     (claim_id, line_no) is kept (its fields' bytes copied to the "member"
//     partition of its member's range), a later one becomes DUPLICATE_LINE.
//     A claim partition's keys are all that is in memory. The --state-in
//     member records are split by member range too.
//  3. adjudicate: member partitions cover consecutive member_id ranges sized
//     from each member's lines and state records, so reading them in order
//     gives the SPEC's output order; one partition at a time is loaded (the
//     next while the current is adjudicated), grouped by member and
//     adjudicated in parallel.
//
// What stays in memory for the whole run is sized by members, not lines:
// the book (book.go), the FX rates and the payees' totals. The exceptions of
// steps 1 and 2 are merged by (file, row) at the end.

// bytesPerLine is the measured memory one loaded line costs in step 3 (the
// Line value, its decoded text, its share of the sort index and results).
const bytesPerLine = 450

// bytesPerKey is what one key costs in the dedupe map of step 2.
const bytesPerKey = 96

// maxPartitions bounds the claim partitions (whose size only sets the
// dedupe map's); the member partitions must each fit the budget whatever the
// input size, so they may be many more: up to maxMemberPartitions, within
// the open-file limit (each dedupe worker holds one file per partition).
const (
	maxPartitions       = 256
	maxMemberPartitions = 4096
)

// memberPartitionLimit is how many member partitions the run can hold open:
// one file each per dedupe worker and one for the --state-in records, besides
// the claim partitions, the state's key partitions and a margin.
func (j *job) memberPartitionLimit() int {
	free := openFileLimit() - 2*maxPartitions - 64
	return max(1, min(maxMemberPartitions, free/(max(1, j.cfg.Workers)+1)))
}

// claimPartitionCount picks the number of claim partitions from the input
// size and the memory budget.
func (j *job) claimPartitionCount() int {
	var bytes int64
	// The state's LINE keys join the claim keys in the dedupe maps.
	for _, path := range append(slices.Clip(j.cfg.Claims), j.cfg.StateIn) {
		if path == "" {
			continue
		}
		if st, err := os.Stat(path); err == nil {
			per := int64(60) // bytes per line of CSV
			if filepath.Ext(path) == ".parquet" || filepath.Ext(path) == ".gz" {
				per = 15
			}
			bytes += st.Size() / per * bytesPerKey
		}
	}
	// Each worker of step 2 holds one partition's keys at a time.
	return clampPartitions(bytes, j.cfg.MemoryLimit/int64(4*max(1, j.cfg.Workers)))
}

func clampPartitions(need, budget int64) int {
	return clampPartitionsTo(need, budget, maxPartitions)
}

func clampPartitionsTo(need, budget int64, most int) int {
	if budget <= 0 {
		budget = 1
	}
	n := (need + budget - 1) / budget
	return int(max(1, min(n, int64(most))))
}

func claimHash(l *claim.Line, n int) int {
	if n == 1 {
		return 0
	}
	// FNV-1a, inline: no allocation per line.
	h := uint64(14695981039346656037)
	for i := 0; i < len(l.ClaimID); i++ {
		h ^= uint64(l.ClaimID[i])
		h *= 1099511628211
	}
	for v, k := uint32(l.LineNo), 0; k < 4; k++ {
		h ^= uint64(byte(v >> (8 * k)))
		h *= 1099511628211
	}
	return int(h % uint64(n))
}

// readClaims is step 1.
func (j *job) readClaims(ctx context.Context) error {
	j.perFile = make([]fileCount, len(j.cfg.Claims))
	var err error
	if j.claimParts, err = newPartitions(j.spillDir, "claims", j.claimPartN); err != nil {
		return err
	}
	if j.readerEx, err = newPartitions(j.spillDir, "exceptions", 1); err != nil {
		return err
	}
	// Parsing and checking run on this goroutine; encoding and writing the
	// accepted lines to the claim partitions on another, a batch at a time.
	g, gctx := errgroup.WithContext(ctx)
	batches := make(chan []spillItem, 2)
	free := make(chan []spillItem, 3)
	g.Go(func() error {
		for batch := range batches {
			for i := range batch {
				it := &batch[i]
				if err := j.claimParts.writeLine(claimHash(&it.line, len(j.claimParts.files)), &it.line, it.raw); err != nil {
					return fmt.Errorf("pipeline: spill: %w", err)
				}
			}
			clear(batch)
			select {
			case free <- batch[:0]:
			default:
			}
		}
		return nil
	})
	var total int64
	g.Go(func() error {
		defer close(batches)
		for i, path := range j.cfg.Claims {
			if err := j.readClaimsFile(gctx, int32(i), path, &total, batches, free); err != nil {
				return err
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return err
	}
	j.totals.LinesRead = total
	if err := j.claimParts.finish(); err != nil {
		return err
	}
	return j.readerEx.finish()
}

// spillItem is an accepted line on its way to a claim partition.
type spillItem struct {
	line claim.Line
	raw  string
}

func (j *job) readClaimsFile(ctx context.Context, source int32, path string, total *int64, batches chan<- []spillItem, free chan []spillItem) error {
	var r *readers.ClaimsReader
	var pending []spillItem
	check := func(l *claim.Line) (claim.ExceptionCode, string, string) {
		if code, field, msg := j.check(l); code != "" {
			return code, field, msg
		}
		pending = append(pending, spillItem{line: *l, raw: r.Raw()})
		if j.asOf == claim.NoDate || l.ReceivedDate > j.asOf {
			j.asOf = l.ReceivedDate
		}
		return "", "", ""
	}
	r, err := readers.OpenClaims(path, source, j.plan, readers.Options{BatchSize: j.cfg.BatchSize, Check: check})
	if err != nil {
		return configError(err)
	}
	defer r.Close()
	fc := &j.perFile[source]
	for r.Next() {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("pipeline: run interrupted: %w", context.Cause(ctx))
		}
		if len(pending) > 0 {
			select {
			case batches <- pending:
			case <-ctx.Done():
				return fmt.Errorf("pipeline: run interrupted: %w", context.Cause(ctx))
			}
			select {
			case pending = <-free:
			default:
				pending = nil
			}
		}
		ex := r.Exceptions()
		for k := range ex {
			j.totals.AddException(ex[k].Code)
			if err := j.readerEx.writeException(0, &ex[k]); err != nil {
				return fmt.Errorf("pipeline: spill: %w", err)
			}
		}
		fc.exceptions += int64(len(ex))
		if j.cfg.Progress != nil {
			j.cfg.Progress("reading", *total+r.Rows(), 0)
		}
	}
	if err := r.Err(); err != nil {
		return err
	}
	if len(pending) > 0 {
		select {
		case batches <- pending:
		case <-ctx.Done():
			return fmt.Errorf("pipeline: run interrupted: %w", context.Cause(ctx))
		}
	}
	fc.rows = r.Rows()
	*total += fc.rows
	j.log.Info("claims file read", "file", filepath.Base(path), "rows", fc.rows, "exceptions", fc.exceptions)
	return r.Close()
}

// check applies the run-level row checks of SPEC section 7 that need no
// other row (UNKNOWN_MEMBER, INVALID_MEMBER, NO_FX_RATE) to a line that
// passed the reader's own, and prices it in the plan currency.
func (j *job) check(l *claim.Line) (claim.ExceptionCode, string, string) {
	b := j.book
	m := b.find(l.MemberID)
	if m < 0 || b.absent[m] {
		return claim.UnknownMember, "member_id", "member_id is not in the members file"
	}
	if why, bad := b.invalid[m]; bad {
		return claim.InvalidMember, "member_id", "the member's coverage is invalid: " + why
	}
	j.checkSpans = b.spansOf(m, j.checkSpans)
	span := &j.checkSpans[engine.CurrencySpan(j.checkSpans, l.ServiceDate)]
	l.PlanCurrency = span.PlanCurrency
	switch {
	case j.plan.Benefit(l.Benefit).IsCash():
		// A cash benefit pays a fixed amount in the plan currency: billed_amount
		// is ignored, so its currency needs no rate.
		l.Charge, l.FXRate = 0, ""
	case l.Currency == span.PlanCurrency:
		l.Charge, l.FXRate = l.Billed, "1"
	default:
		rate, ok := j.fx.lookup(l.Currency, span.PlanCurrency, l.ServiceDate)
		if !ok {
			return claim.NoFXRate, "currency", fmt.Sprintf("no %s→%s rate on or before %s", l.Currency, span.PlanCurrency, l.ServiceDate)
		}
		charge, ok := rate.convert(l.Billed)
		if !ok {
			return claim.NoFXRate, "currency", fmt.Sprintf("the %s→%s rate %s of %s makes the charge out of range", l.Currency, span.PlanCurrency, rate.text, rate.date)
		}
		l.Charge, l.FXRate = charge, rate.text
	}
	b.lines[m]++
	return "", "", ""
}

// memberRanges splits the active members (with lines or with state) into
// consecutive ranges of member numbers, that is of member_id, of about a
// budget's worth of lines each. It returns each range's end (exclusive).
func (j *job) memberRanges() []int32 {
	b := j.book
	var total int64
	j.active = 0
	// A member's weight is its lines and its state records: both are
	// loaded with its partition.
	weight := func(i int32) int64 { return int64(b.lines[i]) + int64(b.state[i]) }
	for i := range int32(b.len()) {
		total += weight(i)
		if b.active(i) {
			j.active++
		}
	}
	// A twelfth of the budget per loaded partition (one adjudicated, one
	// loading) keeps the live heap near half of it with the results, the
	// payments and the Parquet writers' row groups, so the garbage collector
	// is not driven by the limit (measured: at an eighth, half the CPU went
	// to the collector on a Parquet run).
	budget := j.cfg.MemoryLimit - b.bytes()
	budget = max(budget, j.cfg.MemoryLimit/2) / 12 // two partitions may be loaded at once
	n := clampPartitionsTo(total*bytesPerLine, budget, j.memberPartitionLimit())
	per := (total + int64(n) - 1) / int64(n)
	var ends []int32
	var acc int64
	for i := range int32(b.len()) {
		acc += weight(i)
		if acc >= per {
			ends = append(ends, i+1)
			acc = 0
		}
	}
	if len(ends) == 0 || ends[len(ends)-1] != int32(b.len()) {
		ends = append(ends, int32(b.len()))
	}
	return ends
}

// dedupe is step 2. Claim partitions are independent, so workers take them
// in turn; each worker writes its own member partition files (loadPartition
// reads a range from all of them) and its own duplicate files, and keeps its
// own counts, added up at the end.
func (j *job) dedupe(ctx context.Context) error {
	j.rangeEnds = j.memberRanges()
	n := len(j.claimParts.files)
	j.log.Info("partitioned", "mode", "spill partitions (the input's order is not relied on)",
		"claim_partitions", n, "member_ranges", len(j.rangeEnds), "memory_limit_mib", j.cfg.MemoryLimit>>20)
	if err := j.splitState(); err != nil {
		return err
	}
	var spilled int64
	for _, c := range j.claimParts.counts {
		spilled += c
	}
	workers := min(j.cfg.Workers, n)
	ws := make([]*dedupeWorker, workers)
	for w := range ws {
		parts, err := newPartitions(j.spillDir, fmt.Sprintf("members-w%d", w), max(1, len(j.rangeEnds)))
		if err != nil {
			for _, d := range ws[:w] {
				d.members.close()
			}
			return err
		}
		ws[w] = &dedupeWorker{j: j, members: parts, exceptions: make([]int64, len(j.perFile))}
		j.memberParts = append(j.memberParts, parts)
	}
	var progressMu sync.Mutex
	var done int64
	next := make(chan int)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(next)
		for p := 0; p < n; p++ {
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
				if j.cfg.Progress != nil {
					progressMu.Lock()
					done += j.claimParts.counts[p]
					j.cfg.Progress("deduplicating", done, spilled)
					progressMu.Unlock()
				}
			}
			return w.members.finish()
		})
	}
	err := g.Wait()
	for _, w := range ws {
		j.dupParts = append(j.dupParts, w.dups...)
		j.accepted += w.accepted
		for src, x := range w.exceptions {
			j.perFile[src].exceptions += x
			for range x {
				j.totals.AddException(claim.DuplicateLine)
			}
		}
	}
	return err
}

// dedupeWorker is one goroutine of step 2 and what it produced.
type dedupeWorker struct {
	j          *job
	members    *partitions   // deduplicated lines by member range
	dups       []*partitions // one file per claim partition that had duplicates
	accepted   int64
	exceptions []int64 // DUPLICATE_LINE rows per claims file
	seen       map[lineKey]lineWhere
}

// partition deduplicates claim partition p.
func (w *dedupeWorker) partition(p int) error {
	j := w.j
	var stateKeys int64
	if j.stateKeys != nil {
		stateKeys = j.stateKeys.counts[p]
	}
	// One map per worker, cleared between partitions: a cleared map keeps
	// its table, and the partitions are of a size.
	if w.seen == nil {
		w.seen = make(map[lineKey]lineWhere, j.claimParts.counts[p]+stateKeys)
	}
	seen := w.seen
	clear(seen)
	// The keys adjudicated by earlier runs (--state-in) of this partition.
	if stateKeys > 0 {
		dec, err := j.stateKeys.open(p)
		if err != nil {
			return err
		}
		var r claim.StateRecord
		for dec.next() {
			dec.stateRecord(&r)
			seen[lineKey{strings.Clone(r.Key), int32(r.Count)}] = lineWhere{source: -1}
		}
		if dec.err != nil {
			return dec.err
		}
		j.stateKeys.release(p)
	}
	dec, err := j.claimParts.open(p)
	if err != nil {
		return err
	}
	// A partition's records are in input order, so its duplicates are too.
	var dups *partitions
	var l claim.Line
	for dec.next() {
		// The raw text, then the line's fields; of those only the head is
		// needed here, and an accepted line's fields are copied as bytes.
		raw := dec.str()
		fields := dec.rest()
		dec.lineHead(&l)
		if dec.err != nil {
			break
		}
		key := lineKey{l.ClaimID, l.LineNo}
		if where, dup := seen[key]; dup {
			msg := "this claim_id and line_no were adjudicated by an earlier run (--state-in)"
			if where.source >= 0 {
				msg = fmt.Sprintf("this claim_id and line_no were already accepted from %s row %d", filepath.Base(j.cfg.Claims[where.source]), where.row)
			}
			x := claim.Exception{Source: filepath.Base(j.cfg.Claims[l.Source]), SourceNo: l.Source, Row: l.Row,
				ClaimID: l.ClaimID, LineNo: fmt.Sprint(l.LineNo), MemberID: l.MemberID, Code: claim.DuplicateLine, Field: "line_no", Message: msg, Raw: raw}
			if dups == nil {
				if dups, err = newPartitions(j.spillDir, "duplicates", 1); err != nil {
					return err
				}
				w.dups = append(w.dups, dups)
			}
			if err := dups.writeException(0, &x); err != nil {
				return fmt.Errorf("pipeline: spill: %w", err)
			}
			w.exceptions[x.SourceNo]++
			continue
		}
		// A clone, so the map does not keep the whole decoded record alive.
		seen[lineKey{strings.Clone(l.ClaimID), l.LineNo}] = lineWhere{source: l.Source, row: l.Row}
		w.accepted++
		if err := w.members.writeRecord(j.rangeOf(j.book.find(l.MemberID)), fields); err != nil {
			return fmt.Errorf("pipeline: spill: %w", err)
		}
	}
	if dec.err != nil {
		return dec.err
	}
	j.claimParts.release(p)
	if dups != nil {
		return dups.finish()
	}
	return nil
}

// splitState writes the --state-in member records to the member partition
// of their member's range.
func (j *job) splitState() error {
	if j.stateRecs == nil {
		return nil
	}
	var err error
	if j.stateParts, err = newPartitions(j.spillDir, "state-members", len(j.rangeEnds)); err != nil {
		return err
	}
	dec, err := j.stateRecs.open(0)
	if err != nil {
		return err
	}
	var r claim.StateRecord
	for dec.next() {
		dec.stateRecord(&r)
		if err := j.stateParts.writeState(j.rangeOf(j.book.find(r.MemberID)), &r); err != nil {
			return fmt.Errorf("pipeline: spill: %w", err)
		}
	}
	if dec.err != nil {
		return dec.err
	}
	j.stateRecs.release(0)
	return j.stateParts.finish()
}

// rangeOf returns the member partition of member number m.
func (j *job) rangeOf(m int32) int {
	q, _ := slices.BinarySearch(j.rangeEnds, m+1)
	return q
}
