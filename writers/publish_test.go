package writers

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// writeRun publishes a run of the given files (name → content) into dir,
// with a manifest listing them.
func writeRun(t *testing.T, dir string, opt PublishOptions, files map[string]string) error {
	t.Helper()
	p, err := NewPublisher(dir, opt)
	if err != nil {
		return err
	}
	defer p.Abort()
	m := &Manifest{RunID: "run-test"}
	for _, name := range sortedNames(files) {
		f, err := p.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte(files[name])); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		m.Outputs = append(m.Outputs, Output{Name: name})
	}
	mf, err := p.Create(ManifestName)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteManifest(mf, m); err != nil {
		t.Fatal(err)
	}
	return p.Commit(ManifestName)
}

func sortedNames(m map[string]string) []string {
	var names []string
	for n := range m {
		names = append(names, n)
	}
	for i := range names {
		for j := i + 1; j < len(names); j++ {
			if names[j] < names[i] {
				names[i], names[j] = names[j], names[i]
			}
		}
	}
	return names
}

// tree lists every file under dir as "path=content", directories as
// "path/", sorted.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if d.IsDir() {
			out = append(out, rel+"/")
			return nil
		}
		if filepath.Base(rel) == ManifestName {
			out = append(out, rel)
			return nil
		}
		b, err := os.ReadFile(path)
		out = append(out, rel+"="+string(b))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPublisherReplacesTheRun covers issue 12, finding 3 ("a run with
// --format parquet or validate into a folder that holds an earlier CSV run
// leaves the old state.csv beside the new manifest"): after a run, its
// folder holds exactly that run's files.
func TestPublisherReplacesTheRun(t *testing.T) {
	parent := t.TempDir()
	out := filepath.Join(parent, "runs", "2026-11-27")
	csvRun := map[string]string{"remittance.csv": "r", "state.csv": "s", "exceptions.csv": "e"}
	if err := writeRun(t, out, PublishOptions{}, csvRun); err != nil {
		t.Fatal(err)
	}
	if got, want := tree(t, out), []string{"exceptions.csv=e", "manifest.json", "remittance.csv=r", "state.csv=s"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("first run: %v, want %v", got, want)
	}
	if err := os.Chmod(out, 0o770); err != nil {
		t.Fatal(err)
	}
	// A validate run in Parquet, with an 835 folder: nothing of the CSV run
	// stays; the folder keeps its mode.
	if err := writeRun(t, out, PublishOptions{}, map[string]string{"exceptions.parquet": "E", "835/P1.835": "x", "835/P2.835": "y"}); err != nil {
		t.Fatal(err)
	}
	if got, want := tree(t, out), []string{"835/", "835/P1.835=x", "835/P2.835=y", "exceptions.parquet=E", "manifest.json"}; !reflect.DeepEqual(got, want) {
		t.Errorf("second run: %v, want %v", got, want)
	}
	if st, err := os.Stat(out); err != nil || st.Mode().Perm() != 0o770 {
		t.Errorf("mode after the second run: %v %v, want 0770", st.Mode(), err)
	}
	if st, err := os.Stat(filepath.Join(out, "835", "P1.835")); err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("file mode: %v %v, want 0640", st.Mode(), err)
	}
	// Beside the folder: nothing left (no stage, no old run, no lock).
	if got := dirNames(t, filepath.Dir(out)); !reflect.DeepEqual(got, []string{"2026-11-27"}) {
		t.Errorf("beside --out: %v", got)
	}
}

// TestPublisherRefusesForeignFiles covers finding 3: a folder holding files
// that are not a claimsbatch run is refused unless Force.
func TestPublisherRefusesForeignFiles(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string
	}{
		{"no manifest", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644)
			os.WriteFile(filepath.Join(dir, "state.csv"), []byte("s"), 0o644)
		}, `holds "notes.txt", "state.csv", which no claimsbatch run published there`},
		{"beside a run", func(t *testing.T, dir string) {
			if err := writeRun(t, dir, PublishOptions{}, map[string]string{"state.csv": "s"}); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644)
		}, `holds "notes.txt", which no claimsbatch run published there`},
		{"a file", func(t *testing.T, dir string) {
			os.Remove(dir)
			os.WriteFile(dir, []byte("x"), 0o644)
		}, "is not a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			os.Mkdir(dir, 0o750)
			tc.setup(t, dir)
			before := tree(t, filepath.Dir(dir))
			err := writeRun(t, dir, PublishOptions{}, map[string]string{"remittance.csv": "r"})
			if !errors.Is(err, ErrOutDir) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrOutDir containing %q", err, tc.want)
			}
			if after := tree(t, filepath.Dir(dir)); !reflect.DeepEqual(after, before) {
				t.Errorf("a refused run changed the directory: %v, was %v", after, before)
			}
			if tc.name == "a file" {
				return
			}
			if err := writeRun(t, dir, PublishOptions{Force: true}, map[string]string{"remittance.csv": "r"}); err != nil {
				t.Fatal(err)
			}
			if got, want := tree(t, dir), []string{"manifest.json", "remittance.csv=r"}; !reflect.DeepEqual(got, want) {
				t.Errorf("forced: %v, want %v", got, want)
			}
		})
	}
	// An empty folder, or one with the debris of an older version's killed
	// run only, is taken.
	dir := filepath.Join(t.TempDir(), "out")
	os.Mkdir(dir, 0o750)
	os.WriteFile(filepath.Join(dir, TempPrefix+"0123-remittance.csv"), []byte("x"), 0o640)
	if err := writeRun(t, dir, PublishOptions{}, map[string]string{"remittance.csv": "r"}); err != nil {
		t.Fatal(err)
	}
	if got, want := tree(t, dir), []string{"manifest.json", "remittance.csv=r"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after debris: %v, want %v", got, want)
	}
}

// TestPublisherLock covers finding 3 ("two runs into the same --out are not
// locked against each other"): a second Publisher for the same folder fails
// at once while the first holds it; after Commit or Abort the lock file is
// gone and the folder can be taken again.
func TestPublisherLock(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	first, err := NewPublisher(dir, PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir + LockSuffix); err != nil {
		t.Errorf("no lock file while a run holds the folder: %v", err)
	}
	_, err = NewPublisher(dir, PublishOptions{})
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "out.lock is held by a run still writing to") {
		t.Fatalf("second publisher: %v, want ErrLocked", err)
	}
	// Through another path to the same folder too.
	if _, err := NewPublisher(filepath.Join(filepath.Dir(dir), ".", "out"), PublishOptions{Force: true}); !errors.Is(err, ErrLocked) {
		t.Errorf("second publisher by another path: %v, want ErrLocked", err)
	}
	first.Abort()
	if _, err := os.Stat(dir + LockSuffix); !os.IsNotExist(err) {
		t.Errorf("lock file after Abort: %v", err)
	}
	if err := writeRun(t, dir, PublishOptions{}, map[string]string{"a.csv": "a"}); err != nil {
		t.Fatal(err)
	}
}

// TestPublisherAbortLeavesNothing covers finding 5 ("a failed run leaves an
// empty --out folder behind"): Abort leaves the folder as it was, and no
// directory the Publisher created.
func TestPublisherAbortLeavesNothing(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "runs", "nightly", "out")
	p, err := NewPublisher(dir, PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := p.Create("remittance.csv")
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("half"))
	p.Abort()
	if got := dirNames(t, root); len(got) != 0 {
		t.Errorf("after Abort: %v in %s, want nothing", got, root)
	}
	// Into an existing run: it stays as it was.
	if err := writeRun(t, dir, PublishOptions{}, map[string]string{"state.csv": "old"}); err != nil {
		t.Fatal(err)
	}
	p, err = NewPublisher(dir, PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.Create("state.csv")
	p.Abort()
	if got, want := tree(t, filepath.Dir(dir)), []string{"out/", "out/manifest.json", "out/state.csv=old"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after an aborted rerun: %v, want %v", got, want)
	}
	// A commit without a manifest publishes nothing.
	p, _ = NewPublisher(dir, PublishOptions{})
	p.Create("state.csv")
	if err := p.Commit(ManifestName); err == nil || !strings.Contains(err.Error(), "manifest \"manifest.json\" was not created") {
		t.Errorf("Commit without a manifest: %v", err)
	}
	if got, want := tree(t, filepath.Dir(dir)), []string{"out/", "out/manifest.json", "out/state.csv=old"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after a failed commit: %v, want %v", got, want)
	}
}

// TestPublisherRepairsKilledRuns covers finding 3 ("a rerun clears
// .claimsbatch-tmp-* debris of a killed run") and the crash windows of the
// swap: a stage is removed, a previous run renamed aside comes back when
// the folder is missing and is removed when it is not.
func TestPublisherRepairsKilledRuns(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	if err := writeRun(t, dir, PublishOptions{}, map[string]string{"state.csv": "previous"}); err != nil {
		t.Fatal(err)
	}
	// Killed while writing: a stage. Killed between the renames: no folder,
	// the previous run aside. Another folder's stage is left alone.
	stage := filepath.Join(parent, TempPrefix+"out-0123456789abcdef")
	os.MkdirAll(filepath.Join(stage, "835"), 0o700)
	os.WriteFile(filepath.Join(stage, "remittance.csv"), []byte("half"), 0o640)
	other := filepath.Join(parent, TempPrefix+"out-b-0123456789abcdef")
	os.Mkdir(other, 0o700)
	if err := os.Rename(dir, filepath.Join(parent, oldPrefix+"out-fedcba9876543210")); err != nil {
		t.Fatal(err)
	}
	p, err := NewPublisher(dir, PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range tree(t, parent) {
		if !strings.HasPrefix(e, filepath.Base(p.stage)) && e != "out.lock=" {
			got = append(got, e)
		}
	}
	if want := []string{TempPrefix + "out-b-0123456789abcdef/", "out/", "out/manifest.json", "out/state.csv=previous"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after the repair: %v, want %v besides the new stage and the lock", got, want)
	}
	p.Abort()
	// Killed after the renames: the folder is the new run, the old one is
	// still aside: removed.
	os.MkdirAll(filepath.Join(parent, oldPrefix+"out-fedcba9876543210"), 0o750)
	if err := writeRun(t, dir, PublishOptions{}, map[string]string{"state.csv": "new"}); err != nil {
		t.Fatal(err)
	}
	if got, want := tree(t, parent), []string{TempPrefix + "out-b-0123456789abcdef/", "out/", "out/manifest.json", "out/state.csv=new"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after a rerun: %v, want %v", got, want)
	}
}

func TestPublisherNames(t *testing.T) {
	p, err := NewPublisher(filepath.Join(t.TempDir(), "out"), PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Abort()
	for _, name := range []string{"", ".", "..", "a//b", "../x", "/abs", `a\b`, "a/./b", "835/" + TempPrefix + "x", TempPrefix + "x"} {
		if _, err := p.Create(name); err == nil {
			t.Errorf("Create(%q) succeeded", name)
		}
	}
	if _, err := p.Create("835/a.835"); err != nil {
		t.Error(err)
	}
	if _, err := p.Create("835/a.835"); err == nil {
		t.Error("the same name twice")
	}
}

func TestPublisherRefusesTheWorkingDirectory(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, out := range []string{".", dir, filepath.Dir(dir), "/"} {
		if _, err := NewPublisher(out, PublishOptions{Force: true}); !errors.Is(err, ErrOutDir) {
			t.Errorf("NewPublisher(%q) = %v, want ErrOutDir", out, err)
		}
	}
}
