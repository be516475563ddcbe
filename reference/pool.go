package reference

import (
	"math"

	"github.com/edgeval/edgeval/graph"
)

func preparePool2D(c *nodeCtx, op *graph.Pool2D) (prepared, error) {
	g, err := op.Geom(c.shape(0))
	if err != nil {
		return prepared{}, err
	}
	kind, incl, act := op.Type, op.CountIncludePad, op.Activation
	pr := prepared{run: func(ins, outs [][]float32, wk *work) error {
		pool2D(g, kind, incl, ins[0], outs[0], wk)
		applyAct(outs[0], act)
		return nil
	}}
	if g.Layout == graph.NCHW {
		pr.hwc = poolHWC(g, kind, incl, act)
		pr.scratch = poolCHWScratch(g)
	}
	return pr, nil
}

// poolHWC is an NCHW pooling run on NHWC data, as layout.go's planner
// takes it (prepared.hwc): between NCHW convolutions computed in NHWC, the
// values stay in NHWC instead of being transposed around each pooling.
// Every output element is the same chain of operations over the same
// window cells in the same order (rows, then columns) in either layout,
// so the bits are the same.
func poolHWC(g graph.ConvGeom, kind graph.PoolKind, incl bool, act graph.Activation) func(ep epilogue, inHWC, outHWC bool) kernelFunc {
	g2 := g
	g2.Layout = graph.NHWC
	inSize, outSize := g.N*g.InH*g.InW*g.InC, g.N*g.OutH*g.OutW*g.OutC
	return func(ep epilogue, inHWC, outHWC bool) kernelFunc {
		return func(ins, outs [][]float32, wk *work) error {
			s := wk.part(0)
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
			pool2D(g2, kind, incl, x, y, wk)
			applyAct(y, act)
			ep.apply(y)
			if !outHWC {
				toCHW(wk, outs[0], y, g.N, g.OutC, g.OutH*g.OutW)
			}
			return nil
		}
	}
}

// poolCHWScratch is the scratch, in elements per goroutine, of poolHWC's
// kernel: the input and the output in NHWC.
func poolCHWScratch(g graph.ConvGeom) int {
	return g.N*g.InH*g.InW*g.InC + g.N*g.OutH*g.OutW*g.OutC
}

// poolWindow returns the input range [lo, hi) a window starting at padded
// position start covers on an axis of size in with padding before pb and
// after pa, and the number of cells counted by an average pooling that
// includes padding (cells beyond the padded input never count).
func poolWindow(start, k, in, pb, pa int) (lo, hi, padded int) {
	lo, hi = start, start+k
	padded = min(hi, in+pa) - max(lo, -pb)
	return max(lo, 0), min(hi, in), padded
}

// pool2D is a max or average pooling of x into out in g's layout. Average
// pooling divides by the number of input cells in the window, or with
// countIncludePad by the cells of the padded input in it.
func pool2D(g graph.ConvGeom, kind graph.PoolKind, countIncludePad bool, x, out []float32, wk *work) {
	nchw := g.Layout == graph.NCHW
	if !nchw {
		pool2DHWC(g, kind, countIncludePad, x, out, wk)
		return
	}
	// Strides of (n, y, x, c) in input and output.
	var is, os [4]int
	if nchw {
		is = [4]int{g.InC * g.InH * g.InW, g.InW, 1, g.InH * g.InW}
		os = [4]int{g.OutC * g.OutH * g.OutW, g.OutW, 1, g.OutH * g.OutW}
	} else {
		is = [4]int{g.InH * g.InW * g.InC, g.InW * g.InC, g.InC, 1}
		os = [4]int{g.OutH * g.OutW * g.OutC, g.OutW * g.OutC, g.OutC, 1}
	}
	acc := make([]float32, g.InC)
	for n := range g.N {
		for oy := range g.OutH {
			y0, y1, ph := poolWindow(oy*g.StrideH-g.PadTop, g.KH, g.InH, g.PadTop, g.PadBottom)
			for ox := range g.OutW {
				x0, x1, pw := poolWindow(ox*g.StrideW-g.PadLeft, g.KW, g.InW, g.PadLeft, g.PadRight)
				if kind == graph.PoolMax {
					for c := range acc {
						acc[c] = float32(math.Inf(-1))
					}
				} else {
					clear(acc)
				}
				for iy := y0; iy < y1; iy++ {
					for ix := x0; ix < x1; ix++ {
						base := n*is[0] + iy*is[1] + ix*is[2]
						if kind == graph.PoolMax {
							for c := range acc {
								acc[c] = max(acc[c], x[base+c*is[3]])
							}
						} else {
							for c := range acc {
								acc[c] += x[base+c*is[3]]
							}
						}
					}
				}
				obase := n*os[0] + oy*os[1] + ox*os[2]
				if kind == graph.PoolAvg {
					cnt := (y1 - y0) * (x1 - x0)
					if countIncludePad {
						cnt = ph * pw
					}
					inv := float32(0)
					if cnt > 0 {
						inv = 1 / float32(cnt)
					}
					for c := range acc {
						out[obase+c*os[3]] = acc[c] * inv
					}
					continue
				}
				for c := range acc {
					out[obase+c*os[3]] = acc[c]
				}
			}
		}
	}
}

// pool2DHWC is pool2D for NHWC data: an output pixel's channels are one
// contiguous run, accumulated in place over the window's input pixels
// (contiguous runs too), with the operations of pool2D in the same order:
// the same bits, without a strided index per element. The output rows are
// split between the team's goroutines.
func pool2DHWC(g graph.ConvGeom, kind graph.PoolKind, countIncludePad bool, x, out []float32, wk *work) {
	c := g.InC
	inSize, outSize := g.InH*g.InW*c, g.OutH*g.OutW*c
	negInf := float32(math.Inf(-1))
	wk.parallel(g.N*g.OutH*g.OutW*c*g.KH*g.KW, func(part, parts int) {
		q0, q1 := split(g.N*g.OutH, parts, part, 1)
		for q := q0; q < q1; q++ {
			n, oy := q/g.OutH, q%g.OutH
			xs, os := x[n*inSize:(n+1)*inSize], out[n*outSize:(n+1)*outSize]
			y0, y1, ph := poolWindow(oy*g.StrideH-g.PadTop, g.KH, g.InH, g.PadTop, g.PadBottom)
			for ox := range g.OutW {
				x0, x1, pw := poolWindow(ox*g.StrideW-g.PadLeft, g.KW, g.InW, g.PadLeft, g.PadRight)
				o := os[(oy*g.OutW+ox)*c : (oy*g.OutW+ox+1)*c]
				if kind == graph.PoolMax {
					for i := range o {
						o[i] = negInf
					}
				} else {
					clear(o)
				}
				for iy := y0; iy < y1; iy++ {
					for ix := x0; ix < x1; ix++ {
						src := xs[(iy*g.InW+ix)*c : (iy*g.InW+ix+1)*c]
						src = src[:len(o)]
						if kind == graph.PoolMax {
							for i, v := range src {
								o[i] = max(o[i], v)
							}
						} else {
							for i, v := range src {
								o[i] += v
							}
						}
					}
				}
				if kind == graph.PoolAvg {
					cnt := (y1 - y0) * (x1 - x0)
					if countIncludePad {
						cnt = ph * pw
					}
					inv := float32(0)
					if cnt > 0 {
						inv = 1 / float32(cnt)
					}
					for i := range o {
						o[i] *= inv
					}
				}
			}
		}
	})
}
