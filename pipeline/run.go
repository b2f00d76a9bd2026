package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"time"

	"claimsbatch/claim"
	"claimsbatch/engine"
	"claimsbatch/plan"
	"claimsbatch/readers"
	"claimsbatch/report"
	"claimsbatch/spill"
	"claimsbatch/writers"

	"golang.org/x/sync/errgroup"
)

// Run runs one job and publishes its outputs. On error nothing is published
// and every temporary file is removed.
func Run(ctx context.Context, cfg Config) (*Summary, error) {
	return execute(ctx, cfg, false)
}

// Validate reads and checks every input row as Run does, without
// adjudicating, and publishes only the exceptions file and a manifest.
func Validate(ctx context.Context, cfg Config) (*Summary, error) {
	return execute(ctx, cfg, true)
}

// run is one job: its configuration, the reference data every stage reads,
// and the counts every stage adds to. The stages' own data (spill files,
// buffers) belong to the stages.
type run struct {
	cfg      Config
	log      *slog.Logger
	plan     *plan.Plan
	engine   *engine.Engine
	validate bool
	spillDir string

	ref    *reference
	state  *stateIn
	totals writers.ControlTotals
	// totalsAt finds the lines' currencies in totals (countResults).
	totalsAt writers.CurrencyPlaces
	perFile  []fileCount // per claims file, in --claims order
	// exceptionCodes counts the exceptions file's rows per input (the
	// claims files in --claims order, then members, then FX) and code.
	exceptionCodes []map[claim.ExceptionCode]int64
	turnaround     turnaround    // of the adjudicated lines, added as they are written
	reportLines    *report.Lines // the same lines added up for report.html
	clock          *stageClock   // each stage's busy and wall time, for the debug log
	// blocks are the blocks spill files are read into, kept from one
	// partition for the next (steps 2 and 3).
	blocks *spill.BlockPool
	// stream adjudicates claims ordered by member as they are read
	// (stream.go); nil when the run may not stream.
	stream *stream
	// noEncode is set once the run streams: the pricing workers stop
	// encoding lines for the member partitions.
	noEncode atomic.Bool
}

// poolSize is the most spill read blocks (of block bytes, 0 for
// spill.ReadBlockSize) the run keeps for reuse: about what the partitions of
// steps 2 and 3 read at a time under a 512 MiB budget (a key partition per
// worker; three member partitions, each a few MiB), at most a sixteenth of
// the budget, and at least two.
func poolSize(memoryLimit int64, block int) int {
	if block <= 0 {
		block = spill.ReadBlockSize
	}
	return int(min(max(memoryLimit/16/int64(block), 2), 32))
}

type fileCount struct {
	rows, adjudicated, exceptions int64
}

func execute(ctx context.Context, cfg Config, validate bool) (*Summary, error) {
	sum, err := executeOnce(ctx, cfg, validate, !validate && !cfg.NoStream)
	if errors.Is(err, errNotOrdered) {
		// The streamed outputs are thrown away (nothing was published):
		// the same run, on the partitioned path.
		return executeOnce(ctx, cfg, validate, false)
	}
	return sum, err
}

// executeOnce is one attempt at a run; with mayStream, it streams claims
// that turn out to be ordered by member (stream.go), and returns an error
// wrapping errNotOrdered when it has to start again without.
func executeOnce(ctx context.Context, cfg Config, validate, mayStream bool) (*Summary, error) {
	r, err := newRun(cfg, validate)
	if err != nil {
		return nil, err
	}
	cfg = r.cfg

	// Hash every input while the run reads them: the run id and the manifest
	// need the hashes, the reading does not.
	inputs := append(append([]string{}, cfg.Claims...), cfg.Members, cfg.FX, cfg.StateIn)
	hashes := make([]string, len(inputs))
	var hg errgroup.Group
	for i, path := range inputs {
		if path == "" {
			continue
		}
		hg.Go(func() error {
			h, err := hashFile(path)
			hashes[i] = h
			return err
		})
	}
	// Until the hashing is waited for below, every failure waits for it too.
	fail := func(err error) (*Summary, error) {
		hg.Wait()
		return nil, err
	}
	pub, err := writers.NewPublisher(cfg.OutDir, writers.PublishOptions{Force: cfg.Force})
	if err != nil {
		if errors.Is(err, writers.ErrLocked) || errors.Is(err, writers.ErrOutDir) {
			err = fmt.Errorf("%w: %w", ErrConfig, err)
		}
		return fail(err)
	}
	defer pub.Abort() // after a successful Commit this does nothing
	if r.spillDir, err = os.MkdirTemp(cfg.TmpDir, "claimsbatch-spill-*"); err != nil {
		return fail(fmt.Errorf("pipeline: temporary directory: %w", err))
	}
	defer os.RemoveAll(r.spillDir)

	// Everything the run spills shares one budget: within it the sets stay
	// in memory (a run that fits writes no spill file), past it they move
	// to files. The key partitions and the Bloom filter are sized from the
	// inputs' sizes before anything is read.
	budget := spill.NewBudget(r.cfg.MemoryLimit / 4)
	members, err := r.loadMembers(budget)
	defer members.close()
	if err != nil {
		return fail(err)
	}
	if err := r.checkMembers(members, members.builder.ValidRows() > 0); err != nil {
		return fail(err)
	}
	fx, err := r.loadFX()
	if err != nil {
		return fail(err)
	}
	estLines, estState := r.inputEstimate()
	filter := newBloom(estLines+estState, r.cfg.MemoryLimit/16)
	read := &readResult{}
	defer read.close()
	if read.keys, err = spill.NewBuffered(r.spillDir, "keys", r.keyPartitionCount(estLines+estState), budget); err != nil {
		return fail(err)
	}
	if read.cands, err = spill.NewBuffered(r.spillDir, "candidates", read.keys.Len(), budget); err != nil {
		return fail(err)
	}
	r.state, err = r.loadState(read.keys, filter, budget, members.builder)
	defer r.state.close()
	if err != nil {
		return fail(err)
	}
	// The book: members numbered, the ranges planned on it, then the
	// members' spans checked range by range.
	if r.ref, err = r.newReference(members, fx); err != nil {
		return fail(err)
	}
	defer r.ref.close()
	ranges := r.planMemberRanges(estLines)
	if err := r.resolveMembers(members, ranges, budget); err != nil {
		return fail(err)
	}
	if n, invalid := members.builder.Members(); n == invalid {
		return fail(r.checkMembers(members, false))
	}
	if read.members, err = spill.NewBuffered(r.spillDir, "members", len(ranges.ends), budget); err != nil {
		return fail(err)
	}
	if read.exceptions, err = spill.NewBuffered(r.spillDir, "exceptions", 1, budget); err != nil {
		return fail(err)
	}

	exFile, exHash, err := createOutput(pub, writers.ExceptionsName+cfg.Format.Ext())
	if err != nil {
		return fail(err)
	}
	exWriter, err := writers.NewExceptionsWriter(exFile, cfg.Format)
	if err != nil {
		return fail(err)
	}
	var runID string
	deriveID := func() string {
		if cfg.RunID != "" {
			return cfg.RunID
		}
		return deriveRunID(r.plan.SHA256, hashes, cfg.Format, validate, cfg.AsOf)
	}
	if mayStream && len(cfg.Claims) > 1 {
		if why := r.filesOutOfOrder(); why != "" {
			r.log.Info("claims files not in member order from one to the next: the run takes the partitioned path", "reason", why)
			mayStream = false
		}
	}
	if mayStream {
		r.stream = r.newStream(ctx, ranges, budget, func() (*adjudicator, error) {
			if err := hg.Wait(); err != nil {
				return nil, fmt.Errorf("pipeline: hashing inputs: %w", err)
			}
			runID = deriveID()
			return r.newAdjudicator(pub, runID, cfg.AsOf, read, nil, ranges, budget)
		})
	}
	restart := func(err error) (*Summary, error) {
		hg.Wait()
		if a := r.stream.a; a != nil {
			// Their last row groups finished; the staged files go with
			// the stage.
			a.rem.Close()
			a.st.Close()
		}
		r.log.Info("claims not ordered by member after all: the run starts again on the partitioned path, its outputs so far thrown away", "reason", err)
		return nil, err
	}
	// A failure of the read or of the stream's end stops the stream, and
	// a break of the order starts the run again.
	readFailed := func(err error) (*Summary, error) {
		err = r.stream.abort(err)
		if errors.Is(err, errNotOrdered) {
			return restart(err)
		}
		return fail(err)
	}
	if err := r.readClaims(ctx, read, filter, ranges); err != nil {
		return readFailed(err)
	}
	streamed := r.stream.on()
	if streamed {
		if err := r.stream.finish(); err != nil {
			return readFailed(err)
		}
		r.log.Info("streamed", "members", r.stream.members, "repeats_within_members", r.stream.dropped,
			"read_waited_for_adjudication", r.stream.waited.Round(time.Millisecond),
			"key_partitions", read.keys.Len(), "spilled_to_disk", read.keys.OnDisk(), "memory_limit_mib", r.cfg.MemoryLimit>>20)
		r.log.Debug("stream held", "most_batches", r.stream.mostHolds)
	} else {
		r.log.Info("partitioned", "key_partitions", read.keys.Len(), "member_ranges", len(ranges.ends),
			"spilled_to_disk", read.members.OnDisk() || read.keys.OnDisk(), "memory_limit_mib", r.cfg.MemoryLimit>>20)
	}
	filter = nil
	dd, err := r.dedupe(ctx, read, ranges, budget)
	defer dd.close()
	if err != nil {
		return fail(err)
	}
	if streamed && dd.repeats != r.stream.dropped {
		return restart(notOrdered("%d lines repeat a key of another member or of another member's --state-in records", dd.repeats-r.stream.dropped))
	}
	if err := r.writeExceptions(exWriter, read, dd); err != nil {
		return fail(err)
	}
	if err := r.checkExceptionShare(); err != nil {
		return fail(err)
	}
	if err := hg.Wait(); err != nil {
		return nil, fmt.Errorf("pipeline: hashing inputs: %w", err)
	}
	if cfg.StateIn != "" {
		if err := r.checkStateInRun(hashes[len(cfg.Claims)+2]); err != nil {
			return nil, err
		}
	}
	if !streamed {
		runID = deriveID()
	}
	if err := exWriter.Close(); err != nil {
		return nil, err
	}
	outputs := []writers.Output{{Name: writers.ExceptionsName + cfg.Format.Ext(), Rows: exWriter.Rows()}}
	hashers := []*writers.HashingWriter{exHash}

	if !validate {
		var outs []writers.Output
		var hs []*writers.HashingWriter
		if streamed {
			a := r.stream.a
			a.dd = dd
			outs, hs, err = a.finish(pub)
		} else {
			outs, hs, err = r.adjudicateAndWrite(ctx, pub, runID, cfg.AsOf, read, dd, ranges, budget)
		}
		if err != nil {
			return nil, err
		}
		outputs = append(outs[:1], append(outputs, outs[1:]...)...)
		hashers = append(hs[:1], append(hashers, hs[1:]...)...)
	}
	for i := range outputs {
		outputs[i].SHA256 = hashers[i].SHA256()
	}
	if err := r.conservation(); err != nil {
		return nil, err
	}
	if !validate && cfg.X12 {
		outs, err := r.write835s(ctx, pub, runID)
		if err != nil {
			return nil, err
		}
		outputs = append(outputs, outs...)
	}

	man, err := r.manifest(runID, hashes, outputs)
	if err != nil {
		return nil, err
	}
	return r.publish(ctx, pub, runID, man)
}

// writeManifest writes manifest.json and, with a signing key, its
// signature.
func (r *run) writeManifest(pub *writers.Publisher, man *writers.Manifest) error {
	var buf bytes.Buffer
	if err := writers.WriteManifest(&buf, man); err != nil {
		return err
	}
	mf, err := pub.Create(writers.ManifestName)
	if err != nil {
		return err
	}
	if _, err := mf.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("pipeline: manifest: %w", err)
	}
	if r.cfg.SignKey == nil {
		return nil
	}
	sf, err := pub.Create(writers.SignatureName)
	if err != nil {
		return err
	}
	if _, err := sf.Write(writers.SignManifest(r.cfg.SignKey, buf.Bytes())); err != nil {
		return fmt.Errorf("pipeline: manifest signature: %w", err)
	}
	return nil
}

// writeExceptions writes the exceptions file: the claims rows' (steps 1 and
// 2, merged by file and row), then the members file's and the FX file's,
// and counts them per input and code for the manifest.
func (r *run) writeExceptions(w *writers.ExceptionsWriter, read *readResult, dd *dedupeResult) error {
	n := len(r.cfg.Claims)
	r.exceptionCodes = make([]map[claim.ExceptionCode]int64, n+2)
	count := func(input int, ex []claim.Exception) {
		if len(ex) > 0 && r.exceptionCodes[input] == nil {
			r.exceptionCodes[input] = map[claim.ExceptionCode]int64{}
		}
		for i := range ex {
			r.exceptionCodes[input][ex[i].Code]++
		}
	}
	err := mergeExceptions(read, dd, func(ex []claim.Exception) error {
		for i := 0; i < len(ex); {
			j := i + 1
			for j < len(ex) && ex[j].SourceNo == ex[i].SourceNo {
				j++
			}
			if src := int(ex[i].SourceNo); src >= 0 && src < n {
				count(src, ex[i:j])
			}
			i = j
		}
		return w.Write(ex)
	})
	if err != nil {
		return err
	}
	// The members' and FX files' exceptions follow the claims files'. They
	// are not claim lines, so they stay out of the lines-read identity.
	if err := r.ref.writeMemberExceptions(w, func(ex []claim.Exception) { count(n, ex) }); err != nil {
		return err
	}
	count(n+1, r.ref.fxEx)
	return w.Write(r.ref.fxEx)
}

// planPath is the plan file as given, "" for the built-in plan.
func planPath(p *plan.Plan) string {
	if p.Source == plan.DefaultName {
		return ""
	}
	return p.Source
}

func planSource(p *plan.Plan) string {
	if p.Source == plan.DefaultName {
		return "built in"
	}
	return filepath.Base(p.Source)
}

// checkConfig fails fast, before any work, on what the user must fix, and
// fills in the defaults of the zero values.
func (r *run) checkConfig() error {
	cfg := &r.cfg
	if len(cfg.Claims) == 0 {
		return fmt.Errorf("%w: no claims file given", ErrConfig)
	}
	if cfg.Members == "" {
		return fmt.Errorf("%w: no members file given", ErrConfig)
	}
	if cfg.OutDir == "" {
		return fmt.Errorf("%w: no output directory given", ErrConfig)
	}
	if cfg.AsOf == 0 {
		return fmt.Errorf("%w: no as-of date (Config.AsOf)", ErrConfig)
	}
	if !cfg.AsOf.InRange() {
		return fmt.Errorf("%w: as-of date %s is outside %s..%s", ErrConfig, cfg.AsOf, claim.FirstDate, claim.LastDate)
	}
	if cfg.MaxExceptionShare < 0 || cfg.MaxExceptionShare > 1 {
		return fmt.Errorf("%w: the maximum exception share %g is not between 0 and 1", ErrConfig, cfg.MaxExceptionShare)
	}
	type input struct{ flag, path string }
	var inputs []input
	for _, p := range cfg.Claims {
		inputs = append(inputs, input{"--claims", p})
	}
	inputs = append(inputs, input{"--members", cfg.Members}, input{"--fx", cfg.FX}, input{"--state-in", cfg.StateIn})
	for _, in := range inputs {
		p := in.path
		if p == "" {
			continue
		}
		st, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: %s %s: no such file", ErrConfig, in.flag, p)
		}
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrConfig, in.flag, err)
		}
		if st.IsDir() {
			hint := ""
			if in.flag == "--state-in" {
				hint = " (the state of a run is its state.csv or state.parquet)"
			}
			return fmt.Errorf("%w: %s %s is a directory, not a file%s", ErrConfig, in.flag, p, hint)
		}
		if inside(p, cfg.OutDir) {
			what := "input"
			if p == cfg.StateIn {
				what = "--state-in"
			}
			return fmt.Errorf("%w: %s %s is inside the output directory %s, which the run replaces as a whole: copy it elsewhere or choose another --out", ErrConfig, what, p, cfg.OutDir)
		}
	}
	if cfg.TmpDir != "" {
		if inside(cfg.TmpDir, cfg.OutDir) {
			return fmt.Errorf("%w: the temporary directory %s is inside the output directory %s, which the run replaces as a whole", ErrConfig, cfg.TmpDir, cfg.OutDir)
		}
		st, err := os.Stat(cfg.TmpDir)
		if err != nil {
			return fmt.Errorf("%w: temporary directory: %w", ErrConfig, err)
		}
		if !st.IsDir() {
			return fmt.Errorf("%w: temporary directory %s is not a directory", ErrConfig, cfg.TmpDir)
		}
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.StateKeepYears == 0 {
		cfg.StateKeepYears = 2
	}
	if cfg.MemoryLimit <= 0 {
		cfg.MemoryLimit = DefaultMemoryLimit
	}
	return nil
}

// configError marks the readers' file-level errors that the user must fix
// (a missing column, an unreadable, undecodable or corrupt file) as
// configuration errors.
func configError(err error) error {
	if errors.Is(err, readers.ErrMissingColumn) || errors.Is(err, readers.ErrOpen) || errors.Is(err, readers.ErrFormat) || errors.Is(err, readers.ErrCorrupt) {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return err
}

// hashBlock is how much of an input hashFile reads at a time. io.Copy's
// 32 KiB (an *os.File copies through its own WriteTo, whatever buffer is
// given) made 32,000 read calls for a 1 GB claims file, each about 8 µs
// of system time on a virtual machine; 1 MiB makes 1,000.
const hashBlock = 1 << 20

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	buf := make([]byte, hashBlock)
	for {
		n, err := f.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// deriveRunID hashes what determines the outputs: the plan, every input's
// role (its position: claims files, members, FX, state) and content, the
// kind of run and the as-of date. Paths are left out so the same data moved elsewhere gets the
// same id.
func deriveRunID(planHash string, hashes []string, f writers.Format, validate bool, asOf claim.Date) string {
	h := sha256.New()
	fmt.Fprintf(h, "claimsbatch run v2\nplan %s\nformat %s\nvalidate %v\nas_of %s\n", planHash, f, validate, asOf)
	for i := range hashes {
		fmt.Fprintf(h, "input %d %s\n", i, hashes[i])
	}
	return "run-" + hex.EncodeToString(h.Sum(nil))[:20]
}

// createOutput creates an output of the run; the Publisher syncs and
// closes it at the commit.
func createOutput(pub *writers.Publisher, name string) (io.Writer, *writers.HashingWriter, error) {
	return hashed(pub.Create(name))
}

// createRemittance creates the remittance, kept in the page cache when
// the run's 835s will read it back (writers.File.KeepCached).
func (r *run) createRemittance(pub *writers.Publisher) (io.Writer, *writers.HashingWriter, error) {
	f, err := pub.Create(writers.RemittanceName + r.cfg.Format.Ext())
	if err == nil && r.cfg.X12 {
		f.KeepCached()
	}
	return hashed(f, err)
}

// hashed returns a created output behind the hasher of its bytes, as the
// writer to write to and the hasher for the manifest.
func hashed(f *writers.File, err error) (io.Writer, *writers.HashingWriter, error) {
	if err != nil {
		return nil, nil, err
	}
	h := writers.NewHashingWriter(f)
	return h, h, nil
}
