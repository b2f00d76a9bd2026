package writers

import (
	"bytes"
	"sync"
	"testing"
)

// TestRemittanceBlocks checks that rows encoded ahead (Encode, on several
// goroutines at once) and written with WriteBlock, mixed with rows written
// directly, give the bytes of one Write of them all, and the row count; and
// that a Parquet remittance does not encode ahead.
func TestRemittanceBlocks(t *testing.T) {
	results := benchResults(10_000)
	results = append(results, sampleResults()...)
	var want bytes.Buffer
	w, err := NewRemittanceWriter(&want, CSV, sampleRunID)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(results); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	var got bytes.Buffer
	w, err = NewRemittanceWriter(&got, CSV, sampleRunID)
	if err != nil {
		t.Fatal(err)
	}
	// Uneven pieces; every third written directly, the others encoded ahead
	// concurrently into blocks.
	var cuts []int
	for at, n := 0, 1; at < len(results); at, n = at+n, n*2+1 {
		cuts = append(cuts, at)
	}
	cuts = append(cuts, len(results))
	blocks := make([]RemittanceBlock, len(cuts)-1)
	var wg sync.WaitGroup
	for i := range blocks {
		if i%3 == 2 {
			continue
		}
		wg.Go(func() {
			if !w.Encode(&blocks[i], results[cuts[i]:cuts[i+1]]) {
				t.Error("a CSV remittance did not encode ahead")
			}
		})
	}
	wg.Wait()
	for i := range blocks {
		if i%3 == 2 {
			err = w.Write(results[cuts[i]:cuts[i+1]])
		} else {
			err = w.WriteBlock(&blocks[i])
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	// A block is reused: encoding again replaces its rows.
	if !w.Encode(&blocks[0], results[:3]) || blocks[0].rows != 3 {
		t.Errorf("a reused block holds %d rows, want 3", blocks[0].rows)
	}
	if w.Rows() != int64(len(results)) {
		t.Errorf("Rows() = %d, want %d", w.Rows(), len(results))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Errorf("blocks wrote %d bytes that differ from Write's %d", got.Len(), want.Len())
	}

	var pq bytes.Buffer
	p, err := NewRemittanceWriter(&pq, Parquet, sampleRunID)
	if err != nil {
		t.Fatal(err)
	}
	var b RemittanceBlock
	if p.Encode(&b, results[:10]) {
		t.Error("a Parquet remittance encoded ahead")
	}
	if err := p.WriteBlock(&b); err == nil {
		t.Error("a Parquet remittance took a block")
	}
	p.Close()
}
