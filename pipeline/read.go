package pipeline

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"claimsbatch/book"
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
	cands      *spill.Partitions // the keys the Bloom filter flagged, by key hash: the only lines that may repeat an earlier key
	exceptions *spill.Partitions // rejected rows, in input order
	accepted   int64             // lines that passed the row checks (duplicates included)
}

func (rr *readResult) close() {
	if rr != nil {
		rr.members.Close()
		rr.keys.Close()
		rr.cands.Close()
		rr.exceptions.Close()
	}
}

// readJob is one batch of a claims file on its way through step 1: the
// pricing workers check and price its lines and encode the accepted ones;
// the sink writes them, in input order.
type readJob struct {
	source  int32
	batch   *readers.Batch
	members []int32  // per line: the member's number, -1 when rejected
	hashes  []uint64 // per line: keyHash of its (claim_id, line_no)
	seen    []bool   // per line: the Bloom filter's "maybe" (set by the sink)
	enc     []byte   // the accepted lines' member-partition records, concatenated; or, detached, their text
	ends    []int32  // per line: the end of its record in enc
	// detached: the accepted lines' strings were copied into enc (a
	// streamed run, stream.go), which outlives the batch.
	detached bool
	rejects  []claim.Exception
	done     chan struct{}
}

// readClaims is step 1: every claims file in --claims order. Each reader
// parses and checks its file on Workers goroutines and hands over batches
// in file order; pricing workers (the book's checks, the key hash, the
// spill encoding) take the batches in parallel; one sink goroutine takes
// them back in input order for what depends on the order — the Bloom
// filter, the counts, the spill sets — and releases them.
func (r *run) readClaims(ctx context.Context, res *readResult, filter *bloom, ranges *memberRanges) error {
	r.perFile = make([]fileCount, len(r.cfg.Claims))
	workers := max(1, r.cfg.Workers)
	g, gctx := errgroup.WithContext(ctx)
	work := make(chan *readJob, 2*workers)
	order := make(chan *readJob, 4*workers)
	interrupted := func() error { return fmt.Errorf("pipeline: run interrupted: %w", context.Cause(gctx)) }
	// Jobs go back to a free list once written: their buffers (the encoded
	// lines above all) are reused rather than grown again for every batch.
	free := make(chan *readJob, 8*workers)

	// The producer: the files in order, their batches in order.
	var total int64
	g.Go(func() error {
		defer close(work)
		defer close(order)
		for i, path := range r.cfg.Claims {
			if err := r.produceBatches(gctx, int32(i), path, &total, work, order, free); err != nil {
				return err
			}
		}
		return nil
	})
	for range workers {
		g.Go(func() error {
			pricer := r.ref.pricer.Clone()
			for job := range work {
				t0 := r.clock.start()
				r.priceBatch(pricer, job)
				r.clock.done(stagePrice, t0)
				close(job.done)
			}
			return nil
		})
	}
	g.Go(func() error {
		for job := range order {
			select {
			case <-job.done:
			case <-gctx.Done():
				// Not released: a pricing worker may still be reading it
				// (a reader's error cancels the run while batches before
				// it are priced). The garbage collector takes it.
				return interrupted()
			}
			t0 := r.clock.start()
			kept, err := r.sinkBatch(res, filter, ranges, job)
			if !kept {
				job.batch.Release()
			}
			if st := r.stream; st != nil {
				// Waiting for a full adjudication pipeline is not work.
				t0 = t0.Add(st.batchWait)
				st.batchWait = 0
			}
			r.clock.done(stageSink, t0)
			if err != nil {
				return err
			}
			job.batch = nil
			clear(job.rejects)
			job.rejects, job.enc = job.rejects[:0], job.enc[:0]
			select {
			case free <- job:
			default:
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return err
	}
	r.totals.LinesRead = total
	for _, set := range []*spill.Partitions{res.members, res.keys, res.cands, res.exceptions} {
		if err := set.Finish(); err != nil {
			return err
		}
	}
	return nil
}

// produceBatches reads one claims file's batches and hands each to the
// pricing workers and, in the same order, to the sink.
func (r *run) produceBatches(ctx context.Context, source int32, path string, total *int64, work, order chan<- *readJob, free chan *readJob) error {
	cr, err := readers.OpenClaims(path, source, r.plan, readers.Options{BatchSize: r.cfg.BatchSize, Workers: r.cfg.Workers, AsOf: r.cfg.AsOf})
	if err != nil {
		return configError(err)
	}
	defer cr.Close()
	interrupted := func() error { return fmt.Errorf("pipeline: run interrupted: %w", context.Cause(ctx)) }
	for {
		b, err := cr.NextBatch()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		var job *readJob
		select {
		case job = <-free:
		default:
			job = &readJob{}
		}
		job.source, job.batch, job.done = source, b, make(chan struct{})
		// Read before the batch is handed over: once sunk it may be
		// released and reused by the reader.
		lastRow := b.FirstRow + int64(b.NumRows) - 1
		select {
		case order <- job:
		case <-ctx.Done():
			b.Release()
			return interrupted()
		}
		select {
		case work <- job:
		case <-ctx.Done():
			return interrupted() // the sink drops the batch
		}
		if r.cfg.Progress != nil {
			r.cfg.Progress("reading", *total+lastRow, 0)
		}
	}
	fc := &r.perFile[source]
	fc.rows = cr.Rows()
	*total += fc.rows
	r.log.Info("claims file read", "file", filepath.Base(path), "rows", fc.rows)
	return cr.Close()
}

// priceBatch applies the book's checks to a batch's lines, prices them,
// hashes their keys and encodes the accepted ones for the member
// partitions, or, once the run streams, copies their text into an arena.
func (r *run) priceBatch(pricer *book.Pricer, job *readJob) {
	lines := job.batch.Lines
	encode := !r.noEncode.Load()
	job.detached = !encode
	job.members = slices.Grow(job.members[:0], len(lines))[:len(lines)]
	job.hashes = slices.Grow(job.hashes[:0], len(lines))[:len(lines)]
	job.ends = slices.Grow(job.ends[:0], len(lines))[:len(lines)]
	for i := range lines {
		l := &lines[i]
		m, why := pricer.Price(l)
		if why.Code != "" {
			job.members[i] = -1
			job.rejects = append(job.rejects, job.batch.Reject(i, why.Code, why.Field, why.Message))
			job.ends[i] = int32(len(job.enc))
			continue
		}
		job.members[i] = m
		job.hashes[i] = keyHash(l.ClaimID, l.LineNo)
		if encode {
			job.enc = spill.AppendLineFields(job.enc, l, m)
		} else {
			job.enc = detachLine(job.enc, l)
		}
		job.ends[i] = int32(len(job.enc))
	}
}

// sinkBatch does, in input order, what depends on it: the counts, the
// Bloom filter (whose "maybe" keeps a line's raw text in its key record),
// and the writes to the spill sets, or, when the run streams, the lines
// to the stream; the batch's rejected rows, the reader's and the book's,
// go to the exceptions set merged in row order. kept reports that the
// stream took the batch (it releases it once its lines are written).
func (r *run) sinkBatch(res *readResult, filter *bloom, ranges *memberRanges, job *readJob) (kept bool, err error) {
	b, ref := job.batch, r.ref
	st := r.stream
	if st != nil && st.mode == streamUndecided {
		st.decide(job)
	}
	streaming := st.on()
	keyParts := uint64(res.keys.Len())
	job.seen = slices.Grow(job.seen[:0], len(b.Lines))[:len(b.Lines)]
	filter.testAndAddAll(job.hashes, job.members, job.seen)
	var k spill.Key
	start := int32(0)
	for i := range b.Lines {
		m := job.members[i]
		end := job.ends[i]
		if m < 0 {
			start = end
			continue
		}
		l := &b.Lines[i]
		ref.lines[m]++
		res.accepted++
		if streaming {
			if err := st.line(job, i, m); err != nil {
				return false, err
			}
		} else if err := res.members.WriteRecord(ranges.of(m), job.enc[start:end]); err != nil {
			return false, fmt.Errorf("pipeline: spill: %w", err)
		}
		start = end
		h := job.hashes[i]
		k = spill.Key{ClaimID: l.ClaimID, LineNo: l.LineNo, Source: l.Source, Row: l.Row, Member: m}
		if job.seen[i] {
			k.Raw, k.HasRaw = b.Raw(i), true
			if err := res.cands.WriteKey(int(h%keyParts), &spill.Key{ClaimID: l.ClaimID, LineNo: l.LineNo}); err != nil {
				return false, fmt.Errorf("pipeline: spill: %w", err)
			}
		}
		if err := res.keys.WriteKey(int(h%keyParts), &k); err != nil {
			return false, fmt.Errorf("pipeline: spill: %w", err)
		}
	}
	n, err := r.spillExceptions(res.exceptions, b.Exceptions, job.rejects)
	if err != nil {
		return false, err
	}
	r.perFile[job.source].exceptions += n
	if streaming {
		return st.endBatch(job), nil
	}
	return false, nil
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
