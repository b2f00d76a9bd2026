package synth

import (
	"context"
	"errors"
	"io"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

// chunkSize is the size of the buffers handed to the file-writing goroutine.
const chunkSize = 1 << 20

// errWriterFailed is returned by chunkWriter.Write after the background write
// failed; close returns the cause.
var errWriterFailed = errors.New("synth: output write failed")

// chunkWriter is a buffered writer whose buffers are written (and, for
// csv.gz, compressed) by a background goroutine, so that the system calls
// overlap with generating the next rows. It has three 1 MiB buffers: one being
// filled, two queued or being written. It is used by one goroutine at a time.
type chunkWriter struct {
	cur    []byte
	free   chan []byte
	full   chan []byte
	group  *errgroup.Group
	ctx    context.Context
	failed atomic.Bool
	closed bool
}

func newChunkWriter(ctx context.Context, w io.Writer) *chunkWriter {
	c := &chunkWriter{
		cur:  make([]byte, 0, chunkSize),
		free: make(chan []byte, 3),
		full: make(chan []byte, 2),
	}
	for range 2 {
		c.free <- make([]byte, 0, chunkSize)
	}
	c.group, c.ctx = errgroup.WithContext(ctx)
	c.group.Go(func() error {
		var err error
		for buf := range c.full {
			if err == nil {
				if _, err = w.Write(buf); err != nil {
					c.failed.Store(true)
				}
			}
			c.free <- buf[:0] // keep recycling after a failure, so the producer never blocks
		}
		return err
	})
	return c
}

// Write copies p into the current buffer, handing full buffers to the writer.
func (c *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(c.cur)+len(p) > cap(c.cur) {
		k := cap(c.cur) - len(c.cur)
		c.cur = append(c.cur, p[:k]...)
		p = p[k:]
		if err := c.send(); err != nil {
			return 0, err
		}
	}
	c.cur = append(c.cur, p...)
	return n, nil
}

func (c *chunkWriter) send() error {
	if c.failed.Load() {
		return errWriterFailed
	}
	select {
	case c.full <- c.cur:
		// The buffer is the writer's now: a cancellation before the next
		// one comes must not leave it here too, or close would hand it over
		// twice and the writer's recycling of it would block for ever.
		c.cur = nil
	case <-c.ctx.Done():
		return c.ctx.Err()
	}
	select {
	case c.cur = <-c.free:
		return nil
	case <-c.ctx.Done():
		return c.ctx.Err()
	}
}

// close writes what is buffered and waits for the writer goroutine. It is
// safe to call twice.
func (c *chunkWriter) close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	var err error
	if len(c.cur) > 0 {
		err = c.send()
	}
	close(c.full)
	if werr := c.group.Wait(); werr != nil {
		err = werr
	}
	return err
}
