package tflite

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/tflite/internal/fb"
)

func ints32(v []int) []int32 {
	if len(v) == 0 {
		return nil
	}
	out := make([]int32, len(v))
	for i, x := range v {
		out[i] = int32(x)
	}
	return out
}

func nonEmpty32(v []int32) []int32 {
	if len(v) == 0 {
		return nil
	}
	return v
}

// The generated code (from schema/schema.fbs) and Read (hand-written slot
// numbers) must decode every real fixture the same way: this checks that the
// schema subset keeps every field in its real slot.
func TestSchemaSlotsMatchFixtures(t *testing.T) {
	for name, b := range allFixtures(t) {
		t.Run(name, func(t *testing.T) {
			m, err := Read(b) // verifies b before the unchecked generated code runs
			require.NoError(t, err)
			g := fb.GetRootAsModel(b, 0).UnPack()
			assert.Equal(t, m.Version, g.Version)
			assert.Equal(t, m.Description, g.Description)
			require.Len(t, g.OperatorCodes, len(m.OperatorCodes))
			for i, c := range g.OperatorCodes {
				assert.Equal(t, m.OperatorCodes[i].Builtin, max(fb.BuiltinOperator(c.DeprecatedBuiltinCode), c.BuiltinCode))
				assert.Equal(t, m.OperatorCodes[i].Custom, c.CustomCode)
				assert.EqualValues(t, m.OperatorCodes[i].Version, c.Version)
			}
			require.Len(t, g.Buffers, len(m.Buffers))
			for i, bf := range g.Buffers {
				assert.Equal(t, len(m.Buffers[i].Data), len(bf.Data))
				assert.Equal(t, m.Buffers[i].Offset, bf.Offset)
			}
			require.Len(t, g.Metadata, len(m.Metadata))
			for i, md := range g.Metadata {
				assert.Equal(t, m.Metadata[i], Metadata{Name: md.Name, Buffer: int(md.Buffer)})
			}
			require.Len(t, g.SignatureDefs, len(m.Signatures))
			for i, s := range g.SignatureDefs {
				assert.Equal(t, m.Signatures[i].Key, s.SignatureKey)
				assert.EqualValues(t, m.Signatures[i].Subgraph, s.SubgraphIndex)
				require.Len(t, s.Outputs, len(m.Signatures[i].Outputs))
				for j, o := range s.Outputs {
					assert.Equal(t, m.Signatures[i].Outputs[j], SignatureTensor{o.Name, int(o.TensorIndex)})
				}
			}
			require.Len(t, g.Subgraphs, len(m.Subgraphs))
			for si, sg := range g.Subgraphs {
				msg := m.Subgraphs[si]
				assert.Equal(t, msg.Name, sg.Name)
				assert.Equal(t, ints32(msg.Inputs), nonEmpty32(sg.Inputs))
				assert.Equal(t, ints32(msg.Outputs), nonEmpty32(sg.Outputs))
				require.Len(t, sg.Tensors, len(msg.Tensors))
				for i, tt := range sg.Tensors {
					mt := msg.Tensors[i]
					assert.Equal(t, mt.Name, tt.Name)
					assert.Equal(t, mt.Type, tt.Type)
					assert.Equal(t, ints32(mt.Shape), nonEmpty32(tt.Shape))
					assert.Equal(t, ints32(mt.ShapeSignature), nonEmpty32(tt.ShapeSignature))
					assert.EqualValues(t, mt.Buffer, tt.Buffer)
					assert.Equal(t, mt.HasRank, tt.HasRank)
					assert.Equal(t, mt.IsVariable, tt.IsVariable)
					assert.Equal(t, mt.Sparse, tt.Sparsity != nil)
					if mt.Quant != nil {
						require.NotNil(t, tt.Quantization)
						assert.Equal(t, mt.Quant.Scale, tt.Quantization.Scale)
					}
				}
				require.Len(t, sg.Operators, len(msg.Operators))
				for i, op := range sg.Operators {
					mo := msg.Operators[i]
					assert.EqualValues(t, mo.OpcodeIndex, op.OpcodeIndex)
					assert.Equal(t, ints32(mo.Inputs), nonEmpty32(op.Inputs))
					assert.Equal(t, ints32(mo.Outputs), nonEmpty32(op.Outputs))
					assert.Equal(t, len(mo.CustomOptions), len(op.CustomOptions))
					if op.BuiltinOptions != nil {
						assert.EqualValues(t, mo.OptionsType, op.BuiltinOptions.Type)
					}
				}
			}
		})
	}
}

// The union members of the schema subset keep their real numbers: every
// operator of the fixtures that carries options carries the member its
// operator kind takes.
func TestSchemaUnionValuesMatchFixtures(t *testing.T) {
	want := map[BuiltinOperator]fb.BuiltinOptions{
		OpConv2D:          fb.BuiltinOptionsConv2DOptions,
		OpDepthwiseConv2D: fb.BuiltinOptionsDepthwiseConv2DOptions,
		OpAveragePool2D:   fb.BuiltinOptionsPool2DOptions,
		OpMaxPool2D:       fb.BuiltinOptionsPool2DOptions,
		OpFullyConnected:  fb.BuiltinOptionsFullyConnectedOptions,
		OpSoftmax:         fb.BuiltinOptionsSoftmaxOptions,
		OpConcatenation:   fb.BuiltinOptionsConcatenationOptions,
		OpAdd:             fb.BuiltinOptionsAddOptions,
		OpL2Normalization: fb.BuiltinOptionsL2NormOptions,
		OpReshape:         fb.BuiltinOptionsReshapeOptions,
		OpMul:             fb.BuiltinOptionsMulOptions,
		OpGather:          fb.BuiltinOptionsGatherOptions,
		OpMean:            fb.BuiltinOptionsReducerOptions,
		OpSum:             fb.BuiltinOptionsReducerOptions,
		OpReduceMin:       fb.BuiltinOptionsReducerOptions,
		OpSub:             fb.BuiltinOptionsSubOptions,
		OpDiv:             fb.BuiltinOptionsDivOptions,
		OpSqueeze:         fb.BuiltinOptionsSqueezeOptions,
		OpLogSoftmax:      fb.BuiltinOptionsLogSoftmaxOptions,
		OpCast:            fb.BuiltinOptionsCastOptions,
		OpTile:            fb.BuiltinOptionsTileOptions,
		OpMirrorPad:       fb.BuiltinOptionsMirrorPadOptions,
		OpBatchMatmul:     fb.BuiltinOptionsBatchMatMulOptions,
		OpSlice:           fb.BuiltinOptionsSliceOptions,
		OpCos:             fb.BuiltinOptionsCosOptions,
		OpQuantize:        fb.BuiltinOptionsQuantizeOptions,
		OpDequantize:      fb.BuiltinOptionsDequantizeOptions,
	}
	checked := map[BuiltinOperator]bool{}
	for name, b := range allFixtures(t) {
		m, err := Read(b)
		require.NoError(t, err, name)
		for _, sg := range m.Subgraphs {
			for _, op := range sg.Operators {
				w, ok := want[op.Builtin]
				if !ok || op.OptionsType == 0 {
					continue
				}
				assert.EqualValues(t, w, op.OptionsType, "%s: %s", name, op.Name())
				checked[op.Builtin] = true
			}
		}
	}
	assert.GreaterOrEqual(t, len(checked), 15, "operator kinds with options seen in the fixtures: %v", checked)
}
