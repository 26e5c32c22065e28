package routes

import (
	"runtime"
	"sync"
)

// minChunk is the fewest items worth a goroutine of their own: below it the
// work is done where it is asked for.
const minChunk = 256

// parallel calls f(0) … f(n-1) on up to GOMAXPROCS goroutines, in
// contiguous chunks, and returns when every call has. f must only touch
// what belongs to its index. The goroutines are pure computation and all
// end before parallel returns.
func parallel(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n/minChunk)
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var wg sync.WaitGroup
	per := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += per {
		hi := min(lo+per, n)
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				f(i)
			}
		})
	}
	wg.Wait()
}
