// Package spill keeps what may not fit the memory budget: sets of partitions
// of framed records (claim lines, line keys, exceptions, state records)
// written once, sequentially per partition, and read back one partition at a
// time, each released once read. A set keeps its records in memory while a
// shared Budget allows, and moves them to files in the run's temporary
// directory when it does not: a run whose data fits writes no file at all.
// The codec (codec.go) is private to one run — written and read by the same
// binary — so it carries no version.
//
// It may import only claim.
package spill

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"claimsbatch/claim"
)

// Budget is the memory that buffered sets may hold between them. The zero
// value (and nil) allows nothing: sets write to files from the start.
type Budget struct {
	left atomic.Int64
}

// NewBudget returns a budget of n bytes.
func NewBudget(n int64) *Budget {
	b := &Budget{}
	b.left.Store(n)
	return b
}

// take reserves n bytes; false (and nothing reserved) when they are not left.
func (b *Budget) take(n int64) bool {
	if b == nil {
		return false
	}
	if b.left.Add(-n) < 0 {
		b.left.Add(n)
		return false
	}
	return true
}

// Reserve takes up to n bytes from the budget for good, for memory the
// caller holds outside the sets, and returns what it took.
func (b *Budget) Reserve(n int64) int64 {
	if b == nil {
		return 0
	}
	for {
		left := b.left.Load()
		took := min(n, max(left, 0))
		if b.left.CompareAndSwap(left, left-took) {
			return took
		}
	}
}

func (b *Budget) give(n int64) {
	if b != nil && n > 0 {
		b.left.Add(n)
	}
}

// Partitions is a set of n partitions. A set is written by one goroutine at
// a time; once Finish has run, partitions may be opened and released from
// any goroutine, each by one at a time.
type Partitions struct {
	name   string
	dir    string
	budget *Budget
	held   int64      // bytes of mem reserved from the budget
	mem    [][][]byte // per partition, while the set is in memory: blocks, each filled before the next
	files  []*os.File
	bufs   []*bufio.Writer
	counts []int64
	sizes  []int64 // framed bytes written to each partition
	enc    encoder
	onDisk bool
}

// Len returns the number of partitions in the set.
func (p *Partitions) Len() int { return len(p.counts) }

// Count returns the number of records written to partition i.
func (p *Partitions) Count(i int) int64 { return p.counts[i] }

// OnDisk reports whether the set has moved to files.
func (p *Partitions) OnDisk() bool { return p.onDisk }

// New creates a set of n partition files named after name in dir.
func New(dir, name string, n int) (*Partitions, error) {
	return NewBuffered(dir, name, n, nil)
}

// NewBuffered creates a set of n partitions that stays in memory while
// budget allows and moves to files named after name in dir when it does not.
func NewBuffered(dir, name string, n int, budget *Budget) (*Partitions, error) {
	p := &Partitions{name: name, dir: dir, budget: budget, mem: make([][][]byte, n), counts: make([]int64, n), sizes: make([]int64, n)}
	if budget == nil {
		if err := p.toDisk(); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// toDisk moves the set to files: one per partition, its buffered records
// first.
func (p *Partitions) toDisk() error {
	n := len(p.counts)
	p.files, p.bufs = make([]*os.File, n), make([]*bufio.Writer, n)
	// About 16 MiB of write buffers per set, 4 to 64 KiB per file.
	size := min(max((16<<20)/max(n, 1), 4<<10), 64<<10)
	for i := range p.files {
		f, err := os.CreateTemp(p.dir, fmt.Sprintf("%s-%03d-*", p.name, i))
		if err != nil {
			p.Close()
			return fmt.Errorf("spill: file: %w", err)
		}
		p.files[i] = f
		p.bufs[i] = bufio.NewWriterSize(f, size)
		for _, blk := range p.mem[i] {
			if _, err := p.bufs[i].Write(blk); err != nil {
				return fmt.Errorf("spill: file %s: %w", f.Name(), err)
			}
		}
		p.mem[i] = nil
	}
	p.budget.give(p.held)
	p.held = 0
	p.onDisk = true
	return nil
}

// writeFrame appends record b, framed, to partition i.
func (p *Partitions) writeFrame(i int, b []byte) error {
	p.counts[i]++
	p.sizes[i] += int64(frameLen(len(b)))
	if p.onDisk {
		return writeFrame(p.bufs[i], b)
	}
	blocks := p.mem[i]
	need := frameLen(len(b))
	var last []byte
	if len(blocks) > 0 {
		last = blocks[len(blocks)-1]
	}
	if cap(last)-len(last) < need {
		// A new block, twice the last (from 256 bytes to 64 KiB): no
		// record is ever copied again, and a small partition stays small.
		// The block is what the budget is charged.
		size := max(need, min(2*cap(last), 64<<10), 256)
		if !p.budget.take(int64(size)) {
			if err := p.toDisk(); err != nil {
				return err
			}
			return writeFrame(p.bufs[i], b)
		}
		p.held += int64(size)
		blocks = append(blocks, make([]byte, 0, size))
		p.mem[i] = blocks
	}
	blocks[len(blocks)-1] = appendFrame(blocks[len(blocks)-1], b)
	return nil
}

// WriteRecord writes b, an encoded record, as it is.
func (p *Partitions) WriteRecord(i int, b []byte) error {
	return p.writeFrame(i, b)
}

// WriteState appends a state record to partition i.
func (p *Partitions) WriteState(i int, r *claim.StateRecord) error {
	p.enc.stateRecord(r)
	return p.writeFrame(i, p.enc.buf)
}

// WriteException appends an exception to partition i.
func (p *Partitions) WriteException(i int, x *claim.Exception) error {
	p.enc.exception(x)
	return p.writeFrame(i, p.enc.buf)
}

// WriteKey appends a line-key record to partition i.
func (p *Partitions) WriteKey(i int, k *Key) error {
	p.enc.key(k)
	return p.writeFrame(i, p.enc.buf)
}

// Finish flushes every file; after it only Open, Release and Close are
// valid.
func (p *Partitions) Finish() error {
	for i, b := range p.bufs {
		if err := b.Flush(); err != nil {
			return fmt.Errorf("spill: file %s: %w", p.files[i].Name(), err)
		}
	}
	p.bufs = nil
	return nil
}

// Open returns a decoder over partition i from its start. The strings it
// decodes share the partition's memory (its blocks, or the blocks it reads
// the file into), which stays as it is.
func (p *Partitions) Open(i int) (*Decoder, error) {
	if !p.onDisk {
		return newBlocksDecoder(p.mem[i]), nil
	}
	if _, err := p.files[i].Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("spill: file: %w", err)
	}
	return newSizedDecoder(p.files[i], p.sizes[i]), nil
}

// OpenPooled is Open, with the blocks a partition file is read into
// taken from pool (see Decoder.TakeBlocks); nil is Open.
func (p *Partitions) OpenPooled(i int, pool *BlockPool) (*Decoder, error) {
	d, err := p.Open(i)
	if err == nil && d.r != nil {
		d.pool = pool
	}
	return d, err
}

// Release frees partition i: its memory, or its file.
func (p *Partitions) Release(i int) {
	if !p.onDisk {
		// The budget is given back when the whole set is closed: partitions
		// released early only lower the set's footprint.
		p.mem[i] = nil
		return
	}
	if f := p.files[i]; f != nil {
		f.Close()
		os.Remove(f.Name())
		p.files[i] = nil
	}
}

// Close frees every partition of the set; nil is fine.
func (p *Partitions) Close() {
	if p == nil {
		return
	}
	for i := range p.files {
		if f := p.files[i]; f != nil {
			f.Close()
			os.Remove(f.Name())
			p.files[i] = nil
		}
	}
	clear(p.mem)
	p.budget.give(p.held)
	p.held = 0
}

// exceptionStream reads exceptions back from one partition in written order.
type exceptionStream struct {
	dec  *Decoder
	head claim.Exception
	ok   bool
}

func (s *exceptionStream) advance() error {
	s.ok = s.dec.Next()
	if s.ok {
		s.dec.Exception(&s.head)
	}
	if s.dec.err != nil {
		return s.dec.err
	}
	return nil
}

// MergeExceptions merges Partitions whose files are each in input order
// (SourceNo, Row) into one stream in that order, calling emit in batches.
func MergeExceptions(parts []*Partitions, emit func([]claim.Exception) error) error {
	var streams []*exceptionStream
	for _, p := range parts {
		for i := range p.counts {
			if p.counts[i] == 0 {
				continue
			}
			dec, err := p.Open(i)
			if err != nil {
				return err
			}
			s := &exceptionStream{dec: dec}
			if err := s.advance(); err != nil {
				return err
			}
			if s.ok {
				streams = append(streams, s)
			}
		}
	}
	batch := make([]claim.Exception, 0, 1024)
	for len(streams) > 0 {
		best := 0
		for i := 1; i < len(streams); i++ {
			a, b := &streams[i].head, &streams[best].head
			if a.SourceNo < b.SourceNo || (a.SourceNo == b.SourceNo && a.Row < b.Row) {
				best = i
			}
		}
		batch = append(batch, streams[best].head)
		if err := streams[best].advance(); err != nil {
			return err
		}
		if !streams[best].ok {
			streams = append(streams[:best], streams[best+1:]...)
		}
		if len(batch) == cap(batch) {
			if err := emit(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		return emit(batch)
	}
	return nil
}
