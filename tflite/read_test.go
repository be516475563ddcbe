package tflite

import (
	"errors"
	"slices"
	"testing"

	flatbuffers "github.com/google/flatbuffers/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/tensor"
	"github.com/edgeval/edgeval/tflite/internal/fb"
)

func readFixture(t *testing.T, rel string) *Model {
	t.Helper()
	m, err := Read(fixture(t, rel))
	require.NoError(t, err, rel)
	return m
}

func TestReadAllFixtures(t *testing.T) {
	for name, b := range allFixtures(t) {
		t.Run(name, func(t *testing.T) {
			m, err := Read(b)
			require.NoError(t, err)
			assert.EqualValues(t, 3, m.Version)
			require.NotEmpty(t, m.Buffers)
			assert.Zero(t, m.Buffers[0].Len(), "buffer 0 must be the empty sentinel")
			require.NotEmpty(t, m.Subgraphs)
			for si, sg := range m.Subgraphs {
				assert.NotEmpty(t, sg.Outputs, "subgraph %d outputs", si)
				for i, tt := range sg.Tensors {
					assert.Equal(t, i, tt.Index)
					assert.Equal(t, DTypeOf(tt.Type), tt.DType)
					if tt.ShapeSignature != nil {
						assert.Len(t, tt.ShapeSignature, len(tt.Shape), "tensor %q", tt.Name)
					}
					if tt.Quant != nil && len(tt.Quant.Scale) > 1 {
						assert.Equal(t, len(tt.Quant.Scale), tt.Shape[tt.Quant.Axis], "tensor %q", tt.Name)
					}
				}
				for _, op := range sg.Operators {
					assert.NotEmpty(t, op.Name())
				}
			}
		})
	}
}

func TestReadFacts(t *testing.T) {
	t.Run("hello_world_int8 input is int8 [1,1] q(0.02448,-128)", func(t *testing.T) {
		m := readFixture(t, "tflite/tflite-micro/hello_world_int8.tflite")
		in, err := m.InputTensors("")
		require.NoError(t, err)
		require.Len(t, in, 1)
		tt := in[0].Tensor
		assert.Equal(t, tensor.Int8, tt.DType)
		assert.Equal(t, TypeInt8, tt.Type)
		assert.Equal(t, []int{1, 1}, tt.Shape)
		assert.Equal(t, []int{-1, 1}, tt.ShapeSignature)
		require.NotNil(t, tt.Quant)
		assert.InDelta(t, 0.02448, tt.Quant.Scale[0], 1e-5)
		assert.Equal(t, []int64{-128}, tt.Quant.ZeroPoint)
		out, err := m.OutputTensors("serving_default")
		require.NoError(t, err)
		require.Len(t, out, 1)
		assert.Equal(t, "dense_2", out[0].Name)
		assert.InDelta(t, 0.00829, out[0].Tensor.Quant.Scale[0], 1e-5)
		assert.Equal(t, []int64{5}, out[0].Tensor.Quant.ZeroPoint)
		assert.Equal(t, "1.14.0", m.MinRuntimeVersion)
		for _, op := range m.Subgraphs[0].Operators {
			assert.Equal(t, OpFullyConnected, op.Builtin)
		}
	})
	t.Run("person_detect TOCO op codes resolve through deprecated_builtin_code", func(t *testing.T) {
		m := readFixture(t, "tflite/tflite-micro/person_detect.tflite")
		count := map[BuiltinOperator]int{}
		for _, op := range m.Subgraphs[0].Operators {
			count[op.Builtin]++
		}
		assert.Equal(t, 14, count[OpDepthwiseConv2D])
		assert.Equal(t, 14, count[OpConv2D])
		assert.Equal(t, 1, count[OpAveragePool2D])
		assert.Equal(t, 1, count[OpReshape])
		assert.Equal(t, 1, count[OpSoftmax])
		in := m.Subgraphs[0].Tensors[m.Subgraphs[0].Inputs[0]]
		assert.Equal(t, []int{1, 96, 96, 1}, in.Shape)
		assert.Equal(t, []int64{-1}, in.Quant.ZeroPoint)
		assert.InDelta(t, 1/127.5, in.Quant.Scale[0], 1e-6)
		assert.Empty(t, m.MinRuntimeVersion)
	})
	t.Run("multi_signature_model has signatures add, mul, sub", func(t *testing.T) {
		m := readFixture(t, "tflite/litert/multi_signature_model.tflite")
		require.Len(t, m.Signatures, 3)
		for i, key := range []string{"add", "mul", "sub"} {
			s, err := m.Signature(key)
			require.NoError(t, err)
			assert.Equal(t, i, s.Subgraph)
			assert.Equal(t, []SignatureTensor{{"a", 1}, {"b", 0}}, s.Inputs)
			assert.Equal(t, []SignatureTensor{{"output", 2}}, s.Outputs)
			in, err := m.InputTensors(key)
			require.NoError(t, err)
			assert.Equal(t, key+"_a:0", in[0].Tensor.Name)
		}
		_, err := m.Signature("div")
		assert.ErrorContains(t, err, `no signature "div"`)
	})
	t.Run("simple_add_dynamic_shape has -1 in shape_signature", func(t *testing.T) {
		m := readFixture(t, "tflite/litert/simple_add_dynamic_shape.tflite")
		for _, tt := range m.Subgraphs[0].Tensors {
			if tt.Buffer != 0 && m.Buffers[tt.Buffer].Len() > 0 {
				continue
			}
			assert.Equal(t, []int{-1, 128, 4}, tt.ShapeSignature, tt.Name)
			assert.Equal(t, []int{1, 128, 4}, tt.Shape, tt.Name)
			assert.True(t, tt.IsDynamic())
		}
	})
	t.Run("MTKEXT_CONV_2D is a custom op", func(t *testing.T) {
		m := readFixture(t, "tflite/litert/MTKEXT_CONV_2D.tflite")
		require.Len(t, m.OperatorCodes, 1)
		assert.Equal(t, OpCustom, m.OperatorCodes[0].Builtin)
		assert.Equal(t, "MTKEXT_CONV_2D", m.OperatorCodes[0].Custom)
		op := m.Subgraphs[0].Operators[0]
		assert.Equal(t, "MTKEXT_CONV_2D", op.Name())
		assert.NotEmpty(t, op.CustomOptions)
	})
	t.Run("pretrainedResnet_quant has per-axis conv weights", func(t *testing.T) {
		m := readFixture(t, "keras/mlcommons-tiny/pretrainedResnet_quant.tflite")
		sg := m.Subgraphs[0]
		convs := 0
		for _, op := range sg.Operators {
			if op.Builtin != OpConv2D {
				continue
			}
			convs++
			w := sg.Tensors[op.Inputs[1]]
			require.NotNil(t, w.Quant, w.Name)
			assert.Equal(t, 0, w.Quant.Axis, w.Name)
			assert.Len(t, w.Quant.Scale, w.Shape[0], w.Name)
			assert.Greater(t, len(w.Quant.Scale), 1, w.Name)
			data, err := m.TensorData(0, op.Inputs[1])
			require.NoError(t, err)
			assert.Len(t, data, tensor.NumElements(w.Shape), w.Name)
			ct, err := m.ConstTensor(0, op.Inputs[1])
			require.NoError(t, err)
			assert.Equal(t, tensor.Int8, ct.DType)
		}
		assert.Equal(t, 9, convs)
	})
	t.Run("mlcommons models report min_runtime_version", func(t *testing.T) {
		for _, f := range []string{"ad01_fp32", "ad01_int8", "pretrainedResnet", "pretrainedResnet_quant", "vww_96_float", "vww_96_int8"} {
			m := readFixture(t, "keras/mlcommons-tiny/"+f+".tflite")
			assert.Equal(t, "1.5.0", m.MinRuntimeVersion, f)
			assert.Equal(t, "MLIR Converted.", m.Description, f)
			assert.Equal(t, []Metadata{{Name: "min_runtime_version", Buffer: len(m.Buffers) - 1}}, m.Metadata, f)
		}
	})
	t.Run("blockwise quantization is reported", func(t *testing.T) {
		m := readFixture(t, "tflite/litert/blockwise_quantized.tflite")
		i := slices.IndexFunc(m.Subgraphs[0].Tensors, func(tt Tensor) bool { return tt.QuantDetails != "" })
		require.GreaterOrEqual(t, i, 0)
		assert.Equal(t, "BlockwiseQuantization", m.Subgraphs[0].Tensors[i].QuantDetails)
	})
	t.Run("StableHLO composite names its decomposition", func(t *testing.T) {
		m := readFixture(t, "tflite/litert/group_norm_2_groups_op.tflite")
		op := m.Subgraphs[0].Operators[0]
		assert.Equal(t, OpStablehloComposite, op.Builtin)
		assert.Equal(t, "odml.group_norm", op.CompositeName)
		assert.Equal(t, "XlaCallModule_odml.group_norm.impl_0", m.Subgraphs[1].Name)
	})
	t.Run("builtin options decode", func(t *testing.T) {
		m := readFixture(t, "keras/mlcommons-tiny/pretrainedResnet.tflite")
		byOp := map[BuiltinOperator]any{}
		for _, op := range m.Subgraphs[0].Operators {
			if _, ok := byOp[op.Builtin]; !ok {
				byOp[op.Builtin] = op.Options
			}
		}
		assert.Equal(t, &Conv2DOptions{Padding: PaddingSame, StrideW: 1, StrideH: 1, FusedActivationFunction: ActRelu, DilationWFactor: 1, DilationHFactor: 1}, byOp[OpConv2D])
		assert.Equal(t, &Pool2DOptions{Padding: PaddingValid, StrideW: 8, StrideH: 8, FilterWidth: 8, FilterHeight: 8}, byOp[OpAveragePool2D])
		assert.Equal(t, &AddOptions{FusedActivationFunction: ActRelu, PotScaleInt16: true}, byOp[OpAdd])
		assert.Equal(t, &SoftmaxOptions{Beta: 1}, byOp[OpSoftmax])

		pd := readFixture(t, "tflite/tflite-micro/person_detect.tflite")
		for _, op := range pd.Subgraphs[0].Operators {
			if op.Builtin == OpReshape {
				assert.Equal(t, &ReshapeOptions{NewShape: []int32{1, 2}}, op.Options)
			}
		}
		sq := readFixture(t, "tflite/litert/simple_squeeze.tflite")
		assert.Equal(t, &SqueezeOptions{SqueezeDims: []int32{1}}, sq.Subgraphs[0].Operators[0].Options)
	})
	t.Run("string tensors keep their raw type", func(t *testing.T) {
		m := readFixture(t, "tflite/litert/gather_string.tflite")
		in := m.Subgraphs[0].Tensors[0]
		assert.Equal(t, TypeString, in.Type)
		assert.Equal(t, tensor.Invalid, in.DType)
		assert.Equal(t, TypeInt64, m.Subgraphs[0].Tensors[1].Type)
	})
}

func TestReadRejectsMalformed(t *testing.T) {
	good := fixture(t, "tflite/tflite-micro/hello_world_int8.tflite")
	corrupt := func(off int, v ...byte) []byte {
		b := slices.Clone(good)
		copy(b[off:], v)
		return b
	}
	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "too short"},
		{"seven bytes", good[:7], "too short"},
		{"wrong identifier", corrupt(4, 'X'), "file identifier"},
		{"root offset past the end", corrupt(0, 0xff, 0xff, 0xff, 0x7f), "outside the file"},
		{"truncated to the header", good[:16], "outside the file"},
		{"truncated to half", good[:len(good)/2], "outside the file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Read(tt.b)
			require.Error(t, err)
			assert.Nil(t, m)
			var fe *FormatError
			require.True(t, errors.As(err, &fe), "error %v is not a *FormatError", err)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

func TestReadRejectsBadQuantization(t *testing.T) {
	tests := []struct {
		name  string
		quant *fb.QuantizationParametersT
		want  string
	}{
		{"axis out of range", &fb.QuantizationParametersT{Scale: []float32{1, 2}, ZeroPoint: []int64{0, 0}, QuantizedDimension: 5}, "quantized_dimension 5 out of range for shape [1 4]"},
		{"scales do not match the axis", &fb.QuantizationParametersT{Scale: []float32{1, 2}, ZeroPoint: []int64{0, 0}, QuantizedDimension: 1}, "2 scales do not match dimension 1"},
		{"zero points do not match the scales", &fb.QuantizationParametersT{Scale: []float32{1, 2, 3, 4}, ZeroPoint: []int64{0}, QuantizedDimension: 1}, "4 scales but 1 zero points"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := fb.GetRootAsModel(addModel(t, false), 0).UnPack()
			g.Subgraphs[0].Tensors[0].Quantization = tt.quant
			fbb := flatbuffers.NewBuilder(0)
			fbb.FinishWithFileIdentifier(g.Pack(fbb), []byte(fileIdentifier))
			_, err := Read(fbb.FinishedBytes())
			var fe *FormatError
			require.ErrorAs(t, err, &fe)
			assert.ErrorContains(t, err, tt.want)
			assert.ErrorContains(t, err, `tensor 0 "a"`)
		})
	}
}

// Every prefix and many single-byte corruptions of a real model either read
// or fail with a *FormatError; none panics.
func TestReadNeverPanics(t *testing.T) {
	good := fixture(t, "tflite/tflite-micro/hello_world_int8.tflite")
	_, l, err := decode(good)
	require.NoError(t, err)
	for n := range len(good) {
		m, err := Read(good[:n])
		if int64(n) < l.end {
			require.Error(t, err, "prefix of %d bytes (objects reach %d)", n, l.end)
		}
		if err != nil {
			var fe *FormatError
			require.ErrorAs(t, err, &fe)
			require.NotContains(t, err.Error(), "internal decoding failure")
			assert.Nil(t, m)
		}
	}
	rng := tensor.NewRNG(1)
	for range 20000 {
		b := slices.Clone(good)
		for range 1 + rng.IntN(4) {
			b[rng.IntN(len(b))] = byte(rng.IntN(256))
		}
		_, err := Read(b)
		if err != nil {
			require.NotContains(t, err.Error(), "internal decoding failure")
		}
	}
}
