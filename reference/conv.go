package reference

import (
	"fmt"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/sgemm"
)

// convWeights is a convolution weight in the forms the kernels read.
type convWeights struct {
	// gemm holds, per group, the GEMM operand: for NHWC [KH*KW*Cpg][Opg]
	// (packed in packed), for NCHW [Opg][Cpg*KH*KW] (OIHW order).
	gemm   []float32
	packed []*sgemm.PackedB
	// taps holds a depthwise weight: NHWC [KH*KW][C_out], NCHW
	// [C_out][KH*KW].
	taps []float32
}

func prepareConv2D(c *nodeCtx, op *graph.Conv2D) (prepared, error) {
	return prepareConv2DPadded(c, op, [4]int{})
}

// prepareConv2DPadded prepares a convolution whose input is first
// zero-padded by extra (top, bottom, left, right): the node reads the
// padded value, the kernel the value before the Pad (see padIntoConv).
func prepareConv2DPadded(c *nodeCtx, op *graph.Conv2D, extra [4]int) (prepared, error) {
	w := c.constant(1)
	if w == nil {
		return prepared{}, fmt.Errorf("weight %q is not a constant", c.n.Inputs[1].Name)
	}
	g, err := op.Geom(c.shape(0), c.shape(1))
	if err != nil {
		return prepared{}, err
	}
	g.InH -= extra[0] + extra[1]
	g.InW -= extra[2] + extra[3]
	g.PadTop += extra[0]
	g.PadBottom += extra[1]
	g.PadLeft += extra[2]
	g.PadRight += extra[3]
	bias := c.constant(2)
	if len(c.n.Inputs) == 3 && bias == nil {
		return prepared{}, fmt.Errorf("bias %q is not a constant", c.n.Inputs[2].Name)
	}
	oihw := relayoutKernel(w, c.shape(1), op.WeightLayout, graph.OIHW)
	if g.Layout == graph.NCHW {
		return prepareConvCHW(g, oihw, bias, op.Activation), nil
	}
	k, scratch := prepareConvNHWC(g, oihw, bias, op.Activation)
	mk := func(ep epilogue) kernelFunc {
		return func(ins, outs [][]float32, wk *work) error {
			k(ins[0], outs[0], ep, wk)
			return nil
		}
	}
	return prepared{scratch: scratch, run: mk(epilogue{}), fuse: mk}, nil
}

// convKernel is a prepared convolution of x into out followed by ep.
type convKernel func(x, out []float32, ep epilogue, wk *work)

// prepareConvNHWC returns the kernel of an NHWC convolution (g's layout is
// not read) with an OIHW weight, and the scratch it takes per goroutine.
func prepareConvNHWC(g graph.ConvGeom, oihw, bias []float32, act graph.Activation) (convKernel, int) {
	cpg, opg := g.InC/g.Groups, g.OutC/g.Groups
	depthwise := cpg == 1 && g.Groups > 1
	var cw convWeights
	switch {
	case depthwise:
		// OIHW with I = 1 is [C_out][KH*KW]; NHWC taps want [KH*KW][C_out].
		taps := g.KH * g.KW
		cw.taps = make([]float32, len(oihw))
		for o := range g.OutC {
			for t := range taps {
				cw.taps[t*g.OutC+o] = oihw[o*taps+t]
			}
		}
		if depthwise3(g) {
			b := bias
			if b == nil {
				b = make([]float32, g.OutC)
			}
			return func(x, out []float32, ep epilogue, wk *work) {
				depthwise3NHWC(g, x, cw.taps, b, act, ep, out, wk)
			}, depthwise3Scratch(g)
		}
		if depthwiseRows(g) {
			rows := repeatTaps(cw.taps, g.KH*g.KW, g.OutC, g.OutW)
			var biasRow []float32
			if bias != nil {
				biasRow = repeatTaps(bias, 1, g.OutC, g.OutW)
			}
			return func(x, out []float32, ep epilogue, wk *work) {
				depthwiseRowsNHWC(g, x, rows, biasRow, act, out, wk)
				ep.apply(out)
			}, 0
		}
		return func(x, out []float32, ep epilogue, wk *work) {
			depthwiseNHWC(g, x, cw.taps, bias, act, out, wk)
			ep.apply(out)
		}, 0
	default:
		k := g.KH * g.KW * cpg
		cw.gemm = make([]float32, g.Groups*k*opg)
		for gi := range g.Groups {
			dst := cw.gemm[gi*k*opg : (gi+1)*k*opg]
			for oj := range opg {
				o := gi*opg + oj
				for ci := range cpg {
					for ky := range g.KH {
						for kx := range g.KW {
							dst[((ky*g.KW+kx)*cpg+ci)*opg+oj] = oihw[((o*cpg+ci)*g.KH+ky)*g.KW+kx]
						}
					}
				}
			}
		}
		if shiftedRows(g) {
			// The weights [KH][KW*C][C_out], in K blocks of whole kernel
			// rows.
			pb := sgemm.PackBRuns(k, g.OutC, cw.gemm, g.OutC, g.KW*g.InC)
			return func(x, out []float32, ep epilogue, wk *work) {
				conv2DShiftedNHWC(g, x, pb, bias, act, ep, out, wk)
			}, convNHWCScratch(g)
		}
		for gi := range g.Groups {
			cw.packed = append(cw.packed, sgemm.PackB(false, k, opg, cw.gemm[gi*k*opg:(gi+1)*k*opg], opg))
		}
		// The kernel keeps the packed weight only: capturing cw would keep
		// its unpacked copy (gemm) alive for the program's life.
		packed := cw.packed
		return func(x, out []float32, ep epilogue, wk *work) {
			conv2DNHWC(g, x, packed, bias, act, ep, out, wk)
		}, convNHWCScratch(g)
	}
}

// depthwise3 reports whether depthwise3NHWC computes a depthwise
// convolution: multiplier 1, kernels 3 wide and at most 3 tall.
func depthwise3(g graph.ConvGeom) bool {
	return g.OutC == g.InC && g.KW == 3 && g.KH <= 3 && g.DilH >= 1 && g.DilW >= 1 &&
		g.PadTop >= 0 && g.PadBottom >= 0 && g.PadLeft >= 0 && g.PadRight >= 0
}

// depthwise3Scratch is depthwise3NHWC's scratch per goroutine: KH
// zero-padded input rows (a pixel's window is smaller), or the whole
// padded input when depthwise3PadAll.
func depthwise3Scratch(g graph.ConvGeom) int {
	wp := g.InW + g.PadLeft + g.PadRight
	if depthwise3PadAll(g) {
		return (g.InH + g.PadTop + g.PadBottom) * wp * g.InC
	}
	return g.KH * wp * g.InC
}

// depthwise3PadAll reports whether depthwise3NHWC copies the whole input
// into a zero-padded buffer first:
//   - when fewer than 3/4 of the output pixels have all their taps inside
//     the input (small outputs, 12×12 and under with a 1-pixel border),
//     where reading in place would pad most pixels' edges;
//   - when the convolution is not strided, its output rows are short (at
//     most padAllRow values) and the padded input small (at most
//     padAllInput values): there the copy costs less than padding each
//     row's two edges and computing them apart (three kernel calls per
//     row instead of one). A strided one reads fewer pixels than it would
//     copy (measured slower padded whole: vww_96's 48×48×16, stride 2).
func depthwise3PadAll(g graph.ConvGeom) bool {
	wp, hp := g.InW+g.PadLeft+g.PadRight, g.InH+g.PadTop+g.PadBottom
	if g.StrideW == 1 && g.OutW*g.OutC <= padAllRow && hp*wp*g.InC <= padAllInput {
		return true
	}
	lo, hi := depthwise3Interior(g.OutW, g.InW, g.StrideW, g.PadLeft, g.DilW)
	top, bottom := depthwise3Interior(g.OutH, g.InH, g.StrideH, g.PadTop, (g.KH-1)*g.DilH/2)
	if g.KH != 3 {
		// Rows: every kernel row inside.
		top = min(g.OutH, (g.PadTop+g.StrideH-1)/g.StrideH)
		bottom = top
		for bottom < g.OutH && bottom*g.StrideH-g.PadTop+(g.KH-1)*g.DilH < g.InH {
			bottom++
		}
	}
	return 4*(hi-lo)*(bottom-top) < 3*g.OutH*g.OutW
}

// padAllRow and padAllInput bound the outputs depthwise3PadAll pads
// whole for their short rows: rows of at most padAllRow values, inputs of
// at most padAllInput (256 KB of padded input per goroutine at most).
const (
	padAllRow   = 1024
	padAllInput = 64 << 10
)

// depthwise3Interior returns the output positions [lo, hi) along an axis
// of out outputs over in inputs (stride s, padding before pad) whose three
// taps, d apart, all fall inside the input.
func depthwise3Interior(out, in, s, pad, d int) (lo, hi int) {
	lo = min(out, (pad+s-1)/s)
	hi = lo
	for hi < out && hi*s-pad+2*d < in {
		hi++
	}
	return lo, hi
}

// depthwiseRows reports whether depthwiseRowsNHWC computes a depthwise
// convolution: stride 1 along rows, multiplier 1, kernels at most 16 wide.
func depthwiseRows(g graph.ConvGeom) bool {
	return g.StrideW == 1 && g.OutC == g.InC && g.KW <= 16
}

// convNHWCScratch is the scratch, in elements per goroutine, of
// prepareConvNHWC's kernel for g.
func convNHWCScratch(g graph.ConvGeom) int {
	cpg := g.InC / g.Groups
	switch {
	case cpg == 1 && g.Groups > 1:
		if depthwise3(g) {
			return depthwise3Scratch(g)
		}
		return 0
	case shiftedRows(g):
		// The padded input.
		hp, wp := g.InH+g.PadTop+g.PadBottom, g.InW+g.PadLeft+g.PadRight
		return hp * wp * g.InC
	case isPointwise(g):
		return 0
	}
	k := g.KH * g.KW * cpg
	return im2colRows(g, k) * g.OutW * k
}

// isPointwise reports whether the convolution reads its input as a matrix
// directly: 1x1 kernel, stride 1, no padding.
func isPointwise(g graph.ConvGeom) bool {
	return g.KH == 1 && g.KW == 1 && g.StrideH == 1 && g.StrideW == 1 &&
		g.PadTop == 0 && g.PadBottom == 0 && g.PadLeft == 0 && g.PadRight == 0
}

// im2colBytes is the size of the patch matrix one GEMM call reads: small
// enough to stay in the L2 cache between im2col writing it and the GEMM
// reading it.
const im2colBytes = 64 << 10

// im2colMinRows is the least GEMM rows (output pixels) one call takes
// when the output has that many channels or more: each call reads the
// whole weight matrix, so a call of a few rows against large weights (a
// 3×3 convolution at 3×3 or 6×6 pixels, K = 2304–4608) would read them
// from memory once per output row instead of once.
const im2colMinRows = 128

// im2colRows returns how many output rows of patches (each OutW pixels of
// k values) one GEMM call takes: a patch matrix of about im2colBytes, but
// at least min(C_out, im2colMinRows) pixels, so that the patches are not
// smaller than the weights they multiply.
func im2colRows(g graph.ConvGeom, k int) int {
	ow := max(1, g.OutW)
	least := (min(g.OutC, im2colMinRows) + ow - 1) / ow
	return max(1, min(g.OutH, max(least, im2colBytes/(4*k*ow))))
}

// im2colNHWC writes, for one HWC sample x, group gi and output rows [oy0,
// oy1), the matrix [(oy1-oy0)*OutW][KH*KW*Cpg] whose row holds the input
// patch of one output pixel (zeros where the patch reaches the padding).
// Without groups and dilation, one kernel row of a patch inside the input
// is one contiguous run of the input.
func im2colNHWC(g graph.ConvGeom, x []float32, gi, oy0, oy1 int, col []float32) {
	cpg := g.InC / g.Groups
	k := g.KH * g.KW * cpg
	run := g.KW * cpg
	// Output columns [lo, hi) whose taps all fall inside the input.
	lo, hi := g.OutW, g.OutW
	if g.Groups == 1 && g.DilW == 1 {
		lo = min(g.OutW, (g.PadLeft+g.StrideW-1)/g.StrideW)
		hi = lo
		for hi < g.OutW && hi*g.StrideW-g.PadLeft+g.KW <= g.InW {
			hi++
		}
	}
	for oy := oy0; oy < oy1; oy++ {
		rows := col[(oy-oy0)*g.OutW*k : (oy-oy0+1)*g.OutW*k]
		for ky := range g.KH {
			iy := oy*g.StrideH - g.PadTop + ky*g.DilH
			if iy < 0 || iy >= g.InH {
				for ox := range g.OutW {
					clear(rows[ox*k+ky*run : ox*k+(ky+1)*run])
				}
				continue
			}
			xrow := x[iy*g.InW*g.InC : (iy+1)*g.InW*g.InC]
			for ox := lo; ox < hi; ox++ {
				dst := rows[ox*k+ky*run : ox*k+(ky+1)*run]
				src := (ox*g.StrideW - g.PadLeft) * g.InC
				if run <= 32 {
					copyShort(dst, xrow[src:src+run])
					continue
				}
				copy(dst, xrow[src:src+run])
			}
			// The pixels before lo and from hi on, tap by tap.
			for _, span := range [2][2]int{{0, lo}, {hi, g.OutW}} {
				for ox := span[0]; ox < span[1]; ox++ {
					dst := rows[ox*k+ky*run : ox*k+(ky+1)*run]
					for kx := range g.KW {
						d := dst[kx*cpg : (kx+1)*cpg]
						ix := ox*g.StrideW - g.PadLeft + kx*g.DilW
						if ix < 0 || ix >= g.InW {
							clear(d)
						} else {
							copy(d, xrow[ix*g.InC+gi*cpg:ix*g.InC+(gi+1)*cpg])
						}
					}
				}
			}
		}
	}
}

// conv2DNHWC is a grouped convolution of x [N,H,W,C_in] into out
// [N,OH,OW,C_out] with per-group packed weights [KH*KW*Cpg][Opg], through
// im2col and GEMM (no im2col for pointwise convolutions), then bias, act
// and the fused ep.
func conv2DNHWC(g graph.ConvGeom, x []float32, w []*sgemm.PackedB, bias []float32, act graph.Activation, ep epilogue, out []float32, wk *work) {
	cpg, opg := g.InC/g.Groups, g.OutC/g.Groups
	m := g.OutH * g.OutW
	k := g.KH * g.KW * cpg
	inSize, outSize := g.InH*g.InW*g.InC, m*g.OutC
	// Without groups, bias, act and ep run inside the GEMM, on each tile
	// as it is finished (the same operations as finishRows).
	fused, fok := ep.withBias(bias, act)
	fuse := fok && g.Groups == 1
	gemm := func(rows int, a []float32, lda int, oc []float32) {
		if fuse {
			sgemm.SgemmPackedEpilogue(rows, a, lda, w[0], oc, g.OutC, &fused)
			return
		}
		for gi := range g.Groups {
			sgemm.SgemmPacked(false, rows, 1, a[gi*cpg:], lda, w[gi], 0, oc[gi*opg:], g.OutC)
		}
		finishRows(oc, rows, g.OutC, bias, act, ep)
	}
	// A product of few rows is shared by its columns (output channels, in
	// multiples of 16) instead: split by rows, a sample's last layers
	// (M = 9 or 36 pixels) would leave a part without a whole tile.
	threads := wk.threads()
	byCols := fuse && wk.splits(g.N*m*g.OutC*k) && m < colSplitRows*threads && g.OutC >= 32*threads
	if byCols && isPointwise(g) {
		for n := range g.N {
			xs, os := x[n*inSize:(n+1)*inSize], out[n*outSize:(n+1)*outSize]
			wk.parallelEven(m*g.OutC*k, func(part, parts int) {
				j0, j1 := split(g.OutC, parts, part, 16)
				sgemm.SgemmPackedEpilogueCols(m, xs, g.InC, w[0], j0, j1, os, g.OutC, &fused)
			})
		}
		return
	}
	if isPointwise(g) {
		// Rows of pixels split between the parts, in blocks of 12 (the
		// GEMM's tile height, so that no part has a short tile more than
		// one goroutine would).
		wk.parallel(g.N*m*g.OutC*k, func(part, parts int) {
			for n := range g.N {
				xs, os := x[n*inSize:(n+1)*inSize], out[n*outSize:(n+1)*outSize]
				r0, r1 := split(m, parts, part, 12)
				for r := r0; r < r1; r += pointwiseRows {
					r2 := min(r1, r+pointwiseRows)
					gemm(r2-r, xs[r*g.InC:], g.InC, os[r*g.OutC:r2*g.OutC])
				}
			}
		})
		return
	}
	// A few output rows at a time, so that the patches are still in cache
	// when the GEMM reads them and the output when the epilogue does; the
	// blocks of rows split between the parts.
	step := im2colRows(g, k)
	if wk.splits(g.N*m*g.OutC*k) && !byCols && g.N < threads {
		// At least one block per goroutine, each writing its own
		// patches.
		step = min(step, (g.OutH+threads-1)/threads)
	}
	blocks := (g.OutH + step - 1) / step
	if byCols {
		// The patches of a block written once (by the calling
		// goroutine), the block's columns shared.
		scratch := wk.part(0)
		for q := range g.N * blocks {
			n, oy0 := q/blocks, q%blocks*step
			xs, os := x[n*inSize:(n+1)*inSize], out[n*outSize:(n+1)*outSize]
			oy1 := min(g.OutH, oy0+step)
			rows := (oy1 - oy0) * g.OutW
			oc := os[oy0*g.OutW*g.OutC : oy1*g.OutW*g.OutC]
			im2colNHWC(g, xs, 0, oy0, oy1, scratch)
			wk.parallelEven(rows*g.OutC*k, func(part, parts int) {
				j0, j1 := split(g.OutC, parts, part, 16)
				sgemm.SgemmPackedEpilogueCols(rows, scratch, k, w[0], j0, j1, oc, g.OutC, &fused)
			})
		}
		return
	}
	wk.parallelW(g.N*m*g.OutC*k, func(part, parts, worker int) {
		scratch := wk.part(worker)
		b0, b1 := split(g.N*blocks, parts, part, 1)
		for q := b0; q < b1; q++ {
			n, oy0 := q/blocks, q%blocks*step
			xs, os := x[n*inSize:(n+1)*inSize], out[n*outSize:(n+1)*outSize]
			oy1 := min(g.OutH, oy0+step)
			rows := (oy1 - oy0) * g.OutW
			oc := os[oy0*g.OutW*g.OutC : oy1*g.OutW*g.OutC]
			if g.Groups == 1 {
				im2colNHWC(g, xs, 0, oy0, oy1, scratch)
				gemm(rows, scratch, k, oc)
				continue
			}
			for gi := range g.Groups {
				im2colNHWC(g, xs, gi, oy0, oy1, scratch)
				sgemm.SgemmPacked(false, rows, 1, scratch, k, w[gi], 0, oc[gi*opg:], g.OutC)
			}
			finishRows(oc, rows, g.OutC, bias, act, ep)
		}
	})
}

// copyCost is what a copied element weighs against a multiply-add when
// deciding whether to split the work (work.parallel).
const copyCost = 4

// padRow writes into row (Wp·c values) input row iy of the HWC sample xs
// (InW pixels of c values) between g's left and right padding, or zeros
// when iy lies in the top or bottom padding.
func padRow(row, xs []float32, iy int, g graph.ConvGeom, c int) {
	if iy < 0 || iy >= g.InH {
		clear(row)
		return
	}
	padColumns(row, xs[iy*g.InW*c:(iy+1)*g.InW*c], -g.PadLeft, g.InW+g.PadRight, c)
}

// padColumns writes into dst ((ix1-ix0)·c values) the pixels [ix0, ix1)
// of the input row src (len(src)/c pixels of c values), zeros for those
// outside it.
func padColumns(dst, src []float32, ix0, ix1, c int) {
	in0, in1 := max(ix0, 0), min(ix1, len(src)/c)
	if in0 >= in1 {
		clear(dst)
		return
	}
	clear(dst[:(in0-ix0)*c])
	if d := dst[(in0-ix0)*c : (in1-ix0)*c]; len(d) <= 64 {
		copyShort(d, src[in0*c:in1*c])
	} else {
		copy(d, src[in0*c:in1*c])
	}
	clear(dst[(in1-ix0)*c:])
}

// padOutputRows copies into scratch, zero-padded (padRow), the input rows
// of sample xs that output rows [oy0, oy1) read, and returns them with the
// first one's number py0: output row oy reads from row oy*StrideH-py0.
func padOutputRows(scratch, xs []float32, oy0, oy1 int, g graph.ConvGeom, c int) (padded []float32, py0 int) {
	wp := g.InW + g.PadLeft + g.PadRight
	py0, py1 := oy0*g.StrideH, (oy1-1)*g.StrideH+(g.KH-1)*g.DilH+1
	padded = scratch[:(py1-py0)*wp*c]
	for py := py0; py < py1; py++ {
		padRow(padded[(py-py0)*wp*c:(py-py0+1)*wp*c], xs, py-g.PadTop, g, c)
	}
	return padded, py0
}

// depthwiseCost is what a depthwise multiply-add weighs against a GEMM's
// when deciding whether to split the work (work.parallel): a vector
// multiply-add that loads both its operands, against the GEMM's
// register-blocked one.
const depthwiseCost = 4

// colSplitRows is the fewest output pixels per goroutine for which a
// convolution's GEMM is split by rows rather than by columns.
const colSplitRows = 24

// pointwiseRows is how many pixels a pointwise convolution multiplies
// before its epilogue runs over them (still in cache).
const pointwiseRows = 240

// copyShort is copy(dst, src) for runs too short for a memmove call to
// pay: four floats at a time, then the rest.
func copyShort(dst, src []float32) {
	src = src[:len(dst)]
	for len(dst) >= 4 {
		*(*[4]float32)(dst) = *(*[4]float32)(src)
		dst, src = dst[4:], src[4:]
	}
	for i := range dst {
		dst[i] = src[i]
	}
}

// shiftedRows reports whether conv2DShiftedNHWC computes the convolution
// (of NHWC data): no groups, the same stride on both axes, no horizontal
// dilation, a kernel larger than 1x1, and kernel rows (runs) of KW·C
// values short enough to pay: at most shiftedMaxRun, and at most
// shiftedMaxStridedRun when strided. Otherwise im2col.
func shiftedRows(g graph.ConvGeom) bool {
	run := g.KW * g.InC
	return g.Groups == 1 && g.StrideH == g.StrideW &&
		g.DilW == 1 && g.KH*g.KW > 1 &&
		g.PadTop >= 0 && g.PadBottom >= 0 && g.PadLeft >= 0 && g.PadRight >= 0 &&
		run <= shiftedMaxRun && (g.StrideW == 1 || run <= shiftedMaxStridedRun)
}

// shiftedMaxRun and shiftedMaxStridedRun are the longest kernel rows
// (KW·C values) conv2DShiftedNHWC takes, measured per layer against im2col
// (one goroutine and two). ResNet-8's 3×3 convolutions of 16–64 channels
// (runs of 48–192, 8×8 to 32×32 pixels, strided ones of 48 and 96) and
// torchvision resnet18's 7×7 first layer (21) are faster without the im2col
// copy (ResNet-8 as a whole 285–291 → 262–266 µs on one goroutine, 167–175
// → 148–150 on two); resnet18's 3×3 convolutions of 128–512 channels at
// 2×2 to 8×8 pixels (runs of 384–1536), where the weights are most of the
// bytes, and its strided one of 64 channels (192) are slower by 10–60%.
const (
	shiftedMaxRun        = 320 // sgemm's runsBlock: a K block of whole runs
	shiftedMaxStridedRun = 128
)

// conv2DShiftedNHWC is a convolution without im2col: each part copies the
// input rows its output rows read into a zero-padded [rows][Wp][C] buffer,
// in which the KW*C values kernel row ky reads for output pixel (oy, ox)
// start at padded pixel (oy*S + ky*DilH)*Wp + ox*S (stride S). That is
// sgemm.SgemmPackedRuns's layout, read in place: a group per output row
// (S*Wp pixels apart), a row per output pixel (S pixels apart), a run per
// kernel row (DilH*Wp pixels apart), one accumulation over all
// KH*KW*C terms in the order of im2col's, written with the epilogue
// straight into the output rows.
func conv2DShiftedNHWC(g graph.ConvGeom, x []float32, pb *sgemm.PackedB, bias []float32, act graph.Activation, ep epilogue, out []float32, wk *work) {
	c := g.InC
	hp, wp := g.InH+g.PadTop+g.PadBottom, g.InW+g.PadLeft+g.PadRight
	inSize, outSize := g.InH*g.InW*c, g.OutH*g.OutW*g.OutC
	e, fast := ep.withBias(bias, act)
	var fused *sgemm.Epilogue
	if fast {
		fused = &e
	}
	rowLen := g.OutW * g.OutC
	for n := range g.N {
		xs, os := x[n*inSize:(n+1)*inSize], out[n*outSize:(n+1)*outSize]
		// Output rows split between the parts, one per goroutine. Each
		// part pads the input rows its output rows read into its
		// goroutine's scratch (the rows between two parts copied by
		// both): one job, and each goroutine reads only what it wrote.
		wk.parallelEvenW(g.OutH*g.OutW*g.OutC*g.KH*g.KW*c+hp*wp*c*copyCost, func(part, parts, worker int) {
			oy0, oy1 := split(g.OutH, parts, part, 1)
			if oy0 >= oy1 {
				return
			}
			padded, _ := padOutputRows(wk.part(worker), xs, oy0, oy1, g, c)
			dst := os[oy0*rowLen : oy1*rowLen]
			sgemm.SgemmPackedRuns(padded, sgemm.Runs{
				Groups: oy1 - oy0, Rows: g.OutW,
				GroupStride: g.StrideH * wp * c, RowStride: g.StrideW * c, RunStride: g.DilH * wp * c,
			}, pb, dst, g.OutC, fused)
			if !fast {
				biasActRowsGo(dst, (oy1-oy0)*g.OutW, g.OutC, bias, act)
				ep.apply(dst)
			}
		})
	}
}

// depthwiseNHWC is a depthwise convolution (groups = C_in, C_out = C_in *
// multiplier) of x [N,H,W,C_in] with taps [KH*KW][C_out]. Each output pixel
// starts from the bias and adds the taps of one kernel row at a time (three
// at once for the interior of 3-wide kernels), then the activation.
func depthwiseNHWC(g graph.ConvGeom, x, taps, bias []float32, act graph.Activation, out []float32, wk *work) {
	mult := g.OutC / g.InC
	inSize, outSize := g.InH*g.InW*g.InC, g.OutH*g.OutW*g.OutC
	c := g.OutC
	wk.parallel(g.N*g.OutH*g.OutW*c*g.KH*g.KW*depthwiseCost, func(part, parts int) {
		q0, q1 := split(g.N*g.OutH, parts, part, 1)
		for q := q0; q < q1; q++ {
			n, oy := q/g.OutH, q%g.OutH
			xs, os := x[n*inSize:(n+1)*inSize], out[n*outSize:(n+1)*outSize]
			for ox := range g.OutW {
				o := os[(oy*g.OutW+ox)*c : (oy*g.OutW+ox+1)*c]
				if bias != nil {
					copy(o, bias)
				} else {
					clear(o)
				}
				ix0 := ox*g.StrideW - g.PadLeft
				for ky := range g.KH {
					iy := oy*g.StrideH - g.PadTop + ky*g.DilH
					if iy < 0 || iy >= g.InH {
						continue
					}
					xrow := xs[iy*g.InW*g.InC : (iy+1)*g.InW*g.InC]
					trow := taps[ky*g.KW*c : (ky+1)*g.KW*c]
					if mult == 1 && g.KW == 3 && g.DilW == 1 && ix0 >= 0 && ix0+2 < g.InW {
						x0 := xrow[ix0*c : (ix0+1)*c]
						x1 := xrow[(ix0+1)*c : (ix0+2)*c]
						x2 := xrow[(ix0+2)*c : (ix0+3)*c]
						w0, w1, w2 := trow[:c], trow[c:2*c], trow[2*c:3*c]
						x0, x1, x2 = x0[:len(o)], x1[:len(o)], x2[:len(o)]
						w0, w1, w2 = w0[:len(o)], w1[:len(o)], w2[:len(o)]
						for j := range o {
							o[j] += x0[j]*w0[j] + x1[j]*w1[j] + x2[j]*w2[j]
						}
						continue
					}
					for kx := range g.KW {
						ix := ix0 + kx*g.DilW
						if ix < 0 || ix >= g.InW {
							continue
						}
						xin := xrow[ix*g.InC : (ix+1)*g.InC]
						wk := trow[kx*c : (kx+1)*c]
						if mult == 1 {
							wk = wk[:len(o)]
							xin = xin[:len(o)]
							for j := range o {
								o[j] += xin[j] * wk[j]
							}
							continue
						}
						for ci, xv := range xin {
							for m := range mult {
								o[ci*mult+m] += xv * wk[ci*mult+m]
							}
						}
					}
				}
				applyAct(o, act)
			}
		}
	})
}

// depthwise3NHWC is depthwiseNHWC for multiplier 1 and kernels 3 wide and
// at most 3 tall, any stride and dilation, through sgemm.Depthwise3, one
// output row at a time, act and ep applied by Depthwise3 too (pixel by
// pixel as it computes them when they are an activation, or a BatchNorm
// and its activation) or else by finishRows on the row while it is in
// cache. The pixels whose taps all fall inside the input are read from it
// in place; the pixels at either end of a row whose
// taps reach the padding are computed from a zero-padded copy of the input
// columns they read (depthwise3Edge), and an output row whose kernel rows
// reach the padding from a zero-padded copy of those rows (in the part's
// scratch, depthwise3Scratch); a small output, most of whose pixels reach
// the padding, is computed from a padded copy of the whole input
// (depthwise3PadAll). Every pixel so sums all its taps, zeros for the
// padding, as after an explicit zero Pad, in the same order whichever way
// it is read. The output rows are split between the team's goroutines.
func depthwise3NHWC(g graph.ConvGeom, x, taps, bias []float32, act graph.Activation, ep epilogue, out []float32, wk *work) {
	c := g.OutC
	rowLen := g.OutW * c
	inSize, outSize := g.InH*g.InW*c, g.OutH*rowLen
	wp := g.InW + g.PadLeft + g.PadRight
	step, dx := g.StrideW*c, g.DilW*c
	taps = taps[:g.KH*3*c]
	post, fused := depthwise3Post(act, ep)
	finish := func(orow []float32) {
		if !fused {
			finishRows(orow, g.OutW, c, nil, act, ep)
		}
	}
	// Output columns [lo, hi) whose three taps are all inside a row.
	lo, hi := depthwise3Interior(g.OutW, g.InW, g.StrideW, g.PadLeft, g.DilW)
	if depthwise3PadAll(g) {
		// Each part pads the input rows its output rows read into its
		// own scratch (a halo row or two copied twice): one job, and
		// each goroutine reads only what it wrote. One part per
		// goroutine, so that the halos stay few.
		for n := range g.N {
			xs, os := x[n*inSize:(n+1)*inSize], out[n*outSize:(n+1)*outSize]
			wk.parallelEvenW(g.OutH*g.OutW*c*g.KH*3*depthwiseCost, func(part, parts, worker int) {
				oy0, oy1 := split(g.OutH, parts, part, 1)
				if oy0 >= oy1 {
					return
				}
				padded, py0 := padOutputRows(wk.part(worker), xs, oy0, oy1, g, c)
				for oy := oy0; oy < oy1; oy++ {
					orow := os[oy*rowLen : (oy+1)*rowLen]
					sgemm.Depthwise3(orow, padded[(oy*g.StrideH-py0)*wp*c:], g.DilH*wp*c, step, dx, taps, bias, g.KH, g.OutW, c, post)
					finish(orow)
				}
			})
		}
		return
	}
	for n := range g.N {
		xs, os := x[n*inSize:(n+1)*inSize], out[n*outSize:(n+1)*outSize]
		wk.parallelW(g.OutH*g.OutW*c*g.KH*3*depthwiseCost, func(part, parts, worker int) {
			scratch := wk.part(worker)
			oy0, oy1 := split(g.OutH, parts, part, 1)
			for oy := oy0; oy < oy1; oy++ {
				orow := os[oy*rowLen : (oy+1)*rowLen]
				iy0 := oy*g.StrideH - g.PadTop
				if iy0 < 0 || iy0+(g.KH-1)*g.DilH >= g.InH {
					// Kernel rows in the padding: the KH rows, padded.
					rows := scratch[:g.KH*wp*c]
					for r := range g.KH {
						padRow(rows[r*wp*c:(r+1)*wp*c], xs, iy0+r*g.DilH, g, c)
					}
					sgemm.Depthwise3(orow, rows, wp*c, step, dx, taps, bias, g.KH, g.OutW, c, post)
					finish(orow)
					continue
				}
				ldr := g.DilH * g.InW * c
				base := iy0 * g.InW * c
				if lo < hi {
					sgemm.Depthwise3(orow[lo*c:], xs[base+(lo*g.StrideW-g.PadLeft)*c:], ldr, step, dx, taps, bias, g.KH, hi-lo, c, post)
				}
				for _, span := range [2][2]int{{0, lo}, {hi, g.OutW}} {
					if span[0] < span[1] {
						edge := depthwise3Edge(scratch, xs[base:], ldr, g, span[0], span[1])
						sgemm.Depthwise3(orow[span[0]*c:], edge, len(edge)/g.KH, step, dx, taps, bias, g.KH, span[1]-span[0], c, post)
					}
				}
				finish(orow)
			}
		})
	}
}

// depthwise3Post returns act and ep as sgemm.Depthwise3's post-processing,
// or fused false when act has no sgemm form (then finishRows applies
// both, and post is nil).
func depthwise3Post(act graph.Activation, ep epilogue) (post *sgemm.Epilogue, fused bool) {
	e, ok := ep.withBias(nil, act)
	if !ok {
		return nil, false
	}
	if e.Empty() {
		return nil, true
	}
	return &e, true
}

// depthwise3Edge copies into scratch, zero-padded, the input columns that
// output pixels [ox0, ox1) of one output row read from its KH kernel rows
// (the first at xs[0], ldr apart; every one inside the input), one kernel
// row after the other, and returns them: the window of those pixels as
// Depthwise3 reads it, with the first pixel's first tap at the start.
func depthwise3Edge(scratch, xs []float32, ldr int, g graph.ConvGeom, ox0, ox1 int) []float32 {
	c := g.InC
	ix0 := ox0*g.StrideW - g.PadLeft
	ix1 := (ox1-1)*g.StrideW - g.PadLeft + 2*g.DilW + 1 // exclusive
	w := (ix1 - ix0) * c
	edge := scratch[:g.KH*w]
	for r := range g.KH {
		padColumns(edge[r*w:(r+1)*w], xs[r*ldr:r*ldr+g.InW*c], ix0, ix1, c)
	}
	return edge
}

// repeatTaps returns, for each of n rows of c values, the row repeated w
// times: the weights of one tap for a whole output row of w pixels.
func repeatTaps(taps []float32, n, c, w int) []float32 {
	out := make([]float32, n*w*c)
	for t := range n {
		for x := range w {
			copy(out[(t*w+x)*c:(t*w+x+1)*c], taps[t*c:(t+1)*c])
		}
	}
	return out
}

// depthwiseRowsNHWC is depthwiseNHWC for stride-1 columns and multiplier 1,
// one output row at a time: a tap's contributions to a whole row are one
// long multiply-add of a contiguous input run by the tap's weights repeated
// along the row (rows: [KH*KW][OutW*C], biasRow [OutW*C] or nil). For
// 3-wide kernels the columns all three taps reach are done in one pass.
func depthwiseRowsNHWC(g graph.ConvGeom, x, rows, biasRow []float32, act graph.Activation, out []float32, wk *work) {
	c := g.OutC
	rowLen := g.OutW * c
	inSize, outSize := g.InH*g.InW*g.InC, g.OutH*rowLen
	wk.parallel(g.N*g.OutH*g.OutW*c*g.KH*g.KW*depthwiseCost, func(part, parts int) {
		var lo, hi [16]int
		q0, q1 := split(g.N*g.OutH, parts, part, 1)
		for q := q0; q < q1; q++ {
			n, oy := q/g.OutH, q%g.OutH
			xs, os := x[n*inSize:(n+1)*inSize], out[n*outSize:(n+1)*outSize]
			orow := os[oy*rowLen : (oy+1)*rowLen]
			if biasRow != nil {
				copy(orow, biasRow)
			} else {
				clear(orow)
			}
			for ky := range g.KH {
				iy := oy*g.StrideH - g.PadTop + ky*g.DilH
				if iy < 0 || iy >= g.InH {
					continue
				}
				xrow := xs[iy*g.InW*c : (iy+1)*g.InW*c]
				wrow := rows[ky*g.KW*rowLen : (ky+1)*g.KW*rowLen]
				// Output columns [lo, hi) that tap kx reaches inside the input.
				L, H := 0, g.OutW
				for kx := range min(g.KW, len(lo)) {
					off := kx*g.DilW - g.PadLeft
					lo[kx], hi[kx] = max(0, -off), min(g.OutW, g.InW-off)
					L, H = max(L, lo[kx]), min(H, hi[kx])
				}
				tap := func(kx, a, b int) {
					if a >= b {
						return
					}
					off := kx*g.DilW - g.PadLeft
					dst := orow[a*c : b*c]
					src := xrow[(a+off)*c : (b+off)*c]
					w := wrow[kx*rowLen+a*c : kx*rowLen+b*c]
					src, w = src[:len(dst)], w[:len(dst)]
					for i := range dst {
						dst[i] += src[i] * w[i]
					}
				}
				if g.KW == 3 && L < H {
					o0, o1, o2 := -g.PadLeft, g.DilW-g.PadLeft, 2*g.DilW-g.PadLeft
					dst := orow[L*c : H*c]
					s0 := xrow[(L+o0)*c : (H+o0)*c][:len(dst)]
					s1 := xrow[(L+o1)*c : (H+o1)*c][:len(dst)]
					s2 := xrow[(L+o2)*c : (H+o2)*c][:len(dst)]
					w0 := wrow[L*c : H*c][:len(dst)]
					w1 := wrow[rowLen+L*c : rowLen+H*c][:len(dst)]
					w2 := wrow[2*rowLen+L*c : 2*rowLen+H*c][:len(dst)]
					for i := range dst {
						dst[i] += s0[i]*w0[i] + s1[i]*w1[i] + s2[i]*w2[i]
					}
					for kx := range 3 {
						tap(kx, lo[kx], min(hi[kx], L))
						tap(kx, max(lo[kx], H), hi[kx])
					}
					continue
				}
				for kx := range g.KW {
					tap(kx, lo[kx], hi[kx])
				}
			}
			applyAct(orow, act)
		}
	})
}

func prepareConvTranspose2D(c *nodeCtx, op *graph.ConvTranspose2D) (prepared, error) {
	w := c.constant(1)
	if w == nil {
		return prepared{}, fmt.Errorf("weight %q is not a constant", c.n.Inputs[1].Name)
	}
	g, err := op.Geom(c.shape(0), c.shape(1))
	if err != nil {
		return prepared{}, err
	}
	bias := c.constant(2)
	if len(c.n.Inputs) == 3 && bias == nil {
		return prepared{}, fmt.Errorf("bias %q is not a constant", c.n.Inputs[2].Name)
	}
	// Canonical form: [C_in][KH][KW][Opg] ("IHWO"), i.e. per group the GEMM
	// operand [Cpg][KH*KW*Opg].
	wt := relayoutKernel(w, c.shape(1), op.WeightLayout, graph.IHWO)
	cpg, opg := g.InC/g.Groups, g.OutC/g.Groups
	cols := g.InH * g.InW * g.KH * g.KW * opg
	scratch := cols
	nchw := g.Layout == graph.NCHW
	if nchw {
		scratch += g.InH*g.InW*g.InC + g.OutH*g.OutW*g.OutC
	}
	act := op.Activation
	_ = cpg
	return prepared{scratch: scratch, run: func(ins, outs [][]float32, wk *work) error {
		convTranspose2D(g, ins[0], wt, bias, act, outs[0], wk.part(0))
		return nil
	}}, nil
}

// convTranspose2D is a transposed convolution with weight [C_in][KH][KW][Opg].
// NHWC data is computed directly: per group, the GEMM X[pixels][Cpg] x
// W[Cpg][KH*KW*Opg] gives every input pixel's contribution, which is added
// into the output window it covers. NCHW data is transposed to NHWC and back
// in scratch.
func convTranspose2D(g graph.ConvGeom, x, w, bias []float32, act graph.Activation, out, scratch []float32) {
	cpg, opg := g.InC/g.Groups, g.OutC/g.Groups
	pix := g.InH * g.InW
	kcols := g.KH * g.KW * opg
	col := scratch[:pix*kcols]
	inSize, outSize := pix*g.InC, g.OutH*g.OutW*g.OutC
	for n := range g.N {
		xs, os := x[n*inSize:(n+1)*inSize], out[n*outSize:(n+1)*outSize]
		if g.Layout == graph.NCHW {
			t := scratch[pix*kcols : pix*kcols+inSize]
			transposeCHW(xs, t, g.InC, pix)
			xs = t
			os = scratch[pix*kcols+inSize : pix*kcols+inSize+outSize]
		}
		clear(os)
		for gi := range g.Groups {
			sgemm.Sgemm(false, false, pix, kcols, cpg, 1, xs[gi*cpg:], g.InC, w[gi*cpg*kcols:], kcols, 0, col, kcols)
			for iy := range g.InH {
				for ix := range g.InW {
					src := col[(iy*g.InW+ix)*kcols:]
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
							d := os[(oy*g.OutW+ox)*g.OutC+gi*opg : (oy*g.OutW+ox)*g.OutC+(gi+1)*opg]
							s := src[(ky*g.KW+kx)*opg : (ky*g.KW+kx+1)*opg]
							for j := range d {
								d[j] += s[j]
							}
						}
					}
				}
			}
		}
		biasActRows(os, g.OutH*g.OutW, g.OutC, bias, act)
		if g.Layout == graph.NCHW {
			transposeCHW(os, out[n*outSize:(n+1)*outSize], g.OutH*g.OutW, g.OutC)
		}
	}
}

// transposeCHW transposes a rows x cols matrix: src [rows][cols] into dst
// [cols][rows] (CHW to HWC with rows = C, cols = H*W, and back).
func transposeCHW(src, dst []float32, rows, cols int) {
	for r := range rows {
		s := src[r*cols : (r+1)*cols]
		for c, v := range s {
			dst[c*rows+r] = v
		}
	}
}
