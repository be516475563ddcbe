package corpus

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tensor"
)

func TestLoadCommittedCorpus(t *testing.T) {
	dir, err := Dir()
	require.NoError(t, err)
	cases, err := Load(dir)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(cases), 150)
	ids := map[string]bool{}
	for _, c := range cases {
		assert.False(t, ids[c.ID()], "duplicate case %s", c.ID())
		ids[c.ID()] = true
		for _, m := range c.Models {
			_, err := os.Stat(c.Path(m.File))
			assert.NoError(t, err, "%s: model file", c.ID())
		}
		ins, outs, err := c.Expected(c.Models[0].Expected)
		if assert.NoError(t, err, c.ID()) {
			assert.Len(t, ins, len(c.Inputs))
			assert.Len(t, outs, len(c.Outputs))
		}
	}
}

func writeCase(t *testing.T, root, fw, name, body string) string {
	t.Helper()
	d := filepath.Join(root, fw, name)
	require.NoError(t, os.MkdirAll(d, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(d, "case.json"), []byte(body), 0o644))
	return d
}

func TestReadCaseErrors(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"bad json", `{`, "case.json"},
		{"no name", `{"framework":"keras","inputs":[{}],"outputs":[{}],"models":[{}]}`, "bad case name"},
		{"framework", `{"name":"a","framework":"onnx","inputs":[{}],"outputs":[{}],"models":[{}]}`, `unknown framework "onnx"`},
		{"no outputs", `{"name":"a","framework":"torch","inputs":[{}],"models":[{}]}`, "inputs and outputs"},
		{"no models", `{"name":"a","framework":"torch","inputs":[{}],"outputs":[{}]}`, "no model file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeCase(t, root, "keras", "x", tc.body)
			_, err := Load(root)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	_, err := Load(t.TempDir())
	assert.ErrorContains(t, err, "no case.json")
}

func TestExpected(t *testing.T) {
	root := t.TempDir()
	d := writeCase(t, root, "keras", "c", `{"name":"c","framework":"keras",
		"inputs":[{"name":"in_0","shape":[2,3],"dtype":"float32"}],"outputs":[{"name":"y","shape":[2]}],
		"models":[{"format":"tf-keras-h5","file":"m.h5","expected":"e.npz"}]}`)
	x := tensor.FromFloat64s(tensor.Float32, []int{2, 3}, []float64{1, 2, 3, 4, 5, 6})
	y := tensor.FromFloat64s(tensor.Float32, []int{2}, []float64{7, 8})
	require.NoError(t, tensor.WriteNPZ(filepath.Join(d, "e.npz"), []tensor.Named{{Name: "y", Tensor: y}, {Name: "in_0", Tensor: x}}))
	require.NoError(t, tensor.WriteNPZ(filepath.Join(d, "bad.npz"), []tensor.Named{{Name: "in_0", Tensor: y}, {Name: "y", Tensor: y}}))
	cases, err := Load(root)
	require.NoError(t, err)
	c := cases[0]
	assert.Equal(t, "keras/c", c.ID())
	assert.Equal(t, 2, c.Batch())
	ins, outs, err := c.Expected("e.npz")
	require.NoError(t, err)
	assert.Equal(t, x.Data, ins[0].Data)
	assert.Equal(t, y.Data, outs[0].Data)
	_, _, err = c.Expected("bad.npz")
	assert.ErrorContains(t, err, `input "in_0" has shape [2], case.json says [2 3]`)
	_, _, err = c.Expected("missing.npz")
	assert.Error(t, err)
}

func TestReadKnownFailures(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) string {
		p := filepath.Join(dir, "KF")
		require.NoError(t, os.WriteFile(p, []byte(s), 0o644))
		return p
	}
	k, err := ReadKnownFailures(write("# comment\n\nkeras/a ref/keras3 the reason here\ntorch/b ours/litert other\n"))
	require.NoError(t, err)
	assert.Equal(t, KnownFailures{"keras/a ref/keras3": "the reason here", "torch/b ours/litert": "other"}, k)
	_, err = ReadKnownFailures(write("keras/a ref/keras3\n"))
	assert.ErrorContains(t, err, ":1: want CASE-ID CHECK REASON")
	_, err = ReadKnownFailures(write("keras/a x r\nkeras/a x r2\n"))
	assert.ErrorContains(t, err, ":2: keras/a x listed twice")
	k, err = ReadKnownFailures(filepath.Join(dir, "absent"))
	require.NoError(t, err)
	assert.Empty(t, k)
}

func TestCompare(t *testing.T) {
	f := func(shape []int, v ...float64) *tensor.Tensor { return tensor.FromFloat64s(tensor.Float32, shape, v) }
	want := []*tensor.Tensor{f([]int{4}, 1, -2, 3, 4)}
	rel, err := Compare([]string{"y"}, want, []*tensor.Tensor{f([]int{4}, 1, -2, 3, 4.0001)})
	require.NoError(t, err)
	assert.InDelta(t, 0.0001/4, rel, 1e-6)
	_, err = Compare([]string{"y"}, want, []*tensor.Tensor{f([]int{4}, 1, -2, 3, 4.01)})
	assert.ErrorContains(t, err, "output y: max abs error")
	_, err = Compare([]string{"y"}, want, []*tensor.Tensor{f([]int{2, 2}, 1, -2, 3, 4)})
	assert.ErrorContains(t, err, "shape [2 2], want [4]")
	_, err = Compare(nil, want, nil)
	assert.ErrorContains(t, err, "0 outputs, want 1")
	// an integer output is compared by value
	_, err = Compare(nil, want, []*tensor.Tensor{Cast(want[0], tensor.Int32, nil)})
	require.NoError(t, err)
}

// fakeSession records inputs and echoes them as outputs; it checks how
// RunMapped and RunPerSample order, cast, split and stack tensors.
type fakeSession struct {
	ins, outs []runtime.TensorInfo
	calls     int
}

func (s *fakeSession) Info() runtime.Info            { return runtime.Info{Name: "fake"} }
func (s *fakeSession) Inputs() []runtime.TensorInfo  { return s.ins }
func (s *fakeSession) Outputs() []runtime.TensorInfo { return s.outs }
func (s *fakeSession) Close() error                  { return nil }
func (s *fakeSession) Run(_ context.Context, in []*tensor.Tensor) (*runtime.Result, error) {
	s.calls++
	// outputs in reverse order of the inputs
	return &runtime.Result{Outputs: []*tensor.Tensor{in[1], in[0]}}, nil
}

func TestRunMappedAndPerSample(t *testing.T) {
	sess := &fakeSession{
		ins:  []runtime.TensorInfo{{Name: "b", DType: tensor.Int32}, {Name: "a", DType: tensor.Float32}},
		outs: []runtime.TensorInfo{{Name: "ya"}, {Name: "yb"}},
	}
	in := []IO{{Name: "a"}, {Name: "b"}}
	out := []IO{{Name: "ya"}, {Name: "yb"}}
	a := tensor.FromFloat64s(tensor.Float32, []int{2, 2}, []float64{1, 2, 3, 4})
	b := tensor.FromFloat64s(tensor.Int64, []int{2, 1}, []float64{5, 6})
	got, err := RunMapped(context.Background(), sess, in, []*tensor.Tensor{a, b}, out)
	require.NoError(t, err)
	// session input order is (b, a); the fake returns (a, b) as (ya, yb)
	assert.Equal(t, a.Data, got[0].Data)
	assert.Equal(t, tensor.Int32, got[1].DType, "b was cast to the session's int32")
	assert.Equal(t, []float64{5, 6}, got[1].Float64s())

	sess.calls = 0
	got, err = RunPerSample(context.Background(), func() (runtime.Session, error) { return sess, nil }, in, []*tensor.Tensor{a, b}, out)
	require.NoError(t, err)
	assert.Equal(t, 2, sess.calls)
	assert.Equal(t, []int{2, 2}, got[0].Shape)
	assert.Equal(t, []float64{1, 2, 3, 4}, got[0].Float64s())
	assert.Equal(t, []float64{5, 6}, got[1].Float64s())

	_, err = RunMapped(context.Background(), sess, in[:1], []*tensor.Tensor{a}, out)
	assert.ErrorContains(t, err, "model has 2 inputs, the case 1")
}
