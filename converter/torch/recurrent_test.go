package torch

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nlpodyssey/gopickle/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/converter/passes"
	convtflite "github.com/edgeval/edgeval/converter/tflite"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/tensor"
)

// writeArch writes an --arch file into a test's temporary directory.
func writeArch(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "arch.yaml")
	require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	return p
}

// npzArrays reads an .npz by name.
func npzArrays(t *testing.T, p string) map[string]*tensor.Tensor {
	t.Helper()
	arrs, err := tensor.ReadNPZ(p)
	require.NoError(t, err)
	out := map[string]*tensor.Tensor{}
	for _, a := range arrs {
		out[a.Name] = a.Tensor
	}
	return out
}

// assertWithinRange checks got against want within tol of want's range.
func assertWithinRange(t *testing.T, want, got *tensor.Tensor, tol float64, what string) {
	t.Helper()
	require.Equal(t, want.Shape, got.Shape, what)
	w, g := want.Float32s(), got.Float32s()
	lo, hi, worst := math.Inf(1), math.Inf(-1), 0.0
	for i := range w {
		lo, hi = min(lo, float64(w[i])), max(hi, float64(w[i]))
		worst = max(worst, math.Abs(float64(w[i])-float64(g[i])))
	}
	assert.LessOrEqual(t, worst, tol*(hi-lo), "%s: max error %g, range %g", what, worst, hi-lo)
}

// TestRecurrentOutputs: both results of a recurrent module, the output
// sequence and h_n, against PyTorch's (testdata/gen/gen_torch_rnn_units.py):
// a root nn.RNN (relu, 2 layers, bidirectional, sequence-first) from a full
// pickle, and a 2-layer bidirectional batch_first LSTM's (output, h_n) from
// a .pt2, and a GRU without biases from a core ATen .pt2 (mm). h_n stacks
// layer by layer, forward then reverse.
func TestRecurrentOutputs(t *testing.T) {
	for _, tc := range []struct{ file, arch string }{
		{"rnn_root_relu.pth", "format: edgeval-torch-arch/1\ninput: [5, 2, 4]\n"},
		{"rnn_lstm_hn.pt2", ""},
		{"rnn_gru_nobias_core.pt2", ""},
	} {
		t.Run(tc.file, func(t *testing.T) {
			o := Options{}
			if tc.arch != "" {
				o.Arch = writeArch(t, tc.arch)
			}
			g, err := Load(filepath.Join("testdata", tc.file), o)
			require.NoError(t, err)
			want := npzArrays(t, filepath.Join("testdata", strings.TrimSuffix(tc.file, filepath.Ext(tc.file))+".npz"))
			got, err := reference.Run(g, []*tensor.Tensor{want["input"]})
			require.NoError(t, err)
			require.Len(t, got, 2)
			assertWithinRange(t, want["output"], got[0], 1e-5, "output")
			assertWithinRange(t, want["h_n"], got[1], 1e-5, "h_n")
		})
	}
}

// TestRecurrentInitialStates: initial states given as model inputs (a
// 2-layer bidirectional LSTM's h0 and c0) and as a non-zero constant the
// forward builds (a GRU from torch.full(..., 0.3)), against PyTorch, in the
// reference and on LiteRT; and --batch refused on states whose batch is
// axis 1.
func TestRecurrentInitialStates(t *testing.T) {
	for _, tc := range []struct {
		file   string
		inputs []string
	}{
		{"rnn_lstm_h0", []string{"input", "h0", "c0"}},
		{"rnn_gru_h0const", []string{"input"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			want := npzArrays(t, filepath.Join("testdata", tc.file+".npz"))
			g, err := Load(filepath.Join("testdata", tc.file+".pt2"), Options{})
			require.NoError(t, err)
			require.Len(t, g.Inputs, len(tc.inputs))
			for i, v := range g.Inputs {
				assert.Equal(t, i > 0, v.NoBatch, "a state input [layers·directions, batch, hidden] has no batch on axis 0")
			}
			var ins []*tensor.Tensor
			for _, k := range tc.inputs {
				ins = append(ins, want[k])
			}
			got, err := reference.Run(g, ins)
			require.NoError(t, err)
			assertWithinRange(t, want["output"], got[0], 1e-5, "output")
			// Our .tflite on LiteRT, at the exported batch.
			cg, err := passes.Canonicalize(g, passes.Options{})
			require.NoError(t, err)
			b, _, err := convtflite.Convert(cg, convtflite.Options{Batch: ins[0].Shape[0]})
			require.NoError(t, err)
			dev := runLiteRT(t, b, ins)
			assertWithinRange(t, want["output"], dev[0], 1e-5, "output on LiteRT")
			// The states matter: from zeros the output differs.
			zero := make([]*tensor.Tensor, len(ins))
			zero[0] = ins[0]
			for i := 1; i < len(ins); i++ {
				zero[i] = tensor.New(tensor.Float32, ins[i].Shape)
			}
			if len(ins) > 1 {
				z, err := reference.Run(g, zero)
				require.NoError(t, err)
				assert.NotEqual(t, got[0].Float32s(), z[0].Float32s())
			}
		})
	}
	_, err := Load(filepath.Join("testdata", "rnn_lstm_h0.pt2"), Options{Batch: 3})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "initial state h0 is the model input h0, whose batch is axis 1: --batch cannot rewrite it (give --batch 2")
	_, err = Load(filepath.Join("testdata", "rnn_gru_h0const.pt2"), Options{Batch: 3})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not zeros hold the batch on axis 1")
}

// TestRecurrentExportRefusals: what graph.Recurrent cannot compute (c_n,
// projections, training) and what contradicts the parameters is refused
// by name, in real exports and in edited ones.
func TestRecurrentExportRefusals(t *testing.T) {
	hn := filepath.Join("testdata", "rnn_lstm_hn.pt2")
	tests := []struct {
		name string
		file string
		edit func(prog map[string]any)
		want []string
	}{
		{"proj_size", "rnn_lstm_proj.pt2", nil, []string{"node getitem (torch.ops.aten.lstm.input)", "proj_size"}},
		{"a graph output that is c_n", "rnn_lstm_cn.pt2", nil, []string{"final cell state c_n", "does not compute"}},
		{"an initial state of another shape", "rnn_lstm_hn.pt2", func(prog map[string]any) {
			setNodeArg(t, firstNode(t, prog, "torch.ops.aten.zeros.default"), "size", map[string]any{"as_ints": []any{4, 2, 5}})
		}, []string{"initial state h0 (zeros) has shape [4 2 5], want [4 2 3]"}},
		{"train=True", "rnn_lstm_hn.pt2", func(prog map[string]any) {
			setNodeArg(t, firstNode(t, prog, "torch.ops.aten.lstm.input"), "train", map[string]any{"as_bool": true})
		}, []string{"argument train = true is not supported"}},
		{"num_layers that does not fit the parameters", "rnn_lstm_hn.pt2", func(prog map[string]any) {
			setNodeArg(t, firstNode(t, prog, "torch.ops.aten.lstm.input"), "num_layers", map[string]any{"as_int": 1})
		}, []string{"16 parameters, want 8"}},
		{"an unknown argument", "rnn_lstm_hn.pt2", func(prog map[string]any) {
			n := firstNode(t, prog, "torch.ops.aten.lstm.input")
			n["inputs"] = append(n["inputs"].([]any), map[string]any{"name": "bogus", "arg": map[string]any{"as_int": 1}})
		}, []string{`argument "bogus"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join("testdata", tc.file)
			if tc.edit != nil {
				p = editPT2(t, hn, "model.pt2", tc.edit)
			}
			_, err := Load(p, Options{})
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.True(t, IsBadInput(err), "a user's file, not an internal error: %v", err)
		})
	}
}

// TestRecurrentModuleRefusals: a pickled nn.RNN/nn.LSTM is read strictly:
// the attributes forward reads (mode, _flat_weights_names, _flat_weights)
// must be what the constructor arguments say, and an LSTM whose c_n would
// be a model output is refused.
func TestRecurrentModuleRefusals(t *testing.T) {
	arch := "format: edgeval-torch-arch/1\ninput: [5, 2, 4]\n"
	tests := []struct {
		name string
		file string
		edit func(m *Module)
		want []string
	}{
		{"a root LSTM returns c_n", "rnn_root_lstm.pth", nil, []string{"c_n", "not computed"}},
		{"mode disagrees with nonlinearity", "rnn_root_relu.pth", func(m *Module) { m.Attrs["mode"] = "RNN_TANH" }, []string{`mode = "RNN_TANH" disagrees with nonlinearity = "relu"`}},
		{"a mode of another class", "rnn_root_relu.pth", func(m *Module) { m.Attrs["mode"] = "GRU" }, []string{"attribute mode = GRU is not supported"}},
		{"_flat_weights_names out of order", "rnn_root_relu.pth", func(m *Module) {
			l := m.Attrs["_flat_weights_names"].(*types.List)
			(*l)[0], (*l)[1] = (*l)[1], (*l)[0]
		}, []string{"attribute _flat_weights_names", "want [weight_ih_l0 weight_hh_l0"}},
		{"_flat_weights that are not the parameters", "rnn_root_relu.pth", func(m *Module) {
			l := m.Attrs["_flat_weights"].(*types.List)
			(*l)[0], (*l)[1] = (*l)[1], (*l)[0]
		}, []string{"_flat_weights[0] is not the module's parameter weight_ih_l0"}},
		{"proj_size", "rnn_root_relu.pth", func(m *Module) { m.Attrs["proj_size"] = 2 }, []string{"proj_size = 2"}},
		{"an unknown attribute", "rnn_root_relu.pth", func(m *Module) { m.Attrs["zoneout"] = 0.1 }, []string{"attribute zoneout = 0.1 is not understood"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ReadFile(filepath.Join("testdata", tc.file))
			require.NoError(t, err)
			if tc.edit != nil {
				tc.edit(f.Root)
			}
			a, err := ParseArch([]byte(arch))
			require.NoError(t, err)
			_, err = BuildModule(f, a, 0)
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// TestRecurrentArchChecks: an --arch step's stated arguments are checked
// against the state_dict's parameters (num_layers, bidirectional, bias
// come from them) and the pickled module (batch_first).
func TestRecurrentArchChecks(t *testing.T) {
	dir := filepath.Join(testutil.RepoRoot(t), "testdata", "corpus", "torch", "rnn_gru_bidir2")
	head := "format: edgeval-torch-arch/1\ninput: [2, 7, 6]\nlayers:\n"
	tests := []struct {
		name, file, step string
		want             []string
	}{
		{"num_layers", "state_dict.pth", "- {op: GRU, key: gru, num_layers: 1, batch_first: true}", []string{"argument num_layers = 1, but the parameters under gru says 2"}},
		{"bidirectional", "state_dict.pth", "- {op: GRU, key: gru, bidirectional: false, batch_first: true}", []string{"argument bidirectional = false, but the parameters under gru say true"}},
		{"proj_size", "state_dict.pth", "- {op: GRU, key: gru, proj_size: 2, batch_first: true}", []string{"proj_size 2"}},
		{"an LSTM step over a GRU module", "model_full.pth", "- {op: LSTM, key: gru, batch_first: true}", []string{"op LSTM for key gru", "is a torch.nn.modules.rnn.GRU"}},
		{"batch_first against the module", "model_full.pth", "- {op: GRU, key: gru, batch_first: false}", []string{"batch_first = False in the arch file, but the module states batch_first = True"}},
		{"output", "state_dict.pth", "- {op: GRU, key: gru, batch_first: true, output: c_n}", []string{`output "c_n"`}},
		{"the wrong input size", "state_dict.pth", "- {op: GRU, key: gru, batch_first: true, input_size: 5}", []string{"argument input_size = 5"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(filepath.Join(dir, tc.file), Options{Arch: writeArch(t, head+tc.step+"\n- {op: Linear, key: fc}\n")})
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// TestRecurrentOpTable checks that every ATen op nn.LSTM, nn.GRU and
// nn.RNN (tanh, relu) emit under torch.export at the pinned torch, in a
// spread of configurations (layers, directions, batch_first, biases),
// default and after run_decompositions(), is mapped, with an argument
// schema that knows every argument the serializer wrote, in a kind the
// reader understands (testdata/gen/gen_torch_rnn_units.py writes the
// record).
func TestRecurrentOpTable(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "recurrent_ops.json"))
	require.NoError(t, err)
	var rec torchvisionOps
	require.NoError(t, json.Unmarshal(b, &rec))
	require.NotEmpty(t, rec.Torch)
	for _, m := range []string{"LSTM", "GRU", "RNN", "RNN_nonlinearity=relu", "LSTM_bidirectional=True_num_layers=2", "GRU_batch_first=True_bias=False"} {
		require.Contains(t, rec.Models, m)
		require.NotEmpty(t, rec.Models[m]["default"], m)
		require.NotEmpty(t, rec.Models[m]["decomposed"], m)
	}
	for _, target := range []string{"torch.ops.aten.lstm.input", "torch.ops.aten.gru.input", "torch.ops.aten.rnn_tanh.input", "torch.ops.aten.rnn_relu.input"} {
		require.Contains(t, rec.Args, target, "the record lacks a recurrent op")
	}
	var unmapped []string
	for target, argKinds := range rec.Args {
		if _, ok := exportOps[target]; !ok {
			unmapped = append(unmapped, target)
			continue
		}
		sch, ok := atenSchemas[target]
		if !assert.True(t, ok, "%s has no argument schema", target) {
			continue
		}
		for name, kinds := range argKinds {
			j := slices.IndexFunc(sch, func(a atenArg) bool { return a.name == name })
			if !assert.GreaterOrEqual(t, j, 0, "%s: argument %s is not in the schema", target, name) {
				continue
			}
			for _, k := range kinds {
				if sch[j].rule != argHarmless {
					assert.Contains(t, knownArgKinds, k, "%s: argument %s is written as %s", target, name, k)
				}
			}
		}
	}
	assert.Empty(t, unmapped, "ATen ops of the recurrent modules (torch %s) with no mapping", rec.Torch)
}

// TestRecurrentExportBatch: --batch rewrites a batch_first recurrent
// program (the exported zero states keep the exported batch and are not
// read; selecting along h_n's layer axis keeps the batch), and refuses a
// sequence-first one, whose axis 0 is time.
func TestRecurrentExportBatch(t *testing.T) {
	want := npzArrays(t, filepath.Join("testdata", "rnn_lstm_hn.npz"))
	g, err := Load(filepath.Join("testdata", "rnn_lstm_hn.pt2"), Options{Batch: 4})
	require.NoError(t, err)
	in := want["input"]
	x := tensor.FromFloat32(append([]int{4}, in.Shape[1:]...), append(slices.Clone(in.Float32s()), in.Float32s()...))
	got, err := reference.Run(g, []*tensor.Tensor{x})
	require.NoError(t, err)
	w := want["output"].Float32s()
	assertWithinRange(t, tensor.FromFloat32(append([]int{4}, want["output"].Shape[1:]...), append(slices.Clone(w), w...)), got[0], 1e-5, "output at batch 4")
	assert.Equal(t, []int{4, 4, 3}, got[1].Shape, "h_n [layers·directions, batch, hidden]")

	corpus := filepath.Join(testutil.RepoRoot(t), "testdata", "corpus", "torch")
	g, err = Load(filepath.Join(corpus, "rnn_lstm_textcls", "model.pt2"), Options{Batch: 3})
	require.NoError(t, err, "h_n[-1] selects along the layers, not the batch")
	assert.Equal(t, []int{3, 12}, g.Inputs[0].Shape)

	_, err = Load(filepath.Join(corpus, "rnn_tanh_seqfirst", "model.pt2"), Options{Batch: 3})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "reads axis 0 of its input as time: --batch cannot rewrite it (give --batch 9")
}
