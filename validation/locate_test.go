package validation

import (
	"context"
	"encoding/binary"
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
	"github.com/edgeval/edgeval/runtime"
	_ "github.com/edgeval/edgeval/runtime/litert" // registers "litert"
	"github.com/edgeval/edgeval/tflite"
)

// TestLocateInPipeline: a failed validation of our own conversion records
// the first diverging layer in the result. The .tflite is ours with one
// depthwise convolution's weights scaled by 1.1, as a converter bug in that
// layer would leave it.
func TestLocateInPipeline(t *testing.T) {
	o := &Options{Batch: 1, Device: "host", Open: Local("litert", runtime.Options{})}
	g, err := keras.Load(testutil.Fixture(t, "keras/mlcommons-tiny/vww_96.h5"), keras.Options{})
	require.NoError(t, err)
	tfl, cg, err := Convert(g, ConvertOptions{Batch: 1}, nil)
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
	p := &pipeline{
		o: o, source: g, canonical: cg, tflite: bad,
		in:  golden.NewRandomStream(InputSpecs(g), 2, 1, 0, 1),
		res: &compare.Result{},
	}
	p.locate(context.Background())
	require.NotNil(t, p.res.Divergence)
	assert.Equal(t, "layer", p.res.Divergence.Stage)
	assert.Equal(t, target.Name, p.res.Divergence.Node)
	t.Logf("%s", p.res.Divergence)
}
