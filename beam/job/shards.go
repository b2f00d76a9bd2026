package job

import (
	"bufio"
	"bytes"
	"container/heap"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local" // paths without a scheme
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
)

// Record is one output row on its way to a shard: Key orders it (see
// AppendString, AppendInt) and Value is the row, encoded by the caller.
// A Record with a nil Key is a presence marker that makes an empty shard
// exist; it is never written.
type Record struct {
	Key   []byte
	Value []byte
}

// ErrShard marks a shard file that is missing, truncated or not a shard.
var ErrShard = errors.New("job: bad shard")

// shardMagic starts every shard file; the trailer (a zero length, then the
// record count) ends it, so a file cut short is detected, not merged.
const shardMagic = "CBSHARD1"

// ShardName is the file name of shard i of n of an output kind, e.g.
// "remittance-00003-of-00016". It depends on nothing but its arguments, so a
// retried bundle writes the same name again.
func ShardName(kind string, i, n int) string {
	return fmt.Sprintf("%s-%05d-of-%05d", kind, i, n)
}

// joinPath joins a directory (a local path or a URL such as gs://b/p) and a
// file name, the way Beam's file systems expect.
func joinPath(dir, name string) string {
	return strings.TrimSuffix(dir, "/") + "/" + name
}

func init() {
	register.DoFn4x1[context.Context, int, func(*Record) bool, func(string), error](&writeShardFn{})
	register.Iter1[Record]()
	register.Emitter1[string]()
	register.Function1x2[int, int, Record](presenceMarker)
	beam.RegisterType(reflect.TypeFor[Record]())
}

// WriteShards writes records, a PCollection<KV<int, Record>> keyed by shard
// number in [0, shards), as shard files ShardName(kind, i, shards) in dir,
// each sorted by key (ties by value). Every shard file is written, empty
// ones too, so MergeShards can tell a lost shard from an empty one. It
// returns the PCollection<string> of the shard paths written.
//
// A shard is written whole by one call: under a temporary name first when
// the file system can rename (the local one can; on GCS an object appears
// only when its write completes), then renamed to its final name. A retried
// or speculatively duplicated bundle therefore rewrites the same bytes under
// the same name, and nothing in dir is visible in the output directory
// until the launcher merges it.
//
// The writer holds one shard in memory to sort it: choose shards so that a
// shard is a small share of a worker's memory.
func WriteShards(s beam.Scope, dir, kind string, shards int, records beam.PCollection, fault Fault) beam.PCollection {
	s = s.Scope("WriteShards." + kind)
	numbers := make([]int, shards)
	for i := range numbers {
		numbers[i] = i
	}
	markers := beam.ParDo(s, presenceMarker, beam.CreateList(s, numbers))
	grouped := beam.GroupByKey(s, beam.Flatten(s, records, markers))
	return beam.ParDo(s, &writeShardFn{Dir: dir, Kind: kind, Shards: shards, Fault: fault}, grouped)
}

func presenceMarker(shard int) (int, Record) { return shard, Record{} }

type writeShardFn struct {
	Dir    string
	Kind   string
	Shards int
	Fault  Fault
}

func (fn *writeShardFn) ProcessElement(ctx context.Context, shard int, records func(*Record) bool, emit func(string)) error {
	var rows []Record
	var r Record
	for records(&r) {
		if r.Key != nil {
			rows = append(rows, r)
		}
		r = Record{}
	}
	slices.SortFunc(rows, func(a, b Record) int {
		if c := bytes.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		return bytes.Compare(a.Value, b.Value)
	})
	name := joinPath(fn.Dir, ShardName(fn.Kind, shard, fn.Shards))
	if err := writeShardFile(ctx, name, rows, fn.Fault.armed(fn.Kind, shard)); err != nil {
		return fmt.Errorf("job: write shard %s: %w", name, err)
	}
	emit(name)
	return nil
}

// writeShardFile writes rows to name. failHalfway, the test hook, stops after
// half the rows with an error, as a worker killed mid-write would.
func writeShardFile(ctx context.Context, name string, rows []Record, failHalfway func() error) (err error) {
	fsys, err := filesystem.New(ctx, name)
	if err != nil {
		return err
	}
	defer fsys.Close()
	renamer, canRename := fsys.(filesystem.Renamer)
	target := name
	if canRename {
		var random [8]byte
		rand.Read(random[:])
		target = name + ".tmp-" + hex.EncodeToString(random[:])
	}
	w, err := fsys.OpenWrite(ctx, target)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString(shardMagic)
	var lenBuf [binary.MaxVarintLen64]byte
	for i, r := range rows {
		if failHalfway != nil && i == len(rows)/2 {
			if err := failHalfway(); err != nil {
				bw.Flush()
				w.Close() // leave the partial file behind, as a crash would
				return err
			}
		}
		bw.Write(lenBuf[:binary.PutUvarint(lenBuf[:], uint64(len(r.Key)))])
		bw.Write(r.Key)
		bw.Write(lenBuf[:binary.PutUvarint(lenBuf[:], uint64(len(r.Value)))])
		bw.Write(r.Value)
	}
	bw.Write(lenBuf[:binary.PutUvarint(lenBuf[:], 0)])
	bw.Write(lenBuf[:binary.PutUvarint(lenBuf[:], uint64(len(rows)))])
	if err := errors.Join(bw.Flush(), w.Close()); err != nil {
		return err
	}
	if canRename {
		return renamer.Rename(ctx, target, name)
	}
	return nil
}

// shardReader reads one shard file in order.
type shardReader struct {
	name  string
	r     *bufio.Reader
	c     io.Closer
	key   []byte
	value []byte
	count uint64
}

func openShard(ctx context.Context, name string) (*shardReader, error) {
	fsys, err := filesystem.New(ctx, name)
	if err != nil {
		return nil, err
	}
	defer fsys.Close()
	rc, err := fsys.OpenRead(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrShard, name, err)
	}
	sr := &shardReader{name: name, r: bufio.NewReaderSize(rc, 1<<20), c: rc}
	magic := make([]byte, len(shardMagic))
	if _, err := io.ReadFull(sr.r, magic); err != nil || string(magic) != shardMagic {
		rc.Close()
		return nil, fmt.Errorf("%w: %s: not a shard file", ErrShard, name)
	}
	return sr, nil
}

// next reads the next record into sr.key and sr.value; false at the end.
func (sr *shardReader) next() (bool, error) {
	n, err := binary.ReadUvarint(sr.r)
	if err != nil {
		return false, sr.truncated(err)
	}
	if n == 0 {
		count, err := binary.ReadUvarint(sr.r)
		if err != nil {
			return false, sr.truncated(err)
		}
		if count != sr.count {
			return false, fmt.Errorf("%w: %s: trailer says %d records, read %d", ErrShard, sr.name, count, sr.count)
		}
		return false, nil
	}
	if sr.key, err = sr.readBytes(n); err != nil {
		return false, err
	}
	if n, err = binary.ReadUvarint(sr.r); err != nil {
		return false, sr.truncated(err)
	}
	if sr.value, err = sr.readBytes(n); err != nil {
		return false, err
	}
	sr.count++
	return true, nil
}

func (sr *shardReader) readBytes(n uint64) ([]byte, error) {
	if n > 1<<30 {
		return nil, fmt.Errorf("%w: %s: record of %d bytes", ErrShard, sr.name, n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(sr.r, b); err != nil {
		return nil, sr.truncated(err)
	}
	return b, nil
}

func (sr *shardReader) truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %s: cut short after %d records", ErrShard, sr.name, sr.count)
	}
	return fmt.Errorf("%w: %s: %w", ErrShard, sr.name, err)
}

// MergeShards reads the shards ShardName(kind, 0..shards-1, shards) of dir
// and calls emit for every record in key order (equal keys: lower shard
// first), holding one record per shard in memory. A missing or damaged shard
// is an error (ErrShard) before or during the merge; emit's error stops it.
func MergeShards(ctx context.Context, dir, kind string, shards int, emit func(key, value []byte) error) error {
	readers := make([]*shardReader, 0, shards)
	defer func() {
		for _, sr := range readers {
			sr.c.Close()
		}
	}()
	h := &shardHeap{}
	for i := range shards {
		sr, err := openShard(ctx, joinPath(dir, ShardName(kind, i, shards)))
		if err != nil {
			return err
		}
		readers = append(readers, sr)
		ok, err := sr.next()
		if err != nil {
			return err
		}
		if ok {
			h.items = append(h.items, shardItem{sr, i})
		}
	}
	heap.Init(h)
	for h.Len() > 0 {
		top := h.items[0]
		if err := emit(top.sr.key, top.sr.value); err != nil {
			return err
		}
		ok, err := top.sr.next()
		if err != nil {
			return err
		}
		if ok {
			heap.Fix(h, 0)
		} else {
			heap.Pop(h)
		}
	}
	return nil
}

type shardItem struct {
	sr    *shardReader
	shard int
}

type shardHeap struct{ items []shardItem }

func (h *shardHeap) Len() int { return len(h.items) }
func (h *shardHeap) Less(i, j int) bool {
	if c := bytes.Compare(h.items[i].sr.key, h.items[j].sr.key); c != 0 {
		return c < 0
	}
	return h.items[i].shard < h.items[j].shard
}
func (h *shardHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *shardHeap) Push(x any)    { h.items = append(h.items, x.(shardItem)) }
func (h *shardHeap) Pop() any {
	last := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return last
}
