package reference

import (
	"errors"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/budget"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/graph/graphtest"
	"github.com/edgeval/edgeval/tensor"
)

// footprintGraphs returns graphs covering every op kind (graphtest.Cases)
// and whole models with fusion chains in both layouts.
func footprintGraphs(t *testing.T) map[string]*graph.Graph {
	gs := map[string]*graph.Graph{}
	for _, tc := range graphtest.Cases() {
		g, _, err := tc.Build(1)
		require.NoError(t, err)
		gs["case "+tc.Name] = g
	}
	for _, l := range []graph.Layout{graph.NHWC, graph.NCHW} {
		for _, folded := range []bool{false, true} {
			g, err := mobileNetV1(3, l, folded)
			require.NoError(t, err)
			gs["mobilenet "+l.String()+map[bool]string{true: " folded"}[folded]] = g
			g, err = resNet8(3, l, folded)
			require.NoError(t, err)
			gs["resnet8 "+l.String()+map[bool]string{true: " folded"}[folded]] = g
		}
	}
	return gs
}

// TestFootprintMatchesPreparedPlan: the shape-level structure Footprint
// plans with (fusion, scratch) is what the prepare functions give, node by
// node, and Footprint's activations are the prepared fast plan's buffers
// plus its scratch, exactly.
func TestFootprintMatchesPreparedPlan(t *testing.T) {
	for name, g := range footprintGraphs(t) {
		t.Run(name, func(t *testing.T) {
			p, err := Prepare(g)
			require.NoError(t, err)
			sk, nodes := skeleton(g)
			for i, v := range sk.values {
				if v.Const != nil {
					sk.consts[i] = v.Const.Float32s()
				}
			}
			for _, n := range nodes {
				pr, err := prepareNode(n.node, sk.consts, n.ins)
				require.NoError(t, err)
				st := structure(n.node)
				assert.Equal(t, pr.scratch, st.scratch, "scratch of %s (%s)", n.node.Name, n.node.Op.Kind())
				assert.Equal(t, pr.act, st.act, "fusible activation of %s", n.node.Name)
				require.Equal(t, pr.bn != nil, st.bn != nil, "fusible BatchNorm %s", n.node.Name)
				if pr.bn != nil {
					assert.Len(t, st.bn.scale, len(pr.bn.scale))
				}
			}
			want := int64(p.scratch)
			for _, n := range p.fast.bufSize {
				want += int64(n)
			}
			fp, err := Footprint(g, 3)
			require.NoError(t, err)
			require.Len(t, fp.Parts, 2)
			assert.Equal(t, 3*4*want, fp.Parts[1].Bytes, "activations of 3 runs")
			var consts int64
			for _, c := range p.consts {
				consts += 4 * int64(len(c))
			}
			assert.GreaterOrEqual(t, fp.Parts[0].Bytes, consts, "weights at least their float32 copies")
			assert.LessOrEqual(t, fp.Parts[0].Bytes, 5*consts+1<<20, "weights within a small multiple of their copies")
		})
	}
}

// heapInUse returns the live heap after a full collection.
func heapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// TestFootprintBoundsMeasuredHeap: a prepared program and one run hold no
// more live heap than Footprint says, and not much less (measured on
// MobileNet in both layouts).
func TestFootprintBoundsMeasuredHeap(t *testing.T) {
	for _, l := range []graph.Layout{graph.NHWC, graph.NCHW} {
		t.Run(l.String(), func(t *testing.T) {
			g, err := mobileNetV1(5, l, false)
			require.NoError(t, err)
			x := modelInput(g, 1)
			fp, err := Footprint(g, 1)
			require.NoError(t, err)
			before := heapInUse()
			p, err := Prepare(g)
			require.NoError(t, err)
			s := p.getState(&p.fast, 1)
			require.NoError(t, p.exec(&p.fast, s, []*tensor.Tensor{x}))
			used := heapInUse() - before
			runtime.KeepAlive(p)
			runtime.KeepAlive(s)
			t.Logf("footprint %d bytes, measured %d", fp.Total(), used)
			assert.LessOrEqual(t, used, fp.Total()+64<<10, "the program holds more than its footprint")
			assert.GreaterOrEqual(t, used*13/10, fp.Total(), "the footprint is more than 1.3 times what the program holds")
		})
	}
}

// TestPrepareWithRefusesOverBudget: over the budget, PrepareWith returns a
// *budget.Error naming the largest value, before converting anything.
func TestPrepareWithRefusesOverBudget(t *testing.T) {
	b := graph.NewBuilder()
	x := b.Input("x", tensor.Float32, []int{1, 4096, 4096, 64}, graph.NHWC)
	y := b.Op("relu", &graph.Relu{}, x)
	g, err := b.Build(y)
	require.NoError(t, err)
	fp, err := Footprint(g, 2)
	require.NoError(t, err)
	assert.Equal(t, int64(2*2*4<<30), fp.Total(), "input and output buffers of 4 GiB for each of two runs")
	before := heapInUse()
	_, err = PrepareWith(g, PrepareOptions{MaxBytes: 1 << 30, Runs: 2})
	var be *budget.Error
	require.ErrorAs(t, err, &be)
	assert.Less(t, heapInUse()-before, int64(1<<20))
	assert.Contains(t, err.Error(), `"x" [1 4096 4096 64] (4.0 GiB, reference)`)
	assert.Contains(t, err.Error(), "16.0 GiB")
	_, err = PrepareWith(g, PrepareOptions{MaxBytes: 17 << 30, Runs: 2})
	assert.NoError(t, err, "within the budget")
	assert.False(t, errors.Is(err, budget.ErrNoLimit))
}
