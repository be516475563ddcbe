package reference

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// team runs the parts of one kernel on several goroutines for one sample:
// the calling goroutine (the poster) takes the parts of a job one at a
// time from the front and size-1 helpers from the back, until none is
// left; the poster then waits for the parts the helpers took. A helper
// that starts late (its core busy with another process) so costs the job
// nothing: the poster computes the parts nobody took, and a helper
// preempted by another process holds up only the one small part it took.
// Helpers poll for jobs through a run (begin to end), as a run posts one
// every few microseconds, and for spinTime after it, then yield for a
// while and park; a team lives as long as the run state that holds it,
// across runs.
//
// A kernel splits its work into parts by output tiles (rows of output
// pixels or output channels), each part computed whole by one goroutine in
// the same order as one goroutine would: the outputs are the same bits for
// any team size and whoever computes which part.
type team struct {
	size int
	job  func(part, worker int)
	// state holds the job number (high 32 bits) and the parts not yet
	// taken, [lo, hi) (lo in bits 16–31, hi in the low 16 bits); a part
	// is taken by a compare-and-swap that names the job, so a helper late
	// for one job never takes a part of the next.
	state atomic.Uint64
	done  atomic.Int32 // parts of the current job finished
	quit  atomic.Bool
	// active is set while a run is under way (begin to end): helpers
	// then poll for jobs instead of parking between them.
	active atomic.Bool
	// per helper: parked says it waits on wake.
	parked []atomic.Bool
	wake   []chan struct{}
	wg     sync.WaitGroup
}

// spinTime is how long a helper polls for the next job before it yields,
// and yieldRounds how many times it then yields before it parks.
const (
	spinTime    = 200 * time.Microsecond
	yieldRounds = 50
)

// yieldEvery is how long a helper polls in a run before it yields to
// other goroutines once.
const yieldEvery = time.Millisecond

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

func (t *team) helper(i int) {
	defer t.wg.Done()
	seen := uint32(0)
	for {
		seq := t.wait(i, seen)
		if t.quit.Load() {
			return
		}
		seen = seq
		t.work(seq, i)
	}
}

// work takes and runs parts of job seq on worker (0 the poster, i helper
// i) until none is left (or the job is no longer current): the poster
// takes them from the front, the helpers from the back, so that a kernel
// that splits by output rows gives the poster the first rows and a helper
// the last ones in every layer, and each mostly reads the rows it wrote
// itself, in its own core's cache.
func (t *team) work(seq uint32, worker int) {
	for {
		s := t.state.Load()
		lo, hi := int(s>>16&0xffff), int(s&0xffff)
		if uint32(s>>32) != seq || lo >= hi {
			return
		}
		part, took := lo, s+1<<16
		if worker > 0 {
			part, took = hi-1, s-1
		}
		if !t.state.CompareAndSwap(s, took) {
			continue
		}
		// The part is ours and the job not finished without it, so
		// t.job is still this job's.
		t.job(part, worker)
		t.done.Add(1)
	}
}

// wait returns the number of a job other than seen (or returns at quit).
func (t *team) wait(i int, seen uint32) uint32 {
	cur := func() uint32 { return uint32(t.state.Load() >> 32) }
	start := time.Now()
	for n := 0; ; n++ {
		if s := cur(); s != seen || t.quit.Load() {
			return s
		}
		if n%64 != 63 {
			continue
		}
		since := time.Since(start)
		if t.active.Load() {
			// Poll on through the run, letting other goroutines in
			// every yieldEvery. Not more often: a goroutine that
			// yields goes to the global run queue, from where the
			// poster's P may take it while the helper's P takes the
			// poster, and each then reads the other's rows from the
			// other core's cache.
			if since > yieldEvery {
				runtime.Gosched()
				start = time.Now()
			}
			continue
		}
		if since > spinTime {
			break
		}
	}
	for range yieldRounds {
		if s := cur(); s != seen || t.quit.Load() {
			return s
		}
		runtime.Gosched()
	}
	t.parked[i].Store(true)
	if s := cur(); s != seen || t.quit.Load() {
		if t.parked[i].Swap(false) {
			return s
		}
		<-t.wake[i] // the poster took the flag: its token is on the way
		return cur()
	}
	<-t.wake[i]
	return cur()
}

// begin marks the start of a run: the helpers are woken now, while the
// run's first steps are computed, and poll for jobs until end, so that no
// job of the run waits for a helper to be rescheduled.
func (t *team) begin() {
	if t.size == 1 {
		return
	}
	t.active.Store(true)
	t.signal()
}

// end marks the end of a run: the helpers park after spinTime.
func (t *team) end() {
	if t.size > 1 {
		t.active.Store(false)
	}
}

// signal wakes the parked helpers.
func (t *team) signal() {
	for i := 1; i < t.size; i++ {
		if t.parked[i].Swap(false) {
			t.wake[i] <- struct{}{}
		}
	}
}

// run calls f(part, worker) for every part in [0, parts) and returns when
// all are done, taking on the calling goroutine (worker 0) every part no
// helper (worker i) has taken.
func (t *team) run(parts int, f func(part, worker int)) {
	if t.size == 1 {
		for part := range parts {
			f(part, 0)
		}
		return
	}
	t.job = f
	t.done.Store(0)
	seq := uint32(t.state.Load()>>32) + 1
	t.state.Store(uint64(seq)<<32 | uint64(parts))
	t.signal()
	t.work(seq, 0)
	// The helpers' last parts take microseconds; yield only when a helper
	// seems descheduled (for the reason in wait).
	var start time.Time
	for n := 0; t.done.Load() != int32(parts); n++ {
		if n%64 != 63 {
			continue
		}
		if start.IsZero() {
			start = time.Now()
		} else if time.Since(start) > spinTime {
			runtime.Gosched()
		}
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

// split returns the part-th of parts ranges of [0, n), each starting at
// a multiple of align (the last may be shorter). With four parts or more
// they shrink towards the middle (weights parts/2, …, 2, 1, 1, 2, …,
// parts/2), where the poster, taking parts from the front, and the
// helpers, from the back, meet: the one that finishes first then waits
// for a small part, not for an eighth of the job.
func split(n, parts, part, align int) (lo, hi int) {
	align = max(1, align)
	blocks := (n + align - 1) / align
	if parts < 4 {
		lo = min(n, blocks*part/parts*align)
		hi = min(n, blocks*(part+1)/parts*align)
		return lo, hi
	}
	total := vWeightsBefore(parts, parts)
	lo = min(n, blocks*vWeightsBefore(parts, part)/total*align)
	hi = min(n, blocks*vWeightsBefore(parts, part+1)/total*align)
	return lo, hi
}

// vWeightsBefore returns the sum of the weights of split's first k of
// parts parts: part i weighs half - min(i, parts-1-i), half =
// (parts+1)/2.
func vWeightsBefore(parts, k int) int {
	half := (parts + 1) / 2
	sum := 0
	for i := range k {
		sum += half - min(i, parts-1-i)
	}
	return sum
}
