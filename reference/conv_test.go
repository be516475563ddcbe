package reference

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

func TestConv2DGolden(t *testing.T) {
	// 1x3x3x1 input, 2x2 kernel, 1 output channel, bias 0.5.
	x := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}
	w := tensor.FromFloat32([]int{2, 2, 1, 1}, []float32{1, 0, 0, -1}) // HWIO
	bias := tensor.FromFloat32([]int{1}, []float32{0.5})
	tests := []struct {
		name   string
		op     *graph.Conv2D
		golden []float32
		shape  []int
	}{
		{"valid", &graph.Conv2D{Layout: graph.NHWC, WeightLayout: graph.HWIO},
			// x[i,j]-x[i+1,j+1] = -4 everywhere, + 0.5
			[]float32{-3.5, -3.5, -3.5, -3.5}, []int{1, 2, 2, 1}},
		{"same", &graph.Conv2D{Padding: graph.Same(), Layout: graph.NHWC, WeightLayout: graph.HWIO},
			// bottom/right pad: last row/col see x - 0.
			[]float32{-3.5, -3.5, 3.5, -3.5, -3.5, 6.5, 7.5, 8.5, 9.5}, []int{1, 3, 3, 1}},
		{"stride 2 same", &graph.Conv2D{Strides: [2]int{2, 2}, Padding: graph.Same(), Layout: graph.NHWC, WeightLayout: graph.HWIO},
			[]float32{-3.5, 3.5, 7.5, 9.5}, []int{1, 2, 2, 1}},
		{"relu fused", &graph.Conv2D{Layout: graph.NHWC, WeightLayout: graph.HWIO, Activation: graph.ActRelu},
			[]float32{0, 0, 0, 0}, []int{1, 2, 2, 1}},
		{"explicit pad top-left", &graph.Conv2D{Padding: graph.Explicit(1, 0, 1, 0), Layout: graph.NHWC, WeightLayout: graph.HWIO},
			// out[i,j] = x[i-1,j-1] - x[i,j]
			[]float32{-0.5, -1.5, -2.5, -3.5, -3.5, -3.5, -6.5, -3.5, -3.5}, []int{1, 3, 3, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, shape := runOne(t, tc.op, []int{1, 3, 3, 1}, graph.NHWC, x, w, bias)
			assert.Equal(t, tc.shape, shape)
			assert.Equal(t, tc.golden, got)
		})
	}
}

// naiveConv is a float64 direct convolution of NCHW x with an OIHW weight,
// the oracle for the fast kernels.
func naiveConv(g graph.ConvGeom, x, w, bias []float32) []float32 {
	cpg, opg := g.InC/g.Groups, g.OutC/g.Groups
	out := make([]float32, g.N*g.OutC*g.OutH*g.OutW)
	for n := range g.N {
		for o := range g.OutC {
			gi := o / opg
			for oy := range g.OutH {
				for ox := range g.OutW {
					acc := 0.0
					if bias != nil {
						acc = float64(bias[o])
					}
					for ci := range cpg {
						c := gi*cpg + ci
						for ky := range g.KH {
							iy := oy*g.StrideH - g.PadTop + ky*g.DilH
							for kx := range g.KW {
								ix := ox*g.StrideW - g.PadLeft + kx*g.DilW
								if iy < 0 || iy >= g.InH || ix < 0 || ix >= g.InW {
									continue
								}
								acc += float64(x[((n*g.InC+c)*g.InH+iy)*g.InW+ix]) * float64(w[((o*cpg+ci)*g.KH+ky)*g.KW+kx])
							}
						}
					}
					out[((n*g.OutC+o)*g.OutH+oy)*g.OutW+ox] = float32(acc)
				}
			}
		}
	}
	return out
}

type convCase struct {
	n, c, h, w, o, kh, kw, groups int
	strides, dil                  [2]int
	pad                           graph.Padding
}

var convCases = []convCase{
	{1, 3, 9, 9, 8, 3, 3, 1, [2]int{2, 2}, [2]int{1, 1}, graph.Same()},
	{2, 4, 7, 6, 5, 3, 2, 1, [2]int{1, 1}, [2]int{1, 1}, graph.Valid()},
	{1, 8, 6, 6, 16, 1, 1, 1, [2]int{1, 1}, [2]int{1, 1}, graph.Valid()},
	{1, 8, 6, 6, 8, 1, 1, 1, [2]int{2, 2}, [2]int{1, 1}, graph.Valid()},
	{1, 8, 10, 10, 8, 3, 3, 8, [2]int{1, 1}, [2]int{1, 1}, graph.Same()},
	{2, 8, 10, 11, 8, 3, 3, 8, [2]int{2, 2}, [2]int{1, 1}, graph.Same()},
	{1, 4, 8, 8, 12, 3, 3, 4, [2]int{1, 2}, [2]int{1, 1}, graph.Explicit(1, 1, 1, 1)},
	{1, 6, 9, 9, 4, 3, 3, 2, [2]int{1, 1}, [2]int{2, 2}, graph.Explicit(2, 1, 0, 2)},
	{1, 3, 12, 12, 4, 5, 5, 1, [2]int{3, 2}, [2]int{1, 2}, graph.Same()},
	{1, 6, 9, 9, 6, 5, 5, 6, [2]int{1, 1}, [2]int{2, 2}, graph.Same()},
	{2, 4, 7, 7, 4, 3, 3, 4, [2]int{2, 1}, [2]int{1, 1}, graph.Explicit(0, 2, 2, 0)},
	{1, 5, 4, 4, 5, 3, 3, 5, [2]int{1, 1}, [2]int{1, 1}, graph.Valid()},
	{1, 5, 3, 2, 5, 3, 3, 5, [2]int{1, 1}, [2]int{1, 1}, graph.Same()},
	// Depthwise 3-wide kernels with 8k channels (the assembly rows): short
	// kernels, dilation, stride 3, padding wider than the kernel.
	{1, 16, 7, 9, 16, 2, 3, 16, [2]int{2, 2}, [2]int{1, 2}, graph.Same()},
	{2, 8, 5, 4, 8, 1, 3, 8, [2]int{1, 3}, [2]int{1, 1}, graph.Explicit(0, 0, 2, 1)},
	{1, 8, 2, 2, 8, 3, 3, 8, [2]int{1, 1}, [2]int{1, 1}, graph.Explicit(3, 3, 3, 3)},
	{1, 24, 12, 12, 24, 3, 3, 24, [2]int{2, 2}, [2]int{1, 1}, graph.Same()},
	{1, 32, 6, 6, 32, 3, 3, 32, [2]int{1, 1}, [2]int{2, 1}, graph.Explicit(1, 2, 0, 1)},
	// Patch matrices larger than one im2col chunk (the last chunk shorter),
	// with and without groups (kernel rows of 3·112 values: im2col, not
	// shifted rows).
	{1, 112, 23, 40, 16, 3, 3, 1, [2]int{1, 1}, [2]int{1, 1}, graph.Same()},
	{2, 32, 21, 30, 32, 3, 3, 2, [2]int{1, 1}, [2]int{1, 1}, graph.Same()},
	// Stride-1 convolutions by shifted kernel rows: vertical dilation,
	// asymmetric padding, 1-row and even kernels, no padding; rows of 30
	// pixels (6-row tiles), 7 (6+1, the last packed) and 8 (4+4).
	{2, 8, 7, 9, 12, 3, 3, 1, [2]int{1, 1}, [2]int{2, 1}, graph.Explicit(2, 1, 0, 2)},
	{1, 8, 5, 6, 8, 1, 3, 1, [2]int{1, 1}, [2]int{1, 1}, graph.Valid()},
	{1, 12, 6, 5, 20, 2, 2, 1, [2]int{1, 1}, [2]int{1, 1}, graph.Same()},
	{2, 16, 5, 30, 16, 3, 3, 1, [2]int{1, 1}, [2]int{1, 1}, graph.Same()},
	{1, 24, 7, 7, 40, 3, 3, 1, [2]int{1, 1}, [2]int{1, 1}, graph.Same()},
	{1, 32, 8, 8, 64, 3, 3, 1, [2]int{1, 1}, [2]int{1, 1}, graph.Same()},
	// Strided shifted rows (kernel rows of at most 128 values): a
	// 3-channel first layer, odd and even sizes, 32 channels.
	{1, 3, 17, 17, 8, 3, 3, 1, [2]int{2, 2}, [2]int{1, 1}, graph.Same()},
	{2, 3, 12, 13, 16, 3, 3, 1, [2]int{2, 2}, [2]int{1, 1}, graph.Same()},
	{1, 4, 11, 10, 5, 3, 2, 1, [2]int{3, 3}, [2]int{2, 1}, graph.Explicit(1, 0, 2, 1)},
	{1, 32, 16, 16, 64, 3, 3, 1, [2]int{2, 2}, [2]int{1, 1}, graph.Same()},
}

// TestConv2DLayouts checks every kernel path (im2col, pointwise, grouped,
// depthwise, multiplier) in NHWC and NCHW, with each weight layout, against
// the float64 oracle: the same weights transposed give the same numbers.
func TestConv2DLayouts(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i, cc := range convCases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			xN := randData(rng, cc.n*cc.c*cc.h*cc.w)
			xShape := []int{cc.n, cc.c, cc.h, cc.w}
			wShape := []int{cc.o, cc.c / cc.groups, cc.kh, cc.kw}
			wO := randData(rng, tensor.NumElements(wShape))
			bias := randData(rng, cc.o)
			op := graph.Conv2D{Strides: cc.strides, Dilations: cc.dil, Padding: cc.pad, Groups: cc.groups}
			geomOp := op
			geomOp.Layout, geomOp.WeightLayout = graph.NCHW, graph.OIHW
			g, err := geomOp.Geom(xShape, wShape)
			require.NoError(t, err)
			want := naiveConv(g, xN, wO, bias)
			for _, wl := range []graph.KernelLayout{graph.OIHW, graph.HWIO, graph.OHWI} {
				wt := relayoutKernel(wO, wShape, graph.OIHW, wl)
				wts := wl.Shape(cc.o, cc.c/cc.groups, cc.kh, cc.kw)
				// NCHW
				o := op
				o.Layout, o.WeightLayout = graph.NCHW, wl
				got, _ := runOne(t, &o, xShape, graph.NCHW, xN, tensor.FromFloat32(wts, wt), tensor.FromFloat32([]int{cc.o}, bias))
				assertClose(t, want, got, 1e-5, "NCHW", wl)
				// NHWC: transpose input, compare transposed output.
				xH, xhs := transposeData(xN, xShape, graph.PermNCHWToNHWC)
				o.Layout = graph.NHWC
				gotH, ohs := runOne(t, &o, xhs, graph.NHWC, xH, tensor.FromFloat32(wts, wt), tensor.FromFloat32([]int{cc.o}, bias))
				back, _ := transposeData(gotH, ohs, graph.PermNHWCToNCHW)
				assertClose(t, want, back, 1e-5, "NHWC", wl)
			}
		})
	}
}

func TestDepthwiseTFLiteLayout(t *testing.T) {
	// TFLite's [1, KH, KW, C*mult] filter (IHWO) equals Keras's reshaped kernel.
	rng := rand.New(rand.NewPCG(3, 4))
	c, mult := 3, 2
	x := randData(rng, 1*5*5*c)
	w := randData(rng, 3*3*c*mult) // [KH, KW, C, mult] (Keras) == [1, KH, KW, C*mult]
	op1 := &graph.Conv2D{Groups: c, Padding: graph.Same(), Layout: graph.NHWC, WeightLayout: graph.HWIO}
	got1, _ := runOne(t, op1, []int{1, 5, 5, c}, graph.NHWC, x, tensor.FromFloat32([]int{3, 3, 1, c * mult}, w))
	op2 := &graph.Conv2D{Groups: c, Padding: graph.Same(), Layout: graph.NHWC, WeightLayout: graph.IHWO}
	got2, _ := runOne(t, op2, []int{1, 5, 5, c}, graph.NHWC, x, tensor.FromFloat32([]int{1, 3, 3, c * mult}, w))
	assert.Equal(t, got1, got2)
}

// naiveConvTranspose is a float64 scatter oracle for NCHW input with a
// PyTorch IOHW weight [C_in][C_out/groups][KH][KW].
func naiveConvTranspose(g graph.ConvGeom, x, w, bias []float32) []float32 {
	cpg, opg := g.InC/g.Groups, g.OutC/g.Groups
	acc := make([]float64, g.N*g.OutC*g.OutH*g.OutW)
	for n := range g.N {
		for c := range g.InC {
			gi := c / cpg
			for iy := range g.InH {
				for ix := range g.InW {
					xv := float64(x[((n*g.InC+c)*g.InH+iy)*g.InW+ix])
					for oj := range opg {
						for ky := range g.KH {
							oy := iy*g.StrideH - g.PadTop + ky*g.DilH
							for kx := range g.KW {
								ox := ix*g.StrideW - g.PadLeft + kx*g.DilW
								if oy < 0 || oy >= g.OutH || ox < 0 || ox >= g.OutW {
									continue
								}
								o := gi*opg + oj
								acc[((n*g.OutC+o)*g.OutH+oy)*g.OutW+ox] += xv * float64(w[((c*opg+oj)*g.KH+ky)*g.KW+kx])
							}
						}
					}
				}
			}
		}
	}
	out := make([]float32, len(acc))
	for i := range acc {
		out[i] = float32(acc[i] + float64(bias[(i/(g.OutH*g.OutW))%g.OutC]))
	}
	return out
}

func TestConvTranspose2DLayouts(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	cases := []struct {
		c, h, w, o, k, groups int
		strides               [2]int
		pad                   graph.Padding
		outPad                [2]int
	}{
		{3, 4, 5, 6, 3, 1, [2]int{2, 2}, graph.Same(), [2]int{}},
		{3, 4, 4, 2, 3, 1, [2]int{2, 2}, graph.Valid(), [2]int{}},
		{4, 3, 3, 4, 3, 2, [2]int{2, 2}, graph.Explicit(1, 1, 1, 1), [2]int{1, 1}},
		{2, 3, 3, 2, 2, 1, [2]int{3, 3}, graph.Valid(), [2]int{}}, // k < stride: gaps
	}
	for i, cc := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			xShape := []int{1, cc.c, cc.h, cc.w}
			wShape := []int{cc.c, cc.o / cc.groups, cc.k, cc.k} // IOHW
			x := randData(rng, tensor.NumElements(xShape))
			w := randData(rng, tensor.NumElements(wShape))
			bias := randData(rng, cc.o)
			op := graph.ConvTranspose2D{Strides: cc.strides, Padding: cc.pad, OutputPadding: cc.outPad, Groups: cc.groups, Layout: graph.NCHW, WeightLayout: graph.IOHW}
			g, err := op.Geom(xShape, wShape)
			require.NoError(t, err)
			want := naiveConvTranspose(g, x, w, bias)
			got, _ := runOne(t, &op, xShape, graph.NCHW, x, tensor.FromFloat32(wShape, w), tensor.FromFloat32([]int{cc.o}, bias))
			assertClose(t, want, got, 1e-5, "NCHW IOHW")
			// NHWC with the Keras HWOI kernel.
			xH, xhs := transposeData(x, xShape, graph.PermNCHWToNHWC)
			wk := relayoutKernel(w, wShape, graph.IOHW, graph.HWOI)
			op.Layout, op.WeightLayout = graph.NHWC, graph.HWOI
			gotH, ohs := runOne(t, &op, xhs, graph.NHWC, xH, tensor.FromFloat32(graph.HWOI.Shape(cc.o/cc.groups, cc.c, cc.k, cc.k), wk), tensor.FromFloat32([]int{cc.o}, bias))
			back, _ := transposeData(gotH, ohs, graph.PermNHWCToNCHW)
			assertClose(t, want, back, 1e-5, "NHWC HWOI")
		})
	}
}
