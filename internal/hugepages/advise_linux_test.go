package hugepages

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestAdviseMarksTheNextHeap: after Advise, a large allocation lands in
// address space whose mapping carries the kernel's "hg" flag
// (VM_HUGEPAGE), seen in /proc/self/smaps. On a system whose setting is
// not "madvise" Advise must do nothing, and says why.
func TestAdviseMarksTheNextHeap(t *testing.T) {
	mode, overcommit, available := system()
	if n, why := decide(mode, overcommit, available, 64<<20); n == 0 {
		res := Advise(64 << 20)
		if res.Advised != 0 || res.Skipped != why {
			t.Fatalf("Advise on a system where it should skip (%s) = %+v", why, res)
		}
		t.Skipf("this system: %s", why)
	}
	res := Advise(64 << 20)
	if res.Mode != "madvise" || (res.Advised < 64<<20 || res.Skipped != "") && !strings.HasPrefix(res.Skipped, alreadyMarked+" ") {
		t.Fatalf("Advise(64 MiB) = %+v, want 64 MiB or more marked under madvise (by this call or an earlier one)", res)
	}
	b := make([]byte, 16<<20)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	// Its start may lie in the heap before the marked range (the free
	// pages there come first); its middle is past it.
	at := uintptr(unsafe.Pointer(&b[len(b)/2]))
	flags := vmFlags(t, at)
	if !strings.Contains(" "+flags+" ", " hg ") {
		t.Errorf("the mapping of the middle of a 16 MiB slice allocated after Advise has flags %q, without hg", flags)
	}
}

// TestAdviseOncePerProcess: after an Advise that marked, another one
// (a second run in the same process) marks nothing, allocates nothing and
// says why.
func TestAdviseOncePerProcess(t *testing.T) {
	mode, overcommit, available := system()
	if n, why := decide(mode, overcommit, available, 64<<20); n == 0 {
		t.Skipf("this system: %s", why)
	}
	Advise(64 << 20)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	res := Advise(64 << 20)
	runtime.ReadMemStats(&after)
	if res.Advised != 0 || !strings.HasPrefix(res.Skipped, alreadyMarked+" ") {
		t.Errorf("a second Advise = %+v, want nothing marked, %q said", res, alreadyMarked)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Errorf("a second Advise allocated %d bytes", grew)
	}
}

// vmFlags returns the VmFlags line of the mapping that holds address at.
func vmFlags(t *testing.T, at uintptr) string {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skipf("no /proc/self/smaps: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	inside := false
	for sc.Scan() {
		line := sc.Text()
		if lo, hi, ok := mappingRange(line); ok {
			inside = lo <= at && at < hi
			continue
		}
		if rest, ok := strings.CutPrefix(line, "VmFlags:"); ok && inside {
			return strings.TrimSpace(rest)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Fatalf("no mapping in /proc/self/smaps holds %#x", at)
	return ""
}

// mappingRange parses the "lo-hi perms ..." header line of a mapping.
func mappingRange(line string) (lo, hi uintptr, ok bool) {
	field, _, _ := strings.Cut(line, " ")
	a, b, found := strings.Cut(field, "-")
	if !found {
		return 0, 0, false
	}
	x, err1 := strconv.ParseUint(a, 16, 64)
	y, err2 := strconv.ParseUint(b, 16, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return uintptr(x), uintptr(y), true
}

// TestAdviseAfterTheHeapShrank: a process whose heap grew and shrank
// before Advise (a free range at the heap's top, not given back) must not
// have its reservation cleared by the runtime, which would touch all of
// it: the peak resident memory stays far below the reservation.
func TestAdviseAfterTheHeapShrank(t *testing.T) {
	mode, overcommit, available := system()
	const reserve = 1 << 30
	if n, why := decide(mode, overcommit, available, reserve); n < reserve {
		t.Skipf("this system cannot mark %d MiB: %s", reserve>>20, why)
	}
	var junk [][]byte
	for range 3000 {
		junk = append(junk, make([]byte, 64<<10))
	}
	junk = nil
	runtime.GC()
	adviseMu.Lock()
	advised = 0 // as if no test had marked before this one
	adviseMu.Unlock()
	res := Advise(reserve)
	if res.Advised < reserve {
		t.Fatalf("Advise(1 GiB) = %+v", res)
	}
	if peak := peakRSS(t); peak > reserve/2 {
		t.Errorf("peak resident memory %d MiB after marking %d MiB: the reservation was touched", peak>>20, res.Advised>>20)
	}
}

// peakRSS returns the process's peak resident memory, as the command's
// summary reads it (getrusage; Linux reports KiB).
func peakRSS(t *testing.T) int64 {
	t.Helper()
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		t.Skipf("getrusage: %v", err)
	}
	return ru.Maxrss << 10
}

// TestReserveLeavesTheMemoryUntouched: reserve's allocation is not
// cleared even where make's would be: over free pages of a heap that grew
// and shrank and that were not given back to the system (no
// debug.FreeOSMemory here, unlike Advise), the runtime clears a make of
// 1 GiB whole, and the process's peak resident memory passes 1 GiB.
func TestReserveLeavesTheMemoryUntouched(t *testing.T) {
	const size = 1 << 30
	if _, _, available := system(); available >= 0 && available < 4*size {
		t.Skipf("%d MiB available: too little to check a 1 GiB reservation safely", available>>20)
	}
	var junk [][]byte
	for range 3000 {
		junk = append(junk, make([]byte, 64<<10))
	}
	junk = nil
	runtime.GC()
	lo, hi, keep := reserve(size)
	if hi-lo < size {
		t.Fatalf("reserve(%d) gave %d bytes", size, hi-lo)
	}
	runtime.KeepAlive(keep)
	if peak := peakRSS(t); peak > size/2 {
		t.Errorf("peak resident memory %d MiB after reserving %d MiB: the reservation was touched", peak>>20, size>>20)
	}
}
