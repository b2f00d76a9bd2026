//go:build !linux

package writers

import "os"

// startWriteback does nothing where sync_file_range does not exist: Close's
// fsync writes the whole file.
func startWriteback(*os.File, int64, int64) {}

// dropWritten does nothing where posix_fadvise is not used.
func dropWritten(*os.File, int64, int64) {}
