package tflite

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/tensor"
)

// unaryGraph builds x [1,4,4,3] -> op.
func unaryGraph(t *testing.T, op graph.Op) *graph.Graph {
	b := graph.NewBuilder()
	x := b.Input("x", tensor.Float32, []int{1, 4, 4, 3}, graph.NHWC)
	return build(t, b, b.Op("y", op, x))
}

func TestConvertOps(t *testing.T) {
	conv := func(op *graph.Conv2D, wshape []int, bias bool) func(t *testing.T) *graph.Graph {
		return func(t *testing.T) *graph.Graph {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 9, 9, 4}, graph.NHWC)
			ins := []*graph.Value{x, b.Const("conv/kernel", weights(1, wshape...))}
			if bias {
				o, _, _, _ := op.WeightLayout.Dims(wshape)
				ins = append(ins, b.Const("conv/bias", weights(2, o)))
			}
			return build(t, b, b.Op("conv", op, ins...))
		}
	}
	tests := []struct {
		name   string
		build  func(t *testing.T) *graph.Graph
		ops    []string
		lo, hi float64
	}{
		{"conv same HWIO relu", conv(&graph.Conv2D{Padding: graph.Same(), Layout: graph.NHWC, WeightLayout: graph.HWIO, Activation: graph.ActRelu}, []int{3, 3, 4, 5}, true), []string{"CONV_2D"}, -2, 2},
		{"conv valid stride 2 OIHW no bias", conv(&graph.Conv2D{Strides: [2]int{2, 2}, Layout: graph.NHWC, WeightLayout: graph.OIHW}, []int{5, 4, 3, 2}, false), []string{"CONV_2D"}, -2, 2},
		{"conv dilated same", conv(&graph.Conv2D{Dilations: [2]int{2, 2}, Padding: graph.Same(), Layout: graph.NHWC, WeightLayout: graph.HWIO, Activation: graph.ActRelu6}, []int{3, 3, 4, 3}, true), []string{"CONV_2D"}, -2, 2},
		{"conv explicit pad (PyTorch padding=2)", conv(&graph.Conv2D{Padding: graph.Explicit(2, 2, 2, 2), Layout: graph.NHWC, WeightLayout: graph.OIHW}, []int{3, 4, 3, 3}, true), []string{"PAD", "CONV_2D"}, -2, 2},
		{"conv explicit pad equal to same", conv(&graph.Conv2D{Padding: graph.Explicit(1, 1, 1, 1), Layout: graph.NHWC, WeightLayout: graph.OIHW}, []int{3, 4, 3, 3}, true), []string{"CONV_2D"}, -2, 2},
		{"conv tanh unfused", conv(&graph.Conv2D{Layout: graph.NHWC, WeightLayout: graph.HWIO, Activation: graph.ActTanh}, []int{1, 1, 4, 3}, true), []string{"CONV_2D", "TANH"}, -2, 2},
		{"depthwise multiplier 2", conv(&graph.Conv2D{Groups: 4, Strides: [2]int{2, 2}, Padding: graph.Same(), Layout: graph.NHWC, WeightLayout: graph.HWIO, Activation: graph.ActRelu}, []int{3, 3, 1, 8}, true), []string{"DEPTHWISE_CONV_2D"}, -2, 2},
		{"depthwise OIHW dilated", conv(&graph.Conv2D{Groups: 4, Dilations: [2]int{2, 2}, Layout: graph.NHWC, WeightLayout: graph.OIHW}, []int{4, 1, 3, 3}, true), []string{"DEPTHWISE_CONV_2D"}, -2, 2},
		{"grouped conv", conv(&graph.Conv2D{Groups: 2, Padding: graph.Same(), Layout: graph.NHWC, WeightLayout: graph.OIHW, Activation: graph.ActRelu}, []int{6, 2, 3, 3}, true), []string{"SPLIT", "CONV_2D", "CONV_2D", "CONCATENATION"}, -2, 2},
		{"transpose conv same HWOI", func(t *testing.T) *graph.Graph {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 5, 5, 4}, graph.NHWC)
			return build(t, b, b.Op("deconv", &graph.ConvTranspose2D{Strides: [2]int{2, 2}, Padding: graph.Same(), Layout: graph.NHWC, WeightLayout: graph.HWOI, Activation: graph.ActRelu}, x,
				b.Const("deconv/kernel", weights(1, 3, 3, 6, 4)), b.Const("deconv/bias", weights(2, 6))))
		}, []string{"TRANSPOSE_CONV", "RELU"}, -2, 2},
		{"transpose conv valid IOHW", func(t *testing.T) *graph.Graph {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 5, 5, 4}, graph.NHWC)
			return build(t, b, b.Op("deconv", &graph.ConvTranspose2D{Strides: [2]int{2, 2}, Padding: graph.Valid(), Layout: graph.NHWC, WeightLayout: graph.IOHW}, x,
				b.Const("deconv/kernel", weights(1, 4, 3, 3, 3))))
		}, []string{"TRANSPOSE_CONV"}, -2, 2},
		{"transpose conv PyTorch padding 1 output_padding 1", func(t *testing.T) *graph.Graph {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 5, 5, 4}, graph.NHWC)
			return build(t, b, b.Op("deconv", &graph.ConvTranspose2D{Strides: [2]int{2, 2}, Padding: graph.Explicit(1, 1, 1, 1), OutputPadding: [2]int{1, 1}, Layout: graph.NHWC, WeightLayout: graph.IOHW}, x,
				b.Const("deconv/kernel", weights(1, 4, 3, 3, 3)), b.Const("deconv/bias", weights(2, 3))))
		}, []string{"TRANSPOSE_CONV", "SLICE"}, -2, 2},
		{"transpose conv same k4 s2 and valid k1 s2", func(t *testing.T) *graph.Graph {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 5, 4, 4}, graph.NHWC)
			return build(t, b,
				b.Op("same", &graph.ConvTranspose2D{Strides: [2]int{2, 2}, Padding: graph.Same(), Layout: graph.NHWC, WeightLayout: graph.HWOI}, x, b.Const("k4", weights(1, 4, 4, 3, 4))),
				b.Op("valid", &graph.ConvTranspose2D{Strides: [2]int{2, 3}, Padding: graph.Valid(), Layout: graph.NHWC, WeightLayout: graph.HWOI}, x, b.Const("k1", weights(2, 1, 1, 3, 4))))
		}, []string{"TRANSPOSE_CONV", "TRANSPOSE_CONV"}, -2, 2},
		{"max pool same", func(t *testing.T) *graph.Graph {
			return unaryGraph(t, &graph.Pool2D{Type: graph.PoolMax, Window: [2]int{3, 3}, Strides: [2]int{2, 2}, Padding: graph.Same(), Layout: graph.NHWC})
		}, []string{"MAX_POOL_2D"}, -2, 2},
		{"avg pool same excludes pad", func(t *testing.T) *graph.Graph {
			return unaryGraph(t, &graph.Pool2D{Type: graph.PoolAvg, Window: [2]int{3, 3}, Strides: [2]int{2, 2}, Padding: graph.Same(), Layout: graph.NHWC, Activation: graph.ActRelu6})
		}, []string{"AVERAGE_POOL_2D"}, -8, 8},
		{"avg pool PyTorch padding counts pad", func(t *testing.T) *graph.Graph {
			return unaryGraph(t, &graph.Pool2D{Type: graph.PoolAvg, Window: [2]int{3, 3}, Strides: [2]int{1, 1}, Padding: graph.Explicit(1, 1, 1, 1), CountIncludePad: true, Layout: graph.NHWC})
		}, []string{"PAD", "AVERAGE_POOL_2D"}, -2, 2},
		{"max pool ceil mode", func(t *testing.T) *graph.Graph {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 7, 7, 2}, graph.NHWC)
			return build(t, b, b.Op("pool", &graph.Pool2D{Type: graph.PoolMax, Window: [2]int{2, 2}, CeilMode: true, Layout: graph.NHWC}, x))
		}, []string{"MAX_POOL_2D"}, -2, 2}, // ceil mode here is SAME
		{"max pool PyTorch padding and ceil mode", func(t *testing.T) *graph.Graph {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 8, 8, 2}, graph.NHWC)
			return build(t, b, b.Op("pool", &graph.Pool2D{Type: graph.PoolMax, Window: [2]int{3, 3}, Strides: [2]int{2, 2}, Padding: graph.Explicit(1, 1, 1, 1), CeilMode: true, Layout: graph.NHWC}, x))
		}, []string{"PADV2", "MAX_POOL_2D"}, -2, 2},
		{"avg pool ceil mode with padding counts pad (PyTorch default)", func(t *testing.T) *graph.Graph {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 8, 8, 2}, graph.NHWC)
			return build(t, b, b.Op("pool", &graph.Pool2D{Type: graph.PoolAvg, Window: [2]int{3, 3}, Strides: [2]int{2, 2}, Padding: graph.Explicit(1, 1, 1, 1), CeilMode: true, CountIncludePad: true, Layout: graph.NHWC, Activation: graph.ActRelu}, x))
		}, []string{"PAD", "AVERAGE_POOL_2D", "MUL"}, -2, 2},
		{"avg pool ceil mode with padding excludes pad", func(t *testing.T) *graph.Graph {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 6, 7, 2}, graph.NHWC)
			return build(t, b, b.Op("pool", &graph.Pool2D{Type: graph.PoolAvg, Window: [2]int{2, 3}, Strides: [2]int{2, 2}, Padding: graph.Explicit(1, 1, 1, 1), CeilMode: true, Layout: graph.NHWC}, x))
		}, []string{"PAD", "AVERAGE_POOL_2D", "MUL"}, -2, 2},
		{"avg pool ceil mode without padding", func(t *testing.T) *graph.Graph {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 7, 5, 3}, graph.NHWC)
			return build(t, b, b.Op("pool", &graph.Pool2D{Type: graph.PoolAvg, Window: [2]int{3, 2}, Strides: [2]int{2, 2}, CeilMode: true, CountIncludePad: true, Layout: graph.NHWC}, x))
		}, []string{"PAD", "AVERAGE_POOL_2D", "MUL"}, -2, 2},
		{"avg pool asymmetric explicit padding excludes pad", func(t *testing.T) *graph.Graph {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 6, 6, 2}, graph.NHWC)
			return build(t, b, b.Op("pool", &graph.Pool2D{Type: graph.PoolAvg, Window: [2]int{3, 3}, Strides: [2]int{1, 1}, Padding: graph.Explicit(2, 0, 0, 2), Layout: graph.NHWC}, x))
		}, []string{"PAD", "AVERAGE_POOL_2D", "MUL"}, -2, 2},
		{"dense rank 2 IO bias relu", func(t *testing.T) *graph.Graph {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 6}, graph.LayoutNone)
			return build(t, b, b.Op("fc", &graph.Dense{Activation: graph.ActRelu}, x, b.Const("fc/kernel", weights(1, 6, 4)), b.Const("fc/bias", weights(2, 4))))
		}, []string{"FULLY_CONNECTED"}, -2, 2},
		{"dense rank 3 OI", func(t *testing.T) *graph.Graph {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 3, 6}, graph.LayoutNone)
			return build(t, b, b.Op("fc", &graph.Dense{WeightLayout: graph.OI}, x, b.Const("fc/w", weights(1, 4, 6))))
		}, []string{"FULLY_CONNECTED"}, -2, 2},
		{"matmul", func(t *testing.T) *graph.Graph {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 3, 6}, graph.LayoutNone)
			y := b.Input("y", tensor.Float32, []int{1, 4, 6}, graph.LayoutNone)
			return build(t, b, b.Op("mm", &graph.MatMul{TransposeB: true}, x, y))
		}, []string{"BATCH_MATMUL"}, -2, 2},
		{"binary ops broadcasting", func(t *testing.T) *graph.Graph {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 4, 4, 3}, graph.NHWC)
			y := b.Input("y", tensor.Float32, []int{1, 1, 4, 3}, graph.NHWC)
			a := b.Op("add", &graph.Add{Activation: graph.ActRelu}, x, y)
			s := b.Op("sub", &graph.Sub{}, a, b.Const("c", weights(3, 3)))
			m := b.Op("mul", &graph.Mul{Activation: graph.ActReluN1To1}, s, y)
			d := b.Op("div", &graph.Div{}, m, b.Const("d", tensor.Random(tensor.NewRNG(4), tensor.Float32, []int{3}, 1, 2)))
			mx := b.Op("max", &graph.Maximum{}, d, x)
			mn := b.Op("min", &graph.Minimum{}, mx, y)
			return build(t, b, mn, b.Op("avg", &graph.Average{}, x, y, a), b.Op("addn", &graph.AddN{}, x, y, s))
		}, []string{"ADD", "SUB", "MUL", "DIV", "MAXIMUM", "MINIMUM", "ADD", "ADD", "MUL", "ADD", "ADD"}, -2, 2},
		{"pow", func(t *testing.T) *graph.Graph {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 8}, graph.LayoutNone)
			return build(t, b, b.Op("pow", &graph.Pow{}, x, b.ConstFloat32("e", []int{}, []float32{2})))
		}, []string{"POW"}, 0.5, 2},
		{"activations", func(t *testing.T) *graph.Graph {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 40}, graph.LayoutNone)
			var outs []*graph.Value
			for i, op := range []graph.Op{&graph.Relu{}, &graph.Relu6{}, &graph.Sigmoid{}, &graph.Tanh{}, &graph.HardSwish{},
				&graph.LeakyRelu{Alpha: 0.3}, &graph.Elu{Alpha: 1}, &graph.Elu{Alpha: 0.5}, &graph.Selu{}, &graph.Swish{},
				&graph.HardSigmoid{Slope: 0.2, Offset: 0.5}, &graph.Softplus{}, &graph.Softsign{}, &graph.Gelu{}, &graph.Gelu{Approximate: true},
				&graph.Clip{Min: -1, Max: 1}, &graph.Clip{Min: -0.5, Max: 2}, &graph.Exp{}, &graph.Abs{}, &graph.Neg{}, &graph.Square{},
				&graph.Rescale{Scale: 1.0 / 255, Offset: -0.5}} {
				outs = append(outs, b.Op(op.Kind()+string(rune('a'+i)), op, x))
			}
			return build(t, b, outs...)
		}, nil, -6, 6},
		{"positive-domain math", func(t *testing.T) *graph.Graph {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 16}, graph.LayoutNone)
			return build(t, b, b.Op("log", &graph.Log{}, x), b.Op("sqrt", &graph.Sqrt{}, x), b.Op("rsqrt", &graph.Rsqrt{}, x))
		}, []string{"LOG", "SQRT", "RSQRT"}, 0.5, 4},
		{"prelu softmax log_softmax", func(t *testing.T) *graph.Graph {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 4, 4, 3}, graph.NHWC)
			p := b.Op("prelu", &graph.PRelu{}, x, b.Const("alpha", weights(5, 1, 1, 3)))
			return build(t, b, b.Op("softmax", &graph.Softmax{Axis: -1}, p), b.Op("softmax1", &graph.Softmax{Axis: 1}, p), b.Op("logsm", &graph.LogSoftmax{Axis: 3}, x))
		}, []string{"PRELU", "SOFTMAX", "TRANSPOSE", "SOFTMAX", "TRANSPOSE", "LOG_SOFTMAX"}, -3, 3},
		{"shape ops", func(t *testing.T) *graph.Graph {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 4, 4, 3}, graph.NHWC)
			f := b.Op("flatten", &graph.Flatten{Axis: 1}, x)
			r := b.Op("reshape", &graph.Reshape{Shape: []int{0, 16, -1}}, x)
			tr := b.Op("transpose", &graph.Transpose{Perm: []int{0, 3, 1, 2}}, x)
			c := b.Op("concat", &graph.Concat{Axis: -1}, x, b.Const("k", weights(6, 1, 4, 4, 2)))
			return build(t, b, f, r, tr, c, b.Op("identity", &graph.Identity{}, x))
		}, []string{"RESHAPE", "RESHAPE", "TRANSPOSE", "CONCATENATION", "RESHAPE"}, -2, 2},
		{"pads", func(t *testing.T) *graph.Graph {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 4, 4, 3}, graph.NHWC)
			pads := [][2]int{{0, 0}, {1, 2}, {2, 1}, {0, 0}}
			return build(t, b,
				b.Op("zero", &graph.Pad{Pads: pads}, x),
				b.Op("const", &graph.Pad{Pads: pads, Value: 1.5}, x),
				b.Op("reflect", &graph.Pad{Mode: graph.PadReflect, Pads: pads}, x),
				b.Op("symmetric", &graph.Pad{Mode: graph.PadSymmetric, Pads: pads}, x),
				b.Op("replicate", &graph.Pad{Mode: graph.PadReplicate, Pads: pads}, x))
		}, nil, -2, 2},
		{"slices", func(t *testing.T) *graph.Graph {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 6, 6, 3}, graph.NHWC)
			return build(t, b,
				b.Op("crop", &graph.Slice{Begin: []int{0, 1, 2, 0}, End: []int{1, 5, 6, 3}}, x),
				b.Op("strided", &graph.Slice{Begin: []int{0, 0, 1, 1}, End: []int{1, 6, 6, 3}, Step: []int{1, 2, 3, 1}}, x))
		}, []string{"SLICE", "STRIDED_SLICE"}, -2, 2},
		{"reductions", func(t *testing.T) *graph.Graph {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 4, 4, 3}, graph.NHWC)
			return build(t, b,
				b.Op("mean", &graph.Reduce{Type: graph.ReduceMean, Axes: []int{1, 2}}, x),
				b.Op("sum", &graph.Reduce{Type: graph.ReduceSum, Axes: []int{-1}, KeepDims: true}, x),
				b.Op("max", &graph.Reduce{Type: graph.ReduceMax, Axes: []int{1}}, x),
				b.Op("min", &graph.Reduce{Type: graph.ReduceMin, Axes: []int{2, 3}}, x),
				b.Op("prod", &graph.Reduce{Type: graph.ReduceProd, Axes: []int{3}}, x))
		}, []string{"MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD"}, 0.5, 1.5},
		{"resize", func(t *testing.T) *graph.Graph {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 4, 5, 3}, graph.NHWC)
			return build(t, b,
				b.Op("nearest", &graph.Resize{Method: graph.ResizeNearest, Size: [2]int{8, 10}, Layout: graph.NHWC}, x),
				b.Op("nearest_hpc", &graph.Resize{Method: graph.ResizeNearest, Size: [2]int{7, 9}, HalfPixelCenters: true, Layout: graph.NHWC}, x),
				b.Op("bilinear_hpc", &graph.Resize{Method: graph.ResizeBilinear, Size: [2]int{8, 10}, HalfPixelCenters: true, Layout: graph.NHWC}, x),
				b.Op("bilinear_ac", &graph.Resize{Method: graph.ResizeBilinear, Size: [2]int{7, 9}, AlignCorners: true, Layout: graph.NHWC}, x),
				b.Op("bilinear", &graph.Resize{Method: graph.ResizeBilinear, Size: [2]int{8, 10}, Layout: graph.NHWC}, x))
		}, nil, -2, 2},
		{"batchnorm and layernorm", func(t *testing.T) *graph.Graph {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 5, 6}, graph.LayoutNone)
			bn := b.Op("bn", &graph.BatchNorm{Axis: -1, Epsilon: 1e-3}, x, b.Const("g", weights(1, 6)), b.Const("b", weights(2, 6)),
				b.Const("m", weights(3, 6)), b.Const("v", tensor.Random(tensor.NewRNG(4), tensor.Float32, []int{6}, 0.5, 2)))
			ln := b.Op("ln", &graph.LayerNorm{Axes: []int{-1}, Epsilon: 1e-5}, x, b.Const("lg", weights(5, 6)), b.Const("lb", weights(6, 6)))
			ln2 := b.Op("ln2", &graph.LayerNorm{Axes: []int{1, 2}, Epsilon: 1e-5}, x, b.Const("lg2", weights(7, 5, 6)), b.Const("lb2", weights(8, 5, 6)))
			return build(t, b, bn, ln, ln2)
		}, nil, -2, 2},
		{"embedding gather with float indices", func(t *testing.T) *graph.Graph {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 5}, graph.LayoutNone)
			r := b.Op("round", &graph.Cast{To: tensor.Int32}, x)
			e1 := b.Op("emb", &graph.Gather{}, b.Const("table", weights(1, 10, 4)), x)
			e2 := b.Op("emb2", &graph.Gather{Axis: 1}, b.Const("table2", weights(2, 3, 10)), r)
			return build(t, b, e1, e2)
		}, []string{"CAST", "CAST", "GATHER", "GATHER"}, 0, 9.99},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := tc.build(t)
			m := convertAndRun(t, g, tc.lo, tc.hi, 1e-5)
			if tc.ops != nil {
				assert.Equal(t, tc.ops, opNames(m))
			}
		})
	}
}

func TestConvertUnsupported(t *testing.T) {
	b := graph.NewBuilder()
	x := b.Input("x", tensor.Float32, []int{1, 3, 6, 6}, graph.NCHW)
	y := b.Op("conv", &graph.Conv2D{Layout: graph.NCHW, WeightLayout: graph.OIHW}, x, b.Const("w", weights(1, 2, 3, 3, 3)))
	y = b.Op("pool", &graph.Pool2D{Type: graph.PoolMax, Window: [2]int{2, 2}, Layout: graph.NCHW}, y)
	g := build(t, b, y)
	_, _, err := Convert(g, Options{})
	var u *UnsupportedError
	require.True(t, errors.As(err, &u), "%v", err)
	require.Len(t, u.Nodes, 2, "every unsupported node is listed")
	assert.Equal(t, "conv", u.Nodes[0].Node)
	assert.Equal(t, "MaxPool2D", u.Nodes[1].Op)
	assert.Contains(t, err.Error(), "ToNHWC")

	_, _, err = Convert(g, Options{Precision: precision.Int8})
	assert.ErrorContains(t, err, "int8")
	_, _, err = Convert(nil, Options{})
	assert.Error(t, err)
}
