package tflite

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/tensor"
)

// TestInt8FloatLayers: Options.Float keeps the named values' operators in
// float32 between a DEQUANTIZE and a QUANTIZE (selective quantization), and
// the model still runs within the int8 tolerance; names the graph does not
// compute, and Float without int8, are refused.
func TestInt8FloatLayers(t *testing.T) {
	g := int8Graph(t)
	samples := int8Samples(g, 8)
	ranges := calibrate(t, g, samples)
	data, nm, err := Convert(g, Options{Precision: precision.Int8, Ranges: ranges, Float: []string{"c2"}})
	require.NoError(t, err)
	m := checkModel(t, g, data, nm)
	sg := m.Subgraphs[0]
	for _, op := range sg.Operators {
		out := sg.Tensors[op.Outputs[0]]
		if out.Name == "c2" {
			assert.Equal(t, tensor.Float32, out.DType, "c2 stays float")
			assert.Equal(t, tensor.Float32, sg.Tensors[op.Inputs[1]].DType, "with float weights")
		}
		if out.Name == "c1" {
			assert.Equal(t, tensor.Int8, out.DType, "c1 is still int8")
		}
	}
	assert.Contains(t, opNames(m), "DEQUANTIZE")
	checkInt8Runs(t, g, data, samples, false)

	_, _, err = Convert(g, Options{Precision: precision.Int8, Ranges: ranges, Float: []string{"nope"}})
	assert.ErrorContains(t, err, `Float names ["nope"], which the graph does not compute`)
	_, _, err = Convert(g, Options{Precision: precision.Float16, Float: []string{"c2"}})
	assert.ErrorContains(t, err, "needs precision int8")
}
