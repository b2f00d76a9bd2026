package job

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ErrInjected is the error of a Fault.
var ErrInjected = errors.New("job: injected worker failure (test hook)")

// Fault is a test hook that makes the first attempt at writing one shard fail
// halfway through, leaving a partial temporary file, as a worker killed
// mid-write would. The zero Fault does nothing; production code never sets
// one. It travels inside the DoFn, so it works in worker processes too.
type Fault struct {
	Kind  string // output kind of the shard that fails
	Shard int    // its number
	// Marker is a path the failing attempt creates (a local path every
	// worker sees). Once it exists the fault is spent, so a runner that
	// retries the bundle succeeds the second time.
	Marker string
}

// armed returns the function writeShardFile calls halfway through shard
// (kind, shard), or nil when the fault does not concern that shard.
func (f Fault) armed(kind string, shard int) func() error {
	if f.Marker == "" || f.Kind != kind || f.Shard != shard {
		return nil
	}
	return func() error {
		m, err := os.OpenFile(f.Marker, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return nil // spent: this is a retry
		}
		if err != nil {
			return fmt.Errorf("fault marker: %w", err)
		}
		m.Close()
		return fmt.Errorf("shard %s %d: %w", kind, shard, ErrInjected)
	}
}
