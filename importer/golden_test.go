package importer

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"claimsbatch/readers"
	"claimsbatch/writers"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/import/*/want")

// The shared real samples (testdata/import/*/in, README there) imported with
// the built-in profiles: every output is compared byte for byte with
// testdata/import/*/want. After an intended change: go test ./importer/ -run
// Golden -update, and review the diff.
var goldenSamples = []string{"synthea", "cms-desynpuf"}

func TestGoldenImports(t *testing.T) {
	for _, name := range goldenSamples {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("..", "testdata", "import", name)
			p, err := Builtin(name)
			if err != nil {
				t.Fatal(err)
			}
			out := t.TempDir()
			if _, err := Import(context.Background(), p, Options{In: filepath.Join(dir, "in"), Out: out, Version: "test"}); err != nil {
				t.Fatal(err)
			}
			files := []string{"claims.csv", "members.csv", "exceptions.csv", "manifest.json"}
			for _, f := range files {
				got, err := os.ReadFile(filepath.Join(out, f))
				if err != nil {
					t.Fatal(err)
				}
				want := filepath.Join(dir, "want", f)
				if *update {
					if err := os.MkdirAll(filepath.Dir(want), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(want, got, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				wantData, err := os.ReadFile(want)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if !bytes.Equal(got, wantData) {
					t.Errorf("%s differs from %s (run with -update and review the diff):\n%s", f, want, firstDiff(string(got), string(wantData)))
				}
			}
			entries, _ := os.ReadDir(out)
			if len(entries) != len(files) {
				t.Errorf("published %d files, want %d", len(entries), len(files))
			}
		})
	}
}

// firstDiff shows the first line where got and want differ.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + itoa(int64(i+1)) + ":\n  got  " + gl + "\n  want " + wl
		}
	}
	return ""
}

// The same import in Parquet reads back, through the readers claimsbatch
// run uses, as the very same values as the CSV one; and importing twice
// gives the same bytes.
func TestParquetOutputMatchesCSV(t *testing.T) {
	for _, name := range goldenSamples {
		t.Run(name, func(t *testing.T) {
			p, err := Builtin(name)
			if err != nil {
				t.Fatal(err)
			}
			in := filepath.Join("..", "testdata", "import", name, "in")
			csvOut, pqOut, again := t.TempDir(), t.TempDir(), t.TempDir()
			for _, run := range []struct {
				dir    string
				format writers.Format
			}{{csvOut, writers.CSV}, {pqOut, writers.Parquet}, {again, writers.Parquet}} {
				if _, err := Import(context.Background(), p, Options{In: in, Out: run.dir, Format: run.format, Version: "test"}); err != nil {
					t.Fatal(err)
				}
			}
			for _, tc := range []struct {
				stem string
				t    *target
			}{{"claims", claimsTarget}, {"members", membersTarget}} {
				a := readAll(t, filepath.Join(csvOut, tc.stem+".csv"), tc.t)
				b := readAll(t, filepath.Join(pqOut, tc.stem+".parquet"), tc.t)
				if len(a) == 0 || strings.Join(a, "\n") != strings.Join(b, "\n") {
					t.Errorf("%s: Parquet reads back differently from CSV (%d and %d rows)", tc.stem, len(a), len(b))
				}
				x, _ := os.ReadFile(filepath.Join(pqOut, tc.stem+".parquet"))
				y, _ := os.ReadFile(filepath.Join(again, tc.stem+".parquet"))
				if !bytes.Equal(x, y) {
					t.Errorf("%s.parquet: two imports of the same extract differ", tc.stem)
				}
			}
		})
	}
}

func readAll(t *testing.T, path string, tg *target) []string {
	t.Helper()
	cols := make([]readers.TableColumn, len(tg.columns))
	for i, c := range tg.columns {
		cols[i] = readers.TableColumn{Name: c.name}
	}
	r, err := readers.OpenTable(path, cols, readers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []string
	for r.Next() {
		out = append(out, strings.Join(r.Record(), "|"))
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
