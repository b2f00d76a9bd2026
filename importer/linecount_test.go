package importer

import (
	"strconv"
	"testing"
)

func TestLineCounter(t *testing.T) {
	var lc lineCounter
	const claims = 5000 // several growths
	for round := uint32(1); round <= 3; round++ {
		for i := 0; i < claims; i++ {
			if got := lc.next("C" + strconv.Itoa(i)); got != round {
				t.Fatalf("claim %d, round %d: line %d", i, round, got)
			}
		}
	}
	if lc.used != claims || len(lc.keys) != 8192 {
		t.Errorf("used %d of %d slots, want %d of 8192", lc.used, len(lc.keys), claims)
	}
	if got := lc.next(""); got != 1 {
		t.Errorf("empty id: %d", got)
	}
}
