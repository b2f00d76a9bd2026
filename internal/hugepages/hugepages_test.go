package hugepages

import "testing"

func TestDecide(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		name, mode, overcommit string
		available, size        int64
		want                   int64
		why                    string
	}{
		{"madvise", "madvise", "0", 8 << 30, 384 * mib, 384 * mib, ""},
		{"rounded down to a huge page", "madvise", "0", -1, 384*mib + 12345, 384 * mib, ""},
		{"half the available memory at most", "madvise", "0", 200 * mib, 384 * mib, 100 * mib, ""},
		{"unknown available memory", "madvise", "1", -1, 384 * mib, 384 * mib, ""},
		{"always", "always", "0", 8 << 30, 384 * mib, 0, "the kernel backs all memory with huge pages already"},
		{"never", "never", "0", 8 << 30, 384 * mib, 0, "transparent huge pages are turned off on this system"},
		{"no THP", "", "0", 8 << 30, 384 * mib, 0, "no transparent huge page support"},
		{"strict overcommit", "madvise", "2", 8 << 30, 384 * mib, 0, "strict memory overcommit (vm.overcommit_memory=2)"},
		{"too small", "madvise", "0", 8 << 30, 6 * mib, 0, "too little memory to mark"},
		{"too little available", "madvise", "0", 10 * mib, 384 * mib, 0, "too little memory to mark"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, why := decide(c.mode, c.overcommit, c.available, c.size)
			if got != c.want || why != c.why {
				t.Errorf("decide(%q, %q, %d, %d) = %d, %q; want %d, %q", c.mode, c.overcommit, c.available, c.size, got, why, c.want, c.why)
			}
		})
	}
}

func TestTHPMode(t *testing.T) {
	for text, want := range map[string]string{
		"always [madvise] never\n": "madvise",
		"[always] madvise never\n": "always",
		"always madvise [never]\n": "never",
		"":                         "",
		"garbage]":                 "",
	} {
		if got := thpMode(text); got != want {
			t.Errorf("thpMode(%q) = %q, want %q", text, got, want)
		}
	}
}

func TestMemAvailable(t *testing.T) {
	text := "MemTotal:       24558420 kB\nMemFree:         1234567 kB\nMemAvailable:   20000000 kB\nBuffers:  1 kB\n"
	if got, want := memAvailable([]byte(text)), int64(20000000)<<10; got != want {
		t.Errorf("memAvailable = %d, want %d", got, want)
	}
	if got := memAvailable([]byte("MemTotal: 1 kB\n")); got != -1 {
		t.Errorf("memAvailable without the line = %d, want -1", got)
	}
	if got := memAvailable([]byte("MemAvailable: lots kB\n")); got != -1 {
		t.Errorf("memAvailable of a bad number = %d, want -1", got)
	}
}

func TestReportsFreePages(t *testing.T) {
	for features, want := range map[string]bool{
		// The bench VM's balloon: stats (bit 1), deflate on OOM (2), free
		// page reporting (5), bit 7, and VIRTIO_F_VERSION_1 (32).
		"0110010100000000000000000000000010000000000000000000000000000000": true,
		// The same without reporting (bit 5).
		"0110000100000000000000000000000010000000000000000000000000000000": false,
		"000001": true,
		"00000":  false,
		"":       false,
	} {
		if got := reportsFreePages(features); got != want {
			t.Errorf("reportsFreePages(%q) = %v, want %v", features, got, want)
		}
	}
}

func TestForBudgetLeavesAReportingVMAlone(t *testing.T) {
	reporting, _ := hostReclaims()
	if !reporting {
		t.Skip("no virtio balloon that reports free pages on this machine")
	}
	res := ForBudget(512<<20, false)
	if res.Advised != 0 || res.Skipped != reclaimSkip {
		t.Errorf("ForBudget(512 MiB, not forced) on a reporting VM = %+v, want nothing marked, skipped %q", res, reclaimSkip)
	}
}
