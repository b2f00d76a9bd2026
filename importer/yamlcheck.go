package importer

import (
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// problems collects every problem of a profile, each with its YAML key and
// line, so that one `claimsbatch import` reports them all at once (as `plan
// --check` does for a plan).
type problems struct {
	list []problem
}

type problem struct {
	line int
	key  string
	msg  string
}

func (p *problems) add(n *yaml.Node, key, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.list = append(p.list, problem{line: line, key: key, msg: fmt.Sprintf(format, args...)})
}

// err returns nil or one error listing every problem, ordered by line.
func (p *problems) err(file string) error {
	if len(p.list) == 0 {
		return nil
	}
	sort.SliceStable(p.list, func(i, j int) bool { return p.list[i].line < p.list[j].line })
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d problem", file, len(p.list))
	if len(p.list) > 1 {
		b.WriteString("s")
	}
	for _, pr := range p.list {
		b.WriteString("\n  ")
		if pr.line > 0 {
			fmt.Fprintf(&b, "line %d: ", pr.line)
		}
		if pr.key != "" {
			b.WriteString(pr.key + ": ")
		}
		b.WriteString(pr.msg)
	}
	return fmt.Errorf("%w: %s", ErrProfile, b.String())
}

// field is one key of a YAML mapping, in file order.
type field struct {
	name string
	key  *yaml.Node
	val  *yaml.Node
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// fields returns the keys of mapping n in file order. With allowed given, a
// key not in it is a problem (with a did-you-mean); a key given twice always
// is. A node that is not a mapping is a problem and gives no fields.
func (p *problems) fields(n *yaml.Node, key string, allowed ...string) []field {
	n = resolve(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.add(n, key, "want a mapping (key: value lines), got %s", describe(n))
		return nil
	}
	var out []field
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		name := k.Value
		sub := joinKey(key, name)
		if k.Kind != yaml.ScalarNode {
			p.add(k, key, "a key must be a plain name")
			continue
		}
		if seen[name] {
			p.add(k, sub, "is given twice")
			continue
		}
		seen[name] = true
		if allowed != nil && !contains(allowed, name) {
			msg := fmt.Sprintf("unknown key %q", name)
			if s := didYouMean(name, allowed); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			} else {
				msg += " (known keys: " + strings.Join(allowed, ", ") + ")"
			}
			p.add(k, key, "%s", msg)
			continue
		}
		out = append(out, field{name: name, key: k, val: v})
	}
	return out
}

func joinKey(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// scalar returns the text of scalar node n, or a problem.
func (p *problems) scalar(n *yaml.Node, key string) (string, bool) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		p.add(n, key, "want a single value, got %s", describe(n))
		return "", false
	}
	if n.Tag == "!!null" {
		p.add(n, key, "is empty")
		return "", false
	}
	return n.Value, true
}

// strings returns a scalar as one string or a sequence of scalars.
func (p *problems) strings(n *yaml.Node, key string) []string {
	n = resolve(n)
	if n != nil && n.Kind == yaml.SequenceNode {
		out := make([]string, 0, len(n.Content))
		for i, c := range n.Content {
			if s, ok := p.scalar(c, fmt.Sprintf("%s[%d]", key, i)); ok {
				out = append(out, s)
			}
		}
		if len(out) == 0 && len(n.Content) == 0 {
			p.add(n, key, "is an empty list")
		}
		return out
	}
	if s, ok := p.scalar(n, key); ok {
		return []string{s}
	}
	return nil
}

func (p *problems) boolean(n *yaml.Node, key string) bool {
	s, ok := p.scalar(n, key)
	if !ok {
		return false
	}
	switch strings.ToLower(s) {
	case "true", "yes", "y":
		return true
	case "false", "no", "n":
		return false
	}
	p.add(n, key, "want true or false, got %q", s)
	return false
}

func describe(n *yaml.Node) string {
	n = resolve(n)
	switch {
	case n == nil:
		return "nothing"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Tag == "!!null":
		return "an empty value"
	}
	return fmt.Sprintf("%q", n.Value)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// didYouMean returns the candidate closest to s (same letters ignoring case,
// or at most a third of its letters different), or "".
func didYouMean(s string, candidates []string) string {
	limit := max(2, len(s)/3) // distances up to this are offered
	best, bestDist := "", limit+1
	for _, c := range candidates {
		if strings.EqualFold(c, s) {
			return c
		}
		ls, lc := strings.ToLower(s), strings.ToLower(c)
		d := editDistance(ls, lc)
		if abbreviates(ls, lc) || abbreviates(lc, ls) {
			d = min(d, 1) // AMT for AMOUNT, MEM for MEMBER
		}
		if d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// abbreviates reports whether short is long with letters left out: the
// same first letter, and the rest of short in long in order.
func abbreviates(short, long string) bool {
	if len(short) < 2 || len(short) >= len(long) || short[0] != long[0] {
		return false
	}
	i := 1
	for j := 1; j < len(long) && i < len(short); j++ {
		if long[j] == short[i] {
			i++
		}
	}
	return i == len(short)
}

// editDistance is the Levenshtein distance of a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
