package ref64

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/budget"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

// TestFootprintCountsARun: a hand-computed footprint. An NCHW conv (input
// [1,3,8,8], weight [4,3,3,3], output [1,4,6,6]) feeding a Mul that reads
// its output twice, then a ReLU: the run holds the input, the conv's output
// until the Mul, the Mul's and the ReLU's outputs, the conv's channels-last
// copies while it runs, and the returned copy of the output.
func TestFootprintCountsARun(t *testing.T) {
	g := convMulReluGraph(t)
	fp, err := Footprint(g, 2)
	require.NoError(t, err)
	const in, out = 192, 144
	// Peak: at the conv, input + conv output + copies of both; at the
	// ReLU, input + Mul + ReLU outputs; at the end those and the copy.
	perRun := int64(8 * max(in+out+in+out, in+out+out+out))
	require.Len(t, fp.Parts, 2)
	assert.Equal(t, int64(8*(108+108)), fp.Parts[0].Bytes, "weights widened and relaid")
	assert.Equal(t, 2*perRun, fp.Parts[1].Bytes)
	assert.Equal(t, "x", fp.Largest[0].Name)
}

func heapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// TestPrepareWithRefusesOverBudget: a [1,64,4096,4096] input (declared by
// a small arch file) is refused before anything is widened, naming it.
func TestPrepareWithRefusesOverBudget(t *testing.T) {
	b := graph.NewBuilder()
	x := b.Input("input", tensor.Float32, []int{1, 64, 4096, 4096}, graph.NCHW)
	y := b.Op("relu", &graph.Relu{}, x)
	g, err := b.Build(y)
	require.NoError(t, err)
	fp, err := Footprint(g, 1)
	require.NoError(t, err)
	assert.Equal(t, int64(24<<30), fp.Total(), "input, output and the output's copy, 8 GiB each")
	before := heapInUse()
	_, err = PrepareWith(g, PrepareOptions{MaxBytes: 4 << 30, Runs: 1})
	var be *budget.Error
	require.ErrorAs(t, err, &be)
	assert.Less(t, heapInUse()-before, int64(1<<20))
	assert.Contains(t, err.Error(), `"input" [1 64 4096 4096] (8.0 GiB, float64 reference)`)
	p, err := PrepareWith(g, PrepareOptions{MaxBytes: 24 << 30, Runs: 1})
	require.NoError(t, err)
	assert.NotNil(t, p)
}

// convMulReluGraph is the graph of TestFootprintCountsARun: an NCHW conv
// (input [1,3,8,8], weight [4,3,3,3]), a Mul reading its output twice,
// a ReLU.
func convMulReluGraph(t *testing.T) *graph.Graph {
	t.Helper()
	b := graph.NewBuilder()
	x := b.Input("x", tensor.Float32, []int{1, 3, 8, 8}, graph.NCHW)
	w := b.ConstFloat32("w", []int{4, 3, 3, 3}, make([]float32, 108))
	c := b.Op("conv", &graph.Conv2D{Strides: [2]int{1, 1}, Dilations: [2]int{1, 1}, Padding: graph.Valid(), Groups: 1, Layout: graph.NCHW, WeightLayout: graph.OIHW}, x, w)
	m := b.Op("sq", &graph.Mul{}, c, c)
	y := b.Op("relu", &graph.Relu{}, m)
	g, err := b.Build(y)
	require.NoError(t, err)
	return g
}
