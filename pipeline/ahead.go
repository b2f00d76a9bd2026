package pipeline

import (
	"errors"
	"runtime"
	"sync"
)

// errLoadAheadDone is what loadAhead's next returns past the last result
// or after stop.
var errLoadAheadDone = errors.New("pipeline: no more results to load")

// loadAhead runs load(0), load(1), ... load(n-1) on up to workers
// goroutines (GOMAXPROCS when 0), at most twice that many ahead of the caller, and returns them
// in order: each call of next returns the next one's result (n calls at
// most). stop ends the loading early: it returns once the loads under way
// have finished (their results dropped), so that nothing loads any more
// when the caller goes on to close what load reads. Call it when done,
// whether or not every result was taken.
func loadAhead[T any](n, workers int, load func(i int) (T, error)) (next func() (T, error), stop func()) {
	type result struct {
		v   T
		err error
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	pending := make(chan chan result, 2*workers) // in order, each filled once
	quit := make(chan struct{})
	sem := make(chan struct{}, workers)
	var running sync.WaitGroup // the dispatching goroutine and the loads
	running.Add(1)
	go func() {
		defer running.Done()
		defer close(pending)
		for i := range n {
			select {
			case sem <- struct{}{}:
			case <-quit:
				return
			}
			out := make(chan result, 1)
			select {
			case pending <- out:
			case <-quit:
				<-sem
				return
			}
			running.Add(1)
			go func() {
				defer running.Done()
				defer func() { <-sem }()
				v, err := load(i)
				out <- result{v, err}
			}()
		}
	}()
	next = func() (T, error) {
		out, ok := <-pending
		if !ok {
			var zero T
			return zero, errLoadAheadDone
		}
		r := <-out
		return r.v, r.err
	}
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			close(quit)
			running.Wait()
		}
	}
	return next, stop
}
