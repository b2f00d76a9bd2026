package importer

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

// codeTable maps codes to values: a CSV file next to the profile (or built
// in), read once, held in memory.
//
// The first column holds the key of each row:
//
//   - an exact code, such as 99213 or inpatient;
//   - a range LOW..HIGH of codes as long as LOW and HIGH (both the same
//     length), compared character by character: 99201..99499, A0021..A0999;
//   - a prefix ending in *: J*, 0*.
//
// Keys are compared without regard to case. An optional column named "when"
// holds a condition (the profile's condition language, over the values of
// the row being mapped, e.g. "age < 18"): the row applies only when it holds.
// The other columns are values; a mapping picks one with `column` (default:
// the first value column). Lines starting with # are comments.
//
// A lookup tries the rows with an exact key first, in file order, then the
// ranges and prefixes in file order; the first row whose key matches and
// whose condition holds gives the value.
type codeTable struct {
	name   string
	file   string
	sha256 string
	data   []byte
	header []string // value columns, in file order (without the key and when)
	rows   []tableRow
	exact  map[string][]int // upper-case key → rows, in file order
	ranges []int            // rows with a range or prefix key, in file order
}

type tableRow struct {
	line   int
	key    string
	lo, hi string // a range, upper case
	prefix string // a prefix, upper case
	when   string // condition text, "" = always
	values []string
}

func (r *tableRow) matches(code string) bool {
	if r.prefix != "" {
		return strings.HasPrefix(code, r.prefix)
	}
	return len(code) == len(r.lo) && code >= r.lo && code <= r.hi
}

// parseTable reads a code table. Every problem comes back, each with its line.
func parseTable(name, file string, data []byte) (*codeTable, []string) {
	sum := sha256.Sum256(data)
	t := &codeTable{name: name, file: file, sha256: hex.EncodeToString(sum[:]), data: data, exact: map[string][]int{}}
	var probs []string
	r := csv.NewReader(bytes.NewReader(data))
	r.Comment = '#'
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, []string{"the file is empty (it needs a header row: code, value columns, optionally when)"}
		}
		return nil, []string{err.Error()}
	}
	whenCol := -1
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF"))
		switch {
		case i == 0:
		case h == "when":
			whenCol = i
		case h == "":
			probs = append(probs, fmt.Sprintf("header: column %d has no name", i+1))
		default:
			if contains(t.header, h) {
				probs = append(probs, fmt.Sprintf("header: column %s appears twice", h))
			}
			t.header = append(t.header, h)
		}
	}
	if len(t.header) == 0 {
		probs = append(probs, "header: no value column (want: code, then one or more value columns)")
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			probs = append(probs, err.Error())
			if _, ok := err.(*csv.ParseError); ok {
				continue
			}
			break
		}
		line, _ := r.FieldPos(0)
		if len(rec) != len(header) {
			probs = append(probs, fmt.Sprintf("line %d: %d fields, the header has %d", line, len(rec), len(header)))
			continue
		}
		row := tableRow{line: line, key: strings.TrimSpace(rec[0])}
		for i, v := range rec {
			v = strings.TrimSpace(v)
			switch {
			case i == 0:
			case i == whenCol:
				row.when = v
			default:
				row.values = append(row.values, v)
			}
		}
		key := strings.ToUpper(row.key)
		idx := len(t.rows)
		switch {
		case key == "":
			probs = append(probs, fmt.Sprintf("line %d: the code is empty", line))
			continue
		case strings.HasSuffix(key, "*"):
			row.prefix = strings.TrimSuffix(key, "*")
			if row.prefix == "" || strings.Contains(row.prefix, "*") {
				probs = append(probs, fmt.Sprintf("line %d: %q: a prefix is text followed by one * (e.g. J*)", line, row.key))
				continue
			}
			t.ranges = append(t.ranges, idx)
		case strings.Contains(key, ".."):
			lo, hi, _ := strings.Cut(key, "..")
			if lo == "" || hi == "" || len(lo) != len(hi) || lo > hi || strings.Contains(hi, "..") {
				probs = append(probs, fmt.Sprintf("line %d: %q: a range is LOW..HIGH with LOW <= HIGH, both the same length (e.g. 99201..99499)", line, row.key))
				continue
			}
			row.lo, row.hi = lo, hi
			t.ranges = append(t.ranges, idx)
		default:
			t.exact[key] = append(t.exact[key], idx)
		}
		t.rows = append(t.rows, row)
	}
	return t, probs
}

// column returns the index of value column name, or -1.
func (t *codeTable) column(name string) int {
	for i, h := range t.header {
		if h == name {
			return i
		}
	}
	return -1
}

// tableUse is a table as one mapping uses it: the value column picked and
// each row's condition bound to the mapping's block.
type tableUse struct {
	t    *codeTable
	col  int
	when []*cond // per row, nil = always
}

// lookup returns the value for code; found is false when no row applies.
func (u *tableUse) lookup(code string, ctx *rowCtx) (value string, found bool, err error) {
	code = strings.ToUpper(code)
	try := func(i int) (bool, error) {
		if u.when[i] == nil {
			return true, nil
		}
		return u.when[i].eval(ctx)
	}
	for _, i := range u.t.exact[code] {
		ok, err := try(i)
		if err != nil {
			return "", false, err
		}
		if ok {
			return u.t.rows[i].values[u.col], true, nil
		}
	}
	for _, i := range u.t.ranges {
		if !u.t.rows[i].matches(code) {
			continue
		}
		ok, err := try(i)
		if err != nil {
			return "", false, err
		}
		if ok {
			return u.t.rows[i].values[u.col], true, nil
		}
	}
	return "", false, nil
}
