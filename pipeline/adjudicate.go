package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"claimsbatch/claim"
	"claimsbatch/engine"
	"claimsbatch/writers"

	"golang.org/x/sync/errgroup"
)

// chunkLines is roughly how many lines one unit of parallel work holds: big
// enough to amortise the hand-off, small enough to keep workers busy and the
// results in flight few.
const chunkLines = 4096

// chunk is a run of consecutive members (in member_id order) and, once a
// worker has done it, their results and state records.
type chunk struct {
	members      []memberLines
	lines        int // lines and members: the size of the results
	results      []claim.Result
	state        []claim.StateRecord
	done         chan struct{} // closed by the worker
	stateWritten chan struct{} // closed by the state writer
}

// chunkBuf is a chunk's result buffers, kept for the next chunk.
type chunkBuf struct {
	results []claim.Result
	state   []claim.StateRecord
}

// adjudicateAndWrite adjudicates every member in parallel and writes
// remittance, payments and state in member order. It returns the outputs
// (remittance first) with their hashers.
func (j *job) adjudicateAndWrite(ctx context.Context, pub *writers.Publisher, runID string) ([]writers.Output, []*writers.HashingWriter, error) {
	f := j.cfg.Format
	remFile, remHash, err := createOutput(pub, RemittanceName+f.Ext())
	if err != nil {
		return nil, nil, err
	}
	rem, err := writers.NewRemittanceWriter(remFile, f, runID)
	if err != nil {
		return nil, nil, err
	}
	stFile, stHash, err := createOutput(pub, StateName+f.Ext())
	if err != nil {
		return nil, nil, err
	}
	st, err := writers.NewStateWriter(stFile, f)
	if err != nil {
		return nil, nil, err
	}
	asOf := j.asOf
	if j.stateAsOf != claim.NoDate && (asOf == claim.NoDate || j.stateAsOf > asOf) {
		asOf = j.stateAsOf
	}
	keepFrom := claim.NoDate
	if j.cfg.StateKeepYears > 0 && asOf != claim.NoDate {
		keepFrom = asOf.AddYears(-j.cfg.StateKeepYears)
	}
	if err := st.Write(j.metaRecords(runID, asOf)); err != nil {
		return nil, nil, err
	}

	j.chunkBufs = make(chan chunkBuf, 2*j.cfg.Workers+1)
	pay := newPayments(j.book)
	var lines int64
	// One goroutine loads (reads, groups, sorts) the next member partition
	// while the current one is adjudicated; at most one waits loaded.
	type loadedPartition struct {
		groups []memberLines
		lines  []claim.Line // the whole partition, which groups slice
		err    error
	}
	// A partition's lines buffer goes back to the loader once the partition
	// is written: two of them serve the whole run.
	lineBufs := make(chan []claim.Line, 2)
	loaded := make(chan loadedPartition, 1)
	lctx, cancelLoad := context.WithCancel(ctx)
	defer cancelLoad()
	go func() {
		defer close(loaded)
		lo := int32(0)
		for q, hi := range j.rangeEnds {
			var buf []claim.Line
			select {
			case buf = <-lineBufs:
			default:
			}
			groups, lines, err := j.loadPartition(q, lo, hi, buf)
			lo = hi
			select {
			case loaded <- loadedPartition{groups, lines, err}:
			case <-lctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	for lp := range loaded {
		if lp.err != nil {
			return nil, nil, lp.err
		}
		if err := j.adjudicatePartition(ctx, lp.groups, keepFrom, rem, st, pay, &lines); err != nil {
			return nil, nil, err
		}
		clear(lp.lines) // so the kept buffer does not keep the decoded records
		select {
		case lineBufs <- lp.lines[:0]:
		default:
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("pipeline: run interrupted: %w", err)
	}

	if err := rem.Close(); err != nil {
		return nil, nil, err
	}
	if err := st.Close(); err != nil {
		return nil, nil, err
	}

	payFile, payHash, err := createOutput(pub, PaymentsName+f.Ext())
	if err != nil {
		return nil, nil, err
	}
	pw, err := writers.NewPaymentsWriter(payFile, f)
	if err != nil {
		return nil, nil, err
	}
	rows := pay.table()
	if err := pw.Write(rows); err != nil {
		return nil, nil, err
	}
	if err := pw.Close(); err != nil {
		return nil, nil, err
	}
	j.log.Info("adjudicated", "lines", j.totals.LinesAdjudicated, "members", j.active, "payees", len(rows))
	outs := []writers.Output{
		{Name: RemittanceName + f.Ext(), Rows: rem.Rows()},
		{Name: PaymentsName + f.Ext(), Rows: pw.Rows()},
		{Name: StateName + f.Ext(), Rows: st.Rows()},
	}
	return outs, []*writers.HashingWriter{remHash, payHash, stHash}, nil
}

// memberLines is one member's lines of a partition, in SPEC order.
type memberLines struct {
	member int32 // number in the book
	lines  []claim.Line
	state  []claim.StateRecord // its --state-in records, in file order
}

// loadPartition reads member partition q, which holds the lines of members
// lo to hi-1, and groups them by member, in member_id order, with the
// members that have state but no lines. It decodes into buf (its capacity;
// nil makes one) and returns the lines it filled.
func (j *job) loadPartition(q int, lo, hi int32, buf []claim.Line) ([]memberLines, []claim.Line, error) {
	var count int64
	for _, parts := range j.memberParts {
		count += parts.counts[q]
	}
	loaded := buf[:0]
	if int64(cap(loaded)) < count {
		loaded = make([]claim.Line, 0, count)
	}
	for _, parts := range j.memberParts {
		dec, err := parts.open(q)
		if err != nil {
			return nil, nil, err
		}
		for dec.next() {
			loaded = append(loaded, claim.Line{})
			dec.line(&loaded[len(loaded)-1])
		}
		if dec.err != nil {
			return nil, nil, dec.err
		}
		parts.release(q)
	}
	// Group by member with a counting sort on the member's position in ids,
	// then sort each member's few lines: far cheaper than comparing member
	// ids across the whole partition. Only 4-byte indices move; the lines are
	// permuted once at the end.
	n := int(hi - lo)
	start, owner, err := j.memberBuckets(lo, n, len(loaded), func(i int) string { return loaded[i].MemberID })
	if err != nil {
		return nil, nil, fmt.Errorf("pipeline: member partition %d: %w", q, err)
	}
	order := make([]int32, len(loaded)) // order[target] = source
	next := slices.Clone(start[:n])
	for i, k := range owner {
		order[next[k]] = int32(i)
		next[k]++
	}
	owner, next = nil, nil
	for k := range n {
		seg := order[start[k]:start[k+1]]
		if len(seg) > 1 {
			slices.SortFunc(seg, func(a, b int32) int { return compareLinePtrs(&loaded[a], &loaded[b]) })
		}
	}
	// Apply the permutation in place, cycle by cycle, so the partition is
	// never held twice.
	lines := loaded
	for i := range order {
		if order[i] < 0 {
			continue
		}
		tmp := lines[i]
		cur := i
		for {
			next := int(order[cur])
			order[cur] = -1
			if next == i {
				lines[cur] = tmp
				break
			}
			lines[cur] = lines[next]
			cur = next
		}
	}
	order = nil
	state, stateStart, err := j.loadStatePartition(q, lo, hi)
	if err != nil {
		return nil, nil, err
	}
	var groups []memberLines
	for k := range n {
		if m := lo + int32(k); j.book.active(m) {
			g := memberLines{member: m, lines: lines[start[k]:start[k+1]]}
			if state != nil {
				g.state = state[stateStart[k]:stateStart[k+1]]
			}
			groups = append(groups, g)
		}
	}
	return groups, lines, nil
}

// loadStatePartition reads the --state-in records of member partition q
// (members lo to hi-1) and orders them by member, each member's in file
// order; member k's are records[start[k]:start[k+1]]. Without --state-in it
// returns nils.
func (j *job) loadStatePartition(q int, lo, hi int32) (records []claim.StateRecord, start []int32, err error) {
	if j.stateParts == nil {
		return nil, nil, nil
	}
	dec, err := j.stateParts.open(q)
	if err != nil {
		return nil, nil, err
	}
	loaded := make([]claim.StateRecord, 0, j.stateParts.counts[q])
	for dec.next() {
		loaded = append(loaded, claim.StateRecord{})
		dec.stateRecord(&loaded[len(loaded)-1])
	}
	if dec.err != nil {
		return nil, nil, dec.err
	}
	j.stateParts.release(q)
	n := int(hi - lo)
	start, owner, err := j.memberBuckets(lo, n, len(loaded), func(i int) string { return loaded[i].MemberID })
	if err != nil {
		return nil, nil, fmt.Errorf("pipeline: state partition %d: %w", q, err)
	}
	records = make([]claim.StateRecord, len(loaded))
	next := slices.Clone(start[:n])
	for i, k := range owner {
		records[next[k]] = loaded[i]
		next[k]++
	}
	return records, start, nil
}

// memberBuckets prepares a counting sort by member of count items whose
// members are numbers lo to lo+n-1: owner[i] is item i's member (less lo),
// and member k's items take positions start[k] to start[k+1]-1.
func (j *job) memberBuckets(lo int32, n, count int, memberID func(i int) string) (start, owner []int32, err error) {
	start = make([]int32, n+1)
	owner = make([]int32, count)
	for i := range count {
		k := j.book.find(memberID(i)) - lo
		if k < 0 || int(k) >= n {
			return nil, nil, errors.New("holds a member outside its range")
		}
		owner[i] = k
		start[k+1]++
	}
	for k := 1; k < len(start); k++ {
		start[k] += start[k-1]
	}
	return start, owner, nil
}

// adjudicatePartition adjudicates the members of one partition in parallel
// and writes their results and state in member order.
func (j *job) adjudicatePartition(ctx context.Context, groups []memberLines, keepFrom claim.Date,
	rem *writers.RemittanceWriter, st *writers.StateWriter, pay *payments, lines *int64) error {
	var chunks []*chunk
	for start := 0; start < len(groups); {
		end, n := start, 0
		for end < len(groups) && (n < chunkLines || end == start) {
			n += len(groups[end].lines) + 1
			end++
		}
		chunks = append(chunks, &chunk{members: groups[start:end], lines: n, done: make(chan struct{}), stateWritten: make(chan struct{})})
		start = end
	}
	g, gctx := errgroup.WithContext(ctx)
	work := make(chan *chunk)
	// At most 2 × workers chunks are adjudicated ahead of the writer, so the
	// results in memory stay bounded.
	inFlight := make(chan struct{}, 2*j.cfg.Workers)
	g.Go(func() error {
		defer close(work)
		for _, c := range chunks {
			select {
			case inFlight <- struct{}{}:
			case <-gctx.Done():
				return gctx.Err()
			}
			// The chunk's buffers are taken only now, so at most the
			// chunks in flight hold any; they go back when written.
			select {
			case b := <-j.chunkBufs:
				c.results, c.state = b.results, b.state
			default:
				c.results = make([]claim.Result, 0, max(c.lines, chunkLines))
				c.state = make([]claim.StateRecord, 0, 3*max(c.lines, chunkLines))
			}
			select {
			case work <- c:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	for w := 0; w < j.cfg.Workers; w++ {
		g.Go(func() error {
			m := j.engine.NewMember()
			for c := range work {
				if err := j.adjudicateChunk(m, c, keepFrom); err != nil {
					return err
				}
				close(c.done)
			}
			return nil
		})
	}
	// The state is written on its own goroutine, beside the remittance, in
	// the same chunk order: on a Parquet run each writer is a core's work.
	g.Go(func() error {
		for _, c := range chunks {
			select {
			case <-c.done:
			case <-gctx.Done():
				return gctx.Err()
			}
			if err := st.Write(c.state); err != nil {
				return err
			}
			close(c.stateWritten)
		}
		return nil
	})
	g.Go(func() error {
		for _, c := range chunks {
			select {
			case <-c.done:
			case <-gctx.Done():
				return gctx.Err()
			}
			if err := rem.Write(c.results); err != nil {
				return err
			}
			for i := range c.results {
				r := &c.results[i]
				j.totals.AddResult(r)
				j.perFile[r.Line.Source].adjudicated++
			}
			// The results are the chunk's members' lines, in member order.
			at := 0
			for _, ml := range c.members {
				n := len(ml.lines)
				if at+n > len(c.results) {
					return fmt.Errorf("pipeline: a chunk has %d results for more lines", len(c.results))
				}
				pay.addMember(ml.member, c.results[at:at+n])
				at += n
			}
			*lines += int64(len(c.results))
			select {
			case <-c.stateWritten:
			case <-gctx.Done():
				return gctx.Err()
			}
			// Results and records point into the partition's lines: cleared,
			// so a kept buffer does not keep an old partition alive.
			clear(c.results)
			clear(c.state)
			select {
			case j.chunkBufs <- chunkBuf{c.results[:0], c.state[:0]}:
			default:
			}
			c.results, c.state, c.members = nil, nil, nil
			<-inFlight
			if j.cfg.Progress != nil {
				j.cfg.Progress("adjudicating", *lines, j.accepted)
			}
		}
		return nil
	})
	return g.Wait()
}

// adjudicateChunk adjudicates the members of c with the worker's Member and
// collects their results and state records.
func (j *job) adjudicateChunk(m *engine.Member, c *chunk, keepFrom claim.Date) error {
	var engineRecs, lineRecs, v1Dups []claim.StateRecord
	var spans []claim.Span
	for _, ml := range c.members {
		id := j.book.id(ml.member)
		m.Reset()
		engineRecs, lineRecs = engineRecs[:0], lineRecs[:0]
		v1Dups = v1Dups[:0]
		for _, r := range ml.state {
			if r.Kind != kindLine {
				if r.Kind == engine.KindDup {
					v1Dups = append(v1Dups, r) // a version 1 state
				}
				engineRecs = append(engineRecs, r)
				continue
			}
			// A LINE record with a Detail also holds its line's
			// duplicate-service key (state version 2): the engine gets it as
			// the DUP record it is.
			if r.Detail != "" {
				d := r
				d.Kind, d.Count = engine.KindDup, 0
				engineRecs = append(engineRecs, d)
			}
			// Adjudicated line keys are never pruned: they are what makes a
			// re-fed extract pay nothing twice, however old its lines. Their
			// duplicate-service key is, with the policy years.
			lineRecs = append(lineRecs, lineRecord(r, keepFrom))
		}
		if len(v1Dups) > 0 {
			attachDups(lineRecs, v1Dups, keepFrom)
		}
		if len(engineRecs) > 0 {
			if err := j.engine.LoadState(m, engineRecs); err != nil {
				return fmt.Errorf("%w: state file %s: %v", ErrConfig, j.cfg.StateIn, err)
			}
		}
		if lines := ml.lines; len(lines) > 0 {
			spans = j.book.spansOf(ml.member, spans)
			c.results = j.engine.Adjudicate(m, spans, lines, c.results)
			for i := range lines {
				l := &lines[i]
				r := claim.StateRecord{Kind: kindLine, MemberID: l.MemberID, Scope: l.ServiceDate, Key: l.ClaimID,
					Count: int64(l.LineNo), Amount: l.Billed, Detail: engine.DupDetail(l)}
				lineRecs = append(lineRecs, lineRecord(r, keepFrom))
			}
		}
		c.state = j.engine.AppendAccumulators(m, id, keepFrom, c.state)
		slices.SortFunc(lineRecs, func(a, b claim.StateRecord) int {
			return cmp.Or(strings.Compare(a.Key, b.Key), cmp.Compare(a.Count, b.Count))
		})
		c.state = append(c.state, lineRecs...)
	}
	return nil
}

// attachDups gives the LINE records of a version 1 state the
// duplicate-service keys that state kept as DUP records: a DUP record and
// the LINE record of its line share the claim id and service date (a DUP
// record has no line_no, so lines of one claim and date take them in any
// order, which gives the same keys). Keys of lines before keepFrom are
// dropped, as version 2 drops them.
func attachDups(lines, dups []claim.StateRecord, keepFrom claim.Date) {
	byKey := func(a, b claim.StateRecord) int {
		return cmp.Or(strings.Compare(a.Key, b.Key), cmp.Compare(a.Scope, b.Scope))
	}
	slices.SortStableFunc(dups, byKey)
	used := make([]bool, len(dups))
	for i := range lines {
		l := &lines[i]
		if l.Detail != "" || l.Scope < keepFrom {
			continue
		}
		k, _ := slices.BinarySearchFunc(dups, *l, byKey)
		for ; k < len(dups) && byKey(dups[k], *l) == 0; k++ {
			if !used[k] {
				used[k] = true
				l.Amount, l.Detail = dups[k].Amount, dups[k].Detail
				break
			}
		}
	}
}

func compareLinePtrs(a, b *claim.Line) int {
	if claim.Less(a, b) {
		return -1
	}
	if claim.Less(b, a) {
		return 1
	}
	return 0
}
