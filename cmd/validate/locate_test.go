package main

import (
	"context"
	"encoding/binary"
	"io"
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/converter/keras"
	"github.com/edgeval/edgeval/golden"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/tflite"
)

// TestLocateInPipeline: a failed validation of our own conversion records
// the first diverging layer in the result. The .tflite is ours with one
// depthwise convolution's weights scaled by 1.1, as a converter bug in that
// layer would leave it.
func TestLocateInPipeline(t *testing.T) {
	f := &validateFlags{batch: 1}
	f.device, f.runtime, f.delegate = "host", "litert", "none"
	g, err := keras.Load(testutil.Fixture(t, "keras/mlcommons-tiny/vww_96.h5"), keras.Options{})
	require.NoError(t, err)
	tfl, cg, err := convertGraph(g, f)
	require.NoError(t, err)

	var target *graph.Node
	for _, n := range cg.Nodes {
		if c, ok := n.Op.(*graph.Conv2D); ok && c.IsDepthwise(n.Inputs[0].Shape[3]) {
			target = n // the last depthwise convolution
		}
	}
	require.NotNil(t, target)
	bad := slices.Clone(tfl)
	m, err := tflite.Read(bad)
	require.NoError(t, err)
	for i, tt := range m.Subgraphs[0].Tensors {
		if tt.Name == target.Inputs[1].Name {
			data, err := m.TensorData(0, i)
			require.NoError(t, err)
			for k := 0; k+4 <= len(data); k += 4 {
				binary.LittleEndian.PutUint32(data[k:], math.Float32bits(1.1*math.Float32frombits(binary.LittleEndian.Uint32(data[k:]))))
			}
		}
	}
	specs := graphSpecs(g)
	v := &validation{
		f: f, source: g, canonical: cg, tflite: bad, batch: 1,
		inputs: golden.RandomInputs(specs, 2, 1, 0, 1),
		res:    &compare.Result{},
	}
	v.locate(context.Background(), io.Discard)
	require.NotNil(t, v.res.Divergence)
	assert.Equal(t, "layer", v.res.Divergence.Stage)
	assert.Equal(t, target.Name, v.res.Divergence.Node)
	t.Logf("%s", v.res.Divergence)
}
