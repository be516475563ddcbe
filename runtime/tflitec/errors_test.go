//go:build cgo

package tflitec

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tensor"
)

// TestOpenErrors checks that each kind of bad model or option gives the
// typed error the CLI maps to an exit code, with a message naming the cause.
func TestOpenErrors(t *testing.T) {
	hello := readFixture(t, helloFloat)
	truncated := hello[:len(hello)/2]
	corrupt := append([]byte(nil), hello...)
	for i := 8; i < 64; i++ {
		corrupt[i] ^= 0xff
	}
	for _, tc := range []struct {
		name     string
		model    []byte
		fixture  string
		opts     runtime.Options
		wantType string // "model", "runtime", "input"
		contains []string
	}{
		{name: "empty", model: []byte{}, wantType: "model", contains: []string{"too short"}},
		{name: "not a flatbuffer", model: []byte("this is not a tflite model at all"), wantType: "model", contains: []string{"not a TFLite model"}},
		{name: "truncated", model: truncated, wantType: "model", contains: []string{"outside the file"}},
		{name: "corrupt header", model: corrupt, wantType: "model"},
		{name: "unresolved custom op", fixture: litertDir + "MTKEXT_CONV_2D.tflite", wantType: "runtime", contains: []string{"MTKEXT_CONV_2D", "unresolved"}},
		{name: "newer builtin", fixture: litertDir + "l2_norm_composite.tflite", wantType: "runtime", contains: []string{"STABLEHLO_COMPOSITE"}},
		{name: "string input", fixture: litertDir + "gather_string.tflite", wantType: "model", contains: []string{"string", `"input"`}},
		{name: "unknown delegate", model: hello, opts: runtime.Options{Delegate: "gpu"}, wantType: "runtime", contains: []string{`"gpu"`, "xnnpack"}},
		{name: "unknown signature", model: hello, opts: runtime.Options{Signature: "serving"}, wantType: "model", contains: []string{`"serving"`}},
		{name: "batch on static model", fixture: litertDir + "mixed_input_model.tflite", opts: runtime.Options{Batch: 2}, wantType: "input", contains: []string{"batch 2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			model := tc.model
			if tc.fixture != "" {
				model = readFixture(t, tc.fixture)
			}
			s, err := New().Open(context.Background(), model, tc.opts)
			require.Error(t, err)
			require.Nil(t, s)
			var (
				me *runtime.ModelError
				re *runtime.Error
				ie *runtime.InputError
			)
			switch tc.wantType {
			case "model":
				assert.ErrorAs(t, err, &me)
			case "runtime":
				require.ErrorAs(t, err, &re)
				assert.Equal(t, Name, re.Runtime)
			case "input":
				assert.ErrorAs(t, err, &ie)
			}
			for _, c := range tc.contains {
				assert.Contains(t, err.Error(), c)
			}
		})
	}
}

func TestEdgeTPUWithoutTag(t *testing.T) {
	if EdgeTPUBuiltIn {
		t.Skip("built with -tags edgetpu: the delegate is linked; this test covers the binary without it")
	}
	_, err := New().Open(context.Background(), readFixture(t, helloInt8), runtime.Options{Delegate: "edgetpu"})
	var re *runtime.Error
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "delegate", re.Op)
	assert.True(t, errors.Is(err, runtime.ErrNotBuiltIn))
	assert.Contains(t, err.Error(), "-tags edgetpu")
}

// TestRunErrors checks inputs that do not fit and a closed session.
func TestRunErrors(t *testing.T) {
	ctx := context.Background()
	s, err := New().Open(ctx, readFixture(t, litertDir+"mixed_input_model.tflite"), runtime.Options{})
	require.NoError(t, err)
	good := []*tensor.Tensor{tensor.New(tensor.Int32, []int{1, 10}), tensor.New(tensor.Float32, []int{1, 10})}
	for _, tc := range []struct {
		name   string
		inputs []*tensor.Tensor
		index  int
	}{
		{"too few", good[:1], 1},
		{"wrong dtype", []*tensor.Tensor{tensor.New(tensor.Float32, []int{1, 10}), good[1]}, 0},
		{"wrong shape", []*tensor.Tensor{good[0], tensor.New(tensor.Float32, []int{1, 11})}, 1},
		{"short data", []*tensor.Tensor{good[0], {DType: tensor.Float32, Shape: []int{1, 10}, Data: make([]byte, 39)}}, 1},
		{"nil input", []*tensor.Tensor{good[0], nil}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := s.Run(ctx, tc.inputs)
			assert.Nil(t, res)
			var ie *runtime.InputError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tc.index, ie.Index)
		})
	}
	res, err := s.Run(ctx, good)
	require.NoError(t, err, "the session still works after rejected inputs")
	require.Len(t, res.Outputs, 1)

	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close is idempotent")
	_, err = s.Run(ctx, good)
	var re *runtime.Error
	require.ErrorAs(t, err, &re)
	assert.Contains(t, err.Error(), "closed")
}

// TestCancel checks that a context deadline and the session timeout stop a
// running invoke with a *runtime.Error wrapping context.DeadlineExceeded,
// and that the session runs normally afterwards. The model is hello_world
// with its dynamic batch pinned to 1000000 rows: three FULLY_CONNECTED ops
// of 5-30 ms each (TFLite checks for cancellation between ops,
// and a Go timer can fire a few milliseconds late while its P is blocked in
// cgo, so the invoke must be long).
func TestCancel(t *testing.T) {
	const batch = 1000000
	opts := runtime.Options{Threads: 1, Batch: batch}
	ctx := context.Background()
	s := open(t, helloFloat, opts)
	x := tensor.Random(tensor.NewRNG(2), tensor.Float32, []int{batch, 1}, 0, 6)
	ref, err := s.Run(ctx, []*tensor.Tensor{x})
	require.NoError(t, err)
	if ref.Invoke < 10*time.Millisecond {
		t.Skipf("invoke took %v; too fast to cancel reliably on this machine", ref.Invoke)
	}

	t.Run("context deadline", func(t *testing.T) {
		cctx, cancel := context.WithTimeout(ctx, time.Millisecond)
		defer cancel()
		_, err := s.Run(cctx, []*tensor.Tensor{x})
		var re *runtime.Error
		require.ErrorAs(t, err, &re)
		assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
		// The cancel does not stick: the next run completes with the same outputs.
		res, err := s.Run(ctx, []*tensor.Tensor{x})
		require.NoError(t, err)
		assert.Equal(t, ref.Outputs[0].Data, res.Outputs[0].Data)
	})
	t.Run("context already done", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := s.Run(cctx, []*tensor.Tensor{x})
		assert.True(t, errors.Is(err, context.Canceled), "%v", err)
	})
	t.Run("session timeout", func(t *testing.T) {
		o := opts
		o.Timeout = time.Millisecond
		st, err := New().Open(ctx, readFixture(t, helloFloat), o)
		require.NoError(t, err)
		defer st.Close()
		_, err = st.Run(ctx, []*tensor.Tensor{x})
		var re *runtime.Error
		require.ErrorAs(t, err, &re)
		assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
		assert.Contains(t, err.Error(), "timed out after 1ms")
	})
}
