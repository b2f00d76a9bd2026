package importer

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"claimsbatch/claim"
)

// Exception codes of the import, in exceptions.csv. They say why a source
// row could not be mapped.
const (
	// CodeParseError: the source row itself is malformed (wrong field count,
	// bad quoting, invalid UTF-8, a field over 1 MiB).
	CodeParseError claim.ExceptionCode = "PARSE_ERROR"
	// CodeMissingField: a column the SPEC requires came out empty.
	CodeMissingField claim.ExceptionCode = "MISSING_FIELD"
	// CodeInvalidValue: a value does not read as its mapping says (a date
	// not in the declared format, an amount with more than 2 decimals ...)
	// or as its target column needs (line_no 0, units "x").
	CodeInvalidValue claim.ExceptionCode = "INVALID_VALUE"
	// CodeNotInTable: a code is in none of a code table's rows and the
	// mapping has no default.
	CodeNotInTable claim.ExceptionCode = "NOT_IN_TABLE"
	// CodeNoMatch: a required join found no row with the key.
	CodeNoMatch claim.ExceptionCode = "NO_MATCH"
)

// rowError is why one source row could not be mapped.
type rowError struct {
	code  claim.ExceptionCode
	field string // the target column or named value it concerns
	msg   string
}

func (e *rowError) Error() string { return e.msg }

func invalid(format string, args ...any) *rowError {
	return &rowError{code: CodeInvalidValue, msg: fmt.Sprintf(format, args...)}
}

// srcKind is where a mapping's value comes from.
type srcKind uint8

const (
	srcFrom srcKind = iota + 1
	srcTemplate
	srcValue
	srcGenerate
	srcFirstOf
	srcAge
	srcDaysBetween
	srcSum
)

// mapping computes one value (a target column or a let) for the row being
// mapped. The steps run in this order: when, the source (from, template,
// value, first_of, age, days_between, sum, generate), empty_if, extract,
// table, date (then add_years, add_days) / amount / integer, icd, default.
type mapping struct {
	key  string
	node *yaml.Node

	src      srcKind
	refs     []ref // from (first non-empty), age / days_between / sum operands
	tmpl     template
	constant string
	items    []*mapping

	when         *cond
	emptyIf      []string
	emptyIfDates []claim.Date
	extract      *regexp.Regexp
	table        *tableUse
	date         *dateFormat
	addYears     int // added to a date read with date
	addDays      int
	amount       bool
	integer      bool
	icd          int
	def          string
	hasDef       bool
	alternative  bool // an item of first_of: a table miss gives empty, so the next item is tried
}

var mappingKeys = []string{
	"from", "template", "value", "generate", "first_of", "age", "days_between", "sum",
	"when", "empty_if", "extract", "table", "column", "date", "add_years", "add_days", "amount", "integer", "icd", "default",
}

var sourceKeys = []string{"from", "template", "value", "generate", "first_of", "age", "days_between", "sum"}

// eval computes the value; "" means empty.
func (m *mapping) eval(ctx *rowCtx) (string, error) {
	if m.when != nil {
		ok, err := m.when.eval(ctx)
		if err != nil {
			return "", err
		}
		if !ok {
			return m.def, nil
		}
	}
	v, err := m.source(ctx)
	if err != nil {
		return "", err
	}
	if v != "" && m.src != srcFrom && m.isPlaceholder(v) {
		v = ""
	}
	if v != "" && m.extract != nil {
		sub := m.extract.FindStringSubmatch(v)
		switch {
		case sub == nil:
			v = ""
		case len(sub) > 1:
			v = sub[1]
		default:
			v = sub[0]
		}
	}
	if v != "" && m.table != nil {
		out, found, err := m.table.lookup(v, ctx)
		if err != nil {
			return "", err
		}
		if !found {
			if !m.hasDef && !m.alternative {
				return "", &rowError{code: CodeNotInTable, msg: fmt.Sprintf("%s %q is not in table %s", m.describeSource(ctx), v, m.table.t.name)}
			}
			return m.def, nil
		}
		v = out
	}
	if v != "" && m.date != nil && m.src != srcAge && m.src != srcDaysBetween {
		d, ok := m.date.parse(v)
		if !ok {
			return "", invalid("%s %q is not a date in format %s", m.describeSource(ctx), v, m.date.name)
		}
		v = ""
		if !m.isPlaceholderDate(d) {
			v = (d.AddYears(m.addYears) + claim.Date(m.addDays)).String()
		}
	}
	if v != "" && m.amount {
		a, err := claim.ParseMoney(v)
		if err != nil {
			return "", invalid("%s %q is not an amount (a plain decimal with at most 2 places)", m.describeSource(ctx), v)
		}
		v = a.String()
	}
	if v != "" && m.integer {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil {
			return "", invalid("%s %q is not an integer", m.describeSource(ctx), v)
		}
		v = strconv.FormatInt(n, 10)
	}
	if v != "" && m.icd != 0 {
		v = dotICD(v, m.icd)
	}
	if v == "" {
		return m.def, nil
	}
	return v, nil
}

func (m *mapping) source(ctx *rowCtx) (string, error) {
	switch m.src {
	case srcFrom:
		for _, r := range m.refs {
			v, err := ctx.value(r)
			if err != nil {
				return "", err
			}
			if v != "" && !m.isPlaceholder(v) {
				return v, nil
			}
		}
		return "", nil
	case srcTemplate:
		return m.tmpl.eval(ctx)
	case srcValue:
		return m.constant, nil
	case srcGenerate:
		return "", nil // the block fills it in once the row is mapped
	case srcFirstOf:
		for _, it := range m.items {
			v, err := it.eval(ctx)
			if err != nil || v != "" {
				return v, err
			}
		}
		return "", nil
	case srcAge, srcDaysBetween:
		dates, err := m.operandDates(ctx)
		if err != nil || dates == nil {
			return "", err
		}
		if m.src == srcAge {
			if dates[1] < dates[0] {
				return "", invalid("%s %s is before %s %s", ctx.name(m.refs[1]), dates[1], ctx.name(m.refs[0]), dates[0])
			}
			return strconv.Itoa(dates[0].AgeOn(dates[1])), nil
		}
		if dates[1] < dates[0] {
			return "", invalid("%s %s is before %s %s", ctx.name(m.refs[1]), dates[1], ctx.name(m.refs[0]), dates[0])
		}
		return strconv.Itoa(max(1, int(dates[1]-dates[0]))), nil
	case srcSum:
		var total claim.Money
		for _, r := range m.refs {
			v, err := ctx.value(r)
			if err != nil {
				return "", err
			}
			if v == "" || m.isPlaceholder(v) {
				continue
			}
			a, err := claim.ParseMoney(v)
			if err != nil {
				return "", invalid("%s %q is not an amount (a plain decimal with at most 2 places)", ctx.name(r), v)
			}
			total += a
		}
		return total.String(), nil
	}
	return "", nil
}

// operandDates reads the two dates of age and days_between; nil when either
// is empty.
func (m *mapping) operandDates(ctx *rowCtx) ([]claim.Date, error) {
	out := make([]claim.Date, 2)
	for i, r := range m.refs {
		v, err := ctx.value(r)
		if err != nil {
			return nil, err
		}
		if v == "" || m.isPlaceholder(v) {
			return nil, nil
		}
		d, ok := m.date.parse(v)
		if !ok {
			return nil, invalid("%s %q is not a date in format %s", ctx.name(r), v, m.date.name)
		}
		if m.isPlaceholderDate(d) {
			return nil, nil
		}
		out[i] = d
	}
	return out, nil
}

func (m *mapping) isPlaceholder(v string) bool {
	for _, p := range m.emptyIf {
		if v == p {
			return true
		}
	}
	return false
}

func (m *mapping) isPlaceholderDate(d claim.Date) bool {
	for _, p := range m.emptyIfDates {
		if d == p {
			return true
		}
	}
	return false
}

// describeSource names where the value came from, for messages.
func (m *mapping) describeSource(ctx *rowCtx) string {
	if m.src == srcFrom && len(m.refs) == 1 {
		return ctx.name(m.refs[0])
	}
	return "value"
}

// dotICD writes an ICD code with its decimal point: ICD-9 after the third
// character (the fourth for E codes), ICD-10 after the third. A code that
// has a point, or is too short to need one, is kept as it is (upper case).
func dotICD(code string, version int) string {
	code = strings.ToUpper(code)
	if strings.Contains(code, ".") {
		return code
	}
	at := 3
	if version == 9 && strings.HasPrefix(code, "E") {
		at = 4
	}
	if len(code) <= at {
		return code
	}
	return code[:at] + "." + code[at:]
}

// expandNames expands NAME[a..b] into NAMEa ... NAMEb (a and b integers),
// so a list of numbered columns need not be written out.
func expandNames(names []string) ([]string, error) {
	var out []string
	for _, n := range names {
		open := strings.IndexByte(n, '[')
		if open < 0 {
			out = append(out, n)
			continue
		}
		close := strings.IndexByte(n[open:], ']')
		if close < 0 {
			return nil, fmt.Errorf("%q: a [ is never closed (write NAME_[1..13])", n)
		}
		close += open
		lo, hi, err := parseSlotRange(n[open+1 : close])
		if err != nil {
			return nil, fmt.Errorf("%q: %w", n, err)
		}
		for i := lo; i <= hi; i++ {
			out = append(out, n[:open]+strconv.Itoa(i)+n[close+1:])
		}
	}
	return out, nil
}

// parseSlotRange reads "a..b" (1 <= a <= b <= 1000).
func parseSlotRange(s string) (lo, hi int, err error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "..")
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || lo < 1 || hi < lo || hi > 1000 {
		return 0, 0, fmt.Errorf("want a range of numbers FIRST..LAST such as 1..13, got %q", s)
	}
	return lo, hi, nil
}

// refs resolves a list of names (NAME_[1..13] expanded).
func (c *compiler) refs(names []string, n *yaml.Node, key string, sc *scope) []ref {
	names, err := expandNames(names)
	if err != nil {
		c.p.add(n, key, "%v", err)
	}
	var out []ref
	for _, name := range names {
		if r, ok := c.ref(name, n, key, sc); ok {
			out = append(out, r)
		}
	}
	return out
}

// maxMappings and maxDepth bound the mappings of one profile.
const (
	maxMappings = 10000
	maxDepth    = 16
)

// compileMapping reads one mapping: a plain value (a source column's name)
// or a mapping with the keys of mappingKeys.
func (c *compiler) compileMapping(n *yaml.Node, key string, sc *scope) *mapping {
	n = resolve(n)
	m := &mapping{key: key, node: n}
	// YAML aliases can make a first_of hold itself, or a few lines stand
	// for millions of mappings: a profile gets a budget.
	c.mappings++
	if c.mappings > maxMappings || c.depth > maxDepth {
		if !c.tooBig {
			c.tooBig = true
			c.p.add(n, key, "more than %d mappings, or first_of nested more than %d deep (a first_of that holds itself through a YAML alias?)", maxMappings, maxDepth)
		}
		return m
	}
	c.depth++
	defer func() { c.depth-- }()
	if n != nil && n.Kind == yaml.ScalarNode {
		name, ok := c.p.scalar(n, key)
		if !ok {
			return m
		}
		m.src = srcFrom
		if r, ok := c.ref(name, n, key, sc); ok {
			m.refs = []ref{r}
		}
		return m
	}
	if n != nil && n.Kind == yaml.SequenceNode {
		m.src = srcFrom
		m.refs = c.refs(c.p.strings(n, key), n, key, sc)
		return m
	}
	fs := c.p.fields(n, key, mappingKeys...)
	if n == nil || n.Kind != yaml.MappingNode {
		return m
	}
	byName := map[string]field{}
	var srcs []string
	for _, f := range fs {
		byName[f.name] = f
		if contains(sourceKeys, f.name) {
			srcs = append(srcs, f.name)
		}
	}
	switch len(srcs) {
	case 0:
		c.p.add(n, key, "says nowhere the value comes from (give one of: %s)", strings.Join(sourceKeys, ", "))
	case 1:
	default:
		c.p.add(n, key, "has %s: give only one of them", strings.Join(srcs, " and "))
	}
	if f, ok := byName["date"]; ok {
		if s, ok := c.p.scalar(f.val, joinKey(key, "date")); ok {
			df, err := parseDateFormat(s)
			if err != nil {
				c.p.add(f.val, joinKey(key, "date"), "%v", err)
			}
			m.date = df
		}
	}
	for _, f := range fs {
		k := joinKey(key, f.name)
		switch f.name {
		case "from":
			m.src = srcFrom
			m.refs = c.refs(c.p.strings(f.val, k), f.val, k, sc)
		case "template":
			m.src = srcTemplate
			if s, ok := c.p.scalar(f.val, k); ok {
				t, err := parseTemplate(s, sc.resolve)
				if err != nil {
					c.p.add(f.val, k, "%v", err)
				}
				m.tmpl = t
			}
		case "value":
			m.src = srcValue
			if s, ok := c.p.scalar(f.val, k); ok {
				m.constant = s
			}
		case "generate":
			m.src = srcGenerate
			if s, ok := c.p.scalar(f.val, k); ok && s != "line_no" {
				c.p.add(f.val, k, "unknown value %q (the one value to generate is line_no)", s)
			}
		case "first_of":
			m.src = srcFirstOf
			items := resolve(f.val)
			if items == nil || items.Kind != yaml.SequenceNode || len(items.Content) == 0 {
				c.p.add(f.val, k, "want a list of mappings, tried in order")
				continue
			}
			for i, it := range items.Content {
				sub := c.compileMapping(it, fmt.Sprintf("%s[%d]", k, i), sc)
				sub.alternative = true
				if sub.src == srcGenerate {
					c.p.add(it, fmt.Sprintf("%s[%d]", k, i), "generate cannot be one of first_of")
				}
				m.items = append(m.items, sub)
			}
		case "age", "days_between", "sum":
			m.src = map[string]srcKind{"age": srcAge, "days_between": srcDaysBetween, "sum": srcSum}[f.name]
			names, err := expandNames(c.p.strings(f.val, k))
			if err != nil {
				c.p.add(f.val, k, "%v", err)
			}
			if f.name != "sum" && len(names) != 2 {
				c.p.add(f.val, k, "want two values: [%s]", map[string]string{"age": "BIRTH_DATE, ON_DATE", "days_between": "START, END"}[f.name])
			}
			for _, name := range names {
				if r, ok := c.ref(name, f.val, k, sc); ok {
					m.refs = append(m.refs, r)
				}
			}
			if f.name != "sum" && m.date == nil {
				m.date = &dateFormat{name: "ISO", iso: true}
			}
		case "when":
			if s, ok := c.p.scalar(f.val, k); ok {
				cd, err := parseCond(s, sc.resolve)
				if err != nil {
					c.p.add(f.val, k, "%v", err)
				}
				m.when = cd
			}
		case "empty_if":
			m.emptyIf = c.p.strings(f.val, k)
		case "extract":
			if s, ok := c.p.scalar(f.val, k); ok {
				re, err := regexp.Compile(s)
				switch {
				case err != nil:
					c.p.add(f.val, k, "not a regular expression: %v", err)
				case re.NumSubexp() > 1:
					c.p.add(f.val, k, "has %d groups ( ); the value is the first group, give at most one", re.NumSubexp())
				}
				m.extract = re
			}
		case "table":
			if s, ok := c.p.scalar(f.val, k); ok {
				col := ""
				if cf, ok := byName["column"]; ok {
					col, _ = c.p.scalar(cf.val, joinKey(key, "column"))
				}
				m.table = c.useTable(s, col, f.val, k, sc)
			}
		case "column":
			if _, ok := byName["table"]; !ok {
				c.p.add(f.key, k, "column picks a table's value column: it needs table")
			}
		case "add_years", "add_days":
			if v, ok := c.p.scalar(f.val, k); ok {
				n, err := strconv.Atoi(v)
				if err != nil || n < -1000 || n > 1000 {
					c.p.add(f.val, k, "want a whole number of %s (-1000 to 1000), got %q", strings.TrimPrefix(f.name, "add_"), v)
				}
				if f.name == "add_years" {
					m.addYears = n
				} else {
					m.addDays = n
				}
			}
			if _, ok := byName["date"]; !ok {
				c.p.add(f.key, k, "%s moves a date read with date: it needs date", f.name)
			}
		case "amount", "integer":
			on := c.p.boolean(f.val, k)
			if f.name == "amount" {
				m.amount = on
			} else {
				m.integer = on
			}
		case "icd":
			if s, ok := c.p.scalar(f.val, k); ok {
				switch s {
				case "9":
					m.icd = 9
				case "10":
					m.icd = 10
				default:
					c.p.add(f.val, k, "want 9 or 10 (the ICD revision), got %q", s)
				}
			}
		case "default":
			if s, ok := c.p.scalar(f.val, k); ok {
				m.def, m.hasDef = s, true
			}
		}
	}
	conversions := 0
	for _, on := range []bool{m.date != nil && m.src != srcAge && m.src != srcDaysBetween, m.amount, m.integer} {
		if on {
			conversions++
		}
	}
	if conversions > 1 {
		c.p.add(n, key, "give at most one of date, amount and integer")
	}
	if m.src == srcSum && (m.date != nil || m.integer) {
		c.p.add(n, key, "sum adds amounts: date and integer do not apply")
	}
	for _, p := range m.emptyIf {
		if d, err := claim.ParseDate(p); err == nil {
			m.emptyIfDates = append(m.emptyIfDates, d)
		}
	}
	return m
}

// generates reports whether the mapping is `generate: line_no`.
func (m *mapping) generates() bool { return m != nil && m.src == srcGenerate }

// constantValue returns the value of a mapping that is a plain constant.
func (m *mapping) constantValue() (string, bool) {
	if m.src != srcValue || m.when != nil || m.table != nil {
		return "", false
	}
	return m.constant, true
}

// tables returns the table uses whose values end up as the mapping's value:
// its own table, or those of its first_of items that have no table of their
// own above them.
func (m *mapping) valueTables() []*tableUse {
	if m.table != nil {
		return []*tableUse{m.table}
	}
	var out []*tableUse
	for _, it := range m.items {
		out = append(out, it.valueTables()...)
	}
	return out
}

// constants returns the constant values (value: and default:) the mapping
// may produce, for checking them against the plan.
func (m *mapping) constants() []string {
	var out []string
	if m.hasDef {
		out = append(out, m.def)
	}
	if m.table != nil {
		return out
	}
	if m.src == srcValue {
		out = append(out, m.constant)
	}
	for _, it := range m.items {
		out = append(out, it.constants()...)
	}
	return out
}
