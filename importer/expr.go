package importer

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/shopspring/decimal"
)

// This file holds the profile's small expression language: references to
// values of the row being mapped, templates ("{CLAIMID}-{$slot}") and
// conditions ("TYPE == CHARGE and AMOUNT > 0").

// refKind says where a referenced value comes from.
type refKind uint8

const (
	refColumn refKind = iota // a column of the source file (its name may hold # = the slot number)
	refJoin                  // a column of the row a join found
	refLet                   // a named intermediate value of the block
	refFile                  // $file: the source file's name
	refRow                   // $row: the source row's number, from 1
	refSlot                  // $slot: the slot number of an unpivoted row
)

// ref is a resolved reference to a value of the row being mapped.
type ref struct {
	kind refKind
	id   int // column id in the scope, join index or let index
	col  int // for refJoin: the column's index in the join's lookup
	name string
}

// resolver turns a name as written into a ref, or says why it cannot.
type resolver func(name string) (ref, error)

// template is text with {NAME} references; "{{" and "}}" stand for braces.
type template struct {
	parts []tpart
}

type tpart struct {
	lit   string
	ref   ref
	isRef bool
}

func parseTemplate(s string, resolve resolver) (template, error) {
	var t template
	var lit strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '{' && i+1 < len(s) && s[i+1] == '{':
			lit.WriteByte('{')
			i++
		case c == '}' && i+1 < len(s) && s[i+1] == '}':
			lit.WriteByte('}')
			i++
		case c == '{':
			end := strings.IndexByte(s[i+1:], '}')
			if end < 0 {
				return t, fmt.Errorf("template %q: a { is never closed (write {{ for a brace)", s)
			}
			name := strings.TrimSpace(s[i+1 : i+1+end])
			r, err := resolve(name)
			if err != nil {
				return t, err
			}
			if lit.Len() > 0 {
				t.parts = append(t.parts, tpart{lit: lit.String()})
				lit.Reset()
			}
			t.parts = append(t.parts, tpart{ref: r, isRef: true})
			i += end + 1
		case c == '}':
			return t, fmt.Errorf("template %q: a } without { (write }} for a brace)", s)
		default:
			lit.WriteByte(c)
		}
	}
	if lit.Len() > 0 || len(t.parts) == 0 {
		t.parts = append(t.parts, tpart{lit: lit.String()})
	}
	return t, nil
}

func (t *template) eval(c *rowCtx) (string, error) {
	if len(t.parts) == 1 {
		p := &t.parts[0]
		if !p.isRef {
			return p.lit, nil
		}
		return c.value(p.ref)
	}
	var b strings.Builder
	for i := range t.parts {
		p := &t.parts[i]
		if !p.isRef {
			b.WriteString(p.lit)
			continue
		}
		v, err := c.value(p.ref)
		if err != nil {
			return "", err
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

// refs returns the references of the template.
func (t *template) refs() []ref {
	var out []ref
	for _, p := range t.parts {
		if p.isRef {
			out = append(out, p.ref)
		}
	}
	return out
}

// condOp is the kind of a condition node.
type condOp uint8

const (
	condAnd condOp = iota
	condOr
	condNot
	condCompare // left op right
	condIn      // left in [list]
	condEmpty   // left is empty
)

// cond is a parsed condition. The left side of a comparison is always a
// reference; the right side a template (a bare word, a quoted text, or text
// with {NAME} references).
type cond struct {
	op    condOp
	kids  []*cond
	left  ref
	cmp   string // ==, !=, <, <=, >, >=
	right []template
	text  string // the condition as written, for messages
}

func (c *cond) eval(ctx *rowCtx) (bool, error) {
	switch c.op {
	case condAnd:
		for _, k := range c.kids {
			ok, err := k.eval(ctx)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case condOr:
		for _, k := range c.kids {
			ok, err := k.eval(ctx)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case condNot:
		ok, err := c.kids[0].eval(ctx)
		return !ok, err
	}
	left, err := ctx.value(c.left)
	if err != nil {
		return false, err
	}
	switch c.op {
	case condEmpty:
		return left == "", nil
	case condIn:
		for i := range c.right {
			r, err := c.right[i].eval(ctx)
			if err != nil {
				return false, err
			}
			if left == r {
				return true, nil
			}
		}
		return false, nil
	}
	right, err := c.right[0].eval(ctx)
	if err != nil {
		return false, err
	}
	return compare(left, c.cmp, right), nil
}

// compare applies op: == and != compare text; <, <=, >, >= compare numbers
// when both sides are numbers, else text when both are non-empty, else they
// are false.
func compare(left, op, right string) bool {
	switch op {
	case "==":
		return left == right
	case "!=":
		return left != right
	}
	if left == "" || right == "" {
		return false
	}
	var c int
	l, lerr := decimal.NewFromString(left)
	r, rerr := decimal.NewFromString(right)
	if lerr == nil && rerr == nil {
		c = l.Cmp(r)
	} else {
		c = strings.Compare(left, right)
	}
	switch op {
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	}
	return false
}

// refs returns every reference the condition reads.
func (c *cond) refs() []ref {
	var out []ref
	var walk func(*cond)
	walk = func(c *cond) {
		for _, k := range c.kids {
			walk(k)
		}
		if c.op >= condCompare {
			out = append(out, c.left)
			for i := range c.right {
				out = append(out, c.right[i].refs()...)
			}
		}
	}
	walk(c)
	return out
}

// The condition grammar:
//
//	cond    = and { "or" and }
//	and     = unary { "and" unary }
//	unary   = "not" unary | "(" cond ")" | compare
//	compare = NAME ( "==" | "!=" | "<" | "<=" | ">" | ">=" ) value
//	        | NAME [ "not" ] "in" "[" value { "," value } "]"
//	        | NAME "is" [ "not" ] "empty"
//	value   = WORD | 'quoted text' | "quoted text"     (both may hold {NAME})

type tokKind uint8

const (
	tokEOF tokKind = iota
	tokWord
	tokString
	tokOp
	tokLParen
	tokRParen
	tokLBrack
	tokRBrack
	tokComma
)

type token struct {
	kind tokKind
	text string
	pos  int
}

var errCondSyntax = errors.New("condition syntax")

func lexCond(s string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, token{tokLParen, "(", i})
			i++
		case c == ')':
			toks = append(toks, token{tokRParen, ")", i})
			i++
		case c == '[':
			toks = append(toks, token{tokLBrack, "[", i})
			i++
		case c == ']':
			toks = append(toks, token{tokRBrack, "]", i})
			i++
		case c == ',':
			toks = append(toks, token{tokComma, ",", i})
			i++
		case c == '\'' || c == '"':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(s) {
					return nil, fmt.Errorf("%w: the quote at character %d is never closed", errCondSyntax, i+1)
				}
				if s[j] == c {
					if j+1 < len(s) && s[j+1] == c { // a doubled quote is one quote
						b.WriteByte(c)
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			toks = append(toks, token{tokString, b.String(), i})
			i = j + 1
		case c == '=' || c == '!' || c == '<' || c == '>':
			op := string(c)
			if i+1 < len(s) && s[i+1] == '=' {
				op += "="
			}
			if op == "=" || op == "!" {
				return nil, fmt.Errorf("%w: %q at character %d (compare with == or !=)", errCondSyntax, op, i+1)
			}
			toks = append(toks, token{tokOp, op, i})
			i += len(op)
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n()[],'\"=!<>", rune(s[j])) {
				j++
			}
			toks = append(toks, token{tokWord, s[i:j], i})
			i = j
		}
	}
	return append(toks, token{tokEOF, "", len(s)}), nil
}

type condParser struct {
	toks    []token
	i       int
	resolve resolver
	text    string
}

// parseCond parses a condition, resolving its names with resolve.
func parseCond(s string, resolve resolver) (*cond, error) {
	toks, err := lexCond(s)
	if err != nil {
		return nil, err
	}
	p := &condParser{toks: toks, resolve: resolve, text: s}
	if p.peek().kind == tokEOF {
		return nil, fmt.Errorf("%w: the condition is empty", errCondSyntax)
	}
	c, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, fmt.Errorf("%w: unexpected %q at character %d (join conditions with and / or)", errCondSyntax, t.text, t.pos+1)
	}
	c.text = s
	return c, nil
}

func (p *condParser) peek() token { return p.toks[p.i] }
func (p *condParser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *condParser) keyword(word string) bool {
	t := p.peek()
	if t.kind == tokWord && t.text == word {
		p.i++
		return true
	}
	return false
}

func (p *condParser) or() (*cond, error) {
	c, err := p.and()
	if err != nil {
		return nil, err
	}
	if p.peek().text != "or" || p.peek().kind != tokWord {
		return c, nil
	}
	out := &cond{op: condOr, kids: []*cond{c}}
	for p.keyword("or") {
		k, err := p.and()
		if err != nil {
			return nil, err
		}
		out.kids = append(out.kids, k)
	}
	return out, nil
}

func (p *condParser) and() (*cond, error) {
	c, err := p.unary()
	if err != nil {
		return nil, err
	}
	if p.peek().text != "and" || p.peek().kind != tokWord {
		return c, nil
	}
	out := &cond{op: condAnd, kids: []*cond{c}}
	for p.keyword("and") {
		k, err := p.unary()
		if err != nil {
			return nil, err
		}
		out.kids = append(out.kids, k)
	}
	return out, nil
}

func (p *condParser) unary() (*cond, error) {
	if p.keyword("not") {
		k, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &cond{op: condNot, kids: []*cond{k}}, nil
	}
	if p.peek().kind == tokLParen {
		p.next()
		c, err := p.or()
		if err != nil {
			return nil, err
		}
		if t := p.next(); t.kind != tokRParen {
			return nil, p.unexpected(t, "a closing )")
		}
		return c, nil
	}
	return p.compare()
}

func (p *condParser) unexpected(t token, want string) error {
	if t.kind == tokEOF {
		return fmt.Errorf("%w: the condition ends where %s should follow", errCondSyntax, want)
	}
	return fmt.Errorf("%w: %q at character %d, want %s", errCondSyntax, t.text, t.pos+1, want)
}

func (p *condParser) compare() (*cond, error) {
	t := p.next()
	if t.kind != tokWord || isKeyword(t.text) || strings.ContainsAny(t.text, "{}") {
		return nil, p.unexpected(t, "a column or value name")
	}
	left, err := p.resolve(t.text)
	if err != nil {
		return nil, err
	}
	c := &cond{left: left}
	switch {
	case p.peek().kind == tokOp:
		c.op, c.cmp = condCompare, p.next().text
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		c.right = []template{v}
		return c, nil
	case p.keyword("is"):
		negate := p.keyword("not")
		if !p.keyword("empty") {
			return nil, p.unexpected(p.peek(), `"empty" (NAME is empty, NAME is not empty)`)
		}
		c.op = condEmpty
		if negate {
			return &cond{op: condNot, kids: []*cond{c}}, nil
		}
		return c, nil
	case p.peek().kind == tokWord && (p.peek().text == "in" || p.peek().text == "not"):
		negate := p.keyword("not")
		if !p.keyword("in") {
			return nil, p.unexpected(p.peek(), `"in"`)
		}
		if t := p.next(); t.kind != tokLBrack {
			return nil, p.unexpected(t, "a list in [ ]")
		}
		c.op = condIn
		for {
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			c.right = append(c.right, v)
			t := p.next()
			if t.kind == tokRBrack {
				break
			}
			if t.kind != tokComma {
				return nil, p.unexpected(t, "a comma or ]")
			}
		}
		if negate {
			return &cond{op: condNot, kids: []*cond{c}}, nil
		}
		return c, nil
	}
	return nil, p.unexpected(p.peek(), "==, !=, <, <=, >, >=, in, not in, is empty or is not empty")
}

func (p *condParser) value() (template, error) {
	t := p.next()
	if t.kind != tokWord && t.kind != tokString {
		return template{}, p.unexpected(t, "a value")
	}
	return parseTemplate(t.text, p.resolve)
}

func isKeyword(s string) bool {
	switch s {
	case "and", "or", "not", "in", "is", "empty":
		return true
	}
	return false
}

// validName reports whether s can name a column, a join or a let.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if unicode.IsSpace(r) || strings.ContainsRune("{}()[],'\"=!<>", r) {
			return false
		}
	}
	return true
}
