package job

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"claimsbatch/claim"
	"claimsbatch/pipeline"
	"claimsbatch/readers"
	"claimsbatch/writers"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
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
	xc := NewCodec[claim.Exception]()
	out.ClaimsExceptions = mergeBatches(ctx, dir, kindExceptions, shards, func(v []byte, to []claim.Exception) ([]claim.Exception, error) {
		x, err := xc.Decode(v)
		return append(to, x), err
	})
	rc := NewCodec[MemberResults]()
	out.Results = mergeBatches(ctx, dir, kindRemittance, shards, func(v []byte, to []claim.Result) ([]claim.Result, error) {
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
	})
	sc := NewCodec[MemberState]()
	out.State = mergeBatches(ctx, dir, kindState, shards, func(v []byte, to []claim.StateRecord) ([]claim.StateRecord, error) {
		ms, err := sc.Decode(v)
		return append(to, ms.Records...), err
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
// their records in key order, decoded (decode appends a record's rows), in
// batches of at least publishBatch rows (a member's rows are never split).
func mergeBatches[T any](ctx context.Context, dir, kind string, shards int, decode func(v []byte, to []T) ([]T, error)) func(yield func([]T) error) error {
	return func(yield func([]T) error) error {
		batch := make([]T, 0, publishBatch)
		err := MergeShards(ctx, dir, kind, shards, func(_, v []byte) error {
			var err error
			if batch, err = decode(v, batch); err != nil {
				return fmt.Errorf("%w: %s: %w", ErrShard, kind, err)
			}
			if len(batch) >= publishBatch {
				err := yield(batch)
				batch = make([]T, 0, publishBatch)
				return err
			}
			return nil
		})
		if err != nil || len(batch) == 0 {
			return err
		}
		return yield(batch)
	}
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
