package pipeline

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"time"
	"unsafe"

	"claimsbatch/book"
	"claimsbatch/claim"
	"claimsbatch/readers"
	"claimsbatch/spill"

	"golang.org/x/sync/errgroup"
)

// Claims ordered by member (streaming).
//
// Warehouse extracts usually come sorted by member. When the first batch
// of accepted lines is in member order, the run streams: a member's lines
// are held as the reader decoded them (their text copied by the pricing
// workers into arenas that outlive the batch, detachLine) until a line of
// a later member arrives, and the member is then adjudicated and written
// while the read goes on; no line is encoded, spilled to a member
// partition, loaded back or grouped. Everything else of step 1 runs as
// before: the keys go to the key partitions and the Bloom filter, the
// rejected rows to the exceptions, and step 2 runs over all the keys at
// the end.
//
// A member past hugeLimit lines is adjudicated in segments, as on the
// partitioned path (huge.go): its lines move to records as a member
// partition holds them, and it is handed over as soon as it is complete.
//
// A repeat is found in stream only within its member: a line whose key the
// Bloom filter may have seen is looked up among its member's lines read so
// far and its member's --state-in LINE records, and dropped when found
// (the first copy is kept: step 2's rule). Step 2 then finds every
// DUPLICATE_LINE of the run, those across members too; the streamed
// outputs are the partitioned path's, line for line, exactly when step 2
// finds no more than the stream dropped (the stream's are a subset of
// step 2's). When it finds more, when the order breaks later in the input
// (a member's number goes down, in one file or across --claims files), or
// when the --state-in records are not in member order, the run's outputs
// are thrown away and the run starts again on the partitioned path, saying
// why in the log. For input not ordered, that is decided on its first
// batch, before anything is streamed; for --claims files that cannot
// follow each other in member order, before the read (filesOutOfOrder).

// errNotOrdered is wrapped by the reasons a streamed run starts again on
// the partitioned path.
var errNotOrdered = errors.New("claims not ordered by member")

// notOrdered returns errNotOrdered with its reason; it names files and
// rows, never a member or a claim.
func notOrdered(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errNotOrdered, fmt.Sprintf(format, args...))
}

// streamLines is how many held lines of complete members the stream hands
// to the adjudication at a time.
const streamLines = 4 * chunkLines

// The stream's modes.
const (
	streamUndecided = iota // no accepted line seen yet
	streamOn               // members streamed to the adjudication
	streamOff              // partitioned
)

// stream is the streamed adjudication of claims ordered by member. The
// sink goroutine drives it (line, endBatch); the adjudication is the
// partitioned path's chunk pipeline.
type stream struct {
	r      *run
	ctx    context.Context // the run's: the adjudication outlives the read
	mode   int
	ranges *memberRanges
	budget *spill.Budget
	// begin makes the adjudicator (the output writers): it waits for the
	// inputs' hashes, which the run id needs.
	begin func() (*adjudicator, error)
	a     *adjudicator
	g     *errgroup.Group
	stop  context.CancelCauseFunc
	pipe  *chunkPipe

	cur      int32 // the member being read; -1 before the first
	curStart int   // its first line in held
	curState []claim.StateRecord
	// A member past hugeLimit lines moves to curHuge, its lines encoded
	// as a member partition holds them (huge.go), and is adjudicated in
	// segments as the partitioned path would.
	curHuge *hugeLines
	// curKeys is the member's kept lines' and --state-in LINE records'
	// keys, made once a repeat is looked up in a member with many.
	curKeys    map[lineKey]struct{}
	enc        []byte        // a huge member's line record being made
	held       []claim.Line  // lines of the complete members in groups, then cur's
	groups     []memberLines // complete members not handed over yet
	groupState int           // their --state-in records
	// What the strings of the lines held or handed over point into, batch
	// by batch: the first safe only hold lines of complete members, and
	// are released once those are written.
	holds  []hold
	safe   int
	free   chan []claim.Line // held buffers of written members, for reuse
	arenas chan []byte       // text arenas of written members, for reuse

	state     *spill.Decoder // --state-in member records, in file order
	next      claim.StateRecord
	nextM     int32 // next's member number
	hasNext   bool
	lastState int32 // the last member whose state records were taken

	spans  *rangeSpans // of member range spansQ
	spansQ int

	mostHolds int   // the most batches' text held at once (debug log)
	dropped   int64 // lines dropped as repeats within their member
	members   int64 // members handed to the adjudication
	// waited is how long the read waited for the adjudication to take
	// members (the pipeline full); batchWait the part of it in the batch
	// being sunk, which the sink's busy time leaves out.
	waited, batchWait time.Duration
}

// hold is what one batch's taken lines point into: the text its pricing
// worker copied them into (detachLine), or, for the batch read before the
// run decided to stream, the batch itself.
type hold struct {
	arena []byte
	batch *readers.Batch
}

// release gives h back: the arena for reuse, the batch to its reader.
func (h hold) release(arenas chan []byte) {
	if h.batch != nil {
		h.batch.Release()
	}
	if h.arena != nil {
		select {
		case arenas <- h.arena[:0]:
		default:
		}
	}
}

// detachLine copies l's strings into arena (grown as needed) and points
// them there, so that the line outlives its batch: a streamed run holds a
// member's lines until they are written, and a batch's text is pinned with
// its whole row group or CSV chunk (the reader's look-ahead), which the
// collector then has to work around. Earlier lines keep the arrays a
// growth leaves behind.
func detachLine(arena []byte, l *claim.Line) []byte {
	fields := [...]*string{&l.ClaimID, &l.MemberID, &l.BenefitCode, &l.Diagnosis, &l.Condition, &l.ProcedureCode,
		&l.ItemCode, &l.Country, &l.TripID, &l.ProviderID, &l.Currency, &l.FXRate, &l.PlanCurrency}
	n := 0
	for _, f := range fields {
		n += len(*f)
	}
	arena = slices.Grow(arena, n)
	for _, f := range fields {
		if len(*f) == 0 {
			continue
		}
		at := len(arena)
		arena = append(arena, *f...)
		*f = unsafe.String(&arena[at], len(*f))
	}
	return arena
}

// newStream prepares a stream; it starts at the first accepted line.
func (r *run) newStream(ctx context.Context, ranges *memberRanges, budget *spill.Budget, begin func() (*adjudicator, error)) *stream {
	return &stream{r: r, ctx: ctx, ranges: ranges, budget: budget, begin: begin, cur: -1, lastState: -1, spansQ: -1,
		free: make(chan []claim.Line, 2*r.cfg.Workers+2), arenas: make(chan []byte, 8*r.cfg.Workers+8)}
}

// filesOutOfOrder returns why the --claims files cannot be in member
// order from one to the next, or "" when they may be: a file that begins
// (the first of its first rows that names a member of the book,
// readers.FirstValue) with a member before the one the file before it ends
// with (the last such row of its tail, readers.LastValue; its first when
// its end cannot be read, a gzip-compressed file). Extracts written in parts that are
// each sorted but together cover the members several times over (a
// warehouse's sort within partitions) are told this way before the read,
// instead of streaming the first part only to start again at the second.
// It only guesses, from rows it does not check: a wrong guess costs the
// stream (or a restart), never a result. A file it cannot read is left to
// the read, which reports it.
func (r *run) filesOutOfOrder() string {
	known := func(id string) bool { return r.ref.book.Find(id) >= 0 }
	// first returns the number of the first member of the book named in
	// the first rows of the claims file at path, or -1.
	first := func(path string) int32 {
		if id, err := readers.FirstValue(path, "member_id", known); err == nil && id != "" {
			return r.ref.book.Find(id)
		}
		return -1
	}
	prevFirst, havePrevFirst := int32(-1), false // the file before's, when read
	for k := 1; k < len(r.cfg.Claims); k++ {
		prevPath := r.cfg.Claims[k-1]
		next := first(r.cfg.Claims[k])
		if next >= 0 {
			end, prev := "last", int32(-1)
			if id, err := readers.LastValue(prevPath, "member_id", known); err == nil && id != "" {
				prev = r.ref.book.Find(id)
			}
			if prev < 0 {
				if !havePrevFirst {
					prevFirst = first(prevPath)
				}
				end, prev = "first", prevFirst
			}
			if prev >= 0 && next < prev {
				return fmt.Sprintf("%s (--claims file %d of %d) begins with a member before the %s of %s (file %d)",
					filepath.Base(r.cfg.Claims[k]), k+1, len(r.cfg.Claims), end, filepath.Base(prevPath), k)
			}
		}
		prevFirst, havePrevFirst = next, true
	}
	return ""
}

// on reports whether members are being streamed.
func (s *stream) on() bool { return s != nil && s.mode == streamOn }

// decide takes the first batch with an accepted line: the run streams when
// that batch's accepted lines are in member order.
func (s *stream) decide(job *readJob) {
	last := int32(-1)
	any := false
	for _, m := range job.members {
		if m < 0 {
			continue
		}
		any = true
		if m < last {
			s.mode = streamOff
			return
		}
		last = m
	}
	if !any {
		return
	}
	s.mode = streamOn
	s.r.noEncode.Store(true)
	// The read and the writers now run at once: half of the spill sets'
	// budget (the member partitions' share, which a stream does not use)
	// is kept off the sets, so that the key sets move to files earlier and
	// the heap stays further from the limit. Measured on 10 M sorted
	// Parquet lines: 62 collections → 45, CPU 31–33 s → 30–31 s.
	s.budget.Reserve(s.r.cfg.MemoryLimit / 8)
	s.r.log.Info("claims ordered by member: each member is adjudicated as soon as its lines are read, with no member partitions")
}

// start makes the adjudicator and starts its pipeline, at the first
// member handed over.
func (s *stream) start() error {
	a, err := s.begin()
	if err != nil {
		return err
	}
	s.a = a
	var sctx context.Context
	sctx, s.stop = context.WithCancelCause(s.ctx)
	var gctx context.Context
	s.g, gctx = errgroup.WithContext(sctx)
	s.pipe = a.startPipe(gctx, s.g)
	if s.r.state.records != nil {
		if s.state, err = s.r.state.records.Open(0); err != nil {
			return err
		}
		s.advance()
	}
	return nil
}

// advance reads the next --state-in member record, if any.
func (s *stream) advance() {
	s.hasNext = s.state.Next()
	if s.hasNext {
		s.state.StateRecord(&s.next)
		s.nextM = s.r.ref.book.Find(s.next.MemberID)
	}
}

// lineKey is a line's (claim_id, line_no).
type lineKey struct {
	claimID string
	lineNo  int32
}

// line takes accepted line i of job (member m) in input order.
func (s *stream) line(job *readJob, i int, m int32) error {
	l := &job.batch.Lines[i]
	if m != s.cur {
		if m < s.cur {
			return notOrdered("%s row %d belongs to a member before the one read last", s.fileName(l.Source), l.Row)
		}
		if s.a == nil {
			if err := s.start(); err != nil {
				return err
			}
		}
		if err := s.endMember(); err != nil {
			return err
		}
		if err := s.stateBefore(m); err != nil {
			return err
		}
		// Every batch taken so far holds lines of complete members only
		// (this line's batch is not taken yet).
		s.safe = len(s.holds)
		if s.due() {
			if err := s.handOver(); err != nil {
				return err
			}
		}
		s.cur, s.curStart = m, len(s.held)
		s.curState = s.takeState(m)
	}
	if job.seen[i] && s.repeats(l) {
		s.dropped++
		return nil
	}
	if s.curKeys != nil {
		s.curKeys[lineKey{l.ClaimID, l.LineNo}] = struct{}{}
	}
	if s.curHuge == nil && len(s.held)-s.curStart >= int(s.r.hugeLimit()) {
		s.toHuge(m)
	}
	if s.curHuge != nil {
		s.enc = spill.AppendLineFields(s.enc[:0], l, m)
		s.curHuge.add(s.enc, l.ServiceDate, l.ReceivedDate)
		return nil
	}
	if s.held == nil {
		s.held = s.newHeld()
	}
	s.held = append(s.held, *l)
	return nil
}

// toHuge moves the member being read (m), past hugeLimit lines, from held
// to curHuge.
func (s *stream) toHuge(m int32) {
	lines := s.held[s.curStart:]
	h := newHugeLines(int32(2 * len(lines)))
	for j := range lines {
		s.enc = spill.AppendLineFields(s.enc[:0], &lines[j], m)
		h.add(s.enc, lines[j].ServiceDate, lines[j].ReceivedDate)
	}
	clear(lines)
	s.held = s.held[:s.curStart]
	s.curHuge = h
}

// streamHolds is the most batches' text the stream holds before it hands
// over what it has: a night whose lines are all repeats keeps none, and
// its batches' arenas must still go back.
const streamHolds = 8

// due reports whether the complete members should be handed over now:
// when their lines and --state-in records come to streamLines, when the
// batches held come to streamHolds, or when the last one is a huge member
// (its records should not wait for more).
func (s *stream) due() bool {
	return len(s.held)+s.groupState >= streamLines || len(s.holds) >= streamHolds ||
		len(s.groups) > 0 && s.groups[len(s.groups)-1].huge != nil
}

// fileName names claims file source in a reason: its base name, and its
// place among several --claims files (two may have the same name).
func (s *stream) fileName(source int32) string {
	name := filepath.Base(s.r.cfg.Claims[source])
	if n := len(s.r.cfg.Claims); n > 1 {
		name = fmt.Sprintf("%s (--claims file %d of %d)", name, source+1, n)
	}
	return name
}

// manyKeys is the most keys of a member (lines kept and --state-in LINE
// records) a repeat is looked up among one by one; past it, in a map.
const manyKeys = 64

// repeats reports whether l's key is among its member's lines kept so far
// or its member's --state-in LINE records.
func (s *stream) repeats(l *claim.Line) bool {
	if s.curKeys == nil && (s.curHuge != nil || len(s.held)-s.curStart+len(s.curState) > manyKeys) {
		s.curKeys = s.memberKeys()
	}
	if s.curKeys != nil {
		_, ok := s.curKeys[lineKey{l.ClaimID, l.LineNo}]
		return ok
	}
	for j := s.curStart; j < len(s.held); j++ {
		if h := &s.held[j]; h.LineNo == l.LineNo && h.ClaimID == l.ClaimID {
			return true
		}
	}
	for j := range s.curState {
		if rec := &s.curState[j]; rec.Kind == claim.KindLine && rec.Count == int64(l.LineNo) && rec.Key == l.ClaimID {
			return true
		}
	}
	return false
}

// memberKeys returns the keys of the member being read: its --state-in
// LINE records' and its lines' kept so far. Their text lives as long as
// the member is read: the state's decoded blocks, the lines' arenas, a
// huge member's records.
func (s *stream) memberKeys() map[lineKey]struct{} {
	keys := make(map[lineKey]struct{}, 2*(len(s.held)-s.curStart+len(s.curState)))
	for j := range s.curState {
		if rec := &s.curState[j]; rec.Kind == claim.KindLine {
			keys[lineKey{rec.Key, int32(rec.Count)}] = struct{}{}
		}
	}
	for j := s.curStart; j < len(s.held); j++ {
		keys[lineKey{s.held[j].ClaimID, s.held[j].LineNo}] = struct{}{}
	}
	if h := s.curHuge; h != nil {
		var d spill.Decoder
		var l claim.Line
		for _, ref := range h.index {
			d.Load(h.record(ref.at))
			d.LineHead(&l)
			keys[lineKey{l.ClaimID, l.LineNo}] = struct{}{}
		}
	}
	return keys
}

// newHeld returns an empty buffer for held lines.
func (s *stream) newHeld() []claim.Line {
	select {
	case b := <-s.free:
		return b[:0]
	default:
		return make([]claim.Line, 0, streamLines+chunkLines)
	}
}

// endBatch takes what the lines taken from job point into, to release it
// once they are written: the text of a detached job (which gets a
// recycled arena for its next batch), else the batch itself; kept
// reports the latter.
func (s *stream) endBatch(job *readJob) (kept bool) {
	s.mostHolds = max(s.mostHolds, len(s.holds)+1)
	if job.detached {
		s.holds = append(s.holds, hold{arena: job.enc})
		select {
		case a := <-s.arenas:
			job.enc = a
		default:
			job.enc = nil
		}
		return false
	}
	s.holds = append(s.holds, hold{batch: job.batch})
	return true
}

// endMember moves the member being read to the groups.
func (s *stream) endMember() error {
	if s.cur < 0 {
		return nil
	}
	g := memberLines{member: s.cur, lines: s.held[s.curStart:len(s.held):len(s.held)], state: s.curState, unsorted: true}
	if h := s.curHuge; h != nil {
		if err := h.sort(); err != nil {
			return err
		}
		g.lines, g.huge = nil, h
	}
	if len(g.lines) > 0 || g.huge != nil {
		spans, err := s.spansOf(s.cur)
		if err != nil {
			return err
		}
		g.spans = spans
	}
	if len(g.lines) > 0 || g.huge != nil || len(g.state) > 0 {
		s.groups = append(s.groups, g)
		s.groupState += len(g.state)
	}
	s.curStart, s.curState, s.curHuge, s.curKeys = len(s.held), nil, nil, nil
	return nil
}

// spansOf returns member m's spans (m has lines), loading its range's.
func (s *stream) spansOf(m int32) ([]claim.Span, error) {
	if q := s.ranges.of(m); q != s.spansQ {
		if s.spansQ >= 0 {
			s.r.ref.spans.Release(s.spansQ)
		}
		lo, hi := s.ranges.bounds(q)
		rs, err := s.r.loadSpans(q, lo, hi, func(int32) bool { return true })
		if err != nil {
			return nil, err
		}
		s.spans, s.spansQ = rs, q
	}
	spans := s.spans.of(m)
	book.SortSpans(spans)
	return spans, nil
}

// takeState returns member m's --state-in records (those of the members
// before it are taken already).
func (s *stream) takeState(m int32) []claim.StateRecord {
	var recs []claim.StateRecord
	for s.hasNext && s.nextM == m {
		recs = append(recs, s.next)
		s.advance()
	}
	return recs
}

// stateBefore hands over, as members of their own, the members before m
// that have --state-in records and no lines.
func (s *stream) stateBefore(m int32) error {
	for s.hasNext && s.nextM < m {
		n := s.nextM
		if n < 0 {
			return fmt.Errorf("pipeline: state partition 0: %w", errors.New("holds a member outside its range"))
		}
		if n <= s.lastState {
			return notOrdered("the --state-in records are not in member order")
		}
		s.lastState = n
		g := memberLines{member: n, state: s.takeState(n)}
		s.groups = append(s.groups, g)
		s.groupState += len(g.state)
	}
	if s.hasNext && s.nextM == m {
		if m <= s.lastState {
			return notOrdered("the --state-in records are not in member order")
		}
		s.lastState = m
	}
	return nil
}

// handOver hands the complete members to the adjudication; the held
// buffer their lines are in, and what those lines' strings point into, are
// released once they are written.
func (s *stream) handOver() error {
	if len(s.groups) == 0 && s.safe == 0 {
		return nil
	}
	t0 := time.Now()
	defer func() {
		w := time.Since(t0)
		s.waited += w
		s.batchWait += w
	}()
	var old []claim.Line
	if len(s.groups) > 0 {
		s.members += int64(len(s.groups))
		// A huge member is adjudicated here, in segments, once every
		// member before it is written (adjudicateGroups).
		if err := s.a.adjudicateGroups(s.pipe.ctx, s.pipe, s.groups); err != nil {
			return err
		}
		s.groups, s.groupState = nil, 0
		// The member being read moves to a buffer of its own.
		old = s.held
		s.held = append(s.newHeld(), old[s.curStart:]...)
		s.curStart = 0
	}
	holds := slices.Clone(s.holds[:s.safe])
	s.holds = append(s.holds[:0], s.holds[s.safe:]...)
	s.safe = 0
	free, arenas := s.free, s.arenas
	release := func() {
		for _, h := range holds {
			h.release(arenas)
		}
		if cap(old) == streamLines+chunkLines {
			// The stale lines point into released text: the next
			// member's appends overwrite them.
			select {
			case free <- old:
			default:
			}
		}
	}
	return s.pipe.mark(release, nil)
}

// finish hands over the last member and the members after it with
// --state-in records only, and waits until everything is written.
// On an error the caller aborts the stream.
func (s *stream) finish() error {
	if err := s.endMember(); err != nil {
		return err
	}
	if s.hasNext {
		if err := s.stateBefore(int32(s.r.ref.book.Len())); err != nil {
			return err
		}
	}
	if s.state != nil {
		if err := s.state.Err(); err != nil {
			return err
		}
	}
	s.safe = len(s.holds)
	if err := s.handOver(); err != nil {
		return err
	}
	s.pipe.close()
	g := s.g
	s.g = nil
	if err := g.Wait(); err != nil {
		return err
	}
	if s.spansQ >= 0 {
		s.r.ref.spans.Release(s.spansQ)
	}
	return nil
}

// abort stops the adjudication (after a failed read or a break of the
// order) and releases what the stream holds; it returns err.
func (s *stream) abort(err error) error {
	if s == nil {
		return err
	}
	if s.g != nil {
		s.stop(err)
		s.pipe.close()
		// When the adjudication failed first, the read saw only its
		// cancellation: its own error is the one to report.
		if gerr := s.g.Wait(); gerr != nil && errors.Is(err, context.Canceled) && !errors.Is(gerr, context.Canceled) {
			err = gerr
		}
		s.g = nil
	}
	for _, h := range s.holds {
		if h.batch != nil {
			h.batch.Release()
		}
	}
	s.holds, s.held, s.groups = nil, nil, nil
	return err
}

// lineOrder sorts a member's lines in SPEC order (claim.Compare, a total
// order: any sort gives the partitioned path's order).
type lineOrder []claim.Line

func (o lineOrder) Len() int           { return len(o) }
func (o lineOrder) Less(i, j int) bool { return claim.Compare(&o[i], &o[j]) < 0 }
func (o lineOrder) Swap(i, j int)      { o[i], o[j] = o[j], o[i] }

// sortStreamed sorts the lines of a chunk's streamed members (on the
// adjudication's workers, not the reading goroutine); lines already in
// order, as sorted extracts often hold them, cost one pass.
func sortStreamed(members []memberLines) {
	for i := range members {
		ml := &members[i]
		if !ml.unsorted {
			continue
		}
		ml.unsorted = false
		if o := lineOrder(ml.lines); len(o) > 1 && !sort.IsSorted(o) {
			sort.Sort(o)
		}
	}
}
