package graphtest

import (
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

// Cases returns one-node cases covering every op kind of package graph in
// several configurations: both data layouts of every op that has one,
// weight layouts, padding, dilation, groups, fused activations, modes and
// axes. Each call returns fresh ops, so a caller may modify them.
func Cases() []Case {
	pad := graph.Explicit
	return []Case{
		// Conv2D.
		{Name: "conv/nhwc/hwio/same/s2/relu6", Op: &graph.Conv2D{Strides: [2]int{2, 2}, Padding: graph.Same(), Layout: graph.NHWC, WeightLayout: graph.HWIO, Activation: graph.ActRelu6},
			Ins: []Operand{X(NHWC(2, 9, 8, 3)...), W(3, 3, 3, 5), W(5)}},
		{Name: "conv/nchw/oihw/explicit/d2/g2", Op: &graph.Conv2D{Dilations: [2]int{2, 1}, Padding: pad(2, 1, 0, 3), Groups: 2, Layout: graph.NCHW, WeightLayout: graph.OIHW},
			Ins: []Operand{X(NCHW(1, 8, 7, 4)...), W(6, 2, 3, 2), W(6)}},
		{Name: "conv/nhwc/ihwo/depthwise_m2/tanh", Op: &graph.Conv2D{Strides: [2]int{1, 2}, Padding: graph.Same(), Groups: 3, Layout: graph.NHWC, WeightLayout: graph.IHWO, Activation: graph.ActTanh},
			Ins: []Operand{X(NHWC(1, 7, 7, 3)...), W(1, 3, 3, 6), W(6)}},
		{Name: "conv/nchw/oihw/depthwise/relu_n1_to_1", Op: &graph.Conv2D{Strides: [2]int{2, 2}, Padding: pad(1, 1, 1, 1), Groups: 4, Layout: graph.NCHW, WeightLayout: graph.OIHW, Activation: graph.ActReluN1To1},
			Ins: []Operand{X(NCHW(1, 6, 6, 4)...), W(4, 1, 3, 3)}},
		// A kernel column entirely in the right padding of the last input
		// row (package reference's NCHW im2col sliced past its buffer).
		{Name: "conv/nchw/oihw/taps_past_right_edge", Op: &graph.Conv2D{Padding: pad(1, 1, 0, 2), Layout: graph.NCHW, WeightLayout: graph.OIHW},
			Ins: []Operand{X(NCHW(1, 1, 1, 2)...), W(2, 2, 3, 3)}},
		{Name: "conv/nhwc/ohwi/valid/nobias", Op: &graph.Conv2D{Padding: graph.Valid(), Layout: graph.NHWC, WeightLayout: graph.OHWI},
			Ins: []Operand{X(NHWC(1, 6, 5, 4)...), W(3, 2, 3, 4)}},
		// ConvTranspose2D.
		{Name: "convT/nhwc/hwoi/same/s2", Op: &graph.ConvTranspose2D{Strides: [2]int{2, 2}, Padding: graph.Same(), Layout: graph.NHWC, WeightLayout: graph.HWOI, Activation: graph.ActRelu},
			Ins: []Operand{X(NHWC(1, 4, 5, 3)...), W(3, 3, 4, 3), W(4)}},
		{Name: "convT/nchw/iohw/explicit/outpad/g2/d2", Op: &graph.ConvTranspose2D{Strides: [2]int{2, 3}, Dilations: [2]int{2, 1}, Padding: pad(1, 0, 2, 1), OutputPadding: [2]int{1, 2}, Groups: 2, Layout: graph.NCHW, WeightLayout: graph.IOHW},
			Ins: []Operand{X(NCHW(2, 3, 4, 4)...), W(4, 3, 3, 3), W(6)}},
		{Name: "convT/nchw/iohw/explicit/s2/outpad", Op: &graph.ConvTranspose2D{Strides: [2]int{2, 2}, Padding: pad(1, 1, 1, 1), OutputPadding: [2]int{1, 1}, Layout: graph.NCHW, WeightLayout: graph.IOHW, Activation: graph.ActRelu6},
			Ins: []Operand{X(NCHW(1, 3, 4, 2)...), W(2, 3, 3, 3), W(3)}},
		{Name: "convT/nhwc/ohwi/valid", Op: &graph.ConvTranspose2D{Strides: [2]int{1, 1}, Padding: graph.Valid(), Layout: graph.NHWC, WeightLayout: graph.OHWI},
			Ins: []Operand{X(NHWC(1, 3, 3, 2)...), W(5, 2, 2, 2)}},
		// Pool2D.
		{Name: "maxpool/nhwc/same/s2", Op: &graph.Pool2D{Type: graph.PoolMax, Window: [2]int{3, 3}, Strides: [2]int{2, 2}, Padding: graph.Same(), Layout: graph.NHWC},
			Ins: []Operand{X(NHWC(1, 7, 8, 3)...)}},
		{Name: "maxpool/nchw/ceil/relu", Op: &graph.Pool2D{Type: graph.PoolMax, Window: [2]int{2, 2}, CeilMode: true, Layout: graph.NCHW, Activation: graph.ActRelu},
			Ins: []Operand{X(NCHW(1, 5, 7, 2)...)}},
		{Name: "avgpool/nhwc/same/exclude_pad", Op: &graph.Pool2D{Type: graph.PoolAvg, Window: [2]int{3, 3}, Strides: [2]int{2, 2}, Padding: graph.Same(), Layout: graph.NHWC},
			Ins: []Operand{X(NHWC(2, 6, 7, 3)...)}},
		{Name: "avgpool/nchw/explicit/include_pad/ceil", Op: &graph.Pool2D{Type: graph.PoolAvg, Window: [2]int{3, 3}, Strides: [2]int{2, 2}, Padding: pad(1, 1, 1, 1), CountIncludePad: true, CeilMode: true, Layout: graph.NCHW},
			Ins: []Operand{X(NCHW(1, 6, 6, 2)...)}},
		{Name: "avgpool/nchw/explicit/exclude_pad/ceil", Op: &graph.Pool2D{Type: graph.PoolAvg, Window: [2]int{3, 3}, Strides: [2]int{2, 2}, Padding: pad(1, 1, 1, 1), CeilMode: true, Layout: graph.NCHW},
			Ins: []Operand{X(NCHW(1, 6, 6, 2)...)}},
		// Resize.
		{Name: "resize/nearest/nhwc", Op: &graph.Resize{Method: graph.ResizeNearest, Size: [2]int{10, 6}, Layout: graph.NHWC},
			Ins: []Operand{X(NHWC(1, 4, 3, 2)...)}},
		{Name: "resize/nearest/nchw/align_corners", Op: &graph.Resize{Method: graph.ResizeNearest, Size: [2]int{7, 5}, AlignCorners: true, Layout: graph.NCHW},
			Ins: []Operand{X(NCHW(1, 4, 3, 2)...)}},
		{Name: "resize/nearest/nhwc/half_pixel", Op: &graph.Resize{Method: graph.ResizeNearest, Size: [2]int{9, 2}, HalfPixelCenters: true, Layout: graph.NHWC},
			Ins: []Operand{X(NHWC(1, 4, 5, 2)...)}},
		{Name: "resize/bilinear/nhwc/half_pixel", Op: &graph.Resize{Method: graph.ResizeBilinear, Size: [2]int{8, 7}, HalfPixelCenters: true, Layout: graph.NHWC},
			Ins: []Operand{X(NHWC(1, 4, 3, 3)...)}},
		{Name: "resize/bilinear/nchw/align_corners", Op: &graph.Resize{Method: graph.ResizeBilinear, Size: [2]int{7, 9}, AlignCorners: true, Layout: graph.NCHW},
			Ins: []Operand{X(NCHW(2, 3, 4, 2)...)}},
		{Name: "resize/bilinear/nchw/plain", Op: &graph.Resize{Method: graph.ResizeBilinear, Size: [2]int{5, 8}, Layout: graph.NCHW},
			Ins: []Operand{X(NCHW(1, 3, 4, 2)...)}},
		// Dense and MatMul.
		{Name: "dense/io/bias/relu", Op: &graph.Dense{WeightLayout: graph.IO, Activation: graph.ActRelu},
			Ins: []Operand{X(3, 10), W(10, 7), W(7)}},
		{Name: "dense/oi/rank3/tanh", Op: &graph.Dense{WeightLayout: graph.OI, Activation: graph.ActTanh},
			Ins: []Operand{X(2, 3, 6), W(4, 6)}},
		{Name: "matmul/broadcast", Op: &graph.MatMul{}, Ins: []Operand{X(2, 3, 4), X(4, 5)}},
		{Name: "matmul/transpose_ab", Op: &graph.MatMul{TransposeA: true, TransposeB: true}, Ins: []Operand{X(1, 4, 3), X(2, 5, 4)}},
		// Elementwise binary.
		{Name: "add/broadcast/relu", Op: &graph.Add{Activation: graph.ActRelu}, Ins: []Operand{X(2, 3, 4), X(3, 1)}},
		{Name: "sub/relu6", Op: &graph.Sub{Activation: graph.ActRelu6}, Ins: []Operand{X(1, 4), X(3, 1)}},
		{Name: "mul/broadcast_const", Op: &graph.Mul{}, Ins: []Operand{X(2, 3, 4), W(4)}},
		{Name: "div/tanh", Op: &graph.Div{Activation: graph.ActTanh}, Ins: []Operand{X(2, 5), Pos(2, 5)}},
		{Name: "maximum", Op: &graph.Maximum{}, Ins: []Operand{X(3, 4), X(4)}},
		{Name: "minimum", Op: &graph.Minimum{}, Ins: []Operand{X(3, 1, 2), X(4, 2)}},
		{Name: "pow", Op: &graph.Pow{}, Ins: []Operand{Pos(2, 6), X(6)}},
		{Name: "prelu/keras_shared_axes", Op: &graph.PRelu{}, Ins: []Operand{X(NHWC(1, 3, 4, 5)...), W(1, 1, 5)}},
		{Name: "prelu/torch_channels", Op: &graph.PRelu{}, Ins: []Operand{X(NCHW(1, 3, 4, 5)...), W(5, 1, 1)}},
		{Name: "addn/3", Op: &graph.AddN{}, Ins: []Operand{X(2, 3), X(3), X(2, 1)}},
		{Name: "average/2", Op: &graph.Average{}, Ins: []Operand{X(2, 3), X(2, 3)}},
		{Name: "rescale", Op: &graph.Rescale{Scale: 1.0 / 255, Offset: -0.5}, Ins: []Operand{X(2, 8)}},
		// Softmax.
		{Name: "softmax/last", Op: &graph.Softmax{Axis: -1}, Ins: []Operand{X(3, 7)}},
		{Name: "softmax/axis1", Op: &graph.Softmax{Axis: 1}, Ins: []Operand{X(2, 4, 3)}},
		{Name: "logsoftmax/axis0", Op: &graph.LogSoftmax{Axis: 0}, Ins: []Operand{X(5, 3)}},
		// Normalization.
		{Name: "batchnorm/nhwc", Op: &graph.BatchNorm{Axis: -1, Epsilon: 1e-3}, Ins: []Operand{X(NHWC(2, 3, 3, 4)...), W(4), W(4), W(4), WPos(4)}},
		{Name: "batchnorm/nchw", Op: &graph.BatchNorm{Axis: 1, Epsilon: 1e-5}, Ins: []Operand{X(NCHW(1, 3, 2, 5)...), W(5), W(5), W(5), WPos(5)}},
		{Name: "layernorm/last", Op: &graph.LayerNorm{Axes: []int{-1}, Epsilon: 1e-5}, Ins: []Operand{X(2, 3, 8), W(8), W(8)}},
		{Name: "layernorm/axes_1_3", Op: &graph.LayerNorm{Axes: []int{1, 3}, Epsilon: 1e-3}, Ins: []Operand{X(2, 3, 4, 5), W(3, 5), W(3, 5)}},
		// Shape ops.
		{Name: "identity", Op: &graph.Identity{}, Ins: []Operand{X(2, 3)}},
		{Name: "reshape", Op: &graph.Reshape{Shape: []int{0, -1, 2}}, Ins: []Operand{X(2, 3, 4)}},
		{Name: "flatten/nchw", Op: &graph.Flatten{Axis: 1}, Ins: []Operand{X(NCHW(2, 2, 3, 4)...)}},
		{Name: "transpose", Op: &graph.Transpose{Perm: []int{2, 0, 3, 1}}, Ins: []Operand{X(2, 3, 4, 5)}},
		{Name: "concat/axis1", Op: &graph.Concat{Axis: 1}, Ins: []Operand{X(2, 3, 4), X(2, 1, 4), W(2, 2, 4)}},
		{Name: "concat/last", Op: &graph.Concat{Axis: -1}, Ins: []Operand{X(2, 3), X(2, 5)}},
		{Name: "pad/constant", Op: &graph.Pad{Mode: graph.PadConstant, Pads: [][2]int{{0, 0}, {1, 2}, {2, 0}}, Value: 0.5}, Ins: []Operand{X(2, 3, 4)}},
		{Name: "pad/reflect", Op: &graph.Pad{Mode: graph.PadReflect, Pads: [][2]int{{0, 0}, {2, 2}, {3, 1}}}, Ins: []Operand{X(1, 3, 4)}},
		{Name: "pad/replicate", Op: &graph.Pad{Mode: graph.PadReplicate, Pads: [][2]int{{1, 0}, {3, 2}, {0, 4}}}, Ins: []Operand{X(1, 3, 4)}},
		{Name: "pad/symmetric", Op: &graph.Pad{Mode: graph.PadSymmetric, Pads: [][2]int{{0, 0}, {3, 3}, {1, 4}}}, Ins: []Operand{X(1, 3, 4)}},
		{Name: "slice/steps", Op: &graph.Slice{Begin: []int{0, 1, 0}, End: []int{2, 9, 3}, Step: []int{1, 2, 2}}, Ins: []Operand{X(2, 6, 4)}},
		{Name: "gather/axis0/int32", Op: &graph.Gather{Axis: 0}, Ins: []Operand{W(6, 3), Ints(tensor.Int32, 6, 2, 4)}},
		{Name: "gather/axis1/float", Op: &graph.Gather{Axis: 1}, Ins: []Operand{X(2, 5, 3), Ints(tensor.Float32, 5, 7)}},
		{Name: "reduce/mean/spatial", Op: &graph.Reduce{Type: graph.ReduceMean, Axes: []int{1, 2}}, Ins: []Operand{X(NHWC(2, 3, 4, 5)...)}},
		{Name: "reduce/sum/keepdims_noncontiguous", Op: &graph.Reduce{Type: graph.ReduceSum, Axes: []int{0, -1}, KeepDims: true}, Ins: []Operand{X(2, 3, 4)}},
		{Name: "reduce/max", Op: &graph.Reduce{Type: graph.ReduceMax, Axes: []int{1}}, Ins: []Operand{X(3, 4, 2)}},
		{Name: "reduce/min", Op: &graph.Reduce{Type: graph.ReduceMin, Axes: []int{0, 2}}, Ins: []Operand{X(3, 4, 2)}},
		{Name: "reduce/prod", Op: &graph.Reduce{Type: graph.ReduceProd, Axes: []int{-1}}, Ins: []Operand{Pos(3, 5)}},
		{Name: "cast/int32", Op: &graph.Cast{To: tensor.Int32}, Ins: []Operand{Uniform(-300, 300, 3, 5)}},
		{Name: "cast/int8_saturates", Op: &graph.Cast{To: tensor.Int8}, Ins: []Operand{Uniform(-300, 300, 3, 5)}},
		{Name: "cast/bool", Op: &graph.Cast{To: tensor.Bool}, Ins: []Operand{Ints(tensor.Int32, 3, 4, 4)}},
		{Name: "cast/float16", Op: &graph.Cast{To: tensor.Float16}, Ins: []Operand{X(4, 4)}},
		// Elementwise unary.
		{Name: "relu", Op: &graph.Relu{}, Ins: []Operand{X(3, 4)}},
		{Name: "relu6", Op: &graph.Relu6{}, Ins: []Operand{Uniform(-8, 8, 3, 4)}},
		{Name: "clip", Op: &graph.Clip{Min: -0.5, Max: 1.25}, Ins: []Operand{X(3, 4)}},
		{Name: "leakyrelu", Op: &graph.LeakyRelu{Alpha: 0.1}, Ins: []Operand{X(3, 4)}},
		{Name: "elu", Op: &graph.Elu{Alpha: 0.7}, Ins: []Operand{X(3, 4)}},
		{Name: "selu", Op: &graph.Selu{}, Ins: []Operand{X(3, 4)}},
		{Name: "sigmoid", Op: &graph.Sigmoid{}, Ins: []Operand{X(3, 4)}},
		{Name: "hardsigmoid/keras2", Op: &graph.HardSigmoid{Slope: 0.2, Offset: 0.5}, Ins: []Operand{Uniform(-4, 4, 3, 4)}},
		{Name: "tanh", Op: &graph.Tanh{}, Ins: []Operand{X(3, 4)}},
		{Name: "swish", Op: &graph.Swish{}, Ins: []Operand{X(3, 4)}},
		{Name: "hardswish", Op: &graph.HardSwish{}, Ins: []Operand{Uniform(-5, 5, 3, 4)}},
		{Name: "gelu/erf", Op: &graph.Gelu{}, Ins: []Operand{X(3, 4)}},
		{Name: "gelu/tanh", Op: &graph.Gelu{Approximate: true}, Ins: []Operand{X(3, 4)}},
		{Name: "softplus", Op: &graph.Softplus{}, Ins: []Operand{Uniform(-30, 30, 3, 4)}},
		{Name: "softsign", Op: &graph.Softsign{}, Ins: []Operand{X(3, 4)}},
		{Name: "exp", Op: &graph.Exp{}, Ins: []Operand{X(3, 4)}},
		{Name: "log", Op: &graph.Log{}, Ins: []Operand{Pos(3, 4)}},
		{Name: "sqrt", Op: &graph.Sqrt{}, Ins: []Operand{Pos(3, 4)}},
		{Name: "rsqrt", Op: &graph.Rsqrt{}, Ins: []Operand{Pos(3, 4)}},
		{Name: "abs", Op: &graph.Abs{}, Ins: []Operand{X(3, 4)}},
		{Name: "neg", Op: &graph.Neg{}, Ins: []Operand{X(3, 4)}},
		{Name: "square", Op: &graph.Square{}, Ins: []Operand{X(3, 4)}},
	}
}
