package writers

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestFileDropsWrittenPages checks that an output file's pages leave the
// page cache once written to disk and followed by more writes (dropWritten),
// unless the file is kept cached, and that the file still holds every byte
// written.
func TestFileDropsWrittenPages(t *testing.T) {
	dir := t.TempDir()
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	if st.Type == unix.TMPFS_MAGIC {
		t.Skip("the temporary directory is on tmpfs, which has no page cache to drop")
	}
	p, err := NewPublisher(filepath.Join(dir, "out"), PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Abort()
	f, err := p.Create("big.csv")
	if err != nil {
		t.Fatal(err)
	}
	chunk := bytes.Repeat([]byte("0123456789abcdef"), writebackChunk/16)
	write := func(b byte) {
		chunk[0] = b
		if _, err := f.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	write('a')
	write('b')
	// Everything written so far on disk: nothing is dirty or in writeback.
	if err := f.f.Sync(); err != nil {
		t.Fatal(err)
	}
	write('c') // queues c for writeback and drops a, queued two chunks before it
	resident := residentPages(t, f.f, 3*writebackChunk)
	pages := writebackChunk / os.Getpagesize()
	if got := countTrue(resident[:pages]); got != 0 {
		t.Errorf("%d pages of the first chunk still cached, want 0", got)
	}
	// b is kept: it was queued for writeback only one chunk ago.
	if got := countTrue(resident[pages : 2*pages]); got != pages {
		t.Errorf("%d pages of the second chunk cached, want all %d", got, pages)
	}
	// A file kept cached (the remittance of a run with 835s) keeps them.
	k, err := p.Create("kept.csv")
	if err != nil {
		t.Fatal(err)
	}
	k.KeepCached()
	for range 2 {
		if _, err := k.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if err := k.f.Sync(); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Write(chunk); err != nil {
		t.Fatal(err)
	}
	if got := countTrue(residentPages(t, k.f, 3*writebackChunk)[:pages]); got != pages {
		t.Errorf("%d pages of a kept file's first chunk cached, want all %d", got, pages)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(f.f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3*writebackChunk || got[0] != 'a' || got[writebackChunk] != 'b' || got[2*writebackChunk] != 'c' ||
		!bytes.Equal(got[1:writebackChunk], chunk[1:]) {
		t.Errorf("file holds %d bytes, not the three chunks written", len(got))
	}
}

// residentPages reports, for each page of f's first n bytes, whether it is
// in the page cache (mincore on a mapping of the file).
func residentPages(t *testing.T, f *os.File, n int) []bool {
	t.Helper()
	m, err := unix.Mmap(int(f.Fd()), 0, n, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	vec := make([]byte, (n+os.Getpagesize()-1)/os.Getpagesize())
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(n), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatal(errno)
	}
	res := make([]bool, len(vec))
	for i, v := range vec {
		res[i] = v&1 != 0
	}
	return res
}

func countTrue(v []bool) int {
	n := 0
	for _, b := range v {
		if b {
			n++
		}
	}
	return n
}
