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
	return prepared{run: func(ins, outs [][]float32, _ *work) error {
		pool2D(g, kind, incl, ins[0], outs[0])
		applyAct(outs[0], act)
		return nil
	}}, nil
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
func pool2D(g graph.ConvGeom, kind graph.PoolKind, countIncludePad bool, x, out []float32) {
	nchw := g.Layout == graph.NCHW
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
