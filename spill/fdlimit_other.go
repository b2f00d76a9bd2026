//go:build !unix

package spill

// OpenFileLimit is a conservative guess where there is no RLIMIT_NOFILE.
func OpenFileLimit() int { return 2048 }
