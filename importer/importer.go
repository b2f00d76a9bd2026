package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"

	"claimsbatch/claim"
	"claimsbatch/plan"
	"claimsbatch/readers"
	"claimsbatch/writers"
)

// Options configure one import. The zero values of Format, Plan, Read and
// Logger are usable: CSV, the built-in plan, the readers' default limits,
// no logging.
type Options struct {
	In      string         // the extract's directory
	Out     string         // where to publish (created if missing; replaced as a whole, like a run's --out)
	Force   bool           // replace Out even when it holds files that are not an import's
	Format  writers.Format // of claims, members, fx and exceptions
	Set     []Setting      // --set overrides of the profile's defaults
	Plan    *plan.Plan     // benefit codes and member options are checked against it
	Version string         // the tool's version, for the manifest
	Read    readers.Options
	Logger  *slog.Logger
}

// Import maps the extract in opt.In with profile p and publishes claims,
// members and fx (those the profile makes), exceptions and manifest.json in
// opt.Out, atomically: written under temporary names and renamed at the
// end, the manifest last, only when the conservation check holds.
//
// Errors: ErrProfile and ErrConfig (and readers.ErrOpen, ErrMissingColumn,
// ErrFormat) when the import cannot start or a file does not fit the
// profile; ErrConservation, readers.ErrCorrupt, I/O errors and
// context cancellation when it fails on the way. Nothing is published then.
//
// Memory: the main sources are streamed row by row. What is held is the
// lookups (per join's source: the key and the columns joins read of every
// row, see lookup), the line counters of a generated line_no (16 to 32
// bytes per claim id, see lineCounter), and the rows of a months_per_year
// members block until its last file.
func Import(ctx context.Context, p *Profile, opt Options) (*Manifest, error) {
	if opt.Plan == nil {
		opt.Plan = plan.Default()
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	cv, err := p.settle(opt.Set)
	if err != nil {
		return nil, err
	}
	if err := p.checkPlan(opt.Plan, cv); err != nil {
		return nil, err
	}
	files, err := p.findFiles(opt.In)
	if err != nil {
		return nil, err
	}
	for _, s := range p.sources {
		for i := range files[s] {
			f := &files[s][i]
			if f.sha256, err = hashFile(f.path); err != nil {
				return nil, err
			}
		}
	}
	pub, err := writers.NewPublisher(opt.Out, writers.PublishOptions{Force: opt.Force})
	if err != nil {
		return nil, err
	}
	defer pub.Abort()

	r := &run{p: p, opt: opt, cv: cv, files: files, log: log}
	if err := r.openOutputs(pub); err != nil {
		return nil, err
	}
	for _, l := range p.lookups {
		if err := r.loadLookup(ctx, l); err != nil {
			return nil, err
		}
	}
	for ti := range targets {
		for _, b := range p.blocks[ti] {
			if err := r.runBlock(ctx, ti, b); err != nil {
				return nil, err
			}
		}
	}
	m, err := r.finish()
	if err != nil {
		return nil, err
	}
	mf, err := pub.Create(ManifestName)
	if err != nil {
		return nil, err
	}
	if err := writeManifest(mf, m); err != nil {
		return nil, fmt.Errorf("importer: manifest: %w", err)
	}
	if err := pub.Commit(ManifestName); err != nil {
		return nil, err
	}
	log.Debug("import published", "dir", opt.Out, "profile", p.Name)
	return m, nil
}

type output struct {
	name string
	h    *writers.HashingWriter
	w    *writers.TextTableWriter
	rows int64
}

type run struct {
	p        *Profile
	opt      Options
	cv       *columnValues
	files    map[*source][]inputFile
	outputs  []*output // per target; nil when the profile makes none
	exc      *writers.ExceptionsWriter
	excHash  *writers.HashingWriter
	excName  string
	stats    []*SourceStats
	counters lineCounter // generated line_no: lines so far per claim id
	log      *slog.Logger
}

func (r *run) openOutputs(pub *writers.Publisher) error {
	ext := r.opt.Format.Ext()
	r.outputs = make([]*output, len(targets))
	for ti, t := range targets {
		if len(r.p.blocks[ti]) == 0 {
			continue
		}
		f, err := pub.Create(t.name + ext)
		if err != nil {
			return err
		}
		o := &output{name: t.name + ext, h: writers.NewHashingWriter(f)}
		if o.w, err = writers.NewTextTableWriter(o.h, r.opt.Format, t.name, t.textColumns()); err != nil {
			return err
		}
		r.outputs[ti] = o
	}
	r.excName = "exceptions" + ext
	f, err := pub.Create(r.excName)
	if err != nil {
		return err
	}
	r.excHash = writers.NewHashingWriter(f)
	r.exc, err = writers.NewExceptionsWriter(r.excHash, r.opt.Format)
	return err
}

func (r *run) newStats(s *source, f inputFile, use string) *SourceStats {
	st := &SourceStats{Source: s.name, File: f.name, SHA256: f.sha256, Use: use, Filtered: []FilterCount{}}
	r.stats = append(r.stats, st)
	return st
}

// exception records source row row of file as not mapped.
func (r *run) exception(st *SourceStats, row int64, raw string, e *rowError, ids [3]string) error {
	st.Exceptions++
	return r.exc.Write([]claim.Exception{{
		Source: st.File, Row: row, ClaimID: ids[0], LineNo: ids[1], MemberID: ids[2],
		Code: e.code, Field: e.field, Message: e.msg, Raw: raw,
	}})
}

func asRowError(err error) (*rowError, bool) {
	var re *rowError
	if errors.As(err, &re) {
		return re, true
	}
	return nil, false
}

// loadLookup reads every file of a lookup's source into memory: for each
// row that passes the lookup's where and has a non-empty key, the values of
// the columns the joins read. The first row of a key wins; later ones are
// counted as duplicate_key.
func (r *run) loadLookup(ctx context.Context, l *lookup) error {
	l.rows = map[string][]string{}
	for _, f := range r.files[l.src] {
		st := r.newStats(l.src, f, l.describe())
		rd, pos, err := openFile(f, l.src, l.sc, nil, r.opt.Read)
		if err != nil {
			return err
		}
		c := newRowCtx(nil)
		c.pos, c.file = pos, f.name
		err = r.eachRow(ctx, rd, st, func() error {
			c.rec, c.row = rd.Record(), rd.Row()
			if l.where != nil {
				ok, err := l.where.eval(c)
				if err != nil {
					return err
				}
				if !ok {
					st.filtered("where")
					return nil
				}
			}
			k, err := l.key.eval(c)
			if err != nil {
				return err
			}
			if k == "" {
				st.filtered("empty_key")
				return nil
			}
			if _, dup := l.rows[k]; dup {
				st.filtered("duplicate_key")
				return nil
			}
			vals := make([]string, len(l.vals))
			for i, id := range l.vals {
				vals[i], _ = c.value(ref{kind: refColumn, id: id})
			}
			l.rows[k] = vals
			st.Mapped++
			return nil
		})
		if cerr := rd.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// eachRow reads every row of rd: a malformed one becomes a PARSE_ERROR
// exception, a good one goes to fn; a *rowError from fn becomes an
// exception of the row.
func (r *run) eachRow(ctx context.Context, rd *readers.RowReader, st *SourceStats, fn func() error) error {
	for rd.Next() {
		if st.RowsRead%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		st.RowsRead++
		if p := rd.Problem(); p != "" {
			if err := r.exception(st, rd.Row(), rd.Raw(), &rowError{code: CodeParseError, msg: p}, [3]string{}); err != nil {
				return err
			}
			continue
		}
		if err := fn(); err != nil {
			re, ok := asRowError(err)
			if !ok {
				return err
			}
			if err := r.exception(st, rd.Row(), rd.Raw(), re, [3]string{}); err != nil {
				return err
			}
		}
	}
	return rd.Err()
}

// rowFailure is a row's exception with the ids it could still find.
type rowFailure struct {
	*rowError
	ids [3]string
}

func (r *run) runBlock(ctx context.Context, ti int, b *block) error {
	var slots []int
	if b.unpivot != nil {
		slots = b.unpivot.slots
	}
	var months *monthsCollector
	if b.coverage != nil && b.coverage.monthsPerYear != nil {
		months = newMonthsCollector()
	}
	lineNo := claimsTarget.column("line_no")
	generate := ti == 0 && b.cols[lineNo].generates()
	out := r.outputs[ti]
	for _, f := range r.files[b.src] {
		st := r.newStats(b.src, f, b.key)
		rd, pos, err := openFile(f, b.src, b.sc, slots, r.opt.Read)
		if err != nil {
			return err
		}
		c := newRowCtx(b)
		c.pos, c.file = pos, f.name
		err = r.eachRow(ctx, rd, st, func() error {
			c.rec, c.row = rd.Record(), rd.Row()
			lines, filtered, err := r.mapRow(c, b, ti)
			if err != nil {
				re, ok := asRowError(err)
				if !ok {
					return err
				}
				return r.exception(st, rd.Row(), rd.Raw(), re, r.ids(c, b))
			}
			if filtered != "" {
				st.filtered(filtered)
				return nil
			}
			if months != nil {
				y, filtered, err := r.yearCover(c, b, lines[0])
				if err != nil {
					re, ok := asRowError(err)
					if !ok {
						return err
					}
					return r.exception(st, rd.Row(), rd.Raw(), re, r.ids(c, b))
				}
				if filtered != "" {
					st.filtered(filtered)
					return nil
				}
				months.add(y)
				st.Mapped++
				return nil
			}
			for _, line := range lines {
				if generate {
					line[lineNo] = r.nextLineNo(line[claimsTarget.column("claim_id")])
				}
				if err := out.w.Write(line); err != nil {
					return err
				}
				out.rows++
			}
			st.Mapped++
			if ti == 0 {
				st.Lines += int64(len(lines))
			}
			return nil
		})
		if cerr := rd.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	if months != nil {
		for _, row := range months.spans() {
			if err := out.w.Write(row); err != nil {
				return err
			}
			out.rows++
		}
	}
	return nil
}

// nextLineNo returns the next line number of claim id: lines are numbered
// in the order they are mapped, per claim id across the whole import.
func (r *run) nextLineNo(claimID string) string {
	return strconv.FormatUint(uint64(r.counters.next(claimID)), 10)
}

// ids returns what an exception can tell of the row: claim_id, line_no and
// member_id, as far as their mappings still work.
func (r *run) ids(c *rowCtx, b *block) [3]string {
	var out [3]string
	for i, name := range []string{"claim_id", "line_no", "member_id"} {
		ci := b.target.column(name)
		if ci < 0 || b.cols[ci] == nil || b.cols[ci].generates() {
			continue
		}
		out[i], _ = b.cols[ci].eval(c)
	}
	return out
}

// mapRow maps one row: its lines (one, or one per filled slot), or the
// name of the filter that left it out, or why it cannot be mapped.
func (r *run) mapRow(c *rowCtx, b *block, ti int) ([][]string, string, error) {
	c.reset()
	c.slotIdx, c.slot = 0, 0
	for _, f := range b.filters {
		ok, err := f.c.eval(c)
		if err != nil {
			return nil, "", err
		}
		if !ok {
			return nil, f.name, nil
		}
	}
	if b.unpivot == nil {
		line, filtered, err := r.buildLine(c, b, ti)
		if err != nil || filtered != "" {
			return nil, filtered, err
		}
		return [][]string{line}, "", nil
	}
	// The joins that do not read a slot are the row's: a miss is the row's
	// exception, not a slot's.
	for i, j := range b.joins {
		if !j.slotted && !c.joinDone[i] {
			if err := c.doJoin(i); err != nil {
				return nil, "", err
			}
		}
	}
	var lines [][]string
	for si, slot := range b.unpivot.slots {
		c.resetSlot()
		c.slotIdx, c.slot = si, slot
		filled, err := b.unpivot.filled.eval(c)
		if err == nil && filled {
			var line []string
			var filtered string
			line, filtered, err = r.buildLine(c, b, ti)
			if err == nil && filtered == "" {
				lines = append(lines, line)
			}
		}
		if err != nil {
			if re, ok := asRowError(err); ok {
				re.msg = fmt.Sprintf("slot %d: %s", slot, re.msg)
			}
			return nil, "", err
		}
	}
	if len(lines) == 0 {
		return nil, "no_filled_slot", nil
	}
	return lines, "", nil
}

// buildLine computes every column of one output row.
func (r *run) buildLine(c *rowCtx, b *block, ti int) ([]string, string, error) {
	for i := range b.joins {
		if !c.joinDone[i] {
			if err := c.doJoin(i); err != nil {
				return nil, "", err
			}
		}
	}
	for i := range b.lets {
		if _, err := c.value(ref{kind: refLet, id: i}); err != nil {
			return nil, "", err
		}
	}
	t := b.target
	row := make([]string, len(t.columns))
	for ci, col := range t.columns {
		if m := b.cols[ci]; m != nil {
			v, err := m.eval(c)
			if err != nil {
				if re, ok := asRowError(err); ok && re.field == "" {
					re.field = col.name
				}
				return nil, "", err
			}
			row[ci] = v
			continue
		}
		if r.cv.has[ti][ci] {
			row[ci] = r.cv.val[ti][ci]
		}
	}
	if err := checkRow(b, row); err != nil {
		return nil, "", err
	}
	if b.coverage != nil && b.coverage.monthsPerYear == nil {
		return r.spanEnd(c, b, row)
	}
	return row, "", nil
}

// spanEnd settles a span's coverage_end (row already checked): the day
// before an end-exclusive end (a period that ends where it starts is
// filtered out as empty_period), then no later than the date of death (a
// period that starts after it is filtered out as after_death). An end
// before the start is INVALID_VALUE.
func (r *run) spanEnd(c *rowCtx, b *block, row []string) ([]string, string, error) {
	t := b.target
	start, end := t.column("coverage_start"), t.column("coverage_end")
	s, _ := claim.ParseDate(row[start])
	if row[end] != "" {
		e, _ := claim.ParseDate(row[end])
		if e < s {
			return nil, "", &rowError{code: CodeInvalidValue, field: "coverage_end", msg: fmt.Sprintf("coverage_end %s is before coverage_start %s", row[end], row[start])}
		}
		if b.coverage.endExclusive {
			if e-1 < s {
				return nil, "empty_period", nil
			}
			row[end] = (e - 1).String()
		}
	}
	if b.coverage.deathDate == nil {
		return row, "", nil
	}
	v, err := b.coverage.deathDate.eval(c)
	if err != nil {
		return nil, "", fieldErr(err, "death_date")
	}
	if v == "" {
		return row, "", nil
	}
	d, err := claim.ParseDate(v)
	if err != nil {
		return nil, "", &rowError{code: CodeInvalidValue, field: "death_date", msg: fmt.Sprintf("death_date %q is not a YYYY-MM-DD date (give its mapping a date format)", v)}
	}
	if s > d {
		return nil, "after_death", nil
	}
	if e, _ := claim.ParseDate(row[end]); row[end] == "" || e > d {
		row[end] = d.String()
	}
	return row, "", nil
}

// checkRow checks the values against their target columns: required ones
// given, dates YYYY-MM-DD, amounts with at most 2 decimals (written with
// exactly 2), billed_amount not negative, line_no and units integers >= 1.
func checkRow(b *block, row []string) error {
	for ci, col := range b.target.columns {
		v := row[ci]
		if v == "" {
			if col.required && !b.cols[ci].generates() && !b.computes(col.name) {
				return &rowError{code: CodeMissingField, field: col.name, msg: col.name + " is empty"}
			}
			continue
		}
		switch {
		case col.kind == writers.Date || col.kind == writers.OptionalDate:
			if _, err := claim.ParseDate(v); err != nil {
				return &rowError{code: CodeInvalidValue, field: col.name, msg: fmt.Sprintf("%s %q is not a YYYY-MM-DD date (give its mapping a date format, e.g. date: ISO)", col.name, v)}
			}
		case col.kind == writers.Amount:
			a, err := claim.ParseMoney(v)
			if err != nil {
				return &rowError{code: CodeInvalidValue, field: col.name, msg: fmt.Sprintf("%s %q is not an amount (a plain decimal with at most 2 places)", col.name, v)}
			}
			if col.nonNeg && a < 0 {
				return &rowError{code: CodeInvalidValue, field: col.name, msg: fmt.Sprintf("%s %s is negative: a claim line bills 0 or more (a refund or reversal is not a line to adjudicate)", col.name, a)}
			}
			row[ci] = a.String()
		case col.positive:
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return &rowError{code: CodeInvalidValue, field: col.name, msg: fmt.Sprintf("%s %q is not an integer >= 1", col.name, v)}
			}
			row[ci] = strconv.Itoa(n)
		}
	}
	return nil
}

// yearCover reads the year, months and death date of a months_per_year row.
func (r *run) yearCover(c *rowCtx, b *block, row []string) (yearCover, string, error) {
	mp := b.coverage.monthsPerYear
	y := yearCover{cols: row, death: claim.NoDate}
	yv, err := mp.year.eval(c)
	if err != nil {
		return y, "", fieldErr(err, "year")
	}
	year, err2 := strconv.Atoi(yv)
	if err2 != nil || year < 1900 || year > 2199 {
		return y, "", &rowError{code: CodeInvalidValue, field: "year", msg: fmt.Sprintf("year %q is not a year (1900-2199)", yv)}
	}
	y.year = year
	for _, ref := range mp.months {
		v, err := c.value(ref)
		if err != nil {
			return y, "", err
		}
		n, ok := parseMonths(v)
		if !ok {
			return y, "", &rowError{code: CodeInvalidValue, field: ref.name, msg: fmt.Sprintf("%s %q is not a number of months (0-12)", ref.name, v)}
		}
		y.months = max(y.months, n)
	}
	if y.months == 0 {
		return y, "no_months_covered", nil
	}
	if mp.deathDate != nil {
		v, err := mp.deathDate.eval(c)
		if err != nil {
			return y, "", fieldErr(err, "death_date")
		}
		if v != "" {
			d, err := claim.ParseDate(v)
			if err != nil {
				return y, "", &rowError{code: CodeInvalidValue, field: "death_date", msg: fmt.Sprintf("death_date %q is not a YYYY-MM-DD date (give its mapping a date format)", v)}
			}
			y.death = d
			// A summary of a year after the death still counts months
			// (DE-SynPUF does): no cover after death.
			if dy, _, _ := d.Civil(); dy < year {
				return y, "after_death", nil
			}
		}
	}
	return y, "", nil
}

func fieldErr(err error, field string) error {
	if re, ok := asRowError(err); ok && re.field == "" {
		re.field = field
	}
	return err
}

// finish closes the outputs, checks conservation and returns the manifest.
func (r *run) finish() (*Manifest, error) {
	m := &Manifest{
		Tool: "claimsbatch import", Version: r.opt.Version,
		Profile: ProfileInfo{Name: r.p.Name, Source: r.p.Source, SHA256: r.p.SHA256, Tables: []TableInfo{}},
		Plan:    PlanInfo{Name: r.opt.Plan.Name, SHA256: r.opt.Plan.SHA256},
		Format:  r.opt.Format.String(), Settings: []SettingInfo{}, Absent: []string{}, Outputs: []OutputInfo{},
		Conservation: "per source file and use: rows_read = mapped + filtered + exceptions; " +
			"exceptions rows = the sum of exceptions; claims rows = the sum of lines",
	}
	for _, t := range r.p.tables {
		m.Profile.Tables = append(m.Profile.Tables, TableInfo{Name: t.name, File: t.file, SHA256: t.sha256})
	}
	for _, s := range r.opt.Set {
		m.Settings = append(m.Settings, SettingInfo{Key: s.Key, Value: s.Value})
	}
	for _, s := range r.p.sources {
		if len(r.files[s]) == 0 {
			m.Absent = append(m.Absent, s.name)
		}
	}
	var problems []error
	var exceptions, lines int64
	for _, st := range r.stats {
		if err := st.check(); err != nil {
			problems = append(problems, err)
		}
		exceptions += st.Exceptions
		lines += st.Lines
		m.Sources = append(m.Sources, *st)
	}
	for ti, o := range r.outputs {
		if o == nil {
			continue
		}
		if err := o.w.Close(); err != nil {
			return nil, err
		}
		if o.w.Rows() != o.rows || (ti == 0 && o.rows != lines) {
			problems = append(problems, fmt.Errorf("%w: %s has %d rows, the mapped rows made %d", ErrConservation, o.name, o.w.Rows(), o.rows))
		}
		m.Outputs = append(m.Outputs, OutputInfo{Name: o.name, Rows: o.w.Rows(), SHA256: o.h.SHA256()})
	}
	if err := r.exc.Close(); err != nil {
		return nil, err
	}
	if r.exc.Rows() != exceptions {
		problems = append(problems, fmt.Errorf("%w: %s has %d rows, the sources count %d exceptions", ErrConservation, r.excName, r.exc.Rows(), exceptions))
	}
	m.Outputs = append(m.Outputs, OutputInfo{Name: r.excName, Rows: r.exc.Rows(), SHA256: r.excHash.SHA256()})
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return m, nil
}
