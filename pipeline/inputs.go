package pipeline

import (
	"claimsbatch/book"
	"claimsbatch/claim"
	"claimsbatch/plan"
	"claimsbatch/readers"
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

	memberEx, fxEx        []claim.Exception
	membersInput, fxInput writers.Input
}

// loadedMembers is the members file resolved against the plan, until the
// book is built with the state's members.
type loadedMembers struct {
	members *book.Members
	ex      []claim.Exception
	input   writers.Input
}

// loadedFX is the FX file indexed.
type loadedFX struct {
	fx    *book.FX
	ex    []claim.Exception
	input writers.Input
}

// newReference numbers the members file's members and those only the
// --state-in file names (with their record counts) into the book.
func newReference(p *plan.Plan, m *loadedMembers, fx *loadedFX, stateMembers map[string]int32) *reference {
	extra := make([]string, 0, len(stateMembers))
	for id := range stateMembers {
		extra = append(extra, id)
	}
	b := book.New(m.members, extra)
	ref := &reference{
		book: b, fx: fx.fx, pricer: book.NewPricer(p, b, fx.fx),
		lines: make([]int32, b.Len()), state: make([]int32, b.Len()),
		memberEx: m.ex, fxEx: fx.ex, membersInput: m.input, fxInput: fx.input,
	}
	for id, n := range stateMembers {
		ref.state[b.Find(id)] = n
	}
	return ref
}

// active reports whether member i is adjudicated in this run: it has
// accepted lines or state to carry forward.
func (ref *reference) active(i int32) bool { return ref.lines[i] > 0 || ref.state[i] > 0 }

// bytes is what the reference data holds in memory, for the partition sizing.
func (ref *reference) bytes() int64 { return ref.book.Bytes() + int64(len(ref.lines))*8 }

func (r *run) loadMembers() (*loadedMembers, error) {
	raw, ex, rows, err := readers.ReadMembers(r.cfg.Members)
	if err != nil {
		return nil, configError(err)
	}
	members, all := book.Resolve(r.plan, r.cfg.Members, raw, ex)
	r.log.Info("members loaded", "rows", rows, "members", members.Len(), "invalid_members", members.Invalid(), "row_exceptions", len(all))
	return &loadedMembers{
		members: members,
		ex:      all,
		input:   writers.Input{Role: writers.RoleMembers, Path: r.cfg.Members, Rows: rows, Exceptions: int64(len(all))},
	}, nil
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
