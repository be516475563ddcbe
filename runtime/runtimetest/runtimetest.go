package runtimetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tensor"
)

// testCase is one conformance check.
type testCase struct {
	name string
	run  func(t *testing.T, rt runtime.Runtime)
}

// cases lists the conformance checks in the order RunAll runs them.
var cases = []testCase{
	{"float32/hello_world_sin", testHelloWorldFloat},
	{"float32/add_10x10", testAdd10x10},
	{"int8/hello_world_sin", testHelloWorldInt8},
	{"int8/person_detect", testPersonDetect},
	{"int8/add_a8w8", func(t *testing.T, rt runtime.Runtime) {
		testQuantizedAdd(t, rt, "single_add_default_a8w8_recipe_quantized", tensor.Int8)
	}},
	{"int16/add_a16w8", func(t *testing.T, rt runtime.Runtime) {
		testQuantizedAdd(t, rt, "single_add_default_a16w8_recipe_quantized", tensor.Int16)
	}},
	{"uint8", testUint8},
	{"bool/logical_or", testLogicalOr},
	{"multi_io/mixed_input_model", testMixedInput},
	{"multi_io/topk_two_outputs", testTopK},
	{"dynamic_batch/simple_add", testDynamicBatch},
	{"signatures/multi_signature_model", testSignatures},
	{"run_time_shapes/reshape", testReshapeShapeChain},
	{"run_time_shapes/transpose_conv", testTransposeConvShapeChain},
	{"opless/identity", testIdentity},
	{"opless/input_is_output", testInputIsOutput},
	{"errors/unresolved_custom_op", testCustomOp},
	{"errors/not_a_model", testNotAModel},
	{"errors/truncated", testTruncated},
	{"errors/input_mismatch", testInputMismatch},
	{"errors/timeout", testTimeout},
	{"errors/cancelled_run", testCancelledRun},
}

// RunAll runs the conformance suite against rt as parallel subtests of t.
// Each case opens its own session(s) from the shared fixtures; a backend
// passes when every case passes. Time-outs are a few seconds at most, so a
// hanging backend fails rather than stalls.
func RunAll(t *testing.T, rt runtime.Runtime) {
	t.Helper()
	FixturesDir(t) // fail early, once, without fixtures
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, rt)
		})
	}
}

// caseTimeout bounds a model load or one run in the suite.
const caseTimeout = 30 * time.Second

// open opens the fixture rel with opts and closes the session when the test
// ends.
func open(t *testing.T, rt runtime.Runtime, rel string, opts runtime.Options) runtime.Session {
	t.Helper()
	if opts.Timeout == 0 {
		opts.Timeout = caseTimeout
	}
	s, err := rt.Open(context.Background(), Fixture(t, rel), opts)
	require.NoError(t, err, "open %s", rel)
	t.Cleanup(func() { assert.NoError(t, s.Close()) })
	info := s.Info()
	assert.NotEmpty(t, info.Name, "Info().Name")
	assert.NotEmpty(t, info.Version, "Info().Version")
	return s
}

// run runs one inference and checks the outputs against Outputs().
func run(t *testing.T, s runtime.Session, inputs ...*tensor.Tensor) []*tensor.Tensor {
	t.Helper()
	r, err := s.Run(context.Background(), inputs)
	require.NoError(t, err)
	require.Len(t, r.Outputs, len(s.Outputs()))
	for i, o := range r.Outputs {
		want := s.Outputs()[i]
		require.NoError(t, o.Validate(), "output %d", i)
		assert.Equal(t, want.DType, o.DType, "output %d %q dtype", i, want.Name)
		assert.Equal(t, want.Shape, o.Shape, "output %d %q shape", i, want.Name)
	}
	assert.Positive(t, r.Invoke, "Result.Invoke")
	return r.Outputs
}

// inputsByName returns the session's inputs indexed by name.
func inputIndex(t *testing.T, s runtime.Session, name string) int {
	t.Helper()
	for i, in := range s.Inputs() {
		if in.Name == name {
			return i
		}
	}
	t.Fatalf("no input %q among %+v", name, s.Inputs())
	return -1
}

// randomInputs returns seeded random inputs fitting the session: floats in
// [-1, 1), integers over [lo, hi].
func randomInputs(s runtime.Session, seed uint64, lo, hi float64) []*tensor.Tensor {
	rng := tensor.NewRNG(seed)
	var ins []*tensor.Tensor
	for _, ti := range s.Inputs() {
		if ti.DType.IsFloat() {
			ins = append(ins, tensor.Random(rng, ti.DType, ti.Shape, -1, 1))
		} else {
			ins = append(ins, tensor.Random(rng, ti.DType, ti.Shape, lo, hi))
		}
	}
	return ins
}
