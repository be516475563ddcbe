package passes_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/converter/keras"
	"github.com/edgeval/edgeval/converter/passes"
	convtflite "github.com/edgeval/edgeval/converter/tflite"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/hdf5"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/runtime"
	_ "github.com/edgeval/edgeval/runtime/litert"
	"github.com/edgeval/edgeval/tensor"
)

// TestKerasPermuteLayouts runs the Keras models of testdata (made by the
// real Keras with testdata/gen/passes_fixtures.py: a Permute before
// LayerNormalization, Softmax(axis), BatchNormalization(axis),
// Concatenate(axis), Dense on rank 3 and 4, global pooling, Flatten and
// Reshape, and an MLP-Mixer block) through the whole pipeline: load, the Go
// reference of the source graph, passes.Canonicalize and its reference,
// converter/tflite, and the real LiteRT runtime. Every stage must match
// the outputs Keras computed within float32 tolerance (1e-5 of the output's
// range).
func TestKerasPermuteLayouts(t *testing.T) {
	npzs, err := filepath.Glob(filepath.Join("testdata", "*.npz"))
	require.NoError(t, err)
	require.Len(t, npzs, 5, "the fixtures of testdata/gen/passes_fixtures.py")
	for _, npz := range npzs {
		base := strings.TrimSuffix(npz, ".npz")
		t.Run(filepath.Base(base), func(t *testing.T) {
			model := base + ".keras"
			if _, err := os.Stat(model); err != nil {
				model = base + ".h5"
			}
			ins, want := readIO(t, npz)
			batch := ins[0].Shape[0]
			g, err := keras.Load(model, keras.Options{Batch: batch})
			if errors.Is(err, hdf5.ErrNotBuilt) {
				t.Skipf("Keras files need cgo: %v", err)
			}
			require.NoError(t, err)
			require.Len(t, g.Outputs, len(want))

			src, err := reference.Run(g, ins)
			require.NoError(t, err, "reference of the source graph")
			assertClose(t, "source reference", g, want, src)

			c, err := passes.Canonicalize(g, passes.Options{})
			require.NoError(t, err)
			canon, err := reference.Run(c, ins)
			require.NoError(t, err, "reference of the canonical graph")
			assertClose(t, "canonical reference", c, want, canon)

			data, _, err := convtflite.Convert(c, convtflite.Options{Batch: batch})
			require.NoError(t, err)
			if os.Getenv("EDGEVAL_SKIP_LITERT") != "" {
				t.Skip("EDGEVAL_SKIP_LITERT is set: not running the LiteRT WebAssembly runtime")
			}
			got := runLiteRT(t, c, data, ins)
			assertClose(t, "LiteRT", c, want, got)
		})
	}
}

// readIO reads input_i and output_i of a fixture .npz.
func readIO(t *testing.T, npz string) (ins, outs []*tensor.Tensor) {
	t.Helper()
	arrays, err := tensor.ReadNPZ(npz)
	require.NoError(t, err)
	byName := map[string]*tensor.Tensor{}
	for _, a := range arrays {
		byName[a.Name] = a.Tensor
	}
	for i := 0; byName[fmt.Sprintf("input_%d", i)] != nil; i++ {
		ins = append(ins, byName[fmt.Sprintf("input_%d", i)])
	}
	for i := 0; byName[fmt.Sprintf("output_%d", i)] != nil; i++ {
		outs = append(outs, byName[fmt.Sprintf("output_%d", i)])
	}
	require.NotEmpty(t, ins)
	require.NotEmpty(t, outs)
	return ins, outs
}

// assertClose checks every output of got against Keras's within 1e-5 of
// the output's range.
func assertClose(t *testing.T, stage string, g *graph.Graph, want, got []*tensor.Tensor) {
	t.Helper()
	require.Len(t, got, len(want), stage)
	for i := range want {
		require.Equal(t, want[i].Shape, got[i].Shape, "%s output %d %q shape", stage, i, g.Outputs[i].Name)
		a, b := want[i].Float32s(), got[i].Float32s()
		lo, hi, diff := math.Inf(1), math.Inf(-1), 0.0
		for k := range a {
			d := math.Abs(float64(a[k]) - float64(b[k]))
			if math.IsNaN(d) {
				d = math.Inf(1)
			}
			diff = max(diff, d)
			lo, hi = min(lo, float64(a[k])), max(hi, float64(a[k]))
		}
		span := max(hi-lo, 1e-6)
		assert.LessOrEqual(t, diff, 1e-5*span, "%s output %d %q: max abs %g over range %g", stage, i, g.Outputs[i].Name, diff, span)
	}
}

// runLiteRT runs model on the real LiteRT runtime and returns its outputs
// in g's output order (matched by name).
func runLiteRT(t *testing.T, g *graph.Graph, model []byte, ins []*tensor.Tensor) []*tensor.Tensor {
	t.Helper()
	rt, err := runtime.Get("litert")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := rt.Open(ctx, model, runtime.Options{Signature: convtflite.SignatureKey})
	require.NoError(t, err, "LiteRT must load the model")
	defer s.Close()
	res, err := s.Run(ctx, ins)
	require.NoError(t, err)
	infos := s.Outputs()
	require.Len(t, infos, len(g.Outputs))
	out := make([]*tensor.Tensor, len(g.Outputs))
	for i, v := range g.Outputs {
		j := slices.IndexFunc(infos, func(ti runtime.TensorInfo) bool { return ti.Name == v.Name })
		require.GreaterOrEqual(t, j, 0, "output %q not among the session's outputs", v.Name)
		out[i] = res.Outputs[j]
	}
	return out
}
