package reference

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// team runs the parts of one kernel on several goroutines for one sample:
// the calling goroutine takes part 0, helpers started for the run take the
// others. Helpers spin (yielding) for a while between jobs, as a run posts
// one every few microseconds, and park when none comes.
//
// A kernel splits its work into parts by output tiles (rows of output
// pixels or output channels), each part computed whole by one goroutine in
// the same order as one goroutine would: the outputs are the same bits for
// any team size.
type team struct {
	size int
	job  func(part int)
	seq  atomic.Uint64 // job number, bumped per job; odd bit unused
	left atomic.Int32  // parts of the current job not yet done
	quit atomic.Bool
	// per helper: parked says it waits on wake.
	parked []atomic.Bool
	wake   []chan struct{}
	wg     sync.WaitGroup
}

// spinRounds is how many times a helper yields looking for a job before it
// parks.
const spinRounds = 200

// newTeam starts size-1 helpers (none for size <= 1).
func newTeam(size int) *team {
	t := &team{size: max(1, size)}
	if t.size == 1 {
		return t
	}
	t.parked = make([]atomic.Bool, t.size)
	t.wake = make([]chan struct{}, t.size)
	for i := 1; i < t.size; i++ {
		t.wake[i] = make(chan struct{}, 1)
		t.wg.Add(1)
		go t.helper(i)
	}
	return t
}

func (t *team) helper(part int) {
	defer t.wg.Done()
	seen := uint64(0)
	for {
		s := t.wait(part, seen)
		if t.quit.Load() {
			return
		}
		seen = s
		t.job(part)
		t.left.Add(-1)
	}
}

// wait returns the number of a job newer than seen (or returns at quit).
func (t *team) wait(part int, seen uint64) uint64 {
	for range spinRounds {
		if s := t.seq.Load(); s != seen || t.quit.Load() {
			return s
		}
		runtime.Gosched()
	}
	t.parked[part].Store(true)
	if s := t.seq.Load(); s != seen || t.quit.Load() {
		if t.parked[part].Swap(false) {
			return s
		}
		<-t.wake[part] // the poster took the flag: its token is on the way
		return t.seq.Load()
	}
	<-t.wake[part]
	return t.seq.Load()
}

// signal wakes the parked helpers.
func (t *team) signal() {
	for i := 1; i < t.size; i++ {
		if t.parked[i].Swap(false) {
			t.wake[i] <- struct{}{}
		}
	}
}

// run calls f(part) for every part in [0, size) and returns when all are
// done: part 0 on the calling goroutine.
func (t *team) run(f func(part int)) {
	if t.size == 1 {
		f(0)
		return
	}
	t.job = f
	t.left.Store(int32(t.size - 1))
	t.seq.Add(1)
	t.signal()
	f(0)
	for t.left.Load() != 0 {
		runtime.Gosched()
	}
	t.job = nil
}

// stop ends the helpers.
func (t *team) stop() {
	if t.size == 1 {
		return
	}
	t.quit.Store(true)
	t.signal()
	t.wg.Wait()
}

// split returns the part-th of parts near-equal ranges of [0, n), each
// starting at a multiple of align (the last may be shorter).
func split(n, parts, part, align int) (lo, hi int) {
	align = max(1, align)
	blocks := (n + align - 1) / align
	lo = min(n, blocks*part/parts*align)
	hi = min(n, blocks*(part+1)/parts*align)
	return lo, hi
}
