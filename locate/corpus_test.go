package locate_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/converter/keras"
	"github.com/edgeval/edgeval/converter/passes"
	"github.com/edgeval/edgeval/converter/quantize"
	convtflite "github.com/edgeval/edgeval/converter/tflite"
	"github.com/edgeval/edgeval/corpus"
	"github.com/edgeval/edgeval/golden"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/hdf5"
	"github.com/edgeval/edgeval/locate"
	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/tensor"
)

// int8CorpusCases are the Keras corpus blocks that come with the real
// converter's int8 file (tf_int8.tflite, int8 I/O).
var int8CorpusCases = []string{
	"block_mbv2_s1", "block_mbv2_s2", "block_mlp_ln", "block_resnet_down",
	"block_resnet_id", "block_tiny_cnn", "block_unet",
}

// corpusCase loads a corpus case's tf.keras .h5 at batch 1 and its inputs,
// one sample per row of the recorded inputs.
func corpusCase(t *testing.T, name string) (*corpus.Case, *graph.Graph, golden.Samples) {
	t.Helper()
	root, err := corpus.Dir()
	require.NoError(t, err)
	c, err := corpus.ReadCase(filepath.Join(root, "keras", name))
	require.NoError(t, err)
	m, ok := c.Model("tf-keras-h5")
	require.True(t, ok)
	g, err := keras.Load(c.Path(m.File), keras.Options{Batch: 1})
	if errors.Is(err, hdf5.ErrNotBuilt) {
		t.Skipf("Keras .h5 models need cgo: %v", err)
	}
	require.NoError(t, err)
	ins, _, err := c.Expected(m.Expected)
	require.NoError(t, err)
	var samples golden.Samples
	for i := 0; i < ins[0].Shape[0]; i++ {
		var s []*tensor.Tensor
		for j, in := range ins {
			r, err := in.Slice(i).Reshape(g.Inputs[j].Shape)
			require.NoError(t, err)
			s = append(s, r)
		}
		samples = append(samples, s)
	}
	return c, g, samples
}

// finalPass judges the model's outputs in the report (the graph's outputs'
// rows) at the output policy of their precision, as validate does.
func finalPass(t *testing.T, g *graph.Graph, r *locate.Report) bool {
	t.Helper()
	pass := true
	for _, out := range g.Outputs {
		for _, l := range r.Layers {
			if l.Value != out.Name {
				continue
			}
			tol, err := compare.ToleranceFor(precision.Int8, l.Metrics.RefRange, l.Scale)
			require.NoError(t, err)
			ok, _ := tol.Check(l.Metrics)
			pass = pass && ok
		}
	}
	return pass
}

// TestInt8TableCorpus: the per-layer table of every corpus int8 model — the
// real converter's file against the source graph, and our conversion
// against its canonical graph — flags no layer when the final output
// passes, and its int8 rows are in steps of their own scales.
func TestInt8TableCorpus(t *testing.T) {
	worst := 0.0
	for _, name := range int8CorpusCases {
		t.Run(name, func(t *testing.T) {
			c, g, samples := corpusCase(t, name)
			tf, ok := c.TFLiteOf("int8")
			require.True(t, ok)
			theirs, err := os.ReadFile(c.Path(tf.File))
			require.NoError(t, err)

			cg, err := passes.Canonicalize(g, passes.Options{})
			require.NoError(t, err)
			ranges, err := quantize.Calibrate(cg, samples)
			require.NoError(t, err)
			ours, _, err := convtflite.Convert(cg, convtflite.Options{Precision: precision.Int8, Ranges: ranges})
			require.NoError(t, err)

			for _, run := range []struct {
				who string
				g   *graph.Graph
				tfl []byte
			}{{"theirs", g, theirs}, {"ours", cg, ours}} {
				r, err := locate.Table(context.Background(), run.g, run.tfl, litertOpener(t), samples)
				require.NoError(t, err, run.who)
				assert.Equal(t, precision.Int8, r.Precision)
				assert.NotEmpty(t, r.Layers)
				steps, clipped := 0.0, 0.0
				for _, l := range r.Layers {
					if l.Precision == precision.Int8 {
						assert.Greater(t, l.Scale, 0.0)
						steps = max(steps, l.LocalSteps())
						clipped = max(clipped, l.ClipRMSSteps)
					}
				}
				t.Logf("%s %s: most clipped layer %.2f steps RMS", name, run.who, clipped)
				worst = max(worst, steps)
				pass := finalPass(t, run.g, r)
				t.Logf("%s %s: %d layers, %d unmapped, worst own error %.2f steps, final output passes: %v, first flagged: %v",
					name, run.who, len(r.Layers), r.Unmapped, steps, pass, r.First())
				if pass {
					assert.Nil(t, r.First(), "%s %s: no layer is flagged when the output passes", name, run.who)
				}
			}
		})
	}
	t.Logf("worst own error of a layer over the corpus: %.2f steps (bound %d)", worst, locate.Int8Steps)
}

// TestTableFloat16Dynamic: the real converter's float16 and dynamic-range
// files of a corpus block, and ours, flag no layer; their rows carry the
// precision of the operator that writes them.
func TestTableFloat16Dynamic(t *testing.T) {
	c, g, samples := corpusCase(t, "block_unet")
	cg, err := passes.Canonicalize(g, passes.Options{})
	require.NoError(t, err)
	for _, p := range []precision.Precision{precision.Float16, precision.Dynamic} {
		tf, ok := c.TFLiteOf(string(p))
		require.True(t, ok)
		theirs, err := os.ReadFile(c.Path(tf.File))
		require.NoError(t, err)
		ours, _, err := convtflite.Convert(cg, convtflite.Options{Precision: p})
		require.NoError(t, err)
		for _, run := range []struct {
			who string
			g   *graph.Graph
			tfl []byte
		}{{"theirs", g, theirs}, {"ours", cg, ours}} {
			r, err := locate.Table(context.Background(), run.g, run.tfl, litertOpener(t), samples)
			require.NoError(t, err, run.who)
			assert.Equal(t, p, r.Precision, run.who)
			seen := map[precision.Precision]int{}
			for _, l := range r.Layers {
				seen[l.Precision]++
			}
			assert.Positive(t, seen[p], "%s %s: some rows are at the model's precision: %v", p, run.who, seen)
			assert.Nil(t, r.First(), "%s %s", p, run.who)
			t.Logf("%s %s: %d layers by precision %v", p, run.who, len(r.Layers), seen)
		}
	}
}
