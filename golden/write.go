package golden

import (
	"archive/zip"
	"fmt"
	"io"
	"slices"

	"github.com/edgeval/edgeval/tensor"
)

// SampleReader gives runs by index: an *InputStream, a *RandomStream, or
// Samples held in memory.
type SampleReader interface {
	// Len returns the number of runs.
	Len() int
	// Sample returns run i: one tensor per model input (or output).
	Sample(i int) ([]*tensor.Tensor, error)
}

// Len returns the number of runs.
func (s Samples) Len() int { return len(s) }

// Sample returns run i.
func (s Samples) Sample(i int) ([]*tensor.Tensor, error) {
	if i < 0 || i >= len(s) {
		return nil, fmt.Errorf("sample %d out of range [0, %d)", i, len(s))
	}
	return s[i], nil
}

// WriteNPZ writes runs as an .npz with one array per name (the i-th tensor
// of every run, gathered as Gather does: first axis = samples), atomically.
// No runs write nothing.
func WriteNPZ(path string, names []string, runs Samples, batch int) error {
	return WriteNPZFrom(path, names, runs, batch)
}

// WriteNPZFrom is WriteNPZ reading the runs from r as it writes, each run
// once per name, so that they need not be held at once: the file is byte
// for byte what WriteNPZ writes for the same runs (uncompressed, as
// numpy.savez writes). No runs write nothing.
func WriteNPZFrom(path string, names []string, r SampleReader, batch int) error {
	if r.Len() == 0 {
		return nil
	}
	// Errors are *tensor.WriteError, which name the file.
	return tensor.WriteAtomic(path, func(w io.Writer) error {
		zw := zip.NewWriter(w)
		for i, name := range names {
			mw, err := zw.CreateHeader(&zip.FileHeader{Name: name + ".npy", Method: zip.Store})
			if err != nil {
				return err
			}
			if err := writeGathered(mw, r, i, batch); err != nil {
				return fmt.Errorf("%q: %w", name, err)
			}
		}
		return zw.Close()
	})
}

// WriteNPYFrom writes the i-th tensor of every run of r, gathered as
// Gather does, as one .npy file (atomically, as tensor.WriteNPYFile),
// reading the runs as it writes.
func WriteNPYFrom(path string, r SampleReader, i, batch int) error {
	return tensor.WriteAtomic(path, func(w io.Writer) error { return writeGathered(w, r, i, batch) })
}

// writeGathered writes Gather(runs of r, i, batch) as an .npy without
// holding it: the header from the first run's tensor, then each run's data.
func writeGathered(w io.Writer, r SampleReader, i, batch int) error {
	n := r.Len()
	if n == 0 {
		return fmt.Errorf("no runs to gather")
	}
	var first *tensor.Tensor
	for s := range n {
		run, err := r.Sample(s)
		if err != nil {
			return err
		}
		if i >= len(run) {
			return fmt.Errorf("run %d has %d tensors, no tensor %d", s, len(run), i)
		}
		t := run[i]
		if first == nil {
			first = t
			shape := append([]int{n}, t.Shape...)
			if len(t.Shape) > 0 && t.Shape[0] == batch && batch > 0 {
				shape = append([]int{n * batch}, t.Shape[1:]...)
			}
			// The header alone: a tensor of that shape without data.
			if err := tensor.WriteNPY(w, &tensor.Tensor{DType: t.DType, Shape: shape}); err != nil {
				return err
			}
		} else if t.DType != first.DType || !slices.Equal(t.Shape, first.Shape) {
			return fmt.Errorf("stack: tensor %d is %v %v, want %v %v", s, t.DType, t.Shape, first.DType, first.Shape)
		}
		if _, err := w.Write(t.Data); err != nil {
			return err
		}
	}
	return nil
}
