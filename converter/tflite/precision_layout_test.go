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

// layeredGraph is conv (3x3, 16 -> 32: 4608 weights) -> depthwise (3x3x32
// multiplier 4: 1152 weights) -> flatten -> dense (to 10) -> add of a
// scalar constant, with a small conv (3x3, 16 -> 2: 288 weights) beside.
func layeredGraph(t *testing.T) *graph.Graph {
	b := graph.NewBuilder()
	x := b.Input("x", tensor.Float32, []int{1, 6, 6, 16}, graph.NHWC)
	c := b.Op("conv", &graph.Conv2D{Padding: graph.Same(), Layout: graph.NHWC, WeightLayout: graph.HWIO, Activation: graph.ActRelu},
		x, b.Const("conv/kernel", weights(1, 3, 3, 16, 32)), b.Const("conv/bias", weights(2, 32)))
	d := b.Op("dw", &graph.Conv2D{Groups: 32, Padding: graph.Same(), Layout: graph.NHWC, WeightLayout: graph.HWIO},
		c, b.Const("dw/kernel", weights(3, 3, 3, 1, 128)), b.Const("dw/bias", weights(4, 128)))
	f := b.Op("flatten", &graph.Flatten{}, d)
	y := b.Op("dense", &graph.Dense{WeightLayout: graph.IO}, f, b.Const("dense/kernel", weights(5, 6*6*128, 10)), b.Const("dense/bias", weights(6, 10)))
	z := b.Op("shift", &graph.Add{}, y, b.ConstFloat32("shift/value", []int{}, []float32{0.5}))
	small := b.Op("small", &graph.Conv2D{Layout: graph.NHWC, WeightLayout: graph.HWIO}, x, b.Const("small/kernel", weights(7, 3, 3, 16, 2)))
	return build(t, b, z, small)
}

// tensorByName returns the tensor of subgraph 0 with the given name.
func tensorByName(t *testing.T, m *tfl.Model, name string) tfl.Tensor {
	t.Helper()
	for _, tt := range m.Subgraphs[0].Tensors {
		if tt.Name == name {
			return tt
		}
	}
	require.Failf(t, "no tensor", "%q", name)
	return tfl.Tensor{}
}

// opOf returns the first operator of subgraph 0 with the given builtin.
func opOf(t *testing.T, m *tfl.Model, code tfl.BuiltinOperator) tfl.Operator {
	t.Helper()
	for _, op := range m.Subgraphs[0].Operators {
		if op.Builtin == code {
			return op
		}
	}
	require.Failf(t, "no operator", "%v", code)
	return tfl.Operator{}
}

func TestFloat16Layout(t *testing.T) {
	g := layeredGraph(t)
	data, nm, err := Convert(g, Options{Precision: precision.Float16})
	require.NoError(t, err)
	m := checkModel(t, g, data, nm)
	assert.Equal(t, "1.15.0", m.MinRuntimeVersion, "DEQUANTIZE version 3")
	sg := m.Subgraphs[0]
	deq := 0
	for k, op := range sg.Operators {
		if op.Builtin != tfl.OpDequantize {
			continue
		}
		deq++
		assert.Equal(t, deq-1, k, "DEQUANTIZE ops come first")
		assert.Equal(t, 3, op.Version)
		in, out := sg.Tensors[op.Inputs[0]], sg.Tensors[op.Outputs[0]]
		assert.Equal(t, tensor.Float16, in.DType)
		assert.Equal(t, out.Name+"/float16", in.Name)
		assert.Equal(t, tensor.Float32, out.DType)
		assert.Equal(t, in.Shape, out.Shape)
	}
	// Kernels and biases of conv, depthwise, dense and the small conv
	// (whose zero bias the writer adds).
	assert.Equal(t, 8, deq)
	scalar := tensorByName(t, m, "shift/value")
	assert.Equal(t, tensor.Float32, scalar.DType, "a single-element constant stays float32")
	assert.NotZero(t, scalar.Buffer)

	f32, _, err := Convert(g, Options{})
	require.NoError(t, err)
	assert.Less(t, len(data), len(f32)*6/10)
	convertAndRunPrecision(t, g, data, 2e-3)
}

func TestFloat16KeepsOverflowingConstants(t *testing.T) {
	b := graph.NewBuilder()
	x := b.Input("x", tensor.Float32, []int{1, 4}, graph.NHWC)
	y := b.Op("mul", &graph.Mul{}, x, b.ConstFloat32("big", []int{4}, []float32{1, 2, 1e5, 3}))
	g := build(t, b, y)
	data, nm, err := Convert(g, Options{Precision: precision.Float16})
	require.NoError(t, err)
	m := checkModel(t, g, data, nm)
	assert.Equal(t, []string{"MUL"}, opNames(m), "1e5 overflows float16: no DEQUANTIZE")
	assert.Equal(t, tensor.Float32, tensorByName(t, m, "big").DType)
}

func TestDynamicLayout(t *testing.T) {
	g := layeredGraph(t)
	data, nm, err := Convert(g, Options{Precision: precision.Dynamic})
	require.NoError(t, err)
	m := checkModel(t, g, data, nm)
	assert.Equal(t, "2.17.0", m.MinRuntimeVersion, "FULLY_CONNECTED version 12")
	assert.NotContains(t, opNames(m), "DEQUANTIZE", "hybrid kernels read int8 weights directly")

	tests := []struct {
		weight  string
		code    tfl.BuiltinOperator
		version int
		axis    int
		scales  int
	}{
		{"conv/kernel", tfl.OpConv2D, 5, 0, 32},
		{"dw/kernel", tfl.OpDepthwiseConv2D, 6, 3, 128},
		{"dense/kernel", tfl.OpFullyConnected, 12, 0, 10},
	}
	for _, tc := range tests {
		w := tensorByName(t, m, tc.weight)
		assert.Equal(t, tensor.Int8, w.DType, tc.weight)
		require.NotNil(t, w.Quant, tc.weight)
		assert.Len(t, w.Quant.Scale, tc.scales, tc.weight)
		assert.Equal(t, tc.axis, w.Quant.Axis, tc.weight)
		for _, zp := range w.Quant.ZeroPoint {
			assert.Zero(t, zp, "%s: symmetric", tc.weight)
		}
		op := opOf(t, m, tc.code)
		assert.Equal(t, tc.version, op.Version, "%v", tc.code)
		bias := m.Subgraphs[0].Tensors[op.Inputs[2]]
		assert.Equal(t, tensor.Float32, bias.DType, "%v bias stays float", tc.code)
	}
	fc := opOf(t, m, tfl.OpFullyConnected).Options.(*tfl.FullyConnectedOptions)
	assert.True(t, fc.AsymmetricQuantizeInputs)
	assert.Equal(t, tensor.Float32, tensorByName(t, m, "small/kernel").DType, "288 weights: under the 1024-element threshold")
	convertAndRunPrecision(t, g, data, 0.03)
}

func TestQuantizeSymmetric(t *testing.T) {
	v := []float32{
		1, -0.5, 0.25, // channel 0: max 1
		0, 0, 0, // channel 1: all zero
		-254, 127, 1, // channel 2: max 254
	}
	data, q := quantizeSymmetric(v, []int{3, 3}, 0)
	assert.Equal(t, []float32{1.0 / 127, 1, 2}, q.Scale)
	assert.Equal(t, []int64{0, 0, 0}, q.ZeroPoint)
	got := make([]int8, len(data))
	for i, b := range data {
		got[i] = int8(b)
	}
	assert.Equal(t, []int8{127, -64, 32, 0, 0, 0, -127, 64, 1}, got, "round half away from zero")

	data, q = quantizeSymmetric(v, []int{3, 3}, -1)
	assert.Equal(t, []float32{2}, q.Scale)
	assert.Equal(t, int8(-127), int8(data[6]))
	assert.Equal(t, int8(1), int8(data[0]), "1/2 rounds away from zero")
}

func TestPrecisionOptions(t *testing.T) {
	g := layeredGraph(t)
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"int8 io without int8", Options{Precision: precision.Float16, Int8IO: true}, "Int8IO needs precision int8"},
		{"int8 without ranges", Options{Precision: precision.Int8}, "needs calibrated ranges"},
		{"unknown", Options{Precision: "bfloat16"}, "unknown precision bfloat16"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Convert(g, tc.opts)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	for p, s := range map[precision.Precision]string{precision.Float32: "float32", precision.Float16: "float16", precision.Dynamic: "dynamic", precision.Int8: "int8"} {
		assert.Equal(t, s, p.String())
	}
}

// convertAndRunPrecision runs a converted model on every runtime and
// compares it with the reference within tol of each output's range.
func convertAndRunPrecision(t *testing.T, g *graph.Graph, data []byte, tol float64) {
	t.Helper()
	for _, rt := range runtimeNames() {
		s := openRuntime(t, rt, data)
		ins := randInputs(g, 1, -1, 1)
		want, err := reference.Run(g, ins)
		require.NoError(t, err)
		got := inGraphOrder(t, g, s, runSession(t, s, ins))
		for i := range want {
			d, span := maxDiff(want[i], got[i])
			assert.LessOrEqual(t, d, tol*span, "%s output %q: max abs %g over range %g", rt, g.Outputs[i].Name, d, span)
		}
	}
}
