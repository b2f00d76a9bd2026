package job

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"sync"

	"claimsbatch/book"
	"claimsbatch/claim"
	"claimsbatch/engine"
	"claimsbatch/pipeline"
	"claimsbatch/plan"
	"claimsbatch/readers"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
)

// The adjudication as a Beam pipeline. Every rule is claimsbatch's own:
// readers check the rows, book prices them (book.Pricer) and resolves each
// member's spans (book.ResolveMember), engine adjudicates a member
// (engine.AdjudicateMember), pipeline says what a DUPLICATE_LINE is and
// publishes (pipeline.Prepare, Prepared.Publish). This file only moves the
// data between them:
//
//	claims files ─► read + check + price (book in each worker) ─► KV<(claim_id, line_no), line>
//	state file   ─► LINE keys ─► KV<(claim_id, line_no), 1>   ─┐
//	                                                          CoGroupByKey: DUPLICATE_LINE ─► KV<member_id, line>
//	members file ─► KV<member_id, row>                         ─┐
//	state file   ─► KV<member_id, record>                       ─┤
//	                                                          CoGroupByKey: engine per member
//	  ─► remittance and state records (shards), payments (CombinePerKey ─► shards)
//	exceptions of every stage ─► shards; rows read per file ─► one shard

// Settings is what every worker must agree on, fixed by the launcher
// before the job starts: the inputs, the plan's file, the as-of date and
// the state window (which needs the --state-in file's META rows, read by
// the launcher only).
type Settings struct {
	Claims          []string
	Members         string
	FX              string
	PlanPath        string
	OutDir          string
	AsOf            claim.Date
	AllowPlanChange bool
	StateKeepYears  int
	KeepFrom        claim.Date
	KeysFrom        claim.Date
	LateBefore      claim.Date
}

// KeyedLine is a line on its way to the DUPLICATE_LINE check, with its
// row's text for the exception it may become.
type KeyedLine struct {
	Line claim.Line
	Raw  string
}

// SeqState is a --state-in member record with its position in the file
// (a member's records reach the engine in file order).
type SeqState struct {
	Seq int64
	Rec claim.StateRecord
}

// FileRows is the number of rows read of claims file Index.
type FileRows struct {
	Index int32
	Rows  int64
}

// MemberResults is one member's results in the engine's order: one shard
// record a member, not one a line, so that a runner that holds elements in
// memory (Prism) holds a few per member.
type MemberResults struct {
	Rows []ResultRow
}

// MemberState is one member's state records in the engine's order.
type MemberState struct {
	Records []claim.StateRecord
}

// PayAcc is one payee's lines and payment in one plan currency, summed.
type PayAcc struct {
	PayeeType    claim.PayeeType
	PayeeID      string
	PlanCurrency string
	Lines        int64
	Paid         claim.Money
}

// The output kinds of the shards.
const (
	kindRemittance = "remittance"
	kindState      = "state"
	kindExceptions = "exceptions"
	kindPayments   = "payments"
	kindFiles      = "files"
	kindTallies    = "tallies"
)

// Tallies: the job's own count of what it produced, summed by a
// CombinePerKey and compared by the launcher with what the publish counted
// (pipeline.Outcome.Check) before anything is published: a shard record
// lost or doubled between the workers and the publish stops the run.
func tallyAdjudicated(file int32) string { return "adjudicated/" + strconv.Itoa(int(file)) }
func tallyExceptions(file int32) string  { return "exceptions/" + strconv.Itoa(int(file)) }
func tallyLines(currency string) string  { return "lines/" + currency }
func tallyPaid(currency string) string   { return "paid/" + currency }

func sumTally(a, b int64) int64 { return a + b }

func init() {
	for _, t := range []reflect.Type{reflect.TypeFor[Settings](), reflect.TypeFor[KeyedLine](), reflect.TypeFor[SeqState](),
		reflect.TypeFor[FileRows](), reflect.TypeFor[PayAcc](), reflect.TypeFor[MemberResults](), reflect.TypeFor[MemberState](), reflect.TypeFor[Tally]()} {
		beam.RegisterType(t)
	}
	register.DoFn6x1[context.Context, FileRef, func(string, KeyedLine), func(claim.Exception), func(FileRows), func(string, int64), error](&readClaimsFn{})
	register.DoFn3x1[context.Context, []byte, func(string, claim.RawSpan), error](&readMembersFn{})
	register.DoFn4x1[context.Context, []byte, func(string, int32), func(string, SeqState), error](&readStateFn{})
	register.DoFn6x1[string, func(*KeyedLine) bool, func(*int32) bool, func(string, claim.Line), func(claim.Exception), func(string, int64), error](&dedupeFn{})
	register.DoFn8x1[string, func(*claim.Line) bool, func(*claim.RawSpan) bool, func(*SeqState) bool, func(int, Record), func(int, Record), func(string, PayAcc), func(string, int64), error](&adjudicateFn{})
	register.Function2x1[int64, int64, int64](sumTally)
	register.Function2x3[string, int64, int, Record, error](tallyRecord)
	register.Emitter2[string, int64]()
	register.Function2x1[PayAcc, PayAcc, PayAcc](addPay)
	register.DoFn2x3[string, PayAcc, int, Record, error](&payAccRecordFn{})
	register.DoFn1x3[claim.Exception, int, Record, error](&claimsExceptionRecordFn{})
	register.DoFn1x3[FileRows, int, Record, error](&fileRowsToRecordFn{})
	register.Emitter2[string, KeyedLine]()
	register.Emitter1[claim.Exception]()
	register.Emitter1[FileRows]()
	register.Emitter2[string, claim.RawSpan]()
	register.Emitter2[string, int32]()
	register.Emitter2[string, SeqState]()
	register.Emitter2[string, claim.Line]()
	register.Emitter2[int, Record]()
	register.Emitter2[string, PayAcc]()
	register.Iter1[KeyedLine]()
	register.Iter1[int32]()
	register.Iter1[claim.Line]()
	register.Iter1[claim.RawSpan]()
	register.Iter1[SeqState]()
}

// buildPipeline is the job: shards of every output kind in dir.
func buildPipeline(s beam.Scope, set Settings, stateIn, dir string, shards int, fault Fault) {
	refs := make([]FileRef, len(set.Claims))
	for i, p := range set.Claims {
		refs[i] = FileRef{Index: int32(i), Path: p}
	}
	// One element per claims file, redistributed so that the files are
	// read by different workers (see docs/DISTRIBUTED.md: splits within a
	// file need a ranged reader in package readers).
	files := beam.Reshuffle(s, beam.CreateList(s, refs))
	lines, rejected, rows, readTallies := beam.ParDo4(s.Scope("ReadClaims"), &readClaimsFn{S: set}, files)
	stateKeys, stateRecs := beam.ParDo2(s.Scope("ReadState"), &readStateFn{S: set, Path: stateIn}, beam.Impulse(s))
	memberRows := beam.ParDo(s.Scope("ReadMembers"), &readMembersFn{S: set}, beam.Impulse(s))

	byKey := beam.CoGroupByKey(s.Scope("ByLineKey"), lines, stateKeys)
	accepted, dups, dupTallies := beam.ParDo3(s.Scope("DuplicateLine"), &dedupeFn{S: set}, byKey)

	byMember := beam.CoGroupByKey(s.Scope("ByMember"), accepted, memberRows, stateRecs)
	adjudicated := beam.ParDoN(s.Scope("Adjudicate"), &adjudicateFn{S: set, Shards: shards}, byMember)
	remit, state, pay, adjTallies := adjudicated[0], adjudicated[1], adjudicated[2], adjudicated[3]
	tallies := beam.ParDo(s.Scope("TallyRecords"), tallyRecord,
		beam.CombinePerKey(s.Scope("Tallies"), sumTally, beam.Flatten(s, readTallies, dupTallies, adjTallies)))
	payments := beam.ParDo(s.Scope("PaymentRecords"), &payAccRecordFn{Shards: shards}, beam.CombinePerKey(s.Scope("Payments"), addPay, pay))
	exceptions := beam.ParDo(s.Scope("ExceptionRecords"), &claimsExceptionRecordFn{Shards: shards}, beam.Flatten(s, rejected, dups))
	fileRows := beam.ParDo(s.Scope("FileRecords"), &fileRowsToRecordFn{}, rows)

	WriteShards(s, dir, kindRemittance, shards, remit, fault)
	WriteShards(s, dir, kindState, shards, state, fault)
	WriteShards(s, dir, kindExceptions, shards, exceptions, fault)
	WriteShards(s, dir, kindPayments, shards, payments, fault)
	WriteShards(s, dir, kindFiles, 1, fileRows, fault)
	WriteShards(s, dir, kindTallies, 1, tallies, fault)
}

// workerRefs holds, per process, the reference data of each Settings a
// worker has seen: the member book and FX table every pricing worker
// needs, loaded once per process with claimsbatch's own loading
// (pipeline.Prepare).
var workerRefs struct {
	mu sync.Mutex
	m  map[string]*workerRef
}

type workerRef struct {
	once sync.Once
	p    *pipeline.Prepared
	err  error
}

// prepared returns the process's reference data for set.
func prepared(ctx context.Context, set Settings) (*pipeline.Prepared, error) {
	key, err := json.Marshal(set)
	if err != nil {
		return nil, err
	}
	workerRefs.mu.Lock()
	if workerRefs.m == nil {
		workerRefs.m = map[string]*workerRef{}
	}
	w := workerRefs.m[string(key)]
	if w == nil {
		w = &workerRef{}
		workerRefs.m[string(key)] = w
	}
	workerRefs.mu.Unlock()
	w.once.Do(func() {
		var p *plan.Plan
		if p, w.err = loadPlan(set.PlanPath); w.err != nil {
			return
		}
		w.p, w.err = pipeline.Prepare(ctx, pipeline.Config{
			Claims: set.Claims, Members: set.Members, FX: set.FX, AsOf: set.AsOf, Plan: p, OutDir: set.OutDir,
			AllowPlanChange: set.AllowPlanChange, StateKeepYears: set.StateKeepYears,
		})
	})
	return w.p, w.err
}

// releaseWorkerRefs drops the reference data this process's workers
// loaded (the launcher's, after an in-process or LOOPBACK job).
func releaseWorkerRefs() {
	workerRefs.mu.Lock()
	defer workerRefs.mu.Unlock()
	for k, w := range workerRefs.m {
		w.p.Close()
		delete(workerRefs.m, k)
	}
}

func loadPlan(path string) (*plan.Plan, error) {
	if path == "" {
		return plan.Default(), nil
	}
	return plan.Load(path)
}

// lineGroupKey is the group key of a (claim_id, line_no).
func lineGroupKey(claimID string, lineNo int32) string {
	return string(strconv.AppendInt(AppendString(nil, claimID), int64(lineNo), 10))
}

// readClaimsFn reads one claims file with the readers (the row checks of
// SPEC section 7 but the member's and FX), prices each accepted line with
// the book (UNKNOWN_MEMBER, INVALID_MEMBER, NO_FX_RATE) and sends it on by
// its (claim_id, line_no). Rejected rows are exceptions.
type readClaimsFn struct {
	S Settings
}

func (fn *readClaimsFn) ProcessElement(ctx context.Context, f FileRef, lines func(string, KeyedLine), rejected func(claim.Exception), rows func(FileRows), tally func(string, int64)) error {
	p, err := prepared(ctx, fn.S)
	if err != nil {
		return err
	}
	pricer := p.Pricer()
	cr, err := readers.OpenClaims(f.Path, f.Index, p.Plan(), readers.Options{AsOf: fn.S.AsOf})
	if err != nil {
		return err
	}
	defer cr.Close()
	var rejects []claim.Exception
	for {
		b, err := cr.NextBatch()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		// Rejected rows in row order: the reader's and the book's merged.
		rejects = rejects[:0]
		for i := range b.Lines {
			l := b.Lines[i]
			if _, why := pricer.Price(&l); why.Code != "" {
				rejects = append(rejects, b.Reject(i, why.Code, why.Field, why.Message))
				continue
			}
			lines(lineGroupKey(l.ClaimID, l.LineNo), KeyedLine{Line: l, Raw: b.Raw(i)})
		}
		for i := range b.Exceptions {
			rejected(b.Exceptions[i])
		}
		for i := range rejects {
			rejected(rejects[i])
		}
		if n := len(b.Exceptions) + len(rejects); n > 0 {
			tally(tallyExceptions(f.Index), int64(n))
		}
		// The batch is not released: the lines' strings live on in what
		// was emitted until the runner has encoded it.
	}
	rows(FileRows{Index: f.Index, Rows: cr.Rows()})
	return cr.Close()
}

// readMembersFn sends every valid-looking row of the members file to its
// member: the engine's spans are resolved per member (book.ResolveMember).
// The members file's exceptions are the launcher's (pipeline.Prepare).
type readMembersFn struct {
	S Settings
}

func (fn *readMembersFn) ProcessElement(ctx context.Context, _ []byte, emit func(string, claim.RawSpan)) error {
	mr, err := readers.OpenMembers(fn.S.Members, readers.Options{})
	if err != nil {
		return err
	}
	defer mr.Close()
	for mr.Next() {
		for _, s := range mr.Spans() {
			emit(s.MemberID, s)
		}
	}
	if err := mr.Err(); err != nil {
		return err
	}
	return mr.Close()
}

// readStateFn sends the --state-in file's LINE keys to the DUPLICATE_LINE
// check and its member records (those the run carries, in file order) to
// their member. The launcher has checked the file (pipeline.Prepare).
type readStateFn struct {
	S    Settings
	Path string // "": no state
}

func (fn *readStateFn) ProcessElement(ctx context.Context, _ []byte, keys func(string, int32), recs func(string, SeqState)) error {
	if fn.Path == "" {
		return nil
	}
	p, err := prepared(ctx, fn.S)
	if err != nil {
		return err
	}
	sr, err := readers.OpenState(fn.Path, readers.Options{})
	if err != nil {
		return err
	}
	defer sr.Close()
	var seq int64
	for sr.Next() {
		rec := sr.Record()
		if rec.Kind == claim.KindLine {
			keys(lineGroupKey(rec.Key, int32(rec.Count)), 1)
		}
		if p.CarriesState(&rec) {
			recs(rec.MemberID, SeqState{Seq: seq, Rec: rec})
			seq++
		}
	}
	if err := sr.Err(); err != nil {
		return err
	}
	return sr.Close()
}

// dedupeFn is DUPLICATE_LINE for one (claim_id, line_no): the first copy in
// input order (file, row) is accepted unless an earlier run's state holds
// the key; every other copy is the exception. The group arrives in no
// particular order, so the first is the minimum, not the first seen.
type dedupeFn struct {
	S Settings
}

func (fn *dedupeFn) ProcessElement(_ string, lines func(*KeyedLine) bool, state func(*int32) bool, accepted func(string, claim.Line), dups func(claim.Exception), tally func(string, int64)) error {
	var all []KeyedLine
	var kl KeyedLine
	for lines(&kl) {
		all = append(all, kl)
		kl = KeyedLine{}
	}
	var one int32
	inState := false
	for state(&one) {
		inState = true
	}
	if len(all) == 0 {
		return nil
	}
	slices.SortFunc(all, func(a, b KeyedLine) int {
		return cmp.Or(cmp.Compare(a.Line.Source, b.Line.Source), cmp.Compare(a.Line.Row, b.Line.Row))
	})
	firstSource, firstRow, rest := int32(-1), int64(0), all
	if !inState {
		first := &all[0].Line
		accepted(first.MemberID, *first)
		firstSource, firstRow, rest = first.Source, first.Row, all[1:]
	}
	for i := range rest {
		l := &rest[i].Line
		dups(pipeline.DuplicateLine(fn.S.Claims, l.Source, l.Row, l.ClaimID, l.LineNo, l.MemberID, rest[i].Raw, firstSource, firstRow))
		tally(tallyExceptions(l.Source), 1)
	}
	return nil
}

// adjudicateFn adjudicates one member with the engine: its accepted lines
// in SPEC order (claim.Less), its spans resolved by the book from its rows
// of the members file, its --state-in records in file order. Results and
// state records go to the shards under keys in member_id order, then the
// engine's order; payments to the combine.
type adjudicateFn struct {
	S      Settings
	Shards int

	once   sync.Once
	err    error
	eng    *engine.Engine
	plan   *plan.Plan
	member *engine.Member
	source string
	rc     *Codec[MemberResults]
	sc     *Codec[MemberState]
}

func (fn *adjudicateFn) setup() error {
	fn.once.Do(func() {
		p, err := prepared(context.Background(), fn.S)
		if err != nil {
			fn.err = err
			return
		}
		fn.plan, fn.eng = p.Plan(), p.Engine()
		fn.member = fn.eng.NewMember()
		fn.source = filepath.Base(fn.S.Members)
		fn.rc, fn.sc = NewCodec[MemberResults](), NewCodec[MemberState]()
	})
	return fn.err
}

func (fn *adjudicateFn) ProcessElement(member string, lineIter func(*claim.Line) bool, rowIter func(*claim.RawSpan) bool, stateIter func(*SeqState) bool,
	remit func(int, Record), state func(int, Record), pay func(string, PayAcc), tally func(string, int64)) error {
	if err := fn.setup(); err != nil {
		return err
	}
	var lines []claim.Line
	var l claim.Line
	for lineIter(&l) {
		lines = append(lines, l)
		l = claim.Line{}
	}
	var seqs []SeqState
	var ss SeqState
	for stateIter(&ss) {
		seqs = append(seqs, ss)
		ss = SeqState{}
	}
	if len(lines) == 0 && len(seqs) == 0 {
		for rowIter(&claim.RawSpan{}) {
		}
		return nil // a member with nothing to adjudicate
	}
	in := engine.MemberRun{ID: member, KeepFrom: fn.S.KeepFrom, KeysFrom: fn.S.KeysFrom, LateBefore: fn.S.LateBefore}
	var rows []claim.RawSpan
	var rs claim.RawSpan
	for rowIter(&rs) {
		rows = append(rows, rs)
		rs = claim.RawSpan{}
	}
	if len(lines) > 0 {
		slices.SortFunc(rows, func(a, b claim.RawSpan) int { return cmp.Compare(a.Row, b.Row) })
		spans, invalid, _ := book.ResolveMember(fn.plan, fn.source, rows, nil)
		if invalid != "" {
			return errors.New("job: a member whose lines the book accepted has invalid coverage by book.ResolveMember")
		}
		in.Spans = spans
		slices.SortFunc(lines, func(a, b claim.Line) int { return claim.Compare(&a, &b) })
		in.Lines = lines
	}
	slices.SortFunc(seqs, func(a, b SeqState) int { return cmp.Compare(a.Seq, b.Seq) })
	in.State = make([]claim.StateRecord, len(seqs))
	for i := range seqs {
		in.State[i] = seqs[i].Rec
	}
	results, records, err := fn.eng.AdjudicateMember(fn.member, &in, nil, nil)
	if err != nil {
		return fmt.Errorf("job: state file: %w", err)
	}
	// One record a member for the remittance and one for the state, keyed
	// by member_id (the engine's order within); the payments summed per
	// payee and currency over the member's lines before the combine.
	shard, key := ShardOf(member, fn.Shards), AppendString(nil, member)
	if len(results) > 0 {
		mr := MemberResults{Rows: make([]ResultRow, len(results))}
		var pays []PayAcc
		for i := range results {
			r := &results[i]
			mr.Rows[i] = FromResult(r)
			acc := PayAcc{PayeeType: r.Line.Payee, PayeeID: r.Line.ProviderID, PlanCurrency: r.Line.PlanCurrency, Lines: 1, Paid: r.PlanPaid}
			if r.Line.Payee == claim.PayeeMember {
				acc.PayeeID = member
			}
			j := slices.IndexFunc(pays, func(p PayAcc) bool {
				return p.PayeeType == acc.PayeeType && p.PayeeID == acc.PayeeID && p.PlanCurrency == acc.PlanCurrency
			})
			if j < 0 {
				pays = append(pays, acc)
			} else {
				pays[j] = addPay(pays[j], acc)
			}
		}
		v, err := fn.rc.Encode(mr)
		if err != nil {
			return err
		}
		remit(shard, Record{Key: key, Value: v})
		for i := range pays {
			pay(payKey(&pays[i]), pays[i])
		}
		// The member's lines per file and per plan currency: the tallies.
		type cur struct {
			name        string
			lines, paid int64
		}
		var files []int64
		var curs []cur
		for i := range results {
			r := &results[i]
			if src := int(r.Line.Source); src >= len(files) {
				files = append(files, make([]int64, src+1-len(files))...)
			}
			files[r.Line.Source]++
			j := slices.IndexFunc(curs, func(c cur) bool { return c.name == r.Line.PlanCurrency })
			if j < 0 {
				curs = append(curs, cur{name: r.Line.PlanCurrency})
				j = len(curs) - 1
			}
			curs[j].lines++
			curs[j].paid += int64(r.PlanPaid)
		}
		for src, n := range files {
			if n > 0 {
				tally(tallyAdjudicated(int32(src)), n)
			}
		}
		for _, c := range curs {
			tally(tallyLines(c.name), c.lines)
			tally(tallyPaid(c.name), c.paid)
		}
	}
	if len(records) > 0 {
		v, err := fn.sc.Encode(MemberState{Records: records})
		if err != nil {
			return err
		}
		state(shard, Record{Key: key, Value: v})
	}
	return nil
}

// payKey is the group key of a payee and currency, in the payments table's
// order.
func payKey(a *PayAcc) string {
	k := AppendInt(nil, int64(a.PayeeType))
	k = AppendString(k, a.PayeeID)
	return string(AppendString(k, a.PlanCurrency))
}

func addPay(a, b PayAcc) PayAcc {
	if a.Lines == 0 {
		a.PayeeType, a.PayeeID, a.PlanCurrency = b.PayeeType, b.PayeeID, b.PlanCurrency
	}
	a.Lines += b.Lines
	a.Paid += b.Paid
	return a
}

type payAccRecordFn struct {
	Shards int
	codec  *Codec[PayAcc]
}

func (fn *payAccRecordFn) ProcessElement(key string, acc PayAcc) (int, Record, error) {
	if fn.codec == nil {
		fn.codec = NewCodec[PayAcc]()
	}
	v, err := fn.codec.Encode(acc)
	return ShardOf(key, fn.Shards), Record{Key: []byte(key), Value: v}, err
}

type claimsExceptionRecordFn struct {
	Shards int
	codec  *Codec[claim.Exception]
}

func (fn *claimsExceptionRecordFn) ProcessElement(x claim.Exception) (int, Record, error) {
	if fn.codec == nil {
		fn.codec = NewCodec[claim.Exception]()
	}
	key := AppendInt(AppendInt(nil, int64(x.SourceNo)), x.Row)
	v, err := fn.codec.Encode(x)
	return ShardOf(string(key), fn.Shards), Record{Key: key, Value: v}, err
}

type fileRowsToRecordFn struct {
	codec *Codec[FileRows]
}

func (fn *fileRowsToRecordFn) ProcessElement(f FileRows) (int, Record, error) {
	if fn.codec == nil {
		fn.codec = NewCodec[FileRows]()
	}
	v, err := fn.codec.Encode(f)
	return 0, Record{Key: AppendInt(nil, int64(f.Index)), Value: v}, err
}

// Tally is one of the job's counts, summed.
type Tally struct {
	Key string
	N   int64
}

func tallyRecord(key string, n int64) (int, Record, error) {
	v, err := NewCodec[Tally]().Encode(Tally{Key: key, N: n})
	return 0, Record{Key: AppendString(nil, key), Value: v}, err
}
