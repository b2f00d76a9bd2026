package hugepages

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Advise marks about size bytes of the address range the Go heap grows into
// next as MADV_HUGEPAGE (less on a system with less memory available, none
// where huge pages are always or never used) and returns what it did. The
// memory is reserved by one allocation that is never touched, marked, and
// handed back to the system with debug.FreeOSMemory: it costs two garbage
// collections and no resident memory. Call it early, from main: it does
// its work once per process (the range stays marked), and later calls (a
// test that runs the command many times in one process) only say so.
func Advise(size int64) Result {
	mode, overcommit, available := system()
	n, why := decide(mode, overcommit, available, size)
	res := Result{Mode: mode, Skipped: why}
	if n == 0 {
		return res
	}
	adviseMu.Lock()
	defer adviseMu.Unlock()
	if advised > 0 {
		res.Skipped = fmt.Sprintf("%s %d MiB earlier in this process", alreadyMarked, advised>>20)
		return res
	}
	// A large allocation comes from pages the runtime knows are zero, which
	// it does not clear: fresh ones it maps for it, or free ones it has
	// given back to the system. Free pages it has not given back it
	// clears, and a free range at the top of the heap merges with the
	// fresh one: after a heap had grown to 191 MiB and been freed, a 2 GiB
	// reservation took 7.6 s and touched all of it. So everything free is
	// given back first (13 ms then). The address range stays the heap's
	// once it is freed, and the runtime reuses the lowest free addresses
	// first.
	debug.FreeOSMemory()
	b := make([]byte, n+Size)
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	hi := lo + uintptr(len(b))
	lo = (lo + Size - 1) &^ (Size - 1)
	hi &^= Size - 1
	if _, _, errno := unix.Syscall(unix.SYS_MADVISE, lo, hi-lo, unix.MADV_HUGEPAGE); errno != 0 {
		res.Skipped = "madvise: " + errno.Error()
	} else {
		res.Advised = int64(hi - lo)
	}
	runtime.KeepAlive(b)
	b = nil
	debug.FreeOSMemory()
	advised = res.Advised
	return res
}

// alreadyMarked begins the Skipped of an Advise after the one that marked.
const alreadyMarked = "marked"

var (
	adviseMu sync.Mutex
	advised  int64 // bytes the process's first successful Advise marked
)

// system reads the THP mode, the overcommit policy and the available
// memory of the running system.
func system() (mode, overcommit string, available int64) {
	if b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled"); err == nil {
		mode = thpMode(string(b))
	}
	if b, err := os.ReadFile("/proc/sys/vm/overcommit_memory"); err == nil {
		overcommit = strings.TrimSpace(string(b))
	}
	available = -1
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		available = memAvailable(b)
	}
	return mode, overcommit, available
}
