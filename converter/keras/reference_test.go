//go:build cgo

package keras

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/hdf5"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/tensor"
)

// tolerance is the acceptance bound: max abs error ≤ 1e-5 × output range.
const tolerance = 1e-5

// TestGeneratedFixtures runs every model of testdata (made by the real
// Keras, see testdata/gen/keras3_fixtures.py) through Load and the Go
// reference, and compares with the outputs Keras computed.
func TestGeneratedFixtures(t *testing.T) {
	npzs, err := filepath.Glob("testdata/*.npz")
	require.NoError(t, err)
	require.NotEmpty(t, npzs)
	for _, npz := range npzs {
		base := strings.TrimSuffix(npz, ".npz")
		if strings.HasPrefix(filepath.Base(base), "shared_") || strings.HasSuffix(base, "weights_only") {
			continue // tested below
		}
		model := base + ".keras"
		if _, err := os.Stat(model); err != nil {
			model = base + ".h5"
		}
		t.Run(filepath.Base(base), func(t *testing.T) {
			ins, want := readIO(t, npz)
			g, err := Load(model, Options{Batch: ins[0].Shape[0]})
			if strings.Contains(base, "unsupported") {
				var ue *UnsupportedError
				require.ErrorAs(t, err, &ue)
				return
			}
			require.NoError(t, err)
			checkAgainstKeras(t, g, ins, want)
		})
	}
}

// readIO reads input_i and output_i arrays of a generated .npz.
func readIO(t *testing.T, npz string) (ins, want []*tensor.Tensor) {
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
		want = append(want, byName[fmt.Sprintf("output_%d", i)])
	}
	require.NotEmpty(t, ins)
	require.NotEmpty(t, want)
	return ins, want
}

// checkAgainstKeras runs g on ins in the reference and compares every
// output with Keras's.
func checkAgainstKeras(t *testing.T, g *graph.Graph, ins, want []*tensor.Tensor) {
	require.Len(t, g.Outputs, len(want))
	for i, in := range ins {
		if g.Inputs[i].DType == tensor.Float32 {
			ins[i] = asFloat32(in)
		}
	}
	got, err := reference.Run(g, ins)
	require.NoError(t, err)
	for i := range want {
		e := relErr(t, got[i], want[i])
		assert.LessOrEqual(t, e, tolerance, "output %d (%s): max error / range", i, g.Outputs[i].Name)
		t.Logf("output %d %s: max error / range = %.2g", i, g.Outputs[i].Name, e)
	}
}

// TestSharedFixturesAgainstKeras compares the reference with the outputs
// tf_keras 2.21 computed for the shared fixtures on seeded inputs (see
// testdata/gen/keras3_fixtures.py).
func TestSharedFixturesAgainstKeras(t *testing.T) {
	for _, tc := range []struct{ npz, rel string }{
		{"shared_resnet", "keras/mlcommons-tiny/pretrainedResnet.h5"},
		{"shared_vww_96", "keras/mlcommons-tiny/vww_96.h5"},
		{"shared_ad01", "keras/mlcommons-tiny/ad01.h5"},
		{"shared_acetone_concat", "keras/acetone/Concat.h5"},
	} {
		t.Run(tc.npz, func(t *testing.T) {
			ins, want := readIO(t, filepath.Join("testdata", tc.npz+".npz"))
			g, err := Load(fixture(t, tc.rel), Options{Batch: ins[0].Shape[0]})
			require.NoError(t, err)
			checkAgainstKeras(t, g, ins, want)
		})
	}
}

// TestKeras3WeightsOnly: a Keras 3 save_weights file (layers/.../vars)
// with the model's to_json().
func TestKeras3WeightsOnly(t *testing.T) {
	ins, want := readIO(t, "testdata/k3_weights_only.npz")
	g, err := Load("testdata/k3_weights_only.weights.h5", Options{ConfigJSON: "testdata/k3_weights_only.json", Batch: ins[0].Shape[0]})
	require.NoError(t, err)
	checkAgainstKeras(t, g, ins, want)
}

// TestDL4JCNNBatchNorm: Keras 2.1.3 Sequential conv + BN, predictions
// recorded by Keras (REF-EXACT).
func TestDL4JCNNBatchNorm(t *testing.T) {
	in, err := tensor.ReadNPYFile(fixture(t, "keras/dl4j/cnn_batch_norm_input.npy"))
	require.NoError(t, err)
	want, err := tensor.ReadNPYFile(fixture(t, "keras/dl4j/cnn_batch_norm_predictions.npy"))
	require.NoError(t, err)
	g, err := Load(fixture(t, "keras/dl4j/cnn_batch_norm.h5"), Options{Batch: in.Shape[0]})
	require.NoError(t, err)
	got, err := reference.Run(g, []*tensor.Tensor{asFloat32(in)})
	require.NoError(t, err)
	e := relErr(t, got[0], want)
	t.Logf("max error / range = %.2g", e)
	assert.LessOrEqual(t, e, tolerance)
}

// TestDL4JSparseXent: Keras 2.3.1 full model and the weights-only file with
// its to_json() config; inputs and predictions from the DL4J harness file.
func TestDL4JSparseXent(t *testing.T) {
	io, err := hdf5.Open(fixture(t, "keras/dl4j/simple_sparse_xent_mlp_keras_2_inputs_and_outputs.h5"))
	require.NoError(t, err)
	defer io.Close()
	in, err := io.ReadDataset("inputs/dense_1_input")
	require.NoError(t, err)
	want, err := io.ReadDataset("predictions/activation_1")
	require.NoError(t, err)

	modelPath := fixture(t, "keras/dl4j/simple_sparse_xent_mlp_keras_2_model.h5")
	mf, err := hdf5.Open(modelPath)
	require.NoError(t, err)
	cfg, err := mf.AttrString("/", "model_config")
	require.NoError(t, err)
	require.NoError(t, mf.Close())
	jsonPath := filepath.Join(t.TempDir(), "model.json")
	require.NoError(t, os.WriteFile(jsonPath, []byte(cfg), 0o644))

	for _, tc := range []struct {
		name string
		path string
		opts Options
	}{
		{"full model", modelPath, Options{}},
		{"weights only + to_json", fixture(t, "keras/dl4j/simple_sparse_xent_mlp_keras_2_weights.h5"), Options{ConfigJSON: jsonPath}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Batch = in.Shape[0]
			g, err := Load(tc.path, tc.opts)
			require.NoError(t, err)
			got, err := reference.Run(g, []*tensor.Tensor{asFloat32(in)})
			require.NoError(t, err)
			e := relErr(t, got[0], want)
			t.Logf("max error / range = %.2g", e)
			assert.LessOrEqual(t, e, tolerance)
		})
	}
}

// readHexRows reads acetone's text format: one JSON list of C99 hex floats
// per line.
func readHexRows(t *testing.T, path string) [][]float32 {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var rows [][]float32
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var strs []string
		require.NoError(t, json.Unmarshal([]byte(line), &strs))
		row := make([]float32, len(strs))
		for i, s := range strs {
			v, err := strconv.ParseFloat(s, 32)
			require.NoError(t, err, "hex float %q", s)
			row[i] = float32(v)
		}
		rows = append(rows, row)
	}
	require.NoError(t, sc.Err())
	return rows
}

// TestAcetoneACAS: tf.keras 2.5 MLP, 1000 inputs and Keras outputs.
func TestAcetoneACAS(t *testing.T) {
	ins := readHexRows(t, fixture(t, "keras/acetone/acas_decr128_test_input.txt"))
	outs := readHexRows(t, fixture(t, "keras/acetone/acas_decr128_output_keras.txt"))
	require.Len(t, ins, 1000)
	require.Len(t, outs, 1000)
	flatIn := make([]float32, 0, 5000)
	flatOut := make([]float32, 0, 5000)
	for i := range ins {
		flatIn = append(flatIn, ins[i]...)
		flatOut = append(flatOut, outs[i]...)
	}
	g, err := Load(fixture(t, "keras/acetone/acas_decr128.h5"), Options{Batch: 1000})
	require.NoError(t, err)
	got, err := reference.Run(g, []*tensor.Tensor{tensor.FromFloat32([]int{1000, 5}, flatIn)})
	require.NoError(t, err)
	e := relErr(t, got[0], tensor.FromFloat32([]int{1000, 5}, flatOut))
	t.Logf("1000 vectors: max error / range = %.2g", e)
	assert.LessOrEqual(t, e, tolerance)
}
