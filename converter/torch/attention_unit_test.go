package torch

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/tensor"
)

// sdpaWant is PyTorch's scaled_dot_product_attention in float64 on [B,
// L, E] / [B, S, E] / [B, S, Ev] with an additive mask bias [L, S] (-inf
// masks; a row masked entirely gives zeros, as torch's safe softmax).
func sdpaWant(q, k, v []float32, b, l, s, e, ev int, bias []float64, scale float64) []float32 {
	out := make([]float32, b*l*ev)
	for n := range b {
		for i := range l {
			sc := make([]float64, s)
			hi := math.Inf(-1)
			for j := range s {
				d := 0.0
				for x := range e {
					d += float64(q[(n*l+i)*e+x]) * float64(k[(n*s+j)*e+x])
				}
				sc[j] = d*scale + bias[i*s+j]
				hi = max(hi, sc[j])
			}
			if math.IsInf(hi, -1) {
				continue // all masked: zeros
			}
			sum := 0.0
			for j := range s {
				sc[j] = math.Exp(sc[j] - hi)
				sum += sc[j]
			}
			for y := range ev {
				acc := 0.0
				for j := range s {
					acc += sc[j] / sum * float64(v[(n*s+j)*ev+y])
				}
				out[(n*l+i)*ev+y] = float32(acc)
			}
		}
	}
	return out
}

// TestEmitAttentionMasks checks the attention mapping against a direct
// float64 evaluation for each kind of mask: constant and computed, boolean
// and float, with and without a row masked entirely, and causal (with
// fewer keys than queries).
func TestEmitAttentionMasks(t *testing.T) {
	const b, ed, ev = 2, 4, 3
	r := rand.New(rand.NewPCG(1, 2))
	rnd := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		return x
	}
	ninf := math.Inf(-1)
	type maskCase struct {
		name     string
		l, s     int
		keep     []bool    // boolean mask [l, s] (nil: none)
		float    []float64 // float mask [l, s] (nil: none)
		computed bool      // the mask is a graph input, not a constant
		causal   bool
	}
	keepRow := func(l, s int, off ...int) []bool {
		k := make([]bool, l*s)
		for i := range k {
			k[i] = true
		}
		for _, o := range off {
			k[o] = false
		}
		return k
	}
	fullRow := keepRow(3, 5, 5, 6, 7, 8, 9, 2) // row 1 masked entirely
	floatMask := []float64{0, -1, 0.5, ninf, 2, ninf, ninf, ninf, ninf, ninf, 0.1, 0.2, 0.3, -0.4, ninf}
	tests := []maskCase{
		{name: "none", l: 3, s: 5},
		{name: "constant bool", l: 3, s: 5, keep: keepRow(3, 5, 1, 7)},
		{name: "constant bool, a row masked entirely", l: 3, s: 5, keep: fullRow},
		{name: "computed bool, a row masked entirely", l: 3, s: 5, keep: fullRow, computed: true},
		{name: "constant float with -inf, a row masked entirely", l: 3, s: 5, float: floatMask},
		{name: "computed float with -inf, a row masked entirely", l: 3, s: 5, float: floatMask, computed: true},
		{name: "causal", l: 3, s: 5, causal: true},
		{name: "causal with fewer keys than queries", l: 5, s: 3, causal: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, s := tc.l, tc.s
			qd, kd, vd := rnd(b*l*ed), rnd(b*s*ed), rnd(b*s*ev)
			bias := make([]float64, l*s)
			var mt *tensor.Tensor
			switch {
			case tc.keep != nil:
				mt = tensor.New(tensor.Bool, []int{l, s})
				for i, k := range tc.keep {
					if k {
						mt.SetFloat64(i, 1)
					} else {
						bias[i] = ninf
					}
				}
			case tc.float != nil:
				f := make([]float32, l*s)
				for i, x := range tc.float {
					f[i], bias[i] = float32(x), x
				}
				mt = tensor.FromFloat32([]int{l, s}, f)
			case tc.causal:
				for i := range l {
					for j := i + 1; j < s; j++ {
						bias[i*s+j] = ninf
					}
				}
			}
			em := &emitter{b: graph.NewBuilder(), tensors: map[string]*tensor.Tensor{}, consts: map[string]*graph.Value{}, u: newUsage()}
			sp := attnSpec{name: "attn", causal: tc.causal, scale: 0.7,
				q: em.b.Input("q", tensor.Float32, []int{b, l, ed}, graph.LayoutNone),
				k: em.b.Input("k", tensor.Float32, []int{b, s, ed}, graph.LayoutNone),
				v: em.b.Input("v", tensor.Float32, []int{b, s, ev}, graph.LayoutNone)}
			ins := []*tensor.Tensor{tensor.FromFloat32([]int{b, l, ed}, qd), tensor.FromFloat32([]int{b, s, ed}, kd), tensor.FromFloat32([]int{b, s, ev}, vd)}
			switch {
			case mt != nil && tc.computed:
				sp.mask = em.b.Input("mask", mt.DType, mt.Shape, graph.LayoutNone)
				ins = append(ins, mt)
			case mt != nil:
				sp.maskConst = mt
			}
			out, err := emitAttention(em, sp)
			require.NoError(t, err)
			g, err := em.b.Build(out)
			require.NoError(t, err)
			got, err := reference.Run(g, ins)
			require.NoError(t, err)
			want := sdpaWant(qd, kd, vd, b, l, s, ed, ev, bias, 0.7)
			assert.InDeltaSlice(t, want, got[0].Float32s(), 1e-5)
			for _, x := range got[0].Float32s() {
				require.False(t, math.IsNaN(float64(x)), "NaN in the output")
			}
		})
	}
}
