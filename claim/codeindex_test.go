package claim

import (
	"fmt"
	"testing"
)

// TestCodeIndex: three-letter codes come back with their numbers, through
// collisions in the table, up to codeMax of them; other lengths and codes
// past a full table are not held; a key is never the empty slot's.
func TestCodeIndex(t *testing.T) {
	var x CodeIndex
	codes := make([]string, 0, codeMax+1)
	for i := range codeMax + 1 {
		codes = append(codes, fmt.Sprintf("%c%c%c", 'A'+i%26, 'A'+i/26, 'Z'-i%7))
	}
	for i, c := range codes[:codeMax] {
		if !x.Put(c, int32(100+i)) {
			t.Fatalf("Put(%q) refused at %d codes", c, i)
		}
	}
	if x.Put(codes[codeMax], 7) {
		t.Errorf("Put of code %d accepted: the table holds %d", codeMax+1, codeMax)
	}
	if _, ok := x.Find(codes[codeMax]); ok {
		t.Errorf("a code the full table refused is found")
	}
	for i, c := range codes[:codeMax] {
		if at, ok := x.Find(c); !ok || at != int32(100+i) {
			t.Errorf("Find(%q) = %d, %v; want %d", c, at, ok, 100+i)
		}
	}
	if !x.Put(codes[3], 9) {
		t.Fatalf("Put of a held code refused in a full table")
	}
	if at, _ := x.Find(codes[3]); at != 9 {
		t.Errorf("Put did not replace %q's number: %d", codes[3], at)
	}
	for _, c := range []string{"", "EU", "EURO", "US$X"} {
		if x.Put(c, 1) {
			t.Errorf("Put(%q) accepted", c)
		}
		if _, ok := x.Find(c); ok {
			t.Errorf("Find(%q) found a code of length %d", c, len(c))
		}
	}
	if _, ok := x.Find("ZZZ"); ok {
		t.Errorf("Find of a code never put found it")
	}
	x = CodeIndex{}
	if !x.Put("\x00\x00\x00", 5) {
		t.Fatalf("Put of three zero bytes refused")
	}
	if at, ok := x.Find("\x00\x00\x00"); !ok || at != 5 {
		t.Errorf("three zero bytes: %d, %v", at, ok)
	}
	if _, ok := x.Find("EUR"); ok {
		t.Errorf("EUR found in an index holding only three zero bytes")
	}
}
