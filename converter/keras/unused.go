package keras

import (
	"fmt"
	"strings"
)

// UnusedWeightsError is a model file holding weights that no layer of its
// configuration reads: a layer of the weights that the configuration does
// not have, or a variable that its layer does not use. Such a file was not
// made from this configuration (or the reader misses part of it), so the
// load fails unless Options.AllowUnused is set. The CLI maps it to exit
// code 2.
type UnusedWeightsError struct {
	File string
	// Names are the unused weights' HDF5 paths ("model_weights/extra/
	// extra/kernel:0", or "layers/dense/vars/2" in a Keras 3 weights
	// file), sorted. The optimizer's state is never listed.
	Names []string
}

// maxListed bounds the names Error prints (all are in Names).
const maxListed = 20

// Error lists the unused weights, one per line (the first 20).
func (e *UnusedWeightsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "keras %s: %d weight(s) in the file are read by no layer of the model: the architecture may not be the one these weights belong to (accept them with --allow-unused, Options.AllowUnused in Go):", e.File, len(e.Names))
	for i, n := range e.Names {
		if i == maxListed {
			fmt.Fprintf(&b, "\n  ... and %d more", len(e.Names)-maxListed)
			break
		}
		fmt.Fprintf(&b, "\n  %s", n)
	}
	return b.String()
}

// LoadReport is what LoadWithReport found besides the graph.
type LoadReport struct {
	// Unused lists the weights of the file that no layer reads (HDF5
	// paths, sorted, as in UnusedWeightsError). It can be non-empty on a
	// successful load only with Options.AllowUnused.
	Unused []string
	// Notes are what a reader of the results must know about how the
	// file was read: each decoded Lambda's function, as Python source.
	Notes []string
}
