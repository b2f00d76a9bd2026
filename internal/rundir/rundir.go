// Package rundir opens a published run directory for the tools that read a
// run back (diff, report): it reads the run's manifest.json, says where the
// run's tables are and in which format, and parses the remittance's
// adjustments column. It reads nothing else; the tables themselves are read
// with readers.OpenTable.
//
// It imports claim and writers only.
package rundir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"claimsbatch/claim"
	"claimsbatch/writers"
)

// ErrNotRun is wrapped by Open when dir is missing, is not a directory, or
// holds no readable manifest.json: no run was published there.
var ErrNotRun = errors.New("rundir: not a published run")

// ErrAdjustments is wrapped by ParseAdjustments for a malformed entry.
var ErrAdjustments = errors.New("rundir: malformed adjustments")

// ManifestName and the base names of the tables, as the pipeline publishes
// them (package writers names them). A table's file name is its base name
// plus the run's format extension (.csv or .parquet).
const (
	ManifestName = writers.ManifestName
	Remittance   = writers.RemittanceName
	Payments     = writers.PaymentsName
	Exceptions   = writers.ExceptionsName
	State        = writers.StateName
)

// Run is a published run: its directory and manifest.
type Run struct {
	Dir      string
	Manifest *writers.Manifest
}

// Open reads dir's manifest.json. Every error wraps ErrNotRun.
func Open(dir string) (*Run, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotRun, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%w: %s is not a directory", ErrNotRun, dir)
	}
	path := filepath.Join(dir, ManifestName)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s has no %s (a failed or killed run publishes none)", ErrNotRun, dir, ManifestName)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotRun, err)
	}
	defer f.Close()
	m, err := writers.ReadManifest(f)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrNotRun, path, err)
	}
	return &Run{Dir: dir, Manifest: m}, nil
}

// Table returns the path of the output table whose base name is base
// (Remittance, Payments, Exceptions or State) as the manifest lists it, and
// whether the manifest lists one. A validate run, for one, has no
// remittance. A listed name that is not a plain file name is not returned.
func (r *Run) Table(base string) (string, bool) {
	for _, o := range r.Manifest.Outputs {
		stem, ok := strings.CutSuffix(o.Name, ".parquet")
		if !ok {
			stem, ok = strings.CutSuffix(o.Name, ".csv")
		}
		if ok && stem == base && o.Name == filepath.Base(o.Name) {
			return filepath.Join(r.Dir, o.Name), true
		}
	}
	return "", false
}

// Adjustment is one entry of the remittance's adjustments column.
type Adjustment struct {
	Code   string // "PR-119", "OA-18"
	Amount claim.Money
}

// ParseAdjustments appends to dst the entries of an adjustments value such
// as "PR-1:375.00 PR-2:165.00 PR-119:10.00" and returns the extended slice.
// An empty value has no entries.
func ParseAdjustments(dst []Adjustment, s string) ([]Adjustment, error) {
	for field := range strings.FieldsSeq(s) {
		code, amount, ok := strings.Cut(field, ":")
		if !ok || !validCode(code) {
			return dst, fmt.Errorf("%w: %q: want GROUP-CODE:amount", ErrAdjustments, field)
		}
		m, err := claim.ParseMoney(amount)
		if err != nil {
			return dst, fmt.Errorf("%w: %q: %w", ErrAdjustments, field, err)
		}
		dst = append(dst, Adjustment{Code: code, Amount: m})
	}
	return dst, nil
}

// validCode accepts GROUP-NUMBER: two upper-case letters, a dash, digits.
func validCode(code string) bool {
	group, num, ok := strings.Cut(code, "-")
	if !ok || len(group) == 0 || len(num) == 0 {
		return false
	}
	for _, c := range group {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	_, err := strconv.ParseUint(num, 10, 16)
	return err == nil
}

// CompareCodes orders reason codes as the SPEC lists adjustments: by code
// number (PR-1, PR-2, PR-6, OA-18, PR-26, ... PR-204), then by group.
// Malformed codes sort last, by text.
func CompareCodes(a, b string) int {
	na, okA := codeNumber(a)
	nb, okB := codeNumber(b)
	switch {
	case okA && okB && na != nb:
		if na < nb {
			return -1
		}
		return 1
	case okA && !okB:
		return -1
	case !okA && okB:
		return 1
	}
	return strings.Compare(a, b)
}

func codeNumber(code string) (uint64, bool) {
	_, num, ok := strings.Cut(code, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(num, 10, 16)
	return n, err == nil
}
