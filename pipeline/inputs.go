package pipeline

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"slices"

	"claimsbatch/book"
	"claimsbatch/claim"
	"claimsbatch/readers"
	"claimsbatch/spill"
	"claimsbatch/writers"
)

// reference is the run's reference data: the member book and FX table (and
// the exceptions their files raised), plus what the stages count per member.
type reference struct {
	book   *book.Book
	fx     *book.FX
	pricer *book.Pricer // the reading goroutine's

	// Per member number: accepted lines of this run and --state-in records
	// (both sized the member partitions; a member with either is active).
	lines []int32
	state []int32

	// spans holds the members' full spans (book.SpanCodec records headed
	// by the member's number) by member range, in file order within a
	// member; step 3 loads a range's with its lines (loadSpans).
	spans    *spill.Partitions
	spanRows int64 // the members file's valid rows: its spans
	codec    book.SpanCodec

	// memberEx holds the members file's exceptions in row order (one
	// partition): a hostile file may have millions.
	memberEx              *spill.Partitions
	memberExCount         int64
	fxEx                  []claim.Exception
	membersInput, fxInput writers.Input
}

func (ref *reference) close() {
	if ref != nil {
		ref.spans.Close()
		ref.memberEx.Close()
	}
}

// loadedMembers is the members file streamed: its members' ids and invalid
// reasons in the book's builder, its valid spans and its exceptions in
// spill sets, until the book is numbered with the state's members.
type loadedMembers struct {
	builder *book.Builder
	spans   *spill.Partitions // valid spans in file order: book.SpanCodec records headed by the builder's ref
	ex      *spill.Partitions // the reader's and the rows' exceptions, in row order
	exCount int64
	codes   map[claim.ExceptionCode]int64 // the members file's exceptions by code
	input   writers.Input
}

func (m *loadedMembers) close() {
	if m != nil {
		m.spans.Close()
		m.ex.Close()
	}
}

// loadedFX is the FX file indexed.
type loadedFX struct {
	fx    *book.FX
	ex    []claim.Exception
	input writers.Input
}

// active reports whether member i is adjudicated in this run: it has
// accepted lines or state to carry forward.
func (ref *reference) active(i int32) bool { return ref.lines[i] > 0 || ref.state[i] > 0 }

// bytes is what the reference data holds in memory, for the partition sizing.
func (ref *reference) bytes() int64 { return ref.book.Bytes() + int64(len(ref.lines))*8 }

// loadMembers streams the members file: each row is checked against the
// plan while it is read (book.Builder.Row), its member id counted, its
// span written to a spill set in file order and its exceptions to another
// in row order. What stays in memory is the ids, one per run of rows of a
// member, and the reasons members are invalid.
func (r *run) loadMembers(budget *spill.Budget) (m *loadedMembers, err error) {
	mr, err := readers.OpenMembers(r.cfg.Members, readers.Options{BatchSize: r.cfg.BatchSize, Workers: r.cfg.Workers})
	if err != nil {
		return nil, configError(err)
	}
	defer mr.Close()
	m = &loadedMembers{builder: book.NewBuilder(r.plan, filepath.Base(r.cfg.Members)), codes: map[claim.ExceptionCode]int64{}}
	defer func() {
		if err != nil {
			m.close()
		}
	}()
	if m.spans, err = spill.NewBuffered(r.spillDir, "member-spans", 1, budget); err != nil {
		return m, err
	}
	if m.ex, err = spill.NewBuffered(r.spillDir, "member-exceptions", 1, budget); err != nil {
		return m, err
	}
	b, codec := m.builder, book.NewSpanCodec(r.plan)
	var rowEx []claim.Exception
	var rec []byte
	exception := func(x *claim.Exception) error {
		m.exCount++
		m.codes[x.Code]++
		if err := m.ex.WriteException(0, x); err != nil {
			return fmt.Errorf("pipeline: spill: %w", err)
		}
		return nil
	}
	for mr.Next() {
		good, bad := mr.Spans(), mr.Exceptions()
		// In row order: the reader's rejected rows and the others.
		for len(good) > 0 || len(bad) > 0 {
			if len(good) == 0 || (len(bad) > 0 && bad[0].Row < good[0].Row) {
				b.Rejected(&bad[0])
				if err := exception(&bad[0]); err != nil {
					return m, err
				}
				bad = bad[1:]
				continue
			}
			s, ref, ok, more := b.Row(&good[0], rowEx[:0])
			rowEx = more
			good = good[1:]
			if !ok {
				for i := range rowEx {
					if err := exception(&rowEx[i]); err != nil {
						return m, err
					}
				}
				clear(rowEx)
				continue
			}
			rec = binary.AppendUvarint(rec[:0], uint64(ref))
			rec = codec.Append(rec, &s)
			if err := m.spans.WriteRecord(0, rec); err != nil {
				return m, fmt.Errorf("pipeline: spill: %w", err)
			}
		}
	}
	if err := mr.Err(); err != nil {
		return m, configError(err)
	}
	for _, set := range []*spill.Partitions{m.spans, m.ex} {
		if err := set.Finish(); err != nil {
			return m, err
		}
	}
	m.input = writers.Input{Role: writers.RoleMembers, Path: r.cfg.Members, Rows: mr.Rows()}
	r.log.Info("members read", "rows", mr.Rows(), "valid_rows", b.ValidRows(), "row_exceptions", m.exCount)
	return m, nil
}

// newReference numbers the members of the members file and those only the
// --state-in file names (with their record counts) into the book. Its
// spans and invalid members come with resolveMembers, once the member
// ranges are planned.
func (r *run) newReference(m *loadedMembers, fx *loadedFX) (*reference, error) {
	if err := m.builder.Number(); err != nil {
		return nil, fmt.Errorf("%w: members file %s: %w", ErrConfig, r.cfg.Members, err)
	}
	b := m.builder.Book()
	return &reference{
		book: b, fx: fx.fx, codec: book.NewSpanCodec(r.plan), spanRows: m.builder.ValidRows(),
		lines: make([]int32, b.Len()), state: m.builder.StateCounts(),
		fxEx: fx.ex, membersInput: m.input, fxInput: fx.input,
	}, nil
}

// resolveMembers completes the book once the member ranges are planned:
// the spans go, by their member's range, to the set step 3 loads them
// from, and each range's members are checked for overlapping spans
// (book.Builder.Resolve). The overlaps' exceptions get their rows' raw text
// back from a second read of the members file (only of those rows), and
// join the members file's exceptions in row order.
func (r *run) resolveMembers(m *loadedMembers, ranges *memberRanges, budget *spill.Budget) error {
	ref, b := r.ref, m.builder
	var err error
	if ref.spans, err = spill.NewBuffered(r.spillDir, "spans", len(ranges.ends), budget); err != nil {
		return err
	}
	dec, err := m.spans.Open(0)
	if err != nil {
		return err
	}
	var rec []byte
	for dec.Next() {
		head := dec.Rest()
		run, n := binary.Uvarint(head)
		if n <= 0 {
			return fmt.Errorf("pipeline: spill: a span record is corrupt")
		}
		member := b.Member(int32(run))
		rec = binary.AppendUvarint(rec[:0], uint64(member))
		rec = append(rec, head[n:]...)
		if err := ref.spans.WriteRecord(ranges.of(member), rec); err != nil {
			return fmt.Errorf("pipeline: spill: %w", err)
		}
	}
	if err := dec.Err(); err != nil {
		return err
	}
	m.spans.Close()
	m.spans = nil
	if err := ref.spans.Finish(); err != nil {
		return err
	}

	// Overlaps, by range of rows so that each part can be sorted in memory
	// (a row overlaps at most one other: a part of the rows holds at most
	// that many exceptions).
	rows := max(m.input.Rows, 1)
	parts := clampPartitions(rows*overlapBytes, r.partitionBudget(), maxKeyPartitions)
	part := func(row int64) int { return int((row - 1) * int64(parts) / rows) }
	var overlaps *spill.Partitions
	defer func() { overlaps.Close() }()
	var overlapCount int64
	var ex []claim.Exception
	// The ranges' spans are decoded on the run's workers, a few ranges
	// ahead, and resolved in order here: the decoding is nearly all of this
	// loop, and the other cores had nothing else to do before the claims
	// are read.
	next, stop := loadAhead(len(ranges.ends), r.cfg.Workers, func(q int) (*rangeSpans, error) {
		lo, hi := ranges.bounds(q)
		return r.loadSpans(q, lo, hi, func(int32) bool { return true })
	})
	defer stop()
	for q := range ranges.ends {
		lo, hi := ranges.bounds(q)
		rs, err := next()
		if err != nil {
			return err
		}
		for k := range hi - lo {
			spans := rs.of(lo + k)
			if len(spans) == 0 {
				continue
			}
			if ex, err = b.Resolve(lo+k, spans, ex[:0]); err != nil {
				return err
			}
			for i := range ex {
				if overlaps == nil {
					if overlaps, err = spill.NewBuffered(r.spillDir, "member-overlaps", parts, budget); err != nil {
						return err
					}
				}
				if err := overlaps.WriteException(part(ex[i].Row), &ex[i]); err != nil {
					return fmt.Errorf("pipeline: spill: %w", err)
				}
				overlapCount++
				m.codes[ex[i].Code]++
			}
		}
	}
	ref.book = b.Finish()
	ref.pricer = book.NewPricer(r.plan, ref.book, ref.fx)
	members, invalid := b.Members()
	r.log.Info("members loaded", "rows", m.input.Rows, "members", members, "invalid_members", invalid,
		"row_exceptions", m.exCount+overlapCount, "book_bytes", ref.book.Bytes())
	ref.memberExCount = m.exCount + overlapCount
	ref.membersInput.Exceptions = ref.memberExCount
	if overlaps == nil {
		ref.memberEx, m.ex = m.ex, nil
		return nil
	}
	if err := overlaps.Finish(); err != nil {
		return err
	}
	ref.memberEx, err = r.mergeOverlaps(m.ex, overlaps, budget)
	m.ex.Close()
	m.ex = nil
	return err
}

// overlapBytes is what one overlap exception costs in memory while its part
// is sorted.
const overlapBytes = 256

// mergeOverlaps merges the members file's exceptions of the stream (in row
// order) with the overlaps' (by range of rows), giving each overlap its
// row's raw text, into one set in row order.
func (r *run) mergeOverlaps(stream, overlaps *spill.Partitions, budget *spill.Budget) (*spill.Partitions, error) {
	out, err := spill.NewBuffered(r.spillDir, "member-exceptions", 1, budget)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*spill.Partitions, error) {
		out.Close()
		return nil, err
	}
	raws, err := readers.OpenRawRows(r.cfg.Members)
	if err != nil {
		return fail(configError(err))
	}
	defer raws.Close()
	dec, err := stream.Open(0)
	if err != nil {
		return fail(err)
	}
	var head claim.Exception
	more := dec.Next()
	if more {
		dec.Exception(&head)
	}
	var part []claim.Exception
	for k := range overlaps.Len() {
		if overlaps.Count(k) == 0 {
			continue
		}
		od, err := overlaps.Open(k)
		if err != nil {
			return fail(err)
		}
		part = part[:0]
		for od.Next() {
			part = append(part, claim.Exception{})
			od.Exception(&part[len(part)-1])
		}
		if err := od.Err(); err != nil {
			return fail(err)
		}
		slices.SortStableFunc(part, func(a, b claim.Exception) int { return cmp.Compare(a.Row, b.Row) })
		for i := range part {
			x := &part[i]
			for more && head.Row <= x.Row {
				if err := out.WriteException(0, &head); err != nil {
					return fail(fmt.Errorf("pipeline: spill: %w", err))
				}
				if more = dec.Next(); more {
					dec.Exception(&head)
				}
			}
			if x.Raw, err = raws.Row(x.Row); err != nil {
				return fail(configError(err))
			}
			if err := out.WriteException(0, x); err != nil {
				return fail(fmt.Errorf("pipeline: spill: %w", err))
			}
		}
		clear(part)
		overlaps.Release(k)
	}
	for more {
		if err := out.WriteException(0, &head); err != nil {
			return fail(fmt.Errorf("pipeline: spill: %w", err))
		}
		if more = dec.Next(); more {
			dec.Exception(&head)
		}
	}
	if err := dec.Err(); err != nil {
		return fail(err)
	}
	if err := out.Finish(); err != nil {
		return fail(err)
	}
	return out, nil
}

// rangeSpans is a member range's spans, grouped by member in member order,
// each member's in file order (or sorted by start once resolved).
type rangeSpans struct {
	lo    int32
	spans []claim.Span
	start []int32 // member lo+k's spans are spans[start[k]:start[k+1]]
}

// of returns member m's spans; m is in the range.
func (rs *rangeSpans) of(m int32) []claim.Span {
	k := m - rs.lo
	return rs.spans[rs.start[k]:rs.start[k+1]]
}

// loadSpans reads member range q's spans (members lo to hi-1) of the
// members keep wants, grouped by member with a counting sort. Their
// strings share the spill decoder's memory, which is never reused.
func (r *run) loadSpans(q int, lo, hi int32, keep func(m int32) bool) (*rangeSpans, error) {
	set := r.ref.spans
	dec, err := set.Open(q)
	if err != nil {
		return nil, err
	}
	n := int(hi - lo)
	rs := &rangeSpans{lo: lo, start: make([]int32, n+1), spans: make([]claim.Span, 0, set.Count(q))}
	owner := make([]int32, 0, set.Count(q))
	for dec.Next() {
		b := dec.Rest()
		v, k := binary.Uvarint(b)
		m := int32(v)
		if k <= 0 || m < lo || m >= hi {
			return nil, fmt.Errorf("pipeline: spill: span partition %d holds a member outside its range", q)
		}
		if !keep(m) {
			continue
		}
		rs.spans = append(rs.spans, claim.Span{MemberID: r.ref.book.ID(m)})
		if err := r.ref.codec.Decode(b[k:], &rs.spans[len(rs.spans)-1]); err != nil {
			return nil, fmt.Errorf("pipeline: spill: span partition %d: %w", q, err)
		}
		owner = append(owner, m-lo)
		rs.start[m-lo+1]++
	}
	if err := dec.Err(); err != nil {
		return nil, err
	}
	for k := 1; k <= n; k++ {
		rs.start[k] += rs.start[k-1]
	}
	// Group in place, a cycle at a time (a stable counting sort: each
	// member's spans stay in file order), so the range is never held twice.
	next := slices.Clone(rs.start[:n])
	dest := owner // dest[i]: where span i goes
	for i, k := range owner {
		dest[i] = next[k]
		next[k]++
	}
	for i := range dest {
		for dest[i] != int32(i) {
			j := dest[i]
			rs.spans[i], rs.spans[j] = rs.spans[j], rs.spans[i]
			dest[i], dest[j] = dest[j], j
		}
	}
	return rs, nil
}

// writeMemberExceptions writes the members file's exceptions, in row order,
// in batches, counting them per code.
func (ref *reference) writeMemberExceptions(w *writers.ExceptionsWriter, count func([]claim.Exception)) error {
	if ref.memberExCount == 0 {
		return nil
	}
	dec, err := ref.memberEx.Open(0)
	if err != nil {
		return err
	}
	batch := make([]claim.Exception, 0, 1024)
	flush := func() error {
		count(batch)
		err := w.Write(batch)
		clear(batch)
		batch = batch[:0]
		return err
	}
	for dec.Next() {
		batch = append(batch, claim.Exception{})
		dec.Exception(&batch[len(batch)-1])
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := dec.Err(); err != nil {
		return err
	}
	if len(batch) > 0 {
		if err := flush(); err != nil {
			return err
		}
	}
	// Written once: the set's memory goes back to the budget.
	ref.memberEx.Close()
	return nil
}

func (r *run) loadFX() (*loadedFX, error) {
	if r.cfg.FX == "" {
		return &loadedFX{}, nil
	}
	rates, ex, rows, err := readers.ReadFX(r.cfg.FX)
	if err != nil {
		return nil, configError(err)
	}
	fx, all := book.NewFX(r.cfg.FX, rates, ex)
	r.log.Info("fx loaded", "rows", rows, "pairs", fx.Pairs(), "row_exceptions", len(all))
	return &loadedFX{
		fx:    fx,
		ex:    all,
		input: writers.Input{Role: writers.RoleFX, Path: r.cfg.FX, Rows: rows, Exceptions: int64(len(all))},
	}, nil
}
