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

// claimPartitionCount picks the number of claim partitions from the input
// size and the memory budget.
func (r *run) claimPartitionCount() int {
	var bytes int64
	// The state's LINE keys join the claim keys in the dedupe maps.
	for _, path := range append(slices.Clip(r.cfg.Claims), r.cfg.StateIn) {
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
	return clampPartitions(bytes, r.cfg.MemoryLimit/int64(4*max(1, r.cfg.Workers)), maxPartitions)
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

// claimHash picks the claim partition of a line's (claim_id, line_no).
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

// readResult is what step 1 leaves for the next steps.
type readResult struct {
	claims     *spill.Partitions // accepted lines with their raw text, by (claim_id, line_no)
	exceptions *spill.Partitions // rejected rows, in input order
	asOf       claim.Date        // latest received_date of an accepted line
}

func (rr *readResult) close() {
	if rr != nil {
		rr.claims.Close()
		rr.exceptions.Close()
	}
}

// spillItem is an accepted line on its way to a claim partition.
type spillItem struct {
	line claim.Line
	raw  string
}

// readClaims is step 1. Parsing, checking and pricing run on one goroutine;
// encoding and writing the accepted lines to the claim partitions on
// another, a batch at a time.
func (r *run) readClaims(ctx context.Context, claimPartitions int) (*readResult, error) {
	r.perFile = make([]fileCount, len(r.cfg.Claims))
	res := &readResult{asOf: claim.NoDate}
	var err error
	if res.claims, err = spill.New(r.spillDir, "claims", claimPartitions); err != nil {
		return res, err
	}
	if res.exceptions, err = spill.New(r.spillDir, "exceptions", 1); err != nil {
		return res, err
	}
	g, gctx := errgroup.WithContext(ctx)
	batches := make(chan []spillItem, 2)
	free := make(chan []spillItem, 3)
	g.Go(func() error {
		for batch := range batches {
			for i := range batch {
				it := &batch[i]
				if err := res.claims.WriteLine(claimHash(&it.line, res.claims.Len()), &it.line, it.raw); err != nil {
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
			if err := r.readClaimsFile(gctx, res, int32(i), path, &total, batches, free); err != nil {
				return err
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return res, err
	}
	r.totals.LinesRead = total
	if err := res.claims.Finish(); err != nil {
		return res, err
	}
	return res, res.exceptions.Finish()
}

// readClaimsFile reads one claims file: the reader's row checks, then the
// book's (member, FX) on every line the reader accepted. Rejected rows of a
// batch, the reader's and the book's, go to the exceptions spill in row
// order; accepted lines, priced, to the spilling goroutine.
func (r *run) readClaimsFile(ctx context.Context, res *readResult, source int32, path string, total *int64, batches chan<- []spillItem, free chan []spillItem) error {
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
			pending = append(pending, spillItem{line: *l, raw: cr.Raw(i)})
			if res.asOf == claim.NoDate || l.ReceivedDate > res.asOf {
				res.asOf = l.ReceivedDate
			}
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
