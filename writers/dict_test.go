package writers

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
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
