package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"testing"
)

// TestDefaultPGO checks the profile go build optimises the binary with
// (default.pgo, made by `make pgo`): a gzip-compressed pprof CPU profile
// whose samples fall in the pipeline's packages. A file that does not parse
// fails the build itself; a profile of another program, or of nothing,
// would build and silently optimise nothing.
func TestDefaultPGO(t *testing.T) {
	f, err := os.Open("default.pgo")
	if err != nil {
		t.Fatalf("the committed profile: %v (make pgo writes it)", err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("default.pgo is not a gzip-compressed pprof profile: %v", err)
	}
	data, err := io.ReadAll(z)
	if err != nil {
		t.Fatalf("default.pgo: %v", err)
	}
	// A profile's string table holds its sample type and the names of the
	// functions of its samples.
	for _, want := range []string{"cpu", "nanoseconds",
		"claimsbatch/readers.", "claimsbatch/pipeline.", "claimsbatch/engine.", "claimsbatch/writers.", "claimsbatch/spill."} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("default.pgo does not name %q: not a CPU profile of a claimsbatch run (regenerate it with make pgo)", want)
		}
	}
}
