package importer

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ErrProfile is wrapped by every error about a profile: it cannot be read,
// it is not valid, or no built-in profile has the name given.
var ErrProfile = errors.New("importer: invalid profile")

//go:embed profiles
var builtinFS embed.FS

// BuiltinNames returns the names of the built-in profiles, sorted.
func BuiltinNames() []string {
	entries, _ := fs.ReadDir(builtinFS, "profiles")
	var out []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			out = append(out, name)
		}
	}
	return out
}

// Builtin returns the built-in profile name.
func Builtin(name string) (*Profile, error) {
	data, err := builtinFS.ReadFile("profiles/" + name + ".yaml")
	if err != nil {
		msg := fmt.Sprintf("no built-in profile %q (built in: %s; or give a profile file's path)", name, strings.Join(BuiltinNames(), ", "))
		if s := didYouMean(name, BuiltinNames()); s != "" {
			msg = fmt.Sprintf("no built-in profile %q (did you mean %q? built in: %s; or give a profile file's path)", name, s, strings.Join(BuiltinNames(), ", "))
		}
		return nil, fmt.Errorf("%w: %s", ErrProfile, msg)
	}
	sub, _ := fs.Sub(builtinFS, "profiles")
	p, err := Parse(name+".yaml (built in)", data, sub)
	if err != nil {
		return nil, err
	}
	p.Builtin = true
	return p, nil
}

// Open returns the profile nameOrPath names: a YAML file (a path with a
// separator, a name ending in .yaml or .yml, or an existing file), else a
// built-in profile.
func Open(nameOrPath string) (*Profile, error) {
	if strings.ContainsAny(nameOrPath, `/\`) || strings.HasSuffix(nameOrPath, ".yaml") || strings.HasSuffix(nameOrPath, ".yml") {
		return Load(nameOrPath)
	}
	if st, err := os.Stat(nameOrPath); err == nil && st.Mode().IsRegular() {
		return Load(nameOrPath)
	}
	return Builtin(nameOrPath)
}

// Load reads and validates the profile file at path; its code tables are
// read from the file's directory.
func Load(file string) (*Profile, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrProfile, err)
	}
	return Parse(file, data, os.DirFS(filepath.Dir(file)))
}

// Profile is a validated mapping profile: which files of an extract hold
// what, and how their columns become claimsbatch's claims, members and fx
// columns. It is read-only once parsed.
type Profile struct {
	Name        string
	Description string
	Source      string // the file it was read from
	SHA256      string // of the YAML's bytes
	Builtin     bool

	data     []byte
	sources  []*source
	tables   []*codeTable
	defaults []Setting // target column = value, in the profile's order
	blocks   [][]*block
	lookups  []*lookup

	benefitMappings []benefitMapping
}

type benefitMapping struct {
	key string
	m   *mapping
}

// Setting is one column value: a profile default or a --set override.
type Setting struct {
	Key   string // a column of claims, members or fx, optionally prefixed "members." etc.
	Value string
}

// YAML returns the profile file's bytes.
func (p *Profile) YAML() []byte { return bytes.Clone(p.data) }

// TableFile is one code table of a profile.
type TableFile struct {
	Name   string // as the profile names it
	File   string // file name, relative to the profile
	SHA256 string
	Data   []byte
}

// Tables returns the code tables the profile uses, in the profile's order.
func (p *Profile) Tables() []TableFile {
	out := make([]TableFile, len(p.tables))
	for i, t := range p.tables {
		out[i] = TableFile{Name: t.name, File: t.file, SHA256: t.sha256, Data: bytes.Clone(t.data)}
	}
	return out
}

// source is a named set of files in --in.
type source struct {
	name        string
	patterns    []string
	optional    bool
	optCols     []string
	oneOf       []string // a file must have at least one of these columns
	note        string   // said after every error about the source's files
	node        *yaml.Node
	usedAsMain  bool
	usedAsTable bool
}

func (s *source) optionalColumn(name string) bool {
	if slices.Contains(s.oneOf, name) {
		return true
	}
	for _, c := range s.optCols {
		if c == name || (strings.Contains(c, "#") && slotPattern(c, name)) {
			return true
		}
	}
	return false
}

// slotPattern reports whether name is pattern with # replaced by a number.
func slotPattern(pattern, name string) bool {
	before, after, _ := strings.Cut(pattern, "#")
	if !strings.HasPrefix(name, before) || !strings.HasSuffix(name, after) || len(name) <= len(before)+len(after) {
		return false
	}
	for _, c := range name[len(before) : len(name)-len(after)] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

type compiler struct {
	p        problems
	tablesFS fs.FS
	prof     *Profile
	sources  map[string]*source
	tables   map[string]*codeTable
	tableUse map[string]bool
	lookups  map[string]*lookup
	mappings int  // compiled so far, against maxMappings
	depth    int  // first_of nesting of the mapping being compiled
	tooBig   bool // the budget's problem was reported
}

var topKeys = []string{"name", "description", "sources", "tables", "defaults", "claims", "members", "fx"}

// Parse validates a profile from its YAML bytes; name is used in messages
// and tables are read from tablesFS. Every problem is reported at once,
// each with its YAML key and line.
func Parse(name string, data []byte, tablesFS fs.FS) (*Profile, error) {
	sum := sha256.Sum256(data)
	prof := &Profile{Source: name, SHA256: hex.EncodeToString(sum[:]), data: bytes.Clone(data), blocks: make([][]*block, len(targets))}
	c := &compiler{tablesFS: tablesFS, prof: prof, sources: map[string]*source{}, tables: map[string]*codeTable{}, tableUse: map[string]bool{}, lookups: map[string]*lookup{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrProfile, name, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, fmt.Errorf("%w: %s: the file is empty", ErrProfile, name)
	}
	top := c.p.fields(doc.Content[0], "", topKeys...)
	byName := map[string]field{}
	for _, f := range top {
		byName[f.name] = f
	}
	if f, ok := byName["name"]; ok {
		var ok bool
		if prof.Name, ok = c.p.scalar(f.val, "name"); ok && strings.TrimSpace(prof.Name) == "" {
			c.p.add(f.val, "name", "is empty")
		}
	} else {
		c.p.add(doc.Content[0], "name", "is missing")
	}
	if f, ok := byName["description"]; ok {
		prof.Description, _ = c.p.scalar(f.val, "description")
	}
	if f, ok := byName["sources"]; ok {
		c.compileSources(f.val)
	} else {
		c.p.add(doc.Content[0], "sources", "is missing (which files of --in to read)")
	}
	if f, ok := byName["tables"]; ok {
		c.compileTables(f.val)
	}
	made := false
	for ti, t := range targets {
		f, ok := byName[t.name]
		if !ok {
			continue
		}
		made = true
		list := resolve(f.val)
		if list == nil || list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
			c.p.add(f.val, t.name, "want a list of blocks (- from: SOURCE ...)")
			continue
		}
		for i, n := range list.Content {
			prof.blocks[ti] = append(prof.blocks[ti], c.compileBlock(n, fmt.Sprintf("%s[%d]", t.name, i), t))
		}
	}
	if !made {
		c.p.add(doc.Content[0], "", "makes nothing: give claims, members or fx")
	}
	if f, ok := byName["defaults"]; ok {
		c.compileDefaults(f.val)
	}
	c.checkCoverage(doc.Content[0])
	for _, s := range prof.sources {
		if !s.usedAsMain && !s.usedAsTable {
			c.p.add(s.node, "sources."+s.name, "is not used (no block reads it and no join looks into it)")
		}
	}
	for _, t := range prof.tables {
		if !c.tableUse[t.name] {
			c.p.add(nil, "tables."+t.name, "is not used by any mapping")
		}
	}
	if err := c.p.err(name); err != nil {
		return nil, err
	}
	for _, sig := range sortedKeys(c.lookups) {
		prof.lookups = append(prof.lookups, c.lookups[sig])
	}
	slices.SortStableFunc(prof.lookups, func(a, b *lookup) int { return a.order - b.order })
	return prof, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

var sourceFields = []string{"files", "optional", "optional_columns", "one_of_columns", "note"}

func (c *compiler) compileSources(n *yaml.Node) {
	for _, f := range c.p.fields(n, "sources") {
		key := "sources." + f.name
		s := &source{name: f.name, node: f.key}
		if !validName(f.name) || strings.ContainsAny(f.name, ".#$") {
			c.p.add(f.key, key, "a source name is one word (letters, digits, _ and -)")
		}
		v := resolve(f.val)
		if v != nil && v.Kind != yaml.MappingNode {
			s.patterns = c.p.strings(v, key)
		} else {
			for _, sf := range c.p.fields(v, key, sourceFields...) {
				k := joinKey(key, sf.name)
				switch sf.name {
				case "files":
					s.patterns = c.p.strings(sf.val, k)
				case "optional":
					s.optional = c.p.boolean(sf.val, k)
				case "optional_columns":
					names, err := expandNames(c.p.strings(sf.val, k))
					if err != nil {
						c.p.add(sf.val, k, "%v", err)
					}
					s.optCols = names
				case "one_of_columns":
					s.oneOf = c.p.strings(sf.val, k)
					if len(s.oneOf) < 2 {
						c.p.add(sf.val, k, "name two or more columns, of which a file must have at least one")
					}
				case "note":
					s.note, _ = c.p.scalar(sf.val, k)
				}
			}
		}
		if len(s.patterns) == 0 {
			c.p.add(f.val, key+".files", "is missing (a file name or glob in --in, e.g. claims.csv or '*Carrier_Claims*')")
		}
		for _, pat := range s.patterns {
			if _, err := path.Match(pat, ""); err != nil || strings.ContainsAny(pat, `/\`) {
				c.p.add(f.val, key+".files", "%q is not a file name or glob of a file in --in", pat)
			}
		}
		c.sources[f.name] = s
		c.prof.sources = append(c.prof.sources, s)
	}
}

func (c *compiler) compileTables(n *yaml.Node) {
	for _, f := range c.p.fields(n, "tables") {
		key := "tables." + f.name
		file, ok := c.p.scalar(f.val, key)
		if !ok {
			continue
		}
		if strings.HasPrefix(file, "/") || strings.Contains(file, "..") || !fs.ValidPath(file) {
			c.p.add(f.val, key, "%q: a table is a CSV file next to the profile (a relative path inside its directory)", file)
			continue
		}
		data, err := fs.ReadFile(c.tablesFS, file)
		if err != nil {
			c.p.add(f.val, key, "cannot read %s next to the profile: %v", file, errors.Unwrap(err))
			continue
		}
		t, probs := parseTable(f.name, file, data)
		for _, pr := range probs {
			c.p.add(f.val, key, "%s: %s", file, pr)
		}
		if t != nil {
			c.tables[f.name] = t
			c.prof.tables = append(c.prof.tables, t)
		}
	}
}

// useTable binds table name's column col (default the first value column)
// and its rows' conditions to scope sc.
func (c *compiler) useTable(name, col string, n *yaml.Node, key string, sc *scope) *tableUse {
	t, ok := c.tables[name]
	if !ok {
		msg := fmt.Sprintf("no table %q under tables", name)
		if s := didYouMean(name, sortedKeys(c.tables)); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		c.p.add(n, key, "%s", msg)
		return nil
	}
	c.tableUse[name] = true
	u := &tableUse{t: t, when: make([]*cond, len(t.rows))}
	if col != "" {
		u.col = t.column(col)
		if u.col < 0 {
			c.p.add(n, key, "table %s has no column %q (its value columns: %s)", name, col, strings.Join(t.header, ", "))
			u.col = 0
		}
	}
	for i, r := range t.rows {
		if r.when == "" {
			continue
		}
		cd, err := parseCond(r.when, sc.resolve)
		if err != nil {
			c.p.add(n, key, "table %s line %d: when %q: %v", name, r.line, r.when, err)
			continue
		}
		u.when[i] = cd
	}
	return u
}

func (c *compiler) compileDefaults(n *yaml.Node) {
	for _, f := range c.p.fields(n, "defaults") {
		key := "defaults." + f.name
		v, ok := c.p.scalar(f.val, key)
		if !ok {
			continue
		}
		if _, err := c.prof.settingTargets(f.name); err != nil {
			c.p.add(f.key, key, "%v", err)
			continue
		}
		c.prof.defaults = append(c.prof.defaults, Setting{Key: f.name, Value: v})
	}
}

// settingTargets returns the targets (and column index in each) that
// setting key applies to: "residence_country", or "members.residence_country"
// when a column name is in two targets.
func (p *Profile) settingTargets(key string) ([]targetCol, error) {
	tname, col, qualified := strings.Cut(key, ".")
	if !qualified {
		col, tname = key, ""
	}
	var out []targetCol
	var known []string
	for ti, t := range targets {
		if len(p.blocks[ti]) == 0 {
			continue
		}
		for _, n := range t.names() {
			known = append(known, n)
		}
		if tname != "" && tname != t.name {
			continue
		}
		if i := t.column(col); i >= 0 {
			out = append(out, targetCol{ti, i})
		}
	}
	if len(out) == 0 {
		msg := fmt.Sprintf("%q is not a column of what the profile makes", key)
		var all []string
		for _, t := range targets {
			all = append(all, t.names()...)
		}
		if s := didYouMean(col, known); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		} else if s := didYouMean(col, all); s != "" {
			for _, t := range targets {
				if t.column(s) >= 0 {
					msg += fmt.Sprintf(" (%s is a %s column, and the profile makes no %s)", s, t.name, t.name)
					break
				}
			}
		}
		return nil, errors.New(msg)
	}
	return out, nil
}

type targetCol struct{ target, col int }

// checkCoverage reports required columns that some block neither maps nor
// gets from a default.
func (c *compiler) checkCoverage(top *yaml.Node) {
	defaulted := map[targetCol]bool{}
	for _, d := range c.prof.defaults {
		tcs, _ := c.prof.settingTargets(d.Key)
		for _, tc := range tcs {
			defaulted[tc] = true
		}
	}
	for ti, t := range targets {
		for _, b := range c.prof.blocks[ti] {
			for ci, col := range t.columns {
				if !col.required || b.cols[ci] != nil || defaulted[targetCol{ti, ci}] || b.computes(col.name) {
					continue
				}
				c.p.add(b.node, b.key+".columns", "required column %s is neither mapped here nor given under defaults", col.name)
			}
		}
	}
}
