package writers

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// dirNames lists the names in dir, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// newRecordingPublisher returns a Publisher for a new directory that records
// the final names it renames to, in order.
func newRecordingPublisher(t *testing.T) (*FilePublisher, *[]string) {
	t.Helper()
	p, err := NewFilePublisher(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	var renamed []string
	p.rename = func(oldpath, newpath string) error {
		renamed = append(renamed, filepath.Base(newpath))
		return os.Rename(oldpath, newpath)
	}
	return p, &renamed
}

func TestFilePublisherCommit(t *testing.T) {
	p, renamed := newRecordingPublisher(t)
	dir := p.Dir()
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o750 {
		t.Fatalf("output directory: %v, %v; want mode 0750", info, err)
	}
	// A previous run's files: replaced, not left behind.
	if err := os.WriteFile(filepath.Join(dir, "remittance.csv"), []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}

	// Created in an order that does not put the manifest last.
	contents := map[string]string{}
	for _, name := range []string{"manifest.json", "remittance.csv", "payments.csv", "exceptions.csv", "state.csv"} {
		f, err := p.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Base(f.Name())
		if !strings.HasPrefix(base, TempPrefix) || !strings.HasSuffix(base, "-"+name) {
			t.Errorf("temporary name %q, want %s<random>-%s", base, TempPrefix, name)
		}
		contents[name] = "new " + name + "\n"
		if _, err := f.WriteString(contents[name]); err != nil {
			t.Fatal(err)
		}
	}
	// Before Commit, no final name has new content: a run killed now leaves
	// only temporary files besides the old run's.
	for _, name := range dirNames(t, dir) {
		if !strings.HasPrefix(name, TempPrefix) && readString(t, filepath.Join(dir, name)) != "old" {
			t.Errorf("%s published before Commit", name)
		}
	}

	if err := p.Commit("manifest.json"); err != nil {
		t.Fatal(err)
	}
	wantOrder := []string{"remittance.csv", "payments.csv", "exceptions.csv", "state.csv", "manifest.json"}
	if !reflect.DeepEqual(*renamed, wantOrder) {
		t.Errorf("renamed in order %q, want %q", *renamed, wantOrder)
	}
	wantNames := slices.Sorted(slices.Values(wantOrder))
	if got := dirNames(t, dir); !reflect.DeepEqual(got, wantNames) {
		t.Errorf("directory holds %q, want %q", got, wantNames)
	}
	for name, want := range contents {
		path := filepath.Join(dir, name)
		if got := readString(t, path); got != want {
			t.Errorf("%s holds %q, want %q", name, got, want)
		}
		if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o640 {
			t.Errorf("%s: %v, %v; want mode 0640", name, info, err)
		}
	}

	p.Abort() // no-op after Commit
	if got := dirNames(t, dir); !reflect.DeepEqual(got, wantNames) {
		t.Errorf("after Abort the directory holds %q, want %q", got, wantNames)
	}
	if err := p.Commit("manifest.json"); !errors.Is(err, ErrClosed) {
		t.Errorf("second Commit = %v, want ErrClosed", err)
	}
	if _, err := p.Create("late.csv"); !errors.Is(err, ErrClosed) {
		t.Errorf("Create after Commit = %v, want ErrClosed", err)
	}
}

func TestFilePublisherAbort(t *testing.T) {
	p, _ := newRecordingPublisher(t)
	for _, name := range []string{"remittance.csv", "manifest.json"} {
		f, err := p.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString("data"); err != nil {
			t.Fatal(err)
		}
	}
	p.Abort()
	p.Abort()
	if got := dirNames(t, p.Dir()); len(got) != 0 {
		t.Errorf("after Abort the directory holds %q, want nothing", got)
	}
	if err := p.Commit("manifest.json"); !errors.Is(err, ErrClosed) {
		t.Errorf("Commit after Abort = %v, want ErrClosed", err)
	}
}

func TestFilePublisherTempMode(t *testing.T) {
	old := syscall.Umask(0o077) // stricter than 0640; Create must still give 0640
	defer syscall.Umask(old)
	p, _ := newRecordingPublisher(t)
	f, err := p.Create("remittance.parquet")
	if err != nil {
		t.Fatal(err)
	}
	info, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o640 {
		t.Errorf("temporary file mode %v, want 0640", got)
	}
	p.Abort()
}

func TestFilePublisherCommitFailure(t *testing.T) {
	p, renamed := newRecordingPublisher(t)
	for _, name := range []string{"remittance.csv", "payments.csv", "manifest.json"} {
		if _, err := p.Create(name); err != nil {
			t.Fatal(err)
		}
	}
	errRename := errors.New("rename failed")
	p.rename = func(oldpath, newpath string) error {
		if filepath.Base(newpath) == "payments.csv" {
			return errRename
		}
		*renamed = append(*renamed, filepath.Base(newpath))
		return os.Rename(oldpath, newpath)
	}
	if err := p.Commit("manifest.json"); !errors.Is(err, errRename) {
		t.Fatalf("Commit = %v, want %v", err, errRename)
	}
	// What was renamed stays; the rest, manifest included, is gone.
	if got, want := dirNames(t, p.Dir()), []string{"remittance.csv"}; !reflect.DeepEqual(got, want) {
		t.Errorf("directory holds %q, want %q", got, want)
	}
}

func TestFilePublisherCommitWithoutManifest(t *testing.T) {
	p, _ := newRecordingPublisher(t)
	if _, err := p.Create("remittance.csv"); err != nil {
		t.Fatal(err)
	}
	if err := p.Commit("manifest.json"); err == nil {
		t.Fatal("Commit without the manifest succeeded")
	}
	if got := dirNames(t, p.Dir()); len(got) != 0 {
		t.Errorf("directory holds %q, want nothing", got)
	}
}

func TestFilePublisherSyncFailure(t *testing.T) {
	p, _ := newRecordingPublisher(t)
	f, err := p.Create("remittance.csv")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Create("manifest.json"); err != nil {
		t.Fatal(err)
	}
	f.Close() // against the contract: Commit's sync must fail, not publish
	if err := p.Commit("manifest.json"); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Commit = %v, want an error wrapping os.ErrClosed", err)
	}
	if got := dirNames(t, p.Dir()); len(got) != 0 {
		t.Errorf("directory holds %q, want nothing", got)
	}
}

func TestFilePublisherCreateNames(t *testing.T) {
	p, _ := newRecordingPublisher(t)
	defer p.Abort()
	if _, err := p.Create("remittance.csv"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", ".", "..", "a/b", `a\b`, "../x", TempPrefix + "x", "remittance.csv"} {
		if _, err := p.Create(name); err == nil {
			t.Errorf("Create(%q) succeeded, want an error", name)
		}
	}
}

func TestNewFilePublisherNotADirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(path, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{path, filepath.Join(path, "sub")} {
		if _, err := NewFilePublisher(dir); err == nil {
			t.Errorf("NewFilePublisher(%q) succeeded, want an error", dir)
		}
	}
}

func TestNewFilePublisherNotWritable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root can write to any directory")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o700)
	_, err := NewFilePublisher(dir)
	if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), "not writable") {
		t.Errorf("NewPublisher = %v, want a permission error saying not writable", err)
	}
}

// A writer failing mid-way surfaces from Close; the caller then aborts and
// nothing is published.
func TestFilePublisherWithFailingTable(t *testing.T) {
	p, _ := newRecordingPublisher(t)
	defer p.Abort()
	f, err := p.Create("remittance.csv")
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewRemittanceWriter(&failingWriter{w: f, limit: 100}, CSV, sampleRunID)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(sampleResults())
	if err := w.Close(); !errors.Is(err, errDiskFull) {
		t.Fatalf("Close = %v, want %v", err, errDiskFull)
	}
	p.Abort()
	if got := dirNames(t, p.Dir()); len(got) != 0 {
		t.Errorf("directory holds %q, want nothing", got)
	}
}
