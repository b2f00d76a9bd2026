package hugepages

import (
	"fmt"
	"os"
	"path/filepath"
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
	// The reservation must not be touched: a cleared reservation is
	// resident whole. make clears a large allocation when any page of it
	// is free but not given back to the system (fresh pages and given-back
	// ones are known zero): after a heap had grown to 191 MiB and been
	// freed, a 2 GiB reservation took 7.6 s and touched all of it. Giving
	// everything free back first was not enough: on a busy host one run in
	// ten of TestAdviseAfterTheHeapShrank still had its 1 GiB cleared (8 s;
	// presumably a page of the range freed again, by the background sweep,
	// between the give-back and the allocation). So the reservation is made
	// by reserve, which asks for memory without clearing it, after the
	// give-back, which keeps the pages that back it out of resident memory.
	// The address range stays the heap's once it is freed, and the runtime
	// reuses the lowest free addresses first.
	debug.FreeOSMemory()
	lo, hi, keep := reserve(n + Size)
	lo = (lo + Size - 1) &^ (Size - 1)
	hi &^= Size - 1
	if _, _, errno := unix.Syscall(unix.SYS_MADVISE, lo, hi-lo, unix.MADV_HUGEPAGE); errno != 0 {
		res.Skipped = "madvise: " + errno.Error()
	} else {
		res.Advised = int64(hi - lo)
	}
	runtime.KeepAlive(keep)
	keep = nil
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

// hostReclaims says whether a virtio balloon of this machine reports free
// pages to its host, and the THP mode (for the log).
func hostReclaims() (bool, string) {
	mode, _, _ := system()
	files, _ := filepath.Glob("/sys/bus/virtio/drivers/virtio_balloon/*/features")
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil && reportsFreePages(strings.TrimSpace(string(b))) {
			return true, mode
		}
	}
	return false, mode
}

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

// reserve allocates size bytes of heap without clearing them and returns
// the allocation's address range and what keeps it alive. The bytes are
// never read or written but one, the first (a strings.Builder cannot give
// its buffer's address while it is empty): its buffer comes from the
// runtime's allocation without zeroing (bytealg.MakeNoZero), the one way a
// program can ask for it. TestReserveLeavesTheMemoryUntouched and
// TestAdviseAfterTheHeapShrank check that the reservation stays out of
// resident memory, should a later Go clear it.
func reserve(size int64) (lo, hi uintptr, keep *string) {
	var sb strings.Builder
	sb.Grow(int(size))
	sb.WriteByte(0)
	s := sb.String()
	lo = uintptr(unsafe.Pointer(unsafe.StringData(s)))
	return lo, lo + uintptr(sb.Cap()), &s
}
