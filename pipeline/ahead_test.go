package pipeline

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestLoadAhead: results come in order whatever order the loads finish in,
// no more than 2×GOMAXPROCS are loaded ahead of the caller, an error is
// returned at its place, and stop returns only when no load runs any more
// and no goroutine is left.
func TestLoadAhead(t *testing.T) {
	const n = 200
	before := runtime.NumGoroutine()
	var started, running atomic.Int64
	next, stop := loadAhead(n, 0, func(i int) (string, error) {
		started.Add(1)
		running.Add(1)
		defer running.Add(-1)
		time.Sleep(time.Duration((i*7919)%5) * 100 * time.Microsecond) // out of order
		if i == 150 {
			return "", fmt.Errorf("load %d failed", i)
		}
		return fmt.Sprint("r", i), nil
	})
	limit := int64(2*runtime.GOMAXPROCS(0) + runtime.GOMAXPROCS(0) + 1)
	for i := range 150 {
		if i == 10 {
			time.Sleep(20 * time.Millisecond) // let the loads run ahead as far as they may
			if s := started.Load(); s > int64(i)+limit {
				t.Fatalf("%d loads started with %d results taken, want at most %d ahead", s, i, limit)
			}
		}
		v, err := next()
		if err != nil || v != fmt.Sprint("r", i) {
			t.Fatalf("result %d = %q, %v", i, v, err)
		}
	}
	if _, err := next(); err == nil || err.Error() != "load 150 failed" {
		t.Fatalf("result 150: error %v, want load 150 failed", err)
	}
	stop()
	if r := running.Load(); r != 0 {
		t.Errorf("%d loads still running after stop returned", r)
	}
	stop() // a second stop does nothing
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := next()
		if errors.Is(err, errLoadAheadDone) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("next after stop never said done")
		}
	}
	if s := started.Load(); s >= n {
		t.Errorf("all %d loads ran although the caller stopped after 151", s)
	}
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after stop, %d before the loads", runtime.NumGoroutine(), before)
		}
		time.Sleep(time.Millisecond)
	}

	// All results taken: next then says done.
	nextSquare, stopSquares := loadAhead(3, 1, func(i int) (int, error) { return i * i, nil })
	defer stopSquares()
	for i := range 3 {
		if v, err := nextSquare(); v != i*i || err != nil {
			t.Fatalf("result %d = %d, %v", i, v, err)
		}
	}
	if _, err := nextSquare(); !errors.Is(err, errLoadAheadDone) {
		t.Fatalf("past the last result: %v, want errLoadAheadDone", err)
	}
}

// TestLoadAheadWorkers: no more loads run at once than the workers given
// (the run's --workers), and one worker loads one at a time, in order.
func TestLoadAheadWorkers(t *testing.T) {
	for _, workers := range []int{1, 3} {
		var running, most atomic.Int64
		var order []int
		next, stop := loadAhead(60, workers, func(i int) (int, error) {
			n := running.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(200 * time.Microsecond)
			running.Add(-1)
			return i, nil
		})
		for range 60 {
			v, err := next()
			if err != nil {
				t.Fatal(err)
			}
			order = append(order, v)
		}
		stop()
		if m := most.Load(); m > int64(workers) || workers > 1 && m < 2 {
			t.Errorf("workers %d: up to %d loads at once", workers, m)
		}
		for i, v := range order {
			if v != i {
				t.Fatalf("workers %d: result %d is load %d", workers, i, v)
			}
		}
	}
}
