package ref64

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/graph/graphtest"
	"github.com/edgeval/edgeval/tensor"
)

// ref64Refusals lists the cases of graphtest.Cases that ref64 refuses on
// purpose, by case name, each with the reason. It is empty: ref64 evaluates
// every op kind of package graph, in every layout (its numbers are checked
// against package reference by TestOpsAgreeWithReference). An op kind added
// to package graph without a kernel here fails TestEveryOpKindEvaluated
// until it has one (or is listed with a reason).
var ref64Refusals = map[string]string{}

// TestEveryOpKindEvaluated: ref64 prepares and runs every case of
// graphtest.Cases (every op kind, sub-kind and layout of package graph),
// giving one output of the node's size, or refuses it with an
// *UnsupportedError naming the node when ref64Refusals says so; it never
// panics.
func TestEveryOpKindEvaluated(t *testing.T) {
	missing, err := graphtest.Missing(graphtest.Cases())
	require.NoError(t, err)
	require.Empty(t, missing, "graphtest.Cases must cover every op kind")
	names := map[string]bool{}
	for _, tc := range graphtest.Cases() {
		names[tc.Name] = true
		t.Run(tc.Name, func(t *testing.T) {
			g, inputs, err := tc.Build(1)
			require.NoError(t, err)
			var outs [][]float64
			err = graphtest.Guard(func() error {
				p, err := Prepare(g)
				if err != nil {
					return err
				}
				outs, err = p.Run(inputs)
				return err
			})
			var pe *graphtest.PanicError
			require.NotErrorAs(t, err, &pe, "ref64 panics on %s", tc.Key())
			reason, refused := ref64Refusals[tc.Name]
			if !refused {
				require.NoError(t, err, "ref64 does not evaluate %s: add its kernel, or list case %q in ref64Refusals with the reason", tc.Key(), tc.Name)
				require.Len(t, outs, 1)
				assert.Len(t, outs[0], tensor.NumElements(g.Outputs[0].Shape))
				return
			}
			require.NotEmpty(t, reason, "a refusal needs its reason")
			var ue *UnsupportedError
			require.ErrorAs(t, err, &ue, "%s is listed as refused (%s): Prepare must refuse it with an *UnsupportedError", tc.Key(), reason)
			require.Len(t, ue.Nodes, 1)
			assert.Equal(t, "op", ue.Nodes[0].Node)
		})
	}
	for name := range ref64Refusals {
		assert.True(t, names[name], "ref64Refusals lists %q, which is no case of graphtest.Cases", name)
	}
}
