package torch

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nlpodyssey/gopickle/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/reference/ref64"
	"github.com/edgeval/edgeval/tensor"
)

// inputArch writes an --arch file holding only the input shape.
func inputArch(t *testing.T, shape []int) string {
	t.Helper()
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	p := filepath.Join(t.TempDir(), "input.yaml")
	require.NoError(t, os.WriteFile(p, []byte("input: ["+strings.Join(dims, ", ")+"]\n"), 0o644))
	return p
}

// opKinds counts a graph's node kinds.
func opKinds(g *graph.Graph) map[string]int {
	out := map[string]int{}
	for _, n := range g.Nodes {
		out[n.Op.Kind()]++
	}
	return out
}

// TestTorchvisionPickles reads the full pickle (torch.save(model)) of every
// torchvision case, with no --arch beyond the input size, and checks the
// Go reference against PyTorch's own outputs within 1e-5 of the output
// range. The graph is the .pt2 path's graph of the same model: the same
// node kinds, and outputs within 1e-6 of the range of its outputs.
func TestTorchvisionPickles(t *testing.T) {
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-26s %-8s %-12s %-12s %s\n", "case", "verdict", "err/range", "vs .pt2", "classes")
	for _, dir := range tvCases(t) {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			verdict, rel, vsPT2, cls := "fail", math.NaN(), math.NaN(), ""
			defer func() { fmt.Fprintf(&table, "%-26s %-8s %-12.2g %-12.2g %s\n", name, verdict, rel, vsPT2, cls) }()
			in, want := npzIO(t, filepath.Join(dir, "expected.npz"))
			p := filepath.Join(dir, "model.pth")
			f, err := ReadFile(p)
			require.NoError(t, err)
			require.NotNil(t, f.Root)
			require.True(t, f.Root.Library, "%s is a torchvision class", f.Root.Class)
			cls = f.Root.ClassName()
			r, err := LoadResult(p, Options{Arch: inputArch(t, in.Shape)})
			require.NoError(t, err)
			assert.Empty(t, r.Unused)
			got, err := reference.Run(r.Graph, []*tensor.Tensor{in})
			require.NoError(t, err)
			require.Equal(t, want.Shape, got[0].Shape)
			rel = relErr(want.Float32s(), got[0].Float32s())
			if assert.Less(t, rel, 1e-5, "Go reference vs PyTorch, max abs error / range") {
				verdict = "pass"
			}
			ge, err := Load(filepath.Join(dir, "model.pt2"), Options{})
			require.NoError(t, err)
			ref, err := reference.Run(ge, []*tensor.Tensor{in})
			require.NoError(t, err)
			vsPT2 = relErr(ref[0].Float32s(), got[0].Float32s())
			assert.Less(t, vsPT2, 1e-6, "the full pickle's graph vs the .pt2's")
			assert.Equal(t, opKinds(ge), opKinds(r.Graph), "the full pickle's graph has the .pt2's nodes")
		})
	}
	t.Log(table.String())
}

// TestTorchvisionPickleBatch reads a pickle with --batch: every shape the
// forward writes (ShuffleNet's channel shuffle, the chunks) follows it.
func TestTorchvisionPickleBatch(t *testing.T) {
	for _, name := range []string{"tv_shufflenet_v2", "tv_densenet", "tv_convnext"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(filepath.Dir(tvCases(t)[0]), name)
			in, want := npzIO(t, filepath.Join(dir, "expected.npz"))
			idx := []int{1, 0, 1}
			g, err := Load(filepath.Join(dir, "model.pth"), Options{Arch: inputArch(t, in.Shape), Batch: len(idx)})
			require.NoError(t, err)
			got, err := reference.Run(g, []*tensor.Tensor{repeatBatch(in, idx)})
			require.NoError(t, err)
			w := repeatBatch(want, idx)
			require.Equal(t, w.Shape, got[0].Shape)
			assert.Less(t, relErr(w.Float32s(), got[0].Float32s()), 1e-5)
		})
	}
}

// TestTorchvisionPickleDefaultInput: without --arch a torchvision
// classifier is read at its documented 224 px.
func TestTorchvisionPickleDefaultInput(t *testing.T) {
	dir := filepath.Join(filepath.Dir(tvCases(t)[0]), "tv_regnet_x")
	g, err := Load(filepath.Join(dir, "model.pth"), Options{})
	require.NoError(t, err)
	assert.Equal(t, []int{1, 3, 224, 224}, g.Inputs[0].Shape)
}

// TestTorchvisionPartialNormLayer: ResNet's _norm_layer, a
// functools.partial of BatchNorm2d, is read as data, arguments and all.
func TestTorchvisionPartialNormLayer(t *testing.T) {
	dir := filepath.Join(filepath.Dir(tvCases(t)[0]), "tv_resnet")
	f, err := ReadFile(filepath.Join(dir, "model.pth"))
	require.NoError(t, err)
	p, ok := f.Root.Attrs["_norm_layer"].(*partialRef)
	require.True(t, ok, "_norm_layer is %T", f.Root.Attrs["_norm_layer"])
	assert.Equal(t, "torch.nn.modules.batchnorm.BatchNorm2d", callableName(p.Func))
	assert.InDelta(t, 1e-4, p.Keywords["eps"], 1e-12)
	assert.Empty(t, p.Args)
}

// setAttr returns a pickle's module tree with the attribute at a dotted
// module path set (tamper) to v.
func tamper(t *testing.T, f *File, path, attr string, v any) {
	t.Helper()
	m := moduleAt(f.Root, path)
	require.NotNil(t, m, path)
	m.Attrs[attr] = v
}

// TestTorchvisionPickleRefusals: a user's subclass of a torchvision class,
// and attributes a torchvision forward does not have or cannot take, are
// refused by name, with the way forward.
func TestTorchvisionPickleRefusals(t *testing.T) {
	corpus := filepath.Dir(tvCases(t)[0])
	t.Run("a user's subclass", func(t *testing.T) {
		_, err := Load(filepath.Join("testdata", "torchvision", "subclass_mobilenet_v2.pth"), Options{})
		require.Error(t, err)
		assert.True(t, errors.Is(err, ErrNeedArch))
		for _, w := range []string{"__main__.SubclassedMobileNetV2", "torchvision.models.mobilenetv2.MobileNetV2", "its forward may differ", "torch.export", ".pt2", "--arch"} {
			assert.Contains(t, err.Error(), w)
		}
	})
	tests := []struct {
		name, tcase, path, attr string
		v                       any
		want                    []string
	}{
		{"an attribute torchvision's class does not have", "tv_mobilenet_v2", "features.2", "extra_scale", 2.0,
			[]string{"features.2 (torchvision.models.mobilenetv2.InvertedResidual)", "attribute extra_scale = 2", "not an attribute of torchvision's InvertedResidual"}},
		{"use_res_connect that is not a bool", "tv_mobilenet_v2", "features.2", "use_res_connect", "yes",
			[]string{"features.2", "attribute use_res_connect = yes: want True or False"}},
		{"a stochastic depth probability out of range", "tv_convnext", "features.1.0.stochastic_depth", "p", 1.5,
			[]string{"features.1.0.stochastic_depth (torchvision.ops.stochastic_depth.StochasticDepth)", "attribute p = 1.5", "[0, 1]"}},
		{"a stochastic depth mode torchvision does not know", "tv_efficientnet_b0", "features.2.0.stochastic_depth", "mode", "col",
			[]string{"attribute mode = col", `"batch" "row"`}},
		{"a hook on a block", "tv_resnet", "layer1.0", "_forward_hooks", dictOf("1", "hook"),
			[]string{"layer1.0 (torchvision.models.resnet.BasicBlock)", "_forward_hooks is not empty"}},
		{"a _norm_layer that is not a class", "tv_resnet", "", "_norm_layer", "BatchNorm2d",
			[]string{"model (torchvision.models.resnet.ResNet)", "attribute _norm_layer = BatchNorm2d", "want a torch.nn class"}},
		{"an LSTM inside is refused (it returns a tuple)", "tv_densenet", "features", "_modules",
			&Module{Class: "torch.nn.modules.rnn.LSTM", Attrs: map[string]any{}},
			[]string{"features.conv0 (torch.nn.modules.rnn.LSTM)", "a recurrent module", "(output, h_n) tuple", "torch.export", ".pt2"}},
		{"a TransformerEncoderLayer inside is refused (read only as a root)", "tv_densenet", "features", "_modules",
			&Module{Class: "torch.nn.modules.transformer.TransformerEncoderLayer", Attrs: map[string]any{}},
			[]string{"features.conv0 (torch.nn.modules.transformer.TransformerEncoderLayer)", "only as the model's root", "torch.export", "--arch"}},
		{"a VisionTransformer part inside is refused (read only as a root)", "tv_densenet", "features", "_modules",
			&Module{Class: "torchvision.models.vision_transformer.EncoderBlock", Custom: true, Attrs: map[string]any{}},
			[]string{"features.conv0 (torchvision.models.vision_transformer.EncoderBlock)", "only as the model's root", "torch.export", "--arch"}},
		{"an Inception3 inside is refused naming .pt2", "tv_densenet", "features", "_modules",
			&Module{Class: "torchvision.models.inception.Inception3", Custom: true, Attrs: map[string]any{}},
			[]string{"features.conv0 (torchvision.models.inception.Inception3)", "not read from a full pickle yet", "torch.export", ".pt2"}},
		{"an in-place ReLU overwriting a block's input that the shortcut reads", "tv_resnet", "layer1.0", "_modules", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ReadFile(filepath.Join(corpus, tc.tcase, "model.pth"))
			require.NoError(t, err)
			want := tc.want
			var ue *UnsupportedError
			if strings.Contains(tc.name, "in-place") {
				// BasicBlock(8, 8): conv1 becomes ReLU(inplace=True), which
				// overwrites x before out += identity reads it.
				setChild(t, moduleAt(f.Root, tc.path), "conv1", &Module{Class: "torch.nn.modules.activation.ReLU", Attrs: map[string]any{"inplace": true}})
				_, err = BuildModule(f, nil, 0)
				require.Error(t, err)
				assert.False(t, errors.As(err, &ue))
				for _, w := range []string{"layer1.0.conv1 (ReLU)", "overwrites its input in place", "layer1.0/add reads that input afterwards"} {
					assert.Contains(t, err.Error(), w)
				}
				return
			}
			if tc.attr == "_modules" {
				// Replace the first child of features with the module.
				setChild(t, moduleAt(f.Root, tc.path), "conv0", tc.v.(*Module))
			} else {
				tamper(t, f, tc.path, tc.attr, tc.v)
			}
			_, err = BuildModule(f, nil, 0)
			require.Error(t, err)
			assert.True(t, errors.As(err, &ue), "a typed UnsupportedError: %v", err)
			for _, w := range want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// setChild replaces the child module called name.
func setChild(t *testing.T, m *Module, name string, c *Module) {
	t.Helper()
	switch d := m.Attrs["_modules"].(type) {
	case *types.OrderedDict:
		d.Set(name, c)
	case *types.Dict:
		for i, e := range *d {
			if e.Key == name {
				(*d)[i].Value = c
				return
			}
		}
		*d = append(*d, types.DictEntry{Key: name, Value: c})
	default:
		t.Fatalf("_modules of %s is %T", m.Class, d)
	}
}

func dictOf(k, v any) *types.OrderedDict {
	d := types.NewOrderedDict()
	d.Set(k, v)
	return d
}

// TestTorchvisionGoogLeNetState: GoogLeNet saved in training mode with its
// aux classifiers returns a tuple, and transform_input re-normalises the
// input: both refused by name; in eval the aux classifiers never run and
// their tensors are ignored, not unused.
func TestTorchvisionGoogLeNetState(t *testing.T) {
	dir := filepath.Join(filepath.Dir(tvCases(t)[0]), "tv_googlenet")
	in, want := npzIO(t, filepath.Join(dir, "expected.npz"))
	read := func() *File {
		f, err := ReadFile(filepath.Join(dir, "model.pth"))
		require.NoError(t, err)
		return f
	}
	t.Run("training with aux_logits", func(t *testing.T) {
		f := read()
		f.Root.Attrs["training"], f.Root.Attrs["aux_logits"] = true, true
		_, err := BuildModule(f, nil, 0)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "training mode with aux_logits = True")
	})
	t.Run("transform_input", func(t *testing.T) {
		f := read()
		f.Root.Attrs["transform_input"] = true
		_, err := BuildModule(f, nil, 0)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "transform_input = True")
	})
	t.Run("aux classifiers in eval are ignored", func(t *testing.T) {
		f := read()
		// Move inception4a's module in as aux1: a child with tensors that
		// forward never runs in eval.
		aux := &Module{Class: tvGoogLeNet + "InceptionAux", Library: true, Custom: true, Attrs: map[string]any{"_modules": types.NewOrderedDict()}}
		for _, c := range []string{"conv", "fc1", "fc2", "dropout"} {
			setChild(t, aux, c, &Module{Class: "torch.nn.modules.linear.Identity", Attrs: map[string]any{}})
		}
		setChild(t, f.Root, "aux1", aux)
		delete(f.Root.Attrs, "aux1")
		f.Root.Attrs["aux_logits"] = true
		w := tensor.FromFloat32([]int{2}, []float32{1, 2})
		f.Tensors = append(f.Tensors, NamedTensor{Name: "aux1.fc1.weight", Tensor: w})
		r, err := buildModuleChecked(f, &Arch{Inputs: []ArchInput{{Name: "input", Shape: in.Shape, DType: tensor.Float32}}}, 0, false)
		require.NoError(t, err)
		assert.Contains(t, r.Ignored, "aux1.fc1.weight")
		got, err := reference.Run(r.Graph, []*tensor.Tensor{in})
		require.NoError(t, err)
		assert.Less(t, relErr(want.Float32s(), got[0].Float32s()), 1e-5)
	})
}

// TestTorchvisionClassesKnown: every class a torchvision classifier of
// the committed tier pickles is known, and every class of tvClasses has
// a forward or is GoogLeNet's training-only InceptionAux.
func TestTorchvisionClassesKnown(t *testing.T) {
	seen := map[string]bool{}
	for _, dir := range tvCases(t) {
		f, err := ReadFile(filepath.Join(dir, "model.pth"))
		require.NoError(t, err)
		var walk func(m *Module)
		walk = func(m *Module) {
			if strings.HasPrefix(m.Class, "torchvision.") {
				seen[m.Class] = true
				assert.True(t, m.Library, m.Class)
			}
			for _, e := range orderedEntries(m.Attrs["_modules"]) {
				if c, ok := e.Value.(*Module); ok {
					walk(c)
				}
			}
		}
		walk(f.Root)
	}
	for name, spec := range tvClasses {
		if spec.forward == nil && !spec.seq {
			assert.Equal(t, tvGoogLeNet+"InceptionAux", name)
		}
	}
	var missing []string
	for name := range tvClasses {
		if !seen[name] && !slices.Contains([]string{tvGoogLeNet + "InceptionAux", tvMisc + "ConvNormActivation"}, name) {
			missing = append(missing, name)
		}
	}
	assert.Empty(t, missing, "classes no committed full pickle exercises")
}

// TestTorchvisionZooPickles reads the full pickles of the torchvision zoo
// (gen_torchvision.py DIR --tier=zoo, or --pickle-only on a zoo made
// earlier; not committed) when EDGEVAL_TORCH_ZOO names it. The Go
// reference must agree with PyTorch as validate judges float32 (within 1e-5
// of the range, widened only by the model's own float32 noise, measured
// against the float64 evaluator), and with the .pt2 graph of the same
// model to 1e-6 of the range.
func TestTorchvisionZooPickles(t *testing.T) {
	root := os.Getenv("EDGEVAL_TORCH_ZOO")
	if root == "" {
		t.Skip("EDGEVAL_TORCH_ZOO is not set: gen_torchvision.py DIR --tier=zoo makes the zoo")
	}
	files, err := filepath.Glob(filepath.Join(root, "torch", "*", "model.pth"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-20s %-13s %-7s %-10s %-10s %-10s %s\n", "model", "class", "verdict", "err/range", "noise", "vs .pt2", "range")
	for _, p := range files {
		dir := filepath.Dir(p)
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			verdict, rel, noise, vsPT2, rng, cls := "fail", math.NaN(), math.NaN(), math.NaN(), math.NaN(), ""
			defer func() {
				fmt.Fprintf(&table, "%-20s %-13s %-7s %-10.2g %-10.2g %-10.2g %.3g\n", name, cls, verdict, rel, noise, vsPT2, rng)
			}()
			in, want := npzIO(t, filepath.Join(dir, "expected.npz"))
			w := want.Float32s()
			rng = float64(slices.Max(w) - slices.Min(w))
			f, err := ReadFile(p)
			require.NoError(t, err)
			cls = f.Root.ClassName()
			arch, err := ReadArch(inputArch(t, in.Shape))
			require.NoError(t, err)
			r, err := buildModuleChecked(f, arch, 0, false)
			require.NoError(t, err)
			got, err := reference.Run(r.Graph, []*tensor.Tensor{in})
			require.NoError(t, err)
			rel = relErr(w, got[0].Float32s())
			d, err := ref64.Drift(r.Graph, [][]*tensor.Tensor{{in}}, [][]*tensor.Tensor{got})
			require.NoError(t, err)
			noise = d[0].Relative()
			res, err := compare.Output("output", want, got[0], compare.Options{NoiseFloor: d[0].MaxAbs})
			require.NoError(t, err)
			ge, err := Load(filepath.Join(dir, "model.pt2"), Options{})
			require.NoError(t, err)
			ref, err := reference.Run(ge, []*tensor.Tensor{in})
			require.NoError(t, err)
			vsPT2 = relErr(ref[0].Float32s(), got[0].Float32s())
			assert.Less(t, vsPT2, 1e-6, "the full pickle's graph vs the .pt2's")
			if assert.True(t, res.Pass, "Go reference vs PyTorch: %v", res.Why) && vsPT2 < 1e-6 {
				verdict = "pass"
			}
		})
	}
	t.Log(table.String())
}

// TestPartialIsData: functools.partial is read as data over an allow-listed
// class or function only (libraryFuncs; any other torch.nn.functional
// name is refused when the pickle names it), its state must name the
// function it was made with, and nothing it names is ever called.
func TestPartialIsData(t *testing.T) {
	bn := &moduleClass{module: "torch.nn.modules.batchnorm", name: "BatchNorm2d"}
	ln := &moduleClass{module: "torch.nn.modules.normalization", name: "LayerNorm"}
	relu := &typeMarker{name: "torch.nn.functional.relu"}
	kw := &types.Dict{{Key: "eps", Value: 0.001}}
	tests := []struct {
		name  string
		fn    any
		state *types.Tuple
		want  string // "" accepts
	}{
		{"a torch.nn class with keywords", bn, types.NewTupleFromSlice([]any{bn, types.NewTupleFromSlice(nil), kw, nil}), ""},
		{"an allow-listed torch.nn.functional function", relu, types.NewTupleFromSlice([]any{relu, types.NewTupleFromSlice(nil), nil, nil}), ""},
		{"a tensor rebuild function", &callFunc{name: "torch._utils._rebuild_tensor_v2"}, nil, "want a torch.nn class"},
		{"a state swapping in another function", bn, types.NewTupleFromSlice([]any{"os.system", types.NewTupleFromSlice(nil), nil, nil}), "want a torch.nn class"},
		{"a state swapping in another allowed class", bn, types.NewTupleFromSlice([]any{ln, types.NewTupleFromSlice(nil), nil, nil}), "names another function"},
		{"a state with a __dict__", bn, types.NewTupleFromSlice([]any{bn, types.NewTupleFromSlice(nil), nil, &types.Dict{{Key: "x", Value: 1}}}), "__dict__"},
		{"keywords that are not a dict", bn, types.NewTupleFromSlice([]any{bn, types.NewTupleFromSlice(nil), "eps", nil}), "keywords"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := makePartial([]any{tc.fn})
			if err == nil && tc.state != nil {
				err = p.(*partialRef).PySetState(tc.state)
			}
			if tc.want == "" {
				require.NoError(t, err)
				assert.Equal(t, tc.fn, p.(*partialRef).Func)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	_, err := relu.Call(1)
	var ue *UnsafeClassError
	assert.True(t, errors.As(err, &ue), "calling a torch.nn.functional function is refused")
	l := &loader{}
	_, err = l.findClass("torch.nn.functional", "softmax")
	assert.True(t, errors.As(err, &ue), "a torch.nn.functional function off the allow-list is refused: %v", err)
	f, err := l.findClass("torch.nn.functional", "relu")
	require.NoError(t, err)
	assert.IsType(t, &typeMarker{}, f)
}
