package job

import (
	"bytes"
	"cmp"
	"testing"
)

func TestSortKeyOrder(t *testing.T) {
	type pair struct {
		s string
		n int64
	}
	key := func(p pair) []byte { return AppendInt(AppendString(nil, p.s), p.n) }
	cases := []struct {
		name string
		a, b pair
	}{
		{"shorter string first", pair{"M1", 9}, pair{"M10", 0}},
		{"empty string first", pair{"", 5}, pair{"\x00", 0}},
		{"zero byte inside", pair{"A\x00B", 0}, pair{"A\x00C", 0}},
		{"zero byte before 0x01", pair{"A\x00", 0}, pair{"A\x01", 0}},
		{"string decides before number", pair{"A", 1 << 40}, pair{"B", -5}},
		{"negative before positive", pair{"A", -1}, pair{"A", 1}},
		{"min before max", pair{"A", -1 << 63}, pair{"A", 1<<63 - 1}},
		{"numbers in order", pair{"A", 255}, pair{"A", 256}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := bytes.Compare(key(c.a), key(c.b)); got != -1 {
				t.Errorf("key(%q,%d) vs key(%q,%d) = %d, want -1", c.a.s, c.a.n, c.b.s, c.b.n, got)
			}
		})
	}
}

func FuzzSortKeyOrder(f *testing.F) {
	f.Add("M1", int64(3), "M10", int64(-2))
	f.Add("a\x00", int64(0), "a", int64(0))
	f.Fuzz(func(t *testing.T, s1 string, n1 int64, s2 string, n2 int64) {
		want := cmp.Compare(s1, s2)
		if want == 0 {
			want = cmp.Compare(n1, n2)
		}
		got := bytes.Compare(AppendInt(AppendString(nil, s1), n1), AppendInt(AppendString(nil, s2), n2))
		if got != want {
			t.Fatalf("(%q,%d) vs (%q,%d): key order %d, value order %d", s1, n1, s2, n2, got, want)
		}
	})
}

func TestShardOf(t *testing.T) {
	// Fixed values: a change here would send keys of a retried bundle, or of
	// a worker built from another version, to other shards.
	for _, c := range []struct {
		key    string
		shards int
		want   int
	}{
		{"", 7, 0xcbf29ce484222325 % 7}, // FNV-1a offset basis
		{"a", 1000, 0xaf63dc4c8601ec8c % 1000},
		{"M000001", 1, 0},
	} {
		if got := ShardOf(c.key, c.shards); got != c.want {
			t.Errorf("ShardOf(%q, %d) = %d, want %d", c.key, c.shards, got, c.want)
		}
	}
}
