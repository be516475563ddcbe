//go:build cgo

package keras

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/hdf5"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/tensor"
)

// unusedCases are real Keras files holding weights that no layer of their
// configuration reads (testdata/gen/keras_unused_fixtures.py).
var unusedCases = []struct {
	name, file, config string
	want               []string
}{
	{"extra layer and variables", "testdata/unused_extra.h5", "", []string{
		"model_weights/dense/dense/extra:0",
		"model_weights/dense/dense/stray:0",
		"model_weights/ghost/ghost/kernel:0",
	}},
	{"keras 2 weights-only, layer left out", "testdata/unused_k2_weights.h5", "testdata/unused_k2_config.json",
		[]string{"b/b/bias:0", "b/b/kernel:0"}},
	{"keras 3 weights-only, layer left out", "testdata/unused_k3.weights.h5", "testdata/unused_k3_config.json",
		[]string{"layers/dense_1/vars/0", "layers/dense_1/vars/1"}},
}

// TestUnusedWeightsRefused: the load fails with an *UnusedWeightsError
// listing every unused weight, read in-process or through a snapshot.
func TestUnusedWeightsRefused(t *testing.T) {
	for _, tc := range unusedCases {
		for _, snap := range []bool{false, true} {
			name := tc.name
			opts := Options{ConfigJSON: tc.config}
			if snap {
				name += "/snapshot"
				opts.Snapshot = hdf5.TakeSnapshot
			}
			t.Run(name, func(t *testing.T) {
				g, rep, err := LoadWithReport(tc.file, opts)
				assert.Nil(t, g)
				var ue *UnusedWeightsError
				require.ErrorAs(t, err, &ue)
				assert.Equal(t, tc.file, ue.File)
				assert.Equal(t, tc.want, ue.Names)
				require.NotNil(t, rep)
				assert.Equal(t, tc.want, rep.Unused)
				_, err = Load(tc.file, opts)
				require.ErrorAs(t, err, &ue)
			})
		}
	}
}

func TestUnusedWeightsErrorMessage(t *testing.T) {
	_, err := Load("testdata/unused_k2_weights.h5", Options{ConfigJSON: "testdata/unused_k2_config.json"})
	require.Error(t, err)
	assert.Equal(t, "keras testdata/unused_k2_weights.h5: 2 weight(s) in the file are read by no layer of the model: the architecture may not be the one these weights belong to (accept them with --allow-unused, Options.AllowUnused in Go):\n  b/b/bias:0\n  b/b/kernel:0", err.Error())
	e := &UnusedWeightsError{File: "f.h5"}
	for i := range 25 {
		e.Names = append(e.Names, filepath.Join("w", string(rune('a'+i))))
	}
	assert.Contains(t, e.Error(), "\n  w/t\n  ... and 5 more")
	assert.NotContains(t, e.Error(), "w/u")
}

// TestUnusedWeightsAllowed: with AllowUnused the load succeeds, the report
// lists the unused weights, and the weights that are read are the right
// ones: the file with extra weights computes what the original corpus file
// computes, and the Keras 2 and Keras 3 weights-only files (the same
// seeded weights) compute the same.
func TestUnusedWeightsAllowed(t *testing.T) {
	graphs := map[string]*graph.Graph{}
	for _, tc := range unusedCases {
		t.Run(tc.name, func(t *testing.T) {
			g, rep, err := LoadWithReport(tc.file, Options{ConfigJSON: tc.config, AllowUnused: true})
			require.NoError(t, err)
			require.NoError(t, g.Validate())
			assert.Equal(t, tc.want, rep.Unused)
			graphs[tc.file] = g
		})
	}
	orig, rep, err := LoadWithReport("../../testdata/corpus/keras/bn_dense/model_k2.h5", Options{})
	require.NoError(t, err)
	assert.Empty(t, rep.Unused, "the original file has no unused weights")
	require.NotNil(t, graphs["testdata/unused_extra.h5"])
	assert.Equal(t, run(t, orig, 1), run(t, graphs["testdata/unused_extra.h5"], 1))
	k2, k3 := graphs["testdata/unused_k2_weights.h5"], graphs["testdata/unused_k3.weights.h5"]
	require.NotNil(t, k2)
	require.NotNil(t, k3)
	assert.Len(t, k2.Nodes, len(k3.Nodes))
	out := run(t, k2, 2)
	assert.Equal(t, []int{1, 2}, out.Shape)
	assert.Equal(t, out, run(t, k3, 2))
}

// TestOptimizerStateIsNotUnused: a trained Keras 3 archive whose weights
// file holds the optimizer's state loads in-process (which, unlike a
// snapshot, sees that state) with no unused weights.
func TestOptimizerStateIsNotUnused(t *testing.T) {
	const file = "testdata/k3_trained.keras"
	a, err := openArchive(file, t.TempDir())
	require.NoError(t, err)
	f, err := hdf5.Open(a.weightsPath)
	require.NoError(t, err)
	entries, err := f.List("optimizer/vars")
	require.NoError(t, err)
	assert.NotEmpty(t, entries, "the fixture holds optimizer state")
	require.NoError(t, f.Close())

	g, rep, err := LoadWithReport(file, Options{})
	require.NoError(t, err)
	require.NoError(t, g.Validate())
	assert.Empty(t, rep.Unused)
}

// run evaluates a one-input graph in the reference on a seeded input.
func run(t *testing.T, g *graph.Graph, seed uint64) *tensor.Tensor {
	t.Helper()
	require.Len(t, g.Inputs, 1)
	in := tensor.Random(tensor.NewRNG(seed), g.Inputs[0].DType, g.Inputs[0].Shape, -1, 1)
	p, err := reference.Prepare(g)
	require.NoError(t, err)
	outs, err := p.Run([]*tensor.Tensor{in})
	require.NoError(t, err)
	require.Len(t, outs, 1)
	return outs[0]
}
