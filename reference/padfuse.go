package reference

import (
	"math"

	"github.com/edgeval/edgeval/graph"
)

// padIntoConv reports whether the convolution conv, reading the output of
// pad as its input, can take the Pad's zeros as its own padding (the fast
// plan then never writes the padded value): a constant +0 Pad of the
// spatial axes only (none negative) of the convolution's layout. It returns
// the padding (top, bottom, left, right) the convolution adds. The
// convolution's kernels treat their padding as zeros read from the input,
// so the result is the same bits.
func padIntoConv(pad, conv *graph.Node) ([4]int, bool) {
	p, ok := pad.Op.(*graph.Pad)
	c, ok2 := conv.Op.(*graph.Conv2D)
	if !ok || !ok2 || len(pad.Outputs) != 1 || len(conv.Inputs) < 2 || conv.Inputs[0] != pad.Outputs[0] ||
		p.Mode != graph.PadConstant || math.Float32bits(p.Value) != 0 || len(p.Pads) != 4 {
		return [4]int{}, false
	}
	h, w, ch := 1, 2, 3
	if c.Layout == graph.NCHW {
		h, w, ch = 2, 3, 1
	}
	for _, pp := range p.Pads {
		if pp[0] < 0 || pp[1] < 0 {
			return [4]int{}, false
		}
	}
	if p.Pads[0] != [2]int{} || p.Pads[ch] != [2]int{} {
		return [4]int{}, false
	}
	return [4]int{p.Pads[h][0], p.Pads[h][1], p.Pads[w][0], p.Pads[w][1]}, true
}
