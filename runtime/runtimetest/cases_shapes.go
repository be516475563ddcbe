package runtimetest

import (
	"encoding/binary"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tensor"
	"github.com/edgeval/edgeval/tflite"
)

// These cases build, with tflite.Builder, the structures the real TF
// converter writes that a runtime may mishandle even though every kernel
// is right: an output whose shape the model computes at run time (the
// SHAPE → STRIDED_SLICE → PACK chain of Keras Reshape and Conv2DTranspose),
// and outputs that are the model's inputs (an op-less model).

// int32s encodes little-endian int32 constants.
func int32s(v ...int32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(x))
	}
	return b
}

// batchOf adds to sg the converter's computation of the batch size of x:
// SHAPE(x)[0] as an int32 scalar, and returns the scalar's tensor.
func batchOf(sg *tflite.SubgraphBuilder, x int) int {
	shape := sg.AddTensor(tflite.TensorSpec{Name: "shape", Type: tflite.TypeInt32, Shape: []int{4}})
	begin := sg.AddTensor(tflite.TensorSpec{Name: "begin", Type: tflite.TypeInt32, Shape: []int{1}, Data: int32s(0)})
	end := sg.AddTensor(tflite.TensorSpec{Name: "end", Type: tflite.TypeInt32, Shape: []int{1}, Data: int32s(1)})
	batch := sg.AddTensor(tflite.TensorSpec{Name: "batch", Type: tflite.TypeInt32, Shape: []int{}})
	sg.AddOperator(tflite.OperatorSpec{Op: tflite.OpShape, Inputs: []int{x}, Outputs: []int{shape}, Options: &tflite.ShapeOptions{OutType: tflite.TypeInt32}})
	sg.AddOperator(tflite.OperatorSpec{Op: tflite.OpStridedSlice, Inputs: []int{shape, begin, end, end}, Outputs: []int{batch}, Options: &tflite.StridedSliceOptions{ShrinkAxisMask: 1}})
	return batch
}

// packShape adds PACK(batch, dims...) and returns the int32 shape tensor.
func packShape(sg *tflite.SubgraphBuilder, batch int, dims ...int32) int {
	ins := []int{batch}
	for _, d := range dims {
		ins = append(ins, sg.AddTensor(tflite.TensorSpec{Name: "dim", Type: tflite.TypeInt32, Shape: []int{}, Data: int32s(d)}))
	}
	out := sg.AddTensor(tflite.TensorSpec{Name: "target_shape", Type: tflite.TypeInt32, Shape: []int{len(ins)}})
	sg.AddOperator(tflite.OperatorSpec{Op: tflite.OpPack, Inputs: ins, Outputs: []int{out}, Options: &tflite.PackOptions{ValuesCount: int32(len(ins))}})
	return out
}

// reshapeChainModel is Keras Reshape((8, 3)) as the converter writes it:
// RESHAPE of x [-1,4,3,2] to PACK(SHAPE(x)[0], 8, 3).
func reshapeChainModel() ([]byte, error) {
	b := tflite.NewBuilder()
	sg := b.AddSubgraph("main")
	x := sg.AddTensor(tflite.TensorSpec{Name: "x", Type: tflite.TypeFloat32, Shape: []int{1, 4, 3, 2}, ShapeSignature: []int{-1, 4, 3, 2}})
	target := packShape(sg, batchOf(sg, x), 8, 3)
	y := sg.AddTensor(tflite.TensorSpec{Name: "y", Type: tflite.TypeFloat32, Shape: []int{1, 8, 3}, ShapeSignature: []int{-1, 8, 3}})
	sg.AddOperator(tflite.OperatorSpec{Op: tflite.OpReshape, Inputs: []int{x, target}, Outputs: []int{y}})
	sg.SetInputs(x)
	sg.SetOutputs(y)
	b.AddSignature("serving_default", 0, []tflite.SignatureTensor{{Name: "x", Tensor: x}}, []tflite.SignatureTensor{{Name: "reshape", Tensor: y}})
	return b.Finish()
}

// transposeConvChainModel is a 1x1 Conv2DTranspose (stride 1, no bias)
// with output channels (2·x0, 3·x1 − x0) as the converter writes it: the
// output shape is PACK(SHAPE(x)[0], 3, 3, 2).
func transposeConvChainModel() ([]byte, error) {
	b := tflite.NewBuilder()
	sg := b.AddSubgraph("main")
	x := sg.AddTensor(tflite.TensorSpec{Name: "x", Type: tflite.TypeFloat32, Shape: []int{1, 3, 3, 2}, ShapeSignature: []int{-1, 3, 3, 2}})
	target := packShape(sg, batchOf(sg, x), 3, 3, 2)
	// Weights [out, h, w, in].
	w := tensor.FromFloat32([]int{2, 1, 1, 2}, []float32{2, 0, -1, 3})
	wt := sg.AddTensor(tflite.TensorSpec{Name: "weights", Type: tflite.TypeFloat32, Shape: w.Shape, Data: w.Data})
	y := sg.AddTensor(tflite.TensorSpec{Name: "y", Type: tflite.TypeFloat32, Shape: []int{1, 3, 3, 2}, ShapeSignature: []int{-1, 3, 3, 2}})
	sg.AddOperator(tflite.OperatorSpec{Op: tflite.OpTransposeConv, Inputs: []int{target, wt, x}, Outputs: []int{y},
		Options: &tflite.TransposeConvOptions{Padding: tflite.PaddingValid, StrideW: 1, StrideH: 1}})
	sg.SetInputs(x)
	sg.SetOutputs(y)
	b.AddSignature("serving_default", 0, []tflite.SignatureTensor{{Name: "x", Tensor: x}}, []tflite.SignatureTensor{{Name: "conv2d_transpose", Tensor: y}})
	return b.Finish()
}

// openBuilt opens a model built by the suite and closes it when the test
// ends.
func openBuilt(t *testing.T, rt runtime.Runtime, build func() ([]byte, error)) runtime.Session {
	t.Helper()
	model, err := build()
	require.NoError(t, err)
	s, err := rt.Open(t.Context(), model, runtime.Options{Timeout: caseTimeout})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, s.Close()) })
	return s
}

// A RESHAPE whose target shape is computed at run time returns the input's
// values in the new shape, on every run (LiteRT-WASM 2.5.3 used to return
// garbage, then fail).
func testReshapeShapeChain(t *testing.T, rt runtime.Runtime) {
	s := openBuilt(t, rt, reshapeChainModel)
	require.Len(t, s.Outputs(), 1)
	assert.Equal(t, []int{1, 8, 3}, s.Outputs()[0].Shape)
	for seed := range uint64(3) {
		ins := randomInputs(s, seed, 0, 0)
		y := run(t, s, ins...)[0]
		assert.Equal(t, []int{1, 8, 3}, y.Shape, "run %d", seed)
		assert.Equal(t, ins[0].Float32s(), y.Float32s(), "run %d: a reshape keeps the values", seed)
	}
}

// A TRANSPOSE_CONV whose output shape is computed at run time computes
// the convolution, on every run.
func testTransposeConvShapeChain(t *testing.T, rt runtime.Runtime) {
	s := openBuilt(t, rt, transposeConvChainModel)
	for seed := range uint64(3) {
		ins := randomInputs(s, seed, 0, 0)
		y := run(t, s, ins...)[0]
		require.Equal(t, []int{1, 3, 3, 2}, y.Shape, "run %d", seed)
		x, got := ins[0].Float32s(), y.Float32s()
		for p := 0; p < len(x); p += 2 {
			want := []float32{2 * x[p], 3*x[p+1] - x[p]}
			if !assert.InDeltaSlice(t, want, got[p:p+2], 1e-6, "run %d pixel %d", seed, p/2) {
				break
			}
		}
	}
}

// identityModel has no operator: its signature's output is its input
// (Keras Activation('linear') as the converter writes it). With withAdd,
// a second output ADD(x, x) reads the same input.
func identityModel(withAdd bool) func() ([]byte, error) {
	return func() ([]byte, error) {
		b := tflite.NewBuilder()
		sg := b.AddSubgraph("main")
		x := sg.AddTensor(tflite.TensorSpec{Name: "x", Type: tflite.TypeFloat32, Shape: []int{1, 4, 3}, ShapeSignature: []int{-1, 4, 3}})
		outs := []tflite.SignatureTensor{{Name: "activation", Tensor: x}}
		sg.SetInputs(x)
		if withAdd {
			y := sg.AddTensor(tflite.TensorSpec{Name: "twice", Type: tflite.TypeFloat32, Shape: []int{1, 4, 3}, ShapeSignature: []int{-1, 4, 3}})
			sg.AddOperator(tflite.OperatorSpec{Op: tflite.OpAdd, Inputs: []int{x, x}, Outputs: []int{y}, Options: &tflite.AddOptions{}})
			outs = append(outs, tflite.SignatureTensor{Name: "twice", Tensor: y})
		}
		ts := make([]int, len(outs))
		for i, o := range outs {
			ts[i] = o.Tensor
		}
		sg.SetOutputs(ts...)
		b.AddSignature("serving_default", 0, []tflite.SignatureTensor{{Name: "x", Tensor: x}}, outs)
		return b.Finish()
	}
}

// An op-less model returns its input.
func testIdentity(t *testing.T, rt runtime.Runtime) {
	s := openBuilt(t, rt, identityModel(false))
	require.Len(t, s.Outputs(), 1)
	assert.Equal(t, "activation", s.Outputs()[0].Name)
	assert.Equal(t, []int{1, 4, 3}, s.Outputs()[0].Shape)
	for seed := range uint64(2) {
		ins := randomInputs(s, seed, 0, 0)
		y := run(t, s, ins...)[0]
		assert.Equal(t, ins[0].Data, y.Data, "run %d", seed)
	}
}

// An output that is an input does not disturb the operators reading that
// input.
func testInputIsOutput(t *testing.T, rt runtime.Runtime) {
	s := openBuilt(t, rt, identityModel(true))
	require.Len(t, s.Outputs(), 2)
	idx := map[string]int{}
	for i, o := range s.Outputs() {
		idx[o.Name] = i
	}
	require.Contains(t, idx, "activation")
	require.Contains(t, idx, "twice")
	ins := randomInputs(s, 7, 0, 0)
	out := run(t, s, ins...)
	x := ins[0].Float32s()
	assert.Equal(t, x, out[idx["activation"]].Float32s())
	twice := slices.Clone(x)
	for i := range twice {
		twice[i] *= 2
	}
	assert.Equal(t, twice, out[idx["twice"]].Float32s())
}
