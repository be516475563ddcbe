package torch

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/converter/passes"
	convtflite "github.com/edgeval/edgeval/converter/tflite"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/runtime"
	_ "github.com/edgeval/edgeval/runtime/litert"
	"github.com/edgeval/edgeval/tensor"
	tfl "github.com/edgeval/edgeval/tflite"
)

// convertGraph runs the whole back end: Canonicalize (BN folding,
// activation fusion, NCHW → NHWC by transposing weights) and Convert.
func convertGraph(t testing.TB, g *graph.Graph, nhwcIO bool) []byte {
	t.Helper()
	cg, err := passes.Canonicalize(g, passes.Options{NHWCIO: nhwcIO})
	require.NoError(t, err, "Canonicalize")
	b, _, err := convtflite.Convert(cg, convtflite.Options{Batch: 1})
	require.NoError(t, err, "Convert")
	return b
}

// countOps counts the operators of each kind in a .tflite.
func countOps(t testing.TB, b []byte) map[string]int {
	t.Helper()
	m, err := tfl.Read(b)
	require.NoError(t, err)
	out := map[string]int{}
	for _, op := range m.Subgraphs[0].Operators {
		out[op.Builtin.String()]++
	}
	return out
}

// runLiteRT runs a .tflite in the real LiteRT runtime.
func runLiteRT(t testing.TB, model []byte, ins []*tensor.Tensor) []*tensor.Tensor {
	t.Helper()
	if os.Getenv("EDGEVAL_SKIP_LITERT") != "" {
		t.Skip("EDGEVAL_SKIP_LITERT is set: not running the LiteRT WebAssembly runtime")
	}
	rt, err := runtime.Get("litert")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := rt.Open(ctx, model, runtime.Options{Signature: convtflite.SignatureKey})
	require.NoError(t, err)
	defer s.Close()
	res, err := s.Run(ctx, ins)
	require.NoError(t, err)
	return res.Outputs
}

type burnVectors struct {
	Conv2D struct {
		InputShape  []int       `json:"input_shape"`
		Input       [][][][]any `json:"input"`
		OutputShape []int       `json:"expected_output_shape"`
		Output      [][][][]any `json:"expected_output"`
	} `json:"conv2d.pt"`
	Nested struct {
		InputShape  []int       `json:"input_shape"`
		OutputShape []int       `json:"expected_output_shape"`
		Output      [][]float64 `json:"expected_output"`
	} `json:"complex_nested.pt"`
}

func flat4(v [][][][]any) []float32 {
	var out []float32
	for _, a := range v {
		for _, b := range a {
			for _, c := range b {
				for _, d := range c {
					out = append(out, float32(d.(float64)))
				}
			}
		}
	}
	return out
}

// TestBurnReferenceVectors checks the burn state_dict fixtures, with the
// --arch files written from their architectures, against the outputs
// PyTorch recorded: through the Go reference (NCHW) and through the
// converted .tflite on LiteRT (NHWC inside, NCHW I/O).
func TestBurnReferenceVectors(t *testing.T) {
	raw, err := os.ReadFile(fixture(t, "torch/burn/reference_vectors.json"))
	require.NoError(t, err)
	var v burnVectors
	require.NoError(t, json.Unmarshal(raw, &v))
	var nestedOut []float32
	for _, x := range v.Nested.Output[0] {
		nestedOut = append(nestedOut, float32(x))
	}
	half := make([]float32, tensor.NumElements(v.Nested.InputShape))
	for i := range half {
		half[i] = 0.5
	}
	cases := []struct {
		file, arch string
		in         *tensor.Tensor
		want       *tensor.Tensor
		transposes int
	}{
		{"conv2d.pt", "testdata/arch/burn_conv2d.yaml",
			tensor.FromFloat32(v.Conv2D.InputShape, flat4(v.Conv2D.Input)),
			tensor.FromFloat32(v.Conv2D.OutputShape, flat4(v.Conv2D.Output)), 2},
		{"complex_nested.pt", "testdata/arch/burn_complex_nested.yaml",
			tensor.FromFloat32(v.Nested.InputShape, half),
			tensor.FromFloat32(v.Nested.OutputShape, nestedOut), 1},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			g, err := Load(fixture(t, "torch/burn/"+c.file), Options{Arch: c.arch})
			require.NoError(t, err)
			got, err := reference.Run(g, []*tensor.Tensor{c.in})
			require.NoError(t, err)
			require.Equal(t, c.want.Shape, got[0].Shape)
			assert.InDeltaSlice(t, c.want.Float32s(), got[0].Float32s(), 1e-5, "Go reference vs PyTorch")

			model := convertGraph(t, g, false)
			counts := countOps(t, model)
			t.Logf("%s: ops %v", c.file, counts)
			assert.Equal(t, c.transposes, counts["TRANSPOSE"], "TRANSPOSE ops (NCHW input and output kept at the boundary)")
			out := runLiteRT(t, model, []*tensor.Tensor{c.in})
			require.Len(t, out, 1)
			require.Equal(t, c.want.Shape, out[0].Shape)
			assert.InDeltaSlice(t, c.want.Float32s(), out[0].Float32s(), 1e-5, "LiteRT vs PyTorch")
		})
	}
}
