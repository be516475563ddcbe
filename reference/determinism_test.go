package reference_test

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/converter/keras"
	"github.com/edgeval/edgeval/converter/torch"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/graph/graphtest"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/tensor"
)

// determinismGraphs are graphs covering every op kind (graphtest's cases,
// at batch 3 so that work splits across samples too) and real models in
// both layouts: the MLCommons Tiny Keras fixtures (NHWC) and torchvision's
// MobileNetV2 and ResNet-style blocks from the corpus (.pt2, NCHW).
func determinismGraphs(t *testing.T) map[string]*graph.Graph {
	gs := map[string]*graph.Graph{}
	for _, tc := range graphtest.Cases() {
		g, _, err := tc.Build(3)
		require.NoError(t, err, tc.Name)
		gs["case "+tc.Name] = g
	}
	for name, rel := range map[string]string{
		"vww_96":  "keras/mlcommons-tiny/vww_96.h5",
		"resnet8": "keras/mlcommons-tiny/pretrainedResnet.h5",
	} {
		g, err := keras.Load(testutil.Fixture(t, rel), keras.Options{Batch: 2})
		require.NoError(t, err, rel)
		gs[name] = g
	}
	root := testutil.RepoRoot(t)
	for _, c := range []string{"tv_mobilenet_v2", "block_resnet_down", "tv_shufflenet_v2"} {
		g, err := torch.Load(filepath.Join(root, "testdata/corpus/torch", c, "model.pt2"), torch.Options{})
		require.NoError(t, err, c)
		gs[c] = g
	}
	return gs
}

// TestThreadsGiveSameBits: one sample's work split across goroutines (by
// output tiles, each computed whole by one goroutine) gives the same bits
// as one goroutine, run after run, in Run (fast plan) and RunAll (full
// plan); RunBatch (one goroutine per sample) too.
func TestThreadsGiveSameBits(t *testing.T) {
	for name, g := range determinismGraphs(t) {
		t.Run(name, func(t *testing.T) {
			inputs := make([]*tensor.Tensor, len(g.Inputs))
			for i, in := range g.Inputs {
				inputs[i] = tensor.Random(tensor.NewRNG(uint64(i)+7), tensor.Float32, in.Shape, -1, 1)
			}
			one, err := reference.PrepareWith(g, reference.PrepareOptions{Threads: 1})
			require.NoError(t, err)
			want, err := one.Run(inputs)
			require.NoError(t, err)
			wantAll, err := one.RunAll(inputs)
			require.NoError(t, err)
			for _, threads := range []int{1, 2, 3, 4} {
				p, err := reference.PrepareWith(g, reference.PrepareOptions{Threads: threads})
				require.NoError(t, err)
				for round := range 2 {
					got, err := p.Run(inputs)
					require.NoError(t, err)
					for i := range want {
						assertSameBits(t, want[i].Float32s(), got[i].Float32s(), fmt.Sprintf("Run output %d, %d threads, round %d", i, threads, round))
					}
				}
				all, err := p.RunAll(inputs)
				require.NoError(t, err)
				for k, v := range wantAll {
					assertSameBits(t, v.Float32s(), all[k].Float32s(), fmt.Sprintf("RunAll %s, %d threads", k, threads))
				}
				batch, err := p.RunBatch([][]*tensor.Tensor{inputs, inputs, inputs})
				require.NoError(t, err)
				for _, out := range batch {
					for i := range want {
						assertSameBits(t, want[i].Float32s(), out[i].Float32s(), fmt.Sprintf("RunBatch output %d", i))
					}
				}
			}
		})
	}
}

func assertSameBits(t *testing.T, want, got []float32, msg string) {
	t.Helper()
	require.Len(t, got, len(want), msg)
	for i := range want {
		if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
			assert.Failf(t, "different bits", "%s: element %d is %v, want %v", msg, i, got[i], want[i])
			return
		}
	}
}
