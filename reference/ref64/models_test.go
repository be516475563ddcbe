//go:build cgo

package ref64

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/converter/keras"
	"github.com/edgeval/edgeval/converter/torch"
	"github.com/edgeval/edgeval/corpus"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/tensor"
)

// fixedTolerance is the fixed float32 policy: max abs error within 1e-4 of
// the output's range.
const fixedTolerance = 1e-4

// sharedModels are the real mlcommons-tiny Keras models and the seeded
// inputs (with tf_keras's outputs) that converter/keras's tests use.
var sharedModels = []struct{ name, rel, npz string }{
	{"vww_96", "keras/mlcommons-tiny/vww_96.h5", "shared_vww_96"},
	{"resnet", "keras/mlcommons-tiny/pretrainedResnet.h5", "shared_resnet"},
	{"ad01", "keras/mlcommons-tiny/ad01.h5", "shared_ad01"},
}

// readNPZ returns the tensors input_0, input_1, ... and output_0, ... of an
// .npz file.
func readNPZ(t testing.TB, path string) (ins, outs []*tensor.Tensor) {
	t.Helper()
	arrays, err := tensor.ReadNPZ(path)
	require.NoError(t, err)
	byName := map[string]*tensor.Tensor{}
	for _, a := range arrays {
		byName[a.Name] = a.Tensor
	}
	for i := 0; byName[fmt.Sprintf("input_%d", i)] != nil; i++ {
		ins = append(ins, byName[fmt.Sprintf("input_%d", i)])
	}
	for i := 0; byName[fmt.Sprintf("output_%d", i)] != nil; i++ {
		outs = append(outs, byName[fmt.Sprintf("output_%d", i)])
	}
	require.NotEmpty(t, ins)
	return ins, outs
}

// loadShared loads a shared fixture model for the batch of its inputs.
func loadShared(t testing.TB, rel, npz string) (*graph.Graph, []*tensor.Tensor, []*tensor.Tensor) {
	t.Helper()
	ins, outs := readNPZ(t, filepath.Join(testutil.RepoRoot(t), "converter", "keras", "testdata", npz+".npz"))
	g, err := keras.Load(testutil.Fixture(t, rel), keras.Options{Batch: ins[0].Shape[0]})
	require.NoError(t, err)
	for i, in := range ins {
		ins[i] = tensor.FromFloat32(in.Shape, in.Float32s())
	}
	return g, ins, outs
}

// randomLike returns n samples of seeded inputs with the shapes of ins,
// uniform over the range each input spans.
func randomLike(ins []*tensor.Tensor, n int) [][]*tensor.Tensor {
	samples := make([][]*tensor.Tensor, n)
	for s := range samples {
		rng := tensor.NewRNG(uint64(100 + s))
		for _, in := range ins {
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, v := range in.Float64s() {
				lo, hi = min(lo, v), max(hi, v)
			}
			samples[s] = append(samples[s], tensor.Random(rng, tensor.Float32, in.Shape, lo, hi))
		}
	}
	return samples
}

// referenceDrift runs package reference on every sample and returns the
// drift of its outputs from ref64's.
func referenceDrift(t *testing.T, g *graph.Graph, samples [][]*tensor.Tensor) []OutputDrift {
	t.Helper()
	rp, err := reference.Prepare(g)
	require.NoError(t, err)
	ref32, err := rp.RunBatch(samples)
	require.NoError(t, err)
	drift, err := Drift(g, samples, ref32)
	require.NoError(t, err)
	require.Len(t, drift, len(g.Outputs))
	return drift
}

// TestSharedModelsDrift: on the real mlcommons-tiny models, the float32
// reference is within the fixed tolerance of the float64 evaluation, and so
// are tf_keras's own float32 outputs (a third, independent witness that
// ref64 reads the graph as Keras means it).
func TestSharedModelsDrift(t *testing.T) {
	for _, m := range sharedModels {
		t.Run(m.name, func(t *testing.T) {
			g, ins, kerasOut := loadShared(t, m.rel, m.npz)
			samples := append([][]*tensor.Tensor{ins}, randomLike(ins, 3)...)
			for i, d := range referenceDrift(t, g, samples) {
				t.Logf("reference vs ref64, output %d %s: max abs %.3g, range %.4g, relative %.3g", i, d.Name, d.MaxAbs, d.Range, d.Relative())
				assert.Greater(t, d.Range, 0.0)
				assert.LessOrEqual(t, d.Relative(), fixedTolerance, "output %s", d.Name)
			}
			require.Len(t, kerasOut, len(g.Outputs))
			kd, err := Drift(g, [][]*tensor.Tensor{ins}, [][]*tensor.Tensor{kerasOut})
			require.NoError(t, err)
			for i, d := range kd {
				t.Logf("tf_keras vs ref64, output %d: max abs %.3g, relative %.3g", i, d.MaxAbs, d.Relative())
				assert.LessOrEqual(t, d.Relative(), fixedTolerance, "output %s", d.Name)
			}
		})
	}
}

// loadCase reads a corpus case's model: a Keras case from its first model
// file, a PyTorch case from its torch.export .pt2 (or its state_dict with
// the --arch file).
func loadCase(c *corpus.Case) (*graph.Graph, corpus.Model, error) {
	for _, m := range c.Models {
		switch {
		case c.Framework == "keras":
			o := keras.Options{Batch: c.Batch()}
			if m.Config != "" {
				o.ConfigJSON = c.Path(m.Config)
			}
			g, err := keras.Load(c.Path(m.File), o)
			return g, m, err
		case m.Format == "torch-export-pt2":
			g, err := torch.Load(c.Path(m.File), torch.Options{Batch: c.Batch()})
			return g, m, err
		case m.Format == "torch-state-dict" && c.Arch != "":
			g, err := torch.Load(c.Path(m.File), torch.Options{Arch: c.Path(c.Arch), Batch: c.Batch()})
			return g, m, err
		}
	}
	return nil, corpus.Model{}, fmt.Errorf("%s: no model format this test reads", c.ID())
}

// TestCorpusDrift: on every case of the generated corpus (real Keras and
// PyTorch models of every layer the front-ends read), the float32
// reference is within the fixed tolerance of ref64, and ref64 is within it
// of the framework's own float32 outputs.
func TestCorpusDrift(t *testing.T) {
	dir, err := corpus.Dir()
	require.NoError(t, err)
	cases, err := corpus.Load(dir)
	require.NoError(t, err)
	require.Greater(t, len(cases), 100)
	worst, worstCase := 0.0, ""
	for _, c := range cases {
		t.Run(c.ID(), func(t *testing.T) {
			g, m, err := loadCase(c)
			require.NoError(t, err)
			ins, want, err := c.Expected(m.Expected)
			require.NoError(t, err)
			for i, in := range ins {
				ins[i] = corpus.Cast(in, g.Inputs[i].DType, nil)
			}
			for _, d := range referenceDrift(t, g, [][]*tensor.Tensor{ins}) {
				assert.LessOrEqual(t, d.Relative(), fixedTolerance, "reference vs ref64, output %s: max abs %g, range %g", d.Name, d.MaxAbs, d.Range)
				if d.Relative() > worst {
					worst, worstCase = d.Relative(), c.ID()
				}
			}
			fd, err := Drift(g, [][]*tensor.Tensor{ins}, [][]*tensor.Tensor{want})
			require.NoError(t, err)
			for _, d := range fd {
				assert.LessOrEqual(t, d.Relative(), fixedTolerance, "framework vs ref64, output %s: max abs %g, range %g", d.Name, d.MaxAbs, d.Range)
			}
		})
	}
	t.Logf("largest drift of reference from ref64 over %d cases: %.3g of range (%s)", len(cases), worst, worstCase)
}

// BenchmarkVWW96 evaluates the real vww_96 (MobileNetV1-0.25, 96x96) on
// one sample with ref64 and with package reference, on one goroutine each
// (compare the two sub-benchmarks with benchstat). Besides sec/op it
// reports the process's CPU time per sample (cpu-sec/op), which other work
// on a shared machine does not inflate.
func BenchmarkVWW96(b *testing.B) {
	g, err := keras.Load(testutil.Fixture(b, "keras/mlcommons-tiny/vww_96.h5"), keras.Options{Batch: 1})
	require.NoError(b, err)
	x := []*tensor.Tensor{tensor.Random(tensor.NewRNG(1), tensor.Float32, g.Inputs[0].Shape, 0, 1)}
	p64, err := Prepare(g)
	require.NoError(b, err)
	p32, err := reference.Prepare(g)
	require.NoError(b, err)
	for _, impl := range []struct {
		name string
		run  func() error
	}{
		{"ref64", func() error { _, err := p64.Run(x); return err }},
		{"reference", func() error { _, err := p32.Run(x); return err }},
	} {
		b.Run("impl="+impl.name, func(b *testing.B) {
			cpu0, ok0 := processCPUTime()
			for b.Loop() {
				if err := impl.run(); err != nil {
					b.Fatal(err)
				}
			}
			if cpu1, ok1 := processCPUTime(); ok0 && ok1 {
				b.ReportMetric((cpu1-cpu0).Seconds()/float64(b.N), "cpu-sec/op")
			}
		})
	}
}
