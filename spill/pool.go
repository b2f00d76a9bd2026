package spill

import "sync"

// BlockPool keeps the blocks decoders read partition files into, for the
// next partition: a run reads each record back once, and a new block for
// each MiB read was zeroed by the allocator only to be overwritten (half a
// second of a 10 M-line run) and then collected. A pool's blocks are
// handed out as they were left: a decoder exposes only what it read into
// them.
//
// Blocks go back with Put once nothing points into them any more (no
// string decoded from them is used again): the caller knows when, the pool
// cannot check. Built with the spillcheck tag, Put overwrites every block
// it takes back, so a string that outlived its block shows as changed
// output in the tests (make test-race builds with it).
type BlockPool struct {
	mu           sync.Mutex
	free         [][]byte
	most         int
	size         int   // of a block
	made, reused int64 // blocks made and handed out again, for Stats
}

// NewBlockPool returns a pool that keeps at most blocks blocks of size
// bytes (0: the decoders' own, 1 MiB); the others are left to the
// collector. The decoders of a pool read files into blocks of its size.
// Tests take small ones, to have many on small inputs.
func NewBlockPool(blocks, size int) *BlockPool {
	if size <= 0 {
		size = ReadBlockSize
	}
	return &BlockPool{most: blocks, size: size}
}

// get returns a block of the pool's size, not cleared.
func (p *BlockPool) get() []byte {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
		p.reused++
		p.mu.Unlock()
		return b
	}
	p.made++
	p.mu.Unlock()
	return make([]byte, p.size)
}

// Stats returns how many blocks the pool made and how many times it
// handed one out again; nothing for a nil pool.
func (p *BlockPool) Stats() (made, reused int64) {
	if p == nil {
		return 0, 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.made, p.reused
}

// Put gives blocks (from Decoder.TakeBlocks) back for reuse. Nothing may
// use a string or record decoded from them afterwards. A nil pool takes
// nothing (the blocks are left to the collector).
func (p *BlockPool) Put(blocks [][]byte) {
	if p == nil {
		return
	}
	for _, b := range blocks {
		if cap(b) != p.size {
			continue
		}
		b = b[:p.size]
		if poisonRecycled {
			for i := range b {
				b[i] = 0xA5
			}
		}
		p.mu.Lock()
		if len(p.free) < p.most {
			p.free = append(p.free, b)
		}
		p.mu.Unlock()
	}
}
