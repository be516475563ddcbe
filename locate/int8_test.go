package locate_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/converter/keras"
	"github.com/edgeval/edgeval/converter/quantize"
	convtflite "github.com/edgeval/edgeval/converter/tflite"
	"github.com/edgeval/edgeval/golden"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/locate"
	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/tflite"
)

// scaleBias returns a copy of model with the int32 bias (input 2) of its
// n-th CONV_2D scaled by f, and that operator's output tensor name.
func scaleBias(t *testing.T, model []byte, n int, f float64) ([]byte, string) {
	t.Helper()
	bad := slices.Clone(model)
	m, err := tflite.Read(bad)
	require.NoError(t, err)
	sg := &m.Subgraphs[0]
	k := 0
	for _, op := range sg.Operators {
		if op.Builtin != tflite.OpConv2D {
			continue
		}
		if k++; k-1 != n {
			continue
		}
		bias := op.Inputs[2]
		require.Equal(t, tflite.TypeInt32, sg.Tensors[bias].Type)
		data, err := m.TensorData(0, bias)
		require.NoError(t, err)
		for i := 0; i+4 <= len(data); i += 4 {
			v := int32(binary.LittleEndian.Uint32(data[i:]))
			binary.LittleEndian.PutUint32(data[i:], uint32(int32(float64(v)*f)))
		}
		return bad, sg.Tensors[op.Outputs[0]].Name
	}
	t.Fatalf("model has no CONV_2D number %d", n)
	return nil, ""
}

func table(t *testing.T, g *graph.Graph, tfl []byte, samples golden.Samples) *locate.Report {
	t.Helper()
	r, err := locate.Table(context.Background(), g, tfl, litertOpener(t), samples)
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, r.WriteText(&b))
	t.Logf("\n%s", b.String())
	return r
}

// TestInt8TableOurs: the table of our int8 ResNet-8 shows every layer in
// steps of its own scale and flags none; with one convolution's bias
// scaled by 1.1 in the file, that layer is the first flagged.
func TestInt8TableOurs(t *testing.T) {
	_, cg, _, samples := resnet(t)
	specs := []golden.InputSpec{{Name: cg.Inputs[0].Name, Shape: cg.Inputs[0].Shape, DType: cg.Inputs[0].DType}}
	ranges, err := quantize.Calibrate(cg, golden.RandomInputs(specs, 8, 7, 0, 255))
	require.NoError(t, err)
	tfl, _, err := convtflite.Convert(cg, convtflite.Options{Precision: precision.Int8, Ranges: ranges})
	require.NoError(t, err)

	r := table(t, cg, tfl, samples)
	assert.Nil(t, r.First(), "a correct int8 conversion has no diverging layer")
	assert.Equal(t, precision.Int8, r.Precision)
	require.Len(t, r.Layers, 16)
	for _, l := range r.Layers {
		assert.Equal(t, precision.Int8, l.Precision, "%s: the final DEQUANTIZE's float output is judged at its int8 source's scale", l.Value)
		assert.Greater(t, l.Scale, 0.0, l.Value)
		assert.Less(t, l.LocalSteps(), float64(locate.Int8Steps), l.Value)
	}
	assert.Equal(t, "dense", r.Layers[len(r.Layers)-1].Value, "execution order ends with the output")

	bad, tensorName := scaleBias(t, tfl, 3, 1.1)
	r = table(t, cg, bad, samples)
	first := r.First()
	require.NotNil(t, first)
	assert.Equal(t, tensorName, first.Tensor)
	assert.Equal(t, "conv2d_3", first.Node, "the layer whose bias was scaled")
	assert.Greater(t, first.LocalSteps(), float64(locate.Int8Steps))
	f := r.Finding()
	require.NotNil(t, f)
	assert.Equal(t, "conv2d_3", f.Node)
}

// TestInt8TableTF: the same on the real TF converter's int8 ResNet-8 (int8
// I/O, tensors named "model/activation_3/Relu;…;model/conv2d_3/Conv2D"),
// compared with the source graph read from the .h5 the file was made from.
func TestInt8TableTF(t *testing.T) {
	g, err := keras.Load(testutil.Fixture(t, "keras/mlcommons-tiny/pretrainedResnet.h5"), keras.Options{})
	require.NoError(t, err)
	tfl, err := os.ReadFile(testutil.Fixture(t, "keras/mlcommons-tiny/pretrainedResnet_quant.tflite"))
	require.NoError(t, err)
	specs := []golden.InputSpec{{Name: g.Inputs[0].Name, Shape: g.Inputs[0].Shape, DType: g.Inputs[0].DType}}
	samples := golden.RandomInputs(specs, 2, 3, 0, 255)

	r := table(t, g, tfl, samples)
	assert.Nil(t, r.First(), "the real converter's int8 file has no diverging layer")
	assert.Zero(t, r.Unmapped, "every computed tensor is mapped to a Keras layer")
	require.Len(t, r.Layers, 16)
	want := []string{"activation", "activation_1", "batch_normalization_2", "activation_2", "activation_3",
		"batch_normalization_4", "conv2d_5", "activation_4", "activation_5", "batch_normalization_6", "conv2d_8",
		"activation_6", "average_pooling2d", "flatten", "dense/preact", "dense"}
	for i, l := range r.Layers {
		assert.Equal(t, want[i], l.Value, "layer %d (tensor %q)", i, l.Tensor)
		assert.Equal(t, precision.Int8, l.Precision)
	}
	assert.Equal(t, []string{"conv2d", "batch_normalization", "activation"}, r.Layers[0].Layers, "the fused CONV_2D computes three Keras layers")

	bad, tensorName := scaleBias(t, tfl, 3, 1.1)
	r = table(t, g, bad, samples)
	first := r.First()
	require.NotNil(t, first)
	assert.Equal(t, tensorName, first.Tensor)
	assert.Equal(t, []string{"conv2d_3", "batch_normalization_3", "activation_3"}, first.Layers, "the fused layer whose bias was scaled")
}

// TestInt8ZeroPointShift: a zero point shifted in one activation tensor's
// parameters is read the same way by the operator that writes it and the
// ones that read it, so the layer computes right within its range, but the
// range moves: the layer now clips many of its values far beyond it, and is
// flagged for that (CLIPS).
func TestInt8ZeroPointShift(t *testing.T) {
	g, err := keras.Load(testutil.Fixture(t, "keras/mlcommons-tiny/pretrainedResnet.h5"), keras.Options{})
	require.NoError(t, err)
	tfl, err := os.ReadFile(testutil.Fixture(t, "keras/mlcommons-tiny/pretrainedResnet_quant.tflite"))
	require.NoError(t, err)
	specs := []golden.InputSpec{{Name: g.Inputs[0].Name, Shape: g.Inputs[0].Shape, DType: g.Inputs[0].DType}}
	samples := golden.RandomInputs(specs, 2, 3, 0, 255)
	before := table(t, g, tfl, samples)

	// The zero point is an int64 in the flatbuffer: take a computed
	// tensor whose zero point's 8 bytes occur once in the file, and shift
	// it by +100 steps there.
	m, err := tflite.Read(tfl)
	require.NoError(t, err)
	var target *tflite.Tensor
	var at int
	for _, l := range before.Layers {
		for k := range m.Subgraphs[0].Tensors {
			tt := &m.Subgraphs[0].Tensors[k]
			if tt.Name != l.Tensor || target != nil {
				continue
			}
			var pat [8]byte
			binary.LittleEndian.PutUint64(pat[:], uint64(tt.Quant.ZeroPoint[0]))
			if bytes.Count(tfl, pat[:]) == 1 {
				target, at = tt, bytes.Index(tfl, pat[:])
			}
		}
	}
	require.NotNil(t, target, "some tensor has a zero point whose bytes are unique in the file")
	zp := target.Quant.ZeroPoint[0]
	bad := slices.Clone(tfl)
	binary.LittleEndian.PutUint64(bad[at:], uint64(zp+100))
	m2, err := tflite.Read(bad)
	require.NoError(t, err)
	var patched int64
	for _, tt := range m2.Subgraphs[0].Tensors {
		if tt.Name == target.Name {
			patched = tt.Quant.ZeroPoint[0]
		}
	}
	require.Equal(t, zp+100, patched, "the bytes patched are %q's zero point", target.Name)
	t.Logf("zero point of %q: %d -> %d", target.Name, zp, patched)

	after := table(t, g, bad, samples)
	var b, a *locate.Layer
	for i := range after.Layers {
		if after.Layers[i].Tensor == target.Name {
			b, a = &before.Layers[i], &after.Layers[i]
		}
	}
	require.NotNil(t, a)
	assert.Equal(t, zp+100, a.ZeroPoint)
	assert.Greater(t, a.Clipped, b.Clipped, "the shifted range clips more")
	assert.Greater(t, a.ClipSteps, 10.0)
	assert.Nil(t, before.First())
	worst := 0.0
	for _, l := range before.Layers {
		worst = max(worst, l.ClipRMSSteps)
	}
	t.Logf("clipping, RMS steps: healthy file at most %.2f; shifted layer %.1f", worst, a.ClipRMSSteps)
	first := after.First()
	require.NotNil(t, first, "the shifted layer is flagged")
	assert.Equal(t, target.Name, first.Tensor)
	assert.Equal(t, locate.VerdictClips, first.Verdict)
	f := after.Finding()
	require.NotNil(t, f)
	assert.Contains(t, f.String(), "beyond its int8 range")
}
