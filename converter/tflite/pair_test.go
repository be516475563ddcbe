package tflite

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/converter/keras"
	"github.com/edgeval/edgeval/converter/passes"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/hdf5"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/tensor"
	tfl "github.com/edgeval/edgeval/tflite"
)

// pairModels are the Keras fixtures that come with the real TFLite
// converter's float conversion of the same weights, and an input range for
// each.
//
// kerasNPZ holds inputs and the outputs tf_keras computed for them (made by
// converter/keras's test generator). realDisagrees marks a real .tflite
// that does not compute what its .h5 computes in Keras (see
// TestAD01RealConverterDroppedDenseBias): there our model must match Keras
// and the real one is only reported.
var pairModels = []struct {
	name, h5, tflite, kerasNPZ string
	lo, hi                     float64
	realDisagrees              bool
}{
	{"resnet8", "keras/mlcommons-tiny/pretrainedResnet.h5", "keras/mlcommons-tiny/pretrainedResnet.tflite", "shared_resnet", 0, 255, false},
	{"vww_96", "keras/mlcommons-tiny/vww_96.h5", "keras/mlcommons-tiny/vww_96_float.tflite", "shared_vww_96", 0, 1, false},
	{"ad01", "keras/mlcommons-tiny/ad01.h5", "keras/mlcommons-tiny/ad01_fp32.tflite", "shared_ad01", -20, 20, true},
}

// kerasSamples returns the inputs and Keras outputs stored for a fixture,
// one sample at a time (batch 1).
func kerasSamples(t *testing.T, name string) (ins, outs [][]*tensor.Tensor) {
	t.Helper()
	arrays, err := tensor.ReadNPZ(filepath.Join("..", "keras", "testdata", name+".npz"))
	require.NoError(t, err)
	byName := map[string]*tensor.Tensor{}
	for _, a := range arrays {
		byName[a.Name] = a.Tensor
	}
	in, out := byName["input_0"], byName["output_0"]
	require.NotNil(t, in)
	require.NotNil(t, out)
	for i := range in.Shape[0] {
		x, y := in.Slice(i), out.Slice(i)
		x = tensor.FromFloat32(append([]int{1}, x.Shape...), x.Float32s())
		y = tensor.FromFloat32(append([]int{1}, y.Shape...), y.Float32s())
		ins, outs = append(ins, []*tensor.Tensor{x}), append(outs, []*tensor.Tensor{y})
	}
	return ins, outs
}

// loadKeras loads a Keras fixture, skipping without HDF5 support.
func loadKeras(t testing.TB, rel string) *graph.Graph {
	t.Helper()
	g, err := keras.Load(testutil.Fixture(t, rel), keras.Options{})
	if errors.Is(err, hdf5.ErrNotBuilt) {
		t.Skipf("Keras .h5 fixtures need cgo: %v", err)
	}
	require.NoError(t, err)
	return g
}

// TestPairModels converts each PAIR fixture and runs our .tflite and the
// real TFLite converter's on the same inputs in LiteRT: the outputs must
// agree within 1e-5 of the output range (issue 3's acceptance criterion),
// and the models must have the same operators.
func TestPairModels(t *testing.T) {
	for _, pm := range pairModels {
		t.Run(pm.name, func(t *testing.T) {
			g := loadKeras(t, pm.h5)
			c, err := passes.Canonicalize(g, passes.Options{})
			require.NoError(t, err)
			data, nm, err := Convert(c, Options{})
			require.NoError(t, err)
			ours := checkModel(t, c, data, nm)
			realBytes, err := os.ReadFile(testutil.Fixture(t, pm.tflite))
			require.NoError(t, err)
			real, err := tfl.Read(realBytes)
			require.NoError(t, err)
			gotOps, wantOps := opNames(ours), opNames(real)
			slices.Sort(gotOps)
			slices.Sort(wantOps)
			assert.Equal(t, wantOps, gotOps, "the same operators as the TFLite converter")
			assert.Equal(t, real.MinRuntimeVersion, ours.MinRuntimeVersion)

			for _, rt := range runtimeNames() {
				comparePair(t, pm.name, rt, g, data, realBytes, pm.kerasNPZ, pm.lo, pm.hi, pm.realDisagrees, len(gotOps))
			}
		})
	}
}

// comparePair runs our model and the real one in runtime rt on Keras's
// samples and random ones.
func comparePair(t *testing.T, name, rt string, g *graph.Graph, data, realBytes []byte, kerasNPZ string, lo, hi float64, realDisagrees bool, nOps int) {
	t.Helper()
	{
		{
			sOurs, sReal := openRuntime(t, rt, data), openRuntime(t, rt, realBytes)
			// Samples: Keras's own inputs and outputs, then random inputs
			// with the reference as the expected output.
			samples, kerasOuts := kerasSamples(t, kerasNPZ)
			for seed := uint64(1); seed <= 4; seed++ {
				samples = append(samples, randInputs(g, seed, lo, hi))
			}
			var worstReal, worstSource float64
			for k, ins := range samples {
				want := (*[]*tensor.Tensor)(nil)
				if k < len(kerasOuts) {
					want = &kerasOuts[k]
				} else {
					ref, err := reference.Run(g, ins)
					require.NoError(t, err)
					want = &ref
				}
				a, b := runSession(t, sOurs, ins), runSession(t, sReal, ins)
				require.Len(t, a, len(b))
				for i := range a {
					ds, span := maxDiff((*want)[i], a[i])
					worstSource = max(worstSource, ds/span)
					assert.LessOrEqual(t, ds, 1e-5*span, "sample %d output %d: ours vs Keras/reference: max abs %g over range %g", k, i, ds, span)
					dr, rspan := maxDiff(b[i], a[i])
					worstReal = max(worstReal, dr/rspan)
					if !realDisagrees {
						assert.LessOrEqual(t, dr, 1e-5*rspan, "sample %d output %d: ours vs TFLite converter's: max abs %g over range %g", k, i, dr, rspan)
					}
				}
			}
			if realDisagrees {
				assert.Greater(t, worstReal, 1e-3, "the real .tflite was expected to disagree with Keras")
			}
			t.Logf("%s in %s: %d ops; %d samples (%d with Keras outputs); max |ours - Keras/reference|/range = %.3g; max |ours - TFLite converter's|/range = %.3g",
				name, rt, nOps, len(samples), len(kerasOuts), worstSource, worstReal)
		}
	}
}

// TestAD01RealConverterDroppedDenseBias documents why ad01_fp32.tflite
// cannot match ad01.h5: every Dense followed by BatchNormalization was
// folded by the real converter with bias beta - mean*s, dropping the Dense
// layer's own (non-zero) bias b; Keras computes (b - mean)*s + beta.
func TestAD01RealConverterDroppedDenseBias(t *testing.T) {
	g := loadKeras(t, "keras/mlcommons-tiny/ad01.h5")
	rb, err := os.ReadFile(testutil.Fixture(t, "keras/mlcommons-tiny/ad01_fp32.tflite"))
	require.NoError(t, err)
	real, err := tfl.Read(rb)
	require.NoError(t, err)
	k := 0
	for i, n := range g.Nodes {
		bn, ok := n.Op.(*graph.BatchNorm)
		if !ok {
			continue
		}
		dense := g.Nodes[i-1]
		require.Equal(t, "Dense", dense.Op.Kind())
		b := dense.Inputs[2].Const.Float32s()
		gamma, beta := n.Inputs[1].Const.Float32s(), n.Inputs[2].Const.Float32s()
		mean, variance := n.Inputs[3].Const.Float32s(), n.Inputs[4].Const.Float32s()
		rt, err := real.ConstTensor(0, real.Subgraphs[0].Operators[k].Inputs[2])
		require.NoError(t, err)
		realBias := rt.Float32s()
		var dropped, kept, maxB float64
		for c := range b {
			s := float64(gamma[c]) / math.Sqrt(float64(variance[c])+float64(bn.Epsilon))
			dropped = max(dropped, math.Abs(float64(beta[c])-float64(mean[c])*s-float64(realBias[c])))
			kept = max(kept, math.Abs((float64(b[c])-float64(mean[c]))*s+float64(beta[c])-float64(realBias[c])))
			maxB = max(maxB, math.Abs(float64(b[c])))
		}
		assert.Less(t, dropped, 1e-5, "%s: real bias = beta - mean*s", n.Name)
		assert.Greater(t, kept, 1e-4, "%s: the Keras fold differs", n.Name)
		t.Logf("%s: max |b| = %.3g; real bias vs beta-mean*s %.2g, vs Keras fold %.2g", dense.Name, maxB, dropped, kept)
		k++
	}
	assert.Equal(t, 9, k)
}

// BenchmarkConvertKeras measures the conversion of the PAIR fixtures from
// .h5 to .tflite bytes: "total" is Load + Canonicalize + Convert, "convert"
// Canonicalize + Convert of a loaded graph.
func BenchmarkConvertKeras(b *testing.B) {
	for _, pm := range pairModels[:2] {
		path := testutil.Fixture(b, pm.h5)
		b.Run(pm.name+"/total", func(b *testing.B) {
			for b.Loop() {
				g, err := keras.Load(path, keras.Options{})
				if errors.Is(err, hdf5.ErrNotBuilt) {
					b.Skip("needs cgo")
				}
				require.NoError(b, err)
				c, err := passes.Canonicalize(g, passes.Options{})
				require.NoError(b, err)
				_, _, err = Convert(c, Options{})
				require.NoError(b, err)
			}
		})
		b.Run(pm.name+"/convert", func(b *testing.B) {
			g := loadKeras(b, pm.h5)
			for b.Loop() {
				c, err := passes.Canonicalize(g, passes.Options{})
				require.NoError(b, err)
				_, _, err = Convert(c, Options{})
				require.NoError(b, err)
			}
		})
	}
}
