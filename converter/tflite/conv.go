package tflite

import (
	"slices"

	"github.com/edgeval/edgeval/graph"
	tfl "github.com/edgeval/edgeval/tflite"
)

func wantNHWC(l graph.Layout) error {
	if l != graph.NHWC {
		return unsupportedf("computes in %v; run passes.Canonicalize (ToNHWC) first", l)
	}
	return nil
}

// spatialPadding returns the TFLite padding for a window op whose resolved
// amounts are (top, bottom, left, right) on an input of inH x inW with the
// dilated window ekh x ekw and strides sh x sw: SAME or VALID when one of
// them gives exactly these amounts, ok false otherwise.
func spatialPadding(top, bottom, left, right, inH, inW, ekh, ekw, sh, sw int) (tfl.Padding, bool) {
	if top == 0 && bottom == 0 && left == 0 && right == 0 {
		return tfl.PaddingValid, true
	}
	t, b := graph.SameAmounts(inH, ekh, sh)
	l, r := graph.SameAmounts(inW, ekw, sw)
	if t == top && b == bottom && l == left && r == right {
		return tfl.PaddingSame, true
	}
	return tfl.PaddingValid, false
}

// padInput writes a PAD (or PADV2 with value) of NHWC input x by the given
// spatial amounts and returns the padded tensor.
func (w *writer) padInput(n *graph.Node, x *graph.Value, top, bottom, left, right int, value float32) int {
	shape := []int{x.Shape[0], x.Shape[1] + top + bottom, x.Shape[2] + left + right, x.Shape[3]}
	t := w.temp(n.Name+"/pad", x.DType, shape)
	pads := w.constI32(n.Name+"/paddings", []int{4, 2}, []int{0, 0, top, bottom, left, right, 0, 0})
	if value == 0 {
		w.op(tfl.OpPad, 1, []int{w.value(x), pads}, []int{t}, &tfl.PadOptions{})
	} else {
		w.op(tfl.OpPadv2, 1, []int{w.value(x), pads, w.scalarF32(n.Name+"/pad_value", value)}, []int{t}, &tfl.PadV2Options{})
	}
	return t
}

// bias returns the tensor of node n's bias (input 2), or a zero bias of
// size c when it has none.
func (w *writer) bias(n *graph.Node, c int) int {
	if len(n.Inputs) > 2 {
		return w.in(n, 2)
	}
	return w.constF32(n.Name+"/bias", []int{c}, make([]float32, c))
}

// conv2D writes CONV_2D (OHWI filter), DEPTHWISE_CONV_2D ([1, H, W, C*M]
// filter) or, for other group counts, SPLIT + one CONV_2D per group +
// CONCATENATION.
func (w *writer) conv2D(n *graph.Node, op *graph.Conv2D) error {
	x, wt := n.Inputs[0], n.Inputs[1]
	if err := wantNHWC(op.Layout); err != nil {
		return err
	}
	if !wt.IsConst() {
		return unsupportedf("weights %q are not constant", wt.Name)
	}
	g, err := op.Geom(x.Shape, wt.Shape)
	if err != nil {
		return err
	}
	ekh, ekw := (g.KH-1)*g.DilH+1, (g.KW-1)*g.DilW+1
	xin := w.value(x)
	pad, ok := spatialPadding(g.PadTop, g.PadBottom, g.PadLeft, g.PadRight, g.InH, g.InW, ekh, ekw, g.StrideH, g.StrideW)
	if !ok {
		xin = w.padInput(n, x, g.PadTop, g.PadBottom, g.PadLeft, g.PadRight, 0)
		pad = tfl.PaddingValid
	}
	dst, act, finish := w.fused(n, op.Activation, true)
	switch {
	case g.Groups == 1:
		filter := w.kernel(wt, op.WeightLayout, graph.OHWI)
		w.op(tfl.OpConv2D, 1, []int{xin, filter, w.bias(n, g.OutC)}, []int{dst}, &tfl.Conv2DOptions{
			Padding: pad, StrideW: int32(g.StrideW), StrideH: int32(g.StrideH), FusedActivationFunction: act,
			DilationWFactor: int32(g.DilW), DilationHFactor: int32(g.DilH),
		})
	case g.Groups == g.InC:
		filter := w.kernel(wt, op.WeightLayout, graph.IHWO)
		version := 1
		if g.DilH != 1 || g.DilW != 1 {
			version = 2
		}
		w.op(tfl.OpDepthwiseConv2D, version, []int{xin, filter, w.bias(n, g.OutC)}, []int{dst}, &tfl.DepthwiseConv2DOptions{
			Padding: pad, StrideW: int32(g.StrideW), StrideH: int32(g.StrideH), DepthMultiplier: int32(g.OutC / g.InC),
			FusedActivationFunction: act, DilationWFactor: int32(g.DilW), DilationHFactor: int32(g.DilH),
		})
	default:
		if err := w.groupedConv(n, op, g, xin, pad, dst, act); err != nil {
			return err
		}
	}
	finish()
	return nil
}

// groupedConv writes a convolution with 1 < groups < C_in as SPLIT of the
// input channels, one CONV_2D per group and CONCATENATION of the results.
func (w *writer) groupedConv(n *graph.Node, op *graph.Conv2D, g graph.ConvGeom, xin int, pad tfl.Padding, dst int, act tfl.Activation) error {
	x := n.Inputs[0]
	filter := kernelTo(n.Inputs[1].Const, op.WeightLayout, graph.OHWI)
	var bias []float32
	if len(n.Inputs) > 2 {
		b, err := floatConst(n.Inputs[2])
		if err != nil {
			return err
		}
		bias = b
	} else {
		bias = make([]float32, g.OutC)
	}
	inShape := []int{x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]}
	if pad == tfl.PaddingValid {
		inShape[1] += g.PadTop + g.PadBottom
		inShape[2] += g.PadLeft + g.PadRight
	}
	inShape[3] = g.InC / g.Groups
	parts := make([]int, g.Groups)
	for i := range parts {
		parts[i] = w.temp(n.Name+"/group_in", x.DType, inShape)
	}
	axis := w.constI32(n.Name+"/split_axis", []int{}, []int{3})
	w.op(tfl.OpSplit, 1, []int{axis, xin}, parts, &tfl.SplitOptions{NumSplits: int32(g.Groups)})
	og := g.OutC / g.Groups
	outs := make([]int, g.Groups)
	outShape := []int{g.N, g.OutH, g.OutW, og}
	for i := range parts {
		f := w.weightTensor(n.Inputs[1].Name, sliceAxis0(filter, i*og, (i+1)*og))
		b := w.constF32(n.Name+"/bias", []int{og}, bias[i*og:(i+1)*og])
		outs[i] = w.temp(n.Name+"/group_out", n.Outputs[0].DType, outShape)
		// The activation goes into each group's convolution: LiteRT
		// ignores one fused into CONCATENATION.
		w.op(tfl.OpConv2D, 1, []int{parts[i], f, b}, []int{outs[i]}, &tfl.Conv2DOptions{
			Padding: pad, StrideW: int32(g.StrideW), StrideH: int32(g.StrideH), FusedActivationFunction: act,
			DilationWFactor: int32(g.DilW), DilationHFactor: int32(g.DilH),
		})
	}
	w.op(tfl.OpConcatenation, 1, outs, []int{dst}, &tfl.ConcatenationOptions{Axis: 3})
	return nil
}

// convTranspose2D writes TRANSPOSE_CONV (output shape, OHWI filter, input,
// bias: version 3). The activation is a separate operator (fusing it needs
// version 4, which older runtimes lack).
func (w *writer) convTranspose2D(n *graph.Node, op *graph.ConvTranspose2D) error {
	x, wt := n.Inputs[0], n.Inputs[1]
	if err := wantNHWC(op.Layout); err != nil {
		return err
	}
	if !wt.IsConst() {
		return unsupportedf("weights %q are not constant", wt.Name)
	}
	g, err := op.Geom(x.Shape, wt.Shape)
	if err != nil {
		return err
	}
	if g.Groups != 1 {
		return unsupportedf("groups %d (TRANSPOSE_CONV has no groups)", g.Groups)
	}
	if g.DilH != 1 || g.DilW != 1 {
		return unsupportedf("dilation %dx%d (TRANSPOSE_CONV has none)", g.DilH, g.DilW)
	}
	// TFLite's TRANSPOSE_CONV (and XNNPACK, which checks it) knows the
	// output sizes of TensorFlow's SAME (in*stride, cropping
	// max((in-1)*stride + k - out, 0)/2 at the start) and VALID
	// (in*stride + max(k-stride, 0), no crop); another output size reads
	// out of bounds in LiteRT. Other crops are written as VALID followed by
	// a SLICE.
	fullH, fullW := g.InH*g.StrideH+max(g.KH-g.StrideH, 0), g.InW*g.StrideW+max(g.KW-g.StrideW, 0)
	sameTop := max((g.InH-1)*g.StrideH+g.KH-g.OutH, 0) / 2
	sameLeft := max((g.InW-1)*g.StrideW+g.KW-g.OutW, 0) / 2
	sameSize := g.OutH == g.InH*g.StrideH && g.OutW == g.InW*g.StrideW
	filter := w.kernel(wt, op.WeightLayout, graph.OHWI)
	dst, _, finish := w.fused(n, op.Activation, false)
	outH, outW := g.OutH, g.OutW
	var pad tfl.Padding
	sliceAfter := false
	switch {
	case sameSize && g.PadTop == sameTop && g.PadLeft == sameLeft:
		pad = tfl.PaddingSame
	case g.PadTop == 0 && g.PadLeft == 0 && g.OutH == fullH && g.OutW == fullW:
		pad = tfl.PaddingValid
	case g.PadTop+g.OutH <= fullH && g.PadLeft+g.OutW <= fullW:
		pad = tfl.PaddingValid
		outH, outW = fullH, fullW
		sliceAfter = true
	default:
		return unsupportedf("output padding beyond the full transposed convolution (crop %d,%d, output %dx%d of %dx%d)", g.PadTop, g.PadLeft, g.OutH, g.OutW, fullH, fullW)
	}
	shape := []int{g.N, outH, outW, g.OutC}
	target := dst
	if sliceAfter {
		target = w.temp(n.Name+"/uncropped", n.Outputs[0].DType, shape)
	}
	outShape := w.constI32(n.Name+"/output_shape", nil, shape)
	w.op(tfl.OpTransposeConv, 3, []int{outShape, filter, w.value(x), w.bias(n, g.OutC)}, []int{target}, &tfl.TransposeConvOptions{
		Padding: pad, StrideW: int32(g.StrideW), StrideH: int32(g.StrideH),
	})
	if sliceAfter {
		begin := w.constI32(n.Name+"/crop_begin", nil, []int{0, g.PadTop, g.PadLeft, 0})
		size := w.constI32(n.Name+"/crop_size", nil, []int{g.N, g.OutH, g.OutW, g.OutC})
		w.op(tfl.OpSlice, 1, []int{target, begin, size}, []int{dst}, &tfl.SliceOptions{})
	}
	finish()
	return nil
}

// pool2D writes AVERAGE_POOL_2D or MAX_POOL_2D, with a PAD (zeros for
// average pooling, the lowest float for max pooling) when neither SAME nor
// VALID gives the source's windows. Average pooling whose divisor is
// neither what TFLite's SAME counts (the input cells) nor the whole window
// (PyTorch's count_include_pad, and ceil-mode windows that run past the
// padding) is PAD + VALID AVERAGE_POOL_2D + MUL by a constant map of
// window size / divisor per output position.
func (w *writer) pool2D(n *graph.Node, op *graph.Pool2D) error {
	x := n.Inputs[0]
	if err := wantNHWC(op.Layout); err != nil {
		return err
	}
	g, err := op.Geom(x.Shape)
	if err != nil {
		return err
	}
	avg := op.Type == graph.PoolAvg
	top, bottom, left, right := g.PadTop, g.PadBottom, g.PadLeft, g.PadRight
	// Ceil mode: extend the bottom/right padding so VALID windows reach
	// the last output.
	bottom = max(bottom, (g.OutH-1)*g.StrideH+g.KH-g.InH-top)
	right = max(right, (g.OutW-1)*g.StrideW+g.KW-g.InW-left)
	xin := w.value(x)
	pad, ok := spatialPadding(top, bottom, left, right, g.InH, g.InW, g.KH, g.KW, g.StrideH, g.StrideW)
	hasPad := top+bottom+left+right > 0
	var rescale []float32 // window size / divisor, per output position
	if avg && hasPad {
		div, cells := poolDivisors(g, op.CountIncludePad)
		full := true
		for _, d := range div {
			full = full && d == g.KH*g.KW
		}
		switch {
		case ok && pad == tfl.PaddingSame && slices.Equal(div, cells), ok && pad == tfl.PaddingValid && full:
			// TFLite's SAME average divides by the input cells, VALID
			// by the window: exact.
		case full:
			ok = false // zero padding, VALID: divides by the window
		default:
			ok = false
			rescale = make([]float32, len(div))
			for i, d := range div {
				if d > 0 {
					rescale[i] = float32(g.KH*g.KW) / float32(d)
				}
			}
		}
	}
	if !ok {
		value := float32(0)
		if !avg {
			value = -3.4028234663852886e38
		}
		xin = w.padInput(n, x, top, bottom, left, right, value)
		pad = tfl.PaddingValid
	}
	code := tfl.OpMaxPool2D
	if avg {
		code = tfl.OpAveragePool2D
	}
	dst, act, finish := w.fused(n, op.Activation, true)
	poolOut := dst
	if rescale != nil {
		poolOut = w.temp(n.Name+"/window_mean", n.Outputs[0].DType, n.Outputs[0].Shape)
	}
	w.op(code, 1, []int{xin}, []int{poolOut}, &tfl.Pool2DOptions{
		Padding: pad, StrideW: int32(g.StrideW), StrideH: int32(g.StrideH),
		FilterWidth: int32(g.KW), FilterHeight: int32(g.KH), FusedActivationFunction: ifAct(rescale == nil, act),
	})
	if rescale != nil {
		scale := w.constF32(n.Name+"/divisor_scale", []int{1, g.OutH, g.OutW, 1}, rescale)
		w.op(tfl.OpMul, 1, []int{poolOut, scale}, []int{dst}, &tfl.MulOptions{FusedActivationFunction: act})
	}
	finish()
	return nil
}

// ifAct returns a when cond holds, else no activation.
func ifAct(cond bool, a tfl.Activation) tfl.Activation {
	if cond {
		return a
	}
	return tfl.ActNone
}

// poolDivisors returns, per output position (row-major [OutH, OutW]), the
// divisor of an average pooling with geometry g — the cells of the padded
// input in the window with countIncludePad (cells past the padding, which
// ceil-mode windows reach, never count), else the input cells — and the
// input cells alone.
func poolDivisors(g graph.ConvGeom, countIncludePad bool) (div, cells []int) {
	window := func(start, k, in, pb, pa int) (real, padded int) {
		lo, hi := start, start+k
		padded = min(hi, in+pa) - max(lo, -pb)
		return min(hi, in) - max(lo, 0), padded
	}
	div = make([]int, g.OutH*g.OutW)
	cells = make([]int, g.OutH*g.OutW)
	for oy := range g.OutH {
		ry, py := window(oy*g.StrideH-g.PadTop, g.KH, g.InH, g.PadTop, g.PadBottom)
		for ox := range g.OutW {
			rx, px := window(ox*g.StrideW-g.PadLeft, g.KW, g.InW, g.PadLeft, g.PadRight)
			i := oy*g.OutW + ox
			cells[i] = max(ry, 0) * max(rx, 0)
			div[i] = cells[i]
			if countIncludePad {
				div[i] = py * px
			}
		}
	}
	return div, cells
}
