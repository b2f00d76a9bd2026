package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"

	"claimsbatch/claim"
	"claimsbatch/engine"
	"claimsbatch/internal/arrowmem"
	"claimsbatch/plan"
	"claimsbatch/readers"
	"claimsbatch/writers"

	"golang.org/x/sync/errgroup"
)

// StateVersion is the version of the state file layout this build writes.
// It also reads version 1, whose duplicate-service keys are DUP records
// rather than part of the LINE records.
const StateVersion = "2"

// Output file base names (the extension follows the format).
const (
	RemittanceName = "remittance"
	PaymentsName   = "payments"
	ExceptionsName = "exceptions"
	StateName      = "state"
	ManifestName   = "manifest.json"
)

// Run runs one job and publishes its outputs. On error nothing is published
// and every temporary file is removed.
func Run(ctx context.Context, cfg Config) (*Summary, error) {
	return run(ctx, cfg, false)
}

// Validate reads and checks every input row as Run does, without
// adjudicating, and publishes only the exceptions file and a manifest.
func Validate(ctx context.Context, cfg Config) (*Summary, error) {
	return run(ctx, cfg, true)
}

type job struct {
	cfg      Config
	log      *slog.Logger
	plan     *plan.Plan
	engine   *engine.Engine
	validate bool

	resolved   map[string]*member // the members file, until the book is built from it
	book       *book
	checkSpans []claim.Span // check's scratch (the reading goroutine's)
	fx         *fxTable

	stateMembers map[string]int32 // --state-in records per member (LINE included)
	stateKeys    *partitions      // --state-in LINE records by claim partition
	stateRecs    *partitions      // --state-in member records, in file order
	stateParts   *partitions      // the same by member range (step 2)
	claimPartN   int              // number of claim partitions
	stateAsOf    claim.Date
	stateInNotes []string

	asOf     claim.Date // latest received_date of this run's lines
	accepted int64      // lines that passed every row check

	// Spilling (see claims.go).
	spillDir    string
	claimParts  *partitions   // step 1: accepted lines with raw text, by (claim_id, line_no)
	readerEx    *partitions   // step 1: rejected rows, in input order
	dupParts    []*partitions // step 2: DUPLICATE_LINE rows, each in input order
	memberParts []*partitions // step 2: deduplicated lines by member_id range, one set per worker
	rangeEnds   []int32       // end (exclusive member number) of each member partition
	active      int           // members with lines or state
	chunkBufs   chan chunkBuf // step 3: result buffers of written chunks, for reuse

	memberEx     []claim.Exception
	membersInput writers.Input
	fxInput      writers.Input
	perFile      []fileCount
	totals       writers.ControlTotals
	exWriter     *writers.ExceptionsWriter
}

type lineKey struct {
	claimID string
	lineNo  int32
}

type lineWhere struct {
	source int32 // -1 = an earlier run (state)
	row    int64
}

type fileCount struct {
	rows, adjudicated, exceptions int64
}

func run(ctx context.Context, cfg Config, validate bool) (*Summary, error) {
	arrowmem.Install()
	j := &job{cfg: cfg, log: cfg.Logger, validate: validate, asOf: claim.NoDate, stateAsOf: claim.NoDate}
	if j.log == nil {
		j.log = slog.New(slog.DiscardHandler)
	}
	j.plan = cfg.Plan
	if j.plan == nil {
		j.plan = plan.Default()
	}
	j.engine = engine.New(j.plan)
	if err := j.checkConfig(); err != nil {
		return nil, err
	}

	// Hash every input while the run reads them: the run id and the manifest
	// need the hashes, the reading does not.
	hashes := make([]string, len(cfg.Claims)+3)
	var hg errgroup.Group
	hashPaths := append(append([]string{}, cfg.Claims...), cfg.Members, cfg.FX, cfg.StateIn)
	for i, path := range hashPaths {
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
	pub, err := writers.NewPublisher(cfg.OutDir)
	if err != nil {
		return fail(err)
	}
	defer pub.Abort() // after a successful Commit this does nothing
	if j.spillDir, err = os.MkdirTemp(cfg.TmpDir, "claimsbatch-spill-*"); err != nil {
		return fail(fmt.Errorf("pipeline: temporary directory: %w", err))
	}
	defer j.removeSpill()

	if err := j.loadMembers(); err != nil {
		return fail(err)
	}
	fxEx, err := j.loadFX()
	if err != nil {
		return fail(err)
	}
	j.claimPartN = j.claimPartitionCount()
	if err := j.loadState(j.claimPartN); err != nil {
		return fail(err)
	}
	j.book = newBook(j.resolved, j.stateMembers)
	j.resolved, j.stateMembers = nil, nil
	exFile, exHash, err := createOutput(pub, ExceptionsName+cfg.Format.Ext())
	if err != nil {
		return fail(err)
	}
	if j.exWriter, err = writers.NewExceptionsWriter(exFile, cfg.Format); err != nil {
		return fail(err)
	}
	if err := j.readClaims(ctx); err != nil {
		return fail(err)
	}
	if err := j.dedupe(ctx); err != nil {
		return fail(err)
	}
	err = mergeExceptions(append([]*partitions{j.readerEx}, j.dupParts...), j.exWriter.Write)
	if err != nil {
		return fail(err)
	}
	// The members' and FX files' exceptions follow the claims files'. They
	// are not claim lines, so they stay out of the lines-read identity.
	if err := j.exWriter.Write(j.memberEx); err != nil {
		return fail(err)
	}
	if err := j.exWriter.Write(fxEx); err != nil {
		return fail(err)
	}
	j.membersInput.Exceptions = int64(len(j.memberEx))
	j.fxInput.Exceptions = int64(len(fxEx))
	if err := hg.Wait(); err != nil {
		return nil, fmt.Errorf("pipeline: hashing inputs: %w", err)
	}
	runID := cfg.RunID
	if runID == "" {
		runID = deriveRunID(j.plan.SHA256, hashPaths, hashes, cfg.Format, validate)
	}
	if err := j.exWriter.Close(); err != nil {
		return nil, err
	}
	outputs := []writers.Output{{Name: ExceptionsName + cfg.Format.Ext(), Rows: j.exWriter.Rows()}}
	hashers := []*writers.HashingWriter{exHash}

	if !validate {
		outs, hs, err := j.adjudicateAndWrite(ctx, pub, runID)
		if err != nil {
			return nil, err
		}
		outputs = append(outs[:1], append(outputs, outs[1:]...)...)
		hashers = append(hs[:1], append(hashers, hs[1:]...)...)
	}
	for i := range outputs {
		outputs[i].SHA256 = hashers[i].SHA256()
	}
	if err := j.conservation(); err != nil {
		return nil, err
	}

	var inputs []writers.Input
	for i, path := range cfg.Claims {
		fc := j.perFile[i]
		inputs = append(inputs, writers.Input{Role: writers.RoleClaims, Path: path, SHA256: hashes[i], Rows: fc.rows, Adjudicated: fc.adjudicated, Exceptions: fc.exceptions})
	}
	j.membersInput.SHA256 = hashes[len(cfg.Claims)]
	inputs = append(inputs, j.membersInput)
	if cfg.FX != "" {
		j.fxInput.SHA256 = hashes[len(cfg.Claims)+1]
		inputs = append(inputs, j.fxInput)
	}
	man := &writers.Manifest{
		RunID:         runID,
		ToolVersion:   cfg.Version,
		Plan:          writers.PlanRef{Name: j.plan.Name + " (" + planSource(j.plan) + ")", SHA256: j.plan.SHA256},
		Inputs:        inputs,
		Outputs:       outputs,
		ControlTotals: j.totals,
		Notes:         j.stateInNotes,
	}
	if validate {
		man.Notes = append(man.Notes, "validate run: rows checked, nothing adjudicated; lines_adjudicated counts the rows that passed every check")
	}
	if cfg.StateIn != "" {
		man.StateIn = &writers.StateRef{Path: cfg.StateIn, SHA256: hashes[len(cfg.Claims)+2]}
	}
	mf, err := pub.Create(ManifestName)
	if err != nil {
		return nil, err
	}
	if err := writers.WriteManifest(mf, man); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("pipeline: run interrupted: %w", err)
	}
	if err := pub.Commit(ManifestName); err != nil {
		return nil, err
	}
	files := make([]string, 0, len(outputs)+1)
	for _, o := range outputs {
		files = append(files, o.Name)
	}
	files = append(files, ManifestName)
	j.log.Info("run published", "run_id", runID, "dir", cfg.OutDir,
		"lines_read", j.totals.LinesRead, "adjudicated", j.totals.LinesAdjudicated, "exceptions", j.totals.Exceptions)
	return &Summary{RunID: runID, OutDir: cfg.OutDir, Files: files, ControlTotals: j.totals}, nil
}

// removeSpill removes the run's spill files, on success and on failure alike.
func (j *job) removeSpill() {
	j.claimParts.close()
	j.readerEx.close()
	j.stateKeys.close()
	j.stateRecs.close()
	j.stateParts.close()
	for _, p := range j.dupParts {
		p.close()
	}
	for _, p := range j.memberParts {
		p.close()
	}
	if j.spillDir != "" {
		os.RemoveAll(j.spillDir)
	}
}

func planSource(p *plan.Plan) string {
	if p.Source == plan.DefaultName {
		return "built in"
	}
	return filepath.Base(p.Source)
}

// checkConfig fails fast, before any work, on what the user must fix.
func (j *job) checkConfig() error {
	cfg := &j.cfg
	if len(cfg.Claims) == 0 {
		return fmt.Errorf("%w: no claims file given", ErrConfig)
	}
	if cfg.Members == "" {
		return fmt.Errorf("%w: no members file given", ErrConfig)
	}
	if cfg.OutDir == "" {
		return fmt.Errorf("%w: no output directory given", ErrConfig)
	}
	for _, p := range append(append([]string{}, cfg.Claims...), cfg.Members, cfg.FX, cfg.StateIn) {
		if p == "" {
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrConfig, err)
		}
		if st.IsDir() {
			return fmt.Errorf("%w: %s is a directory, not a file", ErrConfig, p)
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
// (a missing column, an unreadable file) as configuration errors.
func configError(err error) error {
	if errors.Is(err, readers.ErrMissingColumn) || errors.Is(err, readers.ErrOpen) || errors.Is(err, readers.ErrFormat) {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return err
}

func (j *job) loadMembers() error {
	raw, ex, rows, err := readers.ReadMembers(j.cfg.Members)
	if err != nil {
		return configError(err)
	}
	members, more := resolveMembers(j.plan, j.cfg.Members, raw, ex)
	all := append(ex, more...)
	slices.SortStableFunc(all, func(a, b claim.Exception) int { return cmpInt(a.Row, b.Row) })
	j.resolved = members
	j.memberEx = all
	j.membersInput = writers.Input{Role: writers.RoleMembers, Path: j.cfg.Members, Rows: rows}
	invalid := 0
	for _, m := range members {
		if m.invalid != "" {
			invalid++
		}
	}
	j.log.Info("members loaded", "rows", rows, "members", len(members), "invalid_members", invalid, "row_exceptions", len(all))
	return nil
}

func (j *job) loadFX() ([]claim.Exception, error) {
	j.fx = &fxTable{pairs: map[[2]string][]fxRate{}}
	if j.cfg.FX == "" {
		return nil, nil
	}
	rates, ex, rows, err := readers.ReadFX(j.cfg.FX)
	if err != nil {
		return nil, configError(err)
	}
	var more []claim.Exception
	j.fx, more = newFXTable(j.cfg.FX, rates)
	all := append(ex, more...)
	slices.SortStableFunc(all, func(a, b claim.Exception) int { return cmpInt(a.Row, b.Row) })
	j.fxInput = writers.Input{Role: writers.RoleFX, Path: j.cfg.FX, Rows: rows}
	j.log.Info("fx loaded", "rows", rows, "pairs", len(j.fx.pairs), "row_exceptions", len(all))
	return all, nil
}

func cmpInt[T ~int64 | ~int32 | ~int](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// deriveRunID hashes what determines the outputs: the plan, every input's
// role and content, and the kind of run. Paths are left out so the same data
// moved elsewhere gets the same id.
func deriveRunID(planHash string, paths, hashes []string, f writers.Format, validate bool) string {
	h := sha256.New()
	fmt.Fprintf(h, "claimsbatch run v1\nplan %s\nformat %s\nvalidate %v\n", planHash, f, validate)
	for i := range paths {
		fmt.Fprintf(h, "input %d %s\n", i, hashes[i])
	}
	return "run-" + hex.EncodeToString(h.Sum(nil))[:20]
}

func createOutput(pub *writers.Publisher, name string) (io.Writer, *writers.HashingWriter, error) {
	f, err := pub.Create(name)
	if err != nil {
		return nil, nil, err
	}
	h := writers.NewHashingWriter(f)
	return h, h, nil
}
