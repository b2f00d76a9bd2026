package importer

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"claimsbatch/writers"
)

// extract is a small extract and profile written to a temporary directory.
type extract struct {
	profile string            // the profile's YAML
	tables  map[string]string // code tables next to the profile: file name -> content
	files   map[string]string // files of --in: name -> content
	set     []Setting
	format  writers.Format
}

// result is what an import published.
type result struct {
	dir      string
	manifest *Manifest
}

// run writes the extract, loads the profile and imports; it returns the
// published directory and manifest, or the error.
func (x extract) run(t *testing.T) (*result, error) {
	t.Helper()
	root := t.TempDir()
	pdir := filepath.Join(root, "profile")
	in := filepath.Join(root, "in")
	for _, d := range []string{pdir, in} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(dir string, files map[string]string) {
		for name, content := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(pdir, x.tables)
	write(in, x.files)
	write(pdir, map[string]string{"p.yaml": x.profile})
	p, err := Load(filepath.Join(pdir, "p.yaml"))
	if err != nil {
		return nil, err
	}
	out := filepath.Join(root, "out")
	m, err := Import(context.Background(), p, Options{In: in, Out: out, Set: x.set, Version: "test", Format: x.format})
	if err != nil {
		return nil, err
	}
	return &result{dir: out, manifest: m}, nil
}

// mustRun is run that fails the test on an error.
func (x extract) mustRun(t *testing.T) *result {
	t.Helper()
	r, err := x.run(t)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// table returns the named columns of a published CSV file, one "a|b|c"
// string per row (header left out).
func (r *result) table(t *testing.T, file string, cols ...string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(r.dir, file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	idx := make([]int, len(cols))
	for i, c := range cols {
		idx[i] = -1
		for j, h := range recs[0] {
			if h == c {
				idx[i] = j
			}
		}
		if idx[i] < 0 {
			t.Fatalf("%s has no column %s (header %v)", file, c, recs[0])
		}
	}
	var out []string
	for _, rec := range recs[1:] {
		vals := make([]string, len(idx))
		for i, j := range idx {
			vals[i] = rec[j]
		}
		out = append(out, strings.Join(vals, "|"))
	}
	return out
}

// stats returns the manifest's accounting of one file and use as
// "read=N mapped=N filter=N ... exceptions=N lines=N".
func (r *result) stats(file, use string) string {
	for _, s := range r.manifest.Sources {
		if s.File != file || !strings.HasPrefix(s.Use, use) {
			continue
		}
		var b strings.Builder
		b.WriteString("read=" + itoa(s.RowsRead) + " mapped=" + itoa(s.Mapped))
		for _, f := range s.Filtered {
			b.WriteString(" " + f.Filter + "=" + itoa(f.Rows))
		}
		b.WriteString(" exceptions=" + itoa(s.Exceptions))
		if s.Lines > 0 {
			b.WriteString(" lines=" + itoa(s.Lines))
		}
		return b.String()
	}
	return "no stats for " + file + " " + use
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func equalLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\ngot\n  %s\nwant\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// minimal claims defaults for test profiles.
const claimDefaults = `
defaults:
  country: US
  currency: USD
  benefit_code: OP_CONSULTATION
`
