package ref64

import (
	"fmt"
	"math"

	"github.com/edgeval/edgeval/graph"
)

// The spatial kernels (convolutions, pooling, resizing) compute on
// channels-last data [N][H][W][C]; an NCHW node's input is transposed to it
// and its output back.

// toChannelsLast returns x [n][c][hw] as [n][hw][c].
func toChannelsLast(x []float64, n, c, hw int) []float64 {
	out := make([]float64, len(x))
	for b := range n {
		for ch := range c {
			for p := range hw {
				out[(b*hw+p)*c+ch] = x[(b*c+ch)*hw+p]
			}
		}
	}
	return out
}

// toChannelsFirst writes x [n][hw][c] into out as [n][c][hw].
func toChannelsFirst(x, out []float64, n, c, hw int) {
	for b := range n {
		for p := range hw {
			for ch := range c {
				out[(b*c+ch)*hw+p] = x[(b*hw+p)*c+ch]
			}
		}
	}
}

// channelsLast runs f, a kernel from channels-last x to channels-last out,
// on data in layout l: NCHW data of inC channels and inHW pixels is
// transposed in, and the result of outC channels and outHW pixels back.
func channelsLast(l graph.Layout, n, inC, inHW, outC, outHW int, x, out []float64, f func(x, out []float64)) {
	if l != graph.NCHW {
		f(x, out)
		return
	}
	tmp := make([]float64, len(out))
	f(toChannelsLast(x, n, inC, inHW), tmp)
	toChannelsFirst(tmp, out, n, outC, outHW)
}

// kernelAxisStrides returns the strides, in a row-major weight of layout l
// and the given shape, of its O, I, H and W axes.
func kernelAxisStrides(l graph.KernelLayout, shape []int) (so, si, sh, sw int) {
	var row [4]int
	s := 1
	for a := 3; a >= 0; a-- {
		row[a] = s
		s *= shape[a]
	}
	p := l.Perm()
	return row[p[0]], row[p[1]], row[p[2]], row[p[3]]
}

// convWeights rearranges a Conv2D weight (O = all output channels, I = the
// input channels of one group) into [KH][KW][C_in][O/groups]: entry
// (ky, kx, c, j) is the tap of input channel c (of group c / (C_in/groups))
// for that group's output channel j.
func convWeights(w []float64, shape []int, l graph.KernelLayout, groups int) []float64 {
	o, cpg, kh, kw := l.Dims(shape)
	so, si, sh, sw := kernelAxisStrides(l, shape)
	opg, inC := o/groups, cpg*groups
	out := make([]float64, len(w))
	for ky := range kh {
		for kx := range kw {
			for c := range inC {
				gi, ci := c/cpg, c%cpg
				for j := range opg {
					out[((ky*kw+kx)*inC+c)*opg+j] = w[(gi*opg+j)*so+ci*si+ky*sh+kx*sw]
				}
			}
		}
	}
	return out
}

// conv2D is a grouped, strided, dilated, padded 2-D cross-correlation of
// channels-last x with w in convWeights' form, plus bias (may be nil).
func conv2D(g graph.ConvGeom, x, w, bias, out []float64) {
	cpg, opg := g.InC/g.Groups, g.OutC/g.Groups
	for n := range g.N {
		for oy := range g.OutH {
			for ox := range g.OutW {
				acc := out[((n*g.OutH+oy)*g.OutW+ox)*g.OutC:][:g.OutC]
				if bias != nil {
					copy(acc, bias)
				}
				for ky := range g.KH {
					iy := oy*g.StrideH - g.PadTop + ky*g.DilH
					if iy < 0 || iy >= g.InH {
						continue
					}
					for kx := range g.KW {
						ix := ox*g.StrideW - g.PadLeft + kx*g.DilW
						if ix < 0 || ix >= g.InW {
							continue
						}
						px := x[((n*g.InH+iy)*g.InW+ix)*g.InC:][:g.InC]
						taps := w[(ky*g.KW+kx)*g.InC*opg:][:g.InC*opg]
						for gi := range g.Groups {
							a := acc[gi*opg:][:opg]
							for c := gi * cpg; c < (gi+1)*cpg; c++ {
								xv, wr := px[c], taps[c*opg:][:opg]
								for j := range a {
									a[j] += xv * wr[j]
								}
							}
						}
					}
				}
			}
		}
	}
}

func prepareConv2D(c node, op *graph.Conv2D) (kernel, error) {
	g, err := op.Geom(c.inShape(0), c.inShape(1))
	if err != nil {
		return nil, err
	}
	wshape, wl := c.inShape(1), op.WeightLayout
	weights := c.weight(1, func(w []float64) []float64 { return convWeights(w, wshape, wl, g.Groups) })
	act := op.Activation
	return func(ins, outs [][]float64) error {
		w := weights(ins[1])
		var bias []float64
		if len(ins) == 3 {
			bias = ins[2]
		}
		channelsLast(g.Layout, g.N, g.InC, g.InH*g.InW, g.OutC, g.OutH*g.OutW, ins[0], outs[0], func(x, out []float64) {
			conv2D(g, x, w, bias, out)
		})
		applyActivation(outs[0], act)
		return nil
	}, nil
}

// convTransposeWeights rearranges a ConvTranspose2D weight (I = all input
// channels, O = the output channels of one group) into
// [C_in][KH][KW][O/groups].
func convTransposeWeights(w []float64, shape []int, l graph.KernelLayout) []float64 {
	opg, inC, kh, kw := l.Dims(shape)
	so, si, sh, sw := kernelAxisStrides(l, shape)
	out := make([]float64, len(w))
	for c := range inC {
		for ky := range kh {
			for kx := range kw {
				for j := range opg {
					out[((c*kh+ky)*kw+kx)*opg+j] = w[j*so+c*si+ky*sh+kx*sw]
				}
			}
		}
	}
	return out
}

// convTranspose2D scatters every input pixel of channels-last x, weighted by
// w in convTransposeWeights' form, into the output window it covers (output
// row iy*stride - PadTop + ky*dilation, likewise for columns), then adds
// bias (may be nil).
func convTranspose2D(g graph.ConvGeom, x, w, bias, out []float64) {
	cpg, opg := g.InC/g.Groups, g.OutC/g.Groups
	clear(out)
	for n := range g.N {
		for iy := range g.InH {
			for ix := range g.InW {
				px := x[((n*g.InH+iy)*g.InW+ix)*g.InC:][:g.InC]
				for ky := range g.KH {
					oy := iy*g.StrideH - g.PadTop + ky*g.DilH
					if oy < 0 || oy >= g.OutH {
						continue
					}
					for kx := range g.KW {
						ox := ix*g.StrideW - g.PadLeft + kx*g.DilW
						if ox < 0 || ox >= g.OutW {
							continue
						}
						acc := out[((n*g.OutH+oy)*g.OutW+ox)*g.OutC:][:g.OutC]
						for gi := range g.Groups {
							a := acc[gi*opg:][:opg]
							for c := gi * cpg; c < (gi+1)*cpg; c++ {
								xv, wr := px[c], w[((c*g.KH+ky)*g.KW+kx)*opg:][:opg]
								for j := range a {
									a[j] += xv * wr[j]
								}
							}
						}
					}
				}
			}
		}
	}
	if bias != nil {
		for p := 0; p < len(out); p += g.OutC {
			for o, b := range bias {
				out[p+o] += b
			}
		}
	}
}

func prepareConvTranspose2D(c node, op *graph.ConvTranspose2D) (kernel, error) {
	g, err := op.Geom(c.inShape(0), c.inShape(1))
	if err != nil {
		return nil, err
	}
	wshape, wl := c.inShape(1), op.WeightLayout
	weights := c.weight(1, func(w []float64) []float64 { return convTransposeWeights(w, wshape, wl) })
	act := op.Activation
	return func(ins, outs [][]float64) error {
		w := weights(ins[1])
		var bias []float64
		if len(ins) == 3 {
			bias = ins[2]
		}
		channelsLast(g.Layout, g.N, g.InC, g.InH*g.InW, g.OutC, g.OutH*g.OutW, ins[0], outs[0], func(x, out []float64) {
			convTranspose2D(g, x, w, bias, out)
		})
		applyActivation(outs[0], act)
		return nil
	}, nil
}

// pool2D is max or average pooling of channels-last x. An average divides
// by the window's cells inside the input or, with includePad, inside the
// padded input (cells a ceil-mode window reaches beyond the padding never
// count). A window with no cell gives -Inf (max) or 0 (average).
func pool2D(g graph.ConvGeom, kind graph.PoolKind, includePad bool, x, out []float64) {
	for n := range g.N {
		for oy := range g.OutH {
			for ox := range g.OutW {
				acc := out[((n*g.OutH+oy)*g.OutW+ox)*g.OutC:][:g.OutC]
				for ch := range acc {
					if kind == graph.PoolMax {
						acc[ch] = math.Inf(-1)
					} else {
						acc[ch] = 0
					}
				}
				count := 0
				for ky := range g.KH {
					iy := oy*g.StrideH - g.PadTop + ky
					rowInPadded := iy >= -g.PadTop && iy < g.InH+g.PadBottom
					for kx := range g.KW {
						ix := ox*g.StrideW - g.PadLeft + kx
						colInPadded := ix >= -g.PadLeft && ix < g.InW+g.PadRight
						inside := iy >= 0 && iy < g.InH && ix >= 0 && ix < g.InW
						if inside || (includePad && rowInPadded && colInPadded) {
							count++
						}
						if !inside {
							continue
						}
						px := x[((n*g.InH+iy)*g.InW+ix)*g.InC:][:g.InC]
						for ch, v := range px {
							if kind == graph.PoolMax {
								acc[ch] = math.Max(acc[ch], v)
							} else {
								acc[ch] += v
							}
						}
					}
				}
				if kind == graph.PoolAvg && count > 0 {
					for ch := range acc {
						acc[ch] /= float64(count)
					}
				}
			}
		}
	}
}

func preparePool2D(c node, op *graph.Pool2D) (kernel, error) {
	g, err := op.Geom(c.inShape(0))
	if err != nil {
		return nil, err
	}
	kind, includePad, act := op.Type, op.CountIncludePad, op.Activation
	return func(ins, outs [][]float64) error {
		channelsLast(g.Layout, g.N, g.InC, g.InH*g.InW, g.OutC, g.OutH*g.OutW, ins[0], outs[0], func(x, out []float64) {
			pool2D(g, kind, includePad, x, out)
		})
		applyActivation(outs[0], act)
		return nil
	}, nil
}

// resizeSource is where one output coordinate reads: input indices lo and
// hi and the weight of hi (0 for nearest, where lo == hi).
type resizeSource struct {
	lo, hi int
	frac   float64
}

// resizeSources maps the out coordinates of an axis of in cells to their
// sources, as graph.Resize documents.
func resizeSources(in, out int, op *graph.Resize) []resizeSource {
	scale := float64(in) / float64(out)
	if op.AlignCorners && out > 1 {
		scale = float64(in-1) / float64(out-1)
	}
	src := make([]resizeSource, out)
	for d := range src {
		fd := float64(d)
		if op.Method == graph.ResizeNearest {
			var i float64
			switch {
			case op.AlignCorners:
				i = math.Round(fd * scale)
			case op.HalfPixelCenters:
				i = math.Floor((fd + 0.5) * scale)
			default:
				i = math.Floor(fd * scale)
			}
			k := min(max(int(i), 0), in-1)
			src[d] = resizeSource{lo: k, hi: k}
			continue
		}
		s := fd * scale
		if op.HalfPixelCenters {
			s = math.Max((fd+0.5)*scale-0.5, 0)
		}
		lo := min(int(math.Floor(s)), in-1)
		src[d] = resizeSource{lo: lo, hi: min(lo+1, in-1), frac: s - float64(lo)}
	}
	return src
}

func prepareResize(c node, op *graph.Resize) (kernel, error) {
	s := c.inShape(0)
	n, h, w, ch := s[0], s[1], s[2], s[3]
	if op.Layout == graph.NCHW {
		ch, h, w = s[1], s[2], s[3]
	}
	oh, ow := op.Size[0], op.Size[1]
	if h < 1 || w < 1 {
		return nil, fmt.Errorf("cannot resize an empty input %v", s)
	}
	ys, xs := resizeSources(h, oh, op), resizeSources(w, ow, op)
	return func(ins, outs [][]float64) error {
		channelsLast(op.Layout, n, ch, h*w, ch, oh*ow, ins[0], outs[0], func(x, out []float64) {
			at := func(b, y, xx, c int) float64 { return x[((b*h+y)*w+xx)*ch+c] }
			for b := range n {
				for oy, sy := range ys {
					for ox, sx := range xs {
						o := out[((b*oh+oy)*ow+ox)*ch:][:ch]
						for c := range o {
							top := (1-sx.frac)*at(b, sy.lo, sx.lo, c) + sx.frac*at(b, sy.lo, sx.hi, c)
							bottom := (1-sx.frac)*at(b, sy.hi, sx.lo, c) + sx.frac*at(b, sy.hi, sx.hi, c)
							o[c] = (1-sy.frac)*top + sy.frac*bottom
						}
					}
				}
			}
		})
		return nil
	}, nil
}
