package writers

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing n bytes of f from off to
// disk, without waiting for it (sync_file_range with SYNC_FILE_RANGE_WRITE).
// It is a hint: File.Close's fsync is what makes the file durable, and an
// error here only means that fsync has more to do.
func startWriteback(f *os.File, off, n int64) {
	withFD(f, func(fd int) { _ = unix.SyncFileRange(fd, off, n, unix.SYNC_FILE_RANGE_WRITE) })
}

// dropWritten tells the kernel that n bytes of f from off will not be read
// again soon (POSIX_FADV_DONTNEED): the pages already written to disk are
// freed now, for the next writes to reuse. Pages still dirty or being
// written are left alone (the kernel skips them), so it never waits for the
// disk. A hint, like startWriteback.
func dropWritten(f *os.File, off, n int64) {
	withFD(f, func(fd int) { _ = unix.Fadvise(fd, off, n, unix.FADV_DONTNEED) })
}

// withFD calls fn with f's descriptor; both callers are hints, so a file
// without one is left alone.
func withFD(f *os.File, fn func(fd int)) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) { fn(int(fd)) })
}
