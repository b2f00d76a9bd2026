package writers

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/parquet/compress"
)

// TestParquetCodecs measures the Parquet codecs and dictionary choices on a
// real run's remittance and state: it loads the CSV outputs of a run from
// the directory in $CLAIMSBATCH_CODEC_RUN and writes each table with every
// variant, $CLAIMSBATCH_CODEC_REPEAT times (default 3), printing a Markdown
// table of the file size and the CPU seconds (user + system of the process,
// the fastest of the repeats; the garbage collector's included) of each.
// docs/BENCHMARKS.md ("Parquet codec") has its output for a 2 M-line run:
//
//	claimsbatch run ... --format csv --out /tmp/run2m
//	CLAIMSBATCH_CODEC_RUN=/tmp/run2m go test -run TestParquetCodecs -v -timeout 1h ./writers/
//
// $CLAIMSBATCH_CODEC_ONLY, if set, keeps only the variants whose
// "table/codec/dictionary" holds it (for profiling one). Without
// $CLAIMSBATCH_CODEC_RUN the test is skipped.
func TestParquetCodecs(t *testing.T) {
	dir := os.Getenv("CLAIMSBATCH_CODEC_RUN")
	if dir == "" {
		t.Skip("CLAIMSBATCH_CODEC_RUN is not set")
	}
	repeat := 3
	if s := os.Getenv("CLAIMSBATCH_CODEC_REPEAT"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("CLAIMSBATCH_CODEC_REPEAT=%q: want a positive count", s)
		}
		repeat = n
	}
	codecs := []struct {
		name  string
		codec compress.Compression
		level int
	}{
		{"zstd level 1", compress.Codecs.Zstd, 1},
		{"snappy", compress.Codecs.Snappy, compress.DefaultCompressionLevel},
		{"lz4 (LZ4_RAW)", compress.Codecs.Lz4Raw, compress.DefaultCompressionLevel},
		{"uncompressed", compress.Codecs.Uncompressed, compress.DefaultCompressionLevel},
	}
	dicts := []struct {
		name string
		dict func(colSpec) bool
	}{
		{"none", func(colSpec) bool { return false }},
		{"code columns", func(s colSpec) bool { return s.dict }},
		{"every text column", func(colSpec) bool { return true }},
	}
	defer func(c compress.Compression, l int) { parquetCodec, parquetCodecLevel = c, l }(parquetCodec, parquetCodecLevel)

	fmt.Printf("| table | rows | codec | dictionary | size MiB | bytes/row | CPU s | CPU ns/row |\n|---|---:|---|---|---:|---:|---:|---:|\n")
	for _, tc := range []struct {
		name  string
		specs []colSpec
	}{{"remittance", remittanceSchema}, {"state", stateSchema}} {
		tt, err := loadTextTable(filepath.Join(dir, tc.name+".csv"), tc.specs)
		if err != nil {
			t.Fatal(err)
		}
		measure := func(codec, dict string, open func(*countingWriter) (encoder, error)) {
			if only := os.Getenv("CLAIMSBATCH_CODEC_ONLY"); !strings.Contains(tc.name+"/"+codec+"/"+dict, only) {
				return
			}
			best, size := time.Duration(-1), int64(0)
			for range repeat {
				runtime.GC()
				var out countingWriter
				cpu0 := cpuTime(t)
				enc, err := open(&out)
				if err != nil {
					t.Fatal(err)
				}
				if err := tt.writeTo(enc); err != nil {
					t.Fatal(err)
				}
				cpu := cpuTime(t) - cpu0
				if best < 0 || cpu < best {
					best = cpu
				}
				size = out.n
			}
			fmt.Printf("| %s | %d | %s | %s | %.1f | %.1f | %.2f | %.0f |\n", tc.name, tt.rows, codec, dict,
				float64(size)/(1<<20), float64(size)/float64(tt.rows), best.Seconds(), float64(best.Nanoseconds())/float64(tt.rows))
		}
		measure("zstd level 1 (old writer, pqarrow)", "none", func(out *countingWriter) (encoder, error) {
			return newRefEncoder(out, tc.specs)
		})
		for _, c := range codecs {
			parquetCodec, parquetCodecLevel = c.codec, c.level
			for _, d := range dicts {
				specs := tt.withDict(d.dict)
				measure(c.name, d.name, func(out *countingWriter) (encoder, error) {
					return newParquetEncoder(out, specs)
				})
			}
		}
	}
	fmt.Printf("\n(%d runs each, the fastest counts; %s)\n", repeat, strings.TrimSpace(runtime.Version()))
}
