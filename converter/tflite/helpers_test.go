package tflite

import (
	"context"
	"math"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/runtime"
	_ "github.com/edgeval/edgeval/runtime/litert"
	"github.com/edgeval/edgeval/tensor"
	tfl "github.com/edgeval/edgeval/tflite"
)

// runtimeNames lists the real runtimes the converted models run in: LiteRT
// always, and the TFLite C runtime in builds with -tags tflite
// (runtimes_tflite_test.go).
func runtimeNames() []string { return append([]string{"litert"}, extraRuntimes...) }

// openLiteRT opens model in the real LiteRT runtime.
func openLiteRT(t testing.TB, model []byte) runtime.Session {
	t.Helper()
	return openRuntime(t, "litert", model)
}

// openRuntime opens model in the named runtime, skipping LiteRT when the
// environment asks to (EDGEVAL_SKIP_LITERT).
func openRuntime(t testing.TB, name string, model []byte) runtime.Session {
	t.Helper()
	if name == "litert" && os.Getenv("EDGEVAL_SKIP_LITERT") != "" {
		t.Skip("EDGEVAL_SKIP_LITERT is set: not running the LiteRT WebAssembly runtime")
	}
	rt, err := runtime.Get(name)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sig := ""
	if m, err := tfl.Read(model); err == nil {
		if _, err := m.Signature(SignatureKey); err == nil {
			sig = SignatureKey
		}
	}
	s, err := rt.Open(ctx, model, runtime.Options{Signature: sig})
	require.NoError(t, err, "%s must load the model", name)
	t.Cleanup(func() { s.Close() })
	return s
}

func runSession(t testing.TB, s runtime.Session, ins []*tensor.Tensor) []*tensor.Tensor {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := s.Run(ctx, ins)
	require.NoError(t, err)
	return res.Outputs
}

// inGraphOrder returns a session's outputs in g's output order, matched by
// name: the TFLite C runtime's signature runner lists a signature's outputs
// in name order (TFLite keeps them in a std::map), not in file order.
func inGraphOrder(t testing.TB, g *graph.Graph, s runtime.Session, outs []*tensor.Tensor) []*tensor.Tensor {
	t.Helper()
	infos := s.Outputs()
	require.Len(t, infos, len(g.Outputs))
	res := make([]*tensor.Tensor, len(outs))
	for i, v := range g.Outputs {
		j := slices.IndexFunc(infos, func(ti runtime.TensorInfo) bool { return ti.Name == v.Name })
		require.GreaterOrEqual(t, j, 0, "output %q not among the session's outputs", v.Name)
		res[i] = outs[j]
	}
	return res
}

// randInputs returns seeded random inputs for g in [lo, hi).
func randInputs(g *graph.Graph, seed uint64, lo, hi float64) []*tensor.Tensor {
	rng := tensor.NewRNG(seed)
	ins := make([]*tensor.Tensor, len(g.Inputs))
	for i, v := range g.Inputs {
		ins[i] = tensor.Random(rng, v.DType, v.Shape, lo, hi)
	}
	return ins
}

// maxDiff returns the largest |got-want| and want's range.
func maxDiff(want, got *tensor.Tensor) (diff, span float64) {
	a, b := want.Float32s(), got.Float32s()
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := range a {
		d := math.Abs(float64(a[i]) - float64(b[i]))
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		diff = max(diff, d)
		lo, hi = min(lo, float64(a[i])), max(hi, float64(a[i]))
	}
	return diff, hi - lo
}

// checkModel reads a converted model back and checks what every model
// Convert writes must have.
func checkModel(t *testing.T, g *graph.Graph, data []byte, nm *NameMap) *tfl.Model {
	t.Helper()
	m, err := tfl.Read(data)
	require.NoError(t, err)
	assert.Equal(t, "edgeval", m.Description)
	assert.NotEmpty(t, m.MinRuntimeVersion)
	sig, err := m.Signature(SignatureKey)
	require.NoError(t, err)
	require.Len(t, sig.Inputs, len(g.Inputs))
	require.Len(t, sig.Outputs, len(g.Outputs))
	sg := m.Subgraphs[0]
	for i, v := range g.Inputs {
		assert.Equal(t, v.Name, sig.Inputs[i].Name)
		assert.Equal(t, v.Name, sg.Tensors[sig.Inputs[i].Tensor].Name)
		assert.Equal(t, v.Shape, sg.Tensors[sig.Inputs[i].Tensor].Shape)
	}
	for i, v := range g.Outputs {
		assert.Equal(t, v.Name, sig.Outputs[i].Name, "outputs in the source order")
		assert.Equal(t, sg.Outputs[i], sig.Outputs[i].Tensor)
		idx, ok := nm.Tensor(v.Name)
		assert.True(t, ok)
		assert.Equal(t, idx, sig.Outputs[i].Tensor)
	}
	for _, tt := range sg.Tensors {
		assert.False(t, tt.IsDynamic(), "tensor %q has a dynamic shape", tt.Name)
	}
	// Every node output is named after its value.
	for _, n := range g.Nodes {
		for _, v := range n.Outputs {
			if idx, ok := nm.Tensor(v.Name); ok {
				assert.Equal(t, v.Name, sg.Tensors[idx].Name)
			}
		}
	}
	return m
}

// convertAndRun converts g, checks the model, runs it in LiteRT on random
// inputs in [lo, hi) and compares every output with the reference within
// tol times the output's range (plus a small absolute floor for constant
// outputs).
func convertAndRun(t *testing.T, g *graph.Graph, lo, hi, tol float64) *tfl.Model {
	t.Helper()
	data, nm, err := Convert(g, Options{})
	require.NoError(t, err)
	m := checkModel(t, g, data, nm)
	for _, rt := range runtimeNames() {
		s := openRuntime(t, rt, data)
		for seed := uint64(1); seed <= 2; seed++ {
			ins := randInputs(g, seed, lo, hi)
			want, err := reference.Run(g, ins)
			require.NoError(t, err)
			got := inGraphOrder(t, g, s, runSession(t, s, ins))
			require.Len(t, got, len(want))
			for i := range want {
				require.Equal(t, want[i].Shape, got[i].Shape, "%s output %d", rt, i)
				d, span := maxDiff(want[i], got[i])
				assert.LessOrEqual(t, d, tol*max(span, 1e-3), "%s output %d %q: max abs diff %g over range %g", rt, i, g.Outputs[i].Name, d, span)
			}
		}
	}
	return m
}

// opNames returns the builtin names of subgraph 0's operators in order.
func opNames(m *tfl.Model) []string {
	var out []string
	for _, op := range m.Subgraphs[0].Operators {
		out = append(out, op.Name())
	}
	return out
}

func weights(seed uint64, shape ...int) *tensor.Tensor {
	return tensor.Random(tensor.NewRNG(seed), tensor.Float32, shape, -1, 1)
}

func build(t *testing.T, b *graph.Builder, outs ...*graph.Value) *graph.Graph {
	t.Helper()
	g, err := b.Build(outs...)
	require.NoError(t, err)
	return g
}
