package writers

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
)

// TempPrefix starts the name of everything a run has not published yet: the
// staging directory of a Publisher (".claimsbatch-tmp-<out>-<random>",
// beside the output directory) and the temporary files of a FilePublisher.
// Anything with this prefix is debris of a run that did not finish; the
// next run into the same directory removes it.
const TempPrefix = ".claimsbatch-tmp-"

// oldPrefix names the previous run while a Publisher swaps the new one in
// (".claimsbatch-old-<out>-<random>", beside the output directory).
const oldPrefix = ".claimsbatch-old-"

// LockSuffix is added to the output directory's path to name its lock file
// ("runs/2026-11-27.lock"), which exists while a run holds it.
const LockSuffix = ".lock"

// SignatureName is the detached signature of the manifest (see
// SignManifest): part of a run's folder, not listed in its manifest.
const SignatureName = ManifestName + ".sig"

// tempMode is the mode of the output files: read-write for the owner,
// readable by the group, nothing for others (claims data is personal data).
const tempMode fs.FileMode = 0o640

// dirMode is the mode of a new output directory.
const dirMode fs.FileMode = 0o750

// Errors of NewPublisher that the user must resolve (the command line exits
// 2 for them).
var (
	// ErrLocked: another run holds the output directory's lock.
	ErrLocked = errors.New("writers: output directory locked by another run")
	// ErrOutDir: the output directory cannot take a run: it holds files
	// that are not a claimsbatch run's (without PublishOptions.Force), it is
	// not a directory, it is a mount point or the working directory.
	ErrOutDir = errors.New("writers: output directory refused")
)

// PublishOptions tune NewPublisher. The zero value refuses a directory that
// holds anything but a claimsbatch run.
type PublishOptions struct {
	// Force replaces the output directory whatever it holds: files that are
	// not a run's are deleted with it.
	Force bool
}

// Publisher publishes one run's outputs as a whole: after Commit the output
// directory holds exactly the files created through the Publisher, nothing
// of an earlier run (of another format, or of validate) and nothing else.
//
//	p, err := writers.NewPublisher(dir, writers.PublishOptions{})
//	...
//	defer p.Abort() // no-op once Commit has run
//	f, err := p.Create("remittance.csv") // write to f; Close it or let Commit
//	g, err := p.Create("835/PAYEE1.835") // subdirectories are fine
//	...
//	err = p.Commit("manifest.json")
//
// # Staging and the swap
//
// Files are written in a staging directory beside dir, in the same parent
// (".claimsbatch-tmp-<base>-<16 hex digits>", mode 0700 until the commit),
// so that renames stay on one filesystem. Commit syncs every file and
// directory of the stage, then swaps it in: the old dir (when there is one)
// is renamed aside to ".claimsbatch-old-<base>-<16 hex digits>", the stage
// is renamed to dir, the parent is synced, and the old run is removed. A
// consumer sees the old run or the new one, never a mixture; for a moment
// between the two renames dir does not exist.
//
// A run killed before the swap leaves its stage, which is debris: nothing in
// dir changed. One killed between the two renames leaves no dir and the old
// run aside; one killed after them leaves the old run aside. The next
// NewPublisher for dir repairs both, under the lock: with no dir, it renames
// the old run back (the previous run is published again, as if the killed
// one never ran); with dir, it removes what is aside; and it removes every
// stage of dir. A rerun therefore always starts from the last complete run.
//
// # The lock
//
// NewPublisher takes an exclusive flock on "<dir>.lock" in the parent and
// keeps it until Commit or Abort, which remove the file: a second run into
// the same dir (or one between two renames of the first) fails at once
// with ErrLocked. The lock is advisory and local: two machines writing to
// one NFS directory are not protected (flock over NFS depends on the
// server).
//
// # What it refuses
//
// NewPublisher refuses (ErrOutDir) a dir that exists and holds anything but
// a claimsbatch run: a run is a manifest.json plus the files and directories
// its outputs name, its signature (SignatureName) and stray TempPrefix files
// of an older version's killed run. With PublishOptions.Force it replaces
// the dir whatever it holds. It refuses a dir that is not a directory, a
// mount point (it cannot be renamed), "/", and the working directory or one
// of its parents.
//
// A Publisher is safe for concurrent use; a File is not.
type Publisher struct {
	dir      string      // final path, absolute, symlinks resolved
	parent   string      // its parent directory
	base     string      // its name in parent
	stage    string      // the staging directory
	mode     fs.FileMode // of the published directory
	lock     *os.File
	lockPath string
	created  []string // parent directories this Publisher created, outermost first

	mu      sync.Mutex
	files   []*File
	subdirs []string // directories made in the stage, for the final sync
	done    bool     // Commit or Abort has run
}

// File is one file of the run being written in the stage. Write to it, then
// Close it (which syncs it) as soon as it is complete, so that a run of
// thousands of files does not hold thousands of descriptors; a File not
// closed is synced and closed by Commit.
type File struct {
	name    string
	f       *os.File
	closed  bool
	err     error // of Close
	written int64 // bytes written
	queued  int64 // bytes handed to the kernel's writeback (startWriteback)
	dropped int64 // bytes dropped from the page cache (dropWritten)
	keep    bool  // KeepCached: nothing is dropped
}

// KeepCached keeps the file's pages in the page cache: the run reads it
// back before publishing it (the 835s read the remittance), so they are
// not dropped as they are written (see writebackChunk). Call it before the
// first Write.
func (f *File) KeepCached() { f.keep = true }

// writebackChunk is how many bytes a File writes before it asks the kernel
// to start writing them to disk. Without it a big output (2 GB of a 10 M-
// line remittance) stays dirty in the page cache until Close's fsync, and
// the run waits for the disk at the end (measured: 0.6 s of a 20 s run,
// every core idle); with it the disk writes while the run computes and the
// fsync finds little left.
//
// Once a chunk has been handed to writeback and two further chunks
// written, it is dropped from the page cache (dropWritten; the lag gives
// the disk time to take it, as pages not yet written stay): the run never
// reads its outputs back, and the next writes then reuse those pages
// instead of taking fresh ones. On the bench's VM a fresh page costs the
// host a fault on first touch (the guest had handed its free pages back):
// writing the 2.4 GiB of a 10 M-line CSV run into fresh pages took 5 s of
// system time, into reused ones 3 s, and the run's wall time fell by about
// 10 % (docs/BENCHMARKS.md, "Output pages reused"). It also stops a big run
// from pushing the page cache's other files (the inputs) out.
const writebackChunk = 32 << 20

// Write writes to the file.
func (f *File) Write(b []byte) (int, error) {
	if f.closed {
		return 0, fmt.Errorf("writers: write %s: %w", f.name, ErrClosed)
	}
	n, err := f.f.Write(b)
	f.written += int64(n)
	if f.written-f.queued >= writebackChunk {
		startWriteback(f.f, f.queued, f.written-f.queued)
		if end := f.queued - writebackChunk; end > f.dropped && !f.keep {
			dropWritten(f.f, f.dropped, end-f.dropped)
			f.dropped = end
		}
		f.queued = f.written
	}
	return n, err
}

// Close syncs and closes the file. It may be called more than once; the
// first call's error is returned each time.
func (f *File) Close() error {
	if f.closed {
		return f.err
	}
	f.closed = true
	if err := f.f.Sync(); err != nil {
		f.err = fmt.Errorf("writers: sync %s: %w", f.name, err)
	}
	if err := f.f.Close(); err != nil && f.err == nil {
		f.err = fmt.Errorf("writers: close %s: %w", f.name, err)
	}
	return f.err
}

// Name returns the file's name in the run, as given to Create.
func (f *File) Name() string { return f.name }

// NewPublisher prepares to publish a run into dir: it creates dir's parent
// if missing, takes the lock, repairs what a killed run left (see
// Publisher), checks that dir may be replaced and creates the stage. Errors
// the user must resolve wrap ErrLocked or ErrOutDir.
func NewPublisher(dir string, opt PublishOptions) (_ *Publisher, err error) {
	if dir == "" {
		return nil, fmt.Errorf("%w: no output directory given", ErrOutDir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("writers: output directory %s: %w", dir, err)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	p := &Publisher{dir: abs, parent: filepath.Dir(abs), base: filepath.Base(abs), mode: dirMode}
	if p.base == string(filepath.Separator) || p.parent == abs {
		return nil, fmt.Errorf("%w: %s cannot be replaced by a run (choose a directory below it)", ErrOutDir, dir)
	}
	if wd, err := os.Getwd(); err == nil {
		if real, err := filepath.EvalSymlinks(wd); err == nil {
			wd = real
		}
		if wd == abs || strings.HasPrefix(wd, abs+string(filepath.Separator)) {
			return nil, fmt.Errorf("%w: %s is the working directory or holds it: a run replaces its --out as a whole", ErrOutDir, dir)
		}
	}
	defer func() {
		if err != nil {
			p.release()
			p.removeCreated()
		}
	}()
	if err := p.makeParent(); err != nil {
		return nil, err
	}
	if err := p.takeLock(); err != nil {
		return nil, err
	}
	if err := p.repair(); err != nil {
		return nil, err
	}
	if err := p.checkDir(dir, opt.Force); err != nil {
		return nil, err
	}
	var random [8]byte
	rand.Read(random[:])
	p.stage = filepath.Join(p.parent, TempPrefix+p.base+"-"+hex.EncodeToString(random[:]))
	if err := os.Mkdir(p.stage, 0o700); err != nil {
		return nil, fmt.Errorf("writers: output directory %s: cannot create files beside it: %w", dir, err)
	}
	return p, nil
}

// makeParent creates dir's parent and the missing directories above it,
// remembering which, so that Abort leaves no empty directory behind.
func (p *Publisher) makeParent() error {
	var missing []string
	for d := p.parent; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil || filepath.Dir(d) == d {
			break
		}
		missing = append(missing, d)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := os.Mkdir(missing[i], dirMode); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("writers: output directory: %w", err)
		}
		p.created = append(p.created, missing[i])
	}
	return nil
}

// removeCreated removes the parent directories makeParent created, if
// empty, innermost first.
func (p *Publisher) removeCreated() {
	for i := len(p.created) - 1; i >= 0; i-- {
		if os.Remove(p.created[i]) != nil {
			break
		}
	}
	p.created = nil
}

// takeLock takes the flock of "<dir>.lock". The file is removed when the
// lock is released, so a run that took it must make sure the path still
// names the file it locked (a run that just released it may have removed
// it); if not, it tries again.
func (p *Publisher) takeLock() error {
	path := p.dir + LockSuffix
	for attempt := 0; ; attempt++ {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, tempMode)
		if err != nil {
			return fmt.Errorf("%w: output directory %s is not writable: a run locks, stages and replaces it in %s: %w", ErrOutDir, p.dir, p.parent, err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return fmt.Errorf("%w: %s is held by a run still writing to %s", ErrLocked, path, p.dir)
			}
			return fmt.Errorf("writers: lock %s: %w", path, err)
		}
		held, err1 := f.Stat()
		named, err2 := os.Stat(path)
		if err1 == nil && err2 == nil && os.SameFile(held, named) {
			p.lock, p.lockPath = f, path
			return nil
		}
		f.Close()
		if attempt >= 10 {
			return fmt.Errorf("writers: lock %s keeps changing", path)
		}
	}
}

// release removes the lock file and releases the lock.
func (p *Publisher) release() {
	if p.lock == nil {
		return
	}
	os.Remove(p.lockPath)
	p.lock.Close()
	p.lock = nil
}

// debrisName reports whether name is prefix + p.base + "-" + 16 hex digits.
func (p *Publisher) debrisName(name, prefix string) bool {
	rest, ok := strings.CutPrefix(name, prefix+p.base+"-")
	if !ok || len(rest) != 16 {
		return false
	}
	_, err := hex.DecodeString(rest)
	return err == nil
}

// repair clears what killed runs into dir left beside it (see Publisher).
func (p *Publisher) repair() error {
	entries, err := os.ReadDir(p.parent)
	if err != nil {
		return fmt.Errorf("writers: output directory: %w", err)
	}
	var aside []string
	for _, e := range entries {
		switch name := e.Name(); {
		case p.debrisName(name, TempPrefix):
			if err := os.RemoveAll(filepath.Join(p.parent, name)); err != nil {
				return fmt.Errorf("writers: removing a killed run's files: %w", err)
			}
		case p.debrisName(name, oldPrefix):
			aside = append(aside, filepath.Join(p.parent, name))
		}
	}
	if _, err := os.Lstat(p.dir); errors.Is(err, fs.ErrNotExist) && len(aside) > 0 {
		// Killed between its two renames: the previous run comes back (the
		// newest, should there be several, which no sequence of runs leaves).
		newest, newestTime := 0, int64(0)
		for i, a := range aside {
			if st, err := os.Stat(a); err == nil && st.ModTime().UnixNano() > newestTime {
				newest, newestTime = i, st.ModTime().UnixNano()
			}
		}
		if err := os.Rename(aside[newest], p.dir); err != nil {
			return fmt.Errorf("writers: restoring the previous run of %s: %w", p.dir, err)
		}
		aside = slices.Delete(aside, newest, newest+1)
	}
	for _, a := range aside {
		if err := os.RemoveAll(a); err != nil {
			return fmt.Errorf("writers: removing a replaced run: %w", err)
		}
	}
	return nil
}

// checkDir checks that dir may be replaced by a run, and takes its mode.
func (p *Publisher) checkDir(given string, force bool) error {
	st, err := os.Lstat(p.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("writers: output directory: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("%w: %s is not a directory", ErrOutDir, given)
	}
	if pst, err := os.Stat(p.parent); err == nil {
		if a, ok := st.Sys().(*syscall.Stat_t); ok {
			if b, ok := pst.Sys().(*syscall.Stat_t); ok && a.Dev != b.Dev {
				return fmt.Errorf("%w: %s is a mount point, which a run cannot replace: use a directory inside it as --out", ErrOutDir, given)
			}
		}
	}
	p.mode = st.Mode().Perm()
	if force {
		return nil
	}
	foreign, err := ForeignEntries(p.dir)
	if err != nil {
		return fmt.Errorf("writers: output directory: %w", err)
	}
	if len(foreign) > 0 {
		return fmt.Errorf("%w: %s holds %s, which no claimsbatch run published there; a run replaces its --out as a whole: choose another directory, or pass --force to replace it with everything in it",
			ErrOutDir, given, listNames(foreign, 5))
	}
	return nil
}

// ForeignEntries lists, sorted, the entries of dir that are not part of the
// claimsbatch run published there: everything when dir has no readable
// manifest.json; otherwise what is neither the manifest, its signature, an
// output the manifest lists (or the directory holding one) nor a TempPrefix
// file of a killed run. A missing dir has none.
func ForeignEntries(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	known := map[string]bool{ManifestName: true, SignatureName: true}
	if f, err := os.Open(filepath.Join(dir, ManifestName)); err == nil {
		m, err := ReadManifest(f)
		f.Close()
		if err == nil {
			for _, o := range m.Outputs {
				top, _, _ := strings.Cut(filepath.ToSlash(o.Name), "/")
				known[top] = true
			}
		} else {
			known = map[string]bool{}
		}
	} else {
		known = map[string]bool{}
	}
	var foreign []string
	for _, e := range entries {
		name := e.Name()
		if known[name] || strings.HasPrefix(name, TempPrefix) {
			continue
		}
		foreign = append(foreign, name)
	}
	slices.Sort(foreign)
	return foreign, nil
}

// listNames quotes up to most names, and says how many more there are.
func listNames(names []string, most int) string {
	var b strings.Builder
	for i, n := range names {
		if i == most {
			fmt.Fprintf(&b, " and %d more", len(names)-most)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", n)
	}
	return b.String()
}

// Dir returns the output directory (absolute, symlinks resolved).
func (p *Publisher) Dir() string { return p.dir }

// Create creates the file that Commit will publish as name in the output
// directory: a path relative to it, with '/' between directories
// ("remittance.csv", "835/PAYEE1.835"), created once per Publisher, with
// mode 0640 whatever the umask. Missing directories are created (0750).
func (p *Publisher) Create(name string) (*File, error) {
	if err := checkRunName(name); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return nil, fmt.Errorf("writers: create %s: %w", name, ErrClosed)
	}
	for _, f := range p.files {
		if f.name == name {
			return nil, fmt.Errorf("writers: create %s: created twice", name)
		}
	}
	path := filepath.Join(p.stage, filepath.FromSlash(name))
	if sub := filepath.Dir(path); sub != p.stage && !slices.Contains(p.subdirs, sub) {
		if err := os.MkdirAll(sub, dirMode); err != nil {
			return nil, fmt.Errorf("writers: create %s: %w", name, err)
		}
		for d := sub; d != p.stage && !slices.Contains(p.subdirs, d); d = filepath.Dir(d) {
			p.subdirs = append(p.subdirs, d)
		}
	}
	f, err := createFile(path)
	if err != nil {
		return nil, fmt.Errorf("writers: create %s: %w", name, err)
	}
	file := &File{name: name, f: f}
	p.files = append(p.files, file)
	return file, nil
}

// createFile creates a new file (it must not exist) with mode tempMode,
// whatever the umask.
func createFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, tempMode)
	if err != nil {
		return nil, err
	}
	// OpenFile's mode is filtered by the umask; the SPEC's mode is not.
	if err := f.Chmod(tempMode); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	return f, nil
}

// checkRunName accepts a clean relative path of plain names.
func checkRunName(name string) error {
	if name == "" || strings.ContainsRune(name, 0) || strings.Contains(name, `\`) {
		return fmt.Errorf("writers: invalid output file name %q", name)
	}
	for part := range strings.SplitSeq(name, "/") {
		switch {
		case part == "", part == ".", part == "..":
			return fmt.Errorf("writers: output file name %q is not a clean relative path", name)
		case strings.HasPrefix(part, TempPrefix):
			return fmt.Errorf("writers: output file name %q starts with %s", name, TempPrefix)
		}
	}
	return nil
}

// Commit publishes the run: it syncs and closes every file not yet closed,
// syncs the stage's directories and swaps the stage in for the output
// directory (see Publisher), then releases the lock. manifestName must have
// been created: every published run has a manifest. On an error before the
// swap nothing changed in the output directory and the stage is removed.
// Commit runs once; Abort after it does nothing.
func (p *Publisher) Commit(manifestName string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return fmt.Errorf("writers: commit: %w", ErrClosed)
	}
	p.done = true
	err := p.commit(manifestName)
	if err != nil {
		p.discard()
	}
	p.release()
	p.removeCreated()
	return err
}

func (p *Publisher) commit(manifestName string) error {
	if !slices.ContainsFunc(p.files, func(f *File) bool { return f.name == manifestName }) {
		return fmt.Errorf("writers: commit: manifest %q was not created", manifestName)
	}
	var errs []error
	for _, f := range p.files {
		if err := f.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	// Innermost first, so each directory's entries are durable before its
	// parent's entry for it.
	slices.SortFunc(p.subdirs, func(a, b string) int { return len(b) - len(a) })
	for _, d := range append(p.subdirs, p.stage) {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	if err := os.Chmod(p.stage, p.mode); err != nil {
		return fmt.Errorf("writers: publish: %w", err)
	}
	var aside string
	if _, err := os.Lstat(p.dir); err == nil {
		var random [8]byte
		rand.Read(random[:])
		aside = filepath.Join(p.parent, oldPrefix+p.base+"-"+hex.EncodeToString(random[:]))
		if err := os.Rename(p.dir, aside); err != nil {
			return fmt.Errorf("writers: publish: moving the previous run aside: %w", err)
		}
	}
	if err := os.Rename(p.stage, p.dir); err != nil {
		if aside != "" {
			os.Rename(aside, p.dir) // the previous run stays published
		}
		return fmt.Errorf("writers: publish %s: %w", p.dir, err)
	}
	p.stage = ""
	p.created = nil
	if err := syncDir(p.parent); err != nil {
		return err
	}
	if aside != "" {
		if err := os.RemoveAll(aside); err != nil {
			return fmt.Errorf("writers: published, but the previous run is left in %s: %w", aside, err)
		}
	}
	return nil
}

// Abort removes the stage and every file in it and releases the lock; the
// output directory is as it was (and a parent directory NewPublisher
// created is removed again if empty). It is safe to call more than once
// and after Commit, where it does nothing.
func (p *Publisher) Abort() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	p.done = true
	p.discard()
	p.release()
	p.removeCreated()
}

// discard closes the files and removes the stage.
func (p *Publisher) discard() {
	for _, f := range p.files {
		if !f.closed {
			f.closed = true
			f.f.Close()
		}
	}
	if p.stage != "" {
		os.RemoveAll(p.stage)
		p.stage = ""
	}
}
