package x12_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"claimsbatch/claim"
	"claimsbatch/pipeline"
	"claimsbatch/writers"
	"claimsbatch/x12"
)

// TestParquetRemittance: the sample adjudicated to Parquet (under the CSV
// golden run's id) gives the golden 835s byte for byte: Generate reads a
// Parquet remittance as it reads a CSV one.
func TestParquetRemittance(t *testing.T) {
	const sample = "../testdata/sample"
	out := filepath.Join(t.TempDir(), "run")
	_, err := pipeline.Run(context.Background(), pipeline.Config{
		Claims: []string{sample + "/claims.csv"}, Members: sample + "/members.csv", FX: sample + "/fx.csv",
		OutDir: out, Format: writers.Parquet, RunID: "run-22f6c7c4d7118c216c81", TmpDir: t.TempDir(),
		AsOf: claim.FromCivil(2025, 5, 2),
	})
	if err != nil {
		t.Fatal(err)
	}
	files, data := generate(t, x12.Options{Remittance: filepath.Join(out, "remittance.parquet"), Date: claim.FromCivil(2025, 5, 2)})
	if len(files) != 19 {
		t.Fatalf("%d files", len(files))
	}
	for _, f := range files {
		want, err := os.ReadFile(filepath.Join("testdata/golden/default", f.Name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(data[f.Name], want) {
			t.Errorf("%s from Parquet differs from its golden file", f.Name)
		}
	}
	problems, err := x12.Reconcile(files, filepath.Join(out, "payments.parquet"))
	if err != nil || len(problems) > 0 {
		t.Errorf("Reconcile with payments.parquet: %v %v", problems, err)
	}
}
