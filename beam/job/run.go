package job

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"claimsbatch/claim"
	"claimsbatch/pipeline"
	"claimsbatch/readers"
	"claimsbatch/writers"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"golang.org/x/sync/errgroup"
)

// publishBatch is how many rows the launcher hands the writers at a time.
const publishBatch = 4096

// Run adjudicates cfg's inputs on the runner Beam's flags name and
// publishes what `claimsbatch run` publishes on the same inputs, flags, run
// id and as-of date, byte for byte. beam.Init must have run.
//
// The launcher checks the configuration and loads the reference data as
// `claimsbatch run` does (pipeline.Prepare: the members file, the FX file,
// the --state-in checks), so that a bad input fails before the job with
// exit code 2; the job reads, checks, prices, deduplicates and adjudicates
// and writes shards; the launcher then merges them in key order and
// publishes (pipeline.Prepared.Publish). On any error nothing is
// published.
func Run(ctx context.Context, cfg Config) (*pipeline.Summary, error) {
	if len(cfg.Claims) == 0 || cfg.Members == "" || cfg.OutDir == "" {
		return nil, fmt.Errorf("%w: claims, members and an output directory are required", ErrConfig)
	}
	p, err := loadPlan(cfg.PlanPath)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	prep, err := pipeline.Prepare(ctx, pipeline.Config{
		Claims: cfg.Claims, Members: cfg.Members, FX: cfg.FX, StateIn: cfg.StateIn, AsOf: cfg.AsOf,
		AllowPlanChange: cfg.AllowPlanChange, StateKeepYears: cfg.StateKeepYears,
		Plan: p, OutDir: cfg.OutDir, Format: cfg.Format, RunID: cfg.RunID, Version: cfg.Version, Workers: cfg.Workers,
	})
	if err != nil {
		return nil, configError(err)
	}
	defer prep.Close()
	// A claims file that cannot be read at all (missing, not CSV or
	// Parquet, a required column missing) is the user's to fix: found here,
	// before the job, it exits 2 as it does with `claimsbatch run`.
	for i, path := range cfg.Claims {
		cr, err := readers.OpenClaims(path, int32(i), p, readers.Options{AsOf: cfg.AsOf, Workers: 1})
		if err != nil {
			return nil, configError(err)
		}
		cr.Close()
	}
	keepFrom, keysFrom, lateBefore := prep.Window()
	pc := prep.Config()
	set := Settings{
		Claims: cfg.Claims, Members: cfg.Members, FX: cfg.FX, PlanPath: cfg.PlanPath, OutDir: cfg.OutDir, AsOf: cfg.AsOf,
		AllowPlanChange: cfg.AllowPlanChange, StateKeepYears: pc.StateKeepYears,
		KeepFrom: keepFrom, KeysFrom: keysFrom, LateBefore: lateBefore,
	}
	shards := cfg.Shards
	if shards <= 0 {
		shards = 4 * max(1, cfg.Workers)
	}
	var token [8]byte
	rand.Read(token[:])
	dir := ShardDir(cfg.OutDir, hex.EncodeToString(token[:]))
	if cfg.TempLocation != "" {
		dir = joinPath(cfg.TempLocation, "claimsbatch-beam-"+hex.EncodeToString(token[:]))
	}
	_, statErr := os.Stat(cfg.OutDir)
	createdOut := errors.Is(statErr, os.ErrNotExist) && !strings.Contains(cfg.OutDir, "://")
	if err := PrepareShardDir(dir); err != nil {
		return nil, err
	}
	defer func() {
		RemoveShardDir(context.WithoutCancel(ctx), dir)
		if createdOut {
			os.Remove(cfg.OutDir) // only when the run left it empty
		}
	}()

	pl, s := beam.NewPipelineWithRoot()
	buildPipeline(s, set, cfg.StateIn, dir, shards, cfg.Fault)
	started := time.Now()
	_, err = Execute(ctx, pl)
	releaseWorkerRefs()
	slog.InfoContext(ctx, "job finished", "seconds", time.Since(started).Seconds(), "ok", err == nil)
	if err != nil {
		return nil, fmt.Errorf("job: the pipeline failed; nothing was published: %w", err)
	}
	logShardBytes(ctx, dir, shards)
	out, err := outcome(ctx, dir, shards, len(cfg.Claims))
	if err != nil {
		return nil, err
	}
	started = time.Now()
	sum, err := prep.Publish(ctx, out)
	if err != nil {
		return nil, configError(err)
	}
	slog.InfoContext(ctx, "merged and published", "seconds", time.Since(started).Seconds())
	createdOut = false
	return sum, nil
}

// configError marks the errors `claimsbatch run` exits 2 for.
func configError(err error) error {
	if errors.Is(err, pipeline.ErrConfig) || errors.Is(err, readers.ErrMissingColumn) || errors.Is(err, readers.ErrOpen) ||
		errors.Is(err, readers.ErrFormat) || errors.Is(err, readers.ErrCorrupt) {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return err
}

// outcome reads the job's shards back in key order, for the publish.
func outcome(ctx context.Context, dir string, shards, files int) (pipeline.Outcome, error) {
	out := pipeline.Outcome{FileRows: make([]int64, files)}
	seen := make([]bool, files)
	fc := NewCodec[FileRows]()
	err := MergeShards(ctx, dir, kindFiles, 1, func(_, v []byte) error {
		f, err := fc.Decode(v)
		if err != nil {
			return err
		}
		if f.Index < 0 || int(f.Index) >= files || seen[f.Index] {
			return fmt.Errorf("%w: row counts of claims file %d", ErrShard, f.Index)
		}
		seen[f.Index], out.FileRows[f.Index] = true, f.Rows
		return nil
	})
	if err != nil {
		return out, err
	}
	for i, ok := range seen {
		if !ok {
			return out, fmt.Errorf("%w: no row count of claims file %d", ErrShard, i)
		}
	}
	tallies := map[string]int64{}
	tc := NewCodec[Tally]()
	err = MergeShards(ctx, dir, kindTallies, 1, func(_, v []byte) error {
		t, err := tc.Decode(v)
		tallies[t.Key] = t.N
		return err
	})
	if err != nil {
		return out, err
	}
	out.Check = func(totals writers.ControlTotals, adjudicated, exceptions []int64) error {
		return checkTallies(tallies, totals, adjudicated, exceptions)
	}
	out.ClaimsExceptions = mergeBatches(ctx, dir, kindExceptions, shards, func() func([]byte, []claim.Exception) ([]claim.Exception, error) {
		xc := NewCodec[claim.Exception]()
		return func(v []byte, to []claim.Exception) ([]claim.Exception, error) {
			x, err := xc.Decode(v)
			return append(to, x), err
		}
	})
	out.Results = mergeBatches(ctx, dir, kindRemittance, shards, func() func([]byte, []claim.Result) ([]claim.Result, error) {
		rc := NewCodec[MemberResults]()
		return func(v []byte, to []claim.Result) ([]claim.Result, error) {
			mr, err := rc.Decode(v)
			if err != nil {
				return to, err
			}
			for i := range mr.Rows {
				r, err := mr.Rows[i].Result()
				if err != nil {
					return to, err
				}
				to = append(to, r)
			}
			return to, nil
		}
	})
	out.State = mergeBatches(ctx, dir, kindState, shards, func() func([]byte, []claim.StateRecord) ([]claim.StateRecord, error) {
		sc := NewCodec[MemberState]()
		return func(v []byte, to []claim.StateRecord) ([]claim.StateRecord, error) {
			ms, err := sc.Decode(v)
			return append(to, ms.Records...), err
		}
	})
	pc := NewCodec[PayAcc]()
	err = MergeShards(ctx, dir, kindPayments, shards, func(_, v []byte) error {
		a, err := pc.Decode(v)
		if err != nil {
			return err
		}
		out.Payments = append(out.Payments, writers.PaymentRow{PayeeType: a.PayeeType, PayeeID: a.PayeeID, PlanCurrency: a.PlanCurrency, LineCount: a.Lines, PlanPaid: a.Paid})
		return nil
	})
	return out, err
}

// mergeBatches is an iterator of pipeline.Outcome over one output's shards:
// their records in key order, decoded, in batches of at least publishBatch
// rows (a member's rows are never split). The merge itself is one goroutine
// (it only compares keys); decoding the values, most of the launcher's work,
// runs on GOMAXPROCS goroutines, in chunks handed back in order. newDecode
// returns a decoder for one goroutine; a decoder appends a record's rows.
func mergeBatches[T any](ctx context.Context, dir, kind string, shards int, newDecode func() func(v []byte, to []T) ([]T, error)) func(yield func([]T) error) error {
	const chunkRecords = 256
	type chunk struct {
		values [][]byte
		rows   []T
		err    error
		done   chan struct{}
	}
	return func(yield func([]T) error) error {
		workers := max(1, runtime.GOMAXPROCS(0))
		g, gctx := errgroup.WithContext(ctx)
		work := make(chan *chunk, 2*workers)
		order := make(chan *chunk, 4*workers)
		g.Go(func() error {
			defer close(work)
			defer close(order)
			cur := &chunk{done: make(chan struct{})}
			send := func() error {
				select {
				case order <- cur:
				case <-gctx.Done():
					return context.Cause(gctx)
				}
				select {
				case work <- cur:
				case <-gctx.Done():
					return context.Cause(gctx)
				}
				cur = &chunk{done: make(chan struct{})}
				return nil
			}
			err := MergeShards(gctx, dir, kind, shards, func(_, v []byte) error {
				cur.values = append(cur.values, v)
				if len(cur.values) == chunkRecords {
					return send()
				}
				return nil
			})
			if err == nil && len(cur.values) > 0 {
				err = send()
			}
			return err
		})
		for range workers {
			g.Go(func() error {
				decode := newDecode()
				for c := range work {
					for _, v := range c.values {
						if c.rows, c.err = decode(v, c.rows); c.err != nil {
							c.err = fmt.Errorf("%w: %s: %w", ErrShard, kind, c.err)
							break
						}
					}
					c.values = nil
					close(c.done)
				}
				return nil
			})
		}
		g.Go(func() error {
			batch := make([]T, 0, publishBatch)
			for c := range order {
				select {
				case <-c.done:
				case <-gctx.Done():
					return context.Cause(gctx)
				}
				if c.err != nil {
					return c.err
				}
				batch = append(batch, c.rows...)
				if len(batch) >= publishBatch {
					if err := yield(batch); err != nil {
						return err
					}
					batch = make([]T, 0, publishBatch)
				}
			}
			if len(batch) > 0 {
				return yield(batch)
			}
			return nil
		})
		return g.Wait()
	}
}

// checkTallies compares the job's own counts (the tallies' CombinePerKey)
// with what the publish counted from the merged shards: lines adjudicated
// and exceptions per claims file, lines and plan paid per plan currency.
func checkTallies(tallies map[string]int64, totals writers.ControlTotals, adjudicated, exceptions []int64) error {
	want := map[string]int64{}
	for i := range adjudicated {
		if adjudicated[i] != 0 {
			want[tallyAdjudicated(int32(i))] = adjudicated[i]
		}
		if exceptions[i] != 0 {
			want[tallyExceptions(int32(i))] = exceptions[i]
		}
	}
	for _, c := range totals.PerCurrency {
		want[tallyLines(c.PlanCurrency)] = c.Lines
		want[tallyPaid(c.PlanCurrency)] = int64(c.PlanPaid)
	}
	var problems []string
	for k, n := range want {
		if tallies[k] != n {
			problems = append(problems, fmt.Sprintf("%s: the job counted %d, the publish %d", k, tallies[k], n))
		}
	}
	for k, n := range tallies {
		if _, ok := want[k]; !ok && n != 0 {
			problems = append(problems, fmt.Sprintf("%s: the job counted %d, the publish none", k, n))
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return fmt.Errorf("job: the published rows do not add up to the job's own counts: %s", strings.Join(problems, "; "))
	}
	return nil
}

// logShardBytes logs what the workers wrote per output kind (the last
// shuffle's volume, as records on disk), for sizing a cluster.
func logShardBytes(ctx context.Context, dir string, shards int) {
	if strings.Contains(dir, "://") {
		return
	}
	var attrs []any
	for _, kind := range []string{kindRemittance, kindState, kindExceptions, kindPayments} {
		var n int64
		for i := range shards {
			if st, err := os.Stat(joinPath(dir, ShardName(kind, i, shards))); err == nil {
				n += st.Size()
			}
		}
		attrs = append(attrs, kind, n)
	}
	slog.InfoContext(ctx, "shard bytes", attrs...)
}
