//go:build !unix

package pipeline

// openFileLimit is a conservative guess where there is no RLIMIT_NOFILE.
func openFileLimit() int { return 2048 }
