package job

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"claimsbatch/writers"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
)

// ShardDir is the default directory of a run's shards: inside the output
// directory, under the writers.TempPrefix that marks debris of an
// unfinished run. Workers on other machines need a location they all see
// (gs://..., a shared mount): the launcher's --temp-location.
func ShardDir(outDir, runID string) string {
	return joinPath(outDir, writers.TempPrefix+"beam-"+runID)
}

// PrepareShardDir creates a local shard directory readable by its owner only
// (the shards hold claims data); other file systems need nothing.
func PrepareShardDir(dir string) error {
	if strings.Contains(dir, "://") {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("job: shard directory: %w", err)
	}
	return nil
}

// RemoveShardDir removes a local shard directory, or the shards under a
// remote one, once they are published.
func RemoveShardDir(ctx context.Context, dir string) error {
	if !strings.Contains(dir, "://") {
		return os.RemoveAll(dir)
	}
	fsys, err := filesystem.New(ctx, dir)
	if err != nil {
		return err
	}
	defer fsys.Close()
	remover, ok := fsys.(filesystem.Remover)
	if !ok {
		return nil
	}
	names, err := fsys.List(ctx, joinPath(dir, "*"))
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range names {
		errs = append(errs, remover.Remove(ctx, n))
	}
	return errors.Join(errs...)
}

// RowSink receives the merged records of one output in key order and
// encodes them into the published file.
type RowSink interface {
	Row(key, value []byte) error
	// Close flushes the file's encoder; the Publisher closes the file.
	Close() error
}

// Output is one published file assembled from the shards of one kind.
type Output struct {
	Kind   string // the shards' kind, as given to WriteShards
	Shards int
	Name   string                             // the published file name, e.g. remittance.csv
	Open   func(w io.Writer) (RowSink, error) // the encoder of the file
}

// Published describes one file Publish wrote, for the manifest.
type Published struct {
	Name   string
	Rows   int64
	Bytes  int64
	SHA256 string
}

// Publish is the final step, in the launcher once the pipeline has
// succeeded: it merges each output's shards in key order into a file of
// outDir, then writes the manifest that manifest returns for them, and
// publishes everything with writers.Publisher (temporary names, sync,
// rename, manifest last). On any error nothing new is published.
func Publish(ctx context.Context, shardDir, outDir string, outputs []Output, manifestName string, manifest func([]Published) ([]byte, error)) (err error) {
	pub, err := writers.NewPublisher(outDir, writers.PublishOptions{})
	if err != nil {
		return err
	}
	defer pub.Abort() // no-op after Commit
	var done []Published
	for _, o := range outputs {
		f, err := pub.Create(o.Name)
		if err != nil {
			return err
		}
		hw := writers.NewHashingWriter(f)
		sink, err := o.Open(hw)
		if err != nil {
			return fmt.Errorf("job: publish %s: %w", o.Name, err)
		}
		var rows int64
		err = MergeShards(ctx, shardDir, o.Kind, o.Shards, func(key, value []byte) error {
			rows++
			return sink.Row(key, value)
		})
		if err = errors.Join(err, sink.Close()); err != nil {
			return fmt.Errorf("job: publish %s: %w", o.Name, err)
		}
		done = append(done, Published{Name: o.Name, Rows: rows, Bytes: hw.N(), SHA256: hw.SHA256()})
	}
	body, err := manifest(done)
	if err != nil {
		return err
	}
	mf, err := pub.Create(manifestName)
	if err != nil {
		return err
	}
	if _, err := mf.Write(body); err != nil {
		return fmt.Errorf("job: publish %s: %w", manifestName, err)
	}
	return pub.Commit(manifestName)
}
