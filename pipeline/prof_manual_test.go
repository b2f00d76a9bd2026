package pipeline

import (
	"context"
	"os"
	"runtime/pprof"
	"testing"
)

func TestManualProfile(t *testing.T) {
	dir := os.Getenv("PROF_DATA")
	if dir == "" {
		t.Skip()
	}
	f, _ := os.Create("/tmp/cpu.prof")
	pprof.StartCPUProfile(f)
	_, err := Run(context.Background(), Config{Claims: []string{dir + "/claims.csv"}, Members: dir + "/members.csv", FX: dir + "/fx.csv", OutDir: t.TempDir(), Workers: 2})
	pprof.StopCPUProfile()
	if err != nil {
		t.Fatal(err)
	}
	h, _ := os.Create("/tmp/heap.prof")
	pprof.WriteHeapProfile(h)
}
