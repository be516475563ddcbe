package validation

import "runtime/debug"

// releaseMemory collects the garbage of a finished step and returns the
// freed pages to the operating system. Go otherwise keeps a freed heap
// mapped for minutes, and a large model's steps (the float64 noise floor,
// the converter's folded and transposed weights) leave hundreds of MB
// behind: ResNet50's validate held 1 GB of RSS for 394 MB of live heap
// while the device ran. The heap here is mostly large pointer-free
// buffers, so the collection costs little.
func releaseMemory() { debug.FreeOSMemory() }

// tightGCPercent is the GC percent of the steps that make and drop copies
// of a model's weights one layer at a time (preparing the reference, the
// float64 noise floor, the conversion): at the default (100) the heap grows
// by the whole live heap (the graph's weights and what the step keeps) in
// garbage before a collection; at 10 by a tenth of it. The heap is mostly
// large pointer-free buffers, so the extra collections cost little.
const tightGCPercent = 10

// tightGC sets the GC percent to tightGCPercent and returns the function
// that restores the previous one.
func tightGC() (restore func()) {
	old := debug.SetGCPercent(tightGCPercent)
	return func() { debug.SetGCPercent(old) }
}
