package tflite

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/tensor"
	tfl "github.com/edgeval/edgeval/tflite"
)

// int8Graph is two convolutions (one with relu) on x, max pooling of the
// first, concatenation, a global mean, a dense layer and softmax, plus a
// Swish (LOGISTIC and MUL) output.
func int8Graph(t *testing.T) *graph.Graph {
	b := graph.NewBuilder()
	x := b.Input("x", tensor.Float32, []int{1, 8, 8, 3}, graph.NHWC)
	c1 := b.Op("c1", &graph.Conv2D{Padding: graph.Same(), Layout: graph.NHWC, WeightLayout: graph.HWIO, Activation: graph.ActRelu},
		x, b.Const("c1/kernel", weights(1, 3, 3, 3, 8)), b.Const("c1/bias", weights(2, 8)))
	p := b.Op("pool", &graph.Pool2D{Type: graph.PoolMax, Window: [2]int{2, 2}, Strides: [2]int{2, 2}, Layout: graph.NHWC}, c1)
	c2 := b.Op("c2", &graph.Conv2D{Strides: [2]int{2, 2}, Padding: graph.Same(), Layout: graph.NHWC, WeightLayout: graph.HWIO},
		x, b.Const("c2/kernel", weights(3, 3, 3, 3, 4)), b.Const("c2/bias", weights(4, 4)))
	cat := b.Op("cat", &graph.Concat{Axis: 3}, p, c2)
	m := b.Op("mean", &graph.Reduce{Type: graph.ReduceMean, Axes: []int{1, 2}}, cat)
	d := b.Op("dense", &graph.Dense{WeightLayout: graph.IO}, m, b.Const("dense/kernel", weights(5, 12, 5)), b.Const("dense/bias", weights(6, 5)))
	y := b.Op("probs", &graph.Softmax{Axis: -1}, d)
	return build(t, b, y)
}

func int8Samples(g *graph.Graph, n int) [][]*tensor.Tensor {
	var out [][]*tensor.Tensor
	for s := range n {
		out = append(out, randInputs(g, uint64(s+1), -1, 1))
	}
	return out
}

func TestInt8Layout(t *testing.T) {
	g := int8Graph(t)
	samples := int8Samples(g, 8)
	data, nm, err := Convert(g, Options{Precision: precision.Int8, Ranges: calibrate(t, g, samples)})
	require.NoError(t, err)
	m := checkModel(t, g, data, nm)
	sg := m.Subgraphs[0]
	ops := opNames(m)
	assert.Equal(t, "QUANTIZE", ops[0], "float input quantized first")
	assert.Equal(t, "DEQUANTIZE", ops[len(ops)-1], "float output dequantized last")
	assert.Equal(t, tensor.Float32, sg.Tensors[sg.Inputs[0]].DType)
	assert.Equal(t, tensor.Float32, sg.Tensors[sg.Outputs[0]].DType)
	quant := func(i int) (float32, int64) {
		q := sg.Tensors[i].Quant
		require.NotNil(t, q, "tensor %q", sg.Tensors[i].Name)
		require.Len(t, q.Scale, 1)
		return q.Scale[0], q.ZeroPoint[0]
	}
	for _, op := range sg.Operators {
		switch op.Builtin {
		case tfl.OpQuantize, tfl.OpDequantize:
			continue
		case tfl.OpConv2D, tfl.OpFullyConnected:
			assert.Equal(t, map[tfl.BuiltinOperator]int{tfl.OpConv2D: 3, tfl.OpFullyConnected: 4}[op.Builtin], op.Version)
			in, w, b := sg.Tensors[op.Inputs[0]], sg.Tensors[op.Inputs[1]], sg.Tensors[op.Inputs[2]]
			assert.Equal(t, tensor.Int8, in.DType)
			assert.Equal(t, tensor.Int8, w.DType)
			assert.Equal(t, tensor.Int32, b.DType)
			require.Len(t, w.Quant.Scale, w.Shape[0], "per-channel weights")
			require.Len(t, b.Quant.Scale, w.Shape[0])
			for c := range w.Quant.Scale {
				assert.InDelta(t, in.Quant.Scale[0]*w.Quant.Scale[c], b.Quant.Scale[c], 1e-12, "bias scale = input scale x weight scale")
				assert.Zero(t, w.Quant.ZeroPoint[c])
			}
		case tfl.OpMaxPool2D, tfl.OpConcatenation:
			so, zo := quant(op.Outputs[0])
			for _, i := range op.Inputs {
				si, zi := quant(i)
				assert.Equal(t, so, si, "%v shares its scale", op.Builtin)
				assert.Equal(t, zo, zi)
			}
		case tfl.OpSoftmax:
			s, z := quant(op.Outputs[0])
			assert.Equal(t, float32(1.0/256), s)
			assert.Equal(t, int64(-128), z)
		}
		if op.Builtin != tfl.OpSoftmax {
			for _, o := range op.Outputs {
				assert.Equal(t, tensor.Int8, sg.Tensors[o].DType, "%v output", op.Builtin)
			}
		}
	}
	checkInt8Runs(t, g, data, samples, false)
}

// TestInt8FloatFallback checks that an operator without an int8 kernel
// here (GELU) stays float32 between a DEQUANTIZE and a QUANTIZE.
func TestInt8FloatFallback(t *testing.T) {
	b := graph.NewBuilder()
	x := b.Input("x", tensor.Float32, []int{1, 16}, graph.NHWC)
	d := b.Op("d1", &graph.Dense{WeightLayout: graph.IO}, x, b.Const("d1/kernel", weights(1, 16, 16)), b.Const("d1/bias", weights(2, 16)))
	gl := b.Op("gelu", &graph.Gelu{}, d)
	y := b.Op("d2", &graph.Dense{WeightLayout: graph.IO}, gl, b.Const("d2/kernel", weights(3, 16, 4)), b.Const("d2/bias", weights(4, 4)))
	g := build(t, b, y)
	samples := int8Samples(g, 8)
	data, nm, err := Convert(g, Options{Precision: precision.Int8, Ranges: calibrate(t, g, samples)})
	require.NoError(t, err)
	m := checkModel(t, g, data, nm)
	assert.Equal(t, []string{"QUANTIZE", "FULLY_CONNECTED", "DEQUANTIZE", "GELU", "QUANTIZE", "FULLY_CONNECTED", "DEQUANTIZE"}, opNames(m))
	checkInt8Runs(t, g, data, samples, false)
}

// TestInt8IO checks int8 inputs and outputs.
func TestInt8IO(t *testing.T) {
	g := int8Graph(t)
	samples := int8Samples(g, 8)
	data, _, err := Convert(g, Options{Precision: precision.Int8, Ranges: calibrate(t, g, samples), Int8IO: true})
	require.NoError(t, err)
	m, err := tfl.Read(data)
	require.NoError(t, err)
	sg := m.Subgraphs[0]
	in, out := sg.Tensors[sg.Inputs[0]], sg.Tensors[sg.Outputs[0]]
	assert.Equal(t, tensor.Int8, in.DType)
	assert.Equal(t, "x", in.Name)
	assert.Equal(t, tensor.Int8, out.DType)
	assert.Equal(t, "probs", out.Name)
	assert.Equal(t, []float32{1.0 / 256}, out.Quant.Scale)
	assert.NotContains(t, opNames(m), "QUANTIZE")
	assert.NotContains(t, opNames(m), "DEQUANTIZE")
	checkInt8Runs(t, g, data, samples, true)
}

// checkInt8Runs runs an int8 model on the runtimes and holds it to
// golden's int8 policy; with int8IO the inputs are quantized with the
// model's parameters and the reference sees them dequantized.
func checkInt8Runs(t *testing.T, g *graph.Graph, data []byte, samples [][]*tensor.Tensor, int8IO bool) {
	t.Helper()
	for _, rt := range runtimeNames() {
		s := openRuntime(t, rt, data)
		var w worst
		for _, ins := range samples {
			feed, refIn := ins, ins
			if int8IO {
				info := s.Inputs()[0]
				q := tensor.New(tensor.Int8, info.Shape)
				ref := tensor.New(tensor.Float32, info.Shape)
				sc, zp := float64(info.Quant.Scale[0]), float64(info.Quant.ZeroPoint[0])
				for i, x := range ins[0].Float64s() {
					q.SetFloat64(i, x/sc+zp)
					ref.SetFloat64(i, sc*(q.Float64(i)-zp))
				}
				q.Quant = info.Quant
				feed, refIn = []*tensor.Tensor{q}, []*tensor.Tensor{ref}
			}
			want, err := reference.Run(g, refIn)
			require.NoError(t, err)
			got := inGraphOrder(t, g, s, runSession(t, s, feed))
			for i := range got {
				got[i].Quant = s.Outputs()[i].Quant
			}
			checkPrecision(t, precision.Int8, "int8 on "+rt, want, got, &w)
		}
		t.Logf("%s: max abs %.3g (%.3g of range, cosine %.6f)", rt, w.maxAbs, w.rel, w.cosine)
	}
}
