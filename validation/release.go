package validation

import (
	"errors"
	"io"
	"runtime/debug"

	"github.com/edgeval/edgeval/internal/hdf5"
	"github.com/edgeval/edgeval/internal/mapped"
)

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

// spillBytes is the .tflite size from which spillTFLite moves it out of the
// heap while the device runs.
var spillBytes = 16 << 20

// spillTFLite moves a large .tflite into a read-only file mapping
// (internal/mapped) before the device opens it: a device that runs the
// model in another process (the isolated agent, Node) then loads its own
// copy while this process's pages are evicted (devices evicts them once
// the model is in the agent's cache), so that the model is not resident
// twice. The bytes stay readable (for the report, the repro bundle,
// locating); releaseSpilled unmaps them at the end of the run. Where no
// mapping can be made the heap copy is kept.
func (p *pipeline) spillTFLite() {
	if len(p.tflite) < spillBytes || mapped.Is(p.tflite) {
		return
	}
	m, err := mapped.Spill(p.tflite)
	if err != nil {
		p.o.step("keeping the .tflite in memory: %v", err)
		return
	}
	p.tflite, p.spilled = m, m
	releaseMemory()
}

// releaseSpilled unmaps what spillTFLite and spillingSource mapped, at the
// end of the run: neither p.tflite nor the source graph's weights may be
// read afterwards.
func (p *pipeline) releaseSpilled() {
	if p.spilled != nil {
		_ = mapped.Release(p.spilled)
		p.spilled, p.tflite = nil, nil
	}
	for _, f := range p.frames {
		_ = mapped.Release(f)
	}
	p.frames, p.source, p.canonical = nil, nil, nil
}

// spillingSource returns so reading a Keras model's HDF5 snapshot (when so
// reads one: SourceOptions.ReadHDF5) into a read-only file mapping when its
// frame is large: the source graph's weights lie in it, and evictSource
// drops them from this process's memory while the conversion writes and
// the device runs; a step that reads them again reads them back from the
// file (the page cache).
func (p *pipeline) spillingSource(so SourceOptions) SourceOptions {
	read := so.ReadHDF5
	if read == nil {
		return so
	}
	so.ReadHDF5 = func(path string, opts hdf5.SnapshotOptions) (*hdf5.Snapshot, error) {
		// A large frame from the reader's child goes from the pipe
		// straight into the mapping, never into the heap.
		opts.Receive = receiveFrame
		s, err := read(path, opts)
		if err != nil {
			return s, err
		}
		if mapped.Is(s.Frame()) {
			p.frames = append(p.frames, s.Frame())
			return s, nil
		}
		if len(s.Frame()) < spillBytes {
			return s, nil
		}
		if err := s.MoveFrame(mapped.Spill); err != nil {
			p.o.step("keeping the model's weights in memory: %v", err)
			return s, nil
		}
		p.frames = append(p.frames, s.Frame())
		return s, nil
	}
	return so
}

// evictSource drops the pages of the source graph's spilled weights from
// this process's memory (spillingSource); they stay readable.
func (p *pipeline) evictSource() {
	for _, f := range p.frames {
		mapped.Evict(f)
	}
}

// receiveFrame reads a snapshot frame of n bytes from the HDF5 reader's
// child (hdf5.SnapshotOptions.Receive): into a read-only file mapping when
// it is large (spillBytes and over), else, or where nothing can be mapped,
// into the heap.
func receiveFrame(r io.Reader, n int) ([]byte, error) {
	if n >= spillBytes {
		b, err := mapped.Receive(r, n)
		if !errors.Is(err, mapped.ErrUnsupported) {
			return b, err
		}
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}
