package plan

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Problem is one thing wrong with a plan file: its line (0 when it has
// none), the key it concerns in the validator's notation
// ("benefits[4] (KIDNEY_DIALYSIS).limit.USD"; empty for a problem of the
// YAML itself) and what is wrong.
type Problem struct {
	Line    int
	Key     string
	Message string
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Key != "" {
		b.WriteString(p.Key + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// ValidationError lists every problem of a plan file, in line order. It
// matches ErrInvalid with errors.Is.
type ValidationError struct {
	File     string
	Problems []Problem
}

// Error lists the problems one a line, under the file's name.
func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s:", ErrInvalid, e.File)
	if len(e.Problems) == 1 {
		return b.String() + " " + e.Problems[0].String()
	}
	for _, p := range e.Problems {
		b.WriteString("\n  " + p.String())
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

var (
	// yaml.v3's type errors: "line N: cannot unmarshal !!str `abc` into int32"
	// and "line N: field dayz not found in type plan.fileBenefit".
	cannotUnmarshal = regexp.MustCompile("^line ([0-9]+): cannot unmarshal (!!\\w+)(?: `(.*)`)? into (.+)$")
	unknownField    = regexp.MustCompile(`^line ([0-9]+): field (.+) not found in type .+$`)
	syntaxLine      = regexp.MustCompile(`^yaml: line ([0-9]+): (.+)$`)
)

// typeProblem turns one of yaml.v3's type errors into a problem worded for
// the plan file: what was expected there, never a Go type.
func (v *validator) typeProblem(msg string) {
	if m := unknownField.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		v.problems = append(v.problems, Problem{Line: line, Message: fmt.Sprintf("unknown key %q (a typo? 'claimsbatch plan' prints every key)", m[2])})
		return
	}
	if m := cannotUnmarshal.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		found := tagWords[m[2]]
		if found == "" {
			found = "a value"
		}
		if m[3] != "" {
			found = fmt.Sprintf("%q", fullValue(v.root, line, m[3]))
		}
		v.problems = append(v.problems, Problem{Line: line, Message: fmt.Sprintf("expected %s, found %s", goTypeWords(m[4]), found)})
		return
	}
	// Our own amounts' and percentages' messages: "line N: ...".
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, text, ok := strings.Cut(rest, ": "); ok {
			if line, err := strconv.Atoi(num); err == nil {
				v.problems = append(v.problems, Problem{Line: line, Message: text})
				return
			}
		}
	}
	v.problems = append(v.problems, Problem{Message: msg})
}

// syntaxProblem is the problem of a file that does not parse as YAML.
func syntaxProblem(err error) Problem {
	if m := syntaxLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return Problem{Line: line, Message: "not valid YAML: " + m[2]}
	}
	return Problem{Message: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
}

var tagWords = map[string]string{
	"!!str": "text", "!!int": "a whole number", "!!float": "a number", "!!bool": "true or false",
	"!!seq": "a list", "!!map": "a mapping (key: value lines)", "!!null": "nothing",
}

// goTypeWords says what a field of the plan's Go types holds.
func goTypeWords(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map["), strings.HasPrefix(goType, "plan.file"), strings.HasPrefix(goType, "struct"):
		return "a mapping (key: value lines)"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "a whole number"
	case goType == "string":
		return "text"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	}
	return "another kind of value"
}

// nodeKind names a YAML node's kind for a message.
func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	return "a value"
}

// keyPart matches one step of a validator key: a name, or an index with
// an optional "(CODE)" note: "benefits[4] (KIDNEY_DIALYSIS)", "USD[2]".
var (
	keyPart = regexp.MustCompile(`^([^.\[]*)((?:\[[0-9]+\])*)(?: \([^)]*\))?$`)
	digits  = regexp.MustCompile(`[0-9]+`)
)

// lineOf returns the line of the YAML node a validator key names, or of
// its nearest ancestor that exists (a missing key is reported where it
// belongs); 0 without a document.
func lineOf(root *yaml.Node, key string) int {
	if root == nil || len(root.Content) == 0 {
		return 0
	}
	node := root.Content[0]
	line := node.Line
	for _, part := range splitKey(key) {
		m := keyPart.FindStringSubmatch(part)
		if m == nil {
			return line
		}
		if m[1] != "" {
			if node.Kind != yaml.MappingNode {
				return line
			}
			found := false
			for i := 0; i+1 < len(node.Content); i += 2 {
				if node.Content[i].Value == m[1] {
					line, node, found = node.Content[i].Line, node.Content[i+1], true
					break
				}
			}
			if !found {
				return line
			}
		}
		for _, idx := range digits.FindAllString(m[2], -1) {
			i, _ := strconv.Atoi(idx)
			if node.Kind != yaml.SequenceNode || i >= len(node.Content) {
				return line
			}
			node = node.Content[i]
			line = node.Line
		}
	}
	return line
}

// splitKey splits a validator key at the dots that are not inside a
// "(CODE)" note.
func splitKey(key string) []string {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(key); i++ {
		switch key[i] {
		case '(':
			depth++
		case ')':
			depth--
		case '.':
			if depth == 0 {
				parts = append(parts, key[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, key[start:])
}

// fullValue returns the value of the scalar on line whose text yaml.v3
// shortened to shown in its message ("three w..."), or shown itself.
func fullValue(root *yaml.Node, line int, shown string) string {
	prefix, cut := strings.CutSuffix(shown, "...")
	if !cut {
		return shown
	}
	var find func(n *yaml.Node) string
	find = func(n *yaml.Node) string {
		if n.Kind == yaml.ScalarNode && n.Line == line && strings.HasPrefix(n.Value, prefix) {
			return n.Value
		}
		for _, c := range n.Content {
			if v := find(c); v != "" {
				return v
			}
		}
		return ""
	}
	if v := find(root); v != "" {
		return v
	}
	return shown
}
