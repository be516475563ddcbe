package tflite

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/converter/passes"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/graph/graphtest"
	tfl "github.com/edgeval/edgeval/tflite"
)

// writerRefusals lists the cases of graphtest.Cases that Convert refuses on
// purpose, by case name, each with the reason. Every other case must be
// written: an op kind added to package graph without a writer here fails
// TestEveryOpKindWritten until it is written or listed with a reason.
var writerRefusals = map[string]string{
	"convT/nchw/iohw/explicit/outpad/g2/d2": "TRANSPOSE_CONV has neither groups nor dilation",
	"cast/float16":                          "a float32 model holds no float16 values: float16 is a precision (Options.Precision), not a dtype of the graph",
}

// hasNCHW reports whether an op of g computes in NCHW.
func hasNCHW(g *graph.Graph) bool {
	for _, n := range g.Nodes {
		for _, v := range append(append([]*graph.Value{}, n.Inputs...), n.Outputs...) {
			if v.Layout == graph.NCHW {
				return true
			}
		}
	}
	return false
}

// TestEveryOpKindWritten: Convert writes every case of graphtest.Cases (the
// NCHW ones after passes.ToNHWC, as its contract asks), one per op kind,
// sub-kind and layout of package graph, into a model that reads back, or
// refuses it with an *UnsupportedError naming the node when writerRefusals
// says so; it never panics.
func TestEveryOpKindWritten(t *testing.T) {
	missing, err := graphtest.Missing(graphtest.Cases())
	require.NoError(t, err)
	require.Empty(t, missing, "graphtest.Cases must cover every op kind")
	names := map[string]bool{}
	for _, tc := range graphtest.Cases() {
		names[tc.Name] = true
		t.Run(tc.Name, func(t *testing.T) {
			g, _, err := tc.Build(1)
			require.NoError(t, err)
			for _, v := range g.Inputs {
				v.NoBatch = true // the cases' shapes are data, batch included
			}
			if hasNCHW(g) {
				g, err = passes.ToNHWC(g, passes.LayoutOptions{})
				require.NoError(t, err)
			}
			var model []byte
			err = graphtest.Guard(func() error {
				var err error
				model, _, err = Convert(g, Options{})
				return err
			})
			var pe *graphtest.PanicError
			require.NotErrorAs(t, err, &pe, "Convert panics on %s", tc.Key())
			reason, refused := writerRefusals[tc.Name]
			if !refused {
				require.NoError(t, err, "Convert does not write %s: write it, or list case %q in writerRefusals with the reason", tc.Key(), tc.Name)
				m, err := tfl.Read(model)
				require.NoError(t, err)
				assert.NotEmpty(t, m.Subgraphs[0].Operators, "no operator written for %s", tc.Key())
				return
			}
			require.NotEmpty(t, reason, "a refusal needs its reason")
			var ue *UnsupportedError
			require.ErrorAs(t, err, &ue, "%s is listed as refused (%s): Convert must refuse it with an *UnsupportedError", tc.Key(), reason)
			require.Len(t, ue.Nodes, 1)
			assert.Equal(t, "op", ue.Nodes[0].Node)
			assert.Equal(t, tc.Op.Kind(), ue.Nodes[0].Op)
		})
	}
	for name := range writerRefusals {
		assert.True(t, names[name], "writerRefusals lists %q, which is no case of graphtest.Cases", name)
	}
}
