package readers

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MissingColumnsError is the error of a file whose header lacks required
// columns: it lists every one of them at once, each with the header name it
// most likely is (a did-you-mean by edit distance), and a hint when the
// header looks separated by another delimiter than the comma. It matches
// ErrMissingColumn with errors.Is.
type MissingColumnsError struct {
	Columns []string          // the required columns not found, in the reader's order
	Suggest map[string]string // column → the header name it may be
	// Delimiter is the character the header seems separated by (';', tab,
	// '|'), 0 when it looks like a comma-separated header.
	Delimiter rune
}

func (e *MissingColumnsError) Error() string {
	var b strings.Builder
	if len(e.Columns) == 1 {
		b.WriteString("missing required column ")
	} else {
		b.WriteString("missing required columns ")
	}
	for i, c := range e.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c)
		if s, ok := e.Suggest[c]; ok {
			fmt.Fprintf(&b, " (did you mean %q?)", s)
		}
	}
	if e.Delimiter != 0 {
		name := string(e.Delimiter)
		if e.Delimiter == '\t' {
			name = "tab"
		}
		fmt.Fprintf(&b, "; the header looks %s-separated, but claimsbatch reads comma-separated CSV: convert the file (e.g. with csvformat -d '%s')",
			quoteDelimiter(name), strings.ReplaceAll(string(e.Delimiter), "\t", `\t`))
	}
	return b.String()
}

func quoteDelimiter(name string) string {
	if name == "tab" {
		return name
	}
	return "'" + name + "'"
}

// Is makes errors.Is(err, ErrMissingColumn) true.
func (e *MissingColumnsError) Is(target error) bool { return target == ErrMissingColumn }

// missingColumns builds the error for the required columns of spec that
// header lacks.
func missingColumns(header []string, spec []column, missing []string) *MissingColumnsError {
	e := &MissingColumnsError{Columns: missing, Suggest: map[string]string{}, Delimiter: otherDelimiter(header)}
	wanted := map[string]bool{}
	for _, c := range spec {
		wanted[c.name] = true
	}
	for _, name := range missing {
		best, bestDistance := "", -1
		for _, h := range header {
			if wanted[h] || h == "" || len(h) > 4*len(name) {
				continue // a column the reader uses is no typo of another
			}
			d := editDistance(strings.ToLower(name), strings.ToLower(h))
			if d <= max(2, utf8.RuneCountInString(name)/3) && (bestDistance < 0 || d < bestDistance) {
				best, bestDistance = h, d
			}
		}
		if bestDistance >= 0 {
			e.Suggest[name] = best
		}
	}
	return e
}

// otherDelimiter returns the delimiter a header seems separated by when it
// is not a comma: one of ';', tab and '|' that occurs at least twice in the
// header's names and more often than there are names (a comma-separated
// header of names with a few ';' in them is not).
func otherDelimiter(header []string) rune {
	var best rune
	bestCount := 0
	for _, d := range []rune{';', '\t', '|'} {
		n := 0
		for _, h := range header {
			n += strings.Count(h, string(d))
		}
		if n >= 2 && n >= len(header) && n > bestCount {
			best, bestCount = d, n
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
