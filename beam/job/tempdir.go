package job

import (
	"fmt"
	"os"
)

// PrivateTempDir points the process's temporary directory (TMPDIR) at a new
// directory and returns the function that removes it and restores TMPDIR.
// Beam's portable submission (v2.77.0, runnerlib.Execute) creates an empty
// "beamloopbackworker-*" file in the temporary directory on every LOOPBACK
// run and never removes it; the launcher and the tests call this so that
// nothing is left in /tmp.
func PrivateTempDir() (restore func(), err error) {
	dir, err := os.MkdirTemp("", "claimsbatch-beam-")
	if err != nil {
		return nil, fmt.Errorf("job: temporary directory: %w", err)
	}
	old, had := os.LookupEnv("TMPDIR")
	os.Setenv("TMPDIR", dir)
	return func() {
		if had {
			os.Setenv("TMPDIR", old)
		} else {
			os.Unsetenv("TMPDIR")
		}
		os.RemoveAll(dir)
	}, nil
}
