package spill

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"claimsbatch/claim"
)

// TestPartitionsSizedDecoders: a partition's decoder reads a file into
// blocks no larger than the partition (a small one costs a few hundred
// bytes, not a block of ReadBlockSize) and decodes a partition in memory where
// it is, and every record still decodes, with its strings intact once
// later records are read: a few tiny records, many records across several
// blocks, and one record larger than a block, in memory and on disk.
func TestPartitionsSizedDecoders(t *testing.T) {
	cases := []struct {
		name  string
		ids   []string
		block int // the most a first arena block may take
	}{
		{"tiny", []string{"C1", "C2", "C3"}, 256},
		{"many", func() (ids []string) {
			for i := range 40000 {
				ids = append(ids, fmt.Sprintf("C%08d", i))
			}
			return ids
		}(), ReadBlockSize},
		{"huge record", []string{"A", strings.Repeat("x", 3*ReadBlockSize/2), "B"}, 3*ReadBlockSize/2 + 64},
	}
	for _, c := range cases {
		for _, disk := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s disk=%v", c.name, disk), func(t *testing.T) {
				var budget *Budget
				if !disk {
					budget = NewBudget(1 << 30)
				}
				p, err := NewBuffered(t.TempDir(), "t", 2, budget)
				if err != nil {
					t.Fatal(err)
				}
				defer p.Close()
				for i, id := range c.ids {
					x := claim.Exception{Source: "claims.csv", Row: int64(i + 2), ClaimID: id, Code: claim.ParseError}
					if err := p.WriteException(1, &x); err != nil {
						t.Fatal(err)
					}
				}
				if err := p.Finish(); err != nil {
					t.Fatal(err)
				}
				if p.OnDisk() != disk {
					t.Fatalf("on disk %v, want %v", p.OnDisk(), disk)
				}
				d, err := p.Open(1)
				if err != nil {
					t.Fatal(err)
				}
				var got []claim.Exception
				first := -1
				for d.Next() {
					if first < 0 {
						first = cap(d.blk)
					}
					var x claim.Exception
					d.Exception(&x)
					got = append(got, x)
				}
				if d.Err() != nil {
					t.Fatal(d.Err())
				}
				if disk && (first > c.block || first > int(p.sizes[1])+64) {
					t.Errorf("first block %d bytes for a partition of %d, want at most %d", first, p.sizes[1], c.block)
				}
				if !disk {
					// In memory the records are decoded where they are.
					allocs := testing.AllocsPerRun(5, func() {
						d, _ := p.Open(1)
						for d.Next() {
						}
					})
					if allocs > 1 {
						t.Errorf("reading a partition in memory allocates %v times, want 1 (the decoder)", allocs)
					}
				}
				if len(got) != len(c.ids) {
					t.Fatalf("%d records, want %d", len(got), len(c.ids))
				}
				for i, x := range got {
					if x.ClaimID != c.ids[i] || x.Row != int64(i+2) || x.Source != "claims.csv" {
						t.Fatalf("record %d: %+v, want claim %.20q row %d", i, x, c.ids[i], i+2)
					}
				}
				// The empty partition opens and ends at once.
				d, err = p.Open(0)
				if err != nil || d.Next() || d.Err() != nil {
					t.Fatalf("empty partition: err %v, next or err %v", err, d.Err())
				}
			})
		}
	}
}

// TestDecoderTruncated: a file that ends within a frame's header or
// record is corrupt; one that ends between frames is a clean end.
func TestDecoderTruncated(t *testing.T) {
	var whole []byte
	whole = appendFrame(whole, []byte("first"))
	whole = appendFrame(whole, []byte(strings.Repeat("y", 300))) // a two-byte header
	for cut := 0; cut <= len(whole); cut++ {
		d := NewDecoder(bytes.NewReader(whole[:cut]))
		var got []string
		for d.Next() {
			got = append(got, string(d.Record()))
		}
		clean := cut == 0 || cut == 6 || cut == len(whole)
		switch {
		case clean && d.Err() != nil:
			t.Errorf("cut at %d: %v, want a clean end", cut, d.Err())
		case !clean && !errors.Is(d.Err(), errSpillCorrupt):
			t.Errorf("cut at %d: err %v, want corrupt", cut, d.Err())
		}
		want := 0 // records whole before the cut
		if cut >= 6 {
			want++
		}
		if cut == len(whole) {
			want++
		}
		if len(got) != want {
			t.Errorf("cut at %d: %d records, want %d", cut, len(got), want)
		}
	}
}

// TestBlockPool reads a partition file of three MiB of records twice with
// pooled decoders: the second read takes the blocks the first gave back,
// overwritten in between as a reuse leaves them, and decodes the same
// records; blocks smaller than a pool's are left out of it.
func TestBlockPool(t *testing.T) {
	p, err := New(t.TempDir(), "t", 2)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var want []string
	for i := 0; p.sizes[0] < 3*ReadBlockSize+ReadBlockSize/2; i++ {
		id := fmt.Sprintf("C%08d-%s", i, strings.Repeat("x", i%40))
		want = append(want, id)
		if err := p.WriteKey(0, &Key{ClaimID: id, LineNo: int32(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.WriteKey(1, &Key{ClaimID: "small"}); err != nil {
		t.Fatal(err)
	}
	if err := p.Finish(); err != nil {
		t.Fatal(err)
	}
	pool := NewBlockPool(8, 0)
	read := func(i int) ([]string, [][]byte) {
		d, err := p.OpenPooled(i, pool)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		var k Key
		for d.Next() {
			d.Key(&k)
			got = append(got, strings.Clone(k.ClaimID))
		}
		if err := d.Err(); err != nil {
			t.Fatal(err)
		}
		return got, d.TakeBlocks()
	}
	for round := range 2 {
		got, blocks := read(0)
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: %d records read, want %d (or they differ)", round, len(got), len(want))
		}
		if len(blocks) < 3 {
			t.Fatalf("round %d: %d pooled blocks for 3 MiB of records", round, len(blocks))
		}
		for _, b := range blocks {
			b = b[:cap(b)]
			for j := range b {
				b[j] = 0xFF // what a reuse may leave
			}
		}
		pool.Put(blocks)
	}
	made, reused := pool.Stats()
	if made == 0 || reused < made {
		t.Errorf("pool made %d blocks and reused %d; the second read should take the first's", made, reused)
	}
	if got, blocks := read(1); !slices.Equal(got, []string{"small"}) || len(blocks) != 0 {
		t.Errorf("small partition: read %q with %d pooled blocks, want [small] and none (its block is its own size)", got, len(blocks))
	}
}

// TestBudgetReserve: Reserve takes what is asked when it is left, else
// what is left, and a set then moves to files as soon as its records pass
// what the reservation left of the budget.
func TestBudgetReserve(t *testing.T) {
	b := NewBudget(1000)
	if got := b.Reserve(600); got != 600 {
		t.Fatalf("Reserve(600) of 1000 = %d", got)
	}
	if got := b.Reserve(600); got != 400 {
		t.Fatalf("Reserve(600) of the 400 left = %d", got)
	}
	if got := b.Reserve(1); got != 0 {
		t.Fatalf("Reserve(1) of nothing = %d", got)
	}
	if got := (*Budget)(nil).Reserve(5); got != 0 {
		t.Fatalf("nil Reserve = %d", got)
	}
	b = NewBudget(1 << 20)
	b.Reserve(1<<20 - 300)
	p, err := NewBuffered(t.TempDir(), "reserved", 1, b)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := 0; i < 100 && !p.OnDisk(); i++ {
		if err := p.WriteRecord(0, []byte("0123456789")); err != nil {
			t.Fatal(err)
		}
	}
	if !p.OnDisk() {
		t.Error("the set stayed in memory past the 300 bytes the reservation left")
	}
}
