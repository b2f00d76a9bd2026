// Package arrowmem holds the Arrow memory allocator of the readers and
// writers: a size-class pool (Pool) that keeps Arrow's buffers between row
// groups, installed as Arrow's default allocator by a run (Install).
//
// It imports nothing of ours.
package arrowmem

import (
	"math/bits"
	"sync"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Pool is an Arrow memory.Allocator that keeps the buffers Arrow
// frees, by power-of-two size class, and hands them out again. Arrow's own
// GoAllocator makes a new slice for every allocation and leaves freed ones
// to the garbage collector; a Parquet writer frees and allocates its column
// builders and page buffers once per row group and page, so over a run of
// millions of rows that garbage (measured: about 2 KiB per remittance row)
// was what drove the collector. With the pool the writer's memory is reused
// and the heap stays flat.
//
// Buffers come out zeroed, as from GoAllocator, and 64-byte aligned. At most
// limit bytes are kept in the free lists; beyond that a freed buffer is left
// to the collector. Buffers above the largest class are not pooled. It is safe
// for concurrent use.
type Pool struct {
	mu     sync.Mutex
	free   [maxPoolClass + 1][][]byte
	pooled int64
	limit  int64
}

const (
	minPoolClass = 6  // 64 B
	maxPoolClass = 26 // 64 MiB
)

// NewPool returns a Pool keeping at most limit bytes of freed buffers.
func NewPool(limit int64) *Pool { return &Pool{limit: limit} }

var (
	install sync.Once
	goAlloc = memory.NewGoAllocator() // for what the classes do not cover
)

// Shared is the pool that Install makes Arrow's default allocator.
var Shared = NewPool(64 << 20)

// Install makes Shared Arrow's memory.DefaultAllocator, once per process.
// Arrow's Parquet encoders take their page buffers from a sync.Pool of
// buffers made with the default allocator; the collector empties that pool
// on every cycle, and each page then grows a new buffer from 256 bytes,
// which was a third of a Parquet run's allocations. With Shared behind them
// the regrown buffers are the ones freed before.
func Install() {
	install.Do(func() { memory.DefaultAllocator = Shared })
}

var _ memory.Allocator = (*Pool)(nil)

func poolClass(size int) int {
	if size <= 1<<minPoolClass {
		return minPoolClass
	}
	return bits.Len(uint(size - 1))
}

// Allocate returns a zeroed buffer of length size.
func (a *Pool) Allocate(size int) []byte {
	c := poolClass(size)
	if c > maxPoolClass {
		return goAlloc.Allocate(size)
	}
	a.mu.Lock()
	if n := len(a.free[c]); n > 0 {
		b := a.free[c][n-1]
		a.free[c][n-1] = nil
		a.free[c] = a.free[c][:n-1]
		a.pooled -= int64(cap(b))
		a.mu.Unlock()
		b = b[:size]
		clear(b)
		return b
	}
	a.mu.Unlock()
	b := make([]byte, 1<<c)
	if uintptr(unsafe.Pointer(unsafe.SliceData(b)))%64 != 0 {
		// Go's size classes align powers of two of 64 B and up; keep
		// Arrow's contract even if that ever changes.
		return goAlloc.Allocate(size)
	}
	return b[:size]
}

// Reallocate returns a buffer of length size holding b's bytes (up to
// size), zeroed past them; b is freed if a new buffer was needed.
func (a *Pool) Reallocate(size int, b []byte) []byte {
	if cap(b) >= size {
		old := len(b)
		b = b[:size]
		if size > old {
			clear(b[old:])
		}
		return b
	}
	nb := a.Allocate(size)
	copy(nb, b)
	a.Free(b)
	return nb
}

// Free returns b to its size class, if it came from one and the pool has room.
func (a *Pool) Free(b []byte) {
	c := cap(b)
	if c < 1<<minPoolClass || c > 1<<maxPoolClass || c&(c-1) != 0 ||
		uintptr(unsafe.Pointer(unsafe.SliceData(b)))%64 != 0 {
		return
	}
	a.mu.Lock()
	if a.pooled+int64(c) <= a.limit {
		k := bits.Len(uint(c - 1))
		a.free[k] = append(a.free[k], b[:c])
		a.pooled += int64(c)
	}
	a.mu.Unlock()
}
