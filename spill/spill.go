// Package spill keeps what does not fit the memory budget on disk: sets of
// partition files of framed records (claim lines with their raw text,
// exceptions, state records) written once, sequentially per file, and read
// back one partition at a time, each file removed once read. The codec
// (codec.go) is private to one run — written and read by the same binary —
// so it carries no version.
//
// It may import only claim.
package spill

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"claimsbatch/claim"
)

// Partitions is a set of spill files in the run's temporary directory,
// written once (sequentially per file) and then read back one at a time.
// Each file is removed as soon as it has been read.
type Partitions struct {
	name   string
	files  []*os.File
	bufs   []*bufio.Writer
	counts []int64
	enc    encoder
}

// Len returns the number of partitions in the set.
func (p *Partitions) Len() int { return len(p.files) }

// Count returns the number of records written to partition i.
func (p *Partitions) Count(i int) int64 { return p.counts[i] }

// New creates a set of n partition files named after name in dir.
func New(dir, name string, n int) (*Partitions, error) {
	p := &Partitions{name: name, files: make([]*os.File, n), bufs: make([]*bufio.Writer, n), counts: make([]int64, n)}
	// About 16 MiB of write buffers per set, 4 to 64 KiB per file.
	size := min(max((16<<20)/n, 4<<10), 64<<10)
	for i := range p.files {
		f, err := os.CreateTemp(dir, fmt.Sprintf("%s-%03d-*", name, i))
		if err != nil {
			p.Close()
			return nil, fmt.Errorf("spill: file: %w", err)
		}
		p.files[i] = f
		p.bufs[i] = bufio.NewWriterSize(f, size)
	}
	return p, nil
}

// WriteLine appends a claim-partition record (the raw text, then the line)
// to partition i.
func (p *Partitions) WriteLine(i int, l *claim.Line, raw string) error {
	p.enc.line(l, raw)
	p.counts[i]++
	return p.enc.frame(p.bufs[i])
}

// WriteRecord writes b, an encoded record, as it is.
func (p *Partitions) WriteRecord(i int, b []byte) error {
	p.counts[i]++
	return writeFrame(p.bufs[i], b)
}

// WriteState appends a state record to partition i.
func (p *Partitions) WriteState(i int, r *claim.StateRecord) error {
	p.enc.stateRecord(r)
	p.counts[i]++
	return p.enc.frame(p.bufs[i])
}

// WriteException appends an exception to partition i.
func (p *Partitions) WriteException(i int, x *claim.Exception) error {
	p.enc.exception(x)
	p.counts[i]++
	return p.enc.frame(p.bufs[i])
}

// Finish flushes every file; after it only open and close are valid.
func (p *Partitions) Finish() error {
	for i, b := range p.bufs {
		if err := b.Flush(); err != nil {
			return fmt.Errorf("spill: file %s: %w", p.files[i].Name(), err)
		}
	}
	p.bufs = nil
	return nil
}

// Open returns a Decoder over partition i from its start.
func (p *Partitions) Open(i int) (*Decoder, error) {
	if _, err := p.files[i].Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("spill: file: %w", err)
	}
	return NewDecoder(p.files[i]), nil
}

// Release removes partition i's file.
func (p *Partitions) Release(i int) {
	if f := p.files[i]; f != nil {
		f.Close()
		os.Remove(f.Name())
		p.files[i] = nil
	}
}

// Close removes every file of the set; nil is fine.
func (p *Partitions) Close() {
	if p == nil {
		return
	}
	for i := range p.files {
		p.Release(i)
	}
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
		for i := range p.files {
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
