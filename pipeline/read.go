package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"claimsbatch/claim"
	"claimsbatch/readers"
	"claimsbatch/spill"

	"golang.org/x/sync/errgroup"
)

// bytesPerKey is what one line key costs in the dedupe map of step 2.
const bytesPerKey = 96

// maxKeyPartitions bounds the key partitions, whose size only sets the
// dedupe map's; the member partitions must each fit the budget whatever the
// input size, so they may be many more: up to maxMemberPartitions, within
// the open-file limit.
const (
	maxKeyPartitions    = 256
	maxMemberPartitions = 4096
)

// inputEstimate guesses the number of claim lines and --state-in records
// from the files' sizes (about 60 bytes a line of CSV, 15 of Parquet or
// gzip), before anything is read: it sizes the key partitions, the Bloom
// filter and the member ranges. Wrong guesses cost speed, never results.
func (r *run) inputEstimate() (lines, stateRecords int64) {
	size := func(path string) int64 {
		st, err := os.Stat(path)
		if err != nil {
			return 0
		}
		per := int64(60)
		if ext := filepath.Ext(path); ext == ".parquet" || ext == ".gz" {
			per = 15
		}
		return st.Size() / per
	}
	for _, path := range r.cfg.Claims {
		lines += size(path)
	}
	if r.cfg.StateIn != "" {
		stateRecords = size(r.cfg.StateIn)
	}
	return lines, stateRecords
}

// keyPartitionCount picks the number of key partitions from the estimated
// keys (this run's lines and the state's LINE records) and the memory
// budget: each worker of step 2 holds one partition's keys at a time.
func (r *run) keyPartitionCount(keys int64) int {
	return clampPartitions(keys*bytesPerKey, r.cfg.MemoryLimit/int64(4*max(1, r.cfg.Workers)), maxKeyPartitions)
}

// clampPartitions returns how many partitions of at most budget bytes need
// bytes take, between 1 and most.
func clampPartitions(need, budget int64, most int) int {
	if budget <= 0 {
		budget = 1
	}
	n := (need + budget - 1) / budget
	return int(max(1, min(n, int64(most))))
}

// readResult is what step 1 leaves for the next steps.
type readResult struct {
	members    *spill.Partitions // accepted lines (fields only) by member range, in input order
	keys       *spill.Partitions // their (claim_id, line_no) keys by key hash, after the state's
	exceptions *spill.Partitions // rejected rows, in input order
	accepted   int64             // lines that passed the row checks (duplicates included)
}

func (rr *readResult) close() {
	if rr != nil {
		rr.members.Close()
		rr.keys.Close()
		rr.exceptions.Close()
	}
}

// spillItem is an accepted line on its way to the spill sets.
type spillItem struct {
	line   claim.Line
	member int32
	hash   uint64 // keyHash of its (claim_id, line_no)
	raw    string // only when the Bloom filter says it may be a duplicate
	maybe  bool
}

// readClaims is step 1: every claims file in --claims order. Parsing,
// checking, pricing and the Bloom filter run on one goroutine (in input
// order); encoding and writing the accepted lines (by member range) and
// their keys (by key hash) on another, a batch at a time.
func (r *run) readClaims(ctx context.Context, res *readResult, filter *bloom, ranges *memberRanges) error {
	r.perFile = make([]fileCount, len(r.cfg.Claims))
	g, gctx := errgroup.WithContext(ctx)
	batches := make(chan []spillItem, 2)
	free := make(chan []spillItem, 3)
	g.Go(func() error {
		keyParts := uint64(res.keys.Len())
		var k spill.Key
		for batch := range batches {
			for i := range batch {
				it := &batch[i]
				if err := res.members.WriteLineFields(ranges.of(it.member), &it.line); err != nil {
					return fmt.Errorf("pipeline: spill: %w", err)
				}
				k = spill.Key{ClaimID: it.line.ClaimID, LineNo: it.line.LineNo, Source: it.line.Source, Row: it.line.Row,
					Member: it.member, Raw: it.raw, HasRaw: it.maybe}
				if err := res.keys.WriteKey(int(it.hash%keyParts), &k); err != nil {
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
		for i, path := range r.cfg.Claims {
			if err := r.readClaimsFile(gctx, res, filter, int32(i), path, &total, batches, free); err != nil {
				return err
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return err
	}
	r.totals.LinesRead = total
	for _, set := range []*spill.Partitions{res.members, res.keys, res.exceptions} {
		if err := set.Finish(); err != nil {
			return err
		}
	}
	return nil
}

// readClaimsFile reads one claims file: the reader's row checks, then the
// book's (member, FX) on every line the reader accepted. Rejected rows of a
// batch, the reader's and the book's, go to the exceptions spill in row
// order; accepted lines, priced, to the spilling goroutine.
func (r *run) readClaimsFile(ctx context.Context, res *readResult, filter *bloom, source int32, path string, total *int64, batches chan<- []spillItem, free chan []spillItem) error {
	cr, err := readers.OpenClaims(path, source, r.plan, readers.Options{BatchSize: r.cfg.BatchSize, KeepRaw: true, AsOf: r.cfg.AsOf})
	if err != nil {
		return configError(err)
	}
	defer cr.Close()
	interrupted := func() error { return fmt.Errorf("pipeline: run interrupted: %w", context.Cause(ctx)) }
	fc := &r.perFile[source]
	pricer, ref := r.ref.pricer, r.ref
	var pending []spillItem
	var rejected []claim.Exception
	for cr.Next() {
		if ctx.Err() != nil {
			return interrupted()
		}
		rejected = rejected[:0]
		lines := cr.Lines()
		for i := range lines {
			l := &lines[i]
			m, why := pricer.Price(l)
			if why.Code != "" {
				rejected = append(rejected, cr.Reject(i, why.Code, why.Field, why.Message))
				continue
			}
			ref.lines[m]++
			res.accepted++
			h := keyHash(l.ClaimID, l.LineNo)
			it := spillItem{line: *l, member: m, hash: h}
			if filter.testAndAdd(h) {
				it.raw, it.maybe = cr.Raw(i), true
			}
			pending = append(pending, it)
		}
		if len(pending) > 0 {
			select {
			case batches <- pending:
			case <-ctx.Done():
				return interrupted()
			}
			select {
			case pending = <-free:
			default:
				pending = nil
			}
		}
		n, err := r.spillExceptions(res.exceptions, cr.Exceptions(), rejected)
		if err != nil {
			return err
		}
		fc.exceptions += n
		if r.cfg.Progress != nil {
			r.cfg.Progress("reading", *total+cr.Rows(), 0)
		}
	}
	if err := cr.Err(); err != nil {
		return err
	}
	fc.rows = cr.Rows()
	*total += fc.rows
	r.log.Info("claims file read", "file", filepath.Base(path), "rows", fc.rows, "exceptions", fc.exceptions)
	return cr.Close()
}

// spillExceptions writes a batch's rejected rows, the reader's and the
// run's (each in row order), merged in row order, and counts them.
func (r *run) spillExceptions(to *spill.Partitions, a, b []claim.Exception) (int64, error) {
	n := int64(len(a) + len(b))
	for len(a) > 0 || len(b) > 0 {
		var x *claim.Exception
		if len(b) == 0 || (len(a) > 0 && a[0].Row < b[0].Row) {
			x, a = &a[0], a[1:]
		} else {
			x, b = &b[0], b[1:]
		}
		r.totals.AddException(x.Code)
		if err := to.WriteException(0, x); err != nil {
			return 0, fmt.Errorf("pipeline: spill: %w", err)
		}
	}
	return n, nil
}

// memberRanges splits the book's members (numbered in member_id order) into
// consecutive ranges, decided before the first claim row is read: reading
// the partitions in order then gives the SPEC's output order.
type memberRanges struct {
	ends []int32 // end (exclusive member number) of each range
}

// of returns the range of member number m.
func (mr *memberRanges) of(m int32) int {
	q, _ := slices.BinarySearch(mr.ends, m+1)
	return q
}

// bounds returns range q's first and end member numbers.
func (mr *memberRanges) bounds(q int) (lo, hi int32) {
	if q > 0 {
		lo = mr.ends[q-1]
	}
	return lo, mr.ends[q]
}

// splitWeights cuts members lo..hi-1 into consecutive ranges of about per
// weight each; it returns each range's end.
func splitWeights(lo, hi int32, per int64, weight func(int32) int64) []int32 {
	var ends []int32
	var acc int64
	for i := lo; i < hi; i++ {
		acc += weight(i)
		if acc >= per {
			ends = append(ends, i+1)
			acc = 0
		}
	}
	if len(ends) == 0 || ends[len(ends)-1] != hi {
		ends = append(ends, hi)
	}
	return ends
}
