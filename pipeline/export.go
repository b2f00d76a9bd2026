package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"claimsbatch/book"
	"claimsbatch/claim"
	"claimsbatch/engine"
	"claimsbatch/internal/arrowmem"
	"claimsbatch/plan"
	"claimsbatch/report"
	"claimsbatch/spill"
	"claimsbatch/writers"

	"golang.org/x/sync/errgroup"
)

// This file is what a runner that adjudicates elsewhere (claimsbatch-beam,
// issue 15) needs of a run, so that it publishes what Run publishes
// without a second implementation of any of it: the configuration checks
// and the reference data (Prepare), the DUPLICATE_LINE exception, the
// state window, and the publish with its exceptions file, control totals,
// conservation checks, manifest and report (Prepared.Publish). Run uses
// the same functions.

// Prepared is a run's configuration checked and its reference data loaded
// as Run loads them: the members file resolved into the member book (its
// rows checked against the plan, each member's spans against each other),
// the FX table, and the --state-in file checked (version, plan, as-of
// date, bounds). Close removes its temporary files.
type Prepared struct {
	r       *run
	members *loadedMembers
	budget  *spill.Budget
}

// Prepare checks cfg and loads its reference data as Run does, and fails
// as Run would on them (ErrConfig for what the user must fix). With
// cfg.StateIn empty it reads no state: a process that only prices lines
// needs none (the state's members are not in the members file, so
// pricing treats them as it treats any unknown member).
func Prepare(ctx context.Context, cfg Config) (p *Prepared, err error) {
	r, err := newRun(cfg, false)
	if err != nil {
		return nil, err
	}
	if r.spillDir, err = os.MkdirTemp(r.cfg.TmpDir, "claimsbatch-spill-*"); err != nil {
		return nil, fmt.Errorf("pipeline: temporary directory: %w", err)
	}
	p = &Prepared{r: r, budget: spill.NewBudget(r.cfg.MemoryLimit / 4)}
	defer func() {
		if err != nil {
			p.Close()
			p = nil
		}
	}()
	if p.members, err = r.loadMembers(p.budget); err != nil {
		return p, err
	}
	if err := r.checkMembers(p.members, p.members.builder.ValidRows() > 0); err != nil {
		return p, err
	}
	fx, err := r.loadFX()
	if err != nil {
		return p, err
	}
	r.state, err = r.loadState(nil, nil, p.budget, p.members.builder)
	if err != nil {
		return p, err
	}
	// The state's records are Run's to adjudicate; here they were only
	// checked.
	r.state.records.Close()
	r.state.records = nil
	if r.ref, err = r.newReference(p.members, fx); err != nil {
		return p, err
	}
	estLines, _ := r.inputEstimate()
	if err := r.resolveMembers(p.members, r.planMemberRanges(estLines), p.budget); err != nil {
		return p, err
	}
	if n, invalid := p.members.builder.Members(); n == invalid {
		return p, r.checkMembers(p.members, false)
	}
	// The spans stay with the book's builder's rules; a runner that
	// adjudicates elsewhere resolves each member's spans there
	// (book.ResolveMember).
	r.ref.spans.Close()
	r.ref.spans = nil
	return p, ctx.Err()
}

// newRun starts a run: its plan (the built-in one when cfg has none), its
// engine and logger, its configuration checked and defaulted.
func newRun(cfg Config, validate bool) (*run, error) {
	arrowmem.Install()
	r := &run{cfg: cfg, log: cfg.Logger, validate: validate, clock: newStageClock()}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.plan = cfg.Plan
	if r.plan == nil {
		r.plan = plan.Default()
	}
	r.engine = engine.New(r.plan)
	codes := make([]string, len(r.plan.Benefits))
	for i := range r.plan.Benefits {
		codes[i] = r.plan.Benefits[i].Code
	}
	r.reportLines = report.NewLines(codes)
	if err := r.checkConfig(); err != nil {
		return nil, err
	}
	r.blocks = spill.NewBlockPool(poolSize(r.cfg.MemoryLimit, r.cfg.spillBlock), r.cfg.spillBlock)
	return r, nil
}

// Close removes the temporary files.
func (p *Prepared) Close() {
	if p == nil {
		return
	}
	p.members.close()
	p.r.ref.close()
	p.r.state.close()
	if p.r.spillDir != "" {
		os.RemoveAll(p.r.spillDir)
	}
}

// Config returns the configuration with its defaults filled in.
func (p *Prepared) Config() Config { return p.r.cfg }

// Plan returns the run's plan.
func (p *Prepared) Plan() *plan.Plan { return p.r.plan }

// Engine returns the run's engine.
func (p *Prepared) Engine() *engine.Engine { return p.r.engine }

// Book returns the member book.
func (p *Prepared) Book() *book.Book { return p.r.ref.book }

// Pricer returns a Pricer for one goroutine: the row checks that need the
// book and FX (UNKNOWN_MEMBER, INVALID_MEMBER, NO_FX_RATE) and the pricing.
func (p *Prepared) Pricer() *book.Pricer { return p.r.ref.pricer.Clone() }

// Window returns the state window of every member's adjudication
// (engine.MemberRun's KeepFrom, KeysFrom and LateBefore) as Run sets it.
func (p *Prepared) Window() (keepFrom, keysFrom, lateBefore claim.Date) {
	keepFrom, keysFrom = p.r.stateWindow(p.r.cfg.AsOf)
	return keepFrom, keysFrom, p.r.state.keysFrom
}

// CarriesState reports whether a --state-in record goes to its member's
// adjudication, as Run decides it: every member record (LINE rows too)
// but, after an intended plan change (AllowPlanChange), the old plan's
// accumulators the new plan does not know. META rows are not member
// records. Prepare has refused a state with unknown records otherwise.
func (p *Prepared) CarriesState(rec *claim.StateRecord) bool {
	switch rec.Kind {
	case claim.KindMeta, claim.KindEnd:
		return false
	case claim.KindLine:
		return true
	}
	return p.r.engine.Knows(*rec)
}

// stateWindow is the state pruning of a run as of asOf: the policy years
// and keys kept (engine.MemberRun's KeepFrom) and the LINE keys kept
// (KeysFrom).
func (r *run) stateWindow(asOf claim.Date) (keepFrom, keysFrom claim.Date) {
	keepFrom = claim.NoDate
	if r.cfg.StateKeepYears > 0 && asOf != claim.NoDate {
		keepFrom = asOf.AddYears(-r.cfg.StateKeepYears)
	}
	return keepFrom, r.keysFrom(asOf)
}

// DuplicateLine is the DUPLICATE_LINE exception of the line of claims file
// source, row row (claims: the run's --claims list; raw: the row's text):
// the first accepted copy of its (claim_id, line_no) came from file
// firstSource, row firstRow, or from an earlier run's state when
// firstSource is negative.
func DuplicateLine(claims []string, source int32, row int64, claimID string, lineNo int32, memberID, raw string, firstSource int32, firstRow int64) claim.Exception {
	msg := "this claim_id and line_no were adjudicated by an earlier run (--state-in)"
	if firstSource >= 0 {
		msg = fmt.Sprintf("this claim_id and line_no were already accepted from %s row %d", filepath.Base(claims[firstSource]), firstRow)
	}
	return claim.Exception{Source: filepath.Base(claims[source]), SourceNo: source, Row: row,
		ClaimID: claimID, LineNo: fmt.Sprint(lineNo), MemberID: memberID, Code: claim.DuplicateLine,
		Field: "line_no", Message: msg, Raw: raw}
}

// SortPayments sorts payments rows in the table's order: payee type, payee
// id, plan currency.
func SortPayments(rows []writers.PaymentRow) {
	slices.SortFunc(rows, func(a, b writers.PaymentRow) int {
		return cmp.Or(cmp.Compare(a.PayeeType, b.PayeeType), strings.Compare(a.PayeeID, b.PayeeID), strings.Compare(a.PlanCurrency, b.PlanCurrency))
	})
}

// Outcome is a run adjudicated elsewhere, for Prepared.Publish. Each
// iterator calls yield with the next rows in order until it returns an
// error or the rows end.
type Outcome struct {
	// FileRows is the rows read of each claims file, in --claims order.
	FileRows []int64
	// ClaimsExceptions are the claims files' rejected rows (the row checks,
	// the book's and DUPLICATE_LINE), in (file, row) order.
	ClaimsExceptions func(yield func([]claim.Exception) error) error
	// Results are the adjudicated lines in member_id order, each member's
	// as engine.AdjudicateMember returned them.
	Results func(yield func([]claim.Result) error) error
	// State is the members' state records in member_id order, each
	// member's as engine.AdjudicateMember returned them (no META rows).
	State func(yield func([]claim.StateRecord) error) error
	// Payments are the payments rows, in any order.
	Payments []writers.PaymentRow
	// Check, when set, is called once every row is written and Run's
	// conservation checks have passed, before anything is published, with
	// the control totals and each claims file's adjudicated lines and
	// exceptions as the publish counted them: a runner compares them with
	// its own count. Its error (wrapped in ErrConservation) stops the run.
	Check func(totals writers.ControlTotals, adjudicated, exceptions []int64) error
}

// Publish writes and publishes the outputs of a run adjudicated elsewhere
// exactly as Run writes them: the exceptions file (the claims rows', then
// the members file's and the FX file's), the remittance, the state (its
// META rows first), the payments, the guard rails and conservation checks,
// report.html and the manifest, then the atomic publish. On error nothing
// is published.
func (p *Prepared) Publish(ctx context.Context, out Outcome) (*Summary, error) {
	r, cfg := p.r, p.r.cfg
	if len(out.FileRows) != len(cfg.Claims) {
		return nil, fmt.Errorf("pipeline: %d row counts for %d claims files", len(out.FileRows), len(cfg.Claims))
	}
	inputs := append(append([]string{}, cfg.Claims...), cfg.Members, cfg.FX, cfg.StateIn)
	hashes := make([]string, len(inputs))
	var hg errgroup.Group
	for i, path := range inputs {
		if path != "" {
			hg.Go(func() (err error) {
				hashes[i], err = hashFile(path)
				return err
			})
		}
	}
	if err := hg.Wait(); err != nil {
		return nil, fmt.Errorf("pipeline: hashing inputs: %w", err)
	}
	pub, err := writers.NewPublisher(cfg.OutDir, writers.PublishOptions{Force: cfg.Force})
	if err != nil {
		if errors.Is(err, writers.ErrLocked) || errors.Is(err, writers.ErrOutDir) {
			err = fmt.Errorf("%w: %w", ErrConfig, err)
		}
		return nil, err
	}
	defer pub.Abort()

	exFile, exHash, err := createOutput(pub, writers.ExceptionsName+cfg.Format.Ext())
	if err != nil {
		return nil, err
	}
	exWriter, err := writers.NewExceptionsWriter(exFile, cfg.Format)
	if err != nil {
		return nil, err
	}
	r.perFile = make([]fileCount, len(cfg.Claims))
	for i, n := range out.FileRows {
		r.perFile[i].rows = n
		r.totals.LinesRead += n
	}
	read := &readResult{}
	defer read.close()
	if read.exceptions, err = spill.NewBuffered(r.spillDir, "exceptions", 1, p.budget); err != nil {
		return nil, err
	}
	err = out.ClaimsExceptions(func(ex []claim.Exception) error {
		for i := range ex {
			x := &ex[i]
			if x.SourceNo < 0 || int(x.SourceNo) >= len(cfg.Claims) {
				return fmt.Errorf("pipeline: an exception of claims file %d of %d", x.SourceNo, len(cfg.Claims))
			}
			r.totals.AddException(x.Code)
			r.perFile[x.SourceNo].exceptions++
			if err := read.exceptions.WriteException(0, x); err != nil {
				return fmt.Errorf("pipeline: spill: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := read.exceptions.Finish(); err != nil {
		return nil, err
	}
	if err := r.writeExceptions(exWriter, read, &dedupeResult{}); err != nil {
		return nil, err
	}
	if err := r.checkExceptionShare(); err != nil {
		return nil, err
	}
	if cfg.StateIn != "" {
		if err := r.checkStateInRun(hashes[len(cfg.Claims)+2]); err != nil {
			return nil, err
		}
	}
	runID := cfg.RunID
	if runID == "" {
		runID = deriveRunID(r.plan.SHA256, hashes, cfg.Format, false, cfg.AsOf)
	}
	if err := exWriter.Close(); err != nil {
		return nil, err
	}

	f := cfg.Format
	remFile, remHash, err := r.createRemittance(pub)
	if err != nil {
		return nil, err
	}
	rem, err := writers.NewRemittanceWriter(remFile, f, runID)
	if err != nil {
		return nil, err
	}
	stFile, stHash, err := createOutput(pub, writers.StateName+f.Ext())
	if err != nil {
		return nil, err
	}
	st, err := writers.NewStateWriter(stFile, f)
	if err != nil {
		return nil, err
	}
	_, keysFrom := r.stateWindow(cfg.AsOf)
	if err := st.Write(r.metaRecords(runID, cfg.AsOf, keysFrom)); err != nil {
		return nil, err
	}
	err = out.Results(func(results []claim.Result) error {
		for i := range results {
			if s := results[i].Line.Source; s < 0 || int(s) >= len(cfg.Claims) {
				return fmt.Errorf("pipeline: a result of claims file %d of %d", s, len(cfg.Claims))
			}
		}
		if err := rem.Write(results); err != nil {
			return err
		}
		r.countResults(results)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := out.State(st.Write); err != nil {
		return nil, err
	}
	if err := rem.Close(); err != nil {
		return nil, err
	}
	if err := st.Close(); err != nil {
		return nil, err
	}
	payFile, payHash, err := createOutput(pub, writers.PaymentsName+f.Ext())
	if err != nil {
		return nil, err
	}
	pw, err := writers.NewPaymentsWriter(payFile, f)
	if err != nil {
		return nil, err
	}
	rows := slices.Clone(out.Payments)
	SortPayments(rows)
	if err := pw.Write(rows); err != nil {
		return nil, err
	}
	if err := pw.Close(); err != nil {
		return nil, err
	}
	outputs := []writers.Output{
		{Name: writers.RemittanceName + f.Ext(), Rows: rem.Rows(), SHA256: remHash.SHA256()},
		{Name: writers.ExceptionsName + f.Ext(), Rows: exWriter.Rows(), SHA256: exHash.SHA256()},
		{Name: writers.PaymentsName + f.Ext(), Rows: pw.Rows(), SHA256: payHash.SHA256()},
		{Name: writers.StateName + f.Ext(), Rows: st.Rows(), SHA256: stHash.SHA256()},
	}
	if err := r.conservation(); err != nil {
		return nil, err
	}
	if out.Check != nil {
		adjudicated, exceptions := make([]int64, len(r.perFile)), make([]int64, len(r.perFile))
		for i, fc := range r.perFile {
			adjudicated[i], exceptions[i] = fc.adjudicated, fc.exceptions
		}
		if err := out.Check(r.totals, adjudicated, exceptions); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConservation, err)
		}
	}
	man, err := r.manifest(runID, hashes, outputs)
	if err != nil {
		return nil, err
	}
	return r.publish(ctx, pub, runID, man)
}

// countResults adds written results to the run's counts: the control
// totals, the per-file counts, the turnaround and the report's lines.
func (r *run) countResults(results []claim.Result) {
	for i := range results {
		res := &results[i]
		r.totals.AddResultAt(res, &r.totalsAt)
		r.perFile[res.Line.Source].adjudicated++
		r.turnaround.add(res.Line.ReceivedDate, r.cfg.AsOf)
		r.reportLines.Add(res)
	}
}

// manifest assembles the run's manifest from its counts (outputs: the
// tables written, with their hashes; hashes: the inputs', claims files
// first, then members, FX and state).
func (r *run) manifest(runID string, hashes []string, outputs []writers.Output) (*writers.Manifest, error) {
	cfg, validate := r.cfg, r.validate
	var ins []writers.Input
	for i, path := range cfg.Claims {
		fc := r.perFile[i]
		ins = append(ins, writers.Input{Role: writers.RoleClaims, Path: path, SHA256: hashes[i], Rows: fc.rows, Adjudicated: fc.adjudicated, Exceptions: fc.exceptions,
			ExceptionsByCode: r.exceptionCodes[i]})
	}
	membersIn := r.ref.membersInput
	membersIn.SHA256 = hashes[len(cfg.Claims)]
	membersIn.ExceptionsByCode = r.exceptionCodes[len(cfg.Claims)]
	ins = append(ins, membersIn)
	if cfg.FX != "" {
		fxIn := r.ref.fxInput
		fxIn.SHA256 = hashes[len(cfg.Claims)+1]
		fxIn.ExceptionsByCode = r.exceptionCodes[len(cfg.Claims)+1]
		ins = append(ins, fxIn)
	}
	man := &writers.Manifest{
		RunID:         runID,
		ToolVersion:   cfg.Version,
		AsOf:          cfg.AsOf.String(),
		Plan:          writers.PlanRef{Name: r.plan.Name + " (" + planSource(r.plan) + ")", SHA256: r.plan.SHA256, Path: planPath(r.plan)},
		Inputs:        ins,
		Outputs:       outputs,
		ControlTotals: r.totals,
		Notes:         r.state.notes,
	}
	if validate {
		man.Notes = append(man.Notes, "validate run: rows checked, nothing adjudicated; lines_adjudicated counts the rows that passed every check")
	}
	if cfg.StateIn != "" {
		man.StateIn = &writers.StateRef{Path: cfg.StateIn, SHA256: hashes[len(cfg.Claims)+2]}
	}
	if !validate {
		man.Turnaround = r.turnaround.section()
		if err := man.Turnaround.Check(); err != nil || man.Turnaround.Lines != r.totals.LinesAdjudicated {
			return nil, fmt.Errorf("%w: turnaround measured %d lines of %d adjudicated (%v)", ErrConservation, man.Turnaround.Lines, r.totals.LinesAdjudicated, err)
		}
	}
	return man, nil
}

// publish writes report.html (showing the manifest about to be written,
// less its own entry) and the manifest, and commits the publisher.
func (r *run) publish(ctx context.Context, pub *writers.Publisher, runID string, man *writers.Manifest) (*Summary, error) {
	cfg := r.cfg
	reportOut, err := r.writeReport(pub, man)
	if err != nil {
		return nil, err
	}
	man.Outputs = append(man.Outputs, reportOut)
	if err := r.writeManifest(pub, man); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("pipeline: run interrupted: %w", err)
	}
	if err := pub.Commit(writers.ManifestName); err != nil {
		return nil, err
	}
	files := make([]string, 0, len(man.Outputs)+1)
	for _, o := range man.Outputs {
		files = append(files, o.Name)
	}
	files = append(files, writers.ManifestName)
	if cfg.SignKey != nil {
		files = append(files, writers.SignatureName)
	}
	r.clock.log(r.log)
	r.log.Info("run published", "run_id", runID, "dir", cfg.OutDir,
		"lines_read", r.totals.LinesRead, "adjudicated", r.totals.LinesAdjudicated, "exceptions", r.totals.Exceptions)
	return &Summary{RunID: runID, AsOf: cfg.AsOf, OutDir: cfg.OutDir, Files: files, ControlTotals: r.totals}, nil
}
