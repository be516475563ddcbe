package runtimetest

import (
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tensor"
	"github.com/edgeval/edgeval/tflite"
)

// hello_world_float: x in {0,1,3,5} gives sin(x) within the upstream
// test's tolerance, in one session.
func testHelloWorldFloat(t *testing.T, rt runtime.Runtime) {
	rv := loadReferenceVectors(t)
	s := open(t, rt, "tflite/tflite-micro/hello_world_float.tflite", runtime.Options{})
	require.Len(t, s.Inputs(), 1)
	in := s.Inputs()[0]
	assert.Equal(t, tensor.Float32, in.DType)
	assert.Equal(t, []int{1, 1}, in.Shape)
	assert.Equal(t, []int{-1, 1}, in.ShapeSignature, "the converter declared a dynamic batch")
	for _, x := range rv.HelloFloat.Inputs {
		out := run(t, s, tensor.FromFloat32([]int{1, 1}, []float32{float32(x)}))
		y := float64(out[0].Float32s()[0])
		assert.InDelta(t, math.Sin(x), y, rv.HelloFloat.AbsTolerance, "x=%v", x)
	}
}

// add_10x10: a+b is exact in float32.
func testAdd10x10(t *testing.T, rt runtime.Runtime) {
	s := open(t, rt, "tflite/litert/add_10x10.tflite", runtime.Options{})
	ins := randomInputs(s, 1, 0, 0)
	out := run(t, s, ins...)
	a, b, y := ins[0].Float32s(), ins[1].Float32s(), out[0].Float32s()
	for i := range y {
		if !assert.Equal(t, a[i]+b[i], y[i], "element %d", i) {
			break
		}
	}
}

// hello_world_int8: int8 in and out with the model's quantization, checked
// against sin of the float equivalents.
func testHelloWorldInt8(t *testing.T, rt runtime.Runtime) {
	rv := loadReferenceVectors(t).HelloInt8
	s := open(t, rt, "tflite/tflite-micro/hello_world_int8.tflite", runtime.Options{})
	in, out := s.Inputs()[0], s.Outputs()[0]
	assert.Equal(t, tensor.Int8, in.DType)
	assert.Equal(t, tensor.Int8, out.DType)
	checkQuant(t, in.Quant, rv.Quant.Input.Scale, rv.Quant.Input.ZeroPoint, "input")
	checkQuant(t, out.Quant, rv.Quant.Output.Scale, rv.Quant.Output.ZeroPoint, "output")
	for i, q := range rv.InputsInt8 {
		x := &tensor.Tensor{DType: tensor.Int8, Shape: []int{1, 1}, Data: []byte{byte(q)}}
		y := run(t, s, x)[0]
		got := rv.Quant.Output.Scale * (y.Float64(0) - float64(rv.Quant.Output.ZeroPoint))
		assert.InDelta(t, math.Sin(rv.InputsFloat[i]), got, rv.AbsTolerance, "int8 input %d", q)
		if y.Quant != nil {
			assert.InDelta(t, got, float64(y.Dequantize()[0]), 1e-6, "output tensor carries the model's quantization")
		}
	}
}

func checkQuant(t *testing.T, q *tensor.Quant, scale float64, zp int64, what string) {
	t.Helper()
	if !assert.NotNil(t, q, "%s quantization", what) {
		return
	}
	if assert.Len(t, q.Scale, 1, "%s scales", what) && assert.Len(t, q.ZeroPoint, 1, "%s zero points", what) {
		assert.InEpsilon(t, scale, float64(q.Scale[0]), 1e-5, "%s scale", what)
		assert.Equal(t, zp, q.ZeroPoint[0], "%s zero point", what)
	}
}

// person_detect: the two upstream test images, decoded top-down and
// reinterpreted as int8, are classified person / no person.
func testPersonDetect(t *testing.T, rt runtime.Runtime) {
	s := open(t, rt, "tflite/tflite-micro/person_detect.tflite", runtime.Options{})
	require.Equal(t, []int{1, 96, 96, 1}, s.Inputs()[0].Shape)
	require.Equal(t, tensor.Int8, s.Inputs()[0].DType)
	for _, c := range []struct {
		file   string
		person bool
	}{{"person.bmp", true}, {"no_person.bmp", false}} {
		px, err := decodeGrayBMP(Fixture(t, "tflite/tflite-micro/"+c.file), 96, 96)
		require.NoError(t, err, c.file)
		out := run(t, s, &tensor.Tensor{DType: tensor.Int8, Shape: []int{1, 96, 96, 1}, Data: px})[0]
		require.Equal(t, []int{1, 2}, out.Shape)
		notPerson, person := out.Float64(0), out.Float64(1)
		if c.person {
			assert.Greater(t, person, notPerson, "%s: scores [no person, person] = [%v, %v]", c.file, notPerson, person)
		} else {
			assert.Greater(t, notPerson, person, "%s: scores [no person, person] = [%v, %v]", c.file, notPerson, person)
		}
	}
}

// A quantized ADD with int8 or int16 inputs and output: the dequantized
// output is the sum of the dequantized inputs within one output step.
func testQuantizedAdd(t *testing.T, rt runtime.Runtime, model string, dt tensor.DType) {
	s := open(t, rt, "tflite/litert/"+model+".tflite", runtime.Options{})
	require.Len(t, s.Inputs(), 2)
	require.Len(t, s.Outputs(), 1)
	for _, ti := range append(slices.Clone(s.Inputs()), s.Outputs()...) {
		require.Equal(t, dt, ti.DType, ti.Name)
		require.NotNil(t, ti.Quant, "%s must report its quantization", ti.Name)
		require.Len(t, ti.Quant.Scale, 1, ti.Name)
	}
	lo, hi := dt.Range()
	ins := randomInputs(s, 2, float64(lo)/4, float64(hi)/4)
	for i := range ins {
		ins[i].Quant = s.Inputs()[i].Quant
	}
	y := run(t, s, ins...)[0]
	oq := s.Outputs()[0].Quant
	scale, zp := float64(oq.Scale[0]), float64(oq.ZeroPoint[0])
	a, b, got := ins[0].Dequantize(), ins[1].Dequantize(), y.Dequantize()
	minR, maxR := scale*(float64(lo)-zp), scale*(float64(hi)-zp)
	for i := range got {
		want := math.Min(math.Max(float64(a[i])+float64(b[i]), minR), maxR)
		if !assert.InDelta(t, want, float64(got[i]), 1.01*scale, "element %d", i) {
			break
		}
	}
}

// uint8 I/O. No shared fixture has uint8 inputs or outputs, so this case
// builds a one-op model with the project's tflite.Builder: MAXIMUM of two
// uint8 [2,3] tensors, which is exact.
func testUint8(t *testing.T, rt runtime.Runtime) {
	model, err := uint8MaximumModel()
	require.NoError(t, err)
	s, err := rt.Open(t.Context(), model, runtime.Options{Timeout: caseTimeout})
	require.NoError(t, err)
	defer s.Close()
	require.Len(t, s.Inputs(), 2)
	assert.Equal(t, tensor.Uint8, s.Inputs()[0].DType)
	assert.Equal(t, tensor.Uint8, s.Outputs()[0].DType)
	ins := randomInputs(s, 12, 0, 255)
	y := run(t, s, ins...)[0]
	for i := range y.Data {
		assert.Equal(t, max(ins[0].Data[i], ins[1].Data[i]), y.Data[i], "element %d", i)
	}
}

func uint8MaximumModel() ([]byte, error) {
	b := tflite.NewBuilder()
	sg := b.AddSubgraph("main")
	spec := func(name string) tflite.TensorSpec {
		return tflite.TensorSpec{Name: name, Type: tflite.TypeUint8, Shape: []int{2, 3}}
	}
	x, y, z := sg.AddTensor(spec("x")), sg.AddTensor(spec("y")), sg.AddTensor(spec("max"))
	sg.AddOperator(tflite.OperatorSpec{Op: tflite.OpMaximum, Inputs: []int{x, y}, Outputs: []int{z}})
	sg.SetInputs(x, y)
	sg.SetOutputs(z)
	return b.Finish()
}

// LOGICAL_OR on bool inputs and output.
func testLogicalOr(t *testing.T, rt runtime.Runtime) {
	s := open(t, rt, "tflite/litert/simple_logical_or_op.tflite", runtime.Options{})
	require.Equal(t, tensor.Bool, s.Inputs()[0].DType)
	ins := randomInputs(s, 3, 0, 1)
	y := run(t, s, ins...)[0]
	require.Equal(t, tensor.Bool, y.DType)
	for i := range y.Data {
		want := ins[0].Data[i] != 0 || ins[1].Data[i] != 0
		if !assert.Equal(t, want, y.Data[i] != 0, "element %d", i) {
			break
		}
	}
}

// mixed_input_model: an int32 and a float32 input, found by name.
func testMixedInput(t *testing.T, rt runtime.Runtime) {
	s := open(t, rt, "tflite/litert/mixed_input_model.tflite", runtime.Options{})
	require.Len(t, s.Inputs(), 2)
	ii, fi := inputIndex(t, s, "int_input"), inputIndex(t, s, "float_input")
	assert.Equal(t, tensor.Int32, s.Inputs()[ii].DType)
	assert.Equal(t, tensor.Float32, s.Inputs()[fi].DType)
	ins := randomInputs(s, 4, -100, 100)
	y := run(t, s, ins...)[0].Float32s()
	iv, fv := ins[ii].Float32s(), ins[fi].Float32s()
	for i := range y {
		if !assert.InDelta(t, 2*(iv[i]+fv[i]), y[i], 1e-4, "element %d: 2*(int %v + float %v)", i, iv[i], fv[i]) {
			break
		}
	}
}

// TOPK_V2: two outputs of different types (values float32, indices int32).
func testTopK(t *testing.T, rt runtime.Runtime) {
	s := open(t, rt, "tflite/litert/simple_topk_op.tflite", runtime.Options{})
	require.Len(t, s.Outputs(), 2)
	ins := randomInputs(s, 5, 0, 0)
	out := run(t, s, ins...)
	x := ins[0].Float32s()
	vals, idx := out[0], out[1]
	if vals.DType != tensor.Float32 {
		vals, idx = idx, vals
	}
	require.Equal(t, tensor.Float32, vals.DType)
	require.Equal(t, tensor.Int32, idx.DType)
	v := vals.Float32s()
	want := slices.Clone(x)
	slices.SortFunc(want, func(a, b float32) int { return -cmpF(a, b) })
	for k := range v {
		assert.Equal(t, want[k], v[k], "value %d", k)
		assert.Equal(t, x[int(idx.Float64(k))], v[k], "index %d points at its value", k)
	}
}

func cmpF(a, b float32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// simple_add_dynamic_shape: shape_signature [-1,128,4] runs at batch 1 and,
// pinned, at batch 3.
func testDynamicBatch(t *testing.T, rt runtime.Runtime) {
	for _, batch := range []int{1, 3} {
		s := open(t, rt, "tflite/litert/simple_add_dynamic_shape.tflite", runtime.Options{Batch: batch})
		for _, ti := range s.Inputs() {
			assert.Equal(t, []int{batch, 128, 4}, ti.Shape, "batch %d input %s", batch, ti.Name)
			assert.Equal(t, []int{-1, 128, 4}, ti.ShapeSignature, "batch %d input %s", batch, ti.Name)
		}
		ins := randomInputs(s, uint64(batch), 0, 0)
		y := run(t, s, ins...)[0]
		assert.Equal(t, []int{batch, 128, 4}, y.Shape)
		a, b, got := ins[0].Float32s(), ins[1].Float32s(), y.Float32s()
		for i := range got {
			if !assert.Equal(t, a[i]+b[i], got[i], "batch %d element %d", batch, i) {
				break
			}
		}
	}
}

// multi_signature_model: signatures add, mul and sub selected by key; the
// default is the first; an unknown key is a *runtime.ModelError.
func testSignatures(t *testing.T, rt runtime.Runtime) {
	ops := map[string]func(a, b float32) float32{
		"add": func(a, b float32) float32 { return a + b },
		"mul": func(a, b float32) float32 { return a * b },
		"sub": func(a, b float32) float32 { return a - b },
	}
	for _, key := range []string{"", "add", "mul", "sub"} {
		s := open(t, rt, "tflite/litert/multi_signature_model.tflite", runtime.Options{Signature: key})
		op := key
		if op == "" {
			op = "add"
		}
		ia, ib := inputIndex(t, s, "a"), inputIndex(t, s, "b")
		ins := randomInputs(s, 6, 0, 0)
		y := run(t, s, ins...)[0].Float32s()
		a, b := ins[ia].Float32s(), ins[ib].Float32s()
		for i := range y {
			if !assert.Equal(t, ops[op](a[i], b[i]), y[i], "signature %q element %d", key, i) {
				break
			}
		}
	}
	_, err := rt.Open(t.Context(), Fixture(t, "tflite/litert/multi_signature_model.tflite"), runtime.Options{Signature: "div", Timeout: caseTimeout})
	var me *runtime.ModelError
	assert.ErrorAs(t, err, &me, "unknown signature")
	assert.ErrorContains(t, err, "div")
}
