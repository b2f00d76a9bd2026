package readers

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/snappy"
)

func TestExpansionBudget(t *testing.T) {
	tests := []struct {
		size  int64
		ratio int
		want  int64
	}{
		{0, 100, 64 << 20},
		{1 << 10, 100, 64 << 20},
		{1 << 20, 100, 100 << 20},
		{1 << 30, 100, 100 << 30},
		{1 << 30, 1000, 1000 << 30},
		{1 << 60, 100, 1 << 62}, // no overflow
		{-1, 100, 1 << 62},      // unknown size: no bound
	}
	for _, tt := range tests {
		if got := expansionBudget(tt.size, tt.ratio); got != tt.want {
			t.Errorf("expansionBudget(%d, %d) = %d, want %d", tt.size, tt.ratio, got, tt.want)
		}
	}
}

// lowFloor lowers the expansion budget's floor for one test, so that small
// files can exceed it.
func lowFloor(t *testing.T, floor int64) {
	old := minExpansionBudget
	minExpansionBudget = floor
	t.Cleanup(func() { minExpansionBudget = old })
}

// repetitive returns a claims CSV of n identical good rows: it gzips about
// 1000 to 1.
func repetitive(n int) []byte {
	header := "claim_id,line_no,member_id,service_date,benefit_code,country,currency,billed_amount,note\n"
	row := "C1,1,M1,2024-01-05,HOSPITAL_ACCOMMODATION,FR,EUR,1.00," + strings.Repeat("n", 1000) + "\n"
	return []byte(header + strings.Repeat(row, n))
}

func TestGzipExpansion(t *testing.T) {
	lowFloor(t, 1<<20)
	data := repetitive(3000) // 3 MB
	gz := gzipBytes(t, data)
	_, err := readClaims(t, writeFile(t, "claims.csv.gz", gz), Options{})
	want := fmt.Sprintf("claims.csv.gz: row 1025: decompressed more than 1048576 bytes from a file of %d bytes (the limit is 100× the file's size, at least 1 MiB): a decompression bomb?", len(gz))
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v\nwant ErrCorrupt containing %q", err, want)
	}
	// A higher ratio lets it through, and the limit is for compressed files only.
	if res, err := readClaims(t, writeFile(t, "claims.csv.gz", gz), Options{MaxExpansion: 2000}); err != nil || res.rows != 3000 {
		t.Errorf("MaxExpansion 2000: %d rows, err %v", res.rows, err)
	}
	if res, err := readClaims(t, writeFile(t, "claims.csv", data), Options{}); err != nil || res.rows != 3000 {
		t.Errorf("plain CSV: %d rows, err %v", res.rows, err)
	}
}

// noteParquet is a claims Parquet file whose unused column note holds the
// same value on every row: dictionary encoded, it compresses to almost
// nothing however long the value.
func noteParquet(t *testing.T, rows int, note string) []byte {
	cols := []arrowColumn{
		{"claim_id", arrow.BinaryTypes.String}, {"line_no", arrow.BinaryTypes.String}, {"member_id", arrow.BinaryTypes.String},
		{"service_date", arrow.BinaryTypes.String}, {"benefit_code", arrow.BinaryTypes.String}, {"country", arrow.BinaryTypes.String},
		{"currency", arrow.BinaryTypes.String}, {"billed_amount", arrow.BinaryTypes.String}, {"note", arrow.BinaryTypes.String},
	}
	var data []map[string]string
	for i := range rows {
		data = append(data, map[string]string{"claim_id": fmt.Sprint("C", i), "line_no": "1", "member_id": "M1", "service_date": "2024-01-05",
			"benefit_code": "HOSPITAL_ACCOMMODATION", "country": "FR", "currency": "EUR", "billed_amount": "1.00", "note": note})
	}
	return writeArrow(t, cols, data, int64(rows))
}

func TestParquetExpansion(t *testing.T) {
	data := noteParquet(t, 500, strings.Repeat("n", 20_000)) // decodes to 10 MB
	if res, err := readClaims(t, writeFile(t, "c.parquet", data), Options{}); err != nil || res.rows != 500 {
		t.Fatalf("under the default floor: %d rows, err %v", res.rows, err)
	}
	lowFloor(t, 1<<20)
	_, err := readClaims(t, writeFile(t, "c.parquet", data), Options{})
	want := fmt.Sprintf("c.parquet: row 1: decoded more than 1048576 bytes from a file of %d bytes (the limit is 100× the file's size, at least 1 MiB): a decompression bomb?", len(data))
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v\nwant ErrCorrupt containing %q", err, want)
	}
}

// TestBoundedCodecs: a zstd frame or a snappy block that declares a huge
// size fails to decode without allocating it (arrow-go's own codecs
// allocated the declared size first: gigabytes for a page of a few bytes).
func TestBoundedCodecs(t *testing.T) {
	// A zstd frame declaring 6 GiB of content (not single-segment, 1 KiB
	// window), holding one raw byte.
	frame := []byte{0x28, 0xb5, 0x2f, 0xfd, 0xc0, 0x00}
	frame = binary.LittleEndian.AppendUint64(frame, 6<<30)
	frame = append(frame, 0x09, 0x00, 0x00, 'x')
	// A snappy block declaring 3 GiB.
	block := binary.AppendUvarint(nil, 3<<30)
	block = append(block, snappy.Encode(nil, []byte("hello"))[1:]...)

	for _, tt := range []struct {
		name  string
		codec compress.Compression
		src   []byte
	}{
		{"zstd", compress.Codecs.Zstd, frame},
		{"snappy", compress.Codecs.Snappy, block},
	} {
		t.Run(tt.name, func(t *testing.T) {
			codec, err := compress.GetCodec(tt.codec)
			if err != nil {
				t.Fatal(err)
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err = compress.Decode(codec, make([]byte, 100), tt.src)
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Error("decoded")
			}
			if grown := after.TotalAlloc - before.TotalAlloc; grown > 16<<20 {
				t.Errorf("decoding allocated %d MiB", grown>>20)
			}

			// Valid data decodes as before, into a destination of its size.
			want := bytes.Repeat([]byte("claims "), 10_000)
			encoded := codec.Encode(nil, want)
			got, err := compress.Decode(codec, make([]byte, len(want)), encoded)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("round trip: err %v, equal %v", err, bytes.Equal(got, want))
			}
			if _, err := compress.Decode(codec, make([]byte, len(want)-1), encoded); err == nil {
				t.Error("decoded into a destination smaller than the data")
			}
		})
	}
}

// TestClaimsRowLimitExact: a record longer than MaxRowBytes fails the read
// even when the reader had buffered it whole (it used to pass then).
func TestClaimsRowLimitExact(t *testing.T) {
	header := "claim_id,line_no,member_id,service_date,benefit_code,country,currency,billed_amount,a,b\n"
	row := func(id string, n int) string {
		return id + ",1,M1,2024-01-05,HOSPITAL_ACCOMMODATION,FR,EUR,1," + strings.Repeat("a", n) + "," + strings.Repeat("b", n) + "\n"
	}
	opt := Options{MaxRowBytes: 10_000, MaxFieldBytes: 8_000}
	prefix := len(row("C2", 0))
	for _, tt := range []struct {
		name string
		size int // of the second record, line end included
		fail bool
	}{
		{"at the limit", 10_000, false},
		{"one byte over", 10_001, true},
		{"far over", 15_000, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			long := strings.Replace(row("C2", 5_000), strings.Repeat("b", 5_000), strings.Repeat("b", tt.size-prefix-5_000), 1)
			if len(long) != tt.size {
				t.Fatalf("row is %d bytes", len(long))
			}
			res, err := readClaims(t, writeFile(t, "c.csv", []byte(header+row("C1", 1)+long+row("C3", 1))), opt)
			if tt.fail {
				if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "c.csv: row 2: record longer than 10000 bytes") {
					t.Errorf("err = %v", err)
				}
				return
			}
			if err != nil || res.rows != 3 || len(res.lines) != 3 {
				t.Errorf("err %v, rows %d, lines %d", err, res.rows, len(res.lines))
			}
		})
	}
	t.Run("header", func(t *testing.T) {
		wide := header[:len(header)-1] + "," + strings.Repeat("x", 10_000) + "\n"
		_, err := readClaims(t, writeFile(t, "c.csv", []byte(wide+row("C1", 1))), opt)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "c.csv: record longer than 10000 bytes") {
			t.Errorf("err = %v", err)
		}
	})
}
