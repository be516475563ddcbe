package reference

import (
	"github.com/edgeval/edgeval/graph"
)

// An NCHW (PyTorch) convolution is computed in NHWC: the NHWC kernels (the
// im2col or shifted-row GEMMs and the 3-wide depthwise rows of package
// sgemm, with the bias, activation and a following BatchNorm in their
// per-channel epilogue) are several times faster than any channels-first
// loop, and the transposes around them are exact copies. The value is the
// same convolution, summed in the NHWC kernels' order (kernel row, column,
// then input channel).
//
// In the fast plan, a value such a convolution writes stays in NHWC (a
// twin slot, see planLayouts) while its readers are such convolutions or
// element-wise steps that read every input in the same layout; it is
// transposed back to NCHW only for a reader that needs it, and for graph
// outputs. The full plan (RunAll) transposes around every convolution. The
// same float32 operations run in the same order either way.

// prepareConvCHW returns the prepared form of an NCHW convolution computed
// by the NHWC kernel: run (NCHW in and out), fuse, and hwc, which gives
// the kernel for inputs and outputs in either layout.
func prepareConvCHW(g graph.ConvGeom, oihw, bias []float32, act graph.Activation) prepared {
	g2 := g
	g2.Layout = graph.NHWC
	k, inner := prepareConvNHWC(g2, oihw, bias, act)
	inSize, outSize := g.N*g.InH*g.InW*g.InC, g.N*g.OutH*g.OutW*g.OutC
	hwc := func(ep epilogue, inHWC, outHWC bool) kernelFunc {
		return func(ins, outs [][]float32, wk *work) error {
			s := wk.part(0)[inner:]
			x, y := ins[0], outs[0]
			if !inHWC {
				t := s[:inSize]
				s = s[inSize:]
				toHWC(wk, t, x, g.N, g.InC, g.InH*g.InW)
				x = t
			}
			if !outHWC {
				y = s[:outSize]
			}
			k(x, y, ep, wk)
			if !outHWC {
				toCHW(wk, outs[0], y, g.N, g.OutC, g.OutH*g.OutW)
			}
			return nil
		}
	}
	return prepared{
		scratch: convCHWScratch(g),
		run:     hwc(epilogue{}, false, false),
		fuse:    func(ep epilogue) kernelFunc { return hwc(ep, false, false) },
		hwc:     hwc,
	}
}

// convCHWScratch is the scratch, in elements per goroutine, of
// prepareConvCHW's kernel: the NHWC kernel's, then the input and output in
// NHWC.
func convCHWScratch(g graph.ConvGeom) int {
	g2 := g
	g2.Layout = graph.NHWC
	return convNHWCScratch(g2) + g.N*g.InH*g.InW*g.InC + g.N*g.OutH*g.OutW*g.OutC
}

// transposeBlock is how many pixels a transpose moves per channel before
// going on to the next channel: a block of both layouts stays in L1.
const transposeBlock = 32

// transposeCost is what a transposed element weighs against a
// multiply-add when deciding whether to split the work (work.parallel).
const transposeCost = 4

// toHWC writes src [n][c][hw] into dst [n][hw][c], its pixels split
// between the team's goroutines.
func toHWC(wk *work, dst, src []float32, n, c, hw int) {
	wk.parallel(n*c*hw*transposeCost, func(part, parts int) {
		q0, q1 := split(n*hw, parts, part, transposeBlock)
		for q := q0; q < q1; {
			s, p0 := q/hw, q%hw
			p1 := min(hw, p0+transposeBlock, p0+q1-q)
			xs, ys := src[s*c*hw:(s+1)*c*hw], dst[s*c*hw:(s+1)*c*hw]
			if c == 3 {
				// A network's RGB input: one pixel at a time, each
				// written whole, the part's pixels of the sample in
				// one loop (the loop below scatters every channel
				// with a stride of three, a block at a time).
				p1 = min(hw, p0+q1-q)
				r, g, b := xs[p0:p1], xs[hw+p0:hw+p1], xs[2*hw+p0:2*hw+p1]
				g, b = g[:len(r)], b[:len(r)]
				out := ys[p0*3 : p1*3]
				out = out[:3*len(r)]
				for i, v := range r {
					out[3*i], out[3*i+1], out[3*i+2] = v, g[i], b[i]
				}
				q += p1 - p0
				continue
			}
			for ch := range c {
				row := xs[ch*hw+p0 : ch*hw+p1]
				for i, v := range row {
					ys[(p0+i)*c+ch] = v
				}
			}
			q += p1 - p0
		}
	})
}

// toCHW writes src [n][hw][c] into dst [n][c][hw], its pixels split
// between the team's goroutines.
func toCHW(wk *work, dst, src []float32, n, c, hw int) {
	wk.parallel(n*c*hw*transposeCost, func(part, parts int) {
		q0, q1 := split(n*hw, parts, part, transposeBlock)
		for q := q0; q < q1; {
			s, p0 := q/hw, q%hw
			p1 := min(hw, p0+transposeBlock, p0+q1-q)
			xs, ys := src[s*c*hw:(s+1)*c*hw], dst[s*c*hw:(s+1)*c*hw]
			for ch := range c {
				row := ys[ch*hw+p0 : ch*hw+p1]
				for i := range row {
					row[i] = xs[(p0+i)*c+ch]
				}
			}
			q += p1 - p0
		}
	})
}

// toCHWStep returns the kernel that writes the NCHW form of a value of
// shape [N, C, H, W] from its NHWC twin.
func toCHWStep(shape []int) kernelFunc {
	n, c, hw := shape[0], shape[1], shape[2]*shape[3]
	return func(ins, outs [][]float32, wk *work) error {
		toCHW(wk, outs[0], ins[0], n, c, hw)
		return nil
	}
}

// planLayouts rewrites the fast plan's steps so that values between NCHW
// convolutions computed in NHWC stay in NHWC: such a convolution reads its
// input's NHWC twin when there is one and writes a twin when some reader
// takes NHWC; an element-wise step whose inputs all have twins works on
// the twins; any other reader (and every graph output) gets the NCHW form,
// transposed from the twin by a step inserted before it. Twins are slots
// added past the graph's values.
func (p *Program) planLayouts(steps []step) []step {
	n := len(p.values)
	twin := make([]int, n)
	chw := make([]bool, n) // the slot holds its NCHW form
	wantHWC := make([]bool, n)
	for i := range n {
		twin[i] = -1
		chw[i] = p.consts[i] != nil
	}
	for _, s := range p.inputs {
		chw[s] = true
	}
	for _, st := range steps {
		for i, s := range st.ins {
			if (st.hwc != nil && i == 0) || st.agnostic {
				wantHWC[s] = true
			}
		}
	}
	addTwin := func(s int) int {
		t := len(p.values)
		p.values = append(p.values, p.values[s])
		p.sizes = append(p.sizes, p.sizes[s])
		p.consts = append(p.consts, nil)
		twin[s] = t
		return t
	}
	var out []step
	prod := make([]*graph.Node, n) // the node whose step writes the slot
	needCHW := func(s int) {
		if !chw[s] && twin[s] >= 0 {
			out = append(out, step{node: prod[s], run: toCHWStep(p.values[s].Shape), ins: []int{twin[s]}, outs: []int{s}})
		}
		chw[s] = true
	}
	allTwins := func(ins []int) bool {
		for _, s := range ins {
			if twin[s] < 0 {
				return false
			}
		}
		return len(ins) > 0
	}
	for _, st := range steps {
		for _, s := range st.outs {
			prod[s] = st.node
		}
		switch {
		case st.hwc != nil && len(st.outs) == 1:
			in, o := st.ins[0], st.outs[0]
			inHWC := twin[in] >= 0
			ins := append([]int(nil), st.ins...)
			if inHWC {
				ins[0] = twin[in]
			} else {
				needCHW(in)
			}
			outHWC := wantHWC[o]
			outs := st.outs
			if outHWC {
				outs = []int{addTwin(o)}
			} else {
				chw[o] = true
			}
			out = append(out, step{node: st.node, run: st.hwc(st.ep, inHWC, outHWC), ins: ins, outs: outs})
		case st.agnostic && len(st.outs) == 1 && allTwins(st.ins) && wantHWC[st.outs[0]]:
			ins := make([]int, len(st.ins))
			for i, s := range st.ins {
				ins[i] = twin[s]
			}
			out = append(out, step{node: st.node, run: st.run, ins: ins, outs: []int{addTwin(st.outs[0])}})
		default:
			for _, s := range st.ins {
				needCHW(s)
			}
			for _, s := range st.outs {
				chw[s] = true
			}
			out = append(out, st)
		}
	}
	for _, s := range p.outputs {
		needCHW(s)
	}
	return out
}
