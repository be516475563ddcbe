package tflite

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/internal/bug"
	"github.com/edgeval/edgeval/tensor"
	"github.com/edgeval/edgeval/tflite/internal/fb"
)

// addModel builds y = a + b over float32 [1,4] with a SignatureDef
// "serving_default"; when constB is set, b is a constant instead of an input.
func addModel(t *testing.T, constB bool) []byte {
	t.Helper()
	b := NewBuilder()
	b.SetMinRuntimeVersion("1.5.0")
	sg := b.AddSubgraph("main")
	x := sg.AddTensor(TensorSpec{Name: "a", Type: TypeFloat32, Shape: []int{1, 4}, ShapeSignature: []int{-1, 4}})
	spec := TensorSpec{Name: "b", Type: TypeFloat32, Shape: []int{1, 4}, ShapeSignature: []int{-1, 4}}
	if constB {
		spec.Data = tensor.FromFloat32([]int{1, 4}, []float32{1, 2, 3, 4}).Data
		spec.ShapeSignature = nil
	}
	y := sg.AddTensor(spec)
	mid := sg.AddTensor(TensorSpec{Name: "sum", Type: TypeFloat32, Shape: []int{1, 4}, ShapeSignature: []int{-1, 4}})
	out := sg.AddTensor(TensorSpec{Name: "out", Type: TypeFloat32, Shape: []int{1, 4}, ShapeSignature: []int{-1, 4}})
	sg.AddOperator(OperatorSpec{Op: OpAdd, Inputs: []int{x, y}, Outputs: []int{mid}, Options: &AddOptions{FusedActivationFunction: ActNone, PotScaleInt16: true}})
	sg.AddOperator(OperatorSpec{Op: OpRelu, Inputs: []int{mid}, Outputs: []int{out}})
	inputs := []SignatureTensor{{"a", x}}
	if constB {
		sg.SetInputs(x)
	} else {
		sg.SetInputs(x, y)
		inputs = append(inputs, SignatureTensor{"b", y})
	}
	sg.SetOutputs(out)
	b.AddSignature("serving_default", 0, inputs, []SignatureTensor{{"output_0", out}})
	bytes, err := b.Finish()
	require.NoError(t, err)
	return bytes
}

func TestBuilderRoundTrip(t *testing.T) {
	raw := addModel(t, true)
	assert.Equal(t, "TFL3", string(raw[4:8]))
	m, err := Read(raw)
	require.NoError(t, err)
	assert.EqualValues(t, SchemaVersion, m.Version)
	assert.Equal(t, "edgeval", m.Description)
	assert.Equal(t, "1.5.0", m.MinRuntimeVersion)
	require.NotEmpty(t, m.Buffers)
	assert.Zero(t, m.Buffers[0].Len(), "buffer 0 is the empty sentinel")
	require.Len(t, m.OperatorCodes, 2)
	assert.Equal(t, OperatorCode{Builtin: OpAdd, Version: 1}, m.OperatorCodes[0])
	assert.Equal(t, OperatorCode{Builtin: OpRelu, Version: 1}, m.OperatorCodes[1])

	sg := m.Subgraphs[0]
	assert.Equal(t, "main", sg.Name)
	assert.Equal(t, []int{0}, sg.Inputs)
	assert.Equal(t, []int{3}, sg.Outputs)
	require.Len(t, sg.Operators, 2)
	assert.Equal(t, []int{0, 1}, sg.Operators[0].Inputs)
	assert.EqualValues(t, fb.BuiltinOptionsAddOptions, sg.Operators[0].OptionsType)
	assert.Equal(t, &AddOptions{FusedActivationFunction: ActNone, PotScaleInt16: true}, sg.Operators[0].Options)
	assert.Zero(t, sg.Operators[1].OptionsType)
	assert.Nil(t, sg.Operators[1].Options)
	assert.Equal(t, []int{-1, 4}, sg.Tensors[0].ShapeSignature)
	assert.True(t, sg.Tensors[0].HasRank)

	c, err := m.ConstTensor(0, 1)
	require.NoError(t, err)
	assert.Equal(t, []float32{1, 2, 3, 4}, c.Float32s())
	buf := m.Buffers[sg.Tensors[1].Buffer]
	assert.Zero(t, buf.DataOffset%16, "constant data is 16-byte aligned")

	in, err := m.InputTensors("serving_default")
	require.NoError(t, err)
	require.Len(t, in, 1)
	assert.Equal(t, "a", in[0].Name)
	out, err := m.OutputTensors("serving_default")
	require.NoError(t, err)
	assert.Equal(t, "output_0", out[0].Name)
	assert.Equal(t, "out", out[0].Tensor.Name)

	// The generated reader agrees, including the options table.
	g := fb.GetRootAsModel(raw, 0).UnPack()
	opts, ok := g.Subgraphs[0].Operators[0].BuiltinOptions.Value.(*AddOptions)
	require.True(t, ok)
	assert.True(t, opts.PotScaleInt16)
	assert.EqualValues(t, -1, g.Subgraphs[0].Operators[0].DebugMetadataIndex)
	assert.EqualValues(t, OpAdd, g.OperatorCodes[0].DeprecatedBuiltinCode)
}

func TestBuilderHighOpCodeAndQuant(t *testing.T) {
	b := NewBuilder()
	sg := b.AddSubgraph("main")
	w := sg.AddTensor(TensorSpec{
		Name: "w", Type: TypeInt8, Shape: []int{2, 3}, Data: make([]byte, 6),
		Quant: &tensor.Quant{Scale: []float32{0.5, 0.25}, ZeroPoint: []int64{0, 0}, Axis: 0},
	})
	x := sg.AddTensor(TensorSpec{Name: "x", Type: TypeFloat32, Shape: []int{2, 3}})
	y := sg.AddTensor(TensorSpec{Name: "y", Type: TypeFloat32, Shape: []int{2, 3}})
	sg.AddOperator(OperatorSpec{Op: OpGelu, Inputs: []int{x}, Outputs: []int{y}, Options: &GeluOptions{Approximate: true}})
	sg.SetInputs(x)
	sg.SetOutputs(y, w)
	raw, err := b.Finish()
	require.NoError(t, err)
	m, err := Read(raw)
	require.NoError(t, err)
	assert.Equal(t, OpGelu, m.OperatorCodes[0].Builtin)
	g := fb.GetRootAsModel(raw, 0).UnPack()
	assert.EqualValues(t, OpPlaceholderForGreaterOpCodes, g.OperatorCodes[0].DeprecatedBuiltinCode)
	q := m.Subgraphs[0].Tensors[w].Quant
	require.NotNil(t, q)
	assert.Equal(t, []float32{0.5, 0.25}, q.Scale)
}

func TestBuilderErrors(t *testing.T) {
	tests := []struct {
		name  string
		build func(b *Builder)
		want  string
	}{
		{"no subgraph", func(b *Builder) {}, "no subgraph"},
		{"bad output index", func(b *Builder) { b.AddSubgraph("g").SetOutputs(3) }, "tensor 3 out of range"},
		{"bad operator tensor", func(b *Builder) {
			sg := b.AddSubgraph("g")
			sg.AddOperator(OperatorSpec{Op: OpRelu, Inputs: []int{0}, Outputs: []int{1}})
		}, "operator 0: tensor 0 out of range"},
		{"options of the wrong type", func(b *Builder) {
			sg := b.AddSubgraph("g")
			sg.AddOperator(OperatorSpec{Op: OpAdd, Options: AddOptions{}})
		}, "are not builtin options"},
		{"custom op without a name", func(b *Builder) {
			b.AddSubgraph("g").AddOperator(OperatorSpec{Op: OpCustom})
		}, "custom operator without a name"},
		{"scales do not match the axis", func(b *Builder) {
			b.AddSubgraph("g").AddTensor(TensorSpec{Name: "w", Type: TypeInt8, Shape: []int{3}, Quant: &tensor.Quant{Scale: []float32{1, 2}}})
		}, "2 scales do not match dimension 0"},
		{"signature tensor", func(b *Builder) {
			b.AddSubgraph("g")
			b.AddSignature("s", 0, []SignatureTensor{{"x", 7}}, nil)
		}, `signature "s" "x": tensor 7 out of range`},
		{"buffer index", func(b *Builder) {
			b.AddSubgraph("g").AddTensor(TensorSpec{Name: "w", Buffer: 9})
		}, "buffer 9 out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBuilder()
			tt.build(b)
			_, err := b.Finish()
			assert.ErrorContains(t, err, tt.want)
			var be *bug.Error
			assert.ErrorAs(t, err, &be, "a Builder misused by its caller is an internal error")
		})
	}
}
