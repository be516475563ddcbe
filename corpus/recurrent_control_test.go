//go:build cgo

package corpus

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/precision"
)

// recurrentMisreads are the ways a reader can get a recurrent layer wrong
// while every shape still fits: each edits the first Recurrent op of a graph
// and says whether it applies to it.
var recurrentMisreads = []struct {
	name  string
	apply func(r *graph.Recurrent) bool
}{
	{"gates in another order", func(r *graph.Recurrent) bool {
		if len(r.Gates) < 2 {
			return false
		}
		r.Gates = slices.Clone(r.Gates) // readers share their gate tables
		slices.Reverse(r.Gates)
		return true
	}},
	{"direction dropped", func(r *graph.Recurrent) bool {
		r.Reverse = !r.Reverse
		return true
	}},
	{"activation guessed", func(r *graph.Recurrent) bool {
		if _, ok := r.Activation.(*graph.Tanh); ok {
			r.Activation = &graph.Sigmoid{}
		} else {
			r.Activation = &graph.Tanh{}
		}
		return true
	}},
	{"recurrent activation guessed", func(r *graph.Recurrent) bool {
		if r.RecurrentActivation == nil {
			return false
		}
		if _, ok := r.RecurrentActivation.(*graph.Sigmoid); ok {
			r.RecurrentActivation = &graph.Tanh{}
		} else {
			r.RecurrentActivation = &graph.Sigmoid{}
		}
		return true
	}},
}

// TestRecurrentMisreadsFailTheFrameworkCheck is the negative control of every
// recurrent case in the corpus (Keras LSTM, GRU, SimpleRNN and Bidirectional;
// PyTorch nn.LSTM, nn.GRU and nn.RNN), in every format the case has: the
// graph as read agrees with the framework's outputs under the check the
// corpus walk applies, and each misreading of its first recurrent layer (gate
// order, direction, either activation) fails that same check — so the walk's
// pass on these layers says something. Misreading one layer only keeps a
// Bidirectional wrapper from hiding a swap of both directions behind a
// symmetric merge.
func TestRecurrentMisreadsFailTheFrameworkCheck(t *testing.T) {
	dir, err := Dir()
	require.NoError(t, err)
	cases, err := Load(dir)
	require.NoError(t, err)
	tried := map[string]int{}
	for _, c := range cases {
		for _, m := range c.Models {
			g, err := loadGraph(c, m)
			if err != nil || firstRecurrent(g) == nil {
				continue
			}
			t.Run(c.ID()+"/"+m.Format, func(t *testing.T) {
				ins, want, err := c.Expected(m.Expected)
				require.NoError(t, err)
				names := make([]string, len(c.Outputs))
				for i, o := range c.Outputs {
					names[i] = o.Name
				}
				check := func(g *graph.Graph) error {
					got, noise, err := runReference(g, ins)
					require.NoError(t, err)
					_, err = CompareNoise(precision.Float32, names, want, got, noise)
					return err
				}
				require.NoError(t, check(g), "as read")
				for _, mr := range recurrentMisreads {
					bad, err := loadGraph(c, m)
					require.NoError(t, err)
					if !mr.apply(firstRecurrent(bad)) {
						continue
					}
					tried[mr.name]++
					assert.Error(t, check(bad), "%s must fail the framework check", mr.name)
				}
			})
		}
	}
	t.Log(fmt.Sprint("misreads tried: ", tried))
	for _, mr := range recurrentMisreads {
		assert.GreaterOrEqual(t, tried[mr.name], 10, "%s: too few recurrent cases to be a control", mr.name)
	}
}

// firstRecurrent returns g's first Recurrent op, or nil.
func firstRecurrent(g *graph.Graph) *graph.Recurrent {
	for _, n := range g.Nodes {
		if r, ok := n.Op.(*graph.Recurrent); ok {
			return r
		}
	}
	return nil
}
