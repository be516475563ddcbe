package torch

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/corpus"
	"github.com/edgeval/edgeval/golden"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/tensor"
)

// torchCase reads testdata/corpus/torch/NAME and its expected inputs and
// outputs (the framework's own).
func torchCase(t *testing.T, name string) (*corpus.Case, []*tensor.Tensor, []*tensor.Tensor) {
	t.Helper()
	c, err := corpus.ReadCase(filepath.Join(testutil.RepoRoot(t), "testdata", "corpus", "torch", name))
	require.NoError(t, err)
	ins, outs, err := c.Expected("expected.npz")
	require.NoError(t, err)
	return c, ins, outs
}

// offBy runs g's reference on ins and returns, for the first output, the
// max abs error against want relative to want's range and the float32
// tolerance relative to the range (golden.ToleranceFor).
func offBy(t *testing.T, g *graph.Graph, ins []*tensor.Tensor, want *tensor.Tensor) (rel, tolRel float64, sameShape bool) {
	t.Helper()
	args := make([]*tensor.Tensor, len(ins))
	for i, in := range ins {
		args[i] = corpus.Cast(in, g.Inputs[i].DType, nil)
	}
	got, err := reference.Run(g, args)
	require.NoError(t, err)
	if !slicesEqual(got[0].Shape, want.Shape) {
		return 0, 0, false
	}
	m, err := golden.Compare(want.Float32s(), got[0].Float32s(), want.Shape)
	require.NoError(t, err)
	tol, err := golden.ToleranceFor(golden.Float32, m.RefRange, 0)
	require.NoError(t, err)
	return m.MaxAbs / m.RefRange, tol.MaxAbs / m.RefRange, true
}

func slicesEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestNegativeControls reads corpus state_dicts (and the full pickles of
// the same cases, whose custom root needs the arch file too) with wrong,
// hand-written arch files (testdata/controls): a left-out layer must be
// refused by the unused-weights check naming its keys; a left-out padding
// or a wrong BatchNorm eps loads, but the Go reference must be measurably
// off the framework's outputs (what validate --expected catches), while
// the case's real arch.yaml stays within 1e-5 of the range.
func TestNegativeControls(t *testing.T) {
	tests := []struct {
		control, cas string
		unused       []string // (i) refused, naming exactly these keys
		minRel       float64  // (ii)/(iii) loads; max abs / range at least this
		beyondTol    bool     // ... and beyond the float32 tolerance
		shapeOff     bool     // ... or the output shape differs
	}{
		{control: "block_resnet_down_no_conv2.yaml", cas: "block_resnet_down",
			unused: []string{"bn2.bias", "bn2.running_mean", "bn2.running_var", "bn2.weight", "conv2.weight"}},
		{control: "block_resnet_down_no_shortcut_bn.yaml", cas: "block_resnet_down",
			unused: []string{"down_bn.bias", "down_bn.running_mean", "down_bn.running_var", "down_bn.weight"}},
		{control: "block_resnet_id_no_conv2.yaml", cas: "block_resnet_id",
			unused: []string{"bn2.bias", "bn2.running_mean", "bn2.running_var", "bn2.weight", "conv2.weight"}},
		{control: "block_vgg_no_bn.yaml", cas: "block_vgg",
			unused: []string{"5.bias", "5.running_mean", "5.running_var", "5.weight"}},
		{control: "bn2d_after_conv_no_bn.yaml", cas: "bn2d_after_conv",
			unused: []string{"1.bias", "1.running_mean", "1.running_var", "1.weight"}},
		{control: "block_vgg_conv_padding.yaml", cas: "block_vgg", minRel: 1e-2, beyondTol: true},
		{control: "maxpool2d_3_s2_p1_no_padding.yaml", cas: "maxpool2d_3_s2_p1", shapeOff: true},
		{control: "block_resnet_id_eps.yaml", cas: "block_resnet_id", beyondTol: true},
		{control: "bn2d_after_conv_eps.yaml", cas: "bn2d_after_conv", beyondTol: true},
		{control: "bn2d_standalone_eps_default.yaml", cas: "bn2d_standalone", beyondTol: true},
	}
	for _, tc := range tests {
		t.Run(strings.TrimSuffix(tc.control, ".yaml"), func(t *testing.T) {
			c, ins, outs := torchCase(t, tc.cas)
			arch := filepath.Join("testdata", "controls", tc.control)
			for _, m := range c.Models {
				if m.Format != "torch-state-dict" && !(m.Format == "torch-full-pth" && m.NeedsArch) {
					continue
				}
				model := c.Path(m.File)
				t.Run(m.Format, func(t *testing.T) {
					// The positive twin: the case's own arch file.
					g, err := Load(model, Options{Arch: c.Path(c.Arch)})
					require.NoError(t, err)
					rel, _, same := offBy(t, g, ins, outs[0])
					require.True(t, same)
					assert.Less(t, rel, 1e-5, "the real arch.yaml is within 1e-5 of the range")

					g, err = Load(model, Options{Arch: arch})
					if tc.unused != nil {
						var uw *UnusedWeightsError
						require.ErrorAs(t, err, &uw)
						assert.Equal(t, tc.unused, uw.Keys)
						assert.True(t, IsBadInput(err))
						for _, k := range tc.unused {
							assert.Contains(t, err.Error(), k)
						}
						assert.Contains(t, err.Error(), "--allow-unused")
						t.Logf("refused: %v", err)
						// Allowed, the keys are reported.
						r, err := LoadResult(model, Options{Arch: arch, AllowUnused: true})
						require.NoError(t, err)
						assert.Equal(t, tc.unused, r.Unused)
						return
					}
					require.NoError(t, err, "a wrong hyperparameter loads: only --expected can catch it")
					rel, tolRel, same := offBy(t, g, ins, outs[0])
					if tc.shapeOff {
						assert.False(t, same, "the reference's output shape differs from the framework's")
						t.Logf("%s: output shape differs from the framework's %v", tc.control, outs[0].Shape)
						return
					}
					require.True(t, same)
					t.Logf("%s: max abs error %.3g of the range (float32 tolerance %.3g)", tc.control, rel, tolRel)
					assert.Greater(t, rel, tc.minRel)
					if tc.beyondTol {
						assert.Greater(t, rel, tolRel, "beyond the float32 tolerance")
					}
				})
			}
		})
	}
}

// TestCorpusCasesLoad loads every PyTorch corpus case in every format the
// strict reader takes (state_dict and full pickles with the case's arch
// file or an input-only one, .pt2) and checks the Go reference against the
// framework's outputs: nothing unused (num_batches_tracked aside), nothing
// refused.
func TestCorpusCasesLoad(t *testing.T) {
	cases, err := corpus.Load(filepath.Join(testutil.RepoRoot(t), "testdata", "corpus"))
	require.NoError(t, err)
	n := 0
	for _, c := range cases {
		if c.Framework != "torch" {
			continue
		}
		for _, m := range c.Models {
			if m.Format == "torchscript" {
				continue
			}
			t.Run(c.Name+"/"+m.Format, func(t *testing.T) {
				o := Options{Batch: c.Batch()}
				switch {
				case c.Arch != "" && m.NeedsArch:
					o.Arch = c.Path(c.Arch)
				case m.Format == "torch-full-pth":
					o.Arch = inputOnlyArch(t, c)
				}
				r, err := LoadResult(c.Path(m.File), o)
				require.NoError(t, err)
				assert.Empty(t, r.Unused)
				for _, k := range r.Ignored {
					assert.True(t, harmlessKey(k), "ignored %s", k)
				}
				ins, outs, err := c.Expected(m.Expected)
				require.NoError(t, err)
				args := make([]*tensor.Tensor, len(ins))
				for i, in := range ins {
					args[i] = corpus.Cast(in, r.Graph.Inputs[i].DType, nil)
				}
				got, err := reference.Run(r.Graph, args)
				require.NoError(t, err)
				names := make([]string, len(c.Outputs))
				for i, o := range c.Outputs {
					names[i] = o.Name
				}
				_, err = corpus.Compare(names, outs, got)
				assert.NoError(t, err)
			})
			n++
		}
	}
	assert.Greater(t, n, 150, "torch corpus models")
}

// inputOnlyArch writes an --arch file holding only the case's inputs.
func inputOnlyArch(t *testing.T, c *corpus.Case) string {
	var sb strings.Builder
	sb.WriteString("format: edgeval-torch-arch/1\ninputs:\n")
	for _, in := range c.Inputs {
		dims := make([]string, len(in.Shape))
		for i, d := range in.Shape {
			dims[i] = strconv.Itoa(d)
		}
		sb.WriteString("  - {name: " + in.Name + ", shape: [" + strings.Join(dims, ", ") + "], dtype: " + in.DType + "}\n")
	}
	p := filepath.Join(t.TempDir(), "inputs.yaml")
	require.NoError(t, os.WriteFile(p, []byte(sb.String()), 0o644))
	return p
}
