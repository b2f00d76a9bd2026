package writers

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// FilePublisher creates output files under temporary names in a directory
// that may hold other files, and publishes them by rename: for the tools
// that write a file or two beside others (claimsbatch report, diff). A run
// replaces its whole --out with Publisher instead. Use one FilePublisher per
// command:
//
//	p, err := writers.NewFilePublisher(dir)
//	...
//	defer p.Abort() // no-op once Commit has run
//	f, err := p.Create("remittance.csv") // write to f; do not close it
//	... // write the table into f and Close the table writer, which flushes
//	m, err := p.Create("manifest.json")
//	...
//	err = p.Commit("manifest.json")
//
// Until Commit, every file has a name starting with TempPrefix, so a run
// killed mid-way leaves only such files and never a final name. Commit
// renames the manifest last: a consumer that sees a new manifest sees the
// files it describes. A final name left by a previous run is replaced by the
// rename, never deleted first, so it is at all times either the old complete
// file or the new one. Between Commit's first and last rename an older
// manifest may still describe files already replaced; the manifest's SHA-256
// values tell.
//
// A FilePublisher is safe for concurrent use.
type FilePublisher struct {
	dir    string
	rename func(oldpath, newpath string) error // os.Rename; tests record the order

	mu    sync.Mutex
	files []*pendingFile // in Create order
	done  bool           // Commit or Abort has run
}

type pendingFile struct {
	name string // final name
	temp string // full path of the temporary file
	f    *os.File
}

// NewFilePublisher returns a FilePublisher for dir, creating dir (mode
// 0750) if it is missing. It fails if dir is not a directory or a file
// cannot be created in it.
func NewFilePublisher(dir string) (*FilePublisher, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("writers: output directory: %w", err)
	}
	// Try it out now rather than after the run has done its work.
	probe, err := os.CreateTemp(dir, TempPrefix+"probe-*")
	if err != nil {
		return nil, fmt.Errorf("writers: output directory %s is not writable: %w", dir, err)
	}
	name := probe.Name()
	err = errors.Join(probe.Close(), os.Remove(name))
	if err != nil {
		return nil, fmt.Errorf("writers: output directory %s: %w", dir, err)
	}
	return &FilePublisher{dir: dir, rename: os.Rename}, nil
}

// Dir returns the output directory.
func (p *FilePublisher) Dir() string { return p.dir }

// Create creates the file that Commit will publish as name in the output
// directory, under the temporary name ".claimsbatch-tmp-<random>-<name>" with
// mode 0640 (whatever the umask). name is a plain file name, not a path, and
// may be created once per FilePublisher. The FilePublisher owns the file: write to
// it, but do not close it; Commit syncs and closes it.
func (p *FilePublisher) Create(name string) (*os.File, error) {
	if err := checkPlainName(name); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return nil, fmt.Errorf("writers: create %s: %w", name, ErrClosed)
	}
	for _, pf := range p.files {
		if pf.name == name {
			return nil, fmt.Errorf("writers: create %s: created twice", name)
		}
	}
	var random [8]byte
	for attempt := 0; ; attempt++ {
		rand.Read(random[:])
		temp := filepath.Join(p.dir, TempPrefix+hex.EncodeToString(random[:])+"-"+name)
		f, err := createFile(temp)
		if errors.Is(err, fs.ErrExist) && attempt < 10 {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("writers: create %s: %w", name, err)
		}
		p.files = append(p.files, &pendingFile{name: name, temp: temp, f: f})
		return f, nil
	}
}

func checkPlainName(name string) error {
	switch {
	case name == "", name == ".", name == "..":
		return fmt.Errorf("writers: invalid output file name %q", name)
	case strings.ContainsAny(name, `/\`) || strings.ContainsRune(name, 0):
		return fmt.Errorf("writers: output file name %q is a path, want a plain name", name)
	case strings.HasPrefix(name, TempPrefix):
		return fmt.Errorf("writers: output file name %q starts with %s", name, TempPrefix)
	}
	return nil
}

// Commit publishes every created file: it syncs and closes each, renames
// each to its final name in Create order, syncs the directory, renames
// manifestName (which must have been created) last and syncs the directory
// again. On error it removes the temporary files not yet published and
// returns the error; files already renamed stay published, but the manifest
// is not. Commit runs once; Abort after it does nothing.
func (p *FilePublisher) Commit(manifestName string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return fmt.Errorf("writers: commit: %w", ErrClosed)
	}
	p.done = true

	manifest := -1
	for i, pf := range p.files {
		if pf.name == manifestName {
			manifest = i
		}
	}
	if manifest < 0 {
		p.removeFrom(0)
		return fmt.Errorf("writers: commit: manifest %q was not created", manifestName)
	}

	// Sync and close everything before publishing anything.
	var errs []error
	for _, pf := range p.files {
		if err := pf.f.Sync(); err != nil {
			errs = append(errs, fmt.Errorf("writers: sync %s: %w", pf.name, err))
		}
		if err := pf.f.Close(); err != nil {
			errs = append(errs, fmt.Errorf("writers: close %s: %w", pf.name, err))
		}
		pf.f = nil
	}
	if len(errs) > 0 {
		p.removeFrom(0)
		return errors.Join(errs...)
	}

	// The manifest goes last: move it to the end of the order.
	order := make([]*pendingFile, 0, len(p.files))
	for i, pf := range p.files {
		if i != manifest {
			order = append(order, pf)
		}
	}
	order = append(order, p.files[manifest])
	p.files = order

	last := len(p.files) - 1
	for i, pf := range p.files {
		if i == last {
			// The data files' renames must be durable before the
			// manifest's can be.
			if err := syncDir(p.dir); err != nil {
				p.removeFrom(i)
				return err
			}
		}
		if err := p.rename(pf.temp, filepath.Join(p.dir, pf.name)); err != nil {
			p.removeFrom(i)
			return fmt.Errorf("writers: publish %s: %w", pf.name, err)
		}
		pf.temp = ""
	}
	return syncDir(p.dir)
}

// Abort removes every file not yet published. It is safe to call more than
// once and after Commit, where it does nothing.
func (p *FilePublisher) Abort() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	p.done = true
	p.removeFrom(0)
}

// removeFrom closes and removes the temporary files of p.files[i:]; errors
// are ignored because there is nothing more to do about them (the names say
// they are debris).
func (p *FilePublisher) removeFrom(i int) {
	for _, pf := range p.files[i:] {
		if pf.f != nil {
			pf.f.Close()
			pf.f = nil
		}
		if pf.temp != "" {
			os.Remove(pf.temp)
			pf.temp = ""
		}
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("writers: sync directory %s: %w", dir, err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writers: sync directory %s: %w", dir, err)
	}
	return nil
}
