package explain

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"claimsbatch/book"
	"claimsbatch/claim"
	"claimsbatch/internal/rundir"
	"claimsbatch/plan"
	"claimsbatch/readers"
	"claimsbatch/writers"

	"golang.org/x/sync/errgroup"
)

// input is one input file of the run, as the manifest records it, with the
// path explain reads it from.
type input struct {
	role   string // writers.RoleClaims, RoleMembers, RoleFX, or roleStateIn
	path   string // the manifest's, resolved against Options.InputDir
	sha256 string // the manifest's
}

const roleStateIn = "state-in"

// inputs lists the run's inputs in the manifest's order (claims files
// first), then the --state-in file.
func inputs(m *writers.Manifest, dir string) []input {
	var ins []input
	for _, in := range m.Inputs {
		ins = append(ins, input{role: in.Role, path: resolve(dir, in.Path), sha256: in.SHA256})
	}
	if m.StateIn != nil {
		ins = append(ins, input{role: roleStateIn, path: resolve(dir, m.StateIn.Path), sha256: m.StateIn.SHA256})
	}
	return ins
}

func resolve(dir, path string) string {
	if dir == "" || filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(dir, path)
}

// checkHashes hashes every input in parallel. It returns an ErrRefused
// error naming every input that is missing or whose SHA-256 is not the
// manifest's (in manifest order), nil when all match.
func checkHashes(ins []input) error {
	errs := make([]error, len(ins))
	var g errgroup.Group
	g.SetLimit(4)
	for i := range ins {
		g.Go(func() error {
			errs[i] = checkHash(&ins[i])
			return nil
		})
	}
	g.Wait()
	return errors.Join(errs...)
}

func checkHash(in *input) error {
	f, err := os.Open(in.path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: the run's %s file %s is not there (relative paths are taken from --input-dir, default the current directory)", ErrRefused, in.role, in.path)
	}
	if err != nil {
		return fmt.Errorf("%w: the run's %s file: %w", ErrRefused, in.role, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("%w: the run's %s file %s: %w", ErrRefused, in.role, in.path, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != in.sha256 {
		return fmt.Errorf("%w: the run's %s file %s has changed since the run (sha256 %.12s…, the manifest has %.12s…): its lines cannot be re-adjudicated as the run saw them",
			ErrRefused, in.role, in.path, got, in.sha256)
	}
	return nil
}

// loadPlan returns the run's plan: the --plan file given, else the file the
// manifest records or the built-in plan. Its SHA-256 must be the manifest's.
func loadPlan(ref writers.PlanRef, given, inputDir, runDir string) (*plan.Plan, error) {
	check := func(p *plan.Plan, what string) (*plan.Plan, error) {
		if p.SHA256 != ref.SHA256 {
			return nil, fmt.Errorf("%w: %s has sha256 %.12s…, the run used the plan %q with sha256 %.12s… (give the run's plan with --plan)", ErrRefused, what, p.SHA256, ref.Name, ref.SHA256)
		}
		return p, nil
	}
	load := func(path string) (*plan.Plan, error) {
		p, err := plan.Load(path)
		if err != nil {
			return nil, fmt.Errorf("%w: the run's plan: %w", ErrRefused, err)
		}
		return check(p, "the plan file "+path)
	}
	switch {
	case given != "":
		return load(given)
	case ref.Path != "":
		return load(resolve(inputDir, ref.Path))
	case strings.HasSuffix(ref.Name, "(built in)"):
		return check(plan.Default(), "the built-in plan of this build")
	}
	// A manifest without plan.path (written before it existed): the name
	// ends with the file's base name in parentheses; look for that file
	// where the run's inputs and outputs are.
	base := ref.Name
	if i := strings.LastIndex(base, "("); i >= 0 && strings.HasSuffix(base, ")") {
		base = base[i+1 : len(base)-1]
	}
	for _, dir := range []string{inputDir, runDir} {
		path := filepath.Join(dir, base)
		if _, err := os.Stat(path); err == nil {
			if p, err := load(path); err == nil {
				return p, nil
			}
		}
	}
	return nil, fmt.Errorf("%w: the run used the plan file %s (sha256 %.12s…), which is not in %s nor in %s: give it with --plan",
		ErrRefused, base, ref.SHA256, displayDir(inputDir), runDir)
}

func displayDir(dir string) string {
	if dir == "" {
		return "the current directory"
	}
	return dir
}

// asOf returns the run's as-of date: the manifest's as_of (the --as-of of
// SPEC version 2); for a run published before the manifest recorded it, the
// META as_of row at the top of the run's state output; claim.NoDate when
// there is neither.
func asOf(run *rundir.Run) (claim.Date, error) {
	if s := run.Manifest.AsOf; s != "" {
		return claim.ParseDate(s)
	}
	path, ok := run.Table(rundir.State)
	if !ok {
		return claim.NoDate, nil
	}
	sr, err := readers.OpenState(path, readers.Options{})
	if err != nil {
		return claim.NoDate, err
	}
	defer sr.Close()
	for sr.Next() {
		rec := sr.Record()
		if rec.Kind != claim.KindMeta {
			break // the META rows come first
		}
		if rec.Key == claim.MetaAsOf {
			return rec.Scope, nil
		}
	}
	return claim.NoDate, sr.Err()
}

// memberBook streams the members file and builds the book of the members
// ids names, each resolved as the run resolved it (book.ResolveMember);
// it also returns member's spans.
func memberBook(p *plan.Plan, path string, ids map[string]bool, member string) (*book.Book, []claim.Span, error) {
	mr, err := readers.OpenMembers(path, readers.Options{})
	if err != nil {
		return nil, nil, err
	}
	defer mr.Close()
	rows := map[string][]claim.RawSpan{}
	rejected := map[string][]claim.Exception{}
	for mr.Next() {
		for _, s := range mr.Spans() {
			if ids[s.MemberID] {
				rows[s.MemberID] = append(rows[s.MemberID], s)
			}
		}
		for _, x := range mr.Exceptions() {
			if ids[x.MemberID] {
				rejected[x.MemberID] = append(rejected[x.MemberID], x)
			}
		}
	}
	if err := mr.Err(); err != nil {
		return nil, nil, err
	}
	var resolved []book.Resolved
	var spans []claim.Span
	for id := range ids {
		if len(rows[id])+len(rejected[id]) == 0 {
			continue // not in the members file
		}
		m := book.Resolved{ID: id}
		m.Spans, m.Invalid, _ = book.ResolveMember(p, filepath.Base(path), rows[id], rejected[id])
		if id == member {
			spans = m.Spans
		}
		resolved = append(resolved, m)
	}
	return book.ForMembers(p, resolved), spans, nil
}
