package sgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// specialValues are inputs whose activation results depend on the bits:
// signed zeros, NaNs of both signs, infinities and values around 6.
var specialValues = []float32{
	0, float32(math.Copysign(0, -1)), float32(math.NaN()), -float32(math.NaN()),
	float32(math.Inf(1)), float32(math.Inf(-1)), 6, 5.999999, 6.000001, -1e-30,
}

// epilogueInput returns rows×cols values, random with the special values
// sprinkled in.
func epilogueInput(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		if rng.IntN(8) == 0 {
			x[i] = specialValues[rng.IntN(len(specialValues))]
			continue
		}
		x[i] = float32(rng.NormFloat64() * 4)
	}
	return x
}

func randVec(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

// TestEpilogueMatchesElementwise checks every combination of steps, on
// widths with and without a tail past the last 8 columns, against the
// element-wise Go definition, bit for bit (NaN payloads aside), in place
// and out of place.
func TestEpilogueMatchesElementwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	acts := []Act{ActNone, ActRelu, ActRelu6}
	for _, cols := range []int{1, 7, 8, 13, 16, 24, 64, 130} {
		for _, bias := range []bool{false, true} {
			for _, a1 := range acts {
				for _, scale := range []bool{false, true} {
					for _, a2 := range acts {
						name := fmt.Sprintf("cols=%d/bias=%v/act1=%d/scale=%v/act2=%d", cols, bias, a1, scale, a2)
						t.Run(name, func(t *testing.T) {
							// Four rows at a time, then the rest one by one.
							rows := 9
							e := Epilogue{Act1: a1, Act2: a2}
							if bias {
								e.Bias = randVec(rng, cols)
							}
							if scale {
								e.Scale, e.Shift = randVec(rng, cols), randVec(rng, cols)
							}
							src := epilogueInput(rng, rows*cols)
							want := make([]float32, len(src))
							for r := range rows {
								e.row(want[r*cols:(r+1)*cols], src[r*cols:(r+1)*cols], 0)
							}
							got := make([]float32, len(src))
							e.Apply(got, src, rows, cols)
							assertSameBits(t, want, got)
							inPlace := append([]float32(nil), src...)
							e.Apply(inPlace, inPlace, rows, cols)
							assertSameBits(t, want, inPlace)
						})
					}
				}
			}
		}
	}
}

// assertSameBits compares bit patterns, any NaN matching any NaN of the
// same sign.
func assertSameBits(t *testing.T, want, got []float32) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		w, g := want[i], got[i]
		if w != w || g != g {
			assert.True(t, w != w && g != g && math.Signbit(float64(w)) == math.Signbit(float64(g)),
				"element %d: want %v, got %v", i, w, g)
			continue
		}
		assert.Equal(t, math.Float32bits(w), math.Float32bits(g), "element %d: want %v, got %v", i, w, g)
	}
}

func TestEpiloguePanicsOnBadArguments(t *testing.T) {
	ok := make([]float32, 16)
	cases := []struct {
		name string
		e    Epilogue
		dst  []float32
		rows int
	}{
		{"scale without shift", Epilogue{Scale: ok}, ok, 2},
		{"short bias", Epilogue{Bias: ok[:7]}, ok, 2},
		{"short dst", Epilogue{}, ok[:15], 2},
		{"negative rows", Epilogue{}, ok, -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Panics(t, func() { c.e.Apply(c.dst, ok, c.rows, 8) })
		})
	}
}

// depthwiseWant is Depthwise3 in float64.
func depthwiseWant(x []float32, ldr, step, dx int, w, bias []float32, rows, n, c int) []float64 {
	out := make([]float64, n*c)
	for p := range n {
		for j := range c {
			s := float64(bias[j])
			for r := range rows {
				for t := range 3 {
					s += float64(x[r*ldr+p*step+t*dx+j]) * float64(w[(r*3+t)*c+j])
				}
			}
			out[p*c+j] = s
		}
	}
	return out
}

// TestDepthwise3 checks the kernel (assembly when c is a multiple of 8 on
// this CPU, Go otherwise) and the Go kernel against float64 sums, for
// stride 1 and 2, dilation 1 and 2 and one to three rows; and that each
// post-processing (fused in the kernel or not) gives the bits of
// Epilogue.Apply afterwards.
func TestDepthwise3(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []int{3, 8, 16, 24, 128} {
		for _, rows := range []int{1, 2, 3} {
			for _, stride := range []int{1, 2} {
				for _, dil := range []int{1, 2} {
					for _, n := range []int{1, 5, 48} {
						t.Run(fmt.Sprintf("c=%d/rows=%d/stride=%d/dil=%d/n=%d", c, rows, stride, dil, n), func(t *testing.T) {
							width := (n-1)*stride + 2*dil + 1 + rng.IntN(3)
							ldr := width * c
							x := randVec(rng, rows*ldr)
							w, bias := randVec(rng, rows*3*c), randVec(rng, c)
							// Sums above 6 too, for ReLU6.
							for i := range bias {
								bias[i] *= 8
							}
							want := depthwiseWant(x, ldr, stride*c, dil*c, w, bias, rows, n, c)
							scale, shift := randVec(rng, c), randVec(rng, c)
							posts := []*Epilogue{
								{Act1: ActRelu}, {Act1: ActRelu6},
								{Scale: scale, Shift: shift}, {Scale: scale, Shift: shift, Act2: ActRelu},
								{Scale: scale, Shift: shift, Act2: ActRelu6},
								{Act1: ActRelu, Scale: scale, Shift: shift, Act2: ActRelu6}, // not fused
							}
							for name, f := range map[string]func(dst []float32, post *Epilogue){
								"default": func(dst []float32, post *Epilogue) {
									Depthwise3(dst, x, ldr, stride*c, dil*c, w, bias, rows, n, c, post)
								},
								"go": func(dst []float32, post *Epilogue) {
									mode, rest := dwModeOf(post)
									depthwise3Go(dst, x, ldr, stride*c, dil*c, w, bias, rows, n, c, mode, post)
									if rest {
										post.Apply(dst, dst, n, c)
									}
								},
							} {
								plain := make([]float32, n*c+1)
								plain[n*c] = sentinel
								f(plain, nil)
								for i, v := range want {
									assert.InDelta(t, v, float64(plain[i]), 1e-5*(1+math.Abs(v)), "%s: element %d", name, i)
								}
								assert.Equal(t, sentinel, plain[n*c], "%s wrote past the output", name)
								for k, post := range posts {
									want := make([]float32, n*c)
									post.Apply(want, plain, n, c)
									dst := make([]float32, n*c+1)
									dst[n*c] = sentinel
									f(dst, post)
									for i, v := range want {
										require.Equal(t, math.Float32bits(v), math.Float32bits(dst[i]), "%s post %d: element %d", name, k, i)
									}
									assert.Equal(t, sentinel, dst[n*c], "%s post %d wrote past the output", name, k)
								}
							}
						})
					}
				}
			}
		}
	}
}

func TestDepthwise3PanicsOnBadArguments(t *testing.T) {
	x, w, b, dst := make([]float32, 64), make([]float32, 72), make([]float32, 8), make([]float32, 16)
	cases := []struct {
		name string
		f    func()
	}{
		{"rows 0", func() { Depthwise3(dst, x, 8, 8, 8, w, b, 0, 1, 8, nil) }},
		{"rows 4", func() { Depthwise3(dst, x, 8, 8, 8, w, b, 4, 1, 8, nil) }},
		{"short x", func() { Depthwise3(dst, x, 32, 8, 8, w, b, 3, 2, 8, nil) }},
		{"short dst", func() { Depthwise3(dst, x, 8, 8, 8, w, b, 1, 3, 8, nil) }},
		{"short w", func() { Depthwise3(dst, x, 8, 8, 8, w[:71], b, 3, 1, 8, nil) }},
		{"short bias", func() { Depthwise3(dst, x, 8, 8, 8, w, b[:7], 1, 1, 8, nil) }},
		{"negative step", func() { Depthwise3(dst, x, 8, -8, 8, w, b, 1, 1, 8, nil) }},
		{"post bias", func() { Depthwise3(dst, x, 8, 8, 8, w, b, 1, 1, 8, &Epilogue{Bias: b}) }},
		{"post short scale", func() { Depthwise3(dst, x, 8, 8, 8, w, b, 1, 1, 8, &Epilogue{Scale: b[:7], Shift: b}) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { assert.Panics(t, c.f) })
	}
}
