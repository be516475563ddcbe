package tflite

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/converter/keras"
	"github.com/edgeval/edgeval/converter/passes"
	"github.com/edgeval/edgeval/corpus"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/hdf5"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tensor"
	tfl "github.com/edgeval/edgeval/tflite"
)

// quantPrecisions pairs this package's precisions with golden's tolerance
// policies and the corpus's file precisions.
var quantPrecisions = []struct {
	p      precision.Precision
	golden precision.Precision
}{
	{precision.Float16, precision.Float16},
	{precision.Dynamic, precision.Dynamic},
	{precision.Int8, precision.Int8},
}

// precisionCorpusCases are the Keras corpus cases that come with the real
// converter's float16, dynamic-range and int8 files.
var precisionCorpusCases = []string{
	"block_mbv2_s1", "block_mbv2_s2", "block_mlp_ln", "block_resnet_down",
	"block_resnet_id", "block_tiny_cnn", "block_unet",
}

// worst is the largest error of a model over its outputs.
type worst struct {
	maxAbs, rel, cosine float64
}

func (w *worst) add(m compare.Metrics) {
	w.maxAbs = max(w.maxAbs, m.MaxAbs)
	if m.RefRange > 0 {
		w.rel = max(w.rel, m.MaxAbs/m.RefRange)
	}
	if w.cosine == 0 || m.Cosine < w.cosine {
		w.cosine = m.Cosine
	}
}

// measure accumulates the errors of got against want into w.
func measure(t *testing.T, want, got []*tensor.Tensor, w *worst) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		m, err := compare.Measure(want[i].Float32s(), got[i].Dequantize(), want[i].Shape)
		require.NoError(t, err)
		w.add(m)
	}
}

// checkPrecision compares got with the float reference want under golden's
// policy for p, and accumulates the errors into w.
func checkPrecision(t *testing.T, p precision.Precision, what string, want, got []*tensor.Tensor, w *worst) {
	t.Helper()
	require.Len(t, got, len(want), what)
	for i := range want {
		require.Equal(t, want[i].Shape, got[i].Shape, "%s output %d", what, i)
		g := got[i].Float32s()
		if got[i].DType != tensor.Float32 {
			g = got[i].Dequantize()
		}
		m, err := compare.Measure(want[i].Float32s(), g, want[i].Shape)
		require.NoError(t, err)
		outScale := 0.0
		if q := got[i].Quant; q != nil && len(q.Scale) > 0 && got[i].DType.IsInteger() {
			outScale = float64(q.Scale[0])
		}
		tol, err := compare.ToleranceFor(p, m.RefRange, outScale)
		require.NoError(t, err)
		ok, why := tol.Check(m)
		assert.True(t, ok, "%s output %d: %v", what, i, why)
		w.add(m)
	}
}

// loadCorpusKeras loads a corpus case's tf.keras .h5 and its inputs.
func loadCorpusKeras(t *testing.T, name string) (*corpus.Case, *graph.Graph, []*tensor.Tensor) {
	t.Helper()
	root, err := corpus.Dir()
	require.NoError(t, err)
	c, err := corpus.ReadCase(filepath.Join(root, "keras", name))
	require.NoError(t, err)
	m, ok := c.Model("tf-keras-h5")
	require.True(t, ok, "%s has a tf-keras-h5 model", name)
	g, err := keras.Load(c.Path(m.File), keras.Options{Batch: c.Batch()})
	if errors.Is(err, hdf5.ErrNotBuilt) {
		t.Skipf("Keras .h5 models need cgo: %v", err)
	}
	require.NoError(t, err)
	ins, _, err := c.Expected(m.Expected)
	require.NoError(t, err)
	return c, g, ins
}

// TestPrecisionCorpus converts the corpus cases that have the real
// converter's quantized files at each precision, runs ours on every
// runtime and theirs on LiteRT, and holds both to golden's policy against
// the Go float reference. Ours must be at least about as close as theirs
// (both are logged).
func TestPrecisionCorpus(t *testing.T) {
	for _, qp := range quantPrecisions {
		for _, name := range precisionCorpusCases {
			t.Run(qp.p.String()+"/"+name, func(t *testing.T) {
				c, g, ins := loadCorpusKeras(t, name)
				want, err := reference.Run(g, ins)
				require.NoError(t, err)
				cg, err := passes.Canonicalize(g, passes.Options{})
				require.NoError(t, err)
				var data []byte
				if qp.p == precision.Int8 {
					data = int8Corpus(t, cg, c.Batch(), ins, false)
				} else {
					d, nm, err := Convert(cg, Options{Batch: c.Batch(), Precision: qp.p})
					require.NoError(t, err)
					checkModel(t, cg, d, nm)
					data = d
				}

				tf, ok := c.TFLiteOf(string(qp.golden))
				require.True(t, ok)
				theirBytes, err := os.ReadFile(c.Path(tf.File))
				require.NoError(t, err)
				var theirs worst
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				open := func() (runtime.Session, error) { return openRuntimeErr(ctx, "litert", theirBytes) }
				theirOut, err := corpus.RunPerSample(ctx, open, c.Inputs, ins, c.Outputs)
				require.NoError(t, err, "the real converter's %s file runs on LiteRT", tf.File)
				checkPrecision(t, qp.golden, "theirs", want, theirOut, &theirs)

				for _, rt := range runtimeNames() {
					var ours worst
					s := openRuntime(t, rt, data)
					got := inGraphOrder(t, cg, s, runSession(t, s, ins))
					checkPrecision(t, qp.golden, "ours on "+rt, want, got, &ours)
					t.Logf("%s %s on %s: ours max abs %.3g (%.3g of range, cosine %.6f, %d bytes); real converter's %.3g (%.3g of range, cosine %.6f, %d bytes)",
						qp.p, name, rt, ours.maxAbs, ours.rel, ours.cosine, len(data), theirs.maxAbs, theirs.rel, theirs.cosine, len(theirBytes))
					// "At least as close": allow a quarter more error plus
					// 1e-6 of the range for rounding differences of a
					// different kernel or fold order.
					assert.LessOrEqual(t, ours.rel, 1.25*theirs.rel+1e-6, "ours no further from the reference than the real converter's")
				}
			})
		}
	}
}

// openRuntimeErr opens model in the named runtime with its signature.
func openRuntimeErr(ctx context.Context, name string, model []byte) (runtime.Session, error) {
	rt, err := runtime.Get(name)
	if err != nil {
		return nil, err
	}
	sig := ""
	if m, err := tfl.Read(model); err == nil {
		if _, err := m.Signature(SignatureKey); err == nil {
			sig = SignatureKey
		}
	}
	return rt.Open(ctx, model, runtime.Options{Signature: sig})
}

// beyondPolicy lists the fixture conversions known to exceed golden's
// tolerance for their precision, with the bound they are held to instead
// (relative max abs error, cosine) and why. Each is measured on the stored
// Keras inputs, the same on LiteRT and the TFLite C runtime.
var beyondPolicy = map[string]struct {
	rel, cosine float64
	why         string
}{
	// int8 weights alone (weight-only DEQUANTIZE gives the same 0.13):
	// ResNet-8 takes raw 0..255 pixels, its logits are large and the
	// softmax saturated, so small logit moves swing the probabilities.
	// Top-1 agrees on every sample.
	"dynamic/resnet8": {0.2, 0.98, "int8 weights move saturated softmax probabilities"},
	// Dense autoencoder with BatchNormalization folded into every layer:
	// per-channel int8 weights alone give 0.03-0.05 of the range.
	"dynamic/ad01": {0.08, 0.999, "int8 weights of ten stacked Dense layers"},
	// Full int8 of the same model: 0.16 of the range, where the real
	// converter's pretrainedResnet_quant.tflite is at 0.41 (cosine 0.83)
	// on the same samples.
	"int8/resnet8": {0.2, 0.97, "int8 activations and weights move saturated softmax probabilities"},
}

// realInt8 are the real converter's full-int8 conversions (int8 inputs and
// outputs) of the fixtures.
var realInt8 = map[string]string{
	"resnet8": "keras/mlcommons-tiny/pretrainedResnet_quant.tflite",
	"vww_96":  "keras/mlcommons-tiny/vww_96_int8.tflite",
	"ad01":    "keras/mlcommons-tiny/ad01_int8.tflite",
}

// runRealInt8 runs a real int8 .tflite on samples in runtime rt (inputs
// quantized with the model's parameters; the reference sees the
// dequantized inputs, so input rounding is not counted) and returns its
// error against the float reference.
func runRealInt8(t *testing.T, rt, rel string, g *graph.Graph, samples [][]*tensor.Tensor) worst {
	t.Helper()
	b, err := os.ReadFile(testutil.Fixture(t, rel))
	require.NoError(t, err)
	s := openRuntime(t, rt, b)
	var w worst
	for _, ins := range samples {
		infos := s.Inputs()
		require.Len(t, infos, len(ins))
		qin := make([]*tensor.Tensor, len(ins))
		refIn := make([]*tensor.Tensor, len(ins))
		for i, x := range ins {
			shaped, err := x.Reshape(infos[i].Shape)
			require.NoError(t, err)
			qin[i] = corpus.Cast(shaped, infos[i].DType, infos[i].Quant)
			refIn[i] = tensor.FromFloat32(x.Shape, qin[i].Dequantize())
		}
		want, err := reference.Run(g, refIn)
		require.NoError(t, err)
		got := runSession(t, s, qin)
		for i := range got {
			got[i].Quant = s.Outputs()[i].Quant
			got[i], err = got[i].Reshape(want[i].Shape)
			require.NoError(t, err)
		}
		measure(t, want, got, &w)
	}
	return w
}

// TestPrecisionFixtures converts the mlcommons-tiny models at each
// precision and checks them on every runtime against the float reference
// on the inputs stored with the Keras outputs (random uniform inputs push
// ResNet-8's raw-pixel logits into a saturated softmax where int8 weights
// alone move the probabilities by 0.09), logging errors and sizes.
func TestPrecisionFixtures(t *testing.T) {
	for _, qp := range quantPrecisions {
		for _, pm := range pairModels {
			t.Run(qp.p.String()+"/"+pm.name, func(t *testing.T) {
				g := loadKeras(t, pm.h5)
				cg, err := passes.Canonicalize(g, passes.Options{})
				require.NoError(t, err)
				f32, _, err := Convert(cg, Options{})
				require.NoError(t, err)
				samples, _ := kerasSamples(t, pm.kerasNPZ)
				opts := Options{Precision: qp.p}
				if qp.p == precision.Int8 {
					opts.Ranges = calibrate(t, cg, samples)
				}
				data, nm, err := Convert(cg, opts)
				require.NoError(t, err)
				checkModel(t, cg, data, nm)
				assert.Less(t, len(data), len(f32)*6/10, "a %v model is smaller than the float32 one", qp.p)
				var theirs worst
				theirFile, haveTheirs := realInt8[pm.name]
				for _, rt := range runtimeNames() {
					if qp.p == precision.Int8 && haveTheirs {
						theirs = runRealInt8(t, rt, theirFile, g, samples)
						t.Logf("int8 %s on %s: the real converter's %s: max abs %.3g (%.3g of range, cosine %.6f)", pm.name, rt, filepath.Base(theirFile), theirs.maxAbs, theirs.rel, theirs.cosine)
					}
					s := openRuntime(t, rt, data)
					var ours worst
					for _, ins := range samples {
						want, err := reference.Run(g, ins)
						require.NoError(t, err)
						got := inGraphOrder(t, cg, s, runSession(t, s, ins))
						if b, ok := beyondPolicy[qp.p.String()+"/"+pm.name]; ok {
							measure(t, want, got, &ours)
							assert.LessOrEqual(t, ours.rel, b.rel, b.why)
							assert.GreaterOrEqual(t, ours.cosine, b.cosine, b.why)
							continue
						}
						checkPrecision(t, qp.golden, "ours on "+rt, want, got, &ours)
					}
					t.Logf("%s %s on %s: max abs %.3g (%.3g of range, cosine %.6f); %d bytes (float32 %d)",
						qp.p, pm.name, rt, ours.maxAbs, ours.rel, ours.cosine, len(data), len(f32))
					if qp.p == precision.Int8 && haveTheirs && !pm.realDisagrees {
						assert.LessOrEqual(t, ours.rel, 1.25*theirs.rel, "ours no further from the reference than the real converter's int8 file")
					}
				}
			})
		}
	}
}

// int8Corpus converts a corpus case at int8, calibrated on its inputs.
func int8Corpus(t *testing.T, cg *graph.Graph, batch int, ins []*tensor.Tensor, int8IO bool) []byte {
	t.Helper()
	ranges := calibrate(t, cg, [][]*tensor.Tensor{ins})
	data, nm, err := Convert(cg, Options{Batch: batch, Precision: precision.Int8, Ranges: ranges, Int8IO: int8IO})
	require.NoError(t, err)
	if !int8IO {
		checkModel(t, cg, data, nm)
	}
	return data
}

// calibrate records the min/max of every computed value over samples, as
// converter/quantize.Calibrate does (which this package's tests cannot
// import: it imports this package).
func calibrate(t *testing.T, g *graph.Graph, samples [][]*tensor.Tensor) map[string]Range {
	t.Helper()
	prog, err := reference.Prepare(g)
	require.NoError(t, err)
	ranges := map[string]Range{}
	for _, ins := range samples {
		vals, err := prog.RunAll(ins)
		require.NoError(t, err)
		for name, v := range vals {
			r, ok := ranges[name]
			for i, x := range v.Float32s() {
				if !ok && i == 0 {
					r = Range{x, x}
				}
				r.Min, r.Max = min(r.Min, x), max(r.Max, x)
			}
			ranges[name] = r
		}
	}
	return ranges
}
