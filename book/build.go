package book

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"claimsbatch/claim"
	"claimsbatch/plan"
)

// Builder builds a run's Book from a members file streamed row by row and
// the member ids of an earlier run's state, without holding either file nor
// a map of their ids:
//
//  1. Row resolves each members-file row against the plan as it is read
//     (its raw text at hand for the exceptions) and Rejected takes the
//     reader's rejected rows; StateRecord counts the state's records.
//     What is kept is the rows' member ids, one per run of rows of the
//     same member (a file sorted by member_id, as state files are, keeps
//     one per member), and the first reason each member is invalid. The
//     caller keeps the valid spans (in spill files, SpanCodec), with the
//     ref Row returned.
//  2. Number sorts the ids once and numbers the members in member_id
//     order: Member maps a ref to its member's number, StateCounts gives
//     the state's records per member.
//  3. Resolve takes each member's valid spans, in member order: it sorts
//     them, checks them for overlaps and keeps their starts and plan
//     currencies for pricing.
//  4. Finish returns the Book.
type Builder struct {
	plan   *plan.Plan
	source string
	err    error

	file  idRuns // the members file's rows' ids
	state idRuns // the state records' ids, with counts
	// reasons holds, per run of rows, the first rejected row (reader
	// reason) and the first row the plan rejects (row reason); their text
	// is in reasonText.
	reasons    []reason
	reasonText []byte
	validRows  int64

	// From Number on.
	book        *Book
	fileMember  []int32 // file run → member number
	stateCounts []int32
	reasonOf    []int32 // per member, index in reasons of why it is invalid, -1
	next        int32   // members before it are resolved
	late        []int32 // members made invalid by Resolve and Finish, in order
	lateWhy     []string
	members     int // members of the file
	invalid     int // of them invalid
}

// reason is one row that makes its member invalid.
type reason struct {
	run       int32
	kind      uint8 // reasonReader before reasonRow: the reader's rejections come first
	row       int64
	off, size uint32 // in reasonText
}

const (
	reasonReader uint8 = iota
	reasonRow
)

// NewBuilder starts the book of a members file (source is its base name,
// for the exceptions) resolved against plan p.
func NewBuilder(p *plan.Plan, source string) *Builder {
	return &Builder{plan: p, source: source, state: idRuns{counted: true}}
}

// idRuns holds member ids in an arena, one per run of equal ids added in a
// row, with the run's length when counted.
type idRuns struct {
	text    []byte
	end     []uint32
	count   []int32
	counted bool
}

func (r *idRuns) id(i int32) string { return packedString(r.text, r.end, i) }

var errTooManyIDs = errors.New("more than 4 GiB of member ids or 2^31 runs of them")

// add counts one more id: the last run's when it is the same id, else a new
// run. It returns the run.
func (r *idRuns) add(id string) (int32, error) {
	if n := len(r.end); n > 0 && r.id(int32(n-1)) == id {
		if r.counted && r.count[n-1] < math.MaxInt32 {
			r.count[n-1]++
		}
		return int32(n - 1), nil
	}
	if len(r.text)+len(id) > math.MaxUint32 || len(r.end) >= math.MaxInt32 {
		return 0, errTooManyIDs
	}
	r.text = append(r.text, id...)
	r.end = append(r.end, uint32(len(r.text)))
	if r.counted {
		r.count = append(r.count, 1)
	}
	return int32(len(r.end) - 1), nil
}

// sorted returns the runs' indexes sorted by id (runs of the same id in
// any order: they count for the same member). A file sorted by id is
// sorted in one pass.
func (r *idRuns) sorted() []int32 {
	order := make([]int32, len(r.end))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return strings.Compare(r.id(a), r.id(b)) })
	return order
}

func (b *Builder) fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

// Row resolves one row of the members file against the plan (resolveRow).
// A valid row gives its span (strings as the row's) and ok; a row the plan
// rejects appends its exceptions (with r.Raw) to ex and makes its member
// invalid. Either way ref names its member until Number (Member). Rows come
// in row order.
func (b *Builder) Row(r *claim.RawSpan, ex []claim.Exception) (s claim.Span, ref int32, ok bool, _ []claim.Exception) {
	ref, err := b.file.add(r.MemberID)
	if err != nil {
		b.fail(err)
	}
	n := len(ex)
	s, ex, ok = resolveRow(b.plan, b.source, r, ex)
	if ok {
		b.validRows++
	} else {
		b.addReason(ref, reasonRow, r.Row, ex[n].Message)
	}
	return s, ref, ok, ex
}

// Rejected takes a row the reader rejected: when it names a member, that
// member is invalid. Rejected rows come in row order.
func (b *Builder) Rejected(x *claim.Exception) {
	if x.MemberID == "" {
		return
	}
	ref, err := b.file.add(x.MemberID)
	if err != nil {
		b.fail(err)
		return
	}
	b.addReason(ref, reasonReader, x.Row, x.Message)
}

// addReason keeps the first reason of each kind of run ref (rows come in
// order, so a later one of the same run and kind can never win).
func (b *Builder) addReason(ref int32, kind uint8, row int64, msg string) {
	for k := len(b.reasons) - 1; k >= 0 && b.reasons[k].run == ref; k-- {
		if b.reasons[k].kind == kind {
			return
		}
	}
	if len(b.reasonText)+len(msg) > math.MaxUint32 {
		b.fail(errTooManyIDs)
		return
	}
	b.reasons = append(b.reasons, reason{run: ref, kind: kind, row: row, off: uint32(len(b.reasonText)), size: uint32(len(msg))})
	b.reasonText = append(b.reasonText, msg...)
}

// StateRecord counts one member record of the --state-in file.
func (b *Builder) StateRecord(memberID string) {
	if _, err := b.state.add(memberID); err != nil {
		b.fail(err)
	}
}

// ValidRows returns the number of rows that gave a span so far.
func (b *Builder) ValidRows() int64 { return b.validRows }

// Number numbers the members of the file and of the state in member_id
// order. After it, Member and StateCounts answer and Book returns the book
// with every member but without spans (Resolve adds them).
func (b *Builder) Number() error {
	if b.err != nil {
		return fmt.Errorf("members: %w", b.err)
	}
	fileOrder, stateOrder := b.file.sorted(), b.state.sorted()
	// Count the distinct ids and their bytes.
	n, size := 0, 0
	i, j := 0, 0
	var last string
	for i < len(fileOrder) || j < len(stateOrder) {
		var id string
		if j == len(stateOrder) || (i < len(fileOrder) && b.file.id(fileOrder[i]) <= b.state.id(stateOrder[j])) {
			id = b.file.id(fileOrder[i])
			i++
		} else {
			id = b.state.id(stateOrder[j])
			j++
		}
		if n == 0 || id != last {
			n++
			size += len(id)
			last = id
		}
	}
	if size > math.MaxUint32 {
		return fmt.Errorf("members: %w", errTooManyIDs)
	}
	bk := &Book{
		ids:        make([]byte, 0, size),
		idEnd:      make([]uint32, 0, n),
		status:     make([]uint8, 0, n),
		currencies: b.plan.Currencies,
	}
	b.fileMember = make([]int32, len(b.file.end))
	b.stateCounts = make([]int32, n)
	i, j = 0, 0
	for i < len(fileOrder) || j < len(stateOrder) {
		fromFile := j == len(stateOrder) || (i < len(fileOrder) && b.file.id(fileOrder[i]) <= b.state.id(stateOrder[j]))
		var id string
		if fromFile {
			id = b.file.id(fileOrder[i])
		} else {
			id = b.state.id(stateOrder[j])
		}
		m := int32(len(bk.idEnd)) - 1
		if m < 0 || bk.ID(m) != id {
			bk.ids = append(bk.ids, id...)
			bk.idEnd = append(bk.idEnd, uint32(len(bk.ids)))
			bk.status = append(bk.status, memberAbsent)
			m++
		}
		if fromFile {
			b.fileMember[fileOrder[i]] = m
			bk.status[m] = memberValid
			i++
		} else {
			b.stateCounts[m] = int32(min(int64(b.stateCounts[m])+int64(b.state.count[stateOrder[j]]), math.MaxInt32))
			j++
		}
	}
	b.file, b.state = idRuns{}, idRuns{}
	bk.slots = hashSlots(bk)
	// The first reason per member: a rejected row before a row the plan
	// rejects, then the earliest row.
	b.reasonOf = make([]int32, 0)
	if len(b.reasons) > 0 {
		b.reasonOf = make([]int32, n)
		for k := range b.reasonOf {
			b.reasonOf[k] = -1
		}
		for k := range b.reasons {
			r := &b.reasons[k]
			m := b.fileMember[r.run]
			if best := b.reasonOf[m]; best < 0 || r.kind < b.reasons[best].kind ||
				(r.kind == b.reasons[best].kind && r.row < b.reasons[best].row) {
				b.reasonOf[m] = int32(k)
			}
		}
		for m, k := range b.reasonOf {
			if k >= 0 {
				bk.status[m] = memberInvalid
			}
		}
	}
	bk.spanEnd = make([]uint32, n)
	for _, s := range bk.status {
		if s != memberAbsent {
			b.members++
		}
	}
	b.book = bk
	return nil
}

// hashSlots builds the open-addressing index of the book's ids.
func hashSlots(bk *Book) []int32 {
	n := bk.Len()
	size := 16
	for size < 2*n {
		size *= 2
	}
	slots := make([]int32, size)
	mask := uint64(size - 1)
	for i := range n {
		h := idHash(bk.ID(int32(i))) & mask
		for slots[h] != 0 {
			h = (h + 1) & mask
		}
		slots[h] = int32(i) + 1
	}
	return slots
}

// Book returns the book being built: after Number, its members are
// numbered (Len, ID, Find, Absent); after Finish it is complete.
func (b *Builder) Book() *Book { return b.book }

// Member returns the number of the member a ref of Row names.
func (b *Builder) Member(ref int32) int32 { return b.fileMember[ref] }

// StateCounts returns the --state-in records per member number.
func (b *Builder) StateCounts() []int32 { return b.stateCounts }

// Members returns the number of members of the file, and how many of them
// are invalid (final after Finish).
func (b *Builder) Members() (members, invalid int) { return b.members, b.invalid }

// Resolve takes member m's valid spans (from Row; strings may be the
// caller's, they are not kept) in row order: it sorts them by start, checks
// them for overlaps (appending the INVALID_MEMBER exceptions to ex, Raw
// empty: the caller recovers the rows' text) and keeps their starts and
// plan currencies when the member is valid. Members come in increasing
// order, each once; a member of the file that gets no call has no valid
// span.
func (b *Builder) Resolve(m int32, spans []claim.Span, ex []claim.Exception) ([]claim.Exception, error) {
	if m < b.next || int(m) >= b.book.Len() || b.book.status[m] == memberAbsent {
		return ex, fmt.Errorf("members: spans of member %d out of order or not of the file", m)
	}
	b.skipTo(m)
	SortSpans(spans)
	n := len(ex)
	ex = checkOverlaps(b.source, spans, ex)
	bk := b.book
	switch {
	case bk.status[m] == memberInvalid:
	case len(ex) > n:
		b.setInvalid(m, rowReason(ex[n].Row, ex[n].Message))
	case len(spans) == 0:
		b.setInvalid(m, noValidSpan)
	default:
		for k := range spans {
			ci := b.plan.CurrencyIndex(spans[k].PlanCurrency)
			if ci < 0 {
				return ex, fmt.Errorf("members: a span of member %d has plan currency %q, not the plan's", m, spans[k].PlanCurrency)
			}
			bk.starts = append(bk.starts, spans[k].Start)
			bk.currency = append(bk.currency, uint16(ci))
		}
	}
	if len(bk.starts) > math.MaxUint32 {
		return ex, fmt.Errorf("members: %w", errTooManyIDs)
	}
	bk.spanEnd[m] = uint32(len(bk.starts))
	b.next = m + 1
	return ex, nil
}

// skipTo closes the members before m that got no Resolve: a member of the
// file without a valid span is invalid.
func (b *Builder) skipTo(m int32) {
	bk := b.book
	for ; b.next < m; b.next++ {
		i := b.next
		if bk.status[i] == memberValid {
			b.setInvalid(i, noValidSpan)
		}
		bk.spanEnd[i] = uint32(len(bk.starts))
	}
}

func (b *Builder) setInvalid(m int32, why string) {
	b.book.status[m] = memberInvalid
	b.late = append(b.late, m)
	b.lateWhy = append(b.lateWhy, why)
}

// Finish completes the book: the members after the last Resolve, and the
// reasons of every invalid member.
func (b *Builder) Finish() *Book {
	bk := b.book
	b.skipTo(int32(bk.Len()))
	// Merge the reasons of the rows (by member) with those Resolve found.
	l := 0
	for m := range int32(bk.Len()) {
		var why string
		switch {
		case len(b.reasonOf) > 0 && b.reasonOf[m] >= 0:
			r := &b.reasons[b.reasonOf[m]]
			why = rowReason(r.row, string(b.reasonText[r.off:r.off+r.size]))
		case l < len(b.late) && b.late[l] == m:
			why = b.lateWhy[l]
		default:
			continue
		}
		for l < len(b.late) && b.late[l] <= m {
			l++
		}
		bk.invalid = append(bk.invalid, m)
		bk.why = append(bk.why, why...)
		bk.whyEnd = append(bk.whyEnd, uint32(len(bk.why)))
	}
	b.invalid = len(bk.invalid)
	b.reasons, b.reasonText, b.reasonOf, b.late, b.lateWhy, b.fileMember = nil, nil, nil, nil, nil, nil
	bk.invalid, bk.whyEnd, bk.why = slices.Clip(bk.invalid), slices.Clip(bk.whyEnd), slices.Clip(bk.why)
	bk.starts, bk.currency = slices.Clip(bk.starts), slices.Clip(bk.currency)
	return bk
}

// Resolved is one member resolved with ResolveMember.
type Resolved struct {
	ID      string
	Spans   []claim.Span // sorted by start; nil when invalid
	Invalid string
}

// ForMembers returns the book of a few members, each resolved with
// ResolveMember (a tool that explains one member needs no more); a member
// named twice counts once, with its first entry.
func ForMembers(p *plan.Plan, members []Resolved) *Book {
	members = slices.Clone(members)
	slices.SortStableFunc(members, func(a, b Resolved) int { return strings.Compare(a.ID, b.ID) })
	members = slices.CompactFunc(members, func(a, b Resolved) bool { return a.ID == b.ID })
	b := NewBuilder(p, "")
	for _, m := range members {
		if _, err := b.file.add(m.ID); err != nil {
			return &Book{}
		}
	}
	if err := b.Number(); err != nil {
		return &Book{}
	}
	for i, m := range members {
		if m.Invalid != "" {
			b.skipTo(int32(i))
			b.setInvalid(int32(i), m.Invalid)
			b.book.spanEnd[i] = uint32(len(b.book.starts))
			b.next = int32(i) + 1
			continue
		}
		if _, err := b.Resolve(int32(i), slices.Clone(m.Spans), nil); err != nil {
			return &Book{}
		}
	}
	return b.Finish()
}
