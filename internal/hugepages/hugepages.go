// Package hugepages asks Linux for transparent huge pages (2 MiB) for the
// memory the Go heap is about to grow into.
//
// A run touches a few hundred MiB of heap, and much of it again after the
// runtime has returned it to the system; with 4 KiB pages every first touch
// is a page fault. On the bench VM a fault costs about 8 µs (a 10 M-line run
// took 160,000 to 200,000 of them: 4–8 % of its CPU), and the Bloom filter's
// and the book's random reads miss the TLB at every step. Backed by 2 MiB
// pages the same memory faults 512 times less often.
//
// The Go runtime does not ask for huge pages itself (it stopped in Go 1.21.1),
// so on a system whose setting is "madvise" — the default of Ubuntu, Debian
// and others — the heap gets none. Advise reserves a stretch of heap, marks
// it MADV_HUGEPAGE and gives it straight back to the runtime, untouched: the
// flag stays on that address range, and the allocations that follow land
// in it. Under "always" the kernel already backs the heap with huge pages,
// under "never" it will not; Advise then does nothing.
//
// It imports nothing of ours. Only a program's main calls it, once, before
// its work begins.
package hugepages

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
)

// Size is the huge page size Advise aligns to (x86-64 and arm64 with 4 KiB
// base pages).
const Size = 2 << 20

// minAdvise is the least Advise marks: below it there is little to gain.
const minAdvise = 4 * Size

// ForBudget is Advise for a run whose memory budget is limit: it marks
// three quarters of it, where the heap's busiest memory lies (the lowest
// addresses are reused first). A huge page that is only partly used is
// resident whole, so marking all of it measured about 12 MiB more peak RSS
// for no more speed. Call it before the runtime's soft memory limit is
// set: the marking reserves the space for a moment (address space only,
// never touched).
//
// Unless force is set, nothing is marked on a virtual machine whose memory
// balloon reports free memory to its host (virtio "free page reporting",
// as Firecracker and QEMU offer): the host takes back the free blocks of
// 2 MiB and more, so a huge page comes from memory the host must fault in
// again, 4 KiB at a time, at its first touch. On the bench VM that cost
// 4.3 s for 400 MiB of huge pages against 0.2 s for 400 MiB of small ones
// (which come from smaller free blocks the host still backs), about 3 s of
// system time a 10 M-line run.
func ForBudget(limit int64, force bool) Result {
	if !force {
		if reporting, mode := hostReclaims(); reporting {
			return Result{Mode: mode, Skipped: reclaimSkip}
		}
	}
	return Advise(limit * 3 / 4)
}

// reclaimSkip is the Skipped of a ForBudget that left huge pages alone on a
// VM whose balloon reports free memory.
const reclaimSkip = "the VM's memory balloon reports free memory to the host (free page reporting): huge pages would be faulted in from the host at first touch; --huge-pages=on marks them anyway"

// reportsFreePages says whether a virtio device's features file (one
// character '0' or '1' per feature bit, bit 0 first) has the balloon's
// VIRTIO_BALLOON_F_REPORTING bit (5).
func reportsFreePages(features string) bool {
	const reportingBit = 5
	return len(features) > reportingBit && features[reportingBit] == '1'
}

// Result says what Advise did, for the log.
type Result struct {
	Mode    string // the system's THP setting: "always", "madvise", "never", or "" when unknown
	Advised int64  // bytes of heap address space marked MADV_HUGEPAGE
	Skipped string // why nothing was marked, when Advised is 0
}

// decide returns how many bytes to mark, or 0 and why not, from the system's
// THP mode, its overcommit policy, its available memory (-1: unknown) and
// the size asked for.
func decide(mode, overcommit string, available, size int64) (int64, string) {
	switch mode {
	case "madvise":
	case "always":
		return 0, "the kernel backs all memory with huge pages already"
	case "never":
		return 0, "transparent huge pages are turned off on this system"
	default:
		return 0, "no transparent huge page support"
	}
	if overcommit == "2" {
		// Strict accounting charges the whole reservation at once.
		return 0, "strict memory overcommit (vm.overcommit_memory=2)"
	}
	if available >= 0 {
		size = min(size, available/2)
	}
	size &^= Size - 1
	if size < minAdvise {
		return 0, "too little memory to mark"
	}
	return size, ""
}

// thpMode reads the bracketed choice of a transparent_hugepage/enabled
// file ("always [madvise] never" is "madvise").
func thpMode(text string) string {
	i := strings.IndexByte(text, '[')
	j := strings.IndexByte(text, ']')
	if i < 0 || j < i {
		return ""
	}
	return text[i+1 : j]
}

// memAvailable reads MemAvailable from a /proc/meminfo text, in bytes; -1
// when it is not there.
func memAvailable(text []byte) int64 {
	sc := bufio.NewScanner(bytes.NewReader(text))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemAvailable:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return -1
		}
		kib, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return -1
		}
		return kib << 10
	}
	return -1
}
