package locate_test

import (
	"context"
	"encoding/binary"
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/converter/keras"
	"github.com/edgeval/edgeval/converter/passes"
	convtflite "github.com/edgeval/edgeval/converter/tflite"
	"github.com/edgeval/edgeval/golden"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/locate"
	"github.com/edgeval/edgeval/runtime"
	_ "github.com/edgeval/edgeval/runtime/litert"
	"github.com/edgeval/edgeval/tflite"
)

// resnet returns the ResNet-8 fixture's source graph, its canonical graph,
// our .tflite of it and two random samples.
func resnet(t *testing.T) (*graph.Graph, *graph.Graph, []byte, golden.Samples) {
	t.Helper()
	g, err := keras.Load(testutil.Fixture(t, "keras/mlcommons-tiny/pretrainedResnet.h5"), keras.Options{})
	require.NoError(t, err)
	cg, err := passes.Canonicalize(g, passes.Options{})
	require.NoError(t, err)
	tfl, _, err := convtflite.Convert(cg, convtflite.Options{})
	require.NoError(t, err)
	specs := []golden.InputSpec{{Name: g.Inputs[0].Name, Shape: g.Inputs[0].Shape, DType: g.Inputs[0].DType}}
	return g, cg, tfl, golden.RandomInputs(specs, 2, 3, 0, 255)
}

func litertOpener(t *testing.T) locate.Opener {
	rt, err := runtime.Get("litert")
	require.NoError(t, err)
	return func(ctx context.Context, model []byte) (runtime.Session, error) {
		return rt.Open(ctx, model, runtime.Options{})
	}
}

func TestLayersFindsTheAlteredLayer(t *testing.T) {
	_, cg, tfl, samples := resnet(t)

	// A correct conversion: nothing diverges.
	d, err := locate.Layers(context.Background(), cg, tfl, litertOpener(t), samples)
	require.NoError(t, err)
	assert.Nil(t, d, "our own conversion agrees layer by layer")

	// Scale the weights of the fourth convolution by 1.05, as a converter
	// bug in that one layer would.
	var convs []*graph.Node
	for _, n := range cg.Nodes {
		if _, ok := n.Op.(*graph.Conv2D); ok {
			convs = append(convs, n)
		}
	}
	require.Greater(t, len(convs), 4)
	target := convs[3]
	bad := slices.Clone(tfl)
	m, err := tflite.Read(bad)
	require.NoError(t, err)
	found := false
	for i, tt := range m.Subgraphs[0].Tensors {
		if tt.Name != target.Inputs[1].Name {
			continue
		}
		data, err := m.TensorData(0, i)
		require.NoError(t, err)
		for k := 0; k+4 <= len(data); k += 4 {
			v := math.Float32frombits(binary.LittleEndian.Uint32(data[k:]))
			binary.LittleEndian.PutUint32(data[k:], math.Float32bits(v*1.05))
		}
		found = true
	}
	require.True(t, found, "the weights tensor is named after its graph value %q", target.Inputs[1].Name)

	d, err = locate.Layers(context.Background(), cg, bad, litertOpener(t), samples)
	require.NoError(t, err)
	require.NotNil(t, d)
	assert.Equal(t, "layer", d.Stage)
	assert.Equal(t, target.Name, d.Node, "the altered layer is the first to diverge")
	assert.Equal(t, "Conv2D", d.Op)
	assert.Greater(t, d.Compared, 3)
	require.GreaterOrEqual(t, len(d.Layers), d.Compared, "every compared layer's error is kept, after the finding too")
	for i, l := range d.Layers[:d.Compared-1] {
		assert.True(t, l.Pass, "layer %d (%s) before the finding passes", i, l.Node)
	}
	at := d.Layers[d.Compared-1]
	assert.Equal(t, target.Name, at.Node)
	assert.False(t, at.Pass)
	assert.Equal(t, d.Metrics.MaxAbs, at.MaxAbs)
	t.Logf("%s", d)
}

func TestPassesFindsTheBrokenPass(t *testing.T) {
	g, _, _, samples := resnet(t)
	pipeline := passes.Pipeline(passes.Options{})

	d, err := locate.Passes(g, pipeline, samples, nil)
	require.NoError(t, err)
	assert.Nil(t, d, "the real pipeline keeps the outputs")

	// A FoldBatchNorm that uses epsilon 1e-5 whatever the layer says.
	broken := slices.Clone(pipeline)
	for i, p := range broken {
		if p.Name != "FoldBatchNorm" {
			continue
		}
		run := p.Run
		broken[i] = passes.Pass{Name: "FoldBatchNorm", Run: func(g *graph.Graph) (*graph.Graph, error) {
			c := g.Clone()
			for _, n := range c.Nodes {
				if bn, ok := n.Op.(*graph.BatchNorm); ok {
					bn2 := *bn
					bn2.Epsilon = 1e-5
					n.Op = &bn2
				}
			}
			return run(c)
		}}
	}
	d, err = locate.Passes(g, broken, samples, nil)
	require.NoError(t, err)
	require.NotNil(t, d)
	assert.Equal(t, "pass", d.Stage)
	assert.Equal(t, "FoldBatchNorm", d.Pass)
	t.Logf("%s", d)
}
