package arrowmem

import (
	"testing"
	"unsafe"
)

func TestPoolReusesZeroedAlignedBuffers(t *testing.T) {
	a := NewPool(1 << 20)
	b := a.Allocate(100)
	if len(b) != 100 || cap(b) != 128 {
		t.Fatalf("Allocate(100): len %d cap %d, want 100 and 128", len(b), cap(b))
	}
	for i := range b {
		b[i] = 0xAA
	}
	a.Free(b)
	c := a.Allocate(120)
	if unsafe.SliceData(c) != unsafe.SliceData(b) {
		t.Fatal("a freed buffer of the same class was not reused")
	}
	for i, v := range c {
		if v != 0 {
			t.Fatalf("reused buffer byte %d = %#x, want 0", i, v)
		}
	}
	if uintptr(unsafe.Pointer(unsafe.SliceData(c)))%64 != 0 {
		t.Fatal("buffer not 64-byte aligned")
	}
	// Growing within the class keeps the buffer and zeroes the new bytes.
	c = c[:10]
	c[0] = 7
	for i := range c[:cap(c)] {
		if i > 0 {
			c[:cap(c)][i] = 0xBB
		}
	}
	d := a.Reallocate(64, c)
	if unsafe.SliceData(d) != unsafe.SliceData(c) || d[0] != 7 || d[10] != 0 || d[63] != 0 {
		t.Fatalf("Reallocate within the class: %v", d[:12])
	}
	// Growing past it copies into a bigger class and frees the old one.
	e := a.Reallocate(1000, d)
	if len(e) != 1000 || cap(e) != 1024 || e[0] != 7 || e[999] != 0 {
		t.Fatalf("Reallocate past the class: len %d cap %d", len(e), cap(e))
	}
	if got := a.Allocate(128); unsafe.SliceData(got) != unsafe.SliceData(d) {
		t.Fatal("the buffer Reallocate outgrew was not returned to the pool")
	}
}

func TestPoolKeepsAtMostItsLimit(t *testing.T) {
	a := NewPool(1024)
	x, y := a.Allocate(1024), a.Allocate(1024)
	a.Free(x)
	a.Free(y) // over the limit: left to the collector
	if a.pooled != 1024 || len(a.free[10]) != 1 {
		t.Fatalf("pooled %d bytes in %d buffers, want 1024 in 1", a.pooled, len(a.free[10]))
	}
	// Odd-sized, oversized and foreign buffers are never pooled.
	a.Free(make([]byte, 100))
	a.Free(make([]byte, 0, 1<<27))
	if a.pooled != 1024 {
		t.Fatalf("pooled %d after foreign frees", a.pooled)
	}
	if big := a.Allocate(1<<26 + 1); len(big) != 1<<26+1 {
		t.Fatalf("oversized allocation has length %d", len(big))
	}
}
