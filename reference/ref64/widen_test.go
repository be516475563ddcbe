package ref64

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/graph/graphtest"
	"github.com/edgeval/edgeval/tensor"
)

// bits is each value's IEEE-754 pattern, so that NaNs compare equal.
func bits(xs [][]float64) [][]uint64 {
	out := make([][]uint64, len(xs))
	for i, x := range xs {
		out[i] = make([]uint64, len(x))
		for j, v := range x {
			out[i][j] = math.Float64bits(v)
		}
	}
	return out
}

// TestWidenOnUseSameBits: for every case of graphtest.Cases (every op kind,
// sub-kind and layout), a program that widens its constants on use gives
// the same bits as one that widened them in Prepare, on two samples run
// concurrently (RunBatch) and twice (nothing it widened is kept or
// changed between runs).
func TestWidenOnUseSameBits(t *testing.T) {
	for _, tc := range graphtest.Cases() {
		t.Run(tc.Name, func(t *testing.T) {
			if _, refused := ref64Refusals[tc.Name]; refused {
				t.Skip("refused by ref64")
			}
			g, inputs, err := tc.Build(1)
			require.NoError(t, err)
			eager, err := Prepare(g)
			require.NoError(t, err)
			lazy, err := PrepareWith(g, PrepareOptions{WidenOnUse: true})
			require.NoError(t, err)
			want, err := eager.RunBatch([][]*tensor.Tensor{inputs, inputs})
			require.NoError(t, err)
			for range 2 {
				got, err := lazy.RunBatch([][]*tensor.Tensor{inputs, inputs})
				require.NoError(t, err)
				require.Len(t, got, 2)
				for s := range got {
					assert.Equal(t, bits(want[s]), bits(got[s]), "sample %d", s)
				}
			}
		})
	}
}

// TestWidenOnUseRefusesLikePrepare: an op kind without a kernel (on a
// constant, which WidenOnUse does not widen in the program) fails
// PrepareWith with WidenOnUse as it fails Prepare, with the same
// *UnsupportedError (every node is still checked in Prepare).
func TestWidenOnUseRefusesLikePrepare(t *testing.T) {
	b := graph.NewBuilder()
	x := b.Input("x", tensor.Float32, []int{1, 4}, graph.LayoutNone)
	w := b.ConstFloat32("w", []int{1, 4}, make([]float32, 4))
	y := b.Op("odd", &unknownOp{}, w)
	g, err := b.Build(b.Op("add", &graph.Add{}, x, y))
	require.NoError(t, err)
	_, eagerErr := Prepare(g)
	_, lazyErr := PrepareWith(g, PrepareOptions{WidenOnUse: true})
	var ue *UnsupportedError
	require.ErrorAs(t, lazyErr, &ue)
	assert.Equal(t, "odd", ue.Nodes[0].Node)
	require.Error(t, eagerErr)
	assert.Equal(t, eagerErr.Error(), lazyErr.Error())
}

// TestFootprintWidenOnUse: the hand-computed graph of
// TestFootprintCountsARun prepared with WidenOnUse holds no widened
// weights; each run holds the conv's widened and relaid weight while it
// runs the conv, on top of what it holds there.
func TestFootprintWidenOnUse(t *testing.T) {
	g := convMulReluGraph(t)
	fp, err := FootprintWith(g, PrepareOptions{Runs: 2, WidenOnUse: true})
	require.NoError(t, err)
	const in, out = 192, 144
	perRun := int64(8 * max(in+out+in+out+108+108, in+out+out+out))
	require.Len(t, fp.Parts, 2)
	assert.Zero(t, fp.Parts[0].Bytes, "no weights held by the program")
	assert.Equal(t, 2*perRun, fp.Parts[1].Bytes)
}
