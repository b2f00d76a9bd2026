package job

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"claimsbatch/claim"
	"claimsbatch/writers"
)

// ErrConfig marks a configuration the run cannot start with (exit code 2).
var ErrConfig = errors.New("job: configuration")

// Config is one run, with the meaning `claimsbatch run` gives each input.
// Only cmd/claimsbatch-beam parses flags; Beam's runner settings are not
// here (they are Beam's own flags, see Runner).
type Config struct {
	Claims          []string // claims files in --claims order (globs expanded)
	Members         string
	FX              string // "": no FX file
	PlanPath        string // "": the built-in plan
	StateIn         string // "": no earlier state
	AllowPlanChange bool
	StateKeepYears  int
	AsOf            claim.Date // resolved by the launcher (default: today, UTC) and sent to the workers: a worker never reads the clock
	OutDir          string
	Format          writers.Format
	RunID           string // "": derived from the inputs, as `claimsbatch run` derives it
	Version         string

	// Shards is the number of shard files per output; 0 means 4 per
	// worker of Workers.
	Shards int
	// Workers is the parallelism to plan for (the --workers flag): it sets
	// the default of Shards and nothing else; the runner decides how many
	// workers there are (Flink's --parallelism, Dataflow's --num_workers).
	Workers int
	// SplitBytes is the CSV bytes per read split; 0 means 64 MiB.
	SplitBytes int64
	// TempLocation is where the shards go, a directory every worker and the
	// launcher see (gs://... on Dataflow): Beam's --temp_location. "": a
	// directory under OutDir (ShardDir), fine for in-process Prism and for
	// workers that share the launcher's file system.
	TempLocation string

	// Fault is a test hook (a shard write that fails once); the zero value
	// does nothing.
	Fault Fault
}

// ExpandClaims expands the glob patterns of --claims (each sorted, as
// filepath.Glob returns them) in the order given; a pattern that matches
// nothing is a configuration error.
//
// TODO(phase 2): cmd/claimsbatch has the same rule (expandClaims); one copy
// should live in the main module (readers) for both binaries.
func ExpandClaims(patterns []string) ([]string, error) {
	var out []string
	for _, p := range patterns {
		if !strings.ContainsAny(p, "*?[") {
			out = append(out, p)
			continue
		}
		matches, err := filepath.Glob(p)
		if err != nil {
			return nil, fmt.Errorf("%w: --claims %q: %w", ErrConfig, p, err)
		}
		if len(matches) == 0 {
			return nil, fmt.Errorf("%w: --claims %q matches no file", ErrConfig, p)
		}
		out = append(out, matches...)
	}
	return out, nil
}
