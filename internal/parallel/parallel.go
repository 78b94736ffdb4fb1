// Package parallel runs index loops on all CPUs.
package parallel

import (
	"runtime"
	"sync"
)

// For calls fn(i) for every i in [0, n) on up to GOMAXPROCS goroutines, each taking a contiguous range of i.
// It returns when every call has returned.
func For(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var wg sync.WaitGroup
	for t := range workers {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				fn(i)
			}
		}(t*n/workers, (t+1)*n/workers)
	}
	wg.Wait()
}
