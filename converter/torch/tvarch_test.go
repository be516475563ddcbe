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

	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/tensor"
)

// tvBuilderCalls are the builder calls of testdata/torchvision_builders.json
// (gen_torchvision.py --builder-shapes): torchvision's own state_dict keys
// and shapes for each.
type tvBuilderCall struct {
	Model     string         `json:"model"`
	Args      map[string]any `json:"args"`
	StateDict [][2]any       `json:"state_dict"`
}

func readBuilderCalls(t *testing.T) []tvBuilderCall {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "torchvision_builders.json"))
	require.NoError(t, err)
	var doc struct {
		Builders []tvBuilderCall `json:"builders"`
	}
	require.NoError(t, json.Unmarshal(b, &doc))
	require.NotEmpty(t, doc.Builders)
	return doc.Builders
}

// jsonArgs turns JSON numbers that are whole into ints, as YAML reads them.
func jsonArgs(m map[string]any) args {
	a := args{}
	for k, v := range m {
		if f, ok := v.(float64); ok && f == math.Trunc(f) {
			v = int(f)
		}
		a[k] = v
	}
	return a
}

// TestTorchvisionBuilderShapes: for every builder the arch op knows, the
// module tree it builds holds exactly the tensors (keys and shapes, in
// order) of torchvision's own model from the same builder call, and is a
// tree the full-pickle reader accepts.
func TestTorchvisionBuilderShapes(t *testing.T) {
	calls := readBuilderCalls(t)
	covered := map[string]bool{}
	for _, c := range calls {
		t.Run(fmt.Sprintf("%s%v", c.Model, c.Args), func(t *testing.T) {
			spec := tvBuilders[c.Model]
			require.NotNil(t, spec, "builder %s", c.Model)
			covered[c.Model] = true
			b := newTVB()
			root, err := spec.build(b, jsonArgs(c.Args))
			require.NoError(t, err)
			if root.Class != "torchvision.models.vision_transformer.VisionTransformer" { // read by the library builder
				assert.Empty(t, checkTree(root, "", 0))
			}
			var got []tvParam
			b.params(root, "", &got)
			var gotS, wantS []string
			for _, p := range got {
				gotS = append(gotS, fmt.Sprintf("%s %v", p.key, p.shape))
			}
			for _, kv := range c.StateDict {
				var shape []int
				for _, d := range kv[1].([]any) {
					shape = append(shape, int(d.(float64)))
				}
				wantS = append(wantS, fmt.Sprintf("%s %v", kv[0], shape))
			}
			assert.Equal(t, wantS, gotS)
		})
	}
	for _, name := range tvBuilderNames() {
		assert.True(t, covered[name], "builder %s has no entry in torchvision_builders.json", name)
	}
}

// tvStateDictCase is the committed small case saved as a bare state_dict
// with an arch file naming its torchvision builder.
const tvStateDictCase = "../../testdata/corpus/torch/tv_mobilenet_v2"

// TestTorchvisionStateDict reads the state_dict with the arch file and
// checks the Go reference against PyTorch's outputs, and that the graph is
// the full pickle's.
func TestTorchvisionStateDict(t *testing.T) {
	in, want := npzIO(t, filepath.Join(tvStateDictCase, "expected.npz"))
	r, err := LoadResult(filepath.Join(tvStateDictCase, "state_dict.pth"), Options{Arch: filepath.Join(tvStateDictCase, "arch.yaml")})
	require.NoError(t, err)
	assert.Empty(t, r.Unused)
	got, err := reference.Run(r.Graph, []*tensor.Tensor{in})
	require.NoError(t, err)
	assert.Less(t, relErr(want.Float32s(), got[0].Float32s()), 1e-5, "Go reference vs PyTorch")
	full, err := LoadResult(filepath.Join(tvStateDictCase, "model.pth"), Options{Arch: inputArch(t, in.Shape)})
	require.NoError(t, err)
	assert.Equal(t, opKinds(full.Graph), opKinds(r.Graph))
	ref, err := reference.Run(full.Graph, []*tensor.Tensor{in})
	require.NoError(t, err)
	assert.Equal(t, ref[0].Float32s(), got[0].Float32s(), "the same graph as the full pickle's")
}

// TestTorchvisionStateDictRefusals: a state_dict that is not the named
// builder's model, and an arch step the op does not model, are refused by
// name.
func TestTorchvisionStateDictRefusals(t *testing.T) {
	const good = "format: edgeval-torch-arch/1\ninput: [1, 3, 32, 32]\nlayers:\n  - {op: torchvision, model: mobilenet_v2, num_classes: 10, width_mult: 0.25, round_nearest: 4%s}\n"
	rename := func(f *File, from, to string) {
		i := slices.IndexFunc(f.Tensors, func(n NamedTensor) bool { return n.Name == from })
		require.GreaterOrEqual(t, i, 0, from)
		f.Tensors[i].Name = to
	}
	cases := []struct {
		name   string
		arch   string
		tamper func(f *File)
		want   []string
		shape  bool // a *StateShapeError
	}{
		{name: "unknown builder", arch: strings.Replace(good, "mobilenet_v2", "mobilenet_v5", 1),
			want: []string{`model "mobilenet_v5" is not a torchvision builder edgeval knows`, "resnet18", "densenet121"}},
		{name: "builder not modelled", arch: strings.Replace(fmt.Sprintf(good, ""), "mobilenet_v2, num_classes: 10, width_mult: 0.25, round_nearest: 4", "swin_t", 1),
			want: []string{`model "swin_t" is not a torchvision builder edgeval knows`, "vit_b_16"}},
		{name: "no model", arch: strings.Replace(good, "model: mobilenet_v2, ", "", 1), want: []string{"model: name the torchvision builder"}},
		{name: "argument of another builder", arch: fmt.Sprintf(good, ", bn_size: 2"),
			want: []string{"argument(s) bn_size not modelled for this builder", "num_classes, width_mult, round_nearest, dropout"}},
		{name: "argument no builder takes", arch: fmt.Sprintf(good, ", norm_layer: BatchNorm2d"), want: []string{"unknown argument(s) norm_layer"}},
		{name: "wrong width", arch: strings.Replace(good, "0.25", "0.5", 1), shape: true,
			want: []string{"features.0.0.weight: expected [16 3 3 3], found [8 3 3 3]"}},
		{name: "wrong builder", arch: strings.Replace(fmt.Sprintf(good, ""), "mobilenet_v2, num_classes: 10, width_mult: 0.25, round_nearest: 4", "resnet18, num_classes: 10", 1),
			shape: true, want: []string{"conv1.weight [64 3 7 7]", "in the state_dict but not in the model: classifier.1.bias [10]; classifier.1.weight [10 1280]; features.0.0.weight [8 3 3 3]"}},
		{name: "missing key", arch: fmt.Sprintf(good, ""), tamper: func(f *File) {
			f.Tensors = slices.DeleteFunc(f.Tensors, func(n NamedTensor) bool { return n.Name == "features.3.conv.1.1.running_var" })
		}, shape: true, want: []string{"missing from the state_dict: features.3.conv.1.1.running_var [48]"}},
		{name: "extra key", arch: fmt.Sprintf(good, ""), tamper: func(f *File) {
			f.Tensors = append(f.Tensors, NamedTensor{Name: "features.3.conv.2.bias", Tensor: tensor.New(tensor.Float32, []int{8})})
		}, shape: true, want: []string{"in the state_dict but not in the model: features.3.conv.2.bias [8]"}},
		{name: "renamed key", arch: fmt.Sprintf(good, ""), tamper: func(f *File) { rename(f, "classifier.1.bias", "classifier.2.bias") },
			shape: true, want: []string{"missing from the state_dict: classifier.1.bias [10]", "not in the model: classifier.2.bias [10]"}},
		{name: "shape mismatch", arch: fmt.Sprintf(good, ""), tamper: func(f *File) {
			i := slices.IndexFunc(f.Tensors, func(n NamedTensor) bool { return n.Name == "classifier.1.weight" })
			f.Tensors[i].Tensor = tensor.New(tensor.Float32, []int{11, f.Tensors[i].Tensor.Shape[1]})
		}, shape: true, want: []string{"classifier.1.weight: expected [10 1280], found [11 1280]"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			arch, err := ParseArch([]byte(strings.Replace(c.arch, "%s", "", 1))) // the template's optional arguments
			if err != nil {
				for _, w := range c.want {
					assert.Contains(t, err.Error(), w)
				}
				return
			}
			f, err := ReadFile(filepath.Join(tvStateDictCase, "state_dict.pth"))
			require.NoError(t, err)
			if c.tamper != nil {
				c.tamper(f)
			}
			_, err = BuildWithArch(f, arch, 0)
			require.Error(t, err)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
			var se *StateShapeError
			assert.Equal(t, c.shape, errors.As(err, &se), "%v", err)
		})
	}
}

// TestTorchvisionZooStateDicts reads every zoo case that has a state_dict
// with its arch file (gen_torchvision.py --state-dict-only) and checks the
// graph computes exactly what the full pickle's does (opt-in: the zoo is
// not committed).
func TestTorchvisionZooStateDicts(t *testing.T) {
	root := os.Getenv("EDGEVAL_TORCH_ZOO")
	if root == "" {
		t.Skip("EDGEVAL_TORCH_ZOO is not set: gen_torchvision.py DIR --tier=zoo then --state-dict-only makes the zoo")
	}
	files, err := filepath.Glob(filepath.Join(root, "torch", "*", "state_dict.pth"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, p := range files {
		dir := filepath.Dir(p)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			in, want := npzIO(t, filepath.Join(dir, "expected.npz"))
			r, err := LoadResult(p, Options{Arch: filepath.Join(dir, "arch.yaml")})
			require.NoError(t, err)
			got, err := reference.Run(r.Graph, []*tensor.Tensor{in})
			require.NoError(t, err)
			full, err := LoadResult(filepath.Join(dir, "model.pth"), Options{Arch: inputArch(t, in.Shape)})
			require.NoError(t, err)
			ref, err := reference.Run(full.Graph, []*tensor.Tensor{in})
			require.NoError(t, err)
			assert.Equal(t, ref[0].Float32s(), got[0].Float32s(), "the state_dict's graph vs the full pickle's")
			t.Logf("%s: vs PyTorch %.2g of range", filepath.Base(dir), relErr(want.Float32s(), got[0].Float32s()))
		})
	}
}

// TestTorchvisionGoogLeNetAux: googlenet's aux classifiers (aux_logits
// defaults to True) are in its state_dict but never run in inference: they
// are reported as ignored, not unused; transform_input must be stated, and
// True is refused.
func TestTorchvisionGoogLeNetAux(t *testing.T) {
	b := newTVB()
	root, err := tvBuilders["googlenet"].build(b, args{"num_classes": 3, "transform_input": false})
	require.NoError(t, err)
	var ps []tvParam
	b.params(root, "", &ps)
	f := &File{Path: "googlenet.pth"}
	for _, p := range ps {
		f.Tensors = append(f.Tensors, NamedTensor{Name: p.key, Tensor: tensor.New(tensor.Float32, p.shape)})
	}
	const yaml = "input: [1, 3, 64, 64]\nlayers:\n  - {op: torchvision, model: googlenet, num_classes: 3%s}\n"
	arch, err := ParseArch(fmt.Appendf(nil, yaml, ", transform_input: false"))
	require.NoError(t, err)
	r, err := buildWithArchChecked(f, arch, 0, false)
	require.NoError(t, err)
	assert.Contains(t, r.Ignored, "aux1.fc1.weight")
	assert.Contains(t, r.Ignored, "aux2.conv.bn.running_var")
	assert.Empty(t, r.Unused)
	for _, c := range []struct{ extra, want string }{
		{"", "transform_input: state it (false)"},
		{", transform_input: true", "transform_input = true (the ImageNet re-normalisation of the input) is not modelled"},
	} {
		arch, err := ParseArch(fmt.Appendf(nil, yaml, c.extra))
		require.NoError(t, err)
		_, err = buildWithArchChecked(f, arch, 0, false)
		require.Error(t, err)
		assert.Contains(t, err.Error(), c.want)
	}
}
