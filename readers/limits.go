package readers

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
)

// A compressed input is bounded by what it may expand to, so that a small
// hostile file (a "decompression bomb") fails the read instead of filling the
// memory or the output directory. Real extracts stay far below the bound: a
// claims CSV gzips about 4×, and the Parquet decoder allocates 12 to 20 times
// the size of a dictionary-encoded, compressed claims, members or FX file
// (measured on the files of claimsbatch generate). Options.MaxExpansion sets
// the ratio.

// defaultMaxExpansion is Options.MaxExpansion's default.
const defaultMaxExpansion = 100

// minExpansionBudget is the budget of every compressed file however small: a
// file of a few kilobytes may always expand to 64 MiB. (A variable so that
// tests can lower it.)
var minExpansionBudget int64 = 64 << 20

// expansionBudget is how many bytes a compressed file of size bytes may
// expand to: ratio times its size, at least minExpansionBudget; no bound
// (1<<62) when the size is unknown (negative).
func expansionBudget(size int64, ratio int) int64 {
	const maxBudget = 1 << 62
	if size < 0 || size > maxBudget/int64(ratio) {
		return maxBudget
	}
	return max(size*int64(ratio), minExpansionBudget)
}

// errExpansion is the error of an input that expanded past its budget.
type errExpansion struct {
	budget, size, floor int64
	ratio               int
	what                string // "decompressed" or "decoded"
}

func newErrExpansion(what string, size int64, ratio int) *errExpansion {
	return &errExpansion{budget: expansionBudget(size, ratio), size: size, floor: minExpansionBudget, ratio: ratio, what: what}
}

func (e *errExpansion) Error() string {
	return fmt.Sprintf("%s more than %d bytes from a file of %d bytes (the limit is %d× the file's size, at least %d MiB): a decompression bomb?",
		e.what, e.budget, e.size, e.ratio, e.floor>>20)
}

// expansionLimit counts the bytes read from a decompressor and fails the
// read once they pass the budget.
type expansionLimit struct {
	r    io.Reader
	left int64
	err  *errExpansion
}

func (l *expansionLimit) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n, l.err
	}
	return n, err
}

// budgetAllocator is the Arrow allocator of one Parquet file: it charges
// every allocation the decoder makes (decompressed pages, decoded columns)
// to the file's expansion budget. Arrow's allocator interface cannot return
// an error, so an allocation past the budget panics with *errExpansion before
// any memory is taken; parquetSource recovers it at the boundary of the
// third-party code, where it already turns the decoder's panics into
// ErrCorrupt. The decoder runs only on goroutines of ours whose calls into
// it recover (pqarrow's Parallel option stays off; the parallel members
// read's goroutines go through parquetSource.next and openGroup), so the
// panic always reaches a recover.
type budgetAllocator struct {
	mem   memory.Allocator
	used  atomic.Int64
	limit *errExpansion
}

func newBudgetAllocator(size int64, ratio int) *budgetAllocator {
	return &budgetAllocator{
		mem:   memory.DefaultAllocator,
		limit: newErrExpansion("decoded", size, ratio),
	}
}

func (a *budgetAllocator) charge(n int) {
	if n > 0 && a.used.Add(int64(n)) > a.limit.budget {
		panic(a.limit)
	}
}

func (a *budgetAllocator) Allocate(size int) []byte {
	a.charge(size)
	return a.mem.Allocate(size)
}

func (a *budgetAllocator) Reallocate(size int, b []byte) []byte {
	a.charge(size - len(b))
	return a.mem.Reallocate(size, b)
}

func (a *budgetAllocator) Free(b []byte) { a.mem.Free(b) }

// asExpansion reports whether err (or a recovered panic value) is an
// expansion failure.
func asExpansion(v any) (*errExpansion, bool) {
	switch v := v.(type) {
	case *errExpansion:
		return v, true
	case error:
		var e *errExpansion
		if errors.As(v, &e) {
			return e, true
		}
	}
	return nil, false
}

// boundedCodec decodes a Parquet page into at most the size its page header
// declares. arrow-go hands a codec a destination of exactly that size (and
// rejects any other size afterwards), but two of its codecs size their
// output from the compressed stream instead: zstd allocates the content size
// a frame declares (up to 64 GiB) and snappy the length a block declares (up
// to 4 GiB), on the Go heap, before decoding a byte. A page of a few bytes
// could so make the process allocate gigabytes, out of reach of
// budgetAllocator. boundedCodec refuses such a stream instead; valid pages
// decode exactly as before.
type boundedCodec struct {
	codec
	decode func(dst, src []byte) ([]byte, error)
}

// codec is what arrow-go's built-in codecs implement.
type codec interface {
	compress.Codec
	compress.StreamingCodec
	DecodeWithError(dst, src []byte) ([]byte, error)
}

func (c boundedCodec) DecodeWithError(dst, src []byte) ([]byte, error) {
	if dst == nil { // no declared size: nothing to bound by
		return c.codec.DecodeWithError(dst, src)
	}
	return c.decode(dst, src)
}

func (c boundedCodec) Decode(dst, src []byte) []byte {
	out, err := c.DecodeWithError(dst, src)
	if err != nil {
		panic(err) // as arrow-go's codecs do; compress.Decode recovers it
	}
	return out
}

// The codecs are registered once, at program start, because arrow-go looks
// them up in a global table that has no lock: replacing them later could
// race with a Parquet file being read or written.
func init() {
	if zc, err := compress.GetCodec(compress.Codecs.Zstd); err == nil {
		if zc, ok := zc.(codec); ok {
			dec, err := zstd.NewReader(nil, zstd.WithDecodeAllCapLimit(true))
			if err == nil {
				compress.RegisterCodec(compress.Codecs.Zstd, boundedCodec{codec: zc, decode: func(dst, src []byte) ([]byte, error) {
					return dec.DecodeAll(src, dst[:0]) // at most cap(dst) bytes
				}})
			}
		}
	}
	if sc, err := compress.GetCodec(compress.Codecs.Snappy); err == nil {
		if sc, ok := sc.(codec); ok {
			compress.RegisterCodec(compress.Codecs.Snappy, boundedCodec{codec: sc, decode: func(dst, src []byte) ([]byte, error) {
				n, err := snappy.DecodedLen(src)
				if err != nil {
					return nil, err
				}
				if n > len(dst) {
					return nil, fmt.Errorf("snappy block declares %d bytes, the page %d", n, len(dst))
				}
				return sc.DecodeWithError(dst, src)
			}})
		}
	}
}
