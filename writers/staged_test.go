package writers

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStagedPath: a created file can be read back from its staged path
// before the commit (also in a subdirectory); a name not created, and any
// name after the commit, has none.
func TestStagedPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	p, err := NewPublisher(dir, PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Abort()
	for _, name := range []string{"remittance.csv", "835/P1_USD_00000000.835"} {
		f, err := p.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte("data of " + name)); err != nil {
			t.Fatal(err)
		}
		path, err := p.StagedPath(name)
		if err != nil {
			t.Fatal(err)
		}
		if rel, err := filepath.Rel(filepath.Dir(p.Dir()), path); err != nil || !strings.HasPrefix(rel, TempPrefix+"out-") || !strings.HasSuffix(rel, filepath.FromSlash(name)) {
			t.Errorf("%s: staged path %s is not in the stage", name, path)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != "data of "+name {
			t.Errorf("%s: read back %q, %v", name, got, err)
		}
	}
	if _, err := p.StagedPath("payments.csv"); err == nil || !strings.Contains(err.Error(), "not created") {
		t.Errorf("a name not created: %v", err)
	}
	mf, err := p.Create(ManifestName)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteManifest(mf, &Manifest{RunID: "run-test", Outputs: []Output{{Name: "remittance.csv"}, {Name: "835/P1_USD_00000000.835"}}}); err != nil {
		t.Fatal(err)
	}
	if err := p.Commit(ManifestName); err != nil {
		t.Fatal(err)
	}
	if _, err := p.StagedPath("remittance.csv"); !errors.Is(err, ErrClosed) {
		t.Errorf("after the commit: %v, want ErrClosed", err)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "835", "P1_USD_00000000.835")); err != nil || string(got) != "data of 835/P1_USD_00000000.835" {
		t.Errorf("published 835: %q, %v", got, err)
	}
}

func TestTurnaroundCheck(t *testing.T) {
	hist := func(entries ...int64) []int64 {
		h := make([]int64, TurnaroundBuckets)
		copy(h, entries)
		return h
	}
	ok := Turnaround{TargetDays: 5, Lines: 10, Within: 7, Over: 3, Histogram: hist(1, 2, 0, 0, 3, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 1)}
	if err := ok.Check(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		edit func(*Turnaround)
		want string
	}{
		{"within + over", func(t *Turnaround) { t.Over = 4 }, "within_target 7 + over_target 4 != lines 10"},
		{"short histogram", func(t *Turnaround) { t.Histogram = t.Histogram[:15] }, "the histogram has 15 entries, want 16"},
		{"histogram total", func(t *Turnaround) { t.Histogram[15] = 2 }, "the histogram adds up to 11 lines, lines is 10"},
		{"within by histogram", func(t *Turnaround) { t.Histogram[5], t.Histogram[6] = 0, 3 }, "the histogram has 6 lines within 5 business days, within_target is 7"},
		{"negative entry", func(t *Turnaround) { t.Histogram[0], t.Histogram[1] = -1, 4 }, "histogram entry 0 is negative"},
		{"target", func(t *Turnaround) { t.TargetDays = 15 }, "target_business_days 15 is not between 0 and 14"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			c.Histogram = append([]int64(nil), ok.Histogram...)
			tc.edit(&c)
			if err := c.Check(); err == nil || !strings.HasSuffix(err.Error(), tc.want) {
				t.Errorf("%v, want ...%s", err, tc.want)
			}
		})
	}
}
