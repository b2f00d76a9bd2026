package pipeline

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"claimsbatch/claim"
	"claimsbatch/writers"
)

// The run's guard rails: checks that stop a run whose inputs cannot be what
// the user meant (a members file with no valid member, a state that is not
// the published one, an extract that is mostly exceptions), before it
// publishes anything.

// inside reports whether path is dir or lies below it, symlinks resolved as
// far as they exist.
func inside(path, dir string) bool {
	resolve := func(p string) string {
		abs, err := filepath.Abs(p)
		if err != nil {
			return p
		}
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			return real
		}
		// dir may not exist yet: resolve its parent.
		if real, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
			return filepath.Join(real, filepath.Base(abs))
		}
		return abs
	}
	p, d := resolve(path), resolve(dir)
	return p == d || strings.HasPrefix(p, d+string(filepath.Separator))
}

// checkMembers refuses a members file without one valid member: every claim
// line would be an exception (UNKNOWN_MEMBER or INVALID_MEMBER), which is a
// wrong file, not a night of bad claims. It runs twice: as soon as the file
// is read (no row gave a span) and once the members' spans are checked
// against each other (every member invalid).
func (r *run) checkMembers(m *loadedMembers, valid bool) error {
	if valid {
		return nil
	}
	rows := m.input.Rows
	if rows == 0 {
		return fmt.Errorf("%w: members file %s holds no member row (a header only?): every claim line would be an exception", ErrConfig, r.cfg.Members)
	}
	return fmt.Errorf("%w: members file %s holds no valid member (%d rows; its exceptions: %s): every claim line would be an exception",
		ErrConfig, r.cfg.Members, rows, topCodes(m.codes, 3))
}

// checkExceptionShare logs a warning when more than half of the lines read
// are exceptions, and fails the run when they are more than
// Config.MaxExceptionShare of them.
func (r *run) checkExceptionShare() error {
	read, ex := r.totals.LinesRead, r.totals.Exceptions
	if read == 0 {
		return nil
	}
	share := float64(ex) / float64(read)
	top := topCodes(r.totals.ExceptionsByCode, 3)
	if 2*ex > read {
		r.log.Warn("more than half of the lines read are exceptions", "lines_read", read, "exceptions", ex,
			"share", strconv.FormatFloat(share, 'f', 3, 64), "top_codes", top)
	}
	if max := r.cfg.MaxExceptionShare; max > 0 && share > max {
		return fmt.Errorf("%w: %d of the %d lines read are exceptions, a share of %s, over the maximum of %s (--max-exception-share); most are %s; nothing was published",
			ErrExceptionShare, ex, read, strconv.FormatFloat(share, 'f', 3, 64), strconv.FormatFloat(max, 'f', -1, 64), top)
	}
	return nil
}

// topCodes lists the most frequent codes, most first (ties by code), with
// their counts: "INVALID_VALUE 40, UNKNOWN_MEMBER 12".
func topCodes(counts map[claim.ExceptionCode]int64, most int) string {
	codes := make([]claim.ExceptionCode, 0, len(counts))
	for c := range counts {
		codes = append(codes, c)
	}
	slices.SortFunc(codes, func(a, b claim.ExceptionCode) int {
		if counts[a] != counts[b] {
			if counts[a] > counts[b] {
				return -1
			}
			return 1
		}
		return strings.Compare(string(a), string(b))
	})
	var b strings.Builder
	for i, c := range codes {
		if i == most {
			fmt.Fprintf(&b, " and %d other codes", len(codes)-most)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", c, counts[c])
	}
	if len(codes) == 0 {
		return "none"
	}
	return b.String()
}

// checkStateInRun checks a --state-in that sits in a published run folder
// (a manifest.json beside it) against that run's manifest: it must be one
// of the run's outputs, with the SHA-256 the manifest records (sum is the
// file's). A state elsewhere is checked by its trailer only.
func (r *run) checkStateInRun(sum string) error {
	path := r.cfg.StateIn
	dir := filepath.Dir(path)
	f, err := os.Open(filepath.Join(dir, writers.ManifestName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w: state file %s: the manifest beside it: %w", ErrConfig, path, err)
	}
	man, err := writers.ReadManifest(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%w: state file %s: the manifest beside it does not read: %w", ErrConfig, path, err)
	}
	name := filepath.Base(path)
	i := slices.IndexFunc(man.Outputs, func(o writers.Output) bool { return o.Name == name })
	if i < 0 {
		return fmt.Errorf("%w: state file %s is not an output of the run published in %s (its %s lists no %s)", ErrConfig, path, dir, writers.ManifestName, name)
	}
	if want := man.Outputs[i].SHA256; want != sum {
		return fmt.Errorf("%w: state file %s has SHA-256 %s, the %s beside it says %s: the file was changed after its run published it",
			ErrConfig, path, sum, writers.ManifestName, want)
	}
	return nil
}
