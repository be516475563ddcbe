package litert

import (
	"encoding/binary"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tensor"
	"github.com/edgeval/edgeval/tflite"
)

func i32(v ...int32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(x))
	}
	return b
}

// chainModel is what the real TF converter writes for Keras Reshape and
// Conv2DTranspose: the target shape PACK(SHAPE(x)[0], dims...) is computed
// at run time (tensor 4). op is "reshape" (x [-1,8,7,6] to [-1, dims...],
// declared [1,1,3] like keras/reshape_neg1 when dims has a -1),
// "transpose_conv" (1x1, output channels 2·x0 and 3·x1 − x0) or
// "intermediate" (the RESHAPE feeds an ADD that computes the output, like
// keras/dense_rank3's Tensordot).
func chainModel(op string, dims ...int32) func() ([]byte, error) {
	return func() ([]byte, error) {
		b := tflite.NewBuilder()
		sg := b.AddSubgraph("main")
		xShape := []int{1, 8, 7, 6}
		if op == "transpose_conv" {
			xShape = []int{1, 3, 3, 2}
		}
		x := sg.AddTensor(tflite.TensorSpec{Name: "x", Type: tflite.TypeFloat32, Shape: xShape, ShapeSignature: append([]int{-1}, xShape[1:]...)})
		shape := sg.AddTensor(tflite.TensorSpec{Name: "shape", Type: tflite.TypeInt32, Shape: []int{4}})
		begin := sg.AddTensor(tflite.TensorSpec{Name: "begin", Type: tflite.TypeInt32, Shape: []int{1}, Data: i32(0)})
		end := sg.AddTensor(tflite.TensorSpec{Name: "end", Type: tflite.TypeInt32, Shape: []int{1}, Data: i32(1)})
		target := sg.AddTensor(tflite.TensorSpec{Name: "target", Type: tflite.TypeInt32, Shape: []int{len(dims) + 1}})
		batch := sg.AddTensor(tflite.TensorSpec{Name: "batch", Type: tflite.TypeInt32, Shape: []int{}})
		sg.AddOperator(tflite.OperatorSpec{Op: tflite.OpShape, Inputs: []int{x}, Outputs: []int{shape}, Options: &tflite.ShapeOptions{OutType: tflite.TypeInt32}})
		sg.AddOperator(tflite.OperatorSpec{Op: tflite.OpStridedSlice, Inputs: []int{shape, begin, end, end}, Outputs: []int{batch}, Options: &tflite.StridedSliceOptions{ShrinkAxisMask: 1}})
		pack := []int{batch}
		declared, sig := []int{1}, []int{-1}
		for _, d := range dims {
			pack = append(pack, sg.AddTensor(tflite.TensorSpec{Name: "dim", Type: tflite.TypeInt32, Shape: []int{}, Data: i32(d)}))
			declared, sig = append(declared, max(int(d), 1)), append(sig, int(d))
		}
		sg.AddOperator(tflite.OperatorSpec{Op: tflite.OpPack, Inputs: pack, Outputs: []int{target}, Options: &tflite.PackOptions{ValuesCount: int32(len(pack))}})
		y := sg.AddTensor(tflite.TensorSpec{Name: "y", Type: tflite.TypeFloat32, Shape: declared, ShapeSignature: sig})
		out := y
		switch op {
		case "transpose_conv":
			w := sg.AddTensor(tflite.TensorSpec{Name: "w", Type: tflite.TypeFloat32, Shape: []int{2, 1, 1, 2}, Data: tensor.FromFloat32([]int{4}, []float32{2, 0, -1, 3}).Data})
			sg.AddOperator(tflite.OperatorSpec{Op: tflite.OpTransposeConv, Inputs: []int{target, w, x}, Outputs: []int{y},
				Options: &tflite.TransposeConvOptions{Padding: tflite.PaddingValid, StrideW: 1, StrideH: 1}})
		default:
			sg.AddOperator(tflite.OperatorSpec{Op: tflite.OpReshape, Inputs: []int{x, target}, Outputs: []int{y}})
		}
		if op == "intermediate" {
			out = sg.AddTensor(tflite.TensorSpec{Name: "z", Type: tflite.TypeFloat32, Shape: declared, ShapeSignature: sig})
			sg.AddOperator(tflite.OperatorSpec{Op: tflite.OpAdd, Inputs: []int{y, y}, Outputs: []int{out}, Options: &tflite.AddOptions{}})
		}
		sg.SetInputs(x)
		sg.SetOutputs(out)
		b.AddSignature("serving_default", 0, []tflite.SignatureTensor{{Name: "in_0", Tensor: x}}, []tflite.SignatureTensor{{Name: "out", Tensor: out}})
		return b.Finish()
	}
}

// identityModel has no operator: its output is its input (the real
// converter's Keras Activation('linear')).
func identityModel() ([]byte, error) {
	b := tflite.NewBuilder()
	sg := b.AddSubgraph("main")
	x := sg.AddTensor(tflite.TensorSpec{Name: "x", Type: tflite.TypeFloat32, Shape: []int{1, 4}, ShapeSignature: []int{-1, 4}})
	sg.SetInputs(x)
	sg.SetOutputs(x)
	b.AddSignature("serving_default", 0, []tflite.SignatureTensor{{Name: "in_0", Tensor: x}}, []tflite.SignatureTensor{{Name: "activation", Tensor: x}})
	return b.Finish()
}

// shapeInputModel reshapes x [2,3] to the shape given by its second input:
// the output's shape depends on input values.
func shapeInputModel() ([]byte, error) {
	b := tflite.NewBuilder()
	sg := b.AddSubgraph("main")
	x := sg.AddTensor(tflite.TensorSpec{Name: "x", Type: tflite.TypeFloat32, Shape: []int{2, 3}})
	s := sg.AddTensor(tflite.TensorSpec{Name: "shape", Type: tflite.TypeInt32, Shape: []int{2}})
	y := sg.AddTensor(tflite.TensorSpec{Name: "y", Type: tflite.TypeFloat32, Shape: []int{3, 2}})
	sg.AddOperator(tflite.OperatorSpec{Op: tflite.OpReshape, Inputs: []int{x, s}, Outputs: []int{y}})
	sg.SetInputs(x, s)
	sg.SetOutputs(y)
	return b.Finish()
}

// whereModel returns the coordinates of the true elements of a bool
// input: WHERE's output shape depends on the values.
func whereModel() ([]byte, error) {
	b := tflite.NewBuilder()
	sg := b.AddSubgraph("main")
	x := sg.AddTensor(tflite.TensorSpec{Name: "x", Type: tflite.TypeBool, Shape: []int{4}})
	y := sg.AddTensor(tflite.TensorSpec{Name: "y", Type: tflite.TypeInt64, Shape: []int{4, 1}})
	sg.AddOperator(tflite.OperatorSpec{Op: tflite.OpWhere, Inputs: []int{x}, Outputs: []int{y}})
	sg.SetInputs(x)
	sg.SetOutputs(y)
	return b.Finish()
}

// shapeDirectModel reshapes x to SHAPE(x): TFLite evaluates SHAPE when it
// prepares the model, so nothing needs folding.
func shapeDirectModel() ([]byte, error) {
	b := tflite.NewBuilder()
	sg := b.AddSubgraph("main")
	x := sg.AddTensor(tflite.TensorSpec{Name: "x", Type: tflite.TypeFloat32, Shape: []int{1, 4}})
	s := sg.AddTensor(tflite.TensorSpec{Name: "s", Type: tflite.TypeInt32, Shape: []int{2}})
	y := sg.AddTensor(tflite.TensorSpec{Name: "y", Type: tflite.TypeFloat32, Shape: []int{1, 4}})
	sg.AddOperator(tflite.OperatorSpec{Op: tflite.OpShape, Inputs: []int{x}, Outputs: []int{s}, Options: &tflite.ShapeOptions{OutType: tflite.TypeInt32}})
	sg.AddOperator(tflite.OperatorSpec{Op: tflite.OpReshape, Inputs: []int{x, s}, Outputs: []int{y}})
	sg.SetInputs(x)
	sg.SetOutputs(y)
	return b.Finish()
}

// shapeOutputModel returns SHAPE(x) of x [1,4] and x+x.
func shapeOutputModel() ([]byte, error) {
	b := tflite.NewBuilder()
	sg := b.AddSubgraph("main")
	x := sg.AddTensor(tflite.TensorSpec{Name: "x", Type: tflite.TypeFloat32, Shape: []int{1, 4}})
	s := sg.AddTensor(tflite.TensorSpec{Name: "s", Type: tflite.TypeInt32, Shape: []int{2}})
	y := sg.AddTensor(tflite.TensorSpec{Name: "y", Type: tflite.TypeFloat32, Shape: []int{1, 4}})
	sg.AddOperator(tflite.OperatorSpec{Op: tflite.OpShape, Inputs: []int{x}, Outputs: []int{s}, Options: &tflite.ShapeOptions{OutType: tflite.TypeInt32}})
	sg.AddOperator(tflite.OperatorSpec{Op: tflite.OpAdd, Inputs: []int{x, x}, Outputs: []int{y}, Options: &tflite.AddOptions{}})
	sg.SetInputs(x)
	sg.SetOutputs(s, y)
	return b.Finish()
}

func built(tb testing.TB, f func() ([]byte, error)) []byte {
	tb.Helper()
	b, err := f()
	require.NoError(tb, err)
	return b
}

// analyzeShapes finds the converter's shape chains that feed an output's
// operator, leaves alone those that do not (dense_rank3's Tensordot) and
// SHAPE used directly, finds outputs that are inputs, and explains outputs
// whose shape depends on input values.
func TestAnalyzeShapes(t *testing.T) {
	for _, c := range []struct {
		name    string
		model   []byte
		fold    []int
		aliases map[int]int
		dynamic string
	}{
		{name: "reshape", model: built(t, chainModel("reshape", 7, 8, 6)), fold: []int{4}},
		{name: "reshape_neg1", model: built(t, chainModel("reshape", -1, 3)), fold: []int{4}},
		{name: "transpose_conv", model: built(t, chainModel("transpose_conv", 3, 3, 2)), fold: []int{4}},
		{name: "intermediate", model: built(t, chainModel("intermediate", 7, 8, 6))},
		{name: "identity", model: built(t, identityModel), aliases: map[int]int{0: 0}},
		{name: "shape_direct", model: built(t, shapeDirectModel)},
		{name: "shape_output", model: built(t, shapeOutputModel), fold: []int{1}},
		{name: "shape_from_input", model: built(t, shapeInputModel), dynamic: `output 0 "y": operator 0 RESHAPE takes its shape input 1 "shape" from values computed at run time`},
		{name: "where", model: built(t, whereModel), dynamic: `output 0 "y": operator 0 WHERE computes its output shape from its input values`},
	} {
		t.Run(c.name, func(t *testing.T) {
			pinned, err := tflite.PinDynamicDims(c.model, 1)
			require.NoError(t, err)
			m, err := tflite.Read(pinned)
			require.NoError(t, err)
			key := ""
			if len(m.Signatures) > 0 {
				key = m.Signatures[0].Key
			}
			p, err := analyzeShapes(m, key)
			require.NoError(t, err)
			assert.Equal(t, c.fold, p.fold, "tensors to fold")
			if c.aliases == nil {
				c.aliases = map[int]int{}
			}
			assert.Equal(t, c.aliases, p.aliases, "outputs that are inputs")
			if c.dynamic == "" {
				assert.Empty(t, p.dynamic)
			} else {
				assert.Equal(t, []string{c.dynamic}, p.dynamic)
			}
			assert.Equal(t, len(c.fold) > 0 || len(c.aliases) > 0, p.needsRewrite())
		})
	}
}

// Open refuses a model whose output shape depends on input values with a
// *runtime.Error wrapping ErrDynamicOutput, before starting Node.
func TestOpenDynamicOutput(t *testing.T) {
	for _, f := range []func() ([]byte, error){shapeInputModel, whereModel} {
		_, err := New().Open(t.Context(), built(t, f), runtime.Options{})
		var re *runtime.Error
		require.ErrorAs(t, err, &re)
		assert.ErrorIs(t, err, ErrDynamicOutput)
		assert.Equal(t, "load", re.Op)
	}
}

// rebuildModel with an empty edit writes the same model: every operator,
// tensor, buffer and signature reads back equal.
func TestRebuildModelKeepsEverything(t *testing.T) {
	for _, c := range []struct {
		name  string
		model []byte
	}{
		{"transpose_conv", built(t, chainModel("transpose_conv", 3, 3, 2))},
		{"vww_96_int8", readFixture(t, "keras/mlcommons-tiny/vww_96_int8.tflite")},
		{"pretrainedResnet", readFixture(t, "keras/mlcommons-tiny/pretrainedResnet.tflite")},
		{"person_detect", readFixture(t, "tflite/tflite-micro/person_detect.tflite")},
		{"multi_signature_model", readFixture(t, "tflite/litert/multi_signature_model.tflite")},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := tflite.Read(c.model)
			require.NoError(t, err)
			out, err := rebuildModel(m, &edit{})
			require.NoError(t, err)
			r, err := tflite.Read(out)
			require.NoError(t, err)
			assert.Equal(t, m.Signatures, r.Signatures)
			require.Len(t, r.Subgraphs, len(m.Subgraphs))
			for si := range m.Subgraphs {
				a, b := &m.Subgraphs[si], &r.Subgraphs[si]
				assert.Equal(t, a.Inputs, b.Inputs)
				assert.Equal(t, a.Outputs, b.Outputs)
				require.Len(t, b.Tensors, len(a.Tensors))
				for ti := range a.Tensors {
					x, y := a.Tensors[ti], b.Tensors[ti]
					assert.Equal(t, []any{x.Name, x.Type, x.Shape, x.ShapeSignature, x.Quant, x.IsVariable},
						[]any{y.Name, y.Type, y.Shape, y.ShapeSignature, y.Quant, y.IsVariable}, "tensor %d", ti)
					dx, err := m.TensorData(si, ti)
					require.NoError(t, err)
					dy, err := r.TensorData(si, ti)
					require.NoError(t, err)
					assert.Equal(t, dx, dy, "tensor %d data", ti)
				}
				require.Len(t, b.Operators, len(a.Operators))
				for oi := range a.Operators {
					x, y := a.Operators[oi], b.Operators[oi]
					assert.Equal(t, []any{x.Builtin, x.Custom, x.Version, x.Inputs, x.Outputs, x.Options},
						[]any{y.Builtin, y.Custom, y.Version, y.Inputs, y.Outputs, y.Options}, "operator %d", oi)
				}
			}
		})
	}
}

// checkRebuildable names what tflite.Builder cannot write again.
func TestCheckRebuildable(t *testing.T) {
	op := func(o tflite.Operator) *tflite.Model {
		o.Builtin = tflite.OpAdd
		return &tflite.Model{Subgraphs: []tflite.Subgraph{{Operators: []tflite.Operator{o}}}}
	}
	ten := func(tt tflite.Tensor) *tflite.Model {
		tt.Name = "w"
		return &tflite.Model{Subgraphs: []tflite.Subgraph{{Tensors: []tflite.Tensor{tt}}}}
	}
	for _, c := range []struct {
		m    *tflite.Model
		want string
	}{
		{op(tflite.Operator{OptionsType: 200}), "operator 0 ADD has options (type 200) outside the schema subset"},
		{op(tflite.Operator{Options2Type: 1}), "operator 0 ADD has BuiltinOptions2"},
		{op(tflite.Operator{Intermediates: []int{3}}), "operator 0 ADD has intermediate tensors"},
		{op(tflite.Operator{LargeCustomOptionsSize: 8}), "outside the flatbuffer"},
		{ten(tflite.Tensor{Sparse: true}), `tensor 0 "w" is sparse`},
		{ten(tflite.Tensor{QuantDetails: "BlockwiseQuantization"}), "uses BlockwiseQuantization quantization"},
	} {
		assert.ErrorContains(t, checkRebuildable(c.m), c.want)
	}
	assert.NoError(t, checkRebuildable(op(tflite.Operator{})))
}

// The real converter's Reshape((-1, 3)) declares its output [-1,-1,3]; once
// folded it runs as [1,112,3] and returns the input's values on every run
// (LiteRT alone gave garbage, then "Failed to set custom allocation"). A
// reshape feeding an ADD runs without folding.
func TestOpenFoldsRunTimeShape(t *testing.T) {
	requireLiteRT(t)
	for _, c := range []struct {
		name   string
		model  func() ([]byte, error)
		shape  []int
		sig    []int
		factor float32
	}{
		{"reshape_neg1", chainModel("reshape", -1, 3), []int{1, 112, 3}, []int{-1, -1, 3}, 1},
		{"intermediate", chainModel("intermediate", 7, 8, 6), []int{1, 7, 8, 6}, []int{-1, 7, 8, 6}, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := New().Open(t.Context(), built(t, c.model), runtime.Options{})
			require.NoError(t, err)
			defer s.Close()
			require.Len(t, s.Outputs(), 1)
			assert.Equal(t, c.shape, s.Outputs()[0].Shape)
			assert.Equal(t, c.sig, s.Outputs()[0].ShapeSignature)
			for seed := range uint64(3) {
				x := tensor.Random(tensor.NewRNG(seed), tensor.Float32, []int{1, 8, 7, 6}, -1, 1)
				r, err := s.Run(t.Context(), []*tensor.Tensor{x})
				require.NoError(t, err, "run %d", seed)
				assert.Equal(t, c.shape, r.Outputs[0].Shape)
				want := x.Float32s()
				for i := range want {
					want[i] *= c.factor
				}
				assert.Equal(t, want, r.Outputs[0].Float32s(), "run %d", seed)
			}
		})
	}
}

// An output SHAPE computes comes back right on every run (LiteRT alone
// returned garbage, then failed: TFLite keeps it in read-only memory).
func TestOpenShapeOutput(t *testing.T) {
	requireLiteRT(t)
	s, err := New().Open(t.Context(), built(t, shapeOutputModel), runtime.Options{})
	require.NoError(t, err)
	defer s.Close()
	for seed := range uint64(2) {
		x := tensor.Random(tensor.NewRNG(seed), tensor.Float32, []int{1, 4}, -1, 1)
		r, err := s.Run(t.Context(), []*tensor.Tensor{x})
		require.NoError(t, err, "run %d", seed)
		require.Len(t, r.Outputs, 2)
		assert.Equal(t, i32(1, 4), r.Outputs[0].Data, "run %d: SHAPE(x)", seed)
		want := x.Float32s()
		for i := range want {
			want[i] *= 2
		}
		assert.Equal(t, want, r.Outputs[1].Float32s(), "run %d: x+x", seed)
	}
}

func readFixture(tb testing.TB, rel string) []byte {
	tb.Helper()
	b, err := os.ReadFile(fixture(tb, rel))
	require.NoError(tb, err)
	return b
}
