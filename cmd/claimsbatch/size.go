package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// sizeUnits are the suffixes parseSize accepts (case-insensitive). K, M, G
// and T alone are binary, as in systemd's MemoryMax=, docker --memory and
// sort -S: "2G" is 2 GiB. KB, MB, GB and TB are decimal.
var sizeUnits = []struct {
	suffix string
	factor int64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40},
	{"b", 1},
}

// parseSize parses a byte size: a whole number with an optional unit
// (512MiB, 2GiB, 2G, 800MB, 1048576). A size of 0, a negative one, or one
// over 8 EiB - 1 (which int64 cannot hold) is an error, never a silent
// default.
func parseSize(s string) (int64, error) {
	text := strings.TrimSpace(s)
	num, factor := text, int64(1)
	lower := strings.ToLower(text)
	for _, u := range sizeUnits {
		if strings.HasSuffix(lower, u.suffix) {
			num, factor = strings.TrimSpace(text[:len(text)-len(u.suffix)]), u.factor
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil && strings.Contains(err.Error(), "out of range") || err == nil && n > math.MaxInt64/factor {
		return 0, fmt.Errorf("%q is too large (the most is %d bytes, 8 EiB)", s, int64(math.MaxInt64))
	}
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a size such as 512MiB, 2GiB or 2G", s)
	}
	return n * factor, nil
}
