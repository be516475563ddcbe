package tflite

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/converter/keras"
	"github.com/edgeval/edgeval/converter/passes"
	"github.com/edgeval/edgeval/internal/hdf5"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/tensor"
)

// TestKerasModels converts every Keras model that has recorded Keras
// outputs (converter/keras/testdata, made by the real Keras, and the shared
// fixtures) and runs the .tflite in the real runtimes on Keras's inputs: the
// outputs must match Keras's within 1e-5 of the output range.
func TestKerasModels(t *testing.T) {
	npzs, err := filepath.Glob(filepath.Join("..", "keras", "testdata", "*.npz"))
	require.NoError(t, err)
	require.NotEmpty(t, npzs)
	shared := map[string]string{
		"shared_resnet":         "keras/mlcommons-tiny/pretrainedResnet.h5",
		"shared_vww_96":         "keras/mlcommons-tiny/vww_96.h5",
		"shared_ad01":           "keras/mlcommons-tiny/ad01.h5",
		"shared_acetone_concat": "keras/acetone/Concat.h5",
	}
	for _, npz := range npzs {
		base := strings.TrimSuffix(npz, ".npz")
		name := filepath.Base(base)
		if strings.Contains(name, "unsupported") {
			continue // has layers the Keras front-end refuses by design
		}
		t.Run(name, func(t *testing.T) {
			var model string
			var opts keras.Options
			switch {
			case shared[name] != "":
				model = testutil.Fixture(t, shared[name])
			case strings.HasSuffix(name, "weights_only"):
				model, opts.ConfigJSON = base+".weights.h5", base+".json"
			default:
				model = base + ".keras"
				if _, err := os.Stat(model); err != nil {
					model = base + ".h5"
				}
			}
			ins, want := readKerasIO(t, npz)
			opts.Batch = ins[0].Shape[0]
			g, err := keras.Load(model, opts)
			if errors.Is(err, hdf5.ErrNotBuilt) {
				t.Skipf("Keras files need cgo: %v", err)
			}
			require.NoError(t, err)
			c, err := passes.Canonicalize(g, passes.Options{})
			require.NoError(t, err)
			data, nm, err := Convert(c, Options{Batch: opts.Batch})
			require.NoError(t, err)
			m := checkModel(t, c, data, nm)
			for _, rt := range runtimeNames() {
				s := openRuntime(t, rt, data)
				feed := make([]*tensor.Tensor, len(ins))
				for i, in := range ins {
					feed[i] = tensor.FromFloat64s(c.Inputs[i].DType, in.Shape, in.Float64s())
				}
				got := inGraphOrder(t, c, s, runSession(t, s, feed))
				for i := range want {
					d, span := maxDiff(want[i], got[i])
					assert.LessOrEqual(t, d, 1e-5*span, "%s output %d %q: max abs %g over range %g", rt, i, c.Outputs[i].Name, d, span)
					t.Logf("%s output %d: max abs / range = %.2g (%d ops)", rt, i, d/span, len(opNames(m)))
				}
			}
		})
	}
}

// readKerasIO reads the input_i and output_i arrays of a .npz made by
// converter/keras's fixture generator.
func readKerasIO(t *testing.T, npz string) (ins, outs []*tensor.Tensor) {
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
