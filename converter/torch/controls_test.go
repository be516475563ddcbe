package torch

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/corpus"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/precision"
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
// tolerance relative to the range (compare.ToleranceFor).
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
	m, err := compare.Measure(want.Float32s(), got[0].Float32s(), want.Shape)
	require.NoError(t, err)
	tol, err := compare.ToleranceFor(precision.Float32, m.RefRange, 0)
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

// outcome is what loading a model file with a control arch file must give.
type outcome struct {
	unused    []string // refused by the unused-weights check, naming exactly these keys
	conflict  string   // refused by *ArchConflictError on this argument ("op": the class)
	arch, mod any      // ... the two values it names
	refused   string   // refused otherwise, with this in the message
	minRel    float64  // loads; max abs / range at least this
	beyondTol bool     // ... and beyond the float32 tolerance
	shapeOff  bool     // ... or the output shape differs
	matches   bool     // loads and within 1e-5 of the range
}

// conflict is the outcome of a step that contradicts the pickled module.
func conflict(arg string, arch, mod any) outcome { return outcome{conflict: arg, arch: arch, mod: mod} }

// both is the same outcome for the state_dict and the full pickle.
func both(o outcome) [2]outcome { return [2]outcome{o, o} }

// TestNegativeControls reads corpus models with wrong, hand-written arch
// files (testdata/controls), each with the case's state_dict and its full
// pickle (torch.save(model), a custom root or a Sequential, whose child
// modules state their arguments). A left-out layer is refused by the
// unused-weights check naming its keys. With a state_dict, a wrong or
// left-out argument loads, but the Go reference is measurably off the
// framework's outputs (what validate --expected catches). With a full
// pickle, a step that names a module by key is checked against it: a
// differing argument or another op class is refused (*ArchConflictError
// naming the arch file, step, key, argument and both values), and a
// left-out argument takes the module's value, so the reference matches the
// framework within 1e-5 of the range. The case's real arch.yaml matches in
// both formats.
func TestNegativeControls(t *testing.T) {
	const sd, full = 0, 1
	noModule := outcome{refused: "a state_dict holds no parameter-free modules"}
	tests := []struct {
		control, cas string
		want         [2]outcome // [state_dict, full pickle]
	}{
		{"block_resnet_down_no_conv2.yaml", "block_resnet_down",
			both(outcome{unused: []string{"bn2.bias", "bn2.running_mean", "bn2.running_var", "bn2.weight", "conv2.weight"}})},
		{"block_resnet_down_no_shortcut_bn.yaml", "block_resnet_down",
			both(outcome{unused: []string{"down_bn.bias", "down_bn.running_mean", "down_bn.running_var", "down_bn.weight"}})},
		{"block_resnet_id_no_conv2.yaml", "block_resnet_id",
			both(outcome{unused: []string{"bn2.bias", "bn2.running_mean", "bn2.running_var", "bn2.weight", "conv2.weight"}})},
		{"block_vgg_no_bn.yaml", "block_vgg",
			both(outcome{unused: []string{"5.bias", "5.running_mean", "5.running_var", "5.weight"}})},
		{"bn2d_after_conv_no_bn.yaml", "bn2d_after_conv",
			both(outcome{unused: []string{"1.bias", "1.running_mean", "1.running_var", "1.weight"}})},
		// A stated argument the module contradicts.
		{"block_resnet_id_eps.yaml", "block_resnet_id",
			[2]outcome{{beyondTol: true}, conflict("eps", 0.001, 1e-5)}},
		{"bn2d_after_conv_eps.yaml", "bn2d_after_conv",
			[2]outcome{{beyondTol: true}, conflict("eps", 0.001, 1e-5)}},
		{"block_mbv2_s2_dw_stride1.yaml", "block_mbv2_s2",
			[2]outcome{{shapeOff: true}, conflict("stride", 1, []any{2, 2})}},
		{"maxpool2d_3_s2_p1_keyed_stride1.yaml", "maxpool2d_3_s2_p1",
			[2]outcome{noModule, conflict("stride", 1, 2)}},
		{"act_leakyrelu_0p2_keyed_slope.yaml", "act_leakyrelu_0p2",
			[2]outcome{noModule, conflict("negative_slope", 0.01, 0.2)}},
		{"softmax_implicit_4d_keyed_dim2.yaml", "softmax_implicit_4d",
			[2]outcome{noModule, conflict("dim", 2, nil)}},
		// The step's op is not the module's class.
		{"block_resnet_id_conv2_transposed.yaml", "block_resnet_id",
			[2]outcome{{minRel: 1e-2, beyondTol: true}, conflict("op", "ConvTranspose2d", "torch.nn.modules.conv.Conv2d")}},
		{"maxpool2d_3_s2_p1_keyed_avgpool.yaml", "maxpool2d_3_s2_p1",
			[2]outcome{noModule, conflict("op", "AvgPool2d", "torch.nn.modules.pooling.MaxPool2d")}},
		{"act_leakyrelu_0p2_keyed_relu.yaml", "act_leakyrelu_0p2",
			[2]outcome{noModule, conflict("op", "ReLU", "torch.nn.modules.activation.LeakyReLU")}},
		// A left-out argument: PyTorch's default with a state_dict, the
		// module's value with a full pickle.
		{"block_vgg_conv_padding.yaml", "block_vgg",
			[2]outcome{{minRel: 1e-2, beyondTol: true}, {matches: true}}},
		{"bn2d_standalone_eps_default.yaml", "bn2d_standalone",
			[2]outcome{{beyondTol: true}, {matches: true}}},
		{"block_mbv2_s2_dw_no_stride.yaml", "block_mbv2_s2",
			[2]outcome{{shapeOff: true}, {matches: true}}},
		{"maxpool2d_3_s2_p1_keyed_no_padding.yaml", "maxpool2d_3_s2_p1",
			[2]outcome{noModule, {matches: true}}},
		{"act_leakyrelu_0p2_keyed_default.yaml", "act_leakyrelu_0p2",
			[2]outcome{noModule, {matches: true}}},
		{"upsample_bilinear_ac_keyed_default.yaml", "upsample_bilinear_ac",
			[2]outcome{noModule, {matches: true}}},
		{"softmax_implicit_4d_keyed_dim1.yaml", "softmax_implicit_4d",
			[2]outcome{noModule, {matches: true}}},
		// A step without key is not tied to a module: not checked.
		{"maxpool2d_3_s2_p1_no_padding.yaml", "maxpool2d_3_s2_p1", both(outcome{shapeOff: true})},
	}
	for _, tc := range tests {
		t.Run(strings.TrimSuffix(tc.control, ".yaml"), func(t *testing.T) {
			c, ins, outs := torchCase(t, tc.cas)
			arch := filepath.Join("testdata", "controls", tc.control)
			formats := 0
			for _, m := range c.Models {
				var want outcome
				switch m.Format {
				case "torch-state-dict":
					want = tc.want[sd]
				case "torch-full-pth":
					want = tc.want[full]
				default:
					continue
				}
				formats++
				model := c.Path(m.File)
				t.Run(m.Format, func(t *testing.T) {
					// The positive twin: the case's own arch file.
					g, err := Load(model, Options{Arch: c.Path(c.Arch)})
					require.NoError(t, err)
					rel, _, same := offBy(t, g, ins, outs[0])
					require.True(t, same)
					assert.Less(t, rel, 1e-5, "the real arch.yaml is within 1e-5 of the range")

					g, err = Load(model, Options{Arch: arch})
					switch {
					case want.unused != nil:
						var uw *UnusedWeightsError
						require.ErrorAs(t, err, &uw)
						assert.Equal(t, want.unused, uw.Keys)
						assert.True(t, IsBadInput(err))
						for _, k := range want.unused {
							assert.Contains(t, err.Error(), k)
						}
						assert.Contains(t, err.Error(), "--allow-unused")
						t.Logf("refused: %v", err)
						// Allowed, the keys are reported.
						r, err := LoadResult(model, Options{Arch: arch, AllowUnused: true})
						require.NoError(t, err)
						assert.Equal(t, want.unused, r.Unused)
						return
					case want.conflict != "":
						var ce *ArchConflictError
						require.ErrorAs(t, err, &ce)
						assert.True(t, IsBadInput(err))
						assert.Equal(t, arch, ce.Arch)
						msg := err.Error()
						for _, s := range []string{model, arch, "layers[", ce.Key, "pickled module"} {
							assert.Contains(t, msg, s)
						}
						if want.conflict == "op" {
							assert.Equal(t, want.arch, ce.Op)
							assert.Equal(t, want.mod, ce.Class)
							assert.Empty(t, ce.Args)
						} else {
							require.Len(t, ce.Args, 1)
							assert.Empty(t, ce.Op)
							got := ce.Args[0]
							assert.Equal(t, want.conflict, got.Name)
							assert.Equal(t, want.arch, got.Arch)
							assert.Equal(t, want.mod, got.Module)
							assert.Contains(t, msg, want.conflict+" = ")
						}
						t.Logf("refused: %v", err)
						return
					case want.refused != "":
						require.Error(t, err)
						assert.True(t, IsBadInput(err))
						assert.Contains(t, err.Error(), want.refused)
						return
					}
					require.NoError(t, err)
					rel, tolRel, same := offBy(t, g, ins, outs[0])
					if want.shapeOff {
						assert.False(t, same, "the reference's output shape differs from the framework's")
						t.Logf("%s: output shape differs from the framework's %v", tc.control, outs[0].Shape)
						return
					}
					require.True(t, same)
					t.Logf("%s: max abs error %.3g of the range (float32 tolerance %.3g)", tc.control, rel, tolRel)
					if want.matches {
						assert.Less(t, rel, 1e-5, "the argument is read from the pickled module")
						return
					}
					assert.Greater(t, rel, want.minRel)
					if want.beyondTol {
						assert.Greater(t, rel, tolRel, "beyond the float32 tolerance")
					}
				})
			}
			assert.Equal(t, 2, formats, "a state_dict and a full pickle")
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

// TestCorpusArchOnFullPickles reads every PyTorch corpus case's real
// arch.yaml with its full pickle, also when the root is a Sequential that
// needs no arch file: every keyed step is then checked against the pickled
// module it names, and none may be refused; the Go reference matches the
// framework's outputs. (TestCorpusCasesLoad reads the state_dicts and the
// custom roots with it.)
func TestCorpusArchOnFullPickles(t *testing.T) {
	cases, err := corpus.Load(filepath.Join(testutil.RepoRoot(t), "testdata", "corpus"))
	require.NoError(t, err)
	n := 0
	for _, c := range cases {
		if c.Framework != "torch" || c.Arch == "" {
			continue
		}
		for _, m := range c.Models {
			if m.Format != "torch-full-pth" || m.NeedsArch {
				continue
			}
			n++
			t.Run(c.Name, func(t *testing.T) {
				r, err := LoadResult(c.Path(m.File), Options{Arch: c.Path(c.Arch), Batch: c.Batch()})
				require.NoError(t, err)
				assert.Empty(t, r.Unused)
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
		}
	}
	assert.Greater(t, n, 70, "Sequential full pickles with an arch.yaml")
}
