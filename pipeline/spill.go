package pipeline

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"claimsbatch/claim"
)

// partitions is a set of spill files in the run's temporary directory,
// written once (sequentially per file) and then read back one at a time.
// Each file is removed as soon as it has been read.
type partitions struct {
	name   string
	files  []*os.File
	bufs   []*bufio.Writer
	counts []int64
	enc    encoder
}

func newPartitions(dir, name string, n int) (*partitions, error) {
	p := &partitions{name: name, files: make([]*os.File, n), bufs: make([]*bufio.Writer, n), counts: make([]int64, n)}
	// About 16 MiB of write buffers per set, 4 to 64 KiB per file.
	size := min(max((16<<20)/n, 4<<10), 64<<10)
	for i := range p.files {
		f, err := os.CreateTemp(dir, fmt.Sprintf("%s-%03d-*", name, i))
		if err != nil {
			p.close()
			return nil, fmt.Errorf("pipeline: spill file: %w", err)
		}
		p.files[i] = f
		p.bufs[i] = bufio.NewWriterSize(f, size)
	}
	return p, nil
}

func (p *partitions) writeLine(i int, l *claim.Line, raw string) error {
	p.enc.line(l, raw)
	p.counts[i]++
	return p.enc.frame(p.bufs[i])
}

// writeRecord writes b, an encoded record, as it is.
func (p *partitions) writeRecord(i int, b []byte) error {
	p.counts[i]++
	return writeFrame(p.bufs[i], b)
}

func (p *partitions) writeState(i int, r *claim.StateRecord) error {
	p.enc.stateRecord(r)
	p.counts[i]++
	return p.enc.frame(p.bufs[i])
}

func (p *partitions) writeException(i int, x *claim.Exception) error {
	p.enc.exception(x)
	p.counts[i]++
	return p.enc.frame(p.bufs[i])
}

// finish flushes every file; after it only open and close are valid.
func (p *partitions) finish() error {
	for i, b := range p.bufs {
		if err := b.Flush(); err != nil {
			return fmt.Errorf("pipeline: spill file %s: %w", p.files[i].Name(), err)
		}
	}
	p.bufs = nil
	return nil
}

// open returns a decoder over partition i from its start.
func (p *partitions) open(i int) (*decoder, error) {
	if _, err := p.files[i].Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("pipeline: spill file: %w", err)
	}
	return newDecoder(p.files[i]), nil
}

// release removes partition i's file.
func (p *partitions) release(i int) {
	if f := p.files[i]; f != nil {
		f.Close()
		os.Remove(f.Name())
		p.files[i] = nil
	}
}

func (p *partitions) close() {
	if p == nil {
		return
	}
	for i := range p.files {
		p.release(i)
	}
}

// exceptionStream reads exceptions back from one partition in written order.
type exceptionStream struct {
	dec  *decoder
	head claim.Exception
	ok   bool
}

func (s *exceptionStream) advance() error {
	s.ok = s.dec.next()
	if s.ok {
		s.dec.exception(&s.head)
	}
	if s.dec.err != nil {
		return s.dec.err
	}
	return nil
}

// mergeExceptions merges partitions whose files are each in input order
// (SourceNo, Row) into one stream in that order, calling emit in batches.
func mergeExceptions(parts []*partitions, emit func([]claim.Exception) error) error {
	var streams []*exceptionStream
	for _, p := range parts {
		for i := range p.files {
			if p.counts[i] == 0 {
				continue
			}
			dec, err := p.open(i)
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
