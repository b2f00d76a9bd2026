package synth

import (
	"context"
	"errors"
	"testing"
	"time"
)

type blockingWriter struct{ release chan struct{} }

func (w blockingWriter) Write(p []byte) (int, error) {
	<-w.release
	return len(p), nil
}

// TestChunkWriterCancelThenClose: a cancellation while Write waits for a
// free buffer, then close once the writer has recycled every buffer. close
// used to hand the buffer it had already sent to the writer a second time
// (a select with two ready cases: half the time), and the writer blocked for
// ever putting a fourth buffer into the three-buffer free list.
func TestChunkWriterCancelThenClose(t *testing.T) {
	for range 20 {
		w := blockingWriter{release: make(chan struct{})}
		ctx, cancel := context.WithCancel(context.Background())
		c := newChunkWriter(ctx, w)
		chunk := make([]byte, chunkSize)
		errc := make(chan error, 1)
		go func() {
			for {
				if _, err := c.Write(chunk); err != nil {
					errc <- err
					return
				}
			}
		}()
		// Three buffers: one in the blocked writer, two queued; Write waits
		// for a free one.
		for len(c.full) < 2 {
			time.Sleep(time.Millisecond)
		}
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("Write after cancel: %v", err)
		}
		close(w.release)
		// The writer recycles every buffer it was given: all three, or two
		// when the cancellation came before the last one was handed over
		// (Write has returned: c.cur is safe to read).
		want := 3
		if c.cur != nil {
			want = 2
		}
		for len(c.free) < want {
			time.Sleep(time.Millisecond)
		}
		done := make(chan error, 1)
		go func() { done <- c.close() }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("close hung after a cancellation")
		}
	}
}
