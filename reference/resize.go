package reference

import (
	"math"

	"github.com/edgeval/edgeval/graph"
)

func prepareResize(c *nodeCtx, op *graph.Resize) prepared {
	var g graph.ConvGeom
	s := c.shape(0)
	if op.Layout == graph.NCHW {
		g.N, g.InC, g.InH, g.InW = s[0], s[1], s[2], s[3]
	} else {
		g.N, g.InH, g.InW, g.InC = s[0], s[1], s[2], s[3]
	}
	g.OutH, g.OutW, g.OutC, g.Layout = op.Size[0], op.Size[1], g.InC, op.Layout
	ys := resizeCoords(g.InH, g.OutH, op)
	xs := resizeCoords(g.InW, g.OutW, op)
	return prepared{run: func(ins, outs [][]float32, _ *work) error {
		resize(g, ys, xs, ins[0], outs[0])
		return nil
	}}
}

// resizeTap is the source of one output coordinate: lo and hi input
// indices and the weight of hi (0 for nearest).
type resizeTap struct {
	lo, hi int
	frac   float32
}

// resizeCoords maps each output index on an axis of in -> out to its source
// taps following op's method and coordinate options.
func resizeCoords(in, out int, op *graph.Resize) []resizeTap {
	taps := make([]resizeTap, out)
	scale := float64(in) / float64(out)
	if op.AlignCorners && out > 1 {
		scale = float64(in-1) / float64(out-1)
	}
	for d := range taps {
		if op.Method == graph.ResizeNearest {
			var s int
			switch {
			case op.AlignCorners:
				s = int(math.Round(float64(d) * scale))
			case op.HalfPixelCenters:
				s = int(math.Floor((float64(d) + 0.5) * scale))
			default:
				s = int(math.Floor(float64(d) * scale))
			}
			s = min(max(s, 0), in-1)
			taps[d] = resizeTap{lo: s, hi: s}
			continue
		}
		var src float64
		switch {
		case op.HalfPixelCenters:
			src = max((float64(d)+0.5)*scale-0.5, 0)
		default:
			src = float64(d) * scale
		}
		lo := min(int(math.Floor(src)), in-1)
		hi := min(lo+1, in-1)
		taps[d] = resizeTap{lo: lo, hi: hi, frac: float32(src - float64(lo))}
	}
	return taps
}

// resize interpolates x into out in g's layout with the precomputed taps:
// out = top + (bottom-top)*fy with top/bottom interpolated along x.
func resize(g graph.ConvGeom, ys, xs []resizeTap, x, out []float32) {
	var is, os [4]int // strides of n, y, x, c
	if g.Layout == graph.NCHW {
		is = [4]int{g.InC * g.InH * g.InW, g.InW, 1, g.InH * g.InW}
		os = [4]int{g.OutC * g.OutH * g.OutW, g.OutW, 1, g.OutH * g.OutW}
	} else {
		is = [4]int{g.InH * g.InW * g.InC, g.InW * g.InC, g.InC, 1}
		os = [4]int{g.OutH * g.OutW * g.OutC, g.OutW * g.OutC, g.OutC, 1}
	}
	for n := range g.N {
		for oy, ty := range ys {
			for ox, tx := range xs {
				for c := range g.InC {
					b := n*is[0] + c*is[3]
					tl := x[b+ty.lo*is[1]+tx.lo*is[2]]
					tr := x[b+ty.lo*is[1]+tx.hi*is[2]]
					bl := x[b+ty.hi*is[1]+tx.lo*is[2]]
					br := x[b+ty.hi*is[1]+tx.hi*is[2]]
					top := tl + (tr-tl)*tx.frac
					bot := bl + (br-bl)*tx.frac
					out[n*os[0]+oy*os[1]+ox*os[2]+c*os[3]] = top + (bot-top)*ty.frac
				}
			}
		}
	}
}
