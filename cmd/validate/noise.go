package main

import (
	"github.com/edgeval/edgeval/golden"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/bug"
	"github.com/edgeval/edgeval/reference/ref64"
)

// noiseFloor measures each output's float32 noise floor: the largest
// absolute difference between the float32 reference outputs ref32 (one run
// per sample) and a float64 evaluation of the same graph on the same
// inputs. A graph the float32 reference runs but ref64 cannot is our bug:
// both must cover every op.
func noiseFloor(g *graph.Graph, inputs, ref32 golden.Samples) ([]float64, error) {
	drift, err := ref64.Drift(g, inputs, ref32)
	if err != nil {
		return nil, bug.New("float64 reference", err)
	}
	out := make([]float64, len(drift))
	for i, d := range drift {
		out[i] = d.MaxAbs
	}
	return out, nil
}
