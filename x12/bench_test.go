package x12_test

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"claimsbatch/writers"
	"claimsbatch/x12"
)

// BenchmarkGenerate100k: Generate on a 100 000-line run's remittance
// (about 85 000 provider lines, 750 files).
func BenchmarkGenerate100k(b *testing.B) {
	run := runLarge(writers.CSV)
	defer os.RemoveAll(filepath.Dir(run.dir))
	if run.err != nil {
		b.Fatal(run.err)
	}
	discard := func(string) (io.WriteCloser, error) { return nopCloser{io.Discard}, nil }
	b.ReportAllocs()
	for b.Loop() {
		if _, err := x12.Generate(b.Context(), x12.Options{Remittance: filepath.Join(run.dir, "remittance.csv"), Date: asOf, Create: discard, TmpDir: b.TempDir()}); err != nil {
			b.Fatal(err)
		}
	}
}
