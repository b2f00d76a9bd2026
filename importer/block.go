package importer

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// block maps the rows of one source into one target (claims, members or fx).
type block struct {
	key    string // e.g. claims[0], for messages
	node   *yaml.Node
	target *target
	src    *source
	sc     *scope

	filters  []namedCond
	joins    []*join
	lets     []*let
	unpivot  *unpivot
	cols     []*mapping // per target column; nil = not mapped
	coverage *coverage
}

type namedCond struct {
	name string
	c    *cond
}

type let struct {
	name string
	m    *mapping
}

// unpivot turns one row into one line per filled slot: the columns whose
// names hold # are read with # replaced by the slot number.
type unpivot struct {
	slots  []int
	filled *cond
}

// join finds the row of another source (or the same one) whose key is the
// value of `on` in the row being mapped.
type join struct {
	name     string
	lk       *lookup
	on       template
	required bool
	slotted  bool // its key reads a slot: it is looked up per slot, not per row
}

// computes reports whether the block produces target column name itself
// (the coverage dates of months_per_year).
func (b *block) computes(name string) bool {
	return b.coverage != nil && b.coverage.monthsPerYear != nil && (name == "coverage_start" || name == "coverage_end")
}

// scope resolves the names a block's mappings use.
type scope struct {
	columns  []string // source columns read, in first-use order (a name may hold #)
	colIndex map[string]int
	slotted  bool // the block unpivots: names may hold #, $slot is set
	forTable bool // a lookup's scope: source columns only

	joins  []*join
	nJoins int // joins visible so far
	lets   []*let
	nLets  int // lets visible so far
}

func newScope() *scope { return &scope{colIndex: map[string]int{}} }

func (s *scope) column(name string) int {
	if i, ok := s.colIndex[name]; ok {
		return i
	}
	s.colIndex[name] = len(s.columns)
	s.columns = append(s.columns, name)
	return len(s.columns) - 1
}

func (s *scope) resolve(name string) (ref, error) {
	name = strings.TrimSpace(name)
	if !validName(name) {
		return ref{}, fmt.Errorf("%q is not a name (a column, join.column, let or $file, $row, $slot)", name)
	}
	if strings.HasPrefix(name, "$") {
		switch name {
		case "$file":
			return ref{kind: refFile, name: name}, nil
		case "$row":
			return ref{kind: refRow, name: name}, nil
		case "$slot":
			if !s.slotted {
				return ref{}, fmt.Errorf("$slot is the slot number of an unpivoted row: this block has no unpivot")
			}
			return ref{kind: refSlot, name: name}, nil
		}
		return ref{}, fmt.Errorf("unknown name %s (the built-in names are $file, $row and $slot)", name)
	}
	if !s.forTable {
		for i, l := range s.lets {
			if l.name != name {
				continue
			}
			if i >= s.nLets {
				return ref{}, fmt.Errorf("let %s is used before it is defined (a let sees the lets above it)", name)
			}
			return ref{kind: refLet, id: i, name: name}, nil
		}
		if prefix, col, ok := strings.Cut(name, "."); ok {
			for i, j := range s.joins {
				if j.name != prefix {
					continue
				}
				if i >= s.nJoins {
					return ref{}, fmt.Errorf("join %s is used before it is defined (a join's on sees the joins above it)", prefix)
				}
				if strings.Contains(col, "#") {
					return ref{}, fmt.Errorf("%s: a joined column cannot hold #", name)
				}
				if j.lk == nil {
					return ref{kind: refJoin, id: i, name: name}, nil
				}
				return ref{kind: refJoin, id: i, col: j.lk.value(col), name: name}, nil
			}
		}
	}
	if strings.Contains(name, "#") {
		if !s.slotted {
			return ref{}, fmt.Errorf("%s: # stands for the slot number of an unpivoted row, and this block has no unpivot", name)
		}
		if strings.Count(name, "#") > 1 {
			return ref{}, fmt.Errorf("%s: one # per name", name)
		}
	}
	return ref{kind: refColumn, id: s.column(name), name: name}, nil
}

func (c *compiler) ref(name string, n *yaml.Node, key string, sc *scope) (ref, bool) {
	r, err := sc.resolve(name)
	if err != nil {
		c.p.add(n, key, "%v", err)
		return ref{}, false
	}
	return r, true
}

var blockKeys = []string{"from", "where", "join", "unpivot", "let", "coverage", "columns"}

func (c *compiler) compileBlock(n *yaml.Node, key string, t *target) *block {
	b := &block{key: key, node: resolve(n), target: t, sc: newScope(), cols: make([]*mapping, len(t.columns))}
	fs := c.p.fields(n, key, blockKeys...)
	byName := map[string]field{}
	for _, f := range fs {
		byName[f.name] = f
	}
	if f, ok := byName["from"]; ok {
		if name, ok := c.p.scalar(f.val, key+".from"); ok {
			b.src = c.sources[name]
			switch {
			case b.src == nil:
				msg := fmt.Sprintf("no source %q under sources", name)
				if s := didYouMean(name, sortedKeys(c.sources)); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
				c.p.add(f.val, key+".from", "%s", msg)
			case b.src.usedAsMain:
				c.p.add(f.val, key+".from", "source %s is already the from of another block (a source feeds one block; give the same files a second source name)", name)
			default:
				b.src.usedAsMain = true
			}
		}
	} else {
		c.p.add(n, key, "from is missing (the source whose rows this block maps)")
	}

	// The unpivot's slots first: they decide whether names may hold #.
	var unpivotFields []field
	if f, ok := byName["unpivot"]; ok {
		b.unpivot = &unpivot{}
		b.sc.slotted = true
		unpivotFields = c.p.fields(f.val, key+".unpivot", "slots", "filled")
		for _, uf := range unpivotFields {
			k := key + ".unpivot." + uf.name
			if uf.name != "slots" {
				continue
			}
			if s, ok := c.p.scalar(uf.val, k); ok {
				lo, hi, err := parseSlotRange(s)
				if err != nil {
					c.p.add(uf.val, k, "%v", err)
				}
				for i := lo; i <= hi && err == nil; i++ {
					b.unpivot.slots = append(b.unpivot.slots, i)
				}
			}
		}
		if !containsField(unpivotFields, "slots") {
			c.p.add(f.val, key+".unpivot.slots", "is missing (e.g. 1..13)")
		}
	}

	if f, ok := byName["join"]; ok {
		jfs := c.p.fields(f.val, key+".join")
		for _, jf := range jfs {
			b.joins = append(b.joins, &join{name: jf.name})
		}
		b.sc.joins = b.joins
		for i, jf := range jfs {
			c.compileJoin(b, b.joins[i], jf, key+".join."+jf.name)
			b.sc.nJoins = i + 1
		}
	}
	b.sc.nJoins = len(b.joins)

	if f, ok := byName["let"]; ok {
		lfs := c.p.fields(f.val, key+".let")
		for _, lf := range lfs {
			b.lets = append(b.lets, &let{name: lf.name})
		}
		b.sc.lets = b.lets
		for i, lf := range lfs {
			k := key + ".let." + lf.name
			if !validName(lf.name) || strings.ContainsAny(lf.name, ".#$") {
				c.p.add(lf.key, k, "a let's name is one word")
			}
			b.lets[i].m = c.compileMapping(lf.val, k, b.sc)
			if b.lets[i].m.generates() {
				c.p.add(lf.val, k, "generate is for the line_no column only")
			}
			b.sc.nLets = i + 1
		}
	}
	b.sc.nLets = len(b.lets)

	if f, ok := byName["where"]; ok {
		for _, wf := range c.p.fields(f.val, key+".where") {
			k := key + ".where." + wf.name
			if s, ok := c.p.scalar(wf.val, k); ok {
				cd, err := parseCond(s, b.sc.resolve)
				if err != nil {
					c.p.add(wf.val, k, "%v", err)
					continue
				}
				for _, r := range cd.refs() {
					if r.kind == refSlot || (r.kind == refColumn && strings.Contains(r.name, "#")) {
						c.p.add(wf.val, k, "%s reads a slot; a where filter decides on the whole row (unpivot.filled decides on a slot)", r.name)
					}
				}
				b.filters = append(b.filters, namedCond{name: wf.name, c: cd})
			}
		}
	}
	if f, ok := byName["unpivot"]; ok {
		for _, uf := range unpivotFields {
			if uf.name != "filled" {
				continue
			}
			k := key + ".unpivot.filled"
			if s, ok := c.p.scalar(uf.val, k); ok {
				cd, err := parseCond(s, b.sc.resolve)
				if err != nil {
					c.p.add(uf.val, k, "%v", err)
				}
				b.unpivot.filled = cd
			}
		}
		if b.unpivot.filled == nil {
			c.p.add(f.val, key+".unpivot.filled", "is missing (the condition that says a slot holds a line, e.g. \"HCPCS_CD_# is not empty\")")
		}
	}

	if f, ok := byName["coverage"]; ok {
		if t != membersTarget {
			c.p.add(f.key, key+".coverage", "only a members block has coverage")
		} else {
			b.coverage = c.compileCoverage(f.val, key+".coverage", b.sc)
		}
	}

	if f, ok := byName["columns"]; ok {
		for _, cf := range c.p.fields(f.val, key+".columns") {
			k := key + ".columns." + cf.name
			i := t.column(cf.name)
			if i < 0 {
				msg := fmt.Sprintf("%s has no column %q", t.name, cf.name)
				if s := didYouMean(cf.name, t.names()); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				} else {
					msg += " (its columns: " + strings.Join(t.names(), ", ") + ")"
				}
				c.p.add(cf.key, key+".columns", "%s", msg)
				continue
			}
			if b.computes(cf.name) {
				c.p.add(cf.key, k, "coverage.months_per_year makes this column; do not map it")
				continue
			}
			m := c.compileMapping(cf.val, k, b.sc)
			if m.generates() && (t != claimsTarget || cf.name != "line_no") {
				c.p.add(cf.val, k, "generate: line_no is for the claims' line_no column only")
			}
			b.cols[i] = m
		}
	} else {
		c.p.add(n, key, "columns is missing (which source values make which %s columns)", t.name)
	}
	if b.unpivot != nil && !usesSlot(b) {
		c.p.add(n, key+".unpivot", "no column, let or join of the block reads a slot (a name with # or $slot)")
	}
	if t == claimsTarget {
		if m := b.cols[claimsTarget.column("benefit_code")]; m != nil {
			c.checkBenefitValues(m, key+".columns.benefit_code")
		}
	}
	return b
}

func containsField(fs []field, name string) bool {
	for _, f := range fs {
		if f.name == name {
			return true
		}
	}
	return false
}

// usesSlot reports whether anything of an unpivoting block reads a slot.
func usesSlot(b *block) bool {
	for _, name := range b.sc.columns {
		if strings.Contains(name, "#") {
			return true
		}
	}
	var walk func(m *mapping) bool
	walk = func(m *mapping) bool {
		if m == nil {
			return false
		}
		for _, r := range m.refs {
			if r.kind == refSlot {
				return true
			}
		}
		for _, r := range m.tmpl.refs() {
			if r.kind == refSlot {
				return true
			}
		}
		for _, it := range m.items {
			if walk(it) {
				return true
			}
		}
		return false
	}
	for _, m := range b.cols {
		if walk(m) {
			return true
		}
	}
	for _, l := range b.lets {
		if walk(l.m) {
			return true
		}
	}
	return false
}

var joinKeys = []string{"source", "key", "on", "where", "required"}

func (c *compiler) compileJoin(b *block, j *join, f field, key string) {
	if !validName(j.name) || strings.ContainsAny(j.name, ".#$") {
		c.p.add(f.key, key, "a join's name is one word")
	}
	j.required = true
	var srcName, keyText, whereText, onText string
	var onNode *yaml.Node
	for _, jf := range c.p.fields(f.val, key, joinKeys...) {
		k := joinKey(key, jf.name)
		switch jf.name {
		case "source":
			srcName, _ = c.p.scalar(jf.val, k)
		case "key":
			keyText, _ = c.p.scalar(jf.val, k)
		case "on":
			onText, _ = c.p.scalar(jf.val, k)
			onNode = jf.val
		case "where":
			whereText, _ = c.p.scalar(jf.val, k)
		case "required":
			j.required = c.p.boolean(jf.val, k)
		}
	}
	for _, need := range []struct{ name, val string }{{"source", srcName}, {"key", keyText}, {"on", onText}} {
		if need.val == "" {
			c.p.add(f.val, joinKey(key, need.name), "is missing")
		}
	}
	src := c.sources[srcName]
	if srcName != "" && src == nil {
		msg := fmt.Sprintf("no source %q under sources", srcName)
		if s := didYouMean(srcName, sortedKeys(c.sources)); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		c.p.add(f.val, key+".source", "%s", msg)
	}
	if src != nil && keyText != "" {
		j.lk = c.lookup(src, keyText, whereText, f.val, key)
		if !contains(j.lk.joins, j.name) {
			j.lk.joins = append(j.lk.joins, j.name)
		}
	}
	if onText != "" {
		t, err := parseTemplate(asTemplate(onText), b.sc.resolve)
		if err != nil {
			c.p.add(onNode, key+".on", "%v", err)
		}
		j.on = t
		for _, r := range t.refs() {
			j.slotted = j.slotted || r.kind == refSlot || (r.kind == refColumn && strings.Contains(r.name, "#")) ||
				(r.kind == refJoin && b.joins[r.id].slotted)
		}
	}
}

// asTemplate makes a plain name a template of that one name.
func asTemplate(s string) string {
	if strings.ContainsAny(s, "{}") {
		return s
	}
	return "{" + s + "}"
}

// checkBenefitValues records the benefit-code mapping's tables and constants
// for the plan check (Profile.CheckPlan).
func (c *compiler) checkBenefitValues(m *mapping, key string) {
	c.prof.benefitMappings = append(c.prof.benefitMappings, benefitMapping{key: key, m: m})
}

// compile-time form of a months-per-year or end-exclusive coverage.
type coverage struct {
	endExclusive  bool
	monthsPerYear *monthsPerYear
	// deathDate, for spans (not months_per_year, which has its own): cover
	// ends on the date of death at the latest.
	deathDate *mapping
}

type monthsPerYear struct {
	year      *mapping
	months    []ref
	deathDate *mapping
}

func (c *compiler) compileCoverage(n *yaml.Node, key string, sc *scope) *coverage {
	cv := &coverage{}
	for _, f := range c.p.fields(n, key, "end_exclusive", "death_date", "months_per_year") {
		k := joinKey(key, f.name)
		switch f.name {
		case "end_exclusive":
			cv.endExclusive = c.p.boolean(f.val, k)
		case "death_date":
			cv.deathDate = c.compileMapping(f.val, k, sc)
		case "months_per_year":
			mp := &monthsPerYear{}
			for _, mf := range c.p.fields(f.val, k, "year", "months", "death_date") {
				mk := joinKey(k, mf.name)
				switch mf.name {
				case "year":
					mp.year = c.compileMapping(mf.val, mk, sc)
				case "months":
					names, err := expandNames(c.p.strings(mf.val, mk))
					if err != nil {
						c.p.add(mf.val, mk, "%v", err)
					}
					for _, name := range names {
						if r, ok := c.ref(name, mf.val, mk, sc); ok {
							mp.months = append(mp.months, r)
						}
					}
				case "death_date":
					mp.deathDate = c.compileMapping(mf.val, mk, sc)
				}
			}
			if mp.year == nil {
				c.p.add(f.val, k+".year", "is missing (the calendar year a row counts months of)")
			}
			if len(mp.months) == 0 {
				c.p.add(f.val, k+".months", "is missing (the column(s) with the number of months covered)")
			}
			cv.monthsPerYear = mp
		}
	}
	if cv.endExclusive && cv.monthsPerYear != nil {
		c.p.add(n, key, "give end_exclusive or months_per_year, not both")
	}
	if cv.deathDate != nil && cv.monthsPerYear != nil {
		c.p.add(n, key+".death_date", "with months_per_year, give death_date under months_per_year")
	}
	return cv
}

// lookup returns the in-memory index of src by key (and where), shared by
// every join that asks for the same one.
func (c *compiler) lookup(src *source, keyText, whereText string, n *yaml.Node, key string) *lookup {
	sig := src.name + "\x00" + keyText + "\x00" + whereText
	if l, ok := c.lookups[sig]; ok {
		return l
	}
	src.usedAsTable = true
	l := &lookup{src: src, keyText: keyText, whereText: whereText, sc: newScope(), valIndex: map[string]int{}, order: len(c.lookups)}
	l.sc.forTable = true
	t, err := parseTemplate(asTemplate(keyText), l.sc.resolve)
	if err != nil {
		c.p.add(n, key+".key", "%v", err)
	}
	l.key = t
	if whereText != "" {
		cd, err := parseCond(whereText, l.sc.resolve)
		if err != nil {
			c.p.add(n, key+".where", "%v", err)
		}
		l.where = cd
	}
	c.lookups[sig] = l
	return l
}

// lookup is one source held in memory as key → the values of the columns
// joins read from it. It is the only place an import holds a whole source.
type lookup struct {
	src       *source
	keyText   string
	whereText string
	sc        *scope // the source's columns the key, the where and the values read
	key       template
	where     *cond
	vals      []int          // scope column ids of the values kept per row
	valIndex  map[string]int // column name → index in vals
	order     int
	joins     []string // names of the joins that use it
	rows      map[string][]string
}

// value returns the index of column name among the values kept per row.
func (l *lookup) value(name string) int {
	if i, ok := l.valIndex[name]; ok {
		return i
	}
	l.valIndex[name] = len(l.vals)
	l.vals = append(l.vals, l.sc.column(name))
	return len(l.vals) - 1
}

// describe names the lookup for the manifest.
func (l *lookup) describe() string {
	s := "join " + strings.Join(l.joins, ", ") + ": lookup by " + l.keyText
	if l.whereText != "" {
		s += " where " + l.whereText
	}
	return s
}

// rowCtx is the row (and slot) being mapped: the values its mappings read.
// Joins and lets are computed when first read and kept for the row.
type rowCtx struct {
	b       *block // nil while a lookup loads
	rec     []string
	pos     [][]int // per scope column: per slot index (0 without unpivot), the index in rec or -1
	slotIdx int
	slot    int
	file    string
	row     int64

	joinDone []bool
	joinRows [][]string
	letDone  []bool
	letVals  []string
}

func newRowCtx(b *block) *rowCtx {
	c := &rowCtx{b: b}
	if b != nil {
		c.joinDone = make([]bool, len(b.joins))
		c.joinRows = make([][]string, len(b.joins))
		c.letDone = make([]bool, len(b.lets))
		c.letVals = make([]string, len(b.lets))
	}
	return c
}

// reset forgets the joins and lets of the previous row.
func (c *rowCtx) reset() {
	clear(c.joinDone)
	clear(c.letDone)
}

// resetSlot forgets the lets and the slotted joins of the previous slot;
// the row's other joins stay.
func (c *rowCtx) resetSlot() {
	for i, j := range c.b.joins {
		if j.slotted {
			c.joinDone[i] = false
		}
	}
	clear(c.letDone)
}

func (c *rowCtx) value(r ref) (string, error) {
	switch r.kind {
	case refColumn:
		p := c.pos[r.id]
		i := p[0]
		if len(p) > 1 {
			i = p[c.slotIdx]
		}
		if i < 0 {
			return "", nil
		}
		return c.rec[i], nil
	case refJoin:
		if !c.joinDone[r.id] {
			if err := c.doJoin(r.id); err != nil {
				return "", err
			}
		}
		row := c.joinRows[r.id]
		if row == nil {
			return "", nil
		}
		return row[r.col], nil
	case refLet:
		if !c.letDone[r.id] {
			l := c.b.lets[r.id]
			v, err := l.m.eval(c)
			if err != nil {
				if re, ok := err.(*rowError); ok && re.field == "" {
					re.field = l.name
				}
				return "", err
			}
			c.letVals[r.id], c.letDone[r.id] = v, true
		}
		return c.letVals[r.id], nil
	case refFile:
		return c.file, nil
	case refRow:
		return strconv.FormatInt(c.row, 10), nil
	case refSlot:
		return strconv.Itoa(c.slot), nil
	}
	return "", nil
}

// name is the name of the value r reads, # replaced by the slot number.
func (c *rowCtx) name(r ref) string {
	if c.slot > 0 && r.kind == refColumn {
		return strings.Replace(r.name, "#", strconv.Itoa(c.slot), 1)
	}
	return r.name
}

func (c *rowCtx) doJoin(i int) error {
	j := c.b.joins[i]
	k, err := j.on.eval(c)
	if err != nil {
		return err
	}
	row, found := j.lk.rows[k]
	if !found && j.required {
		return &rowError{code: CodeNoMatch, field: j.name, msg: fmt.Sprintf("no %s row with %s = %q (join %s)", j.lk.src.name, j.lk.keyText, k, j.name)}
	}
	c.joinRows[i], c.joinDone[i] = row, true
	return nil
}
