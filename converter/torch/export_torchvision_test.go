package torch

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/reference/ref64"
	"github.com/edgeval/edgeval/tensor"
)

// torchvisionOps is the record testdata/gen/gen_torchvision.py writes of
// the ATen ops torchvision's classifiers emit under torch.export.
type torchvisionOps struct {
	Torch       string                         `json:"torch"`
	Torchvision string                         `json:"torchvision"`
	Models      map[string]map[string][]string `json:"models"` // model → default/decomposed → targets
	Args        map[string]map[string][]string `json:"args"`   // target → argument name → kinds
}

// torchvisionClassifiers are the models the op table must cover.
var torchvisionClassifiers = []string{"resnet18", "mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0",
	"shufflenet_v2_x0_5", "squeezenet1_1", "mnasnet0_5", "regnet_x_400mf", "googlenet", "densenet121", "vgg11_bn",
	"convnext_tiny", "alexnet"}

// TestTorchvisionOpTable checks that every ATen op the torchvision
// classifiers emit at the pinned torch (default and core ATen graphs) is
// mapped, with an argument schema that knows every argument name the
// serializer wrote, in a kind the reader understands.
func TestTorchvisionOpTable(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "torchvision_ops.json"))
	require.NoError(t, err)
	var rec torchvisionOps
	require.NoError(t, json.Unmarshal(b, &rec))
	require.NotEmpty(t, rec.Torch)
	for _, m := range torchvisionClassifiers {
		require.Contains(t, rec.Models, m, "the record lacks a model")
		require.NotEmpty(t, rec.Models[m]["default"], m)
		require.NotEmpty(t, rec.Models[m]["decomposed"], m)
	}
	targets := slices.Sorted(func(yield func(string) bool) {
		for k := range rec.Args {
			if !yield(k) {
				return
			}
		}
	})
	var unmapped []string
	for _, target := range targets {
		if _, ok := exportOps[target]; !ok {
			unmapped = append(unmapped, target)
			continue
		}
		sch, ok := atenSchemas[target]
		if !assert.True(t, ok, "%s has no argument schema", target) {
			continue
		}
		for name, kinds := range rec.Args[target] {
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
	assert.Empty(t, unmapped, "ATen ops torchvision classifiers emit (torch %s) with no mapping", rec.Torch)
	t.Logf("%d ATen targets of %d models (torch %s, torchvision %s), all mapped", len(targets), len(rec.Models), rec.Torch, rec.Torchvision)
}

// tvCases lists the committed torchvision cases (gen_torchvision.py --tier=small).
func tvCases(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(testutil.RepoRoot(t), "testdata", "corpus", "torch", "tv_*"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(dirs), 8, "the torchvision cases of the corpus")
	return dirs
}

// npzIO reads the input and output of an expected.npz.
func npzIO(t *testing.T, p string) (in, out *tensor.Tensor) {
	t.Helper()
	arrs, err := tensor.ReadNPZ(p)
	require.NoError(t, err)
	for _, a := range arrs {
		switch a.Name {
		case "input":
			in = a.Tensor
		case "output":
			out = a.Tensor
		}
	}
	require.NotNil(t, in, p)
	require.NotNil(t, out, p)
	return in, out
}

// relErr is the max abs error of got against want over want's range.
func relErr(want, got []float32) float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	worst := 0.0
	for i, w := range want {
		lo, hi = min(lo, float64(w)), max(hi, float64(w))
		worst = max(worst, math.Abs(float64(got[i])-float64(w)))
	}
	if hi <= lo {
		return worst
	}
	return worst / (hi - lo)
}

// torchTolerance is the bound on the Go reference's error against
// PyTorch's outputs, over the output range: 1e-5, or twice the reference's
// own float32 drift from a float64 evaluation (reference/ref64) when that
// is larger. Both float32 evaluations sum in their own orders (PyTorch's
// oneDNN kernels, our GEMMs), so the gap between them scales with the
// model's float32 noise, as validate's tolerance does.
func torchTolerance(t *testing.T, g *graph.Graph, in *tensor.Tensor, got []float32) float64 {
	r64, err := ref64.Run(g, []*tensor.Tensor{in})
	require.NoError(t, err)
	f := make([]float32, len(r64[0]))
	for i, v := range r64[0] {
		f[i] = float32(v)
	}
	return max(1e-5, 2*relErr(f, got))
}

// TestTorchvisionExports reads both programs of every torchvision case
// (torch.export's default ATen graph with in-place ops, and core ATen after
// run_decompositions) and checks the Go reference against PyTorch's own
// outputs, within 1e-5 of the output range.
func TestTorchvisionExports(t *testing.T) {
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-28s %-22s %-10s %s\n", "case", "file", "verdict", "max abs err / range")
	for _, dir := range tvCases(t) {
		in, want := npzIO(t, filepath.Join(dir, "expected.npz"))
		for _, file := range []string{"model.pt2", "model_decomposed.pt2"} {
			t.Run(filepath.Base(dir)+"/"+file, func(t *testing.T) {
				verdict, rel := "fail", math.NaN()
				defer func() { fmt.Fprintf(&table, "%-28s %-22s %-10s %.2g\n", filepath.Base(dir), file, verdict, rel) }()
				g, err := Load(filepath.Join(dir, file), Options{})
				require.NoError(t, err)
				got, err := reference.Run(g, []*tensor.Tensor{in})
				require.NoError(t, err)
				require.Equal(t, want.Shape, got[0].Shape)
				rel = relErr(want.Float32s(), got[0].Float32s())
				if assert.Less(t, rel, 1e-5, "Go reference vs PyTorch, max abs error / range") {
					verdict = "pass"
				}
			})
		}
	}
	t.Log(table.String())
}

// repeatBatch stacks the samples of x (batch first) in the order idx.
func repeatBatch(x *tensor.Tensor, idx []int) *tensor.Tensor {
	per := tensor.NumElements(x.Shape[1:])
	src := x.Float32s()
	out := make([]float32, 0, per*len(idx))
	for _, i := range idx {
		out = append(out, src[i*per:(i+1)*per]...)
	}
	return tensor.FromFloat32(append([]int{len(idx)}, x.Shape[1:]...), out)
}

// TestTorchvisionBatch loads the programs (exported with batch 2) with
// --batch 3 and 1: the sizes torch.export baked in (ShuffleNet's
// channel-shuffle view([2, 2, ...]), core ATen's view([2, -1])) follow the
// new batch, and each sample's output is PyTorch's.
func TestTorchvisionBatch(t *testing.T) {
	for _, dir := range tvCases(t) {
		in, want := npzIO(t, filepath.Join(dir, "expected.npz"))
		for _, file := range []string{"model.pt2", "model_decomposed.pt2"} {
			for _, idx := range [][]int{{0, 1, 0}, {1}} {
				t.Run(fmt.Sprintf("%s/%s/batch%d", filepath.Base(dir), file, len(idx)), func(t *testing.T) {
					g, err := Load(filepath.Join(dir, file), Options{Batch: len(idx)})
					require.NoError(t, err)
					got, err := reference.Run(g, []*tensor.Tensor{repeatBatch(in, idx)})
					require.NoError(t, err)
					w := repeatBatch(want, idx)
					require.Equal(t, w.Shape, got[0].Shape)
					assert.Less(t, relErr(w.Float32s(), got[0].Float32s()), torchTolerance(t, g, repeatBatch(in, idx), got[0].Float32s()))
				})
			}
		}
	}
}

// editPT2 rewrites the program JSON of a torch >= 2.6 archive.
func editPT2(t *testing.T, src, name string, edit func(prog map[string]any)) string {
	t.Helper()
	a := readPT2Archive(t, src)
	i := slices.IndexFunc(a.names, func(n string) bool { return strings.HasSuffix(n, "/models/model.json") })
	require.GreaterOrEqual(t, i, 0, "no models/model.json in %s", src)
	rec := a.names[i]
	prog := a.json(t, rec)
	edit(prog)
	a.setJSON(t, rec, prog)
	return a.write(t, name)
}

// graphOf returns the graph object of a program JSON.
func graphOf(prog map[string]any) map[string]any {
	return prog["graph_module"].(map[string]any)["graph"].(map[string]any)
}

// firstNode returns the first node of a program JSON with the given
// target; the test fails when there is none.
func firstNode(t *testing.T, prog map[string]any, target string) map[string]any {
	for _, n := range graphOf(prog)["nodes"].([]any) {
		if m := n.(map[string]any); m["target"] == target {
			return m
		}
	}
	t.Fatalf("no %s node", target)
	return nil
}

// setNodeArg sets a node argument the node already has; the test fails
// when it has none of that name (setInput adds one).
func setNodeArg(t *testing.T, n map[string]any, name string, v any) {
	for _, in := range n["inputs"].([]any) {
		if m := in.(map[string]any); m["name"] == name {
			m["arg"] = v
			return
		}
	}
	t.Fatalf("no argument %s", name)
}

// appendNode adds a node reading the graph's output and makes its result
// the new output.
func appendNode(prog map[string]any, target string, args map[string]any, out string) {
	g := graphOf(prog)
	outs := g["outputs"].([]any)
	last := outs[0].(map[string]any)["as_tensor"].(map[string]any)["name"].(string)
	inputs := []any{map[string]any{"name": "self", "arg": map[string]any{"as_tensor": map[string]any{"name": last}}}}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range args {
			if !yield(k) {
				return
			}
		}
	}) {
		inputs = append(inputs, map[string]any{"name": k, "arg": args[k]})
	}
	g["nodes"] = append(g["nodes"].([]any), map[string]any{"target": target, "inputs": inputs,
		"outputs": []any{map[string]any{"as_tensor": map[string]any{"name": out}}}})
	tv := g["tensor_values"].(map[string]any)
	tv[out] = tv[last]
	outs[0] = map[string]any{"as_tensor": map[string]any{"name": out}}
	specs := prog["graph_module"].(map[string]any)["signature"].(map[string]any)["output_specs"].([]any)
	specs[0] = map[string]any{"user_output": map[string]any{"arg": map[string]any{"as_tensor": map[string]any{"name": out}}}}
}

// TestExportNonFiniteFloats checks that the strings torch writes for
// floats JSON cannot hold ("-Infinity", "Infinity", "NaN") read as those
// values, in a real archive: clamp(min="-Infinity", max=...) after the
// model's output.
func TestExportNonFiniteFloats(t *testing.T) {
	src := filepath.Join(testutil.RepoRoot(t), pt2Case, "model.pt2")
	in, want := corpusIO(t)
	tests := []struct {
		name     string
		min, max any
		clip     float32
	}{
		{"-Infinity and Infinity", "-Infinity", "Infinity", float32(math.Inf(1))},
		{"-Infinity and a number", "-Infinity", 0.25, 0.25},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := editPT2(t, src, "model.pt2", func(prog map[string]any) {
				appendNode(prog, "torch.ops.aten.clamp.default", map[string]any{"min": map[string]any{"as_float": tc.min}, "max": map[string]any{"as_float": tc.max}}, "clamped")
			})
			g, err := Load(p, Options{Batch: in.Shape[0]})
			require.NoError(t, err)
			got, err := reference.Run(g, []*tensor.Tensor{in})
			require.NoError(t, err)
			w := want.Float32s()
			exp := make([]float32, len(w))
			for i, v := range w {
				exp[i] = min(v, tc.clip)
			}
			assert.InDeltaSlice(t, exp, got[0].Float32s(), 1e-5)
		})
	}
	var f jsonFloat
	require.NoError(t, json.Unmarshal([]byte(`"NaN"`), &f))
	assert.True(t, math.IsNaN(float64(f)))
	require.NoError(t, json.Unmarshal([]byte(`"-Infinity"`), &f))
	assert.True(t, math.IsInf(float64(f), -1))
	assert.Error(t, json.Unmarshal([]byte(`"minus infinity"`), &f), "an unknown string is not a float")
}

// TestExportRefusals checks the refusals of the torchvision ops: each
// names the node (multi-output nodes by their first output, never "?")
// and the reason.
func TestExportRefusals(t *testing.T) {
	root := testutil.RepoRoot(t)
	shuffle := filepath.Join(root, "testdata", "corpus", "torch", "tv_shufflenet_v2", "model.pt2")
	convnext := filepath.Join(root, "testdata", "corpus", "torch", "tv_convnext", "model_decomposed.pt2")
	tests := []struct {
		name  string
		src   string
		edit  func(prog map[string]any)
		batch int
		want  []string
	}{
		{"an unknown argument of chunk names its first output", shuffle, func(prog map[string]any) {
			n := firstNode(t, prog, "torch.ops.aten.chunk.default")
			n["inputs"] = append(n["inputs"].([]any), map[string]any{"name": "bogus", "arg": map[string]any{"as_int": 1}})
		}, 0, []string{"node getitem (torch.ops.aten.chunk.default)", `argument "bogus"`}},
		{"chunk into three parts where the node lists two outputs", shuffle, func(prog map[string]any) {
			setNodeArg(t, firstNode(t, prog, "torch.ops.aten.chunk.default"), "chunks", map[string]any{"as_int": 3})
		}, 0, []string{"node getitem (", "3 parts"}},
		{"as_strided that is no plain view", convnext, func(prog map[string]any) {
			setNodeArg(t, firstNode(t, prog, "torch.ops.aten.as_strided.default"), "stride", map[string]any{"as_ints": []any{1, 2, 32, 32}})
		}, 0, []string{"as_strided", "not a plain view"}},
		{"an attention op is refused by name", shuffle, func(prog map[string]any) {
			firstNode(t, prog, "torch.ops.aten.mean.dim")["target"] = "torch.ops.aten._native_multi_head_attention.default"
		}, 0, []string{"torch.ops.aten._native_multi_head_attention.default", "nn.MultiheadAttention's fused fast path"}},
		{"an in-place write into a tensor a view of it is read after", shuffle, func(prog map[string]any) {
			// relu_ on the channel-shuffle input while its chunks are
			// still to be read.
			n := firstNode(t, prog, "torch.ops.aten.chunk.default")
			self := n["inputs"].([]any)[0].(map[string]any)["arg"].(map[string]any)["as_tensor"].(map[string]any)["name"].(string)
			g := graphOf(prog)
			nodes := g["nodes"].([]any)
			i := slices.IndexFunc(nodes, func(x any) bool { return x.(map[string]any)["target"] == "torch.ops.aten.chunk.default" })
			relu := map[string]any{"target": "torch.ops.aten.relu_.default",
				"inputs":  []any{map[string]any{"name": "self", "arg": map[string]any{"as_tensor": map[string]any{"name": self}}}},
				"outputs": []any{map[string]any{"as_tensor": map[string]any{"name": "inplace_relu"}}}}
			g["nodes"] = slices.Insert(nodes, i+1, any(relu))
		}, 0, []string{"node inplace_relu (torch.ops.aten.relu_.default)", "shares memory with [getitem", "read later"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := editPT2(t, tc.src, "model.pt2", tc.edit)
			_, err := Load(p, Options{Batch: tc.batch})
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), "node ? ")
			var ue *UnsupportedError
			if strings.Contains(tc.name, "attention") {
				assert.True(t, errors.As(err, &ue), "a typed UnsupportedError")
			}
		})
	}
}

// TestExportTorch23 reads archives torch 2.3.1 wrote (the
// serialized_exported_program.json layout; testdata/gen/gen_torch23.py):
// BatchNorm1d's persistent buffers come from serialized_state_dict.pt, a
// non-persistent buffer from serialized_constants.pt; the Go reference
// matches PyTorch.
func TestExportTorch23(t *testing.T) {
	for _, name := range []string{"export_t23_bn1d", "export_t23_nonpersistent"} {
		t.Run(name, func(t *testing.T) {
			in, want := npzIO(t, filepath.Join("testdata", name+".npz"))
			g, err := Load(filepath.Join("testdata", name+".pt2"), Options{})
			require.NoError(t, err)
			got, err := reference.Run(g, []*tensor.Tensor{in})
			require.NoError(t, err)
			assert.InDeltaSlice(t, want.Float32s(), got[0].Float32s(), 1e-5)
		})
	}
}
