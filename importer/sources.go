package importer

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"claimsbatch/readers"
)

// ErrConfig is wrapped by the errors of an import that cannot start: --in is
// not a directory, a required source has no file, a file lacks a column the
// profile reads, a --set names no column. `claimsbatch import` exits 2.
var ErrConfig = errors.New("importer: configuration error")

// extensions are the file name endings a source's files may have.
var extensions = []string{".csv.gz", ".csv", ".parquet"}

// stem returns name without its .csv, .csv.gz or .parquet ending, and
// whether it had one.
func stem(name string) (string, bool) {
	lower := strings.ToLower(name)
	for _, ext := range extensions {
		if strings.HasSuffix(lower, ext) {
			return name[:len(name)-len(ext)], true
		}
	}
	return name, false
}

// matchFiles returns the files of dir (names, sorted) that pattern matches.
// A pattern with an extension (.csv, .csv.gz, .parquet) matches names as
// they are; one without matches the names' stems, so "claims" matches
// claims.csv, claims.csv.gz and claims.parquet. Only files in those formats
// are considered.
func matchFiles(names []string, pattern string) []string {
	_, hasExt := stem(pattern)
	var out []string
	for _, name := range names {
		st, ok := stem(name)
		if !ok {
			continue
		}
		subject := st
		if hasExt {
			subject = name
		}
		if m, _ := path.Match(pattern, subject); m {
			out = append(out, name)
		}
	}
	return out
}

// inputFile is one file of a source, with its SHA-256.
type inputFile struct {
	name   string // base name
	path   string
	sha256 string
}

// findFiles resolves every source's patterns in dir. A required source with
// no file is an error naming the patterns and the closest file names.
func (p *Profile) findFiles(dir string) (map[*source][]inputFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: --in %s: %w", ErrConfig, dir, err)
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() || e.Type()&os.ModeSymlink != 0 {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	out := map[*source][]inputFile{}
	var problems []string
	for _, s := range p.sources {
		var files []string
		for _, pat := range s.patterns {
			m := matchFiles(names, pat)
			if len(m) > 1 && !strings.ContainsAny(pat, "*?[") {
				problems = append(problems, fmt.Sprintf("source %s: %q matches %s: keep one of them in --in", s.name, pat, strings.Join(m, " and ")))
			}
			for _, f := range m {
				if !slices.Contains(files, f) {
					files = append(files, f)
				}
			}
		}
		slices.Sort(files)
		if len(files) == 0 && !s.optional {
			msg := fmt.Sprintf("source %s: no file in %s matches %s", s.name, dir, strings.Join(quoteAll(s.patterns), " or "))
			if sug := suggestFile(names, s.patterns); sug != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", sug)
			}
			problems = append(problems, msg+s.noteText())
		}
		for _, f := range files {
			out[s] = append(out[s], inputFile{name: f, path: filepath.Join(dir, f)})
		}
	}
	for ti, t := range targets {
		blocks := p.blocks[ti]
		if len(blocks) == 0 {
			continue
		}
		present := false
		var srcs []string
		for _, b := range blocks {
			present = present || len(out[b.src]) > 0
			srcs = append(srcs, b.src.name)
		}
		if !present {
			problems = append(problems, fmt.Sprintf("%s: none of its sources (%s) has a file in %s", t.name, strings.Join(srcs, ", "), dir))
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrConfig, strings.Join(problems, "; "))
	}
	return out, nil
}

// noteText is the source's note, as the end of an error message.
func (s *source) noteText() string {
	if s.note == "" {
		return ""
	}
	return ". " + s.note
}

func quoteAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// suggestFile returns the file name closest to one of the patterns.
func suggestFile(names, patterns []string) string {
	var stems []string
	for _, n := range names {
		if st, ok := stem(n); ok {
			stems = append(stems, st)
		}
	}
	for _, pat := range patterns {
		st, _ := stem(pat)
		if s := didYouMean(st, stems); s != "" {
			for _, n := range names {
				if ns, _ := stem(n); ns == s {
					return n
				}
			}
		}
	}
	return ""
}

// hashFile returns the hex SHA-256 of a file's bytes.
func hashFile(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", fmt.Errorf("%w: %w", readers.ErrOpen, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", file, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// openFile opens file and finds the scope's columns in it: a name with #
// once per slot. It returns the reader and, per scope column, per slot
// index, the index in the reader's records (-1 for an absent optional
// column). A column is found by its exact name, else by the one name that
// differs only in case. A column the file lacks, unless the source lists it
// under optional_columns, is an ErrConfig error naming the file, every
// missing column and the closest names the file has.
func openFile(f inputFile, src *source, sc *scope, slots []int, opt readers.Options) (*readers.RowReader, [][]int, error) {
	var names []string
	pos := make([][]int, len(sc.columns))
	for i, col := range sc.columns {
		if !strings.Contains(col, "#") {
			pos[i] = []int{len(names)}
			names = append(names, col)
			continue
		}
		pos[i] = make([]int, len(slots))
		for si, slot := range slots {
			pos[i][si] = len(names)
			names = append(names, strings.Replace(col, "#", fmt.Sprint(slot), 1))
		}
	}
	open := func() (*readers.RowReader, error) {
		cols := make([]readers.TableColumn, len(names))
		for i, n := range names {
			cols[i] = readers.TableColumn{Name: n, Optional: true}
		}
		return readers.OpenRows(f.path, cols, opt)
	}
	r, err := open()
	if err != nil {
		return nil, nil, err
	}
	header := r.Header()
	renamed := false
	var missing []string
	for i, n := range names {
		if r.Present(i) {
			continue
		}
		var folded []string
		for _, h := range header {
			if strings.EqualFold(h, n) {
				folded = append(folded, h)
			}
		}
		if len(folded) == 1 {
			names[i], renamed = folded[0], true
			continue
		}
		if src.optionalColumn(n) {
			continue
		}
		msg := n
		if s := didYouMean(n, header); s != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", s)
		}
		missing = append(missing, msg)
	}
	if len(missing) > 0 {
		r.Close()
		return nil, nil, fmt.Errorf("%w: %s (source %s) has no column %s; the profile reads it (list it under sources.%s.optional_columns if the file may lack it; a constant is written {value: TEXT})%s",
			ErrConfig, f.name, src.name, strings.Join(missing, ", no column "), src.name, src.noteText())
	}
	if len(src.oneOf) > 0 && !slices.ContainsFunc(src.oneOf, func(col string) bool {
		return slices.ContainsFunc(header, func(h string) bool { return strings.EqualFold(h, col) })
	}) {
		r.Close()
		msg := fmt.Sprintf("%s (source %s) has none of the columns %s: the profile needs one of them", f.name, src.name, strings.Join(src.oneOf, ", "))
		var near []string
		for _, col := range src.oneOf {
			if s := didYouMean(col, header); s != "" && !slices.Contains(near, s) {
				near = append(near, s)
			}
		}
		if len(near) > 0 {
			msg += fmt.Sprintf(" (the file has %s)", strings.Join(near, ", "))
		}
		return nil, nil, fmt.Errorf("%w: %s%s", ErrConfig, msg, src.noteText())
	}
	if renamed {
		r.Close()
		if r, err = open(); err != nil {
			return nil, nil, err
		}
	}
	for i := range names {
		if !r.Present(i) {
			for _, p := range pos {
				for si := range p {
					if p[si] == i {
						p[si] = -1
					}
				}
			}
		}
	}
	return r, pos, nil
}
