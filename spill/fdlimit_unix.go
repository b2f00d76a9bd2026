//go:build unix

package spill

import "syscall"

// OpenFileLimit returns how many files the process may have open (the soft
// RLIMIT_NOFILE, which Go's os package raises to the hard limit at start).
func OpenFileLimit() int {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil || r.Cur > 1<<20 {
		return 1 << 20
	}
	return int(r.Cur)
}
