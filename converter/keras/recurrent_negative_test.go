package keras

import (
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/tensor"
)

// TestRecurrentMisreadingFails is the negative control of the recurrent
// corpus checks: the reference agrees with Keras's own outputs within 1e-5
// of range as read, and the same graph with its gates read in another
// order (reversed) disagrees far beyond it — so the framework check can
// catch a misread recurrent layer.
func TestRecurrentMisreadingFails(t *testing.T) {
	for _, dir := range []string{"rnn_textcls_lstm", "rnn_gru_reset_after"} {
		t.Run(dir, func(t *testing.T) {
			d := filepath.Join("../../testdata/corpus/keras", dir)
			arrs0, err := tensor.ReadNPZ(filepath.Join(d, "expected.npz"))
			require.NoError(t, err)
			g, err := Load(filepath.Join(d, "model_k2.h5"), Options{Batch: arrs0[0].Tensor.Shape[0]})
			require.NoError(t, err)
			arrs, err := tensor.ReadNPZ(filepath.Join(d, "expected.npz"))
			require.NoError(t, err)
			byName := map[string]*tensor.Tensor{}
			for _, a := range arrs {
				byName[a.Name] = a.Tensor
			}
			var ins []*tensor.Tensor
			for _, in := range g.Inputs {
				x, ok := byName[in.Name]
				if !ok {
					x = arrs[0].Tensor
				}
				ins = append(ins, x)
			}
			want := byName[g.Outputs[0].Name]
			if want == nil {
				want = arrs[len(arrs)-1].Tensor
			}
			relErr := func(g *graph.Graph) float64 {
				p, err := reference.Prepare(g)
				require.NoError(t, err)
				outs, err := p.Run(ins)
				require.NoError(t, err)
				got, w := outs[0].Float64s(), want.Float64s()
				require.Len(t, got, len(w))
				lo, hi, worst := math.Inf(1), math.Inf(-1), 0.0
				for i := range w {
					lo, hi = min(lo, w[i]), max(hi, w[i])
					worst = max(worst, math.Abs(got[i]-w[i]))
				}
				return worst / (hi - lo)
			}
			require.Less(t, relErr(g), 1e-5, "as read")

			misread := 0
			for _, n := range g.Nodes {
				if op, ok := n.Op.(*graph.Recurrent); ok && len(op.Gates) > 1 {
					slices.Reverse(op.Gates)
					misread++
				}
			}
			require.Positive(t, misread)
			assert.Greater(t, relErr(g), 1e-3, "gates in another order must not pass the framework check")
		})
	}
}
