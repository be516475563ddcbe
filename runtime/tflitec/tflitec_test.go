//go:build cgo

package tflitec

import (
	"context"
	"math"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tensor"
)

const (
	helloFloat = "tflite/tflite-micro/hello_world_float.tflite"
	helloInt8  = "tflite/tflite-micro/hello_world_int8.tflite"
	litertDir  = "tflite/litert/"
)

func TestRegistered(t *testing.T) {
	rt, err := runtime.Get(Name)
	require.NoError(t, err)
	assert.Equal(t, Name, rt.Name())
}

func TestInfo(t *testing.T) {
	for _, tc := range []struct {
		opts     runtime.Options
		delegate string
	}{
		{runtime.Options{}, "none"},
		{runtime.Options{Delegate: "none", Threads: 1}, "none"},
		{runtime.Options{Delegate: "xnnpack", Threads: 2}, "xnnpack"},
	} {
		s := open(t, helloFloat, tc.opts)
		info := s.Info()
		assert.Equal(t, "tflite-c", info.Name)
		assert.Regexp(t, regexp.MustCompile(`^2\.\d+\.\d+`), info.Version)
		assert.Equal(t, Version(), info.Version)
		assert.Equal(t, tc.delegate, info.Delegate)
		assert.Equal(t, tc.opts.Threads, info.Threads)
	}
}

// TestHelloWorldFloat checks the tflite-micro hello_world test: the float
// model approximates sin(x) within 0.05 for x in {0, 1, 3, 5}, with every
// delegate and thread count.
func TestHelloWorldFloat(t *testing.T) {
	xs := []float32{0, 1, 3, 5}
	for _, opts := range []runtime.Options{
		{Delegate: "none", Threads: 1},
		{Delegate: "none", Threads: 2},
		{Delegate: "xnnpack", Threads: 1},
		{Delegate: "xnnpack", Threads: 2},
	} {
		t.Run(opts.Delegate+"/"+string(rune('0'+opts.Threads)), func(t *testing.T) {
			s := open(t, helloFloat, opts)
			require.Len(t, s.Inputs(), 1)
			assert.Equal(t, []int{1, 1}, s.Inputs()[0].Shape)
			assert.Equal(t, []int{-1, 1}, s.Inputs()[0].ShapeSignature)
			assert.Equal(t, tensor.Float32, s.Inputs()[0].DType)
			assert.Nil(t, s.Inputs()[0].Quant)
			for _, x := range xs {
				res, err := s.Run(context.Background(), []*tensor.Tensor{tensor.FromFloat32([]int{1, 1}, []float32{x})})
				require.NoError(t, err)
				require.Len(t, res.Outputs, 1)
				assert.Equal(t, []int{1, 1}, res.Outputs[0].Shape)
				assert.InDelta(t, math.Sin(float64(x)), res.Outputs[0].Float32s()[0], 0.05, "x=%v", x)
				assert.Positive(t, res.Invoke)
			}
		})
	}
}

// TestHelloWorldInt8 feeds the int8 inputs of the tflite-micro test and
// checks the dequantized outputs against sin of the float equivalents.
func TestHelloWorldInt8(t *testing.T) {
	s := open(t, helloInt8, runtime.Options{})
	in, out := s.Inputs()[0], s.Outputs()[0]
	require.Equal(t, tensor.Int8, in.DType)
	require.NotNil(t, in.Quant)
	assert.InDelta(t, 0.0244801, in.Quant.Scale[0], 1e-6)
	assert.Equal(t, []int64{-128}, in.Quant.ZeroPoint)
	require.NotNil(t, out.Quant)
	assert.InDelta(t, 0.00829096, out.Quant.Scale[0], 1e-7)
	assert.Equal(t, []int64{5}, out.Quant.ZeroPoint)
	for i, q := range []int8{-96, -63, -34, 0} {
		xf := []float64{0.77, 1.57, 2.3, 3.14}[i]
		res, err := s.Run(context.Background(), []*tensor.Tensor{{DType: tensor.Int8, Shape: []int{1, 1}, Data: []byte{byte(q)}}})
		require.NoError(t, err)
		got := res.Outputs[0]
		require.Equal(t, tensor.Int8, got.DType)
		require.NotNil(t, got.Quant)
		assert.InDelta(t, math.Sin(xf), got.Dequantize()[0], 0.05, "q=%d", q)
	}
}

// TestMultiSignature runs each SignatureDef of LiteRT's
// multi_signature_model (add, mul, sub, each in its own subgraph) and checks
// the arithmetic exactly.
func TestMultiSignature(t *testing.T) {
	rng := tensor.NewRNG(7)
	a := tensor.Random(rng, tensor.Float32, []int{10, 10}, -4, 4)
	b := tensor.Random(rng, tensor.Float32, []int{10, 10}, -4, 4)
	ops := map[string]func(x, y float32) float32{
		"add": func(x, y float32) float32 { return x + y },
		"mul": func(x, y float32) float32 { return x * y },
		"sub": func(x, y float32) float32 { return x - y },
	}
	for _, key := range []string{"", "add", "mul", "sub"} {
		t.Run("sig="+key, func(t *testing.T) {
			s := open(t, litertDir+"multi_signature_model.tflite", runtime.Options{Signature: key})
			require.Len(t, s.Inputs(), 2)
			assert.Equal(t, "a", s.Inputs()[0].Name)
			assert.Equal(t, "b", s.Inputs()[1].Name)
			require.Len(t, s.Outputs(), 1)
			res, err := s.Run(context.Background(), []*tensor.Tensor{a, b})
			require.NoError(t, err)
			want := key
			if want == "" {
				want = "add" // the first signature
			}
			av, bv, got := a.Float32s(), b.Float32s(), res.Outputs[0].Float32s()
			require.Len(t, got, 100)
			for i := range got {
				require.Equal(t, ops[want](av[i], bv[i]), got[i], "element %d", i)
			}
		})
	}
	_, err := New().Open(context.Background(), readFixture(t, litertDir+"multi_signature_model.tflite"), runtime.Options{Signature: "div"})
	var me *runtime.ModelError
	require.ErrorAs(t, err, &me)
	assert.Contains(t, err.Error(), `"div"`)
	assert.Contains(t, err.Error(), `"mul"`)
}

// TestBatch pins dynamic batch dimensions with Options.Batch.
func TestBatch(t *testing.T) {
	t.Run("hello_world", func(t *testing.T) {
		s := open(t, helloFloat, runtime.Options{Batch: 4})
		assert.Equal(t, []int{4, 1}, s.Inputs()[0].Shape)
		assert.Equal(t, []int{-1, 1}, s.Inputs()[0].ShapeSignature)
		xs := []float32{0, 1, 3, 5}
		res, err := s.Run(context.Background(), []*tensor.Tensor{tensor.FromFloat32([]int{4, 1}, xs)})
		require.NoError(t, err)
		assert.Equal(t, []int{4, 1}, res.Outputs[0].Shape)
		for i, y := range res.Outputs[0].Float32s() {
			assert.InDelta(t, math.Sin(float64(xs[i])), y, 0.05)
		}
	})
	t.Run("simple_add_dynamic_shape", func(t *testing.T) {
		s := open(t, litertDir+"simple_add_dynamic_shape.tflite", runtime.Options{Batch: 3})
		rng := tensor.NewRNG(1)
		a := tensor.Random(rng, tensor.Float32, []int{3, 128, 4}, -1, 1)
		b := tensor.Random(rng, tensor.Float32, []int{3, 128, 4}, -1, 1)
		res, err := s.Run(context.Background(), []*tensor.Tensor{a, b})
		require.NoError(t, err)
		assert.Equal(t, []int{3, 128, 4}, res.Outputs[0].Shape)
		av, bv := a.Float32s(), b.Float32s()
		for i, y := range res.Outputs[0].Float32s() {
			require.Equal(t, av[i]+bv[i], y)
		}
	})
	t.Run("static model refuses batch 4", func(t *testing.T) {
		_, err := New().Open(context.Background(), readFixture(t, litertDir+"add_10x10.tflite"), runtime.Options{Batch: 4})
		var ie *runtime.InputError
		require.ErrorAs(t, err, &ie)
		assert.Contains(t, err.Error(), "batch 4")
	})
}

// TestDTypes exchanges bool, int32, int8 and int16 tensors as raw bytes.
func TestDTypes(t *testing.T) {
	ctx := context.Background()
	t.Run("bool", func(t *testing.T) {
		s := open(t, litertDir+"simple_logical_or_op.tflite", runtime.Options{})
		rng := tensor.NewRNG(3)
		a := tensor.Random(rng, tensor.Bool, []int{1, 64, 64}, 0, 1)
		b := tensor.Random(rng, tensor.Bool, []int{1, 64, 64}, 0, 1)
		res, err := s.Run(ctx, []*tensor.Tensor{a, b})
		require.NoError(t, err)
		out := res.Outputs[0]
		require.Equal(t, tensor.Bool, out.DType)
		for i := range out.Data {
			want := byte(0)
			if a.Data[i] != 0 || b.Data[i] != 0 {
				want = 1
			}
			require.Equal(t, want, out.Data[i], "element %d", i)
		}
	})
	t.Run("int32", func(t *testing.T) {
		s := open(t, litertDir+"simple_floor_mod.tflite", runtime.Options{})
		x := []float64{7, -7, 7, -7, 5}
		y := []float64{3, 3, -3, -3, 5}
		res, err := s.Run(ctx, []*tensor.Tensor{tensor.FromFloat64s(tensor.Int32, []int{5}, x), tensor.FromFloat64s(tensor.Int32, []int{5}, y)})
		require.NoError(t, err)
		require.Equal(t, tensor.Int32, res.Outputs[0].DType)
		assert.Equal(t, []float64{1, 2, -2, -1, 0}, res.Outputs[0].Float64s()) // floor semantics
	})
	for _, tc := range []struct {
		file string
		dt   tensor.DType
	}{
		{"single_add_default_a8w8_recipe_quantized.tflite", tensor.Int8},
		{"single_add_default_a16w8_recipe_quantized.tflite", tensor.Int16},
	} {
		t.Run(tc.dt.String(), func(t *testing.T) {
			s := open(t, litertDir+tc.file, runtime.Options{})
			ins := s.Inputs()
			require.Len(t, ins, 2)
			rng := tensor.NewRNG(5)
			a := tensor.Random(rng, tc.dt, ins[0].Shape, -60, 60)
			b := tensor.Random(rng, tc.dt, ins[1].Shape, -60, 60)
			a.Quant, b.Quant = ins[0].Quant, ins[1].Quant
			res, err := s.Run(ctx, []*tensor.Tensor{a, b})
			require.NoError(t, err)
			out := res.Outputs[0]
			require.Equal(t, tc.dt, out.DType)
			require.NotNil(t, out.Quant)
			da, db, dout := a.Dequantize(), b.Dequantize(), out.Dequantize()
			tol := 1.01 * float64(out.Quant.Scale[0])
			for i := range dout {
				require.InDelta(t, float64(da[i]+db[i]), float64(dout[i]), tol, "element %d", i)
			}
		})
	}
}

// TestDelegatesAgree runs the MLCommons Tiny float models with and without
// XNNPACK and expects the same outputs to float32 rounding.
func TestDelegatesAgree(t *testing.T) {
	for _, m := range []string{"keras/mlcommons-tiny/vww_96_float.tflite", "keras/mlcommons-tiny/pretrainedResnet.tflite"} {
		t.Run(m, func(t *testing.T) {
			ref := open(t, m, runtime.Options{Delegate: "none", Threads: 1})
			xnn := open(t, m, runtime.Options{Delegate: "xnnpack", Threads: 2})
			in := ref.Inputs()[0]
			x := tensor.Random(tensor.NewRNG(11), in.DType, in.Shape, 0, 1)
			r1, err := ref.Run(context.Background(), []*tensor.Tensor{x})
			require.NoError(t, err)
			r2, err := xnn.Run(context.Background(), []*tensor.Tensor{x})
			require.NoError(t, err)
			a, b := r1.Outputs[0].Float32s(), r2.Outputs[0].Float32s()
			require.Len(t, b, len(a))
			var sum float32
			for i := range a {
				assert.InDelta(t, a[i], b[i], 1e-4, "output %d", i)
				sum += a[i]
			}
			assert.InDelta(t, 1, sum, 1e-4, "softmax output sums to 1")
		})
	}
}
