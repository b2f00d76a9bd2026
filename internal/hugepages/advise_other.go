//go:build !linux

package hugepages

// Advise does nothing outside Linux: transparent huge pages are Linux's.
func Advise(size int64) Result {
	return Result{Skipped: "not Linux"}
}

// hostReclaims is false outside Linux.
func hostReclaims() (bool, string) { return false, "" }
