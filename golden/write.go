package golden

import (
	"fmt"

	"github.com/edgeval/edgeval/tensor"
)

// WriteNPZ writes runs as an .npz with one array per name (the i-th tensor
// of every run, gathered as Gather does: first axis = samples), atomically.
// No runs write nothing.
func WriteNPZ(path string, names []string, runs Samples, batch int) error {
	if len(runs) == 0 {
		return nil
	}
	arrays := make([]tensor.Named, 0, len(names))
	for i, n := range names {
		t, err := Gather(runs, i, batch)
		if err != nil {
			return fmt.Errorf("%s: %q: %w", path, n, err)
		}
		arrays = append(arrays, tensor.Named{Name: n, Tensor: t})
	}
	return tensor.WriteNPZ(path, arrays)
}
