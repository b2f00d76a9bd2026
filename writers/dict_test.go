package writers

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/file"

	"claimsbatch/claim"
)

// column returns the data and ends of a text column holding values.
func column(values []string) ([]byte, []int32) {
	var data []byte
	ends := make([]int32, len(values))
	for i, v := range values {
		data = append(data, v...)
		ends[i] = int32(len(data))
	}
	return data, ends
}

// checkDict builds d on values and checks the result against a plain
// reading of the column: when build succeeds, every row's index gives its
// value back, the dictionary holds each distinct value once, in the order
// of first occurrence; when it fails, the column really exceeds a limit.
func checkDict(t *testing.T, d *textDict, values []string) bool {
	t.Helper()
	data, ends := column(values)
	ok := d.build(data, ends)
	checkAdd(t, values, ok, d)

	var distinct []string
	seen := map[string]bool{}
	size := 0
	for _, v := range values {
		if !seen[v] {
			seen[v] = true
			distinct = append(distinct, v)
			size += len(v)
		}
	}
	maxDistinct := max(len(values)*maxDictShareNum/maxDictShareDen, 1)
	if !ok {
		if len(distinct) <= maxDistinct && size <= maxDictBytes {
			t.Fatalf("build gave up on %d values with %d distinct (%d bytes); the limits are %d and %d bytes",
				len(values), len(distinct), size, maxDistinct, maxDictBytes)
		}
		return false
	}
	if len(distinct) > maxDistinct {
		t.Fatalf("build kept a dictionary of %d values for %d rows (limit %d)", len(distinct), len(values), maxDistinct)
	}
	if d.size() != len(distinct) {
		t.Fatalf("dictionary of %d values, want %d", d.size(), len(distinct))
	}
	for i, v := range distinct {
		if got := string(d.value(int32(i))); got != v {
			t.Fatalf("dictionary value %d = %q, want %q (first-occurrence order)", i, got, v)
		}
	}
	if int(d.offs[d.size()]) != len(d.vals) {
		t.Fatalf("dictionary bytes %d, offsets end at %d", len(d.vals), d.offs[d.size()])
	}
	if len(d.idx) != len(values) {
		t.Fatalf("%d indices for %d rows", len(d.idx), len(values))
	}
	for i, v := range values {
		if got := string(d.value(d.idx[i])); got != v {
			t.Fatalf("row %d: index %d gives %q, want %q", i, d.idx[i], got, v)
		}
	}
	return true
}

// checkAdd gives values to a textDict row by row (add), as the Parquet
// encoder does for a dictionary column, and checks that it ends where
// build did: the same dictionary and indices when build kept one (built
// is then d), and when build gave up, a value refused for the byte limit
// or a dictionary that does not fit the share rule.
func checkAdd(t *testing.T, values []string, ok bool, built *textDict) {
	t.Helper()
	a := newTextDict()
	a.begin()
	refused := false
	for _, v := range values {
		if !a.add(v) {
			refused = true
			break
		}
	}
	if got := !refused && a.fits(); got != ok {
		t.Fatalf("row by row: kept %v (refused a value: %v, fits: %v), build kept %v", got, refused, a.fits(), ok)
	}
	if !ok {
		return
	}
	if !slices.Equal(a.offs, built.offs) || !bytes.Equal(a.vals, built.vals) || !slices.Equal(a.idx, built.idx) {
		t.Fatalf("row by row: %d values, %d indices; build: %d values, %d indices, or their contents differ",
			a.size(), len(a.idx), built.size(), len(built.idx))
	}
	// Reused for another column, it starts empty.
	a.begin()
	if a.size() != 0 || len(a.idx) != 0 || !a.add("x") || a.size() != 1 || a.idx[0] != 0 {
		t.Fatalf("after begin: %d values, %d indices", a.size(), len(a.idx))
	}
}

func TestTextDict(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		ok     bool
	}{
		{"one row", []string{"run-1"}, true},
		{"one empty row", []string{""}, true},
		{"a run of one value", strings.Split(strings.Repeat("EUR,", 1000)+"EUR", ","), true},
		{"codes", []string{"PAID", "DENIED", "PAID", "PARTIAL", "", "DENIED", "", "PAID"}, true},
		{"half distinct", []string{"a", "b", "a", "b"}, true},
		{"more than half distinct", []string{"a", "b", "c", "a"}, false},
		{"all distinct", []string{"C1", "C2", "C3", "C4", "C5", "C6"}, false},
		{"prefixes", []string{"a", "ab", "abc", "a", "ab", "abc"}, true},
		{"empty and not", []string{"", "x", "", "x"}, true},
		{"invalid UTF-8 bytes", []string{"\xff", "\xfe", "\xff", "\xfe"}, true},
	}
	d := newTextDict()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkDict(t, d, tt.values); got != tt.ok {
				t.Errorf("build = %v, want %v", got, tt.ok)
			}
		})
	}
}

// TestTextDictLarge covers the table's growth past its first 1024 slots,
// the reuse of its buffers from one column to the next, and the byte limit.
func TestTextDictLarge(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	d := newTextDict()
	for _, tc := range []struct{ rows, distinct, length int }{
		{32 << 10, 3, 8},
		{32 << 10, 5000, 12},
		{32 << 10, 16 << 10, 6}, // exactly half: kept
		{32 << 10, 20000, 6},    // beyond half: plain
		{200, 40, 40 << 10},     // 1.6 MiB of distinct text: plain
		{10, 2, 1000},
	} {
		t.Run(fmt.Sprintf("%d_rows_%d_distinct_of_%d_bytes", tc.rows, tc.distinct, tc.length), func(t *testing.T) {
			pool := make([]string, tc.distinct)
			for i := range pool {
				b := make([]byte, tc.length)
				for j := range b {
					b[j] = byte('a' + rng.IntN(26))
				}
				copy(b, fmt.Sprint(i)) // distinct whatever the random letters
				pool[i] = string(b)
			}
			values := make([]string, tc.rows)
			for i := range values {
				if i < len(pool) {
					values[i] = pool[i] // every value occurs
				} else {
					values[i] = pool[rng.IntN(len(pool))]
				}
			}
			rng.Shuffle(len(values), func(i, j int) { values[i], values[j] = values[j], values[i] })
			checkDict(t, d, values)
		})
	}
}

// FuzzTextDict builds dictionaries of columns cut from the fuzzer's bytes
// (values separated by 0x00, or a run of one value), twice in a row on one
// textDict, and checks each against a plain reading.
func FuzzTextDict(f *testing.F) {
	for _, s := range [][]byte{
		nil, []byte("a"), []byte("a\x00b\x00a\x00b"), []byte("\x00\x00\x00"), []byte("PAID\x00DENIED\x00PAID\x00PAID"),
		bytes.Repeat([]byte("x\x00"), 3000), []byte("\xff\x00\xfe\x00\xff"),
	} {
		f.Add(s, uint8(0))
	}
	d := newTextDict()
	f.Fuzz(func(t *testing.T, b []byte, repeat uint8) {
		values := strings.Split(string(b), "\x00")
		for range int(repeat % 4) {
			values = append(values, values...)
		}
		checkDict(t, d, values)
		// A second column on the same buffers.
		rev := make([]string, len(values))
		for i, v := range values {
			rev[len(values)-1-i] = v
		}
		checkDict(t, d, rev)
	})
}

// TestParquetCodesAsCollected writes the same exceptions with the
// dictionary columns' codes collected as the rows come and with their text
// collected and encoded when the row group is written (the encoder before
// collectCodes): the files must be the same bytes, and read back the rows.
// The columns are made to take every path: codes throughout (code); a
// dictionary refused for the byte limit in the middle of a row group, the
// rows so far turned into text (field); dictionaries that hold invalid
// UTF-8, which is replaced, merging two values, or that break the share
// rule (source, in the second row group and the first); a dictionary column reaching maxGroupText and cutting the
// row group (code, in the last part).
func TestParquetCodesAsCollected(t *testing.T) {
	ex := benchExceptions(2*rowGroupRows + 20000)
	long := strings.Repeat("x", 5<<10)
	for i := range ex {
		x := &ex[i]
		switch {
		case i < rowGroupRows/2:
			x.Field = fmt.Sprintf("f%d", i%7)
			x.Source = fmt.Sprintf("part-%d.csv", i) // all distinct: plain
		case i < rowGroupRows/2+300:
			// 4 KiB values, all distinct: past 1 MiB after 256 of them.
			x.Field = fmt.Sprintf("%04d", i%5000) + long[:4<<10]
		case i < rowGroupRows:
			x.Field = fmt.Sprintf("g%d", i%7)
		case i < 2*rowGroupRows:
			x.Source = []string{"a\xff", "a\xfe", "b.csv", "c\xc3"}[i%4]
		default:
			x.Code = claim.ExceptionCode(long[:2<<10+i%3]) // 2 KiB codes: 16 MiB within a group
		}
	}
	write := func(collect bool) []byte {
		t.Helper()
		defer func(old bool) { collectCodes = old }(collectCodes)
		collectCodes = collect
		var buf bytes.Buffer
		w, err := NewExceptionsWriter(&buf, Parquet)
		if err != nil {
			t.Fatal(err)
		}
		if err := writeChunks(w, ex, 1000); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	text, codes := write(false), write(true)
	if !bytes.Equal(codes, text) {
		t.Fatalf("codes collected: %d bytes, differ from the text collected (%d bytes)", len(codes), len(text))
	}
	pf, err := file.NewParquetReader(bytes.NewReader(codes))
	if err != nil {
		t.Fatal(err)
	}
	groups := pf.NumRowGroups()
	pf.Close()
	if groups < 5 {
		t.Errorf("%d row groups: the 2 KiB codes did not cut any early", groups)
	}
	got := readWithXitongsys(t, codes, exceptionsSchema)
	for i, row := range got {
		src := strings.ToValidUTF8(ex[i].Source, "\uFFFD")
		if row[0] != src || row[5] != string(ex[i].Code) || row[6] != ex[i].Field {
			t.Fatalf("row %d: source %q code %.20q field %.20q, want %q %.20q %.20q", i+1, row[0], row[5], row[6], src, ex[i].Code, ex[i].Field)
		}
	}
}
