package claim

import (
	"math/rand/v2"
	"testing"
	"unsafe"
)

// TestCompareKeyedAgreesWithCompare checks the keys against Compare on
// lines built to tie: a few dates (one before 1970, NoDate), claim ids of
// 0 to 14 bytes from an alphabet with a zero byte (so padded ids collide),
// line numbers at the full key's bound and beyond, and exact ties told
// apart by input order.
func TestCompareKeyedAgreesWithCompare(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	dates := []Date{NoDate, -3, 0, 1, 19000, 19001}
	lineNos := []int32{-1, 0, 1, 2, 9, maxKeyLineNo, maxKeyLineNo + 1, 1<<31 - 1}
	const alphabet = "\x00AB9"
	lines := make([]Line, 600)
	for i := range lines {
		id := make([]byte, rng.IntN(15))
		for j := range id {
			id[j] = alphabet[rng.IntN(len(alphabet))]
		}
		lines[i] = Line{
			ServiceDate:  dates[rng.IntN(len(dates))],
			ReceivedDate: dates[rng.IntN(len(dates))],
			ClaimID:      string(id),
			LineNo:       lineNos[rng.IntN(len(lineNos))],
			Source:       int32(rng.IntN(2)),
			Row:          int64(rng.IntN(3)),
		}
	}
	// Ids that share their first 8 or 12 bytes, and exact copies.
	lines = append(lines,
		Line{ClaimID: "ABCDEFGH"}, Line{ClaimID: "ABCDEFGH\x00"}, Line{ClaimID: "ABCDEFGHA"},
		Line{ClaimID: "ABCDEFGHIJKL"}, Line{ClaimID: "ABCDEFGHIJKL\x00"}, Line{ClaimID: "ABCDEFGHIJKLM"},
		Line{ClaimID: "ABCDEFGHIJK", LineNo: 7}, Line{ClaimID: "ABCDEFGHIJK", LineNo: 7, Row: 1})
	keys := make([]SortKey, len(lines))
	for i := range lines {
		keys[i] = KeyOf(&lines[i])
	}
	full := 0
	for i := range lines {
		if keys[i].Full() {
			full++
		}
		for j := range lines {
			want := Compare(&lines[i], &lines[j])
			if got := CompareKeyed(&keys[i], &keys[j], &lines[i], &lines[j]); got != want {
				t.Fatalf("CompareKeyed(%q %d, %q %d) = %d, Compare = %d", lines[i].ClaimID, lines[i].LineNo, lines[j].ClaimID, lines[j].LineNo, got, want)
			}
		}
	}
	if full == 0 || full == len(lines) {
		t.Fatalf("%d of %d keys full: the test does not reach both kinds", full, len(lines))
	}
}

// TestKeyOfDecidesWithoutTheLines checks that keys that differ decide alone:
// the lines handed to CompareKeyed are not read then.
func TestKeyOfDecidesWithoutTheLines(t *testing.T) {
	a := Line{ServiceDate: 10, ReceivedDate: 12, ClaimID: "C000000550", LineNo: 1}
	b := Line{ServiceDate: 10, ReceivedDate: 12, ClaimID: "C000000550", LineNo: 2}
	c := Line{ServiceDate: 10, ReceivedDate: 12, ClaimID: "C000000725", LineNo: 1}
	ka, kb, kc := KeyOf(&a), KeyOf(&b), KeyOf(&c)
	var junk Line // Compare on it would say 0
	if got := CompareKeyed(&ka, &kb, &junk, &junk); got != -1 {
		t.Errorf("line 1 against line 2 of a claim: %d, want -1", got)
	}
	if got := CompareKeyed(&kc, &ka, &junk, &junk); got != 1 {
		t.Errorf("C000000725 against C000000550: %d, want 1", got)
	}
}

// TestSortKeySize keeps the key at the 24 bytes pipeline's bytesPerLine
// counts for it.
func TestSortKeySize(t *testing.T) {
	if n := unsafe.Sizeof(SortKey{}); n != 24 {
		t.Fatalf("SortKey is %d bytes; pipeline.bytesPerLine counts 24", n)
	}
}
