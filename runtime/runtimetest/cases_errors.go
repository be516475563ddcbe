package runtimetest

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

// A custom op no stock runtime resolves: Open or Run fails with a
// *runtime.Error (LiteRT prints the failure and returns garbage, which a
// backend must catch), and no outputs come back.
func testCustomOp(t *testing.T, rt runtime.Runtime) {
	s, err := rt.Open(t.Context(), Fixture(t, "tflite/litert/MTKEXT_CONV_2D.tflite"), runtime.Options{Timeout: caseTimeout})
	if err == nil {
		defer s.Close()
		var r *runtime.Result
		r, err = s.Run(t.Context(), randomInputs(s, 7, -100, 100))
		assert.Nil(t, r, "no outputs from a failed run")
	}
	var re *runtime.Error
	require.ErrorAs(t, err, &re)
	assert.ErrorContains(t, err, "MTKEXT_CONV_2D")
}

// Bytes that are not a .tflite model give a *runtime.ModelError.
func testNotAModel(t *testing.T, rt runtime.Runtime) {
	for name, b := range map[string][]byte{
		"empty":  nil,
		"text":   []byte("this is not a flatbuffer, just some text"),
		"bitmap": Fixture(t, "tflite/tflite-micro/person.bmp"),
	} {
		s, err := rt.Open(t.Context(), b, runtime.Options{Timeout: caseTimeout})
		if s != nil {
			s.Close()
		}
		var me *runtime.ModelError
		assert.ErrorAs(t, err, &me, name)
	}
}

// A truncated model fails to open with a *runtime.ModelError or a
// *runtime.Error, and does not hang.
func testTruncated(t *testing.T, rt runtime.Runtime) {
	full := Fixture(t, "keras/mlcommons-tiny/vww_96_float.tflite")
	for _, n := range []int{len(full) / 2, len(full) - 1000, 64} {
		start := time.Now()
		s, err := rt.Open(t.Context(), full[:n], runtime.Options{Timeout: caseTimeout})
		if err == nil {
			// Accepting it is only allowed if running it then fails.
			_, err = s.Run(t.Context(), randomInputs(s, 8, 0, 0))
			s.Close()
		}
		var me *runtime.ModelError
		var re *runtime.Error
		assert.True(t, errors.As(err, &me) || errors.As(err, &re), "truncated to %d bytes: want a ModelError or an Error, got %v", n, err)
		assert.Less(t, time.Since(start), caseTimeout)
	}
}

// Inputs that do not fit give a *runtime.InputError naming the input, and
// the session keeps working.
func testInputMismatch(t *testing.T, rt runtime.Runtime) {
	s := open(t, rt, "tflite/litert/add_10x10.tflite", runtime.Options{})
	good := randomInputs(s, 9, 0, 0)
	for name, ins := range map[string][]*tensor.Tensor{
		"shape":      {good[0], tensor.New(tensor.Float32, []int{10, 11})},
		"dtype":      {good[0], tensor.New(tensor.Int32, []int{10, 10})},
		"count":      {good[0]},
		"nil":        {good[0], nil},
		"short data": {good[0], {DType: tensor.Float32, Shape: []int{10, 10}, Data: make([]byte, 12)}},
	} {
		r, err := s.Run(t.Context(), ins)
		var ie *runtime.InputError
		assert.ErrorAs(t, err, &ie, name)
		assert.Nil(t, r, name)
	}
	run(t, s, good...)
}

// A time-out that expires fails with a *runtime.Error in Open or in the
// first Run; it does not hang.
func testTimeout(t *testing.T, rt runtime.Runtime) {
	start := time.Now()
	s, err := rt.Open(t.Context(), Fixture(t, "keras/mlcommons-tiny/vww_96_float.tflite"), runtime.Options{Timeout: time.Nanosecond})
	if err == nil {
		defer s.Close()
		var r *runtime.Result
		r, err = s.Run(t.Context(), randomInputs(s, 10, 0, 0))
		assert.Nil(t, r)
	}
	var re *runtime.Error
	assert.ErrorAs(t, err, &re)
	assert.Less(t, time.Since(start), 10*time.Second)
}

// A Run whose context ends before it can finish fails with a
// *runtime.Error and no outputs.
func testCancelledRun(t *testing.T, rt runtime.Runtime) {
	s := open(t, rt, "keras/mlcommons-tiny/vww_96_float.tflite", runtime.Options{})
	ins := randomInputs(s, 11, 0, 0)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r, err := s.Run(ctx, ins)
	var re *runtime.Error
	assert.ErrorAs(t, err, &re)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Nil(t, r)
}
